//! The GitHub Action's entry script and the GitLab CI template, run
//! locally: a temporary repository with a base and a head commit, the
//! variables the CI systems set, and the files they read back.

mod common;
use common::git;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A repository whose head commit adds one finding to a file with two old
/// ones. Returns (tempdir, repo, base sha).
fn repository() -> (tempfile::TempDir, PathBuf, String) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("repo");
    std::fs::create_dir_all(dir.join("app")).expect("mkdir");
    git(&dir, &["init", "-q", "-b", "main"]);
    std::fs::write(dir.join("app/Dockerfile"), "FROM node:20 AS build\nRUN npm ci\nFROM nginx:1.27\nCOPY --from=build /app /usr/share/nginx/html\n").expect("write");
    git(&dir, &["add", "-A"]);
    git(&dir, &["commit", "-q", "-m", "base"]);
    let base = git(&dir, &["rev-parse", "HEAD"]);
    git(&dir, &["checkout", "-q", "-b", "feature"]);
    std::fs::write(
        dir.join("compose.yaml"),
        "services:\n  cache:\n    image: index.docker.io/library/redis:7.2\n",
    )
    .expect("write");
    git(&dir, &["add", "-A"]);
    git(&dir, &["commit", "-q", "-m", "head"]);
    (tmp, dir, base)
}

fn path_with_refit() -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_refit"));
    let dir = bin.parent().map(Path::to_path_buf).unwrap_or_default();
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn have(cmd: &str) -> bool {
    Command::new(cmd)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

struct ActionRun {
    status: Option<i32>,
    stdout: String,
    output: String,
    summary: String,
    report: String,
}

fn run_action(dir: &Path, base: &str, mode: &str) -> ActionRun {
    let work = dir.parent().expect("parent");
    let event = work.join("event.json");
    std::fs::write(
        &event,
        format!("{{\"pull_request\": {{\"number\": 7, \"base\": {{\"sha\": \"{base}\", \"ref\": \"main\"}}}}}}"),
    )
    .expect("write");
    let output = work.join(format!("output-{mode}"));
    let summary = work.join(format!("summary-{mode}"));
    std::fs::write(&output, "").expect("write");
    std::fs::write(&summary, "").expect("write");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("ci/github-action.sh");
    let out = Command::new("bash")
        .arg(script)
        .current_dir(dir)
        .env("PATH", path_with_refit())
        .env("INPUT_MODE", mode)
        .env("INPUT_DIFF_BASE", "")
        .env("INPUT_ARGS", "")
        // Posting the review is tests/distribution.rs's (to a loopback API).
        .env("INPUT_POST_REVIEW", "false")
        .env_remove("INPUT_TOKEN")
        .env_remove("GITHUB_API_URL")
        .env("GITHUB_EVENT_PATH", &event)
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .expect("bash runs");
    let report = match mode {
        "sarif" => "refit.sarif",
        "review" => "refit-review.json",
        "fix-suggestions" => "refit-review.md",
        _ => "",
    };
    ActionRun {
        status: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        output: std::fs::read_to_string(&output).unwrap_or_default(),
        summary: std::fs::read_to_string(&summary).unwrap_or_default(),
        report: if report.is_empty() {
            String::new()
        } else {
            std::fs::read_to_string(dir.join(report)).unwrap_or_default()
        },
    }
}

#[test]
fn github_action_entry_script() {
    if !have("python3") {
        eprintln!("skipping: python3 is not installed");
        return;
    }
    let (_t, dir, base) = repository();
    let annotations = run_action(&dir, &base, "annotations");
    assert_eq!(annotations.status, Some(1));
    // Only the pull request's change: the compose file, not the old
    // Dockerfile findings.
    assert!(
        annotations.stdout.contains("file=compose.yaml"),
        "{}",
        annotations.stdout
    );
    assert!(
        !annotations.stdout.contains("app/Dockerfile"),
        "{}",
        annotations.stdout
    );
    insta::assert_snapshot!("action-annotations-stdout", annotations.stdout);
    insta::assert_snapshot!("action-annotations-output", annotations.output);
    insta::assert_snapshot!("action-annotations-summary", annotations.summary);

    let sarif = run_action(&dir, &base, "sarif");
    assert_eq!(
        sarif.output,
        "findings=1\nreport=refit.sarif\nexit-code=1\nreview-url=\n"
    );
    let doc: serde_json::Value = serde_json::from_str(&sarif.report).expect("SARIF is JSON");
    assert_eq!(doc["runs"][0]["results"].as_array().map(Vec::len), Some(1));

    let review = run_action(&dir, &base, "review");
    let doc: serde_json::Value = serde_json::from_str(&review.report).expect("review is JSON");
    assert_eq!(doc["comments"][0]["path"], "compose.yaml");
    insta::assert_snapshot!("action-review-report", review.report);

    let md = run_action(&dir, &base, "fix-suggestions");
    assert!(
        md.report
            .contains("```suggestion\n    image: docker.io/library/redis:7.2\n```"),
        "{}",
        md.report
    );

    let bad = run_action(&dir, &base, "nonsense");
    assert_eq!(bad.status, Some(2));
    assert!(
        bad.stdout
            .contains("::error title=refit::unknown mode 'nonsense'")
    );
}

/// The `script` block of the template's `refit` job.
fn gitlab_script() -> String {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("ci/refit.gitlab-ci.yml"),
    )
    .expect("template");
    common::gitlab_script(&text)
}

#[test]
fn gitlab_template_writes_the_code_quality_report_for_the_merge_request() {
    let (_t, dir, base) = repository();
    let script = gitlab_script();
    let run = |args: &str, vars: &[(&str, &str)]| {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(&script)
            .current_dir(&dir)
            .env("PATH", path_with_refit())
            .env("REFIT_ARGS", args)
            .env("REFIT_INSTALL", "");
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("sh runs");
        let report =
            std::fs::read_to_string(dir.join("gl-code-quality-report.json")).unwrap_or_default();
        (out, report)
    };
    let (out, report) = run(
        "",
        &[
            ("CI_MERGE_REQUEST_DIFF_BASE_SHA", &base),
            ("CI_PIPELINE_SOURCE", "merge_request_event"),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "findings do not fail the job: {out:?}"
    );
    let doc: serde_json::Value = serde_json::from_str(&report).expect("Code Quality JSON");
    let issues = doc.as_array().cloned().unwrap_or_default();
    assert_eq!(issues.len(), 1, "{report}");
    assert_eq!(issues[0]["location"]["path"], "compose.yaml");
    insta::assert_snapshot!("gitlab-mr-report", report);
    insta::assert_snapshot!("gitlab-mr-log", String::from_utf8_lossy(&out.stdout));
    // Outside a merge request: the whole repository.
    let (_, report) = run("", &[]);
    let doc: serde_json::Value = serde_json::from_str(&report).expect("Code Quality JSON");
    assert_eq!(doc.as_array().map(Vec::len), Some(3), "{report}");
    // REFIT_ARGS reaches refit.
    let (out, report) = run("--select TAG", &[]);
    assert!(out.status.success());
    assert_eq!(report.trim(), "[]");
}
