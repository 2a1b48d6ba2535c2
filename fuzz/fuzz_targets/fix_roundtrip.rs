#![no_main]
//! check → fix → re-check on any Dockerfile or Compose text, with the fix
//! invariants of `refit_fuzz::fix_roundtrip`.
use libfuzzer_sys::fuzz_target;
use refit::kind::FileKind;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    if let Ok(s) = std::str::from_utf8(rest) {
        let kind = match which % 3 {
            0 => FileKind::Compose,
            1 => FileKind::Kubernetes,
            _ => FileKind::Dockerfile,
        };
        refit_fuzz::fix_roundtrip(kind, s);
    }
});
