//! Renovate's terraform manager as an oracle for the images Terraform's
//! Docker, Kubernetes and Helm providers pull: its test inputs
//! (`tests/data/terraform-renovate/`) through `refit sites`, compared with
//! the Docker images Renovate's tests expect (`depName[:currentValue]
//! [@currentDigest]`, as written; order aside, Renovate lists data sources
//! after resources). Helm charts from chart repositories (`https://…`),
//! providers, modules and Terraform versions are not images.
//!
//! Agreement: 3 of 4 cases. The difference:
//! - `kubernetes/unknown-type.tf`: refit reads the `container` blocks of
//!   every `kubernetes_…` resource; Renovate reads a list of known types.
//!   `kubernetes_job_invalid` is no type of the provider (`terraform
//!   validate` refuses it), so the input is invalid either way. Out of
//!   scope.
//!
//! Renovate marks `name = data.docker_registry_image.ubuntu.name`
//! `contains-variable` and skips resources without the argument; refit
//! reads no site there (an expression names another resource, not an
//! image), which is the same extraction.
//!
//! Renovate's terraform manager reads `*.tf` (and `*.tofu`) only, and marks
//! `var.…` values `contains-variable`: refit's reading of `*.tf.json` and of
//! variables' defaults has no Renovate case to compare with (unit tests in
//! `src/sources/terraform.rs` and fixtures cover them).

mod common;
use std::path::Path;

/// (input, Renovate's extraction, refit's, why they differ).
type Case = common::OracleCase;

const KANIKO: &str = "gcr.io/kaniko-project/executor:v1.7.0@sha256:8504bde9a9a8c9c4e9a4fe659703d265697a36ff13607b7669a4caa4407baa52";

const CASES: &[Case] = &[
    (
        "docker/main.tf",
        &[
            "nginx:1.7.8",
            "hub.proxy.test/bitnami/nginx:1.24.0",
            "nginx:1.7.8",
            "repo.mycompany.com:8080/foo-service:v1",
            "ubuntu:precise",
        ],
        &[
            "ubuntu:precise",
            "nginx:1.7.8",
            "hub.proxy.test/bitnami/nginx:1.24.0",
            "nginx:1.7.8",
            "repo.mycompany.com:8080/foo-service:v1",
        ],
        "",
    ),
    (
        "kubernetes/main.tf",
        &[
            KANIKO,
            "node:14",
            "nginx:1.21.3",
            "nginx:1.21.8",
            "nginx:1.21.12",
            "prom/prometheus:v2.2.2",
        ],
        &[
            KANIKO,
            "node:14",
            "nginx:1.21.3",
            "nginx:1.21.8",
            "nginx:1.21.12",
            "prom/prometheus:v2.2.2",
        ],
        "",
    ),
    (
        "kubernetes/unknown-type.tf",
        &[],
        &["nginx:1.21.6"],
        "not a type of the provider",
    ),
    (
        "helm/main.tf",
        &[
            "public.ecr.aws/karpenter/karpenter:v0.22.1",
            "public.ecr.aws/karpenter/karpenter:v0.22.1",
            "hub.proxy.test/bitnamicharts/kube-prometheus:8.9.1",
        ],
        &[
            "public.ecr.aws/karpenter/karpenter:v0.22.1",
            "public.ecr.aws/karpenter/karpenter:v0.22.1",
            "hub.proxy.test/bitnamicharts/kube-prometheus:8.9.1",
        ],
        "",
    ),
];

#[test]
fn refit_sites_agree_with_renovate_on_terraform_images() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/terraform-renovate");
    let sites = common::sites_in(&dir);
    let agree = common::oracle_agreement(&sites, CASES, common::site_path);
    assert_eq!((agree, CASES.len()), (3, 4), "update the module's count");
    assert!(sites.iter().all(|s| s["kind"] == "terraform"));
}
