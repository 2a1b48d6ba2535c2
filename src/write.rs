//! Writing fixed files without losing anything: not the user's concurrent
//! edit, not the owner, group or mode, not a hard link or a symlink, and
//! never a torn file after a crash.
//!
//! A file with one link is written to a temporary file beside it (same
//! mode, owner and group), synced, re-checked against what was read, and
//! renamed over the original. A file with more than one link (or whose
//! owner cannot be kept) is written in place, after a synced backup copy
//! beside it (`.<name>.refit-backup-*`, removed once the write is synced; a
//! crash leaves it for recovery).

use std::fs::{File, Metadata, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

pub use crate::stamp::Stamp;

/// Why a fixed file was not written.
#[derive(Debug)]
pub enum WriteError {
    /// The file changed between reading and writing (E006); the user's
    /// version is kept.
    Changed(&'static str),
    /// The file's mode has no write permission (E001); refused even when
    /// running as root, as ruff does.
    ReadOnly,
    /// Anything else the file system said (E001).
    Io(std::io::Error),
}

impl WriteError {
    /// The per-file error code this is reported as.
    pub fn code(&self) -> &'static str {
        match self {
            WriteError::Changed(_) => "E006",
            WriteError::ReadOnly | WriteError::Io(_) => "E001",
        }
    }
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::Changed(what) => write!(
                f,
                "File changed while it was being fixed ({what}); left as it is now"
            ),
            WriteError::ReadOnly => {
                f.write_str("File is read-only (no write permission); not fixed")
            }
            WriteError::Io(e) => write!(f, "Cannot write the fixed file: {e}"),
        }
    }
}

impl From<std::io::Error> for WriteError {
    fn from(e: std::io::Error) -> WriteError {
        WriteError::Io(e)
    }
}

/// Write `content` over `path`, which was read as `original` (with
/// `stamp`). A symlink is followed: the target is written, the link stays.
pub fn write_fixed(
    path: &Path,
    original: &str,
    stamp: Option<Stamp>,
    content: &str,
) -> Result<(), WriteError> {
    let prepared = prepare(path, original, stamp, content)?;
    commit(prepared, original, stamp, content, false)
}

/// A write half done: checked, and (for a replacement) the new content in
/// a temporary file beside the target, not yet synced.
pub enum Prepared {
    Replace {
        target: PathBuf,
        tmp: tempfile::NamedTempFile,
    },
    InPlace {
        target: PathBuf,
    },
}

/// Check the target and write the temporary file (see the module doc).
pub fn prepare(
    path: &Path,
    original: &str,
    stamp: Option<Stamp>,
    content: &str,
) -> Result<Prepared, WriteError> {
    let target = std::fs::canonicalize(path)?;
    let metadata = std::fs::metadata(&target)?;
    if !metadata.is_file() {
        return Err(WriteError::Io(std::io::Error::other("not a regular file")));
    }
    if metadata.permissions().readonly() {
        return Err(WriteError::ReadOnly);
    }
    unchanged(&target, original, stamp)?;
    if links(&metadata) > 1 {
        return Ok(Prepared::InPlace { target });
    }
    let dir = parent(&target);
    let mut tmp = tempfile::Builder::new()
        .prefix(".refit-")
        .tempfile_in(&dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let mine = tmp.as_file().metadata()?;
        if (mine.uid(), mine.gid()) != (metadata.uid(), metadata.gid())
            && std::os::unix::fs::fchown(tmp.as_file(), Some(metadata.uid()), Some(metadata.gid()))
                .is_err()
        {
            // The owner cannot be kept by a new file: write in place.
            return Ok(Prepared::InPlace { target });
        }
    }
    tmp.write_all(content.as_bytes())?;
    // After chown, which may clear set-id bits.
    std::fs::set_permissions(tmp.path(), metadata.permissions())?;
    Ok(Prepared::Replace { target, tmp })
}

/// Finish a prepared write: sync the temporary file (unless `synced`),
/// check the target once more, and rename; or write in place.
pub fn commit(
    prepared: Prepared,
    original: &str,
    stamp: Option<Stamp>,
    content: &str,
    synced: bool,
) -> Result<(), WriteError> {
    match prepared {
        Prepared::InPlace { target } => write_in_place(&target, original, stamp, content),
        Prepared::Replace { target, tmp } => {
            if !synced {
                tmp.as_file().sync_data()?;
            }
            unchanged(&target, original, stamp)?;
            tmp.persist(&target).map_err(|e| e.error)?;
            // The folder is not synced: the new content is durable before
            // the rename, so a crash (even a power loss) leaves the old
            // file or the new one, never a torn one; syncing every folder
            // too doubled the cost of `--fix`.
            Ok(())
        }
    }
}

#[cfg(unix)]
fn links(metadata: &Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::nlink(metadata)
}

#[cfg(not(unix))]
fn links(_: &Metadata) -> u64 {
    1
}

/// The file is still what was read: same size and modification time, same
/// bytes.
fn unchanged(target: &Path, original: &str, stamp: Option<Stamp>) -> Result<(), WriteError> {
    let metadata = std::fs::metadata(target)?;
    if let Some(stamp) = stamp {
        if metadata.len() != stamp.len {
            return Err(WriteError::Changed("its size changed"));
        }
        if stamp.modified.is_some() && metadata.modified().ok() != stamp.modified {
            return Err(WriteError::Changed("its modification time changed"));
        }
    }
    if metadata.len() != original.len() as u64 || std::fs::read(target)? != original.as_bytes() {
        return Err(WriteError::Changed("its content changed"));
    }
    Ok(())
}

/// Sync a folder, so a rename or a new file in it survives a crash.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

fn parent(target: &Path) -> PathBuf {
    target
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Keep the inode (hard links, or an owner a new file cannot have): a
/// synced backup copy first, then truncate and write, then drop the backup.
/// A failed write puts the original back.
fn write_in_place(
    target: &Path,
    original: &str,
    stamp: Option<Stamp>,
    content: &str,
) -> Result<(), WriteError> {
    let dir = parent(target);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut backup = tempfile::Builder::new()
        .prefix(&format!(".{name}.refit-backup-"))
        .tempfile_in(&dir)?;
    backup.write_all(original.as_bytes())?;
    backup.as_file().sync_all()?;
    sync_dir(&dir);
    unchanged(target, original, stamp)?;
    let mut file = OpenOptions::new().write(true).open(target)?;
    let written = (|| {
        file.set_len(0)?;
        file.write_all(content.as_bytes())?;
        file.sync_all()
    })();
    if let Err(e) = written {
        let restored = (|| {
            file.set_len(0)?;
            std::io::Seek::rewind(&mut file)?;
            file.write_all(original.as_bytes())?;
            file.sync_all()
        })();
        if restored.is_err() {
            // Keep the backup: it is the only good copy.
            let _ = backup.keep();
        }
        return Err(WriteError::Io(e));
    }
    drop(backup);
    sync_dir(&dir);
    Ok(())
}
