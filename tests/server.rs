//! `refit server` over in-memory JSON-RPC: the protocol as an editor
//! drives it.

use lsp_server::{Connection, Message, Notification, Request, RequestId, Response};
use refit::server::{FIX_ALL_KIND, path_to_uri, serve};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

struct Client {
    conn: Connection,
    thread: Option<JoinHandle<()>>,
    next: i32,
    /// Notifications seen while waiting for something else.
    backlog: Vec<Notification>,
    /// The server's answer to `initialize`.
    init: Value,
}

fn uri(path: &Path) -> String {
    path_to_uri(path)
        .map(|u| u.as_str().to_string())
        .unwrap_or_default()
}

impl Client {
    fn start(capabilities: Value) -> Client {
        let (server, client) = Connection::memory();
        let thread = std::thread::spawn(move || {
            if let Err(e) = serve(server, Duration::from_millis(200)) {
                panic!("server failed: {e}");
            }
        });
        let mut c = Client {
            conn: client,
            thread: Some(thread),
            next: 0,
            backlog: Vec::new(),
            init: Value::Null,
        };
        let result = c.request(
            "initialize",
            json!({"processId": null, "rootUri": null, "capabilities": capabilities}),
        );
        assert!(result.get("capabilities").is_some(), "{result}");
        c.notify("initialized", json!({}));
        c.init = result;
        c
    }

    fn notify(&self, method: &str, params: Value) {
        self.conn
            .sender
            .send(Message::Notification(Notification::new(
                method.to_string(),
                params,
            )))
            .expect("send");
    }

    fn recv(&self) -> Message {
        self.conn
            .receiver
            .recv_timeout(Duration::from_secs(20))
            .expect("the server answers within 20 s")
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = RequestId::from(self.next);
        self.conn
            .sender
            .send(Message::Request(Request::new(
                id.clone(),
                method.to_string(),
                params,
            )))
            .expect("send");
        loop {
            match self.recv() {
                Message::Response(Response {
                    id: rid,
                    response_result,
                }) if rid == id => match response_result {
                    Ok(v) => return v,
                    Err(e) => panic!("{method}: {e:?}"),
                },
                Message::Request(r) => {
                    // client/registerCapability: answer it.
                    self.conn
                        .sender
                        .send(Message::Response(Response::new_ok(r.id, Value::Null)))
                        .expect("send");
                }
                Message::Notification(n) => self.backlog.push(n),
                Message::Response(_) => {}
            }
        }
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        if let Some(i) = self
            .backlog
            .iter()
            .position(|n| n.method == "textDocument/publishDiagnostics" && n.params["uri"] == uri)
        {
            let n = self.backlog.remove(i);
            return n.params["diagnostics"]
                .as_array()
                .cloned()
                .unwrap_or_default();
        }
        loop {
            match self.recv() {
                Message::Notification(n)
                    if n.method == "textDocument/publishDiagnostics" && n.params["uri"] == uri =>
                {
                    return n.params["diagnostics"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default();
                }
                Message::Notification(n) => self.backlog.push(n),
                Message::Request(r) => {
                    self.conn
                        .sender
                        .send(Message::Response(Response::new_ok(r.id, Value::Null)))
                        .expect("send");
                }
                Message::Response(_) => {}
            }
        }
    }

    fn open(&mut self, path: &Path, text: &str) -> Vec<Value> {
        let u = uri(path);
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": u, "languageId": "dockerfile", "version": 1, "text": text}}),
        );
        self.diagnostics(&u)
    }

    fn shutdown(mut self) {
        let r = self.request("shutdown", Value::Null);
        assert_eq!(r, Value::Null);
        self.notify("exit", Value::Null);
        if let Some(t) = self.thread.take() {
            t.join().expect("the server thread ends after exit");
        }
    }
}

fn codes(diags: &[Value]) -> Vec<String> {
    diags
        .iter()
        .map(|d| d["code"].as_str().unwrap_or("").to_string())
        .collect()
}

