//! Files and folders that a command in the repository writes: its output
//! is generated, so a fix there is overwritten the next time the command
//! runs (or makes a CI check that regenerates and compares fail), unless
//! the source changes too. No marker is needed: the command is the
//! evidence. Read from the same files as build commands (scripts,
//! Makefiles, CI YAML, `package.json` scripts), line by line:
//!
//! - a redirect `> path`, `>> path`, `tee path`, and an output option
//!   `-o path`, `--output path`, `--output=path`, `--output-file path`;
//! - a folder the commands delete and create again (`rm -rf dir` and
//!   `mkdir -p dir/…` in the same file);
//! - a CI step that ends in a check that regeneration changed nothing
//!   (`git diff --exit-code`, `git diff --quiet`): the repository paths its
//!   `name` names, and the paths given to that `git diff`.
//!
//! A path is taken relative to the file's folder and to the root (a
//! script may run from either); paths with variables, globs, URLs,
//! absolute paths and `..` are skipped. The result is a list of
//! (canonical path, why) per file, combined per root.

use crate::shell::{logical_lines, shell_words};
use std::path::{Component, Path, PathBuf};

/// The most generated paths kept per file.
const MAX_PER_FILE: usize = 64;

/// A relative repository path as written, or nothing when it is not a
/// plain one.
fn plain_path(word: &str) -> Option<&str> {
    let w = word.trim_matches(|c| matches!(c, '\'' | '"' | '`' | ',' | ';' | ')'));
    let w = w.strip_prefix("./").unwrap_or(w);
    if w.is_empty()
        || w == "."
        || w.starts_with('-')
        || w.starts_with('/')
        || w.starts_with('~')
        || w.contains([
            '$', '{', '(', '*', '?', '[', ':', '=', '<', '>', '|', '&', '\\',
        ])
        || w.split('/').any(|c| c == "..")
    {
        return None;
    }
    Some(w.trim_end_matches('/'))
}

/// Lexical join without `.` components.
fn join(base: &Path, rel: &str) -> PathBuf {
    let mut out = base.to_path_buf();
    for c in Path::new(rel).components() {
        if let Component::Normal(n) = c {
            out.push(n);
        }
    }
    out
}

/// What a command line writes (files), as written.
fn written(words: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    let mut tee = false;
    while i < words.len() {
        let w = words[i].as_str();
        let next = words.get(i + 1).map(String::as_str);
        match w {
            ">" | ">>" | "-o" | "--output" | "--output-file" => {
                tee = false;
                if let Some(p) = next.and_then(plain_path) {
                    out.push(p.to_string());
                }
                i += 2;
                continue;
            }
            "tee" => tee = true,
            "|" | "&&" | "||" | ";" => tee = false,
            _ => {
                if let Some(p) = w
                    .strip_prefix(">>")
                    .or_else(|| w.strip_prefix('>'))
                    .or_else(|| w.strip_prefix("--output="))
                    .or_else(|| w.strip_prefix("--output-file="))
                    .and_then(plain_path)
                {
                    out.push(p.to_string());
                } else if tee && let Some(p) = plain_path(w) {
                    out.push(p.to_string());
                }
            }
        }
        i += 1;
    }
    out
}

