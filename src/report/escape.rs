//! Text for a terminal: control characters (and the bidirectional
//! overrides of "Trojan Source") from file names and file content are
//! escaped, so a hostile name or reference cannot move the cursor, recolour
//! or rewrite what the reader sees.

use std::borrow::Cow;
use std::fmt::Write;

/// Characters a terminal acts on or reorders by.
fn dangerous(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A name or message on one line: `\x1b`, `\n`, `\u{202e}` written out.
pub fn terminal(s: &str) -> Cow<'_, str> {
    // Printable ASCII (most names and messages) needs no decoding.
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) || !s.chars().any(dangerous) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !dangerous(c) {
            out.push(c);
        } else if (c as u32) < 0x80 {
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
    Cow::Owned(out)
}

/// File content for a code frame: every dangerous character becomes `?`
/// (as many as its UTF-8 bytes, so byte offsets still hold). Tabs, line
/// feeds and the CR of a CRLF stay.
pub fn source(s: &str) -> Cow<'_, str> {
    let keep = |c: char, next: Option<char>| {
        !dangerous(c) || c == '\t' || c == '\n' || (c == '\r' && next == Some('\n'))
    };
    // Most files are printable ASCII: those bytes are judged one by one
    // without decoding, and only the rest as characters.
    let plain = |b: u8| (0x20..0x7f).contains(&b) || b == b'\t' || b == b'\n';
    let bytes = s.as_bytes();
    let mut at = 0;
    let mut clean = true;
    while at < bytes.len() {
        // 64 bytes at a time while all are plain: a fold without an early
        // exit, which the compiler vectorizes.
        if let Some(block) = bytes.get(at..at + 64)
            && block.iter().fold(true, |all, &b| all & plain(b))
        {
            at += 64;
            continue;
        }
        let b = bytes[at];
        if plain(b) {
            at += 1;
            continue;
        }
        let mut chars = s[at..].chars();
        let Some(c) = chars.next() else { break };
        if !keep(c, chars.next()) {
            clean = false;
            break;
        }
        at += c.len_utf8();
    }
    if clean {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if keep(c, chars.peek().copied()) {
            out.push(c);
        } else {
            out.extend(std::iter::repeat_n('?', c.len_utf8()));
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_messages_are_escaped() {
        assert_eq!(terminal("plain/Dockerfile"), "plain/Dockerfile");
        assert_eq!(terminal("a\x1b[31mred\n"), "a\\x1b[31mred\\x0a");
        assert_eq!(terminal("x\u{202e}y\u{9b}"), "x\\u{202e}y\\u{9b}");
    }

    #[test]
    fn source_keeps_its_byte_offsets() {
        assert_eq!(source("FROM a\r\nRUN b\tc\n"), "FROM a\r\nRUN b\tc\n");
        let dirty = "FROM \x1b[2Jx\u{202e}\rY\n";
        let clean = source(dirty);
        assert_eq!(clean.len(), dirty.len());
        assert_eq!(clean, "FROM ?[2Jx????Y\n");
    }

    #[test]
    fn source_is_judged_past_its_plain_blocks() {
        // Dangerous characters inside, at the end of and after 64-byte
        // blocks of plain text, and a CRLF across a block's end.
        let plain = "x".repeat(63);
        assert_eq!(
            source(&format!("{plain}\r\n{plain}")),
            format!("{plain}\r\n{plain}")
        );
        for at in [0, 10, 63, 64, 127, 128, 200] {
            let mut text = "a".repeat(256);
            text.replace_range(at..at + 1, "\x1b");
            let clean = source(&text);
            assert_eq!(clean.len(), 256);
            assert_eq!(clean.find('?'), Some(at), "at {at}");
            let mut wide = "b".repeat(256);
            wide.replace_range(at..at + 1, "\u{202e}");
            assert_eq!(source(&wide).find("???"), Some(at), "at {at}");
        }
        let long = "é".repeat(100);
        assert!(matches!(source(&long), Cow::Borrowed(_)));
    }
}
