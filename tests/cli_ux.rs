//! The command line as users of ruff and hadolint expect it (issue 16).

use std::fs;

mod common;
use common::{git, refit, run, write};

#[test]
fn list_subcommands_take_the_check_format_names() {
    // `human` everywhere; `text` still works but is not advertised.
    let (code, human, _) = run(refit().args(["rules", "--format", "human"]));
    assert_eq!(code, 0);
    let (_, text, _) = run(refit().args(["rules", "--format", "text"]));
    assert_eq!(human, text);
    assert!(human.starts_with("BASE001 runtime-base-image"), "{human}");
    let (_, help, _) = run(refit().args(["sites", "--help"]));
    assert!(help.contains("human"), "{help}");
    assert!(!help.contains("text"), "{help}");
    let (code, out, _) = run(refit().args(["reference", "--format", "human", "node:20"]));
    assert_eq!(code, 0);
    assert!(
        out.contains("normalized: docker.io/library/node:20"),
        "{out}"
    );
    let (code, _, _) = run(refit()
        .args(["check", "--format", "text", "--isolated", "-"])
        .write_stdin("FROM docker.io/library/node:20.1.0\n"));
    assert_eq!(code, 0);
}

#[test]
fn rules_json_carries_documentation_and_rule_all_prints_every_page() {
    let (code, out, _) = run(refit().args(["rules", "--format", "json"]));
    assert_eq!(code, 0);
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    let reg001 = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "REG001")
        .unwrap();
    assert!(
        reg001["documentation"]
            .as_str()
            .unwrap()
            .starts_with("## What it does"),
        "{reg001}"
    );
    assert!(
        reg001["page"]
            .as_str()
            .unwrap()
            .starts_with("# implicit-registry (REG001)")
    );
    let (code, out, _) = run(refit().args(["rule", "--all"]));
    assert_eq!(code, 0);
    for r in list.as_array().unwrap() {
        let heading = format!(
            "# {} ({})",
            r["name"].as_str().unwrap(),
            r["code"].as_str().unwrap()
        );
        assert!(out.contains(&heading), "missing {heading}");
    }
    assert!(out.contains("# syntax-error (E004)"), "{out}");
    let (code, _, err) = run(refit().args(["rule"]));
    assert_eq!(code, 2, "{err}");
}

#[test]
fn reference_notes_an_uppercase_first_component_read_as_a_host() {
    let (code, out, _) = run(refit().args(["reference", "Foo/bar"]));
    assert_eq!(code, 0);
    assert!(out.contains("  domain:     Foo\n"), "{out}");
    assert!(
        out.contains(
            "note:       `Foo` is read as a registry host because it has an uppercase letter"
        ),
        "{out}"
    );
    let (_, out, _) = run(refit().args(["reference", "--format", "json", "Foo/bar", "foo/bar"]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        v[0]["note"].as_str().unwrap().contains("(`foo/bar`)"),
        "{v}"
    );
    assert!(v[1]["note"].is_null(), "{v}");
}

#[test]
fn invalid_references_name_the_bad_part() {
    let (code, out, _) = run(refit().args(["reference", "node:", "node@sha256:abc"]));
    assert_eq!(code, 1);
    assert!(
        out.contains("why:        the tag after `:` is empty"),
        "{out}"
    );
    assert!(
        out.contains("why:        the sha256 digest has 3 hex digits; it needs 64"),
        "{out}"
    );
    // REF001 says it too.
    let (code, out, _) = run(refit()
        .args([
            "check",
            "--isolated",
            "--format",
            "concise",
            "--select",
            "REF001",
            "--stdin-filename",
            "Dockerfile",
            "-",
        ])
        .write_stdin("FROM node:\nFROM docker.io/library/node@sha256:abc\n"));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Dockerfile:1:6: REF001 error: Image reference `node:` is invalid: invalid reference format (the tag after `:` is empty)"), "{out}");
    assert!(
        out.contains("(the sha256 digest has 3 hex digits; it needs 64)"),
        "{out}"
    );
}

#[test]
fn sites_json_gives_null_raw_and_unresolved_variables() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "Dockerfile",
        "ARG UV_VERSION\nFROM ghcr.io/astral-sh/uv:${UV_VERSION}\n",
    );
    let (code, out, _) = run(refit()
        .args(["sites", "--format", "json"])
        .current_dir(dir.path()));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v[0]["reference"].is_null(), "{v}");
    assert_eq!(v[0]["raw"], "ghcr.io/astral-sh/uv:${UV_VERSION}");
    assert_eq!(v[0]["unresolved"], serde_json::json!(["UV_VERSION"]));
    let (_, out, _) = run(refit().arg("sites").current_dir(dir.path()));
    assert_eq!(
        out,
        "Dockerfile:2:6: FROM ghcr.io/astral-sh/uv:${UV_VERSION} (unresolved: UV_VERSION)\n"
    );
}

