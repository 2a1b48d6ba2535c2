//! The shared corpus beside the repository, for the corpus tests. Each
//! test crate uses part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")
}

/// One row of `MANIFEST.tsv`: the file's kind and its path under the root.
pub struct Entry {
    pub kind: String,
    pub rel: String,
}

/// Every corpus file the manifest lists, or `None` (after saying so on
/// stderr) when the shared corpus is not beside the repository.
pub fn manifest() -> Option<Vec<Entry>> {
    let Ok(text) = std::fs::read_to_string(corpus_root().join("MANIFEST.tsv")) else {
        eprintln!(
            "skipping: ../shared/corpus/MANIFEST.tsv not found (the shared corpus is not beside the repo)"
        );
        return None;
    };
    Some(
        text.lines()
            .skip(1)
            .filter_map(|l| {
                let cols: Vec<&str> = l.split('\t').collect();
                Some(Entry {
                    kind: cols.get(1)?.to_string(),
                    rel: cols.get(3)?.to_string(),
                })
            })
            .collect(),
    )
}

/// Run git in `dir` with a fixed identity and fixed dates (the same commit
/// ids on every run), failing the test on error; returns its stdout,
/// trimmed.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=ci",
            "-c",
            "user.email=ci@example.invalid",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
