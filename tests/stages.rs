//! End-to-end tests of the stage-graph rules (STG…, REF005), the
//! repository scan they use, and the two reports issue 14 quotes.

use assert_cmd::Command;
use std::fs;
use std::path::Path;

fn refit() -> Command {
    let mut cmd = Command::cargo_bin("refit").unwrap();
    cmd.env("NO_COLOR", "1");
    cmd
}

fn run(cmd: &mut Command) -> (i32, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
    )
}

fn write(dir: &Path, name: &str, content: &str) {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(&path, content).unwrap();
}

/// A new git repository (a `.git` folder: its files are all there).
fn repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join(".git")).unwrap();
    dir
}

/// `refit check --select CODE --format concise FILE` in `dir`.
fn concise(dir: &Path, code: &str, file: &str) -> (i32, String) {
    run(refit()
        .current_dir(dir)
        .args(["check", "--select", code, "--format", "concise", file]))
}

const FALLBACK: &str = "FROM gcr.io/distroless/static:${DISTROLESS_VERSION} AS go-runtime-primary\n\
FROM alpine:${ALPINE_VERSION} AS go-runtime-fallback\n\
FROM go-runtime-primary AS go-runtime\n";

#[test]
fn build_resilience_report_as_written() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "Dockerfile", FALLBACK);
    let (code, out) =
        run(refit()
            .current_dir(dir.path())
            .args(["check", "--format", "concise", "Dockerfile"]));
    assert_eq!(code, 1, "{out}");
    let lines: Vec<&str> = out.lines().filter(|l| l.contains(": ")).collect();
    // The fallback stage is never built, and says why.
    assert!(
        lines.iter().any(|l| l.starts_with("Dockerfile:2:")
            && l.contains("STG001")
            && l.contains("go-runtime-fallback")
            && l.contains("no fallback between stages")),
        "{out}"
    );
    // The primary stage is built (through `go-runtime`): not flagged.
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("STG001") && l.contains("go-runtime-primary")),
        "{out}"
    );
    // The versions are undeclared ARGs (BuildKit's UndefinedArgInFrom).
    assert!(
        lines.iter().any(|l| l.starts_with("Dockerfile:1:")
            && l.contains("REF002")
            && l.contains("DISTROLESS_VERSION")),
        "{out}"
    );
}

#[test]
fn outage_report_ecr_public_line_is_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "Dockerfile",
        "FROM public.ecr.aws/docker/library/node:20-alpine AS deps\nRUN npm ci\nCMD [\"node\", \"index.js\"]\n",
    );
    let (code, out) = run(refit().current_dir(dir.path()).args([
        "check",
        "--select",
        "BASE001",
        "--fix",
        "--unsafe-fixes",
        "Dockerfile",
    ]));
    assert_eq!(code, 0, "{out}");
    let fixed = fs::read_to_string(dir.path().join("Dockerfile")).unwrap();
    assert_eq!(
        fixed,
        "FROM alpine:3.20 AS deps\nRUN apk add --no-cache nodejs npm\nRUN npm ci\nCMD [\"node\", \"index.js\"]\n"
    );
}

#[test]
fn bake_and_compose_targets_reach_stages() {
    let dir = repository();
    let dockerfile = "FROM alpine:3.20 AS test\nFROM alpine:3.20 AS debug\nFROM alpine:3.20 AS lint\nFROM alpine:3.20 AS runtime\n";
    write(dir.path(), "app/Dockerfile", dockerfile);
    // Nothing names the stages yet: three unreachable stages.
    let (_, out) = concise(dir.path(), "STG001", "app/Dockerfile");
    assert_eq!(out.matches("STG001").count(), 3, "{out}");
    write(
        dir.path(),
        "docker-bake.hcl",
        "target \"test\" {\n  context = \"app\"\n  target = \"test\"\n}\n",
    );
    write(
        dir.path(),
        "compose.yaml",
        "services:\n  dev:\n    build:\n      context: app\n      target: debug\n",
    );
    let (_, out) = concise(dir.path(), "STG001", "app/Dockerfile");
    assert_eq!(out.matches("STG001").count(), 1, "{out}");
    assert!(out.contains("`lint`"), "{out}");
}

