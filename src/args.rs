//! Argument types shared by the command line (`cli`) and the online
//! commands (`online::cli`), so neither imports the other.

use clap::ValueEnum;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    // `Text` in code, as before, so code of other subcommands keeps compiling.
    /// One line per item.
    #[value(name = "human", alias = "text")]
    Text,
    Json,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ConfigArgs {
    /// Use this config file for every file (no discovery).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Ignore every config file.
    #[arg(long, conflicts_with = "config")]
    pub isolated: bool,
}
