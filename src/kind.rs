//! The kinds of file refit reads, and what a path alone says about a file.
//! At the bottom of the import graph: every layer names kinds.

use std::path::Path;

/// The names of refit's configuration file, in the order they are looked for.
pub const CONFIG_FILE_NAMES: &[&str] = &["refit.toml", ".refit.toml"];

/// The kinds of file refit reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    Dockerfile,
    Compose,
    HelmValues,
    /// Any other YAML: Kubernetes objects are found by `apiVersion` and `kind`.
    Kubernetes,
    GithubActions,
    GitlabCi,
    Kustomize,
    /// A templated file (Helm `templates/`): skipped, never an error.
    Template,
    /// Docker Engine `daemon.json`.
    DaemonJson,
    /// BuildKit `buildkitd.toml`.
    BuildkitToml,
    /// containerd `certs.d/<host>/hosts.toml`.
    ContainerdHosts,
    /// containers/image `registries.conf` (Podman, CRI-O).
    RegistriesConf,
    /// A Podman Quadlet unit (`*.container`, `*.image`, `*.build`, …).
    Quadlet,
    /// Dev container `devcontainer.json` (JSON with comments).
    Devcontainer,
}

impl FileKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            FileKind::Dockerfile => "dockerfile",
            FileKind::Compose => "compose",
            FileKind::HelmValues => "helm-values",
            FileKind::Kubernetes => "kubernetes",
            FileKind::GithubActions => "github-actions",
            FileKind::GitlabCi => "gitlab-ci",
            FileKind::Kustomize => "kustomize",
            FileKind::Template => "template",
            FileKind::DaemonJson => "daemon-json",
            FileKind::BuildkitToml => "buildkitd",
            FileKind::ContainerdHosts => "containerd-hosts",
            FileKind::RegistriesConf => "registries-conf",
            FileKind::Quadlet => "quadlet",
            FileKind::Devcontainer => "devcontainer",
        }
    }
}

/// Whether files of a kind may be UTF-16 or UTF-32: YAML may (YAML 1.2
/// §5.2; go-yaml and PyYAML read UTF-16), while BuildKit reads Dockerfiles,
/// and JSON and TOML readers read their files, as UTF-8 only.
pub fn reads_wide_encodings(kind: FileKind) -> bool {
    matches!(
        kind,
        FileKind::Compose
            | FileKind::HelmValues
            | FileKind::Kubernetes
            | FileKind::GithubActions
            | FileKind::GitlabCi
            | FileKind::Kustomize
            | FileKind::Template
    )
}

/// A Dev Container configuration by its path: `.devcontainer.json`, or
/// `devcontainer.json` in `.devcontainer/` or a folder of it
/// (`.devcontainer/python/devcontainer.json`), where the tools look.
pub fn is_devcontainer(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let lower = name.to_ascii_lowercase();
    if lower == ".devcontainer.json" {
        return true;
    }
    let folder = |p: Option<&Path>| {
        p.and_then(Path::file_name)
            .is_some_and(|n| n == ".devcontainer")
    };
    let parent = path.parent();
    lower == "devcontainer.json" && (folder(parent) || folder(parent.and_then(Path::parent)))
}

/// The `<namespace>` of a `certs.d/<namespace>/hosts.toml`: the registry
/// containerd mirrors with it (`_default` for every registry).
pub fn certs_d_namespace(path: &Path) -> Option<String> {
    let parent = path.parent()?;
    let grandparent = parent.parent()?.file_name()?.to_str()?;
    if grandparent != "certs.d" {
        return None;
    }
    parent.file_name()?.to_str().map(str::to_string)
}

/// The section a Podman Quadlet unit of this (lower-case) file name must
/// have (`app.container` → `Container`): the extension alone does not say
/// Quadlet (`logo.image`, `release.build`), the section does.
pub fn quadlet_section(lower_name: &str) -> Option<&'static str> {
    let (stem, ext) = lower_name.rsplit_once('.')?;
    if stem.is_empty() {
        return None;
    }
    Some(match ext {
        "container" => "Container",
        "image" => "Image",
        "build" => "Build",
        "volume" => "Volume",
        "kube" => "Kube",
        "pod" => "Pod",
        _ => return None,
    })
}
