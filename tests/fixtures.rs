//! The fixture harness: every input under `fixtures/<CODE>-<name>/` is
//! checked with only that rule selected. Beside each input:
//! - `<input>.snap`: an insta snapshot of the rendered diagnostics with fix
//!   previews (`INSTA_UPDATE=always` or `cargo insta accept` to refresh);
//! - `<input>.fixed`: the input after all fixes, unsafe ones included
//!   (`BLESS=1 cargo test` to refresh). Inputs named `valid-*` must produce
//!   nothing and have no `.fixed` file.

use refit::check::{Settings, check_text};
use refit::discover::classify;
use refit::engine::{FixMode, process_text};
use refit::fix;
use refit::report::{Format, RenderOptions, render};
use refit::rules::{Fixability, RULES};
use std::path::{Path, PathBuf};

fn fixture_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn bless() -> bool {
    std::env::var_os("BLESS").is_some_and(|v| v != "0")
}

struct Case {
    code: String,
    path: PathBuf,
    name: String,
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(fixture_root())
        .expect("fixtures/ exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let dir_name = dir.file_name().unwrap().to_string_lossy().to_string();
        let code = dir_name.split('-').next().unwrap().to_string();
        let mut files = Vec::new();
        collect(&dir, &mut files);
        files.sort();
        for path in files {
            let name = path
                .strip_prefix(&dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.push(Case {
                code: code.clone(),
                path,
                name,
            });
        }
    }
    out
}

/// Inputs under a fixture folder, at any depth (`.github/workflows/` needs
/// its folders), named the way production classifies files.
fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if is_input(&path) {
            out.push(path);
        }
    }
}

fn is_input(path: &Path) -> bool {
    let name = path.file_name().unwrap().to_string_lossy();
    let generated = [".snap", ".fixed", ".env"]
        .iter()
        .any(|s| name.ends_with(s));
    !generated && name != "Chart.yaml" && classify(path).is_some()
}

/// Settings as the CLI would make them for this file (`.env`, `Chart.yaml`).
fn file_settings(path: &Path, code: &str) -> Settings {
    let mut settings = settings_for(code);
    let dir = path.parent().unwrap();
    // A fixture folder's refit.toml applies as it would in a repository
    // (policy, rule options, knowledge, overrides); the fixture's rule stays
    // the one selected.
    let absolute = std::path::absolute(path).unwrap();
    let resolver = refit::config::Resolver::new(None, false).unwrap();
    if let Some(config) = resolver.for_file(&absolute).unwrap() {
        config.apply(&absolute, &mut settings);
    }
    if let Ok(env) = std::fs::read_to_string(dir.join(".env")) {
        settings.source.dotenv = refit::sources::parse_dotenv(&env);
    }
    // Files beside this one, as the CLI reads them: a containerd
    // `hosts.toml` mirrors the registry its folder names, Helm values read
    // their chart, and every file sees its repository's context (the
    // fixture folder with a refit.toml, or the folder itself).
    if let Some(kind) = classify(path)
        && let Some(local) = refit::engine::local_settings(path, kind, &settings)
    {
        settings = local;
    }
    settings
}

fn settings_for(code: &str) -> Settings {
    // SUP001 judges suppressions of the other rules, so they all run.
    let select = if code == "SUP001" { "ALL" } else { code };
    Settings {
        select: vec![select.to_string()],
        ..Settings::default()
    }
}

