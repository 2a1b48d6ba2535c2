//! Helm chart values: image references in the shapes charts use.

use super::SourceOptions;
use super::common::scalar_site;
use super::common::{Builder, dedupe, site};
use super::yaml::{self, Document, Node, Scalar, Style};
use crate::facts::{ChartFacts, Judged};
use crate::site::{ImageSite, Prefixing, SiteKind, Slot, SyntaxError};

pub fn extract(text: &str, options: &SourceOptions) -> Result<Vec<ImageSite>, SyntaxError> {
    let shared = yaml::parse_shared(text)?;
    let docs: &[Document] = &shared;
    let mut out = Vec::new();
    for doc in docs {
        let root = doc.resolve(&doc.root);
        let global_registry = global_registry(doc, root);
        let walker = Walker {
            text,
            doc,
            root,
            options,
            global_registry,
        };
        let first = out.len();
        walker.walk(root, "", "", &mut out, 0, None);
        doc.check_budget()?;
        if let Some(chart) = &options.chart {
            for site in out.get_mut(first..).unwrap_or_default() {
                if let Some(path) = site.path.as_deref() {
                    site.extra.rendered = judged(chart, path, |p| {
                        lookup(doc, root, p).is_some_and(|s| !is_absent(s))
                    });
                    // Handed to a helper refit cannot follow, while a
                    // registry value the templates read is set at a level
                    // above the map (a top-level `imageRegistry`): the
                    // helper may well put it in front, so no registry is
                    // known to be implied.
                    if site.extra.rendered == Some(Judged::Mentioned)
                        && !site.extra.registry_elsewhere
                        && site.reference().is_some_and(|r| r.domain.is_none())
                    {
                        match read_registry_above(chart, doc, root, path) {
                            Ok(key) => {
                                site.extra.registry_elsewhere = true;
                                site.extra.registry_slot = None;
                                site.extra.prefixing = Prefixing::Never(format!(
                                    "the chart's templates read `.Values.{key}`, which is set, in a way refit cannot follow"
                                ));
                            }
                            // Read, but empty: say which values the
                            // templates read.
                            Err(unset) if !unset.is_empty() => {
                                site.extra.prefixing = Prefixing::Never(format!(
                                    "the chart's templates read {}, not set here, through a helper refit cannot follow",
                                    or_list(&unset)
                                ));
                                site.extra.registry_keys = unset;
                            }
                            Err(_) => {}
                        }
                    }
                    // A map handed to a helper refit could not read (a
                    // library chart's that is not in the repository), and
                    // written nowhere refit analysed: how that helper joins
                    // `registry:` is unknown, so a value written there may
                    // not render as refit composes it.
                    if site.extra.registry_slot.is_some()
                        && !site.extra.rendered.is_some_and(Judged::found)
                        && let Some((map, helper)) = chart.renders.unread_helper(path)
                    {
                        let what = if map.is_empty() {
                            "its whole context (`.`)"
                        } else {
                            "this map"
                        };
                        site.extra.fix_unsafe.get_or_insert_with(|| {
                            format!(
                                "the chart hands {what} to `{helper}`, a helper it does not define (from a library chart that is not in the repository), so refit cannot tell how it joins `registry:`"
                            )
                        });
                    }
                }
            }
        }
    }
    dedupe(&mut out);
    // Values under a dependency's key configure that sub-chart: its own
    // templates and defaults render them.
    if let Some(chart) = &options.chart {
        for site in &mut out {
            let top = site
                .path
                .as_deref()
                .map(|p| p.split(['.', '[']).next().unwrap_or(p));
            if let Some(top) = top.filter(|t| chart.dependencies.iter().any(|d| d == t)) {
                site.extra.subchart = Some(top.to_string());
                site.extra.rendered = None;
            }
        }
    }
    Ok(out)
}

/// The values' global registry: `global.imageRegistry` or
/// `global.image.registry`; null, `~` and an empty value are absent.
fn global_registry<'a>(doc: &'a Document, root: &'a Node) -> Option<&'a yaml::Scalar> {
    doc.get(root, "global").and_then(|g| {
        doc.get_scalar(g, "imageRegistry")
            .filter(|s| !is_absent(s))
            .or_else(|| {
                doc.get(g, "image")
                    .and_then(|i| doc.get_scalar(i, "registry"))
                    .filter(|s| !is_absent(s))
            })
    })
}

/// Images in Helm values written inside another file (a Flux
/// `HelmRelease`'s `spec.values`), read as a values file with no chart
/// beside it: what a fix may do there is what it may do in such a file
/// (a registry prefix is unsure, a digest key is never added). The chart
/// (`chart`, its name) renders them with its own defaults, which refit did
/// not read, as a sub-chart renders the values under its key: a registry
/// or tag left out may come from there (`Extra::subchart`). `prefix`: the
/// path of `values` in the object, put before each site's path.
pub fn values_in(
    text: &str,
    doc: &Document,
    values: &Node,
    prefix: &str,
    chart: &str,
    why_no_chart: &str,
    out: &mut Vec<ImageSite>,
) {
    let root = doc.resolve(values);
    if !matches!(root, Node::Map(..)) {
        return;
    }
    let options = SourceOptions::default();
    let global_registry = global_registry(doc, root);
    let walker = Walker {
        text,
        doc,
        root,
        options: &options,
        global_registry,
    };
    let mut found = Vec::new();
    walker.walk(root, "", "", &mut found, 0, None);
    for mut site in found {
        site.path = Some(match site.path.as_deref() {
            Some(p) if !p.is_empty() => format!("{prefix}.{p}"),
            _ => prefix.to_string(),
        });
        if let Prefixing::Unsure(why) = &mut site.extra.prefixing {
            *why = why_no_chart.to_string();
        }
        if let Some(Err(why)) = &mut site.extra.digest_insert {
            *why = why_no_chart.to_string();
        }
        site.extra.subchart = Some(chart.to_string());
        out.push(site);
    }
}

