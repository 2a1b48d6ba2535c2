//! Loopback test infrastructure for the online features: real CNCF
//! distribution registries (Debian's `docker-registry`), images pushed over
//! the Distribution API, a token endpoint and a fault proxy. Everything
//! listens on 127.0.0.1 only.
#![allow(dead_code)]

use refit::online::client::sha256_digest;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const REGISTRY: &str = "/usr/bin/docker-registry";

/// `None` (and a message) when the registry binary is missing.
pub fn available() -> bool {
    if Path::new(REGISTRY).exists() {
        true
    } else {
        eprintln!("skipping: {REGISTRY} is not installed (apt-get install docker-registry)");
        false
    }
}

/// `htpasswd` (apache2-utils), for the basic-auth registry.
pub fn htpasswd() -> bool {
    let ok = Command::new("htpasswd")
        .arg("-h")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !ok {
        eprintln!("skipping: htpasswd is not installed (apt-get install apache2-utils)");
    }
    ok
}

pub fn skopeo() -> bool {
    Command::new("skopeo")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

pub struct Registry {
    pub port: u16,
    child: Child,
    pub dir: tempfile::TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Default)]
pub struct RegistryOptions {
    /// `(user, password)` for htpasswd basic auth.
    pub htpasswd: Option<(String, String)>,
    /// A pull-through cache of this URL.
    pub proxy_of: Option<String>,
}

