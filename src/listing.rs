//! Folder listings, read once per run and shared. A whole-tree check asks
//! the same folders many questions: their marks (`.git`, `refit.toml`,
//! `.refit.toml`), whether a named path is a folder, whether a
//! `Chart.yaml`, `.env` or `Chart.lock` is there, the `lstat` of each
//! path it canonicalizes; and the workspace index lists every folder of a
//! root anyway. Each question was a `statx`, most of them answered
//! "no such file". With listings on, a folder is listed once (one
//! `getdents` pass) and every later question about a name in it is
//! answered from the listing, the index's walk included.
//!
//! A listing is a snapshot: only a one-shot run turns listings on
//! ([`enable`]), never the editor server, whose files change under it. An
//! entry that is a link is not answered from the listing (the question
//! follows links, or asks about the link itself): the caller asks the
//! system, as without listings. A folder that cannot be listed is not
//! cached either. The cache holds at most [`MAX_ENTRIES`] names; past it,
//! questions go to the system, with the same answers.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, OnceLock};

/// What a folder entry is, from its `d_type` (not following a link).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File,
    Link,
    /// A device, FIFO or socket.
    Other,
}

/// One folder's entries, sorted by name. On unix the names are packed in
/// one buffer (a name and 9 bytes an entry, not an `OsString` each).
#[derive(Debug, Default)]
pub struct Listing {
    #[cfg(unix)]
    names: Vec<u8>,
    /// Each entry's name as `names[start..end]`, and its kind.
    #[cfg(unix)]
    index: Vec<(u32, u32, Kind)>,
    #[cfg(not(unix))]
    index: Vec<(OsString, Kind)>,
}

impl Listing {
    /// The listing of `entries` (sorted here); `None` past 4 GiB of names.
    fn new(mut entries: Vec<(OsString, Kind)>) -> Option<Listing> {
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            let mut names = Vec::with_capacity(entries.iter().map(|(n, _)| n.len()).sum());
            let mut index = Vec::with_capacity(entries.len());
            for (name, kind) in &entries {
                let start = u32::try_from(names.len()).ok()?;
                names.extend_from_slice(name.as_bytes());
                let end = u32::try_from(names.len()).ok()?;
                index.push((start, end, *kind));
            }
            Some(Listing { names, index })
        }
        #[cfg(not(unix))]
        Some(Listing { index: entries })
    }

    fn len(&self) -> usize {
        self.index.len()
    }

    fn name(&self, i: usize) -> &OsStr {
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            let (start, end, _) = self.index[i];
            OsStr::from_bytes(&self.names[start as usize..end as usize])
        }
        #[cfg(not(unix))]
        self.index[i].0.as_os_str()
    }

    fn kind(&self, i: usize) -> Kind {
        #[cfg(unix)]
        return self.index[i].2;
        #[cfg(not(unix))]
        return self.index[i].1;
    }

    /// The entry named `name`: `None` when there is none.
    pub fn get(&self, name: &OsStr) -> Option<Kind> {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.name(mid).cmp(name) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(self.kind(mid)),
            }
        }
        None
    }

    /// Every entry, in name order.
    pub fn entries(&self) -> impl Iterator<Item = (&OsStr, Kind)> {
        (0..self.len()).map(|i| (self.name(i), self.kind(i)))
    }
}

static ENABLED: AtomicBool = AtomicBool::new(false);
static CACHED: AtomicUsize = AtomicUsize::new(0);
/// Keyed by the folder's absolute path as bytes (a `PathBuf` key hashes
/// component by component).
static CACHE: LazyLock<Mutex<HashMap<OsString, Arc<Listing>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The most entries the cache holds across folders (a name and about 9
/// bytes each).
pub const MAX_ENTRIES: usize = 1_000_000;

/// Turn listings on for this process, from empty (a one-shot run; `watch`
/// calls it before each run).
pub fn enable() {
    clear();
    ENABLED.store(true, Ordering::Relaxed);
}

/// Turn listings off and forget them: the process goes on past its run
/// (`watch` waits for changes).
pub fn disable() {
    ENABLED.store(false, Ordering::Relaxed);
    clear();
}

/// Forget every listing.
pub fn clear() {
    if let Ok(mut cache) = CACHE.lock() {
        cache.clear();
    }
    CACHED.store(0, Ordering::Relaxed);
}

/// The listing of `dir`, read once while listings are on; `None` when they
/// are off or the folder cannot be listed.
pub fn of(dir: &Path) -> Option<Arc<Listing>> {
    if !ENABLED.load(Ordering::Relaxed) {
        return None;
    }
    // One key a folder, however it was named (`a/b`, `./a/b`, `/cwd/a/b`).
    let key = absolute(dir);
    if let Some(known) = CACHE.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Some(known);
    }
    let listing = Arc::new(read(Path::new(&key))?);
    let n = listing.len();
    if let Ok(mut cache) = CACHE.lock()
        && CACHED.load(Ordering::Relaxed) + n <= MAX_ENTRIES
    {
        CACHED.fetch_add(n, Ordering::Relaxed);
        cache.insert(key, listing.clone());
    }
    Some(listing)
}

