//! Repository context: facts from neighbouring files that a file's own text
//! does not say (a chart's templates, the images a repository builds, the
//! build arguments Compose passes to a Dockerfile, kustomization trees).
//! Every walk is bounded: file count, depth and size.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};

/// The most files a context walk reads (files whose names it uses).
pub const MAX_FILES: usize = 20_000;
/// The most folder entries a context walk looks at.
pub const MAX_ENTRIES: usize = 250_000;
/// The deepest folder a context walk enters.
pub const MAX_DEPTH: usize = 32;
/// The largest file a context walk reads.
pub const MAX_BYTES: u64 = 1024 * 1024;
/// The most bytes a context walk reads in all.
pub const MAX_TOTAL_BYTES: u64 = 128 * 1024 * 1024;

/// Folders a walk never enters.
const SKIP: &[&str] = &[".git", "node_modules", "vendor", "target", ".venv", "dist"];

fn read(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_BYTES {
        return None;
    }
    std::fs::read_to_string(path).ok()
}

/// What a file's (lower-case) name makes it to the context scan.
#[derive(Debug, Clone, Copy, Default)]
struct Role {
    compose: bool,
    bake: bool,
    yaml: bool,
    script: bool,
    kustomization: bool,
    registries_conf: bool,
}

impl Role {
    fn of(path: &Path) -> Role {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let yaml = name.ends_with(".yml") || name.ends_with(".yaml");
        Role {
            compose: (name.starts_with("compose") || name.starts_with("docker-compose")) && yaml,
            bake: name.ends_with(".hcl") && name.contains("bake"),
            yaml,
            script: yaml
                || name.ends_with(".sh")
                || name == "makefile"
                || name.ends_with(".mk")
                || name == "justfile"
                || name.ends_with(".bash")
                || name.ends_with(".bats")
                || name.ends_with(".ps1")
                || name.ends_with(".psm1"),
            kustomization: path
                .file_name()
                .is_some_and(|n| KUSTOMIZATION_NAMES.iter().any(|k| n == *k)),
            registries_conf: crate::shortnames::is_registries_conf(path),
        }
    }

    fn used(self) -> bool {
        self.compose || self.bake || self.script || self.kustomization || self.registries_conf
    }
}

/// The files under `root` that `wanted` keeps (bounded), sorted, and why
/// the walk stopped early, if it did.
fn walk(root: &Path, wanted: impl Fn(&Path) -> bool) -> (Vec<PathBuf>, Option<String>) {
    let mut out = Vec::new();
    let mut entries_seen = 0usize;
    let mut stack = vec![(root.to_path_buf(), 0)];
    let mut cut = None;
    'walk: while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<_> = entries.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            entries_seen += 1;
            if entries_seen > MAX_ENTRIES {
                cut = Some(format!("more than {MAX_ENTRIES} entries"));
                break 'walk;
            }
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let name = entry.file_name().to_string_lossy().to_string();
            if kind.is_dir() {
                if SKIP.contains(&name.as_str()) {
                    continue;
                }
                if depth >= MAX_DEPTH {
                    cut = Some(format!("folders deeper than {MAX_DEPTH}"));
                    continue;
                }
                stack.push((entry.path(), depth + 1));
            } else if kind.is_file() {
                let path = entry.path();
                if !wanted(&path) {
                    continue;
                }
                if out.len() >= MAX_FILES {
                    cut = Some(format!(
                        "more than {MAX_FILES} build, CI and manifest files"
                    ));
                    break 'walk;
                }
                out.push(path);
            }
        }
    }
    out.sort();
    (out, cut)
}

mod builds;
mod chart;
mod containers;
mod gitlab;
mod kustomize;

use builds::*;
pub use chart::*;
use containers::*;
pub use gitlab::*;
use kustomize::*;

// ---------------------------------------------------------------------------
// The repository

