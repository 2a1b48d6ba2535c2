//! `--diff-base REF`: which files and lines a change touched, from `git`
//! as the user has it (a subprocess with porcelain output).
//!
//! The change is everything between the merge base of `REF` and `HEAD` and
//! the working tree: committed, staged and unstaged edits, and untracked
//! files (which are wholly new).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether a finding must touch a changed line, or only a changed file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum DiffScope {
    /// Findings whose span touches an added or changed line.
    #[default]
    Lines,
    /// Every finding in a changed file.
    Files,
}

/// The lines a change added or changed in one file (1-based), or the whole
/// file when it is new.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChangedLines {
    pub whole_file: bool,
    pub lines: BTreeSet<usize>,
}

impl ChangedLines {
    pub fn touches(&self, first: usize, last: usize) -> bool {
        self.whole_file || self.lines.range(first..=last.max(first)).next().is_some()
    }
}

/// The change: absolute paths of changed files and their changed lines.
#[derive(Debug, Clone, Default)]
pub struct Change {
    pub base: String,
    /// The commit the change ends at (`HEAD`).
    pub head: String,
    pub files: BTreeMap<PathBuf, ChangedLines>,
    /// Notes for the user: renames, binary files.
    pub notes: Vec<String>,
}

/// Why the change could not be computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffError(pub String);

impl std::fmt::Display for DiffError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn git(dir: &Path, args: &[&str]) -> Result<String, DiffError> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| DiffError(format!("--diff-base needs git: {e}")))?;
    if !out.status.success() {
        return Err(DiffError(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Which side a change ends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DiffEnd {
    /// The working tree: commits since the merge base, staged and unstaged
    /// edits, and untracked files (what a developer has in front of them).
    /// git looks at every tracked file to find the edits, so on a very
    /// large tree this costs git's `status` time.
    #[default]
    WorkingTree,
    /// `HEAD`: the commits since the merge base only (what a pull request
    /// is; a CI checkout has nothing uncommitted). Tree against tree, so
    /// the cost does not grow with the repository.
    Head,
}

/// The change since the merge base of `base` and `HEAD`, in the repository
/// that holds `dir`, ending at the working tree or at `HEAD`.
pub fn change(dir: &Path, base: &str, end: DiffEnd) -> Result<Change, DiffError> {
    // The top folder and HEAD in one call.
    let top_and_head = git(dir, &["rev-parse", "--show-toplevel", "HEAD"]).map_err(|e| {
        match git(dir, &["rev-parse", "--show-toplevel"]) {
            Ok(_) => DiffError("--diff-base: HEAD is not a commit yet (a repository with no commit has nothing to compare)".to_string()),
            Err(_) => DiffError(format!("--diff-base: not in a git repository ({e})")),
        }
    })?;
    let mut lines = top_and_head.lines();
    let top = PathBuf::from(lines.next().unwrap_or("").trim());
    let head = lines.next().unwrap_or("").trim().to_string();
    let merge_base = match git(&top, &["merge-base", base, "HEAD"]) {
        Ok(s) => s.trim().to_string(),
        Err(e) => return Err(no_merge_base(&top, base, &e)),
    };
    let mut args = vec![
        "-c",
        "core.quotePath=false",
        "diff",
        "--no-color",
        "--no-ext-diff",
        "--unified=0",
        "--find-renames",
        merge_base.as_str(),
    ];
    if end == DiffEnd::Head {
        args.push("HEAD");
    }
    args.push("--");
    let diff = git(&top, &args)?;
    let mut change = parse_diff(&top, &diff);
    change.base = merge_base;
    change.head = head;
    if end == DiffEnd::Head {
        return Ok(change);
    }
    let untracked = git(
        &top,
        &[
            "-c",
            "core.quotePath=false",
            "ls-files",
            "--others",
            "--exclude-standard",
            "-z",
        ],
    )?;
    for name in untracked.split('\0').filter(|n| !n.is_empty()) {
        change.files.insert(
            top.join(name),
            ChangedLines {
                whole_file: true,
                lines: BTreeSet::new(),
            },
        );
    }
    Ok(change)
}

/// Why there is no merge base: the base is not a commit here (not fetched,
/// or a shallow clone), or the histories do not meet.
fn no_merge_base(top: &Path, base: &str, e: &DiffError) -> DiffError {
    let shallow =
        git(top, &["rev-parse", "--is-shallow-repository"]).is_ok_and(|s| s.trim() == "true");
    let is_commit = git(
        top,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{base}^{{commit}}"),
        ],
    )
    .is_ok();
    if !is_commit {
        let hint = if shallow {
            " This is a shallow clone: fetch the base too (`git fetch --deepen=100 origin <base>`, or `fetch-depth: 0` in actions/checkout)."
        } else {
            " Fetch it first (`git fetch origin <base>`)."
        };
        return DiffError(format!(
            "--diff-base: `{base}` is not a commit in this repository.{hint}"
        ));
    }
    DiffError(if shallow {
        format!(
            "--diff-base: no merge base of `{base}` and HEAD: this is a shallow clone, so their common history is missing. Fetch with more depth (`git fetch --deepen=200`, or `fetch-depth: 0` in actions/checkout)."
        )
    } else {
        format!("--diff-base: no merge base of `{base}` and HEAD ({e})")
    })
}

/// The changed files under `paths` that refit reads (`kind_for`).
pub fn targets(
    change: &Change,
    paths: &[PathBuf],
    kind_for: &dyn Fn(&Path) -> Option<crate::kind::FileKind>,
) -> Vec<crate::discover::Target> {
    let roots: Vec<PathBuf> = paths
        .iter()
        .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone()))
        .collect();
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut out = Vec::new();
    for file in change.files.keys() {
        let under = roots.iter().any(|r| file.starts_with(r));
        if !under || !file.is_file() {
            continue;
        }
        if let Some(kind) = kind_for(file) {
            let shown = file.strip_prefix(&cwd).unwrap_or(file);
            out.push(crate::discover::Target {
                path: shown.to_path_buf(),
                display: crate::discover::display_path(shown),
                kind,
            });
        }
    }
    out
}

