//! Checking (and fixing) one file: reading, guarding against bad input,
//! running the rules and the fix loop.

use crate::check::{self, Checked};

use crate::kind::FileKind;

use crate::diagnostic::file_note;
use crate::kind::reads_wide_encodings;
use crate::settings::Settings;
use crate::sources::SourceOptions;
use crate::workspace::Workspace;

use crate::diagnostic::file_error;
use crate::diagnostic::{Applicability, Diagnostic};
use crate::fix::{self, Applied};
use crate::site::Span;
use std::path::{Path, PathBuf};

/// The default largest file refit reads.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;

/// What to do about fixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixMode {
    /// Only report.
    Off,
    /// Compute the fixed text (the caller writes it or shows a diff).
    On { unsafe_fixes: bool },
}

/// Everything refit has to say about one file.
#[derive(Debug, Clone)]
pub struct FileReport {
    pub display: String,
    pub path: Option<PathBuf>,
    pub kind: FileKind,
    /// The text that was read, when it could be read as text.
    pub source: Option<String>,
    /// Findings left (after fixing, when fixing) and per-file errors, sorted.
    pub diagnostics: Vec<Diagnostic>,
    /// The fixed text, when fixing changed it.
    pub fixed: Option<String>,
    pub applied: Vec<Applied>,
    /// The text with every fix applied, for formats that suggest fixes
    /// without applying them (`review`).
    pub suggested: Option<String>,
    /// Size and modification time when read, to notice a concurrent edit
    /// before writing a fix.
    pub stamp: Option<crate::stamp::Stamp>,
}

impl FileReport {
    pub fn has_error(&self) -> bool {
        self.diagnostics.iter().any(|d| d.is_file_error())
    }

    /// Findings and errors, not notes: what makes a run exit non-zero.
    pub fn has_findings(&self) -> bool {
        self.diagnostics.iter().any(|d| !d.is_note())
    }

    /// The text the diagnostics' spans point into.
    pub fn current_text(&self) -> Option<&str> {
        self.fixed.as_deref().or(self.source.as_deref())
    }
}

fn error_report(display: &str, path: Option<PathBuf>, kind: FileKind, d: Diagnostic) -> FileReport {
    FileReport {
        display: display.to_string(),
        path,
        kind,
        source: None,
        diagnostics: vec![d],
        fixed: None,
        applied: Vec::new(),
        suggested: None,
        stamp: None,
    }
}

fn binary(at: usize) -> Box<Diagnostic> {
    Box::new(file_error(
        "E002",
        format!("File is binary (NUL byte at offset {at})"),
        Span::new(0, 0),
    ))
}

/// Decode bytes as text, or say why they are not text (E002).
pub fn decode(bytes: Vec<u8>) -> Result<String, Box<Diagnostic>> {
    decode_text(bytes, false).map(|d| d.text)
}

/// Text read from a file, and the encoding it was in when not UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub text: String,
    /// `Some("UTF-16LE")` and the like for a file with a UTF-16 or UTF-32
    /// byte-order mark: offsets in `text` are not the file's, so refit
    /// reports on it but writes no fix.
    pub encoding: Option<&'static str>,
}

