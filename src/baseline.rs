//! A baseline: today's findings, recorded so that only new ones are
//! reported (as detekt, PHPStan and Psalm do).
//!
//! A finding's fingerprint is built from the rule, the file (repository
//! relative), the structural location (the YAML path, or the stage and
//! instruction keyword in a Dockerfile), the flagged text (the reference as
//! written) and which occurrence of all that it is. Line numbers are not
//! part of it, so lines inserted above or reformatting elsewhere keep it.
//!
//! The file is JSON with one entry per line, sorted, for stable diffs. An
//! entry that no longer matches any finding is reported as SUP002 on the
//! baseline file, with a fix that removes it.

use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix, Severity};
use crate::engine::FileReport;
use crate::report::paths::{fingerprint, repo_relative};
use crate::site::Span;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// One recorded finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Entry {
    pub file: String,
    pub code: String,
    pub fingerprint: String,
    pub message: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct BaselineFile {
    version: u32,
    findings: Vec<Entry>,
}

/// A loaded baseline.
#[derive(Debug, Clone)]
pub struct Baseline {
    pub path: PathBuf,
    pub text: String,
    pub entries: Vec<Entry>,
}

/// An entry's line in the baseline file.
#[derive(Debug, Clone, Copy)]
struct EntryLine {
    /// The entry's index in `Baseline::entries`.
    index: usize,
    /// Where the line starts.
    start: usize,
    /// Where the line's text ends (its comma included, its newline not).
    end: usize,
    /// Where the entry's object ends: before its comma.
    object_end: usize,
}

/// The structural locations of a Dockerfile, computed once per file: each
/// instruction line's start offset, stage index and keyword, in order, so
/// that each finding's location is a binary search.
struct DockerfileLocations {
    /// (offset of the instruction's first line, stage index, keyword).
    lines: Vec<(usize, usize, String)>,
    /// Where the `#` of a first line that is a comment (a parser
    /// directive) sits, and where that line ends.
    directive: Option<(usize, usize)>,
}

impl DockerfileLocations {
    fn new(text: &str) -> Self {
        let mut lines = Vec::new();
        let mut stage = 0usize;
        let mut continued = false;
        let mut pos = 0;
        for line in text.split_inclusive('\n') {
            let start = pos;
            pos += line.len();
            let trimmed = line.trim_start();
            let was_continued = continued;
            continued = line.trim_end().ends_with('\\');
            if was_continued || trimmed.starts_with('#') || trimmed.is_empty() {
                continue;
            }
            let word = trimmed
                .split(|c: char| c.is_whitespace())
                .next()
                .unwrap_or("");
            if word.eq_ignore_ascii_case("FROM") {
                stage += 1;
            }
            lines.push((start, stage, word.to_ascii_uppercase()));
        }
        let first = text.split('\n').next().unwrap_or("");
        let directive = first
            .trim_start()
            .starts_with('#')
            .then(|| first.find('#').map(|hash| (hash, first.len())))
            .flatten();
        DockerfileLocations { lines, directive }
    }

    /// The stage and instruction keyword of an offset: the last instruction
    /// that starts at or before it.
    fn at(&self, offset: usize) -> String {
        if self
            .directive
            .is_some_and(|(hash, end)| hash < offset && offset <= end)
        {
            return "directive".to_string();
        }
        let n = self.lines.partition_point(|(start, _, _)| *start <= offset);
        match n.checked_sub(1).and_then(|i| self.lines.get(i)) {
            Some((_, stage, keyword)) => format!("stage {stage} {keyword}"),
            None => "stage 0 ".to_string(),
        }
    }
}

#[cfg(test)]
fn dockerfile_location(text: &str, offset: usize) -> String {
    DockerfileLocations::new(text).at(offset)
}

