//! Diagnostics, fixes and positions.

use crate::site::Span;
use serde::Serialize;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// Whether applying a fix keeps the meaning of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    /// Same image, same content: applied by `--fix`.
    Safe,
    /// A change a human must review: applied only with `--unsafe-fixes`.
    Unsafe,
}

/// Replace the bytes in `span` with `content`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Edit {
    pub span: Span,
    pub content: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fix {
    /// Imperative, showing the result: ``Qualify as `docker.io/library/node:20` ``.
    pub title: String,
    pub applicability: Applicability,
    pub edits: Vec<Edit>,
    /// The fix turns one image reference into something that is not one
    /// (REF005: `COPY --from=bulid` → the stage `build`), so the fix loop
    /// expects one reference fewer.
    pub removes_reference: bool,
}

impl Fix {
    pub fn new(title: String, applicability: Applicability, edits: Vec<Edit>) -> Fix {
        let mut edits = edits;
        edits.sort();
        Fix {
            title,
            applicability,
            edits,
            removes_reference: false,
        }
    }
}

/// What a diagnostic is, set where it is made: the emitters, the exit
/// status, baselines and suppressions treat the three differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DiagnosticKind {
    /// A rule's finding about the file's content.
    Finding,
    /// The file could not be checked or fixed (`E…`): exit status 2.
    FileError,
    /// How the file was read (`N…`): information, never a problem.
    Note,
}

/// One finding, per-file error or note in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub kind: DiagnosticKind,
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub message: String,
    pub span: Span,
    pub help: Option<String>,
    pub fix: Option<Fix>,
    /// Where the finding is in a YAML document (`services.web.image`).
    pub yaml_path: Option<String>,
}

impl Diagnostic {
    /// A per-file error (`E…`) that stopped the file from being checked or
    /// fixed; its name comes from `FILE_ERRORS`.
    pub fn file_error(code: &'static str, message: String, span: Span) -> Diagnostic {
        Diagnostic {
            kind: DiagnosticKind::FileError,
            code,
            name: error_name(code),
            severity: Severity::Error,
            message,
            span,
            help: None,
            fix: None,
            yaml_path: None,
        }
    }

    /// A note (`N…`): information about how a file was read, never a
    /// problem; it does not change the exit status.
    pub fn note(code: &'static str, message: String) -> Diagnostic {
        Diagnostic {
            kind: DiagnosticKind::Note,
            severity: Severity::Info,
            ..Diagnostic::file_error(code, message, Span::new(0, 0))
        }
    }

    /// A note about how a file was read (`N001`, `N002`): not a problem.
    pub fn is_note(&self) -> bool {
        self.kind == DiagnosticKind::Note
    }

    /// A per-file error (`E001`…): the file was not checked or not fixed.
    pub fn is_file_error(&self) -> bool {
        self.kind == DiagnosticKind::FileError
    }

    /// A rule's finding: neither a per-file error nor a note.
    pub fn is_finding(&self) -> bool {
        self.kind == DiagnosticKind::Finding
    }

    pub fn sort_key(&self) -> (usize, usize, &'static str, &str) {
        (self.span.start, self.span.end, self.code, &self.message)
    }
}

/// Line starts of a text, computed once, for fast offset → line/column.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
    len: usize,
}

/// A 1-based line and column; the column counts Unicode scalar values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        LineIndex {
            starts,
            len: text.len(),
        }
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// 0-based line containing `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        let offset = offset.min(self.len);
        match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        }
    }

    pub fn line_start(&self, line: usize) -> usize {
        self.starts.get(line).copied().unwrap_or(self.len)
    }

    /// End of `line`, including its line terminator.
    pub fn line_end(&self, line: usize) -> usize {
        self.starts.get(line + 1).copied().unwrap_or(self.len)
    }

    /// 1-based position; a BOM at the start of the file is not counted.
    pub fn position(&self, text: &str, offset: usize) -> Position {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let line = self.line_of(offset);
        let mut start = self.line_start(line);
        if line == 0 && text.starts_with('\u{feff}') && offset >= 3 {
            start = 3;
        }
        let column = text.get(start..offset).map_or(0, |s| s.chars().count()) + 1;
        Position {
            line: line + 1,
            column,
        }
    }
}

pub fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    offset = offset.min(text.len());
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Per-file errors: reported like findings so every format carries them.
pub static FILE_ERRORS: &[(&str, &str, &str)] = &[
    (
        "E001",
        "io-error",
        "The file could not be read (missing, unreadable, a folder, permission denied).",
    ),
    (
        "E002",
        "not-text",
        "The file is not UTF-8 text, or contains NUL bytes (a binary file).",
    ),
    (
        "E003",
        "too-large",
        "The file is larger than the size limit (`--max-file-size`, 10 MiB by default).",
    ),
    (
        "E004",
        "syntax-error",
        "The file does not parse; the error points at the position of the problem.",
    ),
    (
        "E005",
        "fix-error",
        "refit's fixes for the file were refused: the result did not parse, changed the number of image references, or did not converge. Nothing was written.",
    ),
    (
        "E006",
        "changed-during-fix",
        "The file changed between refit reading it and writing its fixes (its size, modification time or content moved). Your version is kept and nothing was written; run again.",
    ),
    (
        "E010",
        "registry-error",
        "`--online`: a registry could not be asked about a reference (unreachable, timed out, an unexpected answer).",
    ),
    (
        "N001",
        "templated-file-skipped",
        "A note, not an error: the file has template expressions (`{{ … }}`) that make it invalid YAML, so refit did not read it as YAML. It still reports the lines that are plainly `image: <reference>`, as line-matching tools do; fixes are not applied to them. The exit status is unaffected.",
    ),
    (
        "N002",
        "not-fixed-encoding",
        "A note, not an error: the file is UTF-16 or UTF-32 (it has that byte-order mark). refit decodes and checks it, but does not write fixes to it, since it writes only UTF-8. The exit status is unaffected.",
    ),
];

pub fn error_name(code: &str) -> &'static str {
    FILE_ERRORS
        .iter()
        .find(|(c, _, _)| *c == code)
        .map_or("error", |(_, n, _)| n)
}

/// A per-file error that stopped the file from being checked.
pub fn file_error(code: &'static str, message: String, span: Span) -> Diagnostic {
    Diagnostic::file_error(code, message, span)
}

/// A note (code `N…`): information about how a file was read, never a
/// problem; it does not change the exit status.
pub fn file_note(code: &'static str, message: String) -> Diagnostic {
    Diagnostic::note(code, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_is_set_where_the_diagnostic_is_made() {
        let error = Diagnostic::file_error("E004", "bad".to_string(), Span::new(0, 1));
        assert_eq!(error.kind, DiagnosticKind::FileError);
        assert!(error.is_file_error() && !error.is_finding() && !error.is_note());

        let note = Diagnostic::note("N001", "templated".to_string());
        assert_eq!(note.kind, DiagnosticKind::Note);
        assert!(note.is_note() && !note.is_finding() && !note.is_file_error());

        let rule = crate::rules::RULES[0];
        let finding = rule.report_at(Span::new(0, 1), "found".to_string());
        assert_eq!(finding.kind, DiagnosticKind::Finding);
        assert!(finding.is_finding() && !finding.is_note() && !finding.is_file_error());
    }

    #[test]
    fn kind_does_not_depend_on_the_code() {
        // A rule whose code began with `E` or `N` is still a finding.
        let mut finding = crate::rules::RULES[0].report_at(Span::new(0, 1), "found".to_string());
        finding.code = "EXT001";
        assert!(finding.is_finding());
        finding.code = "NET001";
        assert!(finding.is_finding());
    }
}
