//! The data model shared by front-ends, rules, the fix engine and reports.

use crate::reference::{Reference, ReferenceError};

pub use crate::span::Span;

/// What kind of place in a file holds an image reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SiteKind {
    /// `FROM image`
    From,
    /// `COPY --from=image`
    CopyFrom,
    /// `RUN --mount=...,from=image`
    RunMountFrom,
    /// `# syntax=image`
    SyntaxDirective,
    /// `services.<name>.image` in a Compose file
    ComposeService,
    /// a container image in a Kubernetes workload
    KubernetesContainer,
    /// `volumes[].image.reference` in a Kubernetes pod spec
    KubernetesVolume,
    /// an image in Helm chart values
    HelmValue,
    /// a job container, service or `docker://` step in GitHub Actions
    GithubActions,
    /// an `image` or `services` entry in GitLab CI
    GitlabCi,
    /// an entry of `images:` in a kustomization
    Kustomize,
    /// a registry mirror in a container daemon's settings (`daemon.json`,
    /// `buildkitd.toml`, containerd `hosts.toml`, `registries.conf`)
    DaemonMirror,
    /// `Image=` of a Podman Quadlet unit (`[Container]`, `[Image]`,
    /// `[Volume]`), or a `[Build]` unit's `ImageTag=`
    Quadlet,
    /// `image` in a `devcontainer.json`
    DevcontainerImage,
    /// an OCI reference of a feature (a key of `features`) in a
    /// `devcontainer.json`
    DevcontainerFeature,
    /// `docker[].image` of a CircleCI job or executor
    Circleci,
    /// an `image` (or `image.name`) of Bitbucket Pipelines, or a step's
    /// `pipe: docker://…`
    BitbucketPipelines,
    /// a container resource's `image` or a job's `container` in Azure
    /// Pipelines
    AzurePipelines,
    /// a `docker-image://` value of a Docker Bake target's `contexts`
    BakeContext,
    /// a Docker Bake target's `tags`: the name of a build output
    BakeTag,
    /// a step's or service's `image` in a Drone pipeline
    Drone,
    /// a step's, service's or clone step's `image` in a Woodpecker pipeline
    Woodpecker,
    /// a step's `name` (its builder image) in a Cloud Build configuration
    CloudBuild,
    /// `defaultBaseImage` or a `baseImageOverrides` value in ko's `.ko.yaml`
    Ko,
    /// an image of the Docker or Kubernetes provider, or a Helm chart in an
    /// OCI registry, in a Terraform file
    Terraform,
    /// a Helm chart in an OCI registry, or a `kustomize.images` override,
    /// of an Argo CD `Application` or `ApplicationSet`
    ArgoCd,
    /// a `Chart.yaml` dependency stored in an OCI registry (`repository:
    /// oci://…` with `name` and `version`)
    HelmChartDependency,
    /// a helmfile release's chart stored in an OCI registry
    Helmfile,
    /// a Flux `OCIRepository` url, or the chart of a `HelmRelease` from an
    /// OCI `HelmRepository`
    Flux,
}

impl SiteKind {
    pub fn label(&self) -> &'static str {
        match self {
            SiteKind::From => "FROM",
            SiteKind::CopyFrom => "COPY --from",
            SiteKind::RunMountFrom => "RUN --mount from",
            SiteKind::SyntaxDirective => "# syntax",
            SiteKind::ComposeService => "Compose service",
            SiteKind::KubernetesContainer => "Kubernetes container",
            SiteKind::KubernetesVolume => "Kubernetes image volume",
            SiteKind::HelmValue => "Helm value",
            SiteKind::GithubActions => "GitHub Actions",
            SiteKind::GitlabCi => "GitLab CI",
            SiteKind::Kustomize => "kustomize image",
            SiteKind::DaemonMirror => "daemon mirror",
            SiteKind::Quadlet => "Quadlet",
            SiteKind::DevcontainerImage => "dev container image",
            SiteKind::DevcontainerFeature => "dev container feature",
            SiteKind::Circleci => "CircleCI",
            SiteKind::BitbucketPipelines => "Bitbucket Pipelines",
            SiteKind::AzurePipelines => "Azure Pipelines",
            SiteKind::BakeContext => "bake context",
            SiteKind::BakeTag => "bake tag",
            SiteKind::Drone => "Drone",
            SiteKind::Woodpecker => "Woodpecker",
            SiteKind::CloudBuild => "Cloud Build",
            SiteKind::Ko => "ko base image",
            SiteKind::Terraform => "Terraform",
            SiteKind::ArgoCd => "Argo CD",
            SiteKind::HelmChartDependency => "Helm chart dependency",
            SiteKind::Helmfile => "helmfile release",
            SiteKind::Flux => "Flux",
        }
    }
}

