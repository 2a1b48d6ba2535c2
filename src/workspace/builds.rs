//! What a repository builds and passes: Compose `build:`, bake targets,
//! `docker build -t` and friends in scripts, placeholders that scripts
//! substitute, skaffold artifacts.

use super::*;

/// An image name without tag or digest.
pub(super) fn strip_tag(reference: &str) -> String {
    let name = reference.split('@').next().unwrap_or(reference);
    match name.rfind(':') {
        Some(colon) if !name[colon..].contains('/') => name[..colon].to_string(),
        _ => name.to_string(),
    }
}

pub(super) fn local_name(ctx: &mut RepoContext, reference: &str) {
    let reference = reference.trim();
    // Interpolated names are not known.
    if reference.is_empty() || reference.contains('$') || reference.contains(char::is_whitespace) {
        return;
    }
    ctx.local_images.insert(strip_tag(reference));
}

/// The build arguments one build passes to its Dockerfile, the same for
/// every kind of build (Compose, dev containers, bake, Skaffold): `file`
/// is the Dockerfile's canonical path, `None` when refit cannot place it
/// (then the names count for any Dockerfile). A value `known` refuses (an
/// interpolation the tool does) is set, but not known.
fn pass_build_args(
    ctx: &mut RepoContext,
    args: &mut BTreeMap<PathBuf, Vec<BTreeMap<String, String>>>,
    file: Option<PathBuf>,
    pairs: Vec<(String, Option<String>)>,
    known: impl Fn(&str) -> bool,
    what: &str,
    none_passed: bool,
) {
    // The build, for the agreement over every build of its Dockerfile
    // (`passes::agree`): a name without a value (Compose `args: [NAME]`,
    // `NAME:` with nothing) is taken from the environment, which refit
    // does not see, so it is not known to be passed.
    if ctx.build_passes.len() < super::passes::MAX_PASSES {
        let name = file.as_ref().map_or("*".to_string(), |f| {
            f.file_name()
                .map(|n| n.to_string_lossy().to_ascii_lowercase())
                .unwrap_or_else(|| "*".to_string())
        });
        ctx.build_passes.push(super::passes::BuildPass {
            dockerfiles: file.iter().cloned().collect(),
            at_root: Vec::new(),
            names: vec![name],
            args: pairs
                .iter()
                .filter_map(|(k, v)| match v.as_deref() {
                    Some(v) => Some((
                        k.clone(),
                        known(v).then(|| super::passes::plain(v)).flatten(),
                    )),
                    None => none_passed.then(|| (k.clone(), None)),
                })
                .collect(),
        });
    }
    let built = file.as_ref().map_or("*".to_string(), |f| {
        f.file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_else(|| "*".to_string())
    });
    // Compose, bake, dev containers and Skaffold build with BuildKit.
    ctx.buildkit_names.insert(built.clone());
    ctx.built_names.insert(built);
    let Some(file) = file else {
        for (name, _) in &pairs {
            build_arg_name(ctx, name, what);
        }
        return;
    };
    if !pairs.is_empty() {
        let names = ctx.dockerfile_arg_names.entry(file.clone()).or_default();
        names.extend(pairs.iter().map(|(k, _)| k.clone()));
    }
    let map = pairs
        .into_iter()
        .filter_map(|(k, v)| Some((k, v.filter(|v| known(v))?)))
        .collect();
    args.entry(file).or_default().push(map);
}

/// A Compose project name as Compose normalizes it: lower case, only
/// letters, digits, `-` and `_`, starting with a letter or digit.
fn project_name(name: &str) -> String {
    let lower: String = name
        .to_ascii_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    lower
        .trim_start_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string()
}

