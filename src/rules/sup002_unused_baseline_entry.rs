use super::{Rule, RuleContext, declare_rule};
use crate::diagnostic::Diagnostic;
use crate::site::ImageSite;

declare_rule! {
    /// ## What it does
    /// Flags an entry of the baseline file (`--baseline`, or `baseline` in
    /// refit.toml) that matches no current finding: the finding was fixed,
    /// or the code it was about is gone. Only entries of files the run
    /// checked, of rules that ran on them, are judged: an entry of a rule
    /// turned off for its file (`--select`, `--ignore`, `select`, `ignore`,
    /// `per-file-ignores`), or of an online rule in a run without
    /// `--online`, is kept as it is.
    ///
    /// ## Why is this bad?
    /// A baseline should only shrink. A stale entry would hide the next
    /// finding with the same fingerprint, and keeps the file larger than
    /// the debt it records.
    ///
    /// ## Example
    /// ```json
    /// {"file":"Dockerfile","code":"REG001","fingerprint":"5c1e…","message":"…"}
    /// ```
    /// when `Dockerfile` no longer has that finding.
    ///
    /// ## Use instead
    /// Remove the entry (`refit check --fix --baseline FILE`), or write the
    /// baseline again with `--write-baseline`.
    ///
    /// ## Fix safety
    /// Safe: the entry hides nothing, so removing it changes no finding.
    /// Each entry's fix removes its line and one comma, and the fixes of
    /// several entries can be applied together. When every entry of the
    /// list is stale, the last entry's fix needs the comma the fix of the
    /// entry before it removes too, so that one is unsafe: applying every
    /// safe fix leaves the last entry alone, and the next run removes it.
    /// `--fix` removes every stale entry at once.
    code: "SUP002",
    name: "unused-baseline-entry",
    severity: Warning,
    fix: Always,
    summary: "A baseline entry that matches no finding",
    check: check,
}

/// Baseline entries are judged by the run, not at image sites: see
/// `crate::baseline`.
fn check(_rule: &Rule, _site: &ImageSite, _ctx: &RuleContext, _out: &mut Vec<Diagnostic>) {}
