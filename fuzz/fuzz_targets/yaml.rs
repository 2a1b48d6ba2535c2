#![no_main]
//! The YAML front-ends (Compose, Helm values, Kubernetes, CI, kustomize)
//! on any text: no panic, bounded time.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    if let Ok(s) = std::str::from_utf8(rest) {
        let kinds = refit_fuzz::YAML_KINDS;
        refit_fuzz::bounded_check(kinds[usize::from(which) % kinds.len()], s);
    }
});
