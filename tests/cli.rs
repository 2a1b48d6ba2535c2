//! End-to-end tests of the `refit` binary.

use std::fs;
use std::path::Path;

mod common;
use common::{refit, run, write};

#[test]
fn examples_concise_positions_and_exit_1() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (code, out, _) =
        run(refit()
            .current_dir(root)
            .args(["check", "--format", "concise", "examples/"]));
    assert_eq!(code, 1, "{out}");
    let expected = [
        "examples/api/Dockerfile:6:6: REG001 warning: Image `python:3.12-slim` has no registry; Docker Hub is implied",
        "examples/api/Dockerfile:4:6: REF002 warning: Without a build argument, `FROM ghcr.io/astral-sh/uv:${UV_VERSION}` is the invalid reference `ghcr.io/astral-sh/uv:`: `UV_VERSION` has no default",
        "examples/build-host/daemon.json:4:6: MIR001 warning: Mirror `docker.mirrors.ustc.edu.cn` is dead since 2024-06-06",
        "examples/build-host/daemon.json:5:6: MIR002 warning: Registry `registry.cn-hangzhou.aliyuncs.com` is listed as a mirror of `docker.io`",
        "examples/cluster-tools/Containerfile:1:6: REG004 warning: Image `k8s.gcr.io/kubectl:v1.26.0` uses `k8s.gcr.io`, which moved to `registry.k8s.io`",
        "examples/web/Dockerfile:1:10: REG001 warning: Image `docker/dockerfile:1.7` has no registry; Docker Hub is implied",
        "examples/web/Dockerfile:3:6: REG002 warning: Image `registry.cn-hangzhou.aliyuncs.com/library/node:18-alpine` takes Docker Hub's `library/` path from `registry.cn-hangzhou.aliyuncs.com`, which is not a Docker Hub mirror",
        "examples/web/Dockerfile:10:6: TAG002 warning: Image `nginx:latest` uses `latest`, which names no version",
    ];
    for line in expected {
        assert!(
            out.lines().any(|l| l.starts_with(line)),
            "missing `{line}` in:\n{out}"
        );
    }
    // Deterministic order: sorted by path, then position.
    let paths: Vec<&str> = out
        .lines()
        .filter_map(|l| l.split(':').next())
        .filter(|p| p.starts_with("examples/"))
        .collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted);
    assert!(out.contains("fixable with `refit check --fix`"), "{out}");
}

#[test]
fn clean_file_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "Dockerfile",
        "FROM docker.io/library/node:22.11.0\nFROM scratch\n",
    );
    let (code, out, _) = run(refit().arg("check").arg(dir.path()));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("All checks passed!"), "{out}");
}

#[test]
fn fix_rewrites_in_place_keeps_permissions_and_converges() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "Dockerfile",
        "ARG BASE=node:20\nFROM ${BASE} AS a\nFROM $BASE\nFROM index.docker.io/library/alpine:3.20\nFROM docker.io/library/ubuntu:latest\n",
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&file, fs::Permissions::from_mode(0o640)).unwrap();
    }
    let (code, out, _) = run(refit()
        .args(["check", "--fix", "--format", "concise"])
        .arg(&file));
    // TAG002 has no fix, so a finding remains.
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("Found 4 problems (3 fixed, 1 remaining)."),
        "{out}"
    );
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        "ARG BASE=docker.io/library/node:20\nFROM ${BASE} AS a\nFROM $BASE\nFROM docker.io/library/alpine:3.20\nFROM docker.io/library/ubuntu:latest\n"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o640
        );
    }
    // A second --fix changes nothing.
    let before = fs::read(&file).unwrap();
    let (code, out, _) = run(refit()
        .args(["check", "--fix", "--format", "concise"])
        .arg(&file));
    assert_eq!(code, 1);
    assert!(out.contains("(0 fixed, 1 remaining)"), "{out}");
    assert_eq!(fs::read(&file).unwrap(), before);
    // No temporary files are left behind.
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn fix_everything_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "app.dockerfile", "FROM alpine:3.20\n");
    let (code, out, _) = run(refit().args(["check", "--fix"]).arg(&file));
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        "FROM docker.io/library/alpine:3.20\n"
    );
}

#[test]
fn diff_prints_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "Dockerfile",
        "FROM k8s.gcr.io/pause:3.9\nRUN true\n",
    );
    let (code, out, err) =
        run(refit()
            .current_dir(dir.path())
            .args(["check", "--diff", "Dockerfile"]));
    assert_eq!(code, 1);
    assert_eq!(
        out,
        "--- a/Dockerfile\n+++ b/Dockerfile\n@@ -1,2 +1,2 @@\n-FROM k8s.gcr.io/pause:3.9\n+FROM registry.k8s.io/pause:3.9\n RUN true\n"
    );
    assert!(err.contains("Would fix 1 problem."), "{err}");
    assert!(!out.contains('\x1b'));
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        "FROM k8s.gcr.io/pause:3.9\nRUN true\n"
    );
    // Nothing to change: exit 0 and no output.
    write(dir.path(), "Dockerfile", "FROM registry.k8s.io/pause:3.9\n");
    let (code, out, _) =
        run(refit()
            .current_dir(dir.path())
            .args(["check", "--diff", "Dockerfile"]));
    assert_eq!((code, out.as_str()), (0, ""));
}

