use super::{Rule, RuleContext, declare_rule};
use crate::diagnostic::Diagnostic;
use crate::site::ImageSite;

declare_rule! {
    /// ## What it does
    /// Flags image references tagged `latest` without a digest.
    ///
    /// ## Why is this bad?
    /// `latest` is just the default tag, not the newest release, and it
    /// moves: every rebuild may pull a different image, including a new
    /// major version. A digest next to the tag pins it, so
    /// `node:latest@sha256:…` is not flagged.
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

fn check(rule: &Rule, site: &ImageSite, _ctx: &RuleContext, out: &mut Vec<Diagnostic>) {
    let Some(reference) = site.reference() else {
        return;
    };
    // A Compose `image:` beside `build:` names the build's output.
    if site.extra.build_output {
        return;
    }
    if reference.tag_str() != Some("latest") || reference.digest.is_some() {
        return;
    }
    let mut d = rule.report(
        site,
        format!(
            "Image `{}` uses the mutable `latest` tag",
            reference.input()
        ),
    );
    d.help = Some("pin a version tag, and a digest for reproducible builds".to_string());
    out.push(d);
}
