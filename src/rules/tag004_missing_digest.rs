use super::{Rule, RuleContext, declare_rule, preview, replace_in_reference};
use crate::diagnostic::{Applicability, Diagnostic};
use crate::site::{ImageSite, Span};

declare_rule! {
    /// ## What it does
    /// Flags image references without a digest. Opt-in, and only its full
    /// code selects it (`--extend-select TAG004`; `TAG` does not). When
    /// `refit.lock` (written by `refit pin --lock`, beside `refit.toml` or
    /// in the current folder) has the reference, the fix adds its digest:
    /// no network is needed.
    ///
    /// ## Why is this bad?
    /// A tag is not a version: it can be moved to other content at any
    /// time, by the publisher or by whoever controls the registry. Only a
    /// digest names the content, so only a digest makes a build or a
    /// deployment reproducible. Keeping the tag beside the digest
    /// (`name:tag@sha256:…`) keeps it readable.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM docker.io/library/alpine:3.20
    /// ```
    ///
    /// ## Use instead
    /// ```dockerfile
    /// FROM docker.io/library/alpine:3.20@sha256:…
    /// ```
    /// (`refit pin` resolves and writes digests; `refit pin --lock` writes
    /// only `refit.lock`, which this rule's fix reads.)
    ///
    /// ## Fix safety
    /// The fix adds the digest `refit.lock` recorded for the reference
    /// (only when there is an entry). It is safe when the reference is
    /// written at the site, unsafe when the edit lands in a value other
    /// lines may read (a Dockerfile `ARG` default).
    code: "TAG004",
    name: "missing-digest",
    severity: Warning,
    fix: Sometimes,
    summary: "No digest: the tag can move (fix from refit.lock)",
    check: check,
    opt_in: true,
}

fn check(rule: &Rule, site: &ImageSite, ctx: &RuleContext, out: &mut Vec<Diagnostic>) {
    let Some(reference) = site.reference() else {
        return;
    };
    if site.extra.build_output || reference.digest.is_some() {
        return;
    }
    // A chart in `Chart.yaml` or a helmfile release has no place for a
    // digest: Helm pins it in `Chart.lock` (its `digest:`), not here.
    if matches!(
        site.kind,
        crate::site::SiteKind::HelmChartDependency | crate::site::SiteKind::Helmfile
    ) {
        return;
    }
    let key = crate::online::resolve::key_of(reference);
    let mut d = rule.report(site, format!("Image `{}` has no digest", reference.input()));
    let entry = ctx.lock.and_then(|l| l.get(&key));
    match entry {
        Some(entry) => {
            let end = reference.tag.map_or(reference.path.end, |t| t.end);
            let range = Span::new(end, end);
            let content = format!("@{}", entry.digest);
            let fixed = preview(reference.input(), range, &content);
            // An edit outside the site (an ARG default) is unsafe: other
            // instructions may read the same value.
            let inside = site
                .map_to_file(range)
                .is_some_and(|s| site.span.start <= s.start && s.end <= site.span.end);
            // A chart value the templates join more to (`:{{ .Values.tag }}`)
            // or write in a way refit did not follow: `@digest` inside it
            // may not end the rendered reference.
            let rendered_plain = site
                .extra
                .rendered
                .is_none_or(|j| j.found() && !j.joined_after());
            let applicability = if inside && rendered_plain {
                Applicability::Safe
            } else {
                Applicability::Unsafe
            };
            d.fix = replace_in_reference(
                site,
                range,
                content,
                format!("Pin `{fixed}` (from refit.lock)"),
                applicability,
            );
            d.help = Some(if rendered_plain {
                format!("refit.lock has `{key}` at {}", entry.digest)
            } else {
                format!(
                    "refit.lock has `{key}` at {}; the chart's templates write more after this value, or write it in a way refit did not follow, so `@digest` here may not end the rendered reference",
                    entry.digest
                )
            });
        }
        None => {
            d.help = Some(
                "run `refit pin` to write digests, or `refit pin --lock` to record them in refit.lock"
                    .to_string(),
            );
        }
    }
    out.push(d);
}