/// How the chart's templates use the values entry at `path`, when it has
/// templates. A `<registry>/` the templates join from a value refit reads
/// into the reference (`RegistryJoin`) is no unknown prefix; a join
/// whose registry value is itself joined to another is. A value written
/// right before it (`{{ .Values.image.repository }}{{ .Values.ndm.image }}`)
/// is a prefix when `set` says it is set in the values.
fn judged(chart: &ChartFacts, path: &str, set: impl Fn(&str) -> bool) -> Option<Judged> {
    if !chart.templates {
        return None;
    }
    let mut judged = chart.renders.judge(path);
    if let Judged::Written(r) = &mut judged
        && chart
            .renders
            .prefix_values
            .get(&crate::facts::star_indexes(path))
            .is_some_and(|before| before.iter().any(|q| set(q)))
    {
        r.prefix = true;
        r.plain = false;
    }
    // `{{ .Values.image.repository }}:{{ .Values.image.tag }}@{{ … .digest }}`
    // everywhere it is written: the tag and digest refit composes from the
    // map itself are what the template joins.
    if let Judged::Written(r) = &mut judged
        && (r.tag || r.digest)
        && !r.after
        && chart
            .renders
            .joined_values
            .get(&crate::facts::star_indexes(path))
            .is_some_and(|joined| joined.iter().all(|q| composed_from(path, q)))
    {
        r.tag = false;
        r.digest = false;
        r.plain = !r.prefix;
    }
    // Written after the registry that a helper chooses from values refit
    // read (`printf "%s/%s" $registryName $repositoryName`): that prefix
    // is the registry, judged by `Walker::registry_chain`.
    if let Judged::Written(r) = &mut judged
        && r.prefix
        && let Some((map, "repository" | "name")) = path.rsplit_once('.')
        && chart
            .renders
            .registry_elsewhere
            .contains_key(&crate::facts::star_indexes(map))
    {
        r.prefix = false;
        r.plain = !(r.tag || r.digest || r.after);
    }
    if let Judged::Written(r) = &mut judged
        && r.prefix
        && let Some(join) = chart.joins.get(path)
        && (join.primary.is_some() || join.literal_fallback.is_some())
        && join
            .primary
            .as_ref()
            .is_none_or(|p| !chart.joins.contains_key(p))
    {
        r.prefix = false;
        r.plain = !(r.tag || r.digest || r.after);
    }
    Some(judged)
}

/// Whether the values path `joined` is a key refit composes into the
/// reference of the entry at `path`: the map's `tag` or `digest` beside
/// it, `version` beside a `repository`, or `<key>Tag` / `<key>_tag` beside
/// an image key.
fn composed_from(path: &str, joined: &str) -> bool {
    let path = crate::facts::star_indexes(path);
    let (parent, key) = path.rsplit_once('.').unwrap_or(("", path.as_str()));
    let (jparent, jkey) = joined.rsplit_once('.').unwrap_or(("", joined));
    // `version` is a tag only in a `{repository, version}` map.
    parent == jparent
        && (matches!(jkey, "tag" | "digest")
            || (jkey == "version" && matches!(key, "repository" | "name"))
            || jkey == format!("{key}Tag")
            || jkey == format!("{key}_tag"))
}

/// Whether the chart's templates write the entry at `path` with nothing
/// joined after it (no tag, digest or other text): its value is the
/// whole reference.
fn written_alone(chart: Option<&ChartFacts>, path: &str) -> bool {
    chart
        .and_then(|c| judged(c, path, |_| false))
        .is_some_and(|j| matches!(j, Judged::Written(r) if !(r.tag || r.digest || r.after)))
}

struct Walker<'a> {
    text: &'a str,
    doc: &'a Document,
    root: &'a Node,
    options: &'a SourceOptions,
    global_registry: Option<&'a Scalar>,
}

fn is_image_key(key: &str) -> bool {
    key.to_ascii_lowercase().ends_with("image")
}

/// A YAML null (`null`, `~`, nothing) or an empty string: the key is
/// absent, so the chart's default applies.
fn is_absent(s: &Scalar) -> bool {
    s.value.is_empty()
        || (s.style == Style::Plain
            && !s.tagged
            && matches!(s.value.as_str(), "null" | "Null" | "NULL" | "~"))
}

/// Whether a map's `version` is its image tag: charts write
/// `{registry, repository, version}` image maps. Only under an image key or
/// beside `registry`, so a chart dependency's `{repository, version}` (a
/// chart repository URL) is not read as an image.
fn version_is_tag(doc: &Document, map: &Node, key: &str) -> bool {
    doc.get_scalar(map, "tag").is_none()
        && doc.get_scalar(map, "version").is_some()
        && (is_image_key(key) || doc.get_scalar(map, "registry").is_some())
}

/// `{image: traefik, tag: …, registry: …}`: the `image:` scalar is the
/// repository when a `tag:` or `registry:` sits beside it (templates join
/// `registry/image:tag`).
fn image_with_siblings(doc: &Document, map: &Node) -> bool {
    doc.get_scalar(map, "image").is_some()
        && (doc.get(map, "tag").is_some() || doc.get(map, "registry").is_some())
}

/// Whether a name starts with a registry host, as `docker pull` reads it
/// (a first component with `.` or `:`, or `localhost`).
fn names_registry(name: &str) -> bool {
    name.split_once('/')
        .is_some_and(|(first, _)| first.contains(['.', ':']) || first == "localhost")
}

/// The scalar at a dotted value path (`image.registry`) from the root.
fn lookup<'a>(doc: &'a Document, root: &'a Node, path: &str) -> Option<&'a Scalar> {
    let mut node = root;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            return doc.get_scalar(node, part);
        }
        node = doc.resolve(doc.get(node, part)?);
    }
    None
}

