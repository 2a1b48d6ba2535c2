//! Writing fixed files without losing anything: not the user's concurrent
//! edit, not the owner, group or mode, not a hard link or a symlink, and
//! never a torn file after a crash.
//!
//! Every file refit writes (a fixed file, `refit.lock`, a baseline, an
//! output file) must resolve, after links, inside the root of the
//! repository it belongs to ([`root_of`], [`confine`]); a link that leads
//! outside is refused, never followed.
//!
//! A file with one link is written to an anonymous temporary file in its
//! folder (`O_TMPFILE`: it has no name, so a `kill -9` leaves nothing
//! behind), given the original's mode, owner and group through its
//! descriptor, synced with `fdatasync`, re-checked against what was read,
//! then given a name (`linkat`) and renamed over the original. Where the
//! file system has no `O_TMPFILE` the temporary file is named
//! `.refit-<pid>-<random>` from the start, and a later run removes those
//! whose process is gone ([`sweep`]).
//!
//! Durability: the new content is on disk before the rename, so a crash,
//! even a power loss, leaves the old file or the new one, never a torn or
//! empty one. The folder is not synced after the rename (a power loss may
//! bring the old content back; it is never lost).
//!
//! A file with more than one link (or whose owner cannot be kept) is
//! written in place, after a synced backup copy beside it
//! (`.<name>.refit-backup-*`, removed once the write is synced; a crash
//! leaves it for recovery).

use std::collections::{HashMap, HashSet};
use std::fs::{File, Metadata, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};

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
    /// The file resolves (after links) outside the repository root (E001).
    Outside { target: PathBuf, root: PathBuf },
    /// A link whose target does not exist (E001): where it would lead
    /// cannot be checked.
    DanglingLink(PathBuf),
    /// Anything else the file system said (E001).
    Io(std::io::Error),
}

