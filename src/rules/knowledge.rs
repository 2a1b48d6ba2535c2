//! Knowledge tables compiled in from the top-level `rules/` folder.

use serde::{Deserialize, Serialize};
use std::sync::LazyLock;

pub const MIRRORS_TOML: &str = include_str!("../../rules/mirrors.toml");
pub const MOVED_TOML: &str = include_str!("../../rules/moved.toml");
pub const DEPRECATED_TOML: &str = include_str!("../../rules/deprecated.toml");
pub const MUTABLE_TAGS_TOML: &str = include_str!("../../rules/mutable-tags.toml");
pub const RUNTIMES_TOML: &str = include_str!("../../rules/runtimes.toml");

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Deprecated {
    pub image: String,
    pub tags: Option<String>,
    pub since: String,
    pub replacement: String,
    /// Where the fact comes from.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MutableTags {
    #[serde(default)]
    pub floating: Vec<String>,
    #[serde(default, alias = "variant-only")]
    pub variant_only: Vec<String>,
    #[serde(default)]
    pub distributions: Vec<String>,
    #[serde(default)]
    pub codenames: std::collections::BTreeMap<String, Vec<String>>,
    /// Where the lists come from, and when they were checked.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub date: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeprecatedFile {
    deprecated: Vec<Deprecated>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MirrorKind {
    Mirror,
    Registry,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Mirror {
    pub host: String,
    pub kind: MirrorKind,
    #[serde(default = "docker_io")]
    pub upstream: String,
    pub status: String,
    pub date: String,
    pub note: String,
    /// Where the fact comes from.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
}

fn yes() -> bool {
    true
}

fn docker_io() -> String {
    "docker.io".to_string()
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
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
    /// Name prefixes under `from` that did not move (Google's own gcr.io
    /// projects, which Artifact Registry serves).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub except: Vec<String>,
    /// `info` for a note rather than the rule's warning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<crate::diagnostic::Severity>,
    /// A repository whose tags became separate repositories
    /// (`microsoft/dotnet:2.1-sdk` → `mcr.microsoft.com/dotnet/sdk:2.1`):
    /// the tag's `-<variant>` part picks the new name and leaves the tag.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tag_variants: Vec<TagVariant>,
    pub status: String,
    pub date: String,
    pub note: String,
    /// Where the fact comes from.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
}

/// One `tag_variants` entry of a `[[moved]]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TagVariant {
    /// Dash-separated words in the tag (`sdk`, `aspnetcore-runtime`).
    pub variant: String,
    /// The repository it now is.
    pub to: String,
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
    #[serde(default)]
    pub runtimes: Runtimes,
}

/// Which distribution release packages which language runtime version
/// (`rules/runtimes.toml`), for BASE001.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Runtimes {
    /// When the table was last checked against the distributions.
    #[serde(default)]
    pub as_of: String,
    #[serde(default)]
    pub alpine: Vec<AlpineRelease>,
    #[serde(default)]
    pub nodesource: NodeSource,
    /// Node.js release codenames and their major versions.
    #[serde(default)]
    pub node_codenames: std::collections::BTreeMap<String, u32>,
    /// Debian codenames a runtime image's tag may name.
    #[serde(default)]
    pub debian_codenames: Vec<String>,
    #[serde(default)]
    pub node: RuntimePackages,
    #[serde(default)]
    pub python: RuntimePackages,
}

/// What replaces a runtime image: its distribution packages, and where
/// its files move.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimePackages {
    pub alpine_packages: Vec<String>,
    pub debian_packages: Vec<String>,
    /// (the image's path, the package's path)
    pub moved_paths: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AlpineRelease {
    /// `3.20`
    pub release: String,
    pub released: String,
    /// When its `main` repository stops getting fixes.
    pub eol: String,
    /// The major version of `nodejs` in `main`.
    pub nodejs: u32,
    /// The `major.minor` of `python3` in `main`.
    pub python3: String,
    /// Where the fact comes from.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSource {
    /// The majors NodeSource publishes `setup_<major>.x` scripts for.
    pub majors: Vec<u32>,
    /// The Debian releases its `nodistro` packages support.
    pub debian: Vec<String>,
    pub date: String,
    /// Where the fact comes from.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
}

