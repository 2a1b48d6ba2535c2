//! One emitter per output format. Emitters return text; the CLI prints it.

mod concise;
mod github;
mod gitlab;
mod human;
mod json;
mod junit;
pub mod paths;
mod rdjson;
pub mod review;
pub mod sarif;

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
    /// reviewdog's diagnostic format, fixes as suggestions.
    Rdjson,
    /// reviewdog's diagnostic format, one diagnostic per line.
    Rdjsonl,
    /// Markdown for a pull-request comment, with suggestion blocks.
    Review,
    /// JUnit XML.
    Junit,
    /// GitLab Code Quality JSON.
    Gitlab,
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
        Format::Rdjson => rdjson::render(reports, options),
        Format::Rdjsonl => rdjson::render_lines(reports, options),
        Format::Review => review::render(reports, options),
        Format::Junit => junit::render(reports, options),
        Format::Gitlab => gitlab::render(reports, options),
    }
}

/// `--statistics`: findings per rule, most frequent first.
pub fn statistics(reports: &[FileReport]) -> String {
    let mut counts: std::collections::BTreeMap<(&'static str, &'static str), (usize, usize)> =
        std::collections::BTreeMap::new();
    for d in reports.iter().flat_map(|r| &r.diagnostics) {
        let e = counts.entry((d.code, d.name)).or_default();
        e.0 += 1;
        if d.fix.is_some() {
            e.1 += 1;
        }
    }
    let mut rows: Vec<_> = counts.into_iter().collect();
    rows.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(&b.0)));
    let mut out = String::new();
    for ((code, name), (n, fixable)) in rows {
        let mark = if fixable > 0 { "[*]" } else { "   " };
        out.push_str(&format!("{n:>6}  {code:<7} {mark} {name}\n"));
    }
    out
}

/// `--show-fixes`: what `--fix` changed, by file.
pub fn show_fixes(reports: &[FileReport]) -> String {
    let mut out = String::new();
    let total: usize = reports.iter().map(|r| r.applied.len()).sum();
    if total == 0 {
        return out;
    }
    out.push_str(&format!(
        "\nFixed {total} problem{}:\n",
        if total == 1 { "" } else { "s" }
    ));
    for r in reports.iter().filter(|r| !r.applied.is_empty()) {
        out.push_str(&format!("- {}:\n", r.display));
        let mut by: std::collections::BTreeMap<(&str, &str), usize> =
            std::collections::BTreeMap::new();
        for a in &r.applied {
            *by.entry((a.code, a.title.as_str())).or_default() += 1;
        }
        for ((code, title), n) in by {
            out.push_str(&format!("    {n} × {code} ({title})\n"));
        }
    }
    out
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
        } else if word.ends_with('x') {
            format!("{n} {word}es")
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
