//! The review bot: `--diff-base`, baselines, `--format github-review`, rule
//! links. Each test builds a real git repository in a temporary folder.

use serde_json::Value;
mod common;
use common::git;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn refit(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_refit"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("refit runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn findings(dir: &Path, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["check", "--format", "json"];
    args.extend_from_slice(extra);
    let out = refit(dir, &args);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            stdout(&out),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    doc["diagnostics"].as_array().cloned().unwrap_or_default()
}

/// A repository with 200 findings on `main` (50 Dockerfiles with four
/// each) and a branch `feature` that adds two (`FROM redis`: REG001 and
/// TAG001).
fn repository() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("repo");
    std::fs::create_dir_all(&dir).expect("mkdir");
    git(&dir, &["init", "-q", "-b", "main"]);
    for i in 0..50 {
        let sub = dir.join(format!("svc{i}"));
        std::fs::create_dir_all(&sub).expect("mkdir");
        std::fs::write(
            sub.join("Dockerfile"),
            format!("FROM node AS build\nRUN echo {i}\nFROM nginx\nCOPY --from=build /a /b\n"),
        )
        .expect("write");
    }
    git(&dir, &["add", "-A"]);
    git(&dir, &["commit", "-q", "-m", "base"]);
    git(&dir, &["checkout", "-q", "-b", "feature"]);
    let f = dir.join("svc7/Dockerfile");
    let mut text = std::fs::read_to_string(&f).expect("read");
    text.push_str("FROM redis\n");
    std::fs::write(&f, text).expect("write");
    git(&dir, &["commit", "-q", "-am", "add redis"]);
    (tmp, dir)
}

