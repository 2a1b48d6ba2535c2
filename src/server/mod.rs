//! `refit server`: findings and fixes in the editor, over the Language
//! Server Protocol (stdio). A thin layer over the library: the same check
//! and the same fixes as `refit check`, on the editor's unsaved buffer.

mod analysis;
pub mod framing;
pub mod position;

use crate::config;
use crate::diagnostic::{Applicability, Diagnostic, Severity};
use crate::run::{Run, RunOptions};
use analysis::{Analysis, FileSettings};
use crossbeam_channel::RecvTimeoutError;
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOptions, CodeActionOrCommand, CodeActionParams,
    CodeActionProviderCapability, CodeDescription, DiagnosticSeverity, DidChangeTextDocumentParams,
    DidChangeWatchedFilesParams, DidChangeWatchedFilesRegistrationOptions,
    DidCloseTextDocumentParams, DidOpenTextDocumentParams, DidSaveTextDocumentParams,
    FileSystemWatcher, GlobPattern, Hover, HoverContents, HoverParams, HoverProviderCapability,
    InitializeParams, MarkupContent, MarkupKind, NumberOrString, PositionEncodingKind,
    PublishDiagnosticsParams, Registration, RegistrationParams, SaveOptions, ServerCapabilities,
    ServerInfo, TextDocumentSyncCapability, TextDocumentSyncKind, TextDocumentSyncOptions,
    TextDocumentSyncSaveOptions, TextEdit, Uri, WorkspaceEdit,
};
use position::{Encoding, Lines};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

/// `refit server --help`: what the server supports.
pub const HELP: &str = "Run the language server: LSP over stdin/stdout, for editors.

Supports: diagnostics for every file kind `refit check` reads, from the
unsaved buffer (debounced, incremental sync), with the rule code, a link to
the rule's page and the severity the nearest refit.toml gives; code actions
(each finding's fix, labelled safe or unsafe; `Ignore CODE on this line`;
`source.fixAll.refit`, which applies exactly what `refit check --fix`
would); hover on an image reference (registry, repository, tag, digest,
normalized form, and what the rules say). Positions use UTF-16, or UTF-8
when the client offers it. refit.toml changes apply without a restart
(saved, or watched through workspace/didChangeWatchedFiles), and an invalid
refit.toml is shown as a diagnostic on itself.";

/// The code action kind of "fix all safe problems": `source.fixAll.refit`.
pub const FIX_ALL_KIND: &str = "source.fixAll.refit";

/// The least time between two checks of one document while it is being
/// edited: a change to a document not checked within this time is checked
/// at once (leading edge); changes inside it are coalesced into one check
/// at its end (trailing edge).
pub const DEBOUNCE: Duration = Duration::from_millis(50);

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Serve on stdin/stdout until the client says `exit` or closes stdin.
/// refit frames the messages itself ([`framing`]): malformed JSON, a
/// garbled header or an oversized message gets a JSON-RPC error answer
/// and the server goes on.
pub fn run_stdio() -> Result<(), Error> {
    let (to_server, server_receiver) = crossbeam_channel::bounded::<Message>(0);
    let (server_sender, from_server) = crossbeam_channel::bounded::<Message>(0);
    let (answers, raw) = crossbeam_channel::unbounded::<Vec<u8>>();
    let writer = std::thread::Builder::new()
        .name("refit-lsp-writer".to_string())
        .spawn(move || write_stdout(&from_server, &raw))?;
    std::thread::Builder::new()
        .name("refit-lsp-reader".to_string())
        .spawn(move || read_stdin(&to_server, &answers))?;
    serve(
        Connection {
            sender: server_sender,
            receiver: server_receiver,
        },
        DEBOUNCE,
    )?;
    // The server's sender is gone: the writer ends after what is queued.
    // The reader may still wait on stdin; the process ends without it.
    writer
        .join()
        .map_err(|_| "the writer thread panicked")?
        .map_err(Error::from)
}

