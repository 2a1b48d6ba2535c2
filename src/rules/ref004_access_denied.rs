use super::{Rule, RuleContext, declare_rule};
use crate::diagnostic::Diagnostic;
use crate::site::ImageSite;

declare_rule! {
    /// ## What it does
    /// With `refit check --online`, flags references the registry refuses:
    /// 401 or 403 after the auth flow (anonymous, or with the credentials
    /// Docker or Podman would use), or a token without the scope asked
    /// (`insufficient_scope`).
    ///
    /// Online only: without `--online` refit makes no request and this
    /// rule finds nothing. Its tests run against a local registry
    /// (`tests/online.rs`).
    ///
    /// ## Why is this bad?
    /// The image is private, the credentials are missing or wrong, or the
    /// path is not one the registry serves (a cloud registry's mirror asked
    /// for `library/…` it does not proxy). Pulls fail the same way in CI.
    ///
    /// ## Example
    /// ```yaml
    /// image: ghcr.io/acme/private-app:1.4
    /// ```
    ///
    /// ## Use instead
    /// Log in (`docker login ghcr.io`) where refit and the pulls run, or use
    /// an image the pulling identity can read.
    code: "REF004",
    name: "access-denied",
    severity: Error,
    fix: None,
    summary: "The registry refuses the image, even after auth",
    check: check,
}

/// Nothing offline: the findings come from the registry
/// (`crate::online::check`).
fn check(_rule: &Rule, _site: &ImageSite, _ctx: &RuleContext, _out: &mut Vec<Diagnostic>) {}
