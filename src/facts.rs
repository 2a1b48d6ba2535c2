//! Facts about the files around a file: plain data that front-ends and
//! rules are handed (through `SourceOptions` and `RuleContext`) and never
//! compute. The workspace (`crate::workspace`) extracts them from the
//! repository; this module only says what they are.

use std::collections::{BTreeMap, BTreeSet};

/// What the repository builds by name and passes as named contexts.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BuildRefs {
    /// Stage names built as targets (lowercase).
    pub targets: BTreeSet<String>,
    /// Named build contexts (lowercase).
    pub contexts: BTreeSet<String>,
    /// Whether a target is named by a variable (`--target $TARGET`,
    /// `--target ${{ matrix.target }}`, `target: ${TARGET}`): it may be
    /// any stage.
    pub variable_target: bool,
    /// Whether the repository root was found (`.git`): when
    /// not, the build files that name targets and contexts may simply be
    /// missing (a copied Dockerfile), and STG001 and REF005 report only
    /// what the Dockerfile shows on its own.
    pub root: bool,
}

impl BuildRefs {
    /// Whether the repository around the file is known: no scan (stdin, a
    /// single text) counts as the whole build, a scan that found no root
    /// does not.
    pub fn known(refs: Option<&BuildRefs>) -> bool {
        refs.is_none_or(|r| r.root)
    }
    pub fn targets(&self, stage: &str) -> bool {
        self.targets.contains(&stage.to_ascii_lowercase())
    }
    pub fn defines_context(&self, name: &str) -> bool {
        self.contexts.contains(&name.to_ascii_lowercase())
    }
}

/// How a chart builds image strings, from its `templates/`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChartFacts {
    /// Whether the chart has templates refit read.
    pub templates: bool,
    /// Whether a template uses a registry value (`.Values.global.imageRegistry`,
    /// `.imageRoot.registry`, `_helpers.tpl` joins): a repository must not
    /// be prefixed with a registry, or the join doubles it.
    pub joins_registry: bool,
    /// Names and aliases of `dependencies:`: values under these keys belong
    /// to sub-charts, with their own templates and defaults.
    pub dependencies: Vec<String>,
    /// Values paths of the image maps whose `digest` a template reads
    /// (`image`, `controller.image`), directly or through `_helpers.tpl`:
    /// where `refit pin` may add a `digest:` key (`crate::workspace::helm_templates`).
    pub digest_paths: BTreeSet<String>,
    /// Values a template writes right after `<registry>/`, by value path
    /// (`kernelCollector.image.name`): where their registry comes from.
    pub joins: BTreeMap<String, RegistryJoin>,
    /// How the templates write each values entry into their output
    /// (`crate::workspace::helm_templates::renders`).
    pub renders: Renders,
}

/// What is written around one values entry where a template outputs it.
/// Several places OR together.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Render {
    /// Written alone: nothing is joined to it before or after
    /// (`image: "{{ .Values.image }}"`).
    pub plain: bool,
    /// Followed by `:` and more (`{{ .Values.image }}:{{ .Values.release }}`):
    /// the template supplies a tag.
    pub tag: bool,
    /// Followed by `@` and more: the template supplies a digest.
    pub digest: bool,
    /// Preceded by `/` or by other output (`{{ .Values.hub }}/{{ .Values.image }}`,
    /// `quay.io/{{ … }}`): the template supplies what comes first.
    pub prefix: bool,
    /// Followed directly by other output or text that is not `:` or `@`.
    pub after: bool,
}

impl Render {
    pub fn or(self, o: Render) -> Render {
        Render {
            plain: self.plain || o.plain,
            tag: self.tag || o.tag,
            digest: self.digest || o.digest,
            prefix: self.prefix || o.prefix,
            after: self.after || o.after,
        }
    }
}

