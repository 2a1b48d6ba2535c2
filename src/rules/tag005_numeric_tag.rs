use super::{Rule, RuleContext, declare_rule};
use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix};
use crate::site::{ImageSite, SiteKind};

declare_rule! {
    /// ## What it does
    /// Flags image tags in YAML written as plain scalars that YAML reads as
    /// numbers: `tag: 1.10` in Helm values, `newTag: 2.0` in a
    /// kustomization.
    ///
    /// ## Why is this bad?
    /// YAML parses `1.10` as the float 1.1, so the chart renders
    /// `image: app:1.1` and deploys a different version than the one
    /// written, or one that does not exist. Integers survive, but only by
    /// luck: `1.20` becomes `1.2`, `1e3` becomes `1000`.
    ///
    /// In a kustomization it is worse: kustomize converts the YAML to JSON
    /// and reads `newTag` into a string field, so a number makes it refuse
    /// to load the whole kustomization (`cannot unmarshal number into Go
    /// struct field Image.images.newTag of type string`).
    ///
    /// ## Example
    /// ```yaml
    /// image:
    ///   repository: docker.io/library/redis
    ///   tag: 7.10
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// image:
    ///   repository: docker.io/library/redis
    ///   tag: "7.10"
    /// ```
    ///
    /// ## Fix safety
    /// Safe: quoting keeps the text exactly as written, which is the tag the
    /// author meant.
    code: "TAG005",
    name: "numeric-tag",
    severity: Error,
    fix: Always,
    summary: "A YAML tag that parses as a number (`1.10` becomes `1.1`)",
    check: check,
}

/// How YAML's core schema reads a number, as a template prints it.
fn as_number(text: &str) -> Option<String> {
    let clean = text.replace('_', "");
    if let Ok(i) = clean.parse::<i64>() {
        return Some(i.to_string());
    }
    clean
        .parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .map(|f| f.to_string())
}

fn check(rule: &Rule, site: &ImageSite, _ctx: &RuleContext, out: &mut Vec<Diagnostic>) {
    for slot in &site.extra.numeric_tags {
        let read = as_number(&slot.value);
        let becomes = match &read {
            Some(n) if *n != slot.value => format!(", so it becomes `{n}`"),
            _ => String::new(),
        };
        let message = if site.kind == SiteKind::Kustomize {
            format!(
                "`newTag: {}` is a YAML number: kustomize refuses to load this kustomization (it reads `newTag` as a string); quote it",
                slot.value
            )
        } else {
            format!("Tag `{}` is a YAML number{becomes}; quote it", slot.value)
        };
        let mut d = rule.report(site, message);
        d.span = slot.span;
        d.fix = Some(Fix::new(
            format!("Quote as `\"{}\"`", slot.value),
            Applicability::Safe,
            vec![Edit {
                span: slot.span,
                content: format!("\"{}\"", slot.value),
            }],
        ));
        out.push(d);
    }
}
