//! Every Dockerfile in `../shared/corpus/`: no panic, no parse error, and
//! fixes that converge, re-parse and touch only their edits.

use refit::check::{FileKind, Settings, check_text};
use refit::fix;
use std::path::{Path, PathBuf};

fn corpus_files(kind: &str) -> Option<Vec<PathBuf>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let manifest = std::fs::read_to_string(root.join("MANIFEST.tsv")).ok()?;
    Some(
        manifest
            .lines()
            .skip(1)
            .filter_map(|l| {
                let cols: Vec<&str> = l.split('\t').collect();
                (cols.get(1) == Some(&kind)).then(|| root.join(cols.get(3).unwrap_or(&"")))
            })
            .collect(),
    )
}

/// Byte ranges of `original` that `fixed` changed, from an independent diff.
fn changed_ranges(original: &str, fixed: &str) -> Vec<(usize, usize)> {
    let diff = similar::TextDiff::configure()
        .algorithm(similar::Algorithm::Myers)
        .diff_chars(original, fixed);
    let mut out = Vec::new();
    for op in diff.ops() {
        if !matches!(op, similar::DiffOp::Equal { .. }) {
            let r = op.old_range();
            // Character indices to byte offsets.
            let start = original
                .char_indices()
                .nth(r.start)
                .map_or(original.len(), |(i, _)| i);
            let end = original
                .char_indices()
                .nth(r.end)
                .map_or(original.len(), |(i, _)| i);
            out.push((start, end));
        }
    }
    out
}

#[test]
fn corpus_dockerfiles_check_and_fix_cleanly() {
    let Some(files) = corpus_files("dockerfile") else {
        eprintln!(
            "skipping: ../shared/corpus/MANIFEST.tsv not found (the shared corpus is not beside the repo)"
        );
        return;
    };
    assert!(
        files.len() > 1000,
        "expected the full corpus, found {}",
        files.len()
    );
    let settings = Settings::default();
    let mut failures = Vec::new();
    let (mut sites, mut diagnostics, mut fixed_files, mut applied) = (0, 0, 0, 0);
    for path in &files {
        let name = path.display().to_string();
        let Ok(text) = std::fs::read_to_string(path) else {
            failures.push(format!("{name}: unreadable"));
            continue;
        };
        let checked = match check_text(FileKind::Dockerfile, &text, &settings) {
            Ok(c) => c,
            Err(e) => {
                failures.push(format!("{name}: parse error: {}", e.message));
                continue;
            }
        };
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
        // …and by an independent character diff.
        for (start, end) in changed_ranges(&text, &outcome.text) {
            let inside = outcome
                .regions
                .iter()
                .any(|r| r.original.start <= start && end <= r.original.end);
            if !inside {
                failures.push(format!(
                    "{name}: bytes {start}..{end} changed outside any edit"
                ));
            }
        }
    }
    eprintln!(
        "corpus: {} Dockerfiles, {sites} image sites, {diagnostics} findings, {fixed_files} files fixed with {applied} fixes",
        files.len()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
