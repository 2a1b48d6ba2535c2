//! Finding the files to check and telling their kind from their name.

use crate::kind::FileKind;
use std::path::{Path, PathBuf};

/// A file to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub path: PathBuf,
    /// The path as shown in reports.
    pub display: String,
    pub kind: FileKind,
}

/// The kind of a file from its name (and, for Helm, its folder), as a walk
/// would classify it.
pub fn classify(path: &Path) -> Option<FileKind> {
    classify_at(path, true)
}

/// The kind [`classify`] gives where the name alone decides it, with no
/// look at the disk: `None` where `classify` would read the file or look
/// for a `Chart.yaml` (Quadlet units, Helm values and templates, Compose
/// told by its content, and the Kubernetes fallback after them). Every
/// kind a CI file has is told by its name, so this tells a CI file as
/// `classify` does, without its reads.
pub fn classify_by_name(path: &Path) -> Option<FileKind> {
    classify_at(path, false)
}

fn classify_at(path: &Path, look: bool) -> Option<FileKind> {
    let name = path.file_name()?.to_str()?;
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".dockerignore") || lower.ends_with(".md") {
        return None;
    }
    // Files about a Dockerfile rather than one (`Dockerfile-windows.snap`,
    // `Dockerfile_dev.sh`; `Dockerfile.rego`, a Docker build policy).
    // Also an editor definition or a model named after one
    // (`Dockerfile.sublime-syntax`, `containerfile.tsp`, a TypeSpec model).
    const NOT_DOCKERFILE: &[&str] = &[
        ".snap",
        ".txt",
        ".sh",
        ".ps1",
        ".py",
        ".json",
        ".yaml",
        ".yml",
        ".toml",
        ".orig",
        ".bak",
        ".rej",
        ".swp",
        ".diff",
        ".patch",
        ".rego",
        ".tsp",
        ".sublime-syntax",
        ".tmlanguage",
        ".vim",
        ".el",
        ".svg",
        ".png",
        ".log",
        ".csv",
    ];
    // A source file of a language whose files are named in lower case
    // (`dockerfile.go`, `containerfile.ts`); `Dockerfile.go`, as Docker
    // names its files, may be the Dockerfile of a Go build.
    const SOURCE: &[&str] = &[
        ".ts", ".js", ".mjs", ".cjs", ".go", ".rs", ".rb", ".java", ".kt", ".c", ".h", ".cpp",
        ".cs", ".html", ".xml", ".lua", ".ini", ".cfg",
    ];
    let source =
        !name.chars().any(|c| c.is_ascii_uppercase()) && SOURCE.iter().any(|e| lower.ends_with(e));
    let about = source || NOT_DOCKERFILE.iter().any(|e| lower.ends_with(e));
    // `Dockerfile-windows`, `Dockerfile_dev`: a separator after the name.
    let dockerfile = !about
        && (lower == "dockerfile"
            || lower.starts_with("dockerfile.")
            || lower.starts_with("dockerfile-")
            || lower.starts_with("dockerfile_")
            || lower.ends_with(".dockerfile")
            || lower.starts_with("containerfile")
            // `DebugDockerfile`, `prod-Containerfile`: Docker's name, as
            // Docker writes it, at the end of a name with no extension.
            || (!name.contains('.')
                && (name.ends_with("Dockerfile") || name.ends_with("Containerfile"))));
    if dockerfile {
        return Some(FileKind::Dockerfile);
    }
    if let Some(kind) = classify_daemon(path, &lower) {
        return Some(kind);
    }
    if crate::kind::is_devcontainer(path) || crate::kind::is_devcontainer_lock(path) {
        return Some(FileKind::Devcontainer);
    }
    if crate::kind::is_bake(&lower) {
        return Some(FileKind::Bake);
    }
    // Helm writes `Chart.lock` by that exact name beside `Chart.yaml`.
    if name == "Chart.lock" {
        return Some(FileKind::HelmChart);
    }
    // Terraform's JSON syntax (`main.tf.json`) holds the same blocks.
    if (lower.ends_with(".tf") && lower.len() > 3)
        || (lower.ends_with(".tf.json") && lower.len() > 8)
    {
        return Some(FileKind::Terraform);
    }
    if let Some(section) = crate::kind::quadlet_section(&lower) {
        return (look && is_quadlet_file(path, section)).then_some(FileKind::Quadlet);
    }
    // A Quadlet drop-in: its folder names the unit type.
    if let Some(section) = crate::kind::quadlet_dropin_section(path) {
        if !look {
            return None;
        }
        if is_quadlet_file(path, section) {
            return Some(FileKind::Quadlet);
        }
    }
    // helmfile renders `helmfile.yaml.gotmpl` (and `helmfile.d/*.yaml.gotmpl`)
    // as a Go template before reading it.
    if let Some(inner) = lower.strip_suffix(".gotmpl")
        && (inner.ends_with(".yaml") || inner.ends_with(".yml"))
        && (inner == "helmfile.yaml"
            || inner == "helmfile.yml"
            || path
                .parent()
                .and_then(Path::file_name)
                .is_some_and(|p| p == "helmfile.d"))
    {
        return Some(FileKind::Helmfile);
    }
    let stem = lower
        .strip_suffix(".yaml")
        .or_else(|| lower.strip_suffix(".yml"))?;
    // Helm reads `Chart.yaml` by that exact name.
    if name == "Chart.yaml" {
        return Some(FileKind::HelmChart);
    }
    if stem == "chart" || stem == "chart.lock" {
        return None;
    }
    if stem == "helmfile"
        || path
            .parent()
            .and_then(Path::file_name)
            .is_some_and(|p| p == "helmfile.d")
    {
        return Some(FileKind::Helmfile);
    }
    if stem == "compose" || stem.starts_with("docker-compose") || stem.starts_with("compose.") {
        return Some(FileKind::Compose);
    }
    // Included pipeline files are conventionally named `*.gitlab-ci.yml`.
    if stem == ".gitlab-ci" || stem.ends_with(".gitlab-ci") {
        return Some(FileKind::GitlabCi);
    }
    if let Some(kind) = crate::kind::other_ci(path, stem) {
        return Some(kind);
    }
    if let Some(kind) = crate::kind::pipeline_ci(path, stem) {
        return Some(kind);
    }
    // ko reads `.ko.yaml` (or `.ko.yml`) from the folder it builds in.
    if stem == ".ko" {
        return Some(FileKind::Ko);
    }
    if stem == "kustomization" {
        return Some(FileKind::Kustomize);
    }
    let parent = path.parent();
    let parent_name = parent.and_then(Path::file_name).and_then(|n| n.to_str());
    let grandparent_name = parent
        .and_then(Path::parent)
        .and_then(Path::file_name)
        .and_then(|n| n.to_str());
    if stem == "action" || (parent_name == Some("workflows") && grandparent_name == Some(".github"))
    {
        return Some(FileKind::GithubActions);
    }
    if !look {
        return None;
    }
    if stem.starts_with("values")
        && parent.is_some_and(|p| crate::listing::is_file(&p.join("Chart.yaml")))
    {
        return Some(FileKind::HelmValues);
    }
    if in_chart_templates(path) {
        return Some(FileKind::Template);
    }
    if is_compose_file(path) {
        return Some(FileKind::Compose);
    }
    Some(FileKind::Kubernetes)
}

