//! `refit inventory`: every image a repository would pull, resolved the way
//! `check` resolves it, with the places that define it; local build outputs
//! apart, and what cannot be resolved listed, never dropped.
//!
//! The sites come from the same front-ends and the same workspace view as
//! `check` and `refit sites` ([`crate::check::extract_all`] with
//! [`Workspace::source_options`]): Dockerfile `ARG` defaults and the build
//! arguments the repository passes, `.env` beside Compose files, Helm values
//! as the chart's templates join them. Two things only the inventory needs
//! are computed here from workspace facts: kustomize overlays are applied
//! (each top kustomization's `images:` chain, [`RepoFacts::kustomize_renders`]),
//! and a parent chart's values for a sub-chart replace the sub-chart's own
//! defaults for the same image.
//!
//! One module per output format; each writes a `String` (the CLI prints).

use crate::kind::FileKind;
use crate::reference::Reference;
use crate::settings::Settings;
use crate::site::{ImageSite, SiteKind, SiteValue};
use crate::workspace::Workspace;
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

pub mod csv;
pub mod hauler;
pub mod json;
pub mod oc_mirror;
pub mod plain;
pub mod skopeo;
pub mod zarf;

/// One place that defines an image.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Site {
    /// The file, as `refit check` shows it.
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// What the site is (`FROM`, `Compose service`, `kustomize image`).
    pub kind: String,
    /// How the reference was resolved: `literal`, `variables` (ARG
    /// defaults, build arguments, `.env`, Compose defaults), `helm values`,
    /// `kustomize overlay`.
    pub resolution: String,
    /// The reference as written at the site.
    pub raw: String,
    /// Variables the reference was composed from.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub variables: Vec<String>,
    /// The YAML path of the site (`services.web.image`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub yaml_path: Option<String>,
    /// Compose profiles of the service (empty: every profile).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<String>,
    /// The sub-chart a Helm value is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subchart: Option<String>,
}

/// One image, normalized (`docker.io/library/nginx:1.27`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Image {
    /// The full reference: registry, repository, tag (`latest` when none is
    /// written and there is no digest: what a pull gets) and digest.
    pub reference: String,
    pub registry: String,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
    /// Every profile a site of the image is under; empty when some site
    /// runs whatever profiles are enabled.
    pub profiles: Vec<String>,
    pub sites: Vec<Site>,
    /// `--resolve`: the digest the tag pointed at, or why it could not be
    /// resolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved_digest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolve_error: Option<String>,
}

impl Image {
    /// The reference to pull: pinned to the resolved digest when there is
    /// one (`name:tag@digest`).
    pub fn pull_reference(&self) -> String {
        match (&self.digest, &self.resolved_digest) {
            (None, Some(d)) => format!("{}@{d}", self.reference),
            _ => self.reference.clone(),
        }
    }

    /// The digest to pull by, written or resolved.
    pub fn any_digest(&self) -> Option<&str> {
        self.digest.as_deref().or(self.resolved_digest.as_deref())
    }

    /// `registry/repository`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }
}

/// A reference refit could not resolve to an image.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Unresolved {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub kind: String,
    pub raw: String,
    /// Why: the variables without a value, a template placeholder, an
    /// invalid reference.
    pub reason: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
}

/// Everything `refit inventory` found.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Inventory {
    /// Images pulled, sorted by reference.
    pub images: Vec<Image>,
    /// Images built in the repository (Compose `build:`, `docker build -t`,
    /// bake targets, named build contexts): not pulled.
    pub built_here: Vec<Image>,
    pub unresolved: Vec<Unresolved>,
    /// Files that could not be read or parsed: `(file, message)`.
    pub errors: Vec<(String, String)>,
}

/// One site before images are grouped.
struct Found {
    reference: Reference,
    site: Site,
    built: bool,
}

/// What one file gives.
#[derive(Default)]
struct FileFinds {
    found: Vec<Found>,
    unresolved: Vec<Unresolved>,
    /// A kustomization's `images:` entries as sites: an entry no resource
    /// of the repository matched is listed as an image of its own.
    overrides: Vec<Found>,
    error: Option<String>,
}

