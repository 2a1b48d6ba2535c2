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
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.clone());
    match repo_root().and_then(|root| absolute.strip_prefix(root).ok()) {
        Some(rel) => slash(rel),
        // Outside the repository: an absolute file URI, never a path
        // starting with `/` (which readers take as relative to a base).
        None => format!("file://{}", slash(&absolute)),
    }
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
