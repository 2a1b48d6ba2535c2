//! Docker Bake's documented evaluation as an oracle. `docker buildx bake
//! --print` is not installed here (Debian ships no buildx package in the
//! suites this machine uses), and Renovate has no bake manager, so the
//! table holds what buildx resolves for each input according to its bake
//! reference (`docs/bake-reference.md`: `target.contexts`, `target.args`,
//! `target.inherits`, variables) and its own tests (`bake/hcl_test.go`: a
//! variable without a default is the empty string; `bake/bake_test.go`:
//! `docker-image://` contexts). The inputs are ours
//! (`tests/data/bake-oracle/`), run through `refit sites`.
//!
//! Agreement: 11 of 14 cases. The three differences:
//! - `pin-context/Dockerfile`: buildx builds `FROM oracle-alpine` on the context's
//!   `alpine:3.13`; refit reads `oracle-alpine` there as a named context (a
//!   local name, left alone) and reports the pull where it is written, in
//!   the bake file. refit right: one place to check and fix.
//! - `no-default`: buildx gives a variable without a default the empty
//!   string (`webapp:`, an invalid reference); such variables are set in
//!   the environment where bake runs, which refit does not see, so refit
//!   leaves the value unresolved (REF002 when selected). refit right.
//! - `functions`: buildx evaluates its standard library (`lower`,
//!   `notequal`, conditionals); refit evaluates no functions and leaves
//!   the value unresolved. Out of scope.

mod common;
use std::path::Path;

/// (file, what buildx resolves, what refit reports, why they differ).
type Case = common::OracleCase;

const DIGEST: &str =
    "alpine@sha256:0123456789012345678901234567890123456789012345678901234567890123";

const CASES: &[Case] = &[
    // bake reference, "Pin an image version".
    (
        "pin-context/docker-bake.hcl",
        &["alpine:3.13"],
        &["alpine:3.13"],
        "",
    ),
    (
        "pin-context/Dockerfile",
        &["alpine:3.13"],
        &["oracle-alpine"],
        "refit reports the pull in the bake file; the FROM names the context",
    ),
    // "Interpolate variables into values".
    (
        "variables/docker-bake.hcl",
        &["docker.io/username/webapp:latest"],
        &["docker.io/username/webapp:latest"],
        "",
    ),
    // "Using variables as attribute values": `tags = [ TAG ]`.
    (
        "bare-variable/docker-bake.hcl",
        &["docker.io/username/webapp:latest"],
        &["docker.io/username/webapp:latest"],
        "",
    ),
    // hcl_test.go TestEmptyVariable: `variable "FOO" {}` is "".
    (
        "no-default/docker-bake.hcl",
        &["docker.io/username/webapp:", "debian:"],
        &[],
        "set in the environment where bake runs: unresolved, never guessed",
    ),
    // `target.args`: `null` uses the Dockerfile's default.
    (
        "null-arg/db.Dockerfile",
        &["golang:1.22-alpine3.20"],
        &["golang:1.22-alpine3.20"],
        "",
    ),
    // `target.inherits`: the parent's args, the child's win.
    (
        "inherits/app/Dockerfile",
        &["debian:12", "node:22"],
        &["debian:12", "node:22"],
        "",
    ),
    // The JSON form: strings are templates too.
    (
        "json/docker-bake.json",
        &["alpine:3.13", "docker.io/username/webapp:3.13"],
        &["alpine:3.13", "docker.io/username/webapp:3.13"],
        "",
    ),
    // Context types: a folder, Git and HTTP URLs, an OCI layout are no
    // image references.
    ("remote-context/docker-bake.hcl", &[], &[], ""),
    // "Use another target as base".
    ("target-context/docker-bake.hcl", &[], &[], ""),
    (
        "functions/docker-bake.hcl",
        &["alpine:3.20", "acme/app:3.20"],
        &[],
        "refit evaluates no bake functions",
    ),
    // `docker-image://alpine@sha256:…` (the context types table).
    ("digest/docker-bake.hcl", &[DIGEST], &[DIGEST], ""),
    // A variable's default that interpolates another variable.
    (
        "chained-default/docker-bake.hcl",
        &["ghcr.io/acme/tools:1.0", "ghcr.io/acme/app:1.0"],
        &["ghcr.io/acme/tools:1.0", "ghcr.io/acme/app:1.0"],
        "",
    ),
    // `$${` is a literal `${` (an invalid tag, as buildx would refuse it).
    (
        "escapes/docker-bake.hcl",
        &["alpine:3.20", "acme/app:${TAG}"],
        &["alpine:3.20", "acme/app:${TAG}"],
        "",
    ),
];

#[test]
fn refit_reads_bake_files_as_buildx_documents() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/bake-oracle");
    let sites = common::sites_in(&dir);
    let agree = common::oracle_agreement(&sites, CASES, common::site_path);
    assert_eq!((agree, CASES.len()), (11, 14), "update the module's count");
    // Unresolved values are sites too, reported without a value.
    let unresolved = sites.iter().filter(|s| !s["unresolved"].is_null()).count();
    assert_eq!(unresolved, 4);
    // A tag is a build output: a local image, so `FROM` on it elsewhere is
    // not a pull.
    assert!(
        sites
            .iter()
            .any(|s| s["kind"] == "bake" && s["site"] == "bake tag")
    );
}
