//! A small Distribution API client: manifest HEAD (GET as a fallback),
//! the bearer and basic auth flows, retries and per-host limits.

use super::auth::{Credential, Store};
use sha2::Digest as _;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// The manifest types refit accepts, index types first.
pub const MEDIA_OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const MEDIA_OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const MEDIA_DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const MEDIA_DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";

/// The largest manifest or token body refit reads.
const MAX_BODY: u64 = 4 * 1024 * 1024;
/// Docker Hub's registry host.
pub const DOCKER_HUB_HOST: &str = "registry-1.docker.io";

/// The longest wait a `Retry-After` header may ask for.
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(60);

/// The wait a `Retry-After` value asks for (RFC 9110 §10.2.3): delay
/// seconds (`120`) or an HTTP-date (`Wed, 21 Oct 2015 07:28:00 GMT`, and
/// the obsolete RFC 850 and asctime forms), relative to `now`; a date in
/// the past is no wait. Capped at [`RETRY_AFTER_CAP`]; `None` for
/// anything else (the backoff applies).
pub fn retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    let wait = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Digits only: a huge number is still a (capped) number of seconds.
        Duration::from_secs(value.parse::<u64>().unwrap_or(u64::MAX))
    } else {
        let at = httpdate::parse_http_date(value).ok()?;
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(RETRY_AFTER_CAP))
}

/// Whether a media type is an index (a multi-platform list).
pub fn is_index(media_type: &str) -> bool {
    media_type == MEDIA_OCI_INDEX || media_type == MEDIA_DOCKER_LIST
}

/// How the client behaves.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Per request (connect and read).
    pub timeout: Duration,
    /// Retries after the first try, on 429, 5xx and transport errors.
    pub retries: u32,
    /// The first backoff; doubled per retry, with jitter.
    pub backoff: Duration,
    /// Requests in flight per host.
    pub per_host: usize,
    /// No request starts after this instant.
    pub deadline: Option<Instant>,
    /// Hosts spoken to over plain HTTP (besides loopback).
    pub insecure: Vec<String>,
    /// Docker Hub mirrors (URLs or hosts), tried before Docker Hub.
    pub hub_mirrors: Vec<String>,
    pub credentials: Store,
    /// Where Docker Hub is reached (default `https://registry-1.docker.io`;
    /// `$REFIT_DOCKER_HUB` sets it, for a stand-in in tests).
    pub hub_url: Option<String>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            timeout: Duration::from_secs(10),
            retries: 3,
            backoff: Duration::from_millis(200),
            per_host: 8,
            deadline: None,
            insecure: Vec::new(),
            hub_mirrors: Vec::new(),
            credentials: Store::default(),
            hub_url: None,
        }
    }
}

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// `MANIFEST_UNKNOWN`, `NAME_UNKNOWN` or a 404.
    NotFound { code: String },
    /// 401 or 403 after auth, or `insufficient_scope`.
    Denied { status: u16, code: String },
    /// No answer (refused, reset, timeout, DNS), after retries.
    Unreachable(String),
    /// Another HTTP status, after retries.
    Status(u16),
    /// A body or header that is not what the protocol says.
    Invalid(String),
    /// The run's deadline passed.
    Deadline,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::NotFound { code } => write!(f, "not found ({code})"),
            Failure::Denied { status, code } => write!(f, "access denied ({status} {code})"),
            Failure::Unreachable(why) => write!(f, "unreachable: {why}"),
            Failure::Status(s) => write!(f, "HTTP status {s}"),
            Failure::Invalid(why) => write!(f, "invalid answer: {why}"),
            Failure::Deadline => write!(f, "the run's deadline passed"),
        }
    }
}

/// Where a registry is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `http://127.0.0.1:5000` or `https://ghcr.io`.
    pub base: String,
    /// `127.0.0.1:5000`: the host credentials are stored under.
    pub host: String,
    /// A path prefix (some mirrors serve under one), without slashes.
    pub prefix: String,
    pub mirror: bool,
}

