#![no_main]
//! refit's YAML front-end against libyaml 0.2.5 (`unsafe-libyaml`, its C
//! source transpiled): the same texts accepted, the same scalars read, and
//! every span pointing at the text as written.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        refit_fuzz::yaml_matches_libyaml(s);
    }
});
