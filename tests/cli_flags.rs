//! Summaries and the flags users reach for from ruff and hadolint (issue 16).

use std::fs;

mod common;
use common::{refit, run, write};

const UNSAFE_ONLY: &str = "FROM quay.io/coreos/prometheus-operator:v0.40.0\n";

#[test]
fn summaries_mention_hidden_unsafe_fixes_and_unchecked_files() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "Dockerfile", UNSAFE_ONLY);
    // --diff with only an unsafe fix: says so instead of nothing.
    let (code, out, err) = run(refit()
        .args(["check", "--isolated", "--diff", "."])
        .current_dir(dir.path()));
    assert_eq!(code, 0);
    assert_eq!(out, "");
    assert_eq!(
        err,
        "No problems would be fixed (1 fix available with `--unsafe-fixes`).\n"
    );
    // --fix: the summary says the same.
    let (code, out, _) = run(refit()
        .args(["check", "--isolated", "--fix", "--format", "concise", "."])
        .current_dir(dir.path()));
    assert_eq!(code, 1);
    assert!(out.ends_with("Found 1 problem (0 fixed, 1 remaining).\n1 hidden fix available with `--unsafe-fixes`.\n"), "{out}");
    // Files that could not be checked are counted, in every summary.
    write(dir.path(), "sub/Dockerfile", "FROM\n");
    write(dir.path(), "bad/compose.yaml", "services: [\n");
    let (code, out, _) = run(refit()
        .args(["check", "--isolated", "--format", "concise", "."])
        .current_dir(dir.path()));
    assert_eq!(code, 2);
    assert!(out.ends_with("2 files could not be checked.\n"), "{out}");
    let (code, _, err) = run(refit()
        .args(["check", "--isolated", "--diff", "."])
        .current_dir(dir.path()));
    assert_eq!(code, 2);
    assert!(
        err.ends_with("(1 fix available with `--unsafe-fixes`).\n2 files could not be checked.\n"),
        "{err}"
    );
    let (_, out, _) = run(refit()
        .args(["check", "--isolated", "--fix", "."])
        .current_dir(dir.path()));
    assert!(out.ends_with("2 files could not be checked.\n"), "{out}");
}

#[test]
fn nothing_to_check_warns() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = run(refit()
        .args(["check", "--isolated"])
        .current_dir(dir.path()));
    assert_eq!(code, 0);
    assert_eq!(out, "All checks passed!\n");
    assert!(
        err.starts_with("warning: no files refit recognises"),
        "{err}"
    );
    write(dir.path(), "main.py", "print(1)\n");
    let (_, _, err) = run(refit()
        .args(["check", "--isolated", "."])
        .current_dir(dir.path()));
    assert!(
        err.starts_with("warning: no files refit recognises"),
        "{err}"
    );
    write(
        dir.path(),
        "Dockerfile",
        "FROM docker.io/library/node:20.1.0\n",
    );
    let (_, _, err) = run(refit()
        .args(["check", "--isolated", "."])
        .current_dir(dir.path()));
    assert_eq!(err, "");
}

#[test]
fn show_files_lists_files_and_kinds() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "Dockerfile", "FROM node:20\n");
    write(dir.path(), "compose.yaml", "services: {}\n");
    write(dir.path(), "etc/docker/daemon.json", "{}\n");
    write(dir.path(), "notes.md", "# notes\n");
    let (code, out, _) = run(refit()
        .args(["check", "--isolated", "--show-files"])
        .current_dir(dir.path()));
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "Dockerfile (dockerfile)\ncompose.yaml (compose)\netc/docker/daemon.json (daemon-json)\n"
    );
}

#[test]
fn stdin_filename_implies_stdin_and_parse_errors_hint_at_it() {
    let dir = tempfile::tempdir().unwrap();
    // A problem in the folder that must not be reported.
    write(dir.path(), "Dockerfile", "FROM nginx\n");
    let (code, out, _) = run(refit()
        .args([
            "check",
            "--isolated",
            "--format",
            "concise",
            "--stdin-filename",
            "compose.yaml",
        ])
        .current_dir(dir.path())
        .write_stdin("services:\n  web:\n    image: docker.io/library/redis:7.2.4\n"));
    assert_eq!(code, 0, "{out}");
    assert_eq!(out, "All checks passed!\n");
    let (code, out, _) = run(refit()
        .args(["check", "--isolated", "--format", "concise", "-"])
        .write_stdin("services:\n  web:\n    image: redis\n"));
    assert_eq!(code, 2);
    assert!(out.contains("E004 error: unknown instruction: services: (stdin was read as a Dockerfile; name it with `--stdin-filename`"), "{out}");
}

