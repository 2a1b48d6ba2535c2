//! `refit inventory`: what a repository pulls, resolved through ARGs,
//! `.env`, Helm (sub-chart) values, kustomize overlays and Compose
//! profiles; built images apart; unresolved references listed. Every
//! format is read back with an independent parser. The acceptance test
//! copies the exported `skopeo sync` file between two real loopback
//! registries and compares the destination with the inventory, digest by
//! digest (skipped when docker-registry or skopeo is missing).

mod common;
mod registry_support;

use registry_support::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// A repository folder (marked as a root by `.git`) with these files.
fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join(".git")).expect(".git");
    for (name, text) in files {
        write(dir.path(), name, text);
    }
    dir
}

fn inventory(dir: &Path, args: &[&str]) -> Run {
    let env = Env::new(NO_HUB);
    let mut cmd = env.refit(dir);
    cmd.arg("inventory").args(args);
    run(&mut cmd)
}

fn json(dir: &Path) -> Value {
    let out = inventory(dir, &["--format", "json"]);
    assert!(
        out.code == 0 || out.code == 1,
        "{}{}",
        out.stdout,
        out.stderr
    );
    serde_json::from_str(&out.stdout).expect("JSON")
}

fn references(v: &Value, part: &str) -> Vec<String> {
    v[part]
        .as_array()
        .expect("array")
        .iter()
        .map(|i| i["reference"].as_str().expect("reference").to_string())
        .collect()
}

fn image<'a>(v: &'a Value, reference: &str) -> &'a Value {
    v["images"]
        .as_array()
        .expect("images")
        .iter()
        .find(|i| i["reference"] == reference)
        .unwrap_or_else(|| panic!("no {reference} in {v:#}"))
}

#[test]
fn arg_resolved_from_with_defaults_and_compose_build_args() {
    let dir = repo(&[
        (
            "Dockerfile",
            "ARG REGISTRY=quay.io\nARG TAG=3.20\nFROM ${REGISTRY}/org/base:${TAG} AS build\nFROM build\n",
        ),
        // No default: the value Compose passes is the one built.
        ("svc/Dockerfile", "ARG PY\nFROM python:${PY}-slim\n"),
        (
            "compose.yaml",
            "services:\n  svc:\n    build:\n      context: svc\n      args:\n        PY: \"3.12\"\n",
        ),
    ]);
    let v = json(dir.path());
    assert_eq!(
        references(&v, "images"),
        [
            "docker.io/library/python:3.12-slim",
            "quay.io/org/base:3.20"
        ]
    );
    let base = image(&v, "quay.io/org/base:3.20");
    let site = &base["sites"][0];
    assert_eq!(site["file"], "Dockerfile");
    assert_eq!(site["line"], 3);
    assert_eq!(site["kind"], "FROM");
    assert_eq!(site["resolution"], "variables");
    assert_eq!(site["variables"], serde_json::json!(["REGISTRY", "TAG"]));
    assert_eq!(site["raw"], "${REGISTRY}/org/base:${TAG}");
}

#[test]
fn dotenv_resolves_compose_image() {
    let dir = repo(&[
        (
            "compose.yaml",
            "services:\n  web:\n    image: ${REG:-ghcr.io}/org/web:${WEB_TAG}\n",
        ),
        (".env", "WEB_TAG=2.4.1\n"),
    ]);
    let v = json(dir.path());
    assert_eq!(references(&v, "images"), ["ghcr.io/org/web:2.4.1"]);
    let site = &image(&v, "ghcr.io/org/web:2.4.1")["sites"][0];
    assert_eq!(site["file"], "compose.yaml");
    assert_eq!(
        (site["line"].as_u64(), site["column"].as_u64()),
        (Some(3), Some(12))
    );
    assert_eq!(site["yaml_path"], "services.web.image");
    assert!(v["unresolved"].as_array().expect("unresolved").is_empty());
}

