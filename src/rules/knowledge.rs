//! Knowledge tables compiled in from the top-level `rules/` folder.

use serde::Deserialize;
use std::sync::LazyLock;

pub const MIRRORS_TOML: &str = include_str!("../../rules/mirrors.toml");
pub const MOVED_TOML: &str = include_str!("../../rules/moved.toml");

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

fn docker_io() -> String {
    "docker.io".to_string()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Moved {
    pub from: String,
    pub to: String,
    pub safe: bool,
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
        Ok(Knowledge {
            mirror: mirrors.mirror,
            moved: moved.moved,
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
