//! Checking (and fixing) one file: reading, guarding against bad input,
//! running the rules and the fix loop.

use crate::check::{self, Checked, FileKind, Settings, file_error};
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
    pub stamp: Option<crate::write::Stamp>,
}

impl FileReport {
    pub fn has_error(&self) -> bool {
        self.diagnostics.iter().any(|d| d.code.starts_with('E'))
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

/// Whether files of a kind may be UTF-16 or UTF-32: YAML may (YAML 1.2
/// §5.2; go-yaml and PyYAML read UTF-16), while BuildKit reads Dockerfiles,
/// and JSON and TOML readers read their files, as UTF-8 only.
pub fn reads_wide_encodings(kind: FileKind) -> bool {
    matches!(
        kind,
        FileKind::Compose
            | FileKind::HelmValues
            | FileKind::Kubernetes
            | FileKind::GithubActions
            | FileKind::GitlabCi
            | FileKind::Kustomize
            | FileKind::Template
    )
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
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
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

/// A note (code `N…`): information about how a file was read, never a
/// problem; it does not change the exit status.
pub fn file_note(code: &'static str, message: String) -> Diagnostic {
    let mut d = file_error(code, message, Span::new(0, 0));
    d.severity = crate::diagnostic::Severity::Info;
    d
}

/// How much of a file is read first, to find a NUL byte (a binary file)
/// before reading on.
const FIRST_BLOCK: usize = 8 * 1024;

/// Read a regular file of at most `max_file_size` bytes. The limit holds
/// on the read itself, whatever the file's metadata says (`/proc` files
/// report size 0); devices, FIFOs and sockets are refused (E001), and a
/// NUL byte in the first block stops the read (E002).
pub fn read_capped(path: &Path, max_file_size: u64) -> Result<Vec<u8>, Box<Diagnostic>> {
    use std::io::Read;
    let cannot = |e: std::io::Error| {
        Box::new(file_error(
            "E001",
            format!("Cannot read file: {e}"),
            Span::new(0, 0),
        ))
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
    let meta = std::fs::metadata(path).map_err(cannot)?;
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
    let file = std::fs::File::open(path).map_err(cannot)?;
    // The file may have been replaced since `metadata`: check what was opened.
    if !file.metadata().map_err(cannot)?.is_file() {
        return Err(Box::new(file_error(
            "E001",
            "Cannot read file: not a regular file (a device, FIFO or socket)".to_string(),
            Span::new(0, 0),
        )));
    }
    let mut reader = file.take(max_file_size.saturating_add(1));
    let mut bytes = Vec::with_capacity(meta.len().min(FIRST_BLOCK as u64) as usize);
    (&mut reader)
        .take(FIRST_BLOCK as u64)
        .read_to_end(&mut bytes)
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
    reader.read_to_end(&mut bytes).map_err(cannot)?;
    if bytes.len() as u64 > max_file_size {
        return Err(over(None));
    }
    Ok(bytes)
}

/// Read and check a file.
pub fn process_path(
    path: &Path,
    display: &str,
    kind: FileKind,
    settings: &Settings,
    max_file_size: u64,
    mode: FixMode,
) -> FileReport {
    let owned = Some(path.to_path_buf());
    // Before reading: a change after this shows at write time.
    let stamp = std::fs::metadata(path)
        .ok()
        .map(|m| crate::write::Stamp::of(&m));
    let bytes = match read_capped(path, max_file_size) {
        Ok(b) => b,
        Err(d) => return error_report(display, owned, kind, *d),
    };
    match decode_text(bytes, reads_wide_encodings(kind)) {
        Ok(Decoded { text, encoding }) => {
            let local = local_settings(path, kind, settings);
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
            let mut report = process_text(
                text,
                display,
                owned,
                kind,
                local.as_ref().unwrap_or(settings),
                mode,
            );
            if let Some(note) = refused {
                report.diagnostics.push(note);
                report
                    .diagnostics
                    .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
            }
            report.stamp = stamp;
            report
        }
        Err(d) => error_report(display, owned, kind, *d),
    }
}

/// Settings that depend on files beside this one: a Compose file's `.env`,
/// a values file's `Chart.yaml` (`appVersion`, for an empty `tag`), and the
/// repository's context (images it builds, Compose build arguments).
pub fn local_settings(path: &Path, kind: FileKind, settings: &Settings) -> Option<Settings> {
    let own = beside(path, kind, settings);
    let repo = match kind {
        FileKind::Dockerfile
        | FileKind::Compose
        | FileKind::GitlabCi
        | FileKind::Kustomize
        | FileKind::Kubernetes => crate::context::repo_context(path),
        _ => None,
    };
    let Some(repo) = repo else {
        return own;
    };
    let mut s = own.unwrap_or_else(|| settings.clone());
    if kind == FileKind::Dockerfile
        && let Some(args) = repo.args_for(path)
    {
        s.source.compose_args = args.clone();
    }
    if kind == FileKind::GitlabCi {
        s.source.gitlab_variables = crate::context::gitlab_included_variables(path, &repo.root);
    }
    if kind == FileKind::Kubernetes {
        s.source.kustomize_images = repo.kustomize_overrides(path);
    }
    let mut short_names = repo.short_names_for(path);
    if let Some(why) = repo.containers_build(path, kind) {
        short_names.get_or_insert_with(Default::default).built_by = Some(why);
    }
    s.source.short_names = short_names.map(std::sync::Arc::new);
    s.source.repo = Some(repo);
    Some(s)
}

fn beside(path: &Path, kind: FileKind, settings: &Settings) -> Option<Settings> {
    let dir = path.parent()?;
    match kind {
        FileKind::Compose => {
            // Capped like a checked file: a huge `.env` is not read whole.
            let bytes = read_capped(&dir.join(".env"), DEFAULT_MAX_FILE_SIZE).ok()?;
            let text = String::from_utf8(bytes).ok()?;
            let mut s = settings.clone();
            s.source.dotenv = crate::sources::parse_dotenv(&text);
            Some(s)
        }
        FileKind::HelmValues => {
            let text = std::fs::read_to_string(dir.join("Chart.yaml")).ok()?;
            let docs = crate::sources::yaml::parse(&text).ok()?;
            let doc = docs.first()?;
            let mut s = settings.clone();
            s.source.chart_app_version = doc
                .get_scalar(&doc.root, "appVersion")
                .map(|a| a.value.clone());
            s.source.chart = Some(crate::context::chart_facts_cached(dir, &text));
            Some(s)
        }
        FileKind::ContainerdHosts => {
            let namespace = crate::discover::certs_d_namespace(path)?;
            let mut s = settings.clone();
            s.source.hosts_namespace = Some(namespace);
            Some(s)
        }
        FileKind::Dockerfile => {
            let mut s = settings.clone();
            s.source.build_refs = Some(crate::build_refs::for_dockerfile(path));
            Some(s)
        }
        _ => None,
    }
}

/// Check a text that has been read.
pub fn process_text(
    text: String,
    display: &str,
    path: Option<PathBuf>,
    kind: FileKind,
    settings: &Settings,
    mode: FixMode,
) -> FileReport {
    let checked = match check::check_text(kind, &text, settings) {
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
        check::check_text(kind, t, settings)
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
