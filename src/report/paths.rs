//! Repository-relative paths for the machine formats, and stable fingerprints.

use crate::engine::FileReport;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The repository root: the nearest folder upward from the working
/// directory with a `.git`, else the working directory.
fn repo_root() -> Option<&'static PathBuf> {
    static ROOT: OnceLock<Option<PathBuf>> = OnceLock::new();
    ROOT.get_or_init(|| {
        let cwd = std::env::current_dir().ok()?;
        let root = cwd
            .ancestors()
            .find(|d| d.join(".git").exists())
            .unwrap_or(&cwd)
            .to_path_buf();
        Some(root)
    })
    .as_ref()
}

/// A report's path relative to the repository root, with `/` separators.
pub fn repo_relative(report: &FileReport) -> String {
    let Some(path) = &report.path else {
        return report.display.clone();
    };
    let absolute = crate::realpath::absolute(path);
    match repo_root().and_then(|root| absolute.strip_prefix(root).ok()) {
        Some(rel) => slash(rel),
        // Outside the repository: an absolute file URI, never a path
        // starting with `/` (which readers take as relative to a base).
        None => format!("file://{}", slash(&absolute)),
    }
}

/// A report's location as a URI reference (RFC 3986) for SARIF's
/// `artifactLocation.uri`: the repository-relative path, or a `file://`
/// URI outside the repository, each byte outside the unreserved and
/// path-safe characters percent-encoded (a space is `%20`, a name that is
/// not UTF-8 keeps its bytes).
pub fn repo_uri(report: &FileReport) -> String {
    let Some(path) = &report.path else {
        return encode_path(report.display.as_bytes());
    };
    let absolute = crate::realpath::absolute(path);
    match repo_root().and_then(|root| absolute.strip_prefix(root).ok()) {
        Some(rel) => encode_path(&path_bytes(rel)),
        None => format!("file://{}", encode_path(&path_bytes(&absolute))),
    }
}

#[cfg(unix)]
fn path_bytes(p: &Path) -> Vec<u8> {
    std::os::unix::ffi::OsStrExt::as_bytes(p.as_os_str()).to_vec()
}

#[cfg(not(unix))]
fn path_bytes(p: &Path) -> Vec<u8> {
    slash(p).into_bytes()
}

/// Percent-encode a path: `/` separates segments; unreserved characters
/// and the sub-delimiters and `@` that a segment may hold stay. `:` is
/// encoded too, so a first segment is never read as a scheme.
pub fn encode_path(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        let keep = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'/'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b'@'
            );
        if keep {
            out.push(char::from(b));
        } else if b == b'\\' && cfg!(windows) {
            out.push('/');
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn slash(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

/// FNV-1a, 64 bits: stable across runs, platforms and Rust versions.
pub fn fingerprint(parts: &[&str]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0)) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

/// A fingerprint that survives edits elsewhere in the file: the rule, the
/// path, the text of the flagged line, and which occurrence of that line
/// text it is.
pub fn finding_fingerprint(
    report: &FileReport,
    code: &str,
    line_text: &str,
    occurrence: usize,
) -> String {
    fingerprint(&[
        code,
        &repo_relative(report),
        line_text.trim(),
        &occurrence.to_string(),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(encode_path(b"app/Dockerfile"), "app/Dockerfile");
        assert_eq!(encode_path(b"sp ace/Dockerfile"), "sp%20ace/Dockerfile");
        assert_eq!(
            encode_path("a%b#c?d:e[f]\u{e9}".as_bytes()),
            "a%25b%23c%3Fd%3Ae%5Bf%5D%C3%A9"
        );
        assert_eq!(encode_path(b"x\xffy"), "x%FFy");
    }
}