/// What the files of a repository say about each other.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepoContext {
    pub root: PathBuf,
    /// Image names the repository builds (Compose `build:` with `image:`,
    /// `docker-bake.hcl` target `tags`, `docker build -t` in scripts,
    /// Makefiles and CI files), without tag or digest.
    pub local_images: BTreeSet<String>,
    /// Named build contexts (bake `contexts`, Compose `additional_contexts`,
    /// `--build-context name=…`).
    pub named_contexts: BTreeSet<String>,
    /// Placeholder names a script substitutes before the build
    /// (`sed "s#FROM bats-jenkins.*#FROM ${parent}#"`, PowerShell
    /// `-replace "FROM bats-jenkins", "FROM $(…)"`): every name that
    /// starts with one is replaced, so is not pulled as written.
    pub placeholder_prefixes: BTreeSet<String>,
    /// Build arguments Compose passes to a Dockerfile (`build: {context,
    /// dockerfile, args}`), by the Dockerfile's canonical path; only the
    /// arguments every service that builds it agrees on.
    pub dockerfile_args: BTreeMap<PathBuf, BTreeMap<String, String>>,
    /// Why the walk stopped before the end of the repository (its bounds):
    /// then what it did not read is unknown, and fixes that rest on it
    /// are not safe.
    pub truncated: Option<String>,
    /// How many files the walk read (bounded by `MAX_FILES`).
    pub files: usize,
    /// Every kustomization, by its folder (canonical).
    pub kustomizations: BTreeMap<PathBuf, Kustomization>,
    /// How the containers tools would resolve short names, from the
    /// repository's `registries.conf` files: each with the folder it
    /// configures, in walk order.
    pub short_names: Vec<(PathBuf, crate::shortnames::ShortNames)>,
    /// Files the containers tools build or run, by lower-case file name
    /// (or `*`, `*compose` for any), with the file that does so.
    pub containers_files: BTreeMap<String, String>,
    /// Folders holding an OpenShift resource (canonical), each with the
    /// first such file (repository-relative): the manifests at and below
    /// that folder run on CRI-O.
    pub openshift: Vec<(PathBuf, String)>,
}

/// One kustomization: what it includes and the images it overrides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Kustomization {
    /// `resources`, `bases`, `components` and patch files, canonical:
    /// files, or folders holding another kustomization.
    pub includes: Vec<PathBuf>,
    pub images: Vec<KustomizeImage>,
}

/// An entry of a kustomization's `images:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KustomizeImage {
    /// `name`: matched literally against resource images (without tag).
    pub name: String,
    pub new_name: Option<String>,
    /// Whether `newTag` or `digest` replaces the resource's tag.
    pub new_tag: bool,
}

impl RepoContext {
    /// Whether a name (no registry; without tag) is built by the repository
    /// or is a named build context.
    pub fn is_local(&self, name: &str) -> bool {
        self.local_images.contains(name)
            || self.named_contexts.contains(name)
            || self
                .placeholder_prefixes
                .iter()
                .any(|p| name.starts_with(p.as_str()))
    }

    /// How the containers tools would resolve short names for a file: the
    /// configurations whose folder holds it, shallow to deep; `None` when
    /// none does.
    pub fn short_names_for(&self, file: &Path) -> Option<crate::shortnames::ShortNames> {
        if self.short_names.is_empty() {
            return None;
        }
        let file = crate::realpath::canonical(file).ok()?;
        let mut applying: Vec<&(PathBuf, crate::shortnames::ShortNames)> = self
            .short_names
            .iter()
            .filter(|(owner, _)| file.starts_with(owner))
            .collect();
        if applying.is_empty() {
            return None;
        }
        applying.sort_by_key(|(owner, _)| owner.components().count());
        let mut merged = crate::shortnames::ShortNames::default();
        for (_, names) in applying {
            merged.merge(names);
        }
        Some(merged)
    }

    /// The Compose build arguments for a Dockerfile.
    pub fn args_for(&self, dockerfile: &Path) -> Option<&BTreeMap<String, String>> {
        let key = crate::realpath::canonical(dockerfile).ok()?;
        self.dockerfile_args.get(&key)
    }
}

static CACHE: LazyLock<Mutex<BTreeMap<PathBuf, Arc<RepoContext>>>> =
    LazyLock::new(|| Mutex::new(BTreeMap::new()));

/// The repository root of a file: the nearest folder with `.git` or a
/// refit config file; else the file's folder. (Not the working directory:
/// a folder of unrelated projects checked from its top would mix their
/// contexts.)
pub fn repo_root(file: &Path) -> Option<PathBuf> {
    let start = crate::realpath::canonical(file).ok()?;
    let dir = start.parent()?.to_path_buf();
    Some(nearest_marked(&dir).unwrap_or(dir))
}

