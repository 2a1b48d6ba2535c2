//! Makefile builds that always pass a build argument: `--build-arg
//! NAME=VALUE` on a build command's line, and GNU make's substitution
//! reference `$(VAR:%=--build-arg NAME=%)` (also `${…}`), which passes the
//! argument only when `VAR` is not empty. A variable counts as set when
//! the Makefile, or a Makefile it includes inside the repository, assigns
//! it a value (`?=`, `:=`, `::=`, `=`) and none assigns it an empty one.
//! Then the Dockerfile's `ARG NAME=…` default is not what that build uses.
//!
//! Read per file ([`read`], cached with the file's other facts); the
//! includes are followed when a root's facts are combined ([`always`]), so
//! a change to an included Makefile is seen as any fact file's change.

use super::builds::{command_flags, is_build_tool, logical_lines, shell_words, tool_variables};
use super::passes::BuildPass;
use super::passes::is_name;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The most included files followed from one Makefile.
const MAX_INCLUDES: usize = 32;
/// The most build invocations kept per Makefile.
const MAX_PASSES: usize = 64;

/// What one Makefile says about the builds it runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct MakeFile {
    /// Variables assigned a value that is not empty.
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub set: BTreeSet<String>,
    /// Variables assigned an empty value (`DRIVER_VERSION ?=`).
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub empty: BTreeSet<String>,
    /// Included Makefiles (canonical, inside the root).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub includes: Vec<PathBuf>,
    /// Build commands whose Dockerfile refit places.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub passes: Vec<MakePass>,
    /// Plain values assigned (no space, no `$`), the first of each name:
    /// what an included Makefile's `$(NAME)` becomes.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub values: BTreeMap<String, String>,
    /// `-t` names that still hold a `$(NAME)` the file does not set
    /// (`strimzi/$(PROJECT_NAME):latest`): a Makefile that includes this
    /// one may set it (`included_tags`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

/// The most plain values and open `-t` names kept per Makefile.
const MAX_VALUES: usize = 256;
const MAX_TAGS: usize = 64;

/// The image names Makefiles build through an included Makefile's
/// recipe: its open `-t` names (`MakeFile::tags`) with the including
/// Makefile's values (`PROJECT_NAME=base` in `base/Makefile`, which
/// includes `Makefile.docker`'s `docker build -t strimzi/$(PROJECT_NAME)`).
pub fn included_tags(files: &BTreeMap<PathBuf, MakeFile>) -> Vec<String> {
    let mut out = Vec::new();
    for make in files.values() {
        if make.values.is_empty() {
            continue;
        }
        for included in &make.includes {
            let Some(child) = files.get(included) else {
                continue;
            };
            for tag in &child.tags {
                let name = super::builds::expand_once(tag, &make.values);
                if !name.contains('$') {
                    out.push(name);
                }
            }
        }
    }
    out
}

/// One build command of a Makefile: the Dockerfile (canonical) and the
/// build arguments it passes, each with the make variable whose value
/// decides whether it is passed (`None`: always).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MakePass {
    /// Empty when refit cannot place it; then `names` says which file
    /// names (lower case, `*` for any) it may build.
    pub dockerfile: PathBuf,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
    pub args: Vec<(String, Option<String>)>,
    /// The plain values passed (`--build-arg TAG=latest`), by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub values: BTreeMap<String, String>,
}

/// Whether a file (its lower-case name) is a Makefile: `Makefile`,
/// `GNUmakefile`, `*.mk`, or a name make is pointed at with `include`
/// (`Makefile.common`, `Makefile.inc`).
pub fn is_makefile(name: &str) -> bool {
    name == "makefile"
        || name == "gnumakefile"
        || name.ends_with(".mk")
        || name.starts_with("makefile.")
}

/// `NAME` of a value that is only a make variable: `$(NAME)`, `${NAME}`.
fn only_variable(value: &str) -> Option<&str> {
    value
        .strip_prefix("$(")
        .and_then(|v| v.strip_suffix(')'))
        .or_else(|| value.strip_prefix("${").and_then(|v| v.strip_suffix('}')))
        .filter(|v| is_name(v))
}

/// `$(VAR:%=--build-arg NAME=%)` and `${VAR:%=--build-arg NAME=%}` in a
/// line: (NAME, VAR).
fn substitutions(line: &str) -> Vec<(String, String)> {
    static RE: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r#"\$[({]([A-Za-z_][A-Za-z0-9_]*):%=--build-arg[= ]['"]?([A-Za-z_][A-Za-z0-9_]*)=%['"]?[)}]"#,
        )
        .ok()
    });
    let Some(re) = RE.as_ref() else {
        return Vec::new();
    };
    re.captures_iter(line)
        .map(|c| (c[2].to_string(), c[1].to_string()))
        .collect()
}

