//! Kubernetes manifests: every YAML document with `apiVersion` and `kind`.

use super::common::{Builder, dedupe, scalar_site, site};
use super::yaml::{self, Document, Node, Scalar};
use crate::site::{ImageSite, PullPolicy, SiteKind, Slot, SyntaxError};

/// Whether a YAML text has a Kubernetes object in it (cheap pre-check).
pub fn looks_like_manifest(text: &str) -> bool {
    text.contains("apiVersion") && text.contains("kind")
}

pub fn extract(text: &str) -> Result<Vec<ImageSite>, SyntaxError> {
    extract_with(text, None)
}

/// [`extract`], with the repository's Flux objects (a `HelmRelease`'s
/// `HelmRepository` in another file).
pub fn extract_with(
    text: &str,
    flux: Option<&crate::facts::FluxPolicies>,
) -> Result<Vec<ImageSite>, SyntaxError> {
    let shared = yaml::parse_shared(text)?;
    let docs: &[yaml::Document] = &shared;
    let mut out = Vec::new();
    for doc in docs {
        let root = doc.resolve(&doc.root);
        object(doc, text, root, "", &mut out, 0);
        doc.check_budget()?;
    }
    super::flux::extract(text, docs, flux, &mut out);
    // `ko://<import path>` is ko's build reference: `ko resolve` and
    // `ko apply` build the Go package and write the image they pushed in
    // its place, so the text is a build instruction, not a pull.
    out.retain(|s| !s.raw.trim_start_matches(['"', '\'']).starts_with(KO_SCHEME));
    dedupe(&mut out);
    Ok(out)
}

/// The scheme of ko's build references in manifests.
const KO_SCHEME: &str = "ko://";

/// Whether a site at `path` of a Kyverno policy (`kyverno.io` group) is a
/// pattern the policy compares resources with, not an image it runs or
/// writes: everything under a rule's `validate` (`pattern`, `anyPattern`,
/// `deny` conditions), `preconditions`, `match` and `exclude`. A `mutate`
/// patch writes its image into the resource, so it stays an image.
fn kyverno_pattern(path: &str) -> bool {
    [".validate.", ".preconditions", ".match.", ".exclude."]
        .iter()
        .any(|k| path.contains(k))
}

fn object(
    doc: &Document,
    text: &str,
    obj: &Node,
    path: &str,
    out: &mut Vec<ImageSite>,
    depth: usize,
) {
    if depth > 8 || doc.get_scalar(obj, "apiVersion").is_none() {
        return;
    }
    let Some(kind) = doc.get_scalar(obj, "kind") else {
        return;
    };
    let join = |p: &str| {
        if path.is_empty() {
            p.to_string()
        } else {
            format!("{path}.{p}")
        }
    };
    if kind.value == "List" || kind.value.ends_with("List") {
        if let Some(items) = doc.get(obj, "items") {
            for (i, item) in doc.items(items).into_iter().enumerate() {
                object(
                    doc,
                    text,
                    item,
                    &join(&format!("items[{i}]")),
                    out,
                    depth + 1,
                );
            }
        }
        return;
    }
    let first = out.len();
    let spec_paths: &[&[&str]] = match kind.value.as_str() {
        "Pod" => &[&["spec"]],
        "CronJob" => &[&["spec", "jobTemplate", "spec", "template", "spec"]],
        "PodTemplate" => &[&["template", "spec"]],
        // Deployment, StatefulSet, DaemonSet, ReplicaSet,
        // ReplicationController, Job, and workload CRDs shaped like them.
        _ => &[&["spec", "template", "spec"]],
    };
    for keys in spec_paths {
        let mut node = obj;
        let mut found = true;
        for key in *keys {
            match doc.get(node, key) {
                Some(n) => node = n,
                None => {
                    found = false;
                    break;
                }
            }
        }
        if found {
            pod_spec(doc, text, node, &join(&keys.join(".")), POD_LISTS, out);
        }
    }
    let api = doc
        .get_scalar(obj, "apiVersion")
        .map_or("", |s| s.value.as_str());
    let group = api.split('/').next().unwrap_or("");
    // Pod templates in custom resources (Argo Rollouts, StrimziPodSet,
    // Tekton, Knative…): any `containers`/`initContainers` list of
    // `{name, image}` mappings, wherever it sits in the object.
    let lists: &[&str] = if group == "tekton.dev" {
        // Tekton Task steps and sidecars are containers too.
        &["containers", "initContainers", "steps", "sidecars"]
    } else {
        &["containers", "initContainers"]
    };
    let before = out.len();
    pod_templates(doc, text, obj, path, lists, out, 0);
    if group == "kyverno.io" || group.ends_with(".kyverno.io") {
        let mut found = out.split_off(before);
        found.retain(|s| !s.path.as_deref().is_some_and(kyverno_pattern));
        out.extend(found);
    }
    if group == "argoproj.io" {
        argo_workflow(doc, text, obj, &kind.value, &join, out);
        argo_cd(doc, obj, &kind.value, &join, out);
    }
    if kind.value == "DeploymentConfig" {
        let replaced = image_change_targets(doc, obj, &join);
        if !replaced.is_empty() {
            let mut found = out.split_off(first);
            found.retain(|s| !s.path.as_ref().is_some_and(|p| replaced.contains(p)));
            out.extend(found);
        }
    }
    if kind.value == "ConfigMap"
        && group == "v1"
        && let Some(data) = doc.get(obj, "data")
    {
        for (key, value) in doc.entries(data) {
            if let Some(scalar) = doc.resolve(value).as_scalar() {
                json_images(text, scalar, &join(&format!("data.{key}")), out);
            }
        }
    }
    // Single image fields of well-known custom resources.
    for (g, k, keys) in CR_IMAGE_FIELDS {
        if *g == group && *k == kind.value {
            let mut node = Some(obj);
            for key in *keys {
                node = node.and_then(|n| doc.get(n, key));
            }
            if let Some(image) = node
                .and_then(Node::as_scalar)
                .filter(|s| !s.value.is_empty() && !yaml::looks_numeric(&s.value))
            {
                out.push(scalar_site(
                    SiteKind::KubernetesVolume,
                    image,
                    &join(&keys.join(".")),
                ));
            }
        }
    }
}

