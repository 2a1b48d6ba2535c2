use super::{Rule, RuleContext, declare_rule, preview, replace_in_reference};
use crate::diagnostic::{Applicability, Diagnostic};
use crate::site::ImageSite;

use crate::reference::DOCKER_HUB_ALIASES as ALIASES;

declare_rule! {
    /// ## What it does
    /// Flags references that name Docker Hub by a legacy host:
    /// `index.docker.io`, `registry-1.docker.io` or `registry.hub.docker.com`.
    ///
    /// ## Why is this bad?
    /// These are old API and index hosts, not names. Policy tools, allow-lists,
    /// mirrors and pull-through caches match on the canonical `docker.io`, so
    /// an alias slips past them, and the same image appears under several
    /// names in audits.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM index.docker.io/library/alpine:3.20
    /// ```
    ///
    /// ## Use instead
    /// ```dockerfile
    /// FROM docker.io/library/alpine:3.20
    /// ```
    ///
    /// Not for Helm OCI charts: Helm reads the host as written, and an
    /// edit breaks `Chart.lock`.
    ///
    /// ## Fix safety
    /// Safe: all these hosts serve Docker Hub's content.
    code: "REG003",
    name: "legacy-registry-alias",
    severity: Warning,
    fix: Sometimes,
    summary: "A legacy Docker Hub host alias is used instead of docker.io",
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
    // A Helm chart in an OCI registry: Helm reads the host as written.
    if matches!(
        site.kind,
        crate::site::SiteKind::HelmChartDependency | crate::site::SiteKind::Helmfile
    ) {
        return;
    }
    let (Some(span), Some(domain)) = (reference.domain, reference.domain_str()) else {
        return;
    };
    if !ALIASES.contains(&domain) {
        return;
    }
    let fixed = preview(reference.input(), span, "docker.io");
    let mut d = rule.report(
        site,
        format!(
            "Image `{}` uses `{domain}`, a legacy alias of `docker.io`",
            reference.input()
        ),
    );
    d.fix = replace_in_reference(
        site,
        span,
        "docker.io".to_string(),
        format!("Use `{fixed}`"),
        Applicability::Safe,
    );
    out.push(d);
}