/// `dir` made absolute against the working directory (asked once: refit
/// never changes it), as `crate::realpath::absolute` makes it (which
/// depends on this module); a path already in that form is taken as it is.
fn absolute(dir: &Path) -> OsString {
    static CWD: OnceLock<Option<PathBuf>> = OnceLock::new();
    let joined = match CWD.get_or_init(|| std::env::current_dir().ok()) {
        Some(cwd) if dir.is_relative() => cwd.join(dir),
        _ => dir.to_path_buf(),
    };
    if plain(&joined) {
        return joined.into_os_string();
    }
    std::path::absolute(&joined)
        .unwrap_or(joined)
        .into_os_string()
}

/// An absolute path `std::path::absolute` leaves as it is: no `.` part,
/// no doubled or trailing separator.
fn plain(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let b = path.as_os_str().as_bytes();
        b.first() == Some(&b'/')
            && (b.len() == 1 || b.last() != Some(&b'/'))
            && !b.windows(2).any(|w| w == b"//")
            && !b.windows(3).any(|w| w == b"/./")
            && !b.ends_with(b"/.")
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

/// List `dir` (one `getdents` pass); `None` when it cannot be listed in
/// full (an entry that cannot be read would make an absent name a wrong
/// "no").
fn read(dir: &Path) -> Option<Listing> {
    #[cfg(target_os = "linux")]
    if let Some(listing) = read_linux(dir) {
        return Some(listing);
    }
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).ok()? {
        let entry = entry.ok()?;
        let t = entry.file_type().ok()?;
        let kind = if t.is_symlink() {
            Kind::Link
        } else if t.is_dir() {
            Kind::Dir
        } else if t.is_file() {
            Kind::File
        } else {
            Kind::Other
        };
        entries.push((entry.file_name(), kind));
    }
    Listing::new(entries)
}