/// The largest file whose content is read to tell its kind.
const SNIFF_LIMIT: u64 = 1024 * 1024;

/// A Compose file by content, whatever its name (`stack.yml`,
/// `integration/compose/app.yml`): a top-level `services:` mapping whose
/// entries are mappings, at least one with `image:` or `build:`, and no
/// Kubernetes `apiVersion`/`kind`.
pub fn is_compose_file(path: &Path) -> bool {
    // Bounded on the read itself: a `/proc` file says size 0 and goes on.
    crate::bounded::read_regular(path, SNIFF_LIMIT).is_ok_and(|text| looks_like_compose(&text))
}

/// A Podman Quadlet unit: its name's extension and the matching section
/// (`[Container]` in `app.container`). `logo.image` or `release.build`
/// without it is some other file, skipped.
pub fn is_quadlet_file(path: &Path, section: &str) -> bool {
    crate::bounded::read_regular(path, SNIFF_LIMIT)
        .is_ok_and(|text| crate::sources::quadlet::has_section(&text, section))
}

/// The content test of [`is_compose_file`].
pub fn looks_like_compose(text: &str) -> bool {
    // Cheap pre-check: a `services:` key at the start of a line.
    if !text.lines().any(|l| l.starts_with("services:")) {
        return false;
    }
    let Ok(docs) = crate::sources::yaml::parse(text) else {
        return false;
    };
    let Some(doc) = docs.first() else {
        return false;
    };
    let root = doc.resolve(&doc.root);
    if doc.get(root, "apiVersion").is_some() || doc.get(root, "kind").is_some() {
        return false;
    }
    let Some(services) = doc.get(root, "services") else {
        return false;
    };
    let entries = doc.entries(services);
    let maps = entries
        .iter()
        .all(|(_, v)| matches!(doc.resolve(v), crate::sources::yaml::Node::Map(..)));
    maps && entries.iter().any(|(_, v)| {
        let v = doc.resolve(v);
        doc.get(v, "image").is_some() || doc.get(v, "build").is_some()
    })
}

