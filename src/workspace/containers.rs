//! Which files the containers tools (Podman, Buildah) build or run: a
//! `Containerfile`, a file a script, Makefile or CI file passes to
//! `podman build` / `buildah bud`, the GitHub Action
//! `redhat-actions/buildah-build`, and Compose files `podman-compose` or
//! `podman compose` run, and Kubernetes manifests of a repository that
//! deploys to OpenShift (CRI-O). Those tools resolve a short name (`node:20`)
//! through the build machine's `registries.conf`, which Docker never reads.

use super::*;

/// The key for "any Dockerfile": a build whose file is computed.
pub(super) const ANY_DOCKERFILE: &str = "*";
/// The key for "any Compose file": `podman-compose` without `-f`.
pub(super) const ANY_COMPOSE: &str = "*compose";

/// The containers tools, which resolve short names through
/// `registries.conf`.
pub(super) const CONTAINERS_TOOLS: &[&str] = &["podman", "buildah", "podman-remote"];

/// Whether a build command's tool word is Podman or Buildah: by name, a
/// variable the file sets to one, or a variable named for one
/// (`$(PODMAN)`).
pub(super) fn names_containers_tool(word: &str, variables: &BTreeSet<String>) -> bool {
    names_tool(word, variables)
        || variable_of(word).is_some_and(|v| {
            let v = v.to_ascii_uppercase();
            v.contains("PODMAN") || v.contains("BUILDAH")
        })
}

fn is_containers_tool(word: &str) -> bool {
    CONTAINERS_TOOLS.contains(&tool_base(word))
}

/// Whether a word names a containers tool, directly or through a variable
/// the same file sets to one (`$(ENGINE)`, `${ENGINE}`, `$ENGINE`).
fn names_tool(word: &str, variables: &BTreeSet<String>) -> bool {
    is_containers_tool(word) || variable_of(word).is_some_and(|v| variables.contains(v))
}

/// The lower-case file name a `-f` value names, or "any" when the value is
/// computed.
fn file_key(value: &str) -> String {
    let value = value.trim_matches(|c| c == '"' || c == '\'');
    // `images/${{ matrix.release }}/Containerfile` still names the file.
    let name = value.rsplit(['/', '\\']).next().unwrap_or(value);
    if name.is_empty() || name.contains(['$', '}', '*']) || name == "-" {
        return ANY_DOCKERFILE.to_string();
    }
    name.to_ascii_lowercase()
}

/// The Compose files `podman-compose` reads by default in its working
/// directory.
const DEFAULT_COMPOSE: &[&str] = &[
    "compose.yaml",
    "compose.yml",
    "compose.override.yaml",
    "compose.override.yml",
    "podman-compose.yaml",
    "podman-compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
    "container-compose.yml",
    "container-compose.yaml",
    "container-compose.override.yml",
    "container-compose.override.yaml",
];

/// The key for "the default Compose file of `folder`" (canonical).
fn compose_in(folder: &Path) -> String {
    format!("{ANY_COMPOSE}:{}", folder.to_string_lossy())
}

