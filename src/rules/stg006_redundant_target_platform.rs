use super::{Rule, RuleContext, declare_rule, no_site_check};
use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix};
use crate::site::Span;

declare_rule! {
    /// ## What it does
    /// Flags `FROM --platform=$TARGETPLATFORM` (or `${TARGETPLATFORM}`).
    /// BuildKit's build check: **RedundantTargetPlatform**.
    ///
    /// ## Why is this bad?
    /// A stage's base is pulled for the target platform by default; the
    /// flag says nothing and suggests a choice was made.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM --platform=$TARGETPLATFORM alpine:3.20
    /// ```
    ///
    /// ## Use instead
    /// ```dockerfile
    /// FROM alpine:3.20
    /// ```
    ///
    /// ## Fix safety
    /// Safe: the fix removes the flag, which changes nothing BuildKit does.
    /// It is offered only when the flag is written on the `FROM` line.
    code: "STG006",
    name: "redundant-target-platform",
    severity: Warning,
    fix: Sometimes,
    summary: "`FROM --platform=$TARGETPLATFORM`, which is the default",
    check: no_site_check,
    check_file: check_file,
}

const FLAG: &str = "--platform=";

fn check_file(rule: &Rule, ctx: &RuleContext, out: &mut Vec<Diagnostic>) {
    let (Some(graph), Some(text)) = (&ctx.file.graph, ctx.file.text.as_deref()) else {
        return;
    };
    for node in &graph.stages {
        let Some((platform, span)) = &node.platform else {
            continue;
        };
        if platform != "$TARGETPLATFORM" && platform != "${TARGETPLATFORM}" {
            continue;
        }
        let mut d = rule.report_at(
            *span,
            format!("Setting the platform to {platform} in FROM is redundant: it is the default"),
        );
        // The flag and the blanks after it, when written as one run.
        let start = span.start.checked_sub(FLAG.len());
        let written = start.and_then(|s| text.get(s..span.end));
        if let (Some(start), Some(written)) = (start, written)
            && written.len() == FLAG.len() + platform.len()
            && written[..FLAG.len()].eq_ignore_ascii_case(FLAG)
        {
            let rest = &text.as_bytes()[span.end..];
            let blanks = rest
                .iter()
                .take_while(|b| **b == b' ' || **b == b'\t')
                .count();
            if blanks > 0 {
                d.fix = Some(Fix::new(
                    "Remove `--platform`".to_string(),
                    Applicability::Safe,
                    vec![Edit {
                        span: Span::new(start, span.end + blanks),
                        content: String::new(),
                    }],
                ));
            }
        }
        out.push(d);
    }
}