/// How a chart's templates use its values, by values path; list items are
/// written `[*]` (`extra[*].image`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Renders {
    /// Entries a template writes out, and how.
    pub written: BTreeMap<String, Render>,
    /// Maps and lists written whole as YAML or JSON (`toYaml .Values.sidecars`):
    /// everything under them is written as it stands.
    pub verbatim: BTreeSet<String>,
    /// Every values path a template names in any other way (a condition,
    /// a helper refit cannot follow, `tpl`, `range` over a map).
    pub mentioned: BTreeSet<String>,
    /// Entries written right after another value with nothing between
    /// (`{{ .Values.image.repository }}{{ .Values.ndm.image }}`): the
    /// values paths written before them. Not counted in `Render::prefix`:
    /// the prefix is that value, empty or not.
    pub prefix_values: BTreeMap<String, BTreeSet<String>>,
    /// Entries written in a file's body with a tag or digest joined after
    /// them: the values paths joined there (`image.tag`), `?` for anything
    /// else (a literal, a helper's output, `.Chart.AppVersion` alone).
    /// Entries joined inside helpers are not listed.
    pub joined_values: BTreeMap<String, BTreeSet<String>>,
    /// Image maps (values paths, lists as `[*]`) handed to a helper that
    /// may take the registry from somewhere other than the map's own
    /// `registry` key: another key of the map (`defaultRegistry`), another
    /// argument (`global.image.registry`), or a literal host, through
    /// `default`/`coalesce`/`or` chains and variables. Docker Hub is not
    /// implied there.
    pub registry_elsewhere: BTreeSet<String>,
    /// Values paths (lists as `[*]`) handed to a helper the chart does not
    /// define (a library chart's, from a dependency that is not in the
    /// repository), each with that helper's name: refit did not analyse
    /// the template that writes them.
    pub unread_helpers: BTreeMap<String, String>,
}

/// How a chart's templates use one values entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judged {
    /// Written out, and how.
    Written(Render),
    /// Under a map written whole as YAML or JSON: as it stands.
    Verbatim,
    /// Named, or a map above it is, in a way refit does not follow.
    Mentioned,
    /// No template names it or any map above it.
    Unseen,
}

impl Judged {
    /// Whether refit found how the templates write the entry: written
    /// out, or under a map written whole.
    pub fn found(self) -> bool {
        matches!(self, Judged::Written(_) | Judged::Verbatim)
    }
    /// Whether some template joins a tag, a digest or more text after it.
    pub fn joined_after(self) -> bool {
        matches!(self, Judged::Written(r) if r.tag || r.digest || r.after)
    }
    /// Whether some template writes something before it that refit did
    /// not read into the reference.
    pub fn prefixed(self) -> bool {
        matches!(self, Judged::Written(r) if r.prefix)
    }
}

impl Renders {
    /// The helper refit could not read that the entry at `path`, or a map
    /// above it, is handed to (`include "common.images.image" (dict
    /// "imageRoot" .Values.image)` with no `common` chart in the
    /// repository).
    /// Also the map it was handed as (`""`: the whole root context).
    pub fn unread_helper(&self, path: &str) -> Option<(String, &str)> {
        if self.unread_helpers.is_empty() {
            return None;
        }
        let path = star_indexes(path);
        // The nearest map first: a helper handed the whole root context
        // (`include "common.names.fullname" .`) is named only when no
        // nearer one is.
        let ancestors: Vec<&str> = std::iter::once("")
            .chain(
                path.char_indices()
                    .filter(|(_, c)| matches!(c, '.' | '['))
                    .map(|(i, _)| &path[..i]),
            )
            .chain(std::iter::once(path.as_str()))
            .collect();
        ancestors
            .into_iter()
            .rev()
            .find_map(|a| Some((a.to_string(), self.unread_helpers.get(a)?.as_str())))
    }

