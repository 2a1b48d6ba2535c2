//! GitHub Actions workflow commands (`::error file=…::message`).

use super::paths::repo_relative;
use super::{RenderOptions, positions};
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

pub fn render(reports: &[FileReport], _options: &RenderOptions) -> String {
    let mut out = String::new();
    let (mut errors, mut warnings, mut notices, mut files) = (0, 0, 0, 0);
    for report in reports {
        let index = report.current_text().map(LineIndex::new);
        let path = repo_relative(report);
        if !report.diagnostics.is_empty() {
            files += 1;
        }
        for d in &report.diagnostics {
            let (start, end) = positions(report, index.as_ref(), d.span);
            let level = match d.severity {
                Severity::Error => {
                    errors += 1;
                    "error"
                }
                Severity::Warning => {
                    warnings += 1;
                    "warning"
                }
                Severity::Info => {
                    notices += 1;
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
    // GitHub shows only 10 annotations of each level per step.
    let _ = writeln!(
        out,
        "refit: {} problem{} ({errors} error{}, {warnings} warning{}, {notices} notice{}) in {files} file{}",
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
    );
    out
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