/// Read framed messages from stdin and hand them to the server; answer
/// what is not a message. Ends at the end of input or after `exit`.
fn read_stdin(
    to_server: &crossbeam_channel::Sender<Message>,
    answers: &crossbeam_channel::Sender<Vec<u8>>,
) {
    let stdin = std::io::stdin();
    let mut reader = framing::Reader::new(stdin.lock());
    loop {
        let body = match reader.next_frame() {
            Ok(framing::Frame::Body(b)) => b,
            Ok(framing::Frame::Bad(why)) => {
                let _ = answers.send(framing::error_response(
                    None,
                    framing::INVALID_REQUEST,
                    &why,
                ));
                continue;
            }
            Ok(framing::Frame::Eof) | Err(_) => return,
        };
        let value = match serde_json::from_slice::<serde_json::Value>(&body) {
            Ok(v) => v,
            Err(e) => {
                let _ = answers.send(framing::error_response(
                    None,
                    framing::PARSE_ERROR,
                    &format!("Parse error: {e}"),
                ));
                continue;
            }
        };
        let id = value.get("id").cloned();
        let message = match serde_json::from_value::<Message>(value) {
            Ok(m) => m,
            Err(e) => {
                let _ = answers.send(framing::error_response(
                    id,
                    framing::INVALID_REQUEST,
                    &format!("Invalid request: {e}"),
                ));
                continue;
            }
        };
        let exit = matches!(&message, Message::Notification(n) if n.method == "exit");
        if to_server.send(message).is_err() || exit {
            return;
        }
    }
}

/// Write the server's messages and the reader's error answers to stdout.
fn write_stdout(
    from_server: &crossbeam_channel::Receiver<Message>,
    raw: &crossbeam_channel::Receiver<Vec<u8>>,
) -> std::io::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut reader_open = true;
    loop {
        if reader_open {
            crossbeam_channel::select! {
                recv(from_server) -> m => match m {
                    Ok(m) => m.write(&mut out)?,
                    Err(_) => return Ok(()),
                },
                recv(raw) -> r => match r {
                    Ok(body) => framing::write_frame(&mut out, &body)?,
                    Err(_) => reader_open = false,
                },
            }
        } else {
            match from_server.recv() {
                Ok(m) => m.write(&mut out)?,
                Err(_) => return Ok(()),
            }
        }
    }
}

/// Serve on a connection (stdio, or in memory for tests).
pub fn serve(connection: Connection, debounce: Duration) -> Result<(), Error> {
    // Initialize parameters that do not read are answered, and the client
    // may try again: bad input never ends the server.
    let (id, init) = loop {
        let (id, params) = connection.initialize_start()?;
        match serde_json::from_value::<InitializeParams>(params) {
            Ok(init) => break (id, init),
            Err(e) => connection.sender.send(Message::Response(Response::new_err(
                id,
                ErrorCode::InvalidParams as i32,
                format!("initialize: {e}"),
            )))?,
        }
    };
    let utf8 = init
        .capabilities
        .general
        .as_ref()
        .and_then(|g| g.position_encodings.as_ref())
        .is_some_and(|e| e.contains(&PositionEncodingKind::UTF8));
    let encoding = if utf8 {
        Encoding::Utf8
    } else {
        Encoding::Utf16
    };
    let dynamic_watch = init
        .capabilities
        .workspace
        .as_ref()
        .and_then(|w| w.did_change_watched_files.as_ref())
        .and_then(|d| d.dynamic_registration)
        .unwrap_or(false);
    let result = serde_json::json!({
        "capabilities": capabilities(encoding),
        "serverInfo": ServerInfo {
            name: "refit".to_string(),
            version: Some(env!("CARGO_PKG_VERSION").to_string()),
        },
    });
    connection.initialize_finish(id, result)?;
    let mut server = Server {
        connection,
        encoding,
        debounce,
        run: new_run()?,
        docs: HashMap::new(),
        next_request: 0,
    };
    if dynamic_watch {
        server.watch_config_files()?;
    }
    server.main_loop()
}

fn capabilities(encoding: Encoding) -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(match encoding {
            Encoding::Utf8 => PositionEncodingKind::UTF8,
            Encoding::Utf16 => PositionEncodingKind::UTF16,
        }),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                    include_text: Some(false),
                })),
                ..Default::default()
            },
        )),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![
                CodeActionKind::QUICKFIX,
                CodeActionKind::new(FIX_ALL_KIND),
                CodeActionKind::SOURCE_FIX_ALL,
            ]),
            ..Default::default()
        })),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        ..Default::default()
    }
}

/// One open document.
struct Doc {
    uri: Uri,
    path: PathBuf,
    text: String,
    lines: Lines,
    version: i32,
    /// The last check, and the version it was made for.
    analysis: Option<(i32, Option<Analysis>)>,
    /// When the document is due to be checked again (debounce).
    due: Option<Instant>,
    /// When it was last checked.
    checked_at: Option<Instant>,
}

