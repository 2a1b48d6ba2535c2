use super::{Rule, RuleContext, declare_rule};
use crate::diagnostic::Diagnostic;
use crate::site::ImageSite;

declare_rule! {
    /// ## What it does
    /// With `refit check --online`, flags a `name:tag@sha256:…` pin whose
    /// tag now points to a different digest, and names both digests.
    ///
    /// Online only: without `--online` refit makes no request and this
    /// rule finds nothing. Its tests run against a local registry
    /// (`tests/verified_pins.rs`).
    ///
    /// ## Why is this bad?
    /// Docker, BuildKit, Podman and containerd pull by the digest and ignore
    /// the tag when both are written. The build keeps using the old digest,
    /// which is what a pin is for, but the tag text now misleads the reader:
    /// `node:22.11@sha256:…` is not what `node:22.11` is today, and a
    /// security fix released under the same tag is not in the build.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM docker.io/library/node:22@sha256:<what 22 was in March>
    /// ```
    ///
    /// ## Use instead
    /// ```dockerfile
    /// FROM docker.io/library/node:22@sha256:<what 22 is now>
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe: the fix re-pins to the tag's current digest, which is other
    /// content (an image update). Keeping the old pin is also a valid
    /// choice: suppress the finding, or write a tag that names the pinned
    /// version exactly. `refit pin --update` makes the same change for every
    /// file.
    code: "REF008",
    name: "tag-moved",
    severity: Warning,
    fix: Always,
    summary: "The tag of a `tag@digest` pin now points to another digest",
    check: check,
}

/// Nothing offline: the findings come from the registry
/// (`crate::online::check`).
fn check(_rule: &Rule, _site: &ImageSite, _ctx: &RuleContext, _out: &mut Vec<Diagnostic>) {}
