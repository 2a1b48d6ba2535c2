//! One emitter per output format, written file by file (`stream`); the CLI
//! chooses where it goes.

mod common;
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

use crate::diagnostic::Applicability;
use crate::engine::FileReport;

use common::unchecked_text;
pub use common::{Format, RenderOptions, Totals};
pub use human::IndexedSource;

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
