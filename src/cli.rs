//! Command-line interface: the only part of refit that prints.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use crate::args::{ConfigArgs, ListFormat};
use crate::config::{ConfigError, Resolver};
use crate::diff::unified_diff;
use crate::discover;
use crate::engine::{self, FileReport};
use crate::reference::Reference;
use crate::report::escape::terminal;
use crate::report::{self, Format, RenderOptions};
use crate::rules;
use crate::run::{self as refit_run, Run, RunOptions};
use crate::settings::Settings;
use clap::{Parser, Subcommand, ValueEnum};
use rayon::prelude::*;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "refit",
    version,
    about = "Find every container image reference and make it safe",
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check files for image-reference problems (and fix them).
    Check(Box<CheckArgs>),
    /// Show how refit reads image references.
    Reference(ReferenceArgs),
    /// List every image reference refit finds, without checking them.
    Sites(SitesArgs),
    /// List every image the repository would pull (for mirroring and
    /// air-gapped installs).
    Inventory(Box<InventoryArgs>),
    /// Print a rule's documentation (or every rule's, with `--all`).
    Rule {
        /// A rule code (REG001) or name (implicit-registry).
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        code: Option<String>,
        /// Print every rule's page, one after the other.
        #[arg(long)]
        all: bool,
    },
    /// Print the effective configuration for a path.
    Config {
        /// A file or folder (default: `.`).
        path: Option<PathBuf>,
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Print a shell completion script.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
    /// Pin image references to digests (asks registries).
    Pin(crate::online::cli::PinArgs),
    /// Propose newer version tags within the `[update]` policy (asks
    /// registries): a diff, or `--write`.
    Update(crate::online::update_cli::UpdateArgs),
    /// Registry diagnostics (asks registries).
    Registry {
        #[command(subcommand)]
        command: crate::online::cli::RegistryCommand,
    },
    /// Export the registry policy to admission, build and runtime tools,
    /// or check deployed copies for drift.
    Policy {
        #[command(subcommand)]
        command: crate::policy_export::cli::PolicyCommand,
    },
    /// Run the language server (LSP over stdio) for editors.
    #[command(long_about = crate::server::HELP)]
    Server,
    /// Remove the workspace cache (`.refit_cache/`) of the repositories
    /// holding the paths (default: `.`).
    Clean {
        /// Files or folders whose repository's cache to remove.
        paths: Vec<PathBuf>,
    },
    /// List the advisory packs (dated knowledge: moved registries, end of
    /// life), their dates and sources, and which the configuration selects.
    Advisories {
        /// A file or folder whose configuration decides the selection
        /// (default: `.`).
        path: Option<PathBuf>,
        /// `human` or `json`.
        #[arg(
            long,
            visible_alias = "output-format",
            value_enum,
            default_value = "human"
        )]
        format: ListFormat,
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// List all rules.
    Rules {
        /// `human` (one line a rule) or `json` (with each rule's documentation).
        #[arg(
            long,
            visible_alias = "output-format",
            value_enum,
            default_value = "human"
        )]
        format: ListFormat,
    },
}

/// The formats of `rules`, `sites` and `reference`: the names `check` uses
/// (`text`, their old name, is a hidden alias).
/// `--fail-level`: the lowest severity that makes `check` exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailLevel {
    Error,
    Warning,
    Info,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless `NO_COLOR`; `FORCE_COLOR`/`CLICOLOR_FORCE` force it.
    Auto,
    Always,
    Never,
}

