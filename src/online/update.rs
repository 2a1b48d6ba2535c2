//! `refit update`: newer version tags for every reference, within the
//! `[update]` policy of `refit.toml`, proposed as edits of the same sites
//! `refit pin` and `--fix` edit (ARG defaults, Helm maps, kustomize
//! entries), with the same read-back check before anything is written.
//!
//! Each repository's tags are listed once per run (and cached on disk
//! with the digest cache's TTL); each new tag is resolved once (through
//! the digest cache) for its digest; image ages come from `refit.lock`'s
//! first-seen times, else from the registry's own `created` timestamps
//! (cached by digest: a digest's content never changes).

use super::client::{Failure, is_index};
use super::lock::{Lock, parse_rfc3339, rfc3339};
use super::platforms::{FileText, Wanted, repository_platforms, serves, site_platforms};
use super::resolve::{Resolver, Want, now};
use super::verify::{Known, Pin, Verdict, Verification, record, repin_digest, short, verify_all};
use super::versions::{Candidate, Level, Version, newer};
use crate::diagnostic::{Edit, LineIndex};
use crate::discover::Target;
use crate::kind::FileKind;
use crate::settings::Settings;
use crate::site::{ImageSite, SiteKind, SiteValue, Span};
use globset::{Glob, GlobSet, GlobSetBuilder};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

/// The most candidates whose age is asked for one reference before
/// refit gives up on finding one old enough.
pub const MAX_AGE_TRIES: usize = 10;
/// The most tags resolved to find the tag of a digest-only reference.
pub const MAX_REVERSE: usize = 256;

/// The `[update]` policy, compiled.
#[derive(Debug, Clone)]
pub struct Policy {
    allow: Level,
    min_age: Option<u64>,
    ignore: GlobSet,
    rules: Vec<Rule>,
}

/// One `[[update.rule]]`, compiled.
#[derive(Debug, Clone)]
struct Rule {
    images: GlobSet,
    allow: Option<Level>,
    /// `Some(None)` never happens from TOML; `Some(Some(secs))` when set.
    min_age: Option<Option<u64>>,
    ignore: Option<bool>,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            allow: Level::Minor,
            min_age: None,
            ignore: GlobSet::empty(),
            rules: Vec::new(),
        }
    }
}

/// What the policy says for one image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Effective {
    pub allow: Level,
    /// Seconds.
    pub min_age: Option<u64>,
    pub ignored: bool,
}

/// `3d`, `12h`, `2w`, `30m`, `90s` (or a sum: `1d12h`) in seconds.
pub fn parse_duration(text: &str) -> Option<u64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return None,
        };
        if number.is_empty() || number.len() > 9 {
            return None;
        }
        total = total.checked_add(number.parse::<u64>().ok()?.checked_mul(unit)?)?;
        number.clear();
    }
    number.is_empty().then_some(total)
}

fn globs(patterns: &[String]) -> Result<GlobSet, String> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        b.add(Glob::new(p).map_err(|e| format!("[update]: invalid glob `{p}`: {e}"))?);
    }
    b.build().map_err(|e| e.to_string())
}

fn level(text: &Option<String>) -> Result<Option<Level>, String> {
    text.as_deref()
        .map(|t| {
            Level::parse(t).ok_or_else(|| {
                format!("[update]: `allow = \"{t}\"` is not `patch`, `minor` or `major`")
            })
        })
        .transpose()
}

fn age(text: &Option<String>) -> Result<Option<u64>, String> {
    text.as_deref()
        .map(|t| {
            parse_duration(t).ok_or_else(|| {
                format!("[update]: `min-age = \"{t}\"` is not a duration like `3d`, `12h` or `2w`")
            })
        })
        .transpose()
}

impl Policy {
    pub fn from_config(config: Option<&crate::config::UpdateConfig>) -> Result<Policy, String> {
        let Some(c) = config else {
            return Ok(Policy::default());
        };
        let mut rules = Vec::new();
        for r in c.rule.iter().flatten() {
            rules.push(Rule {
                images: globs(&r.images)?,
                allow: level(&r.allow)?,
                min_age: r.min_age.as_ref().map(|_| age(&r.min_age)).transpose()?,
                ignore: r.ignore,
            });
        }
        Ok(Policy {
            allow: level(&c.allow)?.unwrap_or(Level::Minor),
            min_age: age(&c.min_age)?,
            ignore: globs(c.ignore.as_deref().unwrap_or(&[]))?,
            rules,
        })
    }

