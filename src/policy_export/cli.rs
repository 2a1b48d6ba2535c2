//! The command-line side of `refit policy export` and `refit policy
//! check`: arguments, and printing what the library produced.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use super::{Format, Spec, drift, export};
use crate::args::ConfigArgs;
use crate::config::Resolver;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Write the registry policy of refit.toml for another tool:
    /// Kubernetes admission (vap, kyverno, gatekeeper), build and lint
    /// (hadolint, dockerfile-rego), runtime mirrors (containerd,
    /// daemon-json, buildkitd, registries-conf), or `all`.
    Export {
        /// The format, or `all` (which needs `--output`).
        #[arg(long, value_name = "FORMAT", value_parser = format_names())]
        to: String,
        /// Write the files under this folder (at their conventional paths:
        /// `certs.d/docker.io/hosts.toml`) instead of printing them.
        #[arg(long, short, value_name = "DIR")]
        output: Option<PathBuf>,
        /// The folder whose refit.toml applies (default: `.`).
        path: Option<PathBuf>,
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Compare the policy files under DIR with what refit.toml exports
    /// today; exit 1 on any difference.
    Check {
        /// A folder of deployed policy files (found by kind and name).
        dir: PathBuf,
        /// The folder whose refit.toml applies (default: `.`).
        #[arg(long, value_name = "PATH")]
        project: Option<PathBuf>,
        #[command(flatten)]
        config: ConfigArgs,
    },
}

fn format_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Format::ALL.iter().map(|f| f.name()).collect();
    names.push("all");
    names
}

/// The spec of the refit.toml that applies to `path`.
fn spec(path: Option<&Path>, args: &ConfigArgs) -> Result<Spec, ExitCode> {
    let path = path.unwrap_or(Path::new("."));
    let fail = |e: crate::config::ConfigError| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    };
    let resolver = Resolver::new(args.config.as_deref(), args.isolated).map_err(fail)?;
    let probe = if path.is_dir() {
        path.join("Dockerfile")
    } else {
        path.to_path_buf()
    };
    match resolver.for_file(&probe).map_err(fail)? {
        Some(config) => Ok(Spec::from_config(&config.raw)),
        None => {
            eprintln!(
                "warning: no refit.toml applies to {}: exporting the defaults",
                path.display()
            );
            Ok(Spec::from_config(&crate::config::RawConfig::default()))
        }
    }
}

pub fn run(command: PolicyCommand) -> ExitCode {
    match command {
        PolicyCommand::Export {
            to,
            output,
            path,
            config,
        } => {
            let spec = match spec(path.as_deref(), &config) {
                Ok(s) => s,
                Err(code) => return code,
            };
            let formats: Vec<Format> = match Format::from_name(&to) {
                Some(f) => vec![f],
                None => Format::ALL.to_vec(),
            };
            if formats.len() > 1 && output.is_none() {
                eprintln!("error: `--to all` writes several files: name a folder with --output");
                return ExitCode::from(2);
            }
            for format in formats {
                let exported = export(&spec, format);
                for note in &exported.notes {
                    eprintln!("note: {note}");
                }
                for file in &exported.files {
                    match &output {
                        None => {
                            if exported.files.len() > 1 {
                                println!("# {}", file.path);
                            }
                            print!("{}", file.text);
                        }
                        Some(dir) => {
                            let target = dir.join(&file.path);
                            let written = target
                                .parent()
                                .map_or(Ok(()), std::fs::create_dir_all)
                                .and_then(|()| std::fs::write(&target, &file.text));
                            if let Err(e) = written {
                                eprintln!("error: {}: {e}", target.display());
                                return ExitCode::from(2);
                            }
                            eprintln!("wrote {}", target.display());
                        }
                    }
                }
            }
            ExitCode::SUCCESS
        }
        PolicyCommand::Check {
            dir,
            project,
            config,
        } => {
            let spec = match spec(project.as_deref(), &config) {
                Ok(s) => s,
                Err(code) => return code,
            };
            match drift::check(&spec, &dir) {
                Err(message) => {
                    eprintln!("error: {message}");
                    ExitCode::from(2)
                }
                Ok(drifts) if drifts.is_empty() => {
                    println!("{}: the deployed policy matches refit.toml", dir.display());
                    ExitCode::SUCCESS
                }
                Ok(drifts) => {
                    for d in &drifts {
                        println!("{}: {}", d.file.display(), d.message);
                    }
                    println!("{} difference(s) from refit.toml", drifts.len());
                    ExitCode::from(1)
                }
            }
        }
    }
}
