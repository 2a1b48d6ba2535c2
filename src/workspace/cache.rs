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
//! before the cache was written are kept with a stamp no file has (git's
//! "racily clean" rule), so they are read again next time.
//!
//! The file (`workspace-v2.bin`) is made to be checked fast, since a warm
//! run over a large repository reads it whole and stats every entry: a
//! header, then one record per folder, `.gitignore` and fact file, each
//! field ended by a NUL byte (a path holds no NUL), paths relative to the
//! root as raw bytes, then the facts of the files that say something as
//! one JSON array (most fact files say nothing, and carry no JSON). Each
//! record's path is already NUL-terminated in the buffer, so it is
//! handed to `fstatat` against the root's descriptor as it is: no path is
//! built or copied to validate an entry.

use super::Extracted;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The cache folder's name, at a repository root.
pub const DIR: &str = ".refit_cache";
const FILE: &str = "workspace-v2.bin";
/// What wrote the cache: another version of refit starts afresh.
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "/workspace-46");
const MAGIC: &[u8] = b"refit-workspace-cache\n";

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

    /// The modification time, in nanoseconds.
    pub fn mtime(&self) -> i128 {
        self.mtime_ns
    }

    /// The stamp a racily clean entry is kept with: no file has it.
    const UNKNOWN: Stamp = Stamp {
        len: u64::MAX,
        mtime_ns: -1,
        ino: 0,
    };
}

/// What a `stat` of a cache entry says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Status {
    pub stamp: Stamp,
    pub is_file: bool,
    pub is_dir: bool,
}

/// A root folder opened to `stat` cache entries relative to it.
pub(super) struct RootDir {
    #[cfg(unix)]
    fd: std::os::fd::OwnedFd,
    #[cfg(not(unix))]
    root: PathBuf,
}

impl RootDir {
    pub fn open(root: &Path) -> Option<RootDir> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            // Only for `fstatat`: on Linux a path descriptor, which needs
            // no read permission on the folder.
            #[cfg(target_os = "linux")]
            let path_only = libc::O_PATH;
            #[cfg(not(target_os = "linux"))]
            let path_only = 0;
            let file = std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(path_only | libc::O_DIRECTORY | libc::O_CLOEXEC)
                .open(root)
                .ok()?;
            Some(RootDir { fd: file.into() })
        }
        #[cfg(not(unix))]
        {
            Some(RootDir {
                root: root.to_path_buf(),
            })
        }
    }

    /// `stat` (`follow`) or `lstat` of `rel`, a NUL-terminated path
    /// relative to the root (empty: the root itself).
    pub fn stat(&self, rel: &[u8], follow: bool) -> Option<Status> {
        #[cfg(unix)]
        {
            use std::os::fd::AsRawFd;
            let path: &[u8] = if rel.len() <= 1 { b".\0" } else { rel };
            let c = std::ffi::CStr::from_bytes_with_nul(path).ok()?;
            let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
            let flags = if follow { 0 } else { libc::AT_SYMLINK_NOFOLLOW };
            // SAFETY: `c` is a NUL-terminated string that outlives the
            // call, `st` is written by it before being read, and the
            // descriptor is open for as long as `self` lives.
            let st = unsafe {
                if libc::fstatat(self.fd.as_raw_fd(), c.as_ptr(), st.as_mut_ptr(), flags) != 0 {
                    return None;
                }
                st.assume_init()
            };
            let kind = st.st_mode & libc::S_IFMT;
            let mtime_ns = if st.st_mtime < 0 {
                0
            } else {
                st.st_mtime as i128 * 1_000_000_000 + st.st_mtime_nsec as i128
            };
            Some(Status {
                stamp: Stamp {
                    len: st.st_size as u64,
                    mtime_ns,
                    ino: st.st_ino as u64,
                },
                is_file: kind == libc::S_IFREG,
                is_dir: kind == libc::S_IFDIR,
            })
        }
        #[cfg(not(unix))]
        {
            let rel = rel.strip_suffix(&[0]).unwrap_or(rel);
            let path = self.root.join(std::str::from_utf8(rel).ok()?);
            let meta = if follow {
                std::fs::metadata(path)
            } else {
                std::fs::symlink_metadata(path)
            }
            .ok()?;
            Some(Status {
                stamp: Stamp::of(&meta),
                is_file: meta.is_file(),
                is_dir: meta.is_dir(),
            })
        }
    }
}

