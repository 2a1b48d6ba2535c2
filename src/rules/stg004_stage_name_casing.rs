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
    /// Not flagged if only Podman or Buildah builds it.
    ///
    /// ## Fix safety
    /// Safe: BuildKit compares stage names without case, so references to
    /// the stage (`COPY --from=BuildStage`, `--target BuildStage`) keep
    /// working. Unsafe if Podman may build it.
    code: "STG004",
    name: "stage-name-casing",
    severity: Warning,
    fix: Sometimes,
    summary: "A Dockerfile stage name that is not lowercase",
    check: no_site_check,
    check_file: check_file,
}

fn check_file(rule: &Rule, ctx: &RuleContext, out: &mut Vec<Diagnostic>) {
    let Some(graph) = &ctx.file.graph else {
        return;
    };
    // The reason is BuildKit's: a file only Podman or Buildah builds
    // uses the name as written.
    let supplied = ctx.file.supplied_args.as_ref();
    if supplied.is_some_and(|s| s.containers_only.is_some()) {
        return;
    }
    let podman = supplied.and_then(|s| s.containers_builder.as_deref());
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
        let applicability = match podman {
            Some(by) => {
                d.help = Some(format!(
                    "`{by}` builds it with Podman or Buildah, which match `--target` and `--from` by the name as written"
                ));
                Applicability::Unsafe
            }
            None => Applicability::Safe,
        };
        d.fix = Some(Fix::new(
            format!("Rename to `{lower}`"),
            applicability,
            vec![Edit {
                span: *span,
                content: lower,
            }],
        ));
        out.push(d);
    }
}