impl Registry {
    pub fn start(options: RegistryOptions) -> Registry {
        let mut last = String::new();
        for _ in 0..5 {
            let dir = tempfile::tempdir().expect("tempdir");
            let port = free_port();
            let mut config = format!(
                "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
                dir.path().join("data").display()
            );
            if let Some((user, password)) = &options.htpasswd {
                let out = Command::new("htpasswd")
                    .args(["-Bbn", user, password])
                    .output()
                    .expect("htpasswd (apache2-utils)");
                let file = dir.path().join("htpasswd");
                std::fs::write(&file, &out.stdout).expect("write htpasswd");
                config.push_str(&format!(
                    "auth:\n  htpasswd:\n    realm: test\n    path: {}\n",
                    file.display()
                ));
            }
            if let Some(remote) = &options.proxy_of {
                config.push_str(&format!("proxy:\n  remoteurl: {remote}\n"));
            }
            let path = dir.path().join("config.yml");
            std::fs::write(&path, config).expect("write config");
            let log = std::fs::File::create(dir.path().join("log")).expect("log");
            let child = Command::new(REGISTRY)
                .arg("serve")
                .arg(&path)
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("start docker-registry");
            let mut registry = Registry { port, child, dir };
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(10) {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return registry;
                }
                if let Ok(Some(_)) = registry.child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            last = std::fs::read_to_string(registry.dir.path().join("log")).unwrap_or_default();
            let _ = registry.child.kill();
        }
        panic!("docker-registry did not start: {last}");
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
    /// Stop the registry (it is down from now on).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// Pushes images over the Distribution API.
pub struct Pusher {
    pub base: String,
    pub auth: Option<String>,
    agent: ureq::Agent,
}

pub struct Pushed {
    pub digest: String,
    pub size: usize,
    pub media_type: &'static str,
}

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

impl Pusher {
    pub fn new(base: &str) -> Pusher {
        Pusher {
            base: base.to_string(),
            auth: None,
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .new_agent(),
        }
    }

    pub fn with_basic(mut self, user: &str, password: &str) -> Pusher {
        use base64::Engine;
        let raw = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        self.auth = Some(format!("Basic {raw}"));
        self
    }

    fn absolute(&self, location: &str) -> String {
        if location.starts_with("http") {
            location.to_string()
        } else {
            format!("{}{location}", self.base)
        }
    }

    pub fn blob(&self, repo: &str, bytes: &[u8]) -> String {
        let digest = sha256_digest(bytes);
        let mut post = self
            .agent
            .post(format!("{}/v2/{repo}/blobs/uploads/", self.base));
        if let Some(a) = &self.auth {
            post = post.header("Authorization", a);
        }
        let r = post.send_empty().expect("blob upload start");
        assert_eq!(r.status().as_u16(), 202, "blob upload start");
        let location = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .expect("upload location")
            .to_string();
        let url = self.absolute(&location);
        let sep = if url.contains('?') { '&' } else { '?' };
        let mut put = self
            .agent
            .put(format!("{url}{sep}digest={digest}"))
            .header("Content-Type", "application/octet-stream");
        if let Some(a) = &self.auth {
            put = put.header("Authorization", a);
        }
        let r = put.send(bytes).expect("blob upload");
        assert_eq!(r.status().as_u16(), 201, "blob upload");
        digest
    }

    pub fn manifest(&self, repo: &str, tag: &str, media_type: &str, body: &[u8]) -> String {
        let mut put = self
            .agent
            .put(format!("{}/v2/{repo}/manifests/{tag}", self.base))
            .header("Content-Type", media_type);
        if let Some(a) = &self.auth {
            put = put.header("Authorization", a);
        }
        let mut r = put.send(body).expect("manifest put");
        let status = r.status().as_u16();
        let text = r.body_mut().read_to_string().unwrap_or_default();
        assert_eq!(status, 201, "manifest put: {text}");
        sha256_digest(body)
    }

    /// An image for one platform; `seed` makes it distinct.
    pub fn image(
        &self,
        repo: &str,
        tag: &str,
        os: &str,
        arch: &str,
        seed: &str,
        docker: bool,
    ) -> Pushed {
        let layer = format!("layer {repo} {tag} {os}/{arch} {seed}").into_bytes();
        let layer_digest = self.blob(repo, &layer);
        let config = serde_json::json!({
            "architecture": arch,
            "os": os,
            "config": {"Labels": {"seed": seed}},
            "rootfs": {"type": "layers", "diff_ids": [layer_digest.clone()]},
        })
        .to_string()
        .into_bytes();
        let config_digest = self.blob(repo, &config);
        let (media_type, config_type, layer_type) = if docker {
            (
                DOCKER_MANIFEST,
                "application/vnd.docker.container.image.v1+json",
                "application/vnd.docker.image.rootfs.diff.tar.gzip",
            )
        } else {
            (
                OCI_MANIFEST,
                "application/vnd.oci.image.config.v1+json",
                "application/vnd.oci.image.layer.v1.tar+gzip",
            )
        };
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": media_type,
            "config": {"mediaType": config_type, "digest": config_digest, "size": config.len()},
            "layers": [{"mediaType": layer_type, "digest": layer_digest, "size": layer.len()}],
        })
        .to_string()
        .into_bytes();
        // No tag: push by digest (an index's platform manifest).
        let by_digest = sha256_digest(&manifest);
        let reference = if tag.is_empty() {
            by_digest.as_str()
        } else {
            tag
        };
        let digest = self.manifest(repo, reference, media_type, &manifest);
        Pushed {
            digest,
            size: manifest.len(),
            media_type,
        }
    }

    /// An OCI index over linux/amd64 and linux/arm64 images; returns the
    /// index and the two platform manifests.
    pub fn index(&self, repo: &str, tag: &str, seed: &str) -> (Pushed, Pushed, Pushed) {
        let amd = self.image(repo, "", "linux", "amd64", seed, false);
        let arm = self.image(repo, "", "linux", "arm64", seed, false);
        let index = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {"mediaType": OCI_MANIFEST, "digest": amd.digest, "size": amd.size,
                 "platform": {"os": "linux", "architecture": "amd64"}},
                {"mediaType": OCI_MANIFEST, "digest": arm.digest, "size": arm.size,
                 "platform": {"os": "linux", "architecture": "arm64"}},
            ],
        })
        .to_string()
        .into_bytes();
        let digest = self.manifest(repo, tag, OCI_INDEX, &index);
        (
            Pushed {
                digest,
                size: index.len(),
                media_type: OCI_INDEX,
            },
            amd,
            arm,
        )
    }
}