/// A kustomize `newTag` that YAML reads as a number is what `check`
/// reports as TAG005 (kustomize refuses it): `sites` marks it the same way
/// (issue 22).
#[test]
fn sites_mark_a_numeric_kustomize_tag_as_check_does() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "kustomization.yaml",
        "images:\n  - name: nginx\n    newName: ghcr.io/org/nginx\n    newTag: 1.10\n  - name: app\n    newName: ghcr.io/org/app\n    newTag: \"1.10\"\n",
    );
    let (code, out, _) = run(refit().arg("sites").current_dir(dir.path()));
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "kustomization.yaml:3:14: kustomize image ghcr.io/org/nginx:1.10 (images[0].newName) [tag `1.10` is a YAML number: kustomize refuses it]\nkustomization.yaml:6:14: kustomize image ghcr.io/org/app:1.10 (images[1].newName)\n"
    );
    let (_, out, _) = run(refit()
        .args(["sites", "--format", "json"])
        .current_dir(dir.path()));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["numeric_tags"], serde_json::json!(["1.10"]));
    assert_eq!(v[1]["numeric_tags"], serde_json::json!([]));
    let (_, out, _) = run(refit()
        .args(["check", "--output-format", "concise", "--select", "TAG005"])
        .current_dir(dir.path()));
    assert!(out.contains("kustomization.yaml:4:13: TAG005"), "{out}");
}

#[test]
fn reg004_dotnet_fix_writes_what_the_message_says() {
    let (code, out, _) = run(refit()
        .args([
            "check",
            "--isolated",
            "--format",
            "json",
            "--select",
            "REG004",
            "--stdin-filename",
            "Dockerfile",
            "-",
        ])
        .write_stdin(
            "FROM microsoft/dotnet:2.1-sdk\nFROM microsoft/dotnet:2.1-aspnetcore-runtime-alpine\n",
        ));
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let d = &v["diagnostics"];
    assert!(
        d[0]["message"]
            .as_str()
            .unwrap()
            .contains("moved to `mcr.microsoft.com/dotnet/sdk:2.1`"),
        "{d}"
    );
    assert_eq!(
        d[0]["fix"]["edits"][0]["content"],
        "mcr.microsoft.com/dotnet/sdk:2.1"
    );
    assert_eq!(d[0]["fix"]["applicability"], "unsafe");
    assert_eq!(
        d[1]["fix"]["edits"][0]["content"],
        "mcr.microsoft.com/dotnet/aspnet:2.1-alpine"
    );
    let (_, fixed, _) = run(refit()
        .args([
            "check",
            "--isolated",
            "--fix",
            "--unsafe-fixes",
            "--select",
            "REG004",
            "--stdin-filename",
            "Dockerfile",
            "-",
        ])
        .write_stdin("FROM microsoft/dotnet:2.1-sdk\n"));
    assert_eq!(fixed, "FROM mcr.microsoft.com/dotnet/sdk:2.1\n");
}

#[test]
fn statistics_mark_unsafe_only_rules_differently() {
    let (code, out, _) = run(refit()
        .args([
            "check",
            "--isolated",
            "--statistics",
            "--select",
            "REG001,REG004",
            "--stdin-filename",
            "Dockerfile",
            "-",
        ])
        .write_stdin("FROM microsoft/dotnet:2.1-sdk\nFROM node:20\n"));
    assert_eq!(code, 1);
    assert!(out.contains("REG001  [*] implicit-registry"), "{out}");
    assert!(out.contains("REG004  [-] moved-registry"), "{out}");
    assert!(out.contains("[-] only unsafe fixes"), "{out}");
}

