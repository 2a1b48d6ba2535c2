//! The questions `refit update` asks of a registry, each once per run:
//! a repository's tags, a tag's digest, a digest's age; and the answer
//! for one reference (the newest tag the policy allows and old enough).

use super::tags::{AgeSource, Memo, Stamp};
use super::{Answer, Question, Status, UpdateOptions};
use crate::online::client::{Failure, is_index};
use crate::online::lock::parse_rfc3339;
use crate::online::resolve::{Resolver, Want, now};
use crate::online::versions::{Candidate, Version, newer};
use std::sync::Mutex;

/// The most candidates whose age is asked for one reference before
/// refit gives up on finding one old enough.
pub const MAX_AGE_TRIES: usize = 10;
/// The most tags resolved to find the tag of a digest-only reference.
pub const MAX_REVERSE: usize = 256;

pub(super) struct Engine<'a> {
    pub(super) resolver: &'a Resolver,
    pub(super) options: &'a UpdateOptions,
    pub(super) tags: Memo<(String, String), Result<Vec<String>, Failure>>,
    pub(super) resolved:
        Memo<(String, String, String), Result<crate::online::resolve::Resolved, Failure>>,
    pub(super) stamps: Memo<String, Result<Option<Stamp>, Failure>>,
    pub(super) seen: Mutex<Vec<String>>,
}

impl Engine<'_> {
    pub(super) fn tag_list(
        &self,
        registry: &str,
        repository: &str,
    ) -> Result<Vec<String>, Failure> {
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

    pub(super) fn digest(
        &self,
        registry: &str,
        repository: &str,
        tag: &str,
    ) -> Result<String, Failure> {
        self.resolve(registry, repository, tag).map(|r| r.digest)
    }

    /// A tag (or digest) resolved once per run, through the digest cache.
    pub(super) fn resolve(
        &self,
        registry: &str,
        repository: &str,
        tag: &str,
    ) -> Result<crate::online::resolve::Resolved, Failure> {
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
    pub(super) fn registry_stamp(
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

    pub(super) fn fetch_stamp(
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
            let platforms =
                crate::online::resolve::index_platforms(m.body.as_deref().unwrap_or(&[]));
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
    pub(super) fn age_of(&self, q: &Question, digest: &str) -> Result<Option<Stamp>, Failure> {
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

    pub(super) fn answer(&self, q: &Question) -> Answer {
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
    pub(super) fn propose(
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
    pub(super) fn reverse(
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
