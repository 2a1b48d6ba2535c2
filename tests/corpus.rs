//! Every Dockerfile in `../shared/corpus/`: no panic, no parse error, and
//! fixes that converge, re-parse and touch only their edits.

mod common;

use refit::kind::FileKind;

use refit::settings::Settings;

use refit::check::check_text;
use refit::fix;
use std::path::PathBuf;

/// The corpus files of one kind; `None` when the corpus is absent.
fn corpus_files(kind: &str) -> Option<Vec<PathBuf>> {
    let root = common::corpus_root();
    Some(
        common::manifest()?
            .into_iter()
            .filter(|e| e.kind == kind)
            .map(|e| root.join(e.rel))
            .collect(),
    )
}

/// Byte ranges of the original lines that `fixed` changed, from an
/// independent line diff.
fn changed_lines(original: &str, fixed: &str) -> Vec<(usize, usize)> {
    let starts: Vec<usize> = std::iter::once(0)
        .chain(original.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let line_span = |l: usize| {
        let s = starts.get(l).copied().unwrap_or(original.len());
        let e = starts.get(l + 1).copied().unwrap_or(original.len());
        (s, e)
    };
    let diff = similar::TextDiff::from_lines(original, fixed);
    let mut out = Vec::new();
    for op in diff.ops() {
        if !matches!(op, similar::DiffOp::Equal { .. }) {
            for l in op.old_range() {
                out.push(line_span(l));
            }
        }
    }
    out
}

/// Corpus files that `docker build` itself rejects, with the error refit
/// must give and why.
const NOT_BUILDABLE: &[(&str, &str, &str)] = &[
    (
        "docker+compose/pkg/e2e/fixtures/wrong-composefile/service1/Dockerfile",
        "E004",
        "a deliberately broken fixture: `WRONG DOCKERFILE`",
    ),
    (
        "hadolint+language-docker/test/fixtures/6.Dockerfile",
        "E004",
        "RUN before any FROM: no build stage in current context",
    ),
    (
        "hadolint+language-docker/test/fixtures/Dockerfile.bom.utf16be",
        "E002",
        "UTF-16 text; BuildKit reads UTF-8 only",
    ),
    (
        "hadolint+language-docker/test/fixtures/Dockerfile.bom.utf16le",
        "E002",
        "UTF-16 text; BuildKit reads UTF-8 only",
    ),
    (
        "hadolint+language-docker/test/fixtures/Dockerfile.bom.utf32be",
        "E002",
        "UTF-32 text; BuildKit reads UTF-8 only",
    ),
    (
        "hadolint+language-docker/test/fixtures/Dockerfile.bom.utf32le",
        "E002",
        "UTF-32 text; BuildKit reads UTF-8 only",
    ),
];

#[test]
fn corpus_dockerfiles_check_and_fix_cleanly() {
    let Some(files) = corpus_files("dockerfile") else {
        return;
    };
    assert!(
        files.len() > 1000,
        "expected the full corpus, found {}",
        files.len()
    );
    // Every rule, the opt-in BASE001 with its unsafe rewrites included.
    let settings = Settings {
        extend_select: vec!["BASE001".to_string()],
        ..Settings::default()
    };
    let mut failures = Vec::new();
    let (mut sites, mut diagnostics, mut fixed_files, mut applied, mut rejected) = (0, 0, 0, 0, 0);
    for path in &files {
        let name = path.display().to_string();
        let rel = path
            .strip_prefix(common::corpus_root())
            .map(|p| p.to_string_lossy().to_string())
            .unwrap_or_default();
        let expected_error = NOT_BUILDABLE.iter().find(|(p, _, _)| *p == rel);
        let bytes = std::fs::read(path).unwrap_or_default();
        let outcome = refit::engine::decode(bytes)
            .and_then(|text| check_text(FileKind::Dockerfile, &text, &settings).map(|c| (text, c)));
        let (text, checked) = match (outcome, expected_error) {
            (Ok(ok), None) => ok,
            (Err(e), Some((_, code, _))) if e.code == *code => {
                rejected += 1;
                continue;
            }
            (Err(e), _) => {
                failures.push(format!("{name}: {} {}", e.code, e.message));
                continue;
            }
            (Ok(_), Some((_, code, why))) => {
                failures.push(format!("{name}: expected {code} ({why})"));
                continue;
            }
        };
        // A jq template (`{{ … }}`), not a Dockerfile: read as a template
        // (note N001, its plain `FROM` lines), never a syntax error (issue 22).
        if rel == "docker-library+mysql/Dockerfile.oracle"
            && !checked.diagnostics.iter().any(|d| d.code == "N001")
        {
            failures.push(format!("{name}: expected N001 (a jq template)"));
        }
        sites += checked.sites.len();
        diagnostics += checked.diagnostics.len();
        let outcome = fix::fix(&text, checked, true, |t| {
            check_text(FileKind::Dockerfile, t, &settings)
        });
        if let Some(reason) = &outcome.refused {
            failures.push(format!("{name}: fix refused: {reason}"));
        }
        if outcome.text == text {
            continue;
        }
        fixed_files += 1;
        applied += outcome.applied.len();
        // Re-parses, with the same number of image sites.
        match check_text(FileKind::Dockerfile, &outcome.text, &settings) {
            Ok(c) if c.sites.len() == outcome.checked.sites.len() => {}
            Ok(_) => failures.push(format!("{name}: site count changed")),
            Err(e) => failures.push(format!("{name}: fixed file does not parse: {}", e.message)),
        }
        // A second fix changes nothing.
        let again = fix::fix(
            &outcome.text,
            check_text(FileKind::Dockerfile, &outcome.text, &settings).unwrap(),
            true,
            |t| check_text(FileKind::Dockerfile, t, &settings),
        );
        if again.text != outcome.text {
            failures.push(format!("{name}: second fix changed the file"));
        }
        // Differs only inside the edited ranges: by the engine's own map…
        if !fix::only_inside_regions(&text, &outcome.text, &outcome.regions) {
            failures.push(format!("{name}: engine regions do not explain the change"));
        }
        // …and by an independent line diff: every changed line holds an edit.
        for (start, end) in changed_lines(&text, &outcome.text) {
            let holds_edit = outcome
                .regions
                .iter()
                .any(|r| start <= r.original.start && r.original.end <= end);
            if !holds_edit {
                failures.push(format!(
                    "{name}: bytes {start}..{end} changed outside any edit"
                ));
            }
        }
    }
    eprintln!(
        "corpus: {} Dockerfiles ({rejected} rejected as docker build rejects them), {sites} image sites, {diagnostics} findings, {fixed_files} files fixed with {applied} fixes",
        files.len()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// BASE001's rewrite on every real stage body: each corpus Dockerfile with
/// its `FROM` images replaced by `node:20-alpine` (Node) or
/// `python:3.12-alpine` (every other file), fixed with the unsafe rewrite.
/// The result must parse with the same number of image sites, converge, and
/// differ from the input only inside the fix's edits.
#[test]
fn corpus_stages_take_the_runtime_rewrite() {
    let Some(files) = corpus_files("dockerfile") else {
        return;
    };
    let settings = Settings {
        select: vec!["BASE001".to_string()],
        ..Settings::default()
    };
    let mut failures = Vec::new();
    let (mut files_fixed, mut rewrites, mut edits) = (0, 0, 0);
    for (n, path) in files.iter().enumerate() {
        let Ok(original) = std::fs::read_to_string(path) else {
            continue;
        };
        let Ok(checked) = check_text(FileKind::Dockerfile, &original, &Settings::default()) else {
            continue;
        };
        let image = if n % 2 == 0 {
            "node:20-alpine"
        } else {
            "python:3.12-alpine"
        };
        // Replace each literal FROM image, last first so spans stay valid.
        let mut text = original.clone();
        let mut froms: Vec<_> = checked
            .sites
            .iter()
            .filter(|s| s.kind == refit::site::SiteKind::From && !s.raw.contains('$'))
            .map(|s| s.span)
            .collect();
        froms.sort();
        for span in froms.iter().rev() {
            text.replace_range(span.start..span.end, image);
        }
        // Generated files get no fixes (issue 22); the rewrite is tried on
        // their bodies all the same, so their marker comment goes.
        for _ in 0..20 {
            let Some(marker) = refit::sources::template::generated_marker(&text) else {
                break;
            };
            text = text.replacen(&marker, "#", 1);
        }
        let name = path.display().to_string();
        let Ok(checked) = check_text(FileKind::Dockerfile, &text, &settings) else {
            failures.push(format!("{name}: does not parse after the FROM swap"));
            continue;
        };
        let outcome = fix::fix(&text, checked, true, |t| {
            check_text(FileKind::Dockerfile, t, &settings)
        });
        if let Some(reason) = &outcome.refused {
            failures.push(format!("{name}: fix refused: {reason}"));
            continue;
        }
        if outcome.text == text {
            continue;
        }
        files_fixed += 1;
        rewrites += outcome.applied.len();
        edits += outcome.regions.len();
        match check_text(FileKind::Dockerfile, &outcome.text, &settings) {
            Ok(c) if !c.diagnostics.iter().any(|d| d.code == "BASE001") => {}
            Ok(c) => failures.push(format!(
                "{name}: BASE001 still reported after the rewrite: {:?}",
                c.diagnostics.iter().map(|d| &d.message).collect::<Vec<_>>()
            )),
            Err(e) => failures.push(format!(
                "{name}: rewritten file does not parse: {}",
                e.message
            )),
        }
        if !fix::only_inside_regions(&text, &outcome.text, &outcome.regions) {
            failures.push(format!("{name}: changes outside the rewrite's edits"));
        }
    }
    eprintln!(
        "corpus stages: {files_fixed} Dockerfiles rewritten, {rewrites} stages, {edits} edits"
    );
    assert!(
        files_fixed > 1000,
        "only {files_fixed} files were rewritten"
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