/// skopeo's digest for a reference on a loopback registry.
pub fn skopeo_digest(reference: &str, creds: Option<&str>) -> String {
    let mut cmd = Command::new("skopeo");
    cmd.args(["inspect", "--tls-verify=false", "--format", "{{.Digest}}"]);
    if let Some(c) = creds {
        cmd.args(["--creds", c]);
    }
    let out = cmd
        .arg(format!("docker://{reference}"))
        .output()
        .expect("run skopeo");
    assert!(
        out.status.success(),
        "skopeo inspect {reference}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// skopeo's raw manifest (an index's platform list, for platform pins).
pub fn skopeo_raw(reference: &str) -> serde_json::Value {
    let out = Command::new("skopeo")
        .args(["inspect", "--tls-verify=false", "--raw"])
        .arg(format!("docker://{reference}"))
        .output()
        .expect("run skopeo");
    assert!(out.status.success(), "skopeo inspect --raw {reference}");
    serde_json::from_slice(&out.stdout).expect("raw manifest JSON")
}

/// A running refit with a clean environment: no user config, the cache
/// in a temporary folder, Docker Hub pointed at loopback.
pub struct Env {
    pub home: tempfile::TempDir,
    pub hub: String,
}

impl Env {
    pub fn new(hub: &str) -> Env {
        Env {
            home: tempfile::tempdir().expect("tempdir"),
            hub: hub.to_string(),
        }
    }
    pub fn cache(&self) -> PathBuf {
        self.home.path().join("cache")
    }
    pub fn refit(&self, dir: &Path) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_refit"));
        cmd.current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("DOCKER_CONFIG", self.home.path().join("docker"))
            .env("REFIT_CACHE_DIR", self.cache())
            .env("REFIT_DOCKER_HUB", &self.hub)
            .stdin(Stdio::null());
        cmd
    }
    pub fn docker_config(&self, json: &str) {
        let dir = self.home.path().join("docker");
        std::fs::create_dir_all(&dir).expect("docker dir");
        std::fs::write(dir.join("config.json"), json).expect("config.json");
    }
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(cmd: &mut Command) -> Run {
    let out = cmd.output().expect("run refit");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// What the fault proxy does with one request.
pub enum Action {
    Forward,
    /// Forward, adding these response headers.
    ForwardWith(Vec<(String, String)>),
    Respond(String),
    Reset,
    Delay(Duration),
}

/// A loopback HTTP proxy in front of a registry: each request's head goes
/// to `script` (with its number, from 0), which decides what to do.
pub struct FaultProxy {
    pub port: u16,
    pub seen: Arc<AtomicUsize>,
    pub heads: Arc<Mutex<Vec<String>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

type Script = dyn Fn(usize, &str) -> Action + Send + Sync;

impl FaultProxy {
    pub fn start(upstream: u16, script: Arc<Script>) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let seen = Arc::new(AtomicUsize::new(0));
        let heads = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (seen2, heads2, stop2) = (seen.clone(), heads.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (seen, heads, script) = (seen2.clone(), heads2.clone(), script.clone());
                std::thread::spawn(move || {
                    serve(stream, upstream, &seen, &heads, &*script);
                });
            }
        });
        FaultProxy {
            port,
            seen,
            heads,
            stop,
        }
    }
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => buf.push(byte[0]),
            _ => return None,
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
    }
    Some(String::from_utf8_lossy(&buf).into_owned())
}

