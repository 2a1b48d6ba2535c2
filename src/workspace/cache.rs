//! The workspace index on disk, between runs: `.refit_cache/` at the root of
//! a repository, as ruff keeps `.ruff_cache/`. It holds what each fact file
//! said, keyed by the file's size, modification time and inode, so a run
//! reads again only the files that changed, appeared or were renamed, and
//! drops the ones that went away. The folder holds its own `.gitignore`
//! (`*`), so git never sees it; `--no-cache` skips it and `refit clean`
//! removes it.
//!
//! A file changed twice within the clock's resolution could keep its size
//! and time: entries whose modification time is less than two seconds
//! before the cache was written are not kept (git's "racily clean" rule),
//! so they are read again next time.

use super::Extracted;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The cache folder's name, at a repository root.
pub const DIR: &str = ".refit_cache";
const FILE: &str = "workspace-v1.json";
/// What wrote the cache: another version of refit starts afresh.
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "/workspace-14");

/// What identifies a file's content without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stamp {
    len: u64,
    mtime_ns: i128,
    ino: u64,
}

impl Stamp {
    pub fn of(meta: &std::fs::Metadata) -> Stamp {
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as i128);
        #[cfg(unix)]
        let ino = std::os::unix::fs::MetadataExt::ino(meta);
        #[cfg(not(unix))]
        let ino = 0;
        Stamp {
            len: meta.len(),
            mtime_ns,
            ino,
        }
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct OnDisk {
    version: String,
    root: PathBuf,
    /// Every folder the enumeration covered, with its modification time:
    /// a folder whose time is unchanged has the same entries, so it need
    /// not be listed again.
    dirs: Vec<(PathBuf, i128)>,
    /// `.gitignore` files: a change can hide or show files in folders
    /// whose entries did not change, so it enumerates the root again.
    ignores: Vec<(PathBuf, Stamp)>,
    files: Vec<(PathBuf, Stamp, Arc<Extracted>)>,
}

/// A loaded cache.
#[derive(Default)]
pub(super) struct Cache {
    pub files: HashMap<PathBuf, (Stamp, Arc<Extracted>)>,
    pub dirs: Vec<(PathBuf, i128)>,
    pub ignores: Vec<(PathBuf, Stamp)>,
}

/// What a store writes besides the files.
pub(super) struct Listing<'a> {
    pub dirs: &'a [(PathBuf, i128)],
    pub ignores: &'a [(PathBuf, Stamp)],
}

/// A folder's modification time, in nanoseconds; `None` when it is gone.
pub(super) fn dir_mtime(dir: &Path) -> Option<i128> {
    let meta = std::fs::symlink_metadata(dir).ok()?;
    if !meta.is_dir() {
        return None;
    }
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos() as i128)
}

/// The cache folder of a root when it is a real folder inside it (not a
/// link elsewhere); `None` when it is something else.
fn folder(root: &Path) -> Option<PathBuf> {
    let dir = root.join(DIR);
    match std::fs::symlink_metadata(&dir) {
        Ok(meta) if meta.is_dir() => Some(dir),
        Ok(_) => None,
        Err(_) => Some(dir),
    }
}

impl Cache {
    /// The cache of `root`, or an empty one (missing, unreadable, written by
    /// another version or for another folder).
    pub fn load(root: &Path) -> Cache {
        let Some(dir) = folder(root) else {
            return Cache::default();
        };
        let Ok(text) = crate::bounded::read_regular(&dir.join(FILE), 1024 * 1024 * 1024) else {
            return Cache::default();
        };
        let Ok(disk) = serde_json::from_str::<OnDisk>(&text) else {
            return Cache::default();
        };
        if disk.version != VERSION || disk.root != root {
            return Cache::default();
        }
        Cache {
            files: disk
                .files
                .into_iter()
                .map(|(p, s, e)| (root.join(p), (s, e)))
                .collect(),
            dirs: disk
                .dirs
                .into_iter()
                .map(|(d, m)| (root.join(d), m))
                .collect(),
            ignores: disk.ignores,
        }
    }

    /// What a file said, if it has not changed since.
    pub fn get(&self, path: &Path, stamp: &Stamp) -> Option<Arc<Extracted>> {
        let (known, extracted) = self.files.get(path)?;
        (known == stamp).then(|| extracted.clone())
    }

    /// Write the cache of `root`. Failing to write (a read-only checkout)
    /// costs only the next run's time, so it is not an error.
    pub fn store(
        root: &Path,
        listing: Listing,
        files: &[(PathBuf, Option<Stamp>, Arc<Extracted>)],
    ) {
        let Some(dir) = folder(root) else { return };
        if !dir.is_dir() {
            if std::fs::create_dir(&dir).is_err() {
                return;
            }
            // Kept out of git and of backups, as ruff's and cargo's caches are.
            let _ = std::fs::write(dir.join(".gitignore"), "# Created by refit.\n*\n");
            let _ = std::fs::write(
                dir.join("CACHEDIR.TAG"),
                "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by refit.\n",
            );
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i128);
        let racy = 2_000_000_000i128;
        let disk = OnDisk {
            version: VERSION.to_string(),
            root: root.to_path_buf(),
            // A folder changed within the clock's resolution is listed
            // again next time.
            dirs: listing
                .dirs
                .iter()
                .map(|(d, m)| {
                    let rel = d.strip_prefix(root).unwrap_or(d).to_path_buf();
                    (rel, if *m < now - racy { *m } else { -1 })
                })
                .collect(),
            ignores: listing.ignores.to_vec(),
            files: files
                .iter()
                .filter_map(|(p, s, e)| {
                    let s = (*s)?;
                    let rel = p.strip_prefix(root).unwrap_or(p).to_path_buf();
                    (s.mtime_ns < now - racy).then(|| (rel, s, e.clone()))
                })
                .collect(),
        };
        let Ok(json) = serde_json::to_vec(&disk) else {
            return;
        };
        let tmp = dir.join(format!("{FILE}.{}.tmp", std::process::id()));
        if std::fs::write(&tmp, json).is_ok() && std::fs::rename(&tmp, dir.join(FILE)).is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

/// Remove the cache of a root (`refit clean`); `Ok(false)` when there was none.
pub fn clean(root: &Path) -> std::io::Result<bool> {
    let dir = root.join(DIR);
    match std::fs::symlink_metadata(&dir) {
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(&dir).map(|_| true),
        // A link or a file of that name is not refit's to remove.
        Ok(_) => Ok(false),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}
