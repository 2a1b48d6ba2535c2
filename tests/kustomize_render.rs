//! Render equivalence with the real kustomize: for every folder with a
//! kustomization (the fixtures, `../shared/corpus`, and the real-repository
//! panel at `/work/panel` when it exists), `kubectl kustomize` before and
//! after `refit check --fix` (and `--unsafe-fixes`) on a temporary copy.
//! The rendered image set must be equal after reference normalisation and
//! every other byte identical. Skips with a message when kubectl is absent.
//!
//! kubectl runs with every proxy variable pointing at a closed local port
//! and ssh disabled, so remote bases fail instead of reaching the network;
//! a folder that does not render before the fix is counted and skipped.

mod common;

use refit::reference::Reference;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const KUSTOMIZATIONS: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];

fn kubectl() -> Option<PathBuf> {
    let ok = Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then(|| PathBuf::from("kubectl"))
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            if entry.file_name() != ".git" {
                copy_tree(&path, &target);
            }
        } else if kind.is_file() {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// Folders under `root` holding a kustomization, relative to `root`.
fn kustomization_dirs(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                if entry.file_name() != ".git" {
                    stack.push(path);
                }
            } else if KUSTOMIZATIONS.iter().any(|k| entry.file_name() == *k) {
                out.push(dir.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn render(kubectl: &Path, dir: &Path) -> Option<String> {
    let closed = "http://127.0.0.1:9";
    let out = Command::new(kubectl)
        .arg("kustomize")
        .arg(dir)
        .env("HTTP_PROXY", closed)
        .env("HTTPS_PROXY", closed)
        .env("http_proxy", closed)
        .env("https_proxy", closed)
        .env("ALL_PROXY", closed)
        .env("NO_PROXY", "")
        .env("GIT_SSH_COMMAND", "false")
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).to_string())
}

/// The rendered output with every `image:` value normalised
/// (`nginx:1` → `docker.io/library/nginx:1`), and the image set.
fn normalise(rendered: &str) -> (String, BTreeSet<String>) {
    let mut images = BTreeSet::new();
    let mut out = String::with_capacity(rendered.len());
    for line in rendered.split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        let trimmed = body.trim_start().trim_start_matches("- ");
        if let Some(value) = trimmed.strip_prefix("image: ") {
            let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
            let normal = Reference::parse_normalized(value)
                .map(|r| r.normalized())
                .unwrap_or_else(|_| value.to_string());
            images.insert(normal.clone());
            let indent = &body[..body.len() - body.trim_start().len()];
            let dash = if body.trim_start().starts_with("- ") {
                "- "
            } else {
                ""
            };
            out.push_str(&format!("{indent}{dash}image: {normal}\n"));
        } else {
            out.push_str(line);
        }
    }
    (out, images)
}

struct Tally {
    rendered: usize,
    equal: usize,
    unrenderable: usize,
    changed_files: usize,
    failures: Vec<String>,
}

