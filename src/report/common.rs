//! What the emitters and the stream share: the format and options, the
//! closing totals, positions and pretty-printing. It imports no emitter, so
//! the emitters import it and `stream` imports the emitters, never back.

use crate::diagnostic::{Applicability, LineIndex, Position};
use crate::engine::FileReport;

/// Output formats of `refit check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Code frames with labels and help (miette).
    #[value(alias = "text", alias = "full")]
    Human,
    /// One line per finding: `path:line:col: CODE severity: message`.
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
    /// The JSON body of GitHub's "create a review" REST call: comments on
    /// changed lines with suggestions, the rest in the review body.
    GithubReview,
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
    /// Columns the human format wraps to.
    pub width: usize,
    /// Indent SARIF (`--pretty`); by default it is compact, one result per
    /// line (indenting made it 40% larger).
    pub pretty: bool,
}

impl RenderOptions {
    /// The width when there is no terminal to measure (pipes, files).
    pub const DEFAULT_WIDTH: usize = 100;
}

/// A value pretty-printed as serde_json does, as an element `indent`
/// spaces deep (JSON strings hold no raw line breaks, so indenting by line
/// is exact).
pub fn pretty(value: &impl serde::Serialize, indent: usize) -> String {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".to_string());
    let pad = " ".repeat(indent);
    let mut out = String::with_capacity(text.len() + 16 * indent);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&pad);
        out.push_str(line);
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

pub(crate) fn unchecked_text(n: usize) -> String {
    match n {
        0 => String::new(),
        1 => "\n1 file could not be checked.".to_string(),
        n => format!("\n{n} files could not be checked."),
    }
}

/// What the closing summary counts, gathered file by file.
#[derive(Debug, Default, Clone, Copy)]
pub struct Totals {
    remaining: usize,
    fixed: usize,
    safe_fixes: usize,
    unsafe_fixes: usize,
    unchecked: usize,
}

impl Totals {
    pub fn add(&mut self, r: &FileReport) {
        self.remaining += r.diagnostics.iter().filter(|d| !d.is_note()).count();
        self.fixed += r.applied.len();
        for f in r.diagnostics.iter().filter_map(|d| d.fix.as_ref()) {
            match f.applicability {
                Applicability::Safe => self.safe_fixes += 1,
                Applicability::Unsafe => self.unsafe_fixes += 1,
            }
        }
        if r.diagnostics
            .iter()
            .any(|d| matches!(d.code, "E001" | "E002" | "E003" | "E004"))
        {
            self.unchecked += 1;
        }
    }

    /// The closing summary line of the human and concise formats.
    pub fn summary(&self, options: &RenderOptions) -> String {
        let Totals {
            remaining,
            fixed,
            unchecked,
            ..
        } = *self;
        let fixable = self.safe_fixes
            + if options.unsafe_fixes {
                self.unsafe_fixes
            } else {
                0
            };
        let hidden_unsafe = if options.unsafe_fixes {
            0
        } else {
            self.unsafe_fixes
        };
        summary_text(remaining, fixed, fixable, hidden_unsafe, unchecked, options)
    }
}

fn summary_text(
    remaining: usize,
    fixed: usize,
    fixable: usize,
    hidden_unsafe: usize,
    unchecked: usize,
    options: &RenderOptions,
) -> String {
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
    out.push_str(&unchecked_text(unchecked));
    out.push('\n');
    out
}
