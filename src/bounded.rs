//! The one bounded reader for the files refit reads besides the checked ones
//! (build files, kustomizations, `.env`, `Chart.yaml`, chart templates,
//! GitLab includes). A repository is untrusted input: a read is refused
//! unless the file, after resolving links, is a regular file inside the
//! repository root, and it never reads more than its byte cap, whatever
//! the file's metadata says (`/proc` files report size 0).

use std::io::Read;
use std::path::{Path, PathBuf};

/// The largest file read around a checked file.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Why a read was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Missing, unreadable, or not valid UTF-8.
    Unreadable,
    /// A folder, device, FIFO or socket.
    NotRegular,
    /// Resolves (through a link or `..`) outside the repository root.
    Outside,
    /// Larger than the cap.
    TooLarge,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Refused::Unreadable => "cannot be read as UTF-8 text",
            Refused::NotRegular => "is not a regular file",
            Refused::Outside => "resolves outside the repository root",
            Refused::TooLarge => "is over the size limit",
        })
    }
}

/// The canonical path of `path` when it resolves inside `root` (itself
/// canonical).
pub fn inside(root: &Path, path: &Path) -> Result<PathBuf, Refused> {
    let real = crate::realpath::canonical(path).map_err(|_| Refused::Unreadable)?;
    if real.starts_with(root) {
        Ok(real)
    } else {
        Err(Refused::Outside)
    }
}

/// Read a regular file of at most `cap` bytes as text. The open file is
/// checked, not the name, so a file swapped for a FIFO after a `stat`
/// is still refused; a FIFO is opened non-blocking so opening it never
/// waits for a writer.
pub fn read_regular(path: &Path, cap: u64) -> Result<String, Refused> {
    let file = open_nonblocking(path).map_err(|_| Refused::Unreadable)?;
    let meta = file.metadata().map_err(|_| Refused::Unreadable)?;
    read_open(file, &meta, cap)
}

/// [`read_regular`] of a file already open, with its metadata (from the
/// descriptor, not the name).
pub fn read_open(
    file: std::fs::File,
    meta: &std::fs::Metadata,
    cap: u64,
) -> Result<String, Refused> {
    let bytes = read_open_bytes(file, meta, cap)?;
    String::from_utf8(bytes).map_err(|_| Refused::Unreadable)
}

/// [`read_regular`], as bytes (not necessarily text).
pub fn read_bytes(path: &Path, cap: u64) -> Result<Vec<u8>, Refused> {
    let file = open_nonblocking(path).map_err(|_| Refused::Unreadable)?;
    let meta = file.metadata().map_err(|_| Refused::Unreadable)?;
    read_open_bytes(file, &meta, cap)
}

fn read_open_bytes(
    mut file: std::fs::File,
    meta: &std::fs::Metadata,
    cap: u64,
) -> Result<Vec<u8>, Refused> {
    if !meta.is_file() {
        return Err(Refused::NotRegular);
    }
    if meta.len() > cap {
        return Err(Refused::TooLarge);
    }
    let mut bytes = Vec::with_capacity(meta.len().saturating_add(1) as usize);
    read_to_end_sized(&mut file, &mut bytes, meta.len(), cap.saturating_add(1))
        .map_err(|_| Refused::Unreadable)?;
    if bytes.len() as u64 > cap {
        return Err(Refused::TooLarge);
    }
    Ok(bytes)
}