/// Apply LSP text edits (UTF-16 positions) to a text.
fn apply(text: &str, edits: &[Value]) -> String {
    let offset = |pos: &Value| -> usize {
        let line = pos["line"].as_u64().unwrap_or(0) as usize;
        let ch = pos["character"].as_u64().unwrap_or(0) as usize;
        let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
        let mut units = 0;
        for (i, c) in text[start..].char_indices() {
            if units >= ch || c == '\n' {
                return start + i;
            }
            units += c.len_utf16();
        }
        text.len()
    };
    let mut spans: Vec<(usize, usize, String)> = edits
        .iter()
        .map(|e| {
            (
                offset(&e["range"]["start"]),
                offset(&e["range"]["end"]),
                e["newText"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    spans.sort_by_key(|s| std::cmp::Reverse(s.0));
    let mut out = text.to_string();
    for (s, e, t) in spans {
        out.replace_range(s..e, &t);
    }
    out
}

fn edits_of(action: &Value, u: &str) -> Vec<Value> {
    action["edit"]["changes"][u]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn code_actions(c: &mut Client, u: &str, line: u32, only: Option<&str>) -> Vec<Value> {
    let mut context = json!({"diagnostics": []});
    if let Some(o) = only {
        context["only"] = json!([o]);
    }
    c.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": u},
            "range": {"start": {"line": line, "character": 0}, "end": {"line": line, "character": 200}},
            "context": context,
        }),
    )
    .as_array()
    .cloned()
    .unwrap_or_default()
}

fn refit_fix(dir: &Path, name: &str, text: &str) -> String {
    let work = tempfile::tempdir().expect("tempdir");
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        if entry.path().is_file() {
            std::fs::copy(entry.path(), work.path().join(entry.file_name())).expect("copy");
        }
    }
    let target = work.path().join(name);
    std::fs::write(&target, text).expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_refit"))
        .arg("check")
        .arg("--fix")
        .arg(&target)
        .output()
        .expect("run refit");
    assert!(out.status.code().is_some(), "{out:?}");
    std::fs::read_to_string(&target).expect("read fixed")
}

fn workspace() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().to_path_buf();
    (dir, root)
}

#[test]
fn initialize_negotiates_utf16_by_default_and_utf8_when_offered() {
    let c = Client::start(json!({}));
    let caps = c.init.clone();
    assert_eq!(caps["capabilities"]["positionEncoding"], "utf-16");
    assert_eq!(caps["capabilities"]["hoverProvider"], true);
    assert_eq!(caps["capabilities"]["textDocumentSync"]["change"], 2);
    let kinds = caps["capabilities"]["codeActionProvider"]["codeActionKinds"].to_string();
    assert!(kinds.contains(FIX_ALL_KIND), "{kinds}");
    assert_eq!(caps["serverInfo"]["name"], "refit");
    c.shutdown();
    let c = Client::start(json!({"general": {"positionEncodings": ["utf-8", "utf-16"]}}));
    let caps = c.init.clone();
    assert_eq!(caps["capabilities"]["positionEncoding"], "utf-8");
    c.shutdown();
}

