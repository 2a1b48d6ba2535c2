//! refit: find every container image reference and make it safe.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod add_ignore;
pub mod args;
pub mod baseline;
pub mod build_refs;
pub mod check;
pub mod cli;
pub mod config;
pub mod context;
pub mod diagnostic;
pub mod diff;
pub mod discover;
pub mod engine;
pub mod fix;
pub mod gitdiff;
pub mod helm_templates;
pub mod identity;
pub mod man;
pub mod official;
pub mod online;
pub mod policy;
pub mod realpath;
pub mod reference;
pub mod report;
pub mod rules;
pub mod run;
pub mod server;
pub mod shortnames;
pub mod site;
pub mod sources;
pub mod span;
pub mod suppress;
pub mod write;