/// One fact file of a loaded cache.
pub(super) struct FileEntry {
    /// Its path relative to the root, in [`Cache::buf`], NUL included.
    rel: std::ops::Range<usize>,
    pub stamp: Stamp,
    /// What it says, when it says anything (an index into the facts).
    facts: Option<usize>,
}

/// One folder of a loaded cache, with its modification time.
pub(super) struct DirEntry {
    rel: std::ops::Range<usize>,
    pub mtime: i128,
}

/// A loaded cache.
#[derive(Default)]
pub(super) struct Cache {
    buf: Vec<u8>,
    pub files: Vec<FileEntry>,
    pub dirs: Vec<DirEntry>,
    pub ignores: Vec<(PathBuf, Stamp)>,
    facts: Vec<Arc<Extracted>>,
}

/// A fact file as stored: its path (under the root, or relative to it),
/// stamp (`None`: not kept) and facts (`None`: it says nothing).
pub(super) type Stored<'a> = (&'a Path, Option<Stamp>, Option<&'a Arc<Extracted>>);

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

#[cfg(unix)]
fn path_bytes(p: &Path) -> &[u8] {
    std::os::unix::ffi::OsStrExt::as_bytes(p.as_os_str())
}

#[cfg(not(unix))]
fn path_bytes(p: &Path) -> &[u8] {
    p.to_str().unwrap_or("").as_bytes()
}

#[cfg(unix)]
fn bytes_path(b: &[u8]) -> &Path {
    Path::new(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b))
}

#[cfg(not(unix))]
fn bytes_path(b: &[u8]) -> &Path {
    Path::new(std::str::from_utf8(b).unwrap_or(""))
}

/// Reads the NUL-ended fields of a cache file.
struct Fields<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Fields<'a> {
    /// The next field, without its NUL, and where it lies (NUL included).
    fn next(&mut self) -> Option<(&'a [u8], std::ops::Range<usize>)> {
        let rest = self.buf.get(self.at..)?;
        let len = rest.iter().position(|&b| b == 0)?;
        let range = self.at..self.at + len + 1;
        self.at += len + 1;
        Some((&rest[..len], range))
    }

    fn number<T: std::str::FromStr>(&mut self) -> Option<T> {
        let (field, _) = self.next()?;
        std::str::from_utf8(field).ok()?.parse().ok()
    }

    fn tag(&mut self) -> Option<u8> {
        let tag = *self.buf.get(self.at)?;
        self.at += 1;
        Some(tag)
    }
}

impl Cache {
    /// The cache of `root`, or an empty one (missing, unreadable, written by
    /// another version or for another folder).
    pub fn load(root: &Path) -> Cache {
        let Some(dir) = folder(root) else {
            return Cache::default();
        };
        let Ok(buf) = crate::bounded::read_bytes(&dir.join(FILE), 1024 * 1024 * 1024) else {
            return Cache::default();
        };
        Cache::parse(root, buf).unwrap_or_default()
    }