#[test]
fn helm_parent_values_merge_over_subchart_defaults() {
    let dir = repo(&[
        (
            "chart/Chart.yaml",
            "apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n  - name: memcached\n    version: 1.0.0\n  - name: redis\n    version: 1.0.0\n",
        ),
        (
            "chart/values.yaml",
            "image:\n  repository: example/app\n  tag: \"2.0\"\nmemcached:\n  image:\n    repository: bitnami/memcached\n    tag: \"1.6.30\"\n  metrics:\n    image:\n      tag: \"0.15.0\"\nredis:\n  image:\n    repository: mirror/redis\n",
        ),
        (
            "chart/charts/memcached/Chart.yaml",
            "apiVersion: v2\nname: memcached\nversion: 1.0.0\n",
        ),
        (
            "chart/charts/memcached/values.yaml",
            "image:\n  repository: bitnami/memcached\n  tag: \"1.6.0\"\nmetrics:\n  image:\n    repository: bitnami/memcached-exporter\n    tag: \"0.14.0\"\n",
        ),
        (
            "chart/charts/redis/Chart.yaml",
            "apiVersion: v2\nname: redis\nversion: 1.0.0\n",
        ),
        (
            "chart/charts/redis/values.yaml",
            "image:\n  repository: bitnami/redis\n  tag: \"7.2\"\n",
        ),
    ]);
    let v = json(dir.path());
    // Helm merges the parent's values over the sub-chart's key by key: the
    // parent names memcached's whole image; of `metrics.image` only the
    // tag; of redis's image only the repository (the tag stays 7.2).
    assert_eq!(
        references(&v, "images"),
        [
            "docker.io/bitnami/memcached-exporter:0.15.0",
            "docker.io/bitnami/memcached:1.6.30",
            "docker.io/example/app:2.0",
            "docker.io/mirror/redis:7.2",
        ]
    );
    let sites = |reference: &str| -> Vec<(String, u64)> {
        image(&v, reference)["sites"]
            .as_array()
            .expect("sites")
            .iter()
            .map(|s| {
                (
                    s["file"].as_str().expect("file").to_string(),
                    s["line"].as_u64().expect("line"),
                )
            })
            .collect()
    };
    assert_eq!(
        sites("docker.io/bitnami/memcached:1.6.30"),
        [
            ("chart/charts/memcached/values.yaml".to_string(), 2),
            ("chart/values.yaml".to_string(), 6)
        ]
    );
    assert_eq!(
        sites("docker.io/mirror/redis:7.2"),
        [
            ("chart/charts/redis/values.yaml".to_string(), 2),
            ("chart/values.yaml".to_string(), 13)
        ]
    );
    let parent = &image(&v, "docker.io/mirror/redis:7.2")["sites"][1];
    assert_eq!(parent["subchart"], "redis");
    assert_eq!(parent["resolution"], "helm values (sub-chart redis)");
    let exporter = &image(&v, "docker.io/bitnami/memcached-exporter:0.15.0")["sites"][0];
    assert_eq!(exporter["file"], "chart/charts/memcached/values.yaml");
    assert_eq!(exporter["line"], 6);
    assert_eq!(
        exporter["resolution"],
        "helm values (parent chart sets tag)"
    );
}

