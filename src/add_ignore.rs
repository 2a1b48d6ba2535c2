//! `--add-ignore`: write a suppression comment for every current finding,
//! for adopting refit in a large repository.

use crate::diagnostic::{Diagnostic, Edit, LineIndex};
use crate::fix::apply_edits;
use crate::kind::FileKind;
use crate::site::Span;
use std::collections::BTreeMap;

/// The edits that suppress `diagnostics` in `text`: for a Dockerfile, a
/// comment line before the flagged line (for a finding on a parser
/// directive, `ignore-directives` right after them, which covers only the
/// lines above it); for YAML and TOML, a comment at the end of the line
/// (`//` in `devcontainer.json`).
pub fn edits(kind: FileKind, text: &str, diagnostics: &[Diagnostic]) -> Vec<Edit> {
    let index = LineIndex::new(text);
    let mut by_line: BTreeMap<usize, Vec<&'static str>> = BTreeMap::new();
    for d in diagnostics {
        if !d.is_finding() || d.code == "SUP001" {
            continue;
        }
        let codes = by_line.entry(index.line_of(d.span.start)).or_default();
        if !codes.contains(&d.code) {
            codes.push(d.code);
        }
    }
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let crlf = text.contains("\r\n");
    let newline = if crlf { "\r\n" } else { "\n" };
    let mut edits = Vec::new();
    let mut file_wide: Vec<&'static str> = Vec::new();
    for (line, codes) in by_line {
        let list = codes.join(",");
        // A comment goes after a byte order mark, never before it.
        let start = index.line_start(line).max(bom);
        let end = index.line_end(line).max(start);
        let content = text[start..end].trim_end_matches(['\n', '\r']);
        if kind == FileKind::Dockerfile {
            let trimmed = content.trim_start();
            // A comment line before a directive would end the directives.
            if trimmed.starts_with('#') {
                file_wide.extend(codes);
                continue;
            }
            let indent = &content[..content.len() - trimmed.len()];
            edits.push(Edit {
                span: Span::new(start, start),
                content: format!("{indent}# refit: ignore[{list}]{newline}"),
            });
        } else {
            let at = start + content.len();
            // JSON with comments (`devcontainer.json`) comments with `//`.
            let mark = if kind == FileKind::Devcontainer {
                "//"
            } else {
                "#"
            };
            edits.push(Edit {
                span: Span::new(at, at),
                content: format!("  {mark} refit: ignore[{list}]"),
            });
        }
    }
    if !file_wide.is_empty() {
        // After the leading comment block (the parser directives): it
        // covers the lines above it, not the file.
        let mut line = 0;
        while line < index.line_count() {
            let l = &text[index.line_start(line).max(bom)..index.line_end(line).max(bom)];
            if !l.trim_start().starts_with('#') {
                break;
            }
            line += 1;
        }
        let at = index.line_start(line).max(bom);
        file_wide.sort_unstable();
        file_wide.dedup();
        edits.push(Edit {
            span: Span::new(at, at),
            content: format!(
                "# refit: ignore-directives[{}]{newline}",
                file_wide.join(",")
            ),
        });
    }
    edits.sort();
    edits
}

/// The text with the suppressions added.
pub fn add(kind: FileKind, text: &str, diagnostics: &[Diagnostic]) -> Option<String> {
    let edits = edits(kind, text, diagnostics);
    (!edits.is_empty()).then(|| apply_edits(text, &edits))
}