/// An assignment line outside a recipe: (variable, value).
fn assignment(line: &str) -> Option<(&str, &str)> {
    if line.starts_with('\t') {
        return None;
    }
    let line = line.trim();
    let line = line.strip_prefix("override ").unwrap_or(line).trim_start();
    let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
    let at = line.find('=')?;
    let name = line[..at].trim_end();
    // `!=` runs a shell command: its value is not known.
    if name.ends_with('!') {
        return None;
    }
    let name = name
        .strip_suffix("::")
        .or_else(|| name.strip_suffix(':'))
        .or_else(|| name.strip_suffix('?'))
        .or_else(|| name.strip_suffix('+'))
        .unwrap_or(name)
        .trim_end();
    if !is_name(name) {
        return None;
    }
    let value = line[at + 1..].split('#').next().unwrap_or("").trim();
    Some((name, value))
}

/// Read a Makefile at `path` (canonical) under `root` (canonical).
pub fn read(root: &Path, path: &Path, text: &str) -> Option<MakeFile> {
    let dir = path.parent()?;
    let lines = logical_lines(text);
    let mut out = MakeFile::default();
    let mut tried = 0usize;
    for line in &lines {
        if line.trim_start().starts_with('#') {
            continue;
        }
        if let Some((name, value)) = assignment(line) {
            if value.is_empty() {
                out.empty.insert(name.to_string());
            } else {
                out.set.insert(name.to_string());
                let plain = !value.contains(['$', ' ', '\t']) && value.len() <= 256;
                if plain && !line.contains("+=") && out.values.len() < MAX_VALUES {
                    out.values
                        .entry(name.to_string())
                        .or_insert_with(|| value.to_string());
                }
            }
            continue;
        }
        let trimmed = line.trim_start();
        let rest = ["include ", "-include ", "sinclude "]
            .iter()
            .find_map(|k| trimmed.strip_prefix(k));
        if let Some(rest) = rest {
            for word in rest.split_whitespace() {
                // Attempts are bounded too: a lookup that fails costs a
                // `realpath` as one that succeeds does.
                tried += 1;
                if tried > 2 * MAX_INCLUDES || word.contains('$') {
                    continue;
                }
                if out.includes.len() >= MAX_INCLUDES {
                    continue;
                }
                if let Some(file) = crate::bounded::inside(root, &dir.join(word))
                    .ok()
                    .filter(|f| f.starts_with(root) && f.is_file())
                {
                    out.includes.push(file);
                }
            }
        }
    }
    let variables = tool_variables(&lines, super::builds::BUILD_TOOLS);
    for line in &lines {
        if out.passes.len() >= MAX_PASSES {
            break;
        }
        if !line.starts_with('\t') || !(line.contains("build") || line.contains("bud")) {
            continue;
        }
        let words = shell_words(line);
        let Some(at) = words.iter().enumerate().position(|(i, w)| {
            matches!(w.as_str(), "build" | "bud")
                && words[..i]
                    .iter()
                    .rev()
                    .find(|w| !matches!(w.as_str(), "buildx" | "image"))
                    .is_some_and(|t| is_build_tool(t, &variables))
        }) else {
            continue;
        };
        let flags = command_flags(&words, at);
        for (flag, value) in &flags {
            if let ("-t" | "--tag", Some(v)) = (flag.as_str(), value)
                && v.contains("$(")
                && out.tags.len() < MAX_TAGS
            {
                let v = super::builds::expand_once(v, &out.values);
                if v.contains("$(") && !out.tags.contains(&v) {
                    out.tags.push(v);
                }
            }
        }
        // A build refit cannot place is kept with the names it may build
        // (`*`: any); `passes::agree` does not count it.
        let (dockerfile, names) = match place(root, dir, words.get(at + 1..).unwrap_or_default()) {
            Some(file) => (file, Vec::new()),
            None => (PathBuf::new(), unplaced_names(&flags)),
        };
        let mut values = BTreeMap::new();
        let mut args: Vec<(String, Option<String>)> = substitutions(line)
            .into_iter()
            .map(|(name, var)| (name, Some(var)))
            .collect();
        for (flag, value) in &flags {
            if flag != "--build-arg" {
                continue;
            }
            let Some((name, value)) = value.as_deref().and_then(|v| v.split_once('=')) else {
                continue;
            };
            let value = value.trim_matches(|c| c == '"' || c == '\'');
            if !is_name(name) || value.is_empty() || value.starts_with("$$") {
                continue;
            }
            match only_variable(value) {
                Some(var) => args.push((name.to_string(), Some(var.to_string()))),
                // Text with a shell variable may expand to nothing.
                None if value.contains("$$") => {}
                None => {
                    args.push((name.to_string(), None));
                    if let Some(v) = super::passes::plain(value) {
                        values.insert(name.to_string(), v);
                    }
                }
            }
        }
        // A build that passes nothing counts too: it uses every default.
        out.passes.push(MakePass {
            dockerfile,
            names,
            args,
            values,
        });
    }
    (out != MakeFile::default()).then_some(out)
}

