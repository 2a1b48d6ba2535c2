//! Front-ends: one per file kind, each turning text into image sites.

pub mod bake;
pub mod charts;
pub mod ci;
pub mod common;
pub mod compose;
pub mod daemon;
pub mod devcontainer;
pub mod dockerfile;
pub mod flux;
pub mod helm;
pub mod ko;
pub mod kubernetes;
pub mod kustomize;
pub mod other_ci;
pub mod pipelines;
pub mod quadlet;
pub mod template;
pub mod terraform;
pub mod yaml;

use std::collections::BTreeMap;

/// What a front-end is handed to resolve references: the command line's
/// values (from `Settings`) and the facts of the workspace that concern
/// this file (built per file by the engine from the workspace).
#[derive(Debug, Clone, Default)]
pub struct SourceOptions {
    /// Why the file is test data (`testdata/`, an `expected.yaml`): a test
    /// compares it byte for byte, so every fix is unsafe.
    pub test_data: Option<String>,
    /// `--build-arg NAME=VALUE` overrides for Dockerfile ARGs.
    pub build_args: BTreeMap<String, String>,
    /// `--env NAME=VALUE` values for Compose interpolation; they win over `.env`.
    pub env: BTreeMap<String, String>,
    /// The `.env` file beside a Compose file.
    pub dotenv: BTreeMap<String, String>,
    /// `appVersion` of the chart a Helm values file belongs to.
    pub chart_app_version: Option<String>,
    /// The `certs.d/<namespace>/` folder of a containerd `hosts.toml`: the
    /// registry its hosts mirror.
    pub hosts_namespace: Option<String>,
    /// What the repository around a Dockerfile builds by name (bake and
    /// Compose targets, named contexts), for STG001 and REF005.
    pub build_refs: Option<std::sync::Arc<crate::facts::BuildRefs>>,
    /// The chart a Helm values file belongs to: how its templates join
    /// registry and repository.
    pub chart: Option<std::sync::Arc<crate::facts::ChartFacts>>,
    /// Names the repository builds itself (images, named build contexts,
    /// placeholders a script substitutes): not pulls.
    pub local: Option<std::sync::Arc<crate::facts::LocalNames>>,
    /// Why refit read the repository around the file only in part (a
    /// memory bound): then a rename is not known to be safe.
    pub cut: Option<String>,
    /// How the containers tools would resolve short names in this file
    /// (the repository's `registries.conf` files that configure its folder).
    pub short_names: Option<std::sync::Arc<crate::facts::ShortNames>>,
    /// Build arguments Compose passes to this Dockerfile: values for ARGs
    /// that have no default (never over a default or `--build-arg`).
    pub compose_args: BTreeMap<String, String>,
    /// The `images:` entries of the kustomizations that include this file.
    pub kustomize_images: Vec<crate::facts::KustomizeImage>,
    /// What the repository's build invocations set for this Dockerfile's
    /// build arguments (REF002); `None`: refit did not read the repository.
    pub supplied_args: Option<crate::site::SuppliedArgs>,
    /// The folder (repository-relative) of a kustomization that lists this
    /// file as a resource, or includes this kustomization: renaming its
    /// images is unsafe (overlays match names literally).
    pub kustomize_resource_of: Option<String>,
    /// The file's name says it is a template (`Dockerfile-alpine.template`,
    /// `Dockerfile.j2`): read without fixes (note N001).
    pub template_name: bool,
    /// A `.github/workflows/` file below the repository root (when the root
    /// is known): GitHub never runs it, so it is not read as a workflow.
    pub nested_workflow: bool,
    /// Variables of the files a `.gitlab-ci.yml` includes (`include: local:`).
    pub gitlab_variables: BTreeMap<String, String>,
    /// The repository's Flux image automation objects, for setter markers
    /// (FLX001); `None`: refit did not read the whole repository.
    pub flux: Option<std::sync::Arc<crate::facts::FluxPolicies>>,
    /// The texts of the other `.tf` / `.tf.json` files of a Terraform
    /// file's folder (its module), where its variables may be used as
    /// images; `None`: not read.
    pub terraform_module: Option<std::sync::Arc<Vec<String>>>,
    /// The drop-in (`web.container.d/10-image.conf`, as shown) whose
    /// `Image=` replaces a Quadlet unit's own.
    pub quadlet_override: Option<String>,
    /// Variables that every script in the repository that runs this
    /// Compose file sets and exports (`: "${NEXUS_VERSION:=3.47.1}"`,
    /// `export NEXUS_VERSION`): a `${VAR:-default}` there is not what runs.
    pub run_env: std::collections::BTreeSet<String>,
}

/// Parse a `.env` file: `NAME=value` lines, `#` comments, `export`, quotes.
pub fn parse_dotenv(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        let value = if let Some(v) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
            v.to_string()
        } else if let Some(v) = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
            v.to_string()
        } else {
            // An unquoted value ends at ` #` (an inline comment).
            value.split(" #").next().unwrap_or(value).trim().to_string()
        };
        out.insert(name.trim().to_string(), value);
    }
    out
}
