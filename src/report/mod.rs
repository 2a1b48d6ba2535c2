//! One emitter per output format, written file by file (`stream`); the CLI
//! chooses where it goes.

mod concise;
pub mod escape;
mod github;
pub mod github_review;
mod gitlab;
mod human;
mod json;
mod junit;
pub mod links;
pub mod paths;
mod rdjson;
pub mod review;
pub mod sarif;
pub mod stream;

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
}

/// Render the reports of a run into one string.
pub fn render(format: Format, reports: &[FileReport], options: &RenderOptions) -> String {
    let mut out = Vec::new();
    let written = (|| {
        let mut emitter = stream::Emitter::new(format, *options, &mut out, usize::MAX)?;
        for r in reports {
            emitter.file(r)?;
        }
        emitter.finish().map(|_| ())
    })();
    // Writing to memory cannot fail.
    debug_assert!(written.is_ok());
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// `--statistics`: findings per rule, gathered file by file.
#[derive(Debug, Default)]
pub struct Statistics {
    counts: std::collections::BTreeMap<(&'static str, &'static str), (usize, usize)>,
}

impl Statistics {
    pub fn add(&mut self, report: &FileReport) {
        for d in &report.diagnostics {
            let e = self.counts.entry((d.code, d.name)).or_default();
            e.0 += 1;
            if d.fix.is_some() {
                e.1 += 1;
            }
        }
    }

    /// Most frequent first.
    pub fn render(&self) -> String {
        let mut rows: Vec<_> = self.counts.iter().collect();
        rows.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
        let mut out = String::new();
        for ((code, name), (n, fixable)) in rows {
            let mark = if *fixable > 0 { "[*]" } else { "   " };
            out.push_str(&format!("{n:>6}  {code:<7} {mark} {name}\n"));
        }
        out
    }
}

/// `--statistics`: findings per rule, most frequent first.
pub fn statistics(reports: &[FileReport]) -> String {
    let mut s = Statistics::default();
    for r in reports {
        s.add(r);
    }
    s.render()
}

/// `--show-fixes`: what `--fix` changed, gathered file by file.
#[derive(Debug, Default)]
pub struct ShownFixes {
    total: usize,
    text: String,
}

impl ShownFixes {
    pub fn add(&mut self, r: &FileReport) {
        if r.applied.is_empty() {
            return;
        }
        self.total += r.applied.len();
        self.text
            .push_str(&format!("- {}:\n", escape::terminal(&r.display)));
        let mut by: std::collections::BTreeMap<(&str, &str), usize> =
            std::collections::BTreeMap::new();
        for a in &r.applied {
            *by.entry((a.code, a.title.as_str())).or_default() += 1;
        }
        for ((code, title), n) in by {
            self.text
                .push_str(&format!("    {n} × {code} ({})\n", escape::terminal(title)));
        }
    }

    pub fn render(&self) -> String {
        if self.total == 0 {
            return String::new();
        }
        format!(
            "\nFixed {} problem{}:\n{}",
            self.total,
            if self.total == 1 { "" } else { "s" },
            self.text
        )
    }
}

/// `--show-fixes`: what `--fix` changed, by file.
pub fn show_fixes(reports: &[FileReport]) -> String {
    let mut s = ShownFixes::default();
    for r in reports {
        s.add(r);
    }
    s.render()
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

/// What the closing summary counts, gathered file by file.
#[derive(Debug, Default, Clone, Copy)]
pub struct Totals {
    remaining: usize,
    fixed: usize,
    safe_fixes: usize,
    unsafe_fixes: usize,
}

impl Totals {
    pub fn add(&mut self, r: &FileReport) {
        self.remaining += r.diagnostics.len();
        self.fixed += r.applied.len();
        for f in r.diagnostics.iter().filter_map(|d| d.fix.as_ref()) {
            match f.applicability {
                Applicability::Safe => self.safe_fixes += 1,
                Applicability::Unsafe => self.unsafe_fixes += 1,
            }
        }
    }

    /// The closing summary line of the human and concise formats.
    pub fn summary(&self, options: &RenderOptions) -> String {
        let Totals {
            remaining, fixed, ..
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
        summary_text(remaining, fixed, fixable, hidden_unsafe, options)
    }
}

fn summary_text(
    remaining: usize,
    fixed: usize,
    fixable: usize,
    hidden_unsafe: usize,
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
    out.push('\n');
    out
}