/// `check --help` groups its options under these headings, as ruff's.
const RULES: &str = "Rule selection";
const FILES: &str = "Files";
const FIXING: &str = "Fixing";
const OUTPUT: &str = "Output";
const EXIT: &str = "Exit status";
const ADOPTION: &str = "PR and adoption";
const BUILD: &str = "Build inputs";
const CONFIGURATION: &str = "Configuration";
const ONLINE: &str = "Online (with --online)";

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Files or folders to check (default: `.`); `-` reads stdin.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Check again each time a file under the paths changes, until
    /// interrupted (Ctrl-C).
    #[arg(long, conflicts_with_all = ["stdin_filename", "files_from", "write_baseline", "add_ignore"])]
    pub watch: bool,

    /// Rules to run: codes or prefixes (`REG`, `TAG001`), comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "CODES", help_heading = RULES)]
    pub select: Vec<String>,
    /// Rules to add to the configured selection.
    #[arg(long, value_delimiter = ',', value_name = "CODES", help_heading = RULES)]
    pub extend_select: Vec<String>,
    /// Rules to skip: codes or prefixes, comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "CODES", help_heading = RULES)]
    pub ignore: Vec<String>,

    /// Globs to leave out when walking folders, replacing the config's
    /// `exclude` (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "GLOBS", help_heading = FILES)]
    pub exclude: Vec<String>,
    /// Globs to leave out when walking folders, in addition (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "GLOBS", help_heading = FILES)]
    pub extend_exclude: Vec<String>,
    /// Leave excluded files out even when named on the command line (for
    /// pre-commit hooks, which name every changed file).
    #[arg(long, help_heading = FILES)]
    pub force_exclude: bool,
    /// Also check the paths listed in FILE (`-`: stdin), as if given on the
    /// command line: one per line, or NUL-separated (`git ls-files -z`);
    /// an empty list checks nothing.
    #[arg(long, value_name = "FILE", conflicts_with = "stdin_filename", help_heading = FILES)]
    pub files_from: Option<PathBuf>,
    /// The file name to report (and classify) stdin as.
    #[arg(long, value_name = "PATH", help_heading = FILES)]
    pub stdin_filename: Option<PathBuf>,
    /// Files larger than this many bytes are reported (E003), not read
    /// (default: the config's `max-file-size`, else 10 MiB).
    #[arg(long, value_name = "BYTES", help_heading = FILES)]
    pub max_file_size: Option<u64>,
    /// List the files that would be checked, with the kind each is read
    /// as, and check nothing.
    #[arg(long, help_heading = FILES)]
    pub show_files: bool,

    /// Apply safe fixes.
    #[arg(long, help_heading = FIXING)]
    pub fix: bool,
    /// Also apply (or show) unsafe fixes.
    #[arg(long, help_heading = FIXING)]
    pub unsafe_fixes: bool,
    /// Print the fixes as a unified diff and write nothing.
    #[arg(long, help_heading = FIXING)]
    pub diff: bool,
    /// Apply fixes, but neither report nor fail on what is left (implies
    /// `--fix`).
    #[arg(long, conflicts_with = "diff", help_heading = FIXING)]
    pub fix_only: bool,
    /// With `--fix`, list the fixes that were applied.
    #[arg(long, help_heading = FIXING)]
    pub show_fixes: bool,

    /// Output format.
    #[arg(
        long,
        visible_alias = "output-format",
        value_enum,
        default_value = "human",
        help_heading = OUTPUT
    )]
    pub format: Format,
    /// Write the report (or diff) to this file instead of stdout.
    #[arg(short, long, value_name = "PATH", help_heading = OUTPUT)]
    pub output_file: Option<PathBuf>,
    /// Print the findings, but no summary and no warnings.
    #[arg(short, long, help_heading = OUTPUT)]
    pub quiet: bool,
    /// Print nothing; only the exit status tells.
    #[arg(short, long, conflicts_with = "quiet", help_heading = OUTPUT)]
    pub silent: bool,
    /// When to colour the output.
    #[arg(long, value_enum, default_value = "auto", value_name = "WHEN", help_heading = OUTPUT)]
    pub color: ColorChoice,
    /// Print a count of findings per rule instead of the findings.
    #[arg(long, help_heading = OUTPUT)]
    pub statistics: bool,
    /// Indent SARIF output (default: compact, one result per line).
    #[arg(long, help_heading = OUTPUT)]
    pub pretty: bool,

    /// The lowest severity that fails the run (exit 1).
    #[arg(long, value_enum, default_value = "warning", value_name = "LEVEL", help_heading = EXIT)]
    pub fail_level: FailLevel,
    /// Exit 0 even when findings remain (errors still exit 2).
    #[arg(long, help_heading = EXIT)]
    pub exit_zero: bool,
    /// With `--fix`, exit 1 when a file was changed, even if nothing is
    /// left to report (for pre-commit).
    #[arg(long, help_heading = EXIT)]
    pub exit_non_zero_on_fix: bool,

    /// Report only findings on lines changed since the merge base of REF
    /// and HEAD, plus uncommitted changes; unchanged files are not read.
    #[arg(long, value_name = "REF", value_parser = diff_base_ref, help_heading = ADOPTION)]
    pub diff_base: Option<String>,
    /// With `--diff-base`: findings on changed lines, or in changed files.
    #[arg(
        long,
        value_enum,
        default_value = "lines",
        requires = "diff_base",
        value_name = "SCOPE",
        help_heading = ADOPTION
    )]
    pub diff_scope: crate::gitdiff::DiffScope,
    /// With `--diff-base`: only the commits since the merge base, not the
    /// working tree (what a CI checkout of a pull request has); git then
    /// never looks at unchanged files, however large the repository.
    #[arg(long, requires = "diff_base", help_heading = ADOPTION)]
    pub diff_committed: bool,
    /// Hide the findings recorded in this baseline file (default: the
    /// config's `baseline`).
    #[arg(long, value_name = "FILE", help_heading = ADOPTION)]
    pub baseline: Option<PathBuf>,
    /// Record today's findings in a baseline file instead of reporting them.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["fix", "diff", "add_ignore", "baseline"],
        help_heading = ADOPTION
    )]
    pub write_baseline: Option<PathBuf>,
    /// Add a suppression comment for every current finding (adopting refit
    /// in a large repository), instead of reporting them.
    #[arg(long, conflicts_with_all = ["fix", "diff"], help_heading = ADOPTION)]
    pub add_ignore: bool,

    /// Override a Dockerfile ARG: `NAME=VALUE` (or `NAME`, taken from the environment).
    #[arg(long = "build-arg", value_name = "NAME=VALUE", help_heading = BUILD)]
    pub build_args: Vec<String>,
    /// A value for Compose interpolation: `NAME=VALUE` (wins over `.env`).
    #[arg(long = "env", value_name = "NAME=VALUE", help_heading = BUILD)]
    pub env: Vec<String>,

    #[command(flatten, next_help_heading = CONFIGURATION)]
    pub config: ConfigArgs,
    /// Also ask the registries (REF003, REF004, MIR003); offline otherwise.
    #[arg(long, help_heading = ONLINE)]
    pub online: bool,
    #[command(flatten, next_help_heading = ONLINE)]
    pub online_args: crate::online::cli::OnlineArgs,
}

#[derive(Debug, clap::Args)]
pub struct SitesArgs {
    /// Files or folders (default: `.`).
    pub paths: Vec<PathBuf>,
    /// `human` or `json`.
    #[arg(
        long,
        visible_alias = "output-format",
        value_enum,
        default_value = "human"
    )]
    pub format: ListFormat,
}

/// `inventory --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InventoryFormat {
    /// One normalized reference a line, sorted.
    Plain,
    /// Each image with its sites, built images, unresolved references.
    Json,
    /// One row per site.
    Csv,
    /// A `skopeo sync --src yaml` source file.
    SkopeoSync,
    /// A hauler `Images` manifest.
    Hauler,
    /// A `zarf.yaml` with one component listing the images.
    Zarf,
    /// An oc-mirror `ImageSetConfiguration` (v2alpha1).
    OcMirror,
}

#[derive(Debug, clap::Args)]
pub struct InventoryArgs {
    /// Files or folders (default: `.`).
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "plain")]
    pub format: InventoryFormat,
    /// Resolve tags to digests (asks registries); offline otherwise.
    #[arg(long)]
    pub resolve: bool,
    /// The name of the hauler manifest or zarf package.
    #[arg(long, default_value = "images", value_name = "NAME")]
    pub name: String,
    /// Override a Dockerfile ARG: `NAME=VALUE` (or `NAME`, taken from the environment).
    #[arg(long = "build-arg", value_name = "NAME=VALUE")]
    pub build_args: Vec<String>,
    /// A value for Compose interpolation: `NAME=VALUE` (wins over `.env`).
    #[arg(long = "env", value_name = "NAME=VALUE")]
    pub env: Vec<String>,
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(flatten)]
    pub online: crate::online::cli::OnlineArgs,
}

