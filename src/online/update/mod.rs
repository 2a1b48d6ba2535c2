//! `refit update`: newer version tags for every reference, within the
//! `[update]` policy of `refit.toml`, proposed as edits of the same sites
//! `refit pin` and `--fix` edit (ARG defaults, Helm maps, kustomize
//! entries), with the same read-back check before anything is written.
//!
//! Each repository's tags are listed once per run (and cached on disk
//! with the digest cache's TTL); each new tag is resolved once (through
//! the digest cache) for its digest; image ages come from `refit.lock`'s
//! first-seen times, else from the registry's own `created` timestamps
//! (cached by digest: a digest's content never changes). The pins read
//! and written are verified as `check --online` verifies them, and a tag
//! held in the `.env` beside a Compose file is edited there.
//!
//! The steps, one module each: [`policy`] (`[update]`), [`tags`] (what is
//! kept between runs and within one), [`engine`] (the registry questions
//! and each reference's answer), [`checks`] (verified pins), [`env`]
//! (`.env` edits); this module reads the files, plans the edits and
//! writes them.

mod checks;
mod engine;
mod env;
mod policy;
mod tags;

pub use engine::{MAX_AGE_TRIES, MAX_REVERSE, human};
pub use policy::{Effective, Policy, parse_duration};
pub use tags::{AgeSource, Stamp, TagCache};

use checks::{Checks, platform_findings, read_findings, verify_pins};
use engine::Engine;
use env::{PendingEnv, apply_env_edits, env_of};
use tags::Memo;

use crate::diagnostic::{Edit, LineIndex};
use crate::discover::Target;
use crate::kind::FileKind;
use crate::online::client::Failure;
use crate::online::lock::{Lock, rfc3339};
use crate::online::platforms::{Wanted, serves};
use crate::online::resolve::{Resolver, Want, now};
use crate::online::verify::{Pin, Verdict, Verification};
use crate::online::versions::{Candidate, Level};
use crate::settings::Settings;
use crate::site::{ImageSite, SiteKind, SiteValue, Span};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

pub struct UpdateOptions {
    /// Tags asked per page of a tag list.
    pub page_size: usize,
    /// The lock file's first-seen times (as read before this run).
    pub lock: Option<Lock>,
    pub tag_cache: Option<TagCache>,
}

/// What became of one reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// A newer tag is proposed (and written, with `--write`, when the
    /// file has no error).
    Proposed,
    /// No newer tag within the policy.
    Current,
    /// Left alone, and why.
    Skipped(String),
    Failed(Failure),
}

/// One reference and what `refit update` makes of it.
#[derive(Debug, Clone)]
pub struct Item {
    pub line: usize,
    /// The reference as written at the site.
    pub written: String,
    /// The normalized name (`docker.io/library/node`).
    pub name: String,
    /// `20-alpine`, `3.20@sha256:…`, `@sha256:…`.
    pub from: String,
    /// What it becomes, when something is proposed.
    pub to: Option<String>,
    pub level: Option<Level>,
    /// The new tag's digest.
    pub digest: Option<String>,
    /// The new tag's age and its source.
    pub age: Option<Stamp>,
    pub status: Status,
    /// Newer tags passed over (too young, no age), for the text output.
    pub notes: Vec<String>,
    /// What verifying the pin read (and the pin or tag written) found:
    /// REF006 to REF009.
    pub findings: Vec<Finding>,
}

/// A verified-pin finding on one reference (`check --online`'s rules).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub code: &'static str,
    pub message: String,
    /// Whether the proposed edit repairs it.
    pub fixed: bool,
}

#[derive(Debug, Clone)]
pub struct FileUpdate {
    pub display: String,
    pub path: PathBuf,
    pub kind: FileKind,
    pub original: String,
    pub fixed: Option<String>,
    pub items: Vec<Item>,
    pub error: Option<String>,
}

