//! Differential YAML tests against PyYAML's libyaml bindings (libyaml's
//! grammar, which go-yaml, behind kubectl, Helm and Compose, ports):
//! - every YAML file of `../shared/corpus` (and of the real-repository panel
//!   at `/work/panel`, when present, and the `REFIT_YAML_EXTRA` folders)
//!   that PyYAML loads is read by refit without E004;
//! - refit's YAML parser accepts exactly the files libyaml's parser accepts,
//!   on the corpus, the fixtures, `tests/data/yaml-grammar/` (constructs
//!   from CRD bundles and their invalid neighbours) and the folders named in
//!   `REFIT_YAML_EXTRA` (`:`-separated; e.g. fetched CRD bundles).
//!
//! Skips the PyYAML parts with a message when the corpus or PyYAML is
//! absent; the `yaml-grammar` cases are checked against their names
//! (`valid-*`, `invalid-*`) either way.

mod common;

use refit::settings::Settings;

use refit::check::check_with;
use refit::discover::classify_explicit;
use refit::engine::decode_text;
use refit::kind::reads_wide_encodings;
use refit::sources::yaml::{Node, Style};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Files PyYAML loads that refit rejects, with the reason. Only cases where
/// go-yaml (kubectl, Helm, Compose) rejects the file too belong here.
const EXCEPTIONS: &[(&str, &str)] = &[];

fn yaml_files(root: &Path, out: &mut Vec<PathBuf>) {
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .git_ignore(false)
        .git_exclude(false)
        .git_global(false)
        .ignore(false)
        .filter_entry(|e| e.file_name() != ".git")
        .build();
    for entry in walker.flatten() {
        let p = entry.path();
        let yaml = p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e == "yaml" || e == "yml");
        if yaml && entry.file_type().is_some_and(|t| t.is_file()) {
            out.push(p.to_path_buf());
        }
    }
}

/// The files PyYAML loads, or `None` when python3 or PyYAML is missing.
fn pyyaml_loads(files: &[PathBuf]) -> Option<Vec<PathBuf>> {
    Some(pyyaml(files, false)?.lines().map(PathBuf::from).collect())
}

/// What PyYAML's libyaml makes of each file: (path, libyaml's parser reads
/// it, the safe loader loads it).
fn pyyaml_grammar(files: &[PathBuf]) -> Option<Vec<(PathBuf, bool, bool)>> {
    let out = pyyaml(files, true)?;
    let mut rows = Vec::new();
    for line in out.lines() {
        let mut cols = line.rsplitn(3, '\t');
        let (Some(loaded), Some(parsed), Some(path)) = (cols.next(), cols.next(), cols.next())
        else {
            return None;
        };
        rows.push((PathBuf::from(path), parsed == "1", loaded == "1"));
    }
    Some(rows)
}

