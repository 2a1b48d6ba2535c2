//! `refit registry status` and the mirror probe (MIR003).

use super::client::{Client, Endpoint, Failure};
use std::time::Instant;

/// The repository and tag a Docker Hub mirror is probed with.
pub const PROBE_REPOSITORY: &str = "library/alpine";
pub const PROBE_TAG: &str = "latest";

/// What a mirror probe found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum MirrorState {
    /// `/v2/` answers and `library/alpine:latest` resolves through it.
    Ok { digest: String },
    /// No answer at `/v2/`.
    Unreachable { reason: String },
    /// It answers, but does not serve Docker Hub content.
    NotServing { reason: String },
}

impl MirrorState {
    pub fn is_ok(&self) -> bool {
        matches!(self, MirrorState::Ok { .. })
    }
    pub fn describe(&self) -> String {
        match self {
            MirrorState::Ok { digest } => format!("ok (library/alpine:latest is {digest})"),
            MirrorState::Unreachable { reason } => format!("unreachable: {reason}"),
            MirrorState::NotServing { reason } => {
                format!("not serving Docker Hub content: {reason}")
            }
        }
    }
}

/// Probe a Docker Hub mirror: `/v2/`, then a HEAD on `library/alpine`'s
/// manifest through it.
pub fn probe_mirror(client: &Client, endpoint: &Endpoint) -> MirrorState {
    match client.ping(endpoint) {
        Err(e) => {
            return MirrorState::Unreachable {
                reason: e.to_string(),
            };
        }
        Ok(r) if r.status != 200 && r.status != 401 => {
            return MirrorState::NotServing {
                reason: format!("`/v2/` answered HTTP {}", r.status),
            };
        }
        Ok(_) => {}
    }
    match client.manifest_at(endpoint, PROBE_REPOSITORY, PROBE_TAG, false) {
        Ok(m) => MirrorState::Ok { digest: m.digest },
        Err(Failure::Unreachable(reason)) => MirrorState::Unreachable { reason },
        Err(e) => MirrorState::NotServing {
            reason: format!("{PROBE_REPOSITORY}:{PROBE_TAG} {e}"),
        },
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct MirrorReport {
    pub mirror: String,
    #[serde(flatten)]
    pub state: MirrorState,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RateLimit {
    pub limit: Option<String>,
    pub remaining: Option<String>,
    pub source: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RegistryReport {
    /// As asked (`docker.io`, `127.0.0.1:5000`).
    pub registry: String,
    /// The URL spoken to.
    pub endpoint: String,
    pub reachable: bool,
    /// The `/v2/` status.
    pub status: Option<u16>,
    /// The `/v2/` round trip, in milliseconds.
    pub rtt_ms: Option<u64>,
    /// Which credential was used (user and where it came from), never the
    /// secret.
    pub credential: Option<String>,
    pub ratelimit: RateLimit,
    pub mirrors: Vec<MirrorReport>,
    pub error: Option<String>,
}

/// The status of one registry: `/v2/`, the credential, Docker Hub's rate
/// limit (from a HEAD, which is not a pull), and its mirrors.
pub fn registry_status(client: &Client, registry: &str) -> RegistryReport {
    let registry = normalize_registry(registry);
    let endpoints = client.endpoints(&registry);
    let Some(upstream) = endpoints.iter().find(|e| !e.mirror).cloned() else {
        return RegistryReport {
            registry,
            endpoint: String::new(),
            reachable: false,
            status: None,
            rtt_ms: None,
            credential: None,
            ratelimit: RateLimit::default(),
            mirrors: Vec::new(),
            error: Some("no endpoint".to_string()),
        };
    };
    let credential = client
        .credential(&upstream)
        .map(|c| format!("{} ({})", c.username, c.source));
    let start = Instant::now();
    let ping = client.ping(&upstream);
    let rtt_ms = Some(start.elapsed().as_millis() as u64);
    let mut report = RegistryReport {
        registry: registry.clone(),
        endpoint: upstream.base.clone(),
        reachable: ping.is_ok(),
        status: ping.as_ref().ok().map(|r| r.status),
        rtt_ms,
        credential,
        ratelimit: RateLimit::default(),
        mirrors: Vec::new(),
        error: ping.as_ref().err().map(|e| e.to_string()),
    };
    let mut headers = ping.ok();
    if registry == "docker.io" && report.reachable {
        // Docker's documented way to read the limit without using it.
        let path = "/v2/ratelimitpreview/test/manifests/latest";
        match client.registry_request(&upstream, "ratelimitpreview/test", "HEAD", path) {
            Ok(r) => headers = Some(r),
            Err(e) => report.error = Some(e.to_string()),
        }
    }
    if let Some(r) = headers {
        report.ratelimit = RateLimit {
            limit: r.header("ratelimit-limit").map(str::to_string),
            remaining: r.header("ratelimit-remaining").map(str::to_string),
            source: r.header("docker-ratelimit-source").map(str::to_string),
        };
    }
    for mirror in endpoints.iter().filter(|e| e.mirror) {
        report.mirrors.push(MirrorReport {
            mirror: mirror.base.clone()
                + &if mirror.prefix.is_empty() {
                    String::new()
                } else {
                    format!("/{}", mirror.prefix)
                },
            state: probe_mirror(client, mirror),
        });
    }
    report
}

/// `index.docker.io`, `registry-1.docker.io`, `https://x/` → a registry
/// name as references use it.
pub fn normalize_registry(raw: &str) -> String {
    let s = raw.trim();
    let s = s.split_once("://").map_or(s, |(_, r)| r);
    let s = s.trim_end_matches('/').to_ascii_lowercase();
    if s == "docker.io"
        || crate::reference::DOCKER_HUB_ALIASES
            .iter()
            .any(|a| a.eq_ignore_ascii_case(&s))
    {
        "docker.io".to_string()
    } else {
        s
    }
}