#[test]
fn human_wraps_to_columns_never_inside_a_code_span() {
    let input = "FROM minio/minio:RELEASE.2025-09-07T16-13-09Z\nFROM microsoft/dotnet:2.1-sdk\n";
    let (code, out, _) = run(refit()
        .env("COLUMNS", "60")
        .args([
            "check",
            "--isolated",
            "--select",
            "REG004",
            "--stdin-filename",
            "Dockerfile",
            "-",
        ])
        .write_stdin(input));
    assert_eq!(code, 1);
    // Every message and help line fits in 60 columns unless a single code
    // span is longer; no code span is split across lines.
    for line in out
        .lines()
        .filter(|l| l.starts_with("  ") && !l.contains('╭'))
    {
        assert_eq!(
            line.matches('`').count() % 2,
            0,
            "split code span: {line:?}\n{out}"
        );
    }
    assert!(
        out.contains("`minio/minio:RELEASE.2025-09-07T16-13-09Z`"),
        "{out}"
    );
    assert!(out.contains("`mcr.microsoft.com/dotnet/sdk:2.1`"), "{out}");
    let message_lines: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("  ⚠") || l.starts_with("  │"))
        .collect();
    assert!(message_lines.len() >= 6, "{out}");
    assert!(
        message_lines.iter().all(|l| l.chars().count() <= 60),
        "{out}"
    );
    // Without COLUMNS and without a terminal: 100 columns.
    let (_, wide, _) = run(refit()
        .args([
            "check",
            "--isolated",
            "--select",
            "REG004",
            "--stdin-filename",
            "Dockerfile",
            "-",
        ])
        .write_stdin(input));
    assert!(
        wide.lines()
            .any(|l| l.chars().count() > 60 && l.starts_with("  │")),
        "{wide}"
    );
}

#[test]
fn findings_on_one_span_share_one_frame() {
    let (code, out, _) = run(refit()
        .args(["check", "--isolated", "--stdin-filename", "Dockerfile", "-"])
        .write_stdin("FROM nginx:latest\n"));
    assert_eq!(code, 1);
    assert_eq!(out.matches("╭─[Dockerfile:1:6]").count(), 1, "{out}");
    assert!(out.contains("── REG001: fixable"), "{out}");
    assert!(out.contains("── TAG002: here"), "{out}");
    assert!(out.contains("Dockerfile:1:6: TAG002(latest-tag)"), "{out}");
    assert!(out.contains("Found 2 problems."), "{out}");
}

#[test]
fn config_errors_show_file_line_column_and_text() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "Dockerfile",
        "FROM docker.io/library/node:20.1.0\n",
    );
    let cases = [
        (
            "select = [\"REG\"]\n[severity]\nREG = \"fatal\"\n",
            "refit.toml:3:8: severity of `REG` must be `error`, `warning` or `info`, not `fatal`\n  |\n3 | REG = \"fatal\"\n  |        ^^^^^\n",
        ),
        (
            "ignore = [\"TAG001\", \"REG01\"]\n",
            "refit.toml:1:22: unknown rule code `REG01` (did you mean `REG001`?)\n  |\n1 | ignore = [\"TAG001\", \"REG01\"]\n  |                      ^^^^^\n",
        ),
        (
            "select = [\"REG\"\n[fix]\n",
            "refit.toml:2:1: missing comma between array elements, expected `,`\n  |\n2 | [fix]\n  | ^\n",
        ),
        (
            "[kinds]\n\"*.txt\" = \"dockerfil\"\n",
            "refit.toml:2:12: unknown file kind `dockerfil` for `*.txt`\n",
        ),
        (
            "exclude = [\"vendor\", \"a[b\"]\n",
            "refit.toml:1:23: invalid glob `**/a[b`",
        ),
        (
            "extend = \"refit.toml\"\n",
            "refit.toml:1:1: `extend` forms a cycle\n  |\n1 | extend = \"refit.toml\"\n  | ^^^^^^\n",
        ),
    ];
    for (config, want) in cases {
        write(dir.path(), "refit.toml", config);
        let (code, _, err) = run(refit().args(["check", "."]).current_dir(dir.path()));
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(want), "want {want:?} in:\n{err}");
    }
}