#[test]
fn kustomize_overlay_replaces_base_image() {
    let dir = repo(&[
        (
            "base/deploy.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\nspec:\n  template:\n    spec:\n      containers:\n        - name: a\n          image: nginx:1.25\n        - name: b\n          image: redis:7\n",
        ),
        ("base/kustomization.yaml", "resources:\n  - deploy.yaml\n"),
        (
            "overlays/prod/kustomization.yaml",
            "resources:\n  - ../../base\nimages:\n  - name: nginx\n    newName: registry.example.com/mirror/nginx\n    newTag: \"1.27\"\n",
        ),
        (
            "overlays/pinned/kustomization.yaml",
            "resources:\n  - ../../base\nimages:\n  - name: redis\n    digest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
        ),
    ]);
    let v = json(dir.path());
    // Each top overlay deploys its own rendering of the base: prod renames
    // nginx and keeps `redis:7`; pinned keeps `nginx:1.25` and pins redis.
    assert_eq!(
        references(&v, "images"),
        [
            "docker.io/library/nginx:1.25",
            "docker.io/library/redis:7",
            "docker.io/library/redis@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "registry.example.com/mirror/nginx:1.27",
        ]
    );
    let nginx = image(&v, "registry.example.com/mirror/nginx:1.27");
    let sites: Vec<(String, u64, String)> = nginx["sites"]
        .as_array()
        .expect("sites")
        .iter()
        .map(|s| {
            (
                s["file"].as_str().expect("file").to_string(),
                s["line"].as_u64().expect("line"),
                s["resolution"].as_str().expect("resolution").to_string(),
            )
        })
        .collect();
    assert_eq!(
        sites,
        [
            (
                "base/deploy.yaml".to_string(),
                10,
                "kustomize overlay".to_string()
            ),
            (
                "overlays/prod/kustomization.yaml".to_string(),
                5,
                "kustomize overlay".to_string()
            ),
        ]
    );
}

#[test]
fn kustomize_base_only_through_one_overlay_is_gone() {
    let dir = repo(&[
        (
            "base/deploy.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  containers:\n    - name: a\n      image: nginx:1.25\n",
        ),
        ("base/kustomization.yaml", "resources:\n  - deploy.yaml\n"),
        (
            "overlay/kustomization.yaml",
            "resources:\n  - ../base\nimages:\n  - name: nginx\n    newTag: \"1.27\"\n",
        ),
    ]);
    let out = inventory(dir.path(), &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "docker.io/library/nginx:1.27\n");
}

#[test]
fn compose_profiles_are_all_included_and_labelled() {
    let dir = repo(&[(
        "compose.yaml",
        "services:\n  web:\n    image: nginx:1.27\n  debug:\n    image: busybox:1.36\n    profiles: [debug, tools]\n  admin:\n    image: adminer:4\n    profiles:\n      - admin\n",
    )]);
    let v = json(dir.path());
    assert_eq!(
        references(&v, "images"),
        [
            "docker.io/library/adminer:4",
            "docker.io/library/busybox:1.36",
            "docker.io/library/nginx:1.27",
        ]
    );
    assert_eq!(
        image(&v, "docker.io/library/busybox:1.36")["profiles"],
        serde_json::json!(["debug", "tools"])
    );
    assert_eq!(
        image(&v, "docker.io/library/adminer:4")["sites"][0]["profiles"],
        serde_json::json!(["admin"])
    );
    assert_eq!(
        image(&v, "docker.io/library/nginx:1.27")["profiles"],
        serde_json::json!([])
    );
}

#[test]
fn local_build_outputs_are_not_pulled() {
    let dir = repo(&[
        (
            "compose.yaml",
            "services:\n  app:\n    build: .\n    image: myorg/app:dev\n  db:\n    image: postgres:16\n",
        ),
        (
            "Dockerfile",
            "FROM golang:1.23 AS build\nRUN true\nFROM build AS test\nFROM scratch\nCOPY --from=build /x /x\n",
        ),
        ("tools/Dockerfile", "FROM base-tools:local\n"),
        (
            "build.sh",
            "docker build -t base-tools:local -f tools/Dockerfile .\n",
        ),
    ]);
    let v = json(dir.path());
    assert_eq!(
        references(&v, "images"),
        [
            "docker.io/library/golang:1.23",
            "docker.io/library/postgres:16"
        ]
    );
    let built = references(&v, "built_here");
    assert!(
        built.contains(&"docker.io/myorg/app:dev".to_string()),
        "{built:?}"
    );
    assert!(
        built.contains(&"docker.io/library/base-tools:local".to_string()),
        "{built:?}"
    );
    let plain = inventory(dir.path(), &[]);
    assert_eq!(
        plain.stdout,
        "docker.io/library/golang:1.23\ndocker.io/library/postgres:16\n"
    );
}

