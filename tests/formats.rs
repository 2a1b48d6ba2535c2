//! Every output format on the same multi-file tree, as snapshots; the
//! review format's suggestions, applied, give exactly what `--fix` gives.

use assert_cmd::Command;
use std::fs;
use std::path::{Path, PathBuf};

/// A small repository: Dockerfiles, Compose, Kubernetes, an unreadable
/// file, and a file with no findings.
fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir(root.join(".git")).unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let copies: [(PathBuf, &str); 6] = [
        (examples.join("web/Dockerfile"), "web/Dockerfile"),
        (examples.join("api/Dockerfile"), "api/Dockerfile"),
        (
            fixtures.join("REG001-implicit-registry/compose.web.yaml"),
            "compose.yaml",
        ),
        (
            fixtures.join("K8S001-pull-policy/policies.yaml"),
            "deploy/pod.yaml",
        ),
        (
            fixtures.join("TAG005-numeric-tag/kustomize/kustomization.yaml"),
            "deploy/kustomization.yaml",
        ),
        (
            fixtures.join("REG001-implicit-registry/valid-qualified.Dockerfile"),
            "clean/Dockerfile",
        ),
    ];
    for (from, to) in copies {
        let target = root.join(to);
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        fs::copy(from, target).unwrap();
    }
    fs::write(root.join("broken.Dockerfile"), "RUN before from\n").unwrap();
    dir
}

fn run(root: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::cargo_bin("refit")
        .unwrap()
        .current_dir(root)
        .env_remove("NO_COLOR")
        .env_remove("COLUMNS")
        .env_remove("FORCE_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
    )
}

#[test]
fn every_format_snapshot() {
    let dir = tree();
    for format in [
        "human", "concise", "json", "sarif", "github", "rdjson", "rdjsonl", "review", "junit",
        "gitlab",
    ] {
        // SARIF is compact unless `--pretty`; the snapshot is the readable one.
        let pretty: &[&str] = if format == "sarif" {
            &["--pretty"]
        } else {
            &[]
        };
        let (code, out) = run(
            dir.path(),
            &[&["check", "--format", format][..], pretty].concat(),
        );
        assert_eq!(code, 2, "{format}: the broken file makes the run exit 2");
        insta::with_settings!({
            snapshot_path => "snapshots",
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!(format!("format-{format}"), out);
        });
    }
    // Compact SARIF: the same document, one result per line, smaller.
    let (_, pretty) = run(dir.path(), &["check", "--format", "sarif", "--pretty"]);
    let (_, compact) = run(dir.path(), &["check", "--format", "sarif"]);
    let parse = |t: &str| serde_json::from_str::<serde_json::Value>(t).unwrap();
    assert_eq!(parse(&compact), parse(&pretty));
    let results = parse(&compact)["runs"][0]["results"]
        .as_array()
        .map_or(0, Vec::len);
    assert!(results > 1);
    assert_eq!(compact.lines().count(), results + 2, "{compact}");
    // No indentation anywhere (the rule documentation strings, which both
    // carry whole, are most of either document's bytes).
    assert!(!compact.lines().any(|l| l.starts_with(' ')), "{compact}");
    assert!(
        compact.len() < pretty.len(),
        "{} {}",
        compact.len(),
        pretty.len()
    );
    let (_, out) = run(dir.path(), &["check", "--statistics"]);
    assert!(out.contains("[*] implicit-registry"), "{out}");
}

/// Parse the review's suggestion blocks: (file, first line, last line, text).
fn suggestions(review: &str) -> Vec<(String, usize, usize, String)> {
    let mut out = Vec::new();
    let mut file = String::new();
    let mut lines = review.lines();
    while let Some(line) = lines.next() {
        if let Some(f) = line.strip_prefix("### `").and_then(|l| l.strip_suffix('`')) {
            file = f.to_string();
        } else if let Some(range) = line
            .strip_prefix("Suggested change for ")
            .and_then(|l| l.strip_suffix(':'))
        {
            let range = range
                .trim_start_matches("lines ")
                .trim_start_matches("line ");
            let (a, b) = range.split_once('–').unwrap_or((range, range));
            let (a, b): (usize, usize) = (a.parse().unwrap(), b.parse().unwrap());
            assert_eq!(lines.next(), Some(""));
            assert_eq!(lines.next(), Some("```suggestion"));
            let mut text = String::new();
            for l in lines.by_ref() {
                if l == "```" {
                    break;
                }
                text.push_str(l);
                text.push('\n');
            }
            out.push((file.clone(), a, b, text));
        }
    }
    out
}