/// The file names a build command refit cannot place may build: its
/// `-f` file's name (`*` when that is a variable), else the default names.
fn unplaced_names(flags: &[(String, Option<String>)]) -> Vec<String> {
    let file = flags
        .iter()
        .find(|(f, _)| matches!(f.as_str(), "-f" | "--file"))
        .and_then(|(_, v)| v.as_deref());
    match file {
        Some(f) => {
            let name = f.rsplit('/').next().unwrap_or(f).to_ascii_lowercase();
            vec![if name.contains('$') || name == "-" || name.is_empty() {
                "*".to_string()
            } else {
                name
            }]
        }
        None => vec!["dockerfile".to_string(), "containerfile".to_string()],
    }
}

/// The Dockerfile a build command builds, as make runs it (in the
/// Makefile's folder): its `-f`/`--file`, else `Dockerfile` or
/// `Containerfile` in the context (the first word that is no flag or flag
/// value, as `passes` reads a build command), only when it resolves inside
/// the repository `root`. `after` is the command's words after `build`.
pub(super) fn place(root: &Path, dir: &Path, after: &[String]) -> Option<PathBuf> {
    let (file, context) = super::passes::file_and_context(after);
    let candidates: Vec<PathBuf> = match file {
        Some(f) if f.contains('$') || f == "-" => return None,
        Some(f) => vec![dir.join(f)],
        None => {
            let context = context?;
            if context.contains('$') || context.contains("://") {
                return None;
            }
            let context = dir.join(context);
            vec![context.join("Dockerfile"), context.join("Containerfile")]
        }
    };
    candidates
        .iter()
        .find_map(|c| crate::bounded::inside(root, c).ok().filter(|c| c.is_file()))
}

/// Every Makefile build of a Dockerfile refit placed, with the Makefile
/// (`files`' key) that runs it: a build argument behind a variable
/// (`$(VAR:%=--build-arg NAME=%)`, `--build-arg NAME=$(VAR)`) is passed
/// when the Makefile or a file it includes (followed within `files`,
/// bounded) sets `VAR`, and none sets it empty.
pub fn passes(files: &BTreeMap<PathBuf, MakeFile>) -> Vec<(PathBuf, BuildPass)> {
    let mut out = Vec::new();
    for (path, make) in files {
        if make.passes.is_empty() {
            continue;
        }
        // The variables of the Makefile and what it includes.
        let mut set: BTreeSet<&str> = BTreeSet::new();
        let mut empty: BTreeSet<&str> = BTreeSet::new();
        let mut seen: BTreeSet<&Path> = BTreeSet::new();
        let mut queue: Vec<&Path> = vec![path];
        while let Some(next) = queue.pop() {
            if seen.len() >= MAX_INCLUDES || !seen.insert(next) {
                continue;
            }
            let Some(m) = files.get(next) else {
                continue;
            };
            set.extend(m.set.iter().map(String::as_str));
            empty.extend(m.empty.iter().map(String::as_str));
            queue.extend(m.includes.iter().map(PathBuf::as_path));
        }
        for pass in &make.passes {
            let args = pass
                .args
                .iter()
                .filter(|(_, var)| {
                    var.as_deref()
                        .is_none_or(|v| set.contains(v) && !empty.contains(v))
                })
                .map(|(name, _)| (name.clone(), pass.values.get(name).cloned()))
                .collect();
            out.push((
                path.clone(),
                BuildPass {
                    dockerfiles: (!pass.dockerfile.as_os_str().is_empty())
                        .then(|| pass.dockerfile.clone())
                        .into_iter()
                        .collect(),
                    names: pass.names.clone(),
                    args,
                    ..BuildPass::default()
                },
            ));
        }
    }
    out
}

