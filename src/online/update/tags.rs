//! What `refit update` keeps between runs and within one: the on-disk
//! cache of tag lists and registry timestamps, and a per-run memo.

use crate::online::resolve::now;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

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
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct Stored {
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
pub(super) const STAMP_TTL: u64 = 90 * 86_400;

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
    pub(super) fn tags(&self, key: &str) -> Option<Vec<String>> {
        let s = self.stored.lock().unwrap_or_else(|e| e.into_inner());
        let (at, tags) = s.tags.get(key)?;
        (now().saturating_sub(*at) < self.ttl).then(|| tags.clone())
    }
    pub(super) fn put_tags(&self, key: &str, tags: &[String]) {
        let mut s = self.stored.lock().unwrap_or_else(|e| e.into_inner());
        s.tags.insert(key.to_string(), (now(), tags.to_vec()));
        *self.dirty.lock().unwrap_or_else(|e| e.into_inner()) = true;
    }
    pub(super) fn stamp(&self, digest: &str) -> Option<Option<Stamp>> {
        let s = self.stored.lock().unwrap_or_else(|e| e.into_inner());
        s.stamps.get(digest).map(|(_, st)| st.clone())
    }
    pub(super) fn put_stamp(&self, digest: &str, stamp: &Option<Stamp>) {
        let mut s = self.stored.lock().unwrap_or_else(|e| e.into_inner());
        s.stamps.insert(digest.to_string(), (now(), stamp.clone()));
        *self.dirty.lock().unwrap_or_else(|e| e.into_inner()) = true;
    }
    /// Write the cache back (atomically), dropping expired entries.
    pub fn save(&self) -> std::io::Result<()> {
        if !*self.dirty.lock().unwrap_or_else(|e| e.into_inner()) {
            return Ok(());
        }
        // A copy: the cache stays usable (and a second save complete).
        let mut s = self
            .stored
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
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
pub(super) struct Memo<K, V>(Mutex<HashMap<K, Arc<OnceLock<V>>>>);

impl<K: std::hash::Hash + Eq + Clone, V: Clone> Memo<K, V> {
    pub(super) fn new() -> Self {
        Memo(Mutex::new(HashMap::new()))
    }
    pub(super) fn get(&self, key: &K, f: impl FnOnce() -> V) -> V {
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
    pub(super) fn done(&self) -> Vec<(K, V)> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter_map(|(k, c)| c.get().map(|v| (k.clone(), v.clone())))
            .collect()
    }
}
