//! Coverage against an independent count: over `../shared/corpus` and the
//! real-repository panel (`/work/panel`, when present), the references refit
//! finds per file kind against plain line counts (`FROM` lines in files
//! named like Dockerfiles, `image:` and `repository:` lines in YAML files),
//! with every line that has no site put in a named bucket. The book's
//! coverage chapter (docs/src/development/coverage.md) explains the
//! buckets; this test prints the table (`cargo test --test coverage --
//! --nocapture`) and fails when a line falls in no bucket.

mod common;

use refit::kind::FileKind;

use refit::settings::Settings;

use refit::diagnostic::LineIndex;
use refit::discover::discover;
use refit::engine::decode_text;
use refit::kind::reads_wide_encodings;
use refit::site::SiteKind;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[derive(Default)]
struct Row {
    files: usize,
    sites: usize,
    from_lines: usize,
    from_sites: usize,
    image_lines: usize,
    image_matched: usize,
    repository_lines: usize,
    repository_matched: usize,
}

fn all_files(root: &Path) -> Vec<PathBuf> {
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .require_git(false)
        .filter_entry(|e| e.file_name() != ".git")
        .build();
    walker
        .flatten()
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .map(|e| e.path().to_path_buf())
        .collect()
}

fn is_yaml(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e == "yaml" || e == "yml")
}

fn dockerfile_named(p: &Path) -> bool {
    let n = p
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    (n.contains("dockerfile") || n.contains("containerfile")) && !n.ends_with(".md")
}

/// `key: value` as the first thing on a line (or after `- `), value present.
fn key_value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let t = line.trim_start();
    let t = t.strip_prefix("- ").map_or(t, str::trim_start);
    let v = t.strip_prefix(key)?.strip_prefix(':')?;
    let v = v.trim();
    let v = v.split(" #").next().unwrap_or(v).trim();
    (!v.is_empty()
        && !v.starts_with('#')
        && !matches!(v, "|" | ">" | "{}" | "\"\"" | "''" | "~" | "null"))
    .then_some(v)
}

fn from_line(line: &str) -> Option<&str> {
    let t = line.trim_start();
    let head = t.get(..5)?;
    (head.eq_ignore_ascii_case("from ")).then(|| t[5..].trim())
}

