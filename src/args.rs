//! Argument types shared by the command line (`cli`) and the online
//! commands (`online::cli`), so neither imports the other.

use clap::ValueEnum;
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    // `Text` in code, as before, so code of other subcommands keeps compiling.
    /// One line per item.
    #[value(name = "human", alias = "text")]
    Text,
    Json,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ConfigArgs {
    /// Use this config file for every file (no discovery).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Ignore every config file.
    #[arg(long, conflicts_with = "config")]
    pub isolated: bool,
}

/// The largest `--files-from` list read: a million paths of 200 bytes fit,
/// and a list that never ends (a device, a runaway pipe) is refused.
pub const MAX_FILE_LIST: u64 = 256 * 1024 * 1024;

/// The paths of a `--files-from` list (`-`: stdin), in their order.
pub fn read_file_list(list: &Path) -> Result<Vec<PathBuf>, String> {
    let mut bytes = Vec::new();
    let name = list.display();
    let read = if list.as_os_str() == "-" {
        std::io::stdin()
            .lock()
            .take(MAX_FILE_LIST + 1)
            .read_to_end(&mut bytes)
    } else {
        std::fs::File::open(list).and_then(|f| f.take(MAX_FILE_LIST + 1).read_to_end(&mut bytes))
    };
    read.map_err(|e| format!("--files-from {name}: {e}"))?;
    if bytes.len() as u64 > MAX_FILE_LIST {
        return Err(format!(
            "--files-from {name}: the list is larger than {MAX_FILE_LIST} bytes"
        ));
    }
    Ok(parse_file_list(&bytes))
}

/// NUL-separated when the list has a NUL byte (names may then hold line
/// breaks), else one path per line (LF or CRLF). Empty entries are skipped.
pub fn parse_file_list(bytes: &[u8]) -> Vec<PathBuf> {
    let nul = bytes.contains(&0);
    bytes
        .split(|&b| if nul { b == 0 } else { b == b'\n' })
        .map(|entry| {
            if nul {
                entry
            } else {
                entry.strip_suffix(b"\r").unwrap_or(entry)
            }
        })
        .filter(|entry| !entry.is_empty())
        .map(path_from_bytes)
        .collect()
}

#[cfg(unix)]
fn path_from_bytes(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
}

#[cfg(not(unix))]
fn path_from_bytes(bytes: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[u8]) -> Vec<String> {
        parse_file_list(list)
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn lines_lf_crlf_and_blank_lines() {
        assert_eq!(
            names(b"a/Dockerfile\r\nb c/compose.yaml\n\nd.yaml"),
            ["a/Dockerfile", "b c/compose.yaml", "d.yaml"]
        );
        assert!(names(b"").is_empty());
        assert!(names(b"\n\n").is_empty());
    }

    #[test]
    fn nul_separated_names_keep_line_breaks() {
        assert_eq!(
            names(b"a\nb/Dockerfile\0c.yaml\0"),
            ["a\nb/Dockerfile", "c.yaml"]
        );
    }

    #[test]
    fn a_missing_list_is_an_error_naming_it() {
        let err = read_file_list(Path::new("/nonexistent/refit-list")).unwrap_err();
        assert!(
            err.starts_with("--files-from /nonexistent/refit-list: "),
            "{err}"
        );
    }
}
