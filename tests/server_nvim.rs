//! A real LSP client: Neovim's built-in client attaches `refit server` to a
//! Dockerfile and a Compose file, reads the diagnostics, applies the
//! fix-all code action and writes the buffers; the files must equal what
//! `refit check --fix` writes. Skips when `nvim` is not installed.

use std::path::Path;
use std::process::Command;

const DOCKERFILE: &str = "# syntax=docker/dockerfile:1\nARG BASE=node:20\nFROM $BASE AS build\nRUN echo héllo\nFROM index.docker.io/library/nginx:1.27\nCOPY --from=build /a /b\n";
const COMPOSE: &str =
    "services:\n  wéb: {image: \"k8s.gcr.io/pause:3.1\"}\n  cache:\n    image: redis:7.2 # cache\n";

fn nvim_available() -> bool {
    Command::new("nvim")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn check_fix(dir: &Path, name: &str, text: &str) -> String {
    let work = tempfile::tempdir().expect("tempdir");
    let path = work.path().join(name);
    std::fs::write(&path, text).expect("write");
    let _ = dir;
    Command::new(env!("CARGO_BIN_EXE_refit"))
        .args(["check", "--fix", "--isolated"])
        .arg(&path)
        .output()
        .expect("refit runs");
    std::fs::read_to_string(&path).expect("read")
}

#[test]
fn neovim_attaches_reads_diagnostics_and_applies_fix_all() {
    if !nvim_available() {
        eprintln!("skipping: nvim is not installed (apt-get install neovim)");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let dockerfile = dir.path().join("Dockerfile");
    let compose = dir.path().join("compose.yaml");
    std::fs::write(&dockerfile, DOCKERFILE).expect("write");
    std::fs::write(&compose, COMPOSE).expect("write");
    let out = dir.path().join("out.tsv");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/nvim/lsp_client.lua");
    let status = Command::new("nvim")
        .args(["--headless", "-u", "NONE", "-i", "NONE", "-n"])
        .arg("-c")
        .arg(format!("luafile {}", script.display()))
        .env("REFIT_BIN", env!("CARGO_BIN_EXE_refit"))
        .env(
            "REFIT_FILES",
            format!("{} {}", dockerfile.display(), compose.display()),
        )
        .env("REFIT_OUT", &out)
        .env("XDG_STATE_HOME", dir.path())
        .env("XDG_DATA_HOME", dir.path())
        .current_dir(dir.path())
        .stdin(std::process::Stdio::null())
        .output()
        .expect("nvim runs");
    let report = std::fs::read_to_string(&out).unwrap_or_default();
    assert!(
        report.ends_with("DONE\n"),
        "nvim: {status:?}\nreport:\n{report}"
    );
    let lines: Vec<Vec<&str>> = report
        .lines()
        .filter(|l| *l != "DONE")
        .map(|l| l.split('\t').collect())
        .collect();
    assert_eq!(lines.len(), 2, "{report}");
    // Diagnostics: codes and 0-based positions as Neovim shows them.
    assert_eq!(
        lines[0][1], "REG001:0:9,REG001:2:5,REG003:4:5",
        "Dockerfile diagnostics"
    );
    // Neovim columns are bytes: `  wéb: {image: "` is 17 bytes.
    assert_eq!(
        lines[1][1], "REG001:3:11,REG004:1:17",
        "Compose diagnostics"
    );
    assert_eq!(lines[0][2], "1");
    assert_eq!(lines[1][2], "1");
    // What Neovim wrote is what `refit check --fix` writes.
    assert_eq!(
        std::fs::read_to_string(&dockerfile).expect("read"),
        check_fix(dir.path(), "Dockerfile", DOCKERFILE)
    );
    assert_eq!(
        std::fs::read_to_string(&compose).expect("read"),
        check_fix(dir.path(), "compose.yaml", COMPOSE)
    );
}