#[test]
fn unsafe_fixes_are_opt_in() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "Dockerfile",
        "FROM gcr.io/google_containers/pause-amd64:3.1\n",
    );
    let (code, out, _) = run(refit().args(["check", "--fix"]).arg(&file));
    assert_eq!(code, 1);
    assert!(
        out.contains("1 hidden fix available with `--unsafe-fixes`."),
        "{out}"
    );
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        "FROM gcr.io/google_containers/pause-amd64:3.1\n"
    );
    let (code, _, _) = run(refit()
        .args(["check", "--fix", "--unsafe-fixes"])
        .arg(&file));
    assert_eq!(code, 0);
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        "FROM registry.k8s.io/pause-amd64:3.1\n"
    );
}

#[test]
fn select_and_ignore_by_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "Dockerfile",
        "FROM node\nFROM index.docker.io/library/alpine:latest\n",
    );
    let codes = |args: &[&str]| {
        let (_, out, _) = run(refit()
            .args(["check", "--format", "concise"])
            .args(args)
            .arg(&file));
        let mut codes: Vec<String> = out
            .lines()
            .filter_map(|l| l.split(": ").nth(1))
            .filter_map(|rest| rest.split(' ').next())
            .map(String::from)
            .collect();
        codes.sort();
        codes
    };
    assert_eq!(codes(&[]), ["REG001", "REG003", "TAG001", "TAG002"]);
    assert_eq!(codes(&["--select", "REG"]), ["REG001", "REG003"]);
    assert_eq!(
        codes(&["--select", "REG,TAG001", "--ignore", "REG003"]),
        ["REG001", "TAG001"]
    );
    assert_eq!(codes(&["--ignore", "tag"]), ["REG001", "REG003"]);
    assert_eq!(codes(&["--ignore", "ALL"]), Vec::<String>::new());
    let (code, _, err) = run(refit().args(["check", "--select", "XYZ"]).arg(&file));
    assert_eq!(code, 2);
    assert!(err.contains("unknown rule selector `XYZ`"), "{err}");
}

#[test]
fn per_file_errors_exit_2_and_other_files_still_checked() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good/Dockerfile", "FROM node:20\n");
    fs::write(dir.path().join("Dockerfile.bin"), b"FROM \x00\x01\x02").unwrap();
    fs::write(dir.path().join("Dockerfile.latin1"), b"FROM caf\xe9:1\n").unwrap();
    write(dir.path(), "Dockerfile.broken", "RUN echo no stage\n");
    write(
        dir.path(),
        "Dockerfile.big",
        &format!("FROM alpine:3.20\n# {}\n", "x".repeat(2000)),
    );
    let (code, out, _) = run(refit().current_dir(dir.path()).args([
        "check",
        "--format",
        "concise",
        "--max-file-size",
        "1000",
        ".",
        "missing/Dockerfile",
    ]));
    assert_eq!(code, 2, "{out}");
    for needle in [
        "Dockerfile.big:1:1: E003 error: ",
        "Dockerfile.bin:1:1: E002 error: File is binary",
        "Dockerfile.broken:1:1: E004 error: ",
        "Dockerfile.latin1:1:1: E002 error: File is not valid UTF-8",
        "good/Dockerfile:1:6: REG001 warning: ",
        "missing/Dockerfile:1:1: E001 error: No such file or folder: the path does not exist",
    ] {
        assert!(out.contains(needle), "missing `{needle}` in:\n{out}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let (code, _, _) = run(refit().args(["check", "--no-such-flag"]));
    assert_eq!(code, 2);
    let (code, _, _) = run(refit().args(["check", "--format", "xml"]));
    assert_eq!(code, 2);
    let (code, _, _) = run(refit().args(["check", "-", "Dockerfile"]));
    assert_eq!(code, 2);
    let (code, _, err) = run(refit().args(["rule", "NOPE999"]));
    assert_eq!(code, 2);
    assert!(err.contains("unknown rule"));
}

#[test]
fn walk_respects_gitignore_and_checks_named_files() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), ".gitignore", "vendor/\n");
    write(dir.path(), "vendor/Dockerfile", "FROM node:20\n");
    write(dir.path(), "svc/Dockerfile.prod", "FROM node:20\n");
    write(dir.path(), "build/image.def", "FROM node:20\n");
    let (_, out, _) = run(refit()
        .current_dir(dir.path())
        .args(["check", "--format", "concise"]));
    assert!(out.contains("svc/Dockerfile.prod:1:6: REG001"), "{out}");
    assert!(!out.contains("vendor/"), "{out}");
    assert!(!out.contains("image.def"), "{out}");
    // A file named explicitly is checked whatever its name.
    let (_, out, _) = run(refit().current_dir(dir.path()).args([
        "check",
        "--format",
        "concise",
        "build/image.def",
        "vendor/Dockerfile",
    ]));
    assert!(out.contains("build/image.def:1:6: REG001"), "{out}");
    assert!(out.contains("vendor/Dockerfile:1:6: REG001"), "{out}");
}

