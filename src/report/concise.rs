use super::escape::terminal;
use super::{RenderOptions, positions, summary};
use crate::diagnostic::LineIndex;
use crate::engine::FileReport;
use std::fmt::Write;

pub fn render(reports: &[FileReport], options: &RenderOptions) -> String {
    let mut out = String::new();
    for report in reports {
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
    out.push_str(&summary(reports, options));
    out
}