/// Build the inventory of the files under `paths`, offline.
pub fn collect(paths: &[PathBuf], settings: &Settings, workspace: &Workspace) -> Inventory {
    let targets = crate::discover::discover(paths);
    workspace.prepare(targets.iter().map(|t| t.path.as_path()));
    // Kustomizations are named by the workspace: shown as the walk shows
    // them, so an entry is one site whichever way it was found.
    let displays: HashMap<PathBuf, String> = targets
        .iter()
        .filter_map(|t| Some((crate::realpath::canonical(&t.path).ok()?, t.display.clone())))
        .collect();
    let per_file: Vec<(String, FileFinds)> = targets
        .par_iter()
        .map(|t| {
            let f = file(&t.path, &t.display, t.kind, settings, workspace, &displays);
            (t.display.clone(), f)
        })
        .collect();
    let mut inv = Inventory::default();
    let mut found = Vec::new();
    let mut overrides = Vec::new();
    for (display, f) in per_file {
        if let Some(e) = f.error {
            inv.errors.push((display, e));
        }
        found.extend(f.found);
        overrides.extend(f.overrides);
        inv.unresolved.extend(f.unresolved);
    }
    // A kustomization entry that changed a resource image is a site of that
    // image already; one that matched nothing here (remote resources, a Helm
    // chart kustomize inflates) is what kustomize deploys for them.
    let applied: BTreeSet<(String, usize)> = found
        .iter()
        .filter(|f| f.site.kind == SiteKind::Kustomize.label())
        .map(|f| (f.site.file.clone(), f.site.line))
        .collect();
    found.extend(
        overrides
            .into_iter()
            .filter(|o| !applied.contains(&(o.site.file.clone(), o.site.line))),
    );
    subchart_overrides(&mut found);
    let (built, pulled): (Vec<Found>, Vec<Found>) = found.into_iter().partition(|f| f.built);
    inv.images = group(pulled);
    inv.built_here = group(built);
    inv.unresolved.sort();
    inv.unresolved.dedup();
    inv
}

