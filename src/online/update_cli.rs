//! The command-line side of `refit update`: arguments, the exit code, and
//! printing the proposals as a diff, text or JSON.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use super::cli::{OnlineArgs, print_stats, resolver};
use super::lock::{LOCK_FILE, Lock};
use super::resolve::cache_dir;
use super::update::{Policy, Status, TagCache, UpdateOptions, UpdateOutcome, human, record_seen};
use crate::args::ConfigArgs;
use crate::discover::Target;
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum UpdateFormat {
    /// A unified diff of the proposed edits (the default).
    Diff,
    /// One line per reference: what it becomes, or why not.
    #[value(name = "human", alias = "text")]
    Human,
    /// Every reference as JSON: file, line, from, to, age and its source,
    /// the reason one was skipped.
    Json,
}

#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    /// Files or folders (default: `.`).
    pub paths: Vec<PathBuf>,
    /// Write the updates (as `--fix` writes: atomically, owner and mode
    /// kept, nothing outside the edits, re-read before writing).
    #[arg(long)]
    pub write: bool,
    #[arg(long, value_enum, default_value = "diff")]
    pub format: UpdateFormat,
    /// Create the lock file when it does not exist, to keep first-seen
    /// times for `min-age` (an existing one is always kept up to date).
    #[arg(long)]
    pub lock: bool,
    /// The lock file (default: `refit.lock` in the current folder).
    #[arg(long, value_name = "PATH")]
    pub lock_file: Option<PathBuf>,
    /// Tags asked per page of a registry's tag list.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub page_size: usize,
    #[command(flatten)]
    pub online: OnlineArgs,
    #[command(flatten, next_help_heading = "Configuration")]
    pub config: ConfigArgs,
}

/// Each target with the `[update]` policy of its configuration (the
/// nearest `refit.toml`, as `refit check` finds it), compiled once per
/// configuration.
fn with_policies(
    targets: Vec<Target>,
    config: &ConfigArgs,
) -> Result<Vec<(Target, Arc<Policy>)>, String> {
    let resolver = crate::config::Resolver::new(config.config.as_deref(), config.isolated)
        .map_err(|e| e.to_string())?;
    let mut compiled: HashMap<Vec<PathBuf>, Arc<Policy>> = HashMap::new();
    let mut out = Vec::with_capacity(targets.len());
    for t in targets {
        let config = resolver.for_file(&t.path).map_err(|e| e.to_string())?;
        let sources = config
            .as_ref()
            .map(|c| c.sources.clone())
            .unwrap_or_default();
        let policy = match compiled.get(&sources) {
            Some(p) => p.clone(),
            None => {
                let p = Policy::from_config(config.as_ref().and_then(|c| c.raw.update.as_ref()))
                    .map_err(|e| match sources.first() {
                        Some(file) => format!("{}: {e}", file.display()),
                        None => e,
                    })?;
                let p = Arc::new(p);
                compiled.insert(sources, p.clone());
                p
            }
        };
        out.push((t, policy));
    }
    Ok(out)
}