impl WriteError {
    /// The per-file error code this is reported as.
    pub fn code(&self) -> &'static str {
        match self {
            WriteError::Changed(_) => "E006",
            _ => "E001",
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
            WriteError::Outside { target, root } => write!(
                f,
                "Refusing to write {}: it resolves outside the repository root {}",
                target.display(),
                root.display()
            ),
            WriteError::DanglingLink(path) => write!(
                f,
                "Refusing to write through {}: it is a link to a file that does not exist",
                path.display()
            ),
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
/// `stamp`). A symlink is followed: the target is written, the link stays;
/// the target must be inside the root of `path`'s repository.
pub fn write_fixed(
    path: &Path,
    original: &str,
    stamp: Option<Stamp>,
    content: &str,
) -> Result<(), WriteError> {
    let prepared = prepare(path, original, stamp, content)?;
    commit(prepared, original, stamp, content, false)
}

/// Write a whole file refit owns (`refit.lock`, a baseline, a report):
/// created with the mode the umask gives a new file, or replacing an
/// existing one with its mode kept; never through a link that leads
/// outside `root`. Atomic: readers see the old file or the new one.
pub fn write_file(path: &Path, root: &Path, content: &[u8]) -> Result<(), WriteError> {
    let target = confine(path, root)?;
    let dir = parent(&target);
    let existing = std::fs::metadata(&target).ok();
    if existing.as_ref().is_some_and(|m| !m.is_file()) {
        return Err(WriteError::Io(std::io::Error::other("not a regular file")));
    }
    let mut tmp = Temp::new(&dir, existing.as_ref().map_or(0o666, mode_of))?;
    if let Some(m) = &existing {
        tmp.keep_owner_and_mode(m);
    }
    tmp.file.write_all(content)?;
    tmp.file.sync_data()?;
    tmp.persist(&target)?;
    if existing.is_none() {
        // A new name: make it durable too.
        sync_dir(&dir);
    }
    Ok(())
}

/// A whole file refit owns, written as it goes (a streamed report):
/// [`write_file`]'s guarantees, the content appearing at `path` only at
/// [`OutputFile::commit`]; dropped uncommitted, nothing is written.
pub struct OutputFile {
    tmp: Temp,
    target: PathBuf,
    existing: bool,
}

impl OutputFile {
    /// Start writing `path`, which must resolve inside its repository
    /// root ([`root_of`]).
    pub fn create(path: &Path) -> Result<OutputFile, WriteError> {
        let target = confine(path, &root_of(path))?;
        let existing = std::fs::metadata(&target).ok();
        if existing.as_ref().is_some_and(|m| !m.is_file()) {
            return Err(WriteError::Io(std::io::Error::other("not a regular file")));
        }
        let mut tmp = Temp::new(&parent(&target), existing.as_ref().map_or(0o666, mode_of))?;
        if let Some(m) = &existing {
            tmp.keep_owner_and_mode(m);
        }
        Ok(OutputFile {
            tmp,
            target,
            existing: existing.is_some(),
        })
    }

    /// Put the file in place.
    pub fn commit(self) -> Result<(), WriteError> {
        self.tmp.file.sync_data()?;
        let dir = parent(&self.target);
        self.tmp.persist(&self.target)?;
        if !self.existing {
            sync_dir(&dir);
        }
        Ok(())
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.tmp.file.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.tmp.file.flush()
    }
}

/// The root a path written by refit must stay inside: the nearest folder
/// at or above the path's folder (links in the folders resolved, not in
/// the file's name) that holds `.git`; else the nearest with a refit
/// config file; else the folder itself.
pub fn root_of(path: &Path) -> PathBuf {
    static ROOTS: LazyLock<Mutex<HashMap<PathBuf, PathBuf>>> =
        LazyLock::new(|| Mutex::new(HashMap::new()));
    let written = parent(&crate::realpath::absolute(path));
    if let Some(root) = ROOTS.lock().ok().and_then(|c| c.get(&written).cloned()) {
        return root;
    }
    let folder = crate::realpath::canonical(&written).unwrap_or_else(|_| written.clone());
    let (git, config) = marks(&folder, 0);
    let root = git.or(config).unwrap_or(folder);
    if let Ok(mut cache) = ROOTS.lock()
        && cache.len() < 100_000
    {
        cache.insert(written, root.clone());
    }
    root
}

/// The nearest folder at or above `dir` with `.git`, and the nearest with
/// a refit config file. Each folder is looked at once per process: its
/// answer is its parent's unless it is marked itself.
fn marks(dir: &Path, depth: usize) -> (Option<PathBuf>, Option<PathBuf>) {
    type Marks = (Option<PathBuf>, Option<PathBuf>);
    static MARKS: LazyLock<Mutex<HashMap<PathBuf, Marks>>> =
        LazyLock::new(|| Mutex::new(HashMap::new()));
    if let Some(known) = MARKS.lock().ok().and_then(|c| c.get(dir).cloned()) {
        return known;
    }
    let (mut git, mut config) = match dir.parent() {
        Some(up) if depth < 64 => marks(up, depth + 1),
        _ => (None, None),
    };
    let marked = crate::marks::of(dir);
    if marked.git {
        git = Some(dir.to_path_buf());
    }
    if marked.config.is_some() {
        config = Some(dir.to_path_buf());
    }
    let answer = (git, config);
    if let Ok(mut cache) = MARKS.lock()
        && cache.len() < 100_000
    {
        cache.insert(dir.to_path_buf(), answer.clone());
    }
    answer
}

/// Where a write to `path` lands, after links: refused unless inside
/// `root` (itself resolved). A path that does not exist yet lands in its
/// folder; a link to nothing is refused.
pub fn confine(path: &Path, root: &Path) -> Result<PathBuf, WriteError> {
    let absolute = crate::realpath::absolute(path);
    let target = match crate::realpath::canonical(&absolute) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // A link to nothing. (A path that is there and no link was
            // made after its folder's listing: it lands where it is.)
            if std::fs::symlink_metadata(&absolute).is_ok_and(|m| m.file_type().is_symlink()) {
                return Err(WriteError::DanglingLink(absolute));
            }
            let (Some(folder), Some(name)) = (absolute.parent(), absolute.file_name()) else {
                return Err(WriteError::Io(e));
            };
            crate::realpath::canonical(folder)?.join(name)
        }
        Err(e) => return Err(WriteError::Io(e)),
    };
    let root = crate::realpath::canonical(root).unwrap_or_else(|_| root.to_path_buf());
    if target.starts_with(&root) {
        Ok(target)
    } else {
        Err(WriteError::Outside { target, root })
    }
}

/// A write half done: checked, and (for a replacement) the new content in
/// a temporary file beside the target, not yet synced.
pub enum Prepared {
    Replace {
        target: PathBuf,
        tmp: Temp,
        /// The original as read: still it when renaming over it.
        read: Identity,
    },
    InPlace {
        target: PathBuf,
    },
}

