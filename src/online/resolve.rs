//! Resolving many references at once: each distinct one asked once per
//! run, in parallel under the client's per-host limit, through an on-disk
//! cache with a TTL.

use super::client::{Client, Failure, Manifest, is_index};
use crate::reference::Reference;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What a tag (or digest) resolved to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Resolved {
    pub digest: String,
    pub media_type: String,
    /// For an index: each platform (`linux/amd64`) and its manifest digest.
    #[serde(default)]
    pub manifests: Vec<(String, String)>,
    /// Whether `manifests` was read (an index's body was fetched).
    #[serde(default)]
    pub detailed: bool,
    /// The host that answered (a mirror or the registry).
    pub host: String,
    /// Seconds since the epoch.
    pub resolved_at: u64,
    /// Read from the digest cache of an earlier run, not asked now.
    #[serde(skip)]
    pub from_cache: bool,
}

impl Resolved {
    pub fn is_index(&self) -> bool {
        is_index(&self.media_type)
    }
    pub fn platforms(&self) -> Vec<String> {
        self.manifests.iter().map(|(p, _)| p.clone()).collect()
    }
    pub fn platform_digest(&self, platform: &str) -> Option<&str> {
        self.manifests
            .iter()
            .find(|(p, _)| p == platform)
            .map(|(_, d)| d.as_str())
    }
}

/// One thing to ask: a repository at a tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Want {
    /// `docker.io`, `127.0.0.1:5000`.
    pub registry: String,
    /// `library/alpine`.
    pub repository: String,
    pub tag: String,
    /// Fetch the index's platforms too (a GET).
    pub detailed: bool,
}

impl Want {
    pub fn of(reference: &Reference, detailed: bool) -> Want {
        Want {
            registry: reference.normalized_domain().to_string(),
            repository: reference.normalized_path(),
            // A reference pinned by digest alone is asked by its digest.
            tag: reference
                .tag_str()
                .or(reference.digest_str())
                .unwrap_or("latest")
                .to_string(),
            detailed,
        }
    }
    /// `docker.io/library/alpine:3.20` (the lock file's key).
    pub fn key(&self) -> String {
        if self.by_digest() {
            format!("{}/{}@{}", self.registry, self.repository, self.tag)
        } else {
            format!("{}/{}:{}", self.registry, self.repository, self.tag)
        }
    }
    /// Asked by digest (the reference has no tag).
    pub fn by_digest(&self) -> bool {
        self.tag.starts_with("sha256:")
    }
}

/// The lock file's key for a reference: `docker.io/library/alpine:3.20`
/// (`latest` when there is no tag).
pub fn key_of(reference: &Reference) -> String {
    Want::of(reference, false).key()
}

/// The on-disk cache: digests by reference.
#[derive(Debug)]
pub struct Cache {
    path: PathBuf,
    ttl: Duration,
    entries: Mutex<BTreeMap<String, Resolved>>,
    dirty: Mutex<bool>,
    /// The keys asked of a registry in this run.
    asked: Mutex<std::collections::HashSet<String>>,
}