#[test]
fn statistics_in_json() {
    let (code, out, _) = run(refit()
        .args([
            "check",
            "--isolated",
            "--statistics",
            "--format",
            "json",
            "--stdin-filename",
            "Dockerfile",
        ])
        .write_stdin("FROM nginx:latest AS base\nFROM node:20\nCOPY --from=base /a /b\n"));
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v[0],
        serde_json::json!({"code": "REG001", "name": "implicit-registry", "count": 2, "safe_fixes": 2, "unsafe_fixes": 0})
    );
    assert_eq!(v[1]["code"], "TAG002");
}

#[test]
fn exit_zero_quiet_silent_and_output_file() {
    let input = "FROM node:20\n";
    let args = ["check", "--isolated", "--stdin-filename", "Dockerfile"];
    let (code, out, _) = run(refit().args(args).arg("--exit-zero").write_stdin(input));
    assert_eq!(code, 0);
    assert!(out.contains("REG001"), "{out}");
    // Errors still exit 2.
    let (code, _, _) = run(refit().args(args).arg("--exit-zero").write_stdin("FROM\n"));
    assert_eq!(code, 2);
    let (code, out, _) = run(refit()
        .args(args)
        .args(["-q", "--format", "concise"])
        .write_stdin(input));
    assert_eq!(code, 1);
    assert_eq!(
        out,
        "Dockerfile:1:6: REG001 warning: Image `node:20` has no registry; Docker Hub is implied\n"
    );
    let (code, out, err) = run(refit().args(args).arg("--silent").write_stdin(input));
    assert_eq!((code, out.as_str(), err.as_str()), (1, "", ""));
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("out.sarif");
    let (code, out, _) = run(refit()
        .args(args)
        .args(["--output-format", "sarif", "-o"])
        .arg(&sarif)
        .write_stdin(input));
    assert_eq!(code, 1);
    assert_eq!(out, "");
    let v: serde_json::Value = serde_json::from_str(&fs::read_to_string(&sarif).unwrap()).unwrap();
    assert_eq!(v["runs"][0]["results"][0]["ruleId"], "REG001");
}

#[test]
fn color_follows_the_flag_and_the_environment() {
    let args = ["check", "--isolated", "--stdin-filename", "Dockerfile"];
    let input = "FROM node:20\n";
    let colored = |out: &str| out.contains("\x1b[");
    let (_, out, _) = run(refit().args(args).write_stdin(input));
    assert!(!colored(&out), "a pipe is not coloured");
    let (_, out, _) = run(refit()
        .args(args)
        .args(["--color", "always"])
        .write_stdin(input));
    assert!(colored(&out));
    let (_, out, _) = run(refit()
        .args(args)
        .env("FORCE_COLOR", "1")
        .write_stdin(input));
    assert!(colored(&out));
    let (_, out, _) = run(refit()
        .args(args)
        .env("CLICOLOR_FORCE", "1")
        .write_stdin(input));
    assert!(colored(&out));
    let (_, out, _) = run(refit()
        .args(args)
        .env("FORCE_COLOR", "0")
        .write_stdin(input));
    assert!(!colored(&out));
    let (_, out, _) = run(refit()
        .args(args)
        .args(["--color", "never"])
        .env("FORCE_COLOR", "1")
        .write_stdin(input));
    assert!(!colored(&out));
    let (_, out, _) = run(refit()
        .args(args)
        .args(["--color", "always"])
        .env("NO_COLOR", "1")
        .write_stdin(input));
    assert!(colored(&out));
}

#[test]
fn exclude_and_extend_exclude_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "Dockerfile", "FROM node:20\n");
    write(dir.path(), "vendor/Dockerfile", "FROM node:20\n");
    write(dir.path(), "legacy/Dockerfile", "FROM node:20\n");
    write(dir.path(), "refit.toml", "exclude = [\"legacy\"]\n");
    let files = |extra: &[&str]| {
        let (_, out, _) = run(refit()
            .args(["check", "--show-files"])
            .args(extra)
            .current_dir(dir.path()));
        out
    };
    assert_eq!(
        files(&[]),
        "Dockerfile (dockerfile)\nvendor/Dockerfile (dockerfile)\n"
    );
    assert_eq!(
        files(&["--extend-exclude", "vendor"]),
        "Dockerfile (dockerfile)\n"
    );
    // --exclude replaces the config's list.
    assert_eq!(
        files(&["--exclude", "vendor"]),
        "Dockerfile (dockerfile)\nlegacy/Dockerfile (dockerfile)\n"
    );
    let (code, out, _) = run(refit()
        .args([
            "check",
            "--format",
            "concise",
            "--extend-exclude",
            "vendor/**,Dockerfile",
        ])
        .current_dir(dir.path()));
    assert_eq!(code, 0, "{out}");
}

