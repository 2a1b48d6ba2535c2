//! refit: find every container image reference and make it safe.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod add_ignore;
pub mod args;
pub mod baseline;
pub mod bounded;
pub mod check;
pub mod cli;
pub mod config;
pub mod diagnostic;
pub mod diff;
pub mod discover;
pub mod engine;
pub mod facts;
pub mod fix;
pub mod gitdiff;
pub mod identity;
pub mod kind;
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
pub mod settings;
pub mod site;
pub mod sources;
pub mod span;
pub mod stamp;
pub mod suppress;
pub mod watch;
pub mod workspace;
pub mod write;
