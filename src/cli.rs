//! Command-line interface: the only part of refit that prints.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use crate::check::Settings;
use crate::discover::{self, classify_explicit};
use crate::engine::{self, DEFAULT_MAX_FILE_SIZE, FileReport, FixMode};
use crate::reference::Reference;
use crate::report::{self, Format, RenderOptions};
use crate::rules::{self, RULES};
use clap::{Parser, Subcommand, ValueEnum};
use rayon::prelude::*;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "refit",
    version,
    about = "Find every container image reference and make it safe"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check files for image-reference problems (and fix them).
    Check(CheckArgs),
    /// Show how refit reads image references.
    Reference(ReferenceArgs),
    /// List every image reference refit finds, without checking them.
    Sites(SitesArgs),
    /// Print a rule's documentation.
    Rule {
        /// A rule code (REG001) or name (implicit-registry).
        code: String,
    },
    /// List all rules.
    Rules {
        #[arg(long, value_enum, default_value = "text")]
        format: ListFormat,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Files or folders to check (default: `.`); `-` reads stdin.
    pub paths: Vec<PathBuf>,
    /// Apply safe fixes.
    #[arg(long)]
    pub fix: bool,
    /// Also apply (or show) unsafe fixes.
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// Print the fixes as a unified diff and write nothing.
    #[arg(long)]
    pub diff: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Rules to run: codes or prefixes (`REG`, `TAG001`), comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// Rules to skip: codes or prefixes, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Override a Dockerfile ARG: `NAME=VALUE` (or `NAME`, taken from the environment).
    #[arg(long = "build-arg", value_name = "NAME=VALUE")]
    pub build_args: Vec<String>,
    /// A value for Compose interpolation: `NAME=VALUE` (wins over `.env`).
    #[arg(long = "env", value_name = "NAME=VALUE")]
    pub env: Vec<String>,
    /// The file name to report (and classify) stdin as.
    #[arg(long)]
    pub stdin_filename: Option<PathBuf>,
    /// Files larger than this many bytes are reported (E003), not read.
    #[arg(long, default_value_t = DEFAULT_MAX_FILE_SIZE)]
    pub max_file_size: u64,
}

#[derive(Debug, clap::Args)]
pub struct SitesArgs {
    /// Files or folders (default: `.`).
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: ListFormat,
}

#[derive(Debug, clap::Args)]
pub struct ReferenceArgs {
    /// References to explain.
    #[arg(required = true)]
    pub references: Vec<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: ListFormat,
}

/// Exit codes: 0 nothing left to report, 1 findings remain, 2 usage or
/// per-file errors.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match cli.command {
        Command::Check(args) => check(args),
        Command::Reference(args) => reference(args),
        Command::Sites(args) => sites(args),
        Command::Rule { code } => rule(&code),
        Command::Rules { format } => list_rules(format),
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

