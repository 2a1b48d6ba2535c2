//! `refit check --watch`: wait for a change under the checked paths, so the
//! CLI can check again (ruff's `check --watch`). The library never prints:
//! this module only waits and says what changed.

use notify::{EventKind, EventKindMask, RecursiveMode, Watcher as _};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

/// Folders whose changes never start a run: git's own, and refit's
/// workspace cache, which every run writes (a run would start the next).
const IGNORED: &[&str] = &[".git", crate::workspace::cache::DIR];

/// How long the tree must stay quiet before a run starts: an editor's save
/// (write a temporary file, rename it over the old one) is one change.
const QUIET: Duration = Duration::from_millis(200);

/// However busy the tree, a run starts this long after the first change.
const MOST: Duration = Duration::from_secs(2);

/// A watch over the checked paths.
pub struct Watch {
    // Kept alive: dropping it stops the events.
    _watcher: notify::RecommendedWatcher,
    events: Receiver<notify::Result<notify::Event>>,
    /// Files named on the command line: only their own changes count (their
    /// folder is watched, so an editor replacing the file is seen).
    files: Vec<PathBuf>,
    /// Folders named on the command line, watched with all they hold.
    folders: Vec<PathBuf>,
    /// Where refit's own output goes (`-o`, a redirected stdout or
    /// stderr): writing the report is no change to check again for.
    own: Vec<PathBuf>,
}

impl Watch {
    /// Watch each path: a folder with everything under it, a file through
    /// its folder. A path that does not exist is an error naming it.
    /// Changes to `output` (the report's file) never count.
    pub fn new(paths: &[PathBuf], output: Option<&Path>) -> Result<Watch, String> {
        let (tx, events) = channel();
        // Opening and reading a file is no change, and refit reads every
        // file it checks.
        let config = notify::Config::default().with_event_kinds(EventKindMask::CORE);
        let mut watcher = notify::RecommendedWatcher::new(tx, config)
            .map_err(|e| format!("cannot watch for changes: {e}"))?;
        let mut files = Vec::new();
        let mut folders = Vec::new();
        for path in paths {
            let real = crate::realpath::canonical(path)
                .map_err(|e| format!("cannot watch {}: {e}", path.display()))?;
            let (target, mode) = if real.is_dir() {
                folders.push(real.clone());
                (real, RecursiveMode::Recursive)
            } else {
                let folder = real
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| real.clone());
                files.push(real);
                (folder, RecursiveMode::NonRecursive)
            };
            watcher
                .watch(&target, mode)
                .map_err(|e| format!("cannot watch {}: {e}", path.display()))?;
        }
        let mut own: Vec<PathBuf> = redirected_output();
        // Events name paths under the canonical folders watched.
        own.extend(output.map(|o| {
            let o = crate::realpath::absolute(o);
            match (o.parent(), o.file_name()) {
                (Some(dir), Some(name)) => crate::realpath::canonical(dir)
                    .map(|d| d.join(name))
                    .unwrap_or(o.clone()),
                _ => o.clone(),
            }
        }));
        Ok(Watch {
            _watcher: watcher,
            events,
            files,
            folders,
            own,
        })
    }

    /// Block until a change that counts, then until the tree is quiet (at
    /// most `MOST` after the first): the changed paths, sorted. An error
    /// when the watch itself fails. `checked` says which other files the
    /// run checks (a `[kinds]` mapping makes `*.txt` a Dockerfile).
    pub fn wait(&self, checked: &dyn Fn(&Path) -> bool) -> Result<Vec<PathBuf>, String> {
        let mut changed = loop {
            let event = self
                .events
                .recv()
                .map_err(|_| "the file watcher stopped".to_string())?;
            let paths = self.counted(event, checked)?;
            if !paths.is_empty() {
                break paths;
            }
        };
        let first = Instant::now();
        while first.elapsed() < MOST {
            match self.events.recv_timeout(QUIET) {
                Ok(event) => changed.extend(self.counted(event, checked)?),
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => {
                    return Err("the file watcher stopped".to_string());
                }
            }
        }
        changed.sort();
        changed.dedup();
        Ok(changed)
    }

    /// The paths of an event that count as a change.
    fn counted(
        &self,
        event: notify::Result<notify::Event>,
        checked: &dyn Fn(&Path) -> bool,
    ) -> Result<Vec<PathBuf>, String> {
        let event = event.map_err(|e| format!("watching for changes: {e}"))?;
        let mutates = match event.kind {
            EventKind::Access(_) => false,
            // Times and permissions: reading a file may touch its atime.
            EventKind::Modify(notify::event::ModifyKind::Metadata(_)) => false,
            _ => true,
        };
        if !mutates {
            return Ok(Vec::new());
        }
        // A folder made or removed may hold, or have held, checked files.
        let folder = matches!(
            event.kind,
            EventKind::Create(notify::event::CreateKind::Folder)
                | EventKind::Remove(notify::event::RemoveKind::Folder)
        );
        Ok(event
            .paths
            .into_iter()
            .filter(|p| self.counts(p) && (folder || read_by_refit(p) || checked(p)))
            .collect())
    }

    /// Whether a change to `path` is one to check again for.
    fn counts(&self, path: &Path) -> bool {
        if path
            .components()
            .any(|c| IGNORED.iter().any(|i| c.as_os_str() == *i))
        {
            return false;
        }
        if self.own.iter().any(|o| o == path) {
            return false;
        }
        self.files.iter().any(|f| f == path) || self.folders.iter().any(|d| path.starts_with(d))
    }
}