/// The most `"image"` keys read from one ConfigMap value.
const MAX_JSON_IMAGES: usize = 256;

/// `"image": "…"` strings in a ConfigMap value that holds JSON (KServe's
/// `inferenceservice-config`: an operator reads them and runs the image).
/// Read in the file's own text, so each value keeps its file span; a
/// value with escapes is skipped. A sibling key that names a version or a
/// tag (`"defaultImageVersion"`) gives the tag.
fn json_images(text: &str, scalar: &Scalar, path: &str, out: &mut Vec<ImageSite>) {
    if !scalar.value.trim_start().starts_with(['{', '[']) {
        return;
    }
    let Some(raw) = text.get(scalar.span.start..scalar.span.end) else {
        return;
    };
    let mut found = 0;
    let mut at = 0;
    while let Some(i) = raw[at..].find("\"image\"") {
        let key_end = at + i + "\"image\"".len();
        at = key_end;
        let rest = raw[key_end..].trim_start_matches([' ', '\t']);
        let Some(rest) = rest.strip_prefix(':') else {
            continue;
        };
        let rest_trimmed = rest.trim_start_matches([' ', '\t']);
        let Some(body) = rest_trimmed.strip_prefix('"') else {
            continue;
        };
        let Some(end) = body.find(['"', '\n']) else {
            continue;
        };
        if !body[end..].starts_with('"') {
            continue;
        }
        let value = &body[..end];
        if value.is_empty() || value.contains(['\\', ' ']) {
            continue;
        }
        let start = scalar.span.start + (raw.len() - body.len());
        let span = crate::site::Span::new(start, start + value.len());
        if text.get(span.start..span.end) != Some(value) {
            continue;
        }
        let mut b = Builder::default();
        b.push(value, Some(span.start));
        let mut s = site(
            SiteKind::KubernetesContainer,
            span,
            value,
            b.into_value(),
            path.to_string(),
        );
        // The rest of this JSON object: a version or tag key there is
        // joined to the image by the operator.
        let object = &body[end..];
        let object = &object[..object.find('}').unwrap_or(object.len())];
        let lower = object.to_ascii_lowercase();
        if lower.contains("version\"") || lower.contains("tag\"") {
            s.extra.tag_from_overlay = true;
        }
        out.push(s);
        found += 1;
        if found >= MAX_JSON_IMAGES {
            break;
        }
    }
}

/// Image fields of custom resources that are not in a container list:
/// (API group, kind, path). Only exact paths of kinds whose schema says the
/// field is an image reference, so nothing else named `image` is read.
const CR_IMAGE_FIELDS: &[(&str, &str, &[&str])] = &[
    // Rook: `spec.cephVersion.image` is the Ceph container image.
    (
        "ceph.rook.io",
        "CephCluster",
        &["spec", "cephVersion", "image"],
    ),
    // RabbitMQ Cluster Operator: `spec.image` is the RabbitMQ image.
    ("rabbitmq.com", "RabbitmqCluster", &["spec", "image"]),
    // Prometheus Operator: `spec.image` overrides the component's image.
    ("monitoring.coreos.com", "Prometheus", &["spec", "image"]),
    ("monitoring.coreos.com", "Alertmanager", &["spec", "image"]),
    ("monitoring.coreos.com", "ThanosRuler", &["spec", "image"]),
];

