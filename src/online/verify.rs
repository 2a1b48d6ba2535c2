//! Verified pins: whether a pinned digest is still served, whether it is
//! one platform's manifest of the index its tag points to, whether its
//! tag still agrees, and which platforms the pinned image offers (REF006,
//! REF007, REF008, REF009; `refit pin`; `refit.lock`'s `verified`).
//!
//! Every question goes through the [`Resolver`], so the digest cache and
//! the client's per-host limits apply: a tag or digest asked within the
//! cache TTL (`--cache-ttl`) is not asked again, and `pin --check` /
//! `pin --update` revalidate tags as they always do. Answers that a digest
//! is *not* served are never cached (the next run asks again); a single
//! manifest's platform (its config blob) is asked only when a platform
//! check needs it, and is cached by digest ([`Resolver::platform_of`]).

use super::client::Failure;
use super::platforms::Wanted;
use super::resolve::{Resolved, Resolver, Want, now};
use crate::reference::Reference;
use std::collections::HashMap;
use std::sync::Mutex;

/// A pinned reference: the digest written, and the tag beside it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pin {
    pub registry: String,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: String,
}

impl Pin {
    /// The pin of a reference that carries a digest.
    pub fn of(reference: &Reference) -> Option<Pin> {
        let digest = reference.digest_str()?;
        Some(Pin {
            registry: reference.normalized_domain().to_string(),
            repository: reference.normalized_path(),
            tag: reference.tag_str().map(str::to_string),
            digest: digest.to_string(),
        })
    }

    fn want(&self, tag: &str, detailed: bool) -> Want {
        Want {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            tag: tag.to_string(),
            detailed,
        }
    }
}

/// What the registry says about a pin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The digest is served and, with a tag, the tag points to it.
    Current,
    /// The digest is served and is `platform`'s manifest in the index the
    /// tag points to (`index`).
    PlatformOfIndex { platform: String, index: String },
    /// The digest is served, but the tag now points to `current`.
    TagMoved { current: String },
    /// The registry does not serve the digest (`code`: its error code).
    /// `current`: what the tag points to now, when there is a tag and it
    /// resolves.
    Vanished {
        code: String,
        current: Option<String>,
    },
}

/// The outcome of verifying one pin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub verdict: Verdict,
    /// The platforms the image that matters offers: the pinned index's,
    /// the tag's index for a platform pin, a single manifest's own
    /// platform. Empty when not asked (no platform check) or unknown.
    pub platforms: Vec<String>,
    /// Whether the pinned digest is an index (`None`: not served).
    pub pinned_index: Option<bool>,
    /// What was checked, for `refit.lock` (`digest-served`, `tag-agrees`,
    /// `index`, `platform-manifest linux/amd64`, `platforms`).
    pub checked: Vec<String>,
    /// When (seconds since the epoch).
    pub at: u64,
}

impl Verification {
    /// The platforms the repository builds for that the image lacks.
    pub fn missing<'a>(&self, wanted: &'a [Wanted]) -> Vec<&'a Wanted> {
        super::platforms::missing(&self.platforms, wanted)
    }
}

/// The digest a fix re-pins to, when there is one: the index for a
/// platform pin, the tag's current digest for a moved tag or a vanished
/// digest.
pub fn repin_digest(verdict: &Verdict) -> Option<&str> {
    match verdict {
        Verdict::Current => None,
        Verdict::PlatformOfIndex { index, .. } => Some(index),
        Verdict::TagMoved { current } => Some(current),
        Verdict::Vanished { current, .. } => current.as_deref(),
    }
}

/// Answers a caller already has (its `resolve_all`), by want: used
/// before asking, so a run asks each question once even without the
/// digest cache.
pub type Known = HashMap<Want, Result<Resolved, Failure>>;

/// Resolve through `known` first (a detailed answer covers a plain
/// question).
fn ask(resolver: &Resolver, known: &Known, want: &Want) -> Result<Resolved, Failure> {
    let mut detailed = want.clone();
    detailed.detailed = true;
    if let Some(r) = known.get(&detailed) {
        return r.clone();
    }
    if !want.detailed
        && let Some(r) = known.get(want)
    {
        return r.clone();
    }
    if want.detailed
        && let Some(Ok(r)) = known.get(&Want {
            detailed: false,
            ..want.clone()
        })
        && (r.detailed || !r.is_index())
    {
        return Ok(r.clone());
    }
    resolver.resolve(want)
}

