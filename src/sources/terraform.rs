//! Terraform: `*.tf` files (HCL, read with `hcl-edit` as bake files are).
//! The images the Docker, Kubernetes and Helm providers pull:
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
//! A value that is an expression (`docker_image.app.image_id`,
//! `var.image`) names no image in the file and is not a site; a string
//! with interpolations (`"${var.registry}/app:1.0"`) is decided when
//! Terraform runs: listed unresolved, never edited. Variables' defaults
//! are not read (a `.tfvars` file or `-var` usually sets them).

use super::bake::{Part, Str, hcl_str, shorten};
use super::common::{Builder, dedupe};
use crate::site::{Extra, ImageSite, SiteKind, Span, SyntaxError};
use hcl_edit::structure::{Block, Body};

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
fn containers(text: &str, body: &Body, path: &str, out: &mut Vec<ImageSite>, depth: usize) {
    if depth >= MAX_BLOCKS {
        return;
    }
    for block in body.blocks() {
        let ident = block.ident.value().as_str();
        let here = format!("{path}.{ident}");
        if matches!(ident, "container" | "init_container")
            && let Some(image) = string_arg(text, &block.body, "image")
        {
            out.push(site(text, &image, format!("{here}.image")));
        }
        containers(text, &block.body, &here, out, depth + 1);
    }
}

/// A `helm_release`'s chart in an OCI registry: `registry/path/chart`
/// with the version as its tag, reported without a fix.
fn helm_release(text: &str, body: &Body, path: &str, out: &mut Vec<ImageSite>) {
    let Some(chart) = string_arg(text, body, "chart") else {
        return;
    };
    let repository = string_arg(text, body, "repository");
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
    if let Some(version) = string_arg(text, body, "version") {
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
    out.push(s);
}

pub fn extract(text: &str) -> Result<Vec<ImageSite>, SyntaxError> {
    let body = hcl_edit::parser::parse_body(text).map_err(|e| {
        let at = crate::diagnostic::floor_char_boundary(text, e.location().offset());
        SyntaxError {
            message: format!("invalid HCL: {}", e.message()),
            span: Span::new(at, at),
        }
    })?;
    let mut out = Vec::new();
    for block in body.blocks() {
        let ident = block.ident.value().as_str();
        let (kind, name) = labels(block);
        let path = format!("{ident}.{kind}.{name}");
        match (ident, kind.as_str()) {
            ("resource", "docker_image") | ("data", "docker_registry_image") => {
                if let Some(v) = string_arg(text, &block.body, "name") {
                    out.push(site(text, &v, format!("{path}.name")));
                }
            }
            ("resource", "docker_container") => {
                if let Some(v) = string_arg(text, &block.body, "image") {
                    out.push(site(text, &v, format!("{path}.image")));
                }
            }
            ("resource", "docker_service") => {
                for task in block.body.get_blocks("task_spec") {
                    for spec in task.body.get_blocks("container_spec") {
                        if let Some(v) = string_arg(text, &spec.body, "image") {
                            out.push(site(
                                text,
                                &v,
                                format!("{path}.task_spec.container_spec.image"),
                            ));
                        }
                    }
                }
            }
            ("resource", "helm_release") => helm_release(text, &block.body, &path, &mut out),
            ("resource", k) if k.starts_with("kubernetes_") => {
                containers(text, &block.body, &path, &mut out, 0);
            }
            _ => {}
        }
    }
    out.sort_by_key(|s| s.span);
    dedupe(&mut out);
    Ok(out)
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
    fn invalid_and_empty() {
        assert!(extract("resource \"x\" {").is_err());
        assert_eq!(extract("").unwrap(), []);
        let deep = format!("x = {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        assert!(extract(&deep).is_err());
    }
}