/// A run of the resolved reference text and where it came from.
///
/// `text` is a byte range in the resolved reference text. When `file` is
/// `Some`, those bytes are exactly the bytes of the file at that span, so an
/// edit of the reference inside this run can be made in the file. When it is
/// `None` the text was synthesised (a `--build-arg` override, a separator
/// joined by a template) and cannot be edited in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub text: Span,
    pub file: Option<Span>,
}

/// The value of an image site after variable expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SiteValue {
    /// Every variable had a value: the text and how it was composed.
    Resolved {
        text: String,
        pieces: Vec<Piece>,
        parsed: Result<Reference, ReferenceError>,
    },
    /// One or more variables have no value and no default.
    Unresolved { missing: Vec<String> },
    /// Not an image but a registry mirror in a daemon's settings: rules
    /// about references skip it (`ImageSite::reference` is `None`).
    Mirror(MirrorSetting),
}

/// The settings file format a mirror setting came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MirrorFormat {
    /// Docker Engine `daemon.json` `registry-mirrors`
    DaemonJson,
    /// BuildKit `buildkitd.toml` `[registry."<host>"] mirrors`
    Buildkit,
    /// containerd `certs.d/<host>/hosts.toml` `[host."<url>"]`
    ContainerdHosts,
    /// containers/image `registries.conf` `[[registry.mirror]]`
    RegistriesConf,
}

impl MirrorFormat {
    pub fn label(&self) -> &'static str {
        match self {
            MirrorFormat::DaemonJson => "daemon.json",
            MirrorFormat::Buildkit => "buildkitd.toml",
            MirrorFormat::ContainerdHosts => "hosts.toml",
            MirrorFormat::RegistriesConf => "registries.conf",
        }
    }
}

/// A registry mirror named in a daemon's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorSetting {
    /// The mirror as written, after unescaping (`https://mirror.gcr.io`,
    /// `core.harbor.domain/proxy.docker.io`).
    pub written: String,
    /// The mirror's host: lowercase, without scheme, userinfo, port or path.
    pub host: String,
    /// The path after the host, without the leading `/` (empty for none).
    pub path: String,
    /// The registry it stands in for, as the settings name it
    /// (`docker.io`, a `registries.conf` prefix's host); `None` when it
    /// stands in for every registry (containerd's `_default`).
    pub upstream: Option<String>,
    pub format: MirrorFormat,
}

impl MirrorSetting {
    /// Split a mirror as written into its normalized host and its path.
    /// `None` when there is no host at all.
    pub fn split(written: &str) -> Option<(String, String)> {
        let trimmed = written.trim();
        let rest = match trimmed.split_once("://") {
            Some((_, rest)) => rest,
            None => trimmed,
        };
        let (authority, path) = match rest.find(['/', '?', '#']) {
            Some(at) => (&rest[..at], rest[at..].trim_start_matches('/')),
            None => (rest, ""),
        };
        let authority = authority.rsplit('@').next().unwrap_or(authority);
        let host = if let Some(v6) = authority.strip_prefix('[') {
            v6.split(']').next().unwrap_or(v6)
        } else {
            authority.split(':').next().unwrap_or(authority)
        };
        if host.is_empty() {
            return None;
        }
        let path = path.split(['?', '#']).next().unwrap_or("");
        Some((
            host.to_ascii_lowercase(),
            path.trim_end_matches('/').to_string(),
        ))
    }

