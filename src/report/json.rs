use super::common::positions;
use crate::diagnostic::{Applicability, LineIndex, Position, Severity};
use crate::engine::FileReport;
use crate::site::Span;
use serde::Serialize;

/// Bumped whenever the shape changes incompatibly.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    tool: Tool,
    files_checked: usize,
    diagnostics: Vec<JsonDiagnostic<'a>>,
    fixed: Vec<JsonApplied<'a>>,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    path: &'a str,
    code: &'static str,
    name: &'static str,
    severity: Severity,
    message: &'a str,
    help: Option<&'a str>,
    /// Where in a YAML document, for YAML sources.
    yaml_path: Option<&'a str>,
    span: Span,
    start: Position,
    end: Position,
    fix: Option<JsonFix<'a>>,
}

#[derive(Serialize)]
struct JsonFix<'a> {
    title: &'a str,
    applicability: Applicability,
    edits: Vec<JsonEdit<'a>>,
}

#[derive(Serialize)]
struct JsonEdit<'a> {
    span: Span,
    start: Position,
    end: Position,
    content: &'a str,
}

#[derive(Serialize)]
struct JsonApplied<'a> {
    path: &'a str,
    code: &'static str,
    title: &'a str,
}

/// One file's diagnostics and applied fixes, each pretty-printed at the
/// depth of the document's arrays.
pub fn file(report: &FileReport, diagnostics: &mut Vec<String>, fixed: &mut Vec<String>) {
    let index = report.current_text().map(LineIndex::new);
    for d in &report.diagnostics {
        let (start, end) = positions(report, index.as_ref(), d.span);
        let fix = d.fix.as_ref().map(|f| JsonFix {
            title: &f.title,
            applicability: f.applicability,
            edits: f
                .edits
                .iter()
                .map(|e| {
                    let (start, end) = positions(report, index.as_ref(), e.span);
                    JsonEdit {
                        span: e.span,
                        start,
                        end,
                        content: &e.content,
                    }
                })
                .collect(),
        });
        diagnostics.push(super::common::pretty(
            &JsonDiagnostic {
                path: &report.display,
                code: d.code,
                name: d.name,
                severity: d.severity,
                message: &d.message,
                help: d.help.as_deref(),
                yaml_path: d.yaml_path.as_deref(),
                span: d.span,
                start,
                end,
                fix,
            },
            4,
        ));
    }
    for a in &report.applied {
        fixed.push(super::common::pretty(
            &JsonApplied {
                path: &report.display,
                code: a.code,
                title: &a.title,
            },
            4,
        ));
    }
}

/// The document with empty `diagnostics` and `fixed` arrays to splice into.
pub fn skeleton(files_checked: usize) -> String {
    let doc = Document {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: "refit",
            version: env!("CARGO_PKG_VERSION"),
        },
        files_checked,
        diagnostics: Vec::new(),
        fixed: Vec::new(),
    };
    serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".to_string())
}
