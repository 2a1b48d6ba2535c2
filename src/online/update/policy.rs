//! The `[update]` policy of `refit.toml`, compiled: `allow`, `min-age`,
//! `ignore` and `[[update.rule]]` entries (the last matching rule wins).

use crate::online::versions::Level;
use globset::{Glob, GlobSet, GlobSetBuilder};

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