/// Whether a node is a list of containers: mappings with a `name` and a
/// non-empty `image` scalar (at least one, and all of them with a `name`).
fn is_container_list(doc: &Document, node: &Node) -> bool {
    let items = doc.items(node);
    !items.is_empty()
        && items.iter().all(|c| doc.get_scalar(c, "name").is_some())
        && items.iter().any(|c| {
            doc.get_scalar(c, "image")
                .is_some_and(|i| !i.value.is_empty())
        })
}

/// Find mappings holding a container list anywhere under `node`; each is
/// read as a pod spec (sites already found are dropped by `dedupe`).
fn pod_templates(
    doc: &Document,
    text: &str,
    node: &Node,
    path: &str,
    lists: &[&str],
    out: &mut Vec<ImageSite>,
    depth: usize,
) {
    if depth > 32 {
        return;
    }
    match doc.resolve(node) {
        map @ Node::Map(..) => {
            let entries = doc.entries(map);
            let holds = entries
                .iter()
                .any(|(k, v)| lists.contains(k) && is_container_list(doc, v));
            if holds {
                pod_spec(doc, text, map, path, lists, out);
            }
            for (k, v) in entries {
                if holds && (lists.contains(&k) || k == "ephemeralContainers") {
                    continue;
                }
                let p = if path.is_empty() {
                    k.to_string()
                } else {
                    format!("{path}.{k}")
                };
                pod_templates(doc, text, v, &p, lists, out, depth + 1);
            }
        }
        Node::Seq(items, _) => {
            for (i, item) in items.iter().enumerate() {
                pod_templates(
                    doc,
                    text,
                    item,
                    &format!("{path}[{i}]"),
                    lists,
                    out,
                    depth + 1,
                );
            }
        }
        _ => {}
    }
}

/// An OpenShift `DeploymentConfig`'s containers whose `image` an automatic
/// `ImageChange` trigger sets (`spec.triggers[].imageChangeParams` with
/// `automatic: true` and the container in `containerNames`): OpenShift
/// writes the image that the trigger's image stream tag resolves to before
/// it deploys, so the text in the file (kompose writes `' '`) is never
/// pulled. The paths of those `image` values.
fn image_change_targets(
    doc: &Document,
    obj: &Node,
    join: &dyn Fn(&str) -> String,
) -> std::collections::HashSet<String> {
    let mut names = std::collections::HashSet::new();
    let triggers = doc.get(obj, "spec").and_then(|s| doc.get(s, "triggers"));
    for t in triggers.map(|t| doc.items(t)).unwrap_or_default() {
        let Some(params) = doc.get(t, "imageChangeParams") else {
            continue;
        };
        let automatic = doc
            .get_scalar(params, "automatic")
            .is_some_and(|a| a.value == "true");
        let image_change = doc
            .get_scalar(t, "type")
            .is_some_and(|k| k.value == "ImageChange");
        if !(automatic && image_change) {
            continue;
        }
        if let Some(list) = doc.get(params, "containerNames") {
            for n in doc.items(list) {
                if let Some(n) = n.as_scalar() {
                    names.insert(n.value.clone());
                }
            }
        }
    }
    let mut paths = std::collections::HashSet::new();
    let spec = doc
        .get(obj, "spec")
        .and_then(|s| doc.get(s, "template"))
        .and_then(|t| doc.get(t, "spec"));
    for list in ["initContainers", "containers"] {
        let Some(items) = spec.and_then(|s| doc.get(s, list)) else {
            continue;
        };
        for (i, c) in doc.items(items).into_iter().enumerate() {
            if doc
                .get_scalar(c, "name")
                .is_some_and(|n| names.contains(&n.value))
            {
                paths.insert(join(&format!("spec.template.spec.{list}[{i}].image")));
            }
        }
    }
    paths
}

/// The container lists of a pod spec.
const POD_LISTS: &[&str] = &["initContainers", "containers", "ephemeralContainers"];

