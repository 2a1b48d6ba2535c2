//! The registry policy on every corpus file at once: pull-through caches
//! for Docker Hub and Quay, rewrites that would chain, an allow list, and
//! every rule (the opt-in BASE001 too) fixing together. The fix loop must
//! converge without rules bouncing, rewrites must not chain, and a second
//! `--fix` must change nothing. Skipped when `../shared` is absent.

mod common;

use refit::settings::Settings;

use refit::check::check_with;
use refit::discover::classify;
use refit::fix;
use refit::policy::{Policy, Proxy, Rewrite};

fn policy() -> Policy {
    let proxy = |upstream: &str, via: &str| Proxy {
        upstream: upstream.to_string(),
        via: via.to_string(),
    };
    let rewrite = |from: &str, to: &str| Rewrite {
        from: from.to_string(),
        to: to.to_string(),
    };
    Policy {
        allow: vec![
            "harbor.corp.example/*".to_string(),
            "registry.corp.example/*".to_string(),
        ],
        deny: Vec::new(),
        proxies: vec![
            proxy("docker.io", "harbor.corp.example/dockerhub"),
            proxy("quay.io", "harbor.corp.example/quay"),
        ],
        // The second would move the first one's results again if rewrites
        // chained.
        rewrites: vec![
            rewrite("docker.io/bitnami/", "ghcr.io/bitnami-mirror/"),
            rewrite("ghcr.io/", "registry.corp.example/ghcr/"),
        ],
    }
}

#[test]
fn corpus_fixes_under_a_policy_converge_without_chaining() {
    let root = common::corpus_root();
    let Some(manifest) = common::manifest() else {
        return;
    };
    let base = Settings {
        extend_select: vec!["BASE001".to_string()],
        policy: policy(),
        ..Settings::default()
    };
    let mut failures = Vec::new();
    let (mut files, mut fixed_files, mut applied) = (0, 0, 0);
    let mut by_rule: std::collections::BTreeMap<&str, usize> = Default::default();
    for common::Entry { rel, .. } in &manifest {
        let path = root.join(rel);
        let Some(kind) = classify(&path) else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let settings = base.clone();
        let input = refit::workspace::Workspace::shared().source_options(
            &path,
            kind,
            refit::check::options(&settings),
        );
        let Ok(checked) = check_with(kind, &text, &settings, &input) else {
            continue;
        };
        files += 1;
        let outcome = fix::fix(&text, checked, true, |t| {
            check_with(kind, t, &settings, &input)
        });
        if let Some(reason) = &outcome.refused {
            failures.push(format!("{rel}: fix refused: {reason}"));
            continue;
        }
        if outcome.text == text {
            continue;
        }
        fixed_files += 1;
        applied += outcome.applied.len();
        for a in &outcome.applied {
            *by_rule.entry(a.code).or_default() += 1;
        }
        if outcome
            .text
            .contains("registry.corp.example/ghcr/bitnami-mirror")
        {
            failures.push(format!("{rel}: a rewrite's result was rewritten again"));
        }
        let Ok(after) = check_with(kind, &outcome.text, &settings, &input) else {
            failures.push(format!("{rel}: the fixed file does not parse"));
            continue;
        };
        // Nothing that a safe policy fix could still change is left.
        let left: Vec<String> = after
            .diagnostics
            .iter()
            .filter(|d| matches!(d.code, "REG001" | "REG006" | "REG007") && d.fix.is_some())
            .map(|d| format!("{} {}", d.code, d.message))
            .collect();
        if !left.is_empty() {
            failures.push(format!("{rel}: fixable findings left: {left:?}"));
        }
        let again = fix::fix(&outcome.text, after, true, |t| {
            check_with(kind, t, &settings, &input)
        });
        if again.text != outcome.text {
            failures.push(format!("{rel}: a second fix changed the file"));
        }
    }
    eprintln!(
        "corpus under a policy: {files} files, {fixed_files} fixed with {applied} fixes: {by_rule:?}"
    );
    assert!(fixed_files > 2000, "only {fixed_files} files were fixed");
    for code in ["REG001", "REG006", "REG007", "BASE001"] {
        assert!(
            by_rule.contains_key(code),
            "no {code} fix applied: {by_rule:?}"
        );
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
