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
    /// Dev container `devcontainer.json` (JSON with comments), and its
    /// lock file `devcontainer-lock.json`.
    Devcontainer,
    /// CircleCI `.circleci/config.yml`.
    Circleci,
    /// `bitbucket-pipelines.yml`.
    BitbucketPipelines,
    /// `azure-pipelines.yml` and the pipeline files beside it.
    AzurePipelines,
    /// Docker Bake: `docker-bake.hcl`, `docker-bake.json` and their
    /// `docker-bake.*.hcl` / `.json` variants (`docker-bake.override.hcl`).
    Bake,
    /// Drone `.drone.yml`.
    Drone,
    /// Woodpecker `.woodpecker.yml` and `.woodpecker/*.yml`.
    Woodpecker,
    /// Google Cloud Build `cloudbuild.yaml`.
    CloudBuild,
    /// ko's `.ko.yaml`.
    Ko,
    /// Terraform `*.tf`.
    Terraform,
    /// A Helm chart's `Chart.yaml` or `Chart.lock` (its OCI dependencies).
    HelmChart,
    /// helmfile's `helmfile.yaml` and `helmfile.d/*.yaml`.
    Helmfile,
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
            FileKind::Circleci => "circleci",
            FileKind::BitbucketPipelines => "bitbucket-pipelines",
            FileKind::AzurePipelines => "azure-pipelines",
            FileKind::Bake => "bake",
            FileKind::Drone => "drone",
            FileKind::Woodpecker => "woodpecker",
            FileKind::CloudBuild => "cloudbuild",
            FileKind::Ko => "ko",
            FileKind::Terraform => "terraform",
            FileKind::HelmChart => "helm-chart",
            FileKind::Helmfile => "helmfile",
        }
    }
}

/// Whether files of a kind may be UTF-16 or UTF-32: YAML may (YAML 1.2
/// §5.2; go-yaml and PyYAML read UTF-16), while BuildKit reads Dockerfiles,
/// and JSON and TOML readers read their files, as UTF-8 only.
pub fn reads_wide_encodings(kind: FileKind) -> bool {
    is_yaml(kind)
}

/// Whether a kind is a CI file whose steps run scripts (the CIs whose
/// `run`/`script` lines refit reads as commands).
pub fn runs_ci_scripts(kind: FileKind) -> bool {
    matches!(
        kind,
        FileKind::GithubActions
            | FileKind::GitlabCi
            | FileKind::Circleci
            | FileKind::BitbucketPipelines
            | FileKind::AzurePipelines
    )
}

