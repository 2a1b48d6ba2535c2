use super::{Rule, RuleContext, declare_rule, no_site_check};
use crate::diagnostic::Diagnostic;

declare_rule! {
    /// ## What it does
    /// Flags a stage name used by an earlier stage too (compared without
    /// case, as BuildKit compares them). BuildKit's build check:
    /// **DuplicateStageName**, reported on the later stage.
    ///
    /// ## Why is this bad?
    /// `COPY --from=name`, `FROM name` and `--target name` pick one of the
    /// stages (the earlier one for `COPY --from`, the last for `FROM` in
    /// later stages), so one of them is not the stage the reader expects,
    /// and refit's stage model (STG001, BASE001) cannot tell them apart.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM golang:1.23 AS build
    /// FROM node:22 AS build
    /// ```
    ///
    /// ## Use instead
    /// ```dockerfile
    /// FROM golang:1.23 AS build-go
    /// FROM node:22 AS build-web
    /// ```
    code: "STG002",
    name: "duplicate-stage-name",
    severity: Warning,
    fix: None,
    summary: "Two Dockerfile stages with the same name",
    check: no_site_check,
    check_file: check_file,
}

fn check_file(rule: &Rule, ctx: &RuleContext, out: &mut Vec<Diagnostic>) {
    let Some(graph) = &ctx.file.graph else {
        return;
    };
    // A set: a file of many stages stays linear.
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    for node in &graph.stages {
        let Some((name, span)) = &node.name else {
            continue;
        };
        let lower = name.to_ascii_lowercase();
        if seen.contains(lower.as_str()) {
            let mut d = rule.report_at(
                *span,
                format!(
                    "Stage name `{name}` is used by an earlier stage: stage names should be unique"
                ),
            );
            d.help = Some("rename one of the stages and the references to it".to_string());
            out.push(d);
        } else {
            seen.insert(lower);
        }
    }
}