    /// Whether the mirror stands in for Docker Hub (or for every registry).
    pub fn mirrors_docker_hub(&self) -> bool {
        match &self.upstream {
            None => true,
            Some(upstream) => {
                let host = upstream.split('/').next().unwrap_or(upstream);
                host.eq_ignore_ascii_case("docker.io")
                    || crate::reference::DOCKER_HUB_ALIASES
                        .iter()
                        .any(|h| host.eq_ignore_ascii_case(h))
            }
        }
    }

    /// The upstream for messages: `docker.io`, or `every registry`.
    pub fn upstream_label(&self) -> &str {
        self.upstream.as_deref().unwrap_or("every registry")
    }
}

/// One occurrence of an image reference in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSite {
    pub kind: SiteKind,
    /// The reference as written at the site (before expansion), e.g.
    /// `${BASE}:20` or `node:20`. Diagnostics point here.
    pub span: Span,
    pub raw: String,
    pub value: SiteValue,
    /// The name of the build stage this site belongs to (`AS name`), if any.
    pub stage: Option<String>,
    /// Where the site is in a YAML document (`services.web.image`).
    pub path: Option<String>,
    /// Facts about the site that some rules need.
    pub extra: Extra,
}

/// A YAML scalar a fix may rewrite: its span as written and, when its
/// bytes are exactly its value, the span of those bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Slot {
    pub span: Span,
    pub content: Option<Span>,
    pub value: String,
}

/// A Kubernetes container's `imagePullPolicy`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PullPolicy {
    /// The value, when the key is present.
    pub value: Option<Slot>,
    /// Where to insert `imagePullPolicy: …` when it is absent: the offset
    /// and the text to insert before the policy (newline and indentation,
    /// or `, ` in a flow mapping).
    pub insert: Option<(usize, String)>,
}