    /// How the entry at `path` (`a.b[3].image`) is used.
    pub fn judge(&self, path: &str) -> Judged {
        let path = star_indexes(path);
        if let Some(r) = self.written.get(&path) {
            return Judged::Written(*r);
        }
        let ancestors = || {
            std::iter::once("")
                .chain(
                    path.char_indices()
                        .filter(|(_, c)| matches!(c, '.' | '['))
                        .map(|(i, _)| &path[..i]),
                )
                .chain(std::iter::once(path.as_str()))
        };
        if ancestors().any(|a| self.verbatim.contains(a)) {
            return Judged::Verbatim;
        }
        if ancestors().any(|a| self.mentioned.contains(a)) {
            return Judged::Mentioned;
        }
        Judged::Unseen
    }
}

/// `a[3].b[0]` as `a[*].b[*]`.
pub fn star_indexes(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push_str("[*]");
            }
            ']' => in_index = false,
            _ if in_index => {}
            _ => out.push(c),
        }
    }
    out
}

/// How a template writes the registry in front of a value:
/// `{{ .Values.a.registry }}/{{ .Values.a.name }}`,
/// `{{ default .Values.image.registry .Values.a.registry }}/{{ … }}`,
/// `{{ printf "%s/%s:%s" .Values.a.registry .Values.a.image … }}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryJoin {
    /// The value path the registry is read from; `None` when the template
    /// computes it some other way (`include`, a variable).
    pub primary: Option<String>,
    /// With `default FALLBACK PRIMARY`: the value used when the primary
    /// is empty or absent.
    pub fallback: Option<String>,
    /// With `default "quay.io" PRIMARY`: the literal registry used when
    /// the primary is empty or absent.
    pub literal_fallback: Option<String>,
}

/// An entry of a kustomization's `images:`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KustomizeImage {
    /// `name`: matched literally against resource images (without tag).
    pub name: String,
    pub new_name: Option<String>,
    /// Whether `newTag` or `digest` replaces the resource's tag.
    pub new_tag: bool,
    /// `newTag`'s value, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// `digest`'s value, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The kustomization (repository-relative) and the 1-based line and
    /// column of the entry's `newName` (or `name`).
    #[serde(default)]
    pub file: String,
    #[serde(default)]
    pub line: usize,
    #[serde(default)]
    pub column: usize,
}

impl KustomizeImage {
    /// What kustomize deploys for a resource image whose name (as written,
    /// without tag or digest) is `name` and whose tag-and-digest part is
    /// `rest` (`:1.0`, `@sha256:…`, or empty): `None` when the entry does
    /// not match. `newTag` and `digest` replace the whole part after the
    /// name; with both, the reference keeps both (`name:tag@digest`).
    pub fn apply(&self, name: &str, rest: &str) -> Option<(String, String)> {
        if self.name != name {
            return None;
        }
        let name = self.new_name.as_deref().unwrap_or(name);
        let rest = match (&self.tag, &self.digest) {
            (Some(t), Some(d)) => format!(":{t}@{d}"),
            (Some(t), None) => format!(":{t}"),
            (None, Some(d)) => format!("@{d}"),
            (None, None) => rest.to_string(),
        };
        Some((name.to_string(), rest))
    }
}

/// What the repository's `registries.conf` files say about short names.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ShortNames {
    /// `[aliases]`: short name → fully qualified name.
    pub aliases: BTreeMap<String, String>,
    /// `unqualified-search-registries` (or the v1 `[registries.search]`).
    pub search: Vec<String>,
    /// The files read, for messages (repository-relative).
    pub files: Vec<String>,
    /// Why the containers tools, not Docker, read the file (a
    /// `Containerfile`, a `podman build` in a script): then the build
    /// machine's own `registries.conf` decides unless the repository pins
    /// Docker Hub.
    pub built_by: Option<String>,
}

