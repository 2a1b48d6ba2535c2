//! Every YAML file in `../shared/corpus/`: no panic, no error on valid YAML,
//! fixes that converge, re-parse, touch only their edits and keep comments;
//! and site counts per source against an independent count of `image:` lines.

mod common;

use refit::kind::FileKind;

use refit::settings::Settings;

use refit::check::check_with;
use refit::discover::classify;
use refit::fix;
use std::collections::BTreeMap;

/// Corpus YAML files that are not valid YAML, with the reason. refit must
/// report them (E004) rather than guess.
const INVALID_YAML: &[(&str, &str)] = &[(
    "vimagick+dockerfiles/calendso/docker-compose.yml",
    "`EMAIL_SERVER_PASSWORD: ******` is an alias to an undefined anchor",
)];

fn comments(text: &str) -> Vec<&str> {
    text.lines()
        .filter_map(|l| {
            let t = l.trim_start();
            t.starts_with('#').then_some(t)
        })
        .collect()
}

#[test]
fn corpus_yaml_checks_and_fixes_cleanly() {
    let root = common::corpus_root();
    let Some(manifest) = common::manifest() else {
        return;
    };
    let mut failures = Vec::new();
    // kind → (files, sites, image: lines)
    let mut counts: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    let mut skipped_templates = 0;
    let mut files = 0;
    for common::Entry { kind, rel } in &manifest {
        if kind == "dockerfile" {
            continue;
        }
        let path = root.join(rel);
        let Some(file_kind) = classify(&path) else {
            continue;
        };
        files += 1;
        let Ok(text) = std::fs::read_to_string(&path) else {
            failures.push(format!("{rel}: unreadable"));
            continue;
        };
        let settings = Settings::default();
        let input = refit::workspace::Workspace::shared().source_options(
            &path,
            file_kind,
            refit::check::options(&settings),
        );
        let image_lines = text
            .lines()
            .filter(|l| {
                let t = l.trim_start().trim_start_matches("- ");
                t.starts_with("image:") && !t["image:".len()..].trim().is_empty()
            })
            .count();
        let checked = match check_with(file_kind, &text, &settings, &input) {
            Ok(_) if INVALID_YAML.iter().any(|(p, _)| p == rel) => {
                failures.push(format!("{rel}: invalid YAML was accepted"));
                continue;
            }
            Ok(c) => c,
            Err(e) => {
                if !INVALID_YAML.iter().any(|(p, _)| p == rel) {
                    failures.push(format!("{rel} ({kind}): {} {}", e.code, e.message));
                }
                continue;
            }
        };
        if file_kind == FileKind::Template {
            skipped_templates += 1;
        }
        let entry = counts.entry(file_kind.as_str().to_string()).or_default();
        entry.0 += 1;
        entry.1 += checked.sites.len();
        entry.2 += image_lines;
        let outcome = fix::fix(&text, checked, true, |t| {
            check_with(file_kind, t, &settings, &input)
        });
        if let Some(reason) = &outcome.refused {
            failures.push(format!("{rel}: fix refused: {reason}"));
        }
        if outcome.text == text {
            continue;
        }
        match check_with(file_kind, &outcome.text, &settings, &input) {
            Ok(c) if c.sites.len() == outcome.checked.sites.len() => {}
            Ok(_) => failures.push(format!("{rel}: site count changed")),
            Err(e) => failures.push(format!("{rel}: fixed file does not parse: {}", e.message)),
        }
        let again = fix::fix(
            &outcome.text,
            check_with(file_kind, &outcome.text, &settings, &input).unwrap(),
            true,
            |t| check_with(file_kind, t, &settings, &input),
        );
        if again.text != outcome.text {
            failures.push(format!("{rel}: second fix changed the file"));
        }
        if !fix::only_inside_regions(&text, &outcome.text, &outcome.regions) {
            failures.push(format!("{rel}: changed outside its edits"));
        }
        let before = comments(&text);
        let after = comments(&outcome.text);
        if before != after {
            failures.push(format!("{rel}: comments changed"));
        }
    }
    eprintln!("corpus YAML: {files} files, {skipped_templates} templates skipped");
    eprintln!(
        "{:<16} {:>6} {:>7} {:>12}",
        "kind", "files", "sites", "image: lines"
    );
    for (kind, (f, s, i)) in &counts {
        eprintln!("{kind:<16} {f:>6} {s:>7} {i:>12}");
    }
    assert!(
        files > 2500,
        "expected the full corpus, found {files} YAML files"
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