#[derive(Debug, clap::Args)]
pub struct ReferenceArgs {
    /// References to explain.
    #[arg(required = true)]
    pub references: Vec<String>,
    /// `human` or `json`.
    #[arg(
        long,
        visible_alias = "output-format",
        value_enum,
        default_value = "human"
    )]
    pub format: ListFormat,
}

/// Exit codes: 0 nothing left to report, 1 findings remain, 2 usage or
/// per-file errors.
/// `--diff-base REF`: a ref git cannot mistake for an option.
fn diff_base_ref(s: &str) -> Result<String, String> {
    crate::gitdiff::validate_base(s).map(|()| s.to_string())
}

pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match cli.command {
        Command::Check(args) if args.watch => watch(&args),
        Command::Check(args) => check(&args),
        Command::Reference(args) => reference(args),
        Command::Sites(args) => sites(args),
        Command::Inventory(args) => inventory(&args),
        Command::Rule { code, all } => match code {
            Some(code) if !all => rule(&code),
            _ => all_rules(),
        },
        Command::Rules { format } => list_rules(format),
        Command::Advisories {
            path,
            format,
            config,
        } => list_advisories(path, format, &config),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "refit", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
        Command::Man => {
            use clap::CommandFactory;
            match crate::man::page(Cli::command()) {
                Ok(page) => {
                    let _ = std::io::stdout().write_all(page.as_bytes());
                    ExitCode::SUCCESS
                }
                Err(e) => usage_error(&e.to_string()),
            }
        }
        Command::Config { path, config } => show_config(path, &config),
        Command::Pin(args) => crate::online::cli::pin(args),
        Command::Update(args) => crate::online::update_cli::update(args),
        Command::Registry { command } => crate::online::cli::registry(command),
        Command::Clean { paths } => clean(paths),
        Command::Policy { command } => crate::policy_export::cli::run(command),
        Command::Server => match crate::server::run_stdio() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: refit server: {e}");
                ExitCode::from(2)
            }
        },
    }
}

/// `refit clean`: remove `.refit_cache/` at the root of each path's
/// repository (and at the path itself, when it is a folder holding one).
fn clean(paths: Vec<PathBuf>) -> ExitCode {
    let paths = if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths
    };
    let mut roots = std::collections::BTreeSet::new();
    for path in &paths {
        let Ok(real) = crate::realpath::canonical(path) else {
            eprintln!(
                "error: {}: no such file or folder",
                terminal(&path.display().to_string())
            );
            return ExitCode::from(2);
        };
        let dir = if real.is_dir() {
            roots.insert(real.clone());
            real
        } else {
            real.parent().map(Path::to_path_buf).unwrap_or(real)
        };
        roots.insert(crate::workspace::Workspace::new(false).root_of_folder(&dir));
    }
    let mut status = ExitCode::SUCCESS;
    for root in roots {
        match crate::workspace::cache::clean(&root) {
            Ok(true) => eprintln!(
                "Removed {}",
                terminal(
                    &root
                        .join(crate::workspace::cache::DIR)
                        .display()
                        .to_string()
                )
            ),
            Ok(false) => {}
            Err(e) => {
                eprintln!(
                    "error: cannot remove the cache of {}: {e}",
                    terminal(&root.display().to_string())
                );
                status = ExitCode::from(2);
            }
        }
    }
    status
}

fn write_baseline(path: &std::path::Path, reports: &[engine::FileReport]) -> ExitCode {
    match crate::baseline::write(path, reports) {
        Ok(count) => {
            println!(
                "Wrote {count} finding{} to {}.",
                if count == 1 { "" } else { "s" },
                path.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {}: {e}", path.display());
            ExitCode::from(2)
        }
    }
}

fn config_error(e: &ConfigError) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(2)
}

fn show_config(path: Option<PathBuf>, args: &ConfigArgs) -> ExitCode {
    let path = path.unwrap_or_else(|| PathBuf::from("."));
    let resolver = match Resolver::new(args.config.as_deref(), args.isolated) {
        Ok(r) => r,
        Err(e) => return config_error(&e),
    };
    // For a folder, the config that applies to files in it.
    let probe = if path.is_dir() {
        path.join("Dockerfile")
    } else {
        path.clone()
    };
    match resolver.for_file(&probe) {
        Err(e) => config_error(&e),
        Ok(None) => {
            println!("# no refit.toml applies to {}: defaults", path.display());
            println!(
                "# advisory packs in force: {}",
                rules::knowledge::Knowledge::builtin().selected.join(", ")
            );
            ExitCode::SUCCESS
        }
        Ok(Some(c)) => {
            for source in &c.sources {
                println!("# from {}", source.display());
            }
            let absolute = std::path::absolute(&probe).unwrap_or(probe.clone());
            let effective = c.raw_for(&absolute);
            let merged = matches!(effective, std::borrow::Cow::Owned(_));
            let mut raw = effective.into_owned();
            // For one path, the overrides that match it are merged in.
            if !path.is_dir() {
                raw.overrides = None;
                if merged {
                    println!("# [[overrides]] matching {} merged in", path.display());
                }
            }
            print!("{}", toml::to_string(&raw).unwrap_or_default());
            let selected = c
                .knowledge
                .as_deref()
                .unwrap_or(rules::knowledge::Knowledge::builtin())
                .selected
                .join(", ");
            println!("# advisory packs in force: {selected}");
            ExitCode::SUCCESS
        }
    }
}

/// The packs in force for a path: its config's, or the defaults.
fn knowledge_for(
    path: &std::path::Path,
    args: &ConfigArgs,
) -> Result<std::sync::Arc<rules::knowledge::Knowledge>, ExitCode> {
    let resolver =
        Resolver::new(args.config.as_deref(), args.isolated).map_err(|e| config_error(&e))?;
    let probe = if path.is_dir() {
        path.join("Dockerfile")
    } else {
        path.to_path_buf()
    };
    let config = resolver.for_file(&probe).map_err(|e| config_error(&e))?;
    Ok(config
        .and_then(|c| c.knowledge.clone())
        .unwrap_or_else(|| std::sync::Arc::new(rules::knowledge::Knowledge::builtin().clone())))
}