/// `refit update`. Exit 0: nothing to update, or every update written;
/// 1: updates proposed and not written; 2: an error (a registry that did
/// not answer, a file refit would not write, a bad configuration).
pub fn update(args: UpdateArgs) -> ExitCode {
    let fail = |e: String| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    };
    let resolver = match resolver(&args.online, &args.config) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let run = match crate::run::Run::new(crate::run::RunOptions {
        paths: args.paths.clone(),
        config: args.config.config.clone(),
        isolated: args.config.isolated,
        ..Default::default()
    }) {
        Ok(r) => r,
        Err(e) => return fail(e.to_string()),
    };
    let targets = match with_policies(run.targets(), &args.config) {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    let lock_path = args
        .lock_file
        .clone()
        .unwrap_or_else(|| PathBuf::from(LOCK_FILE));
    let lock = if lock_path.exists() {
        match Lock::read(&lock_path) {
            Ok(l) => Some(l),
            Err(e) => return fail(e),
        }
    } else {
        None
    };
    let tag_cache = if args.online.no_cache {
        None
    } else {
        cache_dir().map(|d| TagCache::open(d, Duration::from_secs(args.online.cache_ttl)))
    };
    let options = UpdateOptions {
        page_size: args.page_size.max(1),
        lock: lock.clone(),
        tag_cache,
    };
    let mut outcome = super::update::plan(targets, &resolver, &options);
    if let Some(cache) = &resolver.cache
        && let Err(e) = cache.save()
    {
        eprintln!("warning: cannot write the digest cache: {e}");
    }
    if let Some(cache) = &options.tag_cache
        && let Err(e) = cache.save()
    {
        eprintln!("warning: cannot write the tag cache: {e}");
    }
    let write_errors = if args.write {
        super::update::write(&outcome)
    } else {
        Vec::new()
    };
    // A file that was not written reports its items as not updated: a
    // Compose file's items edited in the `.env` beside it share its fate.
    for (display, e) in &write_errors {
        let env_folder = display
            .strip_suffix(".env")
            .filter(|d| d.is_empty() || d.ends_with('/'));
        for f in &mut outcome.files {
            let same = f.display == *display;
            let through_env = env_folder.is_some_and(|folder| {
                f.display
                    .strip_prefix(folder)
                    .is_some_and(|n| !n.contains('/'))
                    && f.items
                        .iter()
                        .any(|i| i.notes.iter().any(|n| n.ends_with("in .env")))
            });
            if (same || through_env) && f.error.is_none() {
                f.error = Some(format!("not written: {e}"));
            }
        }
    }
    // First-seen times and what was verified (the pins read; the pins
    // written, once written): into an existing lock file, or a new one
    // with --lock.
    if lock.is_some() || args.lock {
        let mut lock = lock.unwrap_or_default();
        let added = record_seen(&mut lock, &outcome.seen);
        let mut records = outcome.verified_read.clone();
        if args.write && write_errors.is_empty() {
            records.extend(outcome.verified_written.iter().cloned());
        }
        let verified = !records.is_empty();
        lock.merge_verified(records);
        if (added || verified || args.lock)
            && let Err(e) = lock.write(&lock_path)
        {
            return fail(e);
        }
    }
    match args.format {
        UpdateFormat::Diff => {
            for f in &outcome.files {
                if let Some(fixed) = &f.fixed {
                    print!(
                        "{}",
                        crate::diff::unified_diff(&f.display, &f.original, fixed, false)
                    );
                }
            }
            print_problems(&outcome);
        }
        UpdateFormat::Human => print_text(&outcome, args.write),
        UpdateFormat::Json => println!("{}", json(&outcome, args.write)),
    }
    // The other formats name the file that was not written in its items.
    if matches!(args.format, UpdateFormat::Diff) {
        for (display, e) in &write_errors {
            eprintln!("error: cannot write {display}: {e}");
        }
    }
    if args.online.verbose {
        let repos = outcome
            .items()
            .map(|(_, i)| i.name.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        print_stats(&resolver, repos);
    }
    if outcome.failed() || !write_errors.is_empty() {
        ExitCode::from(2)
    } else if outcome.proposed() && !args.write {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn age_text(i: &super::update::Item) -> String {
    i.age
        .as_ref()
        .map(|s| {
            format!(
                ", {} old ({})",
                human(super::resolve::now().saturating_sub(s.at)),
                s.source.label()
            )
        })
        .unwrap_or_default()
}

/// After a diff: what was skipped or failed, on stderr.
fn print_problems(outcome: &UpdateOutcome) {
    for f in &outcome.files {
        if let Some(e) = &f.error {
            eprintln!("{}: error: {e}", f.display);
        }
        for i in &f.items {
            match &i.status {
                Status::Skipped(why) => {
                    eprintln!(
                        "{}:{}: {}: not updated: {why}",
                        f.display, i.line, i.written
                    )
                }
                Status::Failed(e) => {
                    eprintln!("{}:{}: {}: error: {e}", f.display, i.line, i.written)
                }
                _ => {}
            }
            for x in &i.findings {
                eprintln!(
                    "{}:{}: {}: {}: {}{}",
                    f.display,
                    i.line,
                    i.written,
                    x.code,
                    x.message,
                    if x.fixed {
                        " (repaired by this update)"
                    } else {
                        ""
                    }
                );
            }
        }
    }
}

fn print_text(outcome: &UpdateOutcome, written: bool) {
    for f in &outcome.files {
        if let Some(e) = &f.error {
            println!("{}: error: {e}", f.display);
        }
        for i in &f.items {
            let status = match (&i.status, &i.to) {
                (Status::Proposed, Some(to)) => {
                    let verb = if written && f.error.is_none() {
                        "updated to"
                    } else {
                        "would update to"
                    };
                    let level = i
                        .level
                        .map(|l| format!(" ({})", l.label()))
                        .unwrap_or_default();
                    let notes: String = i.notes.iter().map(|n| format!("; {n}")).collect();
                    format!("{verb} {to}{level}{}{notes}", age_text(i))
                }
                (Status::Skipped(why), _) => format!("not updated: {why}"),
                (Status::Failed(e), _) => format!("error: {e}"),
                _ if i.notes.is_empty() => "up to date".to_string(),
                _ => format!("up to date ({})", i.notes.join("; ")),
            };
            println!(
                "{}:{}: {} ({}): {status}",
                f.display, i.line, i.written, i.name
            );
            for x in &i.findings {
                println!(
                    "{}:{}: {} ({}): {}: {}{}",
                    f.display,
                    i.line,
                    i.written,
                    i.name,
                    x.code,
                    x.message,
                    if x.fixed {
                        " (repaired by this update)"
                    } else {
                        ""
                    }
                );
            }
        }
    }
}

fn json(outcome: &UpdateOutcome, written: bool) -> String {
    let items: Vec<serde_json::Value> = outcome
        .items()
        .map(|(f, i)| {
            let (status, reason) = match &i.status {
                Status::Proposed if written && f.error.is_none() => ("updated", None),
                Status::Proposed if f.error.is_some() => ("failed", f.error.clone()),
                Status::Proposed => ("proposed", None),
                Status::Current => ("current", None),
                Status::Skipped(why) => ("skipped", Some(why.clone())),
                Status::Failed(e) => ("failed", Some(e.to_string())),
            };
            serde_json::json!({
                "file": f.display,
                "line": i.line,
                "written": i.written,
                "name": i.name,
                "from": i.from,
                "to": i.to,
                "level": i.level.map(|l| l.label()),
                "digest": i.digest,
                "age": i.age.as_ref().map(|s| serde_json::json!({
                    "seconds": super::resolve::now().saturating_sub(s.at),
                    "since": super::lock::rfc3339(s.at),
                    "source": s.source,
                })),
                "status": status,
                "reason": reason,
                "notes": i.notes,
                "findings": i.findings.iter().map(|x| serde_json::json!({
                    "code": x.code,
                    "message": x.message,
                    "fixed": x.fixed,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({ "updates": items })).unwrap_or_default()
}
