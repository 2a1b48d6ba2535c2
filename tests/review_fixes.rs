//! Fixes the review of the session's change found unsafe, each checked
//! through the command a user runs: `refit check --fix --diff`.

use std::path::Path;
use std::process::Command;

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// `refit check --isolated --fix --diff .` in `root`: (stdout, concise report).
fn diff_and_report(root: &Path) -> (String, String) {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_refit"))
            .current_dir(root)
            .args(["check", "--isolated"])
            .args(args)
            .arg(".")
            .output()
            .expect("refit runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    (run(&["--fix", "--diff"]), run(&["--format", "concise"]))
}

/// A YAML anchor its aliases share with a non-image key is never edited.
#[test]
fn a_shared_yaml_anchor_is_reported_not_edited() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        ".circleci/config.yml",
        "x: &img nginx:1.27\njobs:\n  a:\n    docker:\n      - image: *img\n  b:\n    machine:\n      image: *img\n",
    );
    let (diff, report) = diff_and_report(dir.path());
    assert!(!diff.contains("+x: &img"), "{diff}");
    assert!(report.contains("REG001"), "{report}");
}

/// Only a command pulls: an `echo` argument, a comment and a PowerShell
/// step's words are not `docker pull`.
#[test]
fn only_commands_in_posix_run_steps_are_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        ".github/workflows/a.yml",
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: |\n          docker pull node:20\n          echo docker pull alpine:3.20\n          # docker pull redis:7\n          true && sudo docker pull busybox:1.36\n      - shell: pwsh\n        run: docker pull ubuntu:24.04\n",
    );
    let (diff, _) = diff_and_report(dir.path());
    assert!(
        diff.contains("+          docker pull docker.io/library/node:20"),
        "{diff}"
    );
    assert!(
        diff.contains("sudo docker pull docker.io/library/busybox:1.36"),
        "{diff}"
    );
    for untouched in ["alpine", "redis", "ubuntu"] {
        assert!(
            !diff.contains(&format!("docker.io/library/{untouched}")),
            "{untouched}: {diff}"
        );
    }
}

/// A matrix value is also what `exclude:` matches: reported, not edited.
#[test]
fn a_matrix_image_is_reported_not_edited() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        ".github/workflows/m.yml",
        "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    strategy:\n      matrix:\n        image: [node:20, alpine:3.20]\n        exclude:\n          - image: alpine:3.20\n    container: ${{ matrix.image }}\n    steps:\n      - run: echo ok\n",
    );
    let (diff, report) = diff_and_report(dir.path());
    assert!(!diff.contains("docker.io/library"), "{diff}");
    assert!(report.contains("REG001"), "{report}");
}

/// A Quadlet value continued over lines is reported, not edited.
#[test]
fn a_continued_quadlet_value_is_not_edited() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "app.container",
        "[Container]\nImage=index.docker.io/library/ngi\\\n  nx:1.27\n",
    );
    let (diff, _) = diff_and_report(dir.path());
    assert!(!diff.contains("+++"), "{diff}");
}

/// A Kubernetes object kept in a pipelines folder is read as a manifest.
#[test]
fn a_manifest_in_a_pipelines_folder_is_a_manifest() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "azure-pipelines/pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: nginx:1.27\n",
    );
    let (_, report) = diff_and_report(dir.path());
    assert!(
        report.contains("azure-pipelines/pod.yaml:8:14: REG001"),
        "{report}"
    );
}
