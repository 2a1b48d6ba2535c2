//! Renovate's droneci, woodpecker and cloudbuild managers as an oracle:
//! their test inputs (`tests/data/pipelines-renovate/`) through `refit
//! sites`, compared with the Docker images Renovate's tests expect
//! (`depName[:currentValue][@currentDigest]`, as written). Where the two
//! differ, the table says why.
//!
//! Agreement: 12 of 15 cases. The differences:
//! - `drone/fixture`: a single-quoted YAML scalar has no escapes, so
//!   `'amd64/node\` continued over lines is the value `amd64/node\
//!   :10.0.0\ @sha256:…` (backslashes, folded spaces) for Drone's YAML
//!   reader, which Docker refuses; Renovate joins the lines with a regex.
//!   refit reports what Drone reads (REF001 says it is invalid). refit
//!   right.
//! - `drone/exec`: an `exec` pipeline runs on the host and pulls no image,
//!   and refit reads only pipeline documents; Renovate reads every
//!   `image:` line. refit right.
//! - `woodpecker/malformed` (run apart, below): refit reports the syntax
//!   error (E004); Renovate extracts nothing. refit right.

mod common;
use std::path::Path;

/// (input, Renovate's extraction, refit's, why they differ).
type Case = common::OracleCase;

const NODE: &str =
    "amd64/node:10.0.0@sha256:36adc17e9cceab32179d3314da9cb9c737ffb11f0de4e688f407ad6d9ca32201";
const NODE_SINGLE_QUOTED: &str = "amd64/node\\ :10.0.0\\ @sha256:36adc17e9cceab32179d3314da9cb9c737ffb11f0de4e688f407ad6d9ca32201";

const CASES: &[Case] = &[
    (
        "drone/fixture/.drone.yml",
        &[
            "elixir:1.8.1-alpine",
            NODE,
            "mysql:5.7.24",
            "redis:alpine",
            NODE,
            NODE,
        ],
        &[
            "elixir:1.8.1-alpine",
            NODE,
            "mysql:5.7.24",
            "redis:alpine",
            NODE,
            NODE_SINGLE_QUOTED,
        ],
        "a single-quoted scalar has no escapes",
    ),
    (
        "drone/registry-alias/.drone.yml",
        &["quay.io/elixir:1.8.1-alpine"],
        &["quay.io/elixir:1.8.1-alpine"],
        "",
    ),
    ("drone/empty/.drone.yml", &[], &[], ""),
    (
        "drone/exec/.drone.yml",
        &["golang:1.23", "golang:1.23"],
        &["golang:1.23"],
        "an exec pipeline pulls no image",
    ),
    (
        "woodpecker/fixture/.woodpecker.yml",
        &[
            "woodpeckerci/plugin-git:2.0.3",
            "quay.io/something/redis:alpine",
            "node:10.0.0",
            "postgres:9.4.0",
            "dockersamples/examplevotingapp_vote:before",
            "dockersamples/examplevotingapp_result:before",
            "dockersamples/examplevotingapp_worker",
            "dockersamples/visualizer:stable",
            "app-local-debug",
            "postgres:9.5.0",
        ],
        &[
            "woodpeckerci/plugin-git:2.0.3",
            "quay.io/something/redis:alpine",
            "node:10.0.0",
            "postgres:9.4.0",
            "dockersamples/examplevotingapp_vote:before",
            "dockersamples/examplevotingapp_result:before",
            "dockersamples/examplevotingapp_worker",
            "dockersamples/visualizer:stable",
            "app-local-debug",
            "postgres:9.5.0",
        ],
        "",
    ),
    (
        "woodpecker/pipeline-key/.woodpecker.yml",
        &["quay.io/nginx:0.0.1"],
        &["quay.io/nginx:0.0.1"],
        "",
    ),
    (
        "woodpecker/v1/.woodpecker.yml",
        &["quay.io/something/redis:alpine"],
        &["quay.io/something/redis:alpine"],
        "",
    ),
    (
        "woodpecker/clone-and-steps/.woodpecker.yml",
        &[
            "woodpeckerci/plugin-git:latest",
            "quay.io/something/redis:alpine",
        ],
        &[
            "woodpeckerci/plugin-git:latest",
            "quay.io/something/redis:alpine",
        ],
        "",
    ),
    ("woodpecker/no-deps/.woodpecker.yml", &[], &[], ""),
    ("woodpecker/empty/.woodpecker.yml", &[], &[], ""),
    ("woodpecker/null-clone/.woodpecker.yml", &[], &[], ""),
    // Our variant: steps as a list; a CI variable leaves the value
    // unresolved (listed, not compared here), as Renovate skips it.
    (
        "woodpecker/list/.woodpecker/build.yaml",
        &["golang:1.23", "postgres:16"],
        &["golang:1.23", "postgres:16"],
        "",
    ),
    (
        "cloudbuild/fixture/cloudbuild.yaml",
        &[
            "gcr.io/cloud-builders/docker:19.03.8",
            "node:12",
            "gcr.io/cloud-builders/kubectl",
        ],
        &[
            "gcr.io/cloud-builders/docker:19.03.8",
            "node:12",
            "gcr.io/cloud-builders/kubectl",
        ],
        "",
    ),
    ("cloudbuild/empty/cloudbuild.yaml", &[], &[], ""),
];

#[test]
fn refit_sites_agree_with_renovate_where_the_pipeline_runs_them() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pipelines-renovate");
    let sites = common::sites_in(&dir);
    let agree = common::oracle_agreement(&sites, CASES, common::site_path);
    // The malformed file below is the fifteenth case.
    assert_eq!(
        (agree, CASES.len() + 1),
        (12, 15),
        "update the module's count"
    );
    let unresolved: Vec<&str> = sites
        .iter()
        .filter(|s| !s["unresolved"].is_null())
        .filter_map(|s| s["raw"].as_str())
        .collect();
    assert_eq!(
        unresolved,
        ["woodpeckerci/plugin-docker-buildx:${CI_COMMIT_TAG}"]
    );
    let kinds: Vec<&str> = sites.iter().filter_map(|s| s["kind"].as_str()).collect();
    for kind in ["drone", "woodpecker", "cloudbuild"] {
        assert!(kinds.contains(&kind), "no {kind} site");
    }
}

#[test]
fn malformed_yaml_is_an_error_not_silence() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pipelines-malformed");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_refit"))
        .args(["sites", "."])
        .current_dir(&dir)
        .output()
        .expect("refit runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(".woodpecker.yml: invalid YAML"), "{err}");
}