#[test]
fn unresolved_references_are_listed_with_their_locations() {
    let dir = repo(&[
        ("Dockerfile", "FROM ${BASE_IMAGE}\nFROM alpine:3.20\n"),
        (
            "deploy.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  containers:\n    - name: a\n      image: \"{{ .Values.image }}\"\n",
        ),
    ]);
    let out = inventory(dir.path(), &["--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(references(&v, "images"), ["docker.io/library/alpine:3.20"]);
    let unresolved = v["unresolved"].as_array().expect("unresolved");
    assert_eq!(unresolved.len(), 2, "{unresolved:#?}");
    let from = unresolved
        .iter()
        .find(|u| u["file"] == "Dockerfile")
        .expect("Dockerfile");
    assert_eq!(
        (from["line"].as_u64(), from["column"].as_u64()),
        (Some(1), Some(6))
    );
    assert_eq!(from["missing"], serde_json::json!(["BASE_IMAGE"]));
    let template = unresolved
        .iter()
        .find(|u| u["file"] == "deploy.yaml")
        .expect("deploy.yaml");
    assert_eq!(template["reason"], "template placeholder");
    assert_eq!(template["line"], 8);
    // The plain list has no place for them: stderr says so.
    let plain = inventory(dir.path(), &[]);
    assert_eq!(plain.code, 1);
    assert_eq!(plain.stdout, "docker.io/library/alpine:3.20\n");
    assert!(
        plain
            .stderr
            .contains("Dockerfile:1:6: unresolved FROM `${BASE_IMAGE}`"),
        "{}",
        plain.stderr
    );
    assert!(plain.stderr.contains("deploy.yaml:8:"), "{}", plain.stderr);
}

/// A repository using every resolution path, for the format tests.
fn mixed() -> tempfile::TempDir {
    repo(&[
        (
            "Dockerfile",
            "ARG TAG=3.20\nFROM alpine:${TAG}\nFROM ghcr.io/org/tool@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
        ),
        (
            "compose.yaml",
            "services:\n  web:\n    image: nginx:1.27\n  cache:\n    image: quay.io/org/cache:2\n    profiles: [cache]\n  bad:\n    image: ${NOPE}\n",
        ),
    ])
}

const MIXED: [&str; 4] = [
    "docker.io/library/alpine:3.20",
    "docker.io/library/nginx:1.27",
    "ghcr.io/org/tool@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "quay.io/org/cache:2",
];

fn yaml(dir: &Path, format: &str) -> yaml_serde::Value {
    let out = inventory(dir, &["--format", format]);
    assert_eq!(out.code, 1, "the `${{NOPE}}` site: {}", out.stderr);
    assert!(out.stderr.contains("unresolved"), "{}", out.stderr);
    yaml_serde::from_str(&out.stdout).unwrap_or_else(|e| panic!("{format}: {e}\n{}", out.stdout))
}

fn names(list: &yaml_serde::Value, key: Option<&str>) -> Vec<String> {
    list.as_sequence()
        .expect("a list")
        .iter()
        .map(|item| {
            let v = match key {
                Some(k) => &item[k],
                None => item,
            };
            v.as_str().expect("a string").to_string()
        })
        .collect()
}

#[test]
fn plain_format_is_sorted_normalized_and_deduplicated() {
    let dir = mixed();
    write(
        dir.path(),
        "other/compose.yaml",
        "services:\n  again:\n    image: docker.io/library/nginx:1.27\n",
    );
    let out = inventory(dir.path(), &[]);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines, MIXED);
}

#[test]
fn json_format_fields() {
    let v = json(mixed().path());
    assert_eq!(references(&v, "images"), MIXED);
    for image in v["images"].as_array().expect("images") {
        for key in ["reference", "registry", "repository", "sites", "profiles"] {
            assert!(!image[key].is_null(), "{key} in {image}");
        }
        for site in image["sites"].as_array().expect("sites") {
            for key in ["file", "line", "column", "kind", "resolution", "raw"] {
                assert!(!site[key].is_null(), "{key} in {site}");
            }
        }
    }
    assert_eq!(v["unresolved"][0]["raw"], "${NOPE}");
}

#[test]
fn csv_format_fields() {
    let out = inventory(mixed().path(), &["--format", "csv"]);
    let rows: Vec<Vec<&str>> = out
        .stdout
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows[0][..3], ["status", "reference", "registry"]);
    assert!(rows.iter().all(|r| r.len() == rows[0].len()), "{rows:?}");
    let pulled: BTreeSet<&str> = rows
        .iter()
        .filter(|r| r[0] == "pull")
        .map(|r| r[1])
        .collect();
    assert_eq!(pulled.into_iter().collect::<Vec<_>>(), MIXED);
    let unresolved: Vec<&Vec<&str>> = rows.iter().filter(|r| r[0] == "unresolved").collect();
    assert_eq!(unresolved.len(), 1);
    assert_eq!(unresolved[0][6..8], ["compose.yaml", "8"]);
}