#[test]
fn coverage_against_line_counts() {
    let corpus = common::corpus_root();
    if !corpus.is_dir() {
        eprintln!("skipping: ../shared/corpus not found");
        return;
    }
    let mut roots = vec![("corpus", corpus)];
    if Path::new("/work/panel").is_dir() {
        roots.push(("panel", PathBuf::from("/work/panel")));
    } else {
        eprintln!("note: /work/panel absent; only the corpus is counted");
    }
    for (label, root) in roots {
        let targets: BTreeMap<PathBuf, FileKind> = discover(std::slice::from_ref(&root))
            .into_iter()
            .map(|t| (t.path, t.kind))
            .collect();
        let mut rows: BTreeMap<&str, Row> = BTreeMap::new();
        // Why a counted line has no site: bucket → lines.
        let mut buckets: BTreeMap<String, usize> = BTreeMap::new();
        let mut examples: BTreeMap<String, String> = BTreeMap::new();
        // `COVERAGE_ALL=1` lists every line without a site.
        let all = std::env::var_os("COVERAGE_ALL").is_some();
        let mut bucket = |name: &str, path: &Path, line: usize| {
            if all {
                eprintln!("{name}\t{}:{}", path.display(), line + 1);
            }
            *buckets.entry(name.to_string()).or_default() += 1;
            examples
                .entry(name.to_string())
                .or_insert_with(|| format!("{}:{}", path.display(), line + 1));
        };
        for path in all_files(&root) {
            let counted = dockerfile_named(&path) || is_yaml(&path);
            let kind = targets.get(&path).copied();
            if !counted && kind.is_none() {
                continue;
            }
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            let wide = kind.is_some_and(reads_wide_encodings) || is_yaml(&path);
            let Ok(text) = decode_text(bytes, wide).map(|d| d.text) else {
                continue;
            };
            let label_kind = kind.map_or("not read", |k| k.as_str());
            let row = rows.entry(label_kind).or_default();
            row.files += 1;
            let (sites, error) = match kind {
                Some(k) => {
                    let settings = refit::workspace::Workspace::shared().source_options(
                        &path,
                        k,
                        refit::check::options(&Settings::default()),
                    );
                    match refit::check::extract_with_notes(k, &text, &settings).map(|(s, _)| s) {
                        Ok(s) => (s, false),
                        Err(_) => (Vec::new(), true),
                    }
                }
                None => (Vec::new(), false),
            };
            row.sites += sites.len();
            let index = LineIndex::new(&text);
            let lines_with: BTreeSet<usize> =
                sites.iter().map(|s| index.line_of(s.span.start)).collect();
            let from_sites: BTreeSet<usize> = sites
                .iter()
                .filter(|s| s.kind == SiteKind::From)
                .map(|s| index.line_of(s.span.start))
                .collect();
            row.from_sites += from_sites.len();
            let stage_names: BTreeSet<String> = text
                .lines()
                .filter_map(from_line)
                .filter_map(|f| {
                    let words: Vec<&str> = f.split_whitespace().collect();
                    let at = words.iter().position(|w| w.eq_ignore_ascii_case("as"))?;
                    words.get(at + 1).map(|w| w.to_ascii_lowercase())
                })
                .collect();
            let lines: Vec<&str> = text.lines().collect();
            for &n in &from_sites {
                if lines.get(n).is_none_or(|l| from_line(l).is_none()) {
                    bucket("FROM site on a line the plain count misses", &path, n);
                }
            }
            for (n, line) in lines.iter().enumerate() {
                let line = *line;
                if dockerfile_named(&path)
                    && let Some(from) = from_line(line)
                {
                    row.from_lines += 1;
                    if from_sites.contains(&n) {
                        continue;
                    }
                    let image = from
                        .split_whitespace()
                        .find(|w| !w.starts_with("--"))
                        .unwrap_or("")
                        .to_ascii_lowercase();
                    let why = if kind.is_none() {
                        "FROM: file not read (not a Dockerfile name refit knows)"
                    } else if kind != Some(FileKind::Dockerfile) {
                        "FROM: file read as another kind"
                    } else if error {
                        "FROM: file does not parse (E004)"
                    } else if image == "scratch" {
                        "FROM: scratch (no image)"
                    } else if stage_names.contains(&image) {
                        "FROM: an earlier stage"
                    } else if from.contains('$') {
                        "FROM: variable resolved elsewhere or unresolvable"
                    } else if refit::sources::template::placeholder(from, false).is_some() {
                        "FROM: a template placeholder (note N001)"
                    } else {
                        "FROM: other (heredoc, continuation, comment text)"
                    };
                    bucket(why, &path, n);
                }
                if !is_yaml(&path) {
                    continue;
                }
                for key in ["image", "repository"] {
                    let Some(value) = key_value(line, key) else {
                        continue;
                    };
                    let matched = lines_with.contains(&n);
                    if key == "image" {
                        row.image_lines += 1;
                        row.image_matched += usize::from(matched);
                    } else {
                        row.repository_lines += 1;
                        row.repository_matched += usize::from(matched);
                    }
                    if matched {
                        continue;
                    }
                    let v = value.trim_matches(['"', '\'']);
                    let why = if kind.is_none() {
                        "not read: a YAML file refit does not classify (Chart.yaml and the like)"
                    } else if kind == Some(FileKind::Template) {
                        "not read: a chart template"
                    } else if error {
                        "file does not parse (E004)"
                    } else if v.contains("{{") {
                        "value is a template expression"
                    } else if v.starts_with(['{', '[', '&', '*', '!']) {
                        "value is a flow collection, anchor, alias or tag"
                    } else if key == "repository" && (v.contains("://") || v.starts_with("oci:")) {
                        "repository: a chart or Git repository URL, not an image"
                    } else if key == "repository" {
                        "repository: not in an image map (no tag/version, or part of a map read at another line)"
                    } else if kind == Some(FileKind::Kubernetes) {
                        "image: not in a container, volume or known CR field (or no apiVersion/kind)"
                    } else {
                        "image: in a position this kind's front-end does not read"
                    };
                    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    let why = if kind.is_none() && name == "Chart.yaml" {
                        "not read: Chart.yaml (`annotations.images`, dependency repositories)"
                    } else {
                        why
                    };
                    bucket(&format!("{key}: {why} [{label_kind}]"), &path, n);
                }
            }
        }
        eprintln!("\n== {label} ==");
        eprintln!(
            "{:<16} {:>6} {:>6} {:>6} {:>6} {:>7} {:>7} {:>6} {:>6}",
            "kind", "files", "sites", "FROM", "FROMok", "image:", "imageok", "repo:", "repook"
        );
        for (kind, r) in &rows {
            eprintln!(
                "{kind:<16} {:>6} {:>6} {:>6} {:>6} {:>7} {:>7} {:>6} {:>6}",
                r.files,
                r.sites,
                r.from_lines,
                r.from_sites,
                r.image_lines,
                r.image_matched,
                r.repository_lines,
                r.repository_matched
            );
        }
        eprintln!("-- lines without a site, by reason --");
        for (name, n) in &buckets {
            eprintln!("{n:>6}  {name}  (e.g. {})", examples[name]);
        }
        assert!(
            !buckets.keys().any(|k| k.contains("other (")),
            "{label}: FROM lines with no reason: {buckets:?}"
        );
    }
}
