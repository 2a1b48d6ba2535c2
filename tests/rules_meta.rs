//! Rule meta-tests: codes, names, documentation, and the generated `rules/`.

use refit::rules::{Fixability, ONLINE_RULES, RULES};

/// Every rule, offline and online.
fn all_rules() -> Vec<&'static refit::rules::Rule> {
    refit::rules::all()
}
use std::path::Path;

#[test]
fn codes_unique_sorted_names_kebab() {
    for pair in RULES.windows(2).chain(ONLINE_RULES.windows(2)) {
        assert!(
            pair[0].code < pair[1].code,
            "{} before {}",
            pair[0].code,
            pair[1].code
        );
    }
    for rule in all_rules() {
        let (family, number) = rule.code.split_at(rule.code.len() - 3);
        assert!(
            family.starts_with(|c: char| c.is_ascii_uppercase())
                && family
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()),
            "{}",
            rule.code
        );
        assert!(number.chars().all(|c| c.is_ascii_digit()), "{}", rule.code);
        assert!(
            rule.name.split('-').all(|w| !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())),
            "{} is not kebab-case",
            rule.name
        );
        assert!(!rule.name.starts_with("no-") && !rule.name.starts_with("require-"));
        assert!(
            !rule.summary.ends_with('.'),
            "{} summary ends with a period",
            rule.code
        );
    }
}

#[test]
fn docs_have_headings() {
    for rule in all_rules() {
        let doc = rule.documentation();
        for heading in [
            "## What it does",
            "## Why is this bad?",
            "## Example",
            "## Use instead",
        ] {
            assert!(doc.contains(heading), "{} lacks `{heading}`", rule.code);
        }
        let has_fix_safety = doc.contains("## Fix safety");
        assert_eq!(
            has_fix_safety,
            rule.fixability != Fixability::None,
            "{}: `## Fix safety` must be present exactly when the rule fixes",
            rule.code
        );
    }
}

fn index() -> String {
    let mut out = String::from(
        "# refit rules\n\nGenerated from the rule files in `src/rules/` by `BLESS=1 cargo test --test rules_meta`; do not edit by hand.\n\n| Code | Name | Severity | Fix | Summary |\n|---|---|---|---|---|\n",
    );
    for r in all_rules() {
        out.push_str(&format!(
            "| [{}]({}.md) | {} | {} | {} | {}{} |\n",
            r.code,
            r.code,
            r.name,
            r.severity.as_str(),
            r.fixability.as_str(),
            r.summary,
            if r.online() { " (`--online`)" } else { "" }
        ));
    }
    out.push_str("\nKnowledge tables: [`mirrors.toml`](mirrors.toml) (REG002, MIR001, MIR002), [`moved.toml`](moved.toml) (REG004), [`deprecated.toml`](deprecated.toml) (BASE002), [`mutable-tags.toml`](mutable-tags.toml) (TAG003), [`dhi.toml`](dhi.toml) (DHI001).\n");
    out
}

/// `rules/*.md` are generated from the rule files; this keeps them current.
#[test]
fn generated_rule_pages_are_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let bless = std::env::var_os("BLESS").is_some_and(|v| v != "0");
    let mut expected = vec![("README.md".to_string(), index())];
    for r in all_rules() {
        expected.push((format!("{}.md", r.code), r.page()));
    }
    let mut stale = Vec::new();
    for (name, content) in &expected {
        let path = dir.join(name);
        if bless {
            std::fs::write(&path, content).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(content.as_str()) {
            stale.push(name.clone());
        }
    }
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.ends_with(".md") && !expected.iter().any(|(n, _)| *n == name) {
            stale.push(format!("{name} (no such rule)"));
        }
    }
    assert!(
        stale.is_empty(),
        "stale rules/ pages (BLESS=1 cargo test --test rules_meta): {stale:?}"
    );
}
