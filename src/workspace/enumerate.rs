//! Finding a root's fact files and reading each once: from git's index
//! where the root is a git work tree (`git ls-files`, which also honours
//! `.gitignore`), else one walk. With the disk cache, a run lists again
//! only the folders whose modification time changed (a file was added,
//! removed or renamed in them) and reads again only the fact files whose
//! size, time or inode changed: a warm run over an unchanged repository
//! lists no folder and reads no fact file.

use super::cache::{Cache, RootDir, Stamp, dir_mtime};
use super::{Extracted, MAX_TOTAL_BYTES, SKIP, extract, is_fact_file_in};
use rayon::prelude::*;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// What indexing a root found.
pub(super) struct Indexed {
    pub files: Vec<(PathBuf, Arc<Extracted>)>,
    pub cut: Option<String>,
}

/// The files an enumeration found, and the folders it covered.
#[derive(Default)]
struct Enumerated {
    files: Vec<PathBuf>,
    dirs: BTreeSet<PathBuf>,
}

/// More changed folders than this enumerate the whole root again.
const MAX_CHANGED_DIRS: usize = 512;

/// A fact file a run found: answered by its cache entry (an index into
/// the cache's files), or read.
enum Found {
    Hit(usize),
    Read(PathBuf, Stamp, Arc<Extracted>),
}

/// What a run must look at: cache entries whose folders did not change
/// (a `stat` each), and files listed again (read unless the cache knows
/// them unchanged).
struct Plan {
    entries: Vec<usize>,
    paths: Vec<PathBuf>,
    /// The folders covered, with their times; `None`: the cache's.
    dirs: Option<Vec<(PathBuf, i128)>>,
    ignores: Vec<(PathBuf, Stamp)>,
    /// Whether any folder was listed.
    listed: bool,
}