#[test]
fn unknown_selectors_get_did_you_mean() {
    let (code, _, err) = run(refit().args(["check", "--isolated", "--select", "REG01", "."]));
    assert_eq!(code, 2);
    assert!(
        err.contains("unknown rule selector `REG01` (did you mean `REG001`?)"),
        "{err}"
    );
    let (_, _, err) = run(refit().args(["check", "--isolated", "--ignore", "TAGG", "."]));
    assert!(
        err.contains("unknown rule selector `TAGG` (did you mean `TAG`?)"),
        "{err}"
    );
    let (_, _, err) = run(refit().args(["check", "--isolated", "--ignore", "QQQQQQ", "."]));
    assert!(err.contains("unknown rule selector `QQQQQQ`\n"), "{err}");
}

#[test]
fn man_page_has_every_subcommand_exit_status_and_environment() {
    let (code, page, _) = run(refit().arg("man"));
    assert_eq!(code, 0);
    for sub in [
        "check",
        "reference",
        "sites",
        "rule",
        "config",
        "completions",
        "man",
        "rules",
    ] {
        assert!(
            page.contains(&format!(".SS \"refit {sub}\"")),
            "no {sub}:\n{page}"
        );
    }
    assert!(page.contains(".SH \"EXIT STATUS\""), "{page}");
    assert!(page.contains(".SH ENVIRONMENT"), "{page}");
    for var in ["NO_COLOR", "FORCE_COLOR", "CLICOLOR_FORCE", "COLUMNS"] {
        assert!(page.contains(var), "{var}");
    }
    assert!(
        page.contains("\\fB\\-\\-select\\fR \\fICODES\\fR"),
        "{page}"
    );
    assert!(
        !page.contains("refit-check(1)"),
        "points at a page that does not exist"
    );
}

#[test]
fn explicit_files_of_unknown_kind_are_named_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "docs/dockerfile-tips.md",
        "# Tips\n\nUse `FROM node:20`.\n",
    );
    write(dir.path(), "notes.txt", "hello\n");
    write(
        dir.path(),
        "build.docker",
        "# the build\nARG V=20.1.0\nFROM docker.io/library/node:${V}\n",
    );
    let (code, out, err) = run(refit()
        .args([
            "check",
            "--isolated",
            "docs/dockerfile-tips.md",
            "notes.txt",
            "build.docker",
        ])
        .current_dir(dir.path()));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains(
            "warning: docs/dockerfile-tips.md: skipped: refit cannot tell what kind of file this is"
        ),
        "{err}"
    );
    assert!(err.contains("warning: notes.txt: skipped"), "{err}");
    // Content that starts like a Dockerfile is read as one.
    assert!(!err.contains("build.docker"), "{err}");
    assert!(!out.contains("E004"), "{out}");
    // A missing file is still an error, not a guess.
    let (code, out, _) = run(refit()
        .args(["check", "--isolated", "--format", "concise", "missing.txt"])
        .current_dir(dir.path()));
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("E001"), "{out}");
}

#[test]
fn add_ignore_for_a_directive_covers_only_the_directive_and_json_names_per_file_ignores() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "Dockerfile",
        "# syntax=docker/dockerfile:1\nFROM docker.io/library/node:20.1.0\n",
    );
    let (code, out, err) = run(refit()
        .args(["check", "--isolated", "--add-ignore"])
        .current_dir(dir.path()));
    assert_eq!(code, 0, "{out}{err}");
    let written = fs::read_to_string(&file).unwrap();
    assert_eq!(
        written,
        "# syntax=docker/dockerfile:1\n# refit: ignore-directives[REG001]\nFROM docker.io/library/node:20.1.0\n"
    );
    // A REG001 added later elsewhere is still reported.
    fs::write(&file, format!("{written}FROM redis:7.2.4\n")).unwrap();
    let (code, out, _) = run(refit()
        .args(["check", "--isolated", "--format", "concise"])
        .current_dir(dir.path()));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Dockerfile:4:6: REG001"), "{out}");
    assert!(!out.contains("Dockerfile:1:"), "{out}");

    let json = tempfile::tempdir().unwrap();
    let daemon = write(
        json.path(),
        "etc/docker/daemon.json",
        "{\"registry-mirrors\": [\"https://docker.mirrors.ustc.edu.cn\"]}\n",
    );
    let before = fs::read_to_string(&daemon).unwrap();
    let (code, _, err) = run(refit()
        .args(["check", "--isolated", "--add-ignore"])
        .current_dir(json.path()));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("etc/docker/daemon.json: JSON has no comments, so no suppression can be written in it; add `\"etc/docker/daemon.json\" = [\"MIR001\"]` to `[per-file-ignores]` in refit.toml"),
        "{err}"
    );
    assert_eq!(fs::read_to_string(&daemon).unwrap(), before);
}

