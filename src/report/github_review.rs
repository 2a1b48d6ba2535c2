//! `--format github-review`: the JSON body of GitHub's "create a review for
//! a pull request" call (`POST /repos/{owner}/{repo}/pulls/{n}/reviews`),
//! so any script with a token can post it.
//!
//! Findings on lines of the change become comments there (`path`, `line`,
//! `side: RIGHT`, `start_line` for ranges), their fixes ```` ```suggestion ````
//! blocks; findings outside the change (GitHub rejects comments there) are
//! listed in the review body. Without `--diff-base` every line counts as
//! part of the change.

use super::links::help_uri;
use super::paths::repo_relative;
use crate::diagnostic::{Applicability, Diagnostic, LineIndex};
use crate::engine::FileReport;
use crate::fix::apply_edits;
use crate::gitdiff::Change;
use serde_json::{Value, json};
use std::fmt::Write;

/// The lines (1-based, inclusive) a diagnostic's fix replaces, and the
/// replacement lines.
fn suggestion(
    text: &str,
    index: &LineIndex,
    d: &Diagnostic,
    unsafe_fixes: bool,
) -> Option<(usize, usize, String)> {
    let fix = d.fix.as_ref()?;
    if fix.applicability == Applicability::Unsafe && !unsafe_fixes {
        return None;
    }
    let start = fix.edits.iter().map(|e| e.span.start).min()?;
    let end = fix.edits.iter().map(|e| e.span.end).max()?;
    let first = index.line_of(start);
    let last = index.line_of(end.max(start + 1).saturating_sub(1).max(start));
    let line_start = index.line_start(first);
    let line_end = index.line_end(last);
    let fixed = apply_edits(text, &fix.edits);
    // The same lines in the fixed text: everything after them is unchanged.
    let tail = text.len().saturating_sub(line_end);
    let replacement = fixed.get(line_start..fixed.len().saturating_sub(tail))?;
    Some((first + 1, last + 1, replacement.to_string()))
}

fn code_link(d: &Diagnostic) -> String {
    let code = d.code;
    match help_uri(d) {
        Some(url) => format!("[{code}]({url})"),
        None => format!("`{code}`"),
    }
}

/// One file's part of the review: its comments on changed lines, its
/// lines for the review body (findings outside the change), and how many
/// findings it had.
pub fn file(
    report: &FileReport,
    change: Option<&Change>,
    unsafe_fixes: bool,
    comments: &mut Vec<Value>,
    outside: &mut Vec<String>,
) -> usize {
    let mut total = 0usize;
    let Some(text) = report.current_text() else {
        for d in &report.diagnostics {
            total += 1;
            outside.push(format!(
                "- `{}`: {} {}",
                report.display,
                code_link(d),
                d.message
            ));
        }
        return total;
    };
    let index = LineIndex::new(text);
    let path = repo_relative(report);
    let changed = change.and_then(|c| {
        report
            .path
            .as_ref()
            .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone()))
            .and_then(|p| c.files.get(&p))
    });
    let in_change = |first: usize, last: usize| match change {
        None => true,
        Some(_) => changed.is_some_and(|l| {
            l.touches(first, last) && (first..=last).all(|n| l.whole_file || l.lines.contains(&n))
        }),
    };
    for d in &report.diagnostics {
        total += 1;
        let line = index.line_of(d.span.start) + 1;
        let mut body = format!("**{}** {}", code_link(d), d.message);
        if let Some(help) = &d.help {
            let _ = write!(body, "\n\n{help}");
        }
        // The comment sits on the lines its suggestion replaces.
        let (first, last, suggested) = match suggestion(text, &index, d, unsafe_fixes) {
            Some((f, l, r)) if in_change(f, l) => (f, l, Some(r)),
            _ => (line, line, None),
        };
        if !in_change(first, last) {
            outside.push(format!("- `{path}:{line}`: {} {}", code_link(d), d.message));
            continue;
        }
        if let Some(r) = &suggested {
            let title = d.fix.as_ref().map_or("", |f| f.title.as_str());
            let _ = write!(body, "\n\n{title}:\n```suggestion\n{r}");
            // An empty block deletes the lines; a newline in it would
            // leave one blank line in their place.
            if !r.is_empty() && !r.ends_with('\n') {
                body.push('\n');
            }
            body.push_str("```");
        }
        let mut comment = json!({
            "path": path,
            "line": last,
            "side": "RIGHT",
            "body": body,
        });
        if first < last {
            comment["start_line"] = json!(first);
            comment["start_side"] = json!("RIGHT");
        }
        comments.push(comment);
    }
    total
}

/// The review body before the lines outside the change.
pub fn body_head(total: usize, comments: usize, any_outside: bool) -> String {
    let mut body = String::from("## refit\n\n");
    if total == 0 {
        body.push_str("No problems found.\n");
    } else {
        let _ = writeln!(
            body,
            "{total} problem{} ({comments} on changed lines).",
            if total == 1 { "" } else { "s" },
        );
    }
    if any_outside {
        body.push_str("\nOutside the changed lines:\n\n");
    }
    body
}

/// A body line outside the change, as it goes in the body.
pub fn body_line(line: &str) -> String {
    format!("{line}\n")
}

/// Where the body's text goes in [`skeleton`].
pub const BODY_MARK: &str = "\u{1}refit-review-body\u{1}";

/// The review document with an empty `comments` array and [`BODY_MARK`]
/// (JSON-escaped) for the body, as `render` prints it.
pub fn skeleton(change: Option<&Change>) -> String {
    let mut doc = json!({
        "body": BODY_MARK,
        "event": "COMMENT",
        "comments": [],
    });
    if let Some(c) = change
        && !c.head.is_empty()
    {
        doc["commit_id"] = json!(c.head);
    }
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

/// Text as it goes inside a JSON string (without the quotes).
pub fn escaped(text: &str) -> String {
    let quoted = serde_json::to_string(text).unwrap_or_default();
    quoted
        .get(1..quoted.len().saturating_sub(1))
        .unwrap_or_default()
        .to_string()
}

pub fn render(reports: &[FileReport], change: Option<&Change>, unsafe_fixes: bool) -> String {
    let mut comments: Vec<Value> = Vec::new();
    let mut outside: Vec<String> = Vec::new();
    let mut total = 0usize;
    for report in reports {
        total += file(report, change, unsafe_fixes, &mut comments, &mut outside);
    }
    let mut body = body_head(total, comments.len(), !outside.is_empty());
    for line in &outside {
        body.push_str(&body_line(line));
    }
    let mut doc = json!({
        "body": body,
        "event": "COMMENT",
        "comments": comments,
    });
    if let Some(c) = change
        && !c.head.is_empty()
    {
        doc["commit_id"] = json!(c.head);
    }
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_default();
    out.push('\n');
    out
}