#[derive(Debug, Default)]
pub struct UpdateOutcome {
    pub files: Vec<FileUpdate>,
    /// Every digest seen this run, with the time, for `refit.lock`.
    pub seen: Vec<String>,
    /// What was verified about the pins the files write now
    /// (`[[verified]]`).
    pub verified_read: Vec<crate::online::lock::Verified>,
    /// What was verified about the pins the proposals write (recorded
    /// when they are written).
    pub verified_written: Vec<crate::online::lock::Verified>,
}

impl UpdateOutcome {
    pub fn items(&self) -> impl Iterator<Item = (&FileUpdate, &Item)> {
        self.files
            .iter()
            .flat_map(|f| f.items.iter().map(move |i| (f, i)))
    }
    pub fn failed(&self) -> bool {
        self.files.iter().any(|f| f.error.is_some())
            || self
                .items()
                .any(|(_, i)| matches!(i.status, Status::Failed(_)))
    }
    /// The verified-pin findings, each with its file and item.
    pub fn findings(&self) -> impl Iterator<Item = (&FileUpdate, &Item, &Finding)> {
        self.items()
            .flat_map(|(f, i)| i.findings.iter().map(move |x| (f, i, x)))
    }
    pub fn proposed(&self) -> bool {
        self.files.iter().any(|f| f.fixed.is_some())
    }
}

/// What a reference is asked about: everything that decides its answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Question {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<String>,
    policy: Effective,
}

/// The answer: the new tag (and digest), or why none.
#[derive(Debug, Clone)]
struct Answer {
    /// The tag the reference has or (digest-only) was found to have.
    current: Option<String>,
    chosen: Option<(Candidate, String, Option<Stamp>)>,
    status: Status,
    notes: Vec<String>,
}

struct Loaded {
    target: Target,
    text: String,
    sites: Vec<ImageSite>,
    /// The `[update]` policy of the file's configuration.
    policy: Arc<Policy>,
}

/// Whether a site names an image refit may update: one it may pin.
fn updatable(site: &ImageSite) -> bool {
    crate::online::pin::pinnable(site)
}

fn read(target: Target, policy: Arc<Policy>) -> Result<Loaded, Box<FileUpdate>> {
    let settings = Settings::default();
    let text = crate::engine::read_capped(&target.path, crate::engine::DEFAULT_MAX_FILE_SIZE)
        .and_then(crate::engine::decode)
        .map_err(|d| d.message);
    let sites = text.as_ref().map_err(Clone::clone).and_then(|t| {
        let input = crate::workspace::Workspace::shared().source_options(
            &target.path,
            target.kind,
            crate::check::options(&settings),
        );
        crate::check::extract_with_notes(target.kind, t, &input)
            .map(|(sites, _)| sites)
            .map_err(|d| d.message)
    });
    match (text, sites) {
        (Ok(text), Ok(sites)) => Ok(Loaded {
            target,
            text,
            sites,
            policy,
        }),
        (text, sites) => Err(Box::new(FileUpdate {
            display: target.display.clone(),
            path: target.path.clone(),
            kind: target.kind,
            original: text.unwrap_or_default(),
            fixed: None,
            items: Vec::new(),
            error: Some(sites.err().unwrap_or_else(|| "cannot read".to_string())),
        })),
    }
}

fn question(site: &ImageSite, policy: &Policy) -> Option<Question> {
    let r = site.reference()?;
    Some(Question {
        registry: r.normalized_domain().to_string(),
        repository: r.normalized_path(),
        tag: r.tag_str().map(str::to_string),
        digest: r.digest_str().map(str::to_string),
        policy: policy.effective(&r.normalized_name(), &r.familiar_name()),
    })
}