#[test]
fn diagnostics_use_utf16_positions_after_non_ascii_text() {
    let (_d, root) = workspace();
    let path = root.join("compose.yaml");
    // 'é' is one UTF-16 unit (two bytes); '😀' is two units (four bytes).
    let text = "services: {wéb😀: {image: \"node:20\"}}\n";
    std::fs::write(&path, text).expect("write");
    let mut c = Client::start(json!({}));
    let diags = c.open(&path, text);
    let reg = diags
        .iter()
        .find(|d| d["code"] == "REG001")
        .unwrap_or_else(|| panic!("REG001 in {diags:?}"));
    // `services: {wéb😀: {image: "` is 26 UTF-16 units, then `node:20`.
    let before = "services: {wéb😀: {image: \"";
    let units = before.encode_utf16().count() as u64;
    assert_eq!(reg["range"]["start"]["line"], 0);
    assert_eq!(reg["range"]["start"]["character"].as_u64(), Some(units));
    assert_eq!(reg["range"]["end"]["character"].as_u64(), Some(units + 7));
    assert_eq!(reg["source"], "refit");
    assert_eq!(reg["severity"], 2);
    // A link only where a documentation base is known (docs-url, or the
    // repository in the package metadata), never a dead one.
    match option_env!("CARGO_PKG_REPOSITORY").filter(|r| !r.is_empty()) {
        Some(_) => assert!(
            reg["codeDescription"]["href"]
                .as_str()
                .is_some_and(|h| h.ends_with("REG001.md")),
            "{reg}"
        ),
        None => assert!(reg.get("codeDescription").is_none(), "{reg}"),
    }
    c.shutdown();
}

#[test]
fn diagnostics_use_utf8_positions_when_negotiated() {
    let (_d, root) = workspace();
    let path = root.join("compose.yaml");
    let text = "services: {wéb😀: {image: \"node:20\"}}\n";
    let mut c = Client::start(json!({"general": {"positionEncodings": ["utf-8"]}}));
    let diags = c.open(&path, text);
    let reg = diags
        .iter()
        .find(|d| d["code"] == "REG001")
        .cloned()
        .unwrap_or_default();
    let bytes = "services: {wéb😀: {image: \"".len() as u64;
    assert_eq!(reg["range"]["start"]["character"].as_u64(), Some(bytes));
    c.shutdown();
}

#[test]
fn incremental_changes_are_checked_from_the_buffer() {
    let (_d, root) = workspace();
    let path = root.join("Dockerfile");
    // Nothing on disk: the buffer is what counts.
    let text = "FROM docker.io/library/node:20.1\n";
    let mut c = Client::start(json!({}));
    let u = uri(&path);
    assert_eq!(codes(&c.open(&path, text)), Vec::<String>::new());
    // Replace `20.1` with `latest` (line 0, characters 28..32).
    c.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": u, "version": 2},
            "contentChanges": [{
                "range": {"start": {"line": 0, "character": 28}, "end": {"line": 0, "character": 32}},
                "text": "latest"
            }]
        }),
    );
    let diags = c.diagnostics(&u);
    assert_eq!(codes(&diags), vec!["TAG002"], "{diags:?}");
    assert_eq!(diags[0]["range"]["start"]["character"], 5);
    // Two quick edits: one check for the last one (debounced).
    for (v, end, t) in [(3, 0, "FROM alpine\n"), (4, 11, "FROM alpine:3.20")] {
        c.notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": u, "version": v},
                "contentChanges": [{
                    "range": {"start": {"line": 1, "character": 0}, "end": {"line": 1, "character": end}},
                    "text": t
                }]
            }),
        );
    }
    let diags = c.diagnostics(&u);
    assert_eq!(codes(&diags), vec!["TAG002", "REG001"], "{diags:?}");
    assert_eq!(
        diags[1]["range"]["start"],
        json!({"line": 1, "character": 5})
    );
    c.shutdown();
}

#[test]
fn code_actions_offer_the_fix_and_an_ignore_comment() {
    let (_d, root) = workspace();
    let path = root.join("Dockerfile");
    let text = "FROM node:20\nRUN echo hi\n";
    std::fs::write(&path, text).expect("write");
    let mut c = Client::start(json!({}));
    let u = uri(&path);
    c.open(&path, text);
    let actions = code_actions(&mut c, &u, 0, None);
    let titles: Vec<&str> = actions.iter().filter_map(|a| a["title"].as_str()).collect();
    let fix = actions
        .iter()
        .find(|a| a["title"] == "Qualify as `docker.io/library/node:20`")
        .unwrap_or_else(|| panic!("{titles:?}"));
    assert_eq!(fix["kind"], "quickfix");
    assert_eq!(fix["isPreferred"], true);
    assert_eq!(
        apply(text, &edits_of(fix, &u)),
        "FROM docker.io/library/node:20\nRUN echo hi\n"
    );
    let ignore = actions
        .iter()
        .find(|a| a["title"] == "Ignore REG001 on this line")
        .unwrap_or_else(|| panic!("{titles:?}"));
    let ignored = apply(text, &edits_of(ignore, &u));
    assert_eq!(
        ignored,
        "# refit: ignore[REG001]\nFROM node:20\nRUN echo hi\n"
    );
    // The comment really silences the finding.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": u, "version": 2}, "contentChanges": [{"text": ignored}]}),
    );
    assert!(!codes(&c.diagnostics(&u)).contains(&"REG001".to_string()));
    c.shutdown();
}

