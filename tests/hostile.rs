//! A hostile repository (issue 23): links to `/dev/zero` and `/proc`,
//! FIFOs, includes and links that leave the root, names with spaces,
//! quotes, tabs and newlines, include cycles and a long kustomization
//! chain. Every command runs on it under a memory and time limit: each
//! must finish, answer, read nothing outside the root and write nothing
//! outside it.

#![cfg(unix)]

use std::io::Write;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Address-space limit for each refit process (KiB): the runs that read
/// `/dev/zero` or `/proc/self/pagemap` without a bound went past 2 GB.
const MEMORY_KIB: u64 = 1024 * 1024;
/// Time limit for each command.
const SECONDS: u64 = 60;

const SECRET: &str = "s3cr3t-outside-the-root";

fn refit_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_refit"))
}

fn write(path: &Path, text: &str) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("mkdir");
    }
    std::fs::write(path, text).expect("write");
}

fn fifo(path: &Path) -> bool {
    Command::new("mkfifo")
        .arg(path)
        .status()
        .is_ok_and(|s| s.success())
}

/// The hostile tree: `<top>/repo` is the repository, `<top>/outside.yml`
/// and `<top>/victim` lie outside it.
fn hostile(top: &Path) -> PathBuf {
    let root = top.join("repo");
    std::fs::create_dir_all(&root).expect("mkdir");
    write(
        &top.join("outside.yml"),
        &format!("variables:\n  BASE_IMAGE: {SECRET}\n"),
    );
    write(&top.join("victim"), "do not touch\n");
    // GitLab CI: includes that leave the root, read /proc, and cycle.
    write(
        &root.join(".gitlab-ci.yml"),
        "include:\n  - local: ../../../../../../../../proc/self/pagemap\n  - local: ../outside.yml\n  - local: ci/a.yml\nbuild:\n  image: $BASE_IMAGE\n  script: [make]\n",
    );
    write(&root.join("ci/a.yml"), "include:\n  - local: ci/b.yml\n");
    write(&root.join("ci/b.yml"), "include:\n  - local: ci/a.yml\n");
    // Compose beside a `.env` that is /dev/zero.
    write(
        &root.join("app/compose.yaml"),
        "services:\n  web:\n    image: ${IMAGE:-nginx:1.27}\n",
    );
    symlink("/dev/zero", root.join("app/.env")).expect("link");
    // A chart whose templates are /proc and whose Chart.yaml is pagemap.
    write(
        &root.join("chart/values.yaml"),
        "image:\n  repository: nginx\n  tag: 1.27\n",
    );
    symlink("/proc/self/pagemap", root.join("chart/Chart.yaml")).expect("link");
    symlink("/proc", root.join("chart/templates")).expect("link");
    let chart2 = root.join("chart2");
    write(
        &chart2.join("Chart.yaml"),
        "apiVersion: v2\nname: c\nversion: 1.0.0\n",
    );
    write(
        &chart2.join("values.yaml"),
        "image:\n  repository: redis\n  tag: 7.2\n",
    );
    symlink("/etc", chart2.join("templates")).expect("link");
    // Fact files that are devices, FIFOs or links out of the root.
    symlink("/dev/zero", root.join("Makefile")).expect("link");
    symlink("/dev/urandom", root.join("docker-compose.yml")).expect("link");
    symlink(top.join("outside.yml"), root.join("build.sh")).expect("link");
    fifo(&root.join("docker-bake.hcl"));
    fifo(&root.join("deploy.yaml"));
    // A baseline that is /dev/zero.
    symlink("/dev/zero", root.join("baseline.json")).expect("link");
    write(&root.join("refit.toml"), "baseline = \"baseline.json\"\n");
    // Names with a space, a quote, a tab and a newline.
    for name in ["a b", "q\"uote", "t\tab", "new\nline"] {
        write(&root.join(name).join("Dockerfile"), "FROM alpine:3.20\n");
    }
    // A long kustomization chain.
    write(
        &root.join("k/k0/pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: nginx:1.25\n",
    );
    write(
        &root.join("k/k0/kustomization.yaml"),
        "resources:\n  - pod.yaml\n",
    );
    for i in 1..=2000 {
        write(
            &root.join(format!("k/k{i}/kustomization.yaml")),
            &format!("resources:\n  - ../k{}\n", i - 1),
        );
    }
    // Links that loop.
    symlink("loop-b", root.join("loop-a")).expect("link");
    symlink("loop-a", root.join("loop-b")).expect("link");
    symlink(".", root.join("self")).expect("link");
    let _ = Command::new("git")
        .args(["init", "-q"])
        .current_dir(&root)
        .status();
    let _ = Command::new("git")
        .args(["add", "-A"])
        .current_dir(&root)
        .status();
    let _ = Command::new("git")
        .args([
            "-c",
            "user.email=t@e",
            "-c",
            "user.name=t",
            "commit",
            "-qm",
            "hostile",
        ])
        .current_dir(&root)
        .status();
    root
}

struct Outcome {
    code: Option<i32>,
    stdout: String,
    took: Duration,
}

/// Run refit under the memory limit, killing it at the time limit.
fn run(root: &Path, args: &[&str], input: Option<&[u8]>) -> Outcome {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("ulimit -v {MEMORY_KIB}; exec \"$0\" \"$@\""))
        .arg(refit_bin())
        .args(args)
        .current_dir(root)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let started = Instant::now();
    let mut child = command.spawn().expect("refit starts");
    if let (Some(bytes), Some(mut stdin)) = (input, child.stdin.take()) {
        let _ = stdin.write_all(bytes);
    }
    let stdout = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut out) = stdout {
            let _ = std::io::Read::read_to_string(&mut out, &mut text);
        }
        text
    });
    let code = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break status.code();
        }
        if started.elapsed() > Duration::from_secs(SECONDS) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("refit {args:?} ran past {SECONDS} s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Outcome {
        code,
        stdout: reader.join().unwrap_or_default(),
        took: started.elapsed(),
    }
}