#[test]
fn skopeo_sync_format_fields() {
    let v = yaml(mixed().path(), "skopeo-sync");
    let map = v.as_mapping().expect("registries");
    let registries: Vec<&str> = map.keys().map(|k| k.as_str().expect("host")).collect();
    assert_eq!(registries, ["docker.io", "ghcr.io", "quay.io"]);
    assert_eq!(
        names(&v["docker.io"]["images"]["library/alpine"], None),
        ["3.20"]
    );
    assert_eq!(
        names(&v["ghcr.io"]["images"]["org/tool"], None),
        ["sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"]
    );
    assert!(v["docker.io"]["tls-verify"].is_null());
}

#[test]
fn hauler_format_fields() {
    let v = yaml(mixed().path(), "hauler");
    assert_eq!(v["apiVersion"], "content.hauler.cattle.io/v1");
    assert_eq!(v["kind"], "Images");
    assert_eq!(v["metadata"]["name"], "images");
    assert_eq!(names(&v["spec"]["images"], Some("name")), MIXED);
}

#[test]
fn zarf_format_fields() {
    let out = inventory(mixed().path(), &["--format", "zarf", "--name", "my-app"]);
    let v: yaml_serde::Value = yaml_serde::from_str(&out.stdout).expect("YAML");
    assert_eq!(v["kind"], "ZarfPackageConfig");
    assert_eq!(v["metadata"]["name"], "my-app");
    let component = &v["components"][0];
    assert_eq!(component["name"], "images");
    assert_eq!(component["required"], true);
    assert_eq!(names(&component["images"], None), MIXED);
}

#[test]
fn oc_mirror_format_fields() {
    let v = yaml(mixed().path(), "oc-mirror");
    assert_eq!(v["kind"], "ImageSetConfiguration");
    assert_eq!(v["apiVersion"], "mirror.openshift.io/v2alpha1");
    assert_eq!(names(&v["mirror"]["additionalImages"], Some("name")), MIXED);
}