fn list_advisories(path: Option<PathBuf>, format: ListFormat, args: &ConfigArgs) -> ExitCode {
    let path = path.unwrap_or_else(|| PathBuf::from("."));
    let knowledge = match knowledge_for(&path, args) {
        Ok(k) => k,
        Err(code) => return code,
    };
    let rows = rules::advisories::rows(&knowledge);
    let text = match format {
        ListFormat::Text => rules::advisories::human(&rows),
        ListFormat::Json => serde_json::to_string_pretty(&rows).unwrap_or_default() + "\n",
    };
    // A closed pipe (`| head`) ends the listing quietly.
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    ExitCode::SUCCESS
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

/// Columns for the human format: `COLUMNS` when set, else the terminal's
/// width, else 100 (pipes and files).
fn terminal_width(is_terminal: bool) -> usize {
    if let Some(n) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&n| n >= 20)
    {
        return n;
    }
    if is_terminal && let Some((terminal_size::Width(w), _)) = terminal_size::terminal_size() {
        return usize::from(w).max(20);
    }
    RenderOptions::DEFAULT_WIDTH
}

fn color_enabled(stream_is_terminal: bool) -> bool {
    color_for(ColorChoice::Auto, stream_is_terminal)
}

/// Whether to colour: `--color always|never`, else `FORCE_COLOR` or
/// `CLICOLOR_FORCE` (set, not empty, not `0`) force it, `NO_COLOR` (set,
/// not empty) turns it off, else on a terminal only.
fn color_for(choice: ColorChoice, stream_is_terminal: bool) -> bool {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0");
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto if set("FORCE_COLOR") || set("CLICOLOR_FORCE") => true,
        ColorChoice::Auto => {
            stream_is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

fn parse_build_args(raw: &[String]) -> Result<std::collections::BTreeMap<String, String>, String> {
    let mut out = std::collections::BTreeMap::new();
    for arg in raw {
        let (name, value) = match arg.split_once('=') {
            Some((n, v)) => (n.to_string(), v.to_string()),
            None => match std::env::var(arg) {
                Ok(v) => (arg.clone(), v),
                Err(_) => continue,
            },
        };
        if name.is_empty() {
            return Err(format!("invalid --build-arg `{arg}`: expected NAME=VALUE"));
        }
        out.insert(name, value);
    }
    Ok(out)
}

fn check(args: &CheckArgs) -> ExitCode {
    // One run: folders are listed once and asked from the listing.
    crate::listing::enable();
    let build_args = match parse_build_args(&args.build_args) {
        Ok(b) => b,
        Err(e) => return usage_error(&e),
    };
    let env = match parse_build_args(&args.env) {
        Ok(b) => b,
        Err(e) => return usage_error(&e.replace("--build-arg", "--env")),
    };
    let fix = args.fix || args.fix_only;
    let mut paths = args.paths.clone();
    if let Some(list) = &args.files_from {
        if list.as_os_str() == "-" && paths.iter().any(|p| p.as_os_str() == "-") {
            return usage_error(
                "`--files-from -` reads the list from stdin: stdin cannot also be a file to check",
            );
        }
        match crate::args::read_file_list(list) {
            Ok(listed) => paths.extend(listed),
            Err(e) => return usage_error(&e),
        }
    }
    let options = RunOptions {
        paths,
        paths_are_list: args.files_from.is_some(),
        fix,
        unsafe_fixes: args.unsafe_fixes,
        diff: args.diff,
        suggest: args.format == Format::Review,
        select: args.select.clone(),
        ignore: args.ignore.clone(),
        extend_select: args.extend_select.clone(),
        build_args,
        env,
        stdin_filename: args.stdin_filename.clone(),
        max_file_size: args.max_file_size,
        config: args.config.config.clone(),
        isolated: args.config.isolated,
        exit_non_zero_on_fix: args.exit_non_zero_on_fix,
        fail_level: Some(match args.fail_level {
            FailLevel::Error => crate::diagnostic::Severity::Error,
            FailLevel::Warning => crate::diagnostic::Severity::Warning,
            FailLevel::Info => crate::diagnostic::Severity::Info,
        }),
        exit_zero: args.exit_zero,
        exclude: args.exclude.clone(),
        extend_exclude: args.extend_exclude.clone(),
        force_exclude: args.force_exclude,
        diff_base: args.diff_base.clone(),
        diff_scope: args.diff_scope,
        diff_end: if args.diff_committed {
            crate::gitdiff::DiffEnd::Head
        } else {
            crate::gitdiff::DiffEnd::WorkingTree
        },
        baseline: args.baseline.clone(),
        online: args.online,
        no_cache: args.online_args.no_cache,
    };
    let run = match Run::new(options) {
        Ok(r) => r,
        Err(e) => return usage_error(&e.to_string()),
    };
    let talk = !args.quiet && !args.silent;
    let stdin_mode = run.reads_stdin();
    if stdin_mode {
        if args.show_files {
            return usage_error("`--show-files` lists files found on disk, not stdin");
        }
        let report = match run.check_stdin(std::io::stdin()) {
            Ok(r) => r,
            Err(e) => return usage_error(&e.to_string()),
        };
        return finish_collected(args, &run, vec![report], true);
    }
    let unknown = run.unknown_files();
    if talk {
        for u in &unknown {
            eprintln!(
                "warning: {}: skipped: refit cannot tell what kind of file this is from its name or content (name the kind in refit.toml `[kinds]`, or pipe it with `--stdin-filename`)",
                terminal(&discover::display_path(u))
            );
        }
    }
    let (targets, walk_errors) = run.discover();
    if args.show_files {
        let mut out = String::new();
        for t in &targets {
            out.push_str(&format!("{} ({})\n", t.display, t.kind.as_str()));
        }
        return match emit(args.output_file.as_deref(), &out) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => usage_error(&e),
        };
    }
    if targets.is_empty() && unknown.is_empty() && talk {
        eprintln!(
            "warning: no files refit recognises (Dockerfiles, Compose, Kubernetes, Helm values, CI, kustomize, daemon mirror settings) were found"
        );
    }
    let human = matches!(args.format, Format::Human | Format::Concise);
    let progress = Progress::start(targets.len(), human && !args.statistics && talk);
    // The plain run (a report, with or without --fix) streams: each file's
    // report is written as it comes. Everything that needs every report
    // first (a baseline, --diff-base, statistics, diffs,
    // suppressions, --silent, --online) collects them.
    let collect = args.write_baseline.is_some()
        || args.online
        || args.fix_only
        || args.silent
        || args.statistics
        || args.diff
        || args.add_ignore
        || match run.needs_all_reports() {
            Ok(all) => all,
            Err(e) => return usage_error(&e.to_string()),
        };
    if collect {
        let mut reports = Vec::new();
        let streamed = run.stream(
            &targets,
            &walk_errors,
            &|| progress.tick(),
            false,
            &mut |r| reports.push(r),
        );
        progress.finish();
        if let Err(e) = streamed {
            return usage_error(&e.to_string());
        }
        return finish_collected(args, &run, reports, false);
    }
    // `-o FILE` streams too: into a temporary file put in place at the end.
    let mut stdout = match &args.output_file {
        None => Sink::Stdout(std::io::BufWriter::new(std::io::stdout().lock())),
        Some(path) => match crate::write::OutputFile::create(path) {
            Ok(f) => Sink::File(std::io::BufWriter::new(f)),
            Err(e) => return usage_error(&format!("cannot write {}: {e}", path.display())),
        },
    };
    let is_terminal = args.output_file.is_none() && std::io::stdout().is_terminal();
    let options = RenderOptions {
        color: color_for(args.color, is_terminal),
        fixing: args.fix,
        unsafe_fixes: args.unsafe_fixes,
        width: terminal_width(is_terminal),
        pretty: args.pretty,
    };
    let emitter = match report::stream::Emitter::new(args.format, options, &mut stdout, SPILL_AFTER)
    {
        Ok(e) if args.quiet => e.with_change(run.change()).without_summary(),
        Ok(e) => e.with_change(run.change()),
        Err(e) => return usage_error(&e.to_string()),
    };
    let mut output = Output {
        emitter,
        shown: (args.show_fixes && args.fix && !args.quiet).then(report::ShownFixes::default),
        outcome: refit_run::Outcome::default(),
    };
    let streamed = run.stream(
        &targets,
        &walk_errors,
        &|| progress.tick(),
        true,
        &mut |r| progress.suspend(|| output.report(&r)),
    );
    progress.finish();
    let failures = match streamed {
        Ok(f) => f,
        Err(e) => return usage_error(&e.to_string()),
    };
    let code = output.finish(&run, &failures);
    if let Sink::File(file) = stdout {
        let committed = file
            .into_inner()
            .map_err(|e| e.into_error().to_string())
            .and_then(|f| f.commit().map_err(|e| e.to_string()));
        if let (Err(e), Some(path)) = (committed, &args.output_file) {
            return usage_error(&format!("cannot write {}: {e}", path.display()));
        }
    }
    code
}

/// `check --watch`: check, then again after each change under the paths,
/// until interrupted (Ctrl-C).
fn watch(args: &CheckArgs) -> ExitCode {
    if args.paths.iter().any(|p| p.as_os_str() == "-") {
        return usage_error("`--watch` watches files on disk, not stdin");
    }
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let watch = match crate::watch::Watch::new(&paths, args.output_file.as_deref()) {
        Ok(w) => w,
        Err(e) => return usage_error(&e),
    };
    // A terminal is cleared before each run; a pipe or file gets the
    // marks only, so every run stays in the log.
    let clear = args.output_file.is_none() && std::io::stdout().is_terminal();
    let mut changed: Vec<PathBuf> = Vec::new();
    loop {
        if clear {
            print!("\x1b[2J\x1b[H");
            let _ = std::io::stdout().flush();
        }
        match changed.as_slice() {
            [] => eprintln!("[refit] Checking in watch mode (Ctrl-C to stop)..."),
            [one] => eprintln!(
                "[refit] {} changed: checking again...",
                terminal(&one.display().to_string())
            ),
            many => eprintln!("[refit] {} files changed: checking again...", many.len()),
        }
        // Each run's own status is shown by its report; only the watch
        // failing ends the loop.
        let _ = check(args);
        // The run's listings are a snapshot: what changes next must be seen.
        crate::listing::disable();
        eprintln!("[refit] Watching for changes...");
        // What this run would check (its `[kinds]` included), read anew
        // each time: a changed refit.toml may change it.
        let run = Run::new(RunOptions {
            paths: paths.clone(),
            ..RunOptions::default()
        })
        .ok();
        let checked = |p: &Path| run.as_ref().is_some_and(|r| r.kind_for(p).is_some());
        changed = match watch.wait(&checked) {
            Ok(c) => c,
            Err(e) => return usage_error(&e),
        };
    }
}

/// Where a streamed report goes: stdout, or `-o FILE`.
enum Sink<'a> {
    Stdout(std::io::BufWriter<std::io::StdoutLock<'a>>),
    File(std::io::BufWriter<crate::write::OutputFile>),
}

impl Write for Sink<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Stdout(w) => w.write(buf),
            Sink::File(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Stdout(w) => w.flush(),
            Sink::File(w) => w.flush(),
        }
    }
}