/// Site facts beyond the reference itself.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Extra {
    /// Compose `image:` beside `build:`: the name given to a build output,
    /// not a pull, so registry and tag rules do not apply. Also set for an
    /// image the repository builds itself and for a named build context
    /// (`FROM bats-jenkins`, `COPY --from=binary_dir`; see `context/builds.rs`).
    pub build_output: bool,
    /// Kubernetes pull policy.
    pub pull_policy: Option<PullPolicy>,
    /// Tag scalars written plain that YAML reads as numbers (`tag: 1.10`).
    pub numeric_tags: Vec<Slot>,
    /// Helm values with a `registry:` key: a registry is set there, never
    /// prefixed onto `repository:`.
    pub registry_slot: Option<Slot>,
    /// Helm values whose template writes `default FALLBACK .registry`: the
    /// fallback's value, used while the `registry:` slot is empty (`otel`, a
    /// Docker Hub namespace). A registry set in the slot must keep it.
    pub registry_fallback: Option<String>,
    /// Helm values: the chart's helper may take this map's registry from
    /// another key or a literal (`default .image.defaultRegistry
    /// .image.registry`), so no registry is implied and none is set here.
    pub registry_elsewhere: bool,
    /// Helm values: the values paths a chart helper reads this map's
    /// registry from (its own `registry` first), when none of them is set,
    /// so the rendered name has no registry. Empty otherwise.
    pub registry_keys: Vec<String>,
    /// A kustomization that includes this resource gives the image a
    /// `newTag` or `digest`: the tag deployed is the overlay's. Also set on
    /// a kustomize `images[]` entry with `newName` and no `newTag` or
    /// `digest`: kustomize keeps the matched resource's tag.
    pub tag_from_overlay: bool,
    /// A kustomize `images[]` entry: the `name` it matches in resources.
    pub kustomize_name: Option<String>,
    /// A pull through a proxy prefix kept on rewrite
    /// (`$CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX/`).
    pub via_proxy: Option<String>,
    /// A Dockerfile `FROM`: the build stage it starts.
    pub stage: Option<std::sync::Arc<Stage>>,
    /// Helm values: the image map's `digest:` key, even when empty (where
    /// `refit pin` writes a digest).
    pub digest_slot: Option<Slot>,
    /// Helm values: for an image map with no `digest:` key, where `refit
    /// pin` may add one (the offset and the text before the digest: a
    /// newline and the map's indentation, or `, ` in flow style) when the
    /// chart's templates read that map's digest, or why not.
    pub digest_insert: Option<Result<(usize, String), String>>,
    /// A Dockerfile `FROM` with variables that have no value: what BuildKit
    /// does with them (REF002's UndefinedArgInFrom and
    /// InvalidDefaultArgInFrom).
    pub from_args: Option<FromArgs>,
    /// File spans of values this site takes from a place other uses share
    /// (a Dockerfile `ARG` default used more than once): an edit there
    /// would change every use, so `map_to_file` never maps into them; an
    /// insertion before the whole reference goes to the use site instead.
    pub shared: Vec<Span>,
    /// Whether a registry may be written in front of this reference's name
    /// (Helm charts whose templates join a registry value themselves).
    pub prefixing: Prefixing,
    /// A GitLab CI service without `alias:`: the host names the job reaches
    /// it by come from the image name, so a fix that renames the image adds
    /// an `alias:` with them.
    pub service_hosts: Option<ServiceHosts>,
    /// Helm values under a sub-chart's key (`memcached.image.repository`
    /// for the dependency `memcached`): the sub-chart's templates and
    /// defaults render them, and refit reads neither, so a registry or tag
    /// the value leaves out may come from there. The sub-chart's name.
    pub subchart: Option<String>,
    /// Why no fix edits this value, when it is used in places other than
    /// this image (a YAML anchor its aliases share, a workflow matrix value
    /// that `exclude:`, keys and scripts also match): its span is in
    /// `frozen`, and the finding's help says this.
    pub kept: Option<String>,
    /// Compose `profiles:` of the service: it runs only when one of them
    /// is enabled (empty: always).
    pub profiles: Vec<String>,
    /// File spans no fix may edit: a kustomize `images[].name` and the
    /// resource images it matches literally (an edit on one side alone
    /// would break the match and change what is deployed).
    pub frozen: Vec<Span>,
    /// A Helm chart's version written as a range (`~1.2`, `>=1.0`): Helm
    /// picks the version when it runs, so the reference has no tag and tag
    /// rules do not report one missing.
    pub version_range: Option<String>,
    /// What a fix of this site leaves to the user, added to the finding's
    /// help (a `Chart.yaml` dependency edited: run `helm dependency update`
    /// to update `Chart.lock`).
    pub fix_note: Option<String>,
    /// Why every fix of this site is unsafe: its value is used in places
    /// refit cannot vouch for (a Terraform variable's default that the
    /// module also uses otherwise). Added to the finding's help.
    pub fix_unsafe: Option<String>,
    /// Helm values of a chart whose templates refit read: how the
    /// templates use this entry (written alone, joined to a tag or a
    /// prefix, written whole, or not found). `None` elsewhere.
    pub rendered: Option<crate::facts::Judged>,
}

/// The host names a GitLab CI service answers on, and how to keep them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceHosts {
    /// `docker`, or `tutum__wordpress,tutum-wordpress`.
    pub hosts: String,
    /// The service's image scalar as written (quotes included).
    pub scalar: Span,
    /// Where to insert `alias:` and the text before it (`\n    ` in a block
    /// mapping, `, ` in a flow mapping); `None` for a service written as a
    /// plain string, which becomes `{ name: …, alias: … }`.
    pub insert: Option<(usize, String)>,
}

/// Whether a fix may write a registry in front of a name that has none.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Prefixing {
    #[default]
    Safe,
    /// refit cannot tell how the name is used (a values file with no
    /// templates, a sub-chart's values): the fix is unsafe.
    Unsure(String),
    /// The consumer adds a registry itself: a prefix would double it.
    Never(String),
}