fn pod_spec(
    doc: &Document,
    text: &str,
    spec: &Node,
    path: &str,
    lists: &[&str],
    out: &mut Vec<ImageSite>,
) {
    let extra = lists.iter().filter(|l| !POD_LISTS.contains(l));
    for &list in POD_LISTS.iter().chain(extra) {
        let Some(containers) = doc.get(spec, list) else {
            continue;
        };
        for (i, c) in doc.items(containers).into_iter().enumerate() {
            container(doc, text, c, &format!("{path}.{list}[{i}]"), out);
        }
    }
    if let Some(volumes) = doc.get(spec, "volumes") {
        for (i, v) in doc.items(volumes).into_iter().enumerate() {
            let Some(reference) = doc
                .get(v, "image")
                .and_then(|img| doc.get_scalar(img, "reference"))
            else {
                continue;
            };
            out.push(scalar_site(
                SiteKind::KubernetesVolume,
                reference,
                &format!("{path}.volumes[{i}].image.reference"),
            ));
        }
    }
}

/// One container mapping's `image`, with its pull policy.
fn container(doc: &Document, text: &str, c: &Node, path: &str, out: &mut Vec<ImageSite>) {
    let Some(image) = doc.get_scalar(c, "image") else {
        return;
    };
    if image.value.is_empty() {
        return;
    }
    let mut s = scalar_site(
        SiteKind::KubernetesContainer,
        image,
        &format!("{path}.image"),
    );
    let policy = pull_policy(doc, text, c, image);
    // `Never`: the node must already hold the image (built or loaded
    // there); nothing is pulled, so no registry or tag rule applies.
    if policy.value.as_ref().is_some_and(|v| v.value == "Never") {
        s.extra.build_output = true;
    }
    s.extra.pull_policy = Some(policy);
    out.push(s);
}

/// Argo Workflows (`Workflow`, `WorkflowTemplate`,
/// `ClusterWorkflowTemplate`, `CronWorkflow`): each template of
/// `spec.templates` (`spec.workflowSpec.templates` for a `CronWorkflow`)
/// runs its `container` or `script` (a container with a script), with
/// `sidecars`; its `initContainers` and `containerSet.containers` are
/// container lists the walk over pod templates reads.
fn argo_workflow(
    doc: &Document,
    text: &str,
    obj: &Node,
    kind: &str,
    join: &dyn Fn(&str) -> String,
    out: &mut Vec<ImageSite>,
) {
    let keys: &[&str] = match kind {
        "Workflow" | "WorkflowTemplate" | "ClusterWorkflowTemplate" => &["spec", "templates"],
        "CronWorkflow" => &["spec", "workflowSpec", "templates"],
        _ => return,
    };
    let mut node = Some(obj);
    for key in keys {
        node = node.and_then(|n| doc.get(n, key));
    }
    let Some(templates) = node else {
        return;
    };
    let at = join(&keys.join("."));
    for (i, t) in doc.items(templates).into_iter().enumerate() {
        for key in ["container", "script"] {
            if let Some(c) = doc.get(t, key) {
                container(doc, text, c, &format!("{at}[{i}].{key}"), out);
            }
        }
        if let Some(sidecars) = doc.get(t, "sidecars") {
            for (j, c) in doc.items(sidecars).into_iter().enumerate() {
                container(doc, text, c, &format!("{at}[{i}].sidecars[{j}]"), out);
            }
        }
    }
}

/// Argo CD `Application` (`spec`) and `ApplicationSet` (`spec.template.spec`):
/// each of `source` and `sources[]`.
fn argo_cd(
    doc: &Document,
    obj: &Node,
    kind: &str,
    join: &dyn Fn(&str) -> String,
    out: &mut Vec<ImageSite>,
) {
    let keys: &[&str] = match kind {
        "Application" => &["spec"],
        "ApplicationSet" => &["spec", "template", "spec"],
        _ => return,
    };
    let mut node = Some(obj);
    for key in keys {
        node = node.and_then(|n| doc.get(n, key));
    }
    let Some(spec) = node else {
        return;
    };
    let at = keys.join(".");
    if let Some(source) = doc.get(spec, "source") {
        argo_cd_source(doc, source, &join(&format!("{at}.source")), out);
    }
    if let Some(sources) = doc.get(spec, "sources") {
        for (i, source) in doc.items(sources).into_iter().enumerate() {
            argo_cd_source(doc, source, &join(&format!("{at}.sources[{i}]")), out);
        }
    }
}

