use super::{Rule, RuleContext, declare_rule, no_site_check};
use crate::diagnostic::Diagnostic;

declare_rule! {
    /// ## What it does
    /// Flags a stage named `scratch` or `context`, names BuildKit reserves.
    /// BuildKit's build check: **ReservedStageName**.
    ///
    /// ## Why is this bad?
    /// `FROM scratch` means the empty image and `context` is the build
    /// context's name for named contexts: a stage with either name makes
    /// `FROM scratch` or `COPY --from=context` mean something else than it
    /// reads.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM alpine:3.20 AS scratch
    /// ```
    ///
    /// ## Use instead
    /// ```dockerfile
    /// FROM alpine:3.20 AS base
    /// ```
    code: "STG003",
    name: "reserved-stage-name",
    severity: Warning,
    fix: None,
    summary: "A Dockerfile stage named `scratch` or `context`",
    check: no_site_check,
    check_file: check_file,
}

/// The stage names BuildKit reserves.
const RESERVED: &[&str] = &["scratch", "context"];

fn check_file(rule: &Rule, ctx: &RuleContext, out: &mut Vec<Diagnostic>) {
    let Some(graph) = &ctx.file.graph else {
        return;
    };
    for node in &graph.stages {
        let Some((name, span)) = &node.name else {
            continue;
        };
        let lower = name.to_ascii_lowercase();
        if RESERVED.contains(&lower.as_str()) {
            let mut d = rule.report_at(
                *span,
                format!("Stage name `{name}` is reserved: `{lower}` already names something else"),
            );
            d.help = Some("give the stage another name".to_string());
            out.push(d);
        }
    }
}
