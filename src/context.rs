//! Repository context: facts from neighbouring files that a file's own text
//! does not say (a chart's templates, the images a repository builds, the
//! build arguments Compose passes to a Dockerfile, kustomization trees).
//! Every walk is bounded: file count, depth and size.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};

/// The most files a context walk reads.
pub const MAX_FILES: usize = 4000;
/// The deepest folder a context walk enters.
pub const MAX_DEPTH: usize = 8;
/// The largest file a context walk reads.
pub const MAX_BYTES: u64 = 1024 * 1024;

/// Folders a walk never enters.
const SKIP: &[&str] = &[".git", "node_modules", "vendor", "target", ".venv", "dist"];

fn read(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_BYTES {
        return None;
    }
    std::fs::read_to_string(path).ok()
}

/// Files under `root` (bounded), sorted.
fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![(root.to_path_buf(), 0)];
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<_> = entries.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            if out.len() >= MAX_FILES {
                return out;
            }
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let name = entry.file_name().to_string_lossy().to_string();
            if kind.is_dir() {
                if depth < MAX_DEPTH && !SKIP.contains(&name.as_str()) {
                    stack.push((entry.path(), depth + 1));
                }
            } else if kind.is_file() {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    out
}

// ---------------------------------------------------------------------------
// Helm charts

/// How a chart builds image strings, from its `templates/`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChartFacts {
    /// Whether the chart has templates refit read.
    pub templates: bool,
    /// Whether a template uses a registry value (`.Values.global.imageRegistry`,
    /// `.imageRoot.registry`, `_helpers.tpl` joins): a repository must not
    /// be prefixed with a registry, or the join doubles it.
    pub joins_registry: bool,
    /// Names and aliases of `dependencies:`: values under these keys belong
    /// to sub-charts, with their own templates and defaults.
    pub dependencies: Vec<String>,
    /// Values paths of the image maps whose `digest` a template reads
    /// (`image`, `controller.image`), directly or through `_helpers.tpl`:
    /// where `refit pin` may add a `digest:` key (`crate::helm_templates`).
    pub digest_paths: BTreeSet<String>,
    /// Values a template writes right after `<registry>/`, by value path
    /// (`kernelCollector.image.name`): where their registry comes from.
    pub joins: BTreeMap<String, RegistryJoin>,
}

/// How a template writes the registry in front of a value:
/// `{{ .Values.a.registry }}/{{ .Values.a.name }}`,
/// `{{ default .Values.image.registry .Values.a.registry }}/{{ … }}`,
/// `{{ printf "%s/%s:%s" .Values.a.registry .Values.a.image … }}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryJoin {
    /// The value path the registry is read from; `None` when the template
    /// computes it some other way (`include`, a variable).
    pub primary: Option<String>,
    /// With `default FALLBACK PRIMARY`: the value used when the primary
    /// is empty or absent.
    pub fallback: Option<String>,
}

/// Read the chart in `dir` (the folder of `Chart.yaml`).
pub fn chart_facts(dir: &Path, chart_yaml: &str) -> ChartFacts {
    let mut facts = ChartFacts::default();
    if let Ok(docs) = crate::sources::yaml::parse(chart_yaml)
        && let Some(doc) = docs.first()
        && let Some(deps) = doc.get(&doc.root, "dependencies")
        && let crate::sources::yaml::Node::Seq(items, _) = doc.resolve(deps)
    {
        for item in items {
            for key in ["name", "alias"] {
                if let Some(s) = doc.get_scalar(item, key)
                    && !s.value.is_empty()
                {
                    facts.dependencies.push(s.value.clone());
                }
            }
        }
    }
    let templates = dir.join("templates");
    if templates.is_dir() {
        facts.templates = true;
        let mut digests = crate::helm_templates::DigestReader::default();
        for path in walk(&templates) {
            let Some(text) = read(&path) else { continue };
            facts.joins_registry |= template_joins_registry(&text);
            digests.add(&text);
            template_joins(&text, &mut facts.joins);
        }
        facts.digest_paths = digests.finish();
    }
    facts
}