/// The nearest folder at or above `dir` with `.git` or a refit config file.
/// Each folder is looked at once per process: the answer of a folder is
/// its parent's unless it is marked itself.
fn nearest_marked(dir: &Path) -> Option<PathBuf> {
    let mut visited: Vec<&Path> = Vec::new();
    let mut answer = None;
    for (depth, ancestor) in dir.ancestors().enumerate() {
        if depth > 32 {
            break;
        }
        if let Ok(cache) = ROOTS.lock()
            && let Some(found) = cache.get(ancestor)
        {
            answer = found.clone();
            break;
        }
        visited.push(ancestor);
        let marked = ancestor.join(".git").exists()
            || crate::config::FILE_NAMES
                .iter()
                .any(|n| ancestor.join(n).is_file());
        if marked {
            answer = Some(ancestor.to_path_buf());
            break;
        }
    }
    if let Ok(mut cache) = ROOTS.lock() {
        for v in visited {
            cache.insert(v.to_path_buf(), answer.clone());
        }
    }
    answer
}

/// Forget every repository context, root and chart read so far (the
/// editor server, after a file they are read from changed).
pub fn forget() {
    if let Ok(mut cache) = CACHE.lock() {
        cache.clear();
    }
    if let Ok(mut cache) = ROOTS.lock() {
        cache.clear();
    }
    forget_charts();
}

