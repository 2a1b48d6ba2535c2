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

/// The `refit` binary, with the colour and width variables of the test
/// runner's own environment removed.
pub fn refit() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("refit").expect("the refit binary");
    cmd.env_remove("NO_COLOR")
        .env_remove("COLUMNS")
        .env_remove("FORCE_COLOR")
        .env_remove("CLICOLOR_FORCE");
    cmd
}

/// Run a command: its exit code, standard output and standard error.
pub fn run(cmd: &mut assert_cmd::Command) -> (i32, String, String) {
    let out = cmd.output().expect("the command runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// Write a file (and its folders) under `dir`.
pub fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(&path, content).expect("write");
    path
}

/// The `script` block of a GitLab CI template's job (`  script:\n    - |`),
/// unindented, as the job's shell runs it.
pub fn gitlab_script(template: &str) -> String {
    let open = "  script:\n    - |\n";
    let start = template.find(open).expect("a script block") + open.len();
    template[start..]
        .lines()
        .take_while(|l| l.starts_with("      ") || l.is_empty())
        .map(|l| l.get(6..).unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `refit sites --format json .` run in `dir` (a folder of test inputs):
/// every site it lists.
pub fn sites_in(dir: &Path) -> Vec<serde_json::Value> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_refit"))
        .args(["sites", "--format", "json", "."])
        .current_dir(dir)
        .output()
        .expect("refit runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// One case of an oracle table: the input (a file or a folder of the test
/// data), the references the oracle finds, the ones refit finds (in file
/// order), and why they differ (empty when they agree).
pub type OracleCase = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static str,
);

/// Hold `refit sites` to an oracle table: each input's resolved references
/// are exactly the table's, a difference is explained exactly when there is
/// one (the same references in another order agree), and every site is in
/// an input the table lists. `input` names a site's input (its path, or
/// its first folder). Returns how many cases agree.
pub fn oracle_agreement(
    sites: &[serde_json::Value],
    cases: &[OracleCase],
    input: impl Fn(&serde_json::Value) -> String,
) -> usize {
    fn sorted<'a>(refs: &[&'a str]) -> Vec<&'a str> {
        let mut v = refs.to_vec();
        v.sort_unstable();
        v
    }
    let mut agree = 0;
    for (case, oracle, refit, why) in cases {
        let found: Vec<&str> = sites
            .iter()
            .filter(|s| input(s) == *case && s["unresolved"].is_null())
            .filter_map(|s| s["reference"].as_str())
            .collect();
        assert_eq!(found, *refit, "{case}");
        let same = sorted(oracle) == sorted(refit);
        assert_eq!(same, why.is_empty(), "{case}: {why}");
        agree += usize::from(same);
    }
    assert!(
        sites
            .iter()
            .all(|s| cases.iter().any(|(c, ..)| input(s) == *c)),
        "a site in an input the table does not list"
    );
    agree
}

/// A site's input: its path.
pub fn site_path(site: &serde_json::Value) -> String {
    site["path"].as_str().unwrap_or_default().to_string()
}
