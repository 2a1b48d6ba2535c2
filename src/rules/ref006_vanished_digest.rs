use super::{Rule, RuleContext, declare_rule};
use crate::diagnostic::Diagnostic;
use crate::site::ImageSite;

declare_rule! {
    /// ## What it does
    /// With `refit check --online` (and in `refit pin`), asks the registry
    /// for each pinned digest (`name@sha256:…`, `name:tag@sha256:…`) by the
    /// digest itself, and flags a pin the registry no longer serves: the
    /// manifest request answers 404 or `MANIFEST_UNKNOWN`.
    ///
    /// Online only: without `--online` refit makes no request and this
    /// rule finds nothing. Its tests run against a local registry
    /// (`tests/verified_pins.rs`).
    ///
    /// ## Why is this bad?
    /// A pin is only as good as the registry that keeps its content. A
    /// repository's retention policy, a garbage collection or a deleted
    /// tag removes the manifest, and every build and rollout pinned to it
    /// fails with `manifest unknown`, while the file still looks pinned
    /// and reproducible.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM ghcr.io/acme/base:1.4@sha256:0c5d…(deleted)
    /// ```
    ///
    /// ## Use instead
    /// ```dockerfile
    /// FROM ghcr.io/acme/base:1.4@sha256:9f2e…(what `1.4` is now)
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe, and offered only when the reference has a tag that still
    /// resolves: the fix re-pins to the tag's current digest, which is
    /// different content from what was pinned (the old content is gone).
    /// Review it like an image update. A pin by digest alone (`name@sha256:…`)
    /// has no tag to follow and gets no fix.
    code: "REF006",
    name: "vanished-digest",
    severity: Error,
    fix: Sometimes,
    summary: "The pinned digest is no longer served by its registry",
    check: check,
}

/// Nothing offline: the findings come from the registry
/// (`crate::online::check`).
fn check(_rule: &Rule, _site: &ImageSite, _ctx: &RuleContext, _out: &mut Vec<Diagnostic>) {}