/// Check one tree: copy it, fix the copy, render both, compare. `before`
/// holds the renders of the original (computed once for both modes).
fn check_tree(
    kubectl: &Path,
    name: &str,
    tree: &Path,
    dirs: &[PathBuf],
    before: &[Option<String>],
    unsafe_fixes: bool,
    tally: &mut Tally,
) {
    let tmp = std::env::temp_dir().join(format!(
        "refit-kustomize-{}-{}-{}",
        std::process::id(),
        name.replace(['/', '+'], "_"),
        unsafe_fixes
    ));
    let _ = std::fs::remove_dir_all(&tmp);
    copy_tree(tree, &tmp);
    let mut args = vec!["check", "--fix"];
    if unsafe_fixes {
        args.push("--unsafe-fixes");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_refit"))
        .args(&args)
        .arg(&tmp)
        .output()
        .unwrap();
    let code = out.status.code().unwrap_or(-1);
    // 0: clean, 1: findings left, 2: files with errors (E001-E005); a
    // crash has no code or 101.
    if !(0..=2).contains(&code) {
        tally.failures.push(format!(
            "{name}: refit exited {code}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let changed = count_changed(tree, &tmp);
    tally.changed_files += changed;
    for (dir, before) in dirs.iter().zip(before) {
        let Some(before) = before else {
            tally.unrenderable += 1;
            continue;
        };
        tally.rendered += 1;
        // Nothing in the tree changed: the render cannot have.
        let after = if changed == 0 {
            before.clone()
        } else {
            render(kubectl, &tmp.join(dir)).unwrap_or_default()
        };
        let (b, b_images) = normalise(before);
        let (a, a_images) = normalise(&after);
        if a == b {
            tally.equal += 1;
        } else {
            let first = b
                .lines()
                .zip(a.lines())
                .find(|(x, y)| x != y)
                .map(|(x, y)| format!("`{x}` became `{y}`"))
                .unwrap_or_else(|| "lengths differ".to_string());
            tally.failures.push(format!(
                "{name}/{} ({}): rendered output changed: {first}; images before {:?}, after {:?}",
                dir.display(),
                if unsafe_fixes {
                    "--unsafe-fixes"
                } else {
                    "--fix"
                },
                b_images.difference(&a_images).collect::<Vec<_>>(),
                a_images.difference(&b_images).collect::<Vec<_>>()
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
}

fn count_changed(original: &Path, copy: &Path) -> usize {
    let mut n = 0;
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(copy.join(&rel)) else {
            continue;
        };
        for entry in entries.flatten() {
            let r = rel.join(entry.file_name());
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(r);
            } else if std::fs::read(original.join(&r)).ok() != std::fs::read(copy.join(&r)).ok() {
                n += 1;
            }
        }
    }
    n
}

/// The trees to check: each fixture folder, each corpus repository, each
/// panel repository (when present).
fn trees() -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let corpus = common::corpus_root();
    let panel = PathBuf::from("/work/panel");
    for (label, root) in [("fixtures", fixtures), ("corpus", corpus), ("panel", panel)] {
        let Ok(entries) = std::fs::read_dir(&root) else {
            eprintln!(
                "note: {} not found; its kustomizations are not rendered",
                root.display()
            );
            continue;
        };
        let mut dirs: Vec<PathBuf> = entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.path())
            .collect();
        dirs.sort();
        for dir in dirs {
            let name = format!(
                "{label}/{}",
                dir.file_name().unwrap_or_default().to_string_lossy()
            );
            out.push((name, dir));
        }
    }
    out
}

/// A tree: its name, path, kustomization folders and their renders.
type Tree = (String, PathBuf, Vec<PathBuf>, Vec<Option<String>>);

#[test]
fn kustomize_renders_the_same_after_fixing() {
    let Some(kubectl) = kubectl() else {
        eprintln!("skipping: kubectl not found (install it to check render equivalence)");
        return;
    };
    let trees: Vec<Tree> = trees()
        .into_iter()
        .filter_map(|(name, tree)| {
            let dirs = kustomization_dirs(&tree);
            if dirs.is_empty() {
                return None;
            }
            let before = dirs
                .iter()
                .map(|d| render(&kubectl, &tree.join(d)))
                .collect();
            Some((name, tree, dirs, before))
        })
        .collect();
    for unsafe_fixes in [false, true] {
        let mut tally = Tally {
            rendered: 0,
            equal: 0,
            unrenderable: 0,
            changed_files: 0,
            failures: Vec::new(),
        };
        for (name, tree, dirs, before) in &trees {
            check_tree(&kubectl, name, tree, dirs, before, unsafe_fixes, &mut tally);
        }
        eprintln!(
            "kustomize render ({}): {} folders rendered, {} equal, {} unequal, {} not renderable offline; {} files changed by refit",
            if unsafe_fixes {
                "--fix --unsafe-fixes"
            } else {
                "--fix"
            },
            tally.rendered,
            tally.equal,
            tally.rendered - tally.equal,
            tally.unrenderable,
            tally.changed_files
        );
        assert!(
            tally.failures.is_empty(),
            "render changed:\n{}",
            tally.failures.join("\n")
        );
    }
}

#[test]
fn normalises_image_lines_only() {
    let (text, images) =
        normalise("spec:\n  - image: nginx:1\n    name: \"nginx:1\"\n  image: \"ghcr.io/a/b:2\"\n");
    assert_eq!(
        text,
        "spec:\n  - image: docker.io/library/nginx:1\n    name: \"nginx:1\"\n  image: ghcr.io/a/b:2\n"
    );
    assert_eq!(images.len(), 2);
}
