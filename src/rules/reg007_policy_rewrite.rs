use super::{Rule, RuleContext, declare_rule, rename};
use crate::diagnostic::Diagnostic;
use crate::site::ImageSite;

declare_rule! {
    /// ## What it does
    /// Flags references under a prefix that a configured rewrite moves
    /// elsewhere, for moves the organisation knows about:
    ///
    /// ```toml
    /// [[rewrite]]
    /// from = "docker.io/my-org/"
    /// to = "ghcr.io/my-org/"
    /// ```
    ///
    /// `from` and `to` are normalized name prefixes, registry included
    /// (`node` is `docker.io/library/node`). A prefix matches at a path
    /// component boundary unless it ends with `/`; the longest `from`
    /// wins. Rewrites never chain: a name already under some rewrite's
    /// `to` is where a rewrite put it and is not moved again, so
    /// `a → b` and `b/… → c` do not turn `a` into `c` (write `a → c`).
    ///
    /// ## Why is this bad?
    /// The old location is stale or going away: pulls keep working until
    /// the day the images are deleted, then every build and deployment
    /// that names them fails.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM docker.io/my-org/api:1.4
    /// ```
    ///
    /// ## Use instead
    /// ```dockerfile
    /// FROM ghcr.io/my-org/api:1.4
    /// ```
    ///
    /// ## Fix safety
    /// Safe: the configuration states that the images live at the new
    /// prefix. Tag and digest are kept. Add `REG007` to
    /// `fix.extend-unsafe` to review each rewrite instead.
    code: "REG007",
    name: "policy-rewrite",
    severity: Warning,
    fix: Sometimes,
    summary: "A reference that a configured `[[rewrite]]` moves elsewhere",
    check: check,
}

fn check(rule: &Rule, site: &ImageSite, ctx: &RuleContext, out: &mut Vec<Diagnostic>) {
    let Some(reference) = site.reference() else {
        return;
    };
    if site.extra.build_output || site.extra.via_proxy.is_some() {
        return;
    }
    let Some((rewrite, rewritten)) = ctx.policy.rewrite_for(&reference.normalized_name()) else {
        return;
    };
    let (fixed, fix) = rename(site, reference, rewritten);
    let mut d = rule.report(
        site,
        format!(
            "Image `{}` is under `{}`, which the configuration moves to `{}`",
            reference.input(),
            rewrite.from,
            rewrite.to
        ),
    );
    d.fix = fix;
    if d.fix.is_none() {
        d.help = Some(format!(
            "write `{fixed}`; the value comes from outside the file, so refit cannot edit it"
        ));
    }
    out.push(d);
}
