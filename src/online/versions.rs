//! Version tags: reading `3.20`, `v1.2.3`, `20-alpine`, `2024.01.15` or
//! `1.0.0-rc1` as a version, and choosing the newer tags of the same
//! scheme for `refit update`.
//!
//! A tag is a version when it is an optional `v`, one to four numbers
//! joined by dots, and an optional suffix after a `-`. The suffix's first
//! part is a prerelease when it is a prerelease word (`alpha`, `beta`,
//! `rc`, `pre`, `preview`, `dev`, `snapshot`, optionally numbered:
//! `rc1`, `rc.2`); the rest is the variant (`alpine`, `slim-bookworm`).
//! A candidate is of the same scheme when it has the same `v`, the same
//! number of numbers (the precision: `3.20` moves to `3.21`, never to
//! `3.21.1`), the same variant (`20-alpine` never becomes `22-bookworm`)
//! and the same kind of first number (a year, 1000 or more, is calendar
//! versioning: `20` never becomes `20240115`). A prerelease is proposed
//! only to a tag that is a prerelease itself. `latest`, `stable`, commit
//! hashes and other words are not versions.

use std::cmp::Ordering;

/// How far an update may go: the first number that may change.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// Only the third number and later (`1.2.3` → `1.2.4`).
    Patch,
    /// The second number and later (`1.2.3` → `1.3.0`).
    Minor,
    /// Any number (`1.2.3` → `2.0.0`).
    Major,
}

impl Level {
    pub fn label(self) -> &'static str {
        match self {
            Level::Patch => "patch",
            Level::Minor => "minor",
            Level::Major => "major",
        }
    }
    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "patch" => Some(Level::Patch),
            "minor" => Some(Level::Minor),
            "major" => Some(Level::Major),
            _ => None,
        }
    }
}

/// The words that make a suffix a prerelease, lowest first.
const PRERELEASE: &[&str] = &["dev", "snapshot", "alpha", "beta", "pre", "preview", "rc"];

/// A prerelease: its word's rank in [`PRERELEASE`] and its number.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pre {
    rank: usize,
    number: u64,
}

/// A tag read as a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub v: bool,
    pub numbers: Vec<u64>,
    pub pre: Option<Pre>,
    /// The variant suffix (`alpine`, `slim-bookworm`), empty for none.
    pub variant: String,
}

fn prerelease(part: &str) -> Option<Pre> {
    let lower = part.to_ascii_lowercase();
    // Longest word first (`preview` before `pre`).
    let mut words: Vec<(usize, &&str)> = PRERELEASE.iter().enumerate().collect();
    words.sort_by_key(|(_, w)| std::cmp::Reverse(w.len()));
    for (rank, word) in words {
        if let Some(rest) = lower.strip_prefix(*word) {
            let rest = rest.strip_prefix('.').unwrap_or(rest);
            if rest.is_empty() {
                return Some(Pre { rank, number: 0 });
            }
            if rest.len() <= 9 && rest.bytes().all(|b| b.is_ascii_digit()) {
                return Some(Pre {
                    rank,
                    number: rest.parse().ok()?,
                });
            }
        }
    }
    None
}

impl Version {
    /// The tag as a version, `None` when it is not one.
    pub fn parse(tag: &str) -> Option<Version> {
        let (v, rest) = match tag.strip_prefix(['v', 'V']) {
            Some(r) if r.starts_with(|c: char| c.is_ascii_digit()) => (true, r),
            _ => (false, tag),
        };
        let (core, suffix) = match rest.split_once('-') {
            Some((c, s)) => (c, Some(s)),
            None => (rest, None),
        };
        let mut numbers = Vec::new();
        for part in core.split('.') {
            if part.is_empty() || part.len() > 18 || !part.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            numbers.push(part.parse().ok()?);
        }
        if numbers.is_empty() || numbers.len() > 4 {
            return None;
        }
        let mut pre = None;
        let mut variant = String::new();
        if let Some(suffix) = suffix {
            let parts: Vec<&str> = suffix.split('-').collect();
            if parts.iter().any(|p| p.is_empty()) {
                return None;
            }
            let mut rest = &parts[..];
            if let Some(first) = parts.first()
                && let Some(p) = prerelease(first)
            {
                pre = Some(p);
                rest = &parts[1..];
            }
            variant = rest.join("-");
        }
        Some(Version {
            v,
            numbers,
            pre,
            variant,
        })
    }