/// The sites, unresolved references and error of one file.
fn file(
    path: &Path,
    display: &str,
    kind: FileKind,
    settings: &Settings,
    workspace: &Workspace,
    displays: &HashMap<PathBuf, String>,
) -> FileFinds {
    let mut out = FileFinds::default();
    // The inventory applies overlays itself, to what each one deploys.
    let read = crate::run::file_sites(path, kind, settings, workspace, |input| {
        input.kustomize_images.clear()
    });
    let crate::run::FileSites {
        text,
        input,
        extraction,
    } = match read {
        Ok(f) => f,
        Err(e) => {
            out.error = Some(e);
            return out;
        }
    };
    let parent = if kind == FileKind::HelmValues {
        ParentValues::of(path)
    } else {
        None
    };
    let index = crate::diagnostic::LineIndex::new(&text);
    let canonical = crate::realpath::canonical(path).ok();
    let root = canonical
        .as_deref()
        .and_then(|c| workspace.root_of(c))
        .filter(|_| kind == FileKind::Kubernetes);
    let repo = root.as_deref().map(|root| workspace.repo(root));
    let by_build_args = if kind == FileKind::Dockerfile {
        build_arg_variants(
            &extraction.sites,
            &text,
            &input,
            canonical.as_deref(),
            workspace,
        )
    } else {
        Vec::new()
    };
    for (s, combo) in &by_build_args {
        let at = index.position(&text, s.span.start);
        let SiteValue::Resolved { text: value, .. } = &s.value else {
            continue;
        };
        let Ok(reference) = Reference::parse_normalized(value) else {
            continue;
        };
        out.found.push(Found {
            reference,
            site: Site {
                file: display.to_string(),
                line: at.line,
                column: at.column,
                kind: s.kind.label().to_string(),
                resolution: format!("build arguments ({combo})"),
                raw: s.raw.clone(),
                variables: variables(&s.raw),
                yaml_path: s.path.clone(),
                profiles: Vec::new(),
                subchart: None,
            },
            built: s.extra.build_output,
        });
    }
    for s in &extraction.sites {
        let at = index.position(&text, s.span.start);
        let site = |resolution: &str| Site {
            file: display.to_string(),
            line: at.line,
            column: at.column,
            kind: s.kind.label().to_string(),
            resolution: resolution.to_string(),
            raw: s.raw.clone(),
            variables: variables(&s.raw),
            yaml_path: s.path.clone(),
            profiles: s.extra.profiles.clone(),
            subchart: s.extra.subchart.clone(),
        };
        let unresolved = |reason: String, missing: Vec<String>| Unresolved {
            file: display.to_string(),
            line: at.line,
            column: at.column,
            kind: s.kind.label().to_string(),
            raw: s.raw.clone(),
            reason,
            missing,
        };
        let text = match &s.value {
            SiteValue::Mirror(_) => continue,
            SiteValue::Unresolved { .. } if by_build_args.iter().any(|(b, _)| b.span == s.span) => {
                continue;
            }
            SiteValue::Unresolved { missing } => {
                out.unresolved.push(unresolved(
                    format!("no value for {}", missing.join(", ")),
                    missing.clone(),
                ));
                continue;
            }
            SiteValue::Resolved { text, parsed, .. } => match parsed {
                Ok(_) => text,
                Err(e) => {
                    out.unresolved.push(unresolved(
                        format!("not a valid reference: {e}"),
                        Vec::new(),
                    ));
                    continue;
                }
            },
        };
        let mut resolution = resolution_of(s, text);
        let overridden;
        let text = match parent.as_ref().and_then(|p| p.apply(s)) {
            Some((value, keys)) => {
                overridden = value;
                resolution = format!("helm values (parent chart sets {keys})");
                &overridden
            }
            None => text,
        };
        if let (Some(repo), Some(file)) = (&repo, &canonical)
            && let Some((name, rest)) = split_name(text)
            && let Some(renders) = repo.kustomize_renders(file, name, rest)
        {
            for r in renders {
                let effective = format!("{}{}", r.name, r.rest);
                let Ok(reference) = Reference::parse_normalized(&effective) else {
                    out.unresolved.push(unresolved(
                        format!("kustomize deploys `{effective}`, not a valid reference"),
                        Vec::new(),
                    ));
                    continue;
                };
                let how = if r.applied.is_empty() {
                    resolution.clone()
                } else {
                    "kustomize overlay".to_string()
                };
                let built = s.extra.build_output && r.applied.is_empty();
                for entry in &r.applied {
                    out.found.push(Found {
                        reference: reference.clone(),
                        site: Site {
                            file: root
                                .as_deref()
                                .map(|r| {
                                    let path = r.join(&entry.file);
                                    displays.get(&path).cloned().unwrap_or_else(|| shown(&path))
                                })
                                .unwrap_or_else(|| entry.file.clone()),
                            line: entry.line,
                            column: entry.column,
                            kind: SiteKind::Kustomize.label().to_string(),
                            resolution: "kustomize overlay".to_string(),
                            raw: entry
                                .apply(&entry.name, "")
                                .map(|(n, r)| format!("{n}{r}"))
                                .unwrap_or_else(|| entry.name.clone()),
                            variables: Vec::new(),
                            yaml_path: None,
                            profiles: Vec::new(),
                            subchart: None,
                        },
                        built,
                    });
                }
                out.found.push(Found {
                    reference,
                    site: site(&how),
                    built,
                });
            }
            continue;
        }
        let Ok(reference) = Reference::parse_normalized(text) else {
            out.unresolved
                .push(unresolved("not a valid reference".to_string(), Vec::new()));
            continue;
        };
        let f = Found {
            reference,
            site: site(&resolution),
            built: s.extra.build_output,
        };
        if s.kind == SiteKind::Kustomize {
            out.overrides.push(f);
        } else {
            out.found.push(f);
        }
    }
    for s in &extraction.placeholders {
        let at = index.position(&text, s.span.start);
        out.unresolved.push(Unresolved {
            file: display.to_string(),
            line: at.line,
            column: at.column,
            kind: s.kind.label().to_string(),
            raw: s.raw.clone(),
            reason: "template placeholder".to_string(),
            missing: Vec::new(),
        });
    }
    out
}

/// The most combinations of build argument values tried for one
/// Dockerfile.
const MAX_VARIANTS: usize = 16;

