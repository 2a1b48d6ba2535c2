use super::{Rule, RuleContext, declare_rule, no_site_check};
use crate::diagnostic::Diagnostic;

declare_rule! {
    /// ## What it does
    /// Flags a stage name that BuildKit rejects: it must start with a
    /// letter and hold only letters, digits, `-`, `_` and `.`
    /// (`FROM alpine AS platform-arm/v7`). A name built from a variable
    /// (`AS ${NAME}`) is not checked.
    ///
    /// ## Why is this bad?
    /// `docker build` and `docker buildx build` stop before building with
    /// `invalid name for build stage`. Buildah and Podman accept such names,
    /// so the file may well be built by them on purpose: refit cannot tell
    /// which tool builds it, so this is a warning, not a parse error.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM docker.io/library/alpine:3.20 AS platform-arm/v7
    /// ```
    ///
    /// ## Use instead
    /// ```dockerfile
    /// FROM docker.io/library/alpine:3.20 AS platform-arm-v7
    /// ```
    code: "STG007",
    name: "invalid-stage-name",
    severity: Warning,
    fix: None,
    summary: "A Dockerfile stage name that BuildKit rejects (Buildah accepts it)",
    check: no_site_check,
    check_file: check_file,
}

/// BuildKit's stage name grammar: `^[a-z][a-z0-9-_.]*$`, without case.
pub fn valid_for_buildkit(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with(|c: char| c.is_ascii_lowercase())
        && lower
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
}

fn check_file(rule: &Rule, ctx: &RuleContext, out: &mut Vec<Diagnostic>) {
    let Some(graph) = &ctx.file.graph else {
        return;
    };
    for node in &graph.stages {
        let Some((name, span)) = &node.name else {
            continue;
        };
        if name.contains('$') || valid_for_buildkit(name) {
            continue;
        }
        let mut d = rule.report_at(
            *span,
            format!(
                "Stage name `{name}` is rejected by BuildKit (`invalid name for build stage`); Buildah and Podman accept it"
            ),
        );
        d.help = Some(
            "if `docker build` or buildx builds this file, rename the stage to letters, digits, \
             `-`, `_` and `.`, starting with a letter, and rename its uses"
                .to_string(),
        );
        out.push(d);
    }
}