/// Read the targets (each with the policy of its configuration), answer
/// each distinct question once (in parallel), and compute the updated
/// texts (writing nothing).
pub fn plan(
    targets: Vec<(Target, Arc<Policy>)>,
    resolver: &Resolver,
    options: &UpdateOptions,
) -> UpdateOutcome {
    let mut outcome = UpdateOutcome::default();
    let mut loaded = Vec::new();
    for (t, policy) in targets {
        match read(t, policy) {
            Ok(l) => loaded.push(l),
            Err(f) => outcome.files.push(*f),
        }
    }
    let mut questions: Vec<Question> = loaded
        .iter()
        .flat_map(|l| l.sites.iter().map(move |s| (s, &l.policy)))
        .filter(|(s, _)| updatable(s))
        .filter_map(|(s, policy)| question(s, policy))
        .filter(|q| !q.policy.ignored)
        .collect();
    questions.sort_by(|a, b| {
        (&a.registry, &a.repository, &a.tag, &a.digest).cmp(&(
            &b.registry,
            &b.repository,
            &b.tag,
            &b.digest,
        ))
    });
    questions.dedup();
    let engine = Engine {
        resolver,
        options,
        tags: Memo::new(),
        resolved: Memo::new(),
        stamps: Memo::new(),
        seen: Mutex::new(Vec::new()),
    };
    let answers: Mutex<HashMap<Question, Answer>> = Mutex::new(HashMap::new());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let workers = resolver.workers.clamp(1, 64).min(questions.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(q) = questions.get(i) else { break };
                    let a = engine.answer(q);
                    answers
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(q.clone(), a);
                }
            });
        }
    });
    let answers = answers.into_inner().unwrap_or_else(|e| e.into_inner());
    let checks = verify_pins(&loaded, &answers, &engine);
    outcome.verified_read = checks.records(&loaded, false);
    outcome.verified_written = checks.records(&loaded, true);
    let verification_seen = checks.seen.clone();
    let base = outcome.files.len();
    let mut pending = Vec::new();
    for (fi, l) in loaded.iter().enumerate() {
        let (file, env) = plan_file(l, fi, &answers, &checks);
        outcome.files.push(file);
        pending.extend(env.into_iter().map(|p| (fi, p)));
    }
    apply_env_edits(&loaded, &mut outcome.files, base, pending);
    outcome.files.sort_by(|a, b| a.display.cmp(&b.display));
    let mut seen = engine.seen.into_inner().unwrap_or_else(|e| e.into_inner());
    seen.extend(verification_seen);
    seen.sort();
    seen.dedup();
    outcome.seen = seen;
    outcome
}