/// One Argo CD source: a Helm chart in an OCI registry (`repoURL`
/// `oci://…`, or without a scheme, which Argo CD reads as OCI, with
/// `chart`; or an `oci://` source without `chart`), `targetRevision` as its
/// tag, reported without a fix; and `kustomize.images` entries written
/// `name=image`, whose image is what Argo CD deploys.
fn argo_cd_source(doc: &Document, source: &Node, path: &str, out: &mut Vec<ImageSite>) {
    if let Some(repo) = doc.get_scalar(source, "repoURL") {
        let url = repo.value.trim();
        let chart = doc.get_scalar(source, "chart").map(|c| c.value.trim());
        let oci = url.strip_prefix("oci://");
        let registry = match (oci, chart) {
            (Some(r), _) => Some(r),
            (None, Some(_)) if !url.contains("://") && !url.is_empty() => Some(url),
            _ => None,
        };
        if let Some(registry) = registry.filter(|r| !r.contains("{{")) {
            let mut name = registry.trim_end_matches('/').to_string();
            if let Some(chart) = chart {
                name = format!("{name}/{chart}");
            }
            if let Some(rev) = doc.get_scalar(source, "targetRevision")
                && !rev.value.trim().is_empty()
            {
                name = format!("{name}:{}", rev.value.trim());
            }
            let mut b = Builder::default();
            b.push(&name, None);
            let span = repo.content.unwrap_or(repo.span);
            let mut s = site(
                SiteKind::ArgoCd,
                span,
                &repo.value,
                b.into_value(),
                format!("{path}.repoURL"),
            );
            s.extra.kept = Some(
                "an Argo CD source's registry, chart and revision are separate keys".to_string(),
            );
            s.extra.frozen.push(span);
            out.push(s);
        }
    }
    if let Some(params) = doc
        .get(source, "helm")
        .and_then(|h| doc.get(h, "parameters"))
    {
        helm_parameters(doc, params, path, out);
    }
    let Some(images) = doc
        .get(source, "kustomize")
        .and_then(|k| doc.get(k, "images"))
    else {
        return;
    };
    for (i, item) in doc.items(images).into_iter().enumerate() {
        let Some(entry) = doc.resolve(item).as_scalar() else {
            continue;
        };
        let Some((_, image)) = entry.value.split_once('=') else {
            continue;
        };
        if image.trim().is_empty() {
            continue;
        }
        let skip = entry.value.len() - image.len();
        let mut b = Builder::default();
        b.push(image, entry.content.map(|c| c.start + skip));
        let span = match entry.content {
            Some(c) => crate::site::Span::new(c.start + skip, c.end),
            None => entry.span,
        };
        out.push(site(
            SiteKind::ArgoCd,
            span,
            image,
            b.into_value(),
            format!("{path}.kustomize.images[{i}]"),
        ));
    }
}

/// Argo CD `helm.parameters` that set a chart's image: `{name: X.image,
/// value: REF}`, or `X.repository` with `X.tag` beside it (the chart's own
/// layout). The chart's templates decide how the values are joined (a
/// registry key, a prefix), so they are reported without a fix.
fn helm_parameters(doc: &Document, params: &Node, path: &str, out: &mut Vec<ImageSite>) {
    let mut values: Vec<(usize, String, &crate::sources::yaml::Scalar)> = Vec::new();
    for (i, item) in doc.items(params).into_iter().enumerate() {
        if let (Some(name), Some(value)) =
            (doc.get_scalar(item, "name"), doc.get_scalar(item, "value"))
        {
            values.push((i, name.value.trim().to_string(), value));
        }
    }
    let value_of = |key: &str| values.iter().find(|(_, n, _)| n == key).map(|(_, _, v)| *v);
    for (i, name, value) in &values {
        let (prefix, last) = name
            .rsplit_once('.')
            .map_or(("", name.as_str()), |(p, l)| (p, l));
        let reference = match last {
            "image" => value.value.trim().to_string(),
            "repository" => {
                let tag_key = if prefix.is_empty() {
                    "tag".to_string()
                } else {
                    format!("{prefix}.tag")
                };
                match value_of(&tag_key) {
                    Some(tag) if !tag.value.trim().is_empty() => {
                        format!("{}:{}", value.value.trim(), tag.value.trim())
                    }
                    _ => value.value.trim().to_string(),
                }
            }
            _ => continue,
        };
        if reference.is_empty() || reference.contains("{{") {
            continue;
        }
        let mut b = Builder::default();
        b.push(&reference, None);
        let span = value.content.unwrap_or(value.span);
        let mut s = site(
            SiteKind::ArgoCd,
            span,
            &value.value,
            b.into_value(),
            format!("{path}.helm.parameters[{i}]"),
        );
        // Only a whole reference is a reference: `repository` alone may be
        // joined to a registry key the chart has.
        if s.reference().is_none() {
            continue;
        }
        s.extra.kept = Some(
            "a Helm parameter: the chart's templates decide how its values are joined".to_string(),
        );
        s.extra.frozen.push(span);
        out.push(s);
    }
}

