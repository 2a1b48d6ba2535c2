use super::{Rule, RuleContext, declare_rule};
use crate::diagnostic::Diagnostic;
use crate::site::ImageSite;

declare_rule! {
    /// ## What it does
    /// With `refit check --online`, flags a Dockerfile base image that has
    /// no manifest for a platform the repository builds for. The platforms
    /// come from what refit reads: a literal `FROM --platform=linux/s390x`
    /// (for that `FROM` only), and for every `FROM` built for the target
    /// platform, Compose `build.platforms`, `platforms` in
    /// `docker-bake.hcl` / `docker-bake.json`, a `platforms:` input of a CI
    /// step (`docker/build-push-action`) and `--platform` in `docker
    /// build` / `docker buildx build` commands. The message names where
    /// each platform comes from.
    ///
    /// The image checked is the pinned digest, the index a platform pin
    /// belongs to, or what the tag resolves to when nothing is pinned.
    /// `FROM --platform=$BUILDPLATFORM` runs on the build machine and is
    /// not checked. A platform read outside the Dockerfile applies to every
    /// Dockerfile refit checks (refit does not follow which build uses which
    /// file), so that finding is a warning that names where the platform
    /// was read and says the build fails only if it uses this Dockerfile;
    /// a literal `--platform` on the `FROM` is an error. Where a Dockerfile
    /// is not built for it, suppress the finding or turn REF009 off for
    /// that path (`per-file-ignores`).
    ///
    /// Online only: without `--online` refit makes no request and this
    /// rule finds nothing. Its tests run against a local registry
    /// (`tests/verified_pins.rs`).
    ///
    /// ## Why is this bad?
    /// The build for that platform fails (`no match for platform in
    /// manifest`), or, with a single-platform image, silently runs the
    /// wrong architecture under emulation. It shows up only on the runner
    /// that builds that platform, often at release time.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM --platform=linux/s390x docker.io/acme/base:1@sha256:<amd64 + arm64 index>
    /// ```
    ///
    /// ## Use instead
    /// ```dockerfile
    /// FROM --platform=linux/s390x docker.io/library/debian:bookworm
    /// ```
    code: "REF009",
    name: "missing-platform",
    severity: Error,
    fix: None,
    summary: "The image has no manifest for a platform the repository builds for",
    check: check,
}

/// Nothing offline: the findings come from the registry
/// (`crate::online::check`).
fn check(_rule: &Rule, _site: &ImageSite, _ctx: &RuleContext, _out: &mut Vec<Diagnostic>) {}
