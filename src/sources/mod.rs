//! Front-ends: one per file kind, each turning text into image sites.

pub mod ci;
pub mod common;
pub mod compose;
pub mod daemon;
pub mod dockerfile;
pub mod helm;
pub mod kubernetes;
pub mod kustomize;
pub mod yaml;

use std::collections::BTreeMap;

/// Options that change how a front-end resolves references.
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
    pub build_refs: Option<std::sync::Arc<crate::build_refs::BuildRefs>>,
    /// The chart a Helm values file belongs to: how its templates join
    /// registry and repository.
    pub chart: Option<std::sync::Arc<crate::context::ChartFacts>>,
    /// What the rest of the repository says (images it builds, named build
    /// contexts).
    pub repo: Option<std::sync::Arc<crate::context::RepoContext>>,
    /// How the containers tools would resolve short names in this file
    /// (the repository's `registries.conf` files that configure its folder).
    pub short_names: Option<std::sync::Arc<crate::shortnames::ShortNames>>,
    /// Build arguments Compose passes to this Dockerfile: values for ARGs
    /// that have no default (never over a default or `--build-arg`).
    pub compose_args: BTreeMap<String, String>,
    /// The `images:` entries of the kustomizations that include this file.
    pub kustomize_images: Vec<crate::context::KustomizeImage>,
    /// Variables of the files a `.gitlab-ci.yml` includes (`include: local:`).
    pub gitlab_variables: BTreeMap<String, String>,
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
