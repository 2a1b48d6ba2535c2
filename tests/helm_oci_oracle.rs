//! Renovate's `helmv3` and `helmfile` managers as an oracle for Helm charts
//! stored in OCI registries: inputs written after their tests' cases
//! (`tests/data/helm-oci-renovate/<case>/Chart.yaml` or `helmfile.yaml`)
//! through `refit sites`, compared with the OCI chart references
//! Renovate's tests expect (its `docker` datasource deps, as
//! `packageName:currentValue`). Charts from chart repositories
//! (`https://…`), local charts and Git repositories are not in a
//! container registry: neither lists them.
//!
//! Agreement: 14 of 15 cases. The one difference is out of scope:
//! Renovate resolves `alias:` repositories with its own `registryAliases`
//! setting, which is Renovate's configuration, not the repository's (Helm
//! resolves `alias:` with `helm repo add` names, never an OCI registry).
//! Not encoded: Renovate's invalid-YAML and empty-file cases (no
//! dependencies either way). Go-templated helmfiles are compared through
//! Renovate's `go-template.yaml` (Renovate removes the templates before
//! parsing; refit blanks them byte for byte, note N001).
//! `Chart.lock` is not compared: Renovate's helmv3 manager does not
//! extract it (it is the manager's lock file, rewritten by `helm
//! dependency update`; its `oci_*.lock` fixtures serve the artifacts
//! tests), while refit reads its dependencies as unfixable sites.

mod common;
use std::path::Path;

/// (case folder, Renovate's extraction, refit's, why they differ).
type Case = common::OracleCase;

const CASES: &[Case] = &[
    // helmv3
    ("invalid-registry", &[], &[], ""),
    ("simple", &[], &[], ""),
    (
        "oci-references",
        &["ghcr.io/someone/library:0.1.0"],
        &["ghcr.io/someone/library:0.1.0"],
        "",
    ),
    (
        "aliased",
        &["quay.example.com/organization/oci-example:2.2.0"],
        &[],
        "out of scope: `alias:ociRegistry` is resolved with Renovate's registryAliases setting",
    ),
    ("local-dependency", &[], &[], ""),
    // Renovate returns nothing for an `apiVersion: v1` chart; Helm reads a
    // v1 chart's dependencies from requirements.yaml.
    ("helm-v1", &[], &[], ""),
    ("helm-git", &[], &[], ""),
    ("no-name-version", &[], &[], ""),
    // helmfile
    (
        "hf-oci-and-https",
        &[
            "ghcr.io/example/oci-repo/example:0.1.0",
            "ghcr.io/example/oci-repo/url-example:0.4.2",
        ],
        &[
            "ghcr.io/example/oci-repo/example:0.1.0",
            "ghcr.io/example/oci-repo/url-example:0.4.2",
        ],
        "",
    ),
    (
        "hf-nested",
        &["ghcr.io/example/oci-repo/nested/path/chart:1.2.3"],
        &["ghcr.io/example/oci-repo/nested/path/chart:1.2.3"],
        "",
    ),
    (
        "hf-documents",
        &["ghcr.io/example/oci-repo/example:0.1.0"],
        &["ghcr.io/example/oci-repo/example:0.1.0"],
        "",
    ),
    (
        "hf-url-joiner",
        &["gitlab.example.com:5000/group/subgroup:0.4.2"],
        &["gitlab.example.com:5000/group/subgroup:0.4.2"],
        "",
    ),
    ("hf-local", &[], &[], ""),
    // Renovate's `go-template.yaml` fixture as `helmfile.yaml.gotmpl`: read
    // with its template actions blanked (note N001); its charts are in
    // chart repositories and local folders, so neither lists one.
    ("hf-go-template", &[], &[], ""),
    ("hf-unknown-repo", &[], &[], ""),
];

#[test]
fn refit_sites_agree_with_renovate_on_oci_helm_charts() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/helm-oci-renovate");
    let sites = common::sites_in(&dir);
    let folder = |s: &serde_json::Value| {
        s["path"]
            .as_str()
            .and_then(|p| p.split('/').next())
            .unwrap_or_default()
            .to_string()
    };
    let agree = common::oracle_agreement(&sites, CASES, folder);
    assert_eq!((agree, CASES.len()), (14, 15), "update the module's count");
}