/// `[knowledge]` in refit.toml: entries added to the compiled-in tables.
/// They come first, so an entry for a host or image the tables already
/// know replaces what refit says about it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Extension {
    pub mirror: Option<Vec<Mirror>>,
    pub moved: Option<Vec<Moved>>,
    pub deprecated: Option<Vec<Deprecated>>,
    pub mutable_tags: Option<MutableTags>,
    /// Alpine releases for BASE001, added or replacing a release of the
    /// same name (a new branch before refit's table has it).
    pub alpine: Option<Vec<AlpineRelease>>,
}

impl Extension {
    /// `over`'s entries come first.
    pub fn merge(self, over: Extension) -> Extension {
        fn join<T>(base: Option<Vec<T>>, over: Option<Vec<T>>) -> Option<Vec<T>> {
            match (base, over) {
                (Some(base), Some(mut over)) => {
                    over.extend(base);
                    Some(over)
                }
                (a, b) => b.or(a),
            }
        }
        let mutable_tags = match (self.mutable_tags, over.mutable_tags) {
            (Some(mut a), Some(b)) => {
                a.extend(&b);
                Some(a)
            }
            (a, b) => b.or(a),
        };
        Extension {
            mirror: join(self.mirror, over.mirror),
            moved: join(self.moved, over.moved),
            deprecated: join(self.deprecated, over.deprecated),
            mutable_tags,
            alpine: join(self.alpine, over.alpine),
        }
    }
}

impl MutableTags {
    fn extend(&mut self, other: &MutableTags) {
        self.floating.extend(other.floating.iter().cloned());
        self.variant_only.extend(other.variant_only.iter().cloned());
        self.distributions
            .extend(other.distributions.iter().cloned());
        for (image, names) in &other.codenames {
            self.codenames
                .entry(image.clone())
                .or_default()
                .extend(names.iter().cloned());
        }
    }
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
        let runtimes: Runtimes = toml::from_str(RUNTIMES_TOML)?;
        Ok(Knowledge {
            mirror: mirrors.mirror,
            moved: moved.moved,
            deprecated: deprecated.deprecated,
            mutable,
            runtimes,
        })
    }

    /// These tables with a config's entries in front.
    pub fn extended(&self, extension: &Extension) -> Knowledge {
        fn front<T: Clone>(extra: &Option<Vec<T>>, base: &[T]) -> Vec<T> {
            let mut out: Vec<T> = extra.clone().unwrap_or_default();
            out.extend(base.iter().cloned());
            out
        }
        let mut mutable = self.mutable.clone();
        if let Some(extra) = &extension.mutable_tags {
            mutable.extend(extra);
        }
        let mut runtimes = self.runtimes.clone();
        for release in extension.alpine.iter().flatten().rev() {
            runtimes.alpine.retain(|r| r.release != release.release);
            runtimes.alpine.push(release.clone());
        }
        // Oldest first: "the newest release that packages it" is the last.
        runtimes.alpine.sort_by_key(|r| release_key(&r.release));
        Knowledge {
            mirror: front(&extension.mirror, &self.mirror),
            moved: front(&extension.moved, &self.moved),
            deprecated: front(&extension.deprecated, &self.deprecated),
            mutable,
            runtimes,
        }
    }

    /// The mirror entry for a registry host (port ignored), if any.
    pub fn mirror_for(&self, domain: &str) -> Option<&Mirror> {
        let host = strip_port(domain).to_ascii_lowercase();
        self.mirror.iter().find(|m| host_matches(&m.host, &host))
    }
}

