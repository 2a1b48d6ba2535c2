//! Knowledge tables compiled in from the top-level `rules/` folder.

use serde::{Deserialize, Serialize};
use std::sync::LazyLock;

pub const MIRRORS_TOML: &str = include_str!("../../rules/mirrors.toml");
pub const MOVED_TOML: &str = include_str!("../../rules/moved.toml");
pub const DEPRECATED_TOML: &str = include_str!("../../rules/deprecated.toml");
pub const MUTABLE_TAGS_TOML: &str = include_str!("../../rules/mutable-tags.toml");
pub const RUNTIMES_TOML: &str = include_str!("../../rules/runtimes.toml");
pub const ADVISORIES_TOML: &str = include_str!("../../rules/advisories.toml");
pub const EOL_TOML: &str = include_str!("../../rules/eol.toml");
pub const DHI_TOML: &str = include_str!("../../rules/dhi.toml");

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
    /// The advisory pack the entry belongs to (`rules/advisories.toml`);
    /// empty for entries a config adds, which are always on.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pack: String,
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

/// One advisory pack of `rules/advisories.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Pack {
    pub name: String,
    pub title: String,
    pub date: String,
    /// Selected when refit.toml does not say.
    pub default: bool,
    pub severity: crate::diagnostic::Severity,
    pub rules: Vec<String>,
    pub data: String,
    pub source: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub side_effect: Vec<SideEffect>,
}

/// An edit a correct migration needs besides the reference itself.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SideEffect {
    /// The file kind it applies to: `helm-values`.
    pub when: String,
    /// Only for images whose repository starts with this.
    #[serde(default)]
    pub repository_prefix: String,
    /// A dotted YAML key path (`global.security.allowInsecureImages`).
    pub key: String,
    /// Its value, as YAML.
    pub value: String,
    pub note: String,
    pub source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvisoriesFile {
    pack: Vec<Pack>,
}

/// `[advisories]` in refit.toml: which packs are in force.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Selection {
    /// Replaces the default packs (`ALL` for every pack).
    pub select: Option<Vec<String>>,
    pub extend_select: Option<Vec<String>>,
    pub ignore: Option<Vec<String>>,
}

impl Selection {
    /// `over`'s lists win, each as a whole.
    pub fn merge(self, over: Selection) -> Selection {
        Selection {
            select: over.select.or(self.select),
            extend_select: over.extend_select.or(self.extend_select),
            ignore: over.ignore.or(self.ignore),
        }
    }

    /// Names that are no pack (a typo must not silently drop a pack).
    pub fn unknown<'a>(&'a self, packs: &[Pack]) -> Vec<&'a str> {
        [&self.select, &self.extend_select, &self.ignore]
            .into_iter()
            .flatten()
            .flatten()
            .map(String::as_str)
            .filter(|n| *n != "ALL" && !packs.iter().any(|p| p.name == *n))
            .collect()
    }

    /// The names of the packs in force, in the table's order.
    pub fn resolve(&self, packs: &[Pack]) -> Vec<String> {
        let named = |list: &Option<Vec<String>>, pack: &Pack| {
            list.iter().flatten().any(|n| n == "ALL" || *n == pack.name)
        };
        packs
            .iter()
            .filter(|p| match &self.select {
                Some(_) => named(&self.select, p),
                None => p.default,
            } || named(&self.extend_select, p))
            .filter(|p| !named(&self.ignore, p))
            .map(|p| p.name.clone())
            .collect()
    }
}

/// `rules/eol.toml`: a dated snapshot of endoflife.date's release cycles.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Eol {
    /// The date of the endoflife.date commit the cycles come from.
    pub snapshot: String,
    pub source: String,
    pub tags_source: String,
    pub tags_date: String,
    #[serde(default)]
    pub image: Vec<EolImage>,
}

/// One official image's release lines.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct EolImage {
    /// The name under `docker.io/library/`.
    pub name: String,
    /// endoflife.date's product (`nodejs` for `node`).
    pub product: String,
    pub source: String,
    /// Whether moving to another line is a fix refit offers (databases:
    /// no, their data needs an upgrade).
    pub fix: bool,
    /// The image keeps building a line through its extended support
    /// (Debian LTS), so the line ends when that does.
    #[serde(default)]
    pub follows_extended: bool,
    /// The line a fix moves to.
    #[serde(default)]
    pub target: Option<String>,
    /// The tag suffixes the official image publishes for `target`
    /// (`""`, `-alpine`, `-slim-bookworm`).
    #[serde(default)]
    pub target_tags: Vec<String>,
    pub cycles: Vec<Cycle>,
}

/// A release line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Cycle {
    /// `16`, `3.8`, `18.04`
    pub cycle: String,
    /// `YYYY-MM-DD`; `yes` when ended without a date; empty when none is
    /// announced.
    pub eol: String,
    /// Debian and Ubuntu release codenames (`buster`, `bionic`).
    #[serde(default)]
    pub codename: Option<String>,
    /// Extended support (Debian LTS, Ubuntu ESM).
    #[serde(default)]
    pub extended: Option<String>,
}

impl Cycle {
    /// When the line ends for an image (`yes`: ended, no date; empty:
    /// none announced).
    pub fn end(&self, image: &EolImage) -> &str {
        match &self.extended {
            Some(extended) if image.follows_extended => extended,
            _ => &self.eol,
        }
    }

    /// Whether the line had ended on `date` (`YYYY-MM-DD`) for an image.
    pub fn ended_by(&self, image: &EolImage, date: &str) -> bool {
        let end = self.end(image);
        end == "yes" || (!end.is_empty() && end <= date)
    }
}

