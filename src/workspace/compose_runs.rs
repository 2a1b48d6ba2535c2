//! Scripts that run a Compose file (`docker compose up`, `docker-compose
//! -f e2e/docker-compose.yml pull`, `podman compose`) and the variables
//! they set and export first (`: "${NEXUS_VERSION:=3.47.1}"` then `export
//! NEXUS_VERSION`, `export TAG=1.2`, `TAG=1.2 docker compose up`). When
//! every such run sets a variable, a Compose `${VAR:-default}` default is
//! not what the repository runs.
//!
//! A script names the Compose file it runs by path (relative to its
//! folder or the root; a path behind a variable, `"${SCRIPT_DIR}/docker-compose.yml"`,
//! by its name in the script's folder), or runs the default file of its
//! folder. CI YAML files count too: their `KEY: value` entries (a job's
//! `env:`) are taken as set and exported.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The most Compose files one script names.
const MAX_FILES: usize = 16;
/// Compose's default file names, in the order it looks for them.
const DEFAULT_NAMES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
];

/// One script's Compose runs: the files (canonical) and the variables it
/// sets and exports.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ComposeRun {
    pub files: Vec<PathBuf>,
    pub sets: BTreeSet<String>,
}

fn re(pattern: &str) -> Option<regex::Regex> {
    regex::Regex::new(pattern).ok()
}

