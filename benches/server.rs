//! `refit server` latency and memory: `cargo bench --bench server`.
//!
//! - Latency: a 2,000-line Dockerfile is open; each change is sent after
//!   the debounce window, and the time until its diagnostics arrive is
//!   measured (median, p95, max over 200 changes).
//! - Memory: 10,000 `didChange` notifications on one document; the
//!   process's resident set after 1,000 and after 10,000 must not grow by
//!   more than a few megabytes.

use lsp_server::{Connection, Message, Notification, Request, RequestId};
use refit::server::{DEBOUNCE, serve};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn send(c: &Connection, m: Message) {
    c.sender.send(m).unwrap_or_else(|e| panic!("send: {e}"));
}

fn notify(c: &Connection, method: &str, params: Value) {
    send(
        c,
        Message::Notification(Notification::new(method.to_string(), params)),
    );
}

fn wait_diagnostics(c: &Connection, version: i64) -> Value {
    loop {
        match c.receiver.recv_timeout(Duration::from_secs(30)) {
            Ok(Message::Notification(n))
                if n.method == "textDocument/publishDiagnostics"
                    && n.params["version"].as_i64() == Some(version) =>
            {
                return n.params;
            }
            Ok(_) => {}
            Err(e) => panic!("no diagnostics: {e}"),
        }
    }
}

fn main() {
    let (server, client) = Connection::memory();
    let thread = std::thread::spawn(move || serve(server, DEBOUNCE).map_err(|e| e.to_string()));
    send(
        &client,
        Message::Request(Request::new(
            RequestId::from(1),
            "initialize".to_string(),
            json!({"processId": null, "rootUri": null, "capabilities": {}}),
        )),
    );
    let _ = client.receiver.recv();
    notify(&client, "initialized", json!({}));

    let dir = std::env::temp_dir().join(format!("refit-server-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let uri = format!("file://{}/Dockerfile", dir.display());
    let mut text = String::new();
    for i in 0..400 {
        text.push_str(&format!(
            "ARG V{i}=1.{i}\nFROM node:${{V{i}}} AS s{i}\nRUN echo {i} && \\\n    true\nCOPY --from=s{i} /a /b\n"
        ));
    }
    assert_eq!(text.lines().count(), 2000);
    notify(
        &client,
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "dockerfile", "version": 1, "text": text}}),
    );
    let first = wait_diagnostics(&client, 1);
    let findings = first["diagnostics"].as_array().map_or(0, Vec::len);

    // Latency of one change.
    let mut times = Vec::new();
    for v in 2..202i64 {
        std::thread::sleep(DEBOUNCE + Duration::from_millis(5));
        let digit = if v % 2 == 0 { "2" } else { "3" };
        let start = Instant::now();
        notify(
            &client,
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": uri, "version": v},
                "contentChanges": [{
                    "range": {"start": {"line": 0, "character": 7}, "end": {"line": 0, "character": 8}},
                    "text": digit
                }]
            }),
        );
        wait_diagnostics(&client, v);
        times.push(start.elapsed());
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "latency, 2,000-line Dockerfile ({findings} findings): median {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        ms(times[times.len() / 2]),
        ms(times[times.len() * 95 / 100]),
        ms(times[times.len() - 1])
    );

    // Memory over 10,000 changes (sent back to back: debounced).
    let mut rss = Vec::new();
    let mut version = 202i64;
    for round in 0..10 {
        for _ in 0..1000 {
            version += 1;
            let digit = if version % 2 == 0 { "2" } else { "3" };
            notify(
                &client,
                "textDocument/didChange",
                json!({
                    "textDocument": {"uri": uri, "version": version},
                    "contentChanges": [{
                        "range": {"start": {"line": 0, "character": 7}, "end": {"line": 0, "character": 8}},
                        "text": digit
                    }]
                }),
            );
        }
        wait_diagnostics(&client, version);
        rss.push(rss_kib());
        if round == 0 {
            println!("rss after 1,000 changes: {} KiB", rss[0]);
        }
    }
    let last = rss.last().copied().unwrap_or(0);
    println!(
        "rss after 10,000 changes: {last} KiB (growth {} KiB)",
        last.saturating_sub(rss[0])
    );
    send(
        &client,
        Message::Request(Request::new(
            RequestId::from(2),
            "shutdown".to_string(),
            Value::Null,
        )),
    );
    notify(&client, "exit", Value::Null);
    drop(client);
    let _ = thread.join();
    let _ = std::fs::remove_dir_all(&dir);
}
