//! Knowledge tables compiled in from the top-level `rules/` folder.

use serde::Deserialize;
use std::sync::LazyLock;

pub const MIRRORS_TOML: &str = include_str!("../../rules/mirrors.toml");
pub const MOVED_TOML: &str = include_str!("../../rules/moved.toml");
pub const DEPRECATED_TOML: &str = include_str!("../../rules/deprecated.toml");
pub const MUTABLE_TAGS_TOML: &str = include_str!("../../rules/mutable-tags.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deprecated {
    pub image: String,
    pub tags: Option<String>,
    pub since: String,
    pub replacement: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MutableTags {
    pub floating: Vec<String>,
    pub variant_only: Vec<String>,
    #[serde(default)]
    pub distributions: Vec<String>,
    #[serde(default)]
    pub codenames: std::collections::BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeprecatedFile {
    deprecated: Vec<Deprecated>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MirrorKind {
    Mirror,
    Registry,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mirror {
    pub host: String,
    pub kind: MirrorKind,
    #[serde(default = "docker_io")]
    pub upstream: String,
    pub status: String,
    pub date: String,
    pub note: String,
}

fn yes() -> bool {
    true
}

fn docker_io() -> String {
    "docker.io".to_string()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Moved {
    pub from: String,
    pub to: String,
    pub safe: bool,
    /// Only references with a version tag moved (not `latest`).
    #[serde(default)]
    pub versioned_only: bool,
    /// Whether a prefix rewrite is a correct fix (false: message only).
    #[serde(default = "yes")]
    pub fix: bool,
    pub status: String,
    pub date: String,
    pub note: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Knowledge {
    #[serde(default)]
    pub mirror: Vec<Mirror>,
    #[serde(default)]
    pub moved: Vec<Moved>,
    #[serde(default)]
    pub deprecated: Vec<Deprecated>,
    #[serde(default)]
    pub mutable: MutableTags,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MirrorFile {
    mirror: Vec<Mirror>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MovedFile {
    moved: Vec<Moved>,
}

impl Knowledge {
    /// The compiled-in tables. A test checks that they parse.
    pub fn builtin() -> &'static Knowledge {
        static BUILTIN: LazyLock<Knowledge> =
            LazyLock::new(|| Knowledge::parse().unwrap_or_default());
        &BUILTIN
    }

    pub fn parse() -> Result<Knowledge, toml::de::Error> {
        let mirrors: MirrorFile = toml::from_str(MIRRORS_TOML)?;
        let moved: MovedFile = toml::from_str(MOVED_TOML)?;
        let deprecated: DeprecatedFile = toml::from_str(DEPRECATED_TOML)?;
        let mutable: MutableTags = toml::from_str(MUTABLE_TAGS_TOML)?;
        Ok(Knowledge {
            mirror: mirrors.mirror,
            moved: moved.moved,
            deprecated: deprecated.deprecated,
            mutable,
        })
    }

    /// The mirror entry for a registry host (port ignored), if any.
    pub fn mirror_for(&self, domain: &str) -> Option<&Mirror> {
        let host = strip_port(domain).to_ascii_lowercase();
        self.mirror.iter().find(|m| host_matches(&m.host, &host))
    }
}

fn strip_port(domain: &str) -> &str {
    if domain.starts_with('[') {
        return domain;
    }
    domain.split(':').next().unwrap_or(domain)
}

/// `*` matches one or more characters; everything else literally.
pub fn host_matches(pattern: &str, host: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == host,
        Some((prefix, suffix)) => {
            host.len() > prefix.len() + suffix.len()
                && host.starts_with(prefix)
                && host.ends_with(suffix)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_tables_parse() {
        let k = Knowledge::parse().expect("rules/*.toml must parse");
        assert!(k.mirror.len() > 30);
        assert!(k.moved.iter().any(|m| m.from == "k8s.gcr.io"));
        assert!(k.deprecated.iter().any(|d| d.image == "openjdk"));
        assert!(k.mutable.floating.iter().any(|t| t == "lts"));
    }

    #[test]
    fn host_patterns() {
        assert!(host_matches(
            "*.mirror.aliyuncs.com",
            "abc.mirror.aliyuncs.com"
        ));
        assert!(!host_matches(
            "*.mirror.aliyuncs.com",
            ".mirror.aliyuncs.com"
        ));
        assert!(host_matches(
            "registry.cn-*.aliyuncs.com",
            "registry.cn-hangzhou.aliyuncs.com"
        ));
        assert!(!host_matches(
            "registry.cn-*.aliyuncs.com",
            "registry.aliyuncs.com"
        ));
        let k = Knowledge::builtin();
        assert!(k.mirror_for("docker.m.daocloud.io:443").is_some());
        assert!(k.mirror_for("docker.io").is_none());
    }
}