static RUNS: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
    re(r"(?:docker|podman|\))[ \t]+compose\b|(?:docker|podman)-compose\b")
});
static FILE_WORD: std::sync::LazyLock<Option<regex::Regex>> =
    std::sync::LazyLock::new(|| re(r#"[^\s"'=]*compose[\w.-]*\.ya?ml\b"#));
static ASSIGN: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
    re(r#"^\s*(?:export\s+|declare\s+-x\s+)?([A-Za-z_][A-Za-z0-9_]*)=("[^"]+"|'[^']+'|[^\s"';]+)"#)
});
static DEFAULT_ASSIGN: std::sync::LazyLock<Option<regex::Regex>> =
    std::sync::LazyLock::new(|| re(r"\$\{([A-Za-z_][A-Za-z0-9_]*):?=([^}]+)\}"));
static EXPORT: std::sync::LazyLock<Option<regex::Regex>> =
    std::sync::LazyLock::new(|| re(r"^\s*(?:export|declare\s+-x)\s+(.*)$"));
static YAML_ENV: std::sync::LazyLock<Option<regex::Regex>> =
    std::sync::LazyLock::new(|| re(r#"^\s*-?\s*([A-Z_][A-Z0-9_]*):\s*["']?[^\s"'#]"#));

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Read a script at `path` (canonical) under `root` (canonical); `yaml`:
/// a CI file, whose `KEY: value` entries are set and exported.
pub fn read(root: &Path, path: &Path, text: &str, yaml: bool) -> Option<ComposeRun> {
    if !text.contains("compose") {
        return None;
    }
    let (runs, file_word, assign, default_assign, export) = (
        RUNS.as_ref()?,
        FILE_WORD.as_ref()?,
        ASSIGN.as_ref()?,
        DEFAULT_ASSIGN.as_ref()?,
        EXPORT.as_ref()?,
    );
    let lines = super::builds::logical_lines(text);
    let live = |l: &&String| !l.trim_start().starts_with('#');
    if !lines.iter().filter(live).any(|l| runs.is_match(l)) {
        return None;
    }
    let dir = path.parent()?;
    let inside = |p: PathBuf| {
        crate::realpath::canonical(&p)
            .ok()
            .filter(|c| c.starts_with(root) && c.is_file())
    };
    let mut files: Vec<PathBuf> = Vec::new();
    for m in lines
        .iter()
        .filter(live)
        .flat_map(|l| file_word.find_iter(l))
    {
        if files.len() >= MAX_FILES {
            break;
        }
        let word = m.as_str();
        let candidates = if word.contains('$') {
            let name = word.rsplit('/').next().unwrap_or(word);
            vec![dir.join(name)]
        } else {
            vec![dir.join(word), root.join(word)]
        };
        for c in candidates.into_iter().filter_map(inside) {
            if !files.contains(&c) {
                files.push(c);
            }
        }
    }
    if files.is_empty() {
        files.extend(DEFAULT_NAMES.iter().find_map(|n| inside(dir.join(n))));
    }
    if files.is_empty() {
        return None;
    }
    let mut set = BTreeSet::new();
    let mut exported = BTreeSet::new();
    let mut all_exported = false;
    for line in lines.iter().filter(live) {
        if let Some(c) = assign.captures(line) {
            let value = c[2].trim_matches(|c| c == '"' || c == '\'');
            if !value.is_empty() {
                set.insert(c[1].to_string());
                // `export NAME=…`, or `NAME=… docker compose …`.
                if line.trim_start().starts_with("export ")
                    || line.trim_start().starts_with("declare ")
                    || runs.is_match(line)
                {
                    exported.insert(c[1].to_string());
                }
            }
        }
        for c in default_assign.captures_iter(line) {
            if !c[2].trim().is_empty() {
                set.insert(c[1].to_string());
            }
        }
        if let Some(c) = export.captures(line) {
            for word in c[1].split_whitespace() {
                let name = word.split('=').next().unwrap_or(word);
                if is_name(name) {
                    exported.insert(name.to_string());
                }
            }
        }
        let t = line.trim();
        if t == "set -a" || t.starts_with("set -o allexport") {
            all_exported = true;
        }
        if yaml && let Some(c) = YAML_ENV.as_ref().and_then(|r| r.captures(line)) {
            set.insert(c[1].to_string());
            exported.insert(c[1].to_string());
        }
    }
    let sets = if all_exported {
        set
    } else {
        set.intersection(&exported).cloned().collect()
    };
    Some(ComposeRun { files, sets })
}

/// The variables every run of a Compose file sets, by the file.
pub fn agreed<'a>(
    runs: impl Iterator<Item = &'a ComposeRun>,
) -> BTreeMap<PathBuf, BTreeSet<String>> {
    let mut per_file: BTreeMap<PathBuf, Option<BTreeSet<String>>> = BTreeMap::new();
    for run in runs {
        for file in &run.files {
            let entry = per_file.entry(file.clone()).or_default();
            *entry = Some(match entry.take() {
                None => run.sets.clone(),
                Some(acc) => acc.intersection(&run.sets).cloned().collect(),
            });
        }
    }
    per_file
        .into_iter()
        .filter_map(|(f, s)| s.filter(|s| !s.is_empty()).map(|s| (f, s)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup(files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let root = crate::realpath::canonical(tmp.path()).unwrap();
        for (name, text) in files {
            let path = root.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        (tmp, root)
    }

    #[test]
    fn a_script_that_sets_and_exports() {
        let (_tmp, root) = setup(&[
            ("e2e/docker-compose.yml", "services: {}\n"),
            (
                "e2e/install.sh",
                "SCRIPT_DIR=$(cd -- \"$( dirname -- \"${BASH_SOURCE[0]}\" )\" && pwd)\n: \"${NEXUS_VERSION:=3.47.1}\"\n: \"${NEXUS_PORT:=8081}\"\nexport NEXUS_VERSION\ncp \"${SCRIPT_DIR}/docker-compose.yml\" /tmp/nexus/docker-compose.yml\n(cd /tmp/nexus && docker compose up -d)\n",
            ),
            (
                "other.sh",
                "TAG=1 docker-compose -f e2e/docker-compose.yml pull\n",
            ),
            ("unset.sh", "docker compose -f e2e/docker-compose.yml up\n"),
        ]);
        let read_one = |name: &str| {
            let path = root.join(name);
            read(
                &root,
                &path,
                &std::fs::read_to_string(&path).unwrap(),
                false,
            )
            .unwrap()
        };
        let install = read_one("e2e/install.sh");
        let compose = root.join("e2e/docker-compose.yml");
        assert_eq!(install.files, vec![compose.clone()]);
        // `NEXUS_PORT` is set but not exported: Compose does not see it.
        assert_eq!(install.sets.iter().collect::<Vec<_>>(), ["NEXUS_VERSION"]);
        let other = read_one("other.sh");
        assert_eq!(other.sets.iter().collect::<Vec<_>>(), ["TAG"]);
        assert_eq!(agreed([&install].into_iter())[&compose].len(), 1);
        // Runs that disagree: nothing is set by all of them.
        assert!(agreed([&install, &other].into_iter()).is_empty());
        let unset = read_one("unset.sh");
        assert!(agreed([&install, &unset].into_iter()).is_empty());
    }
}