#[test]
fn review_suggestions_apply_to_the_fix_result() {
    let dir = tree();
    let (_, review) = run(dir.path(), &["check", "--format", "review"]);
    let blocks = suggestions(&review);
    assert!(blocks.len() >= 4, "{review}");
    // Apply the suggestions, bottom-up per file.
    let applied = tree();
    let mut by_file: std::collections::BTreeMap<String, Vec<(usize, usize, String)>> =
        Default::default();
    for (f, a, b, t) in blocks {
        by_file.entry(f).or_default().push((a, b, t));
    }
    for (file, mut blocks) in by_file {
        let path = applied.path().join(&file);
        let text = fs::read_to_string(&path).unwrap();
        let mut lines: Vec<String> = text.split_inclusive('\n').map(String::from).collect();
        blocks.sort_by_key(|x| std::cmp::Reverse(x.0));
        for (a, b, t) in blocks {
            let mut new: Vec<String> = t.split_inclusive('\n').map(String::from).collect();
            // The last line of a file without a final newline.
            if b == lines.len()
                && !lines[b - 1].ends_with('\n')
                && let Some(last) = new.last_mut()
            {
                last.pop();
            }
            lines.splice(a - 1..b, new);
        }
        fs::write(&path, lines.concat()).unwrap();
    }
    // And fix a third copy with --fix.
    let fixed = tree();
    run(fixed.path(), &["check", "--fix"]);
    for file in [
        "web/Dockerfile",
        "api/Dockerfile",
        "compose.yaml",
        "deploy/pod.yaml",
        "deploy/kustomization.yaml",
        "clean/Dockerfile",
    ] {
        assert_eq!(
            fs::read_to_string(applied.path().join(file)).unwrap(),
            fs::read_to_string(fixed.path().join(file)).unwrap(),
            "{file}"
        );
    }
}

#[test]
fn show_fixes_lists_what_changed() {
    let dir = tree();
    let (_, out) = run(
        dir.path(),
        &["check", "--fix", "--show-fixes", "--format", "concise"],
    );
    assert!(out.contains("- web/Dockerfile:\n"), "{out}");
    assert!(
        out.contains("× REG001 (Qualify as `docker.io/library/nginx:latest`)"),
        "{out}"
    );
}

/// rdjson and rdjsonl follow reviewdog's format (schema kept as test data),
/// and every suggestion stays on its diagnostic's lines.
#[test]
fn rdjson_matches_the_schema() {
    let schema: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/rdjson.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let dir = tree();
    let (_, out) = run(dir.path(), &["check", "--format", "rdjson"]);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let diagnostics = doc["diagnostics"].as_array().unwrap();
    let mut suggestions = 0;
    for d in diagnostics {
        let (first, last) = (
            d["location"]["range"]["start"]["line"].as_u64(),
            d["location"]["range"]["end"]["line"].as_u64(),
        );
        for s in d["suggestions"].as_array().into_iter().flatten() {
            suggestions += 1;
            assert!(s["range"]["start"]["line"].as_u64() >= first);
            assert!(s["range"]["end"]["line"].as_u64() <= last);
        }
    }
    assert!(suggestions > 5);
    // rdjsonl: each line is one diagnostic of the same shape.
    let (_, out) = run(dir.path(), &["check", "--format", "rdjsonl"]);
    for line in out.lines() {
        let d: serde_json::Value = serde_json::from_str(line).unwrap();
        let wrapped = serde_json::json!({"diagnostics": [d]});
        assert!(validator.is_valid(&wrapped), "{line}");
    }
    assert_eq!(out.lines().count(), diagnostics.len());
    // The schema is not a rubber stamp.
    assert!(!validator.is_valid(&serde_json::json!({"diagnostics": [{"message": "x"}]})));
}

/// The GitHub review streams (its comments and body lines kept rendered,
/// not the reports) and prints byte for byte what rendering every
/// collected report at once prints.
#[test]
fn github_review_streamed_equals_collected() {
    let dir = tree();
    let root = dir.path().to_path_buf();
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::cargo_bin("refit")
        .unwrap()
        .current_dir(manifest)
        .args(["check", "--format", "github-review"])
        .arg(&root)
        .output()
        .unwrap();
    let streamed = String::from_utf8(out.stdout).unwrap();
    let run = refit::run::Run::new(refit::run::RunOptions {
        paths: vec![root.clone()],
        ..Default::default()
    })
    .unwrap();
    let reports = run.check(std::io::empty()).unwrap();
    let collected = refit::report::github_review::render(&reports, None, false);
    assert_eq!(streamed, collected);
    let doc: serde_json::Value = serde_json::from_str(&streamed).unwrap();
    assert!(doc["comments"].as_array().is_some_and(|c| !c.is_empty()));
    assert!(
        doc["body"]
            .as_str()
            .is_some_and(|b| b.starts_with("## refit"))
    );
}