struct Server {
    connection: Connection,
    encoding: Encoding,
    debounce: Duration,
    /// Settings per file, as `refit check --fix` reads them.
    run: Run,
    docs: HashMap<String, Doc>,
    next_request: i32,
}

/// The file path of a `file:` URI.
pub fn uri_to_path(uri: &Uri) -> Option<PathBuf> {
    let s = uri.as_str();
    let rest = s.strip_prefix("file://")?;
    // `file:///path` or `file://localhost/path`.
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(h) = rest.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(h, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        Some(PathBuf::from(std::ffi::OsString::from_vec(out)))
    }
    #[cfg(not(unix))]
    {
        String::from_utf8(out).ok().map(PathBuf::from)
    }
}

/// A `file:` URI for a path.
pub fn path_to_uri(path: &Path) -> Option<Uri> {
    let absolute = std::path::absolute(path).ok()?;
    let mut s = String::from("file://");
    for b in absolute.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            s.push(char::from(b));
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    Uri::from_str(&s).ok()
}

/// A run as `refit check --fix` with no flags: the settings and kinds of
/// files come from their `refit.toml`.
fn new_run() -> Result<Run, Error> {
    Ok(Run::new(RunOptions {
        fix: true,
        ..RunOptions::default()
    })?)
}

fn is_config_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| crate::kind::CONFIG_FILE_NAMES.contains(&n))
}

fn severity(s: Severity) -> DiagnosticSeverity {
    match s {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Info => DiagnosticSeverity::INFORMATION,
    }
}

fn fix_label(title: &str, applicability: Applicability) -> String {
    match applicability {
        Applicability::Safe => title.to_string(),
        Applicability::Unsafe => format!("{title} (unsafe fix)"),
    }
}

/// The smallest single edit that turns `old` into `new`.
fn minimal_edit(old: &str, new: &str) -> (usize, usize, String) {
    let prefix = old
        .char_indices()
        .zip(new.chars())
        .find(|((_, a), b)| a != b)
        .map_or(old.len().min(new.len()), |((i, _), _)| i);
    let prefix = crate::diagnostic::floor_char_boundary(old, prefix)
        .min(crate::diagnostic::floor_char_boundary(new, prefix));
    let old_rest = &old[prefix..];
    let new_rest = &new[prefix..];
    let mut suffix = old_rest
        .bytes()
        .rev()
        .zip(new_rest.bytes().rev())
        .take_while(|(a, b)| a == b)
        .count();
    while suffix > 0
        && (!old_rest.is_char_boundary(old_rest.len() - suffix)
            || !new_rest.is_char_boundary(new_rest.len() - suffix))
    {
        suffix -= 1;
    }
    (
        prefix,
        old.len() - suffix,
        new_rest[..new_rest.len() - suffix].to_string(),
    )
}

impl Server {
    fn send(&self, message: Message) -> Result<(), Error> {
        self.connection.sender.send(message)?;
        Ok(())
    }

    fn notify(&self, method: &str, params: impl serde::Serialize) -> Result<(), Error> {
        self.send(Message::Notification(Notification::new(
            method.to_string(),
            params,
        )))
    }

    fn watch_config_files(&mut self) -> Result<(), Error> {
        // The config files, and the files the repository context is read
        // from (`context::is_context_file`).
        let context_globs = [
            "**/*.{yml,yaml,hcl,json,sh,bash,mk,tpl,conf}",
            "**/{Makefile,GNUmakefile,makefile,Justfile,justfile,Tiltfile,Kustomization}",
            "**/templates/**",
        ];
        let watchers = crate::kind::CONFIG_FILE_NAMES
            .iter()
            .map(|name| format!("**/{name}"))
            .chain(context_globs.iter().map(|g| g.to_string()))
            .map(|glob| FileSystemWatcher {
                glob_pattern: GlobPattern::String(glob),
                kind: None,
            })
            .collect();
        let options = DidChangeWatchedFilesRegistrationOptions { watchers };
        let params = RegistrationParams {
            registrations: vec![Registration {
                id: "refit-config".to_string(),
                method: "workspace/didChangeWatchedFiles".to_string(),
                register_options: Some(serde_json::to_value(options)?),
            }],
        };
        self.next_request += 1;
        self.send(Message::Request(Request::new(
            RequestId::from(format!("refit-{}", self.next_request)),
            "client/registerCapability".to_string(),
            params,
        )))
    }