    fn parse(root: &Path, buf: Vec<u8>) -> Option<Cache> {
        let mut header = MAGIC.to_vec();
        header.extend_from_slice(VERSION.as_bytes());
        header.push(0);
        header.extend_from_slice(path_bytes(root));
        header.push(0);
        if !buf.starts_with(&header) {
            return None;
        }
        let mut fields = Fields {
            buf: &buf,
            at: header.len(),
        };
        let mut cache = Cache::default();
        let mut facts_at = None;
        while let Some(tag) = fields.tag() {
            match tag {
                b'D' => {
                    let mtime = fields.number()?;
                    let (_, rel) = fields.next()?;
                    cache.dirs.push(DirEntry { rel, mtime });
                }
                b'I' => {
                    let stamp = Stamp {
                        len: fields.number()?,
                        mtime_ns: fields.number()?,
                        ino: fields.number()?,
                    };
                    let (path, _) = fields.next()?;
                    cache.ignores.push((bytes_path(path).to_path_buf(), stamp));
                }
                b'F' => {
                    let stamp = Stamp {
                        len: fields.number()?,
                        mtime_ns: fields.number()?,
                        ino: fields.number()?,
                    };
                    let (facts, _) = fields.next()?;
                    let facts = match facts {
                        b"-" => None,
                        n => Some(std::str::from_utf8(n).ok()?.parse().ok()?),
                    };
                    let (_, rel) = fields.next()?;
                    cache.files.push(FileEntry { rel, stamp, facts });
                }
                b'J' => {
                    facts_at = Some(fields.at);
                    break;
                }
                _ => return None,
            }
        }
        let facts: Vec<Arc<Extracted>> = serde_json::from_slice(buf.get(facts_at?..)?).ok()?;
        if cache
            .files
            .iter()
            .any(|f| f.facts.is_some_and(|i| i >= facts.len()))
        {
            return None;
        }
        cache.facts = facts;
        cache.buf = buf;
        Some(cache)
    }

    /// A file entry's path relative to the root, NUL-terminated (for
    /// [`RootDir::stat`]).
    pub fn file_rel_c(&self, f: &FileEntry) -> &[u8] {
        &self.buf[f.rel.clone()]
    }

    /// A file entry's path relative to the root.
    pub fn file_rel(&self, f: &FileEntry) -> &Path {
        bytes_path(&self.buf[f.rel.start..f.rel.end - 1])
    }

    pub fn dir_rel_c(&self, d: &DirEntry) -> &[u8] {
        &self.buf[d.rel.clone()]
    }

    pub fn dir_rel(&self, d: &DirEntry) -> &Path {
        bytes_path(&self.buf[d.rel.start..d.rel.end - 1])
    }

    /// What a file entry said; `None` when it said nothing.
    pub fn facts(&self, f: &FileEntry) -> Option<&Arc<Extracted>> {
        f.facts.and_then(|i| self.facts.get(i))
    }

