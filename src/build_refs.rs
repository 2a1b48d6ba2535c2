//! What the repository around a Dockerfile says about building it: the
//! stages it builds by name (`docker-bake.hcl` `target`, Compose
//! `build.target`, `--target` in scripts and CI) and the named build
//! contexts it passes (bake `contexts`, Compose `additional_contexts`,
//! `--build-context name=…`).
//!
//! A small, bounded scan: the Dockerfile's folder and its parents up to the
//! repository root (the folder holding `.git`, at most 8 levels), the build
//! files directly in them, and the root's `.github/workflows/`. It reads
//! text and over-approximates (any `target` value counts for every
//! Dockerfile), because it only ever keeps STG001 and REF005 quiet.

use regex::Regex;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};

/// What the repository builds by name and passes as named contexts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildRefs {
    /// Stage names built as targets (lowercase).
    pub targets: BTreeSet<String>,
    /// Named build contexts (lowercase).
    pub contexts: BTreeSet<String>,
    /// Whether a target is named by a variable (`--target $TARGET`,
    /// `--target ${{ matrix.target }}`, `target: ${TARGET}`): it may be
    /// any stage.
    pub variable_target: bool,
    /// Whether the repository root was found (`.git`): when
    /// not, the build files that name targets and contexts may simply be
    /// missing (a copied Dockerfile), and STG001 and REF005 report only
    /// what the Dockerfile shows on its own.
    pub root: bool,
}

impl BuildRefs {
    /// Whether the repository around the file is known: no scan (stdin, a
    /// single text) counts as the whole build, a scan that found no root
    /// does not.
    pub fn known(refs: Option<&BuildRefs>) -> bool {
        refs.is_none_or(|r| r.root)
    }
    pub fn targets(&self, stage: &str) -> bool {
        self.targets.contains(&stage.to_ascii_lowercase())
    }
    pub fn defines_context(&self, name: &str) -> bool {
        self.contexts.contains(&name.to_ascii_lowercase())
    }
}

const MAX_LEVELS: usize = 8;
const MAX_FILES: usize = 200;
const MAX_BYTES: u64 = 1024 * 1024;

static CACHE: LazyLock<Mutex<HashMap<PathBuf, Arc<BuildRefs>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The build references around a Dockerfile (cached per folder).
pub fn for_dockerfile(path: &Path) -> Arc<BuildRefs> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let dir = crate::realpath::canonical(&dir).unwrap_or(dir);
    if let Ok(cache) = CACHE.lock()
        && let Some(found) = cache.get(&dir)
    {
        return found.clone();
    }
    let refs = Arc::new(scan(&dir));
    if let Ok(mut cache) = CACHE.lock() {
        cache.insert(dir, refs.clone());
    }
    refs
}

/// Forget every folder read so far (the editor server, after a build file
/// changed).
pub fn forget() {
    if let Ok(mut cache) = CACHE.lock() {
        cache.clear();
    }
    if let Ok(mut cache) = OWN.lock() {
        cache.clear();
    }
}

/// Whether a file name is one the scan reads.
fn is_build_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let yaml = lower.ends_with(".yml") || lower.ends_with(".yaml");
    lower.starts_with("docker-bake")
        || (yaml && (lower.starts_with("compose") || lower.starts_with("docker-compose")))
        || lower == "makefile"
        || lower == "gnumakefile"
        || lower.ends_with(".mk")
        || lower.ends_with(".sh")
        || lower == "justfile"
        || (yaml && lower.starts_with("taskfile"))
        || lower == ".gitlab-ci.yml"
        || lower == "skaffold.yaml"
        || lower == "tiltfile"
}

/// The build references of one folder's own build files (and, at the
/// repository root, its workflows), read once per process however many
/// Dockerfiles sit below it; and whether it is the repository root.
static OWN: LazyLock<Mutex<HashMap<PathBuf, Own>>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// A folder's own build references, and whether it is the repository root.
type Own = (Arc<BuildRefs>, bool);

fn own(dir: &Path) -> Own {
    if let Ok(cache) = OWN.lock()
        && let Some(found) = cache.get(dir)
    {
        return found.clone();
    }
    let mut files = Vec::new();
    list(dir, &mut files);
    // The repository root: `.git` (a folder, or a file in a worktree).
    let root = dir.join(".git").exists();
    if root {
        list(&dir.join(".github").join("workflows"), &mut files);
    }
    let mut refs = BuildRefs::default();
    for file in files.iter().take(MAX_FILES) {
        let Ok(meta) = std::fs::metadata(file) else {
            continue;
        };
        if meta.len() > MAX_BYTES {
            continue;
        }
        if let Ok(text) = std::fs::read_to_string(file) {
            read(&text, &mut refs);
        }
    }
    let found = (Arc::new(refs), root);
    if let Ok(mut cache) = OWN.lock() {
        cache.insert(dir.to_path_buf(), found.clone());
    }
    found
}

fn scan(dir: &Path) -> BuildRefs {
    let mut refs = BuildRefs::default();
    let mut at = Some(dir);
    for _ in 0..MAX_LEVELS {
        let Some(d) = at else { break };
        let (found, root) = own(d);
        refs.targets.extend(found.targets.iter().cloned());
        refs.contexts.extend(found.contexts.iter().cloned());
        refs.variable_target |= found.variable_target;
        if root {
            refs.root = true;
            break;
        }
        at = d.parent();
    }
    refs
}