    fn main_loop(&mut self) -> Result<(), Error> {
        loop {
            let now = Instant::now();
            let next_due = self.docs.values().filter_map(|d| d.due).min();
            let timeout = next_due.map_or(Duration::from_secs(3600), |due| {
                due.saturating_duration_since(now)
            });
            match self.connection.receiver.recv_timeout(timeout) {
                Ok(Message::Request(req)) => {
                    if self.connection.handle_shutdown(&req)? {
                        return Ok(());
                    }
                    self.handle_request(req)?;
                }
                Ok(Message::Notification(n)) => {
                    if n.method == "exit" {
                        return Ok(());
                    }
                    self.handle_notification(n)?;
                }
                Ok(Message::Response(_)) => {}
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            }
            let now = Instant::now();
            let due: Vec<String> = self
                .docs
                .iter()
                .filter(|(_, d)| d.due.is_some_and(|t| t <= now))
                .map(|(k, _)| k.clone())
                .collect();
            for key in due {
                self.check_and_publish(&key)?;
            }
        }
    }

    fn handle_request(&mut self, req: Request) -> Result<(), Error> {
        let id = req.id.clone();
        let response = match req.method.as_str() {
            "textDocument/codeAction" => {
                match serde_json::from_value::<CodeActionParams>(req.params) {
                    Ok(p) => Response::new_ok(id, self.code_actions(&p)?),
                    Err(e) => Response::new_err(id, ErrorCode::InvalidParams as i32, e.to_string()),
                }
            }
            "textDocument/hover" => match serde_json::from_value::<HoverParams>(req.params) {
                Ok(p) => Response::new_ok(id, self.hover(&p)?),
                Err(e) => Response::new_err(id, ErrorCode::InvalidParams as i32, e.to_string()),
            },
            other => Response::new_err(
                id,
                ErrorCode::MethodNotFound as i32,
                format!("refit server does not support `{other}`"),
            ),
        };
        self.send(Message::Response(response))
    }