/// Container daemon mirror settings, by name and folder.
fn classify_daemon(path: &Path, lower: &str) -> Option<FileKind> {
    if lower == "daemon.json" {
        return Some(FileKind::DaemonJson);
    }
    if lower == "buildkitd.toml"
        || lower == "buildkitd.default.toml"
        || lower.ends_with(".buildkitd.toml")
    {
        return Some(FileKind::BuildkitToml);
    }
    if lower == "hosts.toml" && crate::kind::certs_d_namespace(path).is_some() {
        return Some(FileKind::ContainerdHosts);
    }
    let parent_name = path
        .parent()
        .and_then(Path::file_name)
        .and_then(|n| n.to_str());
    if lower == "registries.conf"
        || (lower.ends_with(".conf") && parent_name == Some("registries.conf.d"))
    {
        return Some(FileKind::RegistriesConf);
    }
    None
}

/// Under a chart's `templates/` folder (a `Chart.yaml` beside it).
fn in_chart_templates(path: &Path) -> bool {
    path.ancestors().skip(1).any(|dir| {
        dir.file_name().is_some_and(|n| n == "templates")
            && dir
                .parent()
                .is_some_and(|p| crate::listing::is_file(&p.join("Chart.yaml")))
    })
}

/// The kind of a file named on the command line: always checked; a
/// `values*.yaml` is Helm values, and a name that says nothing else is a
/// Dockerfile.
pub fn classify_explicit(path: &Path) -> FileKind {
    let lower = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let yaml = lower.ends_with(".yaml") || lower.ends_with(".yml");
    if lower.starts_with("values") && yaml {
        return FileKind::HelmValues;
    }
    // Outside `certs.d/<host>/` its `server` names the upstream.
    if lower == "hosts.toml" {
        return FileKind::ContainerdHosts;
    }
    // Outside `.devcontainer/`, as `devcontainer open --config` reads it.
    if lower == "devcontainer.json" {
        return FileKind::Devcontainer;
    }
    match classify(path) {
        Some(kind) => kind,
        // `Chart.yaml` and other YAML that names no images.
        None if yaml => FileKind::Kubernetes,
        None => FileKind::Dockerfile,
    }
}

/// The kind of a file named on the command line, or `None` when neither
/// its name nor its content says: a name `classify_explicit` would only
/// guess is a Dockerfile when its first instruction is `FROM` or `ARG`,
/// and Markdown never is. A file that cannot be read keeps the guess, so
/// reading it reports the error.
pub fn explicit_kind(path: &Path) -> Option<FileKind> {
    let lower = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let kind = classify_explicit(path);
    let guessed = kind == FileKind::Dockerfile && classify(path).is_none();
    if !guessed {
        return Some(kind);
    }
    if lower.ends_with(".md") || lower.ends_with(".markdown") {
        return None;
    }
    // A device, FIFO or socket is not sniffed (opening a FIFO blocks,
    // `/dev/zero` never ends): it keeps the guess, and reading refuses it (E001).
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
        return Some(kind);
    }
    let Ok(file) = std::fs::File::open(path) else {
        return Some(kind);
    };
    let mut head = Vec::new();
    let _ = std::io::Read::read_to_end(&mut std::io::Read::take(file, 8192), &mut head);
    looks_like_dockerfile(&String::from_utf8_lossy(&head)).then_some(kind)
}

/// Whether [`explicit_kind`] says a kind, without reading a YAML file: a
/// YAML name always has one (`classify_explicit` falls back to
/// Kubernetes, and only a Dockerfile is ever a guess), so its content is
/// not sniffed here only to be sniffed again by the walk.
fn explicit_known(path: &Path) -> bool {
    let lower = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    lower.ends_with(".yaml") || lower.ends_with(".yml") || explicit_kind(path).is_some()
}

/// The kind of stdin named by `--stdin-filename`, as `explicit_kind` tells
/// a file's: by the name, else a Dockerfile when the text starts like one;
/// `None` when neither says (`foo.txt` holding Compose).
pub fn stdin_kind(name: &Path, text: &str) -> Option<FileKind> {
    let kind = classify_explicit(name);
    // Any YAML name falls back to Kubernetes; its text can say Compose, as
    // a file's does (`is_compose_file`).
    if kind == FileKind::Kubernetes && looks_like_compose(text) {
        return Some(FileKind::Compose);
    }
    let lower = name
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if let Some(section) = crate::kind::quadlet_section(&lower) {
        return crate::sources::quadlet::has_section(text, section).then_some(FileKind::Quadlet);
    }
    // A Quadlet drop-in (`web.container.d/10-image.conf`), by its text.
    if let Some(section) = crate::kind::quadlet_dropin_section(name)
        && crate::sources::quadlet::has_section(text, section)
    {
        return Some(FileKind::Quadlet);
    }
    let guessed = kind == FileKind::Dockerfile && classify(name).is_none();
    (!guessed || looks_like_dockerfile(text)).then_some(kind)
}

