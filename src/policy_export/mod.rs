//! `refit policy export` and `refit policy check`: the registry policy of
//! `refit.toml` written out for the tools that enforce it elsewhere
//! (Kubernetes admission, hadolint, Docker build policies, container
//! runtimes' mirror settings), and deployed copies compared with it.
//!
//! One model, [`Spec`], is built from the configuration; each format is a
//! function of it (one file per family: `admission`, `build`, `runtime`).
//! What a format cannot express is said in [`Export::notes`], never
//! silently widened.

pub mod admission;
pub mod build;
pub mod cli;
pub mod drift;
pub mod matching;
pub mod runtime;
pub mod yaml;

use crate::config::RawConfig;
use crate::policy::Policy;

/// The policy to export: the registry policy plus which of the rules
/// behind it are on (file-wide settings; `[[overrides]]` apply to paths in
/// the repository, not to a cluster, and are not exported).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Spec {
    pub policy: Policy,
    /// `[registries] mirrors`: Docker Hub mirrors.
    pub mirrors: Vec<String>,
    /// `[registries] insecure`: hosts spoken to over plain HTTP.
    pub insecure: Vec<String>,
    /// REG001: every reference names its registry.
    pub require_registry: bool,
    /// REG003: no legacy Docker Hub host alias.
    pub canonical_hub: bool,
    /// REG005: the allow and deny lists.
    pub trusted: bool,
    /// REG006: upstreams go through their pull-through cache.
    pub proxied: bool,
    /// REG007: names under a rewrite's `from` are refused (or moved).
    pub rewritten: bool,
    /// TAG001: a tag or a digest.
    pub require_tag: bool,
    /// TAG002: no `latest` without a digest.
    pub forbid_latest: bool,
    /// TAG004 (opt-in): a digest.
    pub require_digest: bool,
}

/// The rules whose verdicts the exported policies carry.
pub const RULES: &[&str] = &[
    "REG001", "REG003", "REG005", "REG006", "REG007", "TAG001", "TAG002", "TAG004",
];

impl Spec {
    pub fn from_config(raw: &RawConfig) -> Spec {
        let settings = crate::settings::Settings {
            select: raw.select.clone().unwrap_or_default(),
            extend_select: raw.extend_select.clone().unwrap_or_default(),
            ignore: raw.ignore.clone().unwrap_or_default(),
            ..crate::settings::Settings::default()
        };
        let on = |code: &str| settings.enabled(code);
        Spec {
            policy: raw.policy(),
            mirrors: raw
                .registries
                .as_ref()
                .and_then(|r| r.mirrors.clone())
                .unwrap_or_default(),
            insecure: raw
                .registries
                .as_ref()
                .and_then(|r| r.insecure.clone())
                .unwrap_or_default(),
            require_registry: on("REG001"),
            canonical_hub: on("REG003"),
            trusted: on("REG005"),
            proxied: on("REG006"),
            rewritten: on("REG007"),
            require_tag: on("TAG001"),
            forbid_latest: on("TAG002"),
            require_digest: on("TAG004"),
        }
    }

    /// Whether a rule the policies carry is on.
    pub fn enabled(&self, code: &str) -> bool {
        match code {
            "REG001" => self.require_registry,
            "REG003" => self.canonical_hub,
            "REG005" => self.trusted,
            "REG006" => self.proxied,
            "REG007" => self.rewritten,
            "TAG001" => self.require_tag,
            "TAG002" => self.forbid_latest,
            "TAG004" => self.require_digest,
            _ => false,
        }
    }
}

/// The caches whose upstream the allow list also admits: tools that only
/// allow (the Gatekeeper library, hadolint) cannot refuse that upstream, as
/// REG006 does.
pub fn allowed_upstreams(spec: &Spec) -> Vec<&str> {
    if !spec.proxied {
        return Vec::new();
    }
    spec.policy
        .proxies
        .iter()
        .map(|p| p.upstream.as_str())
        .filter(|upstream| {
            spec.policy.allow.iter().any(|pattern| {
                let registry = pattern.split('/').next().unwrap_or(pattern);
                crate::policy::pattern_matches(registry, upstream, upstream)
            })
        })
        .collect()
}

/// An export format (`--to`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// Kubernetes `ValidatingAdmissionPolicy` and its binding (CEL).
    Vap,
    /// Kyverno `ClusterPolicy` (CEL validation, rewrites as mutations).
    Kyverno,
    /// Gatekeeper constraints for the gatekeeper-library templates.
    Gatekeeper,
    /// hadolint's `.hadolint.yaml` `trustedRegistries`.
    Hadolint,
    /// Docker build policy `Dockerfile.rego` (Rego).
    DockerfileRego,
    /// containerd `certs.d/<host>/hosts.toml`.
    Containerd,
    /// Docker Engine `daemon.json` `registry-mirrors`.
    DaemonJson,
    /// BuildKit `buildkitd.toml` `[registry."…"] mirrors`.
    Buildkitd,
    /// containers/image `registries.conf` (Podman, CRI-O).
    RegistriesConf,
}

impl Format {
    pub const ALL: &[Format] = &[
        Format::Vap,
        Format::Kyverno,
        Format::Gatekeeper,
        Format::Hadolint,
        Format::DockerfileRego,
        Format::Containerd,
        Format::DaemonJson,
        Format::Buildkitd,
        Format::RegistriesConf,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::Vap => "vap",
            Format::Kyverno => "kyverno",
            Format::Gatekeeper => "gatekeeper",
            Format::Hadolint => "hadolint",
            Format::DockerfileRego => "dockerfile-rego",
            Format::Containerd => "containerd",
            Format::DaemonJson => "daemon-json",
            Format::Buildkitd => "buildkitd",
            Format::RegistriesConf => "registries-conf",
        }
    }

    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.iter().copied().find(|f| f.name() == name)
    }
}

/// One file of an export: its conventional path and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// Relative, with `/` (`certs.d/docker.io/hosts.toml`).
    pub path: String,
    pub text: String,
}

/// What `export` produced, and what the format could not say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Export {
    pub files: Vec<File>,
    pub notes: Vec<String>,
}

/// The name of every exported Kubernetes object.
pub const NAME: &str = "refit-image-policy";

pub fn export(spec: &Spec, format: Format) -> Export {
    match format {
        Format::Vap => admission::vap(spec),
        Format::Kyverno => admission::kyverno(spec),
        Format::Gatekeeper => admission::gatekeeper(spec),
        Format::Hadolint => build::hadolint(spec),
        Format::DockerfileRego => build::dockerfile_rego(spec),
        Format::Containerd => runtime::containerd(spec),
        Format::DaemonJson => runtime::daemon_json(spec),
        Format::Buildkitd => runtime::buildkitd(spec),
        Format::RegistriesConf => runtime::registries_conf(spec),
    }
}
