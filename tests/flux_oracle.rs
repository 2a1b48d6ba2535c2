//! Renovate's `flux` manager as an oracle for the OCI artifacts Flux pulls:
//! inputs written after its tests' cases (`tests/data/flux-renovate/`)
//! through `refit sites`, compared with the Docker references Renovate's
//! tests expect (`packageName[:currentValue][@currentDigest]`).
//! `OCIRepository` refs, `HelmRelease` charts from an OCI
//! `HelmRepository`, and a Flux `Kustomization`'s `spec.images`; charts
//! from `https://` repositories are not images. Not encoded: Renovate's
//! GitRepository, HelmChart and flux-system manifest cases (Git sources,
//! chart repositories and Flux's own release versions are not images).
//! HelmRelease inline `values` images are compared in `multidoc.yaml`
//! (Renovate's fixture) and `release-values.yaml` (its "keeps HelmRelease
//! values image replacement" case): both read them as Helm values.
//!
//! Agreement: 9 of 10 cases. The difference, `helm-oci-type.yaml`, is out
//! of scope: Renovate's test rewrites `ghcr.io` with its own
//! `registryAliases` setting (Renovate's configuration, not the
//! repository's); the chart refit reads is the one Flux pulls. `split/`
//! keeps the `HelmRepository` and its `HelmRelease` in two files (as
//! Renovate's "multiple files" test): refit matches them through the
//! workspace's facts.

mod common;
use std::path::Path;

/// (file, Renovate's extraction, refit's, why they differ).
type Case = common::OracleCase;

const CASES: &[Case] = &[
    (
        "oci-tag.yaml",
        &["ghcr.io/kyverno/manifests/kyverno:v1.8.2"],
        &["ghcr.io/kyverno/manifests/kyverno:v1.8.2"],
        "",
    ),
    (
        "oci-digest.yaml",
        &[
            "ghcr.io/kyverno/manifests/kyverno@sha256:761c3189c482d0f1f0ad3735ca05c4c398cae201d2169f6645280c7b7b2ce6fc",
        ],
        &[
            "ghcr.io/kyverno/manifests/kyverno@sha256:761c3189c482d0f1f0ad3735ca05c4c398cae201d2169f6645280c7b7b2ce6fc",
        ],
        "",
    ),
    (
        "oci-digest-and-tag.yaml",
        &[
            "ghcr.io/kyverno/manifests/kyverno:v1.8.2@sha256:761c3189c482d0f1f0ad3735ca05c4c398cae201d2169f6645280c7b7b2ce6fc",
        ],
        &[
            "ghcr.io/kyverno/manifests/kyverno:v1.8.2@sha256:761c3189c482d0f1f0ad3735ca05c4c398cae201d2169f6645280c7b7b2ce6fc",
        ],
        "",
    ),
    (
        "helm-oci-type.yaml",
        &[
            "ghcr.proxy.test/some/path/actions/actions-runner-controller-charts/gha-runner-scale-set:0.4.0",
        ],
        &["ghcr.io/actions/actions-runner-controller-charts/gha-runner-scale-set:0.4.0"],
        "out of scope: Renovate's registryAliases setting",
    ),
    (
        "helm-oci-url.yaml",
        &["ghcr.io/kyverno/charts/kyverno:2.6.0"],
        &["ghcr.io/kyverno/charts/kyverno:2.6.0"],
        "",
    ),
    ("helm-https.yaml", &[], &[], ""),
    (
        "kustomization-images.yaml",
        &[
            "my-registry/podinfo:v1",
            "podinfo:1.8.0",
            "my-podinfo",
            "podinfo@sha256:24a0c4b4a4c0eb97a1aabb8e29f18e917d05abfe1b7a7c07857230879ce7d3d3",
        ],
        &[
            "my-registry/podinfo:v1",
            "podinfo:1.8.0",
            "my-podinfo",
            "podinfo@sha256:24a0c4b4a4c0eb97a1aabb8e29f18e917d05abfe1b7a7c07857230879ce7d3d3",
        ],
        "",
    ),
    (
        "multidoc.yaml",
        &[
            "k8s.gcr.io/external-dns/external-dns:v0.13.4",
            "ghcr.io/kyverno/manifests/kyverno:v1.8.2",
        ],
        &[
            "k8s.gcr.io/external-dns/external-dns:v0.13.4",
            "ghcr.io/kyverno/manifests/kyverno:v1.8.2",
        ],
        "",
    ),
    (
        "release-values.yaml",
        &["ghcr.io/example/app:v1.2.3"],
        &["ghcr.io/example/app:v1.2.3"],
        "",
    ),
    (
        "split/release.yaml",
        &["ghcr.io/kyverno/charts/kyverno:2.6.0"],
        &["ghcr.io/kyverno/charts/kyverno:2.6.0"],
        "",
    ),
];

#[test]
fn refit_sites_agree_with_renovate_on_flux_sources() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/flux-renovate");
    let sites = common::sites_in(&dir);
    let agree = common::oracle_agreement(&sites, CASES, common::site_path);
    assert_eq!((agree, CASES.len()), (9, 10), "update the module's count");
}
