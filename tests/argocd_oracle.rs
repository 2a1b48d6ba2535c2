//! Renovate's argocd manager as an oracle for the images and OCI charts
//! Argo CD deploys: its test inputs (`tests/data/argocd-renovate/`, one
//! document per file) through `refit sites`, compared with the Docker
//! references Renovate's tests expect (`depName[:currentValue]
//! [@currentDigest]`). Charts from chart repositories (`https://…`,
//! `gs://…`) and Git sources are not images.
//!
//! Agreement: 10 of 10 cases. Renovate's templated document (`chart: {{
//! .Values.chart }}`) is left out: it makes the stream invalid YAML, which
//! refit reads as a template (note N001) for every front-end.

mod common;
use std::path::Path;

/// (input, Renovate's extraction, refit's, why they differ).
type Case = common::OracleCase;

const OTHER: &str = "othercontainer.registry.io/other/container@sha256:8be5de38826b494a8ad1565b8d1eb49183d736d0277a89191bd1100d78479a42";

const CASES: &[Case] = &[
    ("helm-repository.yaml", &[], &[], ""),
    ("gcs-chart.yaml", &[], &[], ""),
    (
        "kustomize-images.yaml",
        &["somecontainer.registry.io/someContainer:v2.3.4", OTHER],
        &["somecontainer.registry.io/someContainer:v2.3.4", OTHER],
        "",
    ),
    (
        "no-scheme.yaml",
        &["somecontainer.registry.io/some/image:1.2.0"],
        &["somecontainer.registry.io/some/image:1.2.0"],
        "",
    ),
    (
        "oci-scheme.yaml",
        &["somecontainer.registry.io/some/image2:1.3.0"],
        &["somecontainer.registry.io/some/image2:1.3.0"],
        "",
    ),
    (
        "port.yaml",
        &["somecontainer.registry.io:443/some/image2:1.3.0"],
        &["somecontainer.registry.io:443/some/image2:1.3.0"],
        "",
    ),
    (
        "trailing-slash.yaml",
        &["somecontainer.registry.io:443/some/image3:1.0.0"],
        &["somecontainer.registry.io:443/some/image3:1.0.0"],
        "",
    ),
    (
        "multiple-sources.yaml",
        &["somecontainer.registry.io:443/some/image3:1.0.0"],
        &["somecontainer.registry.io:443/some/image3:1.0.0"],
        "",
    ),
    (
        "oci-without-chart.yaml",
        &["somecontainer.registry.io/org/chart:0.4.0"],
        &["somecontainer.registry.io/org/chart:0.4.0"],
        "",
    ),
    // Ours: an ApplicationSet's template (Renovate reads it the same way).
    (
        "application-set.yaml",
        &["somecontainer.registry.io/some/image4:2.0.0"],
        &["somecontainer.registry.io/some/image4:2.0.0"],
        "",
    ),
];

#[test]
fn refit_sites_agree_with_renovate_on_argo_cd_sources() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/argocd-renovate");
    let sites = common::sites_in(&dir);
    let agree = common::oracle_agreement(&sites, CASES, common::site_path);
    assert_eq!((agree, CASES.len()), (10, 10), "update the module's count");
}
