#![no_main]
//! The Dockerfile front-end on any text: no panic, bounded time.
use libfuzzer_sys::fuzz_target;
use refit::kind::FileKind;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        refit_fuzz::bounded_check(FileKind::Dockerfile, s);
    }
});