/// Which file a path named, and when it last changed: a file replaced (a
/// new inode) or written (a new change time) since differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    dev: u64,
    ino: u64,
    len: u64,
    ctime: (i64, i64),
}

impl Identity {
    #[cfg(unix)]
    fn of(m: &Metadata) -> Identity {
        use std::os::unix::fs::MetadataExt;
        Identity {
            dev: m.dev(),
            ino: m.ino(),
            len: m.len(),
            ctime: (m.ctime(), m.ctime_nsec()),
        }
    }

    #[cfg(not(unix))]
    fn of(m: &Metadata) -> Identity {
        Identity {
            dev: 0,
            ino: 0,
            len: m.len(),
            ctime: (0, 0),
        }
    }
}

/// Check the target and write the temporary file (see the module doc).
pub fn prepare(
    path: &Path,
    original: &str,
    stamp: Option<Stamp>,
    content: &str,
) -> Result<Prepared, WriteError> {
    let target = confine(path, &root_of(path))?;
    let mut file = File::open(&target)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(WriteError::Io(std::io::Error::other("not a regular file")));
    }
    if metadata.permissions().readonly() {
        return Err(WriteError::ReadOnly);
    }
    same_content(&mut file, &metadata, original, stamp)?;
    drop(file);
    if links(&metadata) > 1 {
        return Ok(Prepared::InPlace { target });
    }
    let dir = parent(&target);
    // What a killed run left here goes first: a file it was writing is
    // still unfixed, so the next run writes in this folder again.
    sweep(&dir);
    let mut tmp = Temp::new(&dir, mode_of(&metadata))?;
    if !tmp.keep_owner_and_mode(&metadata) {
        // The owner cannot be kept by a new file: write in place.
        return Ok(Prepared::InPlace { target });
    }
    tmp.file.write_all(content.as_bytes())?;
    Ok(Prepared::Replace {
        target,
        tmp,
        read: Identity::of(&metadata),
    })
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
        Prepared::Replace { target, tmp, read } => {
            if !synced {
                tmp.file.sync_data()?;
            }
            // The same inode, not written since it was read (its change
            // time cannot be set back, unlike its modification time).
            if Identity::of(&std::fs::metadata(&target)?) != read {
                return Err(WriteError::Changed("it was written or replaced"));
            }
            tmp.persist(&target)?;
            // The folder is not synced: the new content is durable before
            // the rename, so a crash (even a power loss) leaves the old
            // file or the new one, never a torn one; syncing every folder
            // too doubled the cost of `--fix`.
            Ok(())
        }
    }
}

/// The permission bits of a file (with set-id and sticky bits).
#[cfg(unix)]
fn mode_of(m: &Metadata) -> u32 {
    std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o7777
}

#[cfg(not(unix))]
fn mode_of(_: &Metadata) -> u32 {
    0o666
}

/// The start of every temporary file name refit makes.
pub const TEMP_PREFIX: &str = ".refit-";

/// A temporary file in the folder of the file it will replace: anonymous
/// where the file system allows (`O_TMPFILE`), else named
/// `.refit-<pid>-<random>` and removed when dropped unpersisted.
pub struct Temp {
    file: File,
    dir: PathBuf,
    /// The name of a named temporary file; `None` for an anonymous one.
    named: Option<PathBuf>,
}