/// Machine formats keep this many bytes of a whole document's items in
/// memory, then spill them to a temporary file.
const SPILL_AFTER: usize = 8 << 20;

/// A streamed report: each file written as it comes.
struct Output<'w> {
    emitter: report::stream::Emitter<'w>,
    shown: Option<report::ShownFixes>,
    outcome: refit_run::Outcome,
}

impl Output<'_> {
    fn report(&mut self, r: &FileReport) {
        self.outcome.add(r);
        if let Some(shown) = &mut self.shown {
            shown.add(r);
        }
        let _ = self.emitter.file(r);
    }

    fn finish(self, run: &Run, failures: &[refit_run::WriteFailure]) -> ExitCode {
        for failure in failures {
            eprintln!(
                "error: {}: {}",
                terminal(&failure.display),
                terminal(&failure.error.to_string())
            );
        }
        if let Ok(out) = self.emitter.finish() {
            if let Some(shown) = self.shown {
                let _ = out.write_all(shown.render().as_bytes());
            }
            let _ = out.flush();
        }
        let outcome = refit_run::Outcome {
            failed_write: !failures.is_empty(),
            ..self.outcome
        };
        ExitCode::from(run.exit_status(&outcome))
    }
}

/// The end of a run that holds every report (see `check`): narrow
/// (baseline, changed lines), write the fixes, then report.
fn finish_collected(
    args: &CheckArgs,
    run: &Run,
    mut reports: Vec<FileReport>,
    stdin_mode: bool,
) -> ExitCode {
    let talk = !args.quiet && !args.silent;
    let fix = args.fix || args.fix_only;
    // The online findings first: a baseline records and hides them like
    // any other, and judges their entries only in an online run.
    if args.online {
        let (online_settings, online_mode) =
            match run.file_settings(std::path::Path::new("refit.toml")) {
                Ok(f) => (f.settings, f.mode),
                Err(e) => return config_error(&e),
            };
        let enabled = |code: &str| online_settings.enabled(code);
        match crate::online::cli::check_online(
            &mut reports,
            &args.online_args,
            &args.config,
            &enabled,
            online_mode,
            fix && !args.diff,
        ) {
            Err(e) => return usage_error(&e),
            Ok(notes) if talk => notes.iter().for_each(|n| eprintln!("note: {n}")),
            Ok(_) => {}
        }
    }
    if let Some(path) = &args.write_baseline {
        return write_baseline(path, &reports);
    }
    if let Some(change) = run.change() {
        for note in &change.notes {
            eprintln!("note: --diff-base: {note}");
        }
    }
    if let Err(e) = run.narrow(&mut reports) {
        return usage_error(&e.to_string());
    }
    if args.add_ignore {
        return match run.add_ignore(&reports) {
            Err(e) => config_error(&e),
            Ok(outcome) => {
                for e in &outcome.errors {
                    eprintln!("error: {}", terminal(e));
                }
                println!(
                    "Added suppressions for {} finding{} in {} file{}.",
                    outcome.findings,
                    if outcome.findings == 1 { "" } else { "s" },
                    outcome.files,
                    if outcome.files == 1 { "" } else { "s" }
                );
                ExitCode::from(if outcome.failed { 2 } else { 0 })
            }
        };
    }
    let to_file = args.output_file.is_some();
    let mut failed_write = false;
    let mut out = String::new();
    if args.diff {
        let color = color_for(args.color, !to_file && std::io::stdout().is_terminal());
        for r in &reports {
            if let (Some(old), Some(new)) = (&r.source, &r.fixed) {
                out.push_str(&unified_diff(&r.display, old, new, color));
            }
        }
    } else if fix {
        for failure in run.write_fixes(&mut reports) {
            eprintln!(
                "error: {}: {}",
                terminal(&failure.display),
                terminal(&failure.error.to_string())
            );
            failed_write = true;
        }
        // stdin: the fixed text goes to stdout, findings to stderr.
        let mut stdout = std::io::stdout().lock();
        for r in reports.iter().filter(|r| r.path.is_none()) {
            if let Some(fixed) = &r.fixed {
                let _ = stdout.write_all(fixed.as_bytes());
            }
        }
        let _ = stdout.flush();
    }
    if args.fix_only {
        // What is left is neither reported nor failed on; errors are.
        for r in &mut reports {
            r.diagnostics.retain(|d| d.is_file_error());
        }
    }
    let stdin_fixed = stdin_mode && fix && reports.iter().any(|r| r.fixed.is_some());
    let findings_to_stderr = stdin_fixed && !to_file;
    if !args.diff {
        let is_terminal = !to_file
            && if findings_to_stderr {
                std::io::stderr().is_terminal()
            } else {
                std::io::stdout().is_terminal()
            };
        let options = RenderOptions {
            color: color_for(args.color, is_terminal),
            fixing: fix,
            unsafe_fixes: args.unsafe_fixes,
            width: terminal_width(is_terminal),
            pretty: args.pretty,
        };
        out = if args.statistics && args.format == Format::Json {
            report::statistics_json(&reports)
        } else if args.statistics {
            report::statistics(&reports)
        } else if args.format == Format::GithubReview {
            report::github_review::render(&reports, run.change(), args.unsafe_fixes)
        } else {
            report::render(args.format, &reports, &options)
        };
        if args.quiet && matches!(args.format, Format::Human | Format::Concise) && !args.statistics
        {
            let summary = report::summary(&reports, &options);
            if let Some(body) = out.strip_suffix(&summary) {
                out.truncate(body.len());
            }
        }
        if args.show_fixes && fix && talk {
            out.push_str(&report::show_fixes(&reports));
        }
    } else if talk {
        eprint!("{}", report::diff_summary(&reports, args.unsafe_fixes));
    }
    if !args.silent {
        if findings_to_stderr {
            eprint!("{out}");
        } else if let Err(e) = emit(args.output_file.as_deref(), &out) {
            return usage_error(&e);
        }
    }
    ExitCode::from(run.exit_code(&reports, failed_write))
}