/// A manifest as a registry described it.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub digest: String,
    pub media_type: String,
    /// The host that answered.
    pub host: String,
    /// The body, when it was fetched with a GET.
    pub body: Option<Vec<u8>>,
}

/// One HTTP answer, read whole.
#[derive(Debug, Clone, Default)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub elapsed: Duration,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Counts of what the client sent, for verbose output and tests.
#[derive(Debug, Default)]
pub struct Stats {
    pub heads: AtomicUsize,
    pub gets: AtomicUsize,
    pub tokens: AtomicUsize,
    pub retries: AtomicUsize,
}

#[derive(Default)]
struct Gate {
    busy: Mutex<usize>,
    free: Condvar,
}

pub struct Client {
    agent: ureq::Agent,
    pub options: ClientOptions,
    pub stats: Stats,
    tokens: Mutex<HashMap<(String, String), String>>,
    gates: Mutex<HashMap<String, Arc<Gate>>>,
    creds: Mutex<HashMap<String, Option<Credential>>>,
}

pub use crate::facts::is_loopback;

impl Client {
    pub fn new(options: ClientOptions) -> Client {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(options.timeout))
            .timeout_recv_response(Some(options.timeout))
            .timeout_recv_body(Some(options.timeout))
            .user_agent(concat!("refit/", env!("CARGO_PKG_VERSION")))
            .max_idle_connections_per_host(options.per_host.max(1))
            .build();
        Client {
            agent: config.new_agent(),
            options,
            stats: Stats::default(),
            tokens: Mutex::new(HashMap::new()),
            gates: Mutex::new(HashMap::new()),
            creds: Mutex::new(HashMap::new()),
        }
    }

    /// The scheme a host is spoken to with: HTTP for loopback and
    /// `[registries] insecure`, HTTPS otherwise.
    pub fn scheme_for(&self, host: &str) -> &'static str {
        let bare = host.split(':').next().unwrap_or(host);
        if is_loopback(host)
            || self
                .options
                .insecure
                .iter()
                .any(|h| h.eq_ignore_ascii_case(host) || h.eq_ignore_ascii_case(bare))
        {
            "http"
        } else {
            "https"
        }
    }

    /// An endpoint for a mirror as written (`https://mirror.gcr.io`,
    /// `127.0.0.1:5001`, `host/prefix`).
    pub fn mirror_endpoint(&self, written: &str) -> Option<Endpoint> {
        let trimmed = written.trim().trim_end_matches('/');
        let (scheme, rest) = match trimmed.split_once("://") {
            Some((s, r)) => (Some(s.to_ascii_lowercase()), r),
            None => (None, trimmed),
        };
        let (host, prefix) = match rest.split_once('/') {
            Some((h, p)) => (h, p.trim_matches('/')),
            None => (rest, ""),
        };
        let host = host.rsplit('@').next().unwrap_or(host).to_ascii_lowercase();
        if host.is_empty() {
            return None;
        }
        let scheme = match scheme.as_deref() {
            Some("http") if is_loopback(&host) || self.scheme_for(&host) == "http" => "http",
            // Plain HTTP only for loopback and insecure hosts.
            Some("http") => "https",
            _ => self.scheme_for(&host),
        };
        Some(Endpoint {
            base: format!("{scheme}://{host}"),
            host,
            prefix: prefix.to_string(),
            mirror: true,
        })
    }

    /// Where to ask for a repository of a registry (`docker.io`, a host):
    /// Docker Hub mirrors first, then the registry itself.
    pub fn endpoints(&self, registry: &str) -> Vec<Endpoint> {
        let mut out = Vec::new();
        let host = if registry == "docker.io" {
            out.extend(
                self.options
                    .hub_mirrors
                    .iter()
                    .filter_map(|m| self.mirror_endpoint(m)),
            );
            if let Some(hub) = self
                .options
                .hub_url
                .as_deref()
                .and_then(|u| self.mirror_endpoint(u))
            {
                out.push(Endpoint {
                    mirror: false,
                    ..hub
                });
                return out;
            }
            DOCKER_HUB_HOST.to_string()
        } else {
            registry.to_ascii_lowercase()
        };
        out.push(Endpoint {
            base: format!("{}://{host}", self.scheme_for(&host)),
            host,
            prefix: String::new(),
            mirror: false,
        });
        out
    }

    fn gate(&self, host: &str) -> Arc<Gate> {
        let mut gates = self.gates.lock().unwrap_or_else(|e| e.into_inner());
        gates.entry(host.to_string()).or_default().clone()
    }

    /// The credential stored for an endpoint's host (looked up once).
    pub fn credential(&self, endpoint: &Endpoint) -> Option<Credential> {
        let key = if endpoint.host == DOCKER_HUB_HOST {
            "docker.io".to_string()
        } else {
            endpoint.host.clone()
        };
        let mut creds = self.creds.lock().unwrap_or_else(|e| e.into_inner());
        creds
            .entry(key.clone())
            .or_insert_with(|| self.options.credentials.lookup(&key))
            .clone()
    }

    /// One request with retries on 429, 5xx and transport errors, inside
    /// the host's concurrency limit.
    fn send(
        &self,
        method: &str,
        url: &str,
        host: &str,
        authorization: Option<&str>,
    ) -> Result<Reply, Failure> {
        let gate = self.gate(host);
        {
            let mut busy = gate.busy.lock().unwrap_or_else(|e| e.into_inner());
            while *busy >= self.options.per_host.max(1) {
                busy = gate.free.wait(busy).unwrap_or_else(|e| e.into_inner());
            }
            *busy += 1;
        }
        let result = self.send_with_retries(method, url, authorization);
        {
            let mut busy = gate.busy.lock().unwrap_or_else(|e| e.into_inner());
            *busy = busy.saturating_sub(1);
        }
        gate.free.notify_one();
        result
    }

    fn send_with_retries(
        &self,
        method: &str,
        url: &str,
        authorization: Option<&str>,
    ) -> Result<Reply, Failure> {
        let mut attempt = 0u32;
        loop {
            if self.options.deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(Failure::Deadline);
            }
            let outcome = self.send_once(method, url, authorization);
            let wait = match &outcome {
                Ok(r) if r.status == 429 || (500..600).contains(&r.status) => {
                    let asked = r
                        .header("retry-after")
                        .and_then(|v| retry_after(v, std::time::SystemTime::now()));
                    Some(asked.unwrap_or_else(|| self.backoff(attempt)))
                }
                Ok(_) => None,
                Err(_) => Some(self.backoff(attempt)),
            };
            match wait {
                Some(wait) if attempt < self.options.retries => {
                    if self
                        .options
                        .deadline
                        .is_some_and(|d| Instant::now() + wait >= d)
                    {
                        return outcome_or_deadline(outcome);
                    }
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(wait);
                    attempt += 1;
                }
                _ => {
                    return match outcome {
                        Ok(r) if r.status == 429 || (500..600).contains(&r.status) => {
                            Err(Failure::Status(r.status))
                        }
                        other => other,
                    };
                }
            }
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.options.backoff.saturating_mul(1 << attempt.min(6));
        let jitter = fastrand::u64(0..=base.as_millis() as u64 / 2 + 1);
        base + Duration::from_millis(jitter)
    }

    fn send_once(
        &self,
        method: &str,
        url: &str,
        authorization: Option<&str>,
    ) -> Result<Reply, Failure> {
        let start = Instant::now();
        let request = match method {
            "HEAD" => self.agent.head(url),
            _ => self.agent.get(url),
        };
        let mut request = request.header("Accept", ACCEPT);
        if let Some(a) = authorization {
            request = request.header("Authorization", a);
        }
        let mut response = request
            .call()
            .map_err(|e| Failure::Unreachable(describe(&e)))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = if method == "HEAD" {
            Vec::new()
        } else {
            response
                .body_mut()
                .with_config()
                .limit(MAX_BODY)
                .read_to_vec()
                .map_err(|e| Failure::Unreachable(describe(&e)))?
        };
        Ok(Reply {
            status,
            headers,
            body,
            elapsed: start.elapsed(),
        })
    }

    /// A request to a registry path (`/v2/…`) with the auth flow: a
    /// cached token or basic credential first; on a 401, the challenge's
    /// bearer token (anonymous or with the host's credential) or basic auth.
    pub fn registry_request(
        &self,
        endpoint: &Endpoint,
        repository: &str,
        method: &str,
        path: &str,
    ) -> Result<Reply, Failure> {
        let url = format!("{}{path}", endpoint.base);
        let key = (endpoint.host.clone(), repository.to_string());
        let cached = self
            .tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned();
        self.count(method);
        let reply = self.send(method, &url, &endpoint.host, cached.as_deref())?;
        if reply.status != 401 {
            return self.follow(endpoint, method, reply, cached.as_deref());
        }
        let challenge = reply.header("www-authenticate").unwrap_or("").to_string();
        let credential = self.credential(endpoint);
        let authorization = if challenge
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("bearer")
        {
            let token = self.token(&challenge, repository, credential.as_ref())?;
            format!("Bearer {token}")
        } else if let Some(c) = &credential {
            c.basic()
        } else {
            return Err(Failure::Denied {
                status: 401,
                code: error_code(&reply).unwrap_or_else(|| "UNAUTHORIZED".to_string()),
            });
        };
        self.count(method);
        let reply = self.send(method, &url, &endpoint.host, Some(&authorization))?;
        if reply.status != 401 && reply.status != 403 {
            self.tokens
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(key, authorization.clone());
        }
        self.follow(endpoint, method, reply, Some(&authorization))
    }

    /// `GET /v2/` without credentials: whether the endpoint speaks the
    /// Distribution API (200, or 401 asking for auth).
    pub fn ping(&self, endpoint: &Endpoint) -> Result<Reply, Failure> {
        let url = format!("{}/v2/", endpoint.base);
        self.count("GET");
        self.send("GET", &url, &endpoint.host, None)
    }

    fn count(&self, method: &str) {
        if method == "HEAD" {
            self.stats.heads.fetch_add(1, Ordering::Relaxed);
        } else {
            self.stats.gets.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Follow redirects (bounded), sending the authorization only to the
    /// endpoint's own host.
    fn follow(
        &self,
        endpoint: &Endpoint,
        method: &str,
        mut reply: Reply,
        authorization: Option<&str>,
    ) -> Result<Reply, Failure> {
        for _ in 0..5 {
            if !matches!(reply.status, 301 | 302 | 303 | 307 | 308) {
                return Ok(reply);
            }
            let Some(location) = reply.header("location").map(str::to_string) else {
                return Ok(reply);
            };
            let url = if location.starts_with('/') {
                format!("{}{location}", endpoint.base)
            } else {
                location
            };
            let host = url_host(&url).unwrap_or_default();
            let same = host.eq_ignore_ascii_case(&endpoint.host);
            let secure =
                url.starts_with("https://") || (url.starts_with("http://") && is_loopback(&host));
            if !secure {
                return Err(Failure::Invalid(
                    "redirect to plain HTTP refused".to_string(),
                ));
            }
            reply = self.send(method, &url, &host, if same { authorization } else { None })?;
        }
        Err(Failure::Invalid("too many redirects".to_string()))
    }

    /// Fetch a bearer token from the challenge's realm.
    fn token(
        &self,
        challenge: &str,
        repository: &str,
        credential: Option<&Credential>,
    ) -> Result<String, Failure> {
        let params = parse_challenge(challenge);
        let Some(realm) = params.get("realm") else {
            return Err(Failure::Invalid(
                "bearer challenge without realm".to_string(),
            ));
        };
        let realm_host = url_host(realm).unwrap_or_default();
        let secure = realm.starts_with("https://")
            || (realm.starts_with("http://") && is_loopback(&realm_host));
        if !secure {
            return Err(Failure::Invalid("token realm is not HTTPS".to_string()));
        }
        let scope = params
            .get("scope")
            .cloned()
            .unwrap_or_else(|| format!("repository:{repository}:pull"));
        let mut url = realm.clone();
        url.push(if url.contains('?') { '&' } else { '?' });
        if let Some(service) = params.get("service") {
            url.push_str(&format!("service={}&", encode(service)));
        }
        url.push_str(&format!("scope={}", encode(&scope)));
        // The realm is named by the registry's own challenge: the
        // registry's credential goes there (as Docker does), nowhere else.
        let basic = credential.map(Credential::basic);
        self.stats.tokens.fetch_add(1, Ordering::Relaxed);
        let reply = self.send("GET", &url, &realm_host, basic.as_deref())?;
        if reply.status == 401 || reply.status == 403 {
            return Err(Failure::Denied {
                status: reply.status,
                code: "token refused".to_string(),
            });
        }
        if reply.status != 200 {
            return Err(Failure::Status(reply.status));
        }
        #[derive(serde::Deserialize)]
        struct TokenReply {
            token: Option<String>,
            access_token: Option<String>,
        }
        let parsed: TokenReply = serde_json::from_slice(&reply.body)
            .map_err(|_| Failure::Invalid("token reply is not JSON".to_string()))?;
        parsed
            .token
            .or(parsed.access_token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Failure::Invalid("token reply without a token".to_string()))
    }

    /// The manifest of `repository` at `reference` (a tag or digest) from
    /// one endpoint: a HEAD, or a GET when `want_body`, when the HEAD is
    /// refused or has no digest.
    pub fn manifest_at(
        &self,
        endpoint: &Endpoint,
        repository: &str,
        reference: &str,
        want_body: bool,
    ) -> Result<Manifest, Failure> {
        let repo = if endpoint.prefix.is_empty() {
            repository.to_string()
        } else {
            format!("{}/{repository}", endpoint.prefix)
        };
        let path = format!("/v2/{repo}/manifests/{reference}");
        if !want_body {
            let reply = self.registry_request(endpoint, &repo, "HEAD", &path)?;
            if reply.status == 200
                && let Some(digest) = reply.header("docker-content-digest")
                && crate::reference::is_digest(digest)
            {
                return Ok(Manifest {
                    digest: digest.to_string(),
                    media_type: media_type(&reply),
                    host: endpoint.host.clone(),
                    body: None,
                });
            }
            classify(&reply, true)?;
        }
        let reply = self.registry_request(endpoint, &repo, "GET", &path)?;
        classify(&reply, false)?;
        let digest = sha256_digest(&reply.body);
        if let Some(header) = reply.header("docker-content-digest")
            && header.starts_with("sha256:")
            && header != digest
        {
            return Err(Failure::Invalid(format!(
                "Docker-Content-Digest {header} does not match the body's {digest}"
            )));
        }
        if let Some(pinned) = reference.strip_prefix("sha256:")
            && digest != format!("sha256:{pinned}")
        {
            return Err(Failure::Invalid(format!(
                "the body's digest {digest} is not the one asked for"
            )));
        }
        let mut media = media_type(&reply);
        if media.is_empty() || media == "application/json" {
            media = serde_json::from_slice::<serde_json::Value>(&reply.body)
                .ok()
                .and_then(|v| v.get("mediaType")?.as_str().map(str::to_string))
                .unwrap_or_default();
        }
        Ok(Manifest {
            digest,
            media_type: media,
            host: endpoint.host.clone(),
            body: Some(reply.body),
        })
    }

    /// A manifest through every endpoint of the registry in turn (mirrors
    /// first for Docker Hub): the first answer wins; a mirror's failure
    /// falls through to the next.
    pub fn manifest(
        &self,
        registry: &str,
        repository: &str,
        reference: &str,
        want_body: bool,
    ) -> Result<Manifest, Failure> {
        let endpoints = self.endpoints(registry);
        let mut last = Failure::Unreachable("no endpoint".to_string());
        for endpoint in &endpoints {
            match self.manifest_at(endpoint, repository, reference, want_body) {
                Ok(m) => return Ok(m),
                Err(Failure::Deadline) => return Err(Failure::Deadline),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// A blob (an image config), read whole up to the body limit.
    pub fn blob(
        &self,
        endpoint: &Endpoint,
        repository: &str,
        digest: &str,
    ) -> Result<Vec<u8>, Failure> {
        let path = format!("/v2/{repository}/blobs/{digest}");
        let reply = self.registry_request(endpoint, repository, "GET", &path)?;
        classify(&reply, false)?;
        Ok(reply.body)
    }
}

/// The most pages of a tag list refit follows.
pub const MAX_TAG_PAGES: usize = 1000;
/// The most tags refit reads of one repository.
pub const MAX_TAGS: usize = 100_000;
/// The most bytes of tag-list pages read for one repository: each page
/// is bounded, and a registry that adds one tag a page stops here.
pub const MAX_TAG_LIST_BYTES: usize = 64 * 1024 * 1024;

/// A repository's tags and the host that listed them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagList {
    pub tags: Vec<String>,
    pub host: String,
    /// Requests it took (pages).
    pub pages: usize,
}

impl Client {
    /// Every tag of `repository` from one endpoint: `GET
    /// /v2/<name>/tags/list?n=<page>`, then the `Link: <…>; rel="next"`
    /// pages; a registry that sends no `Link` but a full page is asked
    /// again with `last=` (the Distribution API's `n` and `last`).
    pub fn tags_at(
        &self,
        endpoint: &Endpoint,
        repository: &str,
        page: usize,
    ) -> Result<TagList, Failure> {
        let repo = if endpoint.prefix.is_empty() {
            repository.to_string()
        } else {
            format!("{}/{repository}", endpoint.prefix)
        };
        let page = page.clamp(1, 10_000);
        let mut path = format!("/v2/{repo}/tags/list?n={page}");
        let mut tags: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut bytes = 0usize;
        for pages in 1..=MAX_TAG_PAGES {
            let reply = self.registry_request(endpoint, &repo, "GET", &path)?;
            classify(&reply, false)?;
            bytes = bytes.saturating_add(reply.body.len());
            if bytes > MAX_TAG_LIST_BYTES {
                return Err(Failure::Invalid(format!(
                    "the tag list is over {} MiB; refit reads no more",
                    MAX_TAG_LIST_BYTES >> 20
                )));
            }
            #[derive(serde::Deserialize)]
            struct Page {
                tags: Option<Vec<String>>,
            }
            let body: Page = serde_json::from_slice(&reply.body)
                .map_err(|_| Failure::Invalid("tag list is not JSON".to_string()))?;
            let got = body.tags.unwrap_or_default();
            let count = got.len();
            let before = tags.len();
            for t in got {
                if crate::reference::is_tag(&t) && seen.insert(t.clone()) {
                    tags.push(t);
                }
            }
            if tags.len() > MAX_TAGS {
                return Err(Failure::Invalid(format!(
                    "more than {MAX_TAGS} tags; refit reads no more"
                )));
            }
            let next = match reply.header("link").and_then(next_link) {
                Some(link) => {
                    let path = if link.starts_with('/') {
                        Some(link)
                    } else if url_host(&link)
                        .is_some_and(|h| h.eq_ignore_ascii_case(&endpoint.host))
                    {
                        link.split_once("://")
                            .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_string()))
                    } else {
                        return Err(Failure::Invalid(
                            "tag list `Link` to another host refused".to_string(),
                        ));
                    };
                    // The next page of this repository's list, not another's.
                    let own = format!("/v2/{repo}/tags/list");
                    if path
                        .as_deref()
                        .is_some_and(|p| p != own && !p.starts_with(&format!("{own}?")))
                    {
                        return Err(Failure::Invalid(
                            "tag list `Link` to another repository refused".to_string(),
                        ));
                    }
                    path
                }
                // No `Link`: a full page may have more after its last tag.
                None if count >= page && tags.len() > before => tags
                    .last()
                    .map(|last| format!("/v2/{repo}/tags/list?n={page}&last={}", encode(last))),
                None => None,
            };
            match next {
                // A page that adds nothing ends the list (a loop, or a
                // registry that ignores `last`).
                Some(next) if tags.len() > before => path = next,
                _ => {
                    return Ok(TagList {
                        tags,
                        host: endpoint.host.clone(),
                        pages,
                    });
                }
            }
        }
        Err(Failure::Invalid(format!(
            "the tag list has more than {MAX_TAG_PAGES} pages"
        )))
    }

    /// A repository's tags through every endpoint of the registry in turn
    /// (mirrors first for Docker Hub): the first answer wins.
    pub fn tags(&self, registry: &str, repository: &str, page: usize) -> Result<TagList, Failure> {
        let mut last = Failure::Unreachable("no endpoint".to_string());
        for endpoint in &self.endpoints(registry) {
            match self.tags_at(endpoint, repository, page) {
                Ok(t) => return Ok(t),
                Err(Failure::Deadline) => return Err(Failure::Deadline),
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}

/// The target of a `Link` header's `rel="next"` entry (RFC 8288).
pub fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|entry| {
        let (target, params) = entry.trim().split_once('>')?;
        let target = target.trim().strip_prefix('<')?;
        let next = params.split(';').any(|p| {
            let p = p.trim();
            p.split_once('=').is_some_and(|(k, v)| {
                k.trim().eq_ignore_ascii_case("rel")
                    && v.trim()
                        .trim_matches('"')
                        .split_whitespace()
                        .any(|r| r.eq_ignore_ascii_case("next"))
            })
        });
        next.then(|| target.to_string())
    })
}

/// `sha256:<hex>` of bytes.
pub fn sha256_digest(bytes: &[u8]) -> String {
    let hash = sha2::Sha256::digest(bytes);
    let mut out = String::with_capacity(71);
    out.push_str("sha256:");
    for b in hash.iter() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

fn outcome_or_deadline(outcome: Result<Reply, Failure>) -> Result<Reply, Failure> {
    match outcome {
        Ok(r) if r.status == 429 || (500..600).contains(&r.status) => Err(Failure::Deadline),
        Ok(r) => Ok(r),
        Err(_) => Err(Failure::Deadline),
    }
}

fn media_type(reply: &Reply) -> String {
    reply
        .header("content-type")
        .map(|v| v.split(';').next().unwrap_or(v).trim().to_string())
        .unwrap_or_default()
}

/// The first error code of a Distribution error body.
fn error_code(reply: &Reply) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(&reply.body).ok()?;
    Some(v.get("errors")?.get(0)?.get("code")?.as_str()?.to_string())
}

/// Turn a non-200 manifest answer into a failure. A HEAD has no body, so
/// a 404 there is "not found" with the code unknown.
fn classify(reply: &Reply, head: bool) -> Result<(), Failure> {
    let code = error_code(reply);
    match reply.status {
        200 => Ok(()),
        404 => Err(Failure::NotFound {
            code: code.unwrap_or_else(|| "MANIFEST_UNKNOWN".to_string()),
        }),
        401 | 403 => Err(Failure::Denied {
            status: reply.status,
            code: code.unwrap_or_else(|| "DENIED".to_string()),
        }),
        // A HEAD refused or without a digest: the caller falls back to GET.
        _ if head => Ok(()),
        s => Err(Failure::Status(s)),
    }
}

/// `host[:port]` of an absolute URL.
pub fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit('@').next()?;
    Some(authority.to_ascii_lowercase())
}

/// Parse `Bearer realm="…",service="…",scope="…"`.
pub fn parse_challenge(header: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let rest = header
        .trim()
        .split_once(char::is_whitespace)
        .map_or("", |(_, r)| r);
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            value.push(n);
                        }
                    }
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.peek() {
                if *c == ',' {
                    break;
                }
                value.push(*c);
                chars.next();
            }
        }
        out.insert(key.trim().to_ascii_lowercase(), value.trim().to_string());
    }
    out
}

fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A transport error in words, without any URL credentials.
fn describe(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(_) => "timed out".to_string(),
        ureq::Error::Io(io) => format!("{}", io.kind()),
        ureq::Error::HostNotFound => "host not found".to_string(),
        ureq::Error::ConnectionFailed => "connection failed".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_parses_quoted_params() {
        let p = parse_challenge(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#,
        );
        assert_eq!(p["realm"], "https://auth.example/token");
        assert_eq!(p["service"], "registry.example");
        assert_eq!(p["scope"], "repository:a/b:pull,push");
    }

    #[test]
    fn retry_after_seconds_and_http_dates_are_capped() {
        use std::time::SystemTime;
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        assert_eq!(retry_after("2", now), Some(Duration::from_secs(2)));
        assert_eq!(retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(retry_after("86400", now), Some(RETRY_AFTER_CAP));
        assert_eq!(
            retry_after("99999999999999999999999", now),
            Some(RETRY_AFTER_CAP)
        );
        // IMF-fixdate, RFC 850 and asctime, as RFC 9110 asks a recipient to read.
        for date in [
            "Wed, 21 Oct 2015 07:28:05 GMT",
            "Wednesday, 21-Oct-15 07:28:05 GMT",
            "Wed Oct 21 07:28:05 2015",
        ] {
            assert_eq!(
                retry_after(date, now),
                Some(Duration::from_secs(5)),
                "{date}"
            );
        }
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 09:00:00 GMT", now),
            Some(RETRY_AFTER_CAP)
        );
        // In the past: retry now.
        assert_eq!(
            retry_after("Tue, 20 Oct 2015 07:28:00 GMT", now),
            Some(Duration::ZERO)
        );
        for bad in ["", "-1", "1.5", "soon", "Wed, 32 Oct 2015 07:28:00 GMT"] {
            assert_eq!(retry_after(bad, now), None, "{bad}");
        }
        assert!(
            retry_after("Wed, 21 Oct 2015 07:28:00 GMT", SystemTime::now()) == Some(Duration::ZERO)
        );
    }

    #[test]
    fn link_headers() {
        assert_eq!(
            next_link(r#"</v2/a/tags/list?n=2&last=b>; rel="next""#).as_deref(),
            Some("/v2/a/tags/list?n=2&last=b")
        );
        assert_eq!(
            next_link(r#"<https://x/prev>; rel="prev", <https://x/n>; rel=next"#).as_deref(),
            Some("https://x/n")
        );
        assert_eq!(next_link("</x>; rel=\"prev\""), None);
        assert_eq!(next_link("garbage"), None);
    }

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback("127.0.0.1:5000"));
        assert!(is_loopback("localhost"));
        assert!(is_loopback("[::1]:80"));
        assert!(!is_loopback("ghcr.io"));
        assert!(!is_loopback("10.0.0.1:5000"));
    }

    #[test]
    fn hub_goes_to_mirrors_first_and_plain_http_only_on_loopback() {
        let client = Client::new(ClientOptions {
            hub_mirrors: vec![
                "http://127.0.0.1:5001".to_string(),
                "http://mirror.example".to_string(),
            ],
            ..ClientOptions::default()
        });
        let e = client.endpoints("docker.io");
        assert_eq!(e[0].base, "http://127.0.0.1:5001");
        assert_eq!(e[1].base, "https://mirror.example");
        assert_eq!(e[2].base, "https://registry-1.docker.io");
        assert!(!e[2].mirror);
        assert_eq!(client.endpoints("ghcr.io")[0].base, "https://ghcr.io");
    }
}
