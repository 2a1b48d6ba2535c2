#![no_main]
//! Structure-aware: Dockerfiles with ARGs, stages, `--from`, heredocs and
//! continuations, through check → fix → re-check.
use libfuzzer_sys::fuzz_target;
use refit::kind::FileKind;
use refit_fuzz::Dockerfile;

fuzz_target!(|d: Dockerfile| {
    refit_fuzz::fix_roundtrip(FileKind::Dockerfile, &d.render());
});
