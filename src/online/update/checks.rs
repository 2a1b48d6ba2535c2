//! Verified pins in `refit update`: REF006 to REF009 on the pins it
//! reads, the pins and tags it would write, and the re-pins that repair
//! them.

use super::engine::{Engine, human};
use super::tags::Stamp;
use super::{Answer, Finding, Loaded, Question, Status, question, updatable};
use crate::online::client::Failure;
use crate::online::platforms::{FileText, Wanted, repository_platforms, site_platforms};
use crate::online::resolve::{Want, now};
use crate::online::verify::{
    Known, Pin, Verdict, Verification, record, repin_digest, short, verify_all,
};
use std::collections::HashMap;

/// What verifying the pins read and written found.
pub(super) struct Checks {
    /// Per loaded file, per site: the platforms it is built for (REF009).
    pub(super) wanted: Vec<Vec<Vec<Wanted>>>,
    /// Every pin read, and every pin a proposal writes, verified.
    pub(super) verified: HashMap<(Pin, bool), Result<Verification, Failure>>,
    /// The platforms of unpinned tags (read, and proposed) built for a
    /// platform.
    pub(super) tags: HashMap<Want, Result<Vec<String>, Failure>>,
    /// A re-pin of the same tag (REF006, REF007, REF008) that the policy
    /// allows, by question: the digest, its age, or why not.
    pub(super) repins: HashMap<Question, Result<(String, Option<Stamp>), String>>,
    /// The records of the re-pins (the tag's digest, asked this run).
    pub(super) repin_records: Vec<crate::online::lock::Verified>,
    /// The digests verification saw served (first-seen times).
    pub(super) seen: Vec<String>,
}

impl Checks {
    pub(super) fn wanted(&self, file: usize, site: usize) -> &[Wanted] {
        self.wanted
            .get(file)
            .and_then(|w| w.get(site))
            .map_or(&[], Vec::as_slice)
    }

    /// The `[[verified]]` records of the pins read (`written`: false) or
    /// of the pins the proposals write.
    pub(super) fn records(
        &self,
        loaded: &[Loaded],
        written: bool,
    ) -> Vec<crate::online::lock::Verified> {
        let read: std::collections::HashSet<Pin> = loaded
            .iter()
            .flat_map(|l| l.sites.iter())
            .filter(|s| updatable(s))
            .filter_map(|s| s.reference().and_then(Pin::of))
            .collect();
        let mut out: Vec<crate::online::lock::Verified> = self
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
pub(super) fn proposal(q: &Question, a: &Answer) -> Option<(String, String)> {
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
pub(super) fn verify_pins(
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
    let tags = crate::online::verify::tag_platforms_all(engine.resolver, &known, &tags);
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
                repin_records.push(crate::online::lock::Verified {
                    reference: written.key(),
                    digest: d.clone(),
                    verified: crate::online::lock::rfc3339(v.at),
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
pub(super) fn read_findings(v: &Verification, pin: &Pin) -> Option<Finding> {
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
pub(super) fn platform_findings(what: &str, wanted: &[Wanted], offered: &[String]) -> Vec<Finding> {
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