/// REF002 by default reports an `ARG` without a default in `FROM` only when
/// no build invocation of the repository sets it; selected by its code it
/// reports every unresolved variable (issue 22).
#[test]
fn ref002_default_scope_is_what_the_repository_proves() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join(".git")).unwrap();
    write(
        dir.path(),
        "Dockerfile",
        "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n",
    );
    write(
        dir.path(),
        "compose.yaml",
        "services:\n  db:\n    image: docker.io/library/postgres:${PG_VERSION}\n",
    );
    let codes = |args: &[&str]| {
        let (_, out, _) = run(refit()
            .args(["check", "--output-format", "concise"])
            .args(args)
            .current_dir(dir.path()));
        out.lines()
            .filter(|l| l.contains(": REF002"))
            .map(|l| l.split(':').next().unwrap_or("").to_string())
            .collect::<Vec<_>>()
    };
    // No build of the Dockerfile that refit reads: how it is built (and
    // whether BASE_IMAGE is passed) is not seen, so nothing by default.
    assert_eq!(codes(&[]), Vec::<String>::new());
    write(dir.path(), "build.sh", "docker build -t app .\n");
    // A build that passes nothing: proven; the Compose variable is the environment's.
    assert_eq!(codes(&[]), ["Dockerfile"]);
    assert_eq!(
        codes(&["--select", "REF002"]),
        ["Dockerfile", "compose.yaml"]
    );
    // A Makefile passes it: silent by default, still there when selected.
    fs::remove_file(dir.path().join("build.sh")).unwrap();
    write(
        dir.path(),
        "Makefile",
        "build:\n\tdocker build --build-arg BASE_IMAGE=docker.io/library/debian:12 .\n",
    );
    assert_eq!(codes(&[]), Vec::<String>::new());
    assert_eq!(
        codes(&["--select", "REF002"]),
        ["Dockerfile", "compose.yaml"]
    );
    // A script that passes arguments refit cannot read: silent too.
    fs::remove_file(dir.path().join("Makefile")).unwrap();
    write(
        dir.path(),
        "build.sh",
        "docker build $BUILD_ARGS -t app .\n",
    );
    assert_eq!(codes(&[]), Vec::<String>::new());
}

#[test]
fn every_human_header_names_path_line_and_column() {
    // Issue 24: the first finding of a frame had a bare `REG001(…)` header.
    let (code, out, _) = run(refit()
        .args(["check", "--isolated", "--select", "REG,TAG"])
        .args(["--stdin-filename", "Dockerfile", "-"])
        .write_stdin("FROM nginx:latest\nFROM alpine:3.19\n"));
    assert_eq!(code, 1);
    let headers: Vec<&str> = out
        .lines()
        .filter(|l| l.ends_with(')') && !l.starts_with(' '))
        .collect();
    assert_eq!(
        headers,
        [
            "Dockerfile:1:6: REG001(implicit-registry)",
            "Dockerfile:1:6: TAG002(latest-tag)",
            "Dockerfile:2:6: REG001(implicit-registry)",
        ],
        "{out}"
    );
}

#[test]
fn concise_lines_show_the_severity_that_fail_level_judges() {
    // Issue 24: with `--fail-level error` a reader must see which lines fail.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "Dockerfile", "FROM nginx:latest\nFROM node:\n");
    let (code, out, _) = run(refit()
        .current_dir(dir.path())
        .args([
            "check",
            "--isolated",
            "--format",
            "concise",
            "--fail-level",
            "error",
        ])
        .args(["--select", "REG001,REF001", "Dockerfile"]));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with(
            "Dockerfile:1:6: REG001 warning: Image `nginx:latest` has no registry; Docker Hub is implied\n\
             Dockerfile:2:6: REF001 error: Image reference `node:` is invalid"
        ),
        "{out}"
    );
}