#[test]
fn fixtures() {
    let mut failures = Vec::new();
    for case in cases() {
        let text = std::fs::read_to_string(&case.path).unwrap();
        let kind = classify(&case.path).unwrap();
        let settings = file_settings(&case.path, &case.code);
        let display = format!("{}/{}", case.code, case.name);
        let checked = match check_text(kind, &text, &settings) {
            Ok(c) => c,
            Err(e) => {
                failures.push(format!("{display}: does not parse: {}", e.message));
                continue;
            }
        };
        let own: Vec<_> = checked
            .diagnostics
            .iter()
            .filter(|d| d.code == case.code)
            .collect();
        let is_valid = case.name.rsplit('/').next().unwrap().starts_with("valid-")
            || case.name.starts_with("valid-");
        if is_valid && !checked.diagnostics.is_empty() {
            failures.push(format!(
                "{display}: a valid-* fixture produced {:?}",
                checked
                    .diagnostics
                    .iter()
                    .map(|d| &d.message)
                    .collect::<Vec<_>>()
            ));
        }
        if !is_valid && own.is_empty() {
            failures.push(format!("{display}: expected at least one {}", case.code));
        }
        let rule = RULES.iter().find(|r| r.code == case.code).unwrap();
        for d in &own {
            match (rule.fixability, &d.fix) {
                (Fixability::None, Some(_)) => failures.push(format!(
                    "{display}: {} declares no fix but made one",
                    rule.code
                )),
                (Fixability::Always, None) => failures.push(format!(
                    "{display}: {} declares a fix always but made none",
                    rule.code
                )),
                _ => {}
            }
        }

        // Snapshot of the rendered diagnostics, with fix previews.
        let report = process_text(text.clone(), &display, None, kind, &settings, FixMode::Off);
        let options = RenderOptions {
            color: false,
            fixing: false,
            unsafe_fixes: true,
            width: RenderOptions::DEFAULT_WIDTH,
            pretty: true,
        };
        let rendered = render(Format::Human, std::slice::from_ref(&report), &options);
        insta::with_settings!({
            snapshot_path => case.path.parent().unwrap(),
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            let file_name = case.path.file_name().unwrap().to_string_lossy().to_string();
            insta::assert_snapshot!(file_name, rendered);
        });

        // Fixes: compare with the `.fixed` file, converge, touch nothing else.
        let fixed_path = PathBuf::from(format!("{}.fixed", case.path.display()));
        // A `.fixed` file must not be classified as an input itself.
        let first = check_text(kind, &text, &settings).unwrap();
        let outcome = fix::fix(&text, first, true, |t| check_text(kind, t, &settings));
        if let Some(reason) = &outcome.refused {
            failures.push(format!("{display}: fix refused: {reason}"));
        }
        if !fix::only_inside_regions(&text, &outcome.text, &outcome.regions) {
            failures.push(format!("{display}: fix changed bytes outside its edits"));
        }
        let again = fix::fix(
            &outcome.text,
            check_text(kind, &outcome.text, &settings).unwrap(),
            true,
            |t| check_text(kind, t, &settings),
        );
        if again.text != outcome.text {
            failures.push(format!("{display}: a second fix changed the file again"));
        }
        if outcome.text == text {
            if fixed_path.exists() {
                failures.push(format!(
                    "{display}: nothing to fix but a .fixed file exists"
                ));
            }
        } else if bless() {
            std::fs::write(&fixed_path, &outcome.text).unwrap();
        } else {
            match std::fs::read_to_string(&fixed_path) {
                Ok(expected) if expected == outcome.text => {}
                Ok(_) => failures.push(format!(
                    "{display}: fixed output differs from {} (BLESS=1 to update)",
                    fixed_path.display()
                )),
                Err(_) => failures.push(format!(
                    "{display}: missing {} (BLESS=1 to create)",
                    fixed_path.display()
                )),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "fixture failures:\n{}",
        failures.join("\n")
    );
}

/// Every rule has a firing fixture and a `valid-*` fixture, and every
/// fixture folder names a rule.
#[test]
fn every_rule_has_fixtures() {
    let cases = cases();
    for rule in RULES {
        let mine: Vec<_> = cases.iter().filter(|c| c.code == rule.code).collect();
        assert!(
            mine.iter().any(|c| c.name.contains("valid-")),
            "{} has no valid-* fixture",
            rule.code
        );
        // SUP002 judges a baseline file against the findings of the files
        // beside it: its firing fixtures are `refit-baseline.json` files
        // (see `baseline_fixtures`).
        assert!(
            mine.iter().any(|c| !c.name.contains("valid-"))
                || (rule.code == "SUP002" && !baseline_cases().is_empty()),
            "{} has no firing fixture",
            rule.code
        );
        let dir = fixture_root().join(format!("{}-{}", rule.code, rule.name));
        assert!(dir.is_dir(), "missing fixture folder {}", dir.display());
    }
    for case in &cases {
        assert!(
            RULES.iter().any(|r| r.code == case.code),
            "fixture for unknown rule {}",
            case.code
        );
    }
}

/// `fixtures/SUP002-*/**/refit-baseline.json`.
fn baseline_cases() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(dirs) = std::fs::read_dir(fixture_root()) else {
        return out;
    };
    for dir in dirs.flatten().map(|e| e.path()) {
        if dir
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("SUP002-"))
        {
            let mut files = Vec::new();
            find_named(&dir, "refit-baseline.json", &mut files);
            out.extend(files);
        }
    }
    out.sort();
    out
}