/// Whether refit reads a file of this name under a checked folder: a file
/// it checks, a configuration, or a file the workspace takes facts from
/// (Compose, bake, scripts, Makefiles). As ruff's watch looks only at
/// Python files and its configs, so a log written beside the files does
/// not start a run after each run. refit's own temporary files (`--fix`,
/// `-o`) never count.
fn read_by_refit(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    if name.starts_with(crate::write::TEMP_PREFIX) {
        return false;
    }
    crate::discover::classify(path).is_some()
        || crate::kind::CONFIG_FILE_NAMES.contains(&name.as_ref())
        || [".env", ".gitignore", ".ignore"].contains(&name.as_ref())
        || crate::workspace::is_context_file(path)
}

/// Where stdout and stderr go when they are redirected to files (Linux):
/// `refit check --watch . > log.yaml` must not check again for its own
/// log.
fn redirected_output() -> Vec<PathBuf> {
    if !cfg!(target_os = "linux") {
        return Vec::new();
    }
    ["/proc/self/fd/1", "/proc/self/fd/2"]
        .iter()
        .filter_map(|fd| std::fs::read_link(fd).ok())
        .filter(|p| p.is_file())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_is_seen_and_the_cache_and_git_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let root = crate::realpath::canonical(dir.path()).unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::create_dir_all(root.join(crate::workspace::cache::DIR)).unwrap();
        let watch = Watch::new(std::slice::from_ref(&root), None).unwrap();
        std::fs::write(root.join("notes.txt"), "x").unwrap();
        std::fs::write(root.join(".git/index"), "x").unwrap();
        std::fs::write(root.join(crate::workspace::cache::DIR).join("i"), "x").unwrap();
        let _ = std::fs::read_to_string(root.join(".git/index"));
        std::fs::write(root.join("Dockerfile"), "FROM a\n").unwrap();
        let changed = watch.wait(&|_| false).unwrap();
        assert_eq!(changed, [root.join("Dockerfile")]);
    }

    #[test]
    fn a_missing_path_is_named() {
        let err = match Watch::new(&[PathBuf::from("/nonexistent/refit-watch")], None) {
            Err(e) => e,
            Ok(_) => panic!("watching a missing path"),
        };
        assert!(
            err.starts_with("cannot watch /nonexistent/refit-watch: "),
            "{err}"
        );
    }
}