fn assert_answered(what: &str, o: &Outcome) {
    // A signal (the memory limit's abort, a crash) leaves no exit code.
    assert!(
        matches!(o.code, Some(0..=2)),
        "{what}: exit {:?} after {:?}",
        o.code,
        o.took
    );
    assert!(
        !o.stdout.contains(SECRET),
        "{what} printed a value from outside the root"
    );
}

#[test]
fn every_command_finishes_on_a_hostile_repository() {
    let top = tempfile::tempdir().expect("tempdir");
    let root = hostile(top.path());
    let victim = top.path().join("victim");

    // A configured baseline that is `/dev/zero`, then a FIFO: refused at
    // once with a clear error (exit 2), never read.
    let o = run(&root, &["check", "--output-format", "json", "."], None);
    assert_eq!(
        o.code,
        Some(2),
        "a /dev/zero baseline is refused: {}",
        o.stdout
    );
    assert!(
        o.took < Duration::from_secs(20),
        "refused at once: {:?}",
        o.took
    );
    std::fs::remove_file(root.join("baseline.json")).expect("rm");
    if fifo(&root.join("baseline.json")) {
        let o = run(&root, &["check", "--output-format", "json", "."], None);
        assert_eq!(o.code, Some(2), "a FIFO baseline is refused");
    }
    std::fs::remove_file(root.join("refit.toml")).expect("rm");

    let o = run(&root, &["check", "--output-format", "json", "."], None);
    assert_answered("check", &o);
    let json: serde_json::Value = serde_json::from_str(&o.stdout).unwrap_or_default();
    assert!(
        json["diagnostics"].is_array(),
        "check answers in JSON: {}",
        o.stdout
    );
    // Every odd name was checked.
    for name in ["a b", "q\\\"uote", "t\\tab", "new\\nline"] {
        assert!(o.stdout.contains(name), "{name} was checked");
    }

    for args in [
        vec!["check", "--fix", "."],
        vec!["check", "--diff", "."],
        vec![
            "check",
            "--unsafe-fixes",
            "--fix",
            "--output-format",
            "sarif",
            ".",
        ],
        vec!["check", "--diff-base", "HEAD", "."],
        vec!["check", "--add-ignore", "."],
        vec!["check", "--write-baseline", "baseline-new.json", "."],
        vec!["sites", "."],
    ] {
        let o = run(&root, &args, None);
        assert_answered(&args.join(" "), &o);
    }
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "do not touch\n",
        "nothing outside the root is written"
    );

    // The language server: open the Compose file beside the `/dev/zero`
    // `.env`, and the chart's values, then shut down.
    let mut messages = Vec::new();
    let mut send = |v: serde_json::Value| {
        let body = v.to_string();
        messages
            .extend_from_slice(format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes());
    };
    send(
        serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}),
    );
    send(serde_json::json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}));
    for (file, language) in [
        ("app/compose.yaml", "yaml"),
        ("chart/values.yaml", "yaml"),
        (".gitlab-ci.yml", "yaml"),
    ] {
        let path = root.join(file);
        let text = std::fs::read_to_string(&path).expect("read");
        send(
            serde_json::json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": format!("file://{}", path.display()), "languageId": language, "version": 1, "text": text}}}),
        );
    }
    send(serde_json::json!({"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": null}));
    send(serde_json::json!({"jsonrpc": "2.0", "method": "exit", "params": null}));
    let o = run(&root, &["server"], Some(&messages));
    assert_answered("server", &o);
    assert!(
        o.stdout.contains("publishDiagnostics"),
        "the server answered: {}",
        o.stdout
    );
}