/// `refit check --watch ARGS DIR` running, its stdout read line by line.
struct Watched {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Watched {
    fn start(args: &[&str], dir: &std::path::Path) -> Watched {
        use std::io::BufRead;
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin!("refit"))
            .args(["check", "--watch", "--format", "concise"])
            .args(args)
            .arg(dir)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                if tx.send(line.unwrap_or_default()).is_err() {
                    break;
                }
            }
        });
        Watched { child, lines }
    }

    /// Lines up to the next summary, within a bounded time.
    fn report(&self, what: &str) -> Vec<String> {
        use std::time::{Duration, Instant};
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut lines = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(l) if l.starts_with("Found ") || l == "All checks passed!" => {
                    lines.push(l);
                    return lines;
                }
                Ok(l) => lines.push(l),
                Err(_) => break,
            }
        }
        panic!("no {what} report within 30 s: {lines:?}");
    }

    /// Stop it: its exit status and stderr.
    fn stop(mut self) -> (std::process::ExitStatus, String) {
        self.child.kill().unwrap();
        let status = self.child.wait().unwrap();
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut self.child.stderr.take().unwrap(), &mut stderr).unwrap();
        (status, stderr)
    }
}

#[test]
fn watch_checks_again_after_a_change() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "Dockerfile",
        "FROM docker.io/library/nginx:1.27\n",
    );
    let watched = Watched::start(&["--isolated"], dir.path());
    let first = watched.report("first");
    // The workspace cache and git's folder are no change.
    write(dir.path(), ".refit_cache/x", "x");
    write(dir.path(), ".git/index", "x");
    write(dir.path(), "Dockerfile", "FROM nginx:1.27\n");
    let second = watched.report("second");
    let (status, stderr) = watched.stop();
    assert_eq!(first, ["All checks passed!"], "{stderr}");
    assert_eq!(
        second[0],
        "Dockerfile:1:6: REG001 warning: Image `nginx:1.27` has no registry; Docker Hub is implied"
            .replace(
                "Dockerfile",
                &dir.path().join("Dockerfile").display().to_string()
            ),
        "{stderr}"
    );
    assert!(!status.success());
    assert!(
        stderr.starts_with("[refit] Checking in watch mode (Ctrl-C to stop)...\n"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Dockerfile changed: checking again...\n"),
        "{stderr}"
    );
}

/// A file that only the configuration's `[kinds]` makes checkable counts
/// as a change too.
#[test]
fn watch_checks_again_for_a_file_kinds_maps() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "refit.toml",
        "[kinds]\n\"*.txt\" = \"dockerfile\"\n",
    );
    write(
        dir.path(),
        "base.txt",
        "FROM docker.io/library/nginx:1.27\n",
    );
    let watched = Watched::start(&[], dir.path());
    let first = watched.report("first");
    write(dir.path(), "base.txt", "FROM nginx:1.27\n");
    let second = watched.report("second");
    let (_, stderr) = watched.stop();
    assert_eq!(first, ["All checks passed!"], "{stderr}");
    assert!(
        second[0].contains("base.txt:1:6: REG001 warning"),
        "{second:?}"
    );
    assert!(
        stderr.contains("base.txt changed: checking again...\n"),
        "{stderr}"
    );
}

