//! Flux sources stored in OCI registries, in Kubernetes manifests:
//!
//! - **`OCIRepository`** (`source.toolkit.fluxcd.io`): `spec.url:
//!   oci://host/path` with `spec.ref.tag` and/or `spec.ref.digest` is the
//!   artifact `host/path:tag@digest` Flux pulls. `spec.ref.semver` is a
//!   range Flux resolves when it runs: no tag (`Extra::version_range`). The
//!   site is the `url` value: its `host/path` is edited in place (a moved
//!   registry); the tag and digest are other keys, never edited.
//! - **`HelmRelease`** (`helm.toolkit.fluxcd.io`) `spec.chart.spec.chart`
//!   and `version`, whose `sourceRef` names a `HelmRepository` of `type:
//!   oci` (or with an `oci://` url) in the same file, by name and
//!   namespace (the release's own namespace when `sourceRef` gives none):
//!   the chart `url/chart:version`, reported without a fix (the url is in
//!   the other object). A repository in another file of the repository
//!   is matched through the workspace's facts.
//!   Its inline `spec.values` are Helm values: images in them are read
//!   with the same shapes as a `values.yaml` (`image: repo:tag`,
//!   `{registry, repository, tag, digest}` maps, `global.imageRegistry`),
//!   as a values file with no chart beside it (refit reads no chart a
//!   release installs), so a registry prefix is unsure and no `digest:` is
//!   added; and as a sub-chart's values (`Extra::subchart`): the chart's
//!   own defaults may add the registry or tag a value leaves out, so
//!   REG001 and TAG001 keep quiet about what is left out, while an
//!   explicit registry is judged (a moved one fixed in place).
//!   `spec.valuesFrom` names ConfigMaps and Secrets: not read.
//! - **`Kustomization`** (`kustomize.toolkit.fluxcd.io`) `spec.images`:
//!   entries read as a kustomization's `images:` (`newName`, `newTag`,
//!   `digest`), the images Flux's kustomize build deploys.
//!
//! Image automation (`image.toolkit.fluxcd.io`) names no image Flux pulls
//! to deploy: `ImageRepository` `spec.image` is the repository it scans,
//! `ImagePolicy` `spec.imageRepositoryRef` the one a policy follows. They
//! are read as workspace facts ([`image_automation`]) for the setter
//! markers ([`markers`]) that name a policy beside an image (FLX001).

use super::charts::{exact_version, version_tag};
use super::common::{Builder, site};
use super::yaml::{Document, Node};
use crate::site::{ImageSite, SiteKind, Span};

const OCI: &str = "oci://";

fn at<'a>(doc: &'a Document, node: &'a Node, keys: &[&str]) -> Option<&'a Node> {
    let mut n = node;
    for k in keys {
        n = doc.get(n, k)?;
    }
    Some(n)
}

fn text<'a>(doc: &'a Document, node: &'a Node, keys: &[&str]) -> Option<&'a str> {
    at(doc, node, keys)
        .and_then(|n| doc.resolve(n).as_scalar())
        .map(|s| s.value.trim())
        .filter(|s| !s.is_empty())
}

fn group_kind<'a>(doc: &'a Document, obj: &'a Node) -> Option<(&'a str, &'a str)> {
    let api = text(doc, obj, &["apiVersion"])?;
    let kind = text(doc, obj, &["kind"])?;
    Some((api.split('/').next().unwrap_or(""), kind))
}

/// A Flux OCI `HelmRepository`: (name, namespace) → `host/path`.
type Repos = Vec<((String, Option<String>), String)>;

fn oci_helm_repos(docs: &[Document]) -> Repos {
    let mut out = Repos::new();
    for doc in docs {
        let obj = doc.resolve(&doc.root);
        if group_kind(doc, obj) != Some(("source.toolkit.fluxcd.io", "HelmRepository")) {
            continue;
        }
        let (Some(name), Some(url)) = (
            text(doc, obj, &["metadata", "name"]),
            text(doc, obj, &["spec", "url"]),
        ) else {
            continue;
        };
        let oci = text(doc, obj, &["spec", "type"]) == Some("oci") || url.starts_with(OCI);
        if !oci {
            continue;
        }
        let ns = text(doc, obj, &["metadata", "namespace"]).map(str::to_string);
        let url = url.strip_prefix(OCI).unwrap_or(url).trim_end_matches('/');
        out.push(((name.to_string(), ns), url.to_string()));
    }
    out
}

