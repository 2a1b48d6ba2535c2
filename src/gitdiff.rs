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

/// Options before every git subcommand: a repository's own config must not
/// run programs (`core.fsmonitor`, hooks) or change the output we parse
/// (quoted paths, prefixes, external diff drivers).
const GIT_SAFE: &[&str] = &[
    "-c",
    "core.fsmonitor=false",
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.quotePath=false",
    "--no-pager",
];

/// Run git with [`GIT_SAFE`] and return its raw stdout.
fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>, DiffError> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(GIT_SAFE)
        .args(args)
        // Reading the diff must not take git's index lock or rewrite it.
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env_remove("GIT_EXTERNAL_DIFF")
        .output()
        .map_err(|e| DiffError(format!("--diff-base needs git: {e}")))?;
    if !out.status.success() {
        return Err(DiffError(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    Ok(out.stdout)
}

/// `git` for output that is one or more lines of text (ids, `true`).
fn git_text(dir: &Path, args: &[&str]) -> Result<String, DiffError> {
    git(dir, args).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// A path as git wrote it (raw bytes, from `-z` output).
fn path_of(bytes: &[u8]) -> Result<PathBuf, DiffError> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Ok(PathBuf::from(std::ffi::OsStr::from_bytes(bytes)))
    }
    #[cfg(not(unix))]
    {
        std::str::from_utf8(bytes).map(PathBuf::from).map_err(|_| {
            DiffError(format!(
                "--diff-base: git named a changed file that is not UTF-8: {}",
                String::from_utf8_lossy(bytes)
            ))
        })
    }
}

/// Refuse a base that git would read as an option (`--independent`,
/// `--fork-point`, `--octopus` change what `merge-base` answers).
pub fn validate_base(base: &str) -> Result<(), String> {
    if base.is_empty() {
        return Err("the base is empty: name a branch, tag or commit".to_string());
    }
    if base.starts_with('-') {
        return Err(format!(
            "`{base}` starts with `-`, so git would read it as an option: name a branch, tag or commit"
        ));
    }
    Ok(())
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
    validate_base(base).map_err(|e| DiffError(format!("--diff-base: {e}")))?;
    // The top folder, the way down from it to `dir`, and HEAD in one call.
    let top_and_head = git(dir, &["rev-parse", "--show-toplevel", "--show-prefix", "HEAD"])
        .map_err(|e| match git(dir, &["rev-parse", "--show-toplevel"]) {
            Ok(_) => DiffError("--diff-base: HEAD is not a commit yet (a repository with no commit has nothing to compare)".to_string()),
            Err(_) => DiffError(format!("--diff-base: not in a git repository ({e})")),
        })?;
    let mut lines = top_and_head.split(|b| *b == b'\n');
    let real_top = path_of(lines.next().unwrap_or_default())?;
    let prefix = path_of(lines.next().unwrap_or_default())?;
    let head = String::from_utf8_lossy(lines.next().unwrap_or_default())
        .trim()
        .to_string();
    let top = top_as_seen_from(dir, &prefix).unwrap_or(real_top);
    let merge_base = match git(&top, &["merge-base", "--end-of-options", base, "HEAD"]) {
        Ok(s) => String::from_utf8_lossy(&s).trim().to_string(),
        Err(e) => return Err(no_merge_base(&top, base, &e)),
    };
    // The changed files, exactly (`-z`: no quoting, any byte in a name),
    // then the changed lines, whose file headers are matched against them.
    let mut names = vec![
        "diff",
        "-z",
        "--no-color",
        "--name-status",
        "--no-ext-diff",
        "--no-relative",
        "--find-renames",
        merge_base.as_str(),
    ];
    let mut patch = vec![
        "diff",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        "--no-relative",
        "--src-prefix=a/",
        "--dst-prefix=b/",
        "--unified=0",
        "--find-renames",
        merge_base.as_str(),
    ];
    if end == DiffEnd::Head {
        names.push("HEAD");
        patch.push("HEAD");
    }
    names.push("--");
    patch.push("--");
    let names = git(&top, &names)?;
    let patch = git(&top, &patch)?;
    let mut change = parse_diff(&top, &names, &patch)?;
    change.base = merge_base;
    change.head = head;
    if end == DiffEnd::Head {
        return Ok(change);
    }
    let untracked = git(&top, &["ls-files", "--others", "--exclude-standard", "-z"])?;
    for name in untracked.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        change.files.insert(
            top.join(path_of(name)?),
            ChangedLines {
                whole_file: true,
                lines: BTreeSet::new(),
            },
        );
    }
    Ok(change)
}

