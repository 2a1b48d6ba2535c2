//! An image the repository builds is not a pull, whatever file names it
//! (panel 3, class 3): a workflow step that runs what an earlier step
//! built, and Compose's default name for a built service
//! (`<project>-<service>`).

use std::path::Path;
use std::process::Command;

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// `refit check --isolated --no-cache --format concise .` in `root`, a
/// git work tree as a real repository is (its root is known, not guessed).
fn report(root: &Path) -> String {
    let init = Command::new("git")
        .args(["init", "-q"])
        .current_dir(root)
        .status()
        .expect("git runs");
    assert!(init.success());
    let out = Command::new(env!("CARGO_BIN_EXE_refit"))
        .current_dir(root)
        .args([
            "check",
            "--isolated",
            "--no-cache",
            "--format",
            "concise",
            ".",
        ])
        .output()
        .expect("refit runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_workflow_runs_what_an_earlier_step_built() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        ".github/workflows/ci.yml",
        "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: |\n          podman build --target cri -t cri-in-userns -f ./Dockerfile.test .\n      - run: podman run --rm cri-in-userns\n      - run: docker run --rm busybox\n",
    );
    let out = report(dir.path());
    assert!(!out.contains("cri-in-userns"), "{out}");
    // A pull of an image nobody builds is still reported.
    assert!(out.contains("REG001") && out.contains("busybox"), "{out}");
}

#[test]
fn compose_default_names_are_built_here() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = dir.path().join("Docker_ELK");
    write(
        &repo,
        "docker-compose.yml",
        "services:\n  Kibana:\n    build:\n      context: kibana/\n",
    );
    write(
        &repo,
        "ci/compose.named.yml",
        "name: stack\nservices:\n  api:\n    build: .\n",
    );
    write(
        &repo,
        ".github/workflows/ci.yml",
        "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: docker run --rm docker_elk-kibana && docker run stack-api && docker run other-kibana\n",
    );
    let out = report(&repo);
    assert!(!out.contains("docker_elk-kibana"), "{out}");
    assert!(!out.contains("stack-api"), "{out}");
    assert!(out.contains("other-kibana"), "{out}");
}

/// A chart's values are pulled by a cluster from a registry: a name the
/// repository also builds (and pushes) is still a pull there.
#[test]
fn a_chart_value_is_a_pull_even_when_the_repository_builds_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "Makefile",
        "image:\n\tdocker build -t grafana/loki:dev .\n",
    );
    write(
        dir.path(),
        "chart/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    );
    write(
        dir.path(),
        "chart/values.yaml",
        "image:\n  repository: grafana/loki\n  tag: 3.5.0\n",
    );
    write(
        dir.path(),
        ".github/workflows/e2e.yml",
        "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make image && docker run grafana/loki:dev\n",
    );
    let out = report(dir.path());
    assert!(
        out.contains("values.yaml") && out.contains("REG001"),
        "{out}"
    );
    assert!(!out.contains("e2e.yml"), "{out}");
}

/// Tilt builds what a Tiltfile's `docker_build` names and puts its build
/// in place of that image in the manifests it deploys.
#[test]
fn a_tiltfile_build_is_a_build_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "Tiltfile",
        "docker_build(\n    ref = \"velero/velero\",\n    context = \"_tiltbuild\",\n)\ndocker_build('example/web', '.')\ncustom_build('example/job', 'make job', deps=['.'])\ndocker_build(ref = provider.get(\"image\"), context = '.')\nk8s_yaml('deploy/app.yaml')\n",
    );
    write(
        dir.path(),
        "deploy/app.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: a\n      image: velero/velero\n    - name: b\n      image: example/web\n    - name: c\n      image: example/job\n    - name: d\n      image: example/other\n",
    );
    let out = report(dir.path());
    for local in ["velero/velero", "example/web", "example/job"] {
        assert!(!out.contains(&format!("`{local}`")), "{local}: {out}");
    }
    assert!(out.contains("example/other"), "{out}");
}