/// The Flux sites of a manifest file's documents; `facts`: the OCI
/// `HelmRepository` objects of the whole repository, matched after the
/// file's own.
pub fn extract(
    text: &str,
    docs: &[Document],
    facts: Option<&crate::facts::FluxPolicies>,
    out: &mut Vec<ImageSite>,
) {
    let mut repos = oci_helm_repos(docs);
    if let Some(facts) = facts {
        repos.extend(
            facts
                .helm_repositories
                .iter()
                .map(|r| ((r.name.clone(), r.namespace.clone()), r.value.clone())),
        );
    }
    for doc in docs {
        let obj = doc.resolve(&doc.root);
        match group_kind(doc, obj) {
            Some(("source.toolkit.fluxcd.io", "OCIRepository")) => oci_repository(doc, obj, out),
            Some(("kustomize.toolkit.fluxcd.io", "Kustomization")) => {
                if let Some(images) = at(doc, obj, &["spec", "images"]) {
                    super::kustomize::images_of(doc, images, "spec.images", out);
                }
            }
            Some(("helm.toolkit.fluxcd.io", "HelmRelease")) => {
                helm_release(doc, obj, &repos, out);
                release_values(text, doc, obj, out);
            }
            _ => {}
        }
    }
}

fn oci_repository(doc: &Document, obj: &Node, out: &mut Vec<ImageSite>) {
    let Some(url) = at(doc, obj, &["spec", "url"]).and_then(|n| doc.resolve(n).as_scalar()) else {
        return;
    };
    let Some(rest) = url.value.strip_prefix(OCI) else {
        return;
    };
    let name = rest.trim_end_matches('/');
    if name.is_empty() || !super::charts::host_explicit(name) {
        return;
    }
    let mut b = Builder::default();
    b.push(name, url.content.map(|c| c.start + OCI.len()));
    // Flux's order: `digest` over `semver` over `tag`; a range is no tag.
    let digest = text(doc, obj, &["spec", "ref", "digest"]);
    let semver = text(doc, obj, &["spec", "ref", "semver"]);
    let tag = text(doc, obj, &["spec", "ref", "tag"]).filter(|_| semver.is_none());
    if let Some(tag) = tag {
        b.push(":", None);
        b.push(tag, None);
    }
    if let Some(digest) = digest {
        b.push("@", None);
        b.push(digest, None);
    }
    let mut s = site(
        SiteKind::Flux,
        url.content.unwrap_or(url.span),
        &url.value,
        b.into_value(),
        "spec.url".to_string(),
    );
    if digest.is_none() {
        s.extra.version_range = semver.map(str::to_string);
    }
    out.push(s);
}

fn helm_release(doc: &Document, obj: &Node, repos: &Repos, out: &mut Vec<ImageSite>) {
    let Some(spec) = at(doc, obj, &["spec", "chart", "spec"]) else {
        return;
    };
    let Some(chart) = doc.get_scalar(spec, "chart") else {
        return;
    };
    if text(doc, spec, &["sourceRef", "kind"]) != Some("HelmRepository") {
        return;
    }
    let Some(name) = text(doc, spec, &["sourceRef", "name"]) else {
        return;
    };
    let ns = text(doc, spec, &["sourceRef", "namespace"])
        .or_else(|| text(doc, obj, &["metadata", "namespace"]));
    let Some((_, url)) = repos
        .iter()
        .find(|((n, rns), _)| n == name && rns.as_deref() == ns)
    else {
        return;
    };
    let value = chart.value.trim();
    if value.is_empty() || !super::charts::host_explicit(url) {
        return;
    }
    let mut b = Builder::default();
    b.push(&format!("{url}/{value}"), None);
    // No `version`: Flux reads the range `*`, the newest semver tag (not
    // an OCI `latest` tag).
    let mut range = None;
    match text(doc, spec, &["version"]) {
        Some(v) if exact_version(v) => {
            b.push(":", None);
            b.push(&version_tag(v), None);
        }
        Some(v) => range = Some(v.to_string()),
        None => range = Some("*".to_string()),
    }
    let span = chart.content.unwrap_or(chart.span);
    let mut s = site(
        SiteKind::Flux,
        span,
        &chart.value,
        b.into_value(),
        "spec.chart.spec.chart".to_string(),
    );
    s.extra.version_range = range;
    s.extra.kept =
        Some("a HelmRelease's chart, version and repository url are separate keys".to_string());
    s.extra.frozen.push(span);
    out.push(s);
}

