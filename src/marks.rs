//! What marks a folder as a project root: `.git` (a folder, or a file in a
//! worktree) and a refit configuration file (`refit.toml`, `.refit.toml`).
//! Config discovery, the workspace's roots and the write confinement all
//! ask this of the same folders; each folder is looked at once per
//! process, not once per file and per caller: from its listing in a
//! one-shot run (`crate::listing`, which the workspace's walk reuses),
//! else with at most three `statx`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{LazyLock, Mutex};

/// A folder's marks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Marks {
    /// `.git` is there (a folder, or a worktree's file).
    pub git: bool,
    /// The refit configuration file there, the first of
    /// [`crate::kind::CONFIG_FILE_NAMES`] that is a file.
    pub config: Option<&'static str>,
}

impl Marks {
    /// Whether the folder is a project root (`.git` or a refit config).
    pub fn any(self) -> bool {
        self.git || self.config.is_some()
    }
}

static CACHE: LazyLock<Mutex<HashMap<std::path::PathBuf, Marks>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));
/// Past this many folders the cache stops growing (it is only a cache).
const MAX_FOLDERS: usize = 200_000;

/// The marks of `dir` (as given: callers pass absolute or canonical
/// folders), looked at once per process.
pub fn of(dir: &Path) -> Marks {
    if let Some(known) = CACHE.lock().ok().and_then(|c| c.get(dir).copied()) {
        return known;
    }
    // From the folder's listing in a one-shot run (`crate::listing`).
    let listing = crate::listing::of(dir);
    let entry = |name: &str| listing.as_ref().map(|l| l.get(std::ffi::OsStr::new(name)));
    let marks = Marks {
        git: crate::listing::exists_from(entry(".git"), &dir.join(".git")),
        config: crate::kind::CONFIG_FILE_NAMES
            .iter()
            .copied()
            .find(|n| crate::listing::file_from(entry(n), &dir.join(n))),
    };
    if let Ok(mut cache) = CACHE.lock()
        && cache.len() < MAX_FOLDERS
    {
        cache.insert(dir.to_path_buf(), marks);
    }
    marks
}

/// Forget every folder's marks: a long-running process (`refit server`)
/// calls this when a `.git` or a config file appears or goes.
pub fn clear() {
    if let Ok(mut cache) = CACHE.lock() {
        cache.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_are_read_once_and_cleared_on_demand() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let root = dir.path().to_path_buf();
        assert_eq!(of(&root), Marks::default());
        std::fs::write(root.join(".refit.toml"), "").expect("write");
        // Cached: the new file is not seen until the cache is cleared.
        assert_eq!(of(&root), Marks::default());
        clear();
        assert_eq!(
            of(&root),
            Marks {
                git: false,
                config: Some(".refit.toml")
            }
        );
        std::fs::write(root.join("refit.toml"), "").expect("write");
        std::fs::create_dir(root.join(".git")).expect("mkdir");
        clear();
        let m = of(&root);
        assert!(m.git && m.any());
        assert_eq!(m.config, Some("refit.toml"), "refit.toml comes first");
    }
}
