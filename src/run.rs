//! One `refit check` run, without a process: settings for each file,
//! discovery, checking in parallel, writing fixes, `--add-ignore`, and the
//! exit status. The CLI fills a [`RunOptions`], calls these, and prints;
//! tests drive the same code directly.

use crate::kind::FileKind;

use crate::config::{ConfigError, Resolver};
use crate::discover::{self, Choice, Target, WalkError, classify_explicit};
use crate::engine::{self, DEFAULT_MAX_FILE_SIZE, FileReport, FixMode};
use crate::rules::RULES;
use crate::settings::Settings;
use crate::site::Span;
use crate::write::WriteError;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// A thread pool for writing fixed files.
fn write_pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(WRITE_THREADS)
            .thread_name(|i| format!("refit-write-{i}"))
            .build()
            .ok()
    })
    .as_ref()
}

/// Threads writing fixed files at once.
const WRITE_THREADS: usize = 16;

/// Files checked (and written) together; a run holds one chunk's reports.
const CHUNK: usize = 512;

/// What a run is asked to do: everything the command line says about it.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Files or folders (empty: `.`); a single `-` reads stdin.
    pub paths: Vec<PathBuf>,
    /// `paths` is a list given in full (`--files-from`): an empty list
    /// checks no file rather than `.`.
    pub paths_are_list: bool,
    /// Apply fixes (`--fix`).
    pub fix: bool,
    /// Also apply (or show) unsafe fixes.
    pub unsafe_fixes: bool,
    /// Compute fixes to show as a diff; write nothing.
    pub diff: bool,
    /// Compute every file's fixed text as a suggestion, without applying it
    /// (the `review` format).
    pub suggest: bool,
    /// Rule selectors from the command line.
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    pub extend_select: Vec<String>,
    /// Dockerfile `ARG` overrides.
    pub build_args: BTreeMap<String, String>,
    /// Compose interpolation values.
    pub env: BTreeMap<String, String>,
    /// The name stdin is reported (and classified) as.
    pub stdin_filename: Option<PathBuf>,
    /// `--max-file-size`; `None`: the config's, else the default.
    pub max_file_size: Option<u64>,
    /// One config file for every file (no discovery).
    pub config: Option<PathBuf>,
    /// Ignore every config file.
    pub isolated: bool,
    /// With `fix`, a changed file makes the run fail (exit 1).
    pub exit_non_zero_on_fix: bool,
    /// The lowest severity that fails the run; `None`: `warning`, so
    /// `info` findings never fail it.
    pub fail_level: Option<crate::diagnostic::Severity>,
    /// Findings never fail the run (exit 0); errors still exit 2.
    pub exit_zero: bool,
    /// Globs to leave out of a walk, replacing the config's `exclude`.
    pub exclude: Vec<String>,
    /// Globs to leave out of a walk, in addition.
    pub extend_exclude: Vec<String>,
    /// Apply the exclusions to files named on the command line too
    /// (`--force-exclude`; a pre-commit hook names every file).
    pub force_exclude: bool,
    /// `--diff-base`: only what changed since the merge base of this ref
    /// and `HEAD` (plus uncommitted changes).
    pub diff_base: Option<String>,
    /// `--diff-scope`: changed lines, or whole changed files.
    pub diff_scope: crate::gitdiff::DiffScope,
    /// `--diff-committed`: the change ends at `HEAD`, not the working tree.
    pub diff_end: crate::gitdiff::DiffEnd,
    /// `--baseline`: hide the findings this file records (else the
    /// config's `baseline`).
    pub baseline: Option<PathBuf>,
    /// `--online`: the online rules run (the caller adds their findings
    /// before `narrow`).
    pub online: bool,
    /// `--no-cache`: build the workspace from the files alone, and leave
    /// `.refit_cache/` as it is.
    pub no_cache: bool,
}