/// A `HelmRelease`'s inline `spec.values`, read as Helm values; a value
/// some other reading of the object already made a site is left to it.
fn release_values(text: &str, doc: &Document, obj: &Node, out: &mut Vec<ImageSite>) {
    let Some(values) = at(doc, obj, &["spec", "values"]) else {
        return;
    };
    let chart = text_of(doc, obj, &["spec", "chart", "spec", "chart"])
        .or_else(|| text_of(doc, obj, &["spec", "chartRef", "name"]))
        .unwrap_or("the release's chart");
    let mut found = Vec::new();
    super::helm::values_in(
        text,
        doc,
        values,
        "spec.values",
        chart,
        "the chart the HelmRelease installs was not read to tell how this value is used",
        &mut found,
    );
    for site in found {
        if !out.iter().any(|o| o.span == site.span) {
            out.push(site);
        }
    }
}

/// The `ImagePolicy`, `ImageRepository` and OCI `HelmRepository` objects
/// of a YAML text (`file`: its repository-relative path). Not YAML, or
/// none: empty.
pub fn image_automation(text: &str, file: &str) -> crate::facts::FluxPolicies {
    let mut out = crate::facts::FluxPolicies::default();
    let helm = text.contains("HelmRepository");
    if !text.contains("image.toolkit.fluxcd.io") && !helm {
        return out;
    }
    let Ok(docs) = super::yaml::parse(text) else {
        return out;
    };
    if helm {
        for ((name, namespace), url) in oci_helm_repos(&docs) {
            out.helm_repositories.push(crate::facts::FluxObject {
                namespace,
                name,
                value: url,
                file: file.to_string(),
            });
        }
    }
    for doc in &docs {
        let obj = doc.resolve(&doc.root);
        let Some((group, kind)) = group_kind(doc, obj) else {
            continue;
        };
        if group != "image.toolkit.fluxcd.io" {
            continue;
        }
        let Some(name) = text_of(doc, obj, &["metadata", "name"]) else {
            continue;
        };
        let namespace = text_of(doc, obj, &["metadata", "namespace"]).map(str::to_string);
        let value = match kind {
            "ImagePolicy" => {
                let Some(repo) = text_of(doc, obj, &["spec", "imageRepositoryRef", "name"]) else {
                    continue;
                };
                let ns = text_of(doc, obj, &["spec", "imageRepositoryRef", "namespace"])
                    .or(namespace.as_deref())
                    .unwrap_or("");
                format!("{ns}:{repo}")
            }
            "ImageRepository" => match text_of(doc, obj, &["spec", "image"]) {
                Some(image) => image.to_string(),
                None => continue,
            },
            _ => continue,
        };
        let o = crate::facts::FluxObject {
            namespace,
            name: name.to_string(),
            value,
            file: file.to_string(),
        };
        if kind == "ImagePolicy" {
            out.policies.push(o);
        } else {
            out.repositories.push(o);
        }
    }
    out
}

/// What a setter marker asks Flux to write beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerField {
    /// `ns:name`: the whole reference, `image:tag`.
    Whole,
    /// `ns:name:name`: the repository.
    Name,
    /// `ns:name:tag`: the tag.
    Tag,
    /// `ns:name:digest`: the digest.
    Digest,
    /// Anything else (`name` alone, `ns:name:version`): no setter Flux
    /// defines has this name, so the marker is ignored.
    Unknown,
}

/// A setter marker `# {"$imagepolicy": "ns:name[:field]"}` and the value
/// on its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    /// The setter as written (`flux-system:app:tag`).
    pub setter: String,
    pub namespace: String,
    pub name: String,
    pub field: MarkerField,
    /// The marker's comment text after `#`.
    pub span: Span,
    /// The YAML scalar before the comment (quotes removed), and where.
    pub value: Option<(String, Span)>,
}