/// What `--stdin-filename` may say, for the error when it says nothing.
pub const STDIN_NAMES: &str = "`Dockerfile`, `*.Dockerfile`, `Containerfile`, `compose.yaml`, \
    `docker-compose*.yml`, `values.yaml` (Helm), any other `*.yaml` (Kubernetes), \
    `.gitlab-ci.yml`, `.github/workflows/*.yml`, `kustomization.yaml`, `daemon.json`, \
    `buildkitd.toml`, `hosts.toml`, `registries.conf`, `devcontainer.json`, `devcontainer-lock.json`, Quadlet units \
    (`*.container`, `*.image`, `*.build`, `*.volume`, `*.kube`, `*.pod`), \
    `.circleci/config.yml`, `bitbucket-pipelines.yml`, `azure-pipelines.yml`, \
    `docker-bake.hcl`, `docker-bake.json`, `.drone.yml`, `.woodpecker.yml`, `cloudbuild.yaml`, `.ko.yaml`, `*.tf`, `*.tf.json`, \
    `Chart.yaml`, `Chart.lock`, `helmfile.yaml`, `helmfile.yaml.gotmpl`";

/// The first instruction (after comments, parser directives and blank
/// lines) is `FROM` or `ARG`, as BuildKit requires.
fn looks_like_dockerfile(text: &str) -> bool {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .and_then(|l| l.split_whitespace().next())
        .is_some_and(|w| w.eq_ignore_ascii_case("FROM") || w.eq_ignore_ascii_case("ARG"))
}

/// Files named on the command line whose kind is unknown (see
/// `explicit_kind`), which `discover_with` leaves out.
pub fn unknown_explicit(
    paths: &[PathBuf],
    choose: &(dyn Fn(&Path) -> Choice + Sync),
) -> Vec<PathBuf> {
    paths
        .iter()
        .filter(|p| p.as_os_str() != "-")
        // The name first: most files say their kind, and then no folder
        // test is needed.
        .filter(|p| !matches!(choose(p), Choice::Kind(_) | Choice::ForceSkip) && !explicit_known(p))
        .filter(|p| !crate::listing::is_dir(p))
        .cloned()
        .collect()
}

/// The path as shown in reports: without a leading `./`, and with any
/// byte that is not UTF-8 written `\xNN` (never decoded lossily, so two
/// names never show as one). Only the display: a file's identity is its
/// path.
pub fn display_path(path: &Path) -> String {
    let s = os_display(path.as_os_str());
    let s = s.strip_prefix("./").unwrap_or(&s);
    if cfg!(windows) {
        s.replace('\\', "/")
    } else {
        s.to_string()
    }
}

#[cfg(unix)]
fn os_display(s: &std::ffi::OsStr) -> String {
    use std::fmt::Write;
    use std::os::unix::ffi::OsStrExt;
    let mut out = String::new();
    for chunk in s.as_bytes().utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

#[cfg(not(unix))]
fn os_display(s: &std::ffi::OsStr) -> String {
    s.to_string_lossy().into_owned()
}

/// A path's identity for de-duplication: its components without `.`.
fn identity(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| *c != std::path::Component::CurDir)
        .collect()
}

/// A folder (or entry) the walk could not read: reported as E001.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkError {
    pub path: PathBuf,
    pub display: String,
    pub message: String,
}

/// The path an `ignore` walk error is about, and the error's own words.
fn walk_error(root: &Path, e: &ignore::Error) -> WalkError {
    fn path_of(e: &ignore::Error) -> Option<&Path> {
        match e {
            ignore::Error::WithPath { path, .. } => Some(path),
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                path_of(err)
            }
            ignore::Error::Loop { child, .. } => Some(child),
            ignore::Error::Partial(errs) => errs.first().and_then(path_of),
            _ => None,
        }
    }
    fn message_of(e: &ignore::Error) -> String {
        if let Some(io) = e.io_error() {
            // The operating system's words, without the path again.
            return match io.raw_os_error() {
                Some(code) => std::io::Error::from_raw_os_error(code).to_string(),
                None if io.kind() != std::io::ErrorKind::Other => io.kind().to_string(),
                None => io.to_string(),
            };
        }
        match e {
            ignore::Error::WithPath { err, .. }
            | ignore::Error::WithDepth { err, .. }
            | ignore::Error::WithLineNumber { err, .. } => message_of(err),
            other => other.to_string(),
        }
    }
    let path = path_of(e).unwrap_or(root).to_path_buf();
    WalkError {
        display: display_path(&path),
        message: message_of(e),
        path,
    }
}

/// Expand the command-line paths into files. Folders are walked with the
/// `ignore` crate (respecting `.gitignore`, `.ignore`, and skipping `.git`);
/// files named explicitly are always included. Paths that do not exist are
/// returned as targets too, so reading them reports an E001 error.
pub fn discover(paths: &[PathBuf]) -> Vec<Target> {
    discover_with(paths, &|_| Choice::Default)
}