/// Whether a change to this file can change a repository context, a
/// chart's facts or the build references around a Dockerfile: the files
/// `scan`, `chart_facts` and `build_refs` read, and a new `.git` or config
/// that moves a root.
pub fn is_context_file(path: &Path) -> bool {
    if is_chart_template(path) {
        return true;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let yaml = name.ends_with(".yml") || name.ends_with(".yaml");
    yaml || name.ends_with(".hcl")
        || name.ends_with(".json")
        || name.ends_with(".sh")
        || name.ends_with(".bash")
        || name.ends_with(".mk")
        || name.ends_with(".tpl")
        || name == "makefile"
        || name == "gnumakefile"
        || name == "justfile"
        || name == "tiltfile"
        || name == "kustomization"
        || name == ".git"
        || crate::shortnames::is_registries_conf(path)
}

/// Whether `path` is under a chart's `templates/` (any name: `chart_facts`
/// reads every file there, `NOTES.txt` too).
fn is_chart_template(path: &Path) -> bool {
    path.ancestors().skip(1).take(MAX_DEPTH + 1).any(|dir| {
        dir.file_name().is_some_and(|n| n == "templates")
            && dir
                .parent()
                .is_some_and(|chart| chart.join("Chart.yaml").is_file())
    })
}

/// Each folder's repository root, found once per process.
static ROOTS: LazyLock<Mutex<BTreeMap<PathBuf, Option<PathBuf>>>> =
    LazyLock::new(|| Mutex::new(BTreeMap::new()));

/// The context of the repository a file is in (computed once per root).
pub fn repo_context(file: &Path) -> Option<Arc<RepoContext>> {
    let root = repo_root(file)?;
    if let Ok(cache) = CACHE.lock()
        && let Some(found) = cache.get(&root)
    {
        return Some(found.clone());
    }
    let context = Arc::new(scan(&root));
    if let Ok(mut cache) = CACHE.lock() {
        cache.insert(root, context.clone());
    }
    Some(context)
}

/// Read a repository's context (bounded).
pub fn scan(root: &Path) -> RepoContext {
    let mut ctx = RepoContext {
        root: root.to_path_buf(),
        ..RepoContext::default()
    };
    let mut args: BTreeMap<PathBuf, Vec<BTreeMap<String, String>>> = BTreeMap::new();
    let (files, cut) = walk(root, |p| Role::of(p).used());
    ctx.files = files.len();
    ctx.truncated = cut;
    let mut total: u64 = 0;
    for path in files {
        let role = Role::of(&path);
        let (is_compose, is_bake, is_yaml, is_script, is_kustomization) = (
            role.compose,
            role.bake,
            role.yaml,
            role.script,
            role.kustomization,
        );
        if total > MAX_TOTAL_BYTES {
            ctx.truncated = Some(format!(
                "more than {} MiB of build, CI and manifest files",
                MAX_TOTAL_BYTES / (1024 * 1024)
            ));
            break;
        }
        if role.registries_conf {
            if let Some(text) = read(&path) {
                total += text.len() as u64;
                let shown = path.strip_prefix(root).unwrap_or(&path);
                let mut names = crate::shortnames::ShortNames::default();
                names.read(&shown.to_string_lossy().replace('\\', "/"), &text);
                if names != crate::shortnames::ShortNames::default() {
                    let owner = crate::shortnames::owner(&path);
                    let owner = crate::realpath::canonical(&owner).unwrap_or(owner);
                    ctx.short_names.push((owner, names));
                }
            }
            continue;
        }
        if !(is_compose || is_bake || is_script || is_kustomization) {
            continue;
        }
        let Some(text) = read(&path) else { continue };
        total += text.len() as u64;
        if is_kustomization {
            kustomization(&path, &text, &mut ctx);
            continue;
        }
        if is_compose {
            compose(&path, &text, &mut ctx, &mut args);
        }
        if is_bake {
            bake(&text, &mut ctx);
        }
        if is_script {
            build_commands(&text, &mut ctx);
            let shown = path.strip_prefix(root).unwrap_or(&path);
            containers_builds(&shown.to_string_lossy().replace('\\', "/"), &text, &mut ctx);
            kustomize_set_image(&text, &mut ctx);
            from_substitutions(&text, &mut ctx);
        }
        if is_yaml && openshift_resource(&text) {
            let folder = path.parent().unwrap_or(root);
            let folder =
                crate::realpath::canonical(folder).unwrap_or_else(|_| folder.to_path_buf());
            if !ctx.openshift.iter().any(|(f, _)| *f == folder) {
                let shown = path.strip_prefix(root).unwrap_or(&path);
                ctx.openshift
                    .push((folder, shown.to_string_lossy().replace('\\', "/")));
            }
        }
        if is_yaml && text.contains("skaffold/") {
            skaffold(&text, &mut ctx);
        }
    }
    for (dockerfile, maps) in args {
        let mut agreed: BTreeMap<String, String> = BTreeMap::new();
        if let Some(first) = maps.first() {
            for (k, v) in first {
                if maps.iter().all(|m| m.get(k) == Some(v)) {
                    agreed.insert(k.clone(), v.clone());
                }
            }
        }
        if !agreed.is_empty() {
            ctx.dockerfile_args.insert(dockerfile, agreed);
        }
    }
    ctx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_commands_and_bake() {
        let mut ctx = RepoContext::default();
        build_commands(
            "\tdocker build -t bats-jenkins:latest .\n  docker buildx build --tag=org/tool --build-context binary_dir=./bin .\necho docker build is here\n",
            &mut ctx,
        );
        bake(
            "target \"app\" {\n  tags = [\"app-local:dev\", \"${REGISTRY}/app\"]\n  contexts = {\n    vendored = \"./vendor\"\n  }\n}\n",
            &mut ctx,
        );
        let locals: Vec<&str> = ctx.local_images.iter().map(String::as_str).collect();
        assert_eq!(locals, ["app-local", "bats-jenkins", "org/tool"]);
        let named: Vec<&str> = ctx.named_contexts.iter().map(String::as_str).collect();
        assert_eq!(named, ["binary_dir", "vendored"]);
    }

    #[test]
    fn build_commands_over_lines_and_after_other_commands() {
        let mut ctx = RepoContext::default();
        build_commands(
            "podman build \\\n  --file Containerfile.base \\\n  --tag acme/base \\\n  .\nall:\n\tnpm run build && podman build -t acme/web -f Containerfile.web .\nCONTAINER_TOOL ?= docker\ndocker-build:\n\t$(CONTAINER_TOOL) build -t controller:latest .\n\t$(ENGINE) build --tag=acme/tool .; echo built\n# docker build -t commented/out .\nnpm run build -t not-an-image\n",
            &mut ctx,
        );
        let locals: Vec<&str> = ctx.local_images.iter().map(String::as_str).collect();
        assert_eq!(locals, ["acme/base", "acme/tool", "acme/web", "controller"]);
        // One line of many commands without separators: each word is read
        // for one command, so the work stays linear.
        let line = "docker build -t a/x ".repeat(20_000);
        let start = std::time::Instant::now();
        let mut ctx = RepoContext::default();
        build_commands(&line, &mut ctx);
        containers_builds("x.sh", &line.replace("docker", "podman"), &mut ctx);
        assert_eq!(ctx.local_images.len(), 1);
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn placeholders_scripts_replace() {
        let mut ctx = RepoContext::default();
        kustomize_set_image(
            "deploy:\n\tcd overlays/dev && \\\n\tkustomize edit set image \\\n\t  app-worker=$(REGISTRY)/app-worker:$(TAG) \\\n\t  app-api=$(REGISTRY)/app-api:$(TAG) && \\\n\tkustomize build . | kubectl apply -f -\n",
            &mut ctx,
        );
        from_substitutions(
            "    sed -e \"s#FROM test-base.*#FROM ${parent}#g\" \"$dir/Dockerfile\" > \"$tmp\"\n    sed -i 's/FROM debian/FROM ubuntu/' Dockerfile\n    sed -i \"s/FROM node:.*/FROM node:${NODE_VERSION}/\" Dockerfile\n",
            &mut ctx,
        );
        skaffold(
            "apiVersion: skaffold/v2beta26\nkind: Config\nbuild:\n  artifacts:\n  - image: echo-app\nprofiles:\n- name: dev\n  build:\n    artifacts:\n    - image: echo-dev\n---\napiVersion: v1\nkind: Config\nbuild:\n  artifacts:\n  - image: not-skaffold\n",
            &mut ctx,
        );
        let locals: Vec<&str> = ctx.local_images.iter().map(String::as_str).collect();
        assert_eq!(locals, ["app-api", "app-worker", "echo-app", "echo-dev"]);
        assert!(ctx.is_local("test-base-plugins"));
        assert!(!ctx.is_local("debian"));
        assert!(!ctx.is_local("node"));
    }

    #[test]
    fn template_joins_name_the_registry_value() {
        let mut joins = BTreeMap::new();
        template_joins(
            "image: \"{{ default .Values.image.registry .Values.a.image.registry }}/{{ .Values.a.image.name }}:{{ .Values.a.image.tag }}\"\n{{- printf \"%s/%s:%s\" .Values.b.registry .Values.b.image .Values.b.tag }}\n{{ include \"x.registry\" . }}/{{ .Values.c.repository }}\n",
            &mut joins,
        );
        let get = |k: &str| joins.get(k).cloned().unwrap_or_default();
        assert_eq!(
            get("a.image.name"),
            RegistryJoin {
                primary: Some("a.image.registry".into()),
                fallback: Some("image.registry".into()),
                literal_fallback: None,
            }
        );
        assert_eq!(get("b.image").primary.as_deref(), Some("b.registry"));
        let mut literal = BTreeMap::new();
        template_joins(
            "image: \"{{ default \"quay.io\" .Values.image.registry }}/{{ .Values.image.repository }}\"\n",
            &mut literal,
        );
        assert_eq!(
            literal
                .get("image.repository")
                .and_then(|j| j.literal_fallback.as_deref()),
            Some("quay.io")
        );
        assert!(joins.contains_key("c.repository"));
        assert_eq!(get("c.repository"), RegistryJoin::default());
        assert_eq!(joins.len(), 3);
    }

    #[test]
    fn coalesce_with_and_default_pipelines_name_the_registry() {
        let mut joins = BTreeMap::new();
        template_joins(
            "image: {{ with (coalesce .Values.global.imageRegistry (include \"r\" .) .Values.a.registry \"docker.io\") }}{{ . }}/{{ end }}{{ .Values.a.repository }}:{{ .Values.a.tag }}\nimage: \"{{ .Values.b.registry | default \"quay.io\" }}/{{ .Values.b.repository }}\"\nimage: {{ .Values.c.registry | default .Values.global.registry | quote }}/{{ .Values.c.repository }}\n",
            &mut joins,
        );
        let get = |k: &str| joins.get(k).cloned().unwrap_or_default();
        assert_eq!(
            get("a.repository"),
            RegistryJoin {
                primary: Some("a.registry".into()),
                fallback: Some("global.imageRegistry".into()),
                literal_fallback: Some("docker.io".into()),
            }
        );
        assert_eq!(
            get("b.repository"),
            RegistryJoin {
                primary: Some("b.registry".into()),
                fallback: None,
                literal_fallback: Some("quay.io".into()),
            }
        );
        assert_eq!(
            get("c.repository"),
            RegistryJoin {
                primary: Some("c.registry".into()),
                fallback: Some("global.registry".into()),
                literal_fallback: None,
            }
        );
    }

    #[test]
    fn template_registry_joins() {
        assert!(template_joins_registry(
            "image: {{ .Values.global.imageRegistry }}/{{ .Values.image.repository }}"
        ));
        assert!(!template_joins_registry(
            "# registry notes\nimage: \"{{ .Values.image.repository }}:{{ .Values.image.tag }}\""
        ));
    }
}