#[test]
fn unsafe_fixes_are_labelled() {
    let (_d, root) = workspace();
    let path = root.join("Dockerfile");
    let text = "FROM gcr.io/google_containers/pause:3.1\n";
    let mut c = Client::start(json!({}));
    let u = uri(&path);
    c.open(&path, text);
    let actions = code_actions(&mut c, &u, 0, Some("quickfix"));
    let unsafe_titles: Vec<&str> = actions
        .iter()
        .filter_map(|a| a["title"].as_str())
        .filter(|t| t.ends_with("(unsafe fix)"))
        .collect();
    assert!(!unsafe_titles.is_empty(), "{actions:?}");
    for a in &actions {
        if a["title"]
            .as_str()
            .is_some_and(|t| t.ends_with("(unsafe fix)"))
        {
            assert_eq!(a["isPreferred"], false);
        }
    }
    c.shutdown();
}

#[test]
fn fix_all_is_exactly_what_check_fix_writes() {
    let (_d, root) = workspace();
    let cases = [
        (
            "Dockerfile",
            "# syntax=docker/dockerfile:1\nARG BASE=node:20\nFROM $BASE AS build\nFROM index.docker.io/library/nginx:1.27\nCOPY --from=build /a /b\n",
        ),
        (
            "compose.yaml",
            "services:\n  web:\n    image: nginx:1.27 # the site\n  cache:\n    image: \"k8s.gcr.io/pause:3.1\"\n",
        ),
    ];
    let mut c = Client::start(json!({}));
    for (name, text) in cases {
        let path = root.join(name);
        std::fs::write(&path, text).expect("write");
        let u = uri(&path);
        c.open(&path, text);
        let actions = code_actions(&mut c, &u, 0, Some(FIX_ALL_KIND));
        assert_eq!(actions.len(), 1, "{actions:?}");
        assert_eq!(actions[0]["kind"], FIX_ALL_KIND);
        let fixed = apply(text, &edits_of(&actions[0], &u));
        assert_ne!(fixed, text);
        assert_eq!(fixed, refit_fix(&root, name, text), "{name}");
        // `source.fixAll` asks for it too (editors' fix-on-save).
        let generic = code_actions(&mut c, &u, 0, Some("source.fixAll"));
        assert_eq!(generic.len(), 1);
    }
    c.shutdown();
}

#[test]
fn hover_shows_the_reference_and_the_findings() {
    let (_d, root) = workspace();
    let path = root.join("Dockerfile");
    let text = "ARG V=20\nFROM node:${V}\n";
    let mut c = Client::start(json!({}));
    let u = uri(&path);
    c.open(&path, text);
    let hover = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": u}, "position": {"line": 1, "character": 7}}),
    );
    let value = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(value.contains("**`node:20`**"), "{value}");
    assert!(
        value.contains("- normalized: `docker.io/library/node:20`"),
        "{value}"
    );
    assert!(
        value.contains("- registry: `docker.io` (implicit)"),
        "{value}"
    );
    assert!(value.contains("- written as: `node:${V}`"), "{value}");
    assert!(value.contains("REG001 implicit-registry"), "{value}");
    assert_eq!(hover["range"]["start"], json!({"line": 1, "character": 5}));
    let nothing = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": u}, "position": {"line": 0, "character": 1}}),
    );
    assert_eq!(nothing, Value::Null);
    c.shutdown();
}