#[test]
fn diff_base_reports_only_the_changed_lines() {
    let (_t, dir) = repository();
    // 200 on main; the feature branch's `FROM redis` adds REG001 and TAG001,
    // and leaves svc7's two earlier stages unreachable (STG001).
    assert_eq!(findings(&dir, &[]).len(), 204);
    let new = findings(&dir, &["--diff-base", "main"]);
    let codes: Vec<&str> = new.iter().filter_map(|d| d["code"].as_str()).collect();
    assert_eq!(codes, vec!["REG001", "TAG001"], "{new:?}");
    assert!(new.iter().all(|d| d["start"]["line"] == 5), "{new:?}");
    // Whole files: the changed file's other findings too (with its two
    // stages `FROM redis` left unreachable, STG001).
    assert_eq!(
        findings(&dir, &["--diff-base", "main", "--diff-scope", "files"]).len(),
        8
    );
    // Uncommitted and untracked changes count.
    std::fs::write(
        dir.join("svc9/Dockerfile"),
        "FROM node AS build\nRUN echo 9\nFROM nginx:latest\nCOPY --from=build /a /b\n",
    )
    .expect("write");
    std::fs::create_dir_all(dir.join("new")).expect("mkdir");
    std::fs::write(dir.join("new/Dockerfile"), "FROM alpine:3.20\n").expect("write");
    let codes: Vec<String> = findings(&dir, &["--diff-base", "main"])
        .iter()
        .map(|d| d["code"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(codes.len(), 5, "{codes:?}");
    assert!(codes.contains(&"TAG002".to_string()));
    // A pull request is its commits: `--diff-committed` leaves the
    // uncommitted edit and the untracked file out.
    let committed: Vec<String> = findings(&dir, &["--diff-base", "main", "--diff-committed"])
        .iter()
        .map(|d| d["code"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(committed, vec!["REG001", "TAG001"]);
    // It needs a base.
    let out = refit(&dir, &["check", "--diff-committed"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--diff-base"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_changed_arg_default_reports_on_the_changed_line() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    git(dir, &["init", "-q", "-b", "main"]);
    let body =
        "\nFROM docker.io/library/alpine:3.20\nRUN b\nRUN c\nFROM docker.io/library/node:${V}\n";
    std::fs::write(dir.join("Dockerfile"), format!("ARG V=20.11{body}")).expect("write");
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "base"]);
    std::fs::write(dir.join("Dockerfile"), format!("ARG V=latest{body}")).expect("write");
    let new = findings(dir, &["--diff-base", "HEAD"]);
    assert_eq!(new.len(), 1, "{new:?}");
    assert_eq!(new[0]["code"], "TAG002");
    assert_eq!(new[0]["start"]["line"], 1, "{new:?}");
    assert!(
        new[0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("(line 5, through this change)")
    );
}

#[test]
fn diff_base_errors_are_clear() {
    let (_t, dir) = repository();
    let out = refit(&dir, &["check", "--diff-base", "no-such-branch"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("`no-such-branch` is not a commit in this repository"),
        "{err}"
    );
    // A shallow clone that lacks the base.
    let tmp = tempfile::tempdir().expect("tempdir");
    let shallow = tmp.path().join("shallow");
    let url = format!("file://{}", dir.display());
    let out = Command::new("git")
        .args(["clone", "-q", "--depth", "1", "--branch", "feature", &url])
        .arg(&shallow)
        .output()
        .expect("git clone");
    assert!(out.status.success(), "{out:?}");
    let out = refit(&shallow, &["check", "--diff-base", "HEAD~1"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("shallow clone"), "{err}");
    // Not a repository.
    let out = refit(tmp.path(), &["check", "--diff-base", "main"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not in a git repository"));
}

#[test]
fn baseline_hides_todays_findings_and_shows_new_ones() {
    let (_t, dir) = repository();
    git(&dir, &["checkout", "-q", "main"]);
    let out = refit(&dir, &["check", "--write-baseline", "refit-baseline.json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(stdout(&out), "Wrote 200 findings to refit-baseline.json.\n");
    assert_eq!(
        findings(&dir, &["--baseline", "refit-baseline.json"]).len(),
        0
    );
    // From the config, too.
    std::fs::write(
        dir.join("refit.toml"),
        "baseline = \"refit-baseline.json\"\n",
    )
    .expect("write");
    assert_eq!(findings(&dir, &[]).len(), 0);
    git(&dir, &["checkout", "-q", "feature"]);
    let new = findings(&dir, &[]);
    let codes: Vec<&str> = new.iter().filter_map(|d| d["code"].as_str()).collect();
    // `FROM redis` is new, and leaves svc7's two earlier stages unreachable.
    assert_eq!(
        codes,
        vec!["STG001", "STG001", "REG001", "TAG001"],
        "{new:?}"
    );
}

#[test]
fn fingerprints_survive_lines_inserted_above_and_edits_elsewhere() {
    let (_t, dir) = repository();
    git(&dir, &["checkout", "-q", "main"]);
    refit(&dir, &["check", "--write-baseline", "base.json"]);
    for i in 0..50 {
        let f = dir.join(format!("svc{i}/Dockerfile"));
        let text = std::fs::read_to_string(&f).expect("read");
        let header: String = (0..20).map(|n| format!("# note {n}\n")).collect();
        // Reformatting elsewhere: the RUN line changes too.
        let text = text.replace("RUN echo", "RUN   echo");
        std::fs::write(&f, format!("{header}{text}")).expect("write");
    }
    assert_eq!(findings(&dir, &["--baseline", "base.json"]).len(), 0);
}

#[test]
fn stale_baseline_entries_are_reported_and_fixed_away() {
    let (_t, dir) = repository();
    git(&dir, &["checkout", "-q", "main"]);
    refit(&dir, &["check", "--write-baseline", "base.json"]);
    // Fix one file's findings by hand: four entries go stale.
    std::fs::write(
        dir.join("svc3/Dockerfile"),
        "FROM docker.io/library/node:20.11 AS build\nRUN echo 3\nFROM docker.io/library/nginx:1.27\nCOPY --from=build /a /b\n",
    )
    .expect("write");
    let left = findings(&dir, &["--baseline", "base.json"]);
    let codes: Vec<&str> = left.iter().filter_map(|d| d["code"].as_str()).collect();
    assert_eq!(codes, vec!["SUP002"; 4], "{left:?}");
    let out = refit(&dir, &["check", "--baseline", "base.json", "--fix"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let text = std::fs::read_to_string(dir.join("base.json")).expect("read");
    let doc: Value = serde_json::from_str(&text).expect("still JSON");
    // `--fix` also qualified every other file's images (REG001), so those
    // entries went stale and were removed with svc3's: the TAG001 entries of
    // the 49 other files are left, still matching after the fix.
    assert_eq!(doc["findings"].as_array().map(Vec::len), Some(98));
    assert!(!text.contains("svc3/"));
    assert_eq!(findings(&dir, &["--baseline", "base.json"]).len(), 0);
}

fn schema() -> Value {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/github-create-review.schema.json"),
    )
    .expect("schema");
    serde_json::from_str(&text).expect("schema is JSON")
}

/// Every key the output uses is one the schema declares (the published
/// schema allows others, so check this too).
fn keys_declared(doc: &Value, schema: &Value) {
    if let (Some(obj), Some(props)) = (doc.as_object(), schema["properties"].as_object()) {
        for (k, v) in obj {
            let Some(sub) = props.get(k) else {
                panic!("`{k}` is not in the create-review schema");
            };
            if let (Some(items), Some(sub_items)) = (v.as_array(), sub.get("items")) {
                for item in items {
                    keys_declared(item, sub_items);
                }
            }
        }
    }
}

/// Apply a review's suggestions to the files, as a reviewer clicking
/// "Commit suggestion" on each would.
fn apply_suggestions(dir: &Path, review: &Value) {
    let mut by_file: std::collections::BTreeMap<String, Vec<(usize, usize, String)>> =
        Default::default();
    for c in review["comments"].as_array().cloned().unwrap_or_default() {
        let body = c["body"].as_str().unwrap_or("");
        let Some(start) = body.find("```suggestion\n") else {
            continue;
        };
        let rest = &body[start + "```suggestion\n".len()..];
        let end = rest.rfind("```").unwrap_or(rest.len());
        let line = c["line"].as_u64().unwrap_or(0) as usize;
        let first = c["start_line"].as_u64().map_or(line, |l| l as usize);
        by_file
            .entry(c["path"].as_str().unwrap_or("").to_string())
            .or_default()
            .push((first, line, rest[..end].to_string()));
    }
    for (path, mut edits) in by_file {
        let f = dir.join(&path);
        let text = std::fs::read_to_string(&f).expect("read");
        let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
        edits.sort_by_key(|e| std::cmp::Reverse(e.0));
        for (first, last, replacement) in edits {
            lines.splice(first - 1..last, [replacement]);
        }
        std::fs::write(&f, lines.concat()).expect("write");
    }
}

#[test]
fn github_review_validates_and_its_suggestions_equal_fix_on_changed_lines() {
    let (_t, dir) = repository();
    // The branch also changes a line with a fixable finding elsewhere.
    let f = dir.join("svc12/Dockerfile");
    let text = std::fs::read_to_string(&f)
        .expect("read")
        .replace("FROM nginx", "FROM index.docker.io/library/nginx:1.27");
    std::fs::write(&f, text).expect("write");
    git(&dir, &["commit", "-q", "-am", "nginx"]);
    let out = refit(
        &dir,
        &["check", "--diff-base", "main", "--format", "github-review"],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let review: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let schema = schema();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&review)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    keys_declared(&review, &schema);
    assert_eq!(review["event"], "COMMENT");
    assert_eq!(review["commit_id"].as_str().map(str::len), Some(40));
    let comments = review["comments"].as_array().cloned().unwrap_or_default();
    assert_eq!(comments.len(), 3, "{review:#}");
    for c in &comments {
        assert_eq!(c["side"], "RIGHT");
    }
    assert!(
        comments
            .iter()
            .any(|c| c["path"] == "svc12/Dockerfile" && c["line"] == 3)
    );
    // Applying the suggestions gives what `--fix` writes on those lines.
    let expected = {
        let copy = tempfile::tempdir().expect("tempdir");
        let out = Command::new("cp")
            .arg("-a")
            .arg(&dir)
            .arg(copy.path())
            .output()
            .expect("cp");
        assert!(out.status.success());
        let c = copy.path().join("repo");
        refit(
            &c,
            &["check", "--fix", "svc7/Dockerfile", "svc12/Dockerfile"],
        );
        (
            std::fs::read_to_string(c.join("svc7/Dockerfile")).expect("read"),
            std::fs::read_to_string(c.join("svc12/Dockerfile")).expect("read"),
        )
    };
    apply_suggestions(&dir, &review);
    let got7 = std::fs::read_to_string(dir.join("svc7/Dockerfile")).expect("read");
    let got12 = std::fs::read_to_string(dir.join("svc12/Dockerfile")).expect("read");
    // svc7: `--fix` also qualifies the unchanged `node:20` and `nginx`
    // lines; restricted to the changed line 5 they agree.
    assert_eq!(got7.lines().nth(4), expected.0.lines().nth(4));
    assert_eq!(
        got7.lines().take(4).collect::<Vec<_>>(),
        "FROM node AS build\nRUN echo 7\nFROM nginx\nCOPY --from=build /a /b"
            .lines()
            .collect::<Vec<_>>()
    );
    assert_eq!(got12.lines().nth(2), expected.1.lines().nth(2));
    assert_eq!(
        got12.lines().nth(2),
        Some("FROM docker.io/library/nginx:1.27")
    );
}

#[test]
fn rule_links_come_from_docs_url_or_are_left_out() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    std::fs::write(dir.join("Dockerfile"), "FROM node:20\n").expect("write");
    let sarif = |dir: &Path| -> Value {
        serde_json::from_slice(&refit(dir, &["check", "--format", "sarif"]).stdout).expect("sarif")
    };
    let doc = sarif(dir);
    let rule = &doc["runs"][0]["tool"]["driver"]["rules"][0];
    match option_env!("CARGO_PKG_REPOSITORY").filter(|r| !r.is_empty()) {
        None => assert!(rule.get("helpUri").is_none(), "{rule}"),
        Some(repo) => assert!(
            rule["helpUri"]
                .as_str()
                .is_some_and(|u| u.starts_with(repo))
        ),
    }
    std::fs::write(
        dir.join("refit.toml"),
        "docs-url = \"https://docs.example.org/refit/rules/\"\n",
    )
    .expect("write");
    let doc = sarif(dir);
    let rule = &doc["runs"][0]["tool"]["driver"]["rules"][0];
    assert_eq!(
        rule["helpUri"],
        "https://docs.example.org/refit/rules/REG001.md"
    );
    let review = stdout(&refit(dir, &["check", "--format", "review"]));
    assert!(
        review.contains("[REG001](https://docs.example.org/refit/rules/REG001.md)"),
        "{review}"
    );
}

/// Every way the entries of a baseline of one to six entries can go stale,
/// and every combination of the SUP002 fixes the JSON output gives for
/// them, applied as a client would (sorted, last first): the result is
/// JSON holding exactly the entries whose fixes were not applied, each as
/// it was written. Safe fixes never overlap; the one unsafe fix (the last
/// entry when every entry is stale) is the only one that may.
#[test]
fn stale_entry_fixes_apply_in_any_combination() {
    use refit::baseline::Entry;
    use refit::engine::{FixMode, process_text};
    use refit::kind::FileKind;
    use refit::report::{Format, RenderOptions, render};
    use refit::settings::Settings;
    let settings = Settings {
        select: vec!["TAG001".to_string()],
        ..Settings::default()
    };
    let check = |text: String| {
        process_text(
            text,
            "Dockerfile",
            None,
            FileKind::Dockerfile,
            &settings,
            FixMode::Off,
        )
    };
    let options = RenderOptions {
        color: false,
        fixing: false,
        unsafe_fixes: true,
        width: RenderOptions::DEFAULT_WIDTH,
        pretty: true,
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    for n in 1..=6usize {
        // One TAG001 finding per line; a tag on line i takes it away.
        let dockerfile = |tagged: u32| -> String {
            (0..n)
                .map(|i| match tagged >> i & 1 {
                    1 => format!("FROM img{i}:1\n"),
                    _ => format!("FROM img{i}\n"),
                })
                .collect()
        };
        let path = tmp.path().join(format!("baseline-{n}.json"));
        let written = refit::baseline::write(&path, &[check(dockerfile(0))]).expect("write");
        assert_eq!(written, n);
        let baseline = refit::baseline::load(&path).expect("load");
        for tagged in 1..(1u32 << n) {
            let mut reports = vec![check(dockerfile(tagged))];
            let used = baseline.apply(&mut reports);
            let report = baseline
                .unmatched_report(&used, &|_| true, false)
                .expect("stale entries");
            let doc: Value = serde_json::from_str(&render(Format::Json, &[report], &options))
                .expect("the JSON output parses");
            // (the entry on the finding's line, its edit, whether safe)
            let fixes: Vec<(Entry, (usize, usize), bool)> = doc["diagnostics"]
                .as_array()
                .expect("diagnostics")
                .iter()
                .map(|d| {
                    assert_eq!(d["code"], "SUP002", "{d}");
                    let at = |v: &Value| v.as_u64().expect("an offset") as usize;
                    let line = &baseline.text[at(&d["span"]["start"])..at(&d["span"]["end"])];
                    let entry: Entry = serde_json::from_str(line.trim().trim_end_matches(','))
                        .unwrap_or_else(|e| panic!("{e}: the finding is not on its entry: {line}"));
                    let edits = d["fix"]["edits"].as_array().expect("a fix");
                    assert_eq!(edits.len(), 1, "{d}");
                    assert_eq!(edits[0]["content"], "", "{d}");
                    let span = (at(&edits[0]["span"]["start"]), at(&edits[0]["span"]["end"]));
                    (entry, span, d["fix"]["applicability"] == "safe")
                })
                .collect();
            let stale: Vec<&Entry> = baseline
                .entries
                .iter()
                .zip(&used)
                .filter(|(_, u)| !**u)
                .map(|(e, _)| e)
                .collect();
            assert_eq!(stale.len(), tagged.count_ones() as usize);
            let mut reported: Vec<&Entry> = fixes.iter().map(|f| &f.0).collect();
            reported.sort();
            let mut expected_stale = stale.clone();
            expected_stale.sort();
            assert_eq!(reported, expected_stale, "n={n} tagged={tagged:b}");
            let all_stale = stale.len() == n;
            assert_eq!(
                fixes.iter().filter(|f| !f.2).count(),
                usize::from(all_stale && n > 1),
                "n={n} tagged={tagged:b}: {fixes:?}"
            );
            for subset in 0..(1u32 << fixes.len()) {
                let chosen: Vec<&(Entry, (usize, usize), bool)> = fixes
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| subset >> k & 1 == 1)
                    .map(|(_, f)| f)
                    .collect();
                let mut spans: Vec<(usize, usize)> = chosen.iter().map(|f| f.1).collect();
                spans.sort_unstable();
                if spans.windows(2).any(|w| w[0].1 > w[1].0) {
                    assert!(
                        chosen.iter().any(|f| !f.2),
                        "n={n} tagged={tagged:b}: safe fixes overlap: {spans:?}"
                    );
                    continue;
                }
                let mut text = baseline.text.clone();
                for &(start, end) in spans.iter().rev() {
                    text.replace_range(start..end, "");
                }
                let parsed: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
                    panic!("n={n} tagged={tagged:b} fixes={subset:b}: {e}:\n{text}")
                });
                let left: Vec<Entry> =
                    serde_json::from_value(parsed["findings"].clone()).expect("entries");
                let kept: Vec<Entry> = baseline
                    .entries
                    .iter()
                    .filter(|e| !chosen.iter().any(|f| &f.0 == *e))
                    .cloned()
                    .collect();
                assert_eq!(left, kept, "n={n} tagged={tagged:b} fixes={subset:b}");
                for e in &kept {
                    let written = serde_json::to_string(e).expect("an entry serializes");
                    assert!(text.contains(&written), "{written} changed:\n{text}");
                }
            }
        }
    }
}

/// The review's reproducer: with the last two entries stale, the JSON
/// output's two edits do not overlap and together leave valid JSON; a
/// review's whole-line deletions are empty suggestions, which leave no
/// blank line.
#[test]
fn stale_entry_fixes_in_json_and_review_leave_valid_json() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    git(dir, &["init", "-q", "-b", "main"]);
    std::fs::write(
        dir.join("Dockerfile"),
        "FROM node:20\nFROM python:3\nFROM ruby:3\n",
    )
    .expect("write");
    let out = refit(dir, &["check", "--write-baseline", "refit-baseline.json"]);
    assert_eq!(stdout(&out), "Wrote 5 findings to refit-baseline.json.\n");
    let original = std::fs::read_to_string(dir.join("refit-baseline.json")).expect("read");
    let lines: Vec<&str> = original.lines().collect();
    // Sorted: REG001 ruby, node, python, then STG001 stage 0, stage 1.
    assert!(lines[6].contains("STG001") && lines[7].contains("STG001"));
    let doc: Value = serde_json::from_str(&original).expect("JSON");
    let entries = doc["findings"].as_array().cloned().unwrap_or_default();
    let fingerprint = |k: usize| entries[k]["fingerprint"].as_str().unwrap_or("").to_string();
    // The last two entries go stale.
    let stale = original
        .replace(&fingerprint(3), "0000000000000001")
        .replace(&fingerprint(4), "0000000000000002");
    std::fs::write(dir.join("refit-baseline.json"), &stale).expect("write");
    let json = findings(dir, &["--baseline", "refit-baseline.json"]);
    let mut spans: Vec<(usize, usize)> = json
        .iter()
        .filter(|d| d["code"] == "SUP002")
        .flat_map(|d| d["fix"]["edits"].as_array().cloned().unwrap_or_default())
        .map(|e| {
            let at = |v: &Value| v.as_u64().unwrap_or(0) as usize;
            (at(&e["span"]["start"]), at(&e["span"]["end"]))
        })
        .collect();
    assert_eq!(spans.len(), 2, "{json:?}");
    spans.sort_unstable();
    assert!(spans[0].1 <= spans[1].0, "{spans:?}");
    let mut text = stale.clone();
    for &(start, end) in spans.iter().rev() {
        text.replace_range(start..end, "");
    }
    let expected: String = stale
        .split_inclusive('\n')
        .filter(|l| !l.contains("\"STG001\""))
        .collect::<String>()
        .replace("implied\"},\n  ]", "implied\"}\n  ]");
    assert_eq!(text, expected);
    serde_json::from_str::<Value>(&text).expect("still JSON");

    // The first two entries stale instead: two whole lines, deleted by
    // empty suggestions.
    std::fs::write(dir.join("refit-baseline.json"), &original).expect("write");
    std::fs::write(
        dir.join("Dockerfile"),
        "FROM docker.io/library/node:20\nFROM python:3\nFROM docker.io/library/ruby:3\n",
    )
    .expect("write");
    let out = refit(
        dir,
        &[
            "check",
            "--baseline",
            "refit-baseline.json",
            "--format",
            "github-review",
        ],
    );
    let review: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let comments = review["comments"].as_array().cloned().unwrap_or_default();
    let bodies: Vec<&str> = comments
        .iter()
        .filter(|c| c["path"] == "refit-baseline.json")
        .filter_map(|c| c["body"].as_str())
        .collect();
    assert_eq!(bodies.len(), 2, "{review:#}");
    for body in &bodies {
        assert!(body.ends_with("```suggestion\n```"), "{body}");
    }
    apply_suggestions(dir, &review);
    let got = std::fs::read_to_string(dir.join("refit-baseline.json")).expect("read");
    let expected: String = original
        .split_inclusive('\n')
        .filter(|l| {
            !l.contains("`ruby:3` has no registry") && !l.contains("`node:20` has no registry")
        })
        .collect();
    assert_eq!(got, expected);
    serde_json::from_str::<Value>(&got).expect("still JSON");
}

/// A repository whose Dockerfile (`FROM node`) has REG001 and TAG001,
/// both recorded in `refit-baseline.json`.
fn baselined_node() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    git(tmp.path(), &["init", "-q", "-b", "main"]);
    std::fs::write(tmp.path().join("Dockerfile"), "FROM node\n").expect("write");
    let out = refit(
        tmp.path(),
        &["check", "--write-baseline", "refit-baseline.json"],
    );
    assert_eq!(stdout(&out), "Wrote 2 findings to refit-baseline.json.\n");
    tmp
}

fn baseline_codes(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("refit-baseline.json")).expect("read");
    let doc: Value = serde_json::from_str(&text).expect("the baseline is JSON");
    doc["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|e| e["code"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn an_ignored_rules_entries_are_kept() {
    let tmp = baselined_node();
    let dir = tmp.path();
    let concise = ["--baseline", "refit-baseline.json", "--format", "concise"];
    let out = refit(
        dir,
        &[&["check", "--ignore", "TAG001"][..], &concise[..]].concat(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(!stdout(&out).contains("SUP002"), "{}", stdout(&out));
    // `--fix` qualifies the image: the REG001 entry goes, TAG001's stays.
    let out = refit(
        dir,
        &[
            "check",
            "--baseline",
            "refit-baseline.json",
            "--ignore",
            "TAG001",
            "--fix",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(baseline_codes(dir), vec!["TAG001"]);
    let out = refit(dir, &[&["check"][..], &concise[..]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(!stdout(&out).contains("TAG001"), "{}", stdout(&out));
}

#[test]
fn only_selected_rules_entries_are_judged() {
    let tmp = baselined_node();
    let dir = tmp.path();
    // Qualified by hand: the REG001 entry is stale, TAG001's still matches.
    std::fs::write(dir.join("Dockerfile"), "FROM docker.io/library/node\n").expect("write");
    let stale = |select: &str| -> Vec<String> {
        findings(
            dir,
            &["--baseline", "refit-baseline.json", "--select", select],
        )
        .iter()
        .map(|d| format!("{} {}", d["code"], d["message"]))
        .collect()
    };
    assert_eq!(
        stale("REG001"),
        vec!["\"SUP002\" \"Baseline entry for REG001 in `Dockerfile` matches no finding\""]
    );
    // REG001 did not run: its entry is not judged.
    assert_eq!(stale("TAG001"), Vec::<String>::new());
    let out = refit(
        dir,
        &[
            "check",
            "--baseline",
            "refit-baseline.json",
            "--select",
            "TAG001",
            "--fix",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(baseline_codes(dir), vec!["REG001", "TAG001"]);
    let out = refit(
        dir,
        &[
            "check",
            "--baseline",
            "refit-baseline.json",
            "--select",
            "REG001",
            "--fix",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(baseline_codes(dir), vec!["TAG001"]);
}

#[test]
fn per_file_ignored_entries_are_kept_and_other_files_judged() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    git(dir, &["init", "-q", "-b", "main"]);
    for sub in ["a", "b"] {
        std::fs::create_dir_all(dir.join(sub)).expect("mkdir");
        std::fs::write(
            dir.join(sub).join("Dockerfile"),
            "FROM docker.io/library/node\n",
        )
        .expect("write");
    }
    let out = refit(dir, &["check", "--write-baseline", "refit-baseline.json"]);
    assert_eq!(stdout(&out), "Wrote 2 findings to refit-baseline.json.\n");
    std::fs::write(
        dir.join("refit.toml"),
        "baseline = \"refit-baseline.json\"\n[per-file-ignores]\n\"a/**\" = [\"TAG001\"]\n",
    )
    .expect("write");
    let messages = |dir: &Path| -> Vec<String> {
        findings(dir, &[])
            .iter()
            .map(|d| d["message"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(messages(dir), Vec::<String>::new());
    // Both files tagged: only b's entry can be judged stale.
    for sub in ["a", "b"] {
        std::fs::write(
            dir.join(sub).join("Dockerfile"),
            "FROM docker.io/library/node:22\n",
        )
        .expect("write");
    }
    assert_eq!(
        messages(dir),
        vec!["Baseline entry for TAG001 in `b/Dockerfile` matches no finding"]
    );
    let out = refit(dir, &["check", "--fix"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let text = std::fs::read_to_string(dir.join("refit-baseline.json")).expect("read");
    assert!(text.contains("\"file\":\"a/Dockerfile\""), "{text}");
    assert!(!text.contains("\"file\":\"b/Dockerfile\""), "{text}");
}

#[test]
fn online_rules_entries_are_kept_offline() {
    let tmp = baselined_node();
    let dir = tmp.path();
    let path = dir.join("refit-baseline.json");
    let text = std::fs::read_to_string(&path).expect("read");
    let online = "    {\"file\":\"Dockerfile\",\"code\":\"REF003\",\"fingerprint\":\"0123456789abcdef\",\"message\":\"Image `docker.io/library/node` does not exist\"},\n";
    let text = text.replacen("[\n", &format!("[\n{online}"), 1);
    std::fs::write(&path, &text).expect("write");
    let out = refit(
        dir,
        &[
            "check",
            "--baseline",
            "refit-baseline.json",
            "--format",
            "concise",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let out = refit(
        dir,
        &["check", "--baseline", "refit-baseline.json", "--fix"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    // REG001's entry went with the fix; REF003's was not judged.
    assert_eq!(baseline_codes(dir), vec!["REF003", "TAG001"]);
}