/// The generated paths one file's commands name, as written (relative;
/// [`resolve`] places them), each with why; `{file}` in the why stands
/// for the file's name, which depends on the root it is shown under.
pub fn read(text: &str, yaml: bool, shell: bool) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let push = |rel: &str, why: String, out: &mut Vec<(String, String)>| {
        if out.len() < MAX_PER_FILE && !out.iter().any(|(q, _)| q == rel) {
            out.push((rel.to_string(), why));
        }
    };
    let mut removed: Vec<String> = Vec::new();
    let mut made: Vec<String> = Vec::new();
    // Where relative paths are written from, after a `cd`: `Some("")`
    // the file's own folder (or the root), `Some("sub")` a folder below,
    // `None` a folder refit cannot place (`cd "$tmp"`, `cd /abs`): paths
    // written there are not the repository's. In a shell script a `cd`
    // holds for the lines after it; in a Makefile recipe or a CI step
    // list (`shell` false), for its own line only.
    let mut cwd: Option<String> = Some(String::new());
    for line in logical_lines(text) {
        let here = match cd_target(&line) {
            Some(to) => {
                let next = match (&cwd, to) {
                    (Some(base), Some(to)) if base.is_empty() => Some(to),
                    (Some(base), Some(to)) if to.is_empty() => Some(base.clone()),
                    (Some(base), Some(to)) => Some(format!("{base}/{to}")),
                    _ => None,
                };
                if shell {
                    cwd = next.clone();
                }
                next
            }
            None => cwd.clone(),
        };
        let Some(here) = here else {
            continue;
        };
        let under = |p: &str| {
            if here.is_empty() {
                p.to_string()
            } else {
                format!("{here}/{p}")
            }
        };
        if !line.contains('>')
            && !line.contains("-o")
            && !line.contains("tee")
            && !line.contains("rm ")
            && !line.contains("mkdir")
        {
            continue;
        }
        let words = shell_words(&line);
        for p in written(&words) {
            let p = under(&p);
            push(
                &p,
                format!("written by `{}` in `{{file}}`", shown_command(&line)),
                &mut out,
            );
        }
        for (k, w) in words.iter().enumerate() {
            if w == "rm" {
                let flags: String = words[k + 1..]
                    .iter()
                    .take_while(|a| a.starts_with('-'))
                    .flat_map(|a| a.chars())
                    .collect();
                if flags.contains(['r', 'R']) && flags.contains('f') {
                    removed.extend(operands(&words[k + 1..]).map(|p| under(&p)));
                    removed.truncate(MAX_PER_FILE);
                }
            }
            if w == "mkdir" {
                made.extend(operands(&words[k + 1..]).map(|p| under(&p)));
                made.truncate(MAX_PER_FILE);
            }
        }
    }
    for r in &removed {
        if made
            .iter()
            .any(|m| m == r || m.starts_with(&format!("{r}/")))
        {
            push(
                r,
                format!("the commands in `{{file}}` delete `{r}` and create it again"),
                &mut out,
            );
        }
    }
    if yaml {
        checked_steps(text, &mut |rel, why| push(rel, why, &mut out));
    }
    out
}

/// Where a line's leading `cd` (or `pushd`) goes: `Some(Some(rel))` a
/// plain relative folder below, `Some(None)` a folder refit cannot place
/// (a variable, an absolute path, `..`, `-`, `popd`); `None` when the
/// line does not start with one.
fn cd_target(line: &str) -> Option<Option<String>> {
    let line = line.trim_start();
    if line.starts_with("popd") {
        return Some(None);
    }
    let rest = line
        .strip_prefix("cd ")
        .or_else(|| line.strip_prefix("pushd "))?;
    let arg = rest
        .split(|c: char| c.is_whitespace() || c == ';' || c == '&' || c == '|')
        .find(|w| !w.is_empty())?;
    let arg = arg.trim_matches(|c| c == '"' || c == '\'');
    let arg = arg.strip_prefix("./").unwrap_or(arg).trim_end_matches('/');
    if arg.is_empty()
        || arg.contains(['$', '`', '~', '*'])
        || arg.starts_with(['/', '-'])
        || arg.split('/').any(|part| part == ".." || part.is_empty())
    {
        return Some(None);
    }
    if arg == "." {
        return Some(Some(String::new()));
    }
    Some(Some(arg.to_string()))
}

/// A command as a reason shows it: its first 120 characters (a line
/// may be as long as its file).
fn shown_command(line: &str) -> String {
    let line = line.trim();
    match line.char_indices().nth(120) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line.to_string(),
    }
}

/// The plain path operands of a command (its words after the name), up
/// to the end of the command: options skipped.
fn operands(words: &[String]) -> impl Iterator<Item = String> + '_ {
    words
        .iter()
        .skip_while(|a| a.starts_with('-'))
        .take_while(|a| !matches!(a.as_str(), "&&" | "||" | ";" | "|"))
        .filter_map(|a| plain_path(a))
        .map(str::to_string)
}

/// Where one file's generated paths are: each relative path taken from
/// the file's folder and from the root (a script may run from either),
/// with the file's name (as shown under `root`) in its why.
pub fn resolve(
    root: &Path,
    path: &Path,
    shown: &str,
    read: &[(String, String)],
) -> Vec<(PathBuf, String)> {
    let dir = path.parent().unwrap_or(root);
    let mut out: Vec<(PathBuf, String)> = Vec::new();
    for (rel, why) in read {
        for base in [dir, root] {
            let p = join(base, rel);
            if p != *root && !out.iter().any(|(q, _)| *q == p) {
                out.push((p, why.replace("{file}", shown)));
            }
        }
    }
    out
}

