use super::{Rule, RuleContext, declare_rule};
use crate::diagnostic::Diagnostic;
use crate::site::ImageSite;

declare_rule! {
    /// ## What it does
    /// Flags `# refit: ignore[…]` and `# refit: ignore-file[…]` comments
    /// that suppress nothing: the finding they were written for is gone, or
    /// the code is wrong. Only codes of rules that ran are considered, and
    /// hadolint's own `# hadolint ignore=` comments are never flagged.
    ///
    /// Suppression comments: `# refit: ignore[REG001,TAG002]` at the end of
    /// a line covers that line; on a line of its own it covers the next line
    /// (in a Dockerfile, the instruction that follows).
    /// `# refit: ignore-file[CODE]` covers the whole file, and
    /// `# refit: ignore-directives[CODE]` right after a Dockerfile's parser
    /// directives covers the lines above it (`# syntax=`). Codes may be
    /// prefixes (`REG`) or `ALL`. hadolint's `# hadolint ignore=DL3006,DL3007`
    /// is honoured for the rules that map to refit's (DL3006 → TAG001,
    /// DL3007 → TAG002, DL3026 → REG005).
    ///
    /// ## Why is this bad?
    /// A stale suppression hides the next real finding on that line, and
    /// readers take it as a sign that something there needs care.
    ///
    /// ## Example
    /// ```dockerfile
    /// # refit: ignore[TAG002]
    /// FROM docker.io/library/node:22.11.0
    /// ```
    ///
    /// ## Use instead
    /// ```dockerfile
    /// FROM docker.io/library/node:22.11.0
    /// ```
    ///
    /// ## Fix safety
    /// Safe: removing a comment that suppresses nothing changes no finding.
    /// The fix is offered only when every code in the comment is unused.
    code: "SUP001",
    name: "unused-suppression",
    severity: Warning,
    fix: Sometimes,
    summary: "A suppression comment that suppresses nothing",
    check: check,
}

/// Suppressions are found in the text, not at image sites: see
/// `crate::suppress`.
fn check(_rule: &Rule, _site: &ImageSite, _ctx: &RuleContext, _out: &mut Vec<Diagnostic>) {}