    /// The settings for an image, by its normalized name
    /// (`docker.io/library/node`) or its name as Docker shows it (`node`).
    pub fn effective(&self, normalized: &str, familiar: &str) -> Effective {
        let hit = |g: &GlobSet| g.is_match(normalized) || g.is_match(familiar);
        let mut e = Effective {
            allow: self.allow,
            min_age: self.min_age,
            ignored: hit(&self.ignore),
        };
        for r in &self.rules {
            if hit(&r.images) {
                e.allow = r.allow.unwrap_or(e.allow);
                e.min_age = r.min_age.unwrap_or(e.min_age);
                e.ignored = r.ignore.unwrap_or(e.ignored);
            }
        }
        e
    }
}

/// Where an image's age came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AgeSource {
    /// `refit.lock`'s first-seen time of the digest.
    Lock,
    /// The manifest's or index's `org.opencontainers.image.created`.
    Annotation,
    /// The image config's `created`.
    ConfigCreated,
}

impl AgeSource {
    pub fn label(self) -> &'static str {
        match self {
            AgeSource::Lock => "first seen, refit.lock",
            AgeSource::Annotation => "org.opencontainers.image.created",
            AgeSource::ConfigCreated => "image config created",
        }
    }
}

/// A time an image existed by, and where it is written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stamp {
    /// Seconds since the epoch.
    pub at: u64,
    pub source: AgeSource,
}

/// The on-disk cache of tag lists (with a TTL) and registry timestamps
/// (by digest), beside the digest cache.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Stored {
    #[serde(default)]
    tags: BTreeMap<String, (u64, Vec<String>)>,
    /// Digest → its registry timestamp (`None`: the registry has none),
    /// and when it was read.
    #[serde(default)]
    stamps: BTreeMap<String, (u64, Option<Stamp>)>,
}

pub struct TagCache {
    path: PathBuf,
    ttl: u64,
    stored: Mutex<Stored>,
    dirty: Mutex<bool>,
}

/// How long a registry timestamp is kept: a digest's content never
/// changes, so only to keep the file small.
const STAMP_TTL: u64 = 90 * 86_400;

impl TagCache {
    pub fn open(dir: PathBuf, ttl: std::time::Duration) -> TagCache {
        let path = dir.join("tags.json");
        let stored = crate::bounded::read_regular(&path, 64 * 1024 * 1024)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        TagCache {
            path,
            ttl: ttl.as_secs(),
            stored: Mutex::new(stored),
            dirty: Mutex::new(false),
        }
    }
    fn tags(&self, key: &str) -> Option<Vec<String>> {
        let s = self.stored.lock().unwrap_or_else(|e| e.into_inner());
        let (at, tags) = s.tags.get(key)?;
        (now().saturating_sub(*at) < self.ttl).then(|| tags.clone())
    }
    fn put_tags(&self, key: &str, tags: &[String]) {
        let mut s = self.stored.lock().unwrap_or_else(|e| e.into_inner());
        s.tags.insert(key.to_string(), (now(), tags.to_vec()));
        *self.dirty.lock().unwrap_or_else(|e| e.into_inner()) = true;
    }
    fn stamp(&self, digest: &str) -> Option<Option<Stamp>> {
        let s = self.stored.lock().unwrap_or_else(|e| e.into_inner());
        s.stamps.get(digest).map(|(_, st)| st.clone())
    }
    fn put_stamp(&self, digest: &str, stamp: &Option<Stamp>) {
        let mut s = self.stored.lock().unwrap_or_else(|e| e.into_inner());
        s.stamps.insert(digest.to_string(), (now(), stamp.clone()));
        *self.dirty.lock().unwrap_or_else(|e| e.into_inner()) = true;
    }
    /// Write the cache back (atomically), dropping expired entries.
    pub fn save(&self) -> std::io::Result<()> {
        if !*self.dirty.lock().unwrap_or_else(|e| e.into_inner()) {
            return Ok(());
        }
        let mut s = std::mem::take(&mut *self.stored.lock().unwrap_or_else(|e| e.into_inner()));
        let t = now();
        s.tags.retain(|_, (at, _)| t.saturating_sub(*at) < self.ttl);
        s.stamps
            .retain(|_, (at, _)| t.saturating_sub(*at) < STAMP_TTL);
        let text = serde_json::to_vec(&s).map_err(std::io::Error::other)?;
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
            let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
            std::io::Write::write_all(&mut tmp, &text)?;
            tmp.persist(&self.path).map_err(|e| e.error)?;
        }
        Ok(())
    }
}