/// Decode bytes as UTF-8, or, when `wide` allows it, as UTF-16/UTF-32 when
/// they start with that byte-order mark (YAML 1.2 §5.2 allows all four).
pub fn decode_text(bytes: Vec<u8>, wide: bool) -> Result<Decoded, Box<Diagnostic>> {
    let not_text = |what: String| Box::new(file_error("E002", what, Span::new(0, 0)));
    let wide: Option<(&'static str, usize, bool)> = match bytes.as_slice() {
        _ if !wide => None,
        [0xFF, 0xFE, 0, 0, ..] => Some(("UTF-32LE", 4, false)),
        [0, 0, 0xFE, 0xFF, ..] => Some(("UTF-32BE", 4, true)),
        [0xFF, 0xFE, ..] => Some(("UTF-16LE", 2, false)),
        [0xFE, 0xFF, ..] => Some(("UTF-16BE", 2, true)),
        _ => None,
    };
    if let Some((name, width, big)) = wide {
        let body = &bytes[width..];
        if !body.len().is_multiple_of(width) {
            return Err(not_text(format!(
                "File has a {name} byte-order mark but its length is not a whole number of {width}-byte units"
            )));
        }
        let text = if width == 2 {
            let units: Vec<u16> = body
                .chunks_exact(2)
                .map(|c| {
                    if big {
                        u16::from_be_bytes([c[0], c[1]])
                    } else {
                        u16::from_le_bytes([c[0], c[1]])
                    }
                })
                .collect();
            String::from_utf16(&units).map_err(|_| {
                not_text(format!("File is not valid {name} (an unpaired surrogate)"))
            })?
        } else {
            body.chunks_exact(4)
                .map(|c| {
                    let n = if big {
                        u32::from_be_bytes([c[0], c[1], c[2], c[3]])
                    } else {
                        u32::from_le_bytes([c[0], c[1], c[2], c[3]])
                    };
                    char::from_u32(n)
                })
                .collect::<Option<String>>()
                .ok_or_else(|| not_text(format!("File is not valid {name}")))?
        };
        if let Some(at) = text.find('\0') {
            return Err(not_text(format!(
                "File is binary (NUL character at offset {at} of its {name} text)"
            )));
        }
        return Ok(Decoded {
            text,
            encoding: Some(name),
        });
    }
    if let Some(at) = memchr::memchr(0, &bytes) {
        return Err(binary(at));
    }
    String::from_utf8(bytes)
        .map(|text| Decoded {
            text,
            encoding: None,
        })
        .map_err(|e| {
            let at = e.utf8_error().valid_up_to();
            not_text(format!(
                "File is not valid UTF-8 (invalid byte at offset {at})"
            ))
        })
}

/// How much of a file is read first, to find a NUL byte (a binary file)
/// before reading on.
const FIRST_BLOCK: usize = 8 * 1024;

/// Read a regular file of at most `max_file_size` bytes. The limit holds
/// on the read itself, whatever the file's metadata says (`/proc` files
/// report size 0); devices, FIFOs and sockets are refused (E001), and a
/// NUL byte in the first block stops the read (E002).
pub fn read_capped(path: &Path, max_file_size: u64) -> Result<Vec<u8>, Box<Diagnostic>> {
    read_stamped(path, max_file_size).map(|(bytes, _)| bytes)
}

/// `read_capped`, with the file's [`Stamp`](crate::stamp::Stamp) as it was
/// when opened (before reading: a change after it shows at write time).
/// One `open` and one `fstat`: the file is opened without blocking (a FIFO
/// opens at once) and judged by what was opened, not by a `stat` of the
/// name before it.
pub fn read_stamped(
    path: &Path,
    max_file_size: u64,
) -> Result<(Vec<u8>, crate::stamp::Stamp), Box<Diagnostic>> {
    read_opened(path, max_file_size).map(|(bytes, stamp, _)| (bytes, stamp))
}