#[test]
fn stdin_check_and_fix() {
    let (code, out, _) = run(refit()
        .args([
            "check",
            "--format",
            "concise",
            "--stdin-filename",
            "web/Dockerfile",
            "-",
        ])
        .write_stdin("FROM nginx:1.27\n"));
    assert_eq!(code, 1);
    assert!(
        out.starts_with("web/Dockerfile:1:6: REG001 warning: "),
        "{out}"
    );
    let (code, out, err) = run(refit()
        .args(["check", "--fix", "--format", "concise", "-"])
        .write_stdin("FROM nginx:1.27\n"));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "FROM docker.io/library/nginx:1.27\n");
    assert!(err.contains("1 fixed"), "{err}");
}

#[test]
fn build_arg_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "Dockerfile",
        "ARG TAG\nFROM docker.io/library/node:${TAG}\n",
    );
    // A build refit sees, which passes no TAG.
    write(dir.path(), "Makefile", "image:\n\tdocker build .\n");
    let (code, out, _) = run(refit().args(["check", "--format", "concise"]).arg(&file));
    assert_eq!(code, 1);
    assert!(
        out.contains("REF002 warning: Without a build argument")
            && out.contains("`TAG` has no default"),
        "{out}"
    );
    let (code, out, _) = run(refit()
        .args(["check", "--format", "concise", "--build-arg", "TAG=22.11.0"])
        .arg(&file));
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = run(refit()
        .args(["check", "--format", "concise", "--build-arg", "TAG=latest"])
        .arg(&file));
    assert_eq!(code, 1);
    assert!(out.contains("TAG002"), "{out}");
}

#[test]
fn json_format_is_stable() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "Dockerfile", "FROM  node:20\n");
    let (code, out, _) =
        run(refit()
            .current_dir(dir.path())
            .args(["check", "--format", "json", "Dockerfile"]));
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["files_checked"], 1);
    let d = &v["diagnostics"][0];
    assert_eq!(d["path"], "Dockerfile");
    assert_eq!(d["code"], "REG001");
    assert_eq!(d["name"], "implicit-registry");
    assert_eq!(d["severity"], "warning");
    assert_eq!(d["start"], serde_json::json!({"line": 1, "column": 7}));
    assert_eq!(d["end"], serde_json::json!({"line": 1, "column": 14}));
    assert_eq!(d["span"], serde_json::json!({"start": 6, "end": 13}));
    assert_eq!(d["fix"]["applicability"], "safe");
    assert_eq!(d["fix"]["edits"][0]["content"], "docker.io/library/");
    assert_eq!(
        d["fix"]["edits"][0]["span"],
        serde_json::json!({"start": 6, "end": 6})
    );
    drop(file);
}

#[test]
fn human_format_has_code_frames_and_no_colour_when_piped() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "Dockerfile",
        "FROM docker.io/library/node:22\nFROM k8s.gcr.io/pause:3.9\n",
    );
    let (code, out, _) = run(refit()
        .current_dir(dir.path())
        .args(["check", "Dockerfile"]));
    assert_eq!(code, 1);
    assert!(out.contains("REG004(moved-registry)"), "{out}");
    assert!(out.contains("[Dockerfile:2:6]"), "{out}");
    assert!(out.contains("2 │ FROM k8s.gcr.io/pause:3.9"), "{out}");
    assert!(
        out.contains("safe fix: Use `registry.k8s.io/pause:3.9`"),
        "{out}"
    );
    assert!(!out.contains('\x1b'), "colour codes when piped:\n{out}");
}

#[test]
fn reference_subcommand() {
    let (code, out, _) = run(refit().args(["reference", "node:20", "localhost:5000/a/b:1@sha256:4b2bb5f6f8c0e1b4b3f5d2f9a1c0c4c0f6e9b8b1c2d3e4f5a6b7c8d9e0f1a2b3"]));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("  normalized: docker.io/library/node:20"),
        "{out}"
    );
    assert!(out.contains("  familiar:   node:20"), "{out}");
    assert!(out.contains("  domain:     localhost:5000"), "{out}");
    let (code, out, _) = run(refit().args(["reference", "--format", "json", "Node:20"]));
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["valid"], false);
    assert_eq!(
        v[0]["error"],
        "invalid reference format: repository name (library/Node) must be lowercase"
    );
}

