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
//! folder. CI YAML files count too: each script in them, with the
//! `env:`/`variables:` maps around it taken as set and exported. A run
//! refit cannot place counts as a possible run of every Compose file.

use super::passes::is_name;
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
    /// Files placed from the script's folder (canonical).
    pub files: Vec<PathBuf>,
    /// Paths to try at the repository root, placed when a root's facts
    /// are combined ([`agreed`]): a file's facts do not depend on which
    /// root read it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub at_root: Vec<PathBuf>,
    /// Whether the script names no Compose file and none is beside it:
    /// Compose's default file at the root, if any, is the one run.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub root_default: bool,
    /// Whether the script names no Compose file and runs Compose after a
    /// `cd` to an absolute folder (`cd /tmp/harbor`): it runs a file
    /// outside the repository as checked out, none of its files.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub elsewhere: bool,
    pub sets: BTreeSet<String>,
}

impl ComposeRun {
    /// The files it runs under `root` (canonical); empty when refit
    /// cannot place it.
    fn placed(&self, root: &Path) -> Vec<PathBuf> {
        let inside = |p: PathBuf| {
            crate::realpath::canonical(&p)
                .ok()
                .filter(|c| c.starts_with(root) && c.is_file())
        };
        let mut files: Vec<PathBuf> = self
            .files
            .iter()
            .filter(|f| f.starts_with(root))
            .cloned()
            .collect();
        for c in self.at_root.iter().filter_map(|w| inside(root.join(w))) {
            if !files.contains(&c) {
                files.push(c);
            }
        }
        if files.is_empty() && self.root_default {
            files.extend(DEFAULT_NAMES.iter().find_map(|n| inside(root.join(n))));
        }
        files
    }
}

fn re(pattern: &str) -> Option<regex::Regex> {
    regex::Regex::new(pattern).ok()
}

