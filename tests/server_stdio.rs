//! `refit server` as a real process over pipes, fed bad input: malformed
//! JSON, a message that claims a terabyte, garbled and missing headers.
//! Each gets a JSON-RPC error answer and the server goes on answering.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

struct Server {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
}

/// Read framed messages from the server's stdout on a thread.
fn frames(stdout: impl Read + Send + 'static) -> Receiver<Value> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let mut r = BufReader::new(stdout);
        loop {
            let mut length = None;
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some(n) = line.strip_prefix("Content-Length: ") {
                    length = n.parse::<usize>().ok();
                }
            }
            let Some(n) = length else { return };
            let mut body = vec![0; n];
            if r.read_exact(&mut body).is_err() {
                return;
            }
            match serde_json::from_slice(&body) {
                Ok(v) => {
                    if tx.send(v).is_err() {
                        return;
                    }
                }
                Err(_) => return,
            }
        }
    });
    rx
}

impl Server {
    fn start() -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut child = Command::new(env!("CARGO_BIN_EXE_refit"))
            .arg("server")
            .current_dir(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("refit server starts");
        let stdin = child.stdin.take().expect("stdin");
        let messages = frames(child.stdout.take().expect("stdout"));
        let mut s = Server {
            child,
            stdin,
            messages,
        };
        // Parameters that do not read are answered; the client may retry.
        s.send(&json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"capabilities": 5}}));
        let refused = s.next();
        assert_eq!(refused["id"], 0, "{refused}");
        assert_eq!(refused["error"]["code"], -32602, "{refused}");
        s.send(&json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"processId": null, "rootUri": null, "capabilities": {}}}));
        let init = s.next();
        assert_eq!(init["id"], 1, "{init}");
        assert!(init["result"]["capabilities"].is_object(), "{init}");
        s.send(&json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}));
        s
    }

    fn raw(&mut self, bytes: &[u8]) {
        self.stdin.write_all(bytes).expect("write");
        self.stdin.flush().expect("flush");
    }

    fn send(&mut self, v: &Value) {
        let body = v.to_string();
        self.raw(format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes());
    }

    fn next(&self) -> Value {
        self.messages
            .recv_timeout(Duration::from_secs(20))
            .expect("the server answers within 20 s")
    }

    /// The server still answers: a hover on a document never opened.
    fn still_answers(&mut self, id: i64) {
        self.send(
            &json!({"jsonrpc": "2.0", "id": id, "method": "textDocument/hover",
            "params": {"textDocument": {"uri": "file:///nowhere/Dockerfile"},
                       "position": {"line": 0, "character": 0}}}),
        );
        let answer = self.next();
        assert_eq!(answer["id"], id, "{answer}");
        assert!(answer.get("error").is_none(), "{answer}");
    }

    fn error_code(&self) -> (i64, Value) {
        let answer = self.next();
        let code = answer["error"]["code"].as_i64().unwrap_or(0);
        (code, answer)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn malformed_json_gets_a_parse_error_and_the_server_goes_on() {
    let mut s = Server::start();
    let body = br#"{"jsonrpc": "2.0", "id": 2, "method": "#;
    s.raw(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    s.raw(body);
    let (code, answer) = s.error_code();
    assert_eq!(code, -32700, "{answer}");
    assert_eq!(answer["id"], Value::Null, "{answer}");
    s.still_answers(3);
    // JSON, but not a message: Invalid Request.
    s.send(&json!({"jsonrpc": "2.0", "method": 7}));
    let (code, answer) = s.error_code();
    assert_eq!(code, -32600, "{answer}");
    s.send(&json!([1, 2]));
    let (code, answer) = s.error_code();
    assert_eq!(code, -32600, "{answer}");
    s.still_answers(5);
}

#[test]
fn a_message_over_the_cap_is_refused_without_allocating_it() {
    let mut s = Server::start();
    s.raw(b"Content-Length: 1000000000000\r\n\r\n{\"jsonrpc\":\"2.0\"}");
    let (code, answer) = s.error_code();
    assert_eq!(code, -32600, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("over the limit"),
        "{answer}"
    );
    s.still_answers(2);
    assert!(
        s.child.try_wait().expect("wait").is_none(),
        "the server died"
    );
}

#[test]
fn garbled_and_missing_headers_are_answered() {
    let mut s = Server::start();
    s.raw(b"Content-Lenght: 2\r\n\r\n{}\n");
    let (code, _) = s.error_code();
    assert_eq!(code, -32600);
    s.still_answers(2);
    s.raw(b"Content-Length: lots\r\n\r\n{}\n");
    let (code, _) = s.error_code();
    assert_eq!(code, -32600);
    s.still_answers(3);
    s.raw(b"this is not a header\r\n\r\n");
    let (code, _) = s.error_code();
    assert_eq!(code, -32600);
    s.still_answers(4);
    // And it still ends cleanly when asked.
    s.send(&json!({"jsonrpc": "2.0", "id": 9, "method": "shutdown"}));
    assert_eq!(s.next()["id"], 9);
    s.send(&json!({"jsonrpc": "2.0", "method": "exit"}));
    let mut status = None;
    for _ in 0..100 {
        status = s.child.try_wait().expect("wait");
        if status.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{status:?}");
}
