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
    #[value(alias = "text", alias = "full")]
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

/// `--statistics`: findings per rule, most frequent first.
pub fn statistics(reports: &[FileReport]) -> String {
    let mut out = String::new();
    let mut any_unsafe_only = false;
    for row in statistics_rows(reports) {
        // `[*]`: a safe fix exists; `[-]`: only unsafe fixes (ruff's marks).
        let mark = if row.safe > 0 {
            "[*]"
        } else if row.unsafe_ > 0 {
            any_unsafe_only = true;
            "[-]"
        } else {
            "   "
        };
        out.push_str(&format!(
            "{:>6}  {:<7} {mark} {}\n",
            row.count, row.code, row.name
        ));
    }
    if any_unsafe_only {
        out.push_str("[*] safe fix available, [-] only unsafe fixes (`--unsafe-fixes`)\n");
    }
    out
}

/// One line of `--statistics`.
#[derive(Debug, serde::Serialize)]
pub struct StatisticsRow {
    pub code: &'static str,
    pub name: &'static str,
    pub count: usize,
    /// Findings with a safe fix.
    #[serde(rename = "safe_fixes")]
    pub safe: usize,
    /// Findings whose only fix is unsafe.
    #[serde(rename = "unsafe_fixes")]
    pub unsafe_: usize,
}

/// Findings per rule, most frequent first.
pub fn statistics_rows(reports: &[FileReport]) -> Vec<StatisticsRow> {
    let mut counts: std::collections::BTreeMap<
        (&'static str, &'static str),
        (usize, usize, usize),
    > = std::collections::BTreeMap::new();
    for d in reports.iter().flat_map(|r| &r.diagnostics) {
        let e = counts.entry((d.code, d.name)).or_default();
        e.0 += 1;
        match d.fix.as_ref().map(|f| f.applicability) {
            Some(Applicability::Safe) => e.1 += 1,
            Some(Applicability::Unsafe) => e.2 += 1,
            None => {}
        }
    }
    let mut rows: Vec<_> = counts
        .into_iter()
        .map(|((code, name), (count, safe, unsafe_))| StatisticsRow {
            code,
            name,
            count,
            safe,
            unsafe_,
        })
        .collect();
    rows.sort_by(|a, b| b.count.cmp(&a.count).then(a.code.cmp(b.code)));
    rows
}

/// `--statistics --format json`: the rows as a JSON array.
pub fn statistics_json(reports: &[FileReport]) -> String {
    serde_json::to_string_pretty(&statistics_rows(reports)).unwrap_or_default() + "\n"
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

/// Files that could not be checked at all (unreadable, not text, too
/// large, not parseable: E001-E004).
pub fn unchecked_files(reports: &[FileReport]) -> usize {
    reports
        .iter()
        .filter(|r| {
            r.diagnostics
                .iter()
                .any(|d| matches!(d.code, "E001" | "E002" | "E003" | "E004"))
        })
        .count()
}

fn unchecked_line(reports: &[FileReport]) -> String {
    unchecked_text(unchecked_files(reports))
}

fn unchecked_text(n: usize) -> String {
    match n {
        0 => String::new(),
        1 => "\n1 file could not be checked.".to_string(),
        n => format!("\n{n} files could not be checked."),
    }
}

/// Unsafe fixes not shown or applied because `--unsafe-fixes` is off.
fn hidden_unsafe(reports: &[FileReport], unsafe_fixes: bool) -> usize {
    if unsafe_fixes {
        return 0;
    }
    reports
        .iter()
        .flat_map(|r| &r.diagnostics)
        .filter_map(|d| d.fix.as_ref())
        .filter(|f| f.applicability == Applicability::Unsafe)
        .count()
}

/// The closing lines of `--diff` (on stderr): what would be fixed, the
/// unsafe fixes left out, the files that could not be checked. Empty when
/// there is nothing to say.
pub fn diff_summary(reports: &[FileReport], unsafe_fixes: bool) -> String {
    let fixes: usize = reports.iter().map(|r| r.applied.len()).sum();
    let hidden = hidden_unsafe(reports, unsafe_fixes);
    let mut out = match (fixes, hidden) {
        (0, 0) => String::new(),
        (0, _) => "No problems would be fixed".to_string(),
        (1, _) => "Would fix 1 problem".to_string(),
        (n, _) => format!("Would fix {n} problems"),
    };
    if hidden > 0 {
        out.push_str(&format!(
            " ({hidden} fix{} available with `--unsafe-fixes`)",
            if hidden == 1 { "" } else { "es" }
        ));
    }
    if !out.is_empty() {
        out.push('.');
    }
    out.push_str(&unchecked_line(reports));
    let out = out.trim_start_matches('\n').to_string();
    if out.is_empty() { out } else { out + "\n" }
}

/// The closing summary line of the human and concise formats.
pub fn summary(reports: &[FileReport], options: &RenderOptions) -> String {
    let mut totals = Totals::default();
    for r in reports {
        totals.add(r);
    }
    totals.summary(options)
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