impl ShortNames {
    /// Add what another (deeper) configuration says: its aliases win, and
    /// its search list replaces the one before.
    pub fn merge(&mut self, other: &ShortNames) {
        for (k, v) in &other.aliases {
            self.aliases.insert(k.clone(), v.clone());
        }
        if !other.search.is_empty() {
            self.search = other.search.clone();
        }
        self.files.extend(other.files.iter().cloned());
    }

    /// Where the containers tools would pull a short name from, when that
    /// may not be Docker Hub: `Some(why)`; `None` when they agree with
    /// Docker (`name` is the repository path without tag, as written).
    pub fn elsewhere(&self, name: &str) -> Option<String> {
        let hub = if name.contains('/') {
            format!("docker.io/{name}")
        } else {
            format!("docker.io/library/{name}")
        };
        let alias = self.aliases.get(name).or_else(|| {
            name.strip_prefix("library/")
                .and_then(|n| self.aliases.get(n))
        });
        if let Some(target) = alias {
            let target = target.trim_end_matches('/');
            return (target != hub).then(|| {
                format!(
                    "an alias in {} sends `{name}` to `{target}`",
                    self.files.join(", ")
                )
            });
        }
        match self.search.as_slice() {
            [] => self.built_by.as_ref().map(|by| {
                format!(
                    "{by}, and the host's `registries.conf` decides where `{name}` comes from (the repository pins no search registry)"
                )
            }),
            [only] if only == "docker.io" => None,
            [first, ..] if first != "docker.io" => Some(format!(
                "{} searches `{first}` first for short names",
                self.files.join(", ")
            )),
            list => Some(format!(
                "{} searches {} registries for short names ({})",
                self.files.join(", "),
                list.len(),
                list.join(", ")
            )),
        }
    }
}

/// Names a repository builds itself, so that a reference to one is not a
/// pull: images (Compose `build:` with `image:`, bake `tags`, `docker build
/// -t`), named build contexts, and placeholder prefixes a script
/// substitutes before the build.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LocalNames {
    pub images: BTreeSet<String>,
    pub contexts: BTreeSet<String>,
    pub placeholder_prefixes: BTreeSet<String>,
    /// The paths (registry cut off) of images the repository builds or
    /// pushes: in a dev-loop registry ([`dev_registry`]) such a path is
    /// the repository's own image.
    #[serde(default)]
    pub dev_paths: BTreeSet<String>,
    /// Names that a `kustomize edit set image NAME=…` in the repository's
    /// scripts rewrites: a kustomization's `images[]` entry for NAME holds
    /// what that command replaces, not what it deploys.
    #[serde(default)]
    pub set_image: BTreeSet<String>,
}

impl LocalNames {
    /// Whether a name (no registry, without tag) is built here or is a
    /// named build context. Podman names an image built as `app` in its
    /// local store `localhost/app`, and finds `localhost/app` when asked
    /// for `app`: the two spellings are one local image, either way round.
    pub fn is_local(&self, name: &str) -> bool {
        self.is_local_for(name, true)
    }

    /// [`is_local`](Self::is_local) for a file that Podman or Buildah may
    /// read (`podman`), or only Docker and BuildKit: for them `app` is
    /// `docker.io/library/app` and `localhost/app` a registry on
    /// `localhost`, two other images.
    pub fn is_local_for(&self, name: &str, podman: bool) -> bool {
        let other = match name.strip_prefix("localhost/") {
            Some(short) => short.to_string(),
            None => format!("localhost/{name}"),
        };
        self.images.contains(name)
            || (podman && self.images.contains(&other))
            || self.contexts.contains(name)
            || self
                .placeholder_prefixes
                .iter()
                .any(|p| name.starts_with(p.as_str()))
    }
}

#[cfg(test)]
mod local_tests {
    use super::LocalNames;

    #[test]
    fn localhost_spelling_is_podmans_only() {
        let local = LocalNames {
            images: ["localhost/app".to_string()].into(),
            ..LocalNames::default()
        };
        assert!(local.is_local_for("app", true));
        assert!(local.is_local_for("localhost/app", false));
        // Docker: `app` is `docker.io/library/app`, another image.
        assert!(!local.is_local_for("app", false));
    }
}

