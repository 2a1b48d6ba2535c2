//! What the repository around a Dockerfile says about building it: the
//! stages it builds by name (`docker-bake.hcl` `target`, Compose
//! `build.target`, `--target` in scripts and CI) and the named build
//! contexts it passes (bake `contexts`, Compose `additional_contexts`,
//! `--build-context name=…`), and the named contexts that documentation
//! (`README.md`, any `*.md`) passes in the build commands it shows.
//!
//! Read from every build file of the Dockerfile's repository (see
//! `RepoFacts::combine`): a script in `scripts/` or a CI file builds
//! Dockerfiles in other folders, and which one a `--target` goes with is
//! not visible. It reads text and over-approximates (any `target` value
//! counts for every Dockerfile), because it only ever keeps STG001 and
//! REF005 quiet.

use crate::facts::BuildRefs;
use regex::Regex;
use std::sync::LazyLock;

/// Whether a file name is one the scan reads.
pub(super) fn is_build_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let yaml = lower.ends_with(".yml") || lower.ends_with(".yaml");
    lower.starts_with("docker-bake")
        || (yaml && (lower.starts_with("compose") || lower.starts_with("docker-compose")))
        || super::runs_commands(&lower)
        || (yaml && lower.starts_with("taskfile"))
        || lower == ".gitlab-ci.yml"
        || lower == "skaffold.yaml"
}

/// Whether a file is documentation whose commands are read for the named
/// contexts they pass (`README.md`: `podman build --build-context=src=…`):
/// a build a README documents is one users run.
pub(super) fn is_doc_file(name: &str) -> bool {
    // Only READMEs: the page beside a Dockerfile that says how it is
    // built. Every page of a docs-heavy repository would be a fact file
    // (a read cold, a stat warm, each one).
    let lower = name.to_ascii_lowercase();
    lower.starts_with("readme")
        && [".md", ".markdown", ".mdx", ".adoc", ".asciidoc", ".rst"]
            .iter()
            .any(|s| lower.ends_with(s))
}

