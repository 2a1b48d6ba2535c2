//! Terraform: `*.tf` files (HCL, read with `hcl-edit` as bake files are)
//! and `*.tf.json` files (the JSON syntax of the same blocks, read with
//! the parser of `devcontainer.json`). The images the Docker, Kubernetes
//! and Helm providers pull:
//!
//! - `resource "docker_image"` `name`, `data "docker_registry_image"`
//!   `name`, `resource "docker_container"` `image`, `resource
//!   "docker_service"` `task_spec { container_spec { image } }`;
//! - every `container` and `init_container` block's `image` inside a
//!   `resource "kubernetes_…"` (pods, deployments, jobs, cron jobs and the
//!   other workloads, `_v1` or not);
//! - `resource "helm_release"` with a chart in an OCI registry (`chart =
//!   "oci://…"`, or `repository = "oci://…"` and `chart`), with `version`
//!   as its tag. The chart's name and version are separate arguments, so
//!   the reference is reported, never edited.
//!
//! A value that is another expression (`docker_image.app.image_id`) names
//! no image in the file and is not a site; a string with interpolations
//! (`"${var.registry}/app:1.0"`) is decided when Terraform runs: listed
//! unresolved, never edited.
//!
//! An image argument that is exactly a variable (`image = var.image`,
//! `"${var.image}"`) takes the variable's `default` when nothing else sets
//! it: a `variable "image" { default = "nginx:1.25" }` of the same module
//! (the `.tf` and `.tf.json` files of the folder) is then a site, at the
//! default's span (`variable.image.default`), reported in the file that
//! declares it. A `.tfvars` file or `-var` may set another value; the
//! default is still what the module says. Its fix is safe only when every
//! use of `var.image` in the module is an image of one kind (all Docker
//! provider images, or all Kubernetes containers); a use of another kind,
//! any other use (a label, an output, an interpolation), or a module refit
//! did not read in full makes it unsafe.

use super::bake::{Part, Str, hcl_str, shorten};
use super::common::{Builder, dedupe};
use crate::site::{Extra, ImageSite, SiteKind, Span, SyntaxError};
use hcl_edit::structure::{Block, Body};
use std::collections::{BTreeMap, BTreeSet};

/// How deeply nested blocks are searched for containers.
const MAX_BLOCKS: usize = 16;

const OCI: &str = "oci://";

/// A string argument's value, pieces mapped to the file where verbatim.
fn build(value: &Str, b: &mut Builder, editable: bool) {
    for part in &value.parts {
        match part {
            Part::Lit { text, at } => b.push(text, at.filter(|_| editable)),
            Part::Var(name) => b.miss(name),
            Part::Expr(e) => b.miss(&shorten(e)),
        }
    }
}

fn string_arg(text: &str, body: &Body, key: &str) -> Option<Str> {
    let attr = body.get_attribute(key)?;
    let value = hcl_str(text, &attr.value)?;
    // A string (a literal or a template): its span lies inside quotes. An
    // expression (`docker_image.app.image_id`) names something else.
    let quoted =
        value.span.start > 0 && text.get(value.span.start - 1..value.span.start) == Some("\"");
    quoted.then_some(value)
}

/// The variable a value is exactly (`var.image`, `"${var.image}"`).
fn variable_of(value: &Str) -> Option<String> {
    let [Part::Expr(e)] = value.parts.as_slice() else {
        return None;
    };
    let e = e.trim();
    let e = e
        .strip_prefix("${")
        .and_then(|e| e.strip_suffix('}'))
        .unwrap_or(e)
        .trim();
    let name = e.strip_prefix("var.")?;
    is_ident(name).then(|| name.to_string())
}

fn is_ident(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Which kind of image a provider argument is: Docker's (pulled by the
/// Docker daemon) or a Kubernetes container's (pulled by the cluster's
/// runtime), whose short names may resolve differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Family {
    Docker,
    Kubernetes,
}

impl Family {
    fn name(self) -> &'static str {
        match self {
            Family::Docker => "a Docker provider image",
            Family::Kubernetes => "a Kubernetes container image",
        }
    }
}

/// What a file says: its image sites, the variables its image arguments
/// are, and its variables' string defaults.
#[derive(Default)]
struct Read {
    sites: Vec<ImageSite>,
    /// (variable, kind of image) for each image argument that is a variable.
    uses: Vec<(String, Family)>,
    /// `variable "name" { default = "…" }`: the default as a string.
    defaults: Vec<(String, Str)>,
}