impl Temp {
    /// A temporary file in `dir`, created with `mode` (the umask applies,
    /// as to any new file).
    fn new(dir: &Path, mode: u32) -> Result<Temp, WriteError> {
        #[cfg(target_os = "linux")]
        {
            use std::os::unix::fs::OpenOptionsExt;
            match OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_TMPFILE)
                .mode(mode)
                .open(dir)
            {
                Ok(file) => {
                    return Ok(Temp {
                        file,
                        dir: dir.to_path_buf(),
                        named: None,
                    });
                }
                // Only "not supported here" falls back; anything else (no
                // permission, no space) is the answer.
                Err(e)
                    if !matches!(
                        e.raw_os_error(),
                        Some(libc::EOPNOTSUPP | libc::EISDIR | libc::EINVAL | libc::ENOENT)
                    ) =>
                {
                    return Err(WriteError::Io(e));
                }
                Err(_) => {}
            }
        }
        sweep(dir);
        for _ in 0..16 {
            let name = dir.join(temp_name());
            let mut options = OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
            match options.open(&name) {
                Ok(file) => {
                    return Ok(Temp {
                        file,
                        dir: dir.to_path_buf(),
                        named: Some(name),
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(WriteError::Io(e)),
            }
        }
        Err(WriteError::Io(std::io::Error::other(
            "cannot create a temporary file",
        )))
    }

    /// Give the file `original`'s owner, group and mode, through its
    /// descriptor. False when the owner cannot be kept.
    fn keep_owner_and_mode(&mut self, original: &Metadata) -> bool {
        #[cfg(unix)]
        {
            use std::os::unix::fs::{MetadataExt, PermissionsExt};
            let Ok(mine) = self.file.metadata() else {
                return false;
            };
            if (mine.uid(), mine.gid()) != (original.uid(), original.gid())
                && std::os::unix::fs::fchown(&self.file, Some(original.uid()), Some(original.gid()))
                    .is_err()
            {
                return false;
            }
            // After chown, which may clear set-id bits; and past the umask.
            let mode = mode_of(original);
            if mine.permissions().mode() & 0o7777 != mode || mine.uid() != original.uid() {
                return self
                    .file
                    .set_permissions(std::fs::Permissions::from_mode(mode))
                    .is_ok();
            }
            true
        }
        #[cfg(not(unix))]
        {
            let _ = original;
            true
        }
    }

    /// Put the file at `target`, replacing what is there.
    fn persist(mut self, target: &Path) -> Result<(), WriteError> {
        let named = match self.named.take() {
            Some(n) => n,
            None => self.link()?,
        };
        if let Err(e) = std::fs::rename(&named, target) {
            let _ = std::fs::remove_file(&named);
            return Err(WriteError::Io(e));
        }
        Ok(())
    }

    /// A name for an anonymous file, for the rename that follows at once.
    #[cfg(target_os = "linux")]
    fn link(&self) -> Result<PathBuf, WriteError> {
        use std::ffi::CString;
        use std::os::unix::ffi::OsStrExt;
        use std::os::unix::io::AsRawFd;
        let fd = self.file.as_raw_fd();
        let proc_path = CString::new(format!("/proc/self/fd/{fd}"))
            .map_err(|e| WriteError::Io(std::io::Error::other(e)))?;
        let empty = c"";
        let mut last = std::io::Error::other("cannot name the temporary file");
        for _ in 0..16 {
            let name = self.dir.join(temp_name());
            let c_name = CString::new(name.as_os_str().as_bytes())
                .map_err(|e| WriteError::Io(std::io::Error::other(e)))?;
            // SAFETY: both paths are NUL-terminated C strings that outlive
            // the calls; the descriptor is open.
            let linked = unsafe {
                libc::linkat(
                    libc::AT_FDCWD,
                    proc_path.as_ptr(),
                    libc::AT_FDCWD,
                    c_name.as_ptr(),
                    libc::AT_SYMLINK_FOLLOW,
                ) == 0
                    || libc::linkat(
                        fd,
                        empty.as_ptr(),
                        libc::AT_FDCWD,
                        c_name.as_ptr(),
                        libc::AT_EMPTY_PATH,
                    ) == 0
            };
            if linked {
                return Ok(name);
            }
            last = std::io::Error::last_os_error();
            if last.kind() != std::io::ErrorKind::AlreadyExists {
                break;
            }
        }
        Err(WriteError::Io(last))
    }

    #[cfg(not(target_os = "linux"))]
    fn link(&self) -> Result<PathBuf, WriteError> {
        Err(WriteError::Io(std::io::Error::other(
            "anonymous temporary files are not supported here",
        )))
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if let Some(name) = self.named.take() {
            let _ = std::fs::remove_file(name);
        }
    }
}

/// `.refit-<pid>-<random>`: the process that made it is in its name, so a
/// later run can tell a leftover from a file being written now.
fn temp_name() -> String {
    format!("{TEMP_PREFIX}{}-{:016x}", own_pid(), fastrand::u64(..))
}

/// This process's id, asked of the system once (`getpid` is a system call
/// each time, once per written file otherwise; refit never forks).
fn own_pid() -> u32 {
    static PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *PID.get_or_init(std::process::id)
}

/// Remove the temporary files that a killed refit left in `dir`: named
/// `.refit-<pid>-<random>` by a process that no longer runs. Once per
/// folder per run.
pub fn sweep(dir: &Path) {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    static SWEPT: LazyLock<Mutex<HashSet<PathBuf>>> = LazyLock::new(|| Mutex::new(HashSet::new()));
    match SWEPT.lock() {
        Ok(mut swept) if swept.len() < 100_000 => {
            if !swept.insert(dir.to_path_buf()) {
                return;
            }
        }
        _ => return,
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten().take(1_000_000) {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(TEMP_PREFIX)) else {
            continue;
        };
        let Some((pid, random)) = rest.split_once('-') else {
            continue;
        };
        let (Ok(pid), true) = (
            pid.parse::<u32>(),
            random.len() == 16 && random.bytes().all(|b| b.is_ascii_hexdigit()),
        ) else {
            continue;
        };
        if !running(pid) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Whether a process runs (or may: when it cannot be told, it does).
fn running(pid: u32) -> bool {
    if pid == own_pid() {
        return true;
    }
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return true;
        };
        // SAFETY: signal 0 only checks that the process exists.
        let alive = unsafe { libc::kill(pid, 0) } == 0;
        alive || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
    }
    #[cfg(not(unix))]
    true
}

#[cfg(unix)]
fn links(metadata: &Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::nlink(metadata)
}

#[cfg(not(unix))]
fn links(_: &Metadata) -> u64 {
    1
}

/// The open file is what was read: same size and modification time, same
/// bytes.
fn same_content(
    file: &mut File,
    metadata: &Metadata,
    original: &str,
    stamp: Option<Stamp>,
) -> Result<(), WriteError> {
    if let Some(stamp) = stamp {
        if metadata.len() != stamp.len {
            return Err(WriteError::Changed("its size changed"));
        }
        if stamp.modified.is_some() && metadata.modified().ok() != stamp.modified {
            return Err(WriteError::Changed("its modification time changed"));
        }
    }
    if metadata.len() != original.len() as u64 {
        return Err(WriteError::Changed("its content changed"));
    }
    let mut bytes = Vec::with_capacity(original.len());
    file.take(original.len() as u64 + 1)
        .read_to_end(&mut bytes)?;
    if bytes != original.as_bytes() {
        return Err(WriteError::Changed("its content changed"));
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweep_removes_what_a_gone_process_left_and_nothing_else() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let mut child = std::process::Command::new("true")
            .spawn()
            .expect("run true");
        let gone = child.id();
        let _ = child.wait();
        let stale = dir.path().join(format!("{TEMP_PREFIX}{gone}-{:016x}", 1));
        let ours = dir
            .path()
            .join(format!("{TEMP_PREFIX}{}-{:016x}", std::process::id(), 2));
        let other = dir.path().join(".refit-notes");
        for p in [&stale, &ours, &other] {
            std::fs::write(p, "x").expect("write");
        }
        sweep(dir.path());
        assert!(!stale.exists());
        assert!(ours.exists() && other.exists());
    }

    #[cfg(unix)]
    #[test]
    fn confine_follows_links_and_refuses_what_leads_outside() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let root = dir.path().join("repo");
        std::fs::create_dir_all(root.join("sub")).expect("mkdir");
        std::fs::write(dir.path().join("victim"), "x").expect("write");
        std::fs::write(root.join("real"), "x").expect("write");
        std::os::unix::fs::symlink("../victim", root.join("out")).expect("link");
        std::os::unix::fs::symlink("real", root.join("in")).expect("link");
        std::os::unix::fs::symlink("nothing", root.join("dangling")).expect("link");
        let real_root = std::fs::canonicalize(&root).expect("canonical");
        assert!(matches!(
            confine(&root.join("out"), &root),
            Err(WriteError::Outside { .. })
        ));
        assert!(matches!(
            confine(&root.join("sub/../../victim"), &root),
            Err(WriteError::Outside { .. })
        ));
        assert!(matches!(
            confine(&root.join("dangling"), &root),
            Err(WriteError::DanglingLink(_))
        ));
        assert_eq!(
            confine(&root.join("in"), &root).ok(),
            Some(real_root.join("real"))
        );
        assert_eq!(
            confine(&root.join("sub/new.json"), &root).ok(),
            Some(real_root.join("sub/new.json"))
        );
    }
}
