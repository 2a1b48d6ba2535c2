//! JUnit XML: one test case per file, one failure per finding.

use super::{RenderOptions, positions};
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

pub fn render(reports: &[FileReport], _options: &RenderOptions) -> String {
    let failures: usize = reports.iter().map(|r| r.diagnostics.len()).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"refit\" tests=\"{}\" failures=\"{failures}\">",
        reports.len()
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"refit\" tests=\"{}\" failures=\"{failures}\">",
        reports.len()
    );
    for report in reports {
        let index = report.current_text().map(LineIndex::new);
        let _ = write!(
            out,
            "    <testcase name=\"{}\" classname=\"refit\"",
            xml(&report.display)
        );
        if report.diagnostics.is_empty() {
            out.push_str("/>\n");
            continue;
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
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}