/// Keep the findings of a report that the change touches. A finding on an
/// unchanged line that a changed line causes (an `ARG` default changed, and
/// a `FROM` far below now resolves to `latest`) is moved onto the changed
/// line, where a reviewer can see it.
pub fn narrow(
    change: &Change,
    scope: DiffScope,
    report: &mut crate::engine::FileReport,
    settings: Option<&crate::settings::Settings>,
) {
    let Some(path) = &report.path else {
        return;
    };
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.clone());
    let Some(lines) = change.files.get(&absolute) else {
        report.diagnostics.clear();
        return;
    };
    if scope == DiffScope::Files {
        return;
    }
    let Some(text) = report.current_text().map(str::to_string) else {
        return;
    };
    let index = crate::diagnostic::LineIndex::new(&text);
    let line_span = |span: crate::site::Span| {
        let first = index.line_of(span.start) + 1;
        let last = index.line_of(span.end.max(span.start + 1) - 1) + 1;
        (first, last.max(first))
    };
    let mut sites: Option<Vec<crate::site::ImageSite>> = None;
    let diagnostics = std::mem::take(&mut report.diagnostics);
    for mut d in diagnostics {
        let (first, last) = line_span(d.span);
        if !d.is_finding() || lines.touches(first, last) {
            report.diagnostics.push(d);
            continue;
        }
        // Where did the flagged reference's text come from?
        let sites = sites.get_or_insert_with(|| {
            settings
                .and_then(|s| crate::check::extract(report.kind, &text, s).ok())
                .unwrap_or_default()
        });
        let cause = sites
            .iter()
            .filter(|s| s.span == d.span)
            .find_map(|s| match &s.value {
                crate::site::SiteValue::Resolved { pieces, .. } => {
                    pieces.iter().filter_map(|p| p.file).find(|f| {
                        let (a, b) = line_span(*f);
                        lines.touches(a, b)
                    })
                }
                _ => None,
            });
        if let Some(span) = cause {
            let (at, _) = line_span(d.span);
            d.message = format!("{} (line {at}, through this change)", d.message);
            d.span = span;
            report.diagnostics.push(d);
        }
    }
    report
        .diagnostics
        .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
}

