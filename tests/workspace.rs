//! The workspace cache (`.refit_cache/`): a fact file changed, added,
//! deleted or renamed changes what the next run knows, exactly as a run
//! without the cache would; `--no-cache` neither reads nor writes it, and
//! `refit clean` removes it.
//!
//! Every file and folder is given a modification time in the past after
//! each change, so the cache keeps it (entries changed in the last two
//! seconds are read again anyway) and these tests exercise the cache, not
//! the re-reading of recent files.

use assert_cmd::Command;
use std::path::Path;
use std::time::{Duration, SystemTime};

fn refit() -> Command {
    Command::cargo_bin("refit").expect("the refit binary")
}

/// Set every file's and folder's modification time under `root` to
/// `minutes` minutes ago (a distinct time per call, as a real edit gives).
fn age(root: &Path, minutes: u64) {
    let when = SystemTime::now() - Duration::from_secs(60 * minutes);
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("list").flatten() {
            let path = entry.path();
            if entry.file_name() == ".git" {
                continue;
            }
            let kind = entry.file_type().expect("type");
            if kind.is_dir() {
                stack.push(path.clone());
            }
            if let Ok(f) = std::fs::File::open(&path) {
                let _ = f.set_modified(when);
            }
        }
    }
    if let Ok(f) = std::fs::File::open(root) {
        let _ = f.set_modified(when);
    }
}

