use super::{Rule, RuleContext, declare_rule};
use crate::diagnostic::Diagnostic;
use crate::site::ImageSite;

declare_rule! {
    /// ## What it does
    /// With `refit check --online`, asks each reference's registry for its
    /// manifest (a HEAD, which is not a pull) and flags references whose
    /// repository or tag the registry does not have (`MANIFEST_UNKNOWN`,
    /// `NAME_UNKNOWN`, or a 404).
    ///
    /// Online only: without `--online` refit makes no request and this
    /// rule finds nothing. Its tests run against a local registry
    /// (`tests/online.rs`).
    ///
    /// ## Why is this bad?
    /// A reference can be perfectly formed and still broken: the tag was
    /// never pushed, was deleted, or the repository moved. The build or the
    /// rollout fails later, far from the line that is wrong.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM docker.io/library/node:22.99.0
    /// ```
    ///
    /// ## Use instead
    /// ```dockerfile
    /// FROM docker.io/library/node:22.11.0
    /// ```
    code: "REF003",
    name: "missing-image",
    severity: Error,
    fix: None,
    summary: "The image or tag does not exist on its registry",
    check: check,
}

/// Nothing offline: the findings come from the registry
/// (`crate::online::check`).
fn check(_rule: &Rule, _site: &ImageSite, _ctx: &RuleContext, _out: &mut Vec<Diagnostic>) {}
