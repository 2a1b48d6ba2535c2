use super::common::positions;
use super::escape::terminal;
use crate::diagnostic::LineIndex;
use crate::engine::FileReport;
use std::fmt::Write;

/// One file's lines: `path:line:col: CODE severity: message`, hadolint's
/// order after the compilers' location, so `--fail-level` can be read (and
/// grepped: `: REG001 `, ` error: `) off each line.
pub fn file(out: &mut String, report: &FileReport) {
    let index = report.current_text().map(LineIndex::new);
    for d in &report.diagnostics {
        let (start, _) = positions(report, index.as_ref(), d.span);
        // A note never fails a run, whatever its severity says.
        let level = if d.is_note() {
            "note"
        } else {
            d.severity.as_str()
        };
        let _ = writeln!(
            out,
            "{}:{}:{}: {} {level}: {}",
            terminal(&report.display),
            start.line,
            start.column,
            d.code,
            terminal(&d.message)
        );
    }
}