#[test]
fn rule_and_rules_subcommands() {
    let (code, out, _) = run(refit().args(["rule", "REG002"]));
    assert_eq!(code, 0);
    assert!(out.starts_with("# mirror-in-reference (REG002)"), "{out}");
    assert!(out.contains("insufficient_scope"));
    let (code, out, _) = run(refit().args(["rule", "implicit-registry"]));
    assert_eq!(code, 0);
    assert!(out.contains("## Fix safety"));
    let (code, out, _) = run(refit().args(["rules"]));
    assert_eq!(code, 0);
    // Every rule, the online ones (REF003, REF004, REF006 to REF009,
    // MIR003) in code order with a marker.
    assert_eq!(
        out.lines().count(),
        refit::rules::RULES.len() + refit::rules::ONLINE_RULES.len()
    );
    assert!(out.lines().next().unwrap().starts_with("BASE001"));
    assert!(out.lines().next().unwrap().ends_with("(opt-in)"));
    let codes: Vec<&str> = out.lines().filter_map(|l| l.split(' ').next()).collect();
    let mut sorted = codes.clone();
    sorted.sort();
    assert_eq!(codes, sorted);
    for online in [
        "MIR003", "REF003", "REF004", "REF006", "REF007", "REF008", "REF009",
    ] {
        let line = out.lines().find(|l| l.starts_with(online)).unwrap();
        assert!(line.ends_with(" (needs --online)"), "{line}");
    }
    assert_eq!(out.matches("(needs --online)").count(), 7, "{out}");
    let (code, out, _) = run(refit().args(["rules", "--format", "json"]));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["code"], "BASE001");
    assert_eq!(v[0]["opt_in"], true);
    assert_eq!(v[1]["opt_in"], false);
    let list = v.as_array().unwrap();
    let online: Vec<&str> = list
        .iter()
        .filter(|r| r["online"] == true)
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        online,
        [
            "MIR003", "REF003", "REF004", "REF006", "REF007", "REF008", "REF009"
        ]
    );
    assert!(list.iter().all(|r| r["online"].is_boolean()));
    // Their pages: `refit rule` by code and by name, and `--all`.
    for key in ["REF003", "access-denied", "mir003"] {
        let (code, out, _) = run(refit().args(["rule", key]));
        assert_eq!(code, 0, "{key}");
        assert!(
            out.contains("Online: runs only with `refit check --online`"),
            "{out}"
        );
        assert!(out.contains("What it does"), "{out}");
    }
    let (_, all, _) = run(refit().args(["rule", "--all"]));
    for name in [
        "# missing-image (REF003)",
        "# access-denied (REF004)",
        "# mirror-unusable (MIR003)",
    ] {
        assert!(all.contains(name), "{name}");
    }
    let (code, out, _) = run(refit().args(["rule", "E004"]));
    assert_eq!(code, 0);
    assert!(out.contains("syntax-error"));
}

#[test]
fn config_names_the_online_rules() {
    // `refit check --online`'s rules are set in refit.toml like any other;
    // an offline check accepts the file and asks no registry.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "Dockerfile", "FROM docker.io/library/alpine:3.20\n");
    write(
        root,
        "refit.toml",
        "extend-select = [\"REF003\", \"MIR003\"]\n[severity]\nREF004 = \"warning\"\n",
    );
    let (code, out, err) = run(refit().current_dir(root).args(["check", "."]));
    assert_eq!(code, 0, "{out}{err}");
    write(root, "refit.toml", "extend-select = [\"REF099\"]\n");
    let (code, _, err) = run(refit().current_dir(root).args(["check", "."]));
    assert_eq!(code, 2);
    assert!(err.contains("unknown rule code `REF099`"), "{err}");
}

#[test]
fn config_discovery_extend_per_file_ignores_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "base.toml", "[severity]\nTAG001 = \"error\"\n");
    write(
        root,
        "refit.toml",
        "extend = \"base.toml\"\nignore = [\"TAG002\"]\nextend-exclude = [\"third_party\"]\n[per-file-ignores]\n\"examples/**\" = [\"REG001\"]\n[kinds]\n\"*.containerfile.txt\" = \"dockerfile\"\n",
    );
    write(
        root,
        "Dockerfile",
        "FROM node\nFROM docker.io/library/alpine:latest\n",
    );
    write(root, "examples/Dockerfile", "FROM node:20\n");
    write(root, "third_party/Dockerfile", "FROM node:20\n");
    write(root, "build/app.containerfile.txt", "FROM node:20\n");
    write(root, "deploy/.refit.toml", "select = [\"TAG\"]\n");
    write(root, "deploy/Dockerfile", "FROM node\n");
    let (code, out, _) = run(refit()
        .current_dir(root)
        .args(["check", "--format", "json"]));
    assert_eq!(code, 1, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mut got: Vec<String> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{} {} {}",
                d["path"].as_str().unwrap(),
                d["code"].as_str().unwrap(),
                d["severity"].as_str().unwrap()
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            "Dockerfile REG001 warning",
            "Dockerfile TAG001 error",
            "build/app.containerfile.txt REG001 warning",
            "deploy/Dockerfile TAG001 warning",
        ]
    );
    // The nearest file wins: deploy/ selects only TAG and does not extend.
    // --isolated ignores every config file.
    let (_, out, _) = run(refit().current_dir(root).args([
        "check",
        "--isolated",
        "--format",
        "concise",
        "third_party/Dockerfile",
    ]));
    assert!(out.contains("third_party/Dockerfile:1:6: REG001"), "{out}");
    // `refit config` shows what applies.
    let (code, out, _) = run(refit().current_dir(root).args(["config", "examples"]));
    assert_eq!(code, 0);
    assert!(
        out.contains("# from ") && out.contains("refit.toml"),
        "{out}"
    );
    assert!(out.contains("TAG001 = \"error\""), "{out}");
    // Unknown keys are errors naming the key and the file, with a suggestion.
    write(root, "deploy/.refit.toml", "selcet = [\"TAG\"]\n");
    let (code, _, err) = run(refit().current_dir(root).args(["check", "deploy"]));
    assert_eq!(code, 2);
    assert!(
        err.contains(".refit.toml:1:1: unknown key `selcet` (did you mean `select`?)"),
        "{err}"
    );
    // --config names one file for everything.
    write(root, "strict.toml", "select = [\"REG\"]\n");
    let (_, out, _) = run(refit().current_dir(root).args([
        "check",
        "--config",
        "strict.toml",
        "--format",
        "concise",
        "examples/Dockerfile",
    ]));
    assert!(out.contains("examples/Dockerfile:1:6: REG001"), "{out}");
}