/// Why a run could not start or finish: a usage or configuration error.
#[derive(Debug)]
pub enum RunError {
    Usage(String),
    Config(ConfigError),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Usage(m) => f.write_str(m),
            RunError::Config(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for RunError {}

impl From<ConfigError> for RunError {
    fn from(e: ConfigError) -> RunError {
        RunError::Config(e)
    }
}

/// The settings, size limit and fix mode for one file.
#[derive(Debug, Clone)]
pub struct FileSettings {
    pub settings: Settings,
    pub max_file_size: u64,
    pub mode: FixMode,
}

/// A fixed file that could not be written.
#[derive(Debug)]
pub struct WriteFailure {
    pub display: String,
    pub error: WriteError,
}

/// What `--add-ignore` did.
#[derive(Debug, Default)]
pub struct AddIgnoreOutcome {
    /// Files written.
    pub files: usize,
    /// Findings suppressed.
    pub findings: usize,
    /// One message per file that could not be suppressed or written.
    pub errors: Vec<String>,
    /// Whether any file failed (unreadable, unsuppressable, unwritable).
    pub failed: bool,
}

/// What the exit status depends on, gathered report by report.
#[derive(Debug, Default, Clone, Copy)]
pub struct Outcome {
    /// A per-file error.
    pub errors: bool,
    /// The worst severity of the findings left (notes aside).
    pub worst: Option<crate::diagnostic::Severity>,
    /// A file was changed by `--fix`.
    pub changed: bool,
    /// A file would change (`--diff`).
    pub would_change: bool,
    /// A fixed file could not be written.
    pub failed_write: bool,
}

impl Outcome {
    pub fn add(&mut self, r: &FileReport) {
        self.errors |= r.has_error();
        for d in r.diagnostics.iter().filter(|d| !d.is_note()) {
            self.worst = self.worst.max(Some(d.severity));
        }
        self.changed |= r.fixed.is_some();
        self.would_change |= r.source.is_some() && r.fixed.is_some();
    }
}

/// A run: the options, the config resolver and the base settings.
pub struct Run {
    options: RunOptions,
    resolver: Resolver,
    base: Settings,
    /// `--exclude` and `--extend-exclude`, compiled.
    exclude: Option<globset::GlobSet>,
    extend_exclude: Option<globset::GlobSet>,
    /// The change `--diff-base` names.
    change: Option<crate::gitdiff::Change>,
    /// What the repositories around the checked files say, built once and
    /// shared by every file check.
    workspace: crate::workspace::Workspace,
}

/// Command-line exclusion globs: a pattern without a slash matches a name
/// at any depth (as in `.gitignore`), and a folder's files with it.
fn exclusion_globs(patterns: &[String]) -> Result<Option<globset::GlobSet>, RunError> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut b = globset::GlobSetBuilder::new();
    for p in patterns {
        let p = p.trim_start_matches("./").trim_end_matches('/');
        let base = if p.contains('/') {
            p.to_string()
        } else {
            format!("**/{p}")
        };
        for variant in [base.clone(), format!("{base}/**")] {
            let glob = globset::Glob::new(&variant)
                .map_err(|e| RunError::Usage(format!("invalid exclude pattern `{p}`: {e}")))?;
            b.add(glob);
        }
    }
    b.build()
        .map(Some)
        .map_err(|e| RunError::Usage(format!("invalid exclude patterns: {e}")))
}

/// Whether a selector names a rule (a code, a prefix, or `ALL`).
fn known_selector(code: &str) -> bool {
    code.eq_ignore_ascii_case("ALL")
        || RULES.iter().chain(crate::rules::ONLINE_RULES).any(|r| {
            r.code
                .get(..code.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(code))
        })
}

impl Run {
    /// Check the options and load the configuration.
    pub fn new(mut options: RunOptions) -> Result<Run, RunError> {
        // `--stdin-filename` alone reads stdin (as ruff does).
        if options.stdin_filename.is_some() && options.paths.is_empty() {
            options.paths = vec![PathBuf::from("-")];
        }
        for code in options
            .select
            .iter()
            .chain(&options.ignore)
            .chain(&options.extend_select)
        {
            if !known_selector(code) {
                return Err(RunError::Usage(crate::config::unknown_code_message(
                    "rule selector",
                    code,
                )));
            }
        }
        let resolver = Resolver::new(options.config.as_deref(), options.isolated)?;
        let stdin = options.paths.iter().any(|p| p.as_os_str() == "-");
        if stdin && options.paths.len() > 1 {
            return Err(RunError::Usage(
                "`-` (stdin) cannot be combined with other paths".to_string(),
            ));
        }
        let base = Settings {
            build_args: options.build_args.clone(),
            env: options.env.clone(),
            // `refit.lock` in the current folder (a config folder's own wins).
            lock: crate::online::lock::Lock::read(Path::new(crate::online::lock::LOCK_FILE))
                .ok()
                .map(std::sync::Arc::new),
            ..Settings::default()
        };
        let exclude = exclusion_globs(&options.exclude)?;
        let extend_exclude = exclusion_globs(&options.extend_exclude)?;
        // `docs-url` of the config that applies here: the base of rule links.
        if let Ok(dir) = std::env::current_dir()
            && let Ok(Some(config)) = resolver.for_file(&dir.join("refit.toml"))
            && let Some(url) = &config.raw.docs_url
        {
            crate::report::links::set_docs_url(url);
        }
        let change = match &options.diff_base {
            None => None,
            Some(base) => {
                let dir = diff_base_dir(&options.paths)
                    .map_err(|e| RunError::Usage(format!("--diff-base: {e}")))?;
                Some(
                    crate::gitdiff::change(&dir, base, options.diff_end)
                        .map_err(|e| RunError::Usage(e.0))?,
                )
            }
        };
        let workspace = crate::workspace::Workspace::new(!options.no_cache);
        Ok(Run {
            options,
            resolver,
            base,
            exclude,
            extend_exclude,
            change,
            workspace,
        })
    }