/// Read the named contexts a documentation file passes: only
/// `--build-context NAME=…` and Compose `additional_contexts` (in a code
/// block or inline), whose words do not occur in prose; a `target` in
/// prose names no stage.
pub fn read_doc(text: &str, refs: &mut BuildRefs) {
    // Most documentation passes no context: skip it without a regex.
    if !(text.contains("-context") || text.contains("additional_contexts")) {
        return;
    }
    for c in BUILD_CONTEXT.captures_iter(text) {
        if let Some(m) = c.get(1) {
            refs.contexts.insert(m.as_str().to_ascii_lowercase());
        }
    }
    compose_additional_contexts(text, refs);
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

/// Read a GitHub workflow's targets and named contexts from what its build
/// steps pass: `docker/build-push-action`'s `target` and
/// `build-contexts`, `docker/bake-action`'s `targets`, and the build
/// commands of `run:` scripts. Other actions' `target` inputs (a Rust
/// target triple, a deployment) name no stage. A workflow that is not
/// YAML is read as text.
pub fn read_workflow(text: &str, refs: &mut BuildRefs) {
    use crate::sources::yaml::Node;
    let Ok(docs) = crate::sources::yaml::parse(text) else {
        read(text, refs);
        return;
    };
    for doc in &docs {
        for step in workflow_steps(doc) {
            let scalar = |node: &Node, key: &str| {
                doc.get(node, key)
                    .and_then(|v| doc.resolve(v).as_scalar())
                    .map(|s| s.value.clone())
            };
            if let Some(run) = scalar(step, "run") {
                // Shell text: `--target` and `--build-context` only.
                read_commands(&run, refs);
            }
            let uses = scalar(step, "uses").unwrap_or_default();
            let Some(with) = doc.get(step, "with") else {
                continue;
            };
            let with = doc.resolve(with);
            let mut names = Vec::new();
            if uses.contains("build-push-action") {
                names.extend(scalar(with, "target"));
                if let Some(contexts) = scalar(with, "build-contexts") {
                    for line in contexts.lines() {
                        if let Some((name, _)) = line.trim().split_once('=') {
                            refs.contexts.insert(name.trim().to_ascii_lowercase());
                        }
                    }
                }
            } else if uses.contains("bake-action")
                && let Some(targets) = scalar(with, "targets")
            {
                names.extend(targets.split([',', '\n']).map(|t| t.trim().to_string()));
            }
            for name in names.into_iter().filter(|n| !n.is_empty()) {
                if name.contains('$') {
                    refs.variable_target = true;
                } else {
                    refs.targets.insert(name.to_ascii_lowercase());
                }
            }
        }
    }
}

/// The steps of every job of a GitHub Actions workflow document.
pub(super) fn workflow_steps(
    doc: &crate::sources::yaml::Document,
) -> Vec<&crate::sources::yaml::Node> {
    let root = doc.resolve(&doc.root);
    let Some(jobs) = doc.get(root, "jobs") else {
        return Vec::new();
    };
    doc.entries(jobs)
        .into_iter()
        .filter_map(|(_, job)| doc.get(doc.resolve(job), "steps"))
        .flat_map(|steps| doc.items(steps))
        .collect()
}

/// `--target` and `--build-context` in shell text.
fn read_commands(text: &str, refs: &mut BuildRefs) {
    for c in COMMAND_TARGET.captures_iter(text) {
        if let Some(m) = c.get(1) {
            refs.targets.insert(m.as_str().to_ascii_lowercase());
        }
    }
    refs.variable_target |= COMMAND_VARIABLE_TARGET.is_match(text);
    for c in BUILD_CONTEXT.captures_iter(text) {
        if let Some(m) = c.get(1) {
            refs.contexts.insert(m.as_str().to_ascii_lowercase());
        }
    }
}

static COMMAND_TARGET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"--target[= ]+["']?([A-Za-z0-9][A-Za-z0-9_.-]*)"#).expect("static regex")
});
static COMMAND_VARIABLE_TARGET: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"--target[= ]+["']?\$"#).expect("static regex"));

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
    fn a_workflow_names_the_targets_its_build_steps_pass() {
        let mut refs = BuildRefs::default();
        read_workflow(
            "jobs:\n  wheels:\n    strategy:\n      matrix:\n        target: [x86_64]\n    steps:\n      - uses: PyO3/maturin-action@v1\n        with:\n          target: ${{ matrix.target }}\n      - uses: dtolnay/rust-toolchain@stable\n        with:\n          target: wasm32-unknown-unknown\n",
            &mut refs,
        );
        assert_eq!(refs, BuildRefs::default(), "a Rust target names no stage");
        read_workflow(
            "jobs:\n  image:\n    steps:\n      - uses: docker/build-push-action@v6\n        with:\n          target: prod\n          build-contexts: |\n            tools=./tools\n      - uses: docker/bake-action@v5\n        with:\n          targets: lint,test\n      - run: docker build --target=debug .\n",
            &mut refs,
        );
        let targets: Vec<&str> = refs.targets.iter().map(String::as_str).collect();
        assert_eq!(targets, ["debug", "lint", "prod", "test"]);
        assert!(refs.contexts.contains("tools"));
        assert!(!refs.variable_target);
        read_workflow(
            "jobs:\n  image:\n    steps:\n      - uses: docker/build-push-action@v6\n        with:\n          target: ${{ matrix.stage }}\n",
            &mut refs,
        );
        assert!(refs.variable_target);
    }

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

    #[test]
    fn a_readme_passes_named_contexts_but_names_no_target() {
        let mut refs = BuildRefs::default();
        assert!(is_doc_file("README.md") && is_doc_file("readme.rst"));
        assert!(!is_doc_file("Dockerfile") && !is_doc_file("CHANGELOG.md"));
        read_doc(
            "The target of this guide is you.\n```\n$ podman build --file=devel/Containerfile \\\n  --build-context=osbuild=$HOME/src/osbuild --build-context images=../images .\n```\n",
            &mut refs,
        );
        assert!(refs.defines_context("osbuild") && refs.defines_context("images"));
        assert!(refs.targets.is_empty(), "{refs:?}");
    }
}