#[test]
fn config_fix_settings() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "refit.toml",
        "[fix]\nunsafe-fixes = true\nextend-unsafe = [\"REG003\"]\n",
    );
    let file = write(
        root,
        "Dockerfile",
        "FROM gcr.io/google_containers/pause:3.1\nFROM index.docker.io/library/alpine:3.20\n",
    );
    let (_, _, _) = run(refit()
        .current_dir(root)
        .args(["check", "--fix", "Dockerfile"]));
    // unsafe-fixes = true applied REG004's unsafe fix, and so REG003's,
    // which the config made unsafe.
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        "FROM registry.k8s.io/pause:3.1\nFROM docker.io/library/alpine:3.20\n"
    );
    // Without unsafe fixes, a fix the config made unsafe is left alone.
    write(root, "refit.toml", "[fix]\nextend-unsafe = [\"REG003\"]\n");
    write(
        root,
        "Dockerfile",
        "FROM index.docker.io/library/alpine:3.20\nFROM alpine:3.20\n",
    );
    let (_, out, _) = run(refit()
        .current_dir(root)
        .args(["check", "--fix", "Dockerfile"]));
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        "FROM index.docker.io/library/alpine:3.20\nFROM docker.io/library/alpine:3.20\n"
    );
    assert!(
        out.contains("1 hidden fix available with `--unsafe-fixes`."),
        "{out}"
    );
}

#[test]
fn add_ignore_suppresses_every_finding() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "Dockerfile",
        "# syntax=docker/dockerfile:1\nFROM node:latest\nRUN --mount=from=busybox,target=/b \\\n    true\n",
    );
    write(
        root,
        "compose.yaml",
        "services:\n  web:\n    image: nginx # front\n",
    );
    let (code, out, _) = run(refit().current_dir(root).args(["check", "--add-ignore"]));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("in 2 files"), "{out}");
    assert_eq!(
        fs::read_to_string(root.join("Dockerfile")).unwrap(),
        "# syntax=docker/dockerfile:1\n# refit: ignore-directives[REG001]\n# refit: ignore[REG001,TAG002]\nFROM node:latest\n# refit: ignore[REG001,TAG001]\nRUN --mount=from=busybox,target=/b \\\n    true\n"
    );
    assert_eq!(
        fs::read_to_string(root.join("compose.yaml")).unwrap(),
        "services:\n  web:\n    image: nginx # front  # refit: ignore[REG001,TAG001]\n"
    );
    let (code, out, _) = run(refit().current_dir(root).args(["check"]));
    assert_eq!(code, 0, "{out}");
}

#[test]
fn completions_and_man_page() {
    let (code, out, _) = run(refit().args(["completions", "bash"]));
    assert_eq!(code, 0);
    assert!(out.contains("_refit()"));
    let (code, out, _) = run(refit().args(["completions", "zsh"]));
    assert_eq!(code, 0);
    assert!(out.contains("#compdef refit"));
    let (code, out, _) = run(refit().args(["man"]));
    assert_eq!(code, 0);
    assert!(out.contains(".TH refit 1"));
}

#[test]
fn inline_suppressions_in_every_file_kind() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "Dockerfile",
        "# refit: ignore[REG001]\nFROM node:20\n# hadolint ignore=DL3007\nFROM docker.io/library/node:latest\n",
    );
    write(
        root,
        "compose.yaml",
        "services:\n  web:\n    image: nginx:1.27 # refit: ignore[REG001]\n",
    );
    write(
        root,
        "chart/Chart.yaml",
        "apiVersion: v2\nname: c\nversion: 1.0.0\n",
    );
    write(
        root,
        "chart/values.yaml",
        "image:\n  repository: nginx # refit: ignore[REG]\n  tag: \"1.27\"\n",
    );
    write(
        root,
        "deploy/pod.yaml",
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    image: nginx:1.27  # refit: ignore[REG001]\n",
    );
    write(
        root,
        ".github/workflows/ci.yml",
        "jobs:\n  t:\n    container: node:20  # refit: ignore[REG001]\n",
    );
    write(
        root,
        ".gitlab-ci.yml",
        "image: ruby:3.3  # refit: ignore[REG001]\n",
    );
    write(
        root,
        "kustomization.yaml",
        "# refit: ignore-file[TAG005]\nimages:\n- name: docker.io/library/nginx\n  newTag: 1.27\n",
    );
    let (code, out, _) = run(refit()
        .current_dir(root)
        .args(["check", "--format", "concise"]));
    assert_eq!(code, 0, "{out}");
    // An unused one is reported, in YAML as in Dockerfiles.
    write(
        root,
        ".gitlab-ci.yml",
        "image: docker.io/library/ruby:3.3  # refit: ignore[REG001]\n",
    );
    let (code, out, _) = run(refit()
        .current_dir(root)
        .args(["check", "--format", "concise"]));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            ".gitlab-ci.yml:1:36: SUP001 warning: Suppression of `REG001` suppresses nothing"
        ),
        "{out}"
    );
}