    pub fn options(&self) -> &RunOptions {
        &self.options
    }

    /// The facts of the repositories around the checked files.
    pub fn workspace(&self) -> &crate::workspace::Workspace {
        &self.workspace
    }

    /// Whether the run reads stdin (`-`).
    pub fn reads_stdin(&self) -> bool {
        self.options.paths.iter().any(|p| p.as_os_str() == "-")
    }

    /// Settings for one file: its config, then the command line.
    pub fn file_settings(&self, path: &Path) -> Result<FileSettings, ConfigError> {
        let o = &self.options;
        let config = self.resolver.for_file(path)?;
        let mut s = self.base.clone();
        s.select = o.select.clone();
        let absolute = crate::realpath::absolute(path);
        let applied = config.as_ref().map(|c| c.apply(&absolute, &mut s));
        s.extend_select.extend(o.extend_select.iter().cloned());
        s.ignore.extend(o.ignore.iter().cloned());
        let raw = applied.as_deref();
        let max_file_size = o
            .max_file_size
            .or(raw.and_then(|r| r.max_file_size))
            .unwrap_or(DEFAULT_MAX_FILE_SIZE);
        let unsafe_fixes = o.unsafe_fixes
            || raw
                .and_then(|r| r.fix.as_ref())
                .and_then(|f| f.unsafe_fixes)
                .unwrap_or(false);
        let mode = if o.fix || o.diff {
            FixMode::On { unsafe_fixes }
        } else {
            FixMode::Off
        };
        Ok(FileSettings {
            settings: s,
            max_file_size,
            mode,
        })
    }

    /// Check the run's input: stdin (read from `stdin`) or the files found
    /// under the paths. No progress is shown.
    pub fn check(&self, stdin: impl Read) -> Result<Vec<FileReport>, RunError> {
        if self.reads_stdin() {
            Ok(vec![self.check_stdin(stdin)?])
        } else {
            let (targets, errors) = self.discover();
            self.workspace
                .prepare(targets.iter().map(|t| t.path.as_path()));
            let mut reports = self.check_targets(&targets, &|| {})?;
            merge_walk_errors(&mut reports, &errors);
            Ok(reports)
        }
    }

    /// Check text read from stdin, named `stdin_filename` (else `-`).
    pub fn check_stdin(&self, input: impl Read) -> Result<FileReport, RunError> {
        let name = self
            .options
            .stdin_filename
            .clone()
            .unwrap_or_else(|| PathBuf::from("-"));
        let FileSettings {
            settings,
            max_file_size,
            mode,
        } = self.file_settings(&name)?;
        let mut bytes = Vec::new();
        let report = match input.take(max_file_size + 1).read_to_end(&mut bytes) {
            Err(e) => single_error(
                &name,
                crate::diagnostic::file_error(
                    "E001",
                    format!("Cannot read stdin: {e}"),
                    Span::default(),
                ),
            ),
            Ok(_) if bytes.len() as u64 > max_file_size => single_error(
                &name,
                crate::diagnostic::file_error(
                    "E003",
                    format!("Input is over the {max_file_size}-byte limit (--max-file-size)"),
                    Span::default(),
                ),
            ),
            Ok(_) => match engine::decode(bytes) {
                Ok(text) => {
                    let configured = self
                        .resolver
                        .for_file(&name)
                        .ok()
                        .flatten()
                        .and_then(|c| c.kind_for(&name));
                    let kind = match (configured, &self.options.stdin_filename) {
                        (Some(k), _) => k,
                        // Bare `-`: a Dockerfile, and a parse error hints
                        // at `--stdin-filename`.
                        (None, None) => classify_explicit(&name),
                        (None, Some(named)) => discover::stdin_kind(named, &text).ok_or_else(|| {
                            RunError::Usage(format!(
                                "--stdin-filename {}: the kind of file is unknown (the name says none, and the text does not start like a Dockerfile)\n  give stdin the name the file has in a repository, e.g. `--stdin-filename compose.yaml`; refit knows {}; or map the name to a kind in refit.toml `[kinds]`",
                                discover::display_path(named),
                                discover::STDIN_NAMES
                            ))
                        })?,
                    };
                    engine::process_text(
                        text,
                        &discover::display_path(&name),
                        None,
                        kind,
                        &settings,
                        mode,
                    )
                }
                Err(d) => single_error(&name, *d),
            },
        };
        let mut report = report;
        if self.options.stdin_filename.is_none() {
            // Read as a Dockerfile for want of a name: say how to give one.
            for d in report.diagnostics.iter_mut().filter(|d| d.code == "E004") {
                d.message.push_str(
                    " (stdin was read as a Dockerfile; name it with `--stdin-filename`, e.g. `--stdin-filename compose.yaml`)",
                );
            }
        }
        Ok(report)
    }