/// A registry-named value (`imageRegistry`, `global.imageRegistry`) set
/// at a level above the image map of the entry at `path` (not the map's
/// own), here or in the chart's `values.yaml`, that a template names
/// itself: its values path. Else the values paths of such values that are
/// present but empty.
fn read_registry_above(
    chart: &ChartFacts,
    doc: &Document,
    root: &Node,
    path: &str,
) -> Result<String, Vec<String>> {
    let map = path.rsplit_once('.').map_or("", |(m, _)| m);
    let parent = |p: &str| p.rsplit_once('.').map_or("", |(a, _)| a).to_string();
    let above = |level: &str| {
        level == "global"
            || (level != map
                && (level.is_empty()
                    || map
                        .strip_prefix(level)
                        .is_some_and(|r| r.starts_with(['.', '[']))))
    };
    let read = |p: &str| {
        let star = crate::facts::star_indexes(p);
        chart.renders.mentioned.contains(&star) || chart.renders.written.contains_key(&star)
    };
    let mut levels: Vec<String> = vec![String::new(), "global".to_string()];
    let mut at = map.to_string();
    while !at.is_empty() {
        at = parent(&at);
        if !at.is_empty() {
            levels.push(at.clone());
        }
    }
    let mut unset = Vec::new();
    for level in &levels {
        let node = if level.is_empty() {
            Some(root)
        } else {
            value_at(doc, root, level)
        };
        let Some(node) = node else { continue };
        for (k, v) in doc.entries(node) {
            let p = if level.is_empty() {
                k.to_string()
            } else {
                format!("{level}.{k}")
            };
            if k.to_ascii_lowercase().contains("registry")
                && let Node::Scalar(s) = doc.resolve(v)
                && read(&p)
            {
                if !is_absent(s) && is_reference_like(s) {
                    return Ok(p);
                }
                if is_absent(s) && unset.len() < 8 {
                    unset.push(p);
                }
            }
        }
    }
    chart
        .values_registries
        .keys()
        .find(|p| above(&parent(p)) && value_at(doc, root, p).is_none() && read(p))
        .cloned()
        .ok_or(unset)
}

/// The node at a values path with list indexes (`a.b[0].registry`).
fn value_at<'a>(doc: &'a Document, root: &'a Node, path: &str) -> Option<&'a Node> {
    let mut node = root;
    for part in path.split('.') {
        let (key, mut rest) = part.split_once('[').map_or((part, ""), |(k, r)| (k, r));
        if !key.is_empty() {
            node = doc.get(node, key)?;
        }
        while let Some((n, after)) = rest.split_once(']') {
            let Node::Seq(items, _) = doc.resolve(node) else {
                return None;
            };
            node = items.get(n.parse::<usize>().ok()?)?;
            rest = after.strip_prefix('[').unwrap_or(after);
        }
    }
    Some(node)
}

/// A registry source with list items written `[*]` (`extra[*].registry`),
/// at the items of the image map at `path` (`extra[2].image`): the
/// indexes of the path shared with it. `None` when an item is not.
fn instantiate(source: &str, path: &str) -> Option<String> {
    let mut out = Vec::new();
    let mut real = path.split('.');
    let mut same = true;
    for part in source.split('.') {
        let mine = real.next().filter(|_| same);
        match mine {
            Some(r) if crate::facts::star_indexes(r) == part => out.push(r),
            _ => {
                same = false;
                if part.contains("[*]") {
                    return None;
                }
                out.push(part);
            }
        }
    }
    Some(out.join("."))
}