#[test]
fn proxy_and_implicit_registry_fix_in_one_pass() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "refit.toml",
        "[registries]\nproxies = [{ upstream = \"docker.io\", via = \"harbor.corp.example/dockerhub\" }]\nallow = [\"harbor.corp.example\"]\n",
    );
    let file = write(
        root,
        "Dockerfile",
        "FROM node:20\nFROM docker.io/library/alpine:3.20\n",
    );
    let (code, out, _) = run(refit().current_dir(root).args([
        "check",
        "--fix",
        "--show-fixes",
        "--format",
        "concise",
    ]));
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        "FROM harbor.corp.example/dockerhub/library/node:20\nFROM harbor.corp.example/dockerhub/library/alpine:3.20\n"
    );
    // REG001 wrote the proxied form itself; REG006 fixed the explicit one.
    assert!(out.contains("1 × REG001"), "{out}");
    assert!(out.contains("1 × REG006"), "{out}");
    assert!(!out.contains("REG005"), "{out}");
}

#[test]
fn daemon_mirror_settings_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "etc/docker/daemon.json",
        "{\n  \"registry-mirrors\": [\n    \"https://docker.mirrors.ustc.edu.cn\",\n    \"https://registry.cn-hangzhou.aliyuncs.com\",\n    \"https://mirror.gcr.io\"\n  ]\n}\n",
    );
    write(
        dir.path(),
        "etc/containerd/certs.d/docker.io/hosts.toml",
        "server = \"https://registry-1.docker.io\"\n\n[host.\"https://hub-mirror.c.163.com\"]\n  capabilities = [\"pull\"]\n",
    );
    let (code, out, err) = run(refit()
        .current_dir(dir.path())
        .args(["check", "--format", "concise", "--select", "MIR", "."]));
    assert_eq!(code, 1, "{out}{err}");
    let lines: Vec<&str> = out.lines().filter(|l| l.contains(": MIR")).collect();
    assert_eq!(
        lines,
        [
            "etc/containerd/certs.d/docker.io/hosts.toml:3:8: MIR001 warning: Mirror `hub-mirror.c.163.com` is dead since 2024-11: NetEase's mirror closed in 2024",
            "etc/docker/daemon.json:3:6: MIR001 warning: Mirror `docker.mirrors.ustc.edu.cn` is dead since 2024-06-06: USTC closed its Docker Hub cache on 2024-06-06",
            "etc/docker/daemon.json:4:6: MIR002 warning: Registry `registry.cn-hangzhou.aliyuncs.com` is listed as a mirror of `docker.io`: Alibaba Cloud Container Registry is a registry, not a Docker Hub mirror: its `library/` namespace holds whatever someone pushed",
        ],
        "{out}"
    );

    // `refit sites` lists mirrors, marked as such.
    let (code, out, _) = run(refit().current_dir(dir.path()).args(["sites", "."]));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(
            "etc/docker/daemon.json:5:6: daemon mirror https://mirror.gcr.io (mirror of docker.io)"
        ),
        "{out}"
    );

    // Invalid JSON: E004 at the position serde_json reports, exit 2.
    write(
        dir.path(),
        "etc/docker/daemon.json",
        "{\n  \"registry-mirrors\": [\"https://mirror.gcr.io\",]\n}\n",
    );
    let (code, out, _) = run(refit().current_dir(dir.path()).args([
        "check",
        "--format",
        "concise",
        "etc/docker/daemon.json",
    ]));
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains(
            "etc/docker/daemon.json:2:48: E004 error: invalid JSON: trailing comma at line 2 column 48"
        ),
        "{out}"
    );
}

#[test]
fn policy_overrides_rewrites_proxies_and_opt_in_rules_from_config() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "refit.toml",
        r#"
[registries]
proxies = [{ upstream = "docker.io", via = "harbor.corp.example/dockerhub" }]

[[rewrite]]
from = "docker.io/acme/"
to = "ghcr.io/acme/"

[[overrides]]
files = ["deploy/**"]
extend-select = ["BASE001"]
[overrides.rules.TAG003]
strict = true
[overrides.severity]
TAG = "error"