/// Whether a step's commands check that regeneration changed nothing.
fn diff_check(run: &str) -> Option<Vec<String>> {
    for line in logical_lines(run) {
        let words = shell_words(&line);
        let Some(k) = words
            .windows(2)
            .position(|w| w[0] == "git" && w[1] == "diff")
        else {
            continue;
        };
        let rest = &words[k + 2..];
        if !rest.iter().any(|a| a == "--exit-code" || a == "--quiet") {
            continue;
        }
        return Some(
            rest.iter()
                .skip_while(|a| *a != "--")
                .skip(1)
                .filter_map(|a| plain_path(a))
                .map(str::to_string)
                .collect(),
        );
    }
    None
}

/// CI steps (GitHub Actions `steps`) that regenerate and compare: the
/// repository paths their `name` names and their `git diff` paths.
fn checked_steps(text: &str, found: &mut dyn FnMut(&str, String)) {
    if !text.contains("git diff") {
        return;
    }
    let Ok(docs) = crate::sources::yaml::parse_shared(text) else {
        return;
    };
    for doc in docs.iter() {
        for step in super::build_refs::workflow_steps(doc) {
            let scalar = |key: &str| {
                doc.get(step, key)
                    .and_then(|v| doc.resolve(v).as_scalar())
                    .map(|s| s.value.clone())
            };
            let Some(paths) = scalar("run").as_deref().and_then(diff_check) else {
                continue;
            };
            let name = scalar("name").unwrap_or_default();
            let why = format!(
                "the CI step `{}` in `{{file}}` regenerates it and fails on any difference",
                if name.is_empty() {
                    "git diff --exit-code"
                } else {
                    name.as_str()
                }
            );
            for p in paths.iter().map(String::as_str).chain(
                name.split_whitespace().filter_map(plain_path).filter(|p| {
                    p.contains('/') && p.rsplit('/').next().is_some_and(|f| f.contains('.'))
                }),
            ) {
                found(p, why.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_recreated_folders() {
        let root = Path::new("/r");
        let got = read(
            "manifests:\n\trm -rf out\n\tmkdir -p out/charts\n\thelm template x > deploy/all.yaml\n\tcurl $(URL) -o $(DEST)\n\techo hi 2>/dev/null\n",
            false,
            false,
        );
        let got = resolve(root, Path::new("/r/Makefile"), "Makefile", &got);
        let paths: Vec<_> = got
            .iter()
            .map(|(p, _)| p.to_string_lossy().to_string())
            .collect();
        assert_eq!(paths, ["/r/deploy/all.yaml", "/r/out"]);
    }

    #[test]
    fn writes_after_cd() {
        let paths = |text: &str, shell: bool| -> Vec<String> {
            read(text, false, shell)
                .into_iter()
                .map(|(p, _)| p)
                .collect()
        };
        // A script that moves to a folder refit cannot place writes there.
        assert!(
            paths(
                "tmp=$(mktemp -d)\ncd \"$tmp\"\nsed s/a/b/ x > Dockerfile\n",
                true
            )
            .is_empty()
        );
        // A plain folder below: the path is under it.
        assert_eq!(
            paths("cd docs\ngen > index.yaml\n", true),
            ["docs/index.yaml"]
        );
        assert_eq!(
            paths("cd docs && gen > a.yaml\ngen > b.yaml\n", false),
            ["docs/a.yaml", "b.yaml"]
        );
        // A Makefile recipe line: the `cd` holds for its own line only.
        assert_eq!(
            paths("\tcd /tmp && gen > a.yaml\n\tgen > b.yaml\n", false),
            ["b.yaml"]
        );
        assert_eq!(
            paths("cd x\ncd -\ngen > c.yaml\n", true),
            Vec::<String>::new()
        );
    }

    #[test]
    fn ci_step_that_regenerates_and_compares() {
        let text = "jobs:\n  v:\n    steps:\n      - name: 'Validate .github/workflows/build.yaml is up to date'\n        run: |-\n          ci/console generate\n          git diff --exit-code --color=always\n      - name: Build docs/x.yaml\n        run: make\n";
        let got = read(text, true, false);
        let got = resolve(
            Path::new("/r"),
            Path::new("/r/.github/workflows/b.yaml"),
            "b.yaml",
            &got,
        );
        let paths: Vec<_> = got
            .iter()
            .map(|(p, _)| p.to_string_lossy().to_string())
            .collect();
        assert_eq!(
            paths,
            [
                "/r/.github/workflows/.github/workflows/build.yaml",
                "/r/.github/workflows/build.yaml"
            ]
        );
    }
}