/// Index the fact files under `root` (canonical), except those in `known`
/// (already indexed in this run).
pub(super) fn index_root(root: &Path, disk_cache: bool, known: &BTreeSet<PathBuf>) -> Indexed {
    let git = crate::marks::of(root).git;
    // The disk cache serves roots a user marked as a project (`.git`,
    // `refit.toml`): a folder refit guessed as a root gets none (the
    // caller says which).
    let cache = disk_cache.then(|| Cache::load(root));
    let root_dir = cache.as_ref().and_then(|_| RootDir::open(root));
    let plan = match (&cache, &root_dir) {
        (Some(c), Some(rd)) if !c.dirs.is_empty() && ignores_unchanged(&c.ignores) => {
            revalidate(root, git, c, rd)
        }
        // The folders' times and the `.gitignore` stamps are only for the
        // disk cache: a run without it stats nothing more than it reads.
        (Some(_), _) => {
            let found = enumerate(root, git, None, true);
            Plan {
                ignores: ignore_files(&found.files),
                dirs: Some(stamp_dirs(&found.dirs)),
                entries: Vec::new(),
                paths: found.files,
                listed: true,
            }
        }
        (None, _) => Plan {
            entries: Vec::new(),
            paths: enumerate(root, git, None, false).files,
            dirs: None,
            ignores: Vec::new(),
            listed: true,
        },
    };
    let empty = Cache::default();
    let cache_or_empty = cache.as_ref().unwrap_or(&empty);
    let total = AtomicU64::new(0);
    let read_any = AtomicBool::new(false);
    let read_again = |path: PathBuf| -> Option<Found> {
        read_any.store(true, Ordering::Relaxed);
        let (text, stamp) = read_fact(root, &path, &total)?;
        let facts = Arc::new(extract(root, &path, &text));
        Some(Found::Read(path, stamp, facts))
    };
    // Cached entries in unchanged folders: one `stat` each, relative to
    // the root's descriptor, no path built unless the file changed.
    let mut found: Vec<Found> = match &root_dir {
        Some(rd) => plan
            .entries
            .par_iter()
            .filter_map(|&i| {
                let c = cache_or_empty;
                let entry = &c.files[i];
                if !known.is_empty() && known.contains(&root.join(c.file_rel(entry))) {
                    return None;
                }
                let now = rd.stat(c.file_rel_c(entry), true)?;
                if !now.is_file {
                    return None;
                }
                if now.stamp == entry.stamp {
                    return Some(Found::Hit(i));
                }
                read_again(root.join(c.file_rel(entry)))
            })
            .collect(),
        None => Vec::new(),
    };
    let dropped = found.len() != plan.entries.len();
    // Files listed again: the cache answers for those it knows unchanged.
    let by_path: HashMap<&Path, usize> = if plan.paths.is_empty() {
        HashMap::new()
    } else {
        let c = cache_or_empty;
        (0..c.files.len())
            .map(|i| (c.file_rel(&c.files[i]), i))
            .collect()
    };
    let fresh: Vec<Found> = plan
        .paths
        .into_par_iter()
        .filter(|p| is_fact_file_in(root, p) && !known.contains(p))
        .filter_map(|path| {
            let c = cache_or_empty;
            if let Some(&i) = path.strip_prefix(root).ok().and_then(|r| by_path.get(r)) {
                let meta = std::fs::metadata(&path).ok()?;
                if !meta.is_file() {
                    return None;
                }
                if Stamp::of(&meta) == c.files[i].stamp {
                    return Some(Found::Hit(i));
                }
            }
            read_again(path)
        })
        .collect();
    found.extend(fresh);
    let cut = (total.load(Ordering::Relaxed) > MAX_TOTAL_BYTES).then(|| {
        format!(
            "more than {} GiB of build, CI and manifest files",
            MAX_TOTAL_BYTES / (1024 * 1024 * 1024)
        )
    });
    if let Some(c) = &cache
        && (read_any.load(Ordering::Relaxed) || dropped || plan.listed)
    {
        let dirs: Vec<(PathBuf, i128)> = match plan.dirs {
            Some(d) => d,
            None => c
                .dirs
                .iter()
                .map(|d| (c.dir_rel(d).to_path_buf(), d.mtime))
                .collect(),
        };
        Cache::store(
            root,
            &dirs,
            &plan.ignores,
            found.iter().map(|f| match f {
                Found::Hit(i) => {
                    let entry = &c.files[*i];
                    (c.file_rel(entry), Some(entry.stamp), c.facts(entry))
                }
                Found::Read(p, s, e) => (p.as_path(), Some(*s), Some(e)),
            }),
        );
    }
    let files = found
        .into_iter()
        .filter_map(|f| match f {
            Found::Hit(i) => {
                let c = cache_or_empty;
                let entry = &c.files[i];
                c.facts(entry)
                    .map(|e| (root.join(c.file_rel(entry)), e.clone()))
            }
            Found::Read(p, _, e) => Some((p, e)),
        })
        .collect();
    Indexed { files, cut }
}

/// Read a fact file the enumeration found under `root` (canonical), with
/// its stamp, counting its size into `total` (none is read past
/// [`MAX_TOTAL_BYTES`]). The enumeration never goes through a link to a
/// folder (a walk does not follow one, git does not track past one), so
/// a path whose last part is not a link is inside the root: it is opened
/// with `O_NOFOLLOW` and judged by its descriptor, without the `lstat`
/// of a canonicalization first. A link is resolved and confined as every
/// other read around a file is ([`read`]).
fn read_fact(root: &Path, path: &Path, total: &AtomicU64) -> Option<(String, Stamp)> {
    let file = match open_no_follow(path) {
        Ok(file) => file,
        Err(e) if is_link_error(&e) => {
            let real = crate::bounded::inside(root, path).ok()?;
            open_no_follow(&real).ok()?
        }
        Err(_) => return None,
    };
    let meta = file.metadata().ok()?;
    if !meta.is_file() {
        return None;
    }
    if total.fetch_add(meta.len(), Ordering::Relaxed) > MAX_TOTAL_BYTES {
        return None;
    }
    let text = crate::bounded::read_open(file, &meta, crate::bounded::MAX_FILE_BYTES).ok()?;
    Some((text, Stamp::of(&meta)))
}