/// Every setter marker of a text, line by line as Flux's setters read
/// them (a comment holding `{"$imagepolicy": "…"}` after a scalar value).
pub fn markers(text: &str) -> Vec<Marker> {
    const KEY: &str = "\"$imagepolicy\"";
    let mut out = Vec::new();
    // Most files hold no marker: one search of the whole text, not one a
    // line.
    if !text.contains(KEY) {
        return out;
    }
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let Some(key_at) = line.find(KEY) else {
            continue;
        };
        let Some(hash) = line[..key_at].rfind('#') else {
            continue;
        };
        // `"$imagepolicy": "ns:name[:field]"`
        let after = line[key_at + KEY.len()..].trim_start();
        let Some(after) = after.strip_prefix(':') else {
            continue;
        };
        let after = after.trim_start();
        let Some(quoted) = after.strip_prefix('"') else {
            continue;
        };
        let Some(end) = quoted.find('"') else {
            continue;
        };
        let setter = &quoted[..end];
        let parts: Vec<&str> = setter.split(':').collect();
        let (ns, name, field) = match parts.as_slice() {
            [ns, name] => (*ns, *name, MarkerField::Whole),
            [ns, name, "name"] => (*ns, *name, MarkerField::Name),
            [ns, name, "tag"] => (*ns, *name, MarkerField::Tag),
            [ns, name, "digest"] => (*ns, *name, MarkerField::Digest),
            _ => ("", "", MarkerField::Unknown),
        };
        let field = if ns.is_empty() || name.is_empty() {
            MarkerField::Unknown
        } else {
            field
        };
        let comment_end = line.trim_end().len();
        let value =
            scalar_before(&line[..hash]).map(|(v, a, b)| (v, Span::new(start + a, start + b)));
        out.push(Marker {
            setter: setter.to_string(),
            namespace: ns.to_string(),
            name: name.to_string(),
            field,
            span: Span::new(start + hash, start + comment_end),
            value,
        });
    }
    out
}

/// The scalar a line's text before a comment ends with: after `key:` or
/// `- `, quotes removed; with its byte range in the line.
fn scalar_before(head: &str) -> Option<(String, usize, usize)> {
    let trimmed = head.trim_end();
    let end = trimmed.len();
    let bytes = trimmed.as_bytes();
    let (start, end) = match bytes.last()? {
        q @ (b'"' | b'\'') => {
            let open = trimmed[..end - 1].rfind(*q as char)?;
            (open + 1, end - 1)
        }
        _ => {
            let from = [": ", "- "]
                .iter()
                .filter_map(|sep| trimmed.rfind(sep).map(|i| i + sep.len()))
                .max()?;
            (from, end)
        }
    };
    let value = trimmed.get(start..end)?.trim();
    (!value.is_empty()).then(|| (value.to_string(), start, end))
}

fn text_of<'a>(doc: &'a Document, node: &'a Node, keys: &[&str]) -> Option<&'a str> {
    text(doc, node, keys)
}

#[cfg(test)]
mod tests {
    use crate::sources::common::site_texts;
    use crate::sources::kubernetes::extract;

    #[test]
    fn oci_repositories_and_helm_releases() {
        let text = "apiVersion: source.toolkit.fluxcd.io/v1beta2\nkind: OCIRepository\nmetadata:\n  name: a\nspec:\n  url: oci://ghcr.io/acme/manifests/app\n  ref:\n    tag: v1.8.2\n    digest: sha256:761c3189c482d0f1f0ad3735ca05c4c398cae201d2169f6645280c7b7b2ce6fc\n---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata:\n  name: b\nspec:\n  url: oci://ghcr.io/acme/manifests/b\n  ref:\n    semver: '>=1.0.0'\n---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: charts\n  namespace: flux-system\nspec:\n  type: oci\n  url: oci://ghcr.io/acme/charts\n---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: app\n  namespace: apps\nspec:\n  chart:\n    spec:\n      chart: app\n      version: 1.2.3\n      sourceRef:\n        kind: HelmRepository\n        name: charts\n        namespace: flux-system\n---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: other\n  namespace: apps\nspec:\n  chart:\n    spec:\n      chart: other\n      sourceRef:\n        kind: HelmRepository\n        name: charts\n";
        let sites = extract(text).unwrap();
        assert_eq!(
            site_texts(&sites),
            [
                (
                    "spec.url".to_string(),
                    "ghcr.io/acme/manifests/app:v1.8.2@sha256:761c3189c482d0f1f0ad3735ca05c4c398cae201d2169f6645280c7b7b2ce6fc".to_string()
                ),
                ("spec.url".to_string(), "ghcr.io/acme/manifests/b".to_string()),
                (
                    "spec.chart.spec.chart".to_string(),
                    "ghcr.io/acme/charts/app:1.2.3".to_string()
                ),
            ]
        );
        assert_eq!(sites[1].extra.version_range.as_deref(), Some(">=1.0.0"));
        assert!(sites[2].extra.kept.is_some());
        let span = sites[0].map_to_file(crate::site::Span::new(0, 7)).unwrap();
        assert_eq!(&text[span.start..span.end], "ghcr.io");
    }