    /// The files to check under the run's paths (`.` when none), with the
    /// configuration's `kinds`, `include` and `exclude` applied.
    pub fn targets(&self) -> Vec<Target> {
        self.discover().0
    }

    /// `targets`, and what the walk could not read (each an E001 report,
    /// see [`walk_error_report`]).
    pub fn discover(&self) -> (Vec<Target>, Vec<WalkError>) {
        let paths = self.paths();
        if let Some(change) = &self.change {
            // Only the changed files: the rest is never walked or read.
            let targets = crate::gitdiff::targets(change, &paths, &|p| self.kind_for(p));
            return (targets, Vec::new());
        }
        let choose = |path: &Path| self.choice(path);
        discover::walk(&paths, &choose)
    }

    /// Check files in chunks, in parallel within a chunk; with `fix` (and
    /// `write`), write each chunk's fixed files (in parallel) before handing its
    /// reports on. `sink` gets every report in display order, the walk's
    /// `errors` merged in; only one chunk is held at a time, so memory does
    /// not grow with the number of files. Configuration is resolved for
    /// every file first, so a configuration error stops the run before
    /// anything is reported. Returns the files whose fixes were not written.
    pub fn stream(
        &self,
        targets: &[Target],
        errors: &[WalkError],
        tick: &(dyn Fn() + Sync),
        write: bool,
        sink: &mut dyn FnMut(FileReport),
    ) -> Result<Vec<WriteFailure>, RunError> {
        for t in targets {
            self.resolver.for_file(&t.path)?;
        }
        self.workspace
            .prepare(targets.iter().map(|t| t.path.as_path()));
        let mut failures = Vec::new();
        let mut errors = errors.iter().peekable();
        for chunk in targets.chunks(CHUNK) {
            let mut reports = self.check_targets(chunk, tick)?;
            if write && self.options.fix && !self.options.diff {
                failures.extend(self.write_fixes(&mut reports));
            }
            for r in reports {
                while let Some(e) = errors.next_if(|e| e.display < r.display) {
                    sink(walk_error_report(e));
                }
                sink(r);
            }
        }
        for e in errors {
            sink(walk_error_report(e));
        }
        Ok(failures)
    }

    /// Files named on the command line whose kind neither their name nor
    /// their content tells; `targets` leaves them out.
    pub fn unknown_files(&self) -> Vec<PathBuf> {
        discover::unknown_explicit(&self.paths(), &|p: &Path| self.choice(p))
    }

    fn paths(&self) -> Vec<PathBuf> {
        if self.options.paths.is_empty() && !self.options.paths_are_list {
            vec![PathBuf::from(".")]
        } else {
            self.options.paths.clone()
        }
    }

    /// What the configuration and `--exclude`/`--extend-exclude` say about
    /// a file found by a walk: a kind (`kinds`), skip it, or classify it by
    /// name.
    fn choice(&self, path: &Path) -> Choice {
        let shown = discover::display_path(path);
        let cli = |set: &Option<globset::GlobSet>| set.as_ref().map(|s| s.is_match(&shown));
        let config = self.resolver.for_file(path).ok().flatten();
        let force =
            self.options.force_exclude || config.as_ref().is_some_and(|c| c.force_exclude());
        let skip = if force {
            Choice::ForceSkip
        } else {
            Choice::Skip
        };
        if cli(&self.extend_exclude) == Some(true) {
            return skip;
        }
        let excluded_here = cli(&self.exclude);
        match config {
            Some(c) => {
                let abs = crate::realpath::absolute(path);
                if let Some(k) = c.kind_for(&abs) {
                    Choice::Kind(k)
                } else if excluded_here.unwrap_or_else(|| c.is_excluded(&abs)) {
                    skip
                } else {
                    Choice::Default
                }
            }
            // No config: the default exclusions, unless `--exclude` replaces them.
            None if excluded_here
                .unwrap_or_else(|| discover::default_excluded(Path::new(&shown))) =>
            {
                skip
            }
            None => Choice::Default,
        }
    }

    /// The kind a walk would read `path` as, or `None` when a walk would
    /// not read it (an unrecognised name, or excluded by the config).
    pub fn kind_for(&self, path: &Path) -> Option<FileKind> {
        match self.choice(path) {
            Choice::Kind(k) => Some(k),
            Choice::Skip | Choice::ForceSkip => None,
            Choice::Default => discover::classify(path),
        }
    }

