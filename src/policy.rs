//! Registry policy from `[registries]` in refit.toml: allow and deny lists,
//! and pull-through caches that upstreams must be routed through.

use serde::{Deserialize, Serialize};

/// A pull-through cache: references to `upstream` go through `via`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Proxy {
    /// A registry, `docker.io`.
    pub upstream: String,
    /// The cache's prefix, `harbor.corp.example/dockerhub`.
    pub via: String,
}

/// A move the organisation knows about: names under `from` now live
/// under `to` (`docker.io/my-org/` → `ghcr.io/my-org/`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rewrite {
    /// A normalized name prefix, registry included.
    pub from: String,
    /// What replaces `from`.
    pub to: String,
}

impl Rewrite {
    /// Both sides must name a registry, so a prefix cannot be read two ways.
    pub fn validate(&self) -> Result<(), String> {
        for (key, value) in [("from", &self.from), ("to", &self.to)] {
            let first = value.split('/').next().unwrap_or("");
            let is_registry = first.contains('.') || first.contains(':') || first == "localhost";
            if value.is_empty() || !is_registry {
                return Err(format!(
                    "rewrite `{key} = \"{value}\"` must start with a registry (`docker.io/{value}`)"
                ));
            }
            if value.chars().any(|c| c.is_whitespace() || c == '@') {
                return Err(format!(
                    "rewrite `{key} = \"{value}\"` is not a name prefix"
                ));
            }
        }
        Ok(())
    }

    /// Whether a normalized name lies under a prefix: at a component
    /// boundary unless the prefix itself ends with `/`.
    fn under(prefix: &str, name: &str) -> bool {
        match name.strip_prefix(prefix) {
            Some(rest) => prefix.ends_with('/') || rest.is_empty() || rest.starts_with('/'),
            None => false,
        }
    }
}

/// Why the policy does not trust a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Untrusted<'p> {
    /// A deny pattern matches it (the deny list wins).
    Denied(&'p str),
    /// An allow list exists and nothing on it matches.
    NotAllowed,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    pub allow: Vec<String>,
    pub deny: Vec<String>,
    pub proxies: Vec<Proxy>,
    pub rewrites: Vec<Rewrite>,
}

/// `*` matches any run of characters; everything else literally. A pattern
/// without `/` names registries; with `/`, a registry and a repository
/// prefix (`ghcr.io/my-org/*`).
pub fn pattern_matches(pattern: &str, registry: &str, name: &str) -> bool {
    let subject = if pattern.contains('/') {
        name
    } else {
        registry
    };
    glob(pattern.as_bytes(), subject.as_bytes())
}

fn glob(p: &[u8], s: &[u8]) -> bool {
    // Iterative wildcard match with backtracking to the last `*`.
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, si));
            pi += 1;
        } else if pi < p.len() && p[pi] == s[si] {
            pi += 1;
            si += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

impl Policy {
    pub fn is_empty(&self) -> bool {
        self.allow.is_empty()
            && self.deny.is_empty()
            && self.proxies.is_empty()
            && self.rewrites.is_empty()
    }

    /// The rewrite that applies to a normalized name (the longest `from`)
    /// and the rewritten name. Rewrites never chain: a name already under
    /// some rewrite's `to` is where a rewrite put it, and stays.
    pub fn rewrite_for(&self, name: &str) -> Option<(&Rewrite, String)> {
        if self.rewrites.iter().any(|r| Rewrite::under(&r.to, name)) {
            return None;
        }
        let rewrite = self
            .rewrites
            .iter()
            .filter(|r| Rewrite::under(&r.from, name))
            .max_by_key(|r| r.from.len())?;
        let rest = name.get(rewrite.from.len()..).unwrap_or("");
        Some((rewrite, format!("{}{rest}", rewrite.to)))
    }

    /// Why a normalized name (`docker.io/library/node`) is not trusted, or
    /// `None` when it is: not denied, and allowed or through a proxy.
    pub fn untrusted(&self, name: &str) -> Option<Untrusted<'_>> {
        let registry = name.split('/').next().unwrap_or(name);
        if let Some(p) = self
            .deny
            .iter()
            .find(|p| pattern_matches(p, registry, name))
        {
            return Some(Untrusted::Denied(p));
        }
        let allowed = self.allow.is_empty()
            || self
                .allow
                .iter()
                .any(|p| pattern_matches(p, registry, name))
            || self.through_proxy(name);
        (!allowed).then_some(Untrusted::NotAllowed)
    }

    /// The proxy a registry must be pulled through, if any.
    pub fn proxy_for(&self, registry: &str) -> Option<&Proxy> {
        self.proxies.iter().find(|p| p.upstream == registry)
    }

    /// Whether a normalized name already goes through a configured proxy.
    pub fn through_proxy(&self, name: &str) -> bool {
        self.unproxied(name).is_some()
    }

    /// The proxy a normalized name goes through and the upstream name
    /// after its prefix (`harbor/dockerhub/library/node` → `library/node`).
    pub fn unproxied<'n>(&self, name: &'n str) -> Option<(&Proxy, &'n str)> {
        self.proxies.iter().find_map(|p| {
            let rest = name.strip_prefix(&p.via)?.strip_prefix('/')?;
            Some((p, rest))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(pattern_matches(
            "*.corp.example",
            "harbor.corp.example",
            "harbor.corp.example/x/y"
        ));
        assert!(!pattern_matches(
            "*.corp.example",
            "corp.example.evil",
            "corp.example.evil/x"
        ));
        assert!(pattern_matches(
            "ghcr.io/my-org/*",
            "ghcr.io",
            "ghcr.io/my-org/app"
        ));
        assert!(!pattern_matches(
            "ghcr.io/my-org/*",
            "ghcr.io",
            "ghcr.io/other/app"
        ));
        assert!(pattern_matches(
            "docker.io",
            "docker.io",
            "docker.io/library/node"
        ));
        assert!(pattern_matches("*", "quay.io", "quay.io/a"));
    }

    fn rewrite(from: &str, to: &str) -> Rewrite {
        Rewrite {
            from: from.to_string(),
            to: to.to_string(),
        }
    }

    #[test]
    fn rewrites_match_prefixes_and_never_chain() {
        let policy = Policy {
            rewrites: vec![
                rewrite("docker.io/my-org", "ghcr.io/my-org"),
                rewrite("ghcr.io/", "registry.corp.example/ghcr/"),
                rewrite("docker.io/my-org/special", "quay.io/special"),
            ],
            ..Policy::default()
        };
        let to = |n: &str| policy.rewrite_for(n).map(|(_, name)| name);
        assert_eq!(
            to("docker.io/my-org/app").as_deref(),
            Some("ghcr.io/my-org/app")
        );
        assert_eq!(to("docker.io/my-organisation/app"), None);
        assert_eq!(
            to("docker.io/my-org/special").as_deref(),
            Some("quay.io/special"),
            "the longest prefix wins"
        );
        // ghcr.io/my-org/app is a rewrite's result: the ghcr.io rewrite
        // does not move it again, but other ghcr.io names move.
        assert_eq!(to("ghcr.io/my-org/app"), None);
        assert_eq!(
            to("ghcr.io/other/x").as_deref(),
            Some("registry.corp.example/ghcr/other/x")
        );
        assert!(rewrite("my-org/", "ghcr.io/my-org/").validate().is_err());
        assert!(
            rewrite("docker.io/my-org/", "ghcr.io/my-org/")
                .validate()
                .is_ok()
        );
    }
}