fn plan_file(
    l: &Loaded,
    fi: usize,
    answers: &HashMap<Question, Answer>,
    checks: &Checks,
) -> (FileUpdate, Vec<PendingEnv>) {
    // The `.env` beside a Compose file, read when an edit needs it.
    let mut env: Option<Option<(PathBuf, String, crate::sources::SourceOptions)>> = None;
    let mut pending = Vec::new();
    let lines = LineIndex::new(&l.text);
    let mut items = Vec::new();
    let mut edits: Vec<(Edit, String)> = Vec::new();
    for (index, site) in l.sites.iter().enumerate() {
        if !updatable(site) {
            continue;
        }
        let (Some(q), Some(reference)) = (question(site, &l.policy), site.reference()) else {
            continue;
        };
        let from = match (&q.tag, &q.digest) {
            (Some(t), Some(d)) => format!("{t}@{d}"),
            (Some(t), None) => t.clone(),
            (None, Some(d)) => format!("@{d}"),
            (None, None) => String::new(),
        };
        let mut item = Item {
            line: lines.line_of(site.span.start) + 1,
            written: site.raw.clone(),
            name: reference.normalized_name(),
            from,
            to: None,
            level: None,
            digest: None,
            age: None,
            status: Status::Current,
            notes: Vec::new(),
            findings: Vec::new(),
        };
        if q.policy.ignored {
            item.status = Status::Skipped("ignored by `[update]`".to_string());
            items.push(item);
            continue;
        }
        let Some(a) = answers.get(&q) else {
            item.status = Status::Failed(Failure::Invalid("not asked".to_string()));
            items.push(item);
            continue;
        };
        item.status = a.status.clone();
        item.notes = a.notes.clone();
        // Verified pins: what the pin read is, and what the image offers
        // against the platforms this `FROM` is built for.
        let wanted = checks.wanted(fi, index);
        let named = reference.input().split('@').next().unwrap_or_default();
        let read_pin = Pin::of(reference);
        let mut read_verdict = None;
        let mut read_offered: Option<&[String]> = None;
        match &read_pin {
            Some(pin) => match checks.verified.get(&(pin.clone(), !wanted.is_empty())) {
                Some(Ok(v)) => {
                    item.findings.extend(read_findings(v, pin));
                    read_verdict = Some(&v.verdict);
                    if !wanted.is_empty() && !v.platforms.is_empty() {
                        read_offered = Some(&v.platforms);
                    }
                }
                Some(Err(Failure::NotFound { .. } | Failure::Denied { .. })) | None => {}
                Some(Err(e)) => item.notes.push(format!("the pin was not verified: {e}")),
            },
            None if !wanted.is_empty() => {
                if let Some(Ok(p)) = checks.tags.get(&Want::of(reference, true)) {
                    read_offered = Some(p);
                }
            }
            None => {}
        }
        if let Some(offered) = read_offered {
            item.findings
                .extend(platform_findings(&format!("`{named}`"), wanted, offered));
        }
        // A digest-only reference whose tag was found: write the tag (and
        // the new digest, when there is a newer tag).
        let (new_tag, new_digest) = match (&a.chosen, &q.tag, &a.current) {
            (Some((c, d, stamp)), _, _) => {
                item.level = Some(c.level);
                item.age = stamp.clone();
                item.digest = Some(d.clone());
                (c.tag.clone(), q.digest.as_ref().map(|_| d.clone()))
            }
            (None, None, Some(found)) if matches!(a.status, Status::Current) => {
                item.status = Status::Proposed;
                item.notes.push(format!("the digest is `{found}`'s"));
                (found.clone(), None)
            }
            // No newer tag: a pin REF006, REF007 or REF008 finds wrong is
            // re-pinned to the tag's digest (the index, for REF007).
            (None, Some(tag), _) => match checks.repins.get(&q) {
                Some(Ok((d, stamp))) => {
                    if let Status::Skipped(why) = &item.status {
                        item.notes.push(why.clone());
                    }
                    item.status = Status::Proposed;
                    item.digest = Some(d.clone());
                    item.age = stamp.clone();
                    (tag.clone(), Some(d.clone()))
                }
                Some(Err(why)) => {
                    item.notes.push(format!("not re-pinned: {why}"));
                    items.push(item);
                    continue;
                }
                None => {
                    if let Some(Verdict::Vanished {
                        code,
                        current: None,
                    }) = read_verdict
                    {
                        item.status = Status::Failed(Failure::NotFound { code: code.clone() });
                    }
                    items.push(item);
                    continue;
                }
            },
            _ => {
                if let Some(Verdict::Vanished { code, .. }) = read_verdict {
                    item.status = Status::Failed(Failure::NotFound { code: code.clone() });
                }
                items.push(item);
                continue;
            }
        };
        // The new tag must offer every platform the old one did that this
        // `FROM` is built for (REF009 on what would be written).
        if a.chosen.is_some() && !wanted.is_empty() {
            let new_offered = match &new_digest {
                Some(d) => checks
                    .verified
                    .get(&(
                        Pin {
                            registry: q.registry.clone(),
                            repository: q.repository.clone(),
                            tag: Some(new_tag.clone()),
                            digest: d.clone(),
                        },
                        true,
                    ))
                    .and_then(|v| v.as_ref().ok())
                    .map(|v| v.platforms.clone()),
                None => checks
                    .tags
                    .get(&Want {
                        registry: q.registry.clone(),
                        repository: q.repository.clone(),
                        tag: new_tag.clone(),
                        detailed: true,
                    })
                    .and_then(|p| p.as_ref().ok())
                    .cloned(),
            };
            if let Some(offered) = new_offered.filter(|o| !o.is_empty()) {
                let check = Verification {
                    verdict: Verdict::Current,
                    platforms: offered.clone(),
                    pinned_index: None,
                    checked: Vec::new(),
                    at: 0,
                };
                let lost: Vec<&Wanted> = check
                    .missing(wanted)
                    .into_iter()
                    .filter(|w| {
                        read_offered.is_none_or(|o| o.iter().any(|p| serves(p, &w.platform)))
                    })
                    .collect();
                if let Some(w) = lost.first() {
                    item.status = Status::Skipped(format!(
                        "REF009: `{new_tag}` has no {} manifest (it offers {}), and this `FROM` is built for it ({})",
                        w.platform,
                        offered.join(", "),
                        w.source
                    ));
                    item.level = None;
                    item.digest = None;
                    item.age = None;
                    items.push(item);
                    continue;
                }
            }
        }
        let to = match (&new_digest, &q.digest) {
            (Some(d), _) => format!("{new_tag}@{d}"),
            (None, Some(d)) => format!("{new_tag}@{d}"),
            (None, None) => new_tag.clone(),
        };
        match edit_for(l, index, site, &new_tag, new_digest.as_deref()) {
            Ok((mut new_edits, expected)) => {
                item.to = Some(to);
                for e in new_edits.drain(..) {
                    edits.push((e, expected.clone()));
                }
            }
            // A tag from the `.env` beside a Compose file: edited there.
            Err(why) => match (
                env.get_or_insert_with(|| env_of(l)),
                changes_of(site, &new_tag, new_digest.as_deref()),
            ) {
                (Some((path, env_text, options)), Ok((_, expected))) => {
                    match crate::online::dotenv_edit::plan(
                        &l.text, &l.sites, index, options, env_text, &expected,
                    ) {
                        Ok((name, edit)) => {
                            item.to = Some(to);
                            item.notes.push(format!("`{name}` in .env"));
                            pending.push(PendingEnv {
                                env: path.clone(),
                                edit,
                                site: index,
                                expected,
                                item: items.len(),
                                text: std::sync::Arc::from(env_text.as_str()),
                            });
                        }
                        Err(env_why) if env_why.contains("cannot edit in place") => {
                            item.status = Status::Skipped(why)
                        }
                        Err(env_why) => item.status = Status::Skipped(env_why),
                    }
                }
                _ => item.status = Status::Skipped(why),
            },
        }
        if item.to.is_some() {
            // The pin written is the tag's current digest (the index's):
            // what REF006, REF007 and REF008 found is repaired.
            for f in &mut item.findings {
                f.fixed = f.code != "REF009";
            }
        }
        items.push(item);
    }
    let mut file = FileUpdate {
        display: l.target.display.clone(),
        path: l.target.path.clone(),
        kind: l.target.kind,
        original: l.text.clone(),
        fixed: None,
        items,
        error: None,
    };
    if edits.is_empty() {
        return (file, pending);
    }
    match apply_checked(l, &edits) {
        Ok(fixed) => file.fixed = (fixed != l.text).then_some(fixed),
        Err(e) => file.error = Some(e),
    }
    (file, pending)
}