#[test]
fn fix_only_fixes_and_reports_nothing_left() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "Dockerfile",
        "FROM node:20\nFROM nginx:latest\n",
    );
    let (code, out, _) = run(refit()
        .args([
            "check",
            "--isolated",
            "--fix-only",
            "--format",
            "concise",
            ".",
        ])
        .current_dir(dir.path()));
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("TAG002"), "{out}");
    assert!(out.contains("2 fixed, 0 remaining"), "{out}");
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        "FROM docker.io/library/node:20\nFROM docker.io/library/nginx:latest\n"
    );
}

#[test]
fn fail_level_and_info_findings() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "Dockerfile", "FROM docker.io/library/node:20\n");
    write(
        dir.path(),
        "refit.toml",
        "select = [\"REG001\", \"TAG003\"]\n[severity]\nTAG003 = \"info\"\n[rules.TAG003]\nstrict = true\n",
    );
    // An info finding is reported but does not fail the run by default.
    let (code, out, _) = run(refit()
        .args(["check", "--format", "concise"])
        .current_dir(dir.path()));
    assert!(out.contains("TAG003"), "{out}");
    assert_eq!(code, 0, "{out}");
    let (code, _, _) = run(refit()
        .args(["check", "--fail-level", "info"])
        .current_dir(dir.path()));
    assert_eq!(code, 1);
    write(dir.path(), "Dockerfile", "FROM node:20.1.0\n");
    let (code, _, _) = run(refit()
        .args(["check", "--fail-level", "error"])
        .current_dir(dir.path()));
    assert_eq!(code, 0);
    let (code, _, _) = run(refit()
        .args(["check", "--fail-level", "warning"])
        .current_dir(dir.path()));
    assert_eq!(code, 1);
}

#[test]
fn files_from_checks_the_listed_paths_in_one_process() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a/Dockerfile", "FROM nginx:1.27\n");
    write(
        dir.path(),
        "b c/compose.yaml",
        "services:\n  web:\n    image: redis:7.2\n",
    );
    // Not listed: not checked.
    write(dir.path(), "skipped/Dockerfile", "FROM alpine:3.20\n");
    let concise = ["check", "--isolated", "--format", "concise"];
    // One path a line (CRLF too), from a file.
    write(
        dir.path(),
        "list.txt",
        "a/Dockerfile\r\n\nb c/compose.yaml\n",
    );
    let (code, out, err) = run(refit()
        .args(concise)
        .args(["--files-from", "list.txt"])
        .current_dir(dir.path()));
    assert_eq!(code, 1, "{err}");
    assert!(out.contains("a/Dockerfile:1:6: REG001"), "{out}");
    assert!(out.contains("b c/compose.yaml:3:12: REG001"), "{out}");
    assert!(!out.contains("skipped"), "{out}");
    // NUL-separated, from stdin, beside a path on the command line.
    let (code, out, _) = run(refit()
        .args(concise)
        .args(["--files-from", "-", "skipped/Dockerfile"])
        .current_dir(dir.path())
        .write_stdin("b c/compose.yaml\0"));
    assert_eq!(code, 1);
    assert!(out.contains("b c/compose.yaml:3:12: REG001"), "{out}");
    assert!(out.contains("skipped/Dockerfile:1:6: REG001"), "{out}");
    assert!(!out.contains("a/Dockerfile"), "{out}");
    // An empty list checks nothing (not `.`).
    let (code, out, _) = run(refit()
        .args(concise)
        .args(["--files-from", "-"])
        .current_dir(dir.path())
        .write_stdin(""));
    assert_eq!(code, 0, "{out}");
    assert_eq!(out, "All checks passed!\n");
    // Usage errors: a missing list; stdin as both the list and a file.
    let (code, _, err) = run(refit()
        .args(concise)
        .args(["--files-from", "missing.txt"])
        .current_dir(dir.path()));
    assert_eq!(code, 2);
    assert!(err.contains("--files-from missing.txt: "), "{err}");
    let (code, _, err) = run(refit()
        .args(concise)
        .args(["--files-from", "-", "-"])
        .current_dir(dir.path())
        .write_stdin("a/Dockerfile\n"));
    assert_eq!(code, 2);
    assert!(
        err.contains("`--files-from -` reads the list from stdin"),
        "{err}"
    );
}