impl Read {
    /// An image argument: a string is a site, a variable a use; a string
    /// that is one interpolation and nothing else (`"${docker_image.a.name}"`,
    /// the only way JSON writes an expression) is that expression.
    fn image(&mut self, text: &str, value: Str, path: String, family: Family) {
        if let Some(var) = variable_of(&value) {
            self.uses.push((var, family));
        } else if is_quoted(text, &value) && !matches!(value.parts.as_slice(), [Part::Expr(_)]) {
            self.sites.push(site(text, &value, path));
        }
    }
}

fn is_quoted(text: &str, value: &Str) -> bool {
    value.span.start > 0 && text.get(value.span.start - 1..value.span.start) == Some("\"")
}

fn arg(text: &str, body: &Body, key: &str) -> Option<Str> {
    hcl_str(text, &body.get_attribute(key)?.value)
}

fn site(text: &str, value: &Str, path: String) -> ImageSite {
    let mut b = Builder::default();
    build(value, &mut b, true);
    ImageSite {
        kind: SiteKind::Terraform,
        span: value.span,
        raw: text
            .get(value.span.start..value.span.end)
            .unwrap_or_default()
            .to_string(),
        value: b.into_value(),
        stage: None,
        path: Some(path),
        extra: Extra::default(),
    }
}

fn labels(block: &Block) -> (String, String) {
    let get = |i: usize| {
        block
            .labels
            .get(i)
            .map(|l| l.as_str().to_string())
            .unwrap_or_default()
    };
    (get(0), get(1))
}

/// `container` and `init_container` blocks' `image`, at any depth.
fn containers(text: &str, body: &Body, path: &str, out: &mut Read, depth: usize) {
    if depth >= MAX_BLOCKS {
        return;
    }
    for block in body.blocks() {
        let ident = block.ident.value().as_str();
        let here = format!("{path}.{ident}");
        if matches!(ident, "container" | "init_container")
            && let Some(image) = arg(text, &block.body, "image")
        {
            out.image(text, image, format!("{here}.image"), Family::Kubernetes);
        }
        containers(text, &block.body, &here, out, depth + 1);
    }
}

/// A `helm_release`'s chart in an OCI registry: `registry/path/chart`
/// with the version as its tag, reported without a fix. Each argument a
/// string (quoted), or absent.
fn helm_release(
    text: &str,
    chart: Option<Str>,
    repository: Option<Str>,
    version: Option<Str>,
    path: &str,
    out: &mut Read,
) {
    let Some(chart) = chart else {
        return;
    };
    let starts_oci =
        |s: &Str| matches!(s.parts.first(), Some(Part::Lit { text, .. }) if text.starts_with(OCI));
    let mut b = Builder::default();
    let mut scratch = Builder::default();
    let span;
    if starts_oci(&chart) {
        build(&chart, &mut scratch, false);
        span = chart.span;
    } else if let Some(repo) = repository.as_ref().filter(|r| starts_oci(r)) {
        build(repo, &mut scratch, false);
        scratch.push("/", None);
        build(&chart, &mut scratch, false);
        span = repo.span;
    } else {
        return;
    }
    let joined = scratch.text.strip_prefix(OCI).unwrap_or(&scratch.text);
    // `oci://host/path/` + `/chart`: one separator, as Helm joins them.
    let joined = joined.replace("//", "/");
    b.push(&joined, None);
    for m in scratch.missing {
        b.miss(&m);
    }
    if let Some(version) = version {
        b.push(":", None);
        build(&version, &mut b, false);
    }
    let mut s = ImageSite {
        kind: SiteKind::Terraform,
        span,
        raw: text
            .get(span.start..span.end)
            .unwrap_or_default()
            .to_string(),
        value: b.into_value(),
        stage: None,
        path: Some(format!("{path}.chart")),
        extra: Extra::default(),
    };
    s.extra.kept = Some(
        "a Helm chart's registry path, name and version are separate arguments of `helm_release`"
            .to_string(),
    );
    s.extra.frozen.push(Span::new(span.start, span.end));
    out.sites.push(s);
}