static RUNS: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
    // A command: `docker-compose.yml` or `docker-compose-version` is none.
    re(
        r"(?m)(?:docker|podman|\))[ \t]+compose(?:[\s;&|)\x22']|$)|(?:docker|podman)-compose(?:[\s;&|)\x22']|$)",
    )
});
static FILE_WORD: std::sync::LazyLock<Option<regex::Regex>> =
    std::sync::LazyLock::new(|| re(r#"[^\s"'=]*compose[\w.-]*\.ya?ml\b"#));
static ASSIGN: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
    re(r#"^\s*(?:export\s+|declare\s+-x\s+)?([A-Za-z_][A-Za-z0-9_]*)=("[^"]+"|'[^']+'|[^\s"';]+)"#)
});
static DEFAULT_ASSIGN: std::sync::LazyLock<Option<regex::Regex>> =
    std::sync::LazyLock::new(|| re(r"\$\{([A-Za-z_][A-Za-z0-9_]*):?=([^}]+)\}"));
static CD_ABSOLUTE: std::sync::LazyLock<Option<regex::Regex>> =
    std::sync::LazyLock::new(|| re(r#"(?:^|[;&|(]|\bthen|\bdo)\s*(?:pushd|cd)\s+["']?/"#));
static EXPORT: std::sync::LazyLock<Option<regex::Regex>> =
    std::sync::LazyLock::new(|| re(r"^\s*(?:export|declare\s+-x)\s+(.*)$"));

/// Read a script at `path` (canonical); `yaml`:
/// a CI file, whose scripts are its string values (a list of strings, as
/// GitLab's `script:`, is one script run in order), each with the
/// `env:`/`variables:` maps of the mappings around it (a workflow's, a
/// job's, a step's `env:`; GitLab's global and job `variables:`) as set
/// and exported.
///
/// A script's Compose runs are placed by the file words of the whole
/// script; when none places (and no default file is beside the script or
/// at the root) the run is kept with no files: it may run any Compose
/// file, so it counts as a run of each ([`agreed`]), unless it names no
/// file and runs after a `cd` to an absolute folder (`cd /tmp/harbor`),
/// which is outside the repository as checked out.
pub fn read(path: &Path, text: &str, yaml: bool) -> Vec<ComposeRun> {
    let mut out = Vec::new();
    if !text.contains("compose") {
        return out;
    }
    let (Some(runs_re), Some(dir)) = (RUNS.as_ref(), path.parent()) else {
        return out;
    };
    // Most files run no Compose: only those that may are parsed.
    if !runs_re.is_match(text) {
        return out;
    }
    let scripts: Vec<(String, BTreeSet<String>)> = if yaml {
        yaml_scripts(text)
    } else {
        vec![(text.to_string(), BTreeSet::new())]
    };
    for (script, env) in scripts {
        let lines = super::builds::logical_lines(&script);
        if !lines
            .iter()
            .any(|l| !l.trim_start().starts_with('#') && runs_re.is_match(l))
        {
            continue;
        }
        if let Some(mut run) = script_runs(dir, &lines) {
            run.sets.extend(env);
            out.push(run);
        }
    }
    out
}

/// The most scripts read from one CI file.
const MAX_SCRIPTS: usize = 256;

/// The scripts of a CI file: string values, and lists of strings joined
/// in order, each with the keys of the `env:`/`variables:` maps of the
/// mappings that hold it (outermost first), whose values are not empty.
fn yaml_scripts(text: &str) -> Vec<(String, BTreeSet<String>)> {
    use crate::sources::yaml::{Document, Node};
    fn env_keys(doc: &Document, map: &Node) -> BTreeSet<String> {
        let mut keys = BTreeSet::new();
        for key in ["env", "variables"] {
            let Some(env) = doc.get(map, key) else {
                continue;
            };
            let env = doc.resolve(env);
            if !matches!(env, Node::Map(..)) {
                continue;
            }
            for (k, v) in doc.entries(env) {
                // GitLab's `NAME: {value: …, description: …}` too.
                let v = doc.resolve(v);
                let value = v
                    .as_scalar()
                    .or_else(|| doc.get_scalar(v, "value"))
                    .map(|s| s.value.trim().to_string());
                if value.is_some_and(|v| !v.is_empty()) && is_name(k) {
                    keys.insert(k.to_string());
                }
            }
        }
        keys
    }
    fn walk(
        doc: &Document,
        node: &Node,
        env: &BTreeSet<String>,
        depth: usize,
        out: &mut Vec<(String, BTreeSet<String>)>,
    ) {
        if depth > 32 || out.len() >= MAX_SCRIPTS {
            return;
        }
        match doc.resolve(node) {
            map @ Node::Map(..) => {
                let mut env = env.clone();
                env.extend(env_keys(doc, map));
                for (k, v) in doc.entries(map) {
                    if k == "env" || k == "variables" {
                        continue;
                    }
                    walk(doc, v, &env, depth + 1, out);
                }
            }
            seq @ Node::Seq(..) => {
                let items = doc.items(seq);
                let scalars: Vec<&str> = items
                    .iter()
                    .filter_map(|i| doc.resolve(i).as_scalar().map(|s| s.value.as_str()))
                    .collect();
                if !scalars.is_empty() && scalars.len() == items.len() {
                    if scalars.iter().any(|s| s.contains("compose")) {
                        out.push((scalars.join("\n"), env.clone()));
                    }
                } else {
                    for item in items {
                        walk(doc, item, env, depth + 1, out);
                    }
                }
            }
            other => {
                if let Some(s) = other.as_scalar()
                    && s.value.contains("compose")
                {
                    out.push((s.value.clone(), env.clone()));
                }
            }
        }
    }
    let Ok(docs) = crate::sources::yaml::parse_shared(text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for doc in docs.iter() {
        walk(doc, &doc.root, &BTreeSet::new(), 0, &mut out);
    }
    out
}

/// One script's Compose runs: the files it names (or the default file
/// beside it or at the root; none when neither places), and the variables
/// set and exported before **every** run, in order: a top-level
/// assignment before the run, or one before it in the same function; an
/// assignment inside another function does not count.
fn script_runs(dir: &Path, lines: &[String]) -> Option<ComposeRun> {
    let (runs, file_word, assign, default_assign, export) = (
        RUNS.as_ref()?,
        FILE_WORD.as_ref()?,
        ASSIGN.as_ref()?,
        DEFAULT_ASSIGN.as_ref()?,
        EXPORT.as_ref()?,
    );
    let live = |l: &&String| !l.trim_start().starts_with('#');
    let inside = |p: PathBuf| crate::realpath::canonical(&p).ok().filter(|c| c.is_file());
    let mut files: Vec<PathBuf> = Vec::new();
    let mut at_root: Vec<PathBuf> = Vec::new();
    let mut words = 0usize;
    for m in lines
        .iter()
        .filter(live)
        .flat_map(|l| file_word.find_iter(l))
    {
        words += 1;
        if files.len() + at_root.len() >= MAX_FILES {
            break;
        }
        let word = m.as_str();
        if word.contains('$') {
            let name = word.rsplit('/').next().unwrap_or(word);
            files.extend(inside(dir.join(name)).filter(|c| !files.contains(c)));
        } else {
            files.extend(inside(dir.join(word)).filter(|c| !files.contains(c)));
            let rel = PathBuf::from(word);
            if rel.is_relative()
                && !rel
                    .components()
                    .any(|c| c == std::path::Component::ParentDir)
            {
                at_root.push(rel);
            }
        }
    }
    let elsewhere = words == 0
        && lines
            .iter()
            .filter(live)
            .any(|l| CD_ABSOLUTE.as_ref().is_some_and(|r| r.is_match(l)));
    if words == 0 && !elsewhere {
        files.extend(DEFAULT_NAMES.iter().find_map(|n| inside(dir.join(n))));
    }
    let root_default = words == 0 && !elsewhere && files.is_empty();
    // What is set and exported at the top level, and in the function
    // being read (cleared when it ends).
    #[derive(Default, Clone)]
    struct Scope {
        set: BTreeSet<String>,
        exported: BTreeSet<String>,
        all_exported: bool,
    }
    let mut top = Scope::default();
    let mut function: Option<(Scope, usize)> = None;
    let mut agreed: Option<BTreeSet<String>> = None;
    for line in lines.iter().filter(live) {
        let t = line.trim();
        // `name() {`, `function name {`: a function's body until its
        // braces close.
        if function.is_none() && is_function_start(t) {
            function = Some((top.clone(), 0));
        }
        let scope = match function.as_mut() {
            Some((scope, _)) => scope,
            None => &mut top,
        };
        if let Some(c) = assign.captures(line) {
            let value = c[2].trim_matches(|c| c == '"' || c == '\'');
            if !value.is_empty() {
                scope.set.insert(c[1].to_string());
                if t.starts_with("export ") || t.starts_with("declare ") {
                    scope.exported.insert(c[1].to_string());
                }
            }
        }
        for c in default_assign.captures_iter(line) {
            if !c[2].trim().is_empty() {
                scope.set.insert(c[1].to_string());
            }
        }
        if let Some(c) = export.captures(line) {
            for word in c[1].split_whitespace() {
                let name = word.split('=').next().unwrap_or(word);
                if is_name(name) {
                    scope.exported.insert(name.to_string());
                }
            }
        }
        if t == "set -a" || t.starts_with("set -o allexport") {
            scope.all_exported = true;
        }
        if runs.is_match(line) {
            let mut here: BTreeSet<String> = if scope.all_exported {
                scope.set.clone()
            } else {
                scope.set.intersection(&scope.exported).cloned().collect()
            };
            // `NAME=… docker compose …`: set for that command only.
            if let Some(c) = assign.captures(line)
                && !t.starts_with("export ")
                && !c[2].trim_matches(|c| c == '"' || c == '\'').is_empty()
            {
                here.insert(c[1].to_string());
            }
            agreed = Some(match agreed {
                None => here,
                Some(acc) => acc.intersection(&here).cloned().collect(),
            });
        }
        if let Some((_, depth)) = function.as_mut() {
            let opened = line.matches('{').count() - line.matches("${").count();
            let closed = line.matches('}').count()
                - line.matches("${").count().min(line.matches('}').count());
            *depth = (*depth + opened).saturating_sub(closed);
            if *depth == 0 && line.contains('}') {
                function = None;
            }
        }
    }
    Some(ComposeRun {
        files,
        at_root,
        root_default,
        elsewhere,
        sets: agreed.unwrap_or_default(),
    })
}

/// Whether a line starts a shell function: `name() {`, `function name`.
fn is_function_start(line: &str) -> bool {
    if let Some(rest) = line.strip_prefix("function ") {
        return rest
            .split_whitespace()
            .next()
            .is_some_and(|n| is_name(n.trim_end_matches("()")));
    }
    line.split_once("()")
        .is_some_and(|(name, rest)| is_name(name.trim()) && rest.trim_start().starts_with('{'))
}

/// The variables every run of a Compose file sets, by the file.
pub fn agreed<'a>(
    root: &Path,
    runs: impl Iterator<Item = &'a ComposeRun>,
) -> BTreeMap<PathBuf, BTreeSet<String>> {
    let mut per_file: BTreeMap<PathBuf, Option<BTreeSet<String>>> = BTreeMap::new();
    // A run refit cannot place may run any file: a possible run of each,
    // with what it sets (so a variable it does not set is vetoed).
    let mut unplaced: Option<BTreeSet<String>> = None;
    for run in runs {
        // A run of a file outside the repository is no run of its files.
        if run.elsewhere {
            continue;
        }
        let files = run.placed(root);
        if files.is_empty() {
            unplaced = Some(match unplaced.take() {
                None => run.sets.clone(),
                Some(acc) => acc.intersection(&run.sets).cloned().collect(),
            });
        }
        for file in &files {
            let entry = per_file.entry(file.clone()).or_default();
            *entry = Some(match entry.take() {
                None => run.sets.clone(),
                Some(acc) => acc.intersection(&run.sets).cloned().collect(),
            });
        }
    }
    per_file
        .into_iter()
        .filter_map(|(f, s)| {
            let s = match &unplaced {
                Some(u) => s?.intersection(u).cloned().collect(),
                None => s?,
            };
            (!s.is_empty()).then_some((f, s))
        })
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
            read(&path, &std::fs::read_to_string(&path).unwrap(), false).remove(0)
        };
        let install = read_one("e2e/install.sh");
        let compose = root.join("e2e/docker-compose.yml");
        assert_eq!(install.files, vec![compose.clone()]);
        // `NEXUS_PORT` is set but not exported: Compose does not see it.
        assert_eq!(install.sets.iter().collect::<Vec<_>>(), ["NEXUS_VERSION"]);
        let other = read_one("other.sh");
        assert_eq!(other.sets.iter().collect::<Vec<_>>(), ["TAG"]);
        assert_eq!(agreed(&root, [&install].into_iter())[&compose].len(), 1);
        // Runs that disagree: nothing is set by all of them.
        assert!(agreed(&root, [&install, &other].into_iter()).is_empty());
        let unset = read_one("unset.sh");
        assert!(agreed(&root, [&install, &unset].into_iter()).is_empty());
    }
}

#[cfg(test)]
mod ci_tests {
    use super::*;

    #[test]
    fn ci_scripts_take_the_env_around_them() {
        let text = "name: e2e\non: pull_request\njobs:\n  lint:\n    env:\n      OTHER: 1\n    steps:\n      - run: echo\n  e2e:\n    runs-on: ubuntu-24.04\n    env:\n      JOB: x\n    steps:\n      - uses: actions/checkout@v4\n      - run: docker compose up -d\n        env:\n          NEXUS_VERSION: 3.47.1\n";
        let runs = read(Path::new("/r/.github/workflows/e2e.yml"), text, true);
        assert_eq!(runs.len(), 1, "{runs:?}");
        let sets: Vec<&String> = runs[0].sets.iter().collect();
        assert_eq!(sets, ["JOB", "NEXUS_VERSION"]);
        assert!(runs[0].root_default);
    }

    #[test]
    fn gitlab_variables_of_the_job_and_the_file() {
        let text = "variables:\n  GLOBAL: 1\n  EMPTY: ''\nother:\n  variables:\n    OTHER: 1\n  script: [echo]\ne2e:\n  variables:\n    JOB:\n      value: x\n  script:\n    - export LATER=1\n    - docker compose up\n";
        let runs = read(Path::new("/r/.gitlab-ci.yml"), text, true);
        assert_eq!(runs.len(), 1, "{runs:?}");
        let sets: Vec<&String> = runs[0].sets.iter().collect();
        assert_eq!(sets, ["GLOBAL", "JOB", "LATER"]);
    }

    #[test]
    fn assignments_count_in_order_and_scope() {
        let script = |text: &str| {
            let lines = crate::shell::logical_lines(text);
            script_runs(Path::new("/nonexistent"), &lines)
                .unwrap()
                .sets
                .into_iter()
                .collect::<Vec<_>>()
        };
        // After the run: not set for it.
        assert!(script("docker compose up\nexport TAG=1\n").is_empty());
        // Inside a function: not set for a run outside it.
        assert!(script("pin() {\n  export TAG=1\n}\ndocker compose up\n").is_empty());
        // Before it in the same function, or at the top: set.
        assert_eq!(
            script("export A=1\nup() {\n  export TAG=1\n  docker compose up\n}\n"),
            ["A", "TAG"]
        );
        // For that command only, and every run must have it.
        assert_eq!(script("TAG=1 docker compose up\n"), ["TAG"]);
        assert!(script("TAG=1 docker compose up\ndocker compose down\n").is_empty());
        // Set but not exported: Compose does not see it, unless `set -a`.
        assert!(script("TAG=1\ndocker compose up\n").is_empty());
        assert_eq!(script("set -a\nTAG=1\ndocker compose up\n"), ["TAG"]);
    }

    #[test]
    fn a_run_refit_cannot_place_vetoes() {
        let placed = ComposeRun {
            files: vec![PathBuf::from("/r/compose.yaml")],
            sets: BTreeSet::from(["TAG".to_string()]),
            ..ComposeRun::default()
        };
        let unplaced = ComposeRun::default();
        let root = Path::new("/r");
        assert_eq!(agreed(root, [&placed].into_iter()).len(), 1);
        assert!(agreed(root, [&placed, &unplaced].into_iter()).is_empty());
        // A run in an absolute folder, naming no file, runs none of them.
        let lines =
            crate::shell::logical_lines("(\n  cd /tmp/harbor\n  docker compose config\n)\n");
        let elsewhere = script_runs(Path::new("/nonexistent"), &lines).unwrap();
        assert!(elsewhere.elsewhere && !elsewhere.root_default);
        assert_eq!(agreed(root, [&placed, &elsewhere].into_iter()).len(), 1);
    }
}

#[cfg(test)]
mod command_tests {
    #[test]
    fn compose_commands_not_file_names() {
        let runs = super::RUNS.as_ref().unwrap();
        assert!(runs.is_match("docker compose up"));
        assert!(runs.is_match("x\ndocker-compose\ny"));
        assert!(runs.is_match("$(DOCKER) compose -f a.yml up"));
        assert!(!runs.is_match("cat docker-compose.override.yml"));
        assert!(!runs.is_match("id: docker-compose-version"));
    }
}