/// Apply edits (one per span; sites sharing a value share its edit), and
/// keep the result only when it re-parses to every expected reference.
fn apply_checked(l: &Loaded, edits: &[(Edit, String)]) -> Result<String, String> {
    let mut plain: Vec<Edit> = edits.iter().map(|(e, _)| e.clone()).collect();
    plain.sort_by_key(|e| (e.span.start, e.span.end));
    plain.dedup();
    if plain
        .windows(2)
        .any(|w| w[0].span.end > w[1].span.start || w[0].span == w[1].span)
    {
        return Err("edits overlap; nothing written".to_string());
    }
    let fixed = crate::fix::apply_edits(&l.text, &plain);
    let settings = Settings::default();
    let input = crate::workspace::Workspace::shared().source_options(
        &l.target.path,
        l.target.kind,
        crate::check::options(&settings),
    );
    let sites = crate::check::extract_with_notes(l.target.kind, &fixed, &input)
        .map(|(s, _)| s)
        .map_err(|d| {
            format!(
                "the updated text does not parse ({}); nothing written",
                d.message
            )
        })?;
    let texts: Vec<&str> = sites
        .iter()
        .filter_map(|s| s.reference().map(|r| r.input()))
        .collect();
    if let Some((_, missing)) = edits.iter().find(|(_, e)| !texts.contains(&e.as_str())) {
        return Err(format!(
            "the updated text does not read back as `{missing}`; nothing written"
        ));
    }
    Ok(fixed)
}