/// Open for reading, not through a link in the last part of the path, and
/// without blocking on a FIFO.
#[cfg(unix)]
fn open_no_follow(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_no_follow(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

/// What opening a link with `O_NOFOLLOW` answers (`ELOOP`).
#[cfg(unix)]
fn is_link_error(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(libc::ELOOP)
}

#[cfg(not(unix))]
fn is_link_error(_: &std::io::Error) -> bool {
    false
}

/// What a run must look at, from the cache of a root: the folders whose
/// modification time changed are listed again (a file was added, removed
/// or renamed in them), the cached files in the others are stamped.
fn revalidate(root: &Path, git: bool, cache: &Cache, rd: &RootDir) -> Plan {
    let changed: Vec<&Path> = cache
        .dirs
        .par_iter()
        .filter(|d| {
            rd.stat(cache.dir_rel_c(d), false)
                .is_none_or(|now| !now.is_dir || now.stamp.mtime() != d.mtime)
        })
        .map(|d| cache.dir_rel(d))
        .collect();
    if changed.is_empty() {
        return Plan {
            entries: (0..cache.files.len()).collect(),
            paths: Vec::new(),
            dirs: None,
            ignores: cache.ignores.clone(),
            listed: false,
        };
    }
    // Only the topmost changed folders: each is listed with what is below.
    let mut tops: Vec<&Path> = Vec::new();
    let mut sorted = changed;
    sorted.sort();
    for d in sorted {
        if !tops.last().is_some_and(|t| d.starts_with(t)) {
            tops.push(d);
        }
    }
    let with_new_ignores = |files: &[PathBuf]| {
        let mut ignores = cache.ignores.clone();
        for (p, s) in ignore_files(files) {
            if !ignores.iter().any(|(q, _)| *q == p) {
                ignores.push((p, s));
            }
        }
        ignores
    };
    if tops.len() > MAX_CHANGED_DIRS || tops.iter().any(|t| t.as_os_str().is_empty()) {
        let found = enumerate(root, git, None, true);
        return Plan {
            entries: Vec::new(),
            ignores: with_new_ignores(&found.files),
            dirs: Some(stamp_dirs(&found.dirs)),
            paths: found.files,
            listed: true,
        };
    }
    let under = |p: &Path| tops.iter().any(|t| p.starts_with(t));
    let absolute: Vec<PathBuf> = tops.iter().map(|t| root.join(t)).collect();
    let only: Vec<&PathBuf> = absolute.iter().collect();
    let fresh = enumerate(root, git, Some(&only), true);
    let entries = (0..cache.files.len())
        .filter(|&i| !under(cache.file_rel(&cache.files[i])))
        .collect();
    let mut dirs: Vec<(PathBuf, i128)> = cache
        .dirs
        .iter()
        .filter(|d| !under(cache.dir_rel(d)))
        .map(|d| (root.join(cache.dir_rel(d)), d.mtime))
        .collect();
    dirs.extend(stamp_dirs(&fresh.dirs));
    Plan {
        entries,
        ignores: with_new_ignores(&fresh.files),
        paths: fresh.files,
        dirs: Some(dirs),
        listed: true,
    }
}

fn stamp_dirs(dirs: &BTreeSet<PathBuf>) -> Vec<(PathBuf, i128)> {
    dirs.par_iter()
        .filter_map(|d| dir_mtime(d).map(|m| (d.clone(), m)))
        .collect()
}

fn ignore_files(files: &[PathBuf]) -> Vec<(PathBuf, Stamp)> {
    files
        .iter()
        .filter(|p| p.file_name().is_some_and(|n| n == ".gitignore"))
        .filter_map(|p| {
            std::fs::metadata(p)
                .ok()
                .map(|m| (p.clone(), Stamp::of(&m)))
        })
        .collect()
}

fn ignores_unchanged(ignores: &[(PathBuf, Stamp)]) -> bool {
    ignores
        .iter()
        .all(|(p, stamp)| std::fs::metadata(p).is_ok_and(|m| Stamp::of(&m) == *stamp))
}

/// Every file under `root` (or under `only`, folders of it), and (with
/// `want_dirs`, for the disk cache) the folders that hold them: from git
/// where it answers, else a walk.
fn enumerate(root: &Path, git: bool, only: Option<&[&PathBuf]>, want_dirs: bool) -> Enumerated {
    let mut dirs = BTreeSet::new();
    let listed = git.then(|| git_files(root, only)).flatten();
    let from_git = listed.is_some();
    let files = listed.unwrap_or_else(|| match only {
        None => walk(root, &mut dirs, want_dirs),
        Some(tops) => tops
            .iter()
            .flat_map(|d| walk(d, &mut dirs, want_dirs))
            .collect(),
    });
    if !want_dirs {
        return Enumerated {
            files,
            dirs: BTreeSet::new(),
        };
    }
    match only {
        None => {
            dirs.insert(root.to_path_buf());
        }
        Some(tops) => dirs.extend(tops.iter().map(|t| t.to_path_buf())),
    }
    if from_git {
        // A folder git lists no file in (empty, or holding only ignored
        // files) is watched too: a fact file added there changes only
        // that folder's time. Folders `.gitignore` leaves out are not.
        match only {
            None => dirs.extend(unignored_folders(root)),
            Some(tops) => {
                for top in tops {
                    dirs.extend(unignored_folders(top));
                }
            }
        }
    }
    // Every folder between a file and the root: a new file can appear in
    // any of them.
    let mut seen: HashMap<&Path, ()> = HashMap::new();
    for f in &files {
        let mut at = f.parent();
        while let Some(dir) = at {
            if !dir.starts_with(root) || seen.insert(dir, ()).is_some() {
                break;
            }
            dirs.insert(dir.to_path_buf());
            at = dir.parent();
        }
    }
    Enumerated { files, dirs }
}

/// Every folder under `top` (itself included) that `.gitignore` rules
/// (read as the `ignore` crate reads them) do not leave out, links not
/// followed, `SKIP` folders left out.
fn unignored_folders(top: &Path) -> Vec<PathBuf> {
    ignore::WalkBuilder::new(top)
        .hidden(false)
        // git's rules only: not the `ignore` crate's own `.ignore` files.
        .ignore(false)
        .require_git(false)
        .filter_entry(|e| !SKIP.iter().any(|s| e.file_name() == *s))
        .build()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_some_and(|t| t.is_dir()))
        .map(ignore::DirEntry::into_path)
        .collect()
}

/// The files of a git work tree (or of some of its folders), tracked and
/// untracked but not ignored, from git's index. `None` when git cannot
/// answer (not installed, not a repository it trusts).
fn git_files(root: &Path, only: Option<&[&PathBuf]>) -> Option<Vec<PathBuf>> {
    let mut command = std::process::Command::new("git");
    command
        .arg("-C")
        .arg(root)
        // A repository's configuration must not run programs.
        .args(["-c", "core.fsmonitor=false"])
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .env("GIT_LITERAL_PATHSPECS", "1");
    if let Some(dirs) = only {
        command.arg("--");
        for d in dirs {
            command.arg(d.strip_prefix(root).unwrap_or(d));
        }
    }
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
/// left out; each folder listed once, and added to `dirs`.
fn walk(root: &Path, dirs: &mut BTreeSet<PathBuf>, want_dirs: bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        if want_dirs {
            dirs.insert(dir.clone());
        }
        // The folder's listing, if this run has read it already (its
        // marks, a probe of a name in it), is not read again.
        if let Some(listing) = crate::listing::of(&dir) {
            for (name, kind) in listing.entries() {
                match kind {
                    crate::listing::Kind::Dir => {
                        if !SKIP.iter().any(|s| name == *s) {
                            stack.push(dir.join(name));
                        }
                    }
                    crate::listing::Kind::File => out.push(dir.join(name)),
                    crate::listing::Kind::Link | crate::listing::Kind::Other => {}
                }
            }
            continue;
        }
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
    // No order: the index the files go to is ordered by path.
    out
}