/// Verify one pin. With `platforms`, also read which platforms the image
/// offers (a GET of an index, or of a manifest and its config).
pub fn verify(
    resolver: &Resolver,
    known: &Known,
    pin: &Pin,
    platforms: bool,
) -> Result<Verification, Failure> {
    let mut out = Verification {
        verdict: Verdict::Current,
        platforms: Vec::new(),
        pinned_index: None,
        checked: Vec::new(),
        at: now(),
    };
    let tag = match &pin.tag {
        Some(t) => match ask(resolver, known, &pin.want(t, false)) {
            Ok(r) => Some(r),
            // The tag is gone (REF003 says so); the digest may still be.
            Err(Failure::NotFound { .. }) => None,
            Err(e) => return Err(e),
        },
        None => None,
    };
    if let Some(t) = &tag
        && t.digest == pin.digest
    {
        out.checked.push("digest-served".to_string());
        out.checked.push("tag-agrees".to_string());
        out.pinned_index = Some(t.is_index());
        if platforms {
            out.platforms = offered(
                resolver,
                known,
                pin,
                t,
                pin.tag.as_deref().unwrap_or_default(),
            )?;
            out.checked.push(kind_of(t));
            out.checked.push("platforms".to_string());
        }
        return Ok(out);
    }
    let by_digest = match ask(resolver, known, &pin.want(&pin.digest, platforms)) {
        Ok(r) => r,
        Err(Failure::NotFound { code }) => {
            out.verdict = Verdict::Vanished {
                code,
                current: tag.map(|t| t.digest),
            };
            return Ok(out);
        }
        Err(e) => return Err(e),
    };
    out.checked.push("digest-served".to_string());
    out.pinned_index = Some(by_digest.is_index());
    let Some(tag) = tag else {
        if platforms {
            out.platforms = offered(resolver, known, pin, &by_digest, &pin.digest)?;
            out.checked.push(kind_of(&by_digest));
            out.checked.push("platforms".to_string());
        }
        return Ok(out);
    };
    if tag.is_index() && !by_digest.is_index() {
        let index = ask(
            resolver,
            known,
            &pin.want(pin.tag.as_deref().unwrap_or_default(), true),
        )?;
        if let Some((platform, _)) = index.manifests.iter().find(|(_, d)| *d == pin.digest) {
            out.checked.push(format!("platform-manifest {platform}"));
            out.platforms = index.platforms();
            out.verdict = Verdict::PlatformOfIndex {
                platform: platform.clone(),
                index: index.digest.clone(),
            };
            return Ok(out);
        }
    }
    if platforms {
        out.platforms = offered(resolver, known, pin, &by_digest, &pin.digest)?;
        out.checked.push(kind_of(&by_digest));
        out.checked.push("platforms".to_string());
    }
    out.verdict = Verdict::TagMoved {
        current: tag.digest.clone(),
    };
    Ok(out)
}

fn kind_of(r: &Resolved) -> String {
    if r.is_index() {
        "index".to_string()
    } else {
        "single-manifest".to_string()
    }
}

/// The platforms a resolved image offers: an index's list (read through
/// the cache), a single manifest's own platform.
fn offered(
    resolver: &Resolver,
    known: &Known,
    pin: &Pin,
    resolved: &Resolved,
    asked_as: &str,
) -> Result<Vec<String>, Failure> {
    if resolved.is_index() {
        if resolved.detailed {
            return Ok(resolved.platforms());
        }
        return Ok(ask(resolver, known, &pin.want(asked_as, true))?.platforms());
    }
    Ok(resolver
        .platform_of(&pin.registry, &pin.repository, &resolved.digest)?
        .into_iter()
        .collect())
}

/// The platforms an unpinned tag offers (REF009 for `FROM --platform=…
/// name:tag`).
pub fn tag_platforms(
    resolver: &Resolver,
    known: &Known,
    want: &Want,
) -> Result<Vec<String>, Failure> {
    let mut detailed = want.clone();
    detailed.detailed = true;
    let r = ask(resolver, known, &detailed)?;
    let pin = Pin {
        registry: want.registry.clone(),
        repository: want.repository.clone(),
        tag: Some(want.tag.clone()),
        digest: r.digest.clone(),
    };
    offered(resolver, known, &pin, &r, &want.tag)
}