/// Record what one script, Makefile or CI file builds with the containers
/// tools; `shown` names it in messages. `folder` is where its commands
/// run when that is known (a Makefile's or Justfile's own folder): a
/// `podman-compose` with no `-f` there reads only that folder's default
/// Compose file.
pub(super) fn containers_builds(
    shown: &str,
    text: &str,
    folder: Option<&Path>,
    ctx: &mut RepoContext,
) {
    if !(text.contains("podman") || text.contains("buildah")) {
        return;
    }
    let lines = logical_lines(text);
    let variables = tool_variables(&lines, CONTAINERS_TOOLS);
    let mark = |key: String, ctx: &mut RepoContext| {
        ctx.containers_files
            .entry(key)
            .or_insert_with(|| shown.to_string());
    };
    for line in &lines {
        if line.trim_start().starts_with('#')
            || !(line.contains("build") || line.contains("bud") || line.contains("compose"))
        {
            continue;
        }
        let words_owned = shell_words(line);
        let words: Vec<&str> = words_owned.iter().map(String::as_str).collect();
        let first_cd = words.iter().position(|w| *w == "cd" || *w == "pushd");
        for (at, word) in words.iter().enumerate() {
            let base = word.rsplit('/').next().unwrap_or(word);
            // `podman-compose` as a command, not an argument (`dnf install
            // podman-compose`, `command -v podman-compose`).
            let command_position = at == 0
                || words.get(at - 1).is_some_and(|w| {
                    matches!(
                        *w,
                        "&&" | "||" | ";" | "|" | "then" | "do" | "else" | "sudo" | "exec" | "time"
                    ) || w.ends_with([';', ':'])
                        || *w == "-"
                        || (w.contains('=') && !w.starts_with('-'))
                });
            let compose = (base == "podman-compose" && command_position)
                || (names_tool(word, &variables)
                    && words.get(at + 1).is_some_and(|w| *w == "compose"));
            let build = names_tool(word, &variables)
                && words.get(at + 1).is_some_and(|w| {
                    matches!(*w, "build" | "bud" | "build-using-dockerfile")
                        || (*w == "image" && words.get(at + 2).is_some_and(|w| *w == "build"))
                });
            if !(compose || build) {
                continue;
            }
            // The flags follow the subcommand (`podman image build`,
            // `podman compose`); `podman-compose` is its own.
            let sub = if base == "podman-compose" {
                at
            } else if words.get(at + 1) == Some(&"image") {
                at + 2
            } else {
                at + 1
            };
            let files: Vec<String> = command_flags(&words_owned, sub)
                .into_iter()
                .filter(|(flag, _)| matches!(flag.as_str(), "-f" | "--file"))
                .filter_map(|(_, value)| value.map(|v| file_key(&v)))
                .collect();
            if files.is_empty() {
                // A `cd` first: the folder is not known.
                let moved = first_cd.is_some_and(|cd| cd < at);
                if compose {
                    match folder.filter(|_| !moved) {
                        Some(folder) => mark(compose_in(folder), ctx),
                        None => mark(ANY_COMPOSE.to_string(), ctx),
                    }
                } else {
                    // `podman build DIR` reads `Containerfile`, else `Dockerfile`.
                    mark("containerfile".to_string(), ctx);
                    mark("dockerfile".to_string(), ctx);
                }
            }
            for key in files {
                mark(key, ctx);
            }
        }
    }
    // The GitHub Action: `containerfiles:` lists what it builds.
    if text.contains("redhat-actions/buildah-build") {
        let mut listing = false;
        for line in text.lines() {
            let trimmed = line.trim();
            if let Some(rest) = trimmed.strip_prefix("containerfiles:") {
                listing = true;
                let rest = rest.trim().trim_start_matches(['|', '>', '-']).trim();
                if !rest.is_empty() {
                    mark(file_key(rest), ctx);
                    listing = false;
                }
                continue;
            }
            if listing {
                let entry = trimmed.trim_start_matches("- ").trim();
                if entry.is_empty() || entry.ends_with(':') || entry.contains(": ") {
                    listing = false;
                } else {
                    mark(file_key(entry), ctx);
                }
            }
        }
    }
}

/// Whether a YAML file holds an OpenShift resource (`apiVersion:
/// route.openshift.io/v1`, `apps.openshift.io/v1`): OpenShift runs CRI-O,
/// which resolves short names through the node's `registries.conf`. Only a
/// document's own `apiVersion` (or a `List`'s items') says so; YAML text
/// inside a string (an Argo `resource.manifest`) is not a resource here.
pub(super) fn openshift_resource(text: &str) -> bool {
    if !text.contains("openshift.io/") {
        return false;
    }
    let openshift = |v: &str| v.contains("openshift.io/");
    match crate::sources::yaml::parse_shared(text) {
        Ok(docs) => docs.iter().any(|doc| {
            let own = |node| {
                doc.get_scalar(node, "apiVersion")
                    .is_some_and(|v| openshift(&v.value))
            };
            let root = doc.resolve(&doc.root);
            own(root)
                || doc
                    .get(root, "items")
                    .is_some_and(|items| doc.items(items).into_iter().any(own))
        }),
        // Not YAML (a template): a document's own key starts its line.
        Err(_) => text
            .lines()
            .any(|l| l.strip_prefix("apiVersion:").is_some_and(openshift)),
    }
}