    /// Check files in parallel, calling `tick` once per file; the reports
    /// come back in the order of `targets`.
    pub fn check_targets(
        &self,
        targets: &[Target],
        tick: &(dyn Fn() + Sync),
    ) -> Result<Vec<FileReport>, RunError> {
        let results: Vec<Result<FileReport, ConfigError>> = targets
            .par_iter()
            .map(|t| {
                tick();
                self.check_target(t)
            })
            .collect();
        let mut reports = Vec::with_capacity(results.len());
        for r in results {
            reports.push(r?);
        }
        Ok(reports)
    }

    /// The change `--diff-base` named, if any.
    pub fn change(&self) -> Option<&crate::gitdiff::Change> {
        self.change.as_ref()
    }

    /// Narrow the reports to what the user asked to see: with
    /// `--diff-base`, findings on changed lines (or files); with a
    /// baseline, findings it does not record. A baseline's stale entries
    /// come back as a report on the baseline file (SUP002).
    /// The baseline in effect: `--baseline`, else the configuration's.
    fn baseline_path(&self) -> Result<Option<PathBuf>, RunError> {
        let configured = || -> Result<Option<PathBuf>, RunError> {
            let dir = std::env::current_dir().unwrap_or_default();
            let probe = dir.join("refit.toml");
            let Some(config) = self.resolver.for_file(&probe)? else {
                return Ok(None);
            };
            let root = config.root.clone();
            let Some(b) = config.raw.baseline.as_ref() else {
                return Ok(None);
            };
            // The configuration is the repository's: its baseline (read,
            // and rewritten by `--fix`) stays inside the repository.
            let path = root.join(b);
            match crate::write::confine(&path, &crate::write::root_of(&root.join("refit.toml"))) {
                Err(crate::write::WriteError::Outside { target, root }) => {
                    Err(RunError::Usage(format!(
                        "baseline `{b}` in the configuration resolves to {}, outside the repository root {}; refit neither reads nor writes it there",
                        target.display(),
                        root.display()
                    )))
                }
                Err(e @ crate::write::WriteError::DanglingLink(_)) => Err(RunError::Usage(
                    format!("baseline `{b}` in the configuration: {e}"),
                )),
                _ => Ok(Some(path)),
            }
        };
        match &self.options.baseline {
            Some(p) => Ok(Some(p.clone())),
            None if self.options.isolated => Ok(None),
            None => configured(),
        }
    }

    /// Whether the run must see every report before reporting any:
    /// `--diff-base` or a baseline (`narrow`). Otherwise reports stream.
    pub fn needs_all_reports(&self) -> Result<bool, RunError> {
        Ok(self.change.is_some() || self.baseline_path()?.is_some())
    }

    pub fn narrow(&self, reports: &mut Vec<FileReport>) -> Result<(), RunError> {
        let before: Vec<usize> = reports.iter().map(|r| r.diagnostics.len()).collect();
        let narrowed = self.narrow_findings(reports);
        // A hidden finding's fix must not reach the review as a suggestion.
        for (r, n) in reports.iter_mut().zip(before) {
            if r.diagnostics.len() != n {
                keep_suggestions_of_findings(r, self.options.unsafe_fixes);
            }
        }
        narrowed
    }

    fn narrow_findings(&self, reports: &mut Vec<FileReport>) -> Result<(), RunError> {
        if let Some(change) = &self.change {
            for r in reports.iter_mut() {
                let settings = match &r.path {
                    Some(p) => Some(self.file_settings(p)?.settings),
                    None => None,
                };
                crate::gitdiff::narrow(change, self.options.diff_scope, r, settings.as_ref());
            }
        }
        let Some(path) = self.baseline_path()? else {
            return Ok(());
        };
        let baseline = crate::baseline::load(&path).map_err(RunError::Usage)?;
        let used = baseline.apply(reports);
        let judge = self.judge(&baseline, &used, reports)?;
        if let Some(stale) = baseline.unmatched_report(
            &used,
            &|e| judge.judges(e),
            self.options.fix || self.options.diff,
        ) {
            reports.push(stale);
        }
        Ok(())
    }

    /// What this run can tell about the baseline entries that matched
    /// nothing: the settings of each of their files it checked.
    fn judge(
        &self,
        baseline: &crate::baseline::Baseline,
        used: &[bool],
        reports: &[FileReport],
    ) -> Result<Judge, RunError> {
        let mut judge = Judge {
            files: std::collections::HashMap::new(),
            online: None,
        };
        // A run over part of the repository judges nothing: `--diff-base`
        // only reads the changed files.
        if self.change.is_some() {
            return Ok(judge);
        }
        // The online rules run with the settings of the current folder
        // (see `crate::online::cli::check_online`), and only with
        // `--online`.
        if self.options.online {
            judge.online = Some(self.file_settings(Path::new("refit.toml"))?.settings);
        }
        // A file that could not be checked (a per-file error) is not judged.
        let checked: std::collections::HashMap<String, PathBuf> = reports
            .iter()
            .filter(|r| !r.has_error())
            .map(|r| {
                let path = r.path.clone().unwrap_or_else(|| PathBuf::from(&r.display));
                (crate::report::paths::repo_relative(r), path)
            })
            .collect();
        for (entry, _) in baseline.entries.iter().zip(used).filter(|(_, u)| !**u) {
            if judge.files.contains_key(&entry.file) {
                continue;
            }
            if let Some(path) = checked.get(&entry.file) {
                let settings = self.file_settings(path)?.settings;
                judge.files.insert(entry.file.clone(), settings);
            }
        }
        Ok(judge)
    }

