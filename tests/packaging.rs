//! Real clients: pre-commit runs the hooks of this repository (at HEAD,
//! as a user's `.pre-commit-config.yaml` would name it), and the maturin wheel installs into a fresh
//! virtualenv. Skipped with a message where the tools are missing; `.ci/run`
//! installs them.

use std::path::Path;
use std::process::Command;

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&ok.stderr)
    );
}

#[test]
fn pre_commit_hooks_check_and_fix() {
    if !have("pre-commit") || !have("git") {
        eprintln!(
            "skipping: pre-commit (from PyPI) or git is not installed; `pip install pre-commit`"
        );
        return;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    let home = dir.path().join("pre-commit-home");
    std::fs::create_dir_all(work.join("chart/templates")).unwrap();
    std::fs::write(work.join("Dockerfile"), "FROM node:20\n").unwrap();
    std::fs::write(
        work.join("api.dockerfile"),
        "FROM docker.io/library/alpine:3.20\n",
    )
    .unwrap();
    std::fs::write(
        work.join("compose.yaml"),
        "services:\n  web:\n    image: nginx:1.27 # front\n",
    )
    .unwrap();
    std::fs::write(work.join(".dockerignore"), "target\n").unwrap();
    std::fs::write(
        work.join("chart/Chart.yaml"),
        "apiVersion: v2\nname: c\nversion: 1.0.0\n",
    )
    .unwrap();
    std::fs::write(
        work.join("chart/templates/deploy.yaml"),
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: {{ .Values.image }}\n",
    )
    .unwrap();
    // This repository at HEAD as the hook source: pre-commit clones it and
    // builds refit once with cargo, cached under PRE_COMMIT_HOME.
    let head = Command::new("git")
        .current_dir(repo)
        .args(["rev-parse", "HEAD"])
        .output()
        .unwrap();
    let head = String::from_utf8_lossy(&head.stdout).trim().to_string();
    assert!(!head.is_empty(), "the repository has a commit");
    std::fs::write(
        work.join(".pre-commit-config.yaml"),
        format!(
            "repos:\n-   repo: {}\n    rev: {head}\n    hooks:\n    -   id: refit\n    -   id: refit-fix\n",
            repo.display()
        ),
    )
    .unwrap();
    git(&work, &["init", "-q"]);
    git(&work, &["add", "-A"]);
    let try_repo = |hook: &str| {
        let out = Command::new("pre-commit")
            .current_dir(&work)
            .env("PRE_COMMIT_HOME", &home)
            .env("NO_COLOR", "1")
            // The hook build is a test fixture: build it fast, and keep its
            // target folder between runs.
            .env("CARGO_TARGET_DIR", repo.join("target/pre-commit"))
            .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
            .env("CARGO_PROFILE_RELEASE_LTO", "false")
            .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16")
            .args(["run", hook, "--all-files", "--color", "never"])
            .output()
            .unwrap();
        (
            out.status.code(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    // The check hook reports and changes nothing.
    let (code, out) = try_repo("refit");
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("Dockerfile:1:6: REG001"), "{out}");
    assert!(out.contains("compose.yaml:3:12: REG001"), "{out}");
    assert!(
        !out.contains("api.dockerfile:"),
        "a clean file has no findings:\n{out}"
    );
    assert!(!out.contains("templates"), "templates are excluded:\n{out}");
    assert!(!out.contains(".dockerignore"), "{out}");
    assert_eq!(
        std::fs::read_to_string(work.join("Dockerfile")).unwrap(),
        "FROM node:20\n"
    );
    // The fix hook rewrites files, so pre-commit fails the run.
    let (code, out) = try_repo("refit-fix");
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("files were modified by this hook"), "{out}");
    assert_eq!(
        std::fs::read_to_string(work.join("Dockerfile")).unwrap(),
        "FROM docker.io/library/node:20\n"
    );
    assert_eq!(
        std::fs::read_to_string(work.join("compose.yaml")).unwrap(),
        "services:\n  web:\n    image: docker.io/library/nginx:1.27 # front\n"
    );
    // Nothing left: both hooks pass.
    git(&work, &["add", "-A"]);
    let (code, out) = try_repo("refit-fix");
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = try_repo("refit");
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn maturin_wheel_installs_and_runs() {
    if !have("maturin") || !have("python3") {
        eprintln!("skipping: maturin or python3 is not installed; `pip install maturin`");
        return;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let wheels = dir.path().join("wheels");
    let out = Command::new("maturin")
        .current_dir(repo)
        .env("CARGO_TARGET_DIR", repo.join("target/maturin"))
        // A debug build is enough to check the packaging.
        .args(["build", "--quiet", "--out"])
        .arg(&wheels)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "maturin build: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let wheel = std::fs::read_dir(&wheels)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .expect("a wheel");
    let venv = dir.path().join("venv");
    let ok = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .unwrap();
    assert!(ok.success());
    let pip = Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--no-index"])
        .arg(&wheel)
        .output()
        .unwrap();
    assert!(
        pip.status.success(),
        "{}",
        String::from_utf8_lossy(&pip.stderr)
    );
    let version = Command::new(venv.join("bin/refit"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("refit {}", env!("CARGO_PKG_VERSION"))
    );
}