/// [`read_stamped`], and whether the path's last part is a link: it is
/// opened with `O_NOFOLLOW` first (a link, refused so, is opened again
/// through the link), so the caller knows the file's canonical path from
/// its folder's without an `lstat`.
fn read_opened(
    path: &Path,
    max_file_size: u64,
) -> Result<(Vec<u8>, crate::stamp::Stamp, bool), Box<Diagnostic>> {
    let cannot = |e: std::io::Error| {
        // Mostly a mistyped path on the command line, file or folder: say
        // so, not "cannot read file" with the OS's words for it.
        let message = if e.kind() == std::io::ErrorKind::NotFound {
            "No such file or folder: the path does not exist".to_string()
        } else {
            format!("Cannot read file: {e}")
        };
        Box::new(file_error("E001", message, Span::new(0, 0)))
    };
    let over = |size: Option<u64>| {
        let message = match size {
            Some(n) => {
                format!("File is {n} bytes, over the {max_file_size}-byte limit (--max-file-size)")
            }
            None => format!("File is over the {max_file_size}-byte limit (--max-file-size)"),
        };
        Box::new(file_error("E003", message, Span::new(0, 0)))
    };
    let (file, link) = match open_nonblocking(path, true) {
        Ok(file) => (file, false),
        Err(e) if is_link_error(&e) => (open_nonblocking(path, false).map_err(cannot)?, true),
        Err(e) => return Err(cannot(e)),
    };
    let meta = file.metadata().map_err(cannot)?;
    if meta.is_dir() {
        return Err(Box::new(file_error(
            "E001",
            "Cannot read file: it is a folder".to_string(),
            Span::new(0, 0),
        )));
    }
    if !meta.is_file() {
        return Err(Box::new(file_error(
            "E001",
            "Cannot read file: not a regular file (a device, FIFO or socket)".to_string(),
            Span::new(0, 0),
        )));
    }
    if meta.len() > max_file_size {
        return Err(over(Some(meta.len())));
    }
    let stamp = crate::stamp::Stamp::of(&meta);
    let limit = max_file_size.saturating_add(1);
    let mut file = file;
    let mut bytes =
        Vec::with_capacity(meta.len().saturating_add(1).min(FIRST_BLOCK as u64) as usize);
    // The reads stop at the size `fstat` said, without a last read of 0
    // bytes (`bounded::read_to_end_sized`).
    crate::bounded::read_to_end_sized(
        &mut file,
        &mut bytes,
        meta.len(),
        limit.min(FIRST_BLOCK as u64),
    )
    .map_err(cannot)?;
    // UTF-16 and UTF-32 text (after its byte-order mark) holds NUL bytes;
    // `decode_text` decides for those.
    let wide = matches!(
        bytes.as_slice(),
        [0xFF, 0xFE, ..] | [0xFE, 0xFF, ..] | [0, 0, 0xFE, 0xFF, ..]
    );
    if !wide && let Some(at) = bytes.iter().position(|&b| b == 0) {
        return Err(binary(at));
    }
    // A first block shorter than asked for ended at the end of the file:
    // no read is left to make.
    if bytes.len() == FIRST_BLOCK {
        let read = bytes.len() as u64;
        crate::bounded::read_to_end_sized(
            &mut file,
            &mut bytes,
            meta.len().saturating_sub(read),
            limit.saturating_sub(read),
        )
        .map_err(cannot)?;
    }
    if bytes.len() as u64 > max_file_size {
        return Err(over(None));
    }
    Ok((bytes, stamp, link))
}

/// Open for reading without blocking on a FIFO (`O_NONBLOCK` on unix; a
/// regular file reads as usual with it); with `no_follow`, a link in the
/// last part of the path is refused (`ELOOP`).
fn open_nonblocking(path: &Path, no_follow: bool) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let follow = if no_follow { libc::O_NOFOLLOW } else { 0 };
        options.custom_flags(libc::O_NONBLOCK | follow);
    }
    #[cfg(not(unix))]
    let _ = no_follow;
    options.open(path)
}