/// The build arguments every Makefile build of each Dockerfile passes
/// (the Makefiles' share of [`super::passes::agree`]).
#[cfg(test)]
pub(super) fn always(files: &BTreeMap<PathBuf, MakeFile>) -> BTreeMap<PathBuf, BTreeSet<String>> {
    let passes: Vec<(BuildPass, String)> = passes(files)
        .into_iter()
        .map(|(path, pass)| (pass, path.to_string_lossy().to_string()))
        .collect();
    super::passes::agree(&passes)
        .into_iter()
        .map(|(file, agreed)| (file, agreed.always))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitution_references() {
        assert_eq!(
            substitutions(
                "\t$(DRIVER_TOOLKIT_IMAGE:%=--build-arg DRIVER_TOOLKIT_IMAGE=%) ${FROM:%=--build-arg BASEIMAGE=%} $(ARCH:%=--platform linux/%)"
            ),
            vec![
                (
                    "DRIVER_TOOLKIT_IMAGE".to_string(),
                    "DRIVER_TOOLKIT_IMAGE".to_string()
                ),
                ("BASEIMAGE".to_string(), "FROM".to_string()),
            ]
        );
    }

    #[test]
    fn assignments() {
        assert_eq!(
            assignment("IMAGE ?= quay.io/x"),
            Some(("IMAGE", "quay.io/x"))
        );
        assert_eq!(assignment("export TAG := v1 # pinned"), Some(("TAG", "v1")));
        assert_eq!(
            assignment("DRIVER_VERSION ?="),
            Some(("DRIVER_VERSION", ""))
        );
        assert_eq!(assignment("X ::= y"), Some(("X", "y")));
        assert_eq!(assignment("REV != git rev-parse HEAD"), None);
        assert_eq!(assignment("\tFOO=bar ./run"), None);
        assert_eq!(assignment("all: build"), None);
    }

    use super::super::write_test_file as write;

    #[test]
    fn included_variables_decide() {
        let tmp = tempfile::tempdir().unwrap();
        let root = crate::realpath::canonical(tmp.path()).unwrap();
        let common = write(
            &root,
            "common/Makefile.common",
            "IMAGE ?= ${REGISTRY}/org/toolkit:${KERNEL}\nDRIVER ?=\n",
        );
        let dockerfile = write(
            &root,
            "app/Containerfile",
            "ARG IMAGE=x:latest\nFROM ${IMAGE}\n",
        );
        let makefile = write(
            &root,
            "app/Makefile",
            "include ../common/Makefile.common\n\nbootc:\n\t\"${CONTAINER_TOOL}\" build \\\n\t\t$(IMAGE:%=--build-arg IMAGE=%) \\\n\t\t$(DRIVER:%=--build-arg DRIVER=%) \\\n\t\t$(UNSET:%=--build-arg UNSET=%) \\\n\t\t--build-arg PLAIN=1 \\\n\t\t--file Containerfile .\n",
        );
        let mut files = BTreeMap::new();
        for path in [&common, &makefile] {
            let text = std::fs::read_to_string(path).unwrap();
            if let Some(m) = read(&root, path, &text) {
                files.insert(path.clone(), m);
            }
        }
        assert_eq!(files[&makefile].includes, vec![common.clone()]);
        let agreed = always(&files);
        let names: Vec<&str> = agreed[&dockerfile].iter().map(String::as_str).collect();
        // `DRIVER` is empty and `UNSET` never set: those are not passed.
        assert_eq!(names, ["IMAGE", "PLAIN"]);
        // Without the include, `IMAGE` is not known to be set.
        files.remove(&common);
        let names: Vec<String> = always(&files)[&dockerfile].iter().cloned().collect();
        assert_eq!(names, ["PLAIN"]);
    }

    #[test]
    fn a_build_refit_cannot_place_is_not_counted() {
        let tmp = tempfile::tempdir().unwrap();
        let root = crate::realpath::canonical(tmp.path()).unwrap();
        let dockerfile = write(&root, "Dockerfile", "ARG TAG=latest\nFROM alpine:${TAG}\n");
        let text = "a:\n\tdocker build --build-arg TAG=3.20 .\nb:\n\tdocker build -f $(FILE) .\n";
        let makefile = write(&root, "Makefile", text);
        let mut files = BTreeMap::new();
        files.insert(makefile.clone(), read(&root, &makefile, text).unwrap());
        assert_eq!(files[&makefile].passes[1].names, ["*"]);
        assert_eq!(always(&files)[&dockerfile].len(), 1);
        // A placed build without TAG vetoes it.
        let text =
            "a:\n\tdocker build --build-arg TAG=3.20 .\nb:\n\tdocker build -f Dockerfile .\n";
        files.insert(makefile.clone(), read(&root, &makefile, text).unwrap());
        assert!(always(&files).is_empty());
        // The context is the first word that is no flag or flag value, not
        // the last word: `docker build . -t app` builds ./Dockerfile, and
        // vetoes TAG as well.
        let text = "a:\n\tdocker build --build-arg TAG=3.20 .\nb:\n\tdocker build . -t app\n";
        files.insert(makefile.clone(), read(&root, &makefile, text).unwrap());
        assert_eq!(files[&makefile].passes[1].dockerfile, dockerfile);
        assert!(always(&files).is_empty());
    }
}