    /// Calendar versioning: the first number is a year.
    pub fn is_calendar(&self) -> bool {
        self.numbers.first().is_some_and(|n| *n >= 1000)
    }

    /// Whether `other` is of this version's scheme (see the module
    /// documentation).
    pub fn same_scheme(&self, other: &Version) -> bool {
        self.v == other.v
            && self.numbers.len() == other.numbers.len()
            && self.variant == other.variant
            && self.is_calendar() == other.is_calendar()
    }

    /// How far `newer` is from this version: the level of the first number
    /// that differs (a prerelease becoming its release is a patch).
    pub fn level_to(&self, newer: &Version) -> Level {
        match self
            .numbers
            .iter()
            .zip(&newer.numbers)
            .position(|(a, b)| a != b)
        {
            Some(0) => Level::Major,
            Some(1) => Level::Minor,
            _ => Level::Patch,
        }
    }

    /// Precedence: the numbers, then a release above its prereleases.
    pub fn precedence(&self, other: &Version) -> Ordering {
        self.numbers
            .cmp(&other.numbers)
            .then_with(|| match (&self.pre, &other.pre) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(a), Some(b)) => a.cmp(b),
            })
    }
}

/// A newer tag and how far it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub tag: String,
    pub level: Level,
}

/// The tags newer than `current` of its scheme that `allow` permits,
/// newest first. `None` when `current` is not a version.
pub fn newer<'a>(
    current: &str,
    tags: impl IntoIterator<Item = &'a str>,
    allow: Level,
) -> Option<Vec<Candidate>> {
    let now = Version::parse(current)?;
    let mut out: Vec<(Version, Candidate)> = tags
        .into_iter()
        .filter_map(|t| Some((t, Version::parse(t)?)))
        .filter(|(_, v)| now.same_scheme(v))
        .filter(|(_, v)| v.pre.is_none() || now.pre.is_some())
        .filter(|(_, v)| v.precedence(&now) == Ordering::Greater)
        .map(|(t, v)| {
            let level = now.level_to(&v);
            (
                v,
                Candidate {
                    tag: t.to_string(),
                    level,
                },
            )
        })
        .filter(|(_, c)| c.level <= allow)
        .collect();
    // Newest first; equal precedence (`v1.2` and `v1.02`): by tag text.
    out.sort_by(|(a, ca), (b, cb)| b.precedence(a).then_with(|| ca.tag.cmp(&cb.tag)));
    out.dedup_by(|(a, _), (b, _)| a.precedence(b) == Ordering::Equal);
    Some(out.into_iter().map(|(_, c)| c).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAGS: &[&str] = &[
        "latest",
        "stable",
        "3.19",
        "3.20",
        "3.21",
        "3.20.1",
        "3.21.0",
        "3.21.2",
        "4.0.0",
        "4.0",
        "v1.2.3",
        "v1.2.4",
        "v1.3.0",
        "v2.0.0",
        "1.2.3",
        "1.2.9",
        "20",
        "22",
        "20-alpine",
        "22-alpine",
        "24-bookworm",
        "20240115",
        "1.2.3-bookworm",
        "1.2.5-bookworm",
        "1.3.0-bookworm",
        "3.12-slim-bookworm",
        "3.13-slim-bookworm",
        "3.13-slim",
        "3.14-slim-trixie",
        "2024.01.15",
        "2024.02.01",
        "2025.01.01",
        "1.0.0-rc1",
        "1.0.0-rc2",
        "1.0.0",
        "1.1.0-beta.1",
        "1.2.10-rc1",
        "sha-3f2a9c1",
        "3f2a9c1",
    ];

    fn best(current: &str, allow: Level) -> Option<Option<String>> {
        newer(current, TAGS.iter().copied(), allow).map(|c| c.first().map(|c| c.tag.clone()))
    }

    #[test]
    fn table() {
        use Level::*;
        let cases: &[(&str, Level, Option<Option<&str>>)] = &[
            // Partial versions keep their precision.
            ("3.20", Minor, Some(Some("3.21"))),
            ("3.20", Patch, Some(None)),
            ("3.20", Major, Some(Some("4.0"))),
            ("3.20.1", Minor, Some(Some("3.21.2"))),
            ("3.20.1", Patch, Some(None)),
            ("3.21.0", Patch, Some(Some("3.21.2"))),
            // Semver, with and without `v`, never crossing.
            ("v1.2.3", Patch, Some(Some("v1.2.4"))),
            ("v1.2.3", Minor, Some(Some("v1.3.0"))),
            ("v1.2.3", Major, Some(Some("v2.0.0"))),
            ("1.2.3", Patch, Some(Some("1.2.9"))),
            ("1.2.3", Major, Some(Some("4.0.0"))),
            // Major-only.
            ("20", Minor, Some(None)),
            ("20", Major, Some(Some("22"))),
            // Variants are kept, never crossed.
            ("20-alpine", Major, Some(Some("22-alpine"))),
            ("22-alpine", Major, Some(None)),
            ("1.2.3-bookworm", Patch, Some(Some("1.2.5-bookworm"))),
            ("1.2.3-bookworm", Minor, Some(Some("1.3.0-bookworm"))),
            (
                "3.12-slim-bookworm",
                Minor,
                Some(Some("3.13-slim-bookworm")),
            ),
            // Calendar versions.
            ("2024.01.15", Minor, Some(Some("2024.02.01"))),
            ("2024.01.15", Major, Some(Some("2025.01.01"))),
            ("2024.02.01", Minor, Some(None)),
            // Prereleases: never proposed to a release.
            ("1.0.0", Minor, Some(Some("1.2.9"))),
            ("1.0.0", Patch, Some(None)),
            ("1.0.0-rc1", Patch, Some(Some("1.0.0"))),
            ("1.0.0-rc1", Minor, Some(Some("1.2.10-rc1"))),
            // Not versions: left alone.
            ("latest", Major, None),
            ("stable", Major, None),
            ("sha-3f2a9c1", Major, None),
            ("3f2a9c1", Major, None),
        ];
        for (current, allow, want) in cases {
            let want = want.map(|o| o.map(str::to_string));
            assert_eq!(best(current, *allow), want, "{current} under {allow:?}");
        }
    }

    #[test]
    fn parsing() {
        let v = Version::parse("3.12-slim-bookworm").unwrap();
        assert_eq!(v.numbers, vec![3, 12]);
        assert_eq!(v.variant, "slim-bookworm");
        assert!(v.pre.is_none());
        let v = Version::parse("v1.0.0-rc.2-alpine").unwrap();
        assert!(v.v);
        assert_eq!(v.pre, Some(Pre { rank: 6, number: 2 }));
        assert_eq!(v.variant, "alpine");
        let v = Version::parse("1.0.0-preview3").unwrap();
        assert_eq!(v.pre, Some(Pre { rank: 5, number: 3 }));
        assert!(Version::parse("2024.01.15").unwrap().is_calendar());
        for not in [
            "",
            "v",
            "latest",
            "1.",
            ".1",
            "1..2",
            "1-",
            "1.2.3.4.5",
            "x1",
            "1_2",
            "1.2-a--b",
        ] {
            assert_eq!(Version::parse(not), None, "{not}");
        }
        // `v` only before a digit: `vnext` is a word.
        assert_eq!(Version::parse("vnext"), None);
        // Prerelease order.
        let a = Version::parse("1.0.0-beta2").unwrap();
        let b = Version::parse("1.0.0-rc1").unwrap();
        let c = Version::parse("1.0.0").unwrap();
        assert_eq!(a.precedence(&b), Ordering::Less);
        assert_eq!(b.precedence(&c), Ordering::Less);
        assert_eq!(c.level_to(&Version::parse("2.0.0").unwrap()), Level::Major);
    }

    #[test]
    fn huge_numbers_are_not_versions() {
        assert_eq!(Version::parse("1234567890123456789012"), None);
        assert!(Version::parse("123456789012345678").is_some());
    }
}