/// What opening a link with `O_NOFOLLOW` answers (`ELOOP`).
fn is_link_error(e: &std::io::Error) -> bool {
    #[cfg(unix)]
    {
        e.raw_os_error() == Some(libc::ELOOP)
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

/// Read and check a file, with what the workspace says about the files
/// around it.
pub fn process_path(
    path: &Path,
    display: &str,
    kind: FileKind,
    settings: &Settings,
    workspace: &Workspace,
    max_file_size: u64,
    mode: FixMode,
) -> FileReport {
    let owned = Some(path.to_path_buf());
    let (bytes, stamp, link) = match read_opened(path, max_file_size) {
        Ok(b) => b,
        Err(d) => return error_report(display, owned, kind, *d),
    };
    match decode_text(bytes, reads_wide_encodings(kind)) {
        Ok(Decoded { text, encoding }) => {
            let base = crate::check::options(settings);
            let input = match (link, crate::realpath::canonical_not_link(path)) {
                (false, Ok(real)) => workspace.source_options_of(path, real, kind, base),
                _ => workspace.source_options(path, kind, base),
            };
            // Fixes are byte edits of the text as decoded; writing them
            // back would re-encode the file, so refit does not fix it.
            let refused = match (encoding, mode) {
                (Some(name), FixMode::On { .. }) => Some(file_note(
                    "N002",
                    format!(
                        "File is {name}: refit checks it but does not fix it (it writes only UTF-8)"
                    ),
                )),
                _ => None,
            };
            let mode = if refused.is_some() {
                FixMode::Off
            } else {
                mode
            };
            let mut report = process_with(text, display, owned, kind, settings, &input, mode);
            fragment_not_error(&mut report, path, kind, workspace);
            report.stamp = Some(stamp);
            if let Some(note) = refused {
                report.diagnostics.push(note);
                report
                    .diagnostics
                    .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
            }
            report
        }
        Err(d) => error_report(display, owned, kind, *d),
    }
}

/// A YAML file that documentation includes as text (a page's example,
/// which may elide lines with `...`) is not input to a tool that parses
/// it: its syntax error is a note (N001), not a file error that fails the
/// run.
fn fragment_not_error(report: &mut FileReport, path: &Path, kind: FileKind, workspace: &Workspace) {
    if !crate::kind::is_yaml(kind) || !report.diagnostics.iter().any(|d| d.code == "E004") {
        return;
    }
    let Some(by) = workspace.included_as_text(path) else {
        return;
    };
    for d in report.diagnostics.iter_mut().filter(|d| d.code == "E004") {
        let why = d
            .message
            .strip_prefix("invalid YAML: ")
            .unwrap_or(&d.message)
            .to_string();
        *d = file_note(
            "N001",
            format!(
                "Skipped as YAML: `{by}` includes it as text, a documentation fragment that is not valid YAML ({why}); not checked"
            ),
        );
    }
}

/// Check a text with nothing known around it (stdin, a test).
pub fn process_text(
    text: String,
    display: &str,
    path: Option<PathBuf>,
    kind: FileKind,
    settings: &Settings,
    mode: FixMode,
) -> FileReport {
    let input = check::options(settings);
    process_with(text, display, path, kind, settings, &input, mode)
}

/// Check a text that has been read, with what a front-end is handed
/// (`input`: the command line's values and the workspace's facts).
pub fn process_with(
    text: String,
    display: &str,
    path: Option<PathBuf>,
    kind: FileKind,
    settings: &Settings,
    input: &SourceOptions,
    mode: FixMode,
) -> FileReport {
    let checked = match check::check_with(kind, &text, settings, input) {
        Ok(c) => c,
        Err(d) => {
            let mut r = error_report(display, path, kind, *d);
            r.source = Some(text);
            return r;
        }
    };
    let FixMode::On { unsafe_fixes } = mode else {
        return FileReport {
            display: display.to_string(),
            path,
            kind,
            source: Some(text),
            diagnostics: checked.diagnostics,
            fixed: None,
            applied: Vec::new(),
            suggested: None,
            stamp: None,
        };
    };
    let has_fix = checked.diagnostics.iter().any(|d| {
        d.fix
            .as_ref()
            .is_some_and(|f| f.applicability == Applicability::Safe || unsafe_fixes)
    });
    if !has_fix {
        return FileReport {
            display: display.to_string(),
            path,
            kind,
            source: Some(text),
            diagnostics: checked.diagnostics,
            fixed: None,
            applied: Vec::new(),
            suggested: None,
            stamp: None,
        };
    }
    let outcome = fix::fix(&text, checked, unsafe_fixes, |t: &str| {
        check::check_with(kind, t, settings, input)
    });
    let Checked { diagnostics, .. } = outcome.checked;
    let mut diagnostics = diagnostics;
    if let Some(reason) = outcome.refused {
        diagnostics.push(file_error(
            "E005",
            format!("Fix refused: {reason}"),
            Span::new(0, 0),
        ));
        diagnostics.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    }
    let fixed = (outcome.text != text).then_some(outcome.text);
    FileReport {
        display: display.to_string(),
        path,
        kind,
        source: Some(text),
        diagnostics,
        fixed,
        applied: outcome.applied,
        suggested: None,
        stamp: None,
    }
}
