//! reviewdog's Diagnostic Format (rdjson / rdjsonl), with fixes as
//! suggestions so `reviewdog -reporter=github-pr-review` posts them as
//! suggested changes.

use super::links::help_uri;
use super::paths::repo_relative;
use crate::diagnostic::{Diagnostic, LineIndex, Severity};
use crate::engine::FileReport;
use crate::site::Span;
use serde_json::{Value, json};

/// 1-based line and UTF-8 byte column (reviewdog's convention).
fn byte_position(index: &LineIndex, offset: usize) -> (usize, usize) {
    let line = index.line_of(offset);
    (line + 1, offset - index.line_start(line) + 1)
}

fn range(index: &LineIndex, span: Span) -> Value {
    let (sl, sc) = byte_position(index, span.start);
    let (el, ec) = byte_position(index, span.end);
    json!({"start": {"line": sl, "column": sc}, "end": {"line": el, "column": ec}})
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "ERROR",
        Severity::Warning => "WARNING",
        Severity::Info => "INFO",
    }
}

fn diagnostic(report: &FileReport, index: Option<&LineIndex>, d: &Diagnostic) -> Value {
    let path = repo_relative(report);
    let mut message = d.message.clone();
    if let Some(h) = &d.help {
        message.push_str(&format!("\nhelp: {h}"));
    }
    let mut value = json!({
        "message": message,
        "severity": severity(d.severity),
        "source": {"name": "refit"},
        "code": match help_uri(d) {
            Some(url) => json!({"value": d.code, "url": url}),
            None => json!({"value": d.code}),
        },
        "location": {"path": path},
    });
    let Some(index) = index else {
        return value;
    };
    value["location"]["range"] = range(index, d.span);
    // A suggestion must stay on the finding's lines, or reviewdog rejects
    // it; a fix elsewhere (an ARG default) is named in the message instead.
    if let Some(fix) = &d.fix {
        let first = index.line_of(d.span.start);
        let last = index.line_of(d.span.end);
        let inside = fix
            .edits
            .iter()
            .all(|e| index.line_of(e.span.start) >= first && index.line_of(e.span.end) <= last);
        if inside {
            value["suggestions"] = fix
                .edits
                .iter()
                .map(|e| json!({"range": range(index, e.span), "text": e.content}))
                .collect();
        } else {
            value["message"] = json!(format!("{message}\nfix: {}", fix.title));
        }
    }
    value
}

/// One file's diagnostics.
pub fn file(report: &FileReport) -> Vec<Value> {
    let index = report.current_text().map(LineIndex::new);
    report
        .diagnostics
        .iter()
        .map(|d| diagnostic(report, index.as_ref(), d))
        .collect()
}

/// The document, with an empty `diagnostics` array to splice into.
pub fn skeleton() -> String {
    let doc = json!({
        "source": match super::links::information_uri() {
            Some(url) => json!({"name": "refit", "url": url}),
            None => json!({"name": "refit"}),
        },
        "diagnostics": [],
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}