/// Whether a template expression (`{{ … }}`) uses a registry value.
pub fn template_joins_registry(text: &str) -> bool {
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let close = after.find("}}").unwrap_or(after.len());
        if after[..close].to_ascii_lowercase().contains("registry") {
            return true;
        }
        rest = &after[close..];
    }
    false
}

/// The `{{ … }}` expressions of a template, each with the text before it
/// (since the previous expression).
fn expressions(text: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let before = &rest[..open];
        let after = &rest[open + 2..];
        let close = after.find("}}").unwrap_or(after.len());
        let inner = after[..close].trim_start_matches('-').trim_end_matches('-');
        out.push((before, inner.trim()));
        rest = after.get(close + 2..).unwrap_or("");
    }
    out
}

/// Words of a template expression: whitespace-separated at the top level,
/// a quoted string or a parenthesised call kept as one word.
fn words(expr: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut quoted = false;
    let mut start = None;
    for (i, c) in expr.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth = depth.saturating_sub(1),
            _ => {}
        }
        if c.is_whitespace() && depth == 0 && !quoted {
            if let Some(s) = start.take() {
                out.push(&expr[s..i]);
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push(&expr[s..]);
    }
    out
}

/// `.Values.a.b` as the value path `a.b`.
fn values_path(word: &str) -> Option<String> {
    let path = word.strip_prefix(".Values.")?;
    let ok = !path.is_empty()
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    ok.then(|| path.to_string())
}

/// Where a registry written as one expression comes from.
fn registry_source(expr: &str) -> RegistryJoin {
    let w = words(expr);
    match w.as_slice() {
        [one] => RegistryJoin {
            primary: values_path(one),
            fallback: None,
        },
        ["default", fallback, primary] => RegistryJoin {
            primary: values_path(primary),
            fallback: values_path(fallback),
        },
        _ => RegistryJoin::default(),
    }
}

/// Record the values a template writes after `<registry>/`.
pub fn template_joins(text: &str, joins: &mut BTreeMap<String, RegistryJoin>) {
    let exprs = expressions(text);
    for (i, (before, expr)) in exprs.iter().enumerate() {
        // `{{ REGISTRY }}/{{ .Values.x.image }}`
        if i > 0 && *before == "/" {
            let first = words(expr).into_iter().find_map(values_path);
            if let Some(path) = first {
                joins
                    .entry(path)
                    .or_insert_with(|| registry_source(exprs[i - 1].1));
            }
        }
        // `printf "%s/%s…" REGISTRY .Values.x.image …`
        let w = words(expr);
        if let Some(at) = w.iter().position(|x| *x == "printf")
            && let Some(format) = w.get(at + 1)
            && format.starts_with("\"%s/%s")
            && let (Some(registry), Some(name)) = (w.get(at + 2), w.get(at + 3))
            && let Some(path) = values_path(name)
        {
            joins.entry(path).or_insert_with(|| {
                let inner = registry.trim_start_matches('(').trim_end_matches(')');
                registry_source(inner)
            });
        }
    }
}

// ---------------------------------------------------------------------------
// GitLab CI includes

/// The `variables:` of the local files a GitLab CI file includes
/// (`include: local: …`, `include: path.yml`, lists of either), following
/// their own includes to a bounded depth; later files win, as in GitLab.
pub fn gitlab_included_variables(file: &Path, root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut seen = BTreeSet::new();
    include_into(file, root, 0, &mut seen, &mut out);
    out
}