#[test]
fn named_contexts_are_not_images() {
    let dir = repository();
    write(
        dir.path(),
        "Dockerfile",
        "FROM alpine:3.20 AS build\nFROM alpine:3.20\nCOPY --from=build /a /a\nCOPY --from=shared /b /b\nCOPY --from=tools /c /c\n",
    );
    let check = || concise(dir.path(), "REF005", "Dockerfile");
    // No build of the Dockerfile in sight: the names may be contexts that
    // an unseen build passes.
    let (code, out) = check();
    assert_eq!(code, 0, "{out}");
    write(dir.path(), "build.sh", "docker build -t app .\n");
    let (_, out) = check();
    assert_eq!(out.matches("REF005").count(), 2, "{out}");
    write(
        dir.path(),
        "docker-bake.hcl",
        "target \"default\" {\n  contexts = {\n    shared = \"../shared\"\n  }\n}\n",
    );
    write(
        dir.path(),
        "compose.yaml",
        "services:\n  app:\n    build:\n      context: .\n      additional_contexts:\n        tools: ./tools\n",
    );
    let (code, out) = concise(dir.path(), "REF005", "Dockerfile");
    assert_eq!(code, 0, "{out}");
}

/// The figures in the book (docs/src/development/coverage.md): across the shared corpus (Dockerfiles copied
/// out of their repositories), STG001, REF005 and MIR004 report only what
/// was read by hand and found real.
#[test]
fn corpus_findings_are_the_ones_read_by_hand() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if !corpus.is_dir() {
        println!("skipped: ../shared/corpus is absent");
        return;
    }
    let (_, out) = run(refit()
        .args([
            "check",
            "--isolated",
            "--select",
            "STG001,REF005,MIR004",
            "--format",
            "concise",
        ])
        .arg(&corpus));
    let findings: Vec<&str> = out
        .lines()
        .filter(|l| l.contains(" STG001 ") || l.contains(" REF005 ") || l.contains(" MIR004 "))
        .collect();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert!(
        findings[0].contains("docker+compose/Dockerfile:147:13: REF005")
            && findings[0].contains("`license-set`"),
        "{findings:#?}"
    );
}

/// A build that a README documents passes its named contexts
/// (`podman build --build-context=osbuild=…` in a code block): the names
/// are contexts, not images (osbuild/bootc-image-builder `devel/`).
#[test]
fn a_readme_build_command_passes_named_contexts() {
    let dir = repository();
    write(
        dir.path(),
        "devel/Containerfile",
        "FROM fedora:42 AS osbuild-builder\nCOPY --from=osbuild . /build\nRUN make rpm\n\nFROM fedora:42 AS bib-builder\nCOPY --from=images . /build/images\n\nFROM fedora:42\nCOPY --from=osbuild-builder /build/rpms /rpms/\nCOPY --from=bib-builder /build/bin/bib /usr/bin/bib\n",
    );
    write(
        dir.path(),
        "Makefile",
        "image:\n\tpodman build -f devel/Containerfile -t bib:devel .\n",
    );
    let check = || concise(dir.path(), "REF005", "devel/Containerfile");
    let (_, out) = check();
    assert_eq!(out.matches("REF005").count(), 2, "{out}");
    // `osbuild-builder` holds the COPY: a stage cannot copy from itself.
    assert!(!out.contains("osbuild-builder`?"), "{out}");
    write(
        dir.path(),
        "devel/README.md",
        "the container can be built using:\n```\n$ podman build --file=devel/Containerfile --build-context=osbuild=$HOME/src/osbuild --build-context=images=$HOME/src/images -t bootc-image-builder:devel .\n```\n",
    );
    let (code, out) = check();
    assert_eq!(code, 0, "{out}");
}

/// A stage cannot copy from itself or from a stage built on it (BuildKit
/// rejects the cycle): such a stage is never suggested.
#[test]
fn no_suggestion_makes_a_cycle() {
    let dir = repository();
    write(
        dir.path(),
        "Dockerfile",
        "FROM alpine:3.20 AS base\nCOPY --from=bulid /a /a\nFROM base AS build\nFROM alpine:3.20 AS assets\nFROM alpine:3.20\nCOPY --from=build /a /a\nCOPY --from=asets /b /b\n",
    );
    write(dir.path(), "build.sh", "docker build -t app .\n");
    let (_, out) = concise(dir.path(), "REF005", "Dockerfile");
    assert_eq!(out.matches("REF005").count(), 2, "{out}");
    assert!(!out.contains("the stage `build`"), "{out}");
    assert!(out.contains("the stage `assets`"), "{out}");
}
