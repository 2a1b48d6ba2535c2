//! JUnit XML: one test case per file, one failure per finding.

use super::common::positions;
use crate::diagnostic::LineIndex;
use crate::engine::FileReport;
use std::fmt::Write;

fn xml(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&apos;".to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// The opening lines, once the counts are known.
pub fn header(files: usize, failures: usize) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"refit\" tests=\"{files}\" failures=\"{failures}\">"
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"refit\" tests=\"{files}\" failures=\"{failures}\">"
    );
    out
}

pub const FOOTER: &str = "  </testsuite>\n</testsuites>\n";

/// One file's test case.
pub fn file(out: &mut String, report: &FileReport) {
    let index = report.current_text().map(LineIndex::new);
    let _ = write!(
        out,
        "    <testcase name=\"{}\" classname=\"refit\"",
        xml(&report.display)
    );
    if report.diagnostics.is_empty() {
        out.push_str("/>\n");
        return;
    }
    out.push_str(">\n");
    for d in &report.diagnostics {
        let (start, _) = positions(report, index.as_ref(), d.span);
        let _ = writeln!(
            out,
            "      <failure type=\"{}\" message=\"{}\">{}:{}:{}: {} {}</failure>",
            d.code,
            xml(&d.message),
            xml(&report.display),
            start.line,
            start.column,
            d.code,
            xml(&d.message)
        );
    }
    out.push_str("    </testcase>\n");
}
