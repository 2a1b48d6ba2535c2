//! The command-line side of the online commands (`refit pin`, `refit
//! registry status`): arguments, and printing what the library found.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use super::client::{Client, ClientOptions};
use super::lock::{LOCK_FILE, Lock};
use super::pin::{PinMode, PinOptions, PinOutcome, Status};
use super::resolve::{Cache, Resolver, cache_dir};
use crate::args::{ConfigArgs, ListFormat};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Options shared by every command that asks a registry.
#[derive(Debug, Clone, clap::Args)]
pub struct OnlineArgs {
    /// Neither read nor write refit's caches: the workspace cache that
    /// every check keeps in `.refit_cache/`, and the digest cache of
    /// `--online`.
    #[arg(long, help_heading = "Configuration")]
    pub no_cache: bool,
    /// How long a cached digest is trusted, in seconds.
    #[arg(long, default_value_t = 3600, value_name = "SECONDS")]
    pub cache_ttl: u64,
    /// Per-request timeout, in seconds.
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    pub timeout: u64,
    /// Retries on 429, 5xx and timeouts.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub retries: u32,
    /// Requests in flight per registry host.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub per_host: usize,
    /// References resolved at once.
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub jobs: usize,
    /// A deadline for the whole run, in seconds.
    #[arg(long, default_value_t = 120, value_name = "SECONDS")]
    pub deadline: u64,
    /// A Docker Hub mirror to try before Docker Hub (repeatable; adds to
    /// the config's `mirrors` of `[registries]`).
    #[arg(long = "mirror", value_name = "URL")]
    pub mirrors: Vec<String>,
    /// A host to speak plain HTTP to (repeatable; adds to the config's
    /// `insecure` of `[registries]`). Loopback hosts always may.
    #[arg(long = "insecure-registry", value_name = "HOST")]
    pub insecure: Vec<String>,
    /// Print request counts (GETs cost a pull on Docker Hub).
    #[arg(short, long)]
    pub verbose: bool,
}

