//! Every build of a Dockerfile that refit can see, and the build
//! arguments each one passes: Makefile recipes ([`super::make`]), build
//! commands in scripts and CI files (`docker build --build-arg …`,
//! GitLab CI `script:`), docker/build-push-action steps (`build-args:`),
//! Compose `build.args`, bake targets, dev containers and Skaffold
//! artifacts.
//!
//! An `ARG` default is replaced only when **every** build of its
//! Dockerfile passes the argument ([`agree`]): a build that does not pass
//! it uses the default. A build refit cannot place (`-f "$DOCKERFILE"`, a
//! context that does not resolve from the folder it runs in, a CI step's
//! `working-directory`) is not counted: it is kept with the file names it
//! names, but it vetoes nothing. Counting it as a possible build of every
//! Dockerfile of its name undid every agreement in monorepos (one
//! `podman build -f /tmp/Containerfile` in a provisioning playbook, or a
//! generic `-f $(CONTAINERFILE)` recipe, vetoed every `Containerfile`),
//! the false findings the agreement exists to prevent; the argument's
//! name is still known to be passed, so the default's fix stays unsafe
//! (`check`). A build whose flags refit cannot read (`"$@"`,
//! `$(BUILD_ARGS)`) counts for neither side either.
//!
//! Plain values passed (`--build-arg TAG=latest`) are kept, a few per
//! Dockerfile, so that the reference each build really uses is judged
//! (`check::judge_passed_values`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The most builds kept per file.
pub const MAX_PASSES: usize = 64;
/// The most distinct sets of plain values judged per Dockerfile.
pub const MAX_VARIANTS: usize = 8;

/// One build and the arguments it passes.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct BuildPass {
    /// The Dockerfiles it may build (canonical); empty when refit cannot
    /// place it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dockerfiles: Vec<PathBuf>,
    /// Paths relative to the repository root that it may build (a CI
    /// job or a script run from the root): placed when a root's facts are
    /// combined ([`BuildPass::place`]), so that a file's facts do not
    /// depend on which root read it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub at_root: Vec<PathBuf>,
    /// When it is not placed: the file names (lower case) it may build,
    /// `*` for any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
    /// The arguments it passes, each with its value when that is plain
    /// text.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<String, Option<String>>,
}

impl BuildPass {
    /// Place the build under `root` (canonical): its root-relative
    /// candidates that are files inside the root, and only Dockerfiles
    /// inside it.
    pub fn place(&self, root: &Path) -> BuildPass {
        let mut out = self.clone();
        out.dockerfiles.retain(|f| f.starts_with(root));
        for rel in &self.at_root {
            if let Some(file) = crate::bounded::inside(root, &root.join(rel))
                .ok()
                .filter(|f| f.is_file())
                && !out.dockerfiles.contains(&file)
            {
                out.dockerfiles.push(file);
            }
        }
        out.at_root.clear();
        out
    }
}

/// What the builds of one Dockerfile agree on.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Agreed {
    /// Arguments every build passes.
    pub always: BTreeSet<String>,
    /// Distinct plain values of those arguments, each with the file of
    /// a build that passes them (bounded by [`MAX_VARIANTS`]).
    pub values: Vec<(BTreeMap<String, String>, String)>,
}

/// A value that is plain text: no variable, expression or substitution.
pub fn plain(value: &str) -> Option<String> {
    let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
    (!value.is_empty() && !value.contains(['$', '{', '}', '`', '(', ' ', '%']))
        .then(|| value.to_string())
}

/// A shell or make variable's name (`BUILD_ARG`, `_x1`): the name rule
/// of `--build-arg NAME=…` and of assignments.
pub(super) fn is_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Flags of `docker build` (and `buildx build`, `podman build`) that take
/// no value; any other flag written without `=` takes the next word.
const SWITCHES: &[&str] = &[
    "--no-cache",
    "--pull",
    "--rm",
    "--force-rm",
    "-q",
    "--quiet",
    "--load",
    "--push",
    "--squash",
    "--compress",
    "--disable-content-trust",
    "--layers",
    "--tls-verify",
];

