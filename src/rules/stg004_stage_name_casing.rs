use super::{Rule, RuleContext, declare_rule, no_site_check};
use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix};

declare_rule! {
    /// ## What it does
    /// Flags a stage name with uppercase letters. BuildKit's build check:
    /// **StageNameCasing**.
    ///
    /// ## Why is this bad?
    /// BuildKit lowercases stage names, so `AS Build` is the stage `build`:
    /// the name as written is not the name BuildKit uses in messages,
    /// `--target` and bake.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM golang:1.23 AS BuildStage
    /// ```
    ///
    /// ## Use instead
    /// ```dockerfile
    /// FROM golang:1.23 AS buildstage
    /// ```
    ///
    /// ## Fix safety
    /// Safe: BuildKit compares stage names without case, so references to
    /// the stage (`COPY --from=BuildStage`, `--target BuildStage`) keep
    /// working.
    code: "STG004",
    name: "stage-name-casing",
    severity: Warning,
    fix: Always,
    summary: "A Dockerfile stage name that is not lowercase",
    check: no_site_check,
    check_file: check_file,
}

fn check_file(rule: &Rule, ctx: &RuleContext, out: &mut Vec<Diagnostic>) {
    let Some(graph) = &ctx.file.graph else {
        return;
    };
    for node in &graph.stages {
        let Some((name, span)) = &node.name else {
            continue;
        };
        // A name built from a variable is not one refit reads.
        if name.contains('$') {
            continue;
        }
        let lower = name.to_ascii_lowercase();
        if lower == *name {
            continue;
        }
        let mut d = rule.report_at(*span, format!("Stage name `{name}` should be lowercase"));
        d.fix = Some(Fix::new(
            format!("Rename to `{lower}`"),
            Applicability::Safe,
            vec![Edit {
                span: *span,
                content: lower,
            }],
        ));
        out.push(d);
    }
}