/// The codes `refit check` reports for `app/Dockerfile`.
fn codes(root: &Path, extra: &[&str]) -> Vec<String> {
    let out = refit()
        .current_dir(root)
        .args(["check", "--output-format", "json"])
        .args(extra)
        .arg("app/Dockerfile")
        .output()
        .expect("refit runs");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    json["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| d["code"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// A git repository whose `app/Dockerfile` uses `acme/base`, which a build
/// file may or may not say the repository builds.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::create_dir_all(root.join("app")).expect("mkdir");
    std::fs::create_dir_all(root.join("base")).expect("mkdir");
    std::fs::write(root.join("app/Dockerfile"), "FROM acme/base:1.0\n").expect("write");
    std::fs::write(
        root.join("base/Dockerfile"),
        "FROM docker.io/library/alpine:3.20\n",
    )
    .expect("write");
    let git = std::process::Command::new("git")
        .args(["init", "-q"])
        .current_dir(root)
        .status();
    if !git.is_ok_and(|s| s.success()) {
        // Without git the walk enumerates; the cache works the same.
        std::fs::write(root.join("refit.toml"), "").expect("write");
    }
    dir
}

const BUILDS: &str = "build:\n\tdocker build -t acme/base base\n";
const BUILDS_OTHER: &str = "build:\n\tdocker build -t acme/other base\n";

#[test]
fn a_build_file_changed_added_deleted_and_renamed() {
    let dir = repo();
    let root = dir.path();
    let built = Vec::<String>::new();
    let pulled = vec!["REG001".to_string()];
    // No build file: `acme/base` is pulled from Docker Hub.
    age(root, 100);
    assert_eq!(codes(root, &[]), pulled);
    assert!(root.join(".refit_cache/workspace-v2.bin").is_file());
    assert!(
        std::fs::read_to_string(root.join(".refit_cache/.gitignore"))
            .expect("the cache ignores itself")
            .contains('*')
    );
    // Added (in a folder that existed): the repository builds it.
    std::fs::write(root.join("Makefile"), BUILDS).expect("write");
    age(root, 90);
    assert_eq!(codes(root, &[]), built, "added");
    // Added in a new folder.
    std::fs::remove_file(root.join("Makefile")).expect("rm");
    std::fs::create_dir_all(root.join("scripts/ci")).expect("mkdir");
    std::fs::write(
        root.join("scripts/ci/build.sh"),
        "docker build -t acme/base base\n",
    )
    .expect("write");
    age(root, 80);
    assert_eq!(codes(root, &[]), built, "added in a new folder");
    // Changed in place (same folder entries, new content).
    std::fs::write(
        root.join("scripts/ci/build.sh"),
        "docker build -t acme/other base\n",
    )
    .expect("write");
    age(root, 70);
    assert_eq!(codes(root, &[]), pulled, "changed");
    std::fs::write(
        root.join("scripts/ci/build.sh"),
        "docker build -t acme/base base\n",
    )
    .expect("write");
    age(root, 60);
    assert_eq!(codes(root, &[]), built, "changed back");
    // Renamed to a name that carries no facts.
    std::fs::rename(
        root.join("scripts/ci/build.sh"),
        root.join("scripts/ci/build.txt"),
    )
    .expect("mv");
    age(root, 50);
    assert_eq!(codes(root, &[]), pulled, "renamed away");
    // Renamed to a build file again.
    std::fs::rename(
        root.join("scripts/ci/build.txt"),
        root.join("scripts/ci/b.sh"),
    )
    .expect("mv");
    age(root, 40);
    assert_eq!(codes(root, &[]), built, "renamed back");
    // Deleted with its folder.
    std::fs::remove_dir_all(root.join("scripts")).expect("rm");
    age(root, 30);
    assert_eq!(codes(root, &[]), pulled, "deleted");
    // Each answer is what a run without the cache gives.
    std::fs::write(root.join("Makefile"), BUILDS_OTHER).expect("write");
    age(root, 20);
    assert_eq!(codes(root, &[]), codes(root, &["--no-cache"]));
}

#[test]
fn kustomization_and_registries_conf_changes_reach_the_next_run() {
    let dir = repo();
    let root = dir.path();
    // Every overlay is here (else a rename in a file a kustomization lists
    // is unsafe whatever its entries say, issue 22): only the facts decide.
    std::fs::write(
        root.join("refit.toml"),
        "[fix]\nkustomize-consumers = \"repository\"\n",
    )
    .expect("write");
    std::fs::create_dir_all(root.join("deploy")).expect("mkdir");
    std::fs::write(
        root.join("deploy/deployment.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.25\n",
    )
    .expect("write");
    let fix_of = |root: &Path| -> String {
        let out = refit()
            .current_dir(root)
            .args(["check", "--output-format", "json", "deploy/deployment.yaml"])
            .output()
            .expect("refit runs");
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        json["diagnostics"]
            .as_array()
            .expect("diagnostics")
            .iter()
            .find(|d| d["code"] == "REG001")
            .map(|d| {
                d["fix"]["applicability"]
                    .as_str()
                    .unwrap_or("none")
                    .to_string()
            })
            .unwrap_or_else(|| "no finding".to_string())
    };
    age(root, 100);
    assert_eq!(fix_of(root), "safe");
    // A kustomization that overrides `nginx` by name: qualifying the
    // resource would stop the entry from matching.
    std::fs::write(
        root.join("deploy/kustomization.yaml"),
        "resources:\n  - deployment.yaml\nimages:\n  - name: nginx\n    newTag: 1.27.1\n",
    )
    .expect("write");
    age(root, 90);
    let with_entry = fix_of(root);
    assert_ne!(with_entry, "safe", "a kustomization added");
    // The entry changed to another image: the fix is safe again.
    std::fs::write(
        root.join("deploy/kustomization.yaml"),
        "resources:\n  - deployment.yaml\nimages:\n  - name: redis\n    newTag: 7.2.4\n",
    )
    .expect("write");
    age(root, 80);
    assert_eq!(fix_of(root), "safe", "the entry changed");
    // A registries.conf that lets Podman search elsewhere, and a
    // Containerfile-style build: qualifying as Docker Hub is not safe.
    std::fs::create_dir_all(root.join("containers")).expect("mkdir");
    std::fs::write(
        root.join("containers/registries.conf"),
        "unqualified-search-registries = [\"quay.io\", \"docker.io\"]\n",
    )
    .expect("write");
    std::fs::write(
        root.join("run.sh"),
        "podman kube play deploy/deployment.yaml\n",
    )
    .expect("write");
    age(root, 70);
    let conf_added = fix_of(root);
    std::fs::remove_file(root.join("containers/registries.conf")).expect("rm");
    age(root, 60);
    assert_eq!(fix_of(root), fix_of_without_cache(root), "deleted");
    assert_eq!(conf_added, {
        std::fs::write(
            root.join("containers/registries.conf"),
            "unqualified-search-registries = [\"quay.io\", \"docker.io\"]\n",
        )
        .expect("write");
        fix_of_without_cache(root)
    });
}

fn fix_of_without_cache(root: &Path) -> String {
    let out = refit()
        .current_dir(root)
        .args([
            "check",
            "--no-cache",
            "--output-format",
            "json",
            "deploy/deployment.yaml",
        ])
        .output()
        .expect("refit runs");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    json["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .find(|d| d["code"] == "REG001")
        .map(|d| {
            d["fix"]["applicability"]
                .as_str()
                .unwrap_or("none")
                .to_string()
        })
        .unwrap_or_else(|| "no finding".to_string())
}

/// The cache is what answers: a build file rewritten with its size, time
/// and inode kept (which no editor does) is not read again. This is the
/// documented limit of a stat-keyed cache (ruff's and git's too).
#[test]
fn an_unchanged_stamp_is_answered_from_the_cache() {
    let dir = repo();
    let root = dir.path();
    std::fs::write(root.join("Makefile"), BUILDS).expect("write");
    age(root, 100);
    assert!(codes(root, &[]).is_empty());
    let when = std::fs::metadata(root.join("Makefile"))
        .and_then(|m| m.modified())
        .expect("mtime");
    // Same length, same inode, same time: `acme/base` → `acme/bxse`.
    std::fs::write(
        root.join("Makefile"),
        BUILDS.replace("acme/base", "acme/bxse"),
    )
    .expect("write");
    std::fs::File::options()
        .write(true)
        .open(root.join("Makefile"))
        .and_then(|f| f.set_modified(when))
        .expect("touch");
    age_dirs_only(root, 100);
    assert!(codes(root, &[]).is_empty(), "answered from the cache");
    assert_eq!(codes(root, &["--no-cache"]), vec!["REG001".to_string()]);
}

/// A build file changed in place (its folder's entries unchanged) just
/// before a run is "racily clean" when the cache is written: it must stay
/// in the cache, to be read again, not drop out of the next run.
#[test]
fn a_file_changed_just_before_a_run_is_read_again_next_time() {
    let dir = repo();
    let root = dir.path();
    std::fs::write(root.join("Makefile"), BUILDS_OTHER).expect("write");
    age(root, 100);
    assert_eq!(codes(root, &[]), vec!["REG001".to_string()]);
    // Rewritten in place, now: the folder's time does not change.
    std::fs::write(root.join("Makefile"), BUILDS).expect("write");
    age_dirs_only(root, 100);
    assert!(codes(root, &[]).is_empty(), "read at once");
    assert!(codes(root, &[]).is_empty(), "and still known next time");
    assert_eq!(codes(root, &[]), codes(root, &["--no-cache"]));
}

/// A build file added in a folder that held no file git lists (here an
/// empty one) reaches the next run: that folder is watched too.
#[test]
fn a_build_file_added_in_an_empty_folder() {
    let dir = repo();
    let root = dir.path();
    std::fs::create_dir_all(root.join("scripts/ci")).expect("mkdir");
    age(root, 100);
    assert_eq!(codes(root, &[]), vec!["REG001".to_string()]);
    age(root, 90);
    assert_eq!(codes(root, &[]), vec!["REG001".to_string()]);
    std::fs::write(
        root.join("scripts/ci/build.sh"),
        "docker build -t acme/base base\n",
    )
    .expect("write");
    // Only that folder changed (its parent's entries did not).
    let when = SystemTime::now() - Duration::from_secs(60 * 80);
    for path in [root.join("scripts/ci/build.sh"), root.join("scripts/ci")] {
        std::fs::File::open(&path)
            .and_then(|f| f.set_modified(when))
            .expect("touch");
    }
    assert!(codes(root, &[]).is_empty(), "added in an empty folder");
    assert_eq!(codes(root, &[]), codes(root, &["--no-cache"]));
}

fn age_dirs_only(root: &Path, minutes: u64) {
    let when = SystemTime::now() - Duration::from_secs(60 * minutes);
    for dir in [root.to_path_buf(), root.join("app"), root.join("base")] {
        if let Ok(f) = std::fs::File::open(&dir) {
            let _ = f.set_modified(when);
        }
    }
}

#[test]
fn no_cache_and_clean() {
    let dir = repo();
    let root = dir.path();
    age(root, 100);
    codes(root, &["--no-cache"]);
    assert!(
        !root.join(".refit_cache").exists(),
        "--no-cache writes none"
    );
    codes(root, &[]);
    assert!(root.join(".refit_cache").is_dir());
    let out = refit()
        .current_dir(root.join("app"))
        .arg("clean")
        .output()
        .expect("refit clean");
    assert!(out.status.success(), "{out:?}");
    assert!(
        !root.join(".refit_cache").exists(),
        "refit clean removes it"
    );
    // git does not see the cache.
    codes(root, &[]);
    let status = std::process::Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=all"])
        .current_dir(root)
        .output();
    if let Ok(status) = status
        && status.status.success()
    {
        let text = String::from_utf8_lossy(&status.stdout);
        assert!(!text.contains(".refit_cache"), "{text}");
    }
}

/// A cache folder that is a link out of the repository is neither read
/// nor written.
#[cfg(unix)]
#[test]
fn a_linked_cache_folder_is_not_used() {
    let dir = repo();
    let root = dir.path();
    let outside = tempfile::tempdir().expect("tempdir");
    std::os::unix::fs::symlink(outside.path(), root.join(".refit_cache")).expect("link");
    age(root, 100);
    assert_eq!(codes(root, &[]), vec!["REG001".to_string()]);
    assert_eq!(
        std::fs::read_dir(outside.path()).expect("list").count(),
        0,
        "nothing written through the link"
    );
    let out = refit()
        .current_dir(root)
        .arg("clean")
        .output()
        .expect("refit clean");
    assert!(out.status.success());
    assert!(outside.path().is_dir(), "the link's target is not removed");
}

/// A build command counts wherever it is written: npm's `package.json`
/// scripts and a `.bash` script name a built image and a build target
/// as a Makefile does (every reader takes one list of command files).
#[test]
fn build_commands_in_package_json_and_bash_scripts_count() {
    for (file, text) in [
        (
            "package.json",
            "{\n  \"scripts\": {\n    \"image\": \"docker build --target prod -t acme/base base\"\n  }\n}\n",
        ),
        (
            "scripts/build.bash",
            "#!/bin/bash\ndocker build --target prod -t acme/base base\n",
        ),
    ] {
        let dir = repo();
        let root = dir.path();
        std::fs::write(
            root.join("base/Dockerfile"),
            "FROM docker.io/library/alpine:3.20 AS build\nRUN true\n\nFROM docker.io/library/alpine:3.20 AS prod\nRUN true\n\nFROM docker.io/library/alpine:3.20 AS dev\n",
        )
        .expect("write");
        let stages = |root: &Path| {
            let out = refit()
                .current_dir(root)
                .args(["check", "--output-format", "json", "--select", "STG001"])
                .arg("base/Dockerfile")
                .output()
                .expect("refit runs");
            let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
            json["diagnostics"].as_array().map(Vec::len).unwrap_or(0)
        };
        // Without the build command: `acme/base` is pulled from Docker Hub,
        // and `build` and `prod` are unreachable from the last stage.
        assert_eq!(codes(root, &["--no-cache"]), vec!["REG001".to_string()]);
        assert_eq!(stages(root), 2, "{file}");
        let path = root.join(file);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write");
        assert_eq!(codes(root, &["--no-cache"]), Vec::<String>::new(), "{file}");
        // `--target prod` builds prod; only `build` stays unreachable.
        assert_eq!(stages(root), 1, "{file}");
    }
}

#[test]
fn devcontainer_build_args_give_the_dockerfile_its_args() {
    let dir = repo();
    let root = dir.path();
    std::fs::create_dir_all(root.join(".devcontainer")).expect("mkdir");
    std::fs::write(
        root.join("app/Dockerfile"),
        "ARG VARIANT\nFROM mcr.microsoft.com/devcontainers/python:${VARIANT}\n",
    )
    .expect("write");
    // Without the dev container: VARIANT has no value (reported when
    // REF002 is selected: by default, a Dockerfile no build refit reads
    // names is built in a way refit does not see).
    assert_eq!(codes(root, &["--no-cache"]), Vec::<String>::new());
    assert_eq!(
        codes(root, &["--no-cache", "--select", "REF002"]),
        vec!["REF002".to_string()]
    );
    std::fs::write(
        root.join(".devcontainer/devcontainer.json"),
        "{\n  // The Dockerfile is relative to this file.\n  \"build\": {\"dockerfile\": \"../app/Dockerfile\", \"context\": \"..\", \"args\": {\"VARIANT\": \"3.12\",},},\n}\n",
    )
    .expect("write");
    assert_eq!(codes(root, &["--no-cache"]), Vec::<String>::new());
}
