use super::{Rule, RuleContext, declare_rule};
use crate::diagnostic::Diagnostic;
use crate::site::ImageSite;

declare_rule! {
    /// ## What it does
    /// Flags Docker Official Images that are deprecated: `java`, `openjdk`,
    /// `centos`, `jenkins`, the `*-onbuild` variants and others. The table
    /// lives in `rules/deprecated.toml`, each entry with its replacement
    /// and the date.
    ///
    /// ## Why is this bad?
    /// Deprecated images are never rebuilt: no security updates, no base
    /// image updates. Their tags usually stay pullable, so nothing fails
    /// until a vulnerability scanner or an incident notices.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM openjdk:17-jdk
    /// ```
    ///
    /// ## Use instead
    /// ```dockerfile
    /// FROM docker.io/library/eclipse-temurin:17-jdk
    /// ```
    code: "BASE002",
    name: "deprecated-image",
    severity: Warning,
    fix: None,
    summary: "An official image that is deprecated",
    check: check,
}

fn check(rule: &Rule, site: &ImageSite, ctx: &RuleContext, out: &mut Vec<Diagnostic>) {
    let Some(written) = site.reference() else {
        return;
    };
    // Through a Docker Hub mirror path, the Docker Hub image.
    let reference = crate::identity::upstream(written, ctx.knowledge, ctx.policy);
    let written = written.input();
    if site.extra.build_output || reference.normalized_domain() != "docker.io" {
        return;
    }
    let path = reference.normalized_path();
    let Some(name) = path.strip_prefix("library/") else {
        return;
    };
    let tag = reference.tag_str().unwrap_or("latest");
    let Some(entry) = ctx
        .knowledge
        .deprecated
        .iter()
        .find(|d| d.image == name && d.tags.as_ref().is_none_or(|t| tag.contains(t.as_str())))
    else {
        return;
    };
    let what = match &entry.tags {
        Some(t) => format!("The `{t}` variants of `{name}` are"),
        None => format!("The official image `{name}` is"),
    };
    let mut d = rule.report(
        site,
        format!(
            "{what} deprecated (no updates since {}) in `{}`",
            entry.since, written
        ),
    );
    d.help = Some(format!("use {}", entry.replacement));
    out.push(d);
}
