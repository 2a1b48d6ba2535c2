use super::{Rule, RuleContext, declare_rule, rename};
use crate::diagnostic::Diagnostic;
use crate::site::ImageSite;

declare_rule! {
    /// ## What it does
    /// Flags references that pull straight from an upstream registry that
    /// the organisation routes through a pull-through cache:
    ///
    /// ```toml
    /// [registries]
    /// proxies = [{ upstream = "docker.io", via = "harbor.corp.example/dockerhub" }]
    /// ```
    ///
    /// A reference already through the proxy is accepted. A reference that
    /// a `[[rewrite]]` moves is left to REG007, so the rewrite happens
    /// first and the proxy applies to its result.
    ///
    /// ## Why is this bad?
    /// Direct pulls spend the upstream's rate limit (Docker Hub: 100 pulls
    /// per 6 hours per IP, anonymously), fail during its outages, and escape
    /// the cache's scanning and audit.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM docker.io/library/node:20
    /// ```
    ///
    /// ## Use instead
    /// ```dockerfile
    /// FROM harbor.corp.example/dockerhub/library/node:20
    /// ```
    ///
    /// ## Fix safety
    /// Safe: a pull-through cache serves the upstream's content under its
    /// prefix. REG001's fix writes the proxied form directly, so the two
    /// never rewrite each other.
    code: "REG006",
    name: "bypasses-proxy",
    severity: Warning,
    fix: Sometimes,
    summary: "An upstream that policy routes through a pull-through cache",
    check: check,
}

fn check(rule: &Rule, site: &ImageSite, ctx: &RuleContext, out: &mut Vec<Diagnostic>) {
    let Some(reference) = site.reference() else {
        return;
    };
    if site.extra.build_output || site.extra.via_proxy.is_some() {
        return;
    }
    let Some(proxy) = ctx.policy.proxy_for(reference.normalized_domain()) else {
        return;
    };
    // A configured rewrite moves the name first (REG007); the proxy then
    // applies to where it lands.
    if ctx
        .policy
        .rewrite_for(&reference.normalized_name())
        .is_some()
    {
        return;
    }
    // A written name: replace it whole with the proxied one.
    let proxied = format!("{}/{}", proxy.via, reference.normalized_path());
    let mut d = rule.report(
        site,
        format!(
            "Image `{}` pulls from `{}` directly instead of through `{}`",
            reference.input(),
            proxy.upstream,
            proxy.via
        ),
    );
    d.fix = rename(site, reference, proxied).1;
    out.push(d);
}