/// Print to stdout, or write `-o FILE`.
fn emit(file: Option<&Path>, text: &str) -> Result<(), String> {
    match file {
        Some(path) => {
            // Never through a committed link that leads outside the repository.
            crate::write::write_file(path, &crate::write::root_of(path), text.as_bytes())
                .map_err(|e| format!("cannot write {}: {e}", path.display()))
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(text.as_bytes());
            let _ = stdout.flush();
            Ok(())
        }
    }
}

/// A progress bar on stderr for long runs: only on a terminal, only once a
/// run has taken half a second, never for machine formats.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn start(len: usize, wanted: bool) -> Progress {
        if !wanted || !std::io::stderr().is_terminal() {
            return Progress { bar: None };
        }
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(len as u64),
            indicatif::ProgressDrawTarget::hidden(),
        );
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} checking {pos}/{len} files {wide_bar}",
        ) {
            bar.set_style(style);
        }
        let later = bar.clone();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(500));
            if !later.is_finished() {
                later.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            }
        });
        Progress { bar: Some(bar) }
    }

    fn tick(&self) {
        if let Some(b) = &self.bar {
            b.inc(1);
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }

    /// Print without tearing the bar.
    fn suspend<T>(&self, f: impl FnOnce() -> T) -> T {
        match &self.bar {
            Some(b) => b.suspend(f),
            None => f(),
        }
    }
}