/// `rules/dhi.toml`: the Docker Hardened Images of official images, from a
/// dated snapshot of Docker's catalog (the opt-in `dhi` pack, DHI001).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Dhi {
    /// The date of the catalog commit the tags come from.
    pub snapshot: String,
    pub source: String,
    /// Which official images are left out, and why.
    pub omitted: String,
    #[serde(default)]
    pub image: Vec<DhiImage>,
}

/// One official image's hardened counterpart: the tags DHI publishes, by
/// distribution and variant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DhiImage {
    /// The name under `docker.io/library/`.
    pub name: String,
    /// `dhi.io/<name>`
    pub to: String,
    /// The user the runtime variant runs as.
    pub run_as: String,
    /// The program the runtime variant's `ENTRYPOINT` runs (`nginx`), when
    /// every runtime variant has the same; empty otherwise.
    #[serde(default)]
    pub entrypoint: String,
    pub source: String,
    /// Runtime tags on Debian.
    #[serde(default)]
    pub debian: Vec<String>,
    /// Debian tags that also have a `-dev` variant (written without it).
    #[serde(default)]
    pub debian_dev: Vec<String>,
    #[serde(default)]
    pub alpine: Vec<String>,
    #[serde(default)]
    pub alpine_dev: Vec<String>,
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
    /// Every advisory pack, selected or not (for `refit advisories`).
    #[serde(default)]
    pub packs: Vec<Pack>,
    /// The packs in force: their entries are the ones kept above.
    #[serde(default)]
    pub selected: Vec<String>,
    /// End-of-life dates for EOL001 (empty when the `eol` pack is off).
    #[serde(default)]
    pub eol: Eol,
    /// Docker Hardened Images for DHI001 (empty when the `dhi` pack is off).
    #[serde(default)]
    pub dhi: Dhi,
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
    /// The packs selected by default.
    pub fn builtin() -> &'static Knowledge {
        static BUILTIN: LazyLock<Knowledge> =
            LazyLock::new(|| Knowledge::all().with_packs(&Selection::default()));
        &BUILTIN
    }

    pub fn parse() -> Result<Knowledge, toml::de::Error> {
        let mirrors: MirrorFile = toml::from_str(MIRRORS_TOML)?;
        let moved: MovedFile = toml::from_str(MOVED_TOML)?;
        let deprecated: DeprecatedFile = toml::from_str(DEPRECATED_TOML)?;
        let mutable: MutableTags = toml::from_str(MUTABLE_TAGS_TOML)?;
        let runtimes: Runtimes = toml::from_str(RUNTIMES_TOML)?;
        let advisories: AdvisoriesFile = toml::from_str(ADVISORIES_TOML)?;
        let eol: Eol = toml::from_str(EOL_TOML)?;
        let dhi: Dhi = toml::from_str(DHI_TOML)?;
        let selected = advisories.pack.iter().map(|p| p.name.clone()).collect();
        Ok(Knowledge {
            mirror: mirrors.mirror,
            moved: moved.moved,
            deprecated: deprecated.deprecated,
            mutable,
            runtimes,
            packs: advisories.pack,
            selected,
            eol,
            dhi,
        })
    }

    /// Every compiled-in pack, selected or not.
    pub fn all() -> &'static Knowledge {
        static ALL: LazyLock<Knowledge> = LazyLock::new(|| Knowledge::parse().unwrap_or_default());
        &ALL
    }

    /// These tables keeping only the entries of the selected packs.
    pub fn with_packs(&self, selection: &Selection) -> Knowledge {
        let selected = selection.resolve(&self.packs);
        let on = |pack: &str| pack.is_empty() || selected.iter().any(|s| s == pack);
        let mut out = self.clone();
        out.moved.retain(|m| on(&m.pack));
        if !on("eol") {
            out.eol.image.clear();
        }
        if !on("dhi") {
            out.dhi.image.clear();
        }
        out.selected = selected;
        out
    }

    /// A selected pack by name.
    pub fn pack(&self, name: &str) -> Option<&Pack> {
        self.selected
            .iter()
            .any(|s| s == name)
            .then(|| self.packs.iter().find(|p| p.name == name))
            .flatten()
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
            packs: self.packs.clone(),
            selected: self.selected.clone(),
            eol: self.eol.clone(),
            dhi: self.dhi.clone(),
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
            assert!(
                k.packs.iter().any(|p| p.name == m.pack),
                "moved {}: pack `{}` is not in rules/advisories.toml",
                m.from,
                m.pack
            );
        }
        for p in &k.packs {
            assert!(!p.source.is_empty() && dated(&p.date), "pack {}", p.name);
            for e in &p.side_effect {
                assert!(!e.source.is_empty(), "pack {} side effect", p.name);
            }
        }
        assert!(dated(&k.eol.snapshot) && dated(&k.eol.tags_date));
        assert!(dated(&k.dhi.snapshot) && k.dhi.source.contains("catalog/tree/"));
        for i in &k.dhi.image {
            assert!(
                !i.source.is_empty() && !i.run_as.is_empty() && !i.debian.is_empty(),
                "dhi {}",
                i.name
            );
        }
        assert!(k.eol.source.contains("endoflife.date/tree/"));
        for i in &k.eol.image {
            assert!(
                !i.source.is_empty() && !i.cycles.is_empty(),
                "eol {}",
                i.name
            );
            for c in &i.cycles {
                assert!(
                    c.eol.is_empty() || c.eol == "yes" || dated(&c.eol),
                    "eol {} {}",
                    i.name,
                    c.cycle
                );
            }
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