/// A word that is only a variable named for build arguments
/// (`$(BUILD_ARGS)`, `${DOCKER_BUILD_ARGS}`, `$ARGS`): flags refit cannot
/// read.
fn expands_flags(word: &str) -> bool {
    let name = word
        .strip_prefix("$(")
        .and_then(|w| w.strip_suffix(')'))
        .or_else(|| word.strip_prefix("${").and_then(|w| w.strip_suffix('}')))
        .or_else(|| word.strip_prefix('$'));
    name.is_some_and(|v| is_name(v) && v.to_ascii_uppercase().contains("ARG"))
}

/// One build command's words after `build`: its Dockerfile (`-f`), its
/// context (the first word that is no flag or flag value), the build
/// arguments, and whether it passes flags refit cannot read.
struct Command {
    file: Option<String>,
    context: Option<String>,
    args: BTreeMap<String, Option<String>>,
    unknown: bool,
}

fn command(words: &[String]) -> Command {
    let unquote = |w: &str| w.trim_matches(|c| c == '"' || c == '\'').to_string();
    let mut out = Command {
        file: None,
        context: None,
        args: BTreeMap::new(),
        unknown: false,
    };
    let mut i = 0;
    while let Some(word) = words.get(i) {
        if matches!(
            word.as_str(),
            "&&" | "||" | ";" | "|" | "build" | "bud" | "compose" | ")"
        ) {
            break;
        }
        let last = word.ends_with(';');
        let w = unquote(word.trim_end_matches(';'));
        let next = || words.get(i + 1).map(|v| unquote(v.trim_end_matches(';')));
        let (flag, joined) = match w.split_once('=') {
            Some((f, v)) if f.starts_with('-') => (f.to_string(), Some(v.to_string())),
            _ => (w.clone(), None),
        };
        if flag.starts_with('-') {
            let takes = joined.is_none() && !SWITCHES.contains(&flag.as_str());
            let value = joined.or_else(|| if takes { next() } else { None });
            if takes {
                i += 1;
            }
            match flag.as_str() {
                "-f" | "--file" => out.file = value,
                "--build-arg" => match value.as_deref().map(|v| v.split_once('=')) {
                    Some(Some((name, v))) if is_name(name) => {
                        out.args.insert(name.to_string(), plain(v));
                    }
                    // `--build-arg NAME`: passed from the environment,
                    // which refit does not see.
                    Some(None) => {}
                    _ => out.unknown = true,
                },
                // Podman's and Buildah's file of `NAME=VALUE` lines,
                // which refit does not read: any argument may be set.
                "--build-arg-file" => out.unknown = true,
                _ => {}
            }
        } else if expands_flags(&w) || matches!(w.as_str(), "$@" | "$*" | "${@}" | "${*}") {
            out.unknown = true;
        } else if out.context.is_none() {
            out.context = Some(w);
        }
        if last {
            break;
        }
        i += 1;
    }
    out
}

/// A build command's `-f` file and context, from its words after
/// `build`, read as `place_command` reads them.
pub fn file_and_context(words: &[String]) -> (Option<String>, Option<String>) {
    let c = command(words);
    (c.file, c.context)
}