fn include_into(
    file: &Path,
    root: &Path,
    depth: usize,
    seen: &mut BTreeSet<PathBuf>,
    out: &mut BTreeMap<String, String>,
) {
    use crate::sources::yaml::Node;
    if depth > 4 || seen.len() > 64 || !seen.insert(file.to_path_buf()) {
        return;
    }
    let Some(text) = read(file) else { return };
    let Ok(docs) = crate::sources::yaml::parse(&text) else {
        return;
    };
    for doc in &docs {
        let top = doc.resolve(&doc.root);
        let Some(include) = doc.get(top, "include") else {
            continue;
        };
        let items: Vec<&Node> = match doc.resolve(include) {
            Node::Seq(..) => doc.items(include),
            other => vec![other],
        };
        for item in items {
            let local = match doc.resolve(item) {
                Node::Scalar(s) if !s.value.contains("://") => Some(s.value.clone()),
                map @ Node::Map(..) => doc.get_scalar(map, "local").map(|s| s.value.clone()),
                _ => None,
            };
            let Some(local) = local else { continue };
            // Wildcards and variables are not followed.
            if local.contains(['*', '$']) {
                continue;
            }
            let path = root.join(local.trim_start_matches('/'));
            include_into(&path, root, depth + 1, seen, out);
            let Some(included) = read(&path) else {
                continue;
            };
            let Ok(idocs) = crate::sources::yaml::parse(&included) else {
                continue;
            };
            for idoc in &idocs {
                let iroot = idoc.resolve(&idoc.root);
                if let Some(vars) = idoc.get(iroot, "variables") {
                    for (k, v) in idoc.entries(vars) {
                        let value = match idoc.resolve(v) {
                            Node::Scalar(s) => Some(s.value.clone()),
                            m @ Node::Map(..) => {
                                idoc.get_scalar(m, "value").map(|s| s.value.clone())
                            }
                            _ => None,
                        };
                        if let Some(value) = value {
                            out.insert(k.to_string(), value);
                        }
                    }
                }
            }
        }
    }
}

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
    /// How many files the walk read (bounded by `MAX_FILES`).
    pub files: usize,
    /// Every kustomization, by its folder (canonical).
    pub kustomizations: BTreeMap<PathBuf, Kustomization>,
    /// How the containers tools would resolve short names, from the
    /// repository's `registries.conf` files: each with the folder it
    /// configures, in walk order.
    pub short_names: Vec<(PathBuf, crate::shortnames::ShortNames)>,
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
    /// The `images:` entries of every kustomization that includes a file,
    /// directly or through overlays (bounded).
    pub fn kustomize_overrides(&self, file: &Path) -> Vec<KustomizeImage> {
        let Ok(file) = crate::realpath::canonical(file) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut seen: BTreeSet<PathBuf> = BTreeSet::new();
        let mut queue = vec![file];
        while let Some(item) = queue.pop() {
            if seen.len() > 256 {
                break;
            }
            for (dir, k) in &self.kustomizations {
                if k.includes.contains(&item) && seen.insert(dir.clone()) {
                    out.extend(k.images.iter().cloned());
                    queue.push(dir.clone());
                }
            }
        }
        out
    }
}

const KUSTOMIZATION_NAMES: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];