/// `3.20` → (3, 20), for ordering releases.
fn release_key(release: &str) -> (u32, u32) {
    let mut parts = release.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
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

    /// Every compiled-in entry says where its fact comes from and when.
    #[test]
    fn every_entry_has_a_source_and_a_date() {
        let k = Knowledge::parse().unwrap();
        let dated = |d: &str| d.len() >= 4 && d[..4].bytes().all(|b| b.is_ascii_digit());
        for d in &k.deprecated {
            assert!(
                !d.source.is_empty() && dated(&d.since),
                "deprecated {}",
                d.image
            );
        }
        for m in &k.moved {
            assert!(!m.source.is_empty() && dated(&m.date), "moved {}", m.from);
        }
        for m in &k.mirror {
            assert!(!m.source.is_empty() && dated(&m.date), "mirror {}", m.host);
        }
        for a in &k.runtimes.alpine {
            assert!(
                !a.source.is_empty() && dated(&a.released),
                "alpine {}",
                a.release
            );
        }
        assert!(!k.runtimes.nodesource.source.is_empty() && dated(&k.runtimes.nodesource.date));
        assert!(dated(&k.runtimes.as_of));
        assert!(!k.mutable.source.is_empty() && dated(&k.mutable.date));
    }

    #[test]
    fn builtin_tables_parse() {
        let k = Knowledge::parse().expect("rules/*.toml must parse");
        assert!(k.mirror.len() > 30);
        assert!(k.moved.iter().any(|m| m.from == "k8s.gcr.io"));
        assert!(k.deprecated.iter().any(|d| d.image == "openjdk"));
        assert!(k.mutable.floating.iter().any(|t| t == "lts"));
        assert!(
            k.runtimes
                .alpine
                .iter()
                .any(|a| a.release == "3.20" && a.nodejs == 20)
        );
        assert_eq!(k.runtimes.node.alpine_packages, ["nodejs", "npm"]);
        assert!(k.runtimes.python.moved_paths.len() >= 4);
        assert!(k.runtimes.debian_codenames.iter().any(|c| c == "bookworm"));
    }

    #[test]
    fn config_entries_come_first() {
        let extension: Extension = toml::from_str(
            "[[mirror]]\nhost = \"mirror.corp.example\"\nkind = \"mirror\"\nstatus = \"dead\"\ndate = \"2026-01\"\nnote = \"the old cache\"\n\n[mutable-tags]\nfloating = [\"weekly\"]\n",
        )
        .unwrap();
        let k = Knowledge::builtin().extended(&extension);
        assert_eq!(
            k.mirror_for("mirror.corp.example").map(|m| m.note.as_str()),
            Some("the old cache")
        );
        assert!(k.mutable.floating.iter().any(|t| t == "weekly"));
        assert!(k.mutable.floating.iter().any(|t| t == "lts"));
        assert_eq!(k.mirror.len(), Knowledge::builtin().mirror.len() + 1);
    }

    #[test]
    fn config_alpine_releases_join_in_order() {
        let extension: Extension = toml::from_str(
            "[[alpine]]\nrelease = \"3.25\"\nreleased = \"2026-11\"\neol = \"2028-11-01\"\nnodejs = 24\npython3 = \"3.14\"\n\n[[alpine]]\nrelease = \"3.9\"\nreleased = \"2019-01\"\neol = \"2020-11-01\"\nnodejs = 10\npython3 = \"3.6\"\n",
        )
        .unwrap();
        let k = Knowledge::builtin().extended(&extension);
        let releases: Vec<&str> = k
            .runtimes
            .alpine
            .iter()
            .map(|r| r.release.as_str())
            .collect();
        assert_eq!(releases.first(), Some(&"3.9"));
        assert_eq!(releases.last(), Some(&"3.25"));
        assert_eq!(
            releases.len(),
            Knowledge::builtin().runtimes.alpine.len() + 2
        );
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