/// The repository's top folder as `dir` reaches it: `dir` less git's
/// `--show-prefix`, so a checkout reached through a symbolic link keeps
/// the paths the walk and the reports use.
fn top_as_seen_from(dir: &Path, prefix: &Path) -> Option<PathBuf> {
    let dir = std::path::absolute(dir).ok()?;
    let mut top = dir.as_path();
    for part in prefix.components().rev() {
        if top.file_name() != Some(part.as_os_str()) {
            return None;
        }
        top = top.parent()?;
    }
    Some(top.to_path_buf())
}

/// Why there is no merge base: the base is not a commit here (not fetched,
/// or a shallow clone), or the histories do not meet.
fn no_merge_base(top: &Path, base: &str, e: &DiffError) -> DiffError {
    let shallow =
        git_text(top, &["rev-parse", "--is-shallow-repository"]).is_ok_and(|s| s.trim() == "true");
    let is_commit = git(
        top,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
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
        // A typo of a branch or tag name (`mian`) is likelier than a
        // missing fetch.
        let names = git_text(
            top,
            &[
                "for-each-ref",
                "--format=%(refname:short)",
                "refs/heads",
                "refs/remotes",
                "refs/tags",
            ],
        )
        .unwrap_or_default();
        if let Some(near) = crate::config::nearest(base, names.lines()) {
            return DiffError(format!(
                "--diff-base: `{base}` is not a commit in this repository (did you mean `{near}`?)"
            ));
        }
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

/// One changed file, from `git diff -z --name-status`.
struct Entry {
    status: u8,
    old: Vec<u8>,
    new: Vec<u8>,
}

/// Read `git diff -z --name-status` (`names`) and `git diff --unified=0`
/// (`patch`) of the same change. The file list comes from `names`, byte
/// for byte; each file section of `patch` must be one of those files (its
/// header is rebuilt with git's quoting and matched whole), or the change
/// cannot be mapped and that is an error, never a silent skip.
pub fn parse_diff(top: &Path, names: &[u8], patch: &[u8]) -> Result<Change, DiffError> {
    let mut change = Change::default();
    let mut entries = Vec::new();
    let mut fields = names.split(|b| *b == 0);
    while let Some(status) = fields.next() {
        if status.is_empty() {
            continue;
        }
        let kind = status[0];
        let mut next = || {
            fields.next().map(<[u8]>::to_vec).ok_or_else(|| {
                DiffError(format!(
                    "--diff-base: git's list of changed files ends after `{}`",
                    String::from_utf8_lossy(status)
                ))
            })
        };
        let old = next()?;
        let new = if matches!(kind, b'R' | b'C') {
            next()?
        } else {
            old.clone()
        };
        entries.push(Entry {
            status: kind,
            old,
            new,
        });
    }
    let mut headers: BTreeMap<Vec<u8>, usize> = BTreeMap::new();
    for (i, e) in entries.iter().enumerate() {
        let mut header = b"diff --git ".to_vec();
        header.extend(crate::diff::quote_path(&[b"a/", e.old.as_slice()].concat()));
        header.push(b' ');
        header.extend(crate::diff::quote_path(&[b"b/", e.new.as_slice()].concat()));
        headers.insert(header, i);
        if e.status == b'D' {
            continue;
        }
        let path = top.join(path_of(&e.new)?);
        if e.status == b'R' {
            change.notes.push(format!(
                "{}: renamed from {}; only its changed lines count",
                String::from_utf8_lossy(&e.new),
                String::from_utf8_lossy(&e.old)
            ));
        }
        change.files.insert(
            path,
            ChangedLines {
                // Wholly new, or in conflict: every line is the change's.
                whole_file: matches!(e.status, b'A' | b'U'),
                lines: BTreeSet::new(),
            },
        );
    }
    let mut current: Option<&Entry> = None;
    for line in patch.split(|b| *b == b'\n') {
        if line.starts_with(b"diff --git ") {
            let Some(&i) = headers.get(line) else {
                return Err(DiffError(format!(
                    "--diff-base: cannot tell which changed file git means by `{}`; no finding in it can be shown",
                    String::from_utf8_lossy(line)
                )));
            };
            current = entries.get(i);
        } else if line.starts_with(b"Binary files ") {
            if let Some(e) = current {
                change.notes.push(format!(
                    "{}: binary, skipped",
                    String::from_utf8_lossy(&e.new)
                ));
            }
        } else if let Some(hunk) = line.strip_prefix(b"@@ ")
            && let Some(e) = current
            && e.status != b'D'
        {
            let hunk = String::from_utf8_lossy(hunk);
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
            let path = top.join(path_of(&e.new)?);
            let entry = change.files.entry(path).or_default();
            // Bounded by the hunk header; a line count past a file's end
            // only marks lines that do not exist.
            for l in start..start.saturating_add(count.min(1_000_000)) {
                entry.lines.insert(l);
            }
        }
    }
    Ok(change)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunks_give_changed_lines() {
        let names = b"M\0Dockerfile\0";
        let diff = b"diff --git a/Dockerfile b/Dockerfile\nindex 1..2 100644\n--- a/Dockerfile\n+++ b/Dockerfile\n@@ -1 +1 @@\n-FROM node:18\n+FROM node:20\n@@ -5,0 +6,2 @@\n+RUN a\n+RUN b\n@@ -9,2 +10,0 @@\n-x\n-y\n";
        let c = parse_diff(Path::new("/r"), names, diff).expect("maps");
        let d = &c.files[Path::new("/r/Dockerfile")];
        assert_eq!(d.lines.iter().copied().collect::<Vec<_>>(), vec![1, 6, 7]);
        assert!(d.touches(6, 6) && d.touches(5, 6) && !d.touches(8, 9));
    }

    #[test]
    fn renames_and_binaries_are_noted() {
        let names = b"R100\0old/Dockerfile\0new/Dockerfile\0M\0x.png\0";
        let diff = b"diff --git a/old/Dockerfile b/new/Dockerfile\nsimilarity index 100%\nrename from old/Dockerfile\nrename to new/Dockerfile\ndiff --git a/x.png b/x.png\nBinary files a/x.png and b/x.png differ\n";
        let c = parse_diff(Path::new("/r"), names, diff).expect("maps");
        assert!(c.files.contains_key(Path::new("/r/new/Dockerfile")));
        assert!(c.files[Path::new("/r/new/Dockerfile")].lines.is_empty());
        assert_eq!(c.notes.len(), 2, "{:?}", c.notes);
        assert!(c.notes[0].contains("renamed from old/Dockerfile"));
        assert!(c.notes[1].contains("x.png: binary"), "{:?}", c.notes);
    }

    #[test]
    fn quoted_and_spaced_names_map_to_their_files() {
        let names = b"M\0a b/Dockerfile\0A\0q\"t\tn\nx/Dockerfile\0";
        let diff = b"diff --git a/a b/Dockerfile b/a b/Dockerfile\n--- a/a b/Dockerfile\t\n+++ b/a b/Dockerfile\t\n@@ -2 +2 @@\n-x\n+y\ndiff --git \"a/q\\\"t\\tn\\nx/Dockerfile\" \"b/q\\\"t\\tn\\nx/Dockerfile\"\nnew file mode 100644\n@@ -0,0 +1 @@\n+FROM x\n";
        let c = parse_diff(Path::new("/r"), names, diff).expect("maps");
        let spaced = &c.files[Path::new("/r/a b/Dockerfile")];
        assert_eq!(spaced.lines.iter().copied().collect::<Vec<_>>(), vec![2]);
        assert!(c.files[Path::new("/r/q\"t\tn\nx/Dockerfile")].whole_file);
        assert_eq!(c.files.len(), 2);
    }

    #[test]
    fn a_section_that_names_no_changed_file_is_an_error() {
        let names = b"M\0Dockerfile\0";
        let diff = b"diff --git a/Other b/Other\n@@ -1 +1 @@\n-a\n+b\n";
        let e = parse_diff(Path::new("/r"), names, diff).expect_err("unmapped");
        assert!(e.0.contains("cannot tell which changed file"), "{e}");
    }

    #[test]
    fn a_base_that_is_an_option_is_refused() {
        for base in ["--independent", "--fork-point", "--octopus", "-h", ""] {
            assert!(validate_base(base).is_err(), "{base}");
        }
        assert!(validate_base("main").is_ok());
        assert!(validate_base("HEAD~1").is_ok());
    }
}