fn kustomization(path: &Path, text: &str, ctx: &mut RepoContext) {
    let Ok(docs) = crate::sources::yaml::parse(text) else {
        return;
    };
    let Some(dir) = path
        .parent()
        .and_then(|d| crate::realpath::canonical(d).ok())
    else {
        return;
    };
    let mut k = Kustomization::default();
    for doc in &docs {
        let root = doc.resolve(&doc.root);
        for key in [
            "resources",
            "bases",
            "components",
            "patchesStrategicMerge",
            "patches",
        ] {
            let Some(list) = doc.get(root, key) else {
                continue;
            };
            for item in doc.items(list) {
                let entry = match item.as_scalar() {
                    Some(s) => Some(s),
                    None => doc.get_scalar(item, "path"),
                };
                let Some(entry) = entry else { continue };
                if entry.value.contains("://") || entry.value.contains('\n') {
                    continue;
                }
                if let Ok(p) = crate::realpath::canonical(&dir.join(&entry.value)) {
                    k.includes.push(p);
                }
            }
        }
        if let Some(images) = doc.get(root, "images") {
            for entry in doc.items(images) {
                let Some(name) = doc
                    .get_scalar(entry, "name")
                    .filter(|n| !n.value.is_empty())
                else {
                    continue;
                };
                let set = |key: &str| {
                    doc.get_scalar(entry, key)
                        .is_some_and(|s| !s.value.is_empty())
                };
                k.images.push(KustomizeImage {
                    name: name.value.clone(),
                    new_name: doc
                        .get_scalar(entry, "newName")
                        .filter(|s| !s.value.is_empty())
                        .map(|s| s.value.clone()),
                    new_tag: set("newTag") || set("digest"),
                });
            }
        }
    }
    ctx.kustomizations.insert(dir, k);
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

/// Forget every repository context and root read so far (the editor
/// server, after a file they are read from changed).
pub fn forget() {
    if let Ok(mut cache) = CACHE.lock() {
        cache.clear();
    }
    if let Ok(mut cache) = ROOTS.lock() {
        cache.clear();
    }
}

/// Whether a change to this file can change a repository context or the
/// build references around a Dockerfile: the files `scan` and
/// `build_refs` read, and a new `.git` or config that moves a root.
pub fn is_context_file(path: &Path) -> bool {
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
    let files = walk(root);
    ctx.files = files.len();
    for path in files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let is_compose = (name.starts_with("compose") || name.starts_with("docker-compose"))
            && (name.ends_with(".yml") || name.ends_with(".yaml"));
        let is_bake = name.ends_with(".hcl") && name.contains("bake");
        let is_yaml = name.ends_with(".yml") || name.ends_with(".yaml");
        let is_script = name.ends_with(".sh")
            || name == "makefile"
            || name.ends_with(".mk")
            || name == "justfile"
            || is_yaml
            || name.ends_with(".bash")
            || name.ends_with(".bats")
            || name.ends_with(".ps1")
            || name.ends_with(".psm1");
        let is_kustomization = path
            .file_name()
            .is_some_and(|n| KUSTOMIZATION_NAMES.iter().any(|k| n == *k));
        if crate::shortnames::is_registries_conf(&path) {
            if let Some(text) = read(&path) {
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
            kustomize_set_image(&text, &mut ctx);
            from_substitutions(&text, &mut ctx);
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

/// An image name without tag or digest.
fn strip_tag(reference: &str) -> String {
    let name = reference.split('@').next().unwrap_or(reference);
    match name.rfind(':') {
        Some(colon) if !name[colon..].contains('/') => name[..colon].to_string(),
        _ => name.to_string(),
    }
}

fn local_name(ctx: &mut RepoContext, reference: &str) {
    let reference = reference.trim();
    // Interpolated names are not known.
    if reference.is_empty() || reference.contains('$') || reference.contains(char::is_whitespace) {
        return;
    }
    ctx.local_images.insert(strip_tag(reference));
}

/// `KEY: value` or `- KEY=value` pairs of a Compose map or list.
fn pairs(
    doc: &crate::sources::yaml::Document,
    node: &crate::sources::yaml::Node,
) -> Vec<(String, Option<String>)> {
    use crate::sources::yaml::Node;
    match doc.resolve(node) {
        Node::Seq(..) => doc
            .items(node)
            .into_iter()
            .filter_map(|i| i.as_scalar())
            .map(|s| match s.value.split_once('=') {
                Some((k, v)) => (k.to_string(), Some(v.to_string())),
                None => (s.value.clone(), None),
            })
            .collect(),
        map @ Node::Map(..) => doc
            .entries(map)
            .into_iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    doc.resolve(v).as_scalar().map(|s| s.value.clone()),
                )
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn compose(
    path: &Path,
    text: &str,
    ctx: &mut RepoContext,
    args: &mut BTreeMap<PathBuf, Vec<BTreeMap<String, String>>>,
) {
    let Ok(docs) = crate::sources::yaml::parse(text) else {
        return;
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    for doc in &docs {
        let root = doc.resolve(&doc.root);
        let Some(services) = doc.get(root, "services") else {
            continue;
        };
        for (_, svc) in doc.entries(services) {
            let svc = doc.resolve(svc);
            let Some(build) = doc.get(svc, "build") else {
                continue;
            };
            if let Some(image) = doc.get_scalar(svc, "image") {
                local_name(ctx, &image.value);
            }
            let build = doc.resolve(build);
            let (context, dockerfile) = match build.as_scalar() {
                Some(s) => (s.value.clone(), None),
                None => (
                    doc.get_scalar(build, "context")
                        .map_or_else(|| ".".to_string(), |s| s.value.clone()),
                    doc.get_scalar(build, "dockerfile").map(|s| s.value.clone()),
                ),
            };
            if let Some(extra) = doc.get(build, "additional_contexts") {
                for (name, _) in pairs(doc, extra) {
                    ctx.named_contexts.insert(name);
                }
            }
            if let Some(tags) = doc.get(build, "tags") {
                for tag in doc.items(tags).into_iter().filter_map(|t| t.as_scalar()) {
                    local_name(ctx, &tag.value);
                }
            }
            if context.contains('$') || context.contains("://") {
                continue;
            }
            let file = dir
                .join(&context)
                .join(dockerfile.as_deref().unwrap_or("Dockerfile"));
            let Ok(file) = crate::realpath::canonical(&file) else {
                continue;
            };
            let mut map = BTreeMap::new();
            if let Some(a) = doc.get(build, "args") {
                for (k, v) in pairs(doc, a) {
                    // A value with interpolation is not known here.
                    if let Some(v) = v.filter(|v| !v.contains('$')) {
                        map.insert(k, v);
                    }
                }
            }
            args.entry(file).or_default().push(map);
        }
    }
}

/// Quoted strings inside the `[...]` or `{...}` that follows `key =`.
fn hcl_block<'a>(text: &'a str, key: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(key) {
        let before_ok = rest[..at]
            .chars()
            .next_back()
            .is_none_or(|c| c.is_whitespace());
        let after = rest[at + key.len()..].trim_start();
        rest = &rest[at + key.len()..];
        if !before_ok {
            continue;
        }
        let Some(after) = after.strip_prefix('=') else {
            continue;
        };
        let after = after.trim_start();
        let close = match after.chars().next() {
            Some('[') => ']',
            Some('{') => '}',
            _ => continue,
        };
        let end = after.find(close).unwrap_or(after.len());
        out.push(&after[1.min(end)..end]);
    }
    out
}

fn bake(text: &str, ctx: &mut RepoContext) {
    for list in hcl_block(text, "tags") {
        for tag in list.split(',') {
            let tag = tag.trim().trim_matches('"');
            if !tag.is_empty() && !tag.contains("${") {
                local_name(ctx, tag);
            }
        }
    }
    for map in hcl_block(text, "contexts") {
        for line in map.split([',', '\n']) {
            if let Some((name, _)) = line.split_once('=') {
                let name = name.trim().trim_matches('"');
                if !name.is_empty() {
                    ctx.named_contexts.insert(name.to_string());
                }
            }
        }
    }
}

/// `docker build -t NAME`, `docker buildx build --tag=NAME`,
/// `podman build -t NAME`, `--build-context NAME=…`.
fn build_commands(text: &str, ctx: &mut RepoContext) {
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(at) = words.iter().position(|w| matches!(*w, "build" | "bud")) else {
            continue;
        };
        let tool = words[..at]
            .iter()
            .rev()
            .find(|w| !matches!(**w, "buildx" | "image"))
            .map(|w| w.rsplit('/').next().unwrap_or(w));
        if !matches!(
            tool,
            Some(
                "docker" | "podman" | "buildah" | "nerdctl" | "$(DOCKER)" | "${DOCKER}" | "$DOCKER"
            )
        ) {
            continue;
        }
        let mut i = at + 1;
        while i < words.len() {
            let w = words[i].trim_matches(|c| c == '"' || c == '\'');
            let (flag, value) = match w.split_once('=') {
                Some((f, v)) if f.starts_with('-') => (f, Some(v.to_string())),
                _ => (w, None),
            };
            let value = value.or_else(|| {
                words
                    .get(i + 1)
                    .map(|v| v.trim_matches(|c| c == '"' || c == '\'').to_string())
            });
            match flag {
                "-t" | "--tag" => {
                    if let Some(v) = value {
                        local_name(ctx, &v);
                    }
                }
                "--build-context" => {
                    if let Some((name, _)) = value.as_deref().and_then(|v| v.split_once('=')) {
                        ctx.named_contexts.insert(name.to_string());
                    }
                }
                _ => {}
            }
            i += 1;
        }
    }
}

/// Shell lines with their `\` continuations joined.
fn logical_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim_end();
        match trimmed.strip_suffix('\\') {
            Some(head) => {
                current.push_str(head);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                out.push(std::mem::take(&mut current));
            }
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// `kustomize edit set image NAME=NEW…`: `NAME` in the manifests is a
/// placeholder the command replaces (through the `images:` entry it writes).
fn kustomize_set_image(text: &str, ctx: &mut RepoContext) {
    if !text.contains("set image") {
        return;
    }
    for line in logical_lines(text) {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(at) = words
            .windows(4)
            .position(|w| w[0].ends_with("kustomize") && w[1..] == ["edit", "set", "image"])
        else {
            continue;
        };
        for word in &words[at + 4..] {
            let word = word.trim_matches(|c| c == '"' || c == '\'');
            if matches!(word, "&&" | "||" | ";" | "|") {
                break;
            }
            if let Some((name, _)) = word.split_once('=')
                && !name.starts_with('-')
            {
                local_name(ctx, name);
            }
        }
    }
}

/// A script that rewrites `FROM NAME` with a computed value before the
/// build (`sed`, PowerShell `-replace`): `NAME` is a placeholder.
fn from_substitutions(text: &str, ctx: &mut RepoContext) {
    for line in text.lines() {
        if !(line.contains("sed") || line.contains("-replace")) {
            continue;
        }
        let Some(at) = line.find("FROM ") else {
            continue;
        };
        let rest = &line[at + 5..];
        // The replacement must be a whole computed reference (`${parent}`,
        // `$(Get-SutImage)`): a fixed `s/FROM debian/FROM ubuntu/`, or
        // `FROM node:${VERSION}` (only the tag changes), says nothing about
        // where the written name is pulled from.
        let Some(second) = rest.find("FROM ") else {
            continue;
        };
        if !rest[second + 5..].trim_start().starts_with('$') {
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'))
            .collect();
        let name = name.trim_end_matches('.');
        if !name.is_empty() && !name.contains('$') {
            ctx.placeholder_prefixes.insert(name.to_string());
        }
    }
}

/// skaffold `build.artifacts[].image` (also under `profiles[]`): images
/// skaffold builds and tags itself.
fn skaffold(text: &str, ctx: &mut RepoContext) {
    use crate::sources::yaml::{Document, Node};
    fn artifacts(doc: &Document, node: &Node, ctx: &mut RepoContext) {
        let Some(build) = doc.get(node, "build") else {
            return;
        };
        let Some(list) = doc.get(build, "artifacts") else {
            return;
        };
        for item in doc.items(list) {
            if let Some(image) = doc.get_scalar(item, "image") {
                local_name(ctx, &image.value);
            }
        }
    }
    let Ok(docs) = crate::sources::yaml::parse(text) else {
        return;
    };
    for doc in &docs {
        let root = doc.resolve(&doc.root);
        let is_skaffold = doc
            .get_scalar(root, "apiVersion")
            .is_some_and(|a| a.value.starts_with("skaffold/"));
        if !is_skaffold {
            continue;
        }
        artifacts(doc, root, ctx);
        if let Some(profiles) = doc.get(root, "profiles") {
            for profile in doc.items(profiles) {
                artifacts(doc, doc.resolve(profile), ctx);
            }
        }
    }
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
                fallback: Some("image.registry".into())
            }
        );
        assert_eq!(get("b.image").primary.as_deref(), Some("b.registry"));
        assert!(joins.contains_key("c.repository"));
        assert_eq!(get("c.repository"), RegistryJoin::default());
        assert_eq!(joins.len(), 3);
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
