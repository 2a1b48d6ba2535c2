use super::{Rule, RuleContext, declare_rule};
use crate::diagnostic::Diagnostic;
use crate::site::{ImageSite, SiteKind};

declare_rule! {
    /// ## What it does
    /// Flags image references tagged `latest` without a digest.
    ///
    /// In a Kubernetes container with no `imagePullPolicy`, the message
    /// adds that Kubernetes pulls the image on every start: this rule owns
    /// that problem, and K8S001 does not report it again on the same image.
    ///
    /// Not flagged: images the repository builds itself (see REG001), and
    /// images that are never pulled (Kubernetes or Helm `imagePullPolicy:
    /// Never`, Compose `pull_policy: never` or `build`): the tag names a
    /// local build, not a registry's moving tag.
    ///
    /// Not flagged either: a tag that a variable supplies when the
    /// repository's own build or run always sets that variable, so the
    /// default written here is not what it uses: an `ARG` every build
    /// of the file passes (Makefile, script, CI, Compose, bake), a
    /// Compose `${VAR:-default}` every run exports first (a run refit
    /// cannot place may not). A plain value passed
    /// (`--build-arg TAG=latest`) is judged instead, without a fix.
    ///
    /// ## Why is this bad?
    /// `latest` is just the default tag, not the newest release, and it
    /// moves: every rebuild may pull a different image, including a new
    /// major version. Where a registry publishes only version tags
    /// (`registry.k8s.io` serves what its promoter manifests list), there
    /// is no `latest`, and the pull fails. Either way the reference names
    /// no version; refit does not ask the registry which. A digest next to
    /// the tag pins it, so `node:latest@sha256:…` is not flagged.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM docker.io/library/node:latest
    /// ```
    ///
    /// ## Use instead
    /// ```dockerfile
    /// FROM docker.io/library/node:22.11.0
    /// ```
    code: "TAG002",
    name: "latest-tag",
    severity: Warning,
    fix: None,
    summary: "Explicit `latest` tag",
    check: check,
}

fn check(rule: &Rule, site: &ImageSite, ctx: &RuleContext, out: &mut Vec<Diagnostic>) {
    let Some(reference) = site.reference() else {
        return;
    };
    // A Compose `image:` beside `build:` names the build's output.
    if site.extra.build_output {
        return;
    }
    // A default the repository's own build or run always overrides.
    if super::overridden::tag_overridden(site, ctx).is_some() {
        return;
    }
    if reference.tag_str() != Some("latest") || reference.digest.is_some() {
        return;
    }
    let mut d = rule.report(
        site,
        format!(
            "Image `{}` uses `latest`, which names no version{}",
            reference.input(),
            pulled_on_every_start(site)
        ),
    );
    d.help = Some(
        "`latest` moves with each push, or is missing where only versions are published: pin a version tag, and a digest for reproducible builds"
            .to_string(),
    );
    out.push(d);
}

/// For a `latest` image in a Kubernetes container without a pull policy:
/// what Kubernetes does with it (K8S001 leaves this problem to TAG001 and
/// TAG002, so it is reported once).
pub fn pulled_on_every_start(site: &ImageSite) -> &'static str {
    let defaulted = site.kind == SiteKind::KubernetesContainer
        && site
            .extra
            .pull_policy
            .as_ref()
            .is_some_and(|p| p.value.is_none());
    if defaulted {
        "; with no `imagePullPolicy`, Kubernetes pulls it on every start"
    } else {
        ""
    }
}
