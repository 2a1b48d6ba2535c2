//! Image identity through mirrors: which upstream image a reference pulls
//! when it names a mirror path of it.
//!
//! `public.ecr.aws/docker/library/node:20`, `mirror.gcr.io/library/node:20`,
//! `docker.m.daocloud.io/library/node:20`, a cloud registry's `library/node`
//! and `harbor.corp.example/dockerhub/library/node:20` (a configured
//! `[registries] proxies` prefix) all mean `docker.io/library/node:20`.
//! Rules that reason about *which image* a reference is (BASE001, BASE002,
//! TAG003, REG004) read it through [`identity`].

use crate::policy::{Policy, Proxy};
use crate::reference::Reference;
use crate::rules::knowledge::{Knowledge, Mirror, MirrorKind};

/// ECR Public's re-hosting of Docker Official Images: Docker pushes every
/// official image to `public.ecr.aws/docker/library/<name>`.
pub const ECR_PUBLIC_LIBRARY: &str = "public.ecr.aws/docker/library/";

/// How a reference reaches the upstream image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<'a> {
    /// ECR Public's `docker/library/` copy of the Docker Official Images.
    EcrPublic,
    /// A host of the mirror table (`rules/mirrors.toml`).
    Mirror(&'a Mirror),
    /// A configured pull-through cache (`[registries] proxies`).
    Proxy(&'a Proxy),
}

impl Route<'_> {
    /// For messages: `ECR Public`, `the mirror mirror.gcr.io`, …
    pub fn label(&self) -> String {
        match self {
            Route::EcrPublic => "ECR Public's copy of the Docker Official Images".to_string(),
            Route::Mirror(m) => format!("the mirror `{}`", m.host),
            Route::Proxy(p) => format!("the proxy `{}`", p.via),
        }
    }
}

/// The upstream image a mirrored reference stands for.
#[derive(Debug, Clone)]
pub struct Identity<'a> {
    /// The upstream reference, normalized (`docker.io/library/node:20`),
    /// with the written tag and digest.
    pub reference: Reference,
    pub route: Route<'a>,
}

/// The upstream image behind a mirror path, or `None` when the reference
/// is not under a known mirror path (it then is its own identity).
pub fn identity<'a>(
    reference: &Reference,
    knowledge: &'a Knowledge,
    policy: &'a Policy,
) -> Option<Identity<'a>> {
    let name = reference.normalized_name();
    let (upstream, route) = if let Some((proxy, rest)) = policy.unproxied(&name) {
        (with_library(&proxy.upstream, rest), Route::Proxy(proxy))
    } else if let Some(rest) = name.strip_prefix(ECR_PUBLIC_LIBRARY) {
        if rest.is_empty() || rest.contains('/') {
            return None;
        }
        (format!("docker.io/library/{rest}"), Route::EcrPublic)
    } else {
        let domain = reference.domain_str()?;
        let mirror = knowledge.mirror_for(domain)?;
        let path = reference.path_str();
        let upstream = match mirror.kind {
            MirrorKind::Registry => match path.strip_prefix("library/") {
                Some(rest) if !rest.is_empty() && !rest.contains('/') => {
                    format!("docker.io/library/{rest}")
                }
                _ => return None,
            },
            MirrorKind::Mirror => upstream_name(&mirror.upstream, path),
        };
        (upstream, Route::Mirror(mirror))
    };
    let mut text = upstream;
    if let Some(tag) = reference.tag_str() {
        text.push(':');
        text.push_str(tag);
    }
    if let Some(digest) = reference.digest_str() {
        text.push('@');
        text.push_str(digest);
    }
    let reference = Reference::parse_normalized(&text).ok()?;
    Some(Identity { reference, route })
}

/// The reference a rule should reason about: the upstream image when the
/// reference names a mirror path of it, else the reference itself.
pub fn upstream<'r>(
    reference: &'r Reference,
    knowledge: &Knowledge,
    policy: &Policy,
) -> std::borrow::Cow<'r, Reference> {
    match identity(reference, knowledge, policy) {
        Some(id) => std::borrow::Cow::Owned(id.reference),
        None => std::borrow::Cow::Borrowed(reference),
    }
}

/// The upstream name a mirror path stands for. A path whose first component
/// is itself a registry (`m.daocloud.io/ghcr.io/org/app`) names that registry.
pub fn upstream_name(upstream: &str, path: &str) -> String {
    let (first, rest) = path.split_once('/').unwrap_or((path, ""));
    let first_is_registry =
        !rest.is_empty() && (first.contains('.') || first.contains(':') || first == "localhost");
    if first_is_registry {
        let registry = if first == "index.docker.io" {
            "docker.io"
        } else {
            first
        };
        return with_library(registry, rest);
    }
    with_library(upstream, path)
}

/// `docker.io` + `node` → `docker.io/library/node`.
pub fn with_library(registry: &str, path: &str) -> String {
    let registry = if crate::reference::DOCKER_HUB_ALIASES
        .iter()
        .any(|h| registry.eq_ignore_ascii_case(h))
    {
        "docker.io"
    } else {
        registry
    };
    if registry == "docker.io" && !path.contains('/') {
        format!("docker.io/library/{path}")
    } else {
        format!("{registry}/{path}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str, policy: &Policy) -> Option<String> {
        let r = Reference::parse_normalized(text).ok()?;
        identity(&r, Knowledge::builtin(), policy).map(|i| i.reference.normalized())
    }

    #[test]
    fn mirrors_mean_docker_hub() {
        let none = Policy::default();
        for (text, want) in [
            (
                "public.ecr.aws/docker/library/node:20-alpine",
                "docker.io/library/node:20-alpine",
            ),
            ("mirror.gcr.io/library/node:20", "docker.io/library/node:20"),
            ("mirror.gcr.io/node:20", "docker.io/library/node:20"),
            (
                "registry.cn-hangzhou.aliyuncs.com/library/node:18-alpine",
                "docker.io/library/node:18-alpine",
            ),
            (
                "docker.m.daocloud.io/library/nginx:1.27",
                "docker.io/library/nginx:1.27",
            ),
        ] {
            assert_eq!(id(text, &none).as_deref(), Some(want), "{text}");
        }
        // Not mirror paths.
        for text in [
            "node:20",
            "public.ecr.aws/bitnami/redis:7",
            "public.ecr.aws/docker/library/a/b:1",
            "registry.cn-hangzhou.aliyuncs.com/acme/node:18",
            "ghcr.io/org/app:1",
        ] {
            assert_eq!(id(text, &none), None, "{text}");
        }
        let proxied = Policy {
            proxies: vec![Proxy {
                upstream: "docker.io".into(),
                via: "harbor.corp.example/dockerhub".into(),
            }],
            ..Policy::default()
        };
        assert_eq!(
            id("harbor.corp.example/dockerhub/library/node:20", &proxied).as_deref(),
            Some("docker.io/library/node:20")
        );
        assert_eq!(
            id("harbor.corp.example/dockerhub/node:20", &proxied).as_deref(),
            Some("docker.io/library/node:20")
        );
    }
}