/// The edits that write `tag` (and `digest`) into a site, and the
/// reference text the site must read back as.
fn edit_for(
    l: &Loaded,
    index: usize,
    site: &ImageSite,
    tag: &str,
    digest: Option<&str>,
) -> Result<(Vec<Edit>, String), String> {
    let cannot = || {
        "the reference is composed from values refit cannot edit in place (another file, an override, a template)".to_string()
    };
    let (changes, expected) = changes_of(site, tag, digest)?;
    let input = site.reference().map(|r| r.input()).unwrap_or_default();
    let mut edits = Vec::new();
    for (range, content) in changes {
        let span = site.map_to_file(range).ok_or_else(cannot)?;
        guard_shared(l, index, site, span, input)?;
        edits.push(Edit { span, content });
    }
    Ok((edits, expected))
}

/// The changes of a site's reference text that write `tag` (and
/// `digest`), left to right, and the text it becomes.
fn changes_of(
    site: &ImageSite,
    tag: &str,
    digest: Option<&str>,
) -> Result<(Vec<(Span, String)>, String), String> {
    let reference = site
        .reference()
        .ok_or_else(|| "not a reference".to_string())?;
    let input = reference.input();
    // (range in the reference text, new content), left to right.
    let mut changes: Vec<(Span, String)> = Vec::new();
    match reference.tag {
        Some(t) => changes.push((t, tag.to_string())),
        None => {
            if matches!(site.kind, SiteKind::HelmValue | SiteKind::Kustomize) {
                return Err(
                    "the image has no tag key to write the tag found into; left alone".to_string(),
                );
            }
            let at = reference.path.end;
            changes.push((Span::new(at, at), format!(":{tag}")));
        }
    }
    if let (Some(d), Some(new)) = (reference.digest, digest) {
        changes.push((d, new.to_string()));
    }
    let mut expected = String::with_capacity(input.len() + 80);
    let mut last = 0;
    for (range, content) in &changes {
        expected.push_str(input.get(last..range.start).unwrap_or(""));
        expected.push_str(content);
        last = range.end;
    }
    expected.push_str(input.get(last..).unwrap_or(""));
    Ok((changes, expected))
}

/// An edit outside the site (an ARG default) must not change another
/// site that reads the same bytes to a different image.
fn guard_shared(
    l: &Loaded,
    index: usize,
    site: &ImageSite,
    span: Span,
    input: &str,
) -> Result<(), String> {
    if site.span.start <= span.start && span.end <= site.span.end {
        return Ok(());
    }
    for (other_index, other) in l.sites.iter().enumerate() {
        if other_index == index {
            continue;
        }
        let SiteValue::Resolved { pieces, .. } = &other.value else {
            continue;
        };
        let touches = pieces.iter().any(|p| {
            p.file
                .is_some_and(|f| f.start <= span.start && span.end <= f.end)
        });
        let same = other.reference().map(|r| r.input()) == Some(input);
        if touches && !same {
            return Err(format!(
                "the value is shared with `{}`, which names another image",
                other.raw
            ));
        }
    }
    Ok(())
}

/// Write the updated files (crate::write: atomic, owner and mode kept, a
/// file edited since it was read is left alone).
pub fn write(outcome: &UpdateOutcome) -> Vec<(String, String)> {
    let mut errors = Vec::new();
    for f in &outcome.files {
        if let Some(fixed) = &f.fixed
            && let Err(e) = crate::write::write_fixed(&f.path, &f.original, None, fixed)
        {
            errors.push((f.display.clone(), e.to_string()));
        }
    }
    errors
}

/// The lock with this run's digests recorded as seen now (those it has
/// not seen before). Whether anything was added.
pub fn record_seen(lock: &mut Lock, seen: &[String]) -> bool {
    let at = rfc3339(now());
    let mut added = false;
    for d in seen {
        added |= lock.see(d, &at);
    }
    added
}