/// What a repository's build invocations (Compose `build.args`,
/// `--build-arg`, bake `args`, CI `build-args`) set for a Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SuppliedArgs {
    /// Argument names some invocation sets.
    pub names: std::collections::BTreeSet<String>,
    /// Why any argument may be set: an invocation refit cannot follow.
    pub unknown: Option<String>,
    /// Whether some build invocation refit read builds a Dockerfile of
    /// this file's name (a build command's `-f`, a Compose service, bake
    /// target, dev container, Skaffold artifact, or the default
    /// `Dockerfile`/`Containerfile` of a build that names none).
    pub built: bool,
    /// Argument names that every build refit sees of this Dockerfile
    /// passes (a Makefile's, script's or CI step's `--build-arg
    /// NAME=VALUE`, `$(VAR:%=--build-arg NAME=%)` with `VAR` set, Compose
    /// and bake `args`): the `ARG` default is not what those builds use.
    pub always: std::collections::BTreeSet<String>,
    /// Distinct plain values builds pass for `always` names (`--build-arg
    /// TAG=latest`), each with the file of a build that passes them: the
    /// references those builds use are judged.
    pub values: Vec<(std::collections::BTreeMap<String, String>, String)>,
    /// Every build of this Dockerfile that refit sees is Podman's or
    /// Buildah's, never BuildKit's: the file that runs one.
    pub containers_only: Option<String>,
    /// A file that may build this Dockerfile with Podman or Buildah.
    pub containers_builder: Option<String>,
    /// Code that compares `FROM` text, each with its file: an image name
    /// a pattern matches as a prefix (`golang` for `awk '/FROM golang/'`),
    /// or `*/NAME` for bashbrew, which builds `<namespace>/NAME` here and
    /// links parents by exact `FROM` (and `COPY --from`) text.
    pub from_readers: Vec<(String, String)>,
}

/// How a `FROM`'s variables without a value stand, as BuildKit's build
/// checks see them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FromArgs {
    /// Variables no `ARG` before the first `FROM` declares.
    pub undeclared: Vec<String>,
    /// The names declared before the first `FROM` (for "did you mean").
    pub declared: Vec<String>,
    /// The reference with every declared variable without a value
    /// expanded as empty, as BuildKit builds it by default; `None` when a
    /// variable is undeclared.
    pub with_empty: Option<String>,
    /// Variables declared with an empty default (`ARG WINDOWS_VERSION=`).
    pub empty_defaults: Vec<String>,
}

/// A Dockerfile build stage, seen from its `FROM`: for rules that change
/// a stage's base and must adapt what the stage does with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// 0 for the first `FROM`.
    pub index: usize,
    /// Where new instructions go: the end of the `FROM` instruction's last
    /// line, before its line end.
    pub after_from: usize,
    /// The file's line end after the `FROM` (`\n` or `\r\n`).
    pub newline: &'static str,
    /// The escape character (`\\` or `` ` ``).
    pub escape: char,
    /// Whether the image the file builds (its last stage) is this stage or
    /// built on it.
    pub is_final: bool,
    /// This stage's instructions, those of the stages built `FROM` it, and
    /// `COPY --from=` it elsewhere, in file order.
    pub body: Vec<StageInstruction>,
}

/// How an instruction relates to the stage it is listed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// In the stage itself.
    Own,
    /// In a stage built `FROM` this one (directly or not).
    Descendant,
    /// Elsewhere, copying from this stage (`COPY --from=name`).
    CopiesFrom,
}

/// Where the bytes of a text joined from pieces of a file came from: runs
/// of (offset in the text, offset in the file, length). The Dockerfile
/// parser builds one per logical line (continuations removed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SegmentMap {
    runs: Vec<(usize, usize, usize)>,
}

impl SegmentMap {
    /// Append a run of `len` bytes copied from the file at `file`, placed at
    /// `at` in the text.
    pub fn push(&mut self, at: usize, file: usize, len: usize) {
        if len > 0 {
            self.runs.push((at, file, len));
        }
    }

    /// The map of the text from `from` on, with offsets counted from there.
    pub fn after(&self, from: usize) -> SegmentMap {
        let runs = self
            .runs
            .iter()
            .filter(|(at, _, len)| at + len > from)
            .map(|&(at, file, len)| {
                if at < from {
                    (0, file + (from - at), len - (from - at))
                } else {
                    (at - from, file, len)
                }
            })
            .collect();
        SegmentMap { runs }
    }