fn find_named(dir: &Path, name: &str, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            find_named(&path, name, out);
        } else if path.file_name().is_some_and(|n| n == name) {
            out.push(path);
        }
    }
}

/// A baseline fixture: `refit-baseline.json` beside a folder of files (the
/// repository it was written for, named `valid-*` so the per-file harness
/// sees them as clean under SUP002 alone). The files are checked with every
/// rule, the baseline applied, and the SUP002 findings on the baseline
/// snapshotted; `refit-baseline.json.fixed` is the baseline with its stale
/// entries removed.
#[test]
fn baseline_fixtures() {
    let cases = baseline_cases();
    assert!(
        !cases.is_empty(),
        "SUP002 has no refit-baseline.json fixture"
    );
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    for baseline_path in cases {
        let dir = baseline_path.parent().unwrap();
        let mut inputs = Vec::new();
        collect(dir, &mut inputs);
        inputs.sort();
        let settings = Settings {
            select: vec!["ALL".to_string()],
            ..Settings::default()
        };
        // Paths as the CLI run from the repository root reports them.
        let mut reports: Vec<_> = inputs
            .iter()
            .map(|p| {
                let rel = p.strip_prefix(manifest).unwrap().to_path_buf();
                let text = std::fs::read_to_string(p).unwrap();
                process_text(
                    text,
                    &rel.to_string_lossy(),
                    Some(manifest.join(&rel)),
                    classify(p).unwrap(),
                    &settings,
                    FixMode::Off,
                )
            })
            .collect();
        let baseline = refit::baseline::load(&baseline_path).unwrap();
        let unfiltered = reports.clone();
        let used = baseline.apply(&mut reports);
        let report = baseline
            .unmatched_report(&used, &|_| true, true)
            .expect("a baseline fixture has stale entries");
        // Fixing: the stale entries are applied fixes, none are left.
        assert!(report.diagnostics.is_empty());
        assert!(!report.applied.is_empty());
        let shown = baseline
            .unmatched_report(&used, &|_| true, false)
            .expect("stale entries");
        assert!(
            shown
                .diagnostics
                .iter()
                .all(|d| d.code == "SUP002" && d.fix.is_some())
        );
        let options = RenderOptions {
            color: false,
            fixing: false,
            unsafe_fixes: true,
            width: RenderOptions::DEFAULT_WIDTH,
            pretty: true,
        };
        let mut display = shown.clone();
        display.display = baseline_path
            .strip_prefix(manifest)
            .unwrap()
            .to_string_lossy()
            .to_string();
        let rendered = render(Format::Human, std::slice::from_ref(&display), &options);
        insta::with_settings!({
            snapshot_path => dir,
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!("refit-baseline.json", rendered);
        });
        let fixed = report.fixed.unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&fixed).unwrap();
        assert!(parsed["findings"].is_array());
        let fixed_path = dir.join("refit-baseline.json.fixed");
        if bless() {
            std::fs::write(&fixed_path, &fixed).unwrap();
        } else {
            assert_eq!(
                std::fs::read_to_string(&fixed_path).unwrap_or_default(),
                fixed,
                "{} (BLESS=1 to update)",
                fixed_path.display()
            );
        }
        // After the fix, every entry matches.
        let again = refit::baseline::Baseline {
            path: baseline_path.clone(),
            text: fixed.clone(),
            entries: serde_json::from_value(parsed["findings"].clone()).unwrap(),
        };
        let mut fresh = unfiltered;
        let used = again.apply(&mut fresh);
        assert!(used.iter().all(|u| *u));
    }
}
