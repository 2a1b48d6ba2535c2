//! Markdown for a pull-request comment: findings grouped by file, each with
//! its rule link, and the fixes as GitHub `suggestion` blocks, each covering
//! exactly the lines it replaces.

use super::common::positions;
use super::links::help_uri;
use super::paths::repo_relative;
use crate::diagnostic::LineIndex;
use crate::engine::FileReport;
use std::fmt::Write;

/// The changed line ranges between two texts: (first line, last line,
/// 1-based inclusive, in `old`) and the replacement lines.
pub fn hunks(old: &str, new: &str) -> Vec<(usize, usize, String)> {
    let diff = similar::TextDiff::from_lines(old, new);
    let mut out: Vec<(usize, usize, String)> = Vec::new();
    for op in diff.ops() {
        if matches!(op, similar::DiffOp::Equal { .. }) {
            continue;
        }
        let old_range = op.old_range();
        let new_range = op.new_range();
        let replacement: String = new_range.filter_map(|i| diff.new_slice(i)).collect();
        // Every fix edits inside existing lines, so a hunk replaces lines.
        let first = old_range.start + 1;
        let last = old_range.end.max(old_range.start + 1);
        out.push((first, last, replacement));
    }
    out
}

pub const HEADER: &str = "## refit\n\n";

/// One file's findings and suggested changes.
pub fn file(out: &mut String, report: &FileReport) {
    if report.diagnostics.is_empty() {
        return;
    }
    let index = report.current_text().map(LineIndex::new);
    let _ = writeln!(out, "### `{}`\n", repo_relative(report));
    for d in &report.diagnostics {
        let (start, _) = positions(report, index.as_ref(), d.span);
        let fixable = if d.fix.is_some() { " (fixable)" } else { "" };
        let code = match help_uri(d) {
            Some(url) => format!("[{}]({url})", d.code),
            None => format!("`{}`", d.code),
        };
        let _ = writeln!(out, "- line {}: {code} {}{fixable}", start.line, d.message);
    }
    out.push('\n');
    if let (Some(old), Some(new)) = (&report.source, &report.suggested) {
        for (first, last, replacement) in hunks(old, new) {
            let lines = if first == last {
                format!("line {first}")
            } else {
                format!("lines {first}–{last}")
            };
            let _ = writeln!(out, "Suggested change for {lines}:\n");
            out.push_str("```suggestion\n");
            out.push_str(&replacement);
            if !replacement.ends_with('\n') {
                out.push('\n');
            }
            out.push_str("```\n\n");
        }
    }
}

/// The closing line.
pub fn footer(total: usize) -> String {
    if total == 0 {
        return "No problems found.\n".to_string();
    }
    format!("{} problem{}.\n", total, if total == 1 { "" } else { "s" })
}