fn sites(args: SitesArgs) -> ExitCode {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths
    };
    let targets = discover::discover(&paths);
    let results: Vec<_> = targets
        .par_iter()
        .map(|t| {
            let found = refit_run::file_sites(
                &t.path,
                t.kind,
                &Settings::default(),
                crate::workspace::Workspace::shared(),
                |_| {},
            )
            .map(|f| (f.text, f.extraction.sites));
            (t, found)
        })
        .collect();
    let mut failed = false;
    let mut json = Vec::new();
    for (t, found) in results {
        match found {
            Err(e) => {
                failed = true;
                eprintln!("{}: {}", terminal(&t.display), terminal(&e));
            }
            Ok((text, sites)) => {
                let index = crate::diagnostic::LineIndex::new(&text);
                for s in sites {
                    let at = index.position(&text, s.span.start);
                    let unresolved = match &s.value {
                        crate::site::SiteValue::Unresolved { missing } => Some(missing.clone()),
                        _ => None,
                    };
                    let value = match &s.value {
                        crate::site::SiteValue::Resolved { text, .. } => text.clone(),
                        // The text as written; the variables it needs follow.
                        crate::site::SiteValue::Unresolved { missing } => {
                            format!("{} (unresolved: {})", s.raw, missing.join(", "))
                        }
                        crate::site::SiteValue::Mirror(m) => {
                            format!("{} (mirror of {})", m.written, m.upstream_label())
                        }
                    };
                    let mirror = s.mirror().map(|m| {
                        serde_json::json!({
                            "written": m.written,
                            "host": m.host,
                            "path": m.path,
                            "upstream": m.upstream,
                            "format": m.format.label(),
                        })
                    });
                    // A tag YAML reads as a number is not the string the
                    // consumer gets (kustomize refuses it), as `check`'s
                    // TAG005 says: listed, but marked.
                    let numeric: Vec<&str> = s
                        .extra
                        .numeric_tags
                        .iter()
                        .map(|slot| slot.value.as_str())
                        .collect();
                    if args.format == ListFormat::Text {
                        let mark = match numeric.first() {
                            None => String::new(),
                            Some(n) if s.kind == crate::site::SiteKind::Kustomize => {
                                format!(" [tag `{n}` is a YAML number: kustomize refuses it]")
                            }
                            Some(n) => format!(" [tag `{n}` is a YAML number]"),
                        };
                        println!(
                            "{}:{}:{}: {} {}{}{}",
                            t.display,
                            at.line,
                            at.column,
                            s.kind.label(),
                            value,
                            s.path
                                .as_deref()
                                .map(|p| format!(" ({p})"))
                                .unwrap_or_default(),
                            mark
                        );
                    }
                    json.push(serde_json::json!({
                        "path": t.display,
                        "kind": t.kind.as_str(),
                        "site": s.kind.label(),
                        "line": at.line,
                        "column": at.column,
                        "raw": s.raw,
                        "reference": if mirror.is_some() || unresolved.is_some() { None } else { Some(value) },
                        "unresolved": unresolved,
                        "mirror": mirror,
                        "yaml_path": s.path,
                        "numeric_tags": numeric,
                    }));
                }
            }
        }
    }
    if args.format == ListFormat::Json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json).unwrap_or_default()
        );
    }
    ExitCode::from(if failed { 2 } else { 0 })
}

/// `refit inventory`: exit 0, 1 when a reference is unresolved or a tag
/// did not resolve, 2 when a file could not be read.
fn inventory(args: &InventoryArgs) -> ExitCode {
    use crate::inventory::{self, Format as F};
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let mut settings = Settings::default();
    match (
        parse_build_args(&args.build_args),
        parse_build_args(&args.env),
    ) {
        (Ok(build_args), Ok(env)) => {
            settings.build_args = build_args;
            settings.env = env;
        }
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("refit: {}", terminal(&e));
            return ExitCode::from(2);
        }
    }
    let mut inv = inventory::collect(&paths, &settings, crate::workspace::Workspace::shared());
    if args.resolve {
        match crate::online::cli::resolver(&args.online, &args.config) {
            Ok(resolver) => inventory::resolve(&mut inv, &resolver),
            Err(e) => {
                eprintln!("refit: {}", terminal(&e));
                return ExitCode::from(2);
            }
        }
    }
    let format = match args.format {
        InventoryFormat::Plain => F::Plain,
        InventoryFormat::Json => F::Json,
        InventoryFormat::Csv => F::Csv,
        InventoryFormat::SkopeoSync => F::SkopeoSync,
        InventoryFormat::Hauler => F::Hauler,
        InventoryFormat::Zarf => F::Zarf,
        InventoryFormat::OcMirror => F::OcMirror,
    };
    print!("{}", inventory::render(&inv, format, &args.name));
    for (file, message) in &inv.errors {
        eprintln!("{}: {}", terminal(file), terminal(message));
    }
    // The formats other than JSON and CSV have no place for these: said on
    // stderr, never dropped.
    if !matches!(format, F::Json | F::Csv) {
        for u in &inv.unresolved {
            eprintln!(
                "{}:{}:{}: unresolved {} `{}`: {}",
                terminal(&u.file),
                u.line,
                u.column,
                u.kind,
                terminal(&u.raw),
                terminal(&u.reason)
            );
        }
    }
    let mut failed_resolve = false;
    for image in &inv.images {
        if let Some(e) = &image.resolve_error {
            failed_resolve = true;
            eprintln!("{}: not resolved: {}", image.reference, terminal(e));
        }
    }
    ExitCode::from(if !inv.errors.is_empty() {
        2
    } else if failed_resolve || !inv.unresolved.is_empty() {
        1
    } else {
        0
    })
}