    fn handle_notification(&mut self, n: Notification) -> Result<(), Error> {
        match n.method.as_str() {
            "textDocument/didOpen" => {
                let Ok(p) = serde_json::from_value::<DidOpenTextDocumentParams>(n.params) else {
                    return Ok(());
                };
                let Some(path) = uri_to_path(&p.text_document.uri) else {
                    return Ok(());
                };
                let key = p.text_document.uri.as_str().to_string();
                let text = p.text_document.text;
                self.docs.insert(
                    key.clone(),
                    Doc {
                        uri: p.text_document.uri,
                        path,
                        lines: Lines::new(&text),
                        text,
                        version: p.text_document.version,
                        analysis: None,
                        due: None,
                        checked_at: None,
                    },
                );
                // Opening is answered at once; typing is debounced.
                self.check_and_publish(&key)?;
            }
            "textDocument/didChange" => {
                let Ok(p) = serde_json::from_value::<DidChangeTextDocumentParams>(n.params) else {
                    return Ok(());
                };
                let key = p.text_document.uri.as_str().to_string();
                let encoding = self.encoding;
                let debounce = self.debounce;
                let Some(doc) = self.docs.get_mut(&key) else {
                    return Ok(());
                };
                for change in p.content_changes {
                    match change.range {
                        Some(range) => {
                            let start = doc.lines.offset(&doc.text, range.start, encoding);
                            let end = doc.lines.offset(&doc.text, range.end, encoding);
                            let (start, end) = (start.min(end), start.max(end));
                            doc.text.replace_range(start..end, &change.text);
                        }
                        None => doc.text = change.text,
                    }
                    doc.lines = Lines::new(&doc.text);
                }
                doc.version = p.text_document.version;
                doc.analysis = None;
                let now = Instant::now();
                doc.due = Some(doc.checked_at.map_or(now, |t| (t + debounce).max(now)));
                // An open build file, kustomization or Compose file: the
                // workspace reads its facts from the buffer, and the other
                // open documents are checked again after the same pause.
                if let Some(path) = uri_to_path(&p.text_document.uri)
                    && crate::workspace::is_context_file(&path)
                {
                    self.run.workspace().edited(&path, &doc.text);
                    let due = doc.due;
                    for (other, d) in self.docs.iter_mut() {
                        if *other != key {
                            d.analysis = None;
                            d.due = due;
                        }
                    }
                }
            }
            "textDocument/didClose" => {
                let Ok(p) = serde_json::from_value::<DidCloseTextDocumentParams>(n.params) else {
                    return Ok(());
                };
                if let Some(doc) = self.docs.remove(p.text_document.uri.as_str()) {
                    self.publish(&doc.uri, Vec::new(), None)?;
                }
            }
            "textDocument/didSave" => {
                let Ok(p) = serde_json::from_value::<DidSaveTextDocumentParams>(n.params) else {
                    return Ok(());
                };
                let path = uri_to_path(&p.text_document.uri);
                if path.as_deref().is_some_and(is_config_file) {
                    self.reload_config()?;
                } else if let Some(path) = path.filter(|p| crate::workspace::is_context_file(p)) {
                    self.context_changed(&[path])?;
                }
            }
            "workspace/didChangeWatchedFiles" => {
                let Ok(p) = serde_json::from_value::<DidChangeWatchedFilesParams>(n.params) else {
                    return Ok(());
                };
                if p.changes
                    .iter()
                    .any(|c| uri_to_path(&c.uri).is_some_and(|p| is_config_file(&p)))
                {
                    self.reload_config()?;
                } else {
                    let changed: Vec<PathBuf> = p
                        .changes
                        .iter()
                        .filter_map(|c| uri_to_path(&c.uri))
                        .filter(|p| crate::workspace::is_context_file(p))
                        .collect();
                    if !changed.is_empty() {
                        self.context_changed(&changed)?;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Files the workspace reads facts from changed, appeared or went away
    /// (a bake file, a kustomization, a Compose file, a chart template):
    /// the workspace reads those files again, and every open document is
    /// checked again.
    fn context_changed(&mut self, paths: &[PathBuf]) -> Result<(), Error> {
        for path in paths {
            self.run.workspace().changed(path);
        }
        self.check_all_again()
    }

    /// Check every open document again, now.
    fn check_all_again(&mut self) -> Result<(), Error> {
        for doc in self.docs.values_mut() {
            doc.analysis = None;
        }
        let keys: Vec<String> = self.docs.keys().cloned().collect();
        for key in keys {
            self.check_and_publish(&key)?;
        }
        Ok(())
    }

    /// A `refit.toml` changed: forget every cached config, check again.
    fn reload_config(&mut self) -> Result<(), Error> {
        // Which folders hold a config file is read again too.
        crate::marks::clear();
        self.run = new_run()?;
        self.check_all_again()
    }

    /// Check a document now if its last check is stale.
    fn ensure_checked(&mut self, key: &str) {
        let Some(doc) = self.docs.get(key) else {
            return;
        };
        if doc
            .analysis
            .as_ref()
            .is_some_and(|(v, _)| *v == doc.version)
        {
            return;
        }
        let version = doc.version;
        let result = match analysis::settings_for(&self.run, &doc.path) {
            Ok(Some(fs)) => Some(analysis::analyze(&doc.text, &fs)),
            Ok(None) => None,
            Err(e) => {
                // The file's config is broken: say so on the file, and
                // check it with the defaults meanwhile.
                crate::discover::classify(&doc.path).map(|kind| {
                    let fs = FileSettings {
                        kind,
                        settings: crate::settings::Settings::default(),
                        input: Default::default(),
                        max_file_size: crate::engine::DEFAULT_MAX_FILE_SIZE,
                        unsafe_fixes: false,
                    };
                    let mut a = analysis::analyze(&doc.text, &fs);
                    a.diagnostics.insert(
                        0,
                        crate::diagnostic::file_error(
                            "E000",
                            format!("Invalid configuration, checked with the defaults: {e}"),
                            crate::site::Span::new(0, 0),
                        ),
                    );
                    a
                })
            }
        };
        if let Some(doc) = self.docs.get_mut(key) {
            doc.analysis = Some((version, result));
            doc.due = None;
            doc.checked_at = Some(Instant::now());
        }
    }

    fn check_and_publish(&mut self, key: &str) -> Result<(), Error> {
        if self.docs.get(key).is_some_and(|d| is_config_file(&d.path)) {
            return self.publish_config_diagnostics(key);
        }
        self.ensure_checked(key);
        let Some(doc) = self.docs.get(key) else {
            return Ok(());
        };
        let diagnostics = match &doc.analysis {
            Some((_, Some(a))) => a
                .diagnostics
                .iter()
                .map(|d| self.lsp_diagnostic(doc, d))
                .collect(),
            _ => Vec::new(),
        };
        self.publish(&doc.uri, diagnostics, Some(doc.version))
    }

    /// An invalid `refit.toml` is shown on itself.
    fn publish_config_diagnostics(&mut self, key: &str) -> Result<(), Error> {
        let Some(doc) = self.docs.get_mut(key) else {
            return Ok(());
        };
        doc.due = None;
        let mut problem = config::parse_raw(&doc.text, &doc.path).err();
        if problem.is_none()
            && crate::bounded::read_regular(&doc.path, crate::config::MAX_CONFIG_BYTES)
                .ok()
                .as_deref()
                == Some(&doc.text)
        {
            // What is saved is what the buffer says: validate it fully
            // (rule codes, `extend`, globs).
            problem = config::load(&doc.path).err();
        }
        let diagnostics = problem
            .map(|e| {
                let line = e
                    .message
                    .strip_prefix("line ")
                    .and_then(|r| r.split(':').next())
                    .and_then(|n| n.trim().parse::<u32>().ok())
                    .map_or(0, |n| n.saturating_sub(1));
                let end = doc
                    .text
                    .lines()
                    .nth(line as usize)
                    .map_or(0, |l| l.encode_utf16().count());
                lsp_types::Diagnostic {
                    range: lsp_types::Range::new(
                        lsp_types::Position::new(line, 0),
                        lsp_types::Position::new(line, u32::try_from(end).unwrap_or(0)),
                    ),
                    severity: Some(DiagnosticSeverity::ERROR),
                    code: Some(NumberOrString::String("config".to_string())),
                    source: Some("refit".to_string()),
                    message: e.message,
                    ..Default::default()
                }
            })
            .into_iter()
            .collect();
        let (uri, version) = (doc.uri.clone(), doc.version);
        self.publish(&uri, diagnostics, Some(version))
    }

    fn publish(
        &self,
        uri: &Uri,
        diagnostics: Vec<lsp_types::Diagnostic>,
        version: Option<i32>,
    ) -> Result<(), Error> {
        self.notify(
            "textDocument/publishDiagnostics",
            PublishDiagnosticsParams {
                uri: uri.clone(),
                diagnostics,
                version,
            },
        )
    }

    fn lsp_diagnostic(&self, doc: &Doc, d: &Diagnostic) -> lsp_types::Diagnostic {
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str(&format!("\n{help}"));
        }
        let href = crate::report::links::help_uri(d).and_then(|u| Uri::from_str(&u).ok());
        lsp_types::Diagnostic {
            range: doc
                .lines
                .range(&doc.text, d.span.start, d.span.end, self.encoding),
            severity: Some(severity(d.severity)),
            code: Some(NumberOrString::String(d.code.to_string())),
            code_description: href.map(|href| CodeDescription { href }),
            source: Some("refit".to_string()),
            message,
            data: Some(serde_json::json!({ "name": d.name })),
            ..Default::default()
        }
    }

    fn text_edit(&self, doc: &Doc, start: usize, end: usize, content: String) -> TextEdit {
        TextEdit {
            range: doc.lines.range(&doc.text, start, end, self.encoding),
            new_text: content,
        }
    }

    fn workspace_edit(&self, doc: &Doc, edits: Vec<TextEdit>) -> WorkspaceEdit {
        WorkspaceEdit {
            changes: Some(HashMap::from([(doc.uri.clone(), edits)])),
            ..Default::default()
        }
    }

    fn code_actions(&mut self, p: &CodeActionParams) -> Result<Vec<CodeActionOrCommand>, Error> {
        let key = p.text_document.uri.as_str().to_string();
        self.ensure_checked(&key);
        let Some(doc) = self.docs.get(&key) else {
            return Ok(Vec::new());
        };
        let Some((_, Some(analysis))) = &doc.analysis else {
            return Ok(Vec::new());
        };
        let only = p.context.only.as_ref();
        let wants = |kind: &CodeActionKind| {
            only.is_none_or(|only| {
                only.iter().any(|o| {
                    kind.as_str() == o.as_str()
                        || kind.as_str().starts_with(&format!("{}.", o.as_str()))
                })
            })
        };
        let start = doc.lines.offset(&doc.text, p.range.start, self.encoding);
        let end = doc.lines.offset(&doc.text, p.range.end, self.encoding);
        let mut actions = Vec::new();
        let quickfix = CodeActionKind::QUICKFIX;
        if wants(&quickfix) {
            let mut ignored: Vec<(usize, &'static str)> = Vec::new();
            let index = crate::diagnostic::LineIndex::new(&doc.text);
            for d in &analysis.diagnostics {
                let touches = d.span.start <= end && start <= d.span.end;
                if !touches || d.is_file_error() {
                    continue;
                }
                let lsp = self.lsp_diagnostic(doc, d);
                if let Some(fix) = &d.fix {
                    let edits = fix
                        .edits
                        .iter()
                        .map(|e| self.text_edit(doc, e.span.start, e.span.end, e.content.clone()))
                        .collect();
                    actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                        title: fix_label(&fix.title, fix.applicability),
                        kind: Some(quickfix.clone()),
                        diagnostics: Some(vec![lsp.clone()]),
                        edit: Some(self.workspace_edit(doc, edits)),
                        is_preferred: Some(fix.applicability == Applicability::Safe),
                        ..Default::default()
                    }));
                }
                let line = index.line_of(d.span.start);
                if d.code != "SUP001" && !ignored.contains(&(line, d.code)) {
                    ignored.push((line, d.code));
                    let edits =
                        crate::add_ignore::edits(analysis.kind, &doc.text, std::slice::from_ref(d));
                    if !edits.is_empty() {
                        let edits = edits
                            .into_iter()
                            .map(|e| self.text_edit(doc, e.span.start, e.span.end, e.content))
                            .collect();
                        actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                            title: format!("Ignore {} on this line", d.code),
                            kind: Some(quickfix.clone()),
                            diagnostics: Some(vec![lsp]),
                            edit: Some(self.workspace_edit(doc, edits)),
                            ..Default::default()
                        }));
                    }
                }
            }
        }
        let fix_all = CodeActionKind::new(FIX_ALL_KIND);
        if (wants(&fix_all) || wants(&CodeActionKind::SOURCE_FIX_ALL))
            && let Some(fixed) = analysis.fix_all(&doc.text)
        {
            let (s, e, content) = minimal_edit(&doc.text, &fixed);
            let edit = self.text_edit(doc, s, e, content);
            actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: if analysis.unsafe_fixes {
                    "refit: fix all problems in this file (unsafe fixes included by refit.toml)"
                        .to_string()
                } else {
                    "refit: fix all safe problems in this file".to_string()
                },
                kind: Some(fix_all),
                edit: Some(self.workspace_edit(doc, vec![edit])),
                ..Default::default()
            }));
        }
        Ok(actions)
    }

    fn hover(&mut self, p: &HoverParams) -> Result<Option<Hover>, Error> {
        let key = p
            .text_document_position_params
            .text_document
            .uri
            .as_str()
            .to_string();
        self.ensure_checked(&key);
        let Some(doc) = self.docs.get(&key) else {
            return Ok(None);
        };
        let Some((_, Some(analysis))) = &doc.analysis else {
            return Ok(None);
        };
        let offset = doc.lines.offset(
            &doc.text,
            p.text_document_position_params.position,
            self.encoding,
        );
        let Some(site) = analysis.site_at(offset) else {
            return Ok(None);
        };
        Ok(Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: analysis.hover(site),
            }),
            range: Some(
                doc.lines
                    .range(&doc.text, site.span.start, site.span.end, self.encoding),
            ),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_edit_covers_only_the_change() {
        let (s, e, c) = minimal_edit(
            "FROM node:20\nRUN x\n",
            "FROM docker.io/library/node:20\nRUN x\n",
        );
        assert_eq!((s, e, c.as_str()), (5, 5, "docker.io/library/"));
        let (s, e, c) = minimal_edit("aé", "aè");
        assert_eq!((s, e, c.as_str()), (1, 3, "è"));
        assert_eq!(minimal_edit("same", "same"), (4, 4, String::new()));
    }

    #[test]
    fn uris_and_paths_round_trip() {
        let path = PathBuf::from("/tmp/sp ace/Dockerfile");
        let uri = path_to_uri(&path);
        assert_eq!(
            uri.as_ref().map(|u| u.as_str()),
            Some("file:///tmp/sp%20ace/Dockerfile")
        );
        assert_eq!(uri.as_ref().and_then(uri_to_path), Some(path));
    }
}
