use super::{Rule, RuleContext, declare_rule};
use crate::diagnostic::Diagnostic;
use crate::site::{ImageSite, SiteValue};
use crate::sources::common::{MAX_VALUE, OVER_LIMIT};

declare_rule! {
    /// ## What it does
    /// Flags image references built from variables that have no value: an
    /// `ARG` declared without a default, or a variable that was never
    /// declared before the first `FROM`. Also flags references whose
    /// expansion grows past 64 KiB (`ARG A=$A$A` repeated), which refit
    /// does not build.
    ///
    /// ## Why is this bad?
    /// BuildKit expands an unset variable to the empty string, so the build
    /// either fails with `invalid reference format` or silently pulls a
    /// different image than intended. refit does not guess a value, so it
    /// cannot check the reference either.
    ///
    /// ## Example
    /// ```dockerfile
    /// ARG BASE
    /// FROM ${BASE}
    /// ```
    ///
    /// ## Use instead
    /// ```dockerfile
    /// ARG BASE=docker.io/library/node:22
    /// FROM ${BASE}
    /// ```
    /// or pass the value on the command line: `refit check --build-arg BASE=…`.
    code: "REF002",
    name: "unresolved-variable",
    severity: Warning,
    fix: None,
    summary: "A variable in an image reference has no value or default",
    check: check,
}

fn check(rule: &Rule, site: &ImageSite, _ctx: &RuleContext, out: &mut Vec<Diagnostic>) {
    let SiteValue::Unresolved { missing } = &site.value else {
        return;
    };
    if missing.iter().any(|m| m == OVER_LIMIT) {
        let mut d = rule.report(
            site,
            format!(
                "The reference expands to more than {} KiB (refit's limit), so refit does not resolve it",
                MAX_VALUE / 1024
            ),
        );
        d.help = Some(
            "variables that double themselves (`ARG A=$A$A`) grow past any useful image reference"
                .to_string(),
        );
        out.push(d);
        return;
    }
    let names = missing
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let noun = if missing.len() == 1 {
        "Variable"
    } else {
        "Variables"
    };
    let verb = if missing.len() == 1 { "has" } else { "have" };
    let mut d = rule.report(
        site,
        format!("{noun} {names} in `{}` {verb} no value", site.raw),
    );
    let first = missing.first().map(String::as_str).unwrap_or("NAME");
    d.help = Some(format!(
        "give the ARG a default before the first FROM (`ARG {first}=…`) or pass `--build-arg {first}=…`"
    ));
    out.push(d);
}