/// The build a command runs from its file's folder `dir` (a script;
/// `None` for a CI file) or the repository root: the Dockerfiles it may
/// build beside `dir`, the paths to try at the root, and the file names
/// it names (used when none resolves). `None` for a build whose flags
/// refit cannot read.
pub fn place_command(dir: Option<&Path>, words: &[String]) -> Option<BuildPass> {
    let c = command(words);
    if c.unknown {
        return None;
    }
    let mut pass = BuildPass {
        args: c.args,
        ..BuildPass::default()
    };
    let base = |f: &str| {
        f.rsplit(['/', '\\'])
            .next()
            .unwrap_or(f)
            .to_ascii_lowercase()
    };
    let rel: Vec<PathBuf> = match (&c.file, &c.context) {
        (Some(f), _) if f == "-" || f.contains('$') => {
            let name = base(f);
            pass.names = vec![if name.contains('$') || f == "-" {
                "*".to_string()
            } else {
                name
            }];
            return Some(pass);
        }
        (Some(f), _) => vec![PathBuf::from(f)],
        (None, Some(ctx)) if !ctx.contains('$') && !ctx.contains("://") => {
            let c = Path::new(ctx);
            vec![c.join("Dockerfile"), c.join("Containerfile")]
        }
        _ => Vec::new(),
    };
    if let Some(dir) = dir {
        // An absolute `-f /tmp/Containerfile` is not the repository's:
        // not even looked at.
        for r in rel.iter().filter(|r| !r.is_absolute()) {
            if let Ok(file) = crate::realpath::canonical(&dir.join(r))
                && file.is_file()
                && !pass.dockerfiles.contains(&file)
            {
                pass.dockerfiles.push(file);
            }
        }
    }
    // Outside the root, or up from it: not a path refit follows.
    pass.at_root = rel
        .into_iter()
        .filter(|r| {
            r.is_relative() && !r.components().any(|c| c == std::path::Component::ParentDir)
        })
        .collect();
    pass.names = match &c.file {
        Some(f) => vec![base(f)],
        None => vec!["dockerfile".to_string(), "containerfile".to_string()],
    };
    Some(pass)
}

/// docker/build-push-action steps of a workflow: `context` (the
/// repository root when not given), `file` (`{context}/Dockerfile` when
/// not given), `build-args` (`NAME=value` lines). An expression in
/// `context` or `file` leaves the step unplaced; an expression for the
/// whole of `build-args` makes its arguments unknown (not counted).
pub fn build_push_action(text: &str) -> Vec<BuildPass> {
    let mut out = Vec::new();
    if !text.contains("build-push-action") {
        return out;
    }
    let Ok(docs) = crate::sources::yaml::parse_shared(text) else {
        return out;
    };
    for doc in docs.iter() {
        for step in super::build_refs::workflow_steps(doc) {
            let step = doc.resolve(step);
            let uses = doc.get_scalar(step, "uses");
            if !uses.is_some_and(|u| u.value.contains("docker/build-push-action")) {
                continue;
            }
            let with = doc.get(step, "with").map(|w| doc.resolve(w));
            let value = |key: &str| {
                with.and_then(|w| doc.get_scalar(w, key))
                    .map(|s| s.value.trim().to_string())
                    .filter(|v| !v.is_empty())
            };
            let mut pass = BuildPass::default();
            if let Some(args) = value("build-args") {
                let lines: Vec<&str> = args
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect();
                if lines.iter().any(|l| !l.contains('=')) {
                    continue;
                }
                for line in lines {
                    if let Some((name, v)) = line.trim_start_matches("- ").split_once('=')
                        && is_name(name.trim())
                    {
                        pass.args.insert(name.trim().to_string(), plain(v));
                    }
                }
            }
            let context = value("context").unwrap_or_else(|| ".".to_string());
            let file = value("file");
            if !(context.contains("${{") || file.as_ref().is_some_and(|f| f.contains("${{"))) {
                pass.at_root.push(match &file {
                    Some(f) => PathBuf::from(f),
                    None => Path::new(&context).join("Dockerfile"),
                });
            }
            let name = file.as_deref().unwrap_or("Dockerfile");
            let name = name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase();
            pass.names = vec![if name.contains('$') {
                "*".to_string()
            } else {
                name
            }];
            if out.len() < MAX_PASSES {
                out.push(pass);
            }
        }
    }
    out
}