/// Folders left out of a walk unless `exclude` is set (config or
/// `--exclude`), as ruff leaves out `node_modules`: code the repository
/// carries but does not own, whose findings are not the user's to fix.
/// `.terraform` is where `terraform init` downloads modules and providers.
pub const DEFAULT_EXCLUDE: &[&str] = &["vendor", "third_party", "node_modules", ".terraform"];

/// Whether a path lies under one of [`DEFAULT_EXCLUDE`]'s folders.
pub fn default_excluded(path: &Path) -> bool {
    let Some(parent) = path.parent() else {
        return false;
    };
    parent.components().any(|c| {
        matches!(c, std::path::Component::Normal(n)
            if DEFAULT_EXCLUDE.iter().any(|d| n == *d))
    })
}

/// What configuration says about a walked file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// Classify it by name.
    Default,
    /// Excluded (`exclude`, or not in `include`).
    Skip,
    /// Excluded, even when named on the command line (`force-exclude`).
    ForceSkip,
    /// A `kinds` override.
    Kind(FileKind),
}

/// `discover`, asking `choose` about each file (configuration). Files named
/// on the command line are always checked, with a `kinds` override applied.
pub fn discover_with(paths: &[PathBuf], choose: &(dyn Fn(&Path) -> Choice + Sync)) -> Vec<Target> {
    walk(paths, choose).0
}

/// `discover_with`, also returning what the walk could not read.
pub fn walk(
    paths: &[PathBuf],
    choose: &(dyn Fn(&Path) -> Choice + Sync),
) -> (Vec<Target>, Vec<WalkError>) {
    let mut targets = Vec::new();
    let mut errors = Vec::new();
    for root in paths {
        if !crate::listing::is_dir(root) {
            let kind = match choose(root) {
                Choice::Kind(k) => k,
                Choice::ForceSkip => continue,
                _ => match explicit_kind(root) {
                    Some(k) => k,
                    // Said by `unknown_explicit`; not guessed.
                    None => continue,
                },
            };
            targets.push(Target {
                path: root.clone(),
                display: display_path(root),
                kind,
            });
            continue;
        }
        let walker = ignore::WalkBuilder::new(root)
            .hidden(false)
            .require_git(false)
            .filter_entry(|e| e.file_name() != ".git")
            .build();
        for entry in walker {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    errors.push(walk_error(root, &e));
                    continue;
                }
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                continue;
            }
            let path = entry.path();
            let kind = match choose(path) {
                Choice::Skip | Choice::ForceSkip => None,
                Choice::Kind(k) => Some(k),
                Choice::Default => classify(path),
            };
            if let Some(kind) = kind {
                targets.push(Target {
                    path: path.to_path_buf(),
                    display: display_path(path),
                    kind,
                });
            }
        }
    }
    // One target per file: the same path named twice (`.` and `./x`) is
    // checked once; two files that display alike are both checked.
    let mut keyed: Vec<(PathBuf, Target)> = targets
        .into_iter()
        .map(|t| (identity(&t.path), t))
        .collect();
    keyed.sort_by(|a, b| a.1.display.cmp(&b.1.display).then_with(|| a.0.cmp(&b.0)));
    keyed.dedup_by(|a, b| a.0 == b.0);
    errors.sort_by(|a, b| a.display.cmp(&b.display));
    errors.dedup();
    (keyed.into_iter().map(|(_, t)| t).collect(), errors)
}

/// Folders that hold test data by widely used convention: Go's
/// `testdata/` (the go tool ignores it; only tests read it), `test-data/`,
/// `test_data/`, `fixtures/` and Jest's `__fixtures__/` and
/// `__snapshots__/`, golden files (`golden/`, `goldens/`,
/// `golden_files/`) and expected outputs (`expected/`,
/// `expected_output/`).
const TEST_DATA_FOLDERS: [&str; 11] = [
    "testdata",
    "test-data",
    "test_data",
    "fixtures",
    "__fixtures__",
    "__snapshots__",
    "golden",
    "goldens",
    "golden_files",
    "expected",
    "expected_output",
];

/// Why a file is test data, from its path inside the repository (no I/O):
/// a folder of [`TEST_DATA_FOLDERS`] on the way, or a name with `golden`
/// as a word of its own (Go's `*.golden.yaml`, `golden.yaml`) or starting
/// with `expected` (kustomize's `expected.yaml`, `expected-output.yaml`).
/// A test may compare such a file's text, so a fix there is unsafe.
pub fn test_data(path: &Path) -> Option<String> {
    let parts: Vec<String> = path
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(p) => Some(p.to_string_lossy().to_string()),
            _ => None,
        })
        .collect();
    let (name, folders) = parts.split_last()?;
    if let Some(folder) = folders
        .iter()
        .find(|f| TEST_DATA_FOLDERS.iter().any(|t| f.eq_ignore_ascii_case(t)))
    {
        return Some(format!("under `{folder}/`"));
    }
    let lower = name.to_ascii_lowercase();
    let golden = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| word == "golden");
    (golden || lower.starts_with("expected")).then(|| format!("named `{name}`"))
}