/// `` `.Values.a`, `.Values.b` or `.Values.c` ``.
fn or_list(keys: &[String]) -> String {
    let quoted: Vec<String> = keys.iter().map(|k| format!("`.Values.{k}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.join(""),
    }
}

/// The registry-named values (`imageRegistry`, `image.registry`) a chart's
/// `values.yaml` sets, by values path (list items as `[n]`), with their
/// values: where a helper's registry chain finds a value when a values
/// overlay leaves it out.
pub fn set_registry_values(text: &str) -> std::collections::BTreeMap<String, String> {
    fn walk(
        doc: &Document,
        node: &Node,
        path: &str,
        out: &mut std::collections::BTreeMap<String, String>,
        depth: usize,
    ) {
        if depth > 32 || out.len() > 10_000 {
            return;
        }
        match doc.resolve(node) {
            Node::Map(..) => {
                for (k, v) in doc.entries(node) {
                    let p = if path.is_empty() {
                        k.to_string()
                    } else {
                        format!("{path}.{k}")
                    };
                    match doc.resolve(v) {
                        Node::Scalar(s) => {
                            if k.to_ascii_lowercase().contains("registry") && !is_absent(s) {
                                out.insert(p, s.value.clone());
                            }
                        }
                        _ => walk(doc, v, &p, out, depth + 1),
                    }
                }
            }
            Node::Seq(items, _) => {
                for (i, item) in items.iter().enumerate() {
                    walk(doc, item, &format!("{path}[{i}]"), out, depth + 1);
                }
            }
            _ => {}
        }
    }
    let mut out = std::collections::BTreeMap::new();
    if let Ok(docs) = yaml::parse_shared(text)
        && let Some(doc) = docs.first()
    {
        walk(doc, &doc.root, "", &mut out, 0);
    }
    out
}

/// Scalars that are not references: booleans, null, numbers.
fn is_reference_like(s: &Scalar) -> bool {
    let v = s.value.trim();
    !(v.is_empty()
        || (s.style == Style::Plain
            && (matches!(
                v,
                "true" | "false" | "True" | "False" | "null" | "~" | "yes" | "no"
            ) || yaml::looks_numeric(v)))
        || v.contains(char::is_whitespace))
}

impl Walker<'_> {
    /// `inherited`: a `registry:` or `imageRegistry:` beside the key this
    /// node is under (`{registry: quay.io, image: {repository: …}}`), which
    /// charts write in front of the image.
    fn walk(
        &self,
        node: &Node,
        key: &str,
        path: &str,
        out: &mut Vec<ImageSite>,
        depth: usize,
        inherited: Option<&Scalar>,
    ) {
        if depth > 32 {
            return;
        }
        let doc = self.doc;
        match doc.resolve(node) {
            Node::Map(..) => {
                let map = doc.resolve(node);
                let shaped = is_image_key(key)
                    || (doc.get_scalar(map, "repository").is_some()
                        && (doc.get(map, "tag").is_some() || version_is_tag(doc, map, key)))
                    || image_with_siblings(doc, map);
                if shaped && let Some(s) = self.split(map, key, path, inherited) {
                    out.push(s);
                    return;
                }
                let sibling = ["registry", "imageRegistry"]
                    .iter()
                    .find_map(|r| doc.get_scalar(map, r))
                    .filter(|r| !is_absent(r) && is_reference_like(r));
                // One buffer for the entries' paths, not a string each.
                let mut p = String::with_capacity(path.len() + 32);
                for (k, v) in doc.entries(map) {
                    p.clear();
                    if !path.is_empty() {
                        p.push_str(path);
                        p.push('.');
                    }
                    p.push_str(k);
                    if let Node::Scalar(image) = doc.resolve(v)
                        && let Some(site) = self.with_tag_key(map, k, image, &p)
                    {
                        out.push(site);
                        continue;
                    }
                    let inherited = sibling.filter(|_| is_image_key(k));
                    self.walk(v, k, &p, out, depth + 1, inherited);
                }
            }
            Node::Seq(items, _) => {
                for (i, item) in items.iter().enumerate() {
                    self.walk(item, key, &format!("{path}[{i}]"), out, depth + 1, None);
                }
            }
            Node::Scalar(s) if is_image_key(key) && is_reference_like(s) => {
                if let Some(registry) = inherited.filter(|_| !names_registry(&s.value)) {
                    // The chart writes the sibling registry in front: the
                    // image is on that registry, and the registry value is
                    // shared with nothing here, but refit edits neither.
                    let mut b = Builder::default();
                    // The join is refit's guess: `quay.io/` gets no second `/`.
                    b.push(registry.value.trim_end_matches('/'), None);
                    b.push("/", None);
                    b.push(&s.value, s.content.map(|c| c.start));
                    let raw = b.text.clone();
                    let span = s.content.unwrap_or(s.span);
                    out.push(site(
                        SiteKind::HelmValue,
                        span,
                        &raw,
                        b.into_value(),
                        path.to_string(),
                    ));
                    return;
                }
                let mut site = scalar_site(SiteKind::HelmValue, s, path);
                site.extra.prefixing = self.prefixing(path);
                out.push(site);
            }
            _ => {}
        }
    }

    /// Whether a fix may prefix the name at `path` with a registry: only
    /// when the chart's templates were read and none joins a registry value.
    fn prefixing(&self, path: &str) -> Prefixing {
        let Some(chart) = &self.options.chart else {
            return Prefixing::Unsure(
                "refit found no chart templates to tell how this value is used".to_string(),
            );
        };
        let top = path.split(['.', '[']).next().unwrap_or(path);
        // Sub-charts commonly join a `registry` value of their own
        // (`docker.io` by default) in front of this one: a prefix here
        // would render `docker.io/docker.io/…`.
        if chart.dependencies.iter().any(|d| d == top) {
            return Prefixing::Never(format!(
                "`{top}` configures the sub-chart `{top}`, whose templates refit did not read and which may add a registry of its own"
            ));
        }
        // `{{ .Values.image.repository }}{{ .Values.ndm.image }}`: the
        // value written in front is where a registry goes.
        if let Some(before) = chart
            .renders
            .prefix_values
            .get(&crate::facts::star_indexes(path))
            .and_then(|b| b.first())
        {
            return Prefixing::Never(format!(
                "the chart's templates write `.Values.{before}` in front of this value"
            ));
        }
        if chart.joins_registry {
            return Prefixing::Never(
                "the chart's templates join a registry value with the repository".to_string(),
            );
        }
        if !chart.templates {
            return Prefixing::Unsure(
                "refit found no chart templates to tell how this value is used".to_string(),
            );
        }
        Prefixing::Safe
    }

    /// `image: docker.elastic.co/kibana/kibana` with `imageTag: "8.5.1"`
    /// beside it: templates write `{{ .Values.image }}:{{ .Values.imageTag }}`,
    /// so the sibling `<key>Tag` is the image's tag. `None` when the key is
    /// not an image key, has no such sibling, or already names a tag or
    /// digest.
    fn with_tag_key(&self, map: &Node, key: &str, image: &Scalar, path: &str) -> Option<ImageSite> {
        let doc = self.doc;
        if !is_image_key(key) || !is_reference_like(image) {
            return None;
        }
        let last = image.value.rsplit('/').next().unwrap_or(&image.value);
        // `image: x@sha256` with `imageTag: <hex>`: the template's
        // `{{ image }}:{{ imageTag }}` writes the digest `x@sha256:<hex>`.
        let digest_algorithm = last.split_once('@').is_some_and(|(name, alg)| {
            !name.contains(':') && !alg.is_empty() && alg.bytes().all(|b| b.is_ascii_alphanumeric())
        });
        if last.contains([':', '@']) && !digest_algorithm {
            return None;
        }
        let tag = [format!("{key}Tag"), format!("{key}_tag")]
            .iter()
            .find_map(|k| doc.get_scalar(map, k))?;
        let mut b = Builder::default();
        b.push(&image.value, image.content.map(|c| c.start));
        let mut numeric_tags = Vec::new();
        if !is_absent(tag) {
            b.push(":", None);
            b.push(&tag.value, tag.content.map(|c| c.start));
            if tag.is_number() {
                numeric_tags.push(Slot::from(tag));
            }
        } else if let Some(app) = &self.options.chart_app_version {
            // An empty tag means the chart's appVersion.
            b.push(":", None);
            b.push(app, None);
        } else {
            return None;
        }
        let raw = b.text.clone();
        let span = image.content.unwrap_or(image.span);
        let mut s = site(
            SiteKind::HelmValue,
            span,
            &raw,
            b.into_value(),
            path.to_string(),
        );
        s.extra.numeric_tags = numeric_tags;
        s.extra.prefixing = self.prefixing(path);
        Some(s)
    }

    /// `{registry, repository, tag, digest}`, `{repository, tag}`, `{name, tag}`,
    /// and `{repository, name, tag}` where a template writes
    /// `{{ .Values.x.repository }}/{{ .Values.x.name }}`.
    fn split(
        &self,
        map: &Node,
        key: &str,
        path: &str,
        inherited: Option<&Scalar>,
    ) -> Option<ImageSite> {
        let doc = self.doc;
        // `repository: gcr.io/datadoghq` + `name: agent`: the chart joins
        // them, so the name is the image and the repository its prefix.
        let joined_name = self.options.chart.as_ref().is_some_and(|c| {
            c.joins
                .get(&format!("{path}.name"))
                .and_then(|j| j.primary.as_deref())
                == Some(format!("{path}.repository").as_str())
        });
        let (repo_key, repository) = if joined_name && let Some(n) = doc.get_scalar(map, "name") {
            ("name", n)
        } else if let Some(r) = doc.get_scalar(map, "repository") {
            ("repository", r)
        } else if let Some(n) = is_image_key(key)
            .then(|| doc.get_scalar(map, "name"))
            .flatten()
        {
            ("name", n)
        } else if (is_image_key(key) || image_with_siblings(doc, map))
            && let Some(i) = doc.get_scalar(map, "image")
        {
            ("image", i)
        } else {
            return None;
        };
        if !is_reference_like(repository) {
            return None;
        }
        let mut registry_key = doc.get_scalar(map, "registry");
        let mut registry = self
            .global_registry
            .or(registry_key.filter(|s| !is_absent(s)));
        // A registry beside the image key (`{registry: quay.io, image:
        // {repository: …}}`) is where the chart pulls from; it is read but
        // never edited here.
        let mut editable_registry = true;
        if registry.is_none()
            && let Some(r) = inherited
            && !names_registry(&repository.value)
        {
            registry = Some(r);
            editable_registry = false;
        }
        // A template that joins `<registry>/<this value>` says where the
        // registry comes from; it wins over the conventions above.
        let value_path = format!("{path}.{repo_key}");
        let own_registry = format!("{path}.registry");
        let mut fallback = None;
        let mut literal_registry: Option<String> = None;
        let join = self
            .options
            .chart
            .as_ref()
            .and_then(|c| c.joins.get(&value_path))
            .filter(|j| j.primary.is_some());
        if let Some(join) = join {
            let primary = join.primary.as_deref().unwrap_or_default();
            if primary != own_registry {
                // The `registry:` beside the value is not what the
                // template reads: a fix must not write there.
                registry_key = None;
            }
            fallback = join
                .fallback
                .as_deref()
                .and_then(|f| lookup(doc, self.root, f))
                .filter(|s| !is_absent(s));
            let own = lookup(doc, self.root, primary).filter(|s| !is_absent(s));
            // A registry read from elsewhere in the file is shared with other
            // images: no edit of this image goes there.
            // The map's own `repository` prefix (`{repository}/{name}`) is
            // this image's too.
            editable_registry = own.is_some()
                && (primary == own_registry || primary == format!("{path}.repository"));
            registry = own.or(fallback);
            // `default "quay.io" .Values.x.registry`: the template's own
            // registry while the value is empty; not the values file's to
            // change.
            if registry.is_none() {
                literal_registry = join.literal_fallback.clone().filter(|l| !l.is_empty());
                if literal_registry.is_some() {
                    registry_key = None;
                }
            }
        }
        // `repository: graylog/graylog:3.1` that the templates write alone
        // (`{{ .Values.image.repository }}`): the value is the whole
        // reference, and the map's tag (or the chart's appVersion) is not
        // joined to it.
        let last = repository
            .value
            .rsplit('/')
            .next()
            .unwrap_or(&repository.value);
        let whole =
            last.contains([':', '@']) && written_alone(self.options.chart.as_deref(), &value_path);
        let templates_read = self.options.chart.as_ref().is_some_and(|c| c.templates);
        let tag = doc
            .get_scalar(map, "tag")
            .filter(|s| !is_absent(s) && !whole)
            .or_else(|| {
                (version_is_tag(doc, map, key) && !whole)
                    .then(|| doc.get_scalar(map, "version"))
                    .flatten()
            });
        let digest = doc
            .get_scalar(map, "digest")
            .filter(|s| !is_absent(s) && !whole);

        let mut b = Builder::default();
        let push = |b: &mut Builder, s: &Scalar| b.push(&s.value, s.content.map(|c| c.start));
        // Without a template's join (a HelmRelease's values, a sub-chart's,
        // a chart whose template refit did not find), the `/` between
        // registry and repository is refit's guess: a registry written
        // `quay.io/` is joined without a second slash, as the charts that
        // accept it (`trimSuffix "/"`) render it.
        let guessed = join.is_none();
        if let Some(r) = registry {
            let value = if guessed {
                r.value.trim_end_matches('/')
            } else {
                r.value.as_str()
            };
            if editable_registry {
                b.push(value, r.content.map(|c| c.start));
            } else {
                b.push(value, None);
            }
            b.push("/", None);
        } else if let Some(literal) = &literal_registry {
            b.push(literal, None);
            b.push("/", None);
        }
        push(&mut b, repository);
        let mut numeric_tags = Vec::new();
        match tag {
            Some(t) if !t.value.is_empty() => {
                b.push(":", None);
                push(&mut b, t);
                if t.is_number() {
                    numeric_tags.push(Slot::from(t));
                }
            }
            // An empty tag means the chart's appVersion. Not joined to a
            // value that already names a tag or digest when refit has no
            // templates to tell (a chart whose default values render must
            // write that value alone).
            _ if !whole && (templates_read || !last.contains([':', '@'])) => {
                if let Some(app) = &self.options.chart_app_version {
                    b.push(":", None);
                    b.push(app, None);
                }
            }
            _ => {}
        }
        if let Some(d) = digest {
            b.push("@", None);
            push(&mut b, d);
        }
        let raw = b.text.clone();
        let span = repository.content.unwrap_or(repository.span);
        let mut s = site(SiteKind::HelmValue, span, &raw, b.into_value(), value_path);
        s.extra.numeric_tags = numeric_tags;
        s.extra.registry_slot = registry_key.map(|r| {
            let mut slot = Slot::from(r);
            // A null registry is absent: the fix may write one there.
            if is_absent(r) {
                slot.value.clear();
            }
            slot
        });
        s.extra.registry_fallback = fallback.map(|f| f.value.clone());
        s.extra.prefixing = if join.is_some() {
            Prefixing::Never(
                "the chart's templates join a registry value with the repository".to_string(),
            )
        } else {
            self.prefixing(path)
        };
        // A helper that may take the registry from another key or a literal
        // (`default .image.defaultRegistry .image.registry`): setting
        // `registry:` here would override that choice.
        if let Some(chart) = &self.options.chart
            && let Some(sources) = chart
                .renders
                .registry_elsewhere
                .get(&crate::facts::star_indexes(path))
        {
            s.extra.registry_slot = None;
            match self.registry_chain(chart, sources, path) {
                // Some value of the chain is set (or the helper has a
                // literal host, or refit cannot tell): Helm renders that
                // registry, not Docker Hub.
                None => {
                    s.extra.registry_elsewhere = true;
                    s.extra.prefixing = Prefixing::Never(
                        "the chart's helper may take the registry from another value or a literal"
                            .to_string(),
                    );
                }
                // Every value the chain reads is empty here and in the
                // chart's defaults: no registry is rendered.
                Some(keys) => {
                    s.extra.prefixing = Prefixing::Never(format!(
                        "the chart's templates take the registry from {}, none of them set",
                        or_list(&keys)
                    ));
                    s.extra.registry_keys = keys;
                }
            }
        }
        // `pullPolicy: Never`: the node must already hold the image.
        if ["pullPolicy", "imagePullPolicy"]
            .iter()
            .any(|k| doc.get_scalar(map, k).is_some_and(|p| p.value == "Never"))
        {
            s.extra.build_output = true;
        }
        s.extra.digest_slot = doc.get_scalar(map, "digest").map(Slot::from);
        if s.extra.digest_slot.is_none() {
            let anchor = tag.filter(|t| !t.value.is_empty()).unwrap_or(repository);
            s.extra.digest_insert = Some(self.digest_insert(map, anchor, path));
        }
        Some(s)
    }

    /// The registry values a chart helper reads for the image map at
    /// `path` (`sources`, from [`crate::facts::Renders::registry_elsewhere`],
    /// besides the map's own `registry`), when every one is empty or
    /// absent, both in this file and in the chart's `values.yaml`: their
    /// values paths, the map's own `registry` first. `None` when one is set,
    /// a literal host may be chosen, or a source is unknown.
    fn registry_chain(
        &self,
        chart: &ChartFacts,
        sources: &std::collections::BTreeSet<String>,
        path: &str,
    ) -> Option<Vec<String>> {
        let mut keys = vec![format!("{path}.registry")];
        for source in sources {
            if source == "\"" || source == "?" {
                return None;
            }
            let at = instantiate(source, path)?;
            match value_at(self.doc, self.root, &at).map(|n| self.doc.resolve(n)) {
                Some(Node::Scalar(v)) if is_absent(v) => {}
                Some(_) => return None,
                None if chart.values_registries.contains_key(&at) => return None,
                None => {}
            }
            keys.push(at);
        }
        Some(keys)
    }

    /// Where a `digest:` key may go in an image map that has none: only
    /// when the chart's templates read this map's digest (a key they never
    /// read would change nothing Helm renders). After the `anchor` entry
    /// (the tag, else the repository), at its key's indentation, or `, `
    /// after it in a flow mapping.
    fn digest_insert(
        &self,
        map: &Node,
        anchor: &Scalar,
        path: &str,
    ) -> Result<(usize, String), String> {
        let Some(chart) = &self.options.chart else {
            return Err(
                "refit found no Chart.yaml beside it to tell whether a template would read one"
                    .to_string(),
            );
        };
        let top = path.split(['.', '[']).next().unwrap_or(path);
        if chart.dependencies.iter().any(|d| d == top) {
            return Err(format!(
                "`{top}` configures the sub-chart `{top}`, whose templates refit did not read"
            ));
        }
        if !chart.templates {
            return Err(
                "the chart has no templates/ to tell whether one would be read".to_string(),
            );
        }
        if !chart.digest_paths.contains(path) {
            return Err(format!(
                "no template of the chart reads `.Values.{path}.digest` (directly, in a `with`, or through a helper), so one would change nothing Helm renders"
            ));
        }
        let text = self.text;
        let cannot = || format!("cannot place a `digest:` key in `{path}`");
        let Node::Map(pairs, span) = map else {
            return Err(cannot());
        };
        if text.as_bytes().get(span.start) == Some(&b'{') {
            return Ok((anchor.span.end, ", digest: ".to_string()));
        }
        let key_start = pairs
            .iter()
            .find_map(|(k, v)| {
                let k = k.as_scalar()?;
                (v.as_scalar().is_some_and(|s| s.span == anchor.span)).then_some(k.span.start)
            })
            .ok_or_else(cannot)?;
        let head = text.get(..key_start).ok_or_else(cannot)?;
        let line_start = head.rfind('\n').map_or(0, |i| i + 1);
        let indent: String = head[line_start..]
            .chars()
            .map(|c| if c == '-' { ' ' } else { c })
            .collect();
        if !indent.chars().all(|c| c == ' ') {
            return Err(cannot());
        }
        let tail = text.get(anchor.span.end..).ok_or_else(cannot)?;
        let line_end = tail.find('\n').map_or(text.len(), |i| anchor.span.end + i);
        let (at, newline) = if text.as_bytes().get(line_end.wrapping_sub(1)) == Some(&b'\r') {
            (line_end - 1, "\r\n")
        } else {
            (line_end, "\n")
        };
        Ok((at, format!("{newline}{indent}digest: ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Options for a chart whose template writes `{{ .Values.<primary> }}/{{ .Values.<key> }}`.
    pub(super) fn joined_by_template(key: &str, primary: &str) -> SourceOptions {
        let joins = [(
            key.to_string(),
            crate::facts::RegistryJoin {
                primary: Some(primary.into()),
                ..Default::default()
            },
        )]
        .into_iter()
        .collect();
        let chart = crate::facts::ChartFacts {
            templates: true,
            joins,
            ..Default::default()
        };
        SourceOptions {
            chart: Some(std::sync::Arc::new(chart)),
            ..SourceOptions::default()
        }
    }
    use crate::site::SiteValue;

    fn texts(text: &str, app: Option<&str>) -> Vec<(String, String)> {
        let options = SourceOptions {
            chart_app_version: app.map(String::from),
            ..SourceOptions::default()
        };
        extract(text, &options)
            .unwrap()
            .iter()
            .map(|s| {
                let t = match &s.value {
                    SiteValue::Resolved { text, .. } => text.clone(),
                    SiteValue::Unresolved { missing } => format!("{missing:?}"),
                    SiteValue::Mirror(m) => panic!("mirror {m:?}"),
                };
                (s.path.clone().unwrap(), t)
            })
            .collect()
    }

    #[test]
    fn shapes() {
        let text = "image:\n  registry: docker.io\n  repository: bitnami/redis\n  tag: 7.2.4\nsidecar:\n  image: \"busybox:1.36\"\ncontroller:\n  image:\n    repository: quay.io/metallb/controller\n    tag: \"\"\nextra:\n  - name: x\n    initImage: alpine:3.20\nexporter:\n  image: {name: prom/exporter, tag: 1.10}\nenabled: true\npullPolicyImage: false\n";
        let got = texts(text, Some("v0.14.5"));
        let want: Vec<(String, String)> = [
            ("image.repository", "docker.io/bitnami/redis:7.2.4"),
            ("sidecar.image", "busybox:1.36"),
            (
                "controller.image.repository",
                "quay.io/metallb/controller:v0.14.5",
            ),
            ("extra[0].initImage", "alpine:3.20"),
            ("exporter.image.name", "prom/exporter:1.10"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn image_tag_key_beside_an_image_is_its_tag() {
        let text = "image: \"docker.elastic.co/kibana/kibana\"\nimageTag: \"8.5.1\"\nsidecar:\n  image: ghcr.io/a/b\n  imageTag: v2\npinned:\n  image: ghcr.io/a/c:1.0\n  imageTag: v3\nempty:\n  image: ghcr.io/a/d\n  imageTag: \"\"\n";
        let got = texts(text, None);
        let want: Vec<(String, String)> = [
            ("image", "docker.elastic.co/kibana/kibana:8.5.1"),
            ("sidecar.image", "ghcr.io/a/b:v2"),
            ("pinned.image", "ghcr.io/a/c:1.0"),
            ("empty.image", "ghcr.io/a/d"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn repository_and_name_joined_by_the_template() {
        // What `{{ .Values.image.repository }}/{{ .Values.image.name }}` gives.
        let options = joined_by_template("image.name", "image.repository");
        let text = "image:\n  repository: gcr.io/datadoghq\n  name: observability-pipelines-worker\n  tag: 2.21.0\n";
        let s = extract(text, &options).unwrap();
        let SiteValue::Resolved { text: t, .. } = &s[0].value else {
            panic!()
        };
        assert_eq!(t, "gcr.io/datadoghq/observability-pipelines-worker:2.21.0");
        // Without the template, `name` may be anything: read as before.
        let s = extract(text, &SourceOptions::default()).unwrap();
        let SiteValue::Resolved { text: t, .. } = &s[0].value else {
            panic!()
        };
        assert_eq!(t, "gcr.io/datadoghq:2.21.0");
    }

    #[test]
    fn version_is_the_tag_of_an_image_map() {
        let text = "image:\n  registry: ghcr.io\n  repository: org/app\n  version: v1.2.3\nexporter:\n  registry: quay.io\n  repository: prometheus/node-exporter\n  version: 1.10\ndependencies:\n  repository: https://charts.example.com\n  version: 1.2.3\n";
        let got = texts(text, None);
        assert_eq!(
            got,
            [
                (
                    "image.repository".to_string(),
                    "ghcr.io/org/app:v1.2.3".to_string()
                ),
                (
                    "exporter.repository".to_string(),
                    "quay.io/prometheus/node-exporter:1.10".to_string()
                ),
            ]
        );
        let s = extract(text, &SourceOptions::default()).unwrap();
        assert_eq!(
            s[1].extra.numeric_tags.len(),
            1,
            "`version: 1.10` is a YAML number"
        );
    }

    #[test]
    fn digest_key_placement_follows_the_map() {
        let chart = crate::facts::ChartFacts {
            templates: true,
            digest_paths: ["image", "list[0].image", "flow"]
                .iter()
                .map(|p| p.to_string())
                .collect(),
            ..Default::default()
        };
        let options = SourceOptions {
            chart: Some(std::sync::Arc::new(chart)),
            ..SourceOptions::default()
        };
        let text = "image:\r\n  repository: a/b\r\n  tag: \"1\" # pinned soon\r\nlist:\r\n- image:\r\n    repository: c/d\r\nflow: {repository: e/f, tag: '2'}\r\nother:\r\n  repository: g/h\r\n  tag: x\r\n";
        let sites = extract(text, &options).unwrap();
        let place = |i: usize| sites[i].extra.digest_insert.clone().unwrap();
        // After the tag line, before its CRLF, at the keys' indentation.
        let (at, before) = place(0).unwrap();
        assert_eq!(
            &text[..at],
            "image:\r\n  repository: a/b\r\n  tag: \"1\" # pinned soon"
        );
        assert_eq!(before, "\r\n  digest: ");
        // No tag: after the repository, inside the list item.
        let (at, before) = place(1).unwrap();
        assert!(text[..at].ends_with("repository: c/d"));
        assert_eq!(before, "\r\n    digest: ");
        let (at, before) = place(2).unwrap();
        assert!(text[..at].ends_with("tag: '2'"));
        assert_eq!(before, ", digest: ");
        let why = place(3).unwrap_err();
        assert!(why.contains("`.Values.other.digest`"), "{why}");
        // Without a chart: not placed, and why.
        let sites = extract(text, &SourceOptions::default()).unwrap();
        let why = sites[0].extra.digest_insert.clone().unwrap().unwrap_err();
        assert!(why.contains("no Chart.yaml"), "{why}");
    }

    #[test]
    fn global_registry_and_numeric_tag() {
        let text = "global:\n  imageRegistry: harbor.corp.example\nimage:\n  registry: \"\"\n  repository: nginx\n  tag: 1.10\n";
        let s = extract(text, &SourceOptions::default()).unwrap();
        assert_eq!(s.len(), 1);
        let SiteValue::Resolved { text: t, .. } = &s[0].value else {
            panic!()
        };
        assert_eq!(t, "harbor.corp.example/nginx:1.10");
        assert_eq!(s[0].extra.numeric_tags.len(), 1);
        assert_eq!(s[0].extra.registry_slot.as_ref().unwrap().value, "");
    }
}

#[cfg(test)]
mod sibling_registry_tests {
    use super::*;

    #[test]
    fn registry_beside_the_image_key() {
        let text = "sidecar:\n  imageRegistry: quay.io\n  image: prometheus-operator/prometheus-config-reloader:v0.80.0\nother:\n  registry: ghcr.io\n  image:\n    repository: org/tool\n    tag: v1\nqualified:\n  registry: quay.io\n  sidecarImage: docker.io/library/nginx:1.27\nplain:\n  image: nginx:1.27\n";
        let sites = extract(text, &SourceOptions::default()).unwrap();
        let texts: Vec<String> = sites
            .iter()
            .map(|s| {
                s.reference()
                    .map(|r| r.input().to_string())
                    .unwrap_or_default()
            })
            .collect();
        assert_eq!(
            texts,
            [
                "quay.io/prometheus-operator/prometheus-config-reloader:v0.80.0",
                "ghcr.io/org/tool:v1",
                "docker.io/library/nginx:1.27",
                "nginx:1.27"
            ]
        );
    }
}

#[cfg(test)]
mod registry_slash_tests {
    use super::*;
    use crate::site::SiteValue;

    fn inputs(text: &str, options: &SourceOptions) -> Vec<String> {
        extract(text, options)
            .unwrap()
            .iter()
            .map(|s| {
                s.reference()
                    .map(|r| r.input().to_string())
                    .unwrap_or_default()
            })
            .collect()
    }

    #[test]
    fn a_guessed_join_does_not_double_a_trailing_slash() {
        // No template read: the join is refit's, and `quay.io/` is the
        // registry `quay.io` (charts that accept it trim the slash).
        let text = "image:\n  registry: quay.io/\n  repository: openebs/provisioner-localpv\n  tag: 4.1.0\nside:\n  registry: ghcr.io/\n  image: org/tool:v1\n";
        assert_eq!(
            inputs(text, &SourceOptions::default()),
            [
                "quay.io/openebs/provisioner-localpv:4.1.0",
                "ghcr.io/org/tool:v1"
            ]
        );
        // A template that writes `{{ .Values.image.registry }}/{{ … }}`
        // is what Helm renders: the doubled slash is the chart's.
        let options = super::tests::joined_by_template("image.repository", "image.registry");
        let s = extract(text, &options).unwrap();
        let SiteValue::Resolved { text: t, .. } = &s[0].value else {
            panic!()
        };
        assert_eq!(t, "quay.io//openebs/provisioner-localpv:4.1.0");
    }
}

#[cfg(test)]
mod registry_chain_tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    /// Options for a chart whose helper may take the registry of the map
    /// `map` from `sources`, with the chart's `values.yaml` setting
    /// `defaults`.
    fn chart(map: &str, sources: &[&str], defaults: &[(&str, &str)]) -> SourceOptions {
        let mut chart = crate::facts::ChartFacts {
            templates: true,
            ..Default::default()
        };
        chart.renders.registry_elsewhere.insert(
            map.to_string(),
            sources
                .iter()
                .map(|s| s.to_string())
                .collect::<BTreeSet<_>>(),
        );
        chart.values_registries = defaults
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>();
        SourceOptions {
            chart: Some(std::sync::Arc::new(chart)),
            ..SourceOptions::default()
        }
    }

    fn judged(text: &str, options: &SourceOptions) -> Vec<(bool, Vec<String>)> {
        extract(text, options)
            .unwrap()
            .into_iter()
            .map(|s| (s.extra.registry_elsewhere, s.extra.registry_keys))
            .collect()
    }

    const VALUES: &str =
        "imageRegistry: REG\napi:\n  image:\n    repository: jfrog/api\n    tag: \"1\"\n";

    #[test]
    fn a_set_value_of_the_chain_names_the_registry() {
        let o = chart("api.image", &["imageRegistry", "global.imageRegistry"], &[]);
        let set = VALUES.replace("REG", "releases-docker.jfrog.io");
        assert_eq!(judged(&set, &o), [(true, vec![])]);
        // Empty here, and in the chart's values.yaml: no registry.
        let unset = VALUES.replace("REG", "\"\"");
        assert_eq!(
            judged(&unset, &o),
            [(
                false,
                vec![
                    "api.image.registry".to_string(),
                    "global.imageRegistry".to_string(),
                    "imageRegistry".to_string()
                ]
            )]
        );
        // An overlay that leaves the key out reads the chart's default.
        let overlay = "api:\n  image:\n    repository: jfrog/api\n";
        let o2 = chart(
            "api.image",
            &["imageRegistry"],
            &[("imageRegistry", "r.example")],
        );
        assert_eq!(judged(overlay, &o2), [(true, vec![])]);
        // A literal host, or a source refit could not resolve: not implied.
        for s in ["\"", "?"] {
            let o3 = chart("api.image", &["imageRegistry", s], &[]);
            assert_eq!(judged(&unset, &o3), [(true, vec![])]);
        }
    }

    #[test]
    fn list_items_are_read_at_the_map_s_index() {
        let text = "extra:\n  - image:\n      repository: a/b\n      tag: \"1\"\n    defaultRegistry: quay.io\n  - image:\n      repository: c/d\n      tag: \"1\"\n";
        let o = chart("extra[*].image", &["extra[*].defaultRegistry"], &[]);
        assert_eq!(
            judged(text, &o),
            [
                (true, vec![]),
                (
                    false,
                    vec![
                        "extra[1].image.registry".to_string(),
                        "extra[1].defaultRegistry".to_string()
                    ]
                )
            ]
        );
        assert_eq!(instantiate("x[*].y[*].r", "x[2].img"), None);
        assert_eq!(or_list(&["a".into()]), "`.Values.a`");
        assert_eq!(
            set_registry_values("a:\n  - registry: q.io\n    imageRegistry: ~\n"),
            [("a[0].registry".to_string(), "q.io".to_string())]
                .into_iter()
                .collect()
        );
    }
}
