//! Finding a root's fact files and reading each once: from git's index
//! where the root is a git work tree (`git ls-files`, which also honours
//! `.gitignore`), else one walk; the disk cache answers for files that did
//! not change since the last run.

use super::cache::{Cache, Stamp};
use super::{Extracted, MAX_TOTAL_BYTES, SKIP, extract, is_fact_file, read};
use rayon::prelude::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// What indexing a root found.
pub(super) struct Indexed {
    pub files: Vec<(PathBuf, Arc<Extracted>)>,
    pub cut: Option<String>,
}

/// Index the fact files under `root` (canonical), except those in `known`
/// (already indexed in this run).
pub(super) fn index_root(root: &Path, disk_cache: bool, known: &BTreeSet<PathBuf>) -> Indexed {
    let git = root.join(".git").exists();
    let candidates: Vec<PathBuf> = git
        .then(|| git_files(root))
        .flatten()
        .unwrap_or_else(|| walk(root))
        .into_iter()
        .filter(|p| is_fact_file(p) && !known.contains(p))
        .collect();
    // The disk cache serves roots a user marked as a project (`.git`,
    // `refit.toml`): a folder refit guessed as a root gets none.
    let marked = super::is_marked(root);
    let cache = (disk_cache && marked).then(|| Cache::load(root));
    let total = AtomicU64::new(0);
    let read_any = std::sync::atomic::AtomicBool::new(false);
    let results: Vec<(PathBuf, Option<Stamp>, Arc<Extracted>)> = candidates
        .par_iter()
        .filter_map(|path| {
            let meta = std::fs::metadata(path).ok()?;
            if !meta.is_file() {
                return None;
            }
            let stamp = Stamp::of(&meta);
            if let Some(cache) = &cache
                && let Some(hit) = cache.get(root, path, &stamp)
            {
                return Some((path.clone(), Some(stamp), hit));
            }
            if total.fetch_add(meta.len(), Ordering::Relaxed) > MAX_TOTAL_BYTES {
                return None;
            }
            read_any.store(true, Ordering::Relaxed);
            let text = read(root, path)?;
            Some((
                path.clone(),
                Some(stamp),
                Arc::new(extract(root, path, &text)),
            ))
        })
        .collect();
    let cut = (total.load(Ordering::Relaxed) > MAX_TOTAL_BYTES).then(|| {
        format!(
            "more than {} GiB of build, CI and manifest files",
            MAX_TOTAL_BYTES / (1024 * 1024 * 1024)
        )
    });
    if let Some(cache) = cache {
        let removed = cache.len() != results.len();
        if read_any.load(Ordering::Relaxed) || removed {
            Cache::store(root, &results);
        }
    }
    Indexed {
        files: results.into_iter().map(|(p, _, e)| (p, e)).collect(),
        cut,
    }
}

/// The files of a git work tree, tracked and untracked but not ignored,
/// from git's index: no folder is listed for the tracked ones. `None`
/// when git cannot answer (not installed, not a repository it trusts).
fn git_files(root: &Path) -> Option<Vec<PathBuf>> {
    let mut command = std::process::Command::new("git");
    command
        .arg("-C")
        .arg(root)
        // A repository's configuration must not run programs.
        .args([
            "-c",
            "core.fsmonitor=false",
            "-c",
            "core.untrackedCache=false",
        ])
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    // A hook's environment names another repository or index.
    for var in [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_COMMON_DIR",
        "GIT_PREFIX",
    ] {
        command.env_remove(var);
    }
    let output = command.output().ok()?;
    if !output.status.success() {
        return None;
    }
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for raw in output.stdout.split(|&b| b == 0) {
        if raw.is_empty() {
            continue;
        }
        let rel = bytes_to_path(raw)?;
        if rel
            .components()
            .any(|c| SKIP.iter().any(|s| c.as_os_str() == *s))
        {
            continue;
        }
        let path = root.join(rel);
        if seen.insert(path.clone()) {
            out.push(path);
        }
    }
    Some(out)
}

#[cfg(unix)]
fn bytes_to_path(raw: &[u8]) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    Some(PathBuf::from(std::ffi::OsStr::from_bytes(raw)))
}

#[cfg(not(unix))]
fn bytes_to_path(raw: &[u8]) -> Option<PathBuf> {
    std::str::from_utf8(raw).ok().map(PathBuf::from)
}

/// Every regular file under `root`, links not followed, `SKIP` folders
/// left out; each folder listed once.
fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                let name = entry.file_name();
                if !SKIP.iter().any(|s| name == *s) {
                    stack.push(entry.path());
                }
            } else if kind.is_file() {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    out
}