/// The fingerprints of a report's findings, in order.
pub fn fingerprints(report: &FileReport) -> Vec<String> {
    let text = report.current_text().unwrap_or("");
    let file = repo_relative(report);
    let mut seen: HashMap<String, usize> = HashMap::new();
    // The normalized reference of the site a finding is on: the same after
    // a fix that only qualifies it (`node` → `docker.io/library/node`).
    let sites = if report.diagnostics.iter().any(counts) {
        crate::check::extract(report.kind, text, &crate::settings::Settings::default())
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    // Sites by start offset, so that each finding's site is a binary search
    // (with a bounded look back for sites that overlap), not a scan.
    let mut by_start: Vec<usize> = (0..sites.len()).collect();
    by_start.sort_by_key(|&i| sites[i].span.start);
    let locations = (report.kind == crate::kind::FileKind::Dockerfile
        && report.diagnostics.iter().any(|d| d.yaml_path.is_none()))
    .then(|| DockerfileLocations::new(text));
    let normalized = |span: Span| -> Option<String> {
        let upto = by_start.partition_point(|&i| sites[i].span.start <= span.start);
        let site = by_start[..upto]
            .iter()
            .rev()
            .take(16)
            .filter(|&&i| span.start < sites[i].span.end.max(sites[i].span.start + 1))
            .min()
            .map(|&i| &sites[i])?;
        match &site.value {
            crate::site::SiteValue::Resolved { parsed: Ok(r), .. } => Some(r.normalized()),
            _ => None,
        }
    };
    report
        .diagnostics
        .iter()
        .map(|d| {
            let raw = text.get(d.span.start..d.span.end).unwrap_or("").trim();
            let reference = normalized(d.span);
            let flagged = reference.as_deref().unwrap_or(raw);
            let location = match &d.yaml_path {
                _ if d.is_file_error() => String::new(),
                Some(p) => p.clone(),
                None => match &locations {
                    Some(l) => l.at(d.span.start),
                    None => String::new(),
                },
            };
            let key = fingerprint(&[d.code, &file, &location, flagged]);
            let n = seen.entry(key.clone()).or_insert(0);
            *n += 1;
            fingerprint(&[&key, &n.to_string()])
        })
        .collect()
}

fn counts(d: &Diagnostic) -> bool {
    // Per-file errors are never baselined: they say the file was not read;
    // nor are notes, which are not problems.
    d.is_finding()
}

/// The baseline text for these reports.
pub fn render(reports: &[FileReport]) -> String {
    let mut entries: Vec<Entry> = Vec::new();
    for r in reports {
        for (d, fp) in r.diagnostics.iter().zip(fingerprints(r)) {
            if counts(d) {
                entries.push(Entry {
                    file: repo_relative(r),
                    code: d.code.to_string(),
                    fingerprint: fp,
                    message: d.message.clone(),
                });
            }
        }
    }
    entries.sort();
    render_entries(&entries)
}

fn render_entries(entries: &[Entry]) -> String {
    let mut out = String::from("{\n  \"version\": 1,\n  \"findings\": [");
    out.push_str(&entries_text(entries));
    out.push_str("]\n}\n");
    out
}

/// The array's contents: one entry per line.
fn entries_text(entries: &[Entry]) -> String {
    if entries.is_empty() {
        return String::new();
    }
    let lines: Vec<String> = entries
        .iter()
        .map(|e| format!("    {}", serde_json::to_string(e).unwrap_or_default()))
        .collect();
    format!("\n{}\n  ", lines.join(",\n"))
}

/// Write a baseline file for these reports (atomically, inside the
/// repository root); returns the number of findings recorded.
pub fn write(path: &Path, reports: &[FileReport]) -> std::io::Result<usize> {
    let text = render(reports);
    if text.len() as u64 > MAX_BASELINE_SIZE {
        return Err(std::io::Error::other(format!(
            "the baseline would be {} MiB, over the {} MiB refit reads back; fix findings first, or record part of the repository",
            text.len() >> 20,
            MAX_BASELINE_SIZE >> 20
        )));
    }
    let count = reports
        .iter()
        .flat_map(|r| &r.diagnostics)
        .filter(|d| counts(d))
        .count();
    // A new file gets the umask's mode; an existing one keeps its mode;
    // a link that leads outside the repository is refused.
    crate::write::write_file(path, &crate::write::root_of(path), text.as_bytes()).map_err(|e| {
        match e {
            crate::write::WriteError::Io(e) => e,
            other => std::io::Error::other(other.to_string()),
        }
    })?;
    Ok(count)
}

/// The largest baseline refit reads: about 450,000 findings, far above
/// any repository adopting refit, and a bound on the memory a committed
/// file can make a run take.
pub const MAX_BASELINE_SIZE: u64 = 64 << 20;

/// Load a baseline file: a regular file of at most [`MAX_BASELINE_SIZE`]
/// bytes (a FIFO, a device or `/proc` file is refused, not read).
pub fn load(path: &Path) -> Result<Baseline, String> {
    let bytes = crate::engine::read_capped(path, MAX_BASELINE_SIZE).map_err(|d| {
        if d.code == "E003" {
            format!(
                "baseline {} is over the {} MiB limit for a baseline; regenerate it with `refit check --write-baseline`, or fix findings first",
                path.display(),
                MAX_BASELINE_SIZE >> 20
            )
        } else {
            format!("cannot read baseline {}: {}", path.display(), d.message)
        }
    })?;
    let text = String::from_utf8(bytes)
        .map_err(|e| format!("baseline {} is not UTF-8: {e}", path.display()))?;
    let file: BaselineFile = serde_json::from_str(&text)
        .map_err(|e| format!("baseline {} is not a refit baseline: {e}", path.display()))?;
    if file.version != 1 {
        return Err(format!(
            "baseline {} has version {}; this refit reads version 1",
            path.display(),
            file.version
        ));
    }
    Ok(Baseline {
        path: path.to_path_buf(),
        text,
        entries: file.findings,
    })
}

/// What each stale entry's fix deletes, and whether it is safe, for
/// entries in file order (`lines`) inside the list `[list.start, list.end)`.
///
/// The edits of several stale entries can be applied in any combination:
/// they never overlap, and each leaves valid JSON with every other entry's
/// text unchanged. Stale entries are taken in maximal runs of adjacent
/// ones:
/// - a run followed by a kept entry: each removes its own line up to the
///   next entry's line (its comma goes with it);
/// - a run at the end, after a kept entry: each removes the comma before
///   it and its object, `[previous entry's end, its end)`, so the last
///   entry left never keeps a trailing comma;
/// - a single entry: the list becomes empty.
///
/// When every entry of a longer list is stale, no such edits exist: both
/// the last entry's removal and the one before it need the comma between
/// them. Every entry but the last then removes its line (a run followed by
/// a kept entry), and the last removes the comma before it and itself,
/// which overlaps the previous entry's edit; that one fix is marked unsafe,
/// so applying every safe fix still leaves valid JSON, with the last entry
/// alone, which the next run removes with a safe fix. `--fix` does not use
/// these edits: it writes the list once without every stale entry.
fn removals(
    lines: &[EntryLine],
    stale: &HashSet<usize>,
    list: Span,
) -> HashMap<usize, (Span, Applicability)> {
    let mut out = HashMap::new();
    let is_stale = |k: usize| stale.contains(&lines[k].index);
    let mut k = 0;
    while k < lines.len() {
        if !is_stale(k) {
            k += 1;
            continue;
        }
        let first = k;
        while k < lines.len() && is_stale(k) {
            k += 1;
        }
        // Followed by a kept entry, or the whole list.
        let followed = k < lines.len();
        let whole = first == 0 && !followed;
        for j in first..k {
            let own_line = || Span::new(lines[j].start, lines[j + 1].start);
            let comma_before = || Span::new(lines[j - 1].object_end, lines[j].object_end);
            let removal = if whole && lines.len() == 1 {
                (list, Applicability::Safe)
            } else if followed || (whole && j + 1 < k) {
                (own_line(), Applicability::Safe)
            } else if !whole {
                (comma_before(), Applicability::Safe)
            } else {
                (comma_before(), Applicability::Unsafe)
            };
            out.insert(lines[j].index, removal);
        }
    }
    out
}

impl Baseline {
    /// Hide the findings the baseline records (each entry hides one
    /// finding). Returns, per entry, whether it matched.
    pub fn apply(&self, reports: &mut [FileReport]) -> Vec<bool> {
        let mut index: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, e) in self.entries.iter().enumerate() {
            index.entry(e.fingerprint.as_str()).or_default().push(i);
        }
        let mut used = vec![false; self.entries.len()];
        for r in reports.iter_mut() {
            let fps = fingerprints(r);
            let mut keep = Vec::with_capacity(r.diagnostics.len());
            for (d, fp) in r.diagnostics.drain(..).zip(fps) {
                let hit = counts(&d)
                    .then(|| index.get(fp.as_str()))
                    .flatten()
                    .and_then(|ids| ids.iter().find(|&&i| !used[i]))
                    .copied();
                match hit {
                    Some(i) => used[i] = true,
                    None => keep.push(d),
                }
            }
            r.diagnostics = keep;
        }
        used
    }

    /// Where each entry sits when it has a line of its own inside the list
    /// (`    {…},`), as `refit` writes it, in file order; empty unless every
    /// entry has such a line. One pass over the text; an entry's line is
    /// the first unclaimed line that parses to exactly that entry.
    fn entry_lines(&self, open: usize, close: usize) -> Vec<EntryLine> {
        let mut by_entry: HashMap<&Entry, Vec<usize>> = HashMap::new();
        for (i, e) in self.entries.iter().enumerate() {
            by_entry.entry(e).or_default().push(i);
        }
        for ids in by_entry.values_mut() {
            ids.reverse();
        }
        let mut found = Vec::new();
        let body = self.text.get(open..close).unwrap_or("");
        let mut pos = open;
        for line in body.split_inclusive('\n') {
            let start = pos;
            pos += line.len();
            let content = line.trim_end_matches(['\n', '\r']);
            let json = content.trim().trim_end_matches(',');
            if !json.starts_with('{') {
                continue;
            }
            let Ok(entry) = serde_json::from_str::<Entry>(json) else {
                continue;
            };
            if let Some(index) = by_entry.get_mut(&entry).and_then(Vec::pop) {
                let object = content.trim_end().trim_end_matches(',').trim_end();
                found.push(EntryLine {
                    index,
                    start,
                    end: start + content.len(),
                    object_end: start + object.len(),
                });
            }
        }
        // Only a list of exactly one entry per line can lose a line: every
        // entry must have been found.
        if found.len() != self.entries.len() {
            return Vec::new();
        }
        found
    }

    /// SUP002 findings on the baseline file for entries that matched
    /// nothing, each with a fix that removes its entry; `None` when every
    /// entry matched. Only entries `judged` accepts are considered: a run
    /// over part of the repository, or one that did not run an entry's
    /// rule on its file, cannot tell whether the entry still matches.
    pub fn unmatched_report(
        &self,
        used: &[bool],
        judged: &dyn Fn(&Entry) -> bool,
        fixing: bool,
    ) -> Option<FileReport> {
        let stale: Vec<usize> = (0..self.entries.len())
            .filter(|&i| !used.get(i).copied().unwrap_or(true) && judged(&self.entries[i]))
            .collect();
        if stale.is_empty() {
            return None;
        }
        let stale_set: HashSet<usize> = stale.iter().copied().collect();
        let open = self.text.find('[').map_or(0, |i| i + 1);
        let close = self.text.rfind(']').unwrap_or(self.text.len()).max(open);
        let lines = self.entry_lines(open, close);
        let removals = removals(&lines, &stale_set, Span::new(open, close));
        let located: HashMap<usize, &EntryLine> = lines.iter().map(|l| (l.index, l)).collect();
        let mut diagnostics = Vec::new();
        for &i in &stale {
            let e = &self.entries[i];
            let span = located
                .get(&i)
                .map_or(Span::new(open, open), |l| Span::new(l.start, l.end));
            // One edit, every other byte kept (see `removals`). An entry
            // not on a line of its own (a baseline someone reformatted)
            // gets no fix of its own; `--fix` still rewrites the list
            // without it.
            let fix = removals.get(&i).map(|&(removal, applicability)| {
                Fix::new(
                    "Remove the baseline entry".to_string(),
                    applicability,
                    vec![Edit {
                        span: removal,
                        content: String::new(),
                    }],
                )
            });
            diagnostics.push(Diagnostic {
                kind: crate::diagnostic::DiagnosticKind::Finding,
                code: crate::rules::sup002_unused_baseline_entry::RULE.code,
                name: crate::rules::sup002_unused_baseline_entry::RULE.name,
                severity: Severity::Warning,
                message: format!(
                    "Baseline entry for {} in `{}` matches no finding",
                    e.code, e.file
                ),
                span,
                help: Some("The finding was fixed or its code moved; remove the entry so the baseline only shrinks".to_string()),
                fix,
                yaml_path: None,
            });
        }
        // All stale entries at once, for `--fix`.
        let kept: Vec<Entry> = self
            .entries
            .iter()
            .enumerate()
            .filter(|(j, _)| !stale_set.contains(j))
            .map(|(_, e)| e.clone())
            .collect();
        let mut fixed = self.text.clone();
        fixed.replace_range(open..close, &entries_text(&kept));
        // When fixing, the entries are removed: they are applied fixes, not
        // findings left.
        let applied = if fixing {
            diagnostics
                .drain(..)
                .map(|d| crate::fix::Applied {
                    code: d.code,
                    title: "Remove the baseline entry".to_string(),
                    span: d.span,
                })
                .collect()
        } else {
            Vec::new()
        };
        Some(FileReport {
            display: crate::discover::display_path(&self.path),
            path: Some(self.path.clone()),
            // JSON is YAML: the baseline reads as a YAML document.
            kind: crate::kind::FileKind::Kubernetes,
            source: Some(self.text.clone()),
            diagnostics,
            fixed: fixing.then_some(fixed),
            applied,
            suggested: None,
            stamp: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerfile_locations_name_stage_and_instruction() {
        let text = "# syntax=docker/dockerfile:1\nFROM a AS b\nRUN x \\\n  FROM y\nFROM c\nCOPY --from=b /a /b\n";
        assert_eq!(dockerfile_location(text, 3), "directive");
        assert_eq!(
            dockerfile_location(text, text.find("a AS").unwrap_or(0)),
            "stage 1 FROM"
        );
        assert_eq!(
            dockerfile_location(text, text.find("c\n").unwrap_or(0)),
            "stage 2 FROM"
        );
        assert_eq!(
            dockerfile_location(text, text.find("--from").unwrap_or(0)),
            "stage 2 COPY"
        );
    }

    #[test]
    fn entries_round_trip() {
        let e = Entry {
            file: "Dockerfile".into(),
            code: "REG001".into(),
            fingerprint: "00ff".into(),
            message: "m \"q\"".into(),
        };
        let text = render_entries(&[e.clone(), e.clone()]);
        let parsed: BaselineFile = serde_json::from_str(&text).unwrap_or(BaselineFile {
            version: 0,
            findings: Vec::new(),
        });
        assert_eq!(parsed.findings, vec![e.clone(), e]);
        let empty: BaselineFile =
            serde_json::from_str(&render_entries(&[])).unwrap_or(BaselineFile {
                version: 0,
                findings: vec![],
            });
        assert_eq!(empty.version, 1);
    }
}
