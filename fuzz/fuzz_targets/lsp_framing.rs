#![no_main]
//! The language server's message framing: any byte stream ends in a
//! bounded number of frames (each consumes input), no body is over the
//! cap, and nothing panics. A well-formed message follows the input, so
//! the resync path after garbage is exercised too.
use libfuzzer_sys::fuzz_target;
use refit::server::framing::{Frame, MAX_MESSAGE_BYTES, Reader};

fuzz_target!(|data: &[u8]| {
    let mut input = data.to_vec();
    // A message after a line break: the reader must find it.
    input.extend_from_slice(b"\nContent-Length: 13\r\n\r\n{\"probe\":true}");
    let mut reader = Reader::new(std::io::Cursor::new(&input));
    let mut frames = 0usize;
    loop {
        match reader.next_frame() {
            Ok(Frame::Eof) | Err(_) => break,
            Ok(Frame::Body(b)) => {
                assert!(b.len() <= MAX_MESSAGE_BYTES);
            }
            Ok(Frame::Bad(why)) => assert!(!why.is_empty()),
        }
        frames += 1;
        // Every frame consumes input: never more frames than bytes.
        assert!(frames <= input.len() + 1, "the reader does not advance");
    }
});