fn color_enabled(stream_is_terminal: bool) -> bool {
    stream_is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
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

fn check(args: CheckArgs) -> ExitCode {
    let build_args = match parse_build_args(&args.build_args) {
        Ok(b) => b,
        Err(e) => return usage_error(&e),
    };
    let env = match parse_build_args(&args.env) {
        Ok(b) => b,
        Err(e) => return usage_error(&e.replace("--build-arg", "--env")),
    };
    for code in args.select.iter().chain(&args.ignore) {
        let known = code.eq_ignore_ascii_case("ALL")
            || RULES.iter().any(|r| {
                r.code
                    .get(..code.len())
                    .is_some_and(|p| p.eq_ignore_ascii_case(code))
            });
        if !known {
            return usage_error(&format!("unknown rule selector `{code}`"));
        }
    }
    let settings = Settings {
        select: args.select.clone(),
        ignore: args.ignore.clone(),
        source: crate::sources::SourceOptions {
            build_args,
            env,
            ..Default::default()
        },
    };
    let mode = if args.fix || args.diff {
        FixMode::On {
            unsafe_fixes: args.unsafe_fixes,
        }
    } else {
        FixMode::Off
    };
    let stdin_mode = args.paths.iter().any(|p| p.as_os_str() == "-");
    if stdin_mode && args.paths.len() > 1 {
        return usage_error("`-` (stdin) cannot be combined with other paths");
    }
    let reports: Vec<FileReport> = if stdin_mode {
        let name = args
            .stdin_filename
            .clone()
            .unwrap_or_else(|| PathBuf::from("-"));
        let mut bytes = Vec::new();
        let report = match std::io::stdin()
            .take(args.max_file_size + 1)
            .read_to_end(&mut bytes)
        {
            Err(e) => {
                let d = crate::check::file_error(
                    "E001",
                    format!("Cannot read stdin: {e}"),
                    crate::site::Span::default(),
                );
                single_error(&name, d)
            }
            Ok(_) if bytes.len() as u64 > args.max_file_size => single_error(
                &name,
                crate::check::file_error(
                    "E003",
                    format!(
                        "Input is over the {}-byte limit (--max-file-size)",
                        args.max_file_size
                    ),
                    crate::site::Span::default(),
                ),
            ),
            Ok(_) => match engine::decode(bytes) {
                Ok(text) => engine::process_text(
                    text,
                    &discover::display_path(&name),
                    None,
                    classify_explicit(&name),
                    &settings,
                    mode,
                ),
                Err(d) => single_error(&name, *d),
            },
        };
        vec![report]
    } else {
        let paths = if args.paths.is_empty() {
            vec![PathBuf::from(".")]
        } else {
            args.paths.clone()
        };
        let targets = discover::discover(&paths);
        targets
            .par_iter()
            .map(|t| {
                engine::process_path(
                    &t.path,
                    &t.display,
                    t.kind,
                    &settings,
                    args.max_file_size,
                    mode,
                )
            })
            .collect()
    };

    let mut stdout = std::io::stdout().lock();
    let mut failed_write = false;
    let mut would_change = false;
    if args.diff {
        let color = color_enabled(std::io::stdout().is_terminal());
        for r in &reports {
            if let (Some(old), Some(new)) = (&r.source, &r.fixed) {
                would_change = true;
                let _ = stdout.write_all(unified_diff(&r.display, old, new, color).as_bytes());
            }
        }
    } else if args.fix {
        for r in &reports {
            let Some(fixed) = &r.fixed else { continue };
            match &r.path {
                Some(path) => {
                    if let Err(e) = write_atomic(path, fixed) {
                        eprintln!("error: {}: cannot write the fixed file: {e}", r.display);
                        failed_write = true;
                    }
                }
                // stdin: the fixed text goes to stdout, findings to stderr.
                None => {
                    let _ = stdout.write_all(fixed.as_bytes());
                }
            }
        }
    }
    let stdin_fixed = stdin_mode && args.fix && reports.iter().any(|r| r.fixed.is_some());
    if !args.diff {
        let color = color_enabled(if stdin_fixed {
            std::io::stderr().is_terminal()
        } else {
            std::io::stdout().is_terminal()
        });
        let options = RenderOptions {
            color,
            fixing: args.fix,
            unsafe_fixes: args.unsafe_fixes,
        };
        let text = report::render(args.format, &reports, &options);
        if stdin_fixed {
            eprint!("{text}");
        } else {
            let _ = stdout.write_all(text.as_bytes());
        }
    } else {
        let fixes: usize = reports.iter().map(|r| r.applied.len()).sum();
        if fixes > 0 {
            eprintln!(
                "Would fix {fixes} problem{}.",
                if fixes == 1 { "" } else { "s" }
            );
        }
    }
    let _ = stdout.flush();

    let errors = failed_write || reports.iter().any(FileReport::has_error);
    if errors {
        return ExitCode::from(2);
    }
    let remaining = if args.diff {
        would_change
    } else {
        reports.iter().any(|r| !r.diagnostics.is_empty())
    };
    ExitCode::from(u8::from(remaining))
}

fn single_error(name: &Path, d: crate::diagnostic::Diagnostic) -> FileReport {
    FileReport {
        display: discover::display_path(name),
        path: None,
        kind: classify_explicit(name),
        source: None,
        diagnostics: vec![d],
        fixed: None,
        applied: Vec::new(),
    }
}

/// A unified diff of one file, coloured on a terminal.
pub fn unified_diff(display: &str, old: &str, new: &str, color: bool) -> String {
    let diff = similar::TextDiff::from_lines(old, new);
    let text = diff
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{display}"), &format!("b/{display}"))
        .to_string();
    if !color {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 256);
    for line in text.split_inclusive('\n') {
        let code = if line.starts_with("+++") || line.starts_with("---") {
            "1"
        } else if line.starts_with('+') {
            "32"
        } else if line.starts_with('-') {
            "31"
        } else if line.starts_with("@@") {
            "36"
        } else {
            ""
        };
        if code.is_empty() {
            out.push_str(line);
        } else {
            let body = line.strip_suffix('\n').unwrap_or(line);
            out.push_str(&format!("\x1b[{code}m{body}\x1b[0m"));
            if line.ends_with('\n') {
                out.push('\n');
            }
        }
    }
    out
}

/// Write through a temporary file in the same folder, then rename, keeping
/// the file's permissions. A symlink is followed so the link stays a link.
pub fn write_atomic(path: &Path, content: &str) -> std::io::Result<()> {
    let target = std::fs::canonicalize(path)?;
    let dir = target.parent().unwrap_or(Path::new("."));
    let permissions = std::fs::metadata(&target)?.permissions();
    let mut tmp = tempfile::Builder::new()
        .prefix(".refit-")
        .tempfile_in(dir)?;
    tmp.write_all(content.as_bytes())?;
    tmp.as_file().sync_all()?;
    std::fs::set_permissions(tmp.path(), permissions)?;
    tmp.persist(&target).map_err(|e| e.error)?;
    Ok(())
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
            let text = std::fs::read(&t.path)
                .map_err(|e| e.to_string())
                .and_then(|b| engine::decode(b).map_err(|d| d.message));
            let settings = Settings::default();
            let local = engine::local_settings(&t.path, t.kind, &settings).unwrap_or(settings);
            let found = text.and_then(|text| {
                crate::check::extract(t.kind, &text, &local)
                    .map(|sites| (text, sites))
                    .map_err(|d| d.message)
            });
            (t, found)
        })
        .collect();
    let mut failed = false;
    let mut json = Vec::new();
    for (t, found) in results {
        match found {
            Err(e) => {
                failed = true;
                eprintln!("{}: {e}", t.display);
            }
            Ok((text, sites)) => {
                let index = crate::diagnostic::LineIndex::new(&text);
                for s in sites {
                    let at = index.position(&text, s.span.start);
                    let value = match &s.value {
                        crate::site::SiteValue::Resolved { text, .. } => text.clone(),
                        crate::site::SiteValue::Unresolved { missing } => {
                            format!("(unresolved: {})", missing.join(", "))
                        }
                    };
                    if args.format == ListFormat::Text {
                        println!(
                            "{}:{}:{}: {} {}{}",
                            t.display,
                            at.line,
                            at.column,
                            s.kind.label(),
                            value,
                            s.path
                                .as_deref()
                                .map(|p| format!(" ({p})"))
                                .unwrap_or_default()
                        );
                    }
                    json.push(serde_json::json!({
                        "path": t.display,
                        "kind": t.kind.as_str(),
                        "site": s.kind.label(),
                        "line": at.line,
                        "column": at.column,
                        "raw": s.raw,
                        "reference": value,
                        "yaml_path": s.path,
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
                }
                json.push(value);
            }
            Err(e) => {
                any_error = true;
                if args.format == ListFormat::Text {
                    println!("{input}");
                    println!("  error:      {e}");
                }
                json.push(serde_json::json!({
                    "input": input,
                    "valid": false,
                    "error": e.to_string(),
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

fn rule(code: &str) -> ExitCode {
    if let Some(rule) = rules::find(code) {
        print!("{}", rule.page());
        return ExitCode::SUCCESS;
    }
    if let Some((c, name, doc)) = crate::diagnostic::FILE_ERRORS
        .iter()
        .find(|(c, n, _)| c.eq_ignore_ascii_case(code) || *n == code)
    {
        println!("# {name} ({c})\n\nA per-file error.\n\n{doc}");
        return ExitCode::SUCCESS;
    }
    usage_error(&format!("unknown rule `{code}`; `refit rules` lists them"))
}

fn list_rules(format: ListFormat) -> ExitCode {
    match format {
        ListFormat::Text => {
            for r in RULES {
                println!(
                    "{:<7} {:<24} {:<8} fix:{:<10} {}",
                    r.code,
                    r.name,
                    r.severity.as_str(),
                    r.fixability.as_str(),
                    r.summary
                );
            }
        }
        ListFormat::Json => {
            let list: Vec<_> = RULES
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "code": r.code,
                        "name": r.name,
                        "severity": r.severity.as_str(),
                        "fix": r.fixability.as_str(),
                        "summary": r.summary,
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
