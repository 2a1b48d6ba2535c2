use super::{Rule, RuleContext, declare_rule};
use crate::diagnostic::Diagnostic;
use crate::site::ImageSite;

declare_rule! {
    /// ## What it does
    /// With `refit check --online`, flags a `name:tag@sha256:…` pin whose
    /// digest is one platform's manifest inside the multi-platform index
    /// the tag points to (for example the `linux/amd64` manifest of
    /// `node:22`), and offers the index digest instead.
    ///
    /// Online only: without `--online` refit makes no request and this
    /// rule finds nothing. Its tests run against a local registry
    /// (`tests/verified_pins.rs`).
    ///
    /// ## Why is this bad?
    /// A platform manifest pins one architecture. Docker, BuildKit and
    /// containerd pull exactly that manifest on every machine: an arm64
    /// laptop or runner gets the amd64 image (emulated, or `exec format
    /// error`), and a multi-platform build uses the amd64 base for every
    /// platform. Such pins usually come from copying the digest a
    /// `docker pull` printed on one machine.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM docker.io/library/node:22@sha256:<the linux/amd64 manifest>
    /// ```
    ///
    /// ## Use instead
    /// ```dockerfile
    /// FROM docker.io/library/node:22@sha256:<the index>
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe: on the pinned platform the content stays the same (the
    /// index holds that very manifest), but on every other platform the
    /// build now pulls that platform's image instead of the pinned one.
    /// `refit pin --platform` writes platform pins on purpose; keep those
    /// with a suppression comment.
    code: "REF007",
    name: "platform-digest",
    severity: Warning,
    fix: Always,
    summary: "A pin to one platform's manifest where the tag is a multi-platform index",
    check: check,
}

/// Nothing offline: the findings come from the registry
/// (`crate::online::check`).
fn check(_rule: &Rule, _site: &ImageSite, _ctx: &RuleContext, _out: &mut Vec<Diagnostic>) {}
