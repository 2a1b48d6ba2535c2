use super::{Rule, RuleContext, declare_rule};
use crate::diagnostic::Diagnostic;
use crate::site::ImageSite;

declare_rule! {
    /// ## What it does
    /// With `refit check --online`, probes each Docker Hub mirror a daemon
    /// setting names (`registry-mirrors`, containerd `hosts.toml`,
    /// BuildKit, `registries.conf`): `GET /v2/`, then a HEAD on
    /// `library/alpine:latest`'s manifest through the mirror. Flags a
    /// mirror that does not answer, or answers without serving Docker Hub
    /// content.
    ///
    /// Online only: without `--online` refit makes no request and this
    /// rule finds nothing. Its tests run against a local registry
    /// (`tests/online.rs`).
    ///
    /// ## Why is this bad?
    /// The daemon falls back to Docker Hub when a mirror fails, so nothing
    /// breaks until Docker Hub's rate limit or an outage does, and then
    /// every pull fails at once.
    ///
    /// ## Example
    /// ```json
    /// {"registry-mirrors": ["https://mirror.example.invalid"]}
    /// ```
    ///
    /// ## Use instead
    /// A mirror that answers and serves Docker Hub content, or none.
    code: "MIR003",
    name: "mirror-unusable",
    severity: Warning,
    fix: None,
    summary: "A configured mirror is unreachable or does not serve Docker Hub",
    check: check,
}

/// Nothing offline: the findings come from the registry
/// (`crate::online::check`).
fn check(_rule: &Rule, _site: &ImageSite, _ctx: &RuleContext, _out: &mut Vec<Diagnostic>) {}