    /// Check one file.
    pub fn check_target(&self, t: &Target) -> Result<FileReport, ConfigError> {
        let FileSettings {
            settings,
            max_file_size,
            mode,
        } = self.file_settings(&t.path)?;
        // `process_path` stamps the file as it opens it, before reading: a
        // change after that shows at write time.
        let mut report = engine::process_path(
            &t.path,
            &t.display,
            t.kind,
            &settings,
            &self.workspace,
            max_file_size,
            mode,
        );
        if self.options.suggest
            && !self.options.fix
            && let Some(source) = &report.source
        {
            // The fixes as suggestions: compute them, write nothing.
            let unsafe_fixes = match mode {
                FixMode::On { unsafe_fixes } => unsafe_fixes,
                FixMode::Off => self.options.unsafe_fixes,
            };
            let input =
                self.workspace
                    .source_options(&t.path, t.kind, crate::check::options(&settings));
            let fixed = engine::process_with(
                source.clone(),
                &t.display,
                None,
                t.kind,
                &settings,
                &input,
                FixMode::On { unsafe_fixes },
            );
            report.suggested = fixed.fixed;
        }
        Ok(report)
    }

    /// Write every fixed file that came from disk, in parallel (stdin's
    /// fixed text is the caller's to print). A file that could not be
    /// written goes back to its findings before fixing, plus the error
    /// (E001, or E006 when it changed during the run), so no format
    /// reports it as fixed. Returns the files that were not written.
    pub fn write_fixes(&self, reports: &mut [FileReport]) -> Vec<WriteFailure> {
        // Writing waits on the disk (fsync), not the processor: more
        // threads than cores.
        match write_pool() {
            Some(pool) => pool.install(|| self.write_all(reports)),
            None => self.write_all(reports),
        }
    }

    /// Prepare every temporary file, then sync, check and rename each
    /// (`write::prepare`, `write::commit`), in parallel.
    fn write_all(&self, reports: &mut [FileReport]) -> Vec<WriteFailure> {
        use crate::write;
        let prepared: Vec<(usize, Result<write::Prepared, WriteError>)> = reports
            .par_iter()
            .enumerate()
            .filter_map(|(i, r)| {
                let (Some(fixed), Some(path), Some(source)) = (&r.fixed, &r.path, &r.source) else {
                    return None;
                };
                Some((i, write::prepare(path, source, r.stamp, fixed)))
            })
            .collect();
        // Each temporary file is synced on its own, in parallel: one
        // `syncfs` for the batch was slower whenever anything else on the
        // machine was writing.
        let synced = false;
        let shared: &[FileReport] = reports;
        let results: Vec<(usize, WriteError)> = prepared
            .into_par_iter()
            .filter_map(|(i, p)| {
                let r = &shared[i];
                let (Some(fixed), Some(source)) = (&r.fixed, &r.source) else {
                    return None;
                };
                p.and_then(|p| write::commit(p, source, r.stamp, fixed, synced))
                    .err()
                    .map(|e| (i, e))
            })
            .collect();
        results
            .into_iter()
            .map(|(i, error)| {
                let r = &mut reports[i];
                self.unfix(r, &error);
                WriteFailure {
                    display: r.display.clone(),
                    error,
                }
            })
            .collect()
    }

    /// The report of a file whose fix was not written: its findings as
    /// read, and the write error.
    fn unfix(&self, r: &mut FileReport, error: &WriteError) {
        let (Some(path), Some(source)) = (r.path.clone(), r.source.take()) else {
            return;
        };
        let settings = self
            .file_settings(&path)
            .map_or_else(|_| self.base.clone(), |f| f.settings);
        let mut fresh = self.recheck(source, &r.display, path, r.kind, &settings);
        fresh.stamp = r.stamp;
        fresh.diagnostics.push(crate::diagnostic::file_error(
            error.code(),
            error.to_string(),
            Span::default(),
        ));
        fresh
            .diagnostics
            .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        *r = fresh;
    }

    /// `--add-ignore`: write a suppression for every finding of every file,
    /// when the result still parses and reports nothing.
    pub fn add_ignore(&self, reports: &[FileReport]) -> Result<AddIgnoreOutcome, ConfigError> {
        let mut out = AddIgnoreOutcome::default();
        for r in reports {
            self.add_ignore_one(r, &mut out)?;
        }
        Ok(out)
    }