/// Whether a file, by its path inside the repository (no I/O), is an
/// expected output that a test compares with what it renders: under a
/// folder named `expected`, `expected_output`, `golden`, `goldens` or
/// `golden_files`, or named `*golden*`/`expected*` (a part of
/// [`test_data`]). An image written there as a source file writes it must
/// change with the source, or the comparison fails.
pub fn compared_output(path: &Path) -> bool {
    const FOLDERS: [&str; 5] = [
        "expected",
        "expected_output",
        "golden",
        "goldens",
        "golden_files",
    ];
    let parts = normal_parts(path);
    let Some((name, folders)) = parts.split_last() else {
        return false;
    };
    if folders.iter().any(|f| {
        FOLDERS
            .iter()
            .any(|t| f.to_string_lossy().eq_ignore_ascii_case(t))
    }) {
        return true;
    }
    let lower = name.to_string_lossy().to_ascii_lowercase();
    lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| word == "golden")
        || lower.starts_with("expected")
}

/// A path's plain parts (no root, `.` or `..`).
fn normal_parts(path: &Path) -> Vec<&std::ffi::OsStr> {
    path.components()
        .filter_map(|c| match c {
            std::path::Component::Normal(p) => Some(p),
            _ => None,
        })
        .collect()
}

/// Whether a `.github/workflows/*.yml` file, by its path inside the
/// repository (no I/O), sits below the repository root: GitHub runs only
/// the root's `.github/workflows/`, so one below it (a merged-in project's,
/// `ostree-ext/.github/workflows/rust.yml`) never runs as a workflow.
pub fn nested_workflow(path: &Path) -> bool {
    let parts = normal_parts(path);
    let n = parts.len();
    n > 3 && parts[n - 3] == ".github" && parts[n - 2] == "workflows"
}

