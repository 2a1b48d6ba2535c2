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
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One recorded finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
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

/// The Dockerfile instruction keyword and stage index of an offset: the
/// structural location of a finding in a Dockerfile.
fn dockerfile_location(text: &str, offset: usize) -> String {
    let mut stage = 0usize;
    let mut keyword = "";
    let mut continued = false;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        if pos > offset {
            break;
        }
        let trimmed = line.trim_start();
        let was_continued = continued;
        continued = line.trim_end().ends_with('\\');
        pos += line.len();
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
        keyword = word;
    }
    if text
        .get(..offset.min(text.len()))
        .is_some_and(|before| !before.contains('\n') && before.trim_start().starts_with('#'))
    {
        return "directive".to_string();
    }
    format!("stage {stage} {}", keyword.to_ascii_uppercase())
}

/// The fingerprints of a report's findings, in order.
pub fn fingerprints(report: &FileReport) -> Vec<String> {
    let text = report.current_text().unwrap_or("");
    let file = repo_relative(report);
    let mut seen: HashMap<String, usize> = HashMap::new();
    // The normalized reference of the site a finding is on: the same after
    // a fix that only qualifies it (`node` → `docker.io/library/node`).
    let sites = if report.diagnostics.iter().any(counts) {
        crate::check::extract(report.kind, text, &crate::check::Settings::default())
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let normalized = |span: Span| -> Option<String> {
        let site = sites.iter().find(|s| {
            s.span.start <= span.start && span.start < s.span.end.max(s.span.start + 1)
        })?;
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
                _ if d.code.starts_with('E') => String::new(),
                Some(p) => p.clone(),
                None if report.kind == crate::check::FileKind::Dockerfile => {
                    dockerfile_location(text, d.span.start)
                }
                None => String::new(),
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
    !d.code.starts_with('E') && !d.is_note()
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

/// Write a baseline file for these reports (a temporary file, then a
/// rename); returns the number of findings recorded.
pub fn write(path: &Path, reports: &[FileReport]) -> std::io::Result<usize> {
    let text = render(reports);
    let count = reports
        .iter()
        .flat_map(|r| &r.diagnostics)
        .filter(|d| counts(d))
        .count();
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(&dir)?;
    std::io::Write::write_all(&mut tmp, text.as_bytes())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(count)
}

/// Load a baseline file.
pub fn load(path: &Path) -> Result<Baseline, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read baseline {}: {e}", path.display()))?;
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

    /// SUP002 findings on the baseline file for entries that matched
    /// nothing, each with a fix that removes its entry; `None` when every
    /// entry matched. `checked` limits this to entries of files that were
    /// checked (a run over part of the repository cannot judge the rest).
    pub fn unmatched_report(
        &self,
        used: &[bool],
        checked: &dyn Fn(&str) -> bool,
        fixing: bool,
    ) -> Option<FileReport> {
        let stale: Vec<usize> = (0..self.entries.len())
            .filter(|&i| !used.get(i).copied().unwrap_or(true) && checked(&self.entries[i].file))
            .collect();
        if stale.is_empty() {
            return None;
        }
        let open = self.text.find('[').map_or(0, |i| i + 1);
        let close = self.text.rfind(']').unwrap_or(self.text.len()).max(open);
        let mut diagnostics = Vec::new();
        for &i in &stale {
            let e = &self.entries[i];
            let needle = format!("\"fingerprint\":\"{}\"", e.fingerprint);
            let at = self.text.find(&needle).unwrap_or(open);
            let line_start = self.text[..at].rfind('\n').map_or(0, |p| p + 1);
            let line_end = self.text[at..]
                .find('\n')
                .map_or(self.text.len(), |p| at + p);
            // The fix rewrites the list without this entry: one edit inside
            // the brackets, every other byte kept.
            let rest: Vec<Entry> = self
                .entries
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, e)| e.clone())
                .collect();
            diagnostics.push(Diagnostic {
                code: crate::rules::sup002_unused_baseline_entry::RULE.code,
                name: crate::rules::sup002_unused_baseline_entry::RULE.name,
                severity: Severity::Warning,
                message: format!(
                    "Baseline entry for {} in `{}` matches no finding",
                    e.code, e.file
                ),
                span: Span::new(line_start, line_end),
                help: Some("The finding was fixed or its code moved; remove the entry so the baseline only shrinks".to_string()),
                fix: Some(Fix::new(
                    "Remove the baseline entry".to_string(),
                    Applicability::Safe,
                    vec![Edit {
                        span: Span::new(open, close),
                        content: entries_text(&rest),
                    }],
                )),
                yaml_path: None,
            });
        }
        // All stale entries at once, for `--fix`.
        let kept: Vec<Entry> = self
            .entries
            .iter()
            .enumerate()
            .filter(|(j, _)| !stale.contains(j))
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
            kind: crate::check::FileKind::Kubernetes,
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