fn pyyaml(files: &[PathBuf], grammar: bool) -> Option<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/pyyaml-loads.py");
    let mut child = Command::new("python3")
        .arg(script)
        .args(grammar.then_some("--grammar"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    let list: String = files.iter().map(|f| format!("{}\n", f.display())).collect();
    let writer = std::thread::spawn(move || stdin.write_all(list.as_bytes()));
    let out = child.wait_with_output().ok()?;
    let _ = writer.join();
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn yaml_that_pyyaml_loads_is_not_e004() {
    let corpus = common::corpus_root();
    if !corpus.is_dir() {
        eprintln!("skipping: ../shared/corpus not found");
        return;
    }
    let mut roots = vec![corpus.clone()];
    let panel = Path::new("/work/panel");
    if panel.is_dir() {
        roots.push(panel.to_path_buf());
    } else {
        eprintln!("note: /work/panel absent; the panel part is skipped");
    }
    if let Some(extra) = std::env::var_os("REFIT_YAML_EXTRA") {
        roots.extend(std::env::split_paths(&extra));
    }
    let mut files = Vec::new();
    for root in &roots {
        yaml_files(root, &mut files);
    }
    let Some(loaded) = pyyaml_loads(&files) else {
        eprintln!("skipping: python3 with PyYAML is not available (`pip install pyyaml`)");
        return;
    };
    let mut failures = Vec::new();
    let mut checked = 0;
    for path in &loaded {
        let rel = path
            .strip_prefix(&corpus)
            .unwrap_or(path)
            .to_string_lossy()
            .to_string();
        let kind = classify_explicit(path);
        let Ok(bytes) = std::fs::read(path) else {
            continue;
        };
        let text = match decode_text(bytes, reads_wide_encodings(kind)) {
            Ok(d) => d.text,
            Err(e) => {
                failures.push(format!("{rel}: {} {}", e.code, e.message));
                continue;
            }
        };
        checked += 1;
        let settings = Settings::default();
        let input = refit::workspace::Workspace::shared().source_options(
            path,
            kind,
            refit::check::options(&settings),
        );
        let result = check_with(kind, &text, &settings, &input);
        let exception = EXCEPTIONS.iter().find(|(p, _)| *p == rel);
        match (result, exception) {
            (Err(e), None) if e.code == "E004" => {
                failures.push(format!("{rel} ({}): {}", kind.as_str(), e.message))
            }
            (Ok(_), Some(_)) => failures.push(format!("{rel}: listed as an exception but read")),
            _ => {}
        }
    }
    eprintln!(
        "differential YAML: {} files, {} loaded by PyYAML, {checked} checked by refit",
        files.len(),
        loaded.len()
    );
    assert!(
        failures.is_empty(),
        "{} YAML files PyYAML loads were rejected:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn grammar_cases() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/yaml-grammar")
}

/// Where refit may reject what libyaml's parser reads: an alias to an
/// anchor its document does not define (PyYAML's and go-yaml's loaders
/// reject it too), and refit's own nesting limit.
fn refit_limit(message: &str) -> bool {
    message.contains("undefined alias") || message.contains("nested more than")
}

/// The constructs taken from CRD bundles (and their invalid neighbours),
/// checked against their names without PyYAML: `valid-*` is read, with
/// every scalar's span pointing at its text, `invalid-*` is an error.
#[test]
fn yaml_grammar_cases_by_name() {
    let mut files = Vec::new();
    yaml_files(&grammar_cases(), &mut files);
    assert!(files.len() >= 15, "{} cases", files.len());
    let mut failures = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(path).unwrap();
        match (
            name.starts_with("valid-"),
            refit::sources::yaml::parse(&text),
        ) {
            (true, Err(e)) => failures.push(format!("{name}: rejected: {}", e.message)),
            (false, Ok(_)) => failures.push(format!("{name}: accepted")),
            (true, Ok(docs)) => {
                for doc in &docs {
                    check_spans(&text, &doc.root, &mut failures, &name);
                }
            }
            (false, Err(_)) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every scalar's span is in the text; a quoted one starts and ends with its
/// quote; a verbatim one's bytes are its value.
fn check_spans(text: &str, node: &Node, failures: &mut Vec<String>, name: &str) {
    match node {
        Node::Scalar(s) => {
            let Some(written) = text.get(s.span.start..s.span.end) else {
                failures.push(format!("{name}: span {:?} outside the text", s.span));
                return;
            };
            let quote = match s.style {
                Style::SingleQuoted => Some('\''),
                Style::DoubleQuoted => Some('"'),
                _ => None,
            };
            if let Some(q) = quote
                && !(written.len() >= 2 && written.starts_with(q) && written.ends_with(q))
            {
                failures.push(format!("{name}: quoted scalar written as {written:?}"));
            }
            if let Some(c) = s.content
                && text.get(c.start..c.end) != Some(s.value.as_str())
            {
                failures.push(format!(
                    "{name}: verbatim span of {:?} is not its value",
                    s.value
                ));
            }
        }
        Node::Map(pairs, _) => {
            for (k, v) in pairs {
                check_spans(text, k, failures, name);
                check_spans(text, v, failures, name);
            }
        }
        Node::Seq(items, _) => {
            for item in items {
                check_spans(text, item, failures, name);
            }
        }
        Node::Alias(_) => {}
    }
}

/// refit's YAML parser accepts exactly what libyaml's parser accepts.
#[test]
fn yaml_acceptance_matches_libyaml() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut roots = vec![grammar_cases(), root.join("fixtures")];
    let corpus = common::corpus_root();
    if corpus.is_dir() {
        roots.push(corpus);
    } else {
        eprintln!("note: ../shared/corpus not found; its part is skipped");
    }
    if let Some(extra) = std::env::var_os("REFIT_YAML_EXTRA") {
        roots.extend(std::env::split_paths(&extra));
    }
    let mut files = Vec::new();
    for r in &roots {
        yaml_files(r, &mut files);
    }
    let Some(rows) = pyyaml_grammar(&files) else {
        eprintln!(
            "skipping: python3 with PyYAML's libyaml bindings is not available (`pip install pyyaml`)"
        );
        return;
    };
    assert_eq!(rows.len(), files.len(), "PyYAML answered for every file");
    let mut failures = Vec::new();
    let (mut read, mut rejected, mut limits) = (0, 0, 0);
    for (path, parsed, loaded) in &rows {
        // Wide encodings are decoded by refit before parsing; libyaml
        // reads them itself. Compare UTF-8 files only.
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let rel = path.strip_prefix(root).unwrap_or(path).display();
        match (refit::sources::yaml::parse(&text), parsed) {
            (Ok(_), true) => read += 1,
            (Err(_), false) => rejected += 1,
            (Ok(_), false) => failures.push(format!("{rel}: refit reads what libyaml rejects")),
            (Err(e), true) if refit_limit(&e.message) && !loaded => limits += 1,
            (Err(e), true) => failures.push(format!(
                "{rel}: libyaml reads what refit rejects: {}",
                e.message
            )),
        }
    }
    eprintln!(
        "YAML acceptance: {} files; both read {read}, both reject {rejected}, refit's limits {limits}",
        rows.len()
    );
    assert!(
        failures.is_empty(),
        "{} files where refit and libyaml disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Texts built at random from YAML's significant pieces (indentation,
/// quotes, flow brackets, block indicators, anchors, tags, document
/// markers, CRLF): refit's parser accepts exactly what libyaml's does,
/// and every scalar it reads has a span that points at its text. The seed
/// is fixed, so a failure names a text that fails again.
#[test]
fn generated_yaml_acceptance_matches_libyaml() {
    const PIECES: &[&str] = &[
        "a",
        "b: ",
        "- ",
        "\n",
        "\n",
        "\n  ",
        "  ",
        " ",
        "'",
        "\"",
        "x y",
        "[",
        "]",
        "{",
        "}",
        ", ",
        " #c",
        "&a ",
        "*a",
        "!!str ",
        "!t ",
        "|",
        ">-",
        "---\n",
        "...\n",
        "\t",
        "\\",
        "''",
        ":",
        "? ",
        "\r\n",
        "é",
        "%YAML 1.1\n",
        "-",
        "\"q\\\n  r\"",
        "'s\nt'",
        "k:\n",
        "   ",
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut rng = fastrand::Rng::with_seed(22);
    let mut files = Vec::new();
    let mut texts = Vec::new();
    for i in 0..3000 {
        let n = rng.usize(1..40);
        let text: String = (0..n).map(|_| PIECES[rng.usize(..PIECES.len())]).collect();
        let path = dir.path().join(format!("{i}.yaml"));
        std::fs::write(&path, &text).unwrap();
        files.push(path);
        texts.push(text);
    }
    let Some(rows) = pyyaml_grammar(&files) else {
        eprintln!("skipping: python3 with PyYAML's libyaml bindings is not available");
        return;
    };
    let mut failures = Vec::new();
    let (mut read, mut rejected) = (0, 0);
    for ((_, parsed, loaded), text) in rows.iter().zip(&texts) {
        match (refit::sources::yaml::parse(text), parsed) {
            (Ok(docs), true) => {
                read += 1;
                for doc in &docs {
                    check_spans(text, &doc.root, &mut failures, &format!("{text:?}"));
                }
            }
            (Err(_), false) => rejected += 1,
            (Err(e), true) if refit_limit(&e.message) && !loaded => rejected += 1,
            (Ok(_), false) => failures.push(format!("refit reads what libyaml rejects: {text:?}")),
            (Err(e), true) => failures.push(format!(
                "libyaml reads what refit rejects ({}): {text:?}",
                e.message
            )),
        }
    }
    eprintln!(
        "generated YAML: {} texts, read {read}, rejected {rejected}",
        rows.len()
    );
    assert!(
        read > 100 && rejected > 100,
        "read {read}, rejected {rejected}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