/// Whether files of a kind are YAML.
pub fn is_yaml(kind: FileKind) -> bool {
    matches!(
        kind,
        FileKind::Compose
            | FileKind::HelmValues
            | FileKind::Kubernetes
            | FileKind::GithubActions
            | FileKind::GitlabCi
            | FileKind::Kustomize
            | FileKind::Template
            | FileKind::Circleci
            | FileKind::BitbucketPipelines
            | FileKind::AzurePipelines
            | FileKind::Drone
            | FileKind::Woodpecker
            | FileKind::CloudBuild
            | FileKind::Ko
            | FileKind::HelmChart
            | FileKind::Helmfile
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

/// A Dev Container lock file, where the Dev Container CLI writes it beside
/// its configuration: `devcontainer-lock.json` beside a
/// `devcontainer.json` (in `.devcontainer/` or a folder of it), and
/// `.devcontainer-lock.json` beside a `.devcontainer.json`.
pub fn is_devcontainer_lock(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    match name.to_ascii_lowercase().as_str() {
        ".devcontainer-lock.json" => true,
        "devcontainer-lock.json" => is_devcontainer(&path.with_file_name("devcontainer.json")),
        _ => false,
    }
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
/// The section of a Quadlet drop-in (`web.container.d/10-image.conf`,
/// `container.d/all.conf`): its folder's unit type's, like the unit's.
pub fn quadlet_dropin_section(path: &Path) -> Option<&'static str> {
    let name = path.file_name()?.to_str()?;
    if !name.to_ascii_lowercase().ends_with(".conf") {
        return None;
    }
    let folder = path.parent()?.file_name()?.to_str()?.to_ascii_lowercase();
    let unit = folder.strip_suffix(".d")?;
    // `container.d` (every unit of the type) or `web.container.d`.
    match quadlet_section(unit) {
        Some(s) => Some(s),
        None => quadlet_section(&format!("x.{unit}")),
    }
}

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

/// A CI pipeline file other than GitHub's and GitLab's, by its path (`stem`:
/// the lower-case name without `.yml`/`.yaml`): YAML in `.circleci/`
/// (`config.yml`, dynamic configuration's continuation files);
/// `bitbucket-pipelines.yml`, the one name Bitbucket reads; and
/// `azure-pipelines*.yml`, `.azure-pipelines.yml`, or YAML in an
/// `azure-pipelines/`, `.azure-pipelines/` or `.azuredevops/` folder,
/// where Azure DevOps projects keep pipelines and their templates.
pub fn other_ci(path: &Path, stem: &str) -> Option<FileKind> {
    let parent = path
        .parent()
        .and_then(Path::file_name)
        .and_then(|n| n.to_str())
        .map(str::to_ascii_lowercase);
    let yml = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yml"));
    if parent.as_deref() == Some(".circleci") {
        return Some(FileKind::Circleci);
    }
    if stem == "bitbucket-pipelines" && yml {
        return Some(FileKind::BitbucketPipelines);
    }
    let azure_name = stem == ".azure-pipelines"
        || stem == "azure-pipelines"
        || stem.starts_with("azure-pipelines.")
        || stem.starts_with("azure-pipelines-");
    let azure_folder = matches!(
        parent.as_deref(),
        Some("azure-pipelines" | ".azure-pipelines" | ".azuredevops")
    );
    (azure_name || azure_folder).then_some(FileKind::AzurePipelines)
}

/// A Docker Bake file by its (lower-case) name: `docker-bake.hcl`,
/// `docker-bake.json`, `docker-bake.override.hcl` / `.json` (the names
/// `docker buildx bake` looks for), and other `docker-bake.*.hcl` /
/// `.json` files passed with `--file` (`docker-bake.release.hcl`).
pub fn is_bake(lower_name: &str) -> bool {
    let Some(rest) = lower_name.strip_prefix("docker-bake") else {
        return false;
    };
    rest == ".hcl"
        || rest == ".json"
        || (rest.starts_with('.') && (rest.ends_with(".hcl") || rest.ends_with(".json")))
}

/// A container-native pipeline file by its path (`stem`: the lower-case
/// name without `.yml`/`.yaml`): Drone's `.drone.yml` (the name Drone
/// reads by default); Woodpecker's `.woodpecker.yml` or any YAML in
/// `.woodpecker/`; Cloud Build's `cloudbuild.yaml` and its variants
/// (`cloudbuild.prod.yaml`, `cloudbuild-release.yaml`), passed to `gcloud
/// builds submit --config`.
pub fn pipeline_ci(path: &Path, stem: &str) -> Option<FileKind> {
    let parent = path
        .parent()
        .and_then(Path::file_name)
        .and_then(|n| n.to_str());
    if stem == ".drone" {
        return Some(FileKind::Drone);
    }
    if stem == ".woodpecker" || parent.is_some_and(|p| p.eq_ignore_ascii_case(".woodpecker")) {
        return Some(FileKind::Woodpecker);
    }
    let cloudbuild = stem == "cloudbuild"
        || ["cloudbuild.", "cloudbuild-", "cloudbuild_"]
            .iter()
            .any(|p| stem.starts_with(p));
    cloudbuild.then_some(FileKind::CloudBuild)
}