    #[test]
    fn oci_repository_semver_wins_over_tag() {
        // Flux: `semver` takes precedence over `tag`, `digest` over both.
        let text = "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata:\n  name: a\nspec:\n  url: oci://ghcr.io/acme/app\n  ref:\n    tag: latest\n    semver: '>=1.0.0'\n";
        let sites = extract(text).unwrap();
        assert_eq!(
            site_texts(&sites),
            [("spec.url".to_string(), "ghcr.io/acme/app".to_string())]
        );
        assert_eq!(sites[0].extra.version_range.as_deref(), Some(">=1.0.0"));
    }

    #[test]
    fn helm_release_values() {
        let text = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: web\nspec:\n  chart:\n    spec:\n      chart: app-template\n      sourceRef:\n        kind: HelmRepository\n        name: bjw-s\n  values:\n    global:\n      imageRegistry: quay.io\n    controllers:\n      main:\n        containers:\n          app:\n            image:\n              repository: acme/web\n              tag: 1.31.0\n    sidecar:\n      image: ghcr.io/acme/proxy:2.0\n    replicas: 2\n  valuesFrom:\n    - kind: ConfigMap\n      name: web-values\n";
        let sites = extract(text).unwrap();
        assert_eq!(
            site_texts(&sites),
            [
                (
                    "spec.values.controllers.main.containers.app.image.repository".to_string(),
                    "quay.io/acme/web:1.31.0".to_string()
                ),
                (
                    "spec.values.sidecar.image".to_string(),
                    "ghcr.io/acme/proxy:2.0".to_string()
                ),
            ]
        );
        // Read as values with no chart beside them: a registry prefix is
        // unsure, a digest key is not added, and both say why.
        for s in &sites {
            assert!(s.kind == crate::site::SiteKind::HelmValue);
            assert_eq!(s.extra.subchart.as_deref(), Some("app-template"));
            match &s.extra.prefixing {
                crate::site::Prefixing::Unsure(why) => {
                    assert!(why.contains("HelmRelease"), "{why}")
                }
                other => panic!("{other:?}"),
            }
        }
        assert!(matches!(&sites[0].extra.digest_insert, Some(Err(w)) if w.contains("HelmRelease")));
        let span = sites[0].map_to_file(crate::site::Span::new(8, 16)).unwrap();
        assert_eq!(&text[span.start..span.end], "acme/web");
        // Values that are not a mapping, and other kinds' `values`: nothing.
        let odd = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: x\nspec:\n  values: [image]\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\nspec:\n  values:\n    image: nginx:1.27\n";
        assert_eq!(extract(odd).unwrap(), []);
    }

    #[test]
    fn image_automation_and_markers() {
        let text = "apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImageRepository\nmetadata:\n  name: app\n  namespace: flux-system\nspec:\n  image: ghcr.io/acme/app\n---\napiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImagePolicy\nmetadata:\n  name: app\n  namespace: flux-system\nspec:\n  imageRepositoryRef:\n    name: app\n  policy:\n    semver:\n      range: 1.x\n";
        let f = super::image_automation(text, "policy.yaml");
        assert_eq!(f.policies.len(), 1);
        assert_eq!(f.policies[0].value, "flux-system:app");
        let p = f.policy("flux-system", "app").unwrap();
        assert_eq!(f.repository_of(p).unwrap().value, "ghcr.io/acme/app");
        assert!(f.policy("default", "app").is_none());
        let m = "      image: ghcr.io/acme/app:1.0.0 # {\"$imagepolicy\": \"flux-system:app\"}\n  tag: \"1.0.0\" # {\"$imagepolicy\": \"flux-system:app:tag\"}\n  - name: x # no marker\n";
        let ms = super::markers(m);
        assert_eq!(ms.len(), 2);
        let odd = super::markers(
            "x: 1 # {\"$imagepolicy\": \"app\"}\ny: 2 # {\"$imagepolicy\": \"ns:app:version\"}\n",
        );
        assert!(odd.iter().all(|m| m.field == super::MarkerField::Unknown));
        assert_eq!(odd[1].setter, "ns:app:version");
        assert_eq!(ms[0].field, super::MarkerField::Whole);
        let (v, at) = ms[0].value.clone().unwrap();
        assert_eq!(v, "ghcr.io/acme/app:1.0.0");
        assert_eq!(&m[at.start..at.end], "ghcr.io/acme/app:1.0.0");
        assert_eq!(ms[1].field, super::MarkerField::Tag);
        assert_eq!(ms[1].value.as_ref().unwrap().0, "1.0.0");
        assert_eq!(
            &m[ms[1].span.start..ms[1].span.end],
            "# {\"$imagepolicy\": \"flux-system:app:tag\"}"
        );
    }
}
