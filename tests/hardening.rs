//! Inputs that used to take the whole run down (issue 11): each is now an
//! error or a finding for its own file.

use assert_cmd::Command;
use refit::check::check_text;
use refit::kind::FileKind;
use refit::settings::Settings;
use std::time::{Duration, Instant};

fn refit() -> Command {
    let mut cmd = Command::cargo_bin("refit").unwrap();
    cmd.env_remove("NO_COLOR");
    cmd.timeout(Duration::from_secs(60));
    cmd
}

fn nested(depth: usize) -> String {
    format!("{}alpine:3.20{}", "${A:-".repeat(depth), "}".repeat(depth))
}

/// Check a text on a thread with the default 2 MiB stack (rayon's workers
/// have no more), returning the codes found, or the error's code and message.
fn codes_on_worker(kind: FileKind, text: String) -> Result<Vec<String>, (String, String)> {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(
            move || match check_text(kind, &text, &Settings::default()) {
                Ok(c) => Ok(c.diagnostics.iter().map(|d| d.code.to_string()).collect()),
                Err(d) => Err((d.code.to_string(), d.message.clone())),
            },
        )
        .unwrap()
        .join()
        .expect("the check panicked or overflowed")
}

#[test]
fn deeply_nested_defaults_in_from_are_a_syntax_error() {
    for depth in [5_000, 20_000] {
        let text = format!("FROM {}\n", nested(depth));
        let (code, message) = codes_on_worker(FileKind::Dockerfile, text).unwrap_err();
        assert_eq!(code, "E004");
        assert!(message.contains("nested more than 64 levels"), "{message}");
    }
    // In an ARG default, and under the limit it resolves.
    let text = format!("ARG B={}\nFROM $B\n", nested(5_000));
    assert_eq!(
        codes_on_worker(FileKind::Dockerfile, text).unwrap_err().0,
        "E004"
    );
    let text = format!("FROM {}\n", nested(60));
    let codes = codes_on_worker(FileKind::Dockerfile, text).unwrap();
    assert!(!codes.iter().any(|c| c.starts_with('E')), "{codes:?}");
}

#[test]
fn deeply_nested_compose_interpolation_is_a_syntax_error() {
    let text = format!("services:\n  web:\n    image: \"{}\"\n", nested(100_000));
    let (code, message) = codes_on_worker(FileKind::Compose, text).unwrap_err();
    assert_eq!(code, "E004");
    assert!(message.contains("nested more than 64 levels"), "{message}");
    let text = format!("services:\n  web:\n    image: \"{}\"\n", nested(60));
    assert!(codes_on_worker(FileKind::Compose, text).is_ok());
}

#[test]
fn deeply_nested_yaml_is_a_syntax_error() {
    let mut text = String::from("services:\n");
    for i in 0..20_000 {
        text.push_str(&" ".repeat(i + 1));
        text.push_str("- \n");
    }
    let (code, _) = codes_on_worker(FileKind::Compose, text).unwrap_err();
    assert_eq!(code, "E004");
    let text = format!("x: {}1{}\n", "[".repeat(100_000), "]".repeat(100_000));
    let (code, _) = codes_on_worker(FileKind::Compose, text).unwrap_err();
    assert_eq!(code, "E004");
}

#[test]
fn doubling_args_are_unresolved_with_the_reason() {
    // 40 doublings would be 2^40 bytes; it stops at 64 KiB.
    let text = format!("ARG A=a\n{}FROM $A\n", "ARG A=$A$A\n".repeat(40));
    let started = Instant::now();
    let checked = check_text(FileKind::Dockerfile, &text, &Settings::default()).unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    let d = checked
        .diagnostics
        .iter()
        .find(|d| d.code == "REF002")
        .expect("REF002");
    assert!(
        d.message.contains("more than 64 KiB (refit's limit)"),
        "{}",
        d.message
    );
    // Under the cap (2^15 bytes) it resolves.
    let text = format!(
        "ARG A=a\n{}FROM alpine:3.20-$A\n",
        "ARG A=$A$A\n".repeat(15)
    );
    let checked = check_text(FileKind::Dockerfile, &text, &Settings::default()).unwrap();
    assert!(!checked.diagnostics.iter().any(|d| d.code == "REF002"));
}

