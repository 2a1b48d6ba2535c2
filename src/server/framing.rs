//! The LSP base protocol's framing (`Content-Length: N` headers, a blank
//! line, N bytes of JSON), read by refit itself rather than by
//! `lsp-server`, which ends the connection on any error and allocates
//! whatever length a header claims. Here bad input is a [`Frame::Bad`] the
//! server answers, a length over [`MAX_MESSAGE_BYTES`] is refused before
//! anything is allocated for it, and the reader then finds the next
//! message's header and goes on.

use std::io::{self, BufRead, Read, Write};

/// The largest message body refit reads: an editor's buffer of a very
/// large file fits with room to spare; anything longer is refused.
pub const MAX_MESSAGE_BYTES: usize = 64 << 20;

/// The longest header line kept (a real one is about 30 bytes).
const MAX_HEADER_LINE: usize = 8 * 1024;

/// The most header lines of one message (LSP defines two).
const MAX_HEADER_LINES: usize = 32;

/// One read from the stream.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// A message body, at most [`MAX_MESSAGE_BYTES`] long.
    Body(Vec<u8>),
    /// Input that is not a message, and why. The next read first skips to
    /// the next `Content-Length` header.
    Bad(String),
    /// The end of the stream.
    Eof,
}

/// A framing reader over a byte stream.
pub struct Reader<R> {
    inner: R,
    /// After a bad frame: skip to the next `Content-Length` header.
    resync: bool,
    /// A header line found while skipping, to read as the next header.
    pending: Option<Vec<u8>>,
}

/// One line, without its end; `cut` when it was longer than kept.
struct Line {
    bytes: Vec<u8>,
    cut: bool,
}

impl<R: BufRead> Reader<R> {
    pub fn new(inner: R) -> Reader<R> {
        Reader {
            inner,
            resync: false,
            pending: None,
        }
    }

