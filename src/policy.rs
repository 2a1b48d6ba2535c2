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

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    pub allow: Vec<String>,
    pub deny: Vec<String>,
    pub proxies: Vec<Proxy>,
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
        self.allow.is_empty() && self.deny.is_empty() && self.proxies.is_empty()
    }

    /// The proxy a registry must be pulled through, if any.
    pub fn proxy_for(&self, registry: &str) -> Option<&Proxy> {
        self.proxies.iter().find(|p| p.upstream == registry)
    }

    /// Whether a normalized name already goes through a configured proxy.
    pub fn through_proxy(&self, name: &str) -> bool {
        self.proxies.iter().any(|p| {
            name.strip_prefix(&p.via)
                .is_some_and(|rest| rest.starts_with('/'))
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
}