    /// The file offset of a text offset (the end maps to the end of the
    /// run it closes).
    pub fn file_offset(&self, at: usize) -> Option<usize> {
        // Runs are pushed in text order and do not overlap: the run holding
        // `at` is the last one starting at or before it.
        let i = self.runs.partition_point(|(l, _, _)| *l <= at);
        let (l, f, len) = *self.runs.get(i.checked_sub(1)?)?;
        (at <= l + len).then(|| f + (at - l))
    }

    /// The file span covering a text range, from its first to its last
    /// byte (it may cover line continuations in between).
    pub fn file_span(&self, range: Span) -> Span {
        let start = self.file_offset(range.start).unwrap_or(0);
        let end = if range.is_empty() {
            start
        } else {
            self.file_offset(range.end - 1).map_or(start, |e| e + 1)
        };
        Span::new(start, end.max(start))
    }

    /// The file span of a text range that was copied in one run, so that
    /// replacing those file bytes replaces exactly that text.
    pub fn verbatim(&self, range: Span) -> Option<Span> {
        // The first run reaching the range's end (runs are in text order).
        let i = self.runs.partition_point(|(l, _, len)| l + len < range.end);
        let &(at, file, _) = self.runs.get(i)?;
        if at > range.start {
            return None;
        }
        let start = file + (range.start - at);
        Some(Span::new(start, start + range.len()))
    }
}

/// One instruction, as the Dockerfile front-end read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageInstruction {
    /// Lowercase keyword: `run`, `user`, `cmd`, …
    pub keyword: String,
    /// The text after the keyword, with line continuations removed.
    pub args: String,
    /// The bodies of its heredocs (`RUN <<EOF … EOF`), as written.
    pub heredocs: String,
    /// The exec (JSON) form's words and where its `[` is in `args`
    /// (`CMD ["node", "app.js"]`).
    pub exec_form: Option<(usize, Vec<String>)>,
    /// `COPY --from=<value>`.
    pub copy_from: Option<String>,
    /// For `COPY` and `ADD`: where the destination starts in `args`, so
    /// what comes before it are the sources.
    pub destination_at: Option<usize>,
    /// Where the whole instruction is in the file.
    pub span: Span,
    /// The 1-based line it starts on.
    pub line: usize,
    pub relation: Relation,
    /// Where each byte of `args` is in the file.
    pub map: SegmentMap,
}

impl StageInstruction {
    /// The file span of a range of `args`, when it lies on one line.
    pub fn file_span(&self, range: Span) -> Option<Span> {
        self.map.verbatim(range)
    }
}

impl ImageSite {
    /// The parsed reference, when it resolved and parsed.
    pub fn reference(&self) -> Option<&Reference> {
        match &self.value {
            SiteValue::Resolved {
                parsed: Ok(reference),
                ..
            } => Some(reference),
            _ => None,
        }
    }

    /// The registry mirror, for a daemon mirror site.
    pub fn mirror(&self) -> Option<&MirrorSetting> {
        match &self.value {
            SiteValue::Mirror(mirror) => Some(mirror),
            _ => None,
        }
    }

    /// Map a byte range of the resolved text onto the file, if the whole
    /// range lies inside one run copied verbatim from the file. An empty range
    /// (an insertion point) maps when a verbatim run contains or touches it.
    pub fn map_to_file(&self, range: Span) -> Option<Span> {
        let SiteValue::Resolved { pieces, .. } = &self.value else {
            return None;
        };
        let fits = |p: &Piece| {
            if range.is_empty() {
                p.text.start <= range.start && range.start <= p.text.end
            } else {
                p.text.start <= range.start && range.end <= p.text.end
            }
        };
        // Prefer a verbatim run; for an insertion at a boundary between a
        // synthetic and a verbatim run, the verbatim one is editable.
        let piece = pieces
            .iter()
            .filter(|p| p.file.is_some())
            .find(|p| fits(p))?;
        let file = piece.file?;
        if self
            .extra
            .frozen
            .iter()
            .any(|f| f.start < file.end && file.start < f.end)
        {
            return None;
        }
        if self
            .extra
            .shared
            .iter()
            .any(|s| s.start <= file.start && file.end <= s.end)
        {
            // A value other places share: edit this use, never the value.
            return (range.is_empty() && range.start == 0 && piece.text.start == 0)
                .then(|| Span::new(self.span.start, self.span.start));
        }
        let offset = range.start - piece.text.start;
        Some(Span::new(
            file.start + offset,
            file.start + offset + range.len(),
        ))
    }