/// [`read`] in one `openat` and `getdents64` calls into a 32 KiB buffer
/// (the standard library's `opendir` adds an `fstat`, for a buffer size).
/// `None` when the file system does not say each entry's type (`DT_UNKNOWN`)
/// or anything fails: the caller lists the folder the standard way.
#[cfg(target_os = "linux")]
fn read_linux(dir: &Path) -> Option<Listing> {
    use rustix::fs::{FileType, Mode, OFlags, RawDir};
    use std::os::unix::ffi::OsStrExt;
    let fd = rustix::fs::open(
        dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    let mut buf = vec![std::mem::MaybeUninit::<u8>::uninit(); 32 * 1024];
    let mut raw = RawDir::new(&fd, &mut buf);
    let mut entries = Vec::new();
    while let Some(entry) = raw.next() {
        let entry = entry.ok()?;
        let name = entry.file_name().to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        let kind = match entry.file_type() {
            FileType::Symlink => Kind::Link,
            FileType::Directory => Kind::Dir,
            FileType::RegularFile => Kind::File,
            FileType::Unknown => return None,
            _ => Kind::Other,
        };
        entries.push((OsStr::from_bytes(name).to_os_string(), kind));
    }
    Listing::new(entries)
}

/// The name and folder of `path` a listing can answer for.
fn split(path: &Path) -> Option<(&Path, &OsStr)> {
    let name = path.file_name()?;
    if name == "." || name == ".." {
        return None;
    }
    let parent = path.parent()?;
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    Some((parent, name))
}

/// What `path` is, from its folder's listing, not following a link in
/// its last part: `Some(None)` when the folder has no such entry; `None`
/// when listings cannot say (off, a name such as `..`, a folder that
/// cannot be listed).
pub fn entry(path: &Path) -> Option<Option<Kind>> {
    if !ENABLED.load(Ordering::Relaxed) {
        return None;
    }
    let (parent, name) = split(path)?;
    Some(of(parent)?.get(name))
}

/// `path.is_file()` (following a link), from the listing where it can say.
pub fn is_file(path: &Path) -> bool {
    file_from(entry(path), path)
}

/// [`is_file`] with the entry already looked up (`Listing::get` on the
/// folder's listing, `None` without one).
pub fn file_from(entry: Option<Option<Kind>>, path: &Path) -> bool {
    match entry {
        Some(None) => false,
        Some(Some(Kind::File)) => true,
        Some(Some(Kind::Dir | Kind::Other)) => false,
        Some(Some(Kind::Link)) | None => path.is_file(),
    }
}

/// `path.is_dir()` (following a link), from the listing where it can say.
pub fn is_dir(path: &Path) -> bool {
    dir_from(entry(path), path)
}

fn dir_from(entry: Option<Option<Kind>>, path: &Path) -> bool {
    match entry {
        Some(None) => false,
        Some(Some(Kind::Dir)) => true,
        Some(Some(Kind::File | Kind::Other)) => false,
        Some(Some(Kind::Link)) | None => path.is_dir(),
    }
}

/// `path.exists()` (following a link), from the listing where it can say.
pub fn exists(path: &Path) -> bool {
    exists_from(entry(path), path)
}

/// [`exists`] with the entry already looked up.
pub fn exists_from(entry: Option<Option<Kind>>, path: &Path) -> bool {
    match entry {
        Some(None) => false,
        Some(Some(Kind::Dir | Kind::File | Kind::Other)) => true,
        Some(Some(Kind::Link)) | None => path.exists(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The answers from a listing agree with the system's, links and
    /// missing names included. (Listings are not turned on here: the
    /// switch is the process's, and other tests change their folders.)
    #[test]
    fn answers_as_the_system_does() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let d = dir.path();
        std::fs::create_dir(d.join("sub")).expect("mkdir");
        std::fs::write(d.join("file"), "x").expect("write");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(d.join("file"), d.join("to-file")).expect("link");
            std::os::unix::fs::symlink(d.join("sub"), d.join("to-dir")).expect("link");
            std::os::unix::fs::symlink(d.join("none"), d.join("dangling")).expect("link");
        }
        let listing = read(d).expect("listed");
        assert_eq!(listing.get(OsStr::new("sub")), Some(Kind::Dir));
        assert_eq!(listing.get(OsStr::new("file")), Some(Kind::File));
        assert_eq!(listing.get(OsStr::new("none")), None);
        #[cfg(unix)]
        assert_eq!(listing.get(OsStr::new("to-dir")), Some(Kind::Link));
        for n in ["sub", "file", "to-file", "to-dir", "dangling", "none"] {
            let p = d.join(n);
            let (parent, name) = split(&p).expect("a name");
            assert_eq!(parent, d);
            let e = Some(listing.get(name));
            assert_eq!(file_from(e, &p), p.is_file(), "{n} is_file");
            assert_eq!(dir_from(e, &p), p.is_dir(), "{n} is_dir");
            assert_eq!(exists_from(e, &p), p.exists(), "{n} exists");
            // Listings off (or unable to say): the system answers.
            assert_eq!(file_from(None, &p), p.is_file(), "{n} is_file");
        }
        assert!(split(&d.join("..")).is_none());
        // A plain path is its own key; any other is made so as std does.
        for p in [
            "/a/b", "/", "/a//b", "/a/./b", "/a/b/", "/a/b/.", "/a/../b", "a/b",
        ] {
            let p = Path::new(p);
            let std = std::path::absolute(p).expect("absolute");
            if plain(p) {
                assert_eq!(std.as_os_str(), p.as_os_str(), "{p:?}");
            }
            if p.is_absolute() {
                assert_eq!(absolute(p), std.into_os_string(), "{p:?}");
            }
        }
        assert_eq!(
            split(Path::new("x.yaml")),
            Some((Path::new("."), OsStr::new("x.yaml")))
        );
        assert!(read(&d.join("none")).is_none());
    }
}