/// Whether a host (with or without port) is a loopback address
/// (`localhost`, `127.0.0.1:5000`, `[::1]:5000`).
pub fn is_loopback(host: &str) -> bool {
    let bare = if let Some(v6) = host.strip_prefix('[') {
        v6.split(']').next().unwrap_or(v6)
    } else {
        host.rsplit_once(':')
            .filter(|(_, p)| p.chars().all(|c| c.is_ascii_digit()))
            .map_or(host, |(h, _)| h)
    };
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether a registry host (with its port) is a dev-loop registry on
/// the developer's machine or cluster: a loopback address (`localhost`,
/// `127.0.0.1`, `[::1]`, `*.localhost`), or a single-label name with a
/// port (`registry:5000`, `kind-registry:5000`), which only a local
/// resolver (a cluster's or Compose's DNS, `/etc/hosts`) can answer.
pub fn dev_registry(host: &str) -> bool {
    if is_loopback(host) {
        return true;
    }
    if host.starts_with('[') {
        return false;
    }
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (host, None),
    };
    let name = name.to_ascii_lowercase();
    name.ends_with(".localhost")
        || (!name.contains('.')
            && !name.is_empty()
            && port.is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit())))
}

/// One Flux image automation object: an `ImagePolicy` (`value`: the
/// `ImageRepository` it follows, `namespace:name`, the namespace empty
/// when neither the reference nor the policy names one) or an
/// `ImageRepository` (`value`: its `spec.image`). `namespace` is `None`
/// when the object names none (kustomize or `flux` sets it).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FluxObject {
    pub namespace: Option<String>,
    pub name: String,
    pub value: String,
    /// The file it is in (repository-relative).
    pub file: String,
}

impl FluxObject {
    /// Whether this object is `namespace/name`: an object without a
    /// namespace may be in any.
    pub fn is(&self, namespace: &str, name: &str) -> bool {
        self.name == name && self.namespace.as_deref().is_none_or(|n| n == namespace)
    }
}

/// The Flux objects of a repository that other files name: image
/// automation objects, for the setter markers (`# {"$imagepolicy":
/// "ns:name"}`) that name them (FLX001), and OCI Helm repositories, for
/// the `HelmRelease` charts that name them.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct FluxPolicies {
    pub policies: Vec<FluxObject>,
    pub repositories: Vec<FluxObject>,
    /// OCI `HelmRepository` objects (`value`: `host/path` of its url), for
    /// the `HelmRelease` charts that name them from other files.
    pub helm_repositories: Vec<FluxObject>,
}

impl FluxPolicies {
    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
            && self.repositories.is_empty()
            && self.helm_repositories.is_empty()
    }

    pub fn policy(&self, namespace: &str, name: &str) -> Option<&FluxObject> {
        self.policies.iter().find(|p| p.is(namespace, name))
    }

    /// The `ImageRepository` a policy follows, when the repository has it.
    pub fn repository_of(&self, policy: &FluxObject) -> Option<&FluxObject> {
        let (ns, name) = policy.value.split_once(':')?;
        self.repositories
            .iter()
            .find(|r| r.name == name && (ns.is_empty() || r.is(ns, name)))
    }
}

/// A name a dependency-update configuration matches
/// (`workspace::update_configs`): exactly (`nginx`), or every name that
/// starts with a text (`^nginx` in a regex, `nginx*` as a glob).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum NameMatch {
    Exact(String),
    Prefix(String),
}

impl NameMatch {
    /// Whether an image name, as written, is one this matches.
    pub fn matches(&self, written: &str) -> bool {
        match self {
            NameMatch::Exact(n) => n == written,
            NameMatch::Prefix(p) => written.starts_with(p.as_str()),
        }
    }
}