#[derive(Debug, clap::Args)]
pub struct PinArgs {
    /// Files or folders (default: `.`).
    pub paths: Vec<PathBuf>,
    /// Write nothing; exit 1 when a reference is unpinned or a pin is stale.
    #[arg(long, conflicts_with_all = ["update", "lock"])]
    pub check: bool,
    /// Also refresh stale pins.
    #[arg(long)]
    pub update: bool,
    /// Show what would change; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the edits as a unified diff; write nothing.
    #[arg(long)]
    pub diff: bool,
    /// Write only the lock file (`refit.lock`), not the files.
    #[arg(long)]
    pub lock: bool,
    /// The lock file to write (default: `refit.lock` in the current folder).
    #[arg(long, value_name = "PATH")]
    pub lock_file: Option<PathBuf>,
    /// Pin one platform's manifest (`linux/arm64`) instead of the index.
    #[arg(long)]
    pub platform: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: ListFormat,
    #[command(flatten)]
    pub online: OnlineArgs,
    #[command(flatten, next_help_heading = "Configuration")]
    pub config: ConfigArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum RegistryCommand {
    /// Reachability, credentials, Docker Hub's rate limit and mirrors.
    Status {
        /// Registries (default: `docker.io`).
        registries: Vec<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: ListFormat,
        #[command(flatten)]
        online: OnlineArgs,
        #[command(flatten, next_help_heading = "Configuration")]
        config: ConfigArgs,
    },
}

/// The client options from the command line and the config for `.`.
pub fn client_options(args: &OnlineArgs, config: &ConfigArgs) -> Result<ClientOptions, String> {
    let resolver = crate::config::Resolver::new(config.config.as_deref(), config.isolated)
        .map_err(|e| e.to_string())?;
    let config = resolver
        .for_file(Path::new("./refit.toml"))
        .map_err(|e| e.to_string())?;
    let registries = config.as_ref().and_then(|c| c.raw.registries.clone());
    let mut insecure = registries
        .as_ref()
        .and_then(|r| r.insecure.clone())
        .unwrap_or_default();
    insecure.extend(args.insecure.iter().cloned());
    let mut mirrors = registries
        .as_ref()
        .and_then(|r| r.mirrors.clone())
        .unwrap_or_default();
    mirrors.extend(args.mirrors.iter().cloned());
    Ok(ClientOptions {
        timeout: Duration::from_secs(args.timeout.max(1)),
        retries: args.retries.min(10),
        per_host: args.per_host.max(1),
        deadline: Some(Instant::now() + Duration::from_secs(args.deadline.max(1))),
        insecure,
        hub_mirrors: mirrors,
        credentials: super::auth::Store::from_env(),
        hub_url: std::env::var("REFIT_DOCKER_HUB")
            .ok()
            .filter(|u| !u.is_empty()),
        ..ClientOptions::default()
    })
}

pub fn resolver(args: &OnlineArgs, config: &ConfigArgs) -> Result<Resolver, String> {
    let options = client_options(args, config)?;
    let cache = if args.no_cache {
        None
    } else {
        cache_dir().map(|d| Cache::open(d, Duration::from_secs(args.cache_ttl)))
    };
    Ok(Resolver {
        client: Client::new(options),
        cache,
        workers: args.jobs.max(1),
        revalidate: false,
    })
}

pub fn print_stats(resolver: &Resolver, distinct: usize) {
    let s = &resolver.client.stats;
    eprintln!(
        "requests: {} HEAD, {} GET (a GET costs a pull on Docker Hub), {} token, {} retries; {} distinct references",
        s.heads.load(Ordering::Relaxed),
        s.gets.load(Ordering::Relaxed),
        s.tokens.load(Ordering::Relaxed),
        s.retries.load(Ordering::Relaxed),
        distinct
    );
}

fn short(digest: &str) -> &str {
    digest.get(..19).unwrap_or(digest)
}

pub fn pin(args: PinArgs) -> ExitCode {
    let resolver = match resolver(&args.online, &args.config) {
        Ok(r) => Resolver {
            // Whether a tag moved is the question: the cache cannot answer.
            revalidate: args.check || args.update,
            ..r
        },
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // The files `refit check` would read (config `include`, `exclude`, `kinds`).
    let run = match crate::run::Run::new(crate::run::RunOptions {
        paths: args.paths.clone(),
        config: args.config.config.clone(),
        isolated: args.config.isolated,
        ..Default::default()
    }) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let targets = run.targets();
    let mode = if args.check {
        PinMode::Check
    } else if args.update {
        PinMode::Update
    } else {
        PinMode::Pin
    };
    let options = PinOptions {
        mode,
        platform: args.platform.clone(),
        detailed: args.lock,
    };
    let outcome = super::pin::plan(targets, &resolver, &options);
    if let Some(cache) = &resolver.cache
        && let Err(e) = cache.save()
    {
        eprintln!("warning: cannot write the digest cache: {e}");
    }
    let write_files = !(args.check || args.dry_run || args.diff || args.lock);
    let mut write_errors = Vec::new();
    if write_files {
        write_errors = super::pin::write(&outcome);
    }
    if args.lock && !args.dry_run && !args.diff {
        let path = args
            .lock_file
            .clone()
            .unwrap_or_else(|| PathBuf::from(LOCK_FILE));
        let existing = Lock::read(&path).ok();
        let mut lock = super::pin::lock_with(existing, &outcome.entries);
        lock.merge_verified(outcome.verified.iter().cloned());
        if let Err(e) = lock.write(&path) {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    }
    if args.diff {
        for f in &outcome.files {
            if let Some(fixed) = &f.fixed {
                print!(
                    "{}",
                    crate::diff::unified_diff(&f.display, &f.original, fixed, false)
                );
            }
        }
    } else if args.format == ListFormat::Json {
        println!("{}", json(&outcome));
    } else {
        print_text(&outcome, write_files, args.lock);
    }
    for (display, e) in &write_errors {
        eprintln!("error: cannot write {display}: {e}");
    }
    if args.online.verbose {
        print_stats(&resolver, outcome.entries.len());
    }
    if outcome.failed() || !write_errors.is_empty() {
        ExitCode::from(2)
    } else if args.check && outcome.needs_work() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn status_text(status: &Status, written: bool) -> String {
    match status {
        Status::Pinned { digest } if written => format!("pinned {digest}"),
        Status::Pinned { digest } => format!("would pin {digest}"),
        Status::Current => "up to date".to_string(),
        Status::Stale { old, new, updated } => {
            if *updated && written {
                format!("stale pin {} updated to {new}", short(old))
            } else if *updated {
                format!("stale pin {}, would update to {new}", short(old))
            } else {
                format!("stale pin {old} (the tag is now {new}; use --update)")
            }
        }
        Status::Unpinned { digest } => format!("unpinned (the tag is {digest})"),
        Status::Vanished { old, new, updated } => {
            let gone = format!("REF006: pinned digest {} is no longer served", short(old));
            match new {
                Some(new) if *updated && written => format!("{gone}; re-pinned to {new}"),
                Some(new) if *updated => format!("{gone}; would re-pin to {new}"),
                Some(new) => format!("{gone} (the tag is now {new}; use --update)"),
                None => format!("{gone}, and there is no tag to re-pin to"),
            }
        }
        Status::PlatformPin { index, updated, .. } => {
            let what = "REF007: the pin is this platform's manifest of the multi-platform index the tag points to";
            if *updated && written {
                format!("{what}; pinned the index {index}")
            } else if *updated {
                format!("{what}; would pin the index {index}")
            } else {
                format!("{what} ({index}; use --update to pin it)")
            }
        }
        Status::Skipped(why) => format!("not pinned: {why}"),
        Status::Failed(e) => format!("error: {e}"),
    }
}

fn print_text(outcome: &PinOutcome, written: bool, lock: bool) {
    for f in &outcome.files {
        if let Some(e) = &f.error {
            println!("{}: error: {e}", f.display);
        }
        for i in &f.items {
            let platform = i
                .platform
                .as_ref()
                .map(|p| format!(" [{p}]"))
                .unwrap_or_default();
            let status = if lock {
                match &i.status {
                    Status::Pinned { digest } => format!("locked {digest}"),
                    other => status_text(other, false),
                }
            } else {
                status_text(&i.status, written && f.error.is_none())
            };
            let via = i
                .host
                .as_ref()
                .filter(|h| !i.reference.starts_with(&format!("{h}/")))
                .map(|h| format!(" via {h}"))
                .unwrap_or_default();
            let cached = if i.from_cache {
                " (from the digest cache; the registry was not asked)"
            } else {
                ""
            };
            println!(
                "{}:{}: {} ({}{via}){platform}: {status}{cached}",
                f.display, i.line, i.written, i.reference
            );
            for m in &i.missing_platforms {
                println!("{}:{}: {}: REF009: {m}", f.display, i.line, i.written);
            }
        }
    }
}

fn json(outcome: &PinOutcome) -> String {
    let items: Vec<serde_json::Value> = outcome
        .items()
        .map(|(f, i)| {
            let (status, digest, old, error) = match &i.status {
                Status::Pinned { digest } => ("pinned", Some(digest.clone()), None, None),
                Status::Current => ("current", None, None, None),
                Status::Stale { old, new, updated } => (
                    if *updated { "updated" } else { "stale" },
                    Some(new.clone()),
                    Some(old.clone()),
                    None,
                ),
                Status::Unpinned { digest } => ("unpinned", Some(digest.clone()), None, None),
                Status::Vanished { old, new, .. } => {
                    ("vanished", new.clone(), Some(old.clone()), None)
                }
                Status::PlatformPin {
                    old,
                    index,
                    updated,
                    ..
                } => (
                    if *updated {
                        "updated"
                    } else {
                        "platform-manifest"
                    },
                    Some(index.clone()),
                    Some(old.clone()),
                    None,
                ),
                Status::Skipped(why) => ("skipped", None, None, Some(why.clone())),
                Status::Failed(e) => ("failed", None, None, Some(e.to_string())),
            };
            serde_json::json!({
                "file": f.display,
                "line": i.line,
                "written": i.written,
                "reference": i.reference,
                "status": status,
                "digest": digest,
                "old": old,
                "platform": i.platform,
                "host": i.host,
                "error": error,
                "from_cache": i.from_cache,
                "missing_platforms": i.missing_platforms,
            })
        })
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({ "references": items })).unwrap_or_default()
}

pub fn registry(command: RegistryCommand) -> ExitCode {
    let RegistryCommand::Status {
        registries,
        format,
        online,
        config,
    } = command;
    let options = match client_options(&online, &config) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let client = Client::new(options);
    let registries = if registries.is_empty() {
        vec!["docker.io".to_string()]
    } else {
        registries
    };
    let reports: Vec<_> = registries
        .iter()
        .map(|r| super::status::registry_status(&client, r))
        .collect();
    if format == ListFormat::Json {
        println!(
            "{}",
            serde_json::to_string_pretty(&reports).unwrap_or_default()
        );
    } else {
        for r in &reports {
            println!("{} ({})", r.registry, r.endpoint);
            match (&r.status, &r.error) {
                (Some(s), _) => println!(
                    "  reachable: yes (/v2/ answered {s} in {} ms)",
                    r.rtt_ms.unwrap_or(0)
                ),
                (None, Some(e)) => println!("  reachable: no ({e})"),
                (None, None) => println!("  reachable: no"),
            }
            println!(
                "  credentials: {}",
                r.credential.as_deref().unwrap_or("none (anonymous)")
            );
            let rl = &r.ratelimit;
            if rl.limit.is_some() || rl.remaining.is_some() || rl.source.is_some() {
                println!(
                    "  rate limit: ratelimit-limit={} ratelimit-remaining={} docker-ratelimit-source={}",
                    rl.limit.as_deref().unwrap_or("-"),
                    rl.remaining.as_deref().unwrap_or("-"),
                    rl.source.as_deref().unwrap_or("-")
                );
            } else {
                println!("  rate limit: no ratelimit headers");
            }
            if r.mirrors.is_empty() {
                println!("  mirrors: none configured");
            }
            for m in &r.mirrors {
                println!("  mirror {}: {}", m.mirror, m.state.describe());
            }
        }
    }
    if online.verbose {
        let s = &client.stats;
        eprintln!(
            "requests: {} HEAD, {} GET, {} token, {} retries",
            s.heads.load(Ordering::Relaxed),
            s.gets.load(Ordering::Relaxed),
            s.tokens.load(Ordering::Relaxed),
            s.retries.load(Ordering::Relaxed)
        );
    }
    if reports.iter().any(|r| !r.reachable) {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

/// `refit check --online`: add the registries' findings to the reports.
/// With `writes` (`--fix`, which writes the files), the digests seen for
/// the first time and what was verified go into an existing `refit.lock`
/// (as `refit update` keeps it). Returns notes to print (how many digests
/// were seen for the first time and not recorded); `Err` is a usage error
/// to print.
pub fn check_online(
    reports: &mut [crate::engine::FileReport],
    args: &OnlineArgs,
    config: &ConfigArgs,
    enabled: &dyn Fn(&str) -> bool,
    mode: crate::engine::FixMode,
    writes: bool,
) -> Result<Vec<String>, String> {
    let resolver = resolver(args, config)?;
    let seen = super::check::add_findings(reports, &resolver, enabled, mode);
    let notes = record_seen_by_check(&seen, Path::new(LOCK_FILE), writes);
    if let Some(cache) = &resolver.cache
        && let Err(e) = cache.save()
    {
        eprintln!("warning: cannot write the digest cache: {e}");
    }
    if args.verbose {
        let s = &resolver.client.stats;
        eprintln!(
            "requests: {} HEAD, {} GET (a GET costs a pull on Docker Hub), {} token, {} retries",
            s.heads.load(Ordering::Relaxed),
            s.gets.load(Ordering::Relaxed),
            s.tokens.load(Ordering::Relaxed),
            s.retries.load(Ordering::Relaxed),
        );
    }
    Ok(notes)
}

/// `check --online`'s first-seen times: written into the lock file at
/// `path` when the run `writes` and the lock exists; otherwise a note
/// says how many digests were seen for the first time and not recorded.
fn record_seen_by_check(seen: &super::check::Seen, path: &Path, writes: bool) -> Vec<String> {
    let lock = if path.exists() {
        match Lock::read(path) {
            Ok(l) => Some(l),
            Err(e) => return vec![format!("refit.lock not updated: {e}")],
        }
    } else {
        None
    };
    let new = seen
        .digests
        .iter()
        .filter(|d| lock.as_ref().and_then(|l| l.first_seen(d)).is_none())
        .count();
    match lock {
        Some(mut lock) if writes => {
            let added = super::update::record_seen(&mut lock, &seen.digests);
            let verified = !seen.verified.is_empty();
            lock.merge_verified(seen.verified.iter().cloned());
            if (added || verified)
                && let Err(e) = lock.write(path)
            {
                return vec![e];
            }
            Vec::new()
        }
        _ if new == 0 => Vec::new(),
        Some(_) => vec![format!(
            "{new} digest{} seen for the first time, not recorded in {} (`check --online` records first-seen times only with `--fix`; `refit update`'s `min-age` reads them)",
            if new == 1 { " was" } else { "s were" },
            path.display()
        )],
        None => vec![format!(
            "{new} digest{} seen for the first time, not recorded: there is no {} (create one with `refit update --lock` or `refit pin --lock` to keep first-seen times for `min-age`)",
            if new == 1 { " was" } else { "s were" },
            path.display()
        )],
    }
}
