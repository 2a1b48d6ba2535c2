//! GitHub Actions workflow commands (`::error file=…::message`).

use super::common::positions;
use super::paths::repo_relative;
use crate::diagnostic::{LineIndex, Severity};
use crate::engine::FileReport;
use std::fmt::Write;

/// Escape a command's data as GitHub's toolkit does.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a property value as GitHub's toolkit does.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Findings by level, and files with findings, for the closing line.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    errors: usize,
    warnings: usize,
    notices: usize,
    files: usize,
}

/// One file's annotations.
pub fn file(out: &mut String, report: &FileReport, counts: &mut Counts) {
    let index = report.current_text().map(LineIndex::new);
    let path = repo_relative(report);
    if !report.diagnostics.is_empty() {
        counts.files += 1;
    }
    for d in &report.diagnostics {
        let (start, end) = positions(report, index.as_ref(), d.span);
        let level = match d.severity {
            Severity::Error => {
                counts.errors += 1;
                "error"
            }
            Severity::Warning => {
                counts.warnings += 1;
                "warning"
            }
            Severity::Info => {
                counts.notices += 1;
                "notice"
            }
        };
        let mut message = d.message.clone();
        if let Some(h) = &d.help {
            message.push_str(&format!("\nhelp: {h}"));
        }
        if let Some(f) = &d.fix {
            message.push_str(&format!("\nfix: {}", f.title));
        }
        let _ = writeln!(
            out,
            "::{level} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            escape_property(&path),
            start.line,
            start.column,
            end.line,
            end.column,
            escape_property(&format!("{} ({})", d.code, d.name)),
            escape_data(&message)
        );
    }
}

/// The closing line.
pub fn footer(c: &Counts) -> String {
    let Counts {
        errors,
        warnings,
        notices,
        files,
    } = *c;
    format!(
        "refit: {} problem{} ({errors} error{}, {warnings} warning{}, {notices} notice{}) in {files} file{}\n",
        errors + warnings + notices,
        if errors + warnings + notices == 1 {
            ""
        } else {
            "s"
        },
        if errors == 1 { "" } else { "s" },
        if warnings == 1 { "" } else { "s" },
        if notices == 1 { "" } else { "s" },
        if files == 1 { "" } else { "s" },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_toolkit() {
        assert_eq!(escape_data("50% a\r\nb: c, d"), "50%25 a%0D%0Ab: c, d");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }
}