#[test]
fn config_changes_apply_without_restart_and_errors_show_on_the_config() {
    let (_d, root) = workspace();
    let path = root.join("Dockerfile");
    let text = "FROM node:20\n";
    std::fs::write(&path, text).expect("write");
    let mut c = Client::start(
        json!({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}}),
    );
    let u = uri(&path);
    assert!(codes(&c.open(&path, text)).contains(&"REG001".to_string()));
    let config = root.join("refit.toml");
    std::fs::write(&config, "ignore = [\"REG001\"]\n").expect("write");
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri(&config), "type": 1}]}),
    );
    assert_eq!(codes(&c.diagnostics(&u)), Vec::<String>::new());
    // [severity] applies too.
    std::fs::write(&config, "[severity]\nREG001 = \"error\"\n").expect("write");
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri(&config), "type": 2}]}),
    );
    let diags = c.diagnostics(&u);
    assert_eq!(diags[0]["severity"], 1, "{diags:?}");
    // An invalid config, opened in the editor, is a diagnostic on itself.
    let bad = "selct = [\"REG\"]\n";
    std::fs::write(&config, bad).expect("write");
    let cu = uri(&config);
    let on_config = c.open(&config, bad);
    assert_eq!(on_config.len(), 1, "{on_config:?}");
    let message = on_config[0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("did you mean `select`"), "{message}");
    assert_eq!(on_config[0]["range"]["start"]["line"], 0);
    // Fixing it in the buffer clears it.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": cu, "version": 2}, "contentChanges": [{"text": "select = [\"REG\"]\n"}]}),
    );
    assert_eq!(c.diagnostics(&cu), Vec::<Value>::new());
    c.shutdown();
}

#[test]
fn build_files_changed_on_disk_are_read_again() {
    let (_d, root) = workspace();
    // A repository root, so STG001 judges stages by the build files.
    std::fs::create_dir_all(root.join(".git")).expect("mkdir");
    let path = root.join("Dockerfile");
    let text = "FROM docker.io/library/alpine:3.20 AS dev\nRUN true\nFROM docker.io/library/alpine:3.20\nRUN true\n";
    std::fs::write(&path, text).expect("write");
    let mut c = Client::start(
        json!({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}}),
    );
    let u = uri(&path);
    assert!(codes(&c.open(&path, text)).contains(&"STG001".to_string()));
    // A bake file now builds `dev` by name.
    let bake = root.join("docker-bake.hcl");
    std::fs::write(&bake, "target \"dev\" {\n  target = \"dev\"\n}\n").expect("write");
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri(&bake), "type": 1}]}),
    );
    assert!(!codes(&c.diagnostics(&u)).contains(&"STG001".to_string()));
    // And deleting it brings the finding back (a save of a build file the
    // editor has open counts too).
    std::fs::remove_file(&bake).expect("rm");
    c.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": uri(&bake)}}),
    );
    assert!(codes(&c.diagnostics(&u)).contains(&"STG001".to_string()));
    c.shutdown();
}

#[test]
fn an_unsaved_build_file_buffer_updates_the_workspace() {
    let (_d, root) = workspace();
    std::fs::create_dir_all(root.join(".git")).expect("mkdir");
    let path = root.join("app").join("Dockerfile");
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    let text = "FROM acme/base:1.0\n";
    std::fs::write(&path, text).expect("write");
    let makefile = root.join("Makefile");
    std::fs::write(&makefile, "all:\n\ttrue\n").expect("write");
    let mut c = Client::start(json!({}));
    let u = uri(&path);
    assert_eq!(codes(&c.open(&path, text)), vec!["REG001"]);
    // The Makefile is opened and edited, not saved: its buffer says the
    // repository builds `acme/base`, so the Dockerfile's image is not a pull.
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri(&makefile), "languageId": "makefile", "version": 1, "text": "all:\n\ttrue\n"}}),
    );
    c.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri(&makefile), "version": 2},
            "contentChanges": [{"text": "all:\n\tdocker build -t acme/base .\n"}]
        }),
    );
    assert_eq!(codes(&c.diagnostics(&u)), Vec::<String>::new());
    // Undone in the buffer: the finding is back, with nothing saved.
    c.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri(&makefile), "version": 3},
            "contentChanges": [{"text": "all:\n\ttrue\n"}]
        }),
    );
    assert_eq!(codes(&c.diagnostics(&u)), vec!["REG001"]);
    c.shutdown();
}

