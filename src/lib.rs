//! refit: find every container image reference and make it safe.
#![warn(clippy::print_stdout, clippy::print_stderr)]
// A per-file error is a full Diagnostic so every format can carry it; it is
// built once per failing file, so its size in a Result does not matter.
#![allow(clippy::result_large_err)]

pub mod check;
pub mod cli;
pub mod diagnostic;
pub mod discover;
pub mod engine;
pub mod fix;
pub mod reference;
pub mod report;
pub mod rules;
pub mod site;
pub mod sources;
