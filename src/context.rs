//! Repository context: facts from neighbouring files that a file's own text
//! does not say (a chart's templates, the images a repository builds, the
//! build arguments Compose passes to a Dockerfile, kustomization trees).
//! Every walk is bounded: file count, depth and size.

use std::path::{Path, PathBuf};

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
        for path in walk(&templates) {
            let Some(text) = read(&path) else { continue };
            if template_joins_registry(&text) {
                facts.joins_registry = true;
                break;
            }
        }
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
