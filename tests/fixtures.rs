//! The fixture harness: every input under `fixtures/<CODE>-<name>/` is
//! checked with only that rule selected. Beside each input:
//! - `<input>.snap`: an insta snapshot of the rendered diagnostics with fix
//!   previews (`INSTA_UPDATE=always` or `cargo insta accept` to refresh);
//! - `<input>.fixed`: the input after all fixes, unsafe ones included
//!   (`BLESS=1 cargo test` to refresh). Inputs named `valid-*` must produce
//!   nothing and have no `.fixed` file.
//!
//! Each input is its own test, named `CODE/case` (`cargo test --test
//! fixtures REG001` runs one rule's cases, and a failure names its case);
//! the harness is libtest-mimic (`harness = false` in Cargo.toml).

use libtest_mimic::{Arguments, Failed, Trial};
use refit::check::check_with;
use refit::discover::classify;
use refit::engine::{FixMode, process_text, process_with};
use refit::fix;
use refit::report::{Format, RenderOptions, render};
use refit::rules::{Fixability, RULES};
use refit::settings::Settings;
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
    // A `Chart.yaml` is there for the values or templates beside it,
    // unless it names OCI dependencies and has no values beside it.
    let values_beside = || {
        std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("values"))
    };
    let oci = || std::fs::read_to_string(path).is_ok_and(|t| t.contains("oci://"));
    let chart = name == "Chart.yaml" && (!oci() || values_beside());
    // A test harness's file is there for the test data beside it.
    let harness = refit::workspace::TEST_HARNESS_NAMES
        .iter()
        .any(|h| name.eq_ignore_ascii_case(h));
    !generated && !chart && !harness && classify(path).is_some()
}

/// Settings as the CLI would make them for this file (`.env`, `Chart.yaml`).
fn file_settings(path: &Path, code: &str) -> (Settings, refit::sources::SourceOptions) {
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
    // Files beside this one, as the CLI reads them: a containerd
    // `hosts.toml` mirrors the registry its folder names, Helm values read
    // their chart, Compose files their `.env`, and every file sees its
    // repository's workspace (the fixture folder with a refit.toml, or the
    // folder itself).
    let mut input = match classify(path) {
        Some(kind) => refit::workspace::Workspace::shared().source_options(
            path,
            kind,
            refit::check::options(&settings),
        ),
        None => refit::check::options(&settings),
    };
    // Each fixture folder stands for a repository (a folder in it with a
    // refit.toml is one of its own): test data is judged by the path
    // inside it, not by refit's own `fixtures/`, which would make every
    // fix unsafe. A test harness's reason stays as the workspace gave it.
    let file = std::fs::canonicalize(path).unwrap();
    let case = std::fs::canonicalize(fixture_root()).unwrap().join(
        path.strip_prefix(fixture_root())
            .unwrap()
            .iter()
            .next()
            .unwrap(),
    );
    let root = refit::workspace::Workspace::shared().root_of_folder(file.parent().unwrap());
    if !root.starts_with(&case)
        && input.test_data == refit::discover::test_data(file.strip_prefix(&root).unwrap())
    {
        input.test_data = refit::discover::test_data(file.strip_prefix(&case).unwrap());
    }
    // A workflow is nested below the fixture folder's root, not refit's.
    // A policy that reads image names counts only when the fixture's
    // folder is a repository of its own (a refit.toml): refit's own
    // checkout holds other fixtures' Kyverno policies.
    if !root.starts_with(&case) {
        input.nested_workflow = input.nested_workflow
            && refit::discover::nested_workflow(file.strip_prefix(&case).unwrap());
        input.image_policy = None;
    }
    // A fixture folder holds many cases: its `.env` applies to each
    // Compose case, whatever the workspace root.
    if input.dotenv.is_empty()
        && let Ok(env) = std::fs::read_to_string(dir.join(".env"))
    {
        input.dotenv = refit::sources::parse_dotenv(&env);
    }
    (settings, input)
}

fn settings_for(code: &str) -> Settings {
    // SUP001 judges suppressions of the other rules, so they all run.
    let select = if code == "SUP001" { "ALL" } else { code };
    Settings {
        select: vec![select.to_string()],
        ..Settings::default()
    }
}

fn main() -> std::process::ExitCode {
    let args = Arguments::from_args();
    let mut trials: Vec<Trial> = cases()
        .into_iter()
        .map(|case| {
            let name = format!("{}/{}", case.code, case.name);
            Trial::test(name, move || check_case(&case))
        })
        .collect();
    trials.push(Trial::test("meta/every_rule_has_fixtures", || {
        every_rule_has_fixtures();
        Ok(())
    }));
    trials.push(Trial::test(
        "meta/every_fixable_rule_has_a_fixed_case",
        every_fixable_rule_has_a_fixed_case,
    ));
    trials.push(Trial::test("SUP002/baseline_fixtures", || {
        baseline_fixtures();
        Ok(())
    }));
    libtest_mimic::run(&args, trials).exit_code()
}

/// One fixture input: its diagnostics, declared fixability, snapshot, and
/// fixes (`.fixed`, convergence, bytes outside the edits, a second fix).
fn check_case(case: &Case) -> Result<(), Failed> {
    let mut failures = Vec::new();
    let text = std::fs::read_to_string(&case.path).unwrap();
    let kind = classify(&case.path).unwrap();
    let (settings, input) = file_settings(&case.path, &case.code);
    let display = format!("{}/{}", case.code, case.name);
    let checked = match check_with(kind, &text, &settings, &input) {
        Ok(c) => c,
        Err(e) => return Err(format!("{display}: does not parse: {}", e.message).into()),
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
    let report = process_with(
        text.clone(),
        &display,
        None,
        kind,
        &settings,
        &input,
        FixMode::Off,
    );
    let options = RenderOptions {
        color: false,
        fixing: false,
        unsafe_fixes: true,
        width: RenderOptions::DEFAULT_WIDTH,
        pretty: false,
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
    let first = check_with(kind, &text, &settings, &input).unwrap();
    let outcome = fix::fix(&text, first, true, |t| {
        check_with(kind, t, &settings, &input)
    });
    if let Some(reason) = &outcome.refused {
        failures.push(format!("{display}: fix refused: {reason}"));
    }
    if !fix::only_inside_regions(&text, &outcome.text, &outcome.regions) {
        failures.push(format!("{display}: fix changed bytes outside its edits"));
    }
    let again = fix::fix(
        &outcome.text,
        check_with(kind, &outcome.text, &settings, &input).unwrap(),
        true,
        |t| check_with(kind, t, &settings, &input),
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
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n").into())
    }
}

/// Every rule has a firing fixture and a `valid-*` fixture, and every
/// fixture folder names a rule.
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

/// Every rule that declares a fix shows one: a case with a `.fixed` file
/// (SUP002: its baseline fixture's `refit-baseline.json.fixed`).
fn every_fixable_rule_has_a_fixed_case() -> Result<(), Failed> {
    let cases = cases();
    let has_fixed = |path: &Path| PathBuf::from(format!("{}.fixed", path.display())).is_file();
    let missing: Vec<&str> = RULES
        .iter()
        .filter(|rule| rule.fixability != Fixability::None)
        .filter(|rule| {
            let fixed = if rule.code == "SUP002" {
                baseline_cases().iter().any(|p| has_fixed(p))
            } else {
                cases
                    .iter()
                    .any(|c| c.code == rule.code && has_fixed(&c.path))
            };
            !fixed
        })
        .map(|rule| rule.code)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("fixable rules with no `.fixed` fixture: {missing:?}").into())
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