#[test]
fn compose_values_are_capped_too() {
    let mut settings = Settings::default();
    settings.env.insert("A".to_string(), "a".repeat(40 * 1024));
    let text = "services:\n  web:\n    image: \"$A$A\"\n  ok:\n    image: \"$A\"\n";
    let checked = check_text(FileKind::Compose, text, &settings).unwrap();
    let ref002: Vec<_> = checked
        .diagnostics
        .iter()
        .filter(|d| d.code == "REF002")
        .collect();
    assert_eq!(ref002.len(), 1, "{ref002:?}");
    assert!(ref002[0].message.contains("64 KiB"));
}

#[test]
fn special_files_named_explicitly_are_refused() {
    for path in ["/dev/zero", "/dev/urandom"] {
        if !std::path::Path::new(path).exists() {
            eprintln!("skipped {path}: not on this system");
            continue;
        }
        let out = refit()
            .args(["check", "--isolated", "--format", "concise", path])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(2), "{stdout}");
        assert!(
            stdout.contains(&format!(
                "{path}:1:1: E001 error: Cannot read file: not a regular file"
            )),
            "{stdout}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("Dockerfile");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped the FIFO: mkfifo failed");
        return;
    }
    let out = refit()
        .args(["check", "--isolated", "--format", "concise"])
        .arg(&fifo)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains("E001 error: Cannot read file: not a regular file"),
        "{stdout}"
    );
}

#[test]
fn the_size_limit_holds_when_metadata_says_zero() {
    // /proc files report size 0 but have content.
    let path = "/proc/self/status";
    if !std::path::Path::new(path).exists() {
        eprintln!("skipped: no {path}");
        return;
    }
    let Err(e) = refit::engine::read_capped(std::path::Path::new(path), 16) else {
        panic!("{path} is longer than 16 bytes");
    };
    assert_eq!(e.code, "E003");
    assert!(
        e.message
            .contains("File is over the 16-byte limit (--max-file-size)"),
        "{}",
        e.message
    );
}

#[test]
fn a_binary_file_is_refused_from_its_first_block() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Dockerfile");
    let mut bytes = b"FROM alpine:3.20\n".to_vec();
    bytes.push(0);
    bytes.resize(4 * 1024 * 1024, b'x');
    std::fs::write(&path, &bytes).unwrap();
    let Err(e) = refit::engine::read_capped(&path, 64 * 1024 * 1024) else {
        panic!("a NUL byte in the first block stops the read");
    };
    assert_eq!(e.code, "E002");
    assert!(e.message.contains("NUL byte at offset 17"), "{}", e.message);
    // A NUL after the first block is found when the text is decoded.
    let mut late = vec![b'#'; 100 * 1024];
    late[90 * 1024] = 0;
    std::fs::write(&path, &late).unwrap();
    let Ok(read) = refit::engine::read_capped(&path, 1024 * 1024) else {
        panic!("under the limit, the file is read");
    };
    let Err(e) = refit::engine::decode(read) else {
        panic!("a NUL byte is binary");
    };
    assert_eq!(e.code, "E002");
    // Over the limit: E003 without reading it all.
    let Err(e) = refit::engine::read_capped(&path, 1024) else {
        panic!("over the limit, the file is refused");
    };
    assert_eq!(e.code, "E003");
}