#[test]
fn chart_templates_changed_on_disk_are_read_again() {
    let (_d, root) = workspace();
    std::fs::create_dir_all(root.join("templates")).expect("mkdir");
    std::fs::write(
        root.join("Chart.yaml"),
        "apiVersion: v2\nname: app\nversion: 0.1.0\n",
    )
    .expect("write");
    let template = root.join("templates/deployment.yaml");
    std::fs::write(&template, "image: {{ .Values.image.repository }}\n").expect("write");
    let path = root.join("values.yaml");
    let text = "image:\n  repository: nginx\n  tag: \"1.25\"\n";
    std::fs::write(&path, text).expect("write");
    let mut c = Client::start(
        json!({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}}),
    );
    let u = uri(&path);
    let qualify = "Qualify as `docker.io/library/nginx:1.25`";
    let titles = |c: &mut Client| -> Vec<String> {
        code_actions(c, &u, 1, Some("quickfix"))
            .iter()
            .filter_map(|a| a["title"].as_str().map(str::to_string))
            .collect()
    };
    assert!(codes(&c.open(&path, text)).contains(&"REG001".to_string()));
    assert!(titles(&mut c).iter().any(|t| t == qualify));
    // The template now joins a registry value with the repository: a
    // prefix would double it, so the fix is gone.
    std::fs::write(
        &template,
        "image: {{ .Values.global.imageRegistry }}/{{ .Values.image.repository }}\n",
    )
    .expect("write");
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri(&template), "type": 2}]}),
    );
    assert!(codes(&c.diagnostics(&u)).contains(&"REG001".to_string()));
    assert!(!titles(&mut c).iter().any(|t| t == qualify));
    // A template of any name counts, saved in the editor too.
    std::fs::write(&template, "image: {{ .Values.image.repository }}\n").expect("write");
    let notes = root.join("templates/NOTES.txt");
    std::fs::write(&notes, "Installed.\n").expect("write");
    c.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": uri(&notes)}}),
    );
    assert!(codes(&c.diagnostics(&u)).contains(&"REG001".to_string()));
    assert!(titles(&mut c).iter().any(|t| t == qualify));
    c.shutdown();
}

#[test]
fn huge_documents_respect_max_file_size() {
    let (_d, root) = workspace();
    std::fs::write(root.join("refit.toml"), "max-file-size = 100\n").expect("write");
    let path = root.join("Dockerfile");
    let text = format!("FROM node:20\n{}", "RUN true\n".repeat(50));
    let mut c = Client::start(json!({}));
    let diags = c.open(&path, &text);
    assert_eq!(codes(&diags), vec!["E003"], "{diags:?}");
    c.shutdown();
}

#[test]
fn unknown_requests_get_an_error_and_the_server_goes_on() {
    let mut c = Client::start(json!({}));
    c.next += 1;
    let id = RequestId::from(c.next);
    c.conn
        .sender
        .send(Message::Request(Request::new(
            id.clone(),
            "textDocument/definition".to_string(),
            json!({}),
        )))
        .expect("send");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        assert!(Instant::now() < deadline);
        if let Message::Response(r) = c.recv()
            && r.id == id
        {
            assert!(r.response_result.is_err());
            break;
        }
    }
    c.shutdown();
}