/// Each key computed once per run, however many threads ask at once.
struct Memo<K, V>(Mutex<HashMap<K, Arc<OnceLock<V>>>>);

impl<K: std::hash::Hash + Eq + Clone, V: Clone> Memo<K, V> {
    fn new() -> Self {
        Memo(Mutex::new(HashMap::new()))
    }
    fn get(&self, key: &K, f: impl FnOnce() -> V) -> V {
        let cell = self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key.clone())
            .or_default()
            .clone();
        cell.get_or_init(f).clone()
    }
    /// Every key computed so far, with its value.
    fn done(&self) -> Vec<(K, V)> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter_map(|(k, c)| c.get().map(|v| (k.clone(), v.clone())))
            .collect()
    }
}

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
    pub verified_read: Vec<super::lock::Verified>,
    /// What was verified about the pins the proposals write (recorded
    /// when they are written).
    pub verified_written: Vec<super::lock::Verified>,
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

struct Engine<'a> {
    resolver: &'a Resolver,
    options: &'a UpdateOptions,
    tags: Memo<(String, String), Result<Vec<String>, Failure>>,
    resolved: Memo<(String, String, String), Result<super::resolve::Resolved, Failure>>,
    stamps: Memo<String, Result<Option<Stamp>, Failure>>,
    seen: Mutex<Vec<String>>,
}