fn list(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter(|e| {
            let in_workflows = dir.ends_with(".github/workflows");
            let name = e.file_name().to_string_lossy().to_string();
            is_build_file(&name)
                || (in_workflows && (name.ends_with(".yml") || name.ends_with(".yaml")))
        })
        .map(|e| e.path())
        .collect();
    found.sort();
    out.extend(found);
}

static TARGET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)(?:--target[= ]+|\btarget"?\s*[=:]\s*)["']?([A-Za-z0-9][A-Za-z0-9_.-]*)"#)
        .expect("static regex")
});
// `--target $T`, YAML/JSON `target: ${{ … }}` and HCL `target = "${T}"`;
// not a shell variable `TARGET="${1}"` (case-sensitive, and `=` only with
// a space before it, as HCL writes it).
static VARIABLE_TARGET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?:--target[= ]+|\btarget"?\s*:\s*|\btarget\s+=\s*)["']?\$"#)
        .expect("static regex")
});
static BUILD_CONTEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)--build-context[= ]+["']?([A-Za-z0-9][A-Za-z0-9_./:-]*)="#)
        .expect("static regex")
});
static CONTEXTS_BLOCK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?s)"?contexts"?\s*[=:]\s*\{([^}]*)\}"#).expect("static regex"));
static BLOCK_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?m)(?:^|[{,])\s*"?([A-Za-z0-9][A-Za-z0-9_./:-]*)"?\s*[=:]"#)
        .expect("static regex")
});

/// Read one file's targets and named contexts.
pub fn read(text: &str, refs: &mut BuildRefs) {
    for c in TARGET.captures_iter(text) {
        if let Some(m) = c.get(1) {
            refs.targets.insert(m.as_str().to_ascii_lowercase());
        }
    }
    refs.variable_target |= VARIABLE_TARGET.is_match(text);
    for c in BUILD_CONTEXT.captures_iter(text) {
        if let Some(m) = c.get(1) {
            refs.contexts.insert(m.as_str().to_ascii_lowercase());
        }
    }
    for c in CONTEXTS_BLOCK.captures_iter(text) {
        if let Some(block) = c.get(1) {
            for k in BLOCK_KEY.captures_iter(block.as_str()) {
                if let Some(m) = k.get(1) {
                    refs.contexts.insert(m.as_str().to_ascii_lowercase());
                }
            }
        }
    }
    compose_additional_contexts(text, refs);
}

/// Compose `additional_contexts:`, a mapping (`name: path`) or a list
/// (`- name=path`), read by indentation.
fn compose_additional_contexts(text: &str, refs: &mut BuildRefs) {
    let mut inside: Option<usize> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if let Some(at) = inside {
            if indent <= at {
                inside = None;
            } else {
                let item = trimmed.strip_prefix("- ").unwrap_or(trimmed);
                let name = item
                    .split(['=', ':'])
                    .next()
                    .unwrap_or("")
                    .trim()
                    .trim_matches(['"', '\'']);
                if !name.is_empty() {
                    refs.contexts.insert(name.to_ascii_lowercase());
                }
                continue;
            }
        }
        if trimmed.starts_with("additional_contexts:") {
            inside = Some(indent);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_named_by_a_variable_may_be_any_stage() {
        for text in [
            "podman build --target ${{ steps.base.outputs.container_target }} .\n",
            "docker build --target=$(TARGET) .\n",
            "services:\n  web:\n    build:\n      target: ${TARGET:-dev}\n",
            "target \"app\" {\n  target = \"${STAGE}\"\n}\n",
        ] {
            let mut refs = BuildRefs::default();
            read(text, &mut refs);
            assert!(refs.variable_target, "{text}");
        }
        for text in [
            "docker build --target dev .\n",
            "TARGET=\"${1:?Must provide target ref}\"\n",
            "target=$1\n",
        ] {
            let mut refs = BuildRefs::default();
            read(text, &mut refs);
            assert!(!refs.variable_target, "{text}");
        }
        let mut refs = BuildRefs::default();
        read("docker build --target dev .\n", &mut refs);
        assert!(refs.targets("dev"));
    }

    #[test]
    fn bake_compose_and_scripts() {
        let mut refs = BuildRefs::default();
        read(
            r#"
target "app" {
  dockerfile = "Dockerfile"
  target = "runtime-alpine"
  contexts = {
    deps = "target:deps"
    "alpine-base" = "docker-image://alpine:3.20"
  }
}
"#,
            &mut refs,
        );
        read(
            "services:\n  web:\n    build:\n      context: .\n      target: dev\n      additional_contexts:\n        shared: ../shared\n        - other=../other\n    image: x\n",
            &mut refs,
        );
        read(
            "docker build --target=test --build-context tools=./tools .\n",
            &mut refs,
        );
        for t in ["runtime-alpine", "dev", "test"] {
            assert!(refs.targets(t), "{t}");
        }
        for c in ["deps", "alpine-base", "shared", "other", "tools"] {
            assert!(refs.defines_context(c), "{c}: {refs:?}");
        }
        assert!(!refs.defines_context("web"));
    }
}
