//! Renovate's circleci, bitbucket-pipelines and azure-pipelines managers
//! as an oracle: their test inputs (`tests/data/other-ci-renovate/`)
//! through `refit sites`, compared with the Docker images Renovate's tests
//! expect (`depName[:currentValue][@currentDigest]`, as written). Orbs,
//! Bitbucket pipes other than `docker://`, Azure tasks and repositories
//! are not images. Where the two differ, the table says why.

mod common;
use std::path::Path;

/// (input, Renovate's extraction, refit's, why they differ).
type Case = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static str,
);

const PY: &str =
    "python:3.7@sha256:3870d35b962a943df72d948580fc66ceaaee1c4fbd205930f32e0f0760eb1077";
const PYPY: &str =
    "pypy:3-6@sha256:eb6325b75c1c70b4992eaa1bdd29e24e5f14d5324b4714a49f3e67783473214b";

const CASES: &[Case] = &[
    (".circleci/empty.yml", &[], &[], ""),
    // refit reads the site too, and reports it invalid (REF001: Docker
    // refuses an upper-case repository).
    (
        ".circleci/registry-alias.yml",
        &["quay.io/myName/myPackage:0.6.2"],
        &["quay.io/myName/myPackage:0.6.2"],
        "",
    ),
    (
        ".circleci/anchors.yml",
        &["node", "node:4", "node:6", "node:8.9.0"],
        &["node", "node:4", "node:6", "node:8.9.0"],
        "",
    ),
    (".circleci/orbs.yml", &[PY, PY, PYPY], &[PY, PY, PYPY], ""),
    // An alias used by a job is one place in the file: one site, edited
    // once; Renovate lists the anchor and its use.
    (
        ".circleci/alias-without-dash.yml",
        &["cimg/node:14.8.0", "cimg/node:14.8.0"],
        &["cimg/node:14.8.0"],
        "one place in the file",
    ),
    (".circleci/android-machine.yml", &[], &[], ""),
    (".circleci/orbs-without-jobs.yml", &[], &[], ""),
    (
        ".circleci/executors.yml",
        &["cimg/ruby:3.0.3-browsers"],
        &["cimg/ruby:3.0.3-browsers"],
        "",
    ),
    (
        ".circleci/orb-definitions.yml",
        &["cimg/python:3.9", "cimg/python:3.7"],
        &["cimg/python:3.9", "cimg/python:3.7"],
        "",
    ),
    (".circleci/merge-keys.yml", &["node:18"], &["node:18"], ""),
    ("bitbucket/empty/bitbucket-pipelines.yml", &[], &[], ""),
    ("bitbucket/malformed/bitbucket-pipelines.yml", &[], &[], ""),
    (
        "bitbucket/fixture/bitbucket-pipelines.yml",
        &[
            "node:10.15.1",
            "node:18.15.0",
            "node:18.15.1",
            "node:18.15.2",
            "node:10.15.2",
            "jfrogecosystem/jfrog-setup-cli:2.0.2",
        ],
        &[
            "node:10.15.1",
            "node:18.15.0",
            "node:18.15.1",
            "node:18.15.2",
            "node:10.15.2",
            "jfrogecosystem/jfrog-setup-cli:2.0.2",
        ],
        "",
    ),
    (
        "azure-pipelines/fixture.yml",
        &["ubuntu:16.04", PY],
        &["ubuntu:16.04", PY],
        "",
    ),
    ("azure-pipelines/no-dependency.yml", &[], &[], ""),
    // Our variant: Azure runs a job's `container:` (an image, or a
    // container resource by name); Renovate reads only resources.
    (
        "azure-pipelines/job-container.yml",
        &["ubuntu:16.04"],
        &["ubuntu:16.04", "node:20", "python:3.12"],
        "Renovate reads no job container",
    ),
];

#[test]
fn refit_sites_agree_with_renovate_where_the_ci_does() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/other-ci-renovate");
    let sites = common::sites_in(&dir);
    for (file, renovate, refit, why) in CASES {
        let found: Vec<&str> = sites
            .iter()
            .filter(|s| s["path"] == *file)
            .filter_map(|s| s["reference"].as_str())
            .collect();
        assert_eq!(found, *refit, "{file}");
        assert_eq!(renovate == refit, why.is_empty(), "{file}: {why}");
    }
    let listed = |p: &serde_json::Value| CASES.iter().any(|(f, ..)| p == *f);
    assert!(
        sites.iter().all(|s| listed(&s["path"])),
        "a site in a file the table does not list"
    );
    // The files are read as the three kinds (not as Kubernetes YAML).
    let kinds: Vec<&str> = sites.iter().filter_map(|s| s["kind"].as_str()).collect();
    for kind in ["circleci", "bitbucket-pipelines", "azure-pipelines"] {
        assert!(kinds.contains(&kind), "no {kind} site");
    }
}