/// Every repository and tag in a registry, from its catalog.
fn catalog(base: &str) -> BTreeMap<String, BTreeSet<String>> {
    let agent = ureq::Agent::new_with_defaults();
    let body: Value = agent
        .get(format!("{base}/v2/_catalog"))
        .call()
        .expect("catalog")
        .body_mut()
        .read_to_string()
        .ok()
        .and_then(|b| serde_json::from_str(&b).ok())
        .expect("catalog JSON");
    let mut out = BTreeMap::new();
    for repo in body["repositories"].as_array().expect("repositories") {
        let repo = repo.as_str().expect("name").to_string();
        // A repository holding only untagged manifests answers 404 here.
        let tags: Value = match agent.get(format!("{base}/v2/{repo}/tags/list")).call() {
            Ok(mut reply) => reply
                .body_mut()
                .read_to_string()
                .ok()
                .and_then(|b| serde_json::from_str(&b).ok())
                .expect("tags JSON"),
            Err(ureq::Error::StatusCode(404)) => Value::Null,
            Err(e) => panic!("tags of {repo}: {e}"),
        };
        let tags = tags["tags"]
            .as_array()
            .map(|t| {
                t.iter()
                    .filter_map(|t| t.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        out.insert(repo, tags);
    }
    out
}

/// The acceptance test: the exported `skopeo sync` file copies exactly the
/// inventory from one loopback registry into another, digest for digest.
#[test]
fn skopeo_sync_copies_exactly_the_inventory() {
    let Some(lab) = Lab::open() else { return };
    if !skopeo() {
        eprintln!("skipping: skopeo is not installed (apt-get install skopeo)");
        return;
    }
    let h = lab.host.clone();
    let (alpine, _, _) = lab.push.index("library/alpine", "3.20", "a");
    let app = lab
        .push
        .image("team/app", "1.0", "linux", "amd64", "app", true);
    let tool = lab
        .push
        .image("team/tool", "2.1", "linux", "amd64", "tool", false);
    let pinned = lab
        .push
        .image("team/pinned", "", "linux", "arm64", "pin", false);
    // In the source registry, but named by nothing in the repository (or
    // only by a base an overlay replaces): never copied.
    lab.push
        .image("team/unused", "9", "linux", "amd64", "unused", false);
    lab.push
        .image("team/tool", "0.1", "linux", "amd64", "old", false);
    std::fs::create_dir_all(lab.dir().join(".git")).expect(".git");
    lab.write(
        "Dockerfile",
        &format!(
            "ARG REG={h}\nARG TAG=3.20\nFROM ${{REG}}/library/alpine:${{TAG}} AS base\nFROM base\n"
        ),
    );
    lab.write(
        "compose.yaml",
        &format!(
            "services:\n  app:\n    image: {h}/team/app:${{APP_TAG}}\n  local:\n    build: .\n    image: {h}/team/local:dev\n"
        ),
    );
    lab.write(".env", "APP_TAG=1.0\n");
    lab.write(
        "k8s/base/deploy.yaml",
        &format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  containers:\n    - name: tool\n      image: {h}/team/tool:0.1\n    - name: pinned\n      image: {h}/team/pinned@{}\n",
            pinned.digest
        ),
    );
    lab.write(
        "k8s/base/kustomization.yaml",
        "resources:\n  - deploy.yaml\n",
    );
    lab.write(
        "k8s/prod/kustomization.yaml",
        &format!(
            "resources:\n  - ../base\nimages:\n  - name: {h}/team/tool\n    newTag: \"2.1\"\n"
        ),
    );

    // Offline by default: nothing asked, so no digest is resolved.
    let listed = lab.run(&["inventory", "--format", "json"]);
    assert_eq!(listed.code, 0, "{}{}", listed.stdout, listed.stderr);
    let v: Value = serde_json::from_str(&listed.stdout).expect("JSON");
    let mut expected: BTreeMap<String, String> = BTreeMap::new();
    expected.insert(format!("{h}/library/alpine:3.20"), alpine.digest.clone());
    expected.insert(format!("{h}/team/app:1.0"), app.digest.clone());
    expected.insert(format!("{h}/team/tool:2.1"), tool.digest.clone());
    expected.insert(
        format!("{h}/team/pinned@{}", pinned.digest),
        pinned.digest.clone(),
    );
    assert_eq!(
        references(&v, "images"),
        expected.keys().cloned().collect::<Vec<_>>()
    );
    assert!(
        v["images"]
            .as_array()
            .expect("images")
            .iter()
            .all(|i| i.get("resolved_digest").is_none())
    );

    // --resolve: the digests skopeo sees.
    let resolved = lab.run(&["inventory", "--format", "json", "--resolve", "--no-cache"]);
    assert_eq!(resolved.code, 0, "{}{}", resolved.stdout, resolved.stderr);
    let r: Value = serde_json::from_str(&resolved.stdout).expect("JSON");
    for image in r["images"].as_array().expect("images") {
        let reference = image["reference"].as_str().expect("reference");
        if image["digest"].is_null() {
            assert_eq!(
                image["resolved_digest"].as_str(),
                Some(skopeo_digest(reference, None).as_str()),
                "{reference}"
            );
        }
    }
    let pinned_list = lab.run(&["inventory", "--resolve", "--no-cache"]);
    assert!(
        pinned_list
            .stdout
            .contains(&format!("{h}/team/app:1.0@{}\n", app.digest)),
        "{}",
        pinned_list.stdout
    );

    // Pinned exports: the skopeo file lists the digest beside the tag,
    // the others name `name:tag@digest`.
    let pinned_sync = lab.run(&[
        "inventory",
        "--format",
        "skopeo-sync",
        "--resolve",
        "--no-cache",
    ]);
    let y: yaml_serde::Value = yaml_serde::from_str(&pinned_sync.stdout).expect("YAML");
    assert_eq!(
        names(&y[h.as_str()]["images"]["team/app"], None),
        ["1.0".to_string(), app.digest.clone()]
    );
    assert_eq!(y[h.as_str()]["tls-verify"], false);
    let pinned_hauler = lab.run(&["inventory", "--format", "hauler", "--resolve", "--no-cache"]);
    let y: yaml_serde::Value = yaml_serde::from_str(&pinned_hauler.stdout).expect("YAML");
    assert!(
        names(&y["spec"]["images"], Some("name"))
            .contains(&format!("{h}/library/alpine:3.20@{}", alpine.digest)),
        "{}",
        pinned_hauler.stdout
    );

    // Export, and copy with skopeo into an empty registry.
    let exported = lab.run(&["inventory", "--format", "skopeo-sync"]);
    assert_eq!(exported.code, 0, "{}", exported.stderr);
    let sync_file = lab.write("sync.yaml", &exported.stdout);
    let dest = Registry::start(RegistryOptions::default());
    let out = Command::new("skopeo")
        // `--all`: a multi-arch index is copied whole (by default skopeo
        // copies only this machine's platform); `--preserve-digests`: an
        // image whose manifest would need rewriting is refused, not changed.
        .args(["sync", "--all", "--preserve-digests", "--src", "yaml"])
        .args(["--dest", "docker"])
        .arg("--dest-tls-verify=false")
        .arg(&sync_file)
        .arg(format!("{}/mirror", dest.host()))
        .output()
        .expect("run skopeo sync");
    assert!(
        out.status.success(),
        "skopeo sync: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        exported.stdout
    );

    // The destination holds exactly the inventory: the same repositories,
    // the same tags, and each reference at the same digest.
    let copied = catalog(&dest.url());
    let mut want: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for reference in expected.keys() {
        let rest = reference
            .strip_prefix(&format!("{h}/"))
            .expect("on the lab");
        let (name, tag) = match rest.split_once('@') {
            Some((name, _)) => (name, None),
            None => rest
                .split_once(':')
                .map(|(n, t)| (n, Some(t)))
                .expect("tag"),
        };
        // Without `--scoped`, skopeo keeps the last path component.
        let last = name.rsplit('/').next().expect("name");
        let tags = want.entry(format!("mirror/{last}")).or_default();
        if let Some(t) = tag {
            tags.insert(t.to_string());
        }
    }
    assert_eq!(copied, want, "{}", exported.stdout);
    for (reference, digest) in &expected {
        let at_dest = format!(
            "{}/mirror/{}",
            dest.host(),
            reference.rsplit('/').next().expect("name")
        );
        if !at_dest.contains('@') {
            assert_eq!(&skopeo_digest(&at_dest, None), digest, "{at_dest}");
        }
        let raw = Command::new("skopeo")
            .args(["inspect", "--tls-verify=false", "--raw"])
            .arg(format!("docker://{at_dest}"))
            .output()
            .expect("skopeo inspect --raw");
        assert!(raw.status.success(), "{at_dest}");
        assert_eq!(
            &refit::online::client::sha256_digest(&raw.stdout),
            digest,
            "{at_dest}: the manifest bytes themselves"
        );
    }
}

/// Offline by default: a registry the repository names is never connected
/// to without `--resolve`; with it, an unreachable one is named and the
/// exit status is 1.
#[test]
fn no_request_without_resolve() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
    listener.set_nonblocking(true).expect("nonblocking");
    let port = listener.local_addr().expect("addr").port();
    let dir = repo(&[(
        "compose.yaml",
        &format!("services:\n  a:\n    image: 127.0.0.1:{port}/team/a:1.0\n"),
    )]);
    for format in [
        "plain",
        "json",
        "csv",
        "skopeo-sync",
        "hauler",
        "zarf",
        "oc-mirror",
    ] {
        let out = inventory(dir.path(), &["--format", format]);
        assert_eq!(out.code, 0, "{format}: {}", out.stderr);
        assert!(
            out.stdout.contains(&format!("127.0.0.1:{port}")),
            "{format}"
        );
    }
    assert!(
        matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "refit connected without --resolve"
    );
    drop(listener);
    let out = inventory(
        dir.path(),
        &[
            "--resolve",
            "--no-cache",
            "--retries",
            "0",
            "--timeout",
            "2",
        ],
    );
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains(&format!("127.0.0.1:{port}/team/a:1.0: not resolved")),
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout, format!("127.0.0.1:{port}/team/a:1.0\n"));
}