[[overrides]]
files = ["examples/**"]
ignore = ["REG", "TAG"]
"#,
    );
    let dockerfile =
        "FROM node:20-alpine\nFROM acme/api:1.4\nFROM docker.io/library/alpine:3\nRUN npm ci\n";
    write(root, "deploy/Dockerfile", dockerfile);
    write(root, "examples/Dockerfile", dockerfile);
    let (code, out, _) = run(refit()
        .current_dir(root)
        .args(["check", "--format", "concise"]));
    assert_eq!(code, 1, "{out}");
    let lines: Vec<&str> = out.lines().filter(|l| l.contains(": ")).collect();
    let codes = |prefix: &str| -> Vec<String> {
        lines
            .iter()
            .filter(|l| l.starts_with(prefix))
            .map(|l| l.split_whitespace().nth(1).unwrap_or("").to_string())
            .collect()
    };
    // deploy/: the opt-in rule and strict tags; examples/: neither REG nor
    // TAG. The rewritten name is left to REG007, not routed by REG006.
    assert_eq!(
        codes("deploy/Dockerfile"),
        [
            "BASE001", "REG001", "REG006", "TAG003", // node:20-alpine
            "REG001", "REG007", // acme/api:1.4
            "REG006", "TAG003", // docker.io/library/alpine:3
        ],
        "{out}"
    );
    assert!(codes("examples/Dockerfile").is_empty(), "{out}");
    let (_, json, _) =
        run(refit()
            .current_dir(root)
            .args(["check", "--format", "json", "deploy/Dockerfile"]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let tag003 = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "TAG003")
        .unwrap();
    assert_eq!(tag003["severity"], "error");

    // One --fix run: REG001 writes the proxied and the rewritten names
    // directly, REG006 routes the explicit docker.io name, and nothing is
    // left to bounce between rules. Unsafe BASE001 waits for --unsafe-fixes.
    let (code, _, _) = run(refit().current_dir(root).args(["check", "--fix", "deploy"]));
    assert_eq!(code, 1);
    assert_eq!(
        fs::read_to_string(root.join("deploy/Dockerfile")).unwrap(),
        "FROM harbor.corp.example/dockerhub/library/node:20-alpine\nFROM ghcr.io/acme/api:1.4\nFROM harbor.corp.example/dockerhub/library/alpine:3\nRUN npm ci\n"
    );
    let (code, out, _) = run(refit().current_dir(root).args([
        "check",
        "--fix",
        "--unsafe-fixes",
        "--format",
        "concise",
        "deploy",
    ]));
    assert_eq!(code, 1, "TAG003 has no fix: {out}");
    assert_eq!(
        fs::read_to_string(root.join("deploy/Dockerfile")).unwrap(),
        "FROM harbor.corp.example/dockerhub/library/alpine:3.20\nRUN apk add --no-cache nodejs npm\nFROM ghcr.io/acme/api:1.4\nFROM harbor.corp.example/dockerhub/library/alpine:3\nRUN npm ci\n"
    );
    // `refit config` for a path shows the overrides merged in.
    let (code, out, _) = run(refit()
        .current_dir(root)
        .args(["config", "deploy/Dockerfile"]));
    assert_eq!(code, 0);
    assert!(
        out.contains("# [[overrides]] matching deploy/Dockerfile merged in"),
        "{out}"
    );
    assert!(out.contains("extend-select = [\"BASE001\"]"), "{out}");
    assert!(out.contains("strict = true"), "{out}");
    assert!(!out.contains("[[overrides]]\n"), "{out}");
}

#[test]
fn rule_options_and_rewrites_are_validated() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "Dockerfile", "FROM node:20\n");
    for (config, expected) in [
        (
            "[rules.BASE001]\nform = \"aline\"\n",
            "unknown variant `aline`, expected `alpine` or `debian`",
        ),
        (
            "[rules.TAG003]\nstrikt = true\n",
            "unknown key `strikt` (did you mean `strict`?)",
        ),
        (
            "[[rewrite]]\nfrom = \"acme/\"\nto = \"ghcr.io/acme/\"\n",
            "must start with a registry",
        ),
        ("[[overrides]]\nfiles = []\n", "needs `files`"),
        (
            "[[overrides]]\nfiles = [\"x\"]\nselect = [\"NOPE9\"]\n",
            "unknown rule code `NOPE9`",
        ),
    ] {
        write(root, "refit.toml", config);
        let (code, _, err) = run(refit().current_dir(root).args(["check"]));
        assert_eq!(code, 2, "{config}");
        assert!(err.contains(expected), "{config}: {err}");
    }
}

#[test]
fn utf16_and_utf32_yaml_is_read_but_not_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let text = "services:\n  web:\n    image: nginx:latest\n";
    let utf16le: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let utf32be: Vec<u8> = [0, 0, 0xFE, 0xFF]
        .into_iter()
        .chain(text.chars().flat_map(|c| (c as u32).to_be_bytes()))
        .collect();
    fs::write(dir.path().join("compose.yaml"), &utf16le).unwrap();
    fs::write(dir.path().join("docker-compose.yml"), &utf32be).unwrap();
    let (code, out, _) = run(refit()
        .current_dir(dir.path())
        .args(["check", "--format", "concise", "--select", "TAG002", "."]));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("compose.yaml:3:12: TAG002 warning: "), "{out}");
    assert!(
        out.contains("docker-compose.yml:3:12: TAG002 warning: "),
        "{out}"
    );
    assert!(!out.contains("E002"), "{out}");
    // A fix would re-encode the file: refused, with a note, bytes untouched.
    let (code, out, _) = run(refit().current_dir(dir.path()).args([
        "check",
        "--format",
        "concise",
        "--select",
        "REG001",
        "--fix",
        "compose.yaml",
    ]));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("N002 note: File is UTF-16LE"), "{out}");
    assert!(out.contains("REG001"), "{out}");
    assert_eq!(fs::read(dir.path().join("compose.yaml")).unwrap(), utf16le);
    // A Dockerfile stays UTF-8 only, as BuildKit reads it.
    fs::write(dir.path().join("Dockerfile"), [0xFF, 0xFE, b'F', 0]).unwrap();
    let (code, out, _) =
        run(refit()
            .current_dir(dir.path())
            .args(["check", "--format", "concise", "Dockerfile"]));
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("E002"), "{out}");
}

