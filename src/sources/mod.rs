//! Front-ends: one per file kind, each turning text into image sites.

pub mod dockerfile;
pub mod yaml;

use std::collections::BTreeMap;

/// Options that change how a front-end resolves references.
#[derive(Debug, Clone, Default)]
pub struct SourceOptions {
    /// `--build-arg NAME=VALUE` overrides for Dockerfile ARGs.
    pub build_args: BTreeMap<String, String>,
}
