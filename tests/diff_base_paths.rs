//! `--diff-base` against a hostile repository: changed files whose names
//! hold spaces, quotes, tabs and newlines are all found; a base that git
//! would read as an option is refused; the repository's git config cannot
//! run a program. Each test builds a real git repository.

mod common;
use common::git;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn refit(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_refit"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("refit runs")
}

/// The files of the findings, sorted, one per finding.
fn finding_files(dir: &Path, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["check", "--format", "json"];
    args.extend_from_slice(extra);
    let out = refit(dir, &args);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let mut files: Vec<String> = doc["diagnostics"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|d| d["path"].as_str().unwrap_or("?").to_string())
        .collect();
    files.sort();
    files
}

const ODD: [&str; 4] = ["with space", "quo\"te", "tab\there", "new\nline"];

/// `main` has a clean Dockerfile in each odd folder; `feature` adds a
/// `FROM redis` line to each (REG001 and TAG001).
fn repository() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("repo");
    std::fs::create_dir_all(&dir).expect("mkdir");
    git(&dir, &["init", "-q", "-b", "main"]);
    for name in ODD {
        let sub = dir.join(name);
        std::fs::create_dir_all(&sub).expect("mkdir");
        std::fs::write(
            sub.join("Dockerfile"),
            "FROM docker.io/library/alpine:3.20\n",
        )
        .expect("write");
    }
    git(&dir, &["add", "-A"]);
    git(&dir, &["commit", "-q", "-m", "base"]);
    git(&dir, &["checkout", "-q", "-b", "feature"]);
    for name in ODD {
        std::fs::write(
            dir.join(name).join("Dockerfile"),
            "FROM docker.io/library/alpine:3.20\nFROM redis\n",
        )
        .expect("write");
    }
    git(&dir, &["commit", "-q", "-am", "add redis"]);
    (tmp, dir)
}

fn expected(per_file: usize) -> Vec<String> {
    let mut files: Vec<String> = ODD
        .iter()
        .flat_map(|n| std::iter::repeat_n(format!("{n}/Dockerfile"), per_file))
        .collect();
    files.sort();
    files
}

#[test]
fn changed_files_with_odd_names_are_all_found() {
    let (_t, dir) = repository();
    // REG001 and TAG001 on `FROM redis`, STG001 on the stage it leaves
    // unused.
    assert_eq!(finding_files(&dir, &[]), expected(3));
    assert_eq!(finding_files(&dir, &["--diff-base", "main"]), expected(2));
    assert_eq!(
        finding_files(&dir, &["--diff-base", "main", "--diff-scope", "files"]),
        expected(3)
    );
    assert_eq!(
        finding_files(&dir, &["--diff-base", "main", "--diff-committed"]),
        expected(2)
    );
    // Uncommitted edits and untracked files under odd names too.
    std::fs::write(
        dir.join("with space/Dockerfile"),
        "FROM docker.io/library/alpine:3.20\nFROM redis\nFROM nginx:latest\n",
    )
    .expect("write");
    std::fs::create_dir_all(dir.join("un tracked\t\"x\"")).expect("mkdir");
    std::fs::write(
        dir.join("un tracked\t\"x\"/Dockerfile"),
        "FROM nginx:latest\n",
    )
    .expect("write");
    let files = finding_files(&dir, &["--diff-base", "main"]);
    assert_eq!(
        files
            .iter()
            .filter(|f| f.starts_with("with space/"))
            .count(),
        5,
        "{files:?}"
    );
    assert_eq!(
        files.iter().filter(|f| f.starts_with("un tracked")).count(),
        2,
        "{files:?}"
    );
}

#[test]
fn a_base_that_looks_like_an_option_is_a_usage_error() {
    let (_t, dir) = repository();
    for base in ["--independent", "--fork-point", "--octopus"] {
        let out = refit(&dir, &["check", &format!("--diff-base={base}")]);
        assert_eq!(out.status.code(), Some(2), "{base}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("starts with `-`"), "{base}: {err}");
    }
}

#[test]
fn the_repository_config_runs_no_program() {
    let (tmp, dir) = repository();
    let marker = tmp.path().join("fsmonitor-ran");
    let hook = tmp.path().join("hook.sh");
    std::fs::write(
        &hook,
        format!("#!/bin/sh\ntouch '{}'\nprintf '\\0'\n", marker.display()),
    )
    .expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let hook_text = hook.display().to_string();
    git(&dir, &["config", "core.fsmonitor", &hook_text]);
    // The hook works: plain git runs it.
    git(&dir, &["status", "--short"]);
    assert!(marker.exists(), "git itself should run the fsmonitor hook");
    std::fs::remove_file(&marker).expect("rm");
    std::fs::write(dir.join("with space/Dockerfile"), "FROM nginx:latest\n").expect("write");
    let files = finding_files(&dir, &["--diff-base", "main"]);
    assert!(!files.is_empty());
    assert!(
        !marker.exists(),
        "refit ran the repository's core.fsmonitor"
    );
}

/// `--diff` on an absolute path: `a/tmp/...`, as git writes it, not
/// `a//tmp/...`.
#[test]
fn diff_header_of_an_absolute_path_has_one_slash() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("Dockerfile");
    std::fs::write(&file, "FROM redis:7\n").expect("write");
    let abs = file.display().to_string();
    let out = refit(tmp.path(), &["check", "--diff", &abs]);
    let text = String::from_utf8_lossy(&out.stdout);
    let rel = abs.trim_start_matches('/');
    assert!(
        text.contains(&format!("--- a/{rel}\n+++ b/{rel}\n")),
        "{text}"
    );
    assert!(!text.contains("a//"), "{text}");
}

/// A checkout reached through a symbolic link: git names the real top
/// folder, the walk the linked one; the changed files are still found.
#[cfg(unix)]
#[test]
fn a_checkout_reached_through_a_link_keeps_its_changes() {
    let (tmp, dir) = repository();
    let link = tmp.path().join("linked");
    std::os::unix::fs::symlink(&dir, &link).expect("symlink");
    assert_eq!(finding_files(&link, &["--diff-base", "main"]), expected(2));
    let sub = link.join("with space");
    let files = finding_files(&sub, &["--diff-base", "main"]);
    assert_eq!(files, vec!["Dockerfile".to_string(); 2], "{files:?}");
}