impl Engine<'_> {
    fn tag_list(&self, registry: &str, repository: &str) -> Result<Vec<String>, Failure> {
        let key = (registry.to_string(), repository.to_string());
        self.tags.get(&key, || {
            let cache_key = format!("{registry}/{repository}");
            if let Some(hit) = self
                .options
                .tag_cache
                .as_ref()
                .and_then(|c| c.tags(&cache_key))
            {
                return Ok(hit);
            }
            let list = self
                .resolver
                .client
                .tags(registry, repository, self.options.page_size)?;
            if let Some(c) = &self.options.tag_cache {
                c.put_tags(&cache_key, &list.tags);
            }
            Ok(list.tags)
        })
    }

    fn digest(&self, registry: &str, repository: &str, tag: &str) -> Result<String, Failure> {
        self.resolve(registry, repository, tag).map(|r| r.digest)
    }

    /// A tag (or digest) resolved once per run, through the digest cache.
    fn resolve(
        &self,
        registry: &str,
        repository: &str,
        tag: &str,
    ) -> Result<super::resolve::Resolved, Failure> {
        let key = (
            registry.to_string(),
            repository.to_string(),
            tag.to_string(),
        );
        self.resolved.get(&key, || {
            let want = Want {
                registry: registry.to_string(),
                repository: repository.to_string(),
                tag: tag.to_string(),
                detailed: false,
            };
            let r = self.resolver.resolve(&want)?;
            self.seen
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(r.digest.clone());
            Ok(r)
        })
    }

    /// The registry's own timestamp of a digest: the manifest's (or
    /// index's) `org.opencontainers.image.created` annotation, else the
    /// image config's `created` (of the index's first platform).
    fn registry_stamp(
        &self,
        registry: &str,
        repository: &str,
        digest: &str,
    ) -> Result<Option<Stamp>, Failure> {
        self.stamps.get(&digest.to_string(), || {
            if let Some(hit) = self
                .options
                .tag_cache
                .as_ref()
                .and_then(|c| c.stamp(digest))
            {
                return Ok(hit);
            }
            let found = self.fetch_stamp(registry, repository, digest, 0)?;
            if let Some(c) = &self.options.tag_cache {
                c.put_stamp(digest, &found);
            }
            Ok(found)
        })
    }

    fn fetch_stamp(
        &self,
        registry: &str,
        repository: &str,
        digest: &str,
        depth: usize,
    ) -> Result<Option<Stamp>, Failure> {
        let client = &self.resolver.client;
        let m = client.manifest(registry, repository, digest, true)?;
        let body: serde_json::Value = m
            .body
            .as_deref()
            .and_then(|b| serde_json::from_slice(b).ok())
            .ok_or_else(|| Failure::Invalid("manifest is not JSON".to_string()))?;
        if let Some(at) = body
            .get("annotations")
            .and_then(|a| a.get("org.opencontainers.image.created"))
            .and_then(|c| c.as_str())
            .and_then(parse_rfc3339)
        {
            return Ok(Some(Stamp {
                at,
                source: AgeSource::Annotation,
            }));
        }
        if is_index(&m.media_type) {
            if depth > 0 {
                return Ok(None);
            }
            let platforms = super::resolve::index_platforms(m.body.as_deref().unwrap_or(&[]));
            let first = platforms
                .iter()
                .find(|(p, _)| p == "linux/amd64")
                .or_else(|| platforms.first());
            return match first {
                Some((_, d)) => self.fetch_stamp(registry, repository, d, depth + 1),
                None => Ok(None),
            };
        }
        let Some(config) = body
            .get("config")
            .and_then(|c| c.get("digest"))
            .and_then(|d| d.as_str())
        else {
            return Ok(None);
        };
        let endpoint = client
            .endpoints(registry)
            .into_iter()
            .find(|e| e.host == m.host)
            .ok_or_else(|| Failure::Invalid("answering host vanished".to_string()))?;
        let blob = client.blob(&endpoint, repository, config)?;
        let v: serde_json::Value = serde_json::from_slice(&blob)
            .map_err(|_| Failure::Invalid("image config is not JSON".to_string()))?;
        Ok(v.get("created")
            .and_then(|c| c.as_str())
            .and_then(parse_rfc3339)
            .map(|at| Stamp {
                at,
                source: AgeSource::ConfigCreated,
            }))
    }

    /// How old a digest is: `refit.lock`'s first-seen time, else the
    /// registry's timestamp.
    fn age_of(&self, q: &Question, digest: &str) -> Result<Option<Stamp>, Failure> {
        if let Some(at) = self
            .options
            .lock
            .as_ref()
            .and_then(|l| l.first_seen(digest))
            .and_then(parse_rfc3339)
        {
            return Ok(Some(Stamp {
                at,
                source: AgeSource::Lock,
            }));
        }
        self.registry_stamp(&q.registry, &q.repository, digest)
    }

    fn answer(&self, q: &Question) -> Answer {
        let mut a = Answer {
            current: q.tag.clone(),
            chosen: None,
            status: Status::Current,
            notes: Vec::new(),
        };
        let skip = |mut a: Answer, why: String| {
            a.status = Status::Skipped(why);
            a
        };
        let fail = |mut a: Answer, e: Failure| {
            a.status = Status::Failed(e);
            a
        };
        if let Some(tag) = &q.tag
            && Version::parse(tag).is_none()
        {
            return skip(a, format!("`{tag}` is not a version tag; left alone"));
        }
        let tags = match self.tag_list(&q.registry, &q.repository) {
            Ok(t) => t,
            Err(e) => return fail(a, e),
        };
        let current = match (&q.tag, &q.digest) {
            (Some(t), _) => t.clone(),
            (None, Some(d)) => match self.reverse(q, d, &tags) {
                Ok(Ok(t)) => t,
                Ok(Err(why)) => return skip(a, why),
                Err(e) => return fail(a, e),
            },
            (None, None) => return skip(a, "no tag; left alone".to_string()),
        };
        a.current = Some(current.clone());
        let Some(candidates) = newer(&current, tags.iter().map(String::as_str), q.policy.allow)
        else {
            return skip(a, format!("`{current}` is not a version tag; left alone"));
        };
        for (tries, c) in candidates.into_iter().enumerate() {
            if tries == MAX_AGE_TRIES {
                a.notes.push(format!(
                    "stopped after {MAX_AGE_TRIES} newer tags too young or of unknown age"
                ));
                break;
            }
            let digest = match self.digest(&q.registry, &q.repository, &c.tag) {
                Ok(d) => d,
                Err(e) => return fail(a, e),
            };
            let Some(min_age) = q.policy.min_age else {
                let stamp = self
                    .options
                    .lock
                    .as_ref()
                    .and_then(|l| l.first_seen(&digest))
                    .and_then(parse_rfc3339)
                    .map(|at| Stamp {
                        at,
                        source: AgeSource::Lock,
                    });
                return self.propose(q, a, c, digest, stamp);
            };
            match self.age_of(q, &digest) {
                Ok(Some(stamp)) => {
                    let age = now().saturating_sub(stamp.at);
                    if age >= min_age {
                        return self.propose(q, a, c, digest, Some(stamp));
                    }
                    a.notes.push(format!(
                        "`{}` is {} old ({}), younger than the minimum age {}",
                        c.tag,
                        human(age),
                        stamp.source.label(),
                        human(min_age)
                    ));
                }
                Ok(None) => a.notes.push(format!(
                    "`{}`: no age known (not in refit.lock, no created time in the registry) and a minimum age is set",
                    c.tag
                )),
                Err(e) => return fail(a, e),
            }
        }
        if !a.notes.is_empty() && q.tag.is_some() {
            let why = a.notes.join("; ");
            return skip(a, why);
        }
        a
    }

    /// Propose `c` with the new tag's digest.
    fn propose(
        &self,
        _q: &Question,
        mut a: Answer,
        c: Candidate,
        digest: String,
        stamp: Option<Stamp>,
    ) -> Answer {
        // A pinned pair moves to the new tag's digest: the index's for an
        // index, also when the old pin was one platform's manifest (REF007).
        a.chosen = Some((c, digest, stamp));
        a.status = Status::Proposed;
        a
    }

    /// The one version tag pointing to a digest (`Ok(Err(why))` when
    /// there is none or more than one).
    fn reverse(
        &self,
        q: &Question,
        digest: &str,
        tags: &[String],
    ) -> Result<Result<String, String>, Failure> {
        let mut versions: Vec<(Version, &String)> = tags
            .iter()
            .filter_map(|t| Some((Version::parse(t)?, t)))
            .filter(|(v, _)| v.pre.is_none())
            .collect();
        versions.sort_by(|(a, _), (b, _)| b.precedence(a));
        if versions.len() > MAX_REVERSE {
            return Ok(Err(format!(
                "{} version tags; refit looks for a digest's tag among {MAX_REVERSE} at most",
                versions.len()
            )));
        }
        let mut found = Vec::new();
        for (_, t) in &versions {
            if self.digest(&q.registry, &q.repository, t)? == digest {
                found.push((*t).clone());
            }
        }
        Ok(match found.len() {
            1 => Ok(found.remove(0)),
            0 => Err("no version tag points to this digest; left alone".to_string()),
            _ => Err(format!(
                "{} version tags point to this digest ({}); left alone",
                found.len(),
                found.join(", ")
            )),
        })
    }
}