/// `reader.take(limit).read_to_end(bytes)` for a file whose metadata said
/// `size` bytes are left to read: a read that fills less than it asked for
/// and ends exactly at `size` is the end of the file, so the read of 0
/// bytes that `read_to_end` makes to be sure is not made (one system call
/// less a file). A file that grew goes on to the next read of 0 bytes, and
/// a file whose metadata says nothing (`/proc` says 0) is read to its end
/// as before; the limit holds either way.
pub fn read_to_end_sized(
    reader: &mut impl Read,
    bytes: &mut Vec<u8>,
    size: u64,
    limit: u64,
) -> std::io::Result<()> {
    const CHUNK: u64 = 8 * 1024;
    let start = bytes.len();
    loop {
        let done = (bytes.len() - start) as u64;
        if done >= limit {
            return Ok(());
        }
        // Room for one byte past the expected end, so a short read can
        // tell the end (and no more: the text is kept as read); a chunk
        // at a time when the size is unknown or was passed; at most the
        // limit.
        let left = size.saturating_add(1).saturating_sub(done);
        let want = if size == 0 || left == 0 { CHUNK } else { left };
        let want = want.min(limit - done) as usize;
        let old = bytes.len();
        bytes.resize(old + want, 0);
        let n = loop {
            match reader.read(&mut bytes[old..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    bytes.truncate(old);
                    return Err(e);
                }
            }
        };
        bytes.truncate(old + n);
        if n == 0 || (n < want && (bytes.len() - start) as u64 == size) {
            return Ok(());
        }
    }
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK (Linux, macOS and the BSDs differ in value).
    #[cfg(target_os = "linux")]
    const O_NONBLOCK: i32 = 0o4000;
    #[cfg(not(target_os = "linux"))]
    const O_NONBLOCK: i32 = 0x0004;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

/// Read a file around a checked file: inside `root` after resolving
/// links, regular, at most [`MAX_FILE_BYTES`].
pub fn read_inside(root: &Path, path: &Path) -> Result<String, Refused> {
    let real = inside(root, path)?;
    read_regular(&real, MAX_FILE_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_devices_links_out_and_large_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let top = crate::realpath::canonical(dir.path()).expect("top");
        let root = top.join("repo");
        std::fs::create_dir(&root).expect("mkdir");
        std::fs::write(top.join("outside.yaml"), "secret: 1\n").expect("write");
        std::fs::write(root.join("ok.yaml"), "a: 1\n").expect("write");
        assert_eq!(
            read_inside(&root, &root.join("ok.yaml")).as_deref(),
            Ok("a: 1\n")
        );
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/dev/zero", root.join("zero")).expect("link");
            assert_eq!(
                read_inside(&root, &root.join("zero")),
                Err(Refused::Outside)
            );
            assert_eq!(
                read_regular(Path::new("/dev/zero"), 10),
                Err(Refused::NotRegular)
            );
            std::os::unix::fs::symlink("/etc", root.join("etc")).expect("link");
            assert_eq!(
                read_inside(&root, &root.join("etc").join("hostname")),
                Err(Refused::Outside)
            );
            // A FIFO: refused without waiting for a writer.
            let fifo = root.join("fifo");
            if std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .is_ok_and(|s| s.success())
            {
                assert_eq!(read_inside(&root, &fifo), Err(Refused::NotRegular));
            }
        }
        assert_eq!(
            read_inside(&root, &root.join("..").join("outside.yaml")),
            Err(Refused::Outside)
        );
        std::fs::write(root.join("big"), vec![b'a'; 100]).expect("write");
        assert_eq!(read_regular(&root.join("big"), 10), Err(Refused::TooLarge));
        // `/proc` files say size 0 and go on: the cap holds on the read.
        if Path::new("/proc/self/status").exists() {
            assert!(matches!(
                read_regular(Path::new("/proc/self/status"), 8),
                Err(Refused::TooLarge)
            ));
        }
    }

    /// A reader that hands out at most `step` bytes a read and counts the
    /// reads.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
        reads: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.reads += 1;
            let n = buf.len().min(self.step).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn sized_reads_end_at_the_size_and_never_cut_a_file_short() {
        let data: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
        let read = |size: u64, step: usize, limit: u64| {
            let mut r = Trickle {
                data: &data,
                step,
                reads: 0,
            };
            let mut out = b"head".to_vec();
            read_to_end_sized(&mut r, &mut out, size, limit).expect("read");
            (out, r.reads)
        };
        let whole = [b"head".as_slice(), &data].concat();
        // The size said: one read, no read of 0 bytes after it.
        assert_eq!(read(20_000, usize::MAX, u64::MAX), (whole.clone(), 1));
        // Short reads before the end go on reading.
        let (out, reads) = read(20_000, 999, u64::MAX);
        assert_eq!(out, whole);
        assert_eq!(reads, 21);
        // A file larger than its metadata said (it grew; `/proc` says 0)
        // is read to its end.
        assert_eq!(read(100, usize::MAX, u64::MAX).0, whole);
        assert_eq!(read(0, 4096, u64::MAX).0, whole);
        // The limit holds whatever the size says.
        let (out, _) = read(20_000, usize::MAX, 1_000);
        assert_eq!(out, whole[..1_004].to_vec());
        let (out, _) = read(0, 7, 50);
        assert_eq!(out.len(), 54);
    }
}