#[cfg(test)]
mod tests {
    /// `classify_by_name` tells every CI file as `classify` does, and says
    /// nothing it would have to look at the disk for.
    #[test]
    fn ci_files_are_told_by_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        std::fs::create_dir_all(d.join(".github/workflows")).expect("mkdir");
        std::fs::create_dir_all(d.join(".circleci")).expect("mkdir");
        std::fs::create_dir_all(d.join("chart/templates")).expect("mkdir");
        std::fs::write(d.join("chart/Chart.yaml"), "name: c\n").expect("write");
        let compose = "services:\n  web:\n    image: nginx\n";
        let files = [
            (".github/workflows/ci.yml", "on: push\n"),
            (".gitlab-ci.yml", "build:\n  script: [make]\n"),
            ("jobs.gitlab-ci.yml", "build:\n  script: [make]\n"),
            (".circleci/config.yml", "version: 2.1\n"),
            ("bitbucket-pipelines.yml", "pipelines: {}\n"),
            ("azure-pipelines.yml", "steps: []\n"),
            ("stack.yml", compose),
            ("chart/values.yaml", "image: x\n"),
            ("chart/templates/d.yaml", "kind: Deployment\n"),
            ("deploy.yaml", "kind: Pod\n"),
            ("action.yml", "runs: {}\n"),
            ("Dockerfile", "FROM x\n"),
        ];
        let ci = |k: Option<FileKind>| k.is_some_and(crate::kind::runs_ci_scripts);
        for (name, text) in files {
            let p = d.join(name);
            std::fs::write(&p, text).expect("write");
            let full = classify(&p);
            let named = classify_by_name(&p);
            assert_eq!(ci(named), ci(full), "{name}");
            // What the name decides, it decides alike.
            if named.is_some() {
                assert_eq!(named, full, "{name}");
            }
        }
        assert_eq!(classify_by_name(&d.join("stack.yml")), None);
        assert_eq!(classify(&d.join("stack.yml")), Some(FileKind::Compose));
        assert_eq!(
            classify_by_name(&d.join(".gitlab-ci.yml")),
            Some(FileKind::GitlabCi)
        );
    }

    use super::*;

    #[test]
    fn nested_workflows() {
        assert!(nested_workflow(Path::new(
            "ostree-ext/.github/workflows/rust.yml"
        )));
        assert!(!nested_workflow(Path::new(".github/workflows/ci.yml")));
        assert!(!nested_workflow(Path::new("rust.yml")));
        assert!(!nested_workflow(Path::new("a/workflows/ci.yml")));
    }

    #[test]
    fn test_data_paths() {
        let why = |p: &str| test_data(Path::new(p));
        assert_eq!(
            why("kyaml/fn/framework/testdata/example/expected.yaml").as_deref(),
            Some("under `testdata/`")
        );
        assert!(why("./test/fixtures/compose.yaml").is_some());
        assert!(why("tests/fixtures/Dockerfile").is_some());
        assert!(why("src/__snapshots__/app.yaml").is_some());
        assert_eq!(
            why("charts/x/golden.yaml").as_deref(),
            Some("named `golden.yaml`")
        );
        assert!(why("deploy/expected-output.yaml").is_some());
        assert_eq!(
            why("script/test/fixtures/v3/output-k8s.json").as_deref(),
            Some("under `fixtures/`")
        );
        for folder in [
            "test-data",
            "test_data",
            "__fixtures__",
            "Golden",
            "goldens",
            "golden_files",
            "expected",
            "expected_output",
        ] {
            let path = format!("pkg/x/{folder}/case/deployment.yaml");
            assert_eq!(why(&path), Some(format!("under `{folder}/`")), "{path}");
        }
        for name in [
            "deployment.golden.yaml",
            "golden-output.yaml",
            "deploy_golden.yaml",
            "Expected.yaml",
            "expectedOutput.json",
        ] {
            assert!(why(&format!("charts/x/{name}")).is_some(), "{name}");
        }
        for not_test_data in [
            "test/e2e/deployment.yaml",
            "Dockerfile",
            "charts/goldengate/values.yaml",
            "deploy/goldenrod.yaml",
            "deploy/unexpected.yaml",
            "testdata.yaml",
            "fixtures.Dockerfile",
        ] {
            assert!(why(not_test_data).is_none(), "{not_test_data}");
        }
    }

    #[test]
    fn compose_by_content() {
        let dir = tempfile::tempdir().unwrap();
        let stack = dir.path().join("stack.yml");
        std::fs::write(
            &stack,
            "version: '3.8'\nservices:\n  web:\n    image: nginx:1.27\n  api:\n    build: ./api\n",
        )
        .unwrap();
        assert_eq!(classify(&stack), Some(FileKind::Compose));
        assert_eq!(classify_explicit(&stack), FileKind::Compose);
        for not_compose in [
            // A workflow's `services:` are under a job, not at the top.
            "jobs:\n  t:\n    services:\n      db:\n        image: postgres:16\n",
            // A Kubernetes object with a `services` key.
            "apiVersion: v1\nkind: Foo\nservices:\n  a:\n    image: x:1\n",
            // A list of service names, not Compose services.
            "services:\n  - web\n  - api\n",
            "services:\n  web:\n    port: 80\n",
        ] {
            assert!(!looks_like_compose(not_compose), "{not_compose}");
        }
    }

    #[test]
    fn dockerfile_names() {
        for name in [
            "Dockerfile",
            "dockerfile",
            "Dockerfile.dev",
            "api.Dockerfile",
            "api.dockerfile",
            "Containerfile",
            "Containerfile.debug-ubi",
            "sub/dir/Dockerfile",
        ] {
            assert_eq!(
                classify(Path::new(name)),
                Some(FileKind::Dockerfile),
                "{name}"
            );
        }
        for name in [
            "Dockerfile-windows",
            "Dockerfile_dev",
            "dockerfile-alpine",
            "Dockerfile.go",
            "DebugDockerfile",
            "docker/prod-Containerfile",
        ] {
            assert_eq!(
                classify(Path::new(name)),
                Some(FileKind::Dockerfile),
                "{name}"
            );
        }
        for name in [
            "Dockerfile.dockerignore",
            "Dockerfile-windows.snap",
            "Dockerfile_dev.sh",
            "Dockerfile.rego",
            "app.Dockerfile.rego",
            "containerfile.tsp",
            "utils/highlights/Dockerfile.sublime-syntax",
            "cmd/cosign/cli/dockerfile.go",
            "README.md",
            "Dockerfile.md",
            "chart.yaml",
            "chart.lock",
            "notes.txt",
            "values.yaml.gotmpl",
            "helmfile.yaml.tmpl",
        ] {
            assert_eq!(classify(Path::new(name)), None, "{name}");
        }
        for (name, kind) in [
            ("compose.yaml", FileKind::Compose),
            ("docker-compose.prod.yml", FileKind::Compose),
            ("compose.override.yaml", FileKind::Compose),
            (".gitlab-ci.yml", FileKind::GitlabCi),
            ("kustomization.yaml", FileKind::Kustomize),
            (".github/workflows/ci.yml", FileKind::GithubActions),
            ("action.yml", FileKind::GithubActions),
            ("deploy/app.yaml", FileKind::Kubernetes),
            (".circleci/config.yml", FileKind::Circleci),
            (".circleci/continue.yaml", FileKind::Circleci),
            ("bitbucket-pipelines.yml", FileKind::BitbucketPipelines),
            // Bitbucket reads `.yml` only.
            ("bitbucket-pipelines.yaml", FileKind::Kubernetes),
            ("azure-pipelines.yml", FileKind::AzurePipelines),
            (".azure-pipelines.yml", FileKind::AzurePipelines),
            ("azure-pipelines-release.yaml", FileKind::AzurePipelines),
            ("azure-pipelines/build.yml", FileKind::AzurePipelines),
            (".azuredevops/ci.yml", FileKind::AzurePipelines),
            ("docker-bake.hcl", FileKind::Bake),
            ("docker-bake.json", FileKind::Bake),
            ("docker-bake.override.hcl", FileKind::Bake),
            ("build/docker-bake.release.json", FileKind::Bake),
            (".drone.yml", FileKind::Drone),
            (".woodpecker.yml", FileKind::Woodpecker),
            (".woodpecker/build.yaml", FileKind::Woodpecker),
            ("cloudbuild.yaml", FileKind::CloudBuild),
            ("deploy/cloudbuild-prod.yml", FileKind::CloudBuild),
            (".ko.yaml", FileKind::Ko),
            ("infra/main.tf", FileKind::Terraform),
            ("infra/main.tf.json", FileKind::Terraform),
            ("charts/app/Chart.yaml", FileKind::HelmChart),
            ("charts/app/Chart.lock", FileKind::HelmChart),
            ("helmfile.yaml", FileKind::Helmfile),
            ("deploy/helmfile.d/10-apps.yaml", FileKind::Helmfile),
            ("helmfile.yaml.gotmpl", FileKind::Helmfile),
            ("deploy/helmfile.d/10-apps.yaml.gotmpl", FileKind::Helmfile),
        ] {
            assert_eq!(classify(Path::new(name)), Some(kind), "{name}");
        }
        for (name, kind) in [
            ("etc/docker/daemon.json", FileKind::DaemonJson),
            ("buildkitd.toml", FileKind::BuildkitToml),
            ("buildkitd.default.toml", FileKind::BuildkitToml),
            ("ci.buildkitd.toml", FileKind::BuildkitToml),
            (
                "etc/containerd/certs.d/docker.io/hosts.toml",
                FileKind::ContainerdHosts,
            ),
            ("certs.d/_default/hosts.toml", FileKind::ContainerdHosts),
            ("etc/containers/registries.conf", FileKind::RegistriesConf),
            ("registries.conf.d/10-mirror.conf", FileKind::RegistriesConf),
            (".devcontainer/devcontainer.json", FileKind::Devcontainer),
            (".devcontainer/py/devcontainer.json", FileKind::Devcontainer),
            ("app/.devcontainer.json", FileKind::Devcontainer),
            (
                ".devcontainer/devcontainer-lock.json",
                FileKind::Devcontainer,
            ),
            (
                ".devcontainer/py/devcontainer-lock.json",
                FileKind::Devcontainer,
            ),
            ("app/.devcontainer-lock.json", FileKind::Devcontainer),
        ] {
            assert_eq!(classify(Path::new(name)), Some(kind), "{name}");
        }
        for name in [
            "hosts.toml",
            "docker.io/hosts.toml",
            "nginx.conf",
            "package.json",
            "devcontainer.json",
            ".devcontainer/a/b/devcontainer.json",
            "devcontainer-lock.json",
            ".devcontainer/a/b/devcontainer-lock.json",
        ] {
            assert_eq!(classify(Path::new(name)), None, "{name}");
        }
        let dir = tempfile::tempdir().unwrap();
        for (name, text, quadlet) in [
            ("web.container", "[Container]\nImage=nginx:1.27\n", true),
            ("db.image", "[Unit]\n[Image]\nImage=postgres:16\n", true),
            ("app.build", "[Build]\nImageTag=app\n", true),
            ("data.volume", "[Volume]\n", true),
            ("logo.image", "\u{89}PNG", false),
            ("release.build", "[Container]\nImage=x\n", false),
            ("notes.pod", "a pod of whales\n", false),
            (
                "web.container.d/10-image.conf",
                "[Container]\nImage=x:1\n",
                true,
            ),
            (
                "container.d/all.conf",
                "[Container]\nEnvironment=A=1\n",
                true,
            ),
            ("web.container.d/notes.conf", "# no section\n", false),
            ("nginx/conf.d/site.conf", "[Container]\n", false),
        ] {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            let want = quadlet.then_some(FileKind::Quadlet);
            assert_eq!(classify(&path), want, "{name}");
            assert_eq!(
                explicit_kind(&path).filter(|k| *k == FileKind::Quadlet),
                want,
                "{name}"
            );
            assert_eq!(stdin_kind(Path::new(name), text), want, "{name}");
        }
        assert_eq!(
            classify_explicit(Path::new("my-values.yaml")),
            FileKind::Kubernetes
        );
        assert_eq!(
            classify_explicit(Path::new("hosts.toml")),
            FileKind::ContainerdHosts
        );
        assert_eq!(
            classify_explicit(Path::new("values-prod.yaml")),
            FileKind::HelmValues
        );
    }
}