#[test]
fn check_help_is_grouped_with_named_placeholders_within_100_columns() {
    for flag in ["--help", "-h"] {
        let (code, help, _) = run(refit().args(["check", flag]));
        assert_eq!(code, 0);
        let long: Vec<&str> = help.lines().filter(|l| l.chars().count() > 100).collect();
        assert!(long.is_empty(), "{flag}: lines over 100 columns: {long:#?}");
        let headings: Vec<&str> = help
            .lines()
            .filter(|l| l.ends_with(':') && !l.starts_with(' '))
            .collect();
        assert_eq!(
            headings,
            [
                "Arguments:",
                "Options:",
                "Rule selection:",
                "Files:",
                "Fixing:",
                "Output:",
                "Exit status:",
                "PR and adoption:",
                "Build inputs:",
                "Configuration:",
                "Online (with --online):",
            ],
            "{help}"
        );
        for placeholder in [
            "--select <CODES>",
            "--ignore <CODES>",
            "--stdin-filename <PATH>",
            "--max-file-size <BYTES>",
            "--fail-level <LEVEL>",
            "--color <WHEN>",
        ] {
            assert!(
                help.contains(placeholder),
                "{flag}: no {placeholder}:\n{help}"
            );
        }
        // `--no-cache` sits with the configuration, not with the online
        // options, and says both caches it skips.
        let config = &help[help.find("Configuration:").unwrap()..help.find("Online (").unwrap()];
        assert!(config.contains("--no-cache"), "{help}");
    }
    let (_, help, _) = run(refit().args(["check", "--help"]));
    assert!(
        help.contains("the workspace cache that every check keeps in\n          `.refit_cache/`, and the digest cache of `--online`"),
        "{help}"
    );
}

#[test]
fn rule_suggests_the_nearest_code_or_name_as_select_does() {
    let (code, _, err) = run(refit().args(["rule", "TAG02"]));
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: unknown rule `TAG02` (did you mean `TAG002`?); `refit rules` lists them\n"
    );
    let (_, _, err) = run(refit().args(["rule", "latest-tg"]));
    assert!(err.contains("(did you mean `latest-tag`?)"), "{err}");
    let (_, _, err) = run(refit().args(["rule", "QQQQQQ"]));
    assert_eq!(
        err,
        "error: unknown rule `QQQQQQ`; `refit rules` lists them\n"
    );
}

#[test]
fn rules_columns_fit_the_longest_entry() {
    let (code, out, _) = run(refit().arg("rules"));
    assert_eq!(code, 0);
    // Every row has its severity and `fix:` columns at the same offsets,
    // the longest name (`redundant-target-platform`) included.
    let at = |line: &str, what: &str| line.find(what);
    let rows: Vec<&str> = out.lines().collect();
    assert!(
        rows.iter()
            .any(|r| r.contains(" redundant-target-platform ")),
        "{out}"
    );
    let severity: std::collections::BTreeSet<_> = rows
        .iter()
        .map(|r| {
            ["warning", "error", "info"]
                .iter()
                .find_map(|s| at(r, &format!(" {s} ")))
        })
        .collect();
    let fix: std::collections::BTreeSet<_> = rows.iter().map(|r| at(r, " fix:")).collect();
    assert_eq!(severity.len(), 1, "{out}");
    assert_eq!(fix.len(), 1, "{out}");
}

#[test]
fn review_with_diff_base_suggests_only_for_the_findings_it_shows() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git(root, &["init", "-q", "-b", "main"]);
    write(root, "Dockerfile", "FROM nginx:1.2 AS a\n");
    git(root, &["add", "."]);
    git(root, &["commit", "-qm", "one"]);
    git(root, &["checkout", "-qb", "feature"]);
    write(root, "Dockerfile", "FROM nginx:1.2 AS a\nFROM redis:7.2\n");
    git(root, &["commit", "-qam", "two"]);
    let (code, out, err) = run(refit().current_dir(root).args([
        "check",
        "--isolated",
        "--select",
        "REG",
        "--diff-base",
        "main",
        "--format",
        "review",
    ]));
    assert_eq!(code, 1, "{err}");
    // Line 1's finding is not on a changed line: neither it nor its fix.
    assert!(!out.contains("line 1"), "{out}");
    assert!(!out.contains("nginx"), "{out}");
    assert!(
        out.contains(
            "Suggested change for line 2:\n\n```suggestion\nFROM docker.io/library/redis:7.2\n```\n"
        ),
        "{out}"
    );
}