    /// Write the cache of `root`. Failing to write (a read-only checkout)
    /// costs only the next run's time, so it is not an error.
    pub fn store<'a>(
        root: &Path,
        dirs: &[(PathBuf, i128)],
        ignores: &[(PathBuf, Stamp)],
        files: impl Iterator<Item = Stored<'a>>,
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
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(VERSION.as_bytes());
        out.push(0);
        out.extend_from_slice(path_bytes(root));
        out.push(0);
        let rel = |p: &'a Path| -> &'a Path { p.strip_prefix(root).unwrap_or(p) };
        let field = |out: &mut Vec<u8>, bytes: &[u8]| {
            out.extend_from_slice(bytes);
            out.push(0);
        };
        for (d, m) in dirs {
            // A folder changed within the clock's resolution is listed
            // again next time.
            let m = if *m < now - racy { *m } else { -1 };
            out.push(b'D');
            field(&mut out, m.to_string().as_bytes());
            field(&mut out, path_bytes(d.strip_prefix(root).unwrap_or(d)));
        }
        let stamp_fields = |out: &mut Vec<u8>, s: &Stamp| {
            for n in [s.len.to_string(), s.mtime_ns.to_string(), s.ino.to_string()] {
                out.extend_from_slice(n.as_bytes());
                out.push(0);
            }
        };
        for (p, s) in ignores {
            out.push(b'I');
            stamp_fields(&mut out, s);
            field(&mut out, path_bytes(p));
        }
        let mut facts: Vec<&Arc<Extracted>> = Vec::new();
        let empty = Extracted::default();
        for (p, s, e) in files {
            let Some(s) = s else { continue };
            // Racily clean: kept, to be read again next time.
            let s = if s.mtime_ns < now - racy {
                s
            } else {
                Stamp::UNKNOWN
            };
            out.push(b'F');
            stamp_fields(&mut out, &s);
            match e {
                Some(e) if **e != empty => {
                    field(&mut out, facts.len().to_string().as_bytes());
                    facts.push(e);
                }
                _ => field(&mut out, b"-"),
            }
            field(&mut out, path_bytes(rel(p)));
        }
        out.push(b'J');
        if serde_json::to_writer(&mut out, &facts).is_err() {
            return;
        }
        let tmp = dir.join(format!("{FILE}.{}.tmp", std::process::id()));
        if std::fs::write(&tmp, out).is_ok() && std::fs::rename(&tmp, dir.join(FILE)).is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        // The format before this one.
        let _ = std::fs::remove_file(dir.join("workspace-v1.json"));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_cache_loads_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = crate::realpath::canonical(dir.path()).expect("root");
        std::fs::create_dir(root.join("a")).expect("mkdir");
        std::fs::write(root.join("a/Makefile"), "x").expect("write");
        let old = Stamp {
            len: 1,
            mtime_ns: 1_000_000_000,
            ino: 7,
        };
        let said = Arc::new(Extracted {
            compose_builds: vec![(root.join("a/Dockerfile"), Default::default())],
            ..Extracted::default()
        });
        let nothing = Arc::new(Extracted::default());
        let files = [
            root.join("a/Makefile"),
            root.join("a/b.sh"),
            root.join("c.sh"),
        ];
        let now = Stamp {
            len: 1,
            mtime_ns: i128::MAX,
            ino: 8,
        };
        Cache::store(
            &root,
            &[(root.clone(), 5), (root.join("a"), 6)],
            &[(root.join(".gitignore"), old)],
            [
                (files[0].as_path(), Some(old), Some(&said)),
                (files[1].as_path(), Some(old), Some(&nothing)),
                (files[2].as_path(), Some(now), Some(&said)),
            ]
            .into_iter(),
        );
        let cache = Cache::load(&root);
        let dirs: Vec<(&Path, i128)> = cache
            .dirs
            .iter()
            .map(|d| (cache.dir_rel(d), d.mtime))
            .collect();
        assert_eq!(dirs, [(Path::new(""), 5), (Path::new("a"), 6)]);
        assert_eq!(cache.ignores, [(root.join(".gitignore"), old)]);
        let files: Vec<(&Path, Stamp, bool)> = cache
            .files
            .iter()
            .map(|f| (cache.file_rel(f), f.stamp, cache.facts(f).is_some()))
            .collect();
        assert_eq!(
            files,
            [
                (Path::new("a/Makefile"), old, true),
                (Path::new("a/b.sh"), old, false),
                // Racily clean: kept, with a stamp no file has.
                (Path::new("c.sh"), Stamp::UNKNOWN, true),
            ]
        );
        assert_eq!(cache.facts(&cache.files[0]).map(|e| &**e), Some(&*said));
        let rd = RootDir::open(&root).expect("open");
        let st = rd
            .stat(cache.file_rel_c(&cache.files[0]), true)
            .expect("stat");
        assert!(st.is_file && st.stamp.len == 1);
        assert!(
            rd.stat(cache.dir_rel_c(&cache.dirs[0]), false)
                .expect("root")
                .is_dir
        );
        assert!(rd.stat(cache.file_rel_c(&cache.files[1]), true).is_none());
        // Another root, or a damaged file: an empty cache.
        assert!(Cache::load(&root.join("a")).files.is_empty());
        let path = root.join(DIR).join(FILE);
        let mut bytes = std::fs::read(&path).expect("read");
        bytes.truncate(bytes.len() - 3);
        std::fs::write(&path, bytes).expect("write");
        assert!(Cache::load(&root).files.is_empty());
    }
}