#[test]
fn a_long_stage_chain_is_quick() {
    let mut text = String::from("FROM node:20 AS s0\nRUN true\n");
    for i in 1..4000 {
        text.push_str(&format!("FROM s{} AS s{i}\nRUN echo {i}\n", i - 1));
    }
    let started = Instant::now();
    let checked = check_text(FileKind::Dockerfile, &text, &Settings::default()).unwrap();
    let took = started.elapsed();
    // It took 64 s (cubic) before; debug builds on a loaded machine get room.
    assert!(took < Duration::from_secs(10), "{took:?}");
    // The first stage's model lists every stage built on it.
    let site = checked.sites.first().unwrap();
    let stage = site.extra.stage.as_ref().unwrap();
    assert_eq!(stage.body.len(), 4000);
    assert!(stage.is_final);
}

/// Found by the `yaml` fuzz target: a lone `}` after a blank line, in a file
/// that fails on indentation, made the flow-closer relaxation copy slices
/// of different lengths (a panic).
#[test]
fn fuzz_crash_lone_closer_after_a_blank_line() {
    for text in [
        "        - \"x\n\n}",
        "services:\n  a:\n    image: \"x\n\n  ]\n",
        "services:\n  a:\n    image: [x\n\n    ]\n   b: c\n",
        "services:\n  a:\n    image: [x\n    ] ,\n   b: c\n",
    ] {
        let result = std::panic::catch_unwind(|| {
            check_text(FileKind::Compose, text, &Settings::default()).map(|c| c.sites.len())
        });
        assert!(result.is_ok(), "panicked on {text:?}");
    }
}

/// The workspace has no depth, file-count or entry bound that changes
/// results: an overlay 40 folders down that overrides `nginx` is read, so
/// qualifying the base's `nginx` (which would stop the overlay's
/// `images[]` entry from matching) is not offered as safe, and `--fix`
/// leaves the file alone, exactly as with the overlay next door.
#[test]
fn a_deep_overlay_is_read_like_a_shallow_one() {
    let applicability = |deep: bool| -> (String, String, String) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        // Every overlay is in the repository (else a rename in a base is
        // unsafe anyway, issue 22): only the walk's bounds decide.
        std::fs::write(
            root.join("refit.toml"),
            "[fix]\nkustomize-consumers = \"repository\"\n",
        )
        .unwrap();
        let base = root.join("k8s/base");
        std::fs::create_dir_all(&base).unwrap();
        let manifest = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.25\n";
        std::fs::write(base.join("deployment.yaml"), manifest).unwrap();
        std::fs::write(
            base.join("kustomization.yaml"),
            "resources:\n  - deployment.yaml\n",
        )
        .unwrap();
        if deep {
            // An overlay 40 folders down, past the walk's depth bound.
            let mut overlay = root.join("clusters");
            for i in 0..40 {
                overlay = overlay.join(format!("d{i}"));
            }
            std::fs::create_dir_all(&overlay).unwrap();
            std::fs::write(
                overlay.join("kustomization.yaml"),
                format!(
                    "resources:\n  - {}k8s/base\nimages:\n  - name: nginx\n    newName: mirror.example/nginx\n",
                    "../".repeat(41)
                ),
            )
            .unwrap();
        }
        let out = refit()
            .current_dir(root)
            .args(["check", "--output-format", "json", "k8s"])
            .output()
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let d = json["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["code"] == "REG001")
            .cloned()
            .unwrap_or_default();
        refit()
            .current_dir(root)
            .args(["check", "--fix", "--quiet", "k8s"])
            .output()
            .unwrap();
        let after = std::fs::read_to_string(base.join("deployment.yaml")).unwrap();
        (
            d["fix"]["applicability"].as_str().unwrap_or("").to_string(),
            d["help"].as_str().unwrap_or("").to_string(),
            after,
        )
    };
    let (whole, _, fixed) = applicability(false);
    assert_eq!(whole, "safe");
    assert!(fixed.contains("image: docker.io/library/nginx:1.25"));
    let (deep, help, untouched) = applicability(true);
    assert_ne!(deep, "safe", "{help}");
    assert!(!help.contains("only in part"), "{help}");
    assert!(untouched.contains("image: nginx:1.25"));
}