#[test]
fn diff_base_compares_the_repository_of_the_checked_path_and_suggests_branches() {
    let dir = tempfile::tempdir().unwrap();
    let (outside, repo) = (dir.path().join("outside"), dir.path().join("repo"));
    for root in [&outside, &repo] {
        std::fs::create_dir_all(root).unwrap();
        git(root, &["init", "-q", "-b", "main"]);
        write(root, "Dockerfile", "FROM nginx:1.2 AS a\n");
        git(root, &["add", "."]);
        git(root, &["commit", "-qm", "one"]);
    }
    git(&repo, &["checkout", "-qb", "feature"]);
    write(&repo, "Dockerfile", "FROM nginx:1.2 AS a\nFROM redis:7.2\n");
    // Run from another repository: the checked path's repository counts.
    let (code, out, err) = run(refit().current_dir(&outside).args([
        "check",
        "--isolated",
        "--select",
        "REG",
        "--format",
        "concise",
        "--diff-base",
        "main",
        "../repo",
    ]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.starts_with("../repo/Dockerfile:2:6: REG001 warning: Image `redis:7.2`"),
        "{out}"
    );
    assert!(!out.contains(":1:6:"), "{out}");
    let (code, _, err) = run(refit().current_dir(&outside).args([
        "check",
        "--isolated",
        "--diff-base",
        "mian",
        "../repo",
    ]));
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: --diff-base: `mian` is not a commit in this repository (did you mean `main`?)\n"
    );
}

#[test]
fn stdin_filename_that_names_no_kind_is_a_usage_error_not_a_dockerfile() {
    let compose = "services:\n  web:\n    image: redis:7.2\n";
    let (code, out, err) = run(refit()
        .args(["check", "--isolated", "--stdin-filename", "foo.txt", "-"])
        .write_stdin(compose));
    assert_eq!(code, 2, "{out}");
    assert_eq!(out, "");
    assert!(
        err.starts_with("error: --stdin-filename foo.txt: the kind of file is unknown"),
        "{err}"
    );
    assert!(err.contains("`--stdin-filename compose.yaml`"), "{err}");
    assert!(
        !err.contains("E004") && !err.contains("unknown instruction"),
        "{err}"
    );
    // A name that says nothing, with text that starts like a Dockerfile,
    // is one (as a file named on the command line).
    let (code, out, _) = run(refit()
        .args([
            "check",
            "--isolated",
            "--format",
            "concise",
            "--stdin-filename",
            "foo.txt",
            "-",
        ])
        .write_stdin("FROM redis:7.2\n"));
    assert_eq!(code, 1);
    assert!(out.starts_with("foo.txt:1:6: REG001 "), "{out}");
    // Any YAML name with Compose text is Compose.
    let (code, out, _) = run(refit()
        .args([
            "check",
            "--isolated",
            "--format",
            "concise",
            "--stdin-filename",
            "app.yml",
            "-",
        ])
        .write_stdin(compose));
    assert_eq!(code, 1);
    assert!(out.contains("(`services.web.image`)"), "{out}");
}

#[test]
fn a_missing_path_is_named_as_missing_per_path() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "Dockerfile",
        "FROM docker.io/library/nginx:1.27\n",
    );
    let (code, out, _) = run(refit().current_dir(dir.path()).args([
        "check",
        "--isolated",
        "--format",
        "concise",
        "nosuchdir",
        "gone/Dockerfile",
        "Dockerfile",
    ]));
    assert_eq!(code, 2, "{out}");
    assert_eq!(
        out,
        "gone/Dockerfile:1:1: E001 error: No such file or folder: the path does not exist\n\
         nosuchdir:1:1: E001 error: No such file or folder: the path does not exist\n\
         Found 2 problems.\n\
         2 files could not be checked.\n"
    );
    let (code, out, _) =
        run(refit()
            .current_dir(dir.path())
            .args(["check", "--isolated", "nosuchdir"]));
    assert_eq!(code, 2);
    assert!(
        out.starts_with(
            "nosuchdir: E001(io-error)\n\n  × No such file or folder: the path does not exist\n"
        ),
        "{out}"
    );
}

/// `refit rules | head -1`: a reader that goes away ends refit quietly,
/// as it ends `cat`, never with a panic.
#[cfg(unix)]
#[test]
fn a_closed_pipe_is_not_a_panic() {
    for args in [&["rules"][..], &["rule", "--all"], &["man"]] {
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_refit"))
            .args(args)
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .expect("refit runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_ne!(out.status.code(), Some(101), "{args:?}: {stderr}");
    }
}
