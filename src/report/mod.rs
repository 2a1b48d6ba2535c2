//! One emitter per output format. Emitters return text; the CLI prints it.

mod concise;
mod github;
mod human;
mod json;
pub mod paths;
mod sarif;

use crate::diagnostic::{Applicability, LineIndex, Position};
use crate::engine::FileReport;

pub use human::IndexedSource;

/// Output formats of `refit check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Code frames with labels and help (miette).
    Human,
    /// One line per finding: `path:line:col: CODE message`.
    Concise,
    /// One JSON document (see the README for its shape).
    Json,
    /// SARIF 2.1.0 for GitHub code scanning, with fixes.
    Sarif,
    /// GitHub Actions annotations (workflow commands) and a summary line.
    Github,
}

/// How to render.
#[derive(Debug, Clone, Copy)]
pub struct RenderOptions {
    pub color: bool,
    /// Whether fixes were being applied (changes the summary wording).
    pub fixing: bool,
    pub unsafe_fixes: bool,
}

/// Render the reports of a run.
pub fn render(format: Format, reports: &[FileReport], options: &RenderOptions) -> String {
    match format {
        Format::Human => human::render(reports, options),
        Format::Concise => concise::render(reports, options),
        Format::Json => json::render(reports, options),
        Format::Sarif => sarif::render(reports, options),
        Format::Github => github::render(reports, options),
    }
}

/// Start and end positions of a span in a report's text.
pub(crate) fn positions(
    report: &FileReport,
    index: Option<&LineIndex>,
    span: crate::site::Span,
) -> (Position, Position) {
    match (report.current_text(), index) {
        (Some(text), Some(index)) => (
            index.position(text, span.start),
            index.position(text, span.end),
        ),
        _ => (
            Position { line: 1, column: 1 },
            Position { line: 1, column: 1 },
        ),
    }
}

/// The closing summary line of the human and concise formats.
pub(crate) fn summary(reports: &[FileReport], options: &RenderOptions) -> String {
    let remaining: usize = reports.iter().map(|r| r.diagnostics.len()).sum();
    let fixed: usize = reports.iter().map(|r| r.applied.len()).sum();
    let fixable = reports
        .iter()
        .flat_map(|r| &r.diagnostics)
        .filter_map(|d| d.fix.as_ref())
        .filter(|f| f.applicability == Applicability::Safe || options.unsafe_fixes)
        .count();
    let hidden_unsafe = reports
        .iter()
        .flat_map(|r| &r.diagnostics)
        .filter_map(|d| d.fix.as_ref())
        .filter(|f| f.applicability == Applicability::Unsafe && !options.unsafe_fixes)
        .count();
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("{n} {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    let mut out = if options.fixing {
        format!(
            "Found {} ({} fixed, {} remaining).",
            plural(remaining + fixed, "problem"),
            fixed,
            remaining
        )
    } else if remaining == 0 {
        "All checks passed!".to_string()
    } else {
        format!("Found {}.", plural(remaining, "problem"))
    };
    if !options.fixing && fixable > 0 {
        out.push_str(&format!(
            "\n[*] {} fixable with `refit check --fix{}`.",
            fixable,
            if options.unsafe_fixes {
                " --unsafe-fixes"
            } else {
                ""
            }
        ));
    }
    if hidden_unsafe > 0 {
        out.push_str(&format!(
            "\n{} available with `--unsafe-fixes`.",
            plural(hidden_unsafe, "hidden fix"),
        ));
    }
    out.push('\n');
    out
}
