//! The `bitnami` advisory pack's side effect, checked against the check
//! Bitnami charts run when they render.
//!
//! Helm is not installable here (no Debian package), so this test encodes
//! the fact instead, as an oracle: Bitnami's common chart
//! (`bitnami/common/templates/_errors.tpl`, `common.errors.insecureImages`,
//! read at github.com/bitnami/charts commit 5165628, 2026-07-01) compares
//! each image a chart renders with the chart's `images` annotation:
//! - an image whose registry is not in the annotation is *relocated*, one
//!   whose registry is but whose repository is not is *replaced*;
//! - if any image is relocated or replaced and
//!   `global.security.allowInsecureImages` is not true, rendering fails
//!   (`fail`) when the annotation names `docker.io/bitnami/` images;
//! - from common 2.31.4 (bitnami/charts#35751, 2025-08-12) it only warns
//!   when every replaced image is under `docker.io/bitnamilegacy/` and none
//!   is relocated. Common 2.28.0 (#30851, 2024-12-10) to 2.31.3 fail.
//!
//! The fixture depends on Bitnami's postgresql chart 16.7.24, built on
//! common 2.31.3 (its Chart.lock), with the annotation below.

use refit::sources::yaml::{Document, Node, parse};
use std::path::Path;

/// `annotations.images` of bitnami/postgresql 16.7.24.
const ANNOTATION: &str = "- name: os-shell\n  image: docker.io/bitnami/os-shell:12-debian-12-r50\n- name: postgres-exporter\n  image: docker.io/bitnami/postgres-exporter:0.17.1-debian-12-r14\n- name: postgresql\n  image: docker.io/bitnami/postgresql:17.5.0-debian-12-r20\n";

/// The chart's defaults for the images its NOTES.txt passes to the check
/// (`.Values.image`, `.Values.volumePermissions.image`,
/// `.Values.metrics.image`), from the same chart's values.yaml.
const DEFAULTS: [(&str, &str, &str, &str); 3] = [
    (
        "image",
        "docker.io",
        "bitnami/postgresql",
        "17.5.0-debian-12-r20",
    ),
    (
        "volumePermissions.image",
        "docker.io",
        "bitnami/os-shell",
        "12-debian-12-r50",
    ),
    (
        "metrics.image",
        "docker.io",
        "bitnami/postgres-exporter",
        "0.17.1-debian-12-r14",
    ),
];

#[derive(Clone, Copy, PartialEq)]
enum Common {
    /// 2.28.0 to 2.31.3
    Before2314,
    /// 2.31.4 and later
    From2314,
}

fn lookup<'a>(doc: &'a Document, node: &'a Node, path: &[&str]) -> Option<&'a Node> {
    let Some((first, rest)) = path.split_first() else {
        return Some(node);
    };
    let Node::Map(entries, _) = doc.resolve(node) else {
        return None;
    };
    let (_, v) = entries
        .iter()
        .find(|(k, _)| k.as_scalar().is_some_and(|s| s.value == *first))?;
    lookup(doc, v, rest)
}

fn scalar(doc: &Document, node: &Node, path: &[&str]) -> Option<String> {
    lookup(doc, node, path)
        .and_then(|n| doc.resolve(n).as_scalar())
        .map(|s| s.value.clone())
}

/// `common.errors.insecureImages` for the `postgresql` sub-chart of an
/// umbrella values file: `Err` with the message when rendering fails.
fn render(values: &str, common: Common) -> Result<(), String> {
    let docs = parse(values).map_err(|e| e.message)?;
    let doc = &docs[0];
    let root = &doc.root;
    // Helm copies the umbrella's `global` into every sub-chart.
    let global_registry = scalar(doc, root, &["global", "imageRegistry"]).unwrap_or_default();
    let allow = scalar(doc, root, &["global", "security", "allowInsecureImages"])
        .is_some_and(|v| v == "true");
    let mut relocated = Vec::new();
    let mut replaced = Vec::new();
    let mut legacy = 0;
    for (path, registry, repository, tag) in DEFAULTS {
        let mut at = vec!["postgresql"];
        at.extend(path.split('.'));
        let get = |key: &str, default: &str| {
            let mut p = at.clone();
            p.push(key);
            scalar(doc, root, &p).unwrap_or_else(|| default.to_string())
        };
        let registry = get("registry", registry);
        let repository = get("repository", repository);
        let tag = get("tag", tag);
        // `default .registry $globalRegistry`: the global one when set.
        let registry = if global_registry.is_empty() {
            registry
        } else {
            global_registry.clone()
        };
        let no_tag = format!("{registry}/{repository}");
        let full = format!("{no_tag}:{tag}");
        // Sprig's `contains A B` is strings.Contains(B, A).
        if !ANNOTATION.contains(&no_tag) {
            if !ANNOTATION.contains(&registry) {
                relocated.push(full);
            } else if !ANNOTATION.contains(&repository) {
                if no_tag.contains("docker.io/bitnamilegacy/") {
                    legacy += 1;
                }
                replaced.push(full);
            }
        }
    }
    if relocated.is_empty() && replaced.is_empty() || allow {
        return Ok(());
    }
    let only_legacy = relocated.is_empty() && replaced.len() == legacy;
    if common == Common::From2314 && only_legacy {
        return Ok(());
    }
    if ANNOTATION.contains("docker.io/bitnami/") {
        return Err(format!(
            "Original containers have been substituted for unrecognized ones: {:?}",
            [relocated, replaced].concat()
        ));
    }
    Ok(())
}

fn fixture() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/REG004-moved-registry/bitnami-chart")
}

#[test]
fn the_oracle_fails_a_swap_without_the_key() {
    let original = std::fs::read_to_string(fixture().join("values.yaml")).unwrap();
    for common in [Common::Before2314, Common::From2314] {
        assert_eq!(render(&original, common), Ok(()));
    }
    // What a hand edit of the repositories alone gives.
    let swapped = original.replace("repository: bitnami/", "repository: bitnamilegacy/");
    assert!(render(&swapped, Common::Before2314).is_err());
    assert_eq!(render(&swapped, Common::From2314), Ok(()));
    // A move to another registry fails with every common version.
    let relocated = original.replace("registry: docker.io", "registry: mirror.example");
    assert!(render(&relocated, Common::From2314).is_err());
    let allowed = format!("{relocated}global:\n  security:\n    allowInsecureImages: true\n");
    assert_eq!(render(&allowed, Common::Before2314), Ok(()));
}

#[test]
fn refit_fix_renders_with_every_common_version() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["Chart.yaml", "values.yaml"] {
        std::fs::copy(fixture().join(name), dir.path().join(name)).unwrap();
    }
    let status = std::process::Command::new(assert_cmd::cargo::cargo_bin!("refit"))
        .args([
            "check",
            "--isolated",
            "--select",
            "REG004",
            "--fix",
            "--unsafe-fixes",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    let fixed = std::fs::read_to_string(dir.path().join("values.yaml")).unwrap();
    assert!(
        fixed.contains("repository: bitnamilegacy/postgresql")
            && fixed.contains("allowInsecureImages: true"),
        "{}\n{fixed}",
        String::from_utf8_lossy(&status.stderr)
    );
    for common in [Common::Before2314, Common::From2314] {
        assert_eq!(render(&fixed, common), Ok(()));
    }
    // The blessed fixture output is the same text.
    let blessed = std::fs::read_to_string(fixture().join("values.yaml.fixed")).unwrap();
    assert_eq!(fixed, blessed);
}