fn syntax(text: &str, e: &hcl_edit::parser::Error) -> SyntaxError {
    let at = crate::diagnostic::floor_char_boundary(text, e.location().offset());
    SyntaxError {
        message: format!("invalid HCL: {}", e.message()),
        span: Span::new(at, at),
    }
}

/// The HCL syntax (`*.tf`).
fn read_hcl(text: &str) -> Result<Read, SyntaxError> {
    let body = hcl_edit::parser::parse_body(text).map_err(|e| syntax(text, &e))?;
    let mut out = Read::default();
    for block in body.blocks() {
        let ident = block.ident.value().as_str();
        let (kind, name) = labels(block);
        let path = format!("{ident}.{kind}.{name}");
        let body = &block.body;
        match (ident, kind.as_str()) {
            ("variable", _) => {
                if let Some(default) = string_arg(text, body, "default") {
                    out.defaults.push((kind.clone(), default));
                }
            }
            ("resource", "docker_image") | ("data", "docker_registry_image") => {
                if let Some(v) = arg(text, body, "name") {
                    out.image(text, v, format!("{path}.name"), Family::Docker);
                }
            }
            ("resource", "docker_container") => {
                if let Some(v) = arg(text, body, "image") {
                    out.image(text, v, format!("{path}.image"), Family::Docker);
                }
            }
            ("resource", "docker_service") => {
                for task in body.get_blocks("task_spec") {
                    for spec in task.body.get_blocks("container_spec") {
                        if let Some(v) = arg(text, &spec.body, "image") {
                            let p = format!("{path}.task_spec.container_spec.image");
                            out.image(text, v, p, Family::Docker);
                        }
                    }
                }
            }
            ("resource", "helm_release") => helm_release(
                text,
                string_arg(text, body, "chart"),
                string_arg(text, body, "repository"),
                string_arg(text, body, "version"),
                &path,
                &mut out,
            ),
            ("resource", k) if k.starts_with("kubernetes_") => {
                containers(text, body, &path, &mut out, 0);
            }
            _ => {}
        }
    }
    Ok(out)
}

mod json {
    //! The JSON syntax of Terraform (`*.tf.json`): blocks are objects
    //! keyed by their type and labels, a block written more than once is
    //! an array of objects, and strings are templates (`"${var.x}"`).

    use super::super::bake::{Part, Str};
    use super::super::devcontainer::{get, name_of};
    use super::{Family, MAX_BLOCKS, Read};
    use crate::site::Span;
    use jsonc_parser::ast::{Object, StringLit, Value};