    /// Map a replacement of the whole resolved text onto the file: possible
    /// only when the reference is one verbatim run.
    pub fn whole_file_span(&self) -> Option<Span> {
        let SiteValue::Resolved { text, .. } = &self.value else {
            return None;
        };
        self.map_to_file(Span::new(0, text.len()))
    }
}

/// A problem in a file that stopped it from being checked (E001–E004).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: String,
    pub span: Span,
}

/// A Dockerfile's stages and what reaches them, for rules about the file
/// as a whole (STG…, MIR004). Built by the Dockerfile front-end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StageGraph {
    pub stages: Vec<StageNode>,
    /// The names `ARG` declares before the first `FROM`, and the
    /// predefined platform variables.
    pub meta_args: Vec<String>,
    /// Every `RUN` instruction's text (continuations removed) and heredocs.
    pub runs: Vec<RunText>,
    /// Whether a stage reference is written with a variable (`FROM ${BASE}`,
    /// `AS ${NAME}`, `COPY --from=$SRC`, `RUN --mount=from=$X`): which
    /// stages a build uses then depends on its build arguments.
    pub variable_refs: bool,
}

/// One `FROM`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageNode {
    pub index: usize,
    /// The name as written after `AS`, and its span.
    pub name: Option<(String, Span)>,
    /// The base as written and its span; `base_resolved` after `ARG`
    /// expansion (`None` when a variable has no value).
    pub base: (String, Span),
    pub base_resolved: Option<String>,
    /// `--platform=` as written and its span.
    pub platform: Option<(String, Span)>,
    /// The `FROM` keyword's span (for reports about the whole instruction).
    pub from_span: Span,
    /// The stage this one is built `FROM`, when it is one of the file's.
    pub parent: Option<usize>,
    /// Stages this one copies or mounts from (`COPY --from`,
    /// `RUN --mount=…,from=`), by name or index.
    pub uses: Vec<usize>,
}

impl StageNode {
    pub fn lower_name(&self) -> Option<String> {
        self.name.as_ref().map(|(n, _)| n.to_ascii_lowercase())
    }
}

impl StageGraph {
    /// Whether building the default target (the last stage) builds the
    /// stage.
    pub fn reachable(&self) -> Vec<bool> {
        let mut seen = vec![false; self.stages.len()];
        let mut todo: Vec<usize> = self.stages.len().checked_sub(1).into_iter().collect();
        while let Some(i) = todo.pop() {
            if i >= seen.len() || seen[i] {
                continue;
            }
            seen[i] = true;
            let node = &self.stages[i];
            todo.extend(node.parent);
            todo.extend(node.uses.iter().copied());
        }
        seen
    }

    /// Mark what a stage reaches as reachable too.
    pub fn reach_from(&self, start: usize, seen: &mut [bool]) {
        let mut todo = vec![start];
        while let Some(i) = todo.pop() {
            if i >= seen.len() || seen[i] {
                continue;
            }
            seen[i] = true;
            let node = &self.stages[i];
            todo.extend(node.parent);
            todo.extend(node.uses.iter().copied());
        }
    }
}

/// A `RUN` instruction's shell text (or an `ENV` instruction's text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunText {
    /// `run` or `env`.
    pub keyword: &'static str,
    /// The text after `RUN` and its flags, continuations removed.
    pub text: String,
    /// Where each byte of `text` is in the file.
    pub map: SegmentMap,
    /// The heredoc bodies, as written, with their file spans.
    pub heredocs: Vec<(String, Span)>,
    /// The whole instruction in the file.
    pub span: Span,
}