/// The user's cache folder for refit: `$REFIT_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/refit`, else `~/.cache/refit`.
pub fn cache_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("REFIT_CACHE_DIR") {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("refit"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache").join("refit"))
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Cache {
    pub fn open(dir: PathBuf, ttl: Duration) -> Cache {
        let path = dir.join("digests.json");
        let entries = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        Cache {
            path,
            ttl,
            entries: Mutex::new(entries),
            dirty: Mutex::new(false),
            asked: Mutex::new(std::collections::HashSet::new()),
        }
    }

    /// A fresh entry; with `this_run`, only one asked in this run (what
    /// `--check` and `--update` may use: a tag can move within the TTL).
    fn get(&self, want: &Want, this_run: bool) -> Option<Resolved> {
        let key = want.key();
        let asked = self
            .asked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&key);
        if this_run && !asked {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let hit = entries.get(&key)?;
        let fresh = now().saturating_sub(hit.resolved_at) < self.ttl.as_secs();
        let enough = !want.detailed || hit.detailed || !hit.is_index();
        (fresh && enough).then(|| Resolved {
            from_cache: !asked,
            ..hit.clone()
        })
    }

    fn put(&self, want: &Want, resolved: &Resolved) {
        self.asked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(want.key());
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(want.key(), resolved.clone());
        *self.dirty.lock().unwrap_or_else(|e| e.into_inner()) = true;
    }

    /// Write the cache back (atomically), dropping expired entries.
    pub fn save(&self) -> std::io::Result<()> {
        if !*self.dirty.lock().unwrap_or_else(|e| e.into_inner()) {
            return Ok(());
        }
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let t = now();
        entries.retain(|_, r| t.saturating_sub(r.resolved_at) < self.ttl.as_secs());
        let text = serde_json::to_vec(&entries).map_err(std::io::Error::other)?;
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
            let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
            std::io::Write::write_all(&mut tmp, &text)?;
            tmp.persist(&self.path).map_err(|e| e.error)?;
        }
        Ok(())
    }
}

/// The platforms of an index body: `os/arch[/variant]` and digest, without
/// attestation entries (`unknown/unknown`).
pub fn index_platforms(body: &[u8]) -> Vec<(String, String)> {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Vec::new();
    };
    let Some(list) = v.get("manifests").and_then(|m| m.as_array()) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|m| {
            let digest = m.get("digest")?.as_str()?.to_string();
            let platform = platform_string(m.get("platform")?)?;
            Some((platform, digest))
        })
        .collect()
}

/// `os/arch[/variant]` of a platform object (an index entry's `platform`
/// or an image config), `None` for `unknown`.
pub fn platform_string(p: &serde_json::Value) -> Option<String> {
    let os = p.get("os")?.as_str()?;
    let arch = p.get("architecture")?.as_str()?;
    if os == "unknown" || arch == "unknown" {
        return None;
    }
    Some(match p.get("variant").and_then(|v| v.as_str()) {
        Some(variant) if !variant.is_empty() => format!("{os}/{arch}/{variant}"),
        _ => format!("{os}/{arch}"),
    })
}

pub struct Resolver {
    pub client: Client,
    pub cache: Option<Cache>,
    /// Worker threads for a batch.
    pub workers: usize,
    /// Ask the registry even when the cache has an answer from an earlier
    /// run (`pin --check`, `pin --update`: whether a tag moved is the
    /// question). The answers are still cached for later runs.
    pub revalidate: bool,
}

impl Resolver {
    /// Resolve one want (cache first, unless `revalidate`).
    pub fn resolve(&self, want: &Want) -> Result<Resolved, Failure> {
        if let Some(hit) = self
            .cache
            .as_ref()
            .and_then(|c| c.get(want, self.revalidate))
        {
            return Ok(hit);
        }
        let m = self
            .client
            .manifest(&want.registry, &want.repository, &want.tag, false)?;
        let mut resolved = from_manifest(&m);
        if want.detailed && resolved.is_index() {
            let full = self
                .client
                .manifest(&want.registry, &want.repository, &m.digest, true)?;
            resolved.manifests = full
                .body
                .as_deref()
                .map(index_platforms)
                .unwrap_or_default();
            resolved.detailed = true;
        }
        if let Some(cache) = &self.cache {
            cache.put(want, &resolved);
        }
        Ok(resolved)
    }

