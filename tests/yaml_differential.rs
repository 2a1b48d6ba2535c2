//! Differential YAML test: every YAML file of `../shared/corpus` (and of the
//! real-repository panel at `/work/panel`, when present) that PyYAML loads
//! (libyaml's grammar, as go-yaml's is) must be read by refit without E004.
//! Skips with a message when the corpus or PyYAML is absent.

mod common;

use refit::settings::Settings;

use refit::check::check_with;
use refit::discover::classify_explicit;
use refit::engine::decode_text;
use refit::kind::reads_wide_encodings;
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
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/pyyaml-loads.py");
    let mut child = Command::new("python3")
        .arg(script)
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
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(PathBuf::from)
            .collect(),
    )
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