/// Dockerfile sites left unresolved only for `ARG`s without a default that
/// the repository's build invocations set (`--build-arg NAME=VALUE` in a
/// script, Makefile or CI file, bake `args`): each site again with each
/// combination of the values they give (at most [`MAX_VARIANTS`]), and the
/// combination as `NAME=VALUE, …`.
fn build_arg_variants(
    sites: &[ImageSite],
    text: &str,
    input: &crate::sources::SourceOptions,
    file: Option<&Path>,
    workspace: &Workspace,
) -> Vec<(ImageSite, String)> {
    let missing: BTreeSet<&String> = sites
        .iter()
        .filter_map(|s| match &s.value {
            SiteValue::Unresolved { missing } => Some(missing),
            _ => None,
        })
        .flatten()
        .collect();
    if missing.is_empty() {
        return Vec::new();
    }
    let Some(root) = file.and_then(|f| workspace.root_of(f)) else {
        return Vec::new();
    };
    let repo = workspace.repo(&root);
    let known = &repo.context.build_arg_values;
    let names: Vec<&String> = missing
        .into_iter()
        .filter(|n| known.get(*n).is_some_and(|v| !v.is_empty()))
        .collect();
    let mut combos: Vec<BTreeMap<String, String>> = vec![BTreeMap::new()];
    for name in names {
        let Some(values) = known.get(name) else {
            continue;
        };
        let mut next = Vec::new();
        'outer: for combo in &combos {
            for v in values {
                if next.len() >= MAX_VARIANTS {
                    break 'outer;
                }
                let mut c = combo.clone();
                c.insert(name.clone(), v.clone());
                next.push(c);
            }
        }
        combos = next;
    }
    let mut out = Vec::new();
    for combo in combos.into_iter().filter(|c| !c.is_empty()) {
        let mut with = input.clone();
        for (k, v) in &combo {
            with.compose_args
                .entry(k.clone())
                .or_insert_with(|| v.clone());
        }
        let Ok(again) = crate::check::extract_all(FileKind::Dockerfile, text, &with) else {
            continue;
        };
        let label: Vec<String> = combo.iter().map(|(k, v)| format!("{k}={v}")).collect();
        for s in again.sites {
            let was_unresolved = sites
                .iter()
                .any(|o| o.span == s.span && matches!(o.value, SiteValue::Unresolved { .. }));
            if was_unresolved && s.reference().is_some() {
                out.push((s, label.join(", ")));
            }
        }
    }
    out
}

/// A file found through the workspace (canonical), shown as the walk shows
/// files: relative to the working folder when it is under it.
fn shown(path: &Path) -> String {
    let here = std::env::current_dir()
        .ok()
        .and_then(|d| crate::realpath::canonical(&d).ok());
    let relative = here
        .as_deref()
        .and_then(|h| path.strip_prefix(h).ok())
        .unwrap_or(path);
    crate::discover::display_path(relative)
}

/// How a site's value was made from what is written.
fn resolution_of(s: &ImageSite, text: &str) -> String {
    if s.kind == SiteKind::HelmValue {
        return match &s.extra.subchart {
            Some(sub) => format!("helm values (sub-chart {sub})"),
            None => "helm values".to_string(),
        };
    }
    if s.raw == text {
        "literal".to_string()
    } else {
        "variables".to_string()
    }
}