/// `KEY: value` or `- KEY=value` pairs of a Compose map or list.
pub(super) fn pairs(
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

pub(super) fn compose(
    path: &Path,
    text: &str,
    ctx: &mut RepoContext,
    args: &mut BTreeMap<PathBuf, Vec<BTreeMap<String, String>>>,
) {
    // Everything read here hangs under a service's `build:` key (an
    // anchor or merge key repeats text of the same file): a file that never
    // says `build` is not parsed.
    if !text.contains("build") {
        return;
    }
    let Ok(docs) = crate::sources::yaml::parse(text) else {
        return;
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    for doc in &docs {
        let root = doc.resolve(&doc.root);
        let Some(services) = doc.get(root, "services") else {
            continue;
        };
        // Compose names a built image without `image:` after the project
        // and the service (`docker-elk-kibana`): the top-level `name:`, else
        // the folder, lower-cased, with what a project name cannot hold
        // left out (`-p` and `COMPOSE_PROJECT_NAME` may differ: not seen).
        let project = doc
            .get_scalar(root, "name")
            .map(|n| n.value.clone())
            .filter(|n| !n.contains('$'))
            .or_else(|| {
                let folder = match dir.file_name() {
                    Some(_) => dir.to_path_buf(),
                    None => std::fs::canonicalize(dir).ok()?,
                };
                Some(folder.file_name()?.to_string_lossy().to_string())
            })
            .map(|n| project_name(&n))
            .filter(|n| !n.is_empty());
        for (service, svc) in doc.entries(services) {
            let svc = doc.resolve(svc);
            let Some(build) = doc.get(svc, "build") else {
                continue;
            };
            if let Some(image) = doc.get_scalar(svc, "image") {
                local_name(ctx, &image.value);
            } else if let Some(project) = &project {
                local_name(ctx, &format!("{project}-{}", service.to_ascii_lowercase()));
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
            let build_args = doc
                .get(build, "args")
                .map(|a| pairs(doc, a))
                .unwrap_or_default();
            let file = (!(context.contains('$') || context.contains("://")))
                .then(|| {
                    dir.join(&context)
                        .join(dockerfile.as_deref().unwrap_or("Dockerfile"))
                })
                .and_then(|f| crate::realpath::canonical(&f).ok());
            // A Dockerfile refit cannot place (a context relative to an
            // including file, an interpolated path) gets `None`; a value
            // with interpolation is not known here.
            pass_build_args(
                ctx,
                args,
                file,
                build_args,
                |v| !v.contains('$'),
                "Compose `build.args`",
                false,
            );
        }
    }
}

/// A `devcontainer.json`'s `build`: `build.args` go to the Dockerfile
/// `build.dockerfile` names (relative to the `devcontainer.json`, as the
/// Dev Container tools read it), as Compose `build.args` do.
pub(super) fn devcontainer(
    path: &Path,
    text: &str,
    ctx: &mut RepoContext,
    args: &mut BTreeMap<PathBuf, Vec<BTreeMap<String, String>>>,
) {
    let Some(build) = crate::sources::devcontainer::build(text) else {
        return;
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let file = (!build.dockerfile.contains("${"))
        .then(|| dir.join(&build.dockerfile))
        .and_then(|f| crate::realpath::canonical(&f).ok());
    // `${localEnv:…}` is substituted by the tools: not known here.
    let pairs = build.args.into_iter().map(|(k, v)| (k, Some(v))).collect();
    pass_build_args(
        ctx,
        args,
        file,
        pairs,
        |v| !v.contains("${"),
        "dev container `build.args`",
        false,
    );
}

/// A bake file (`docker-bake.hcl`, `docker-bake.json`), read by its
/// front-end's evaluation ([`crate::sources::bake::facts`]): `tags` are
/// images the repository builds, `contexts` names it passes, and each
/// target's `args` go to the Dockerfile its `context` and `dockerfile`
/// name (the context relative to the bake file's folder, where `docker
/// buildx bake` runs by default), as Compose `build.args` do.
pub(super) fn bake(
    path: &Path,
    text: &str,
    ctx: &mut RepoContext,
    args: &mut BTreeMap<PathBuf, Vec<BTreeMap<String, String>>>,
) {
    let Some(facts) = crate::sources::bake::facts(text) else {
        return;
    };
    for tag in &facts.tags {
        local_name(ctx, tag);
    }
    for name in facts.contexts {
        if !name.is_empty() {
            ctx.named_contexts.insert(name);
        }
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    for build in facts.builds {
        // The plain values bake passes, for the inventory's images.
        for (name, value) in &build.args {
            if let Some(value) = value {
                build_arg_value(ctx, name, value);
            }
        }
        if build.args_unknown {
            ctx.build_args_unknown.get_or_insert_with(|| {
                format!(
                    "bake target `{}` sets `args` refit cannot evaluate",
                    build.target
                )
            });
        }
        let file = build
            .context
            .zip(build.dockerfile)
            .and_then(|(c, d)| crate::realpath::canonical(&dir.join(c).join(d)).ok());
        let pairs = build.args.into_iter().collect();
        // A value refit cannot evaluate is still passed; `args` it cannot
        // list make the target's arguments unknown (counted for neither
        // side of the agreement).
        let before = ctx.build_passes.len();
        pass_build_args(
            ctx,
            args,
            file,
            pairs,
            |_| true,
            "a bake target's `args`",
            true,
        );
        if build.args_unknown {
            ctx.build_passes.truncate(before);
        }
    }
}

/// A word's command name: quotes and the folder dropped (`/usr/bin/podman`).
pub(super) fn tool_base(word: &str) -> &str {
    let word = word.trim_matches(|c| c == '"' || c == '\'');
    word.rsplit('/').next().unwrap_or(word)
}

/// The variable a word expands: `$(ENGINE)`, `${ENGINE}`, `$ENGINE`.
pub(super) fn variable_of(word: &str) -> Option<&str> {
    let word = word.trim_matches(|c| c == '"' || c == '\'');
    word.strip_prefix("$(")
        .and_then(|w| w.strip_suffix(')'))
        .or_else(|| word.strip_prefix("${").and_then(|w| w.strip_suffix('}')))
        .or_else(|| word.strip_prefix('$'))
        .filter(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

/// `NAME ?= podman`, `NAME := docker`, `export NAME=podman`,
/// `NAME="${NAME:-podman}"`, `NAME: podman` (a CI `env:` entry): the
/// variable and the command name its value starts with.
pub(super) fn assigned_command(line: &str) -> Option<(&str, &str)> {
    let line = line.trim();
    let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
    let at = line.find(['=', ':'])?;
    let name = line[..at].trim_end_matches(['?', ':', '+', ' ', '\t']);
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let value = line[at + 1..].trim_start_matches(['=', ' ', '\t']);
    let value = value.trim_matches(|c| c == '"' || c == '\'');
    // `${NAME:-podman}`: the default when nothing else sets it.
    let value = match value.strip_prefix("${") {
        Some(rest) => rest.split_once(":-").map_or(rest, |(_, d)| d),
        None => value,
    };
    let first = value
        .split(|c: char| c.is_whitespace() || c == '}')
        .next()?;
    Some((name, tool_base(first)))
}

/// The values a Makefile assigns (`IMG ?= collector:v0.1.0`, `IMG :=
/// …`, `IMG = …`): the first assignment of each name, one word, at most
/// [`MAX_ASSIGNED`] names. `?=` is the value `make` uses when nothing
/// else sets it, which is how the repository's own targets run. Shell
/// assignments (`IMG=…`, no blank around `=`) are not read: a script's
/// variable may change in a loop (`for V in …; do docker build -t x:$V`).
pub(super) fn assigned_values(lines: &[String]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in lines {
        if out.len() >= MAX_ASSIGNED {
            break;
        }
        let line = line.trim();
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let (name, value) = if let Some((n, v)) = line.split_once("?=") {
            (n, v)
        } else if let Some((n, v)) = line.split_once("::=") {
            (n, v)
        } else if let Some((n, v)) = line.split_once(":=") {
            (n, v)
        } else if let Some((n, v)) = line.split_once(" = ") {
            (n, v)
        } else {
            continue;
        };
        let name = name.trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let value = value.trim();
        if value.is_empty() || value.contains(char::is_whitespace) || value.len() > 256 {
            continue;
        }
        out.entry(name.to_string())
            .or_insert_with(|| value.to_string());
    }
    out
}

/// The most names [`assigned_values`] keeps from one file.
const MAX_ASSIGNED: usize = 256;

/// Make's `$(NAME)` replaced by its value from [`assigned_values`], once
/// (a value's own variables stay, and the caller sees the `$`). Other
/// forms (`${NAME}`, `$NAME`) are left: they may be a script's.
pub(super) fn expand_once(text: &str, values: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("$(") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        // A name, then `)`: read once, never searched for (linear).
        let end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        match values.get(&after[..end]) {
            Some(v) if after[end..].starts_with(')') => {
                out.push_str(v);
                rest = &after[end + 1..];
            }
            _ => {
                out.push_str("$(");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The most variables a file may name as a build tool.
const MAX_TOOL_VARIABLES: usize = 64;

/// The build tools a script runs images with.
pub(super) const BUILD_TOOLS: &[&str] =
    &["docker", "podman", "buildah", "nerdctl", "podman-remote"];

/// The variables a file sets to one of `tools` (`ENGINE ?= podman`),
/// bounded.
pub(super) fn tool_variables(lines: &[String], tools: &[&str]) -> BTreeSet<String> {
    tool_variables_of(lines, &[tools]).pop().unwrap_or_default()
}

/// [`tool_variables`] for each of `tool_sets`, reading each line once
/// (YAML's every `key: value` line looks like an assignment); each set is
/// bounded on its own, as a call of its own would be.
pub(super) fn tool_variables_of(lines: &[String], tool_sets: &[&[&str]]) -> Vec<BTreeSet<String>> {
    let mut sets: Vec<BTreeSet<String>> = vec![BTreeSet::new(); tool_sets.len()];
    for line in lines {
        if sets.iter().all(|v| v.len() >= MAX_TOOL_VARIABLES) {
            break;
        }
        let Some((name, tool)) = assigned_command(line) else {
            continue;
        };
        for (variables, tools) in sets.iter_mut().zip(tool_sets) {
            if variables.len() < MAX_TOOL_VARIABLES && tools.contains(&tool) {
                variables.insert(name.to_string());
            }
        }
    }
    sets
}

/// The flags of the command whose subcommand is `words[at]`, up to a
/// shell separator: `-t NAME` and `--tag=NAME` both as `("-t", NAME)`;
/// quotes dropped. A flag's value is the next word when not joined by
/// `=`.
pub(super) fn command_flags(words: &[String], at: usize) -> Vec<(String, Option<String>)> {
    let unquote = |w: &str| w.trim_matches(|c| c == '"' || c == '\'').to_string();
    let mut out = Vec::new();
    let mut i = at + 1;
    while let Some(word) = words.get(i) {
        // A shell separator ends the command; so does the next build
        // subcommand, which keeps a line of many commands linear (each word
        // is read for one command only).
        if matches!(
            word.as_str(),
            "&&" | "||" | ";" | "|" | "build" | "bud" | "compose"
        ) {
            break;
        }
        let w = unquote(word.trim_end_matches(';'));
        match w.split_once('=') {
            Some((f, v)) if f.starts_with('-') => out.push((f.to_string(), Some(v.to_string()))),
            _ => out.push((w.clone(), words.get(i + 1).map(|v| unquote(v)))),
        }
        if word.ends_with(';') {
            break;
        }
        i += 1;
    }
    out
}

pub(super) fn is_build_tool(word: &str, variables: &BTreeSet<String>) -> bool {
    if BUILD_TOOLS.contains(&tool_base(word)) {
        return true;
    }
    // A variable the file sets to a build tool, or one named like one
    // (`$(CONTAINER_TOOL)`, `${DOCKER}`, set in an included Makefile).
    variable_of(word).is_some_and(|v| {
        variables.contains(v)
            || ["DOCKER", "PODMAN", "ENGINE", "CONTAINER"]
                .iter()
                .any(|k| v.to_ascii_uppercase().contains(k))
    })
}

/// `docker build -t NAME`, `docker buildx build --tag=NAME`,
/// `podman build -t NAME`, `$(CONTAINER_TOOL) build -t NAME`,
/// `--build-context NAME=…`; commands continued over `\` lines, and any
/// number per line (`npm run build && podman build -t NAME .`).
///
/// Returns each build command's words after `build` (to the end of its
/// line), for [`super::passes::place_command`].
pub(super) fn build_commands(text: &str, ctx: &mut RepoContext) -> Vec<Vec<String>> {
    let mut commands = Vec::new();
    // Most files run no build: only a file that says `build` or `bud`,
    // and names a build tool or a variable that can hold one (what
    // `is_build_tool` accepts), is split into lines.
    static TOOL_WORDS: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new("(?i)docker|podman|buildah|nerdctl|engine|container").ok()
    });
    if !(text.contains("build") || text.contains("bud")) {
        return commands;
    }
    build_action_files(text, ctx);
    // `--build-arg` words count wherever they are written (`build_arg_words`).
    if !text.contains("--build-arg")
        && TOOL_WORDS
            .as_ref()
            .is_some_and(|words| !words.is_match(text))
    {
        return commands;
    }
    let lines = logical_lines(text);
    build_arg_words(&lines, ctx);
    let mut sets =
        tool_variables_of(&lines, &[BUILD_TOOLS, super::containers::CONTAINERS_TOOLS]).into_iter();
    let variables = sets.next().unwrap_or_default();
    let containers = sets.next().unwrap_or_default();
    // The file's own plain assignments, for `-t $(IMG)`: read once, when
    // a tag needs them.
    let mut values: Option<BTreeMap<String, String>> = None;
    for line in &lines {
        // Most lines run no build: split only those that may.
        if line.trim_start().starts_with('#') || !(line.contains("build") || line.contains("bud")) {
            continue;
        }
        let words = shell_words(line);
        for at in 0..words.len() {
            if !matches!(words[at].as_str(), "build" | "bud") {
                continue;
            }
            let tool = words[..at]
                .iter()
                .rev()
                .find(|w| !matches!(w.as_str(), "buildx" | "image"));
            if !tool.is_some_and(|t| is_build_tool(t, &variables)) {
                continue;
            }
            if commands.len() < super::passes::MAX_PASSES {
                commands.push(words[at + 1..].to_vec());
            }
            let flags = command_flags(&words, at);
            let file = flags
                .iter()
                .find(|(f, _)| matches!(f.as_str(), "-f" | "--file"))
                .and_then(|(_, v)| v.as_deref());
            let names: Vec<String> = match file {
                // `-f -` (stdin) or a variable: any Dockerfile.
                Some(f) if f == "-" || f.contains('$') => vec!["*".to_string()],
                Some(f) => {
                    let name = f.rsplit(['/', '\\']).next().unwrap_or(f);
                    vec![name.to_ascii_lowercase()]
                }
                None => vec!["dockerfile".to_string(), "containerfile".to_string()],
            };
            // Docker, nerdctl, or a variable that may hold either: BuildKit.
            if tool.is_some_and(|t| !super::containers::names_containers_tool(t, &containers)) {
                ctx.buildkit_names.extend(names.iter().cloned());
            }
            ctx.built_names.extend(names);
            for (flag, value) in flags {
                match (flag.as_str(), value) {
                    ("-t" | "--tag", Some(v)) if v.contains('$') => {
                        let values = values.get_or_insert_with(|| assigned_values(&lines));
                        local_name(ctx, &expand_once(&v, values));
                    }
                    ("-t" | "--tag", Some(v)) => local_name(ctx, &v),
                    ("--build-arg", Some(v)) => {
                        let name = v.split_once('=').map_or(v.as_str(), |(n, _)| n);
                        build_arg_name(ctx, name, "a `--build-arg` of a build command");
                        if let Some((name, value)) = v.split_once('=') {
                            build_arg_value(ctx, name, value);
                        }
                    }
                    (w, _) if passes_unknown_flags(w) => {
                        ctx.build_args_unknown.get_or_insert_with(|| {
                            format!("a build command passes `{w}`, flags refit cannot read")
                        });
                    }
                    ("--build-context", Some(v)) => {
                        if let Some((name, _)) = v.split_once('=') {
                            ctx.named_contexts.insert(name.to_string());
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    commands
}

/// The Dockerfiles docker/build-push-action steps build: each `file:`
/// value's name (`*` for an expression), `dockerfile` when no step of
/// the file names one (the action's default, `{context}/Dockerfile`).
fn build_action_files(text: &str, ctx: &mut RepoContext) {
    if !text.contains("build-push-action") {
        return;
    }
    let mut named = false;
    for line in text.lines() {
        let Some(value) = line.trim_start().strip_prefix("file:") else {
            continue;
        };
        let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
        if value.is_empty() {
            continue;
        }
        named = true;
        let name = if value.contains("${{") {
            "*"
        } else {
            value.rsplit(['/', '\\']).next().unwrap_or(value)
        };
        ctx.built_names.insert(name.to_ascii_lowercase());
        ctx.buildkit_names.insert(name.to_ascii_lowercase());
    }
    if !named {
        ctx.built_names.insert("dockerfile".to_string());
        ctx.buildkit_names.insert("dockerfile".to_string());
    }
}

/// `--build-arg NAME=…` written anywhere in a file that runs commands,
/// not only on a build command's line: scripts and justfiles collect the
/// flags in a variable or an array first
/// (`BUILD_ARGS+=("--build-arg" "BASE_IMAGE_SHA=${sha}")`, then
/// `podman build "${BUILD_ARGS[@]}"`). The word has no other use than to
/// reach a build, so the name counts as set. Only literal names are read.
fn build_arg_words(lines: &[String], ctx: &mut RepoContext) {
    for line in lines {
        if line.trim_start().starts_with('#') {
            continue;
        }
        let mut rest = line.as_str();
        while let Some(at) = rest.find("--build-arg") {
            rest = &rest[at + "--build-arg".len()..];
            // `--build-arg=NAME`, `--build-arg NAME`, `"--build-arg" "NAME=…"`.
            let after = rest.trim_start_matches(['=', ' ', '\t', '"', '\'']);
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let next = after.get(name.len()..).and_then(|t| t.chars().next());
            if !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && matches!(next, None | Some('=' | '"' | '\'' | ' ' | '\t' | ')'))
            {
                ctx.build_arg_names.insert(name);
            }
        }
    }
}

/// A build argument's name that a build invocation sets; a name refit
/// cannot read (`--build-arg "$@"`, `--build-arg $ARG`) means any argument
/// may be set.
pub(super) fn build_arg_name(ctx: &mut RepoContext, name: &str, what: &str) {
    let name = name.trim();
    if name.is_empty() {
        return;
    }
    if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        ctx.build_arg_names.insert(name.to_string());
    } else {
        ctx.build_args_unknown
            .get_or_insert_with(|| format!("{what} names `{name}`, which refit cannot follow"));
    }
}

/// The most values kept for one build argument name: past it, more
/// values of one name say nothing an inventory can use.
pub(super) const MAX_ARG_VALUES: usize = 16;

/// A build argument's value that a build invocation sets (`--build-arg
/// NAME=VALUE`, bake `args`, CI `build-args`), when it is plain text: a
/// value with a variable or an expression is not known.
pub(super) fn build_arg_value(ctx: &mut RepoContext, name: &str, value: &str) {
    let name = name.trim();
    let value = value.trim();
    if name.is_empty()
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        || value.is_empty()
        || value.contains(['$', '{', '}', '`', '(', ' '])
    {
        return;
    }
    let values = ctx.build_arg_values.entry(name.to_string()).or_default();
    if values.len() < MAX_ARG_VALUES {
        values.insert(value.to_string());
    }
}

/// A word that expands to flags refit cannot read: the script's own
/// arguments (`"$@"`, `$*`) or a variable named for build arguments
/// (`$(BUILD_ARGS)`, `${DOCKER_BUILD_ARGS}`).
fn passes_unknown_flags(word: &str) -> bool {
    let word = word.trim_matches(|c| c == '"' || c == '\'');
    // `"$@"`, or Podman's and Buildah's `--build-arg-file FILE` (any
    // argument, from a file refit does not read).
    if matches!(word, "$@" | "$*" | "${@}" | "${*}" | "--build-arg-file") {
        return true;
    }
    variable_of(word).is_some_and(|v| v.to_ascii_uppercase().contains("ARG"))
}

/// GitHub Actions `build-args:` (docker/build-push-action): `NAME=value`
/// lines of a block scalar; a whole value that is an expression
/// (`${{ steps.meta.outputs.args }}`) may set any argument.
pub(super) fn ci_build_args(text: &str, ctx: &mut RepoContext) {
    if !text.contains("build-args:") {
        return;
    }
    let mut inside: Option<usize> = None;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim();
        if let Some(key_indent) = inside {
            if trimmed.is_empty() {
                continue;
            }
            if indent > key_indent {
                let entry = trimmed.trim_start_matches("- ");
                let name = entry.split_once('=').map_or(entry, |(n, _)| n);
                build_arg_name(ctx, name, "a CI step's `build-args`");
                if let Some((name, value)) = entry.split_once('=') {
                    build_arg_value(ctx, name, value.trim_matches(|c| c == '"' || c == '\''));
                }
                continue;
            }
            inside = None;
        }
        let Some(value) = trimmed.trim_start_matches("- ").strip_prefix("build-args:") else {
            continue;
        };
        let value = value.trim();
        if value.is_empty() || value.starts_with('|') || value.starts_with('>') {
            inside = Some(indent);
        } else {
            let value = value.trim_matches(|c| c == '"' || c == '\'');
            match value.split_once('=') {
                Some((name, v)) => {
                    build_arg_name(ctx, name, "a CI step's `build-args`");
                    build_arg_value(ctx, name, v);
                }
                None => build_arg_name(ctx, value, "a CI step's `build-args`"),
            }
        }
    }
}

pub(super) use crate::shell::{logical_lines, shell_words};

/// `kustomize edit set image NAME=NEW…`: `NAME` in the manifests is a
/// placeholder the command replaces (through the `images:` entry it writes).
/// Whether a command word runs kustomize: `kustomize`, a path to it
/// (`bin/kustomize`, `./hack/tools/kustomize`), or a variable that holds it
/// as Makefiles and scripts write it (`$(KUSTOMIZE)`, `${KUSTOMIZE}`,
/// `$KUSTOMIZE_BIN`; kubebuilder's scaffold runs `$(KUSTOMIZE) edit set
/// image controller=${IMG}`).
fn is_kustomize(word: &str) -> bool {
    let word = word.trim_matches(|c| c == '"' || c == '\'');
    let name = word.rsplit('/').next().unwrap_or(word);
    if name.ends_with("kustomize") {
        return true;
    }
    let variable = name
        .strip_prefix("$(")
        .and_then(|v| v.strip_suffix(')'))
        .or_else(|| name.strip_prefix("${").and_then(|v| v.strip_suffix('}')))
        .or_else(|| name.strip_prefix('$'));
    variable.is_some_and(|v| {
        let v = v.to_ascii_lowercase();
        v == "kustomize" || v.starts_with("kustomize_") || v.ends_with("_kustomize")
    })
}

pub(super) fn kustomize_set_image(text: &str, ctx: &mut RepoContext) {
    if !text.contains("set image") {
        return;
    }
    for line in logical_lines(text) {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(at) = words
            .windows(4)
            .position(|w| is_kustomize(w[0]) && w[1..] == ["edit", "set", "image"])
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
                if !name.contains('$') && ctx.set_image_names.len() < 256 {
                    ctx.set_image_names.insert(name.to_string());
                }
            }
        }
    }
}

/// A script that rewrites `FROM NAME` with a computed value before the
/// build (`sed`, PowerShell `-replace`): `NAME` is a placeholder.
pub(super) fn from_substitutions(text: &str, ctx: &mut RepoContext) {
    // Most files rewrite no `FROM`: only one that says it is read by line.
    if !text.contains("FROM ") {
        return;
    }
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
/// A Skaffold configuration: each artifact's `image` is built here (a
/// local name), and a Docker or kaniko artifact's `buildArgs` go to the
/// Dockerfile its `context` and `dockerfile` name (relative to the
/// `skaffold.yaml`; Docker is the builder when none is named), as
/// Compose `build.args` do. A templated value (`{{.TAG}}`) is set, its
/// value unknown.
pub(super) fn skaffold(
    path: &Path,
    text: &str,
    ctx: &mut RepoContext,
    args: &mut BTreeMap<PathBuf, Vec<BTreeMap<String, String>>>,
) {
    use crate::sources::yaml::{Document, Node};
    const OTHER_BUILDERS: &[&str] = &["jib", "bazel", "ko", "buildpacks", "custom"];
    type Args = BTreeMap<PathBuf, Vec<BTreeMap<String, String>>>;
    fn artifacts(doc: &Document, node: &Node, dir: &Path, ctx: &mut RepoContext, args: &mut Args) {
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
            if OTHER_BUILDERS.iter().any(|b| doc.get(item, b).is_some()) {
                continue;
            }
            let builder = doc.get(item, "docker").or_else(|| doc.get(item, "kaniko"));
            let context = doc
                .get_scalar(item, "context")
                .map_or_else(|| ".".to_string(), |s| s.value.clone());
            let dockerfile = builder
                .and_then(|b| doc.get_scalar(b, "dockerfile"))
                .map_or_else(|| "Dockerfile".to_string(), |s| s.value.clone());
            let pairs_of = builder
                .and_then(|b| doc.get(b, "buildArgs"))
                .map(|a| pairs(doc, a))
                .unwrap_or_default();
            let file = (!context.contains("{{") && !dockerfile.contains("{{"))
                .then(|| dir.join(&context).join(&dockerfile))
                .and_then(|f| crate::realpath::canonical(&f).ok());
            // A templated value (`{{.TAG}}`) is set but not known.
            pass_build_args(
                ctx,
                args,
                file,
                pairs_of,
                |v| !v.contains("{{"),
                "a Skaffold artifact's `buildArgs`",
                false,
            );
        }
    }
    let Ok(docs) = crate::sources::yaml::parse(text) else {
        return;
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    for doc in &docs {
        let root = doc.resolve(&doc.root);
        let is_skaffold = doc
            .get_scalar(root, "apiVersion")
            .is_some_and(|a| a.value.starts_with("skaffold/"));
        if !is_skaffold {
            continue;
        }
        artifacts(doc, root, dir, ctx, args);
        if let Some(profiles) = doc.get(root, "profiles") {
            for profile in doc.items(profiles) {
                artifacts(doc, doc.resolve(profile), dir, ctx, args);
            }
        }
    }
}

/// A Tiltfile's image builds: `docker_build('ref', …)`,
/// `docker_build(ref = "ref", …)`, `custom_build(…)` and
/// `docker_build_with_restart(…)`. Tilt builds these and puts its own
/// build in place of every image of that name in what it deploys, so the
/// name is a build output. Only a string literal is read
/// (`ref = provider.get("image")` is not known).
pub(super) fn tilt(text: &str, ctx: &mut RepoContext) {
    const CALLS: [&str; 3] = [
        "docker_build(",
        "custom_build(",
        "docker_build_with_restart(",
    ];
    let starts = CALLS
        .iter()
        .flat_map(|call| text.match_indices(call).map(|(i, _)| i));
    for line_start in starts {
        // A call, not `additional_docker_build(` or a method: the name
        // starts a word.
        let before = text[..line_start].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
            continue;
        }
        let Some(open) = text[line_start..].find('(').map(|o| line_start + o + 1) else {
            continue;
        };
        // The arguments up to the first `)`, looked for in 4 KiB at most
        // (the ref comes first or as `ref =`, near the start): each call
        // costs a bounded scan, however many calls and however long the
        // file.
        let window = &text.as_bytes()[open..text.len().min(open + 4096)];
        let end = open
            + window
                .iter()
                .position(|b| *b == b')')
                .unwrap_or(window.len());
        let Some(args) = text.get(open..end) else {
            continue;
        };
        let first = args.trim_start();
        let literal = |s: &str| -> Option<String> {
            let q = s.chars().next().filter(|c| *c == '"' || *c == '\'')?;
            let rest = &s[1..];
            let close = rest.find(q)?;
            Some(rest[..close].to_string())
        };
        let reference = literal(first).or_else(|| {
            let at = args.find("ref")?;
            let after = args[at + 3..].trim_start().strip_prefix('=')?.trim_start();
            (args[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_')))
            .then(|| literal(after))
            .flatten()
        });
        if let Some(reference) = reference {
            local_name(ctx, &reference);
        }
    }
}

#[cfg(test)]
mod expand_tests {
    use super::*;

    #[test]
    fn tags_from_the_files_own_assignments() {
        let lines: Vec<String> = [
            "ENGINE ?= docker",
            "IMG ?= collector:v0.1.0",
            "IMG := other:1",
            "HUB := quay.io/acme",
            "NAME=api",
            "ARGS += --pull",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let values = assigned_values(&lines);
        assert_eq!(
            values.get("IMG").map(String::as_str),
            Some("collector:v0.1.0")
        );
        // A shell assignment is not read; `+=` appends.
        assert!(!values.contains_key("NAME"));
        assert!(!values.contains_key("ARGS"));
        assert_eq!(expand_once("$(IMG)", &values), "collector:v0.1.0");
        assert_eq!(
            expand_once("$(HUB)/api:dev", &values),
            "quay.io/acme/api:dev"
        );
        assert_eq!(expand_once("${HUB}/$NAME", &values), "${HUB}/$NAME");
        assert_eq!(expand_once("$(UNSET)/x", &values), "$(UNSET)/x");
        assert_eq!(expand_once("a$(", &values), "a$(");
    }
}