/// What every build of each Dockerfile agrees on: `dockerfiles` are the
/// repository's Dockerfiles that some placed build builds; `passes` each
/// build with the file (root-relative) that runs it.
pub fn agree(passes: &[(BuildPass, String)]) -> BTreeMap<PathBuf, Agreed> {
    let mut per_file: BTreeMap<&Path, Vec<(&BuildPass, &str)>> = BTreeMap::new();
    for (pass, from) in passes {
        for file in &pass.dockerfiles {
            per_file.entry(file).or_default().push((pass, from));
        }
    }
    let mut out = BTreeMap::new();
    for (file, builds) in per_file {
        let mut sets = builds
            .iter()
            .map(|(p, _)| p.args.keys().cloned().collect::<BTreeSet<String>>());
        let Some(first) = sets.next() else {
            continue;
        };
        let always: BTreeSet<String> =
            sets.fold(first, |acc, s| acc.intersection(&s).cloned().collect());
        if always.is_empty() {
            continue;
        }
        let mut values: Vec<(BTreeMap<String, String>, String)> = Vec::new();
        for (pass, from) in &builds {
            let plain: BTreeMap<String, String> = always
                .iter()
                .filter_map(|k| Some((k.clone(), pass.args.get(k)?.clone()?)))
                .collect();
            if plain.is_empty() || values.iter().any(|(v, _)| *v == plain) {
                continue;
            }
            if values.len() < MAX_VARIANTS {
                values.push((plain, from.to_string()));
            }
        }
        out.insert(file.to_path_buf(), Agreed { always, values });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn commands_are_read() {
        let c = command(&words(
            "--pull -t app:1 --build-arg TAG=latest --build-arg=BASE=${B} -f docker/Dockerfile . && echo",
        ));
        assert_eq!(c.file.as_deref(), Some("docker/Dockerfile"));
        assert_eq!(c.context.as_deref(), Some("."));
        assert_eq!(c.args["TAG"].as_deref(), Some("latest"));
        assert_eq!(c.args["BASE"], None);
        assert!(!c.unknown);
        let c = command(&words(". -t app"));
        assert_eq!(c.context.as_deref(), Some("."));
        assert!(command(&words("$(BUILD_ARGS) .")).unknown);
        assert!(command(&words("\"$@\" .")).unknown);
        assert!(command(&words("--build-arg-file args.conf .")).unknown);
    }

    fn pass(files: &[&str], names: &[&str], args: &[(&str, Option<&str>)]) -> BuildPass {
        BuildPass {
            dockerfiles: files.iter().map(PathBuf::from).collect(),
            at_root: Vec::new(),
            names: names.iter().map(|s| s.to_string()).collect(),
            args: args
                .iter()
                .map(|(k, v)| (k.to_string(), v.map(String::from)))
                .collect(),
        }
    }

    #[test]
    fn every_build_must_pass() {
        let make = pass(
            &["/r/Dockerfile"],
            &[],
            &[("TAG", None), ("BASE", Some("x"))],
        );
        let ci = pass(&["/r/Dockerfile"], &[], &[("TAG", Some("latest"))]);
        let agreed = agree(&[
            (make.clone(), "Makefile".into()),
            (ci.clone(), "ci.yml".into()),
        ]);
        let a = &agreed[Path::new("/r/Dockerfile")];
        assert_eq!(a.always.iter().collect::<Vec<_>>(), ["TAG"]);
        // Only the plain value is judged, with the build that passes it.
        assert_eq!(a.values.len(), 1);
        assert_eq!(a.values[0].0["TAG"], "latest");
        assert_eq!(a.values[0].1, "ci.yml");
        // A build without the argument vetoes it.
        let bare = pass(&["/r/Dockerfile"], &[], &[]);
        assert!(agree(&[(make.clone(), "Makefile".into()), (bare, "x.sh".into())]).is_empty());
        // A build refit cannot place is not counted.
        let unplaced = pass(&[], &["dockerfile"], &[]);
        assert_eq!(
            agree(&[(make, "Makefile".into()), (unplaced, "x.sh".into())]).len(),
            1
        );
    }
}