/// Verify many pins at once, each distinct `(pin, platforms)` once, in
/// parallel under the resolver's worker count (the client's per-host
/// limit still applies). What `refit pin`, `check --online` and `refit
/// update` call.
pub fn verify_all(
    resolver: &Resolver,
    known: &Known,
    pins: &[(Pin, bool)],
) -> HashMap<(Pin, bool), Result<Verification, Failure>> {
    let mut work: Vec<(Pin, bool)> = pins.to_vec();
    work.sort();
    work.dedup();
    // Asking with platforms answers the plain question too.
    let with: std::collections::HashSet<&Pin> = work
        .iter()
        .filter(|(_, p)| *p)
        .map(|(pin, _)| pin)
        .collect();
    let work: Vec<(Pin, bool)> = work
        .iter()
        .filter(|(pin, p)| *p || !with.contains(pin))
        .cloned()
        .collect();
    let answers = in_parallel(resolver.workers, &work, |(pin, platforms)| {
        verify(resolver, known, pin, *platforms)
    });
    let mut results: HashMap<(Pin, bool), Result<Verification, Failure>> = work
        .into_iter()
        .zip(answers)
        .filter_map(|(k, r)| r.map(|r| (k, r)))
        .collect();
    for (pin, platforms) in pins {
        if !*platforms
            && !results.contains_key(&(pin.clone(), false))
            && let Some(r) = results.get(&(pin.clone(), true)).cloned()
        {
            results.insert((pin.clone(), false), r);
        }
    }
    results
}

/// The platforms of many unpinned tags, each once, in parallel.
pub fn tag_platforms_all(
    resolver: &Resolver,
    known: &Known,
    wants: &[Want],
) -> HashMap<Want, Result<Vec<String>, Failure>> {
    let mut work = wants.to_vec();
    work.sort();
    work.dedup();
    let answers = in_parallel(resolver.workers, &work, |w| {
        tag_platforms(resolver, known, w)
    });
    work.into_iter()
        .zip(answers)
        .filter_map(|(k, r)| r.map(|r| (k, r)))
        .collect()
}

/// `f` over `items` on up to `workers` threads (at most 64), the answers
/// in the items' order (every one `Some` once the threads are done).
fn in_parallel<T: Sync, R: Send>(
    workers: usize,
    items: &[T],
    f: impl Fn(&T) -> R + Sync,
) -> Vec<Option<R>> {
    let slots: Vec<Mutex<Option<R>>> = items.iter().map(|_| Mutex::new(None)).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let workers = workers.clamp(1, 64).min(items.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let (Some(item), Some(slot)) = (items.get(i), slots.get(i)) else {
                        break;
                    };
                    let r = f(item);
                    *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
                }
            });
        }
    });
    slots
        .into_iter()
        .map(|s| s.into_inner().unwrap_or_else(|e| e.into_inner()))
        .collect()
}

/// A short digest for messages (`sha256:0123456789ab`).
pub fn short(digest: &str) -> &str {
    digest.get(..19).unwrap_or(digest)
}

impl Pin {
    /// The lock file's key for the pin: `registry/repository:tag`, or
    /// `registry/repository@digest` without a tag.
    pub fn key(&self) -> String {
        match &self.tag {
            Some(t) => format!("{}/{}:{t}", self.registry, self.repository),
            None => format!("{}/{}@{}", self.registry, self.repository, self.digest),
        }
    }
}

impl Verdict {
    /// The verdict as `refit.lock` records it.
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Current => "current",
            Verdict::PlatformOfIndex { .. } => "platform-manifest",
            Verdict::TagMoved { .. } => "tag-moved",
            Verdict::Vanished { .. } => "vanished",
        }
    }
}

/// The `refit.lock` record of a verification (`[[verified]]`).
pub fn record(pin: &Pin, v: &Verification) -> super::lock::Verified {
    super::lock::Verified {
        reference: pin.key(),
        digest: pin.digest.clone(),
        verified: super::lock::rfc3339(v.at),
        verdict: v.verdict.label().to_string(),
        checks: v.checked.clone(),
    }
}