    /// Read one line, keeping at most `keep` bytes of it: its head, or
    /// with `tail` its end (where a header glued to a body would be).
    fn line(&mut self, keep: usize, tail: bool) -> io::Result<Option<Line>> {
        let mut bytes = Vec::new();
        let mut cut = false;
        let mut any = false;
        loop {
            let buf = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                return Ok(any.then_some(Line { bytes, cut }));
            }
            any = true;
            let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (&buf[..i], Some(i + 1)),
                None => (buf, None),
            };
            if tail {
                bytes.extend_from_slice(chunk);
                if bytes.len() > keep {
                    bytes.drain(..bytes.len() - keep);
                    cut = true;
                }
            } else {
                let room = keep.saturating_sub(bytes.len());
                cut |= chunk.len() > room;
                bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            let used = done.unwrap_or(buf.len());
            self.inner.consume(used);
            if done.is_some() {
                if bytes.last() == Some(&b'\r') {
                    bytes.pop();
                }
                return Ok(Some(Line { bytes, cut }));
            }
        }
    }

    /// Skip to the next line holding `Content-Length: <number>` and keep
    /// it (from that header on) as the next header line. Valid JSON never
    /// holds a raw line break before such text, so a body is not mistaken
    /// for a header; a candidate that does not read as one is skipped.
    fn skip_to_header(&mut self) -> io::Result<bool> {
        while let Some(line) = self.line(MAX_HEADER_LINE, true)? {
            let lower = line.bytes.to_ascii_lowercase();
            let Some(at) = find(&lower, b"content-length:") else {
                continue;
            };
            let header = line.bytes[at..].to_vec();
            if content_length(&header).is_some_and(|n| n.is_ok()) {
                self.pending = Some(header);
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The next frame. Never allocates more than [`MAX_MESSAGE_BYTES`]
    /// plus a few header lines, whatever the input.
    pub fn next_frame(&mut self) -> io::Result<Frame> {
        if std::mem::take(&mut self.resync) && !self.skip_to_header()? {
            return Ok(Frame::Eof);
        }
        let mut length: Option<Result<usize, String>> = None;
        let mut count = 0;
        loop {
            let line = match self.pending.take() {
                Some(bytes) => Line { bytes, cut: false },
                None => match self.line(MAX_HEADER_LINE, false)? {
                    Some(l) => l,
                    None => return Ok(Frame::Eof),
                },
            };
            if line.bytes.is_empty() {
                if count == 0 {
                    // Blank lines between messages are harmless.
                    continue;
                }
                break;
            }
            count += 1;
            if line.cut {
                return Ok(self.bad(format!(
                    "a header line is longer than {MAX_HEADER_LINE} bytes"
                )));
            }
            if count > MAX_HEADER_LINES {
                return Ok(self.bad(format!("more than {MAX_HEADER_LINES} header lines")));
            }
            match content_length(&line.bytes) {
                Some(n) => length = Some(n),
                None if line.bytes.contains(&b':') => {}
                None => {
                    return Ok(self.bad(format!(
                        "`{}` is not a header (`Name: value`)",
                        String::from_utf8_lossy(&line.bytes)
                    )));
                }
            }
        }
        let n = match length {
            None => return Ok(self.bad("the message has no Content-Length header".to_string())),
            Some(Err(e)) => return Ok(self.bad(e)),
            Some(Ok(n)) => n,
        };
        if n > MAX_MESSAGE_BYTES {
            return Ok(self.bad(format!(
                "a message of {n} bytes is over the limit of {MAX_MESSAGE_BYTES} bytes; it is skipped"
            )));
        }
        // Grows with the bytes that really arrive, not with the claim.
        let mut body = Vec::new();
        (&mut self.inner).take(n as u64).read_to_end(&mut body)?;
        if body.len() < n {
            return Ok(Frame::Eof);
        }
        Ok(Frame::Body(body))
    }

    fn bad(&mut self, why: String) -> Frame {
        self.resync = true;
        Frame::Bad(why)
    }
}

/// `Some` when the line is a `Content-Length` header: its value, or why it
/// is not a length.
fn content_length(line: &[u8]) -> Option<Result<usize, String>> {
    let colon = line.iter().position(|&b| b == b':')?;
    let (name, value) = line.split_at(colon);
    if !name.trim_ascii().eq_ignore_ascii_case(b"content-length") {
        return None;
    }
    let value = value[1..].trim_ascii();
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return Some(Err(format!(
            "`Content-Length: {}` is not a length",
            String::from_utf8_lossy(value)
        )));
    }
    // All digits: a number too large for `usize` is over any limit.
    Some(Ok(String::from_utf8_lossy(value)
        .parse::<usize>()
        .unwrap_or(usize::MAX)))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Write one framed message.
pub fn write_frame(w: &mut impl Write, body: &[u8]) -> io::Result<()> {
    write!(w, "Content-Length: {}\r\n\r\n", body.len())?;
    w.write_all(body)?;
    w.flush()
}

/// A JSON-RPC error response; `id` is `null` when the request's id could
/// not be read.
pub fn error_response(id: Option<serde_json::Value>, code: i32, message: &str) -> Vec<u8> {
    let v = serde_json::json!({
        "jsonrpc": "2.0",
        "id": id.unwrap_or(serde_json::Value::Null),
        "error": {"code": code, "message": message},
    });
    v.to_string().into_bytes()
}

/// JSON-RPC's "Parse error": the body is not JSON.
pub const PARSE_ERROR: i32 = -32700;
/// JSON-RPC's "Invalid Request": JSON, but not a message; or no message
/// could be framed.
pub const INVALID_REQUEST: i32 = -32600;

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &[u8]) -> Vec<Frame> {
        let mut r = Reader::new(io::Cursor::new(input.to_vec()));
        let mut out = Vec::new();
        for _ in 0..100 {
            match r.next_frame() {
                Ok(Frame::Eof) | Err(_) => break,
                Ok(f) => out.push(f),
            }
        }
        out
    }

    fn body(s: &str) -> Frame {
        Frame::Body(s.as_bytes().to_vec())
    }

    #[test]
    fn well_formed_messages() {
        let input = b"Content-Length: 2\r\n\r\n{}content-length:3\r\nContent-Type: x\r\n\r\n[1]";
        assert_eq!(frames(input), vec![body("{}"), body("[1]")]);
    }

    #[test]
    fn a_huge_length_is_refused_and_the_next_message_read() {
        let input = b"Content-Length: 1000000000000\r\n\r\n{\"a\":1}Content-Length: 2\r\n\r\n{}";
        let f = frames(input);
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(matches!(&f[0], Frame::Bad(m) if m.contains("over the limit")));
        assert_eq!(f[1], body("{}"));
        let input =
            b"Content-Length: 99999999999999999999999999\r\n\r\nContent-Length: 2\r\n\r\n{}";
        let f = frames(input);
        assert!(
            matches!(&f[0], Frame::Bad(m) if m.contains("over the limit")),
            "{f:?}"
        );
        assert_eq!(f[1], body("{}"));
    }

    #[test]
    fn garbled_and_missing_headers_are_answered() {
        for bad in [
            &b"Content-Lenght: 2\r\n\r\n{}"[..],
            b"Content-Length: two\r\n\r\n{}",
            b"Content-Length: -2\r\n\r\n{}",
            b"garbage\r\n\r\n{}",
            b"Content-Length:\r\n\r\n{}",
        ] {
            let mut input = bad.to_vec();
            input.extend_from_slice(b"\nContent-Length: 2\r\n\r\n[]");
            let f = frames(&input);
            assert_eq!(f.len(), 2, "{}: {f:?}", String::from_utf8_lossy(bad));
            assert!(matches!(f[0], Frame::Bad(_)));
            assert_eq!(f[1], body("[]"));
        }
        let long = vec![b'x'; 100_000];
        let f = frames(&long);
        assert_eq!(f.len(), 1);
        assert!(matches!(&f[0], Frame::Bad(m) if m.contains("longer than")));
    }

    #[test]
    fn a_short_body_is_the_end() {
        assert_eq!(frames(b"Content-Length: 10\r\n\r\n{}"), Vec::new());
    }
}