/// The names of the `$VAR` / `${VAR…}` variables in a reference as written.
fn variables(raw: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let bytes = raw.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' {
            let mut j = i + 1;
            if bytes.get(j) == Some(&b'$') {
                i += 2;
                continue;
            }
            if bytes.get(j) == Some(&b'{') {
                j += 1;
            }
            let start = j;
            while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
                j += 1;
            }
            if j > start
                && let Some(name) = raw.get(start..j)
                && !out.iter().any(|n| n == name)
            {
                out.push(name.to_string());
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// `name` and `:tag@digest` of a reference as written (the tag's colon is
/// the first after the last `/`).
fn split_name(text: &str) -> Option<(&str, &str)> {
    let before = text.split('@').next().unwrap_or(text);
    let slash = before.rfind('/').map_or(0, |i| i + 1);
    let end = before[slash..]
        .find(':')
        .map_or(before.len(), |i| slash + i);
    (end > 0).then(|| text.split_at(end))
}

/// The values a parent chart gives a sub-chart whose `values.yaml` this
/// is (`<parent>/charts/<name>/values.yaml`): Helm merges them over the
/// sub-chart's own, key by key, so a parent that sets only
/// `memcached.image.tag` changes the tag of the sub-chart's `image`.
struct ParentValues {
    name: String,
    docs: Vec<crate::sources::yaml::Document>,
}

impl ParentValues {
    fn of(path: &Path) -> Option<ParentValues> {
        let chart = path.parent()?;
        let charts = chart.parent()?;
        if charts.file_name()? != "charts" {
            return None;
        }
        let name = chart.file_name()?.to_string_lossy().to_string();
        let parent = charts.parent()?;
        ["values.yaml", "values.yml"].iter().find_map(|v| {
            let bytes =
                crate::engine::read_capped(&parent.join(v), crate::engine::DEFAULT_MAX_FILE_SIZE)
                    .ok()?;
            let text = crate::engine::decode(bytes).ok()?;
            let docs = crate::sources::yaml::parse(&text).ok()?;
            Some(ParentValues {
                name: name.clone(),
                docs,
            })
        })
    }

    /// The site's image with the parent's `registry`, `repository`, `tag`
    /// and `digest` for its image map over the sub-chart's, and the keys
    /// the parent set; `None` when it sets none.
    fn apply(&self, site: &ImageSite) -> Option<(String, String)> {
        let reference = site.reference()?;
        let path = site.path.as_deref()?;
        let (map, last) = path.rsplit_once('.').unwrap_or(("", path));
        if !matches!(last, "repository" | "image" | "name") || map.is_empty() {
            return None;
        }
        let doc = self.docs.first()?;
        let mut node = doc.resolve(&doc.root);
        for key in std::iter::once(self.name.as_str()).chain(map.split('.')) {
            node = doc.resolve(doc.get(node, key)?);
        }
        let value = |key: &str| {
            doc.get_scalar(node, key)
                .map(|s| s.value.clone())
                .filter(|v| !v.is_empty())
        };
        let set: Vec<(&str, String)> = ["registry", "repository", "tag", "digest"]
            .into_iter()
            .filter_map(|k| value(k).map(|v| (k, v)))
            .collect();
        if set.is_empty() {
            return None;
        }
        let get = |k: &str| {
            set.iter()
                .find(|(key, _)| *key == k)
                .map(|(_, v)| v.clone())
        };
        let registry = get("registry").or_else(|| reference.domain_str().map(str::to_string));
        let repository = get("repository").unwrap_or_else(|| reference.path_str().to_string());
        let tag = get("tag").or_else(|| reference.tag_str().map(str::to_string));
        let digest = get("digest").or_else(|| reference.digest_str().map(str::to_string));
        let mut out = match registry {
            Some(r) => format!("{r}/{repository}"),
            None => repository,
        };
        if let Some(t) = tag {
            out.push(':');
            out.push_str(&t);
        }
        if let Some(d) = digest {
            out.push('@');
            out.push_str(&d);
        }
        let keys: Vec<&str> = set.iter().map(|(k, _)| *k).collect();
        Some((out, keys.join(", ")))
    }
}

/// A parent chart's image for a sub-chart (`memcached.image.repository`
/// in the parent's values) is the sub-chart's image (`image.repository`
/// in `charts/memcached/values.yaml`) with the parent's keys merged over it
/// ([`ParentValues`]): the parent's site is a site of that merged image, so
/// a key the parent leaves out (the tag) comes from the sub-chart, not from
/// nowhere. A sub-chart that is not in the repository leaves the parent's
/// site as it is.
fn subchart_overrides(found: &mut [Found]) {
    let mut merged: BTreeMap<(String, String), Reference> = BTreeMap::new();
    for f in found.iter() {
        if f.site.kind != SiteKind::HelmValue.label() {
            continue;
        }
        if let Some(path) = &f.site.yaml_path {
            merged.insert((f.site.file.clone(), path.clone()), f.reference.clone());
        }
    }
    for f in found.iter_mut() {
        let (Some(sub), Some(path)) = (&f.site.subchart, &f.site.yaml_path) else {
            continue;
        };
        let Some(inner) = path.strip_prefix(&format!("{sub}.")) else {
            continue;
        };
        let dir = match f.site.file.rfind('/') {
            Some(i) => &f.site.file[..=i],
            None => "",
        };
        let key = ["values.yaml", "values.yml"]
            .iter()
            .find_map(|name| merged.get(&(format!("{dir}charts/{sub}/{name}"), inner.to_string())));
        if let Some(reference) = key {
            f.reference = reference.clone();
        }
    }
}

/// Group sites by normalized reference, sorted.
fn group(found: Vec<Found>) -> Vec<Image> {
    let mut by: BTreeMap<String, Image> = BTreeMap::new();
    for f in found {
        let r = &f.reference;
        let tag = match (r.tag_str(), r.digest_str()) {
            (None, None) => Some("latest".to_string()),
            (t, _) => t.map(str::to_string),
        };
        let digest = r.digest_str().map(str::to_string);
        let mut reference = r.normalized_name();
        if let Some(t) = &tag {
            reference.push(':');
            reference.push_str(t);
        }
        if let Some(d) = &digest {
            reference.push('@');
            reference.push_str(d);
        }
        let image = by.entry(reference.clone()).or_insert_with(|| Image {
            reference,
            registry: r.normalized_domain().to_string(),
            repository: r.normalized_path(),
            tag,
            digest,
            profiles: Vec::new(),
            sites: Vec::new(),
            resolved_digest: None,
            resolve_error: None,
        });
        if !image.sites.contains(&f.site) {
            image.sites.push(f.site);
        }
    }
    let mut out: Vec<Image> = by.into_values().collect();
    for image in &mut out {
        image.sites.sort();
        // An image some site pulls whatever the profiles is in every one.
        image.profiles = if image.sites.iter().any(|s| s.profiles.is_empty()) {
            Vec::new()
        } else {
            let all: BTreeSet<&String> = image.sites.iter().flat_map(|s| &s.profiles).collect();
            all.into_iter().cloned().collect()
        };
    }
    out
}

/// `--resolve`: each tag without a digest to the digest the registry
/// serves for it, through the online client (one request per distinct
/// reference, cached as `check --online` caches).
pub fn resolve(inv: &mut Inventory, resolver: &crate::online::resolve::Resolver) {
    use crate::online::resolve::Want;
    let mut wants: Vec<(usize, Want)> = Vec::new();
    for (i, image) in inv.images.iter().enumerate() {
        if image.digest.is_some() {
            continue;
        }
        if let Ok(r) = Reference::parse_normalized(&image.reference) {
            wants.push((i, Want::of(&r, false)));
        }
    }
    let all: Vec<Want> = wants.iter().map(|(_, w)| w.clone()).collect();
    let answers = resolver.resolve_all(&all);
    for (i, want) in wants {
        let Some(image) = inv.images.get_mut(i) else {
            continue;
        };
        match answers.get(&want) {
            Some(Ok(r)) => image.resolved_digest = Some(r.digest.clone()),
            Some(Err(e)) => image.resolve_error = Some(e.to_string()),
            None => image.resolve_error = Some("not asked (deadline)".to_string()),
        }
    }
}

/// A YAML scalar for any string: JSON's double-quoted form is valid YAML.
pub(crate) fn yaml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Plain,
    Json,
    Csv,
    SkopeoSync,
    Hauler,
    Zarf,
    OcMirror,
}

/// Render the inventory in a format.
pub fn render(inv: &Inventory, format: Format, name: &str) -> String {
    match format {
        Format::Plain => plain::render(inv),
        Format::Json => json::render(inv),
        Format::Csv => csv::render(inv),
        Format::SkopeoSync => skopeo::render(inv),
        Format::Hauler => hauler::render(inv, name),
        Format::Zarf => zarf::render(inv, name),
        Format::OcMirror => oc_mirror::render(inv),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_names() {
        assert_eq!(variables("${REG:-docker.io}/app:$TAG"), ["REG", "TAG"]);
        assert_eq!(variables("app:$$V"), Vec::<String>::new());
        assert!(variables("nginx:1.27").is_empty());
    }

    #[test]
    fn names_and_tags() {
        assert_eq!(split_name("nginx:1.27"), Some(("nginx", ":1.27")));
        assert_eq!(
            split_name("127.0.0.1:5000/a/b:1@sha256:x"),
            Some(("127.0.0.1:5000/a/b", ":1@sha256:x"))
        );
        assert_eq!(split_name("a/b@sha256:x"), Some(("a/b", "@sha256:x")));
        assert_eq!(
            split_name("localhost:5000/a"),
            Some(("localhost:5000/a", ""))
        );
    }
}