    /// The objects a value holds: itself, or an array's objects.
    pub(super) fn objects<'o, 'a>(value: &'o Value<'a>) -> Vec<&'o Object<'a>> {
        match value {
            Value::Object(o) => vec![o],
            Value::Array(a) => a
                .elements
                .iter()
                .filter_map(|e| match e {
                    Value::Object(o) => Some(o),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// `(label, body)` for each entry of a block type's object.
    pub(super) fn labelled<'o, 'a>(value: &'o Value<'a>) -> Vec<(&'o str, &'o Object<'a>)> {
        objects(value).into_iter().flat_map(entries).collect()
    }

    /// `(label, body)` for each entry of an object.
    pub(super) fn entries<'o, 'a>(o: &'o Object<'a>) -> Vec<(&'o str, &'o Object<'a>)> {
        let mut out = Vec::new();
        for p in &o.properties {
            for body in objects(&p.value) {
                out.push((name_of(&p.name), body));
            }
        }
        out
    }

    /// A JSON string as a Terraform template: `${…}` interpolations (not
    /// `$${`, an escaped `${`) are expressions; literal text maps to the
    /// file when the string has no escapes.
    pub(super) fn string(text: &str, offset: usize, lit: &StringLit<'_>) -> Str {
        let span = Span::new(
            lit.range.start + offset + 1,
            (lit.range.end + offset).saturating_sub(1),
        );
        let value: &str = &lit.value;
        let verbatim = text.get(span.start..span.end) == Some(value);
        let at = |i: usize| verbatim.then_some(span.start + i);
        let mut parts = Vec::new();
        let mut lit_start = 0;
        let mut i = 0;
        while let Some(found) = value[i..].find("${") {
            let open = i + found;
            if open > 0 && value.as_bytes()[open - 1] == b'$' {
                i = open + 2;
                continue;
            }
            let Some(close) = value[open..].find('}').map(|c| open + c) else {
                break;
            };
            if open > lit_start {
                parts.push(Part::Lit {
                    text: value[lit_start..open].to_string(),
                    at: at(lit_start),
                });
            }
            parts.push(Part::Expr(value[open..=close].to_string()));
            lit_start = close + 1;
            i = close + 1;
        }
        if lit_start < value.len() || parts.is_empty() {
            parts.push(Part::Lit {
                text: value[lit_start..].to_string(),
                at: at(lit_start),
            });
        }
        Str { parts, span }
    }

    pub(super) fn string_arg(
        text: &str,
        offset: usize,
        body: &Object<'_>,
        key: &str,
    ) -> Option<Str> {
        match get(body, key)? {
            Value::StringLit(lit) => Some(string(text, offset, lit)),
            _ => None,
        }
    }

    /// `container` and `init_container` objects' `image`, at any depth.
    pub(super) fn containers(
        text: &str,
        offset: usize,
        body: &Object<'_>,
        path: &str,
        out: &mut Read,
        depth: usize,
    ) {
        if depth >= MAX_BLOCKS {
            return;
        }
        for p in &body.properties {
            let key = name_of(&p.name);
            let here = format!("{path}.{key}");
            for inner in objects(&p.value) {
                if matches!(key, "container" | "init_container")
                    && let Some(image) = string_arg(text, offset, inner, "image")
                {
                    out.image(text, image, format!("{here}.image"), Family::Kubernetes);
                }
                containers(text, offset, inner, &here, out, depth + 1);
            }
        }
    }
}

/// The JSON syntax (`*.tf.json`).
fn read_json(text: &str) -> Result<Read, SyntaxError> {
    let Some((root, offset)) = super::devcontainer::parse(text).map_err(|mut e| {
        e.message = e
            .message
            .replace("devcontainer.json", "Terraform JSON file");
        e
    })?
    else {
        return Ok(Read::default());
    };
    let mut out = Read::default();
    let s =
        |body: &jsonc_parser::ast::Object<'_>, key: &str| json::string_arg(text, offset, body, key);
    for prop in &root.properties {
        let ident = super::devcontainer::name_of(&prop.name);
        if ident == "variable" {
            for (name, body) in json::labelled(&prop.value) {
                if let Some(default) = s(body, "default") {
                    out.defaults.push((name.to_string(), default));
                }
            }
            continue;
        }
        if ident != "resource" && ident != "data" {
            continue;
        }
        for (kind, named) in json::labelled(&prop.value) {
            for (name, body) in json::entries(named) {
                let path = format!("{ident}.{kind}.{name}");
                match (ident, kind) {
                    ("resource", "docker_image") | ("data", "docker_registry_image") => {
                        if let Some(v) = s(body, "name") {
                            out.image(text, v, format!("{path}.name"), Family::Docker);
                        }
                    }
                    ("resource", "docker_container") => {
                        if let Some(v) = s(body, "image") {
                            out.image(text, v, format!("{path}.image"), Family::Docker);
                        }
                    }
                    ("resource", "docker_service") => {
                        for task in super::devcontainer::get(body, "task_spec")
                            .map(json::objects)
                            .unwrap_or_default()
                        {
                            for spec in super::devcontainer::get(task, "container_spec")
                                .map(json::objects)
                                .unwrap_or_default()
                            {
                                if let Some(v) = s(spec, "image") {
                                    let p = format!("{path}.task_spec.container_spec.image");
                                    out.image(text, v, p, Family::Docker);
                                }
                            }
                        }
                    }
                    ("resource", "helm_release") => helm_release(
                        text,
                        s(body, "chart"),
                        s(body, "repository"),
                        s(body, "version"),
                        &path,
                        &mut out,
                    ),
                    ("resource", k) if k.starts_with("kubernetes_") => {
                        json::containers(text, offset, body, &path, &mut out, 0);
                    }
                    _ => {}
                }
            }
        }
    }
    Ok(out)
}

/// Whether a text is Terraform's JSON syntax: an object at the top.
fn is_json(text: &str) -> bool {
    text.trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('{')
}

fn read(text: &str) -> Result<Read, SyntaxError> {
    if is_json(text) {
        read_json(text)
    } else {
        read_hcl(text)
    }
}

/// Each `var.NAME` a text mentions, counted (comments included: a
/// mention refit cannot place counts as a use other than an image).
fn mentions(text: &str) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    let bytes = text.as_bytes();
    let mut at = 0;
    while let Some(found) = text[at..].find("var.") {
        let start = at + found;
        at = start + 4;
        let before = start.checked_sub(1).map(|i| bytes[i]);
        if before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.') {
            continue;
        }
        let end = text[at..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .map_or(text.len(), |n| at + n);
        if end > at {
            *out.entry(text[at..end].to_string()).or_insert(0) += 1;
        }
        at = end;
    }
    out
}

/// The sites of a Terraform file alone (its module's other files unread).
pub fn extract(text: &str) -> Result<Vec<ImageSite>, SyntaxError> {
    extract_with(text, None)
}

/// The sites of a Terraform file; `module`: the texts of the other
/// `.tf` and `.tf.json` files of its folder (`None`: not read), where its
/// variables may be used as images.
pub fn extract_with(text: &str, module: Option<&[String]>) -> Result<Vec<ImageSite>, SyntaxError> {
    let mut read_here = read(text)?;
    let mut out = std::mem::take(&mut read_here.sites);
    if !read_here.defaults.is_empty() {
        defaults(text, &read_here, module, &mut out);
    }
    out.sort_by_key(|s| s.span);
    dedupe(&mut out);
    Ok(out)
}

/// Variables' defaults that the module uses as images: sites at the
/// default, unsafe to fix unless every use is an image of one kind.
fn defaults(text: &str, here: &Read, module: Option<&[String]>, out: &mut Vec<ImageSite>) {
    let names: BTreeSet<&str> = here.defaults.iter().map(|(n, _)| n.as_str()).collect();
    let mut uses: BTreeMap<String, (BTreeSet<Family>, usize)> = BTreeMap::new();
    let mut mentioned = mentions(text);
    let mut add_uses = |r: &Read| {
        for (var, family) in &r.uses {
            if names.contains(var.as_str()) {
                let e = uses.entry(var.clone()).or_default();
                e.0.insert(*family);
                e.1 += 1;
            }
        }
    };
    add_uses(here);
    // Another file of the module is read only when it mentions one of
    // these variables; one refit cannot read leaves the uses unknown.
    let mut unread = module.is_none();
    for other in module.unwrap_or_default() {
        let m = mentions(other);
        if !names.iter().any(|n| m.contains_key(*n)) {
            continue;
        }
        match read(other) {
            Ok(r) => add_uses(&r),
            Err(_) => unread = true,
        }
        for (k, v) in m {
            *mentioned.entry(k).or_insert(0) += v;
        }
    }
    for (name, default) in &here.defaults {
        let Some((families, images)) = uses.get(name) else {
            continue;
        };
        let mut s = site(text, default, format!("variable.{name}.default"));
        let all = mentioned.get(name).copied().unwrap_or(0);
        let why = if unread {
            Some(format!(
                "refit did not read every file of the module, which may use `var.{name}` other than as an image"
            ))
        } else if families.len() > 1 {
            let kinds: Vec<&str> = families.iter().map(|f| f.name()).collect();
            Some(format!(
                "`var.{name}` is used as {}, which may read a name differently",
                kinds.join(" and as ")
            ))
        } else if all > *images {
            Some(format!(
                "`var.{name}` is also used other than as an image ({} use{})",
                all - images,
                if all - images == 1 { "" } else { "s" }
            ))
        } else {
            None
        };
        s.extra.fix_unsafe = why;
        out.push(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::common::site_texts;

    #[test]
    fn providers_images() {
        let text = r#"
data "docker_registry_image" "ubuntu" {
  name = "ubuntu:24.04"
}
resource "docker_image" "nginx" {
  name = "nginx:1.27"
}
resource "docker_image" "from_data" {
  name = data.docker_registry_image.ubuntu.name
}
resource "docker_container" "web" {
  name  = "web"
  image = docker_image.nginx.image_id
}
resource "docker_container" "db" {
  image = "${var.registry}/postgres:16"
}
resource "docker_service" "svc" {
  task_spec {
    container_spec {
      image = "repo.example.com:8080/svc:v1"
    }
  }
}
resource "kubernetes_deployment_v1" "app" {
  spec {
    template {
      spec {
        init_container {
          image = "busybox:1.37"
        }
        container {
          name  = "app"
          image = "ghcr.io/acme/app:1.0"
        }
      }
    }
  }
}
resource "not_supported" "x" {
  image = "nginx:1.27"
}
"#;
        let sites = extract(text).unwrap();
        assert_eq!(
            site_texts(&sites),
            [
                (
                    "data.docker_registry_image.ubuntu.name".to_string(),
                    "ubuntu:24.04".to_string()
                ),
                (
                    "resource.docker_image.nginx.name".to_string(),
                    "nginx:1.27".to_string()
                ),
                (
                    "resource.docker_container.db.image".to_string(),
                    "missing [\"${var.registry}\"]".to_string()
                ),
                (
                    "resource.docker_service.svc.task_spec.container_spec.image".to_string(),
                    "repo.example.com:8080/svc:v1".to_string()
                ),
                (
                    "resource.kubernetes_deployment_v1.app.spec.template.spec.init_container.image"
                        .to_string(),
                    "busybox:1.37".to_string()
                ),
                (
                    "resource.kubernetes_deployment_v1.app.spec.template.spec.container.image"
                        .to_string(),
                    "ghcr.io/acme/app:1.0".to_string()
                ),
            ]
        );
        let nginx = &sites[1];
        assert_eq!(&text[nginx.span.start..nginx.span.end], "nginx:1.27");
        assert_eq!(nginx.whole_file_span(), Some(nginx.span));
    }

    #[test]
    fn helm_oci_charts() {
        let text = r#"
resource "helm_release" "karpenter" {
  chart   = "oci://public.ecr.aws/karpenter/karpenter"
  version = "v0.22.1"
}
resource "helm_release" "repo" {
  repository = "oci://registry-1.docker.io/bitnamicharts"
  chart      = "redis"
  version    = "18.0.0"
}
resource "helm_release" "classic" {
  repository = "https://charts.example.com"
  chart      = "redis"
}
resource "helm_release" "local" {
  chart = "./charts/app"
}
"#;
        let sites = extract(text).unwrap();
        assert_eq!(
            site_texts(&sites),
            [
                (
                    "resource.helm_release.karpenter.chart".to_string(),
                    "public.ecr.aws/karpenter/karpenter:v0.22.1".to_string()
                ),
                (
                    "resource.helm_release.repo.chart".to_string(),
                    "registry-1.docker.io/bitnamicharts/redis:18.0.0".to_string()
                ),
            ]
        );
        assert!(sites.iter().all(|s| s.whole_file_span().is_none()));
        assert!(sites.iter().all(|s| s.extra.kept.is_some()));
    }

    #[test]
    fn json_syntax() {
        // After a CDK for Terraform `cdk.tf.json` (hashicorp/terraform-cdk).
        let text = r#"{
  "//": { "metadata": { "version": "0.0.0", "stackName": "python-docker" } },
  "resource": {
    "docker_image": {
      "pythondocker_nginxlatest_BB45EBC9": { "keep_locally": false, "name": "nginx:latest" }
    },
    "docker_container": {
      "pythondocker_nginxContainer_27657FE9": {
        "image": "${docker_image.pythondocker_nginxlatest_BB45EBC9.latest}",
        "name": "tutorial"
      }
    },
    "docker_service": { "s": { "task_spec": { "container_spec": [{ "image": "${var.registry}/svc:v1" }] } } },
    "helm_release": [{ "karpenter": { "chart": "oci://public.ecr.aws/karpenter/karpenter", "version": "v0.22.1" } }],
    "kubernetes_deployment_v1": {
      "app": { "spec": [{ "template": [{ "spec": [{ "container": [{ "image": "ghcr.io/acme/app:1.0" }, { "image": "esc\u0061ped:1" }] }] }] }] }
    },
    "not_supported": { "x": { "image": "nginx:1.27" } }
  },
  "data": { "docker_registry_image": { "u": { "name": "ubuntu:$${literal}" } } }
}"#;
        let sites = extract(text).unwrap();
        assert_eq!(
            site_texts(&sites),
            [
                (
                    "resource.docker_image.pythondocker_nginxlatest_BB45EBC9.name".to_string(),
                    "nginx:latest".to_string()
                ),
                (
                    "resource.docker_service.s.task_spec.container_spec.image".to_string(),
                    "missing [\"${var.registry}\"]".to_string()
                ),
                (
                    "resource.helm_release.karpenter.chart".to_string(),
                    "public.ecr.aws/karpenter/karpenter:v0.22.1".to_string()
                ),
                (
                    "resource.kubernetes_deployment_v1.app.spec.template.spec.container.image"
                        .to_string(),
                    "ghcr.io/acme/app:1.0".to_string()
                ),
                (
                    "resource.kubernetes_deployment_v1.app.spec.template.spec.container.image"
                        .to_string(),
                    "escaped:1".to_string()
                ),
                (
                    "data.docker_registry_image.u.name".to_string(),
                    "ubuntu:$${literal}".to_string()
                ),
            ]
        );
        let nginx = &sites[0];
        assert_eq!(&text[nginx.span.start..nginx.span.end], "nginx:latest");
        assert_eq!(nginx.whole_file_span(), Some(nginx.span));
        // An escape: reported, never edited.
        assert_eq!(sites[4].whole_file_span(), None);
        assert!(extract("{\"resource\": ").is_err());
        assert!(extract("[1]").is_err());
        assert_eq!(extract("{}").unwrap(), []);
    }

    #[test]
    fn variable_defaults() {
        let vars = r#"
variable "image" {
  type    = string
  default = "nginx:1.25"
}
variable "sidecar" {
  default = "k8s.gcr.io/pause:3.9"
}
variable "mixed" {
  default = "redis:7"
}
variable "name" {
  default = "web"
}
variable "unused" {
  default = "busybox:1"
}
"#;
        let main = r#"
resource "docker_container" "web" {
  name  = var.name
  image = var.image
}
resource "kubernetes_pod_v1" "p" {
  spec {
    container {
      image = "${var.sidecar}"
    }
    container {
      image = var.mixed
    }
  }
}
resource "docker_image" "m" {
  name = var.mixed
}
output "sidecar" {
  value = var.sidecar
}
"#;
        let json = r#"{ "resource": { "docker_image": { "other": { "name": "${var.image}" } } } }"#;
        let module = [main.to_string(), json.to_string()];
        let sites = extract_with(vars, Some(&module)).unwrap();
        assert_eq!(
            site_texts(&sites),
            [
                (
                    "variable.image.default".to_string(),
                    "nginx:1.25".to_string()
                ),
                (
                    "variable.sidecar.default".to_string(),
                    "k8s.gcr.io/pause:3.9".to_string()
                ),
                ("variable.mixed.default".to_string(), "redis:7".to_string()),
            ]
        );
        let span = sites[0].whole_file_span().unwrap();
        assert_eq!(&vars[span.start..span.end], "nginx:1.25");
        // Every use an image of one kind: the fix is safe.
        assert_eq!(sites[0].extra.fix_unsafe, None);
        let why = |i: usize| sites[i].extra.fix_unsafe.clone().unwrap_or_default();
        assert!(
            why(1).contains("also used other than as an image (1 use)"),
            "{}",
            why(1)
        );
        assert!(
            why(2).contains("Docker provider image and as a Kubernetes"),
            "{}",
            why(2)
        );
        // The module unread: every default fix is unsafe.
        let alone = extract(vars).unwrap();
        assert!(alone.is_empty(), "no use in the file itself");
        let both = format!("{vars}{main}");
        let alone = extract(&both).unwrap();
        let image = alone
            .iter()
            .find(|s| s.path.as_deref() == Some("variable.image.default"));
        assert!(image.is_some_and(|s| {
            s.extra
                .fix_unsafe
                .as_deref()
                .is_some_and(|w| w.contains("did not read"))
        }));
        // The uses are no sites themselves.
        assert!(
            extract_with(main, Some(&[vars.to_string()]))
                .unwrap()
                .is_empty()
        );
        assert_eq!(mentions("var.a var.a-b xvar.c var.d.e my.var.f")["a"], 1);
        assert_eq!(mentions("var.a var.a-b xvar.c var.d.e my.var.f").len(), 3);
    }

    #[test]
    fn invalid_and_empty() {
        assert!(extract("resource \"x\" {").is_err());
        assert_eq!(extract("").unwrap(), []);
        let deep = format!("x = {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        assert!(extract(&deep).is_err());
    }
}
