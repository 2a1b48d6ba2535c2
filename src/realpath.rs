//! Absolute and canonical paths, with the work the operating system does
//! for them done once per folder: a run over thousands of files in the same
//! folders asks for the working directory once and resolves each folder's
//! links once, instead of once per file and per caller.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex, OnceLock};

/// The working directory when first asked (refit never changes it).
fn cwd() -> Option<&'static PathBuf> {
    static CWD: OnceLock<Option<PathBuf>> = OnceLock::new();
    CWD.get_or_init(|| std::env::current_dir().ok()).as_ref()
}

/// `std::path::absolute`, without asking the system for the working
/// directory each time.
pub fn absolute(path: &Path) -> PathBuf {
    let joined = match cwd() {
        Some(cwd) if path.is_relative() => cwd.join(path),
        _ => path.to_path_buf(),
    };
    std::path::absolute(&joined).unwrap_or(joined)
}

/// Canonical folders, resolved once each.
static FOLDERS: LazyLock<Mutex<HashMap<PathBuf, PathBuf>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));
/// Past this many folders the cache stops growing (it is only a cache).
const MAX_FOLDERS: usize = 100_000;

/// `std::fs::canonicalize`: the folder's canonical path (cached) joined with
/// the file name, unless the file itself is a link, which is resolved in
/// full. Fails as `canonicalize` does when the path does not exist.
///
/// A folder asked for is kept with the others, so asking for a folder and
/// then for a file in it costs one `lstat` each, not two for the file.
pub fn canonical(path: &Path) -> std::io::Result<PathBuf> {
    let absolute = absolute(path);
    if let Some(f) = FOLDERS.lock().ok().and_then(|c| c.get(&absolute).cloned()) {
        return Ok(f);
    }
    let (is_link, is_dir) = link_or_dir(&absolute)?;
    let (Some(parent), Some(name)) = (absolute.parent(), absolute.file_name()) else {
        return std::fs::canonicalize(&absolute);
    };
    if is_link || name == ".." || name == "." {
        return std::fs::canonicalize(&absolute);
    }
    let resolved = canonical_folder(parent, 0)?.join(name);
    if is_dir
        && let Ok(mut cache) = FOLDERS.lock()
        && cache.len() < MAX_FOLDERS
    {
        cache.insert(absolute, resolved.clone());
    }
    Ok(resolved)
}

/// Whether `path` is a link, and a folder (not following a link): the
/// `lstat` of it, or its folder's listing in a one-shot run
/// (`crate::listing`); a missing path fails as `lstat` does.
fn link_or_dir(path: &Path) -> std::io::Result<(bool, bool)> {
    use crate::listing::Kind;
    match crate::listing::entry(path) {
        Some(None) => {
            #[cfg(unix)]
            return Err(std::io::Error::from_raw_os_error(libc::ENOENT));
            #[cfg(not(unix))]
            return Err(std::io::Error::from(std::io::ErrorKind::NotFound));
        }
        Some(Some(Kind::Link)) | None => {
            let meta = std::fs::symlink_metadata(path)?;
            Ok((meta.file_type().is_symlink(), meta.is_dir()))
        }
        Some(Some(kind)) => Ok((false, kind == Kind::Dir)),
    }
}

/// [`canonical`] of a file known not to be a link (it was just opened
/// with `O_NOFOLLOW`): its folder's canonical path (cached) joined with
/// its name, without an `lstat` of the file.
pub fn canonical_not_link(path: &Path) -> std::io::Result<PathBuf> {
    let absolute = absolute(path);
    match (absolute.parent(), absolute.file_name()) {
        (Some(parent), Some(name)) if name != ".." && name != "." => {
            Ok(canonical_folder(parent, 0)?.join(name))
        }
        _ => canonical(&absolute),
    }
}

/// A folder's canonical path: its parent's (cached) joined with its name
/// when it is not a link, so each folder costs one `lstat` once, not a
/// `readlink` per component per folder.
fn canonical_folder(dir: &Path, depth: usize) -> std::io::Result<PathBuf> {
    if let Some(f) = FOLDERS.lock().ok().and_then(|c| c.get(dir).cloned()) {
        return Ok(f);
    }
    let resolved = match (dir.parent(), dir.file_name()) {
        (Some(parent), Some(name)) if depth < 256 && name != ".." && name != "." => {
            if link_or_dir(dir)?.0 {
                std::fs::canonicalize(dir)?
            } else {
                canonical_folder(parent, depth + 1)?.join(name)
            }
        }
        _ => std::fs::canonicalize(dir)?,
    };
    if let Ok(mut cache) = FOLDERS.lock()
        && cache.len() < MAX_FOLDERS
    {
        cache.insert(dir.to_path_buf(), resolved.clone());
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_the_system() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let real = dir.path().join("real");
        std::fs::create_dir(&real).expect("mkdir");
        std::fs::write(real.join("Dockerfile"), "FROM x\n").expect("write");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&real, dir.path().join("link")).expect("link");
            std::os::unix::fs::symlink(real.join("Dockerfile"), dir.path().join("file-link"))
                .expect("link");
        }
        for p in [
            real.join("Dockerfile"),
            real.clone(),
            dir.path().join("link").join("Dockerfile"),
            dir.path().join("file-link"),
            real.join("..").join("real").join("Dockerfile"),
        ] {
            if p.exists() {
                assert_eq!(
                    canonical(&p).expect("canonical"),
                    std::fs::canonicalize(&p).expect("canonicalize"),
                    "{}",
                    p.display()
                );
            }
        }
        assert!(canonical(&real.join("missing")).is_err());
    }
}