/// The plain `image: <reference>` lines of a text that is not YAML (a
/// manifest with template expressions outside a chart's `templates/`), as
/// line-matching tools read them: the key first on its line (or after
/// `- `), one reference as the value, no template expression in it.
pub fn extract_lines(text: &str) -> Vec<ImageSite> {
    let mut out = Vec::new();
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let start = line_start;
        line_start += line.len();
        let body = line.trim_end_matches(['\n', '\r']);
        let trimmed = body.trim_start_matches(' ');
        let trimmed = trimmed
            .strip_prefix("- ")
            .map_or(trimmed, |t| t.trim_start_matches(' '));
        let Some(rest) = trimmed.strip_prefix("image:") else {
            continue;
        };
        if !rest.starts_with([' ', '\t']) {
            continue;
        }
        let value = rest.trim_start_matches([' ', '\t']);
        // An inline comment ends the value.
        let value = match value.find(" #") {
            Some(i) => &value[..i],
            None => value,
        }
        .trim_end_matches([' ', '\t']);
        let (inner, skip) = match value.as_bytes().first() {
            Some(b'"') | Some(b'\'') => {
                let q = &value[..1];
                match value[1..].strip_suffix(q) {
                    Some(inner) => (inner, 1),
                    None => continue,
                }
            }
            _ => (value, 0),
        };
        if inner.is_empty()
            || inner.contains("{{")
            || inner.contains(char::is_whitespace)
            || inner.contains(['"', '\'', '\\'])
        {
            continue;
        }
        // The value's byte offset: where it starts within `body`.
        let Some(in_body) = body
            .len()
            .checked_sub(rest.trim_start_matches([' ', '\t']).len())
        else {
            continue;
        };
        let at = start + in_body + skip;
        let span = crate::site::Span::new(at, at + inner.len());
        if text.get(span.start..span.end) != Some(inner) {
            continue;
        }
        let mut b = Builder::default();
        b.push(inner, Some(span.start));
        let mut s = site(
            SiteKind::KubernetesContainer,
            span,
            inner,
            b.into_value(),
            String::new(),
        );
        s.path = None;
        out.push(s);
    }
    out
}