    /// Resolve every want once, in parallel.
    pub fn resolve_all(&self, wants: &[Want]) -> HashMap<Want, Result<Resolved, Failure>> {
        let mut distinct: Vec<Want> = wants.to_vec();
        distinct.sort();
        distinct.dedup();
        // A detailed want covers the plain one.
        let detailed: std::collections::HashSet<String> = distinct
            .iter()
            .filter(|w| w.detailed)
            .map(Want::key)
            .collect();
        let work: Vec<Want> = distinct
            .iter()
            .filter(|w| w.detailed || !detailed.contains(&w.key()))
            .cloned()
            .collect();
        let results: Mutex<HashMap<Want, Result<Resolved, Failure>>> = Mutex::new(HashMap::new());
        let next = std::sync::atomic::AtomicUsize::new(0);
        let workers = self.workers.clamp(1, 64).min(work.len().max(1));
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(want) = work.get(i) else { break };
                        let r = self.resolve(want);
                        results
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(want.clone(), r);
                    }
                });
            }
        });
        let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
        for w in &distinct {
            if !results.contains_key(w) {
                let mut d = w.clone();
                d.detailed = true;
                if let Some(r) = results.get(&d).cloned() {
                    results.insert(w.clone(), r);
                }
            }
        }
        results
    }

    /// The platform of a manifest digest (a GET of the manifest and of its
    /// config; `None` for an index). A digest's content never changes, so
    /// the answer is kept in the digest cache (`--cache-ttl`) under a key
    /// no tag can have, and asked again only once it expires.
    pub fn platform_of(
        &self,
        registry: &str,
        repository: &str,
        digest: &str,
    ) -> Result<Option<String>, Failure> {
        let key = Want {
            registry: registry.to_string(),
            repository: repository.to_string(),
            // A space: never a tag.
            tag: format!("platform-of {digest}"),
            detailed: true,
        };
        if let Some(hit) = self.cache.as_ref().and_then(|c| c.get(&key, false))
            && hit.digest == digest
        {
            return Ok(hit.manifests.first().map(|(p, _)| p.clone()));
        }
        let found = self.fetch_platform(registry, repository, digest)?;
        if let Some(cache) = &self.cache {
            cache.put(&key, &found);
        }
        Ok(found.manifests.first().map(|(p, _)| p.clone()))
    }

    /// [`Resolver::platform_of`] asked of the registry: the manifest, its
    /// media type and (for an image) its platform.
    fn fetch_platform(
        &self,
        registry: &str,
        repository: &str,
        digest: &str,
    ) -> Result<Resolved, Failure> {
        let m = self.client.manifest(registry, repository, digest, true)?;
        let mut out = Resolved {
            digest: digest.to_string(),
            media_type: m.media_type.clone(),
            manifests: Vec::new(),
            detailed: true,
            host: m.host.clone(),
            resolved_at: now(),
            from_cache: false,
        };
        if is_index(&m.media_type) {
            return Ok(out);
        }
        let Some(body) = m.body else { return Ok(out) };
        let v: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|_| Failure::Invalid("manifest is not JSON".to_string()))?;
        let Some(config) = v
            .get("config")
            .and_then(|c| c.get("digest"))
            .and_then(|d| d.as_str())
        else {
            return Ok(out);
        };
        let endpoint = self
            .client
            .endpoints(registry)
            .into_iter()
            .find(|e| e.host == m.host)
            .ok_or_else(|| Failure::Invalid("answering host vanished".to_string()))?;
        let blob = self.client.blob(&endpoint, repository, config)?;
        let v: serde_json::Value = serde_json::from_slice(&blob)
            .map_err(|_| Failure::Invalid("image config is not JSON".to_string()))?;
        if let Some(p) = platform_string(&v) {
            out.manifests.push((p, digest.to_string()));
        }
        Ok(out)
    }
}

fn from_manifest(m: &Manifest) -> Resolved {
    Resolved {
        digest: m.digest.clone(),
        media_type: m.media_type.clone(),
        manifests: m
            .body
            .as_deref()
            .filter(|_| is_index(&m.media_type))
            .map(index_platforms)
            .unwrap_or_default(),
        detailed: m.body.is_some(),
        host: m.host.clone(),
        resolved_at: now(),
        from_cache: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_platforms_skip_attestations() {
        let body = br#"{"manifests":[
            {"digest":"sha256:a","platform":{"os":"linux","architecture":"amd64"}},
            {"digest":"sha256:b","platform":{"os":"linux","architecture":"arm","variant":"v7"}},
            {"digest":"sha256:c","platform":{"os":"unknown","architecture":"unknown"}}]}"#;
        assert_eq!(
            index_platforms(body),
            vec![
                ("linux/amd64".to_string(), "sha256:a".to_string()),
                ("linux/arm/v7".to_string(), "sha256:b".to_string())
            ]
        );
    }
}