fn reference(args: ReferenceArgs) -> ExitCode {
    let mut any_error = false;
    let mut json = Vec::new();
    for input in &args.references {
        match Reference::parse_normalized(input) {
            Ok(r) => {
                let value = serde_json::json!({
                    "input": input,
                    "valid": true,
                    "domain": r.domain_str(),
                    "path": r.path_str(),
                    "tag": r.tag_str(),
                    "digest": r.digest_str(),
                    "normalized_domain": r.normalized_domain(),
                    "normalized_path": r.normalized_path(),
                    "normalized": r.normalized(),
                    "familiar": r.familiar(),
                    "note": domain_note(&r),
                    "spans": {
                        "domain": r.domain,
                        "path": r.path,
                        "tag": r.tag,
                        "digest": r.digest,
                    },
                });
                if args.format == ListFormat::Text {
                    println!("{input}");
                    println!("  domain:     {}", r.domain_str().unwrap_or("(none)"));
                    println!("  path:       {}", r.path_str());
                    println!("  tag:        {}", r.tag_str().unwrap_or("(none)"));
                    println!("  digest:     {}", r.digest_str().unwrap_or("(none)"));
                    println!("  normalized: {}", r.normalized());
                    println!("  familiar:   {}", r.familiar());
                    if let Some(note) = domain_note(&r) {
                        println!("  note:       {note}");
                    }
                }
                json.push(value);
            }
            Err(e) => {
                any_error = true;
                let why = crate::reference::explain(input);
                if args.format == ListFormat::Text {
                    println!("{input}");
                    println!("  error:      {e}");
                    if let Some(why) = &why {
                        println!("  why:        {why}");
                    }
                }
                json.push(serde_json::json!({
                    "input": input,
                    "valid": false,
                    "error": e.to_string(),
                    "why": why,
                }));
            }
        }
    }
    if args.format == ListFormat::Json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json).unwrap_or_default()
        );
    }
    ExitCode::from(u8::from(any_error))
}

/// A first component read as a registry host only because it has an
/// uppercase letter (Docker's rule), which is rarely what was meant.
fn domain_note(r: &Reference) -> Option<String> {
    let domain = r.domain_str()?;
    if domain.contains(['.', ':']) || domain == "localhost" || domain.to_lowercase() == domain {
        return None;
    }
    Some(format!(
        "`{domain}` is read as a registry host because it has an uppercase letter; a Docker Hub namespace must be lowercase (`{}/{}`)",
        domain.to_lowercase(),
        r.path_str()
    ))
}

/// Markdown for a terminal: headings bold, code blocks indented and dim.
fn render_markdown(text: &str, color: bool) -> String {
    if !color {
        return text.to_string();
    }
    let mut out = String::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            out.push_str(&format!("    \x1b[2m{line}\x1b[0m\n"));
        } else if let Some(h) = line.strip_prefix("# ").or_else(|| line.strip_prefix("## ")) {
            out.push_str(&format!("\x1b[1;4m{h}\x1b[0m\n"));
        } else {
            // Inline code in cyan.
            let mut styled = String::new();
            for (i, part) in line.split('`').enumerate() {
                if i % 2 == 1 {
                    styled.push_str(&format!("\x1b[36m{part}\x1b[0m"));
                } else {
                    styled.push_str(part);
                }
            }
            out.push_str(&styled);
            out.push('\n');
        }
    }
    out
}

fn rule(code: &str) -> ExitCode {
    if let Some(rule) = rules::find(code) {
        print!(
            "{}",
            render_markdown(&rule.page(), color_enabled(std::io::stdout().is_terminal()))
        );
        return ExitCode::SUCCESS;
    }
    if let Some((c, name, doc)) = crate::diagnostic::FILE_ERRORS
        .iter()
        .find(|(c, n, _)| c.eq_ignore_ascii_case(code) || *n == code)
    {
        println!("# {name} ({c})\n\nA per-file error.\n\n{doc}");
        return ExitCode::SUCCESS;
    }
    let near = crate::config::suggest_rule(code)
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default();
    usage_error(&format!(
        "unknown rule `{}`{near}; `refit rules` lists them",
        terminal(code)
    ))
}

/// `refit rule --all`: every rule's page, then the per-file errors, for
/// tools that build documentation sites.
fn all_rules() -> ExitCode {
    let color = color_enabled(std::io::stdout().is_terminal());
    let mut pages: Vec<String> = rules::all().iter().map(|r| r.page()).collect();
    for (c, name, doc) in crate::diagnostic::FILE_ERRORS {
        pages.push(format!("# {name} ({c})\n\nA per-file error.\n\n{doc}\n"));
    }
    print!("{}", render_markdown(&pages.join("\n"), color));
    ExitCode::SUCCESS
}

fn list_rules(format: ListFormat) -> ExitCode {
    match format {
        ListFormat::Text => {
            // Each column as wide as its longest entry, so none is cut or
            // pushed out of line by a long name.
            let all = rules::all();
            let width =
                |f: &dyn Fn(&rules::Rule) -> usize| all.iter().map(|r| f(r)).max().unwrap_or(0);
            let code = width(&|r| r.code.len());
            let name = width(&|r| r.name.len());
            let severity = width(&|r| r.severity.as_str().len());
            let fix = width(&|r| r.fixability.as_str().len());
            for r in all {
                println!(
                    "{:<code$} {:<name$} {:<severity$} fix:{:<fix$} {}{}{}",
                    r.code,
                    r.name,
                    r.severity.as_str(),
                    r.fixability.as_str(),
                    r.summary,
                    if r.opt_in { " (opt-in)" } else { "" },
                    if r.online() { " (needs --online)" } else { "" }
                );
            }
        }
        ListFormat::Json => {
            let list: Vec<_> = rules::all()
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "code": r.code,
                        "name": r.name,
                        "severity": r.severity.as_str(),
                        "fix": r.fixability.as_str(),
                        "summary": r.summary,
                        "opt_in": r.opt_in,
                        "online": r.online(),
                        "documentation": r.documentation(),
                        "page": r.page(),
                    })
                })
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&list).unwrap_or_default()
            );
        }
    }
    ExitCode::SUCCESS
}
