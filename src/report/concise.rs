use super::common::positions;
use super::escape::terminal;
use crate::diagnostic::LineIndex;
use crate::engine::FileReport;
use std::fmt::Write;

/// One file's lines.
pub fn file(out: &mut String, report: &FileReport) {
    let index = report.current_text().map(LineIndex::new);
    for d in &report.diagnostics {
        let (start, _) = positions(report, index.as_ref(), d.span);
        let _ = writeln!(
            out,
            "{}:{}:{}: {} {}",
            terminal(&report.display),
            start.line,
            start.column,
            d.code,
            terminal(&d.message)
        );
    }
}