#[test]
fn templated_manifest_is_a_note_and_does_not_change_the_exit_status() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "deploy/app.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: docker.io/library/nginx:1.27.0\n{{- if .Values.debug }}\n        - name: debug\n          image: busybox\n{{- end }}\n",
    );
    let (code, out, _) = run(refit().current_dir(dir.path()).args([
        "check", "--format", "concise", "--select", "TAG002", "deploy",
    ]));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("deploy/app.yaml:1:1: N001 note: Skipped as YAML"),
        "{out}"
    );
    // The plain `image:` lines are still read.
    let (code, out, _) = run(refit().current_dir(dir.path()).args([
        "check", "--format", "concise", "--select", "TAG001", "deploy",
    ]));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("deploy/app.yaml:11:18: TAG001 warning: "),
        "{out}"
    );
}

#[test]
fn dockerfile_without_from_is_a_note_and_other_names_are_not_dockerfiles() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join(".git")).unwrap();
    // A fragment a generator pastes into a stage, and an empty file.
    write(
        dir.path(),
        "labels/Containerfile",
        "LABEL org.opencontainers.image.title=\"x\"\n",
    );
    write(dir.path(), "empty/Dockerfile", "");
    // A TypeSpec model named after the file it describes.
    write(
        dir.path(),
        "schema/containerfile.tsp",
        "model Containerfile { from: string; }\n",
    );
    let (code, out, _) = run(refit().current_dir(dir.path()).args([
        "check",
        "--format",
        "concise",
        "--no-cache",
        ".",
    ]));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("labels/Containerfile:1:1: N001 note: Skipped as a Dockerfile"),
        "{out}"
    );
    assert!(out.contains("empty/Dockerfile:1:1: N001 note"), "{out}");
    assert!(!out.contains("containerfile.tsp"), "{out}");
    // An instruction before the first `FROM` is still the error BuildKit gives.
    write(
        dir.path(),
        "broken/Dockerfile",
        "RUN true\nFROM docker.io/library/alpine:3.20\n",
    );
    let (code, out, _) = run(refit().current_dir(dir.path()).args([
        "check",
        "--format",
        "concise",
        "--no-cache",
        "broken/Dockerfile",
    ]));
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("E004"), "{out}");
}

#[test]
fn documentation_fragment_is_a_note_not_a_file_error() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join(".git")).unwrap();
    // A page includes the YAML as text; the snippet elides lines with `...`.
    let fragment = "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: connect-api\n          image: docker.io/1password/connect-api:1.7.3\n      ...\n      volumes:\n        - name: data\n";
    write(dir.path(), "docs/snippets/connect.yaml", fragment);
    write(dir.path(), "docs/snippets/other.yaml", fragment);
    write(
        dir.path(),
        "docs/provider/onepassword.md",
        "# 1Password\n\n```yaml\n{% include 'connect.yaml' %}\n```\n",
    );
    let (code, out, _) = run(refit().current_dir(dir.path()).args([
        "check",
        "--format",
        "concise",
        "--no-cache",
        "docs/snippets/connect.yaml",
    ]));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(
            "N001 note: Skipped as YAML: `docs/provider/onepassword.md` includes it as text"
        ),
        "{out}"
    );
    // The same text that no page includes is still a file error.
    let (code, out, _) = run(refit().current_dir(dir.path()).args([
        "check",
        "--format",
        "concise",
        "--no-cache",
        "docs/snippets/other.yaml",
    ]));
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("E004"), "{out}");
}

#[test]
fn compose_named_on_the_command_line_is_recognised_by_content() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "integration/resources/compose/app.yml",
        "services:\n  web:\n    image: nginx:latest\n",
    );
    for arg in ["integration/resources/compose/app.yml", "."] {
        let (code, out, _) = run(refit()
            .current_dir(dir.path())
            .args(["check", "--format", "concise", "--select", "TAG002", arg]));
        assert_eq!(code, 1, "{out}");
        assert!(
            out.contains("app.yml:3:12: TAG002 warning: ") && out.contains("services.web.image"),
            "{out}"
        );
    }
}

#[test]
fn a_latest_kubernetes_image_is_reported_once_per_problem() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "pod.yaml",
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    image: nginx:latest\n  - name: b\n    image: nginx\n",
    );
    let (code, out, _) = run(refit().current_dir(dir.path()).args([
        "check", "--format", "concise", "--select", "ALL", "pod.yaml",
    ]));
    assert_eq!(code, 1, "{out}");
    let lines: Vec<&str> = out.lines().filter(|l| l.starts_with("pod.yaml")).collect();
    // The tag (TAG002/TAG001, which say what Kubernetes does with it) and
    // the registry (REG001): two problems, two findings per image.
    let codes: Vec<&str> = lines
        .iter()
        .map(|l| l.split(' ').nth(1).unwrap_or(""))
        .collect();
    assert_eq!(codes, ["REG001", "TAG002", "REG001", "TAG001"], "{out}");
    assert!(
        out.contains("with no `imagePullPolicy`, Kubernetes pulls it on every start"),
        "{out}"
    );
}