/// The container's pull policy, or where to add one: after the image
/// scalar, on its own line at the key's indentation (or `, ` in flow style).
fn pull_policy(doc: &Document, text: &str, container: &Node, image: &Scalar) -> PullPolicy {
    if let Some(p) = doc.get_scalar(container, "imagePullPolicy") {
        return PullPolicy {
            value: Some(Slot::from(p)),
            insert: None,
        };
    }
    let flow =
        matches!(container, Node::Map(_, span) if text.as_bytes().get(span.start) == Some(&b'{'));
    if flow {
        return PullPolicy {
            value: None,
            insert: Some((image.span.end, ", imagePullPolicy: ".to_string())),
        };
    }
    // The `image` key starts the indentation the new key needs.
    let key_start = match container {
        Node::Map(pairs, _) => pairs.iter().find_map(|(k, v)| {
            let k = k.as_scalar()?;
            (k.value == "image" && v.as_scalar().is_some_and(|s| s.span == image.span))
                .then_some(k.span.start)
        }),
        _ => None,
    };
    let Some(key_start) = key_start else {
        return PullPolicy::default();
    };
    let line_start = text[..key_start].rfind('\n').map_or(0, |i| i + 1);
    let indent: String = text[line_start..key_start]
        .chars()
        .map(|c| if c == '-' { ' ' } else { c })
        .collect();
    if !indent.chars().all(|c| c == ' ') {
        return PullPolicy::default();
    }
    let line_end = text[image.span.end..]
        .find('\n')
        .map_or(text.len(), |i| image.span.end + i);
    let (at, newline) = if line_end > 0 && text.as_bytes().get(line_end - 1) == Some(&b'\r') {
        (line_end - 1, "\r\n")
    } else {
        (line_end, "\n")
    };
    PullPolicy {
        value: None,
        insert: Some((at, format!("{newline}{indent}imagePullPolicy: "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ko_build_references_and_kyverno_patterns_are_not_images() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - name: a\n        image: ko://github.com/acme/cmd/a\n      - name: b\n        image: nginx:1.27\n";
        let got: Vec<String> = extract(text).unwrap().into_iter().map(|s| s.raw).collect();
        assert_eq!(got, ["nginx:1.27"]);
        // A validate pattern is compared with, a mutate patch is written.
        let text = "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nspec:\n  rules:\n  - name: v\n    validate:\n      pattern:\n        spec:\n          containers:\n          - name: '*'\n            image: 'a.io/* | b.io/*'\n  - name: m\n    mutate:\n      patchStrategicMerge:\n        spec:\n          containers:\n          - name: sidecar\n            image: busybox:1.36\n";
        let got: Vec<(String, String)> = extract(text)
            .unwrap()
            .into_iter()
            .map(|s| (s.path.unwrap_or_default(), s.raw))
            .collect();
        assert_eq!(
            got,
            [(
                "spec.rules[1].mutate.patchStrategicMerge.spec.containers[0].image".to_string(),
                "busybox:1.36".to_string()
            )]
        );
    }

    #[test]
    fn argo_cd_sources() {
        let text = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nspec:\n  sources:\n  - repoURL: https://git.example.com/app.git\n    kustomize:\n      images:\n      - app=nginx:1.27\n      - nginx:1.26\n      - 'api=ghcr.io/acme/api@sha256:0123456789012345678901234567890123456789012345678901234567890123'\n  - chart: redis\n    repoURL: registry-1.docker.io/bitnamicharts\n    targetRevision: 20.1.0\n";
        let s = extract(text).unwrap();
        let got: Vec<(&str, &str)> = s
            .iter()
            .map(|s| (s.path.as_deref().unwrap(), s.raw.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("spec.sources[0].kustomize.images[0]", "nginx:1.27"),
                (
                    "spec.sources[0].kustomize.images[2]",
                    "ghcr.io/acme/api@sha256:0123456789012345678901234567890123456789012345678901234567890123"
                ),
                (
                    "spec.sources[1].repoURL",
                    "registry-1.docker.io/bitnamicharts"
                ),
            ]
        );
        // The image after `=` is edited in place; a chart never.
        let span = s[0].whole_file_span().unwrap();
        assert_eq!(&text[span.start..span.end], "nginx:1.27");
        assert_eq!(s[2].whole_file_span(), None);
        assert_eq!(
            s[2].reference().map(|r| r.normalized()).as_deref(),
            Some("registry-1.docker.io/bitnamicharts/redis:20.1.0")
        );
        assert!(s[2].extra.kept.is_some());
    }

    #[test]
    fn argo_cd_helm_parameters() {
        let text = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nspec:\n  source:\n    repoURL: https://charts.example.com\n    chart: web\n    helm:\n      parameters:\n      - name: image.repository\n        value: ghcr.io/acme/web\n      - name: image.tag\n        value: \"1.4.2\"\n      - name: sidecar.image\n        value: nginx:1.27\n      - name: replicaCount\n        value: \"2\"\n      - name: proxy.image\n        value: '{{ .Values.x }}'\n";
        let s = extract(text).unwrap();
        let got: Vec<(&str, String)> = s
            .iter()
            .map(|s| {
                (
                    s.path.as_deref().unwrap(),
                    s.reference().map(|r| r.normalized()).unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "spec.source.helm.parameters[0]",
                    "ghcr.io/acme/web:1.4.2".to_string()
                ),
                (
                    "spec.source.helm.parameters[2]",
                    "docker.io/library/nginx:1.27".to_string()
                ),
            ]
        );
        // The chart joins the values: reported, never edited.
        assert!(s.iter().all(|s| s.extra.kept.is_some()));
    }

    #[test]
    fn argo_workflow_templates() {
        // The shapes of Argo's documented examples (hello-world, scripts,
        // sidecars, init containers, container sets, a CronWorkflow).
        let text = "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  generateName: hello-\nspec:\n  entrypoint: main\n  templates:\n  - name: main\n    container:\n      image: busybox:1.36\n      command: [echo, hi]\n  - name: gen\n    script:\n      image: python:3.12-alpine\n      imagePullPolicy: IfNotPresent\n      command: [python]\n      source: print(1)\n  - name: with-sidecar\n    container:\n      image: alpine:3.20\n    sidecars:\n    - name: db\n      image: postgres:16\n    initContainers:\n    - name: init\n      image: busybox:1.37\n  - name: set\n    containerSet:\n      containers:\n      - name: a\n        image: debian:12\n  - name: steps\n    steps:\n    - - name: s\n        template: main\n---\napiVersion: argoproj.io/v1alpha1\nkind: CronWorkflow\nspec:\n  schedule: '* * * * *'\n  workflowSpec:\n    templates:\n    - name: c\n      container:\n        image: ghcr.io/acme/job:1.0\n---\napiVersion: example.com/v1\nkind: Workflow\nspec:\n  templates:\n  - container:\n      image: not-argo:1\n";
        let s = extract(text).unwrap();
        let mut got: Vec<(&str, &str)> = s
            .iter()
            .map(|s| (s.path.as_deref().unwrap(), s.raw.as_str()))
            .collect();
        got.sort();
        assert_eq!(
            got,
            [
                ("spec.templates[0].container.image", "busybox:1.36"),
                ("spec.templates[1].script.image", "python:3.12-alpine"),
                ("spec.templates[2].container.image", "alpine:3.20"),
                ("spec.templates[2].initContainers[0].image", "busybox:1.37"),
                ("spec.templates[2].sidecars[0].image", "postgres:16"),
                (
                    "spec.templates[3].containerSet.containers[0].image",
                    "debian:12"
                ),
                (
                    "spec.workflowSpec.templates[0].container.image",
                    "ghcr.io/acme/job:1.0"
                ),
            ]
        );
        let script = s.iter().find(|s| s.raw.starts_with("python")).unwrap();
        let policy = script.extra.pull_policy.clone().unwrap();
        assert_eq!(policy.value.unwrap().value, "IfNotPresent");
    }

    #[test]
    fn workloads_and_lists() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: apps/v1\n  kind: Deployment\n  spec:\n    template:\n      spec:\n        initContainers:\n        - {name: init, image: busybox:1.36}\n        containers:\n        - name: app\n          image: nginx:1.27  # web\n          imagePullPolicy: Always\n---\napiVersion: batch/v1\nkind: CronJob\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n          - name: c\n            image: 'alpine:3.20'\n          volumes:\n          - name: v\n            image:\n              reference: quay.io/x/y:1\n";
        let s = extract(text).unwrap();
        let paths: Vec<&str> = s.iter().map(|s| s.path.as_deref().unwrap()).collect();
        assert_eq!(
            paths,
            [
                "items[0].spec.template.spec.initContainers[0].image",
                "items[0].spec.template.spec.containers[0].image",
                "spec.jobTemplate.spec.template.spec.containers[0].image",
                "spec.jobTemplate.spec.template.spec.volumes[0].image.reference",
            ]
        );
        let p = s[1].extra.pull_policy.clone().unwrap();
        assert_eq!(p.value.unwrap().value, "Always");
        let init = s[0].extra.pull_policy.clone().unwrap();
        assert_eq!(init.insert.unwrap().1, ", imagePullPolicy: ");
        let cron = s[2].extra.pull_policy.clone().unwrap();
        let (at, ins) = cron.insert.unwrap();
        assert_eq!(ins, "\n            imagePullPolicy: ");
        assert_eq!(&text[at - 13..at], "'alpine:3.20'");
    }

    #[test]
    fn pod_templates_in_custom_resources() {
        let text = "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: nginx:1.27\n---\napiVersion: core.strimzi.io/v1beta2\nkind: StrimziPodSet\nspec:\n  pods:\n  - apiVersion: v1\n    kind: Pod\n    spec:\n      containers:\n      - name: kafka\n        image: quay.io/strimzi/kafka:0.40.0\n---\napiVersion: tekton.dev/v1\nkind: Task\nspec:\n  steps:\n  - name: build\n    image: golang:1.22\n  sidecars:\n  - name: docker\n    image: docker:dind\n---\napiVersion: ceph.rook.io/v1\nkind: CephCluster\nspec:\n  cephVersion:\n    image: quay.io/ceph/ceph:v18.2.2\n---\napiVersion: example.com/v1\nkind: Thing\nspec:\n  containers:\n  - nginx\n  image: not-a-field-refit-knows\n  logo:\n    image: logo.png\n";
        let s = extract(text).unwrap();
        let paths: Vec<&str> = s.iter().map(|s| s.path.as_deref().unwrap()).collect();
        assert_eq!(
            paths,
            [
                "spec.template.spec.containers[0].image",
                "spec.pods[0].spec.containers[0].image",
                "spec.steps[0].image",
                "spec.sidecars[0].image",
                "spec.cephVersion.image",
            ]
        );
    }

    #[test]
    fn image_lines_of_templated_text() {
        let text = "spec:\n  containers:\n  - image: nginx:1.27 # web\n    name: a\n  - name: b\n    image: \"{{ .Values.image }}\"\n  - name: c\n    image: 'quay.io/x/y:2'\n{{- if .Values.sidecar }}\n    image:   busybox\r\n{{- end }}\n  notimage: alpine\n";
        let s = extract_lines(text);
        let got: Vec<&str> = s.iter().map(|s| &text[s.span.start..s.span.end]).collect();
        assert_eq!(got, ["nginx:1.27", "quay.io/x/y:2", "busybox"]);
    }

    #[test]
    fn non_manifests_are_ignored() {
        assert!(extract("image: nginx\n").unwrap().is_empty());
        assert!(extract("kind: Config\nimage: nginx\n").unwrap().is_empty());
    }
}