/// An `ARG` without a default takes the values the repository's build
/// commands give it (a Makefile's `--build-arg`, a CI step's
/// `build-args`): one image for each.
#[test]
fn build_args_from_makefiles_and_ci_resolve_args_without_defaults() {
    let dir = repo(&[
        ("images/py/Dockerfile", "ARG PY\nFROM python:${PY}-slim\n"),
        (
            "Makefile",
            "py:\n\tdocker build --build-arg PY=3.12 -t py:local images/py\n",
        ),
        (
            ".github/workflows/build.yml",
            "on: push\njobs:\n  b:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: docker/build-push-action@v6\n        with:\n          context: images/py\n          build-args: |\n            PY=3.13\n",
        ),
    ]);
    let v = json(dir.path());
    assert_eq!(
        references(&v, "images"),
        [
            "docker.io/library/python:3.12-slim",
            "docker.io/library/python:3.13-slim"
        ]
    );
    let site = &image(&v, "docker.io/library/python:3.12-slim")["sites"][0];
    assert_eq!(site["file"], "images/py/Dockerfile");
    assert_eq!(site["line"], 2);
    assert_eq!(site["resolution"], "build arguments (PY=3.12)");
    assert!(v["unresolved"].as_array().expect("unresolved").is_empty());
}

/// A file that cannot be parsed is named (exit 2); the others are still
/// listed.
#[test]
fn unreadable_files_are_named_and_the_rest_listed() {
    let dir = repo(&[
        ("compose.yaml", "services:\n  a:\n    image: [unclosed\n"),
        ("Dockerfile", "FROM alpine:3.20\n"),
    ]);
    let out = inventory(dir.path(), &["--format", "json"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.starts_with("compose.yaml: "), "{}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(references(&v, "images"), ["docker.io/library/alpine:3.20"]);
    assert_eq!(v["errors"][0]["file"], "compose.yaml");
}

/// Values refit cannot see in the repository (a CI variable) can be given
/// as `check` takes them.
#[test]
fn build_arg_and_env_flags_supply_missing_values() {
    let dir = repo(&[
        ("Dockerfile", "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n"),
        (
            "compose.yaml",
            "services:\n  a:\n    image: redis:${REDIS}\n",
        ),
    ]);
    let missing = inventory(dir.path(), &[]);
    assert_eq!(missing.code, 1);
    let out = inventory(
        dir.path(),
        &["--build-arg", "BASE_IMAGE=debian:12", "--env", "REDIS=7.4"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "docker.io/library/debian:12\ndocker.io/library/redis:7.4\n"
    );
}