    /// `add_ignore` for one file, adding to `out`.
    pub fn add_ignore_one(
        &self,
        r: &FileReport,
        out: &mut AddIgnoreOutcome,
    ) -> Result<(), ConfigError> {
        {
            let (Some(text), Some(path)) = (&r.source, &r.path) else {
                if r.has_error() {
                    out.failed = true;
                }
                return Ok(());
            };
            // `devcontainer.json` takes `//` comments (add_ignore).
            let json = r.kind == crate::kind::FileKind::DaemonJson
                || (r.kind == crate::kind::FileKind::Bake && text.trim_start().starts_with('{'));
            if json {
                // JSON has no `#` comments: say what to write instead.
                let mut codes: Vec<&str> = r
                    .diagnostics
                    .iter()
                    .filter(|d| d.is_finding())
                    .map(|d| d.code)
                    .collect();
                codes.sort_unstable();
                codes.dedup();
                if !codes.is_empty() {
                    out.errors.push(format!(
                        "{}: JSON has no comments, so no suppression can be written in it; add `\"{}\" = [{}]` to `[per-file-ignores]` in refit.toml",
                        r.display,
                        r.display,
                        codes
                            .iter()
                            .map(|c| format!("\"{c}\""))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                    out.failed = true;
                }
                return Ok(());
            }
            let Some(new) = crate::add_ignore::add(r.kind, text, &r.diagnostics) else {
                return Ok(());
            };
            // Write only what still parses and now reports nothing.
            // Checked as the run checked it: with the repository's context.
            let settings = self.file_settings(path)?.settings;
            let c = self.recheck(new.clone(), &r.display, path.clone(), r.kind, &settings);
            match c.diagnostics.iter().any(|d| d.is_file_error()) {
                false if c.diagnostics.iter().all(|d| d.is_note()) => {}
                _ => {
                    out.errors.push(format!(
                        "{}: could not suppress its findings; left unchanged",
                        r.display
                    ));
                    out.failed = true;
                    return Ok(());
                }
            }
            if let Err(e) = crate::write::write_fixed(path, text, r.stamp, &new) {
                out.errors.push(format!("{}: {e}", r.display));
                out.failed = true;
                return Ok(());
            }
            out.files += 1;
            out.findings += r.diagnostics.iter().filter(|d| d.is_finding()).count();
        }
        Ok(())
    }

    /// The exit status of a run whose reports were all `add`ed to
    /// `outcome`.
    pub fn exit_status(&self, outcome: &Outcome) -> u8 {
        let o = &self.options;
        if outcome.failed_write || outcome.errors {
            return 2;
        }
        let remaining = if o.diff {
            outcome.would_change
        } else {
            let level = o.fail_level.unwrap_or(crate::diagnostic::Severity::Warning);
            (o.fix && o.exit_non_zero_on_fix && outcome.changed)
                || outcome.worst.is_some_and(|w| w >= level)
        };
        u8::from(remaining && !o.exit_zero)
    }

    /// The exit status: 2 for per-file errors (or a failed write), 1 when
    /// findings at or above the fail level remain (or, with `diff`, a file would change; with
    /// `exit_non_zero_on_fix`, a file was changed), else 0.
    /// Check a text of the file at `path` as the run checks it (the
    /// workspace's facts around it), without fixes: one code path for the
    /// run, a fix that could not be written, and `--add-ignore`.
    fn recheck(
        &self,
        text: String,
        display: &str,
        path: PathBuf,
        kind: FileKind,
        settings: &Settings,
    ) -> FileReport {
        let input = self
            .workspace
            .source_options(&path, kind, crate::check::options(settings));
        engine::process_with(
            text,
            display,
            Some(path),
            kind,
            settings,
            &input,
            FixMode::Off,
        )
    }

    pub fn exit_code(&self, reports: &[FileReport], failed_write: bool) -> u8 {
        let mut outcome = Outcome {
            failed_write,
            ..Outcome::default()
        };
        for r in reports {
            outcome.add(r);
        }
        self.exit_status(&outcome)
    }
}

/// Which unmatched baseline entries a run can judge stale (SUP002).
struct Judge {
    /// The settings of each checked file that has such entries.
    files: std::collections::HashMap<String, Settings>,
    /// The settings the online rules ran with; `None` offline.
    online: Option<Settings>,
}

impl Judge {
    /// Whether an entry's rule ran on its file in this run, so that
    /// matching nothing means the finding is gone. An entry of a rule that
    /// did not run (`--select`, `--ignore`, config `select`, `ignore`,
    /// `per-file-ignores`, an online rule offline) is left as it is.
    fn judges(&self, e: &crate::baseline::Entry) -> bool {
        let online = crate::rules::ONLINE_RULES.iter().any(|r| r.code == e.code);
        self.files.get(&e.file).is_some_and(|s| s.enabled(&e.code))
            && (!online || self.online.as_ref().is_some_and(|s| s.enabled(&e.code)))
    }
}

/// A report for a name that could not be read at all.
/// One file read as `check` reads it, for the commands that list its
/// sites (`refit sites`, `refit inventory`): its text, what its front-end
/// was handed (the workspace's facts around it), and what it found.
pub struct FileSites {
    pub text: String,
    pub input: crate::sources::SourceOptions,
    pub extraction: crate::check::Extraction,
}

/// Read a file through the bounded reader and extract its sites with the
/// workspace's view of it; `adjust` may change what the front-end is
/// handed. The error is the message of the file's error.
pub fn file_sites(
    path: &Path,
    kind: FileKind,
    settings: &Settings,
    workspace: &crate::workspace::Workspace,
    adjust: impl FnOnce(&mut crate::sources::SourceOptions),
) -> Result<FileSites, String> {
    let text = engine::read_capped(path, DEFAULT_MAX_FILE_SIZE)
        .and_then(engine::decode)
        .map_err(|d| d.message)?;
    let mut input = workspace.source_options(path, kind, crate::check::options(settings));
    adjust(&mut input);
    let extraction = crate::check::extract_all(kind, &text, &input).map_err(|d| d.message)?;
    Ok(FileSites {
        text,
        input,
        extraction,
    })
}

pub fn single_error(name: &Path, d: crate::diagnostic::Diagnostic) -> FileReport {
    FileReport {
        display: discover::display_path(name),
        path: None,
        kind: classify_explicit(name),
        source: None,
        diagnostics: vec![d],
        fixed: None,
        applied: Vec::new(),
        suggested: None,
        stamp: None,
    }
}

/// The report for a folder (or entry) the walk could not read.
pub fn walk_error_report(e: &WalkError) -> FileReport {
    let mut report = single_error(
        &e.path,
        crate::diagnostic::file_error(
            "E001",
            format!("Cannot read folder: {}", e.message),
            Span::default(),
        ),
    );
    report.display = e.display.clone();
    report.path = Some(e.path.clone());
    report
}

/// Add the walk's errors to the reports, in display order.
pub fn merge_walk_errors(reports: &mut Vec<FileReport>, errors: &[WalkError]) {
    if errors.is_empty() {
        return;
    }
    reports.extend(errors.iter().map(walk_error_report));
    reports.sort_by(|a, b| a.display.cmp(&b.display));
}

/// Where `--diff-base` finds its repository: the one holding the first
/// checked path (its folder, for a file), so `refit check --diff-base main
/// ../other-repo` compares that repository, not the current folder's.
/// Stdin and no path: the current folder.
fn diff_base_dir(paths: &[PathBuf]) -> std::io::Result<PathBuf> {
    let cwd = std::env::current_dir()?;
    let Some(first) = paths.iter().find(|p| p.as_os_str() != "-") else {
        return Ok(cwd);
    };
    let path = cwd.join(first);
    Ok(if path.is_dir() {
        path
    } else {
        match path.parent() {
            Some(parent) if parent.is_dir() => parent.to_path_buf(),
            _ => cwd,
        }
    })
}

/// After `--diff-base` or a baseline hid findings of a file: its suggested
/// text (`review`) keeps only the lines that the fixes of the findings left
/// edit, each as the fix loop made it; every other line is as read. Fixes
/// edit inside lines, so the line counts match; when they do not, nothing
/// is suggested rather than a change no finding shown asks for.
fn keep_suggestions_of_findings(report: &mut FileReport, unsafe_fixes: bool) {
    let (Some(source), Some(suggested)) = (&report.source, &report.suggested) else {
        return;
    };
    let index = crate::diagnostic::LineIndex::new(source);
    let mut kept = std::collections::BTreeSet::new();
    for fix in report.diagnostics.iter().filter_map(|d| d.fix.as_ref()) {
        if fix.applicability == crate::diagnostic::Applicability::Unsafe && !unsafe_fixes {
            continue;
        }
        for edit in &fix.edits {
            let last = edit.span.end.max(edit.span.start + 1) - 1;
            kept.extend(index.line_of(edit.span.start)..=index.line_of(last.min(source.len())));
        }
    }
    let old: Vec<&str> = source.split_inclusive('\n').collect();
    let new: Vec<&str> = suggested.split_inclusive('\n').collect();
    let text: Option<String> = (old.len() == new.len()).then(|| {
        old.iter()
            .zip(&new)
            .enumerate()
            .map(|(i, (o, n))| if kept.contains(&i) { *n } else { *o })
            .collect()
    });
    report.suggested = text.filter(|t| t != source);
}
