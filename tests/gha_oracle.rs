//! Renovate's `github-actions` manager as an oracle for docker images: the
//! cases its extraction tests expect (`depName`, `currentValue`,
//! `currentDigest` of `datasource: docker` dependencies), written as small
//! workflows of our own (`tests/data/gha-renovate/`), through `refit
//! sites`. Renovate's action `uses: OWNER/REPO@REF` version dependencies
//! are out of scope. Where the two differ, the table says why.

mod common;
use std::path::Path;

/// (workflow, Renovate's docker dependencies, refit's sites, why they differ).
type Case = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static str,
);

const CASES: &[Case] = &[
    // workflow_1.yml: six docker dependencies.
    (
        "docker-uses.yml",
        &["replicated/dockerfilelint"],
        &["replicated/dockerfilelint"],
        "",
    ),
    (
        "docker-digest.yml",
        &["node:6@sha256:7b65413af120ec5328077775022c78101f103258a1876ec2f83890bce416e896"],
        &["node:6@sha256:7b65413af120ec5328077775022c78101f103258a1876ec2f83890bce416e896"],
        "",
    ),
    (
        "container-services.yml",
        &["node:16-bullseye", "redis:5", "postgres:10"],
        &["node:16-bullseye", "redis:5", "postgres:10"],
        "",
    ),
    (
        "container-image.yml",
        &["node:16-bullseye"],
        &["node:16-bullseye"],
        "",
    ),
    // workflow_3.yml: a quoted container image with a comment.
    (
        "quoted-container.yml",
        &["busybox:1.37.0-glibc"],
        &["busybox:1.37.0-glibc"],
        "",
    ),
    // `uses-with`: the zizmor action's `version` is the image's tag.
    (
        "zizmor-version.yml",
        &["ghcr.io/zizmorcore/zizmor:v1.23.1"],
        &["ghcr.io/zizmorcore/zizmor:v1.23.1"],
        "",
    ),
    // Renovate lists the image skipped (`unspecified-version`); no image
    // is written in the file, and refit does not guess the action's
    // default, so there is nothing to check or fix.
    (
        "zizmor-default.yml",
        &["ghcr.io/zizmorcore/zizmor"],
        &[],
        "no version written: refit reports nothing",
    ),
    // The lockfile case: the `docker://` image beside a pinned action.
    ("docker-alpine.yml", &["alpine:3.20"], &["alpine:3.20"], ""),
    // refit reads more than Renovate: `docker run` in `run:` and matrix
    // values used as the job's image (dependabot-core #5819).
    ("run-step.yml", &[], &["node:20"], "refit reads run: steps"),
    ("matrix.yml", &[], &["node:20"], "refit reads matrix images"),
];

#[test]
fn refit_sites_agree_with_renovate_on_docker_images() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/gha-renovate");
    let sites = common::sites_in(&dir);
    for (file, renovate, refit, why) in CASES {
        let path = format!(".github/workflows/{file}");
        let found: Vec<&str> = sites
            .iter()
            .filter(|s| s["path"] == path.as_str())
            .filter_map(|s| s["reference"].as_str())
            .collect();
        assert_eq!(found, *refit, "{file}");
        assert_eq!(renovate == refit, why.is_empty(), "{file}: {why}");
    }
    let listed = |p: &serde_json::Value| {
        CASES
            .iter()
            .any(|(f, ..)| *p == format!(".github/workflows/{f}").as_str())
    };
    assert!(
        sites.iter().all(|s| listed(&s["path"])),
        "a site in a file the table does not list"
    );
}
