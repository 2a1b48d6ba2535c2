use super::{Rule, RuleContext, declare_rule, rename};
use crate::diagnostic::Diagnostic;
use crate::policy::Untrusted;
use crate::site::ImageSite;

declare_rule! {
    /// ## What it does
    /// Flags images from registries the organisation's policy does not
    /// trust, as configured in `refit.toml`:
    ///
    /// ```toml
    /// [registries]
    /// allow = ["docker.io/library/*", "ghcr.io/my-org/*", "*.corp.example"]
    /// deny = ["docker.io/bitnami/*"]
    /// ```
    ///
    /// A pattern without `/` matches the normalized registry (`*` is a
    /// wildcard); a pattern with `/` also matches a repository prefix. The
    /// deny list wins over the allow list. The message names the registry
    /// and the list, and the pattern, that decided.
    ///
    /// ## Why is this bad?
    /// Images from unvetted registries bypass the organisation's review,
    /// scanning and availability guarantees. hadolint's DL3026 covers the
    /// same ground but names neither the registry nor the list.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM quay.io/someone/tool:1.0
    /// ```
    ///
    /// ## Use instead
    /// ```dockerfile
    /// FROM harbor.corp.example/mirror/someone/tool:1.0
    /// ```
    ///
    /// ## Fix safety
    /// Only through a configured `[[rewrite]]` whose result the policy
    /// allows: the fix is the rewrite (the same edit as REG007's), safe
    /// because the configuration states where the images now live.
    /// Otherwise there is no fix.
    code: "REG005",
    name: "untrusted-registry",
    severity: Error,
    fix: Sometimes,
    summary: "A registry that the configured policy does not allow",
    check: check,
}

fn check(rule: &Rule, site: &ImageSite, ctx: &RuleContext, out: &mut Vec<Diagnostic>) {
    let Some(reference) = site.reference() else {
        return;
    };
    if site.extra.build_output || (ctx.policy.allow.is_empty() && ctx.policy.deny.is_empty()) {
        return;
    }
    let registry = reference.normalized_domain();
    let name = reference.normalized_name();
    let Some(verdict) = ctx.policy.untrusted(&name) else {
        return;
    };
    let mut d = match verdict {
        Untrusted::Denied(p) => rule.report(
            site,
            format!(
                "Image `{}` comes from `{registry}`, which the deny list forbids (pattern `{p}`)",
                reference.input()
            ),
        ),
        Untrusted::NotAllowed => {
            let mut d = rule.report(
                site,
                format!(
                    "Image `{}` comes from `{registry}`, which is not in the allow list",
                    reference.input()
                ),
            );
            d.help = Some(format!("allowed: {}", ctx.policy.allow.join(", ")));
            d
        }
    };
    // A configured rewrite that leads somewhere trusted is the fix.
    if let Some((_, rewritten)) = ctx.policy.rewrite_for(&name)
        && ctx.policy.untrusted(&rewritten).is_none()
    {
        let (fixed, fix) = rename(site, reference, rewritten);
        d.help = Some(format!(
            "a configured rewrite moves it to `{fixed}`, which is allowed"
        ));
        d.fix = fix;
    }
    out.push(d);
}