/// Read `git diff --unified=0` output.
pub fn parse_diff(top: &Path, diff: &str) -> Change {
    let mut change = Change::default();
    let mut current: Option<PathBuf> = None;
    let mut rename_from: Option<String> = None;
    for line in diff.lines() {
        if line.starts_with("diff --git ") {
            current = None;
            rename_from = None;
        } else if let Some(from) = line.strip_prefix("rename from ") {
            rename_from = Some(from.to_string());
        } else if let Some(to) = line.strip_prefix("rename to ") {
            let path = top.join(to);
            if let Some(from) = &rename_from {
                change.notes.push(format!(
                    "{to}: renamed from {from}; only its changed lines count"
                ));
            }
            change.files.entry(path.clone()).or_default();
            current = Some(path);
        } else if let Some(name) = line.strip_prefix("+++ ") {
            current = match name {
                "/dev/null" => None,
                n => {
                    let n = n.strip_prefix("b/").unwrap_or(n);
                    let path = top.join(n);
                    change.files.entry(path.clone()).or_default();
                    Some(path)
                }
            };
        } else if line.starts_with("Binary files ") {
            change.notes.push(format!(
                "{}: binary, skipped",
                line.trim_start_matches("Binary files ")
                    .split(" and ")
                    .last()
                    .unwrap_or("")
                    .trim_end_matches(" differ")
                    .trim_start_matches("b/")
            ));
        } else if let Some(hunk) = line.strip_prefix("@@ ")
            && let Some(path) = &current
        {
            // `@@ -a,b +c,d @@`: d lines from c were added or changed.
            let new = hunk
                .split_whitespace()
                .find(|p| p.starts_with('+'))
                .unwrap_or("+0,0");
            let mut parts = new.trim_start_matches('+').splitn(2, ',');
            let start: usize = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
            let count: usize = parts
                .next()
                .map_or(Some(1), |s| s.parse().ok())
                .unwrap_or(1);
            let entry = change.files.entry(path.clone()).or_default();
            // Bounded by the hunk header; a line count past a file's end
            // only marks lines that do not exist.
            for l in start..start.saturating_add(count.min(1_000_000)) {
                entry.lines.insert(l);
            }
        }
    }
    change
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunks_give_changed_lines() {
        let diff = "diff --git a/Dockerfile b/Dockerfile\nindex 1..2 100644\n--- a/Dockerfile\n+++ b/Dockerfile\n@@ -1 +1 @@\n-FROM node:18\n+FROM node:20\n@@ -5,0 +6,2 @@\n+RUN a\n+RUN b\n@@ -9,2 +10,0 @@\n-x\n-y\n";
        let c = parse_diff(Path::new("/r"), diff);
        let d = &c.files[Path::new("/r/Dockerfile")];
        assert_eq!(d.lines.iter().copied().collect::<Vec<_>>(), vec![1, 6, 7]);
        assert!(d.touches(6, 6) && d.touches(5, 6) && !d.touches(8, 9));
    }

    #[test]
    fn renames_and_binaries_are_noted() {
        let diff = "diff --git a/old/Dockerfile b/new/Dockerfile\nsimilarity index 100%\nrename from old/Dockerfile\nrename to new/Dockerfile\ndiff --git a/x.png b/x.png\nBinary files a/x.png and b/x.png differ\n";
        let c = parse_diff(Path::new("/r"), diff);
        assert!(c.files.contains_key(Path::new("/r/new/Dockerfile")));
        assert!(c.files[Path::new("/r/new/Dockerfile")].lines.is_empty());
        assert_eq!(c.notes.len(), 2, "{:?}", c.notes);
        assert!(c.notes[0].contains("renamed from old/Dockerfile"));
        assert!(c.notes[1].contains("x.png: binary"), "{:?}", c.notes);
    }
}