fn serve(
    mut client: TcpStream,
    upstream: u16,
    seen: &AtomicUsize,
    heads: &Mutex<Vec<String>>,
    script: &Script,
) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(10)));
    // One request per connection: the answer says `Connection: close`.
    let Some(head) = read_head(&mut client) else {
        return;
    };
    let n = seen.fetch_add(1, Ordering::SeqCst);
    heads.lock().expect("heads").push(head.clone());
    let mut extra = Vec::new();
    match script(n, &head) {
        Action::Respond(raw) => {
            let _ = client.write_all(raw.as_bytes());
            return;
        }
        Action::Reset => {
            // Drop the connection without an answer (the client sees the
            // connection closed mid-request, as after a reset).
            let _ = client.shutdown(std::net::Shutdown::Both);
            return;
        }
        Action::Delay(d) => std::thread::sleep(d),
        Action::ForwardWith(h) => extra = h,
        Action::Forward => {}
    }
    let Ok(mut up) = TcpStream::connect(("127.0.0.1", upstream)) else {
        return;
    };
    let mut rewritten = String::new();
    for line in head.split("\r\n") {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("connection:") || line.is_empty() {
            continue;
        }
        rewritten.push_str(line);
        rewritten.push_str("\r\n");
    }
    rewritten.push_str("Connection: close\r\n\r\n");
    if up.write_all(rewritten.as_bytes()).is_err() {
        return;
    }
    let mut response = Vec::new();
    let _ = up.read_to_end(&mut response);
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(response.len());
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let mut out = String::new();
    for line in head.split("\r\n") {
        if line.to_ascii_lowercase().starts_with("connection:") {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    for (k, v) in extra {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("Connection: close\r\n\r\n");
    let _ = client.write_all(out.as_bytes());
    let _ = client.write_all(response.get(split + 4..).unwrap_or(&[]));
}

/// A response with a body.
pub fn respond(status: &str, headers: &[(&str, &str)], body: &str) -> String {
    let mut out = format!("HTTP/1.1 {status}\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    out
}

/// The `Authorization` header of a request head, if any.
pub fn authorization(head: &str) -> Option<String> {
    head.split("\r\n")
        .find(|l| l.to_ascii_lowercase().starts_with("authorization:"))
        .map(|l| l["authorization:".len()..].trim().to_string())
}

/// Where a test's refit finds "Docker Hub" when the test is not about it:
/// a closed loopback port, so nothing leaves the machine.
pub const NO_HUB: &str = "http://127.0.0.1:1";

/// What most online tests start from: one registry on 127.0.0.1, a pusher
/// for it, a work folder and a clean refit environment (Docker Hub a
/// closed loopback port). `None`, with a message, when docker-registry
/// (or, for basic auth, htpasswd) is missing, so a test begins
/// `let Some(lab) = Lab::open() else { return };`.
pub struct Lab {
    pub reg: Registry,
    pub push: Pusher,
    /// `127.0.0.1:<port>` of the registry.
    pub host: String,
    pub work: tempfile::TempDir,
    pub env: Env,
}

impl Lab {
    /// An open registry.
    pub fn open() -> Option<Lab> {
        Lab::start(RegistryOptions::default())
    }

    /// A registry with these options; with htpasswd, the pusher logs in.
    pub fn start(options: RegistryOptions) -> Option<Lab> {
        if !available() || (options.htpasswd.is_some() && !htpasswd()) {
            return None;
        }
        let login = options.htpasswd.clone();
        let reg = Registry::start(options);
        let mut push = Pusher::new(&reg.url());
        if let Some((user, password)) = &login {
            push = push.with_basic(user, password);
        }
        Some(Lab {
            host: reg.host(),
            push,
            reg,
            work: tempfile::tempdir().expect("tempdir"),
            env: Env::new(NO_HUB),
        })
    }

    pub fn dir(&self) -> &Path {
        self.work.path()
    }

    /// Write a file under the work folder (parents created).
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        write(self.dir(), name, text)
    }

    /// refit in the work folder, not yet run (to add `.env(…)`).
    pub fn refit(&self) -> Command {
        self.env.refit(self.dir())
    }

    /// Run refit in the work folder with these arguments.
    pub fn run(&self, args: &[&str]) -> Run {
        run(self.refit().args(args))
    }
}

pub use crate::common::write;

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).expect("read")
}