impl RepoContext {
    /// The file that builds a Dockerfile (by its lower-case name) with
    /// Podman or Buildah, when every build of it refit sees does so: no
    /// build that BuildKit runs names it, or any Dockerfile.
    pub fn containers_only(&self, name: &str) -> Option<String> {
        if self.buildkit_names.contains(name) || self.buildkit_names.contains(ANY_DOCKERFILE) {
            return None;
        }
        self.containers_files.get(name).cloned()
    }

    /// The file that may build a Dockerfile (by its lower-case name) with
    /// Podman or Buildah, by name or as any Dockerfile.
    pub fn containers_builder(&self, name: &str) -> Option<String> {
        self.containers_files
            .get(name)
            .or_else(|| self.containers_files.get(ANY_DOCKERFILE))
            .cloned()
    }

    /// Why the containers tools, not Docker, read a file (canonical):
    /// `Some(why)`.
    pub fn containers_build(&self, file: &Path, kind: crate::kind::FileKind) -> Option<String> {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        match kind {
            crate::kind::FileKind::Dockerfile => {
                if name.starts_with("containerfile") || name.ends_with(".containerfile") {
                    return Some(format!(
                        "`{}` is named for Podman and Buildah",
                        file.file_name().unwrap_or_default().to_string_lossy()
                    ));
                }
                let by = self
                    .containers_files
                    .get(&name)
                    .or_else(|| self.containers_files.get(ANY_DOCKERFILE))?;
                Some(format!("`{by}` builds it with Podman or Buildah"))
            }
            crate::kind::FileKind::Compose => {
                let by = self
                    .containers_files
                    .get(&name)
                    .or_else(|| self.containers_files.get(ANY_COMPOSE))
                    .or_else(|| {
                        let folder = file.parent()?;
                        DEFAULT_COMPOSE
                            .contains(&name.as_str())
                            .then(|| self.containers_files.get(&compose_in(folder)))?
                    })?;
                Some(format!("`{by}` runs it with podman-compose"))
            }
            crate::kind::FileKind::Kubernetes if !self.openshift.is_empty() => {
                let (_, by) = self
                    .openshift
                    .iter()
                    .find(|(folder, _)| file.starts_with(folder))?;
                Some(format!(
                    "its folder deploys to OpenShift (`{by}`), which runs CRI-O"
                ))
            }
            crate::kind::FileKind::Quadlet => Some(format!(
                "`{}` is a Quadlet unit",
                file.file_name().unwrap_or_default().to_string_lossy()
            )),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::FileKind;

    fn scan(text: &str) -> RepoContext {
        let mut ctx = RepoContext::default();
        containers_builds("build.sh", text, None, &mut ctx);
        ctx
    }

    #[test]
    fn podman_and_buildah_builds() {
        let ctx = scan(
            "podman build -t app \\\n  -f deploy/Dockerfile.prod .\nbuildah bud --file=Dockerfile.ci .\ndocker build -f Dockerfile.docker .\n",
        );
        let keys: Vec<&str> = ctx.containers_files.keys().map(String::as_str).collect();
        assert_eq!(keys, ["dockerfile.ci", "dockerfile.prod"]);
        assert!(
            ctx.containers_build(Path::new("/r/deploy/Dockerfile.prod"), FileKind::Dockerfile)
                .is_some_and(|w| w.contains("`build.sh`"))
        );
        assert_eq!(
            ctx.containers_build(Path::new("/r/Dockerfile.docker"), FileKind::Dockerfile),
            None
        );
        assert!(
            ctx.containers_build(Path::new("/r/x/Containerfile"), FileKind::Dockerfile)
                .is_some()
        );
        assert!(
            ctx.containers_build(Path::new("/r/app.containerfile"), FileKind::Dockerfile)
                .is_some()
        );
    }

    #[test]
    fn engine_variables_defaults_and_compose() {
        let ctx = scan(
            "CONTAINER_ENGINE ?= podman\nDOCKER ?= docker\nimage:\n\t$(CONTAINER_ENGINE) build -t x .\n\t$(DOCKER) build -f Other.Dockerfile .\n",
        );
        let keys: Vec<&str> = ctx.containers_files.keys().map(String::as_str).collect();
        assert_eq!(keys, ["containerfile", "dockerfile"]);
        let ctx = scan("ENGINE=\"${ENGINE:-podman}\"\n$ENGINE build -f \"$DOCKERFILE\" .\n");
        assert!(ctx.containers_files.contains_key(ANY_DOCKERFILE));
        let ctx = scan("podman build -f \"images/${{ matrix.release }}/Containerfile\" .\n");
        let keys: Vec<&str> = ctx.containers_files.keys().map(String::as_str).collect();
        assert_eq!(keys, ["containerfile"]);
        let ctx = scan("run: podman-compose -f compose.dev.yaml up -d && echo ok\n");
        assert!(
            ctx.containers_build(Path::new("/r/compose.dev.yaml"), FileKind::Compose)
                .is_some()
        );
        assert_eq!(
            ctx.containers_build(Path::new("/r/compose.yaml"), FileKind::Compose),
            None
        );
        let ctx = scan("sudo dnf install podman-compose -y\ncommand -v podman-compose\n");
        assert!(
            ctx.containers_files.is_empty(),
            "{:?}",
            ctx.containers_files
        );
        let ctx = scan("podman compose up\n");
        assert!(
            ctx.containers_build(Path::new("/r/compose.yaml"), FileKind::Compose)
                .is_some()
        );
        // Words that only mention the tools build nothing.
        let ctx = scan("echo podman is supported; see buildah docs\n# podman build works too\n");
        assert!(ctx.containers_files.is_empty());
    }

    #[test]
    fn openshift_resources() {
        assert!(openshift_resource(
            "apiVersion: route.openshift.io/v1\nkind: Route\n"
        ));
        assert!(!openshift_resource(
            "apiVersion: v1\nkind: ConfigMap\ndata:\n  note: see docs.openshift.io/latest\n"
        ));
        // An Argo Workflow whose `resource.manifest` string holds a Route.
        let argo = "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nspec:\n  templates:\n  - name: r\n    resource:\n      manifest: |\n        apiVersion: route.openshift.io/v1\n        kind: Route\n";
        assert!(!openshift_resource(argo));
        assert!(openshift_resource(
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: apps.openshift.io/v1\n  kind: DeploymentConfig\n"
        ));
        assert!(openshift_resource(
            "{{- if .Values.route }}\napiVersion: route.openshift.io/v1\nkind: Route\n{{- end }}\n"
        ));
        let ctx = RepoContext {
            openshift: vec![(PathBuf::from("/r/deploy"), "deploy/route.yaml".into())],
            ..RepoContext::default()
        };
        assert!(
            ctx.containers_build(Path::new("/r/deploy/app.yaml"), FileKind::Kubernetes)
                .is_some_and(|w| w.contains("OpenShift"))
        );
        // A resource in another folder says nothing about this one.
        assert_eq!(
            ctx.containers_build(Path::new("/r/examples/app.yaml"), FileKind::Kubernetes),
            None
        );
        assert_eq!(
            RepoContext::default()
                .containers_build(Path::new("/r/deploy/app.yaml"), FileKind::Kubernetes),
            None
        );
    }

    #[test]
    fn buildah_build_action() {
        let ctx = scan(
            "    steps:\n      - uses: redhat-actions/buildah-build@v2\n        with:\n          image: app\n          containerfiles: |\n            ./images/Containerfile.app\n            ./Dockerfile.ubi\n          tags: latest\n",
        );
        let keys: Vec<&str> = ctx.containers_files.keys().map(String::as_str).collect();
        assert_eq!(keys, ["containerfile.app", "dockerfile.ubi"]);
    }
}