/// `3d`, `5h`, `12m`, `40s`.
pub fn human(secs: u64) -> String {
    if secs >= 86_400 {
        format!("{}d", secs / 86_400)
    } else if secs >= 3600 {
        format!("{}h", secs / 3600)
    } else if secs >= 60 {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
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
    super::pin::pinnable(site)
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

/// What verifying the pins read and written found.
struct Checks {
    /// Per loaded file, per site: the platforms it is built for (REF009).
    wanted: Vec<Vec<Vec<Wanted>>>,
    /// Every pin read, and every pin a proposal writes, verified.
    verified: HashMap<(Pin, bool), Result<Verification, Failure>>,
    /// The platforms of unpinned tags (read, and proposed) built for a
    /// platform.
    tags: HashMap<Want, Result<Vec<String>, Failure>>,
    /// A re-pin of the same tag (REF006, REF007, REF008) that the policy
    /// allows, by question: the digest, its age, or why not.
    repins: HashMap<Question, Result<(String, Option<Stamp>), String>>,
    /// The records of the re-pins (the tag's digest, asked this run).
    repin_records: Vec<super::lock::Verified>,
    /// The digests verification saw served (first-seen times).
    seen: Vec<String>,
}

impl Checks {
    fn wanted(&self, file: usize, site: usize) -> &[Wanted] {
        self.wanted
            .get(file)
            .and_then(|w| w.get(site))
            .map_or(&[], Vec::as_slice)
    }

    /// The `[[verified]]` records of the pins read (`written`: false) or
    /// of the pins the proposals write.
    fn records(&self, loaded: &[Loaded], written: bool) -> Vec<super::lock::Verified> {
        let read: std::collections::HashSet<Pin> = loaded
            .iter()
            .flat_map(|l| l.sites.iter())
            .filter(|s| updatable(s))
            .filter_map(|s| s.reference().and_then(Pin::of))
            .collect();
        let mut out: Vec<super::lock::Verified> = self
            .verified
            .iter()
            .filter(|((pin, _), _)| read.contains(pin) != written)
            .filter_map(|((pin, _), v)| v.as_ref().ok().map(|v| record(pin, v)))
            .collect();
        if written {
            out.extend(self.repin_records.iter().cloned());
        }
        out.sort_by(|a, b| (&a.reference, &a.digest).cmp(&(&b.reference, &b.digest)));
        out.dedup_by(|a, b| a.reference == b.reference && a.digest == b.digest);
        out
    }
}

/// The new tag and digest a question's answer proposes, when it does.
fn proposal(q: &Question, a: &Answer) -> Option<(String, String)> {
    a.chosen
        .as_ref()
        .map(|(c, d, _)| (c.tag.clone(), d.clone()))
        .filter(|_| q.tag.is_some() || q.digest.is_some())
}

/// Verify what `refit update` reads and writes, as `check --online`
/// does: every pin read (REF006 vanished, REF007 a platform's manifest of
/// the tag's index, REF008 the tag moved), the platforms a `FROM` is
/// built for against what the image offers (REF009), and the pins and
/// tags the proposals write. What the update already resolved is not
/// asked again ([`Known`]); the rest goes through the digest cache.
fn verify_pins(
    loaded: &[Loaded],
    answers: &HashMap<Question, Answer>,
    engine: &Engine<'_>,
) -> Checks {
    let files: Vec<FileText> = loaded
        .iter()
        .map(|l| FileText {
            kind: l.target.kind,
            display: &l.target.display,
            text: Some(&l.text),
            path: Some(&l.target.path),
        })
        .collect();
    let repository = repository_platforms(&files);
    let wanted: Vec<Vec<Vec<Wanted>>> = files
        .iter()
        .zip(loaded)
        .map(|(f, l)| site_platforms(f, &l.sites, &repository))
        .collect();
    let mut known: Known = HashMap::new();
    for ((registry, repository, tag), r) in engine.resolved.done() {
        known.insert(
            Want {
                registry,
                repository,
                tag,
                detailed: false,
            },
            r,
        );
    }
    let mut pins: Vec<(Pin, bool)> = Vec::new();
    let mut tags: Vec<Want> = Vec::new();
    for (fi, l) in loaded.iter().enumerate() {
        for (si, site) in l.sites.iter().enumerate() {
            if !updatable(site) {
                continue;
            }
            let (Some(q), Some(reference)) = (question(site, &l.policy), site.reference()) else {
                continue;
            };
            if q.policy.ignored {
                continue;
            }
            let platforms = !wanted
                .get(fi)
                .and_then(|w| w.get(si))
                .is_none_or(Vec::is_empty);
            match Pin::of(reference) {
                Some(pin) => pins.push((pin, platforms)),
                None if platforms && q.tag.is_some() => tags.push(Want::of(reference, true)),
                None => {}
            }
            let Some((tag, digest)) = answers.get(&q).and_then(|a| proposal(&q, a)) else {
                continue;
            };
            if q.digest.is_some() {
                pins.push((
                    Pin {
                        registry: q.registry.clone(),
                        repository: q.repository.clone(),
                        tag: Some(tag),
                        digest,
                    },
                    platforms,
                ));
            } else if platforms {
                tags.push(Want {
                    registry: q.registry.clone(),
                    repository: q.repository.clone(),
                    tag,
                    detailed: true,
                });
            }
        }
    }
    let verified = verify_all(engine.resolver, &known, &pins);
    let tags = super::verify::tag_platforms_all(engine.resolver, &known, &tags);
    // Re-pins of the same tag, for pins no newer tag replaces.
    let mut repins = HashMap::new();
    let mut repin_records = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for v in verified.values().flatten() {
        if let Some(d) = repin_digest(&v.verdict) {
            seen.push(d.to_string());
        }
    }
    for ((pin, _), v) in &verified {
        if let Ok(v) = v
            && !matches!(v.verdict, Verdict::Vanished { .. })
        {
            seen.push(pin.digest.clone());
        }
    }
    for l in loaded {
        for site in l.sites.iter().filter(|s| updatable(s)) {
            let (Some(q), Some(pin)) = (
                question(site, &l.policy),
                site.reference().and_then(Pin::of),
            ) else {
                continue;
            };
            if q.policy.ignored || repins.contains_key(&q) {
                continue;
            }
            let Some(a) = answers.get(&q) else { continue };
            if a.chosen.is_some() || matches!(a.status, Status::Failed(_)) {
                continue;
            }
            let v = verified
                .get(&(pin.clone(), true))
                .or_else(|| verified.get(&(pin.clone(), false)));
            let Some(Ok(v)) = v else { continue };
            let Some(digest) = repin_digest(&v.verdict) else {
                continue;
            };
            let repin = match (&v.verdict, q.policy.min_age) {
                // The same content for its platform: no age to wait for.
                (Verdict::PlatformOfIndex { .. }, _) => Ok((digest.to_string(), None)),
                (_, None) => Ok((digest.to_string(), None)),
                (_, Some(min_age)) => match engine.age_of(&q, digest) {
                    Ok(Some(stamp)) if now().saturating_sub(stamp.at) >= min_age => {
                        Ok((digest.to_string(), Some(stamp)))
                    }
                    Ok(Some(stamp)) => Err(format!(
                        "the tag's digest `{}` is {} old ({}), younger than the minimum age {}",
                        short(digest),
                        human(now().saturating_sub(stamp.at)),
                        stamp.source.label(),
                        human(min_age)
                    )),
                    Ok(None) => Err(format!(
                        "the tag's digest `{}`: no age known and a minimum age is set",
                        short(digest)
                    )),
                    Err(e) => Err(format!("the age of `{}`: {e}", short(digest))),
                },
            };
            if let Ok((d, _)) = &repin {
                let written = Pin {
                    digest: d.clone(),
                    ..pin.clone()
                };
                repin_records.push(super::lock::Verified {
                    reference: written.key(),
                    digest: d.clone(),
                    verified: super::lock::rfc3339(v.at),
                    verdict: Verdict::Current.label().to_string(),
                    checks: vec!["digest-served".to_string(), "tag-agrees".to_string()],
                });
            }
            repins.insert(q, repin);
        }
    }
    Checks {
        wanted,
        verified,
        tags,
        repins,
        repin_records,
        seen,
    }
}

/// The findings of the pin a site reads.
fn read_findings(v: &Verification, pin: &Pin) -> Option<Finding> {
    let tag = pin.tag.as_deref().unwrap_or_default();
    let (code, message) = match &v.verdict {
        Verdict::Current => return None,
        Verdict::Vanished { code, current } => (
            "REF006",
            match current {
                Some(c) => format!(
                    "the pinned digest `{}` is not served ({code}); the tag `{tag}` is now `{c}`",
                    pin.digest
                ),
                None => format!(
                    "the pinned digest `{}` is not served ({code}), and there is no tag to re-pin to",
                    pin.digest
                ),
            },
        ),
        Verdict::PlatformOfIndex { platform, index } => (
            "REF007",
            format!(
                "the pin `{}` is the {platform} manifest of the multi-platform index `{index}` the tag `{tag}` points to",
                short(&pin.digest)
            ),
        ),
        Verdict::TagMoved { current } => (
            "REF008",
            format!(
                "the tag `{tag}` now points to `{current}`, not the pinned `{}`",
                pin.digest
            ),
        ),
    };
    Some(Finding {
        code,
        message,
        fixed: false,
    })
}

/// REF009 findings: the platforms `wanted` that `offered` lacks.
fn platform_findings(what: &str, wanted: &[Wanted], offered: &[String]) -> Vec<Finding> {
    let check = Verification {
        verdict: Verdict::Current,
        platforms: offered.to_vec(),
        pinned_index: None,
        checked: Vec::new(),
        at: 0,
    };
    check
        .missing(wanted)
        .into_iter()
        .map(|w| Finding {
            code: "REF009",
            message: format!(
                "{what} has no {} manifest (it offers {}); the repository builds for it ({})",
                w.platform,
                offered.join(", "),
                w.source
            ),
            fixed: false,
        })
        .collect()
}

/// An edit of the `.env` file beside a Compose file, waiting for
/// [`super::dotenv_edit::check_group`].
struct PendingEnv {
    env: PathBuf,
    edit: Edit,
    /// The site (in its file) and the reference it must read as.
    site: usize,
    expected: String,
    /// The item (in its file's items).
    item: usize,
}

/// A Compose file's `.env` (its path and text) and its source options.
fn env_of(l: &Loaded) -> Option<(PathBuf, String, crate::sources::SourceOptions)> {
    if l.target.kind != FileKind::Compose {
        return None;
    }
    let path = l.target.path.parent()?.join(".env");
    let text = crate::bounded::read_regular(&path, super::dotenv_edit::MAX_ENV_BYTES).ok()?;
    let settings = Settings::default();
    let options = crate::workspace::Workspace::shared().source_options(
        &l.target.path,
        l.target.kind,
        crate::check::options(&settings),
    );
    Some((path, text, options))
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
                    match super::dotenv_edit::plan(
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

/// Apply the `.env` edits, one `.env` file at a time, after reading every
/// Compose file beside it with all of them ([`super::dotenv_edit`]); the
/// `.env` file joins the outcome's files, or its items are left alone
/// with the reason. `base`: where `loaded`'s files start in `files`.
fn apply_env_edits(
    loaded: &[Loaded],
    files: &mut Vec<FileUpdate>,
    base: usize,
    pending: Vec<(usize, PendingEnv)>,
) {
    let mut groups: BTreeMap<PathBuf, Vec<(usize, PendingEnv)>> = BTreeMap::new();
    for (fi, p) in pending {
        groups.entry(p.env.clone()).or_default().push((fi, p));
    }
    for (env, group) in groups {
        let Ok(env_text) = crate::bounded::read_regular(&env, super::dotenv_edit::MAX_ENV_BYTES)
        else {
            continue;
        };
        let settings = Settings::default();
        let readers_options: Vec<(usize, crate::sources::SourceOptions)> = loaded
            .iter()
            .enumerate()
            .filter(|(_, l)| {
                l.target.kind == FileKind::Compose
                    && l.target.path.parent().map(|d| d.join(".env")).as_ref() == Some(&env)
            })
            .map(|(i, l)| {
                (
                    i,
                    crate::workspace::Workspace::shared().source_options(
                        &l.target.path,
                        l.target.kind,
                        crate::check::options(&settings),
                    ),
                )
            })
            .collect();
        let readers: Vec<super::dotenv_edit::Reader> = readers_options
            .iter()
            .filter_map(|(i, options)| {
                let l = loaded.get(*i)?;
                Some(super::dotenv_edit::Reader {
                    display: &l.target.display,
                    text: &l.text,
                    options,
                    sites: &l.sites,
                    expected: group
                        .iter()
                        .filter(|(fi, _)| fi == i)
                        .map(|(_, p)| (p.site, p.expected.clone()))
                        .collect(),
                })
            })
            .collect();
        let edits: Vec<Edit> = group.iter().map(|(_, p)| p.edit.clone()).collect();
        match super::dotenv_edit::check_group(&env_text, &edits, &readers) {
            Ok(fixed) => {
                let display = group
                    .first()
                    .and_then(|(fi, _)| loaded.get(*fi))
                    .map(|l| {
                        std::path::Path::new(&l.target.display)
                            .with_file_name(".env")
                            .display()
                            .to_string()
                    })
                    .unwrap_or_else(|| env.display().to_string());
                files.push(FileUpdate {
                    display,
                    path: env.clone(),
                    kind: FileKind::Compose,
                    fixed: (fixed != env_text).then_some(fixed),
                    original: env_text,
                    items: Vec::new(),
                    error: None,
                });
            }
            Err(why) => {
                for (fi, p) in &group {
                    if let Some(item) = files
                        .get_mut(base + fi)
                        .and_then(|f| f.items.get_mut(p.item))
                    {
                        item.status = Status::Skipped(why.clone());
                        item.to = None;
                        for f in &mut item.findings {
                            f.fixed = false;
                        }
                    }
                }
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("3d"), Some(3 * 86_400));
        assert_eq!(parse_duration("12h"), Some(12 * 3600));
        assert_eq!(parse_duration("2w"), Some(14 * 86_400));
        assert_eq!(parse_duration("1d12h"), Some(36 * 3600));
        assert_eq!(parse_duration("90s"), Some(90));
        for bad in ["", "3", "d", "3x", "-1d", "99999999999d"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn policy_rules_last_match_wins() {
        let c: crate::config::UpdateConfig = toml::from_str(
            r#"
allow = "patch"
min-age = "3d"
ignore = ["docker.io/library/postgres"]
[[rule]]
images = ["node", "ghcr.io/org/*"]
allow = "major"
[[rule]]
images = ["ghcr.io/org/frozen"]
ignore = true
"#,
        )
        .unwrap();
        let p = Policy::from_config(Some(&c)).unwrap();
        let e = p.effective("docker.io/library/node", "node");
        assert_eq!(e.allow, Level::Major);
        assert_eq!(e.min_age, Some(3 * 86_400));
        assert!(!e.ignored);
        assert!(
            p.effective("docker.io/library/postgres", "postgres")
                .ignored
        );
        assert!(
            p.effective("ghcr.io/org/frozen", "ghcr.io/org/frozen")
                .ignored
        );
        assert_eq!(
            p.effective("ghcr.io/org/a", "ghcr.io/org/a").allow,
            Level::Major
        );
        assert_eq!(
            p.effective("quay.io/x/y", "quay.io/x/y").allow,
            Level::Patch
        );
        let bad: crate::config::UpdateConfig = toml::from_str("allow = \"huge\"").unwrap();
        assert!(Policy::from_config(Some(&bad)).is_err());
        let bad: crate::config::UpdateConfig = toml::from_str("min-age = \"soon\"").unwrap();
        assert!(Policy::from_config(Some(&bad)).is_err());
    }
}
