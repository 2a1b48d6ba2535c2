//! The workspace: what the files of a repository say about each other,
//! read once and shared by every file check.
//!
//! The repository is enumerated once per root (`git ls-files` where there
//! is a git index, else one walk), the files that carry facts (Compose,
//! bake, Makefiles, scripts, CI files, kustomizations, `registries.conf`)
//! are each read once through the bounded reader ([`read`]), and what each
//! says is kept in an index by path. The facts of a root (the images it
//! builds, Compose build arguments per Dockerfile, kustomization trees,
//! short-name configuration, OpenShift folders) are combined from that
//! index once, and a file check gets the view that concerns its file
//! ([`Workspace::source_options`]). Between runs the index is kept on disk
//! (`.refit_cache/`, see [`cache`]) keyed by each file's size, modification
//! time and inode, so a run reads again only what changed.
//!
//! Models: rust-analyzer's `vfs` and `base-db` (a file set, facts derived
//! from it, precise invalidation), ruff's resolver and `.ruff_cache`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use crate::facts::{BuildRefs, LocalNames};
pub use crate::facts::{ChartFacts, KustomizeImage, RegistryJoin};
use crate::kind::FileKind;
use crate::sources::SourceOptions;

mod bazel;
pub mod build_refs;
mod builds;
pub mod cache;
mod chart;
mod compose_runs;
mod containers;
mod doc_includes;
mod enumerate;
mod from_text;
mod generated;
mod gitlab;
pub mod helm_templates;
mod image_policies;
mod just;
mod kustomize;
mod make;
mod passes;

pub mod shortnames;
mod templates;
mod test_literals;
pub mod update_configs;

use builds::*;
pub use chart::*;
use containers::*;
pub use gitlab::*;
use kustomize::*;

/// The most bytes of fact files read for one repository root: a bound on
/// the work of one run, far above any real repository (a million 1 KiB
/// build files is 1 GiB). Past it the facts are marked cut: fixes that
/// rest on them become unsafe, and the help says why.
pub const MAX_TOTAL_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// Folders never entered: other tools' own trees and refit's cache.
const SKIP: &[&str] = &[".git", "node_modules", ".refit_cache"];

fn read(root: &Path, path: &Path) -> Option<String> {
    crate::bounded::read_inside(root, path).ok()
}

/// The most files of a Terraform module (a folder) read beside one.
const MAX_MODULE_FILES: usize = 256;

/// The texts of the other `.tf` and `.tf.json` files in a Terraform
/// file's folder, read only when the file declares a variable with a
/// default (its uses may be there); `None` when one cannot be read or
/// there are too many.
fn terraform_module(root: &Path, dir: &Path, file: &Path) -> Option<Vec<String>> {
    // The file on disk may differ from the text checked (an editor's
    // buffer): without a default on disk, the module is not read and is
    // unknown (`None`), so a default in the buffer gets no safe fix.
    let own = read(root, file)?;
    if !own.contains("variable") || !own.contains("default") {
        return None;
    }
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p != file)
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .map(str::to_ascii_lowercase)
                .is_some_and(|n| n.ends_with(".tf") || n.ends_with(".tf.json"))
        })
        .take(MAX_MODULE_FILES + 1)
        .collect();
    if paths.len() > MAX_MODULE_FILES {
        return None;
    }
    paths.sort();
    paths.iter().map(|p| read(root, p)).collect()
}

/// The drop-in whose `Image=` replaces a Quadlet unit's (shown relative to
/// the unit's folder): of the `.conf` files in the unit's drop-in folders,
/// the last by name that sets it, as systemd applies them in name order
/// (a name in a nearer folder hides the same name farther away). For a
/// drop-in, a later one of its own folder that sets it (which units a
/// `container.d/` drop-in reaches, and what their own folders hold, is
/// each unit's matter).
fn quadlet_override(root: &Path, dir: &Path, file: &Path) -> Option<String> {
    let name = file.file_name()?.to_str()?;
    // A drop-in: a later one (by name) in its folder replaces its `Image=`.
    if let Some(section) = crate::kind::quadlet_dropin_section(file) {
        let folder = dir.file_name()?.to_str()?.to_string();
        let mut later: Vec<String> = std::fs::read_dir(dir)
            .ok()?
            .flatten()
            .map(|e| e.file_name().to_string_lossy().to_string())
            .filter(|n| n.ends_with(".conf") && n.as_str() > name)
            .take(MAX_MODULE_FILES + 1)
            .collect();
        // Past the bound the drop-in that wins is not known: say the
        // line may be replaced, so it gets no fix.
        if later.len() > MAX_MODULE_FILES {
            return Some(format!("{folder}/ (over {MAX_MODULE_FILES} drop-ins)"));
        }
        later.sort();
        return later.into_iter().rev().find_map(|n| {
            read(root, &dir.join(&n))
                .filter(|t| crate::sources::quadlet::sets_image(t, section))
                .map(|_| format!("{folder}/{n}"))
        });
    }
    let section = crate::kind::quadlet_section(&name.to_ascii_lowercase())?;
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for folder in crate::sources::quadlet::dropin_dirs(name) {
        // A drop-in folder that leads out of the repository is not read.
        if crate::bounded::inside(root, &dir.join(&folder)).is_err() {
            continue;
        }
        let Ok(entries) = std::fs::read_dir(dir.join(&folder)) else {
            continue;
        };
        let confs: Vec<_> = entries
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".conf"))
            .take(MAX_MODULE_FILES + 1)
            .collect();
        if confs.len() > MAX_MODULE_FILES {
            return Some(format!("{folder}/ (over {MAX_MODULE_FILES} drop-ins)"));
        }
        for entry in confs {
            let conf = entry.file_name().to_string_lossy().to_string();
            if seen.contains_key(&conf) {
                continue;
            }
            let shown = format!("{folder}/{conf}");
            let sets = read(root, &entry.path())
                .is_some_and(|t| crate::sources::quadlet::sets_image(&t, section));
            seen.insert(conf, if sets { shown } else { String::new() });
        }
    }
    seen.into_values().rev().find(|v| !v.is_empty())
}

/// The most image policy files kept per root (one is enough to make a
/// fix unsafe; more only name a nearer one).
const MAX_IMAGE_POLICIES: usize = 256;

/// Tests: write `text` to `dir/name` (folders made) and give its
/// canonical path, as the workspace names files.
#[cfg(test)]
pub(super) fn write_test_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(&path, text).expect("write");
    crate::realpath::canonical(&path).expect("canonical")
}

/// The most image values of expected outputs (and image literals of test
/// code) kept per root.
const MAX_GOLDEN_IMAGES: usize = 8192;

/// The `image:` values of a YAML text as line-reading tools see them
/// (`sources::kubernetes::extract_lines`), at most `MAX_GOLDEN_IMAGES`.
fn image_values(text: &str) -> Vec<String> {
    crate::sources::kubernetes::extract_lines(text)
        .into_iter()
        .take(MAX_GOLDEN_IMAGES)
        .map(|s| s.raw)
        .collect()
}

/// The most generated paths kept per root.
const MAX_GENERATED: usize = 4096;

/// Why a file (canonical) is rendered from one of a root's templates
/// (`RepoContext::templates`): one whose rendered name is the file's name
/// (or that name without a version, `templates::source_names`), anywhere
/// for a specific Dockerfile name, else in the file's folder or above.
fn rendered_from(templates: &[(String, PathBuf, String)], file: &Path) -> Option<String> {
    if templates.is_empty() {
        return None;
    }
    let name = file.file_name()?.to_string_lossy();
    let names = templates::source_names(&name);
    templates
        .iter()
        .find(|(stem, folder, _)| {
            names.contains(stem) && (templates::is_specific(stem) || file.starts_with(folder))
        })
        .map(|(_, _, shown)| format!("rendered from the template `{shown}`"))
}
/// The most `FROM` text readers (and bashbrew folders) kept per root.
const MAX_FROM_READERS: usize = 256;

/// The files of test harnesses that apply the YAML files of their folder
/// (and below) to a cluster and compare resources with them: chainsaw,
/// the Kyverno CLI's `kyverno test`, kuttl.
pub const TEST_HARNESS_NAMES: [&str; 5] = [
    "chainsaw-test.yaml",
    "chainsaw-test.yml",
    "kyverno-test.yaml",
    "kyverno-test.yml",
    "kuttl-test.yaml",
];

/// The folders whose YAML files a test harness file applies: a kuttl
/// `TestSuite` names them in `testDirs` (relative to its folder; a suite
/// at the root of a repository does not make the whole repository test
/// data); a test's own file (chainsaw, `kyverno test`, or a suite without
/// `testDirs`, whose folders come from the command line) its folder. A
/// `testDirs` entry that leaves the folder upwards is kept as far as it
/// stays inside it (never above the suite's folder).
fn harness_folders(folder: &Path, text: &str) -> Vec<PathBuf> {
    /// The most `testDirs` entries taken from one suite.
    const MAX_DIRS: usize = 64;
    let mut out = Vec::new();
    if let Ok(docs) = crate::sources::yaml::parse_shared(text) {
        for doc in docs.iter() {
            let root = doc.resolve(&doc.root);
            if doc.get_scalar(root, "kind").map(|k| k.value.as_str()) != Some("TestSuite") {
                continue;
            }
            let Some(dirs) = doc.get(root, "testDirs") else {
                continue;
            };
            for item in doc.items(dirs).into_iter().take(MAX_DIRS) {
                let Some(dir) = item.as_scalar() else {
                    continue;
                };
                let mut joined = folder.to_path_buf();
                for c in Path::new(dir.value.as_str()).components() {
                    match c {
                        std::path::Component::Normal(p) => joined.push(p),
                        std::path::Component::ParentDir if joined != folder => {
                            joined.pop();
                        }
                        _ => {}
                    }
                }
                out.push(joined);
            }
        }
    }
    if out.is_empty() {
        out.push(folder.to_path_buf());
    }
    out
}

/// What a file's (lower-case) name makes it to the context scan.
#[derive(Debug, Clone, Copy, Default)]
struct Role {
    compose: bool,
    bake: bool,
    yaml: bool,
    script: bool,
    kustomization: bool,
    registries_conf: bool,
    /// A `devcontainer.json`: its `build.args` are a Dockerfile's.
    devcontainer: bool,
    /// A Bazel build file: the images its push rules push.
    bazel: bool,
    /// A template of a file refit reads (`r-ver.Dockerfile.txt`): what
    /// it renders is generated (`templates`).
    template: bool,
    /// A Renovate or Dependabot configuration: the names its rules match.
    update_config: bool,
}

/// Whether a file (its lower-case name) runs commands, so that `docker
/// build`, `podman build`, `kustomize edit set image` and their arguments
/// can be written in it: shell and PowerShell scripts, Makefiles,
/// justfiles, Tiltfiles and npm's `package.json` (its `scripts`). YAML
/// files (CI, Taskfiles) run commands too; the callers add them as they
/// read YAML. One list for every reader, so a build command counts the
/// same wherever it is written.
pub(crate) fn runs_commands(name: &str) -> bool {
    const SUFFIXES: [&str; 6] = [".sh", ".bash", ".bats", ".ps1", ".psm1", ".mk"];
    const NAMES: [&str; 5] = [
        "makefile",
        "gnumakefile",
        "justfile",
        "tiltfile",
        "package.json",
    ];
    SUFFIXES.iter().any(|s| name.ends_with(s))
        || NAMES.contains(&name)
        || make::is_makefile(name)
        || just::is_justfile(name)
}

/// Folders whose extensionless files are conventionally scripts
/// (`hack/build`, `scripts/release`, `bin/deploy`).
const SCRIPT_FOLDERS: [&str; 11] = [
    "hack", "scripts", "script", "bin", "ci", ".ci", "tools", "build", "dev", "deploy", "release",
];

/// An extensionless file (its lower-case `name`) in a script folder: a
/// shell script when its first line says so (`shell_script_text`). Known
/// names that are not scripts (a `Dockerfile`, a `LICENSE`) are not read
/// for this.
fn script_candidate(path: &Path, name: &str) -> bool {
    const NOT_SCRIPTS: [&str; 8] = [
        "dockerfile",
        "containerfile",
        "license",
        "readme",
        "owners",
        "authors",
        "notice",
        "version",
    ];
    !name.contains('.')
        && !NOT_SCRIPTS.iter().any(|n| name.starts_with(n))
        && path
            .parent()
            .and_then(|p| p.file_name())
            .is_some_and(|d| SCRIPT_FOLDERS.iter().any(|f| d.eq_ignore_ascii_case(f)))
}

/// Whether a text starts with a shell's `#!` line (`#!/bin/sh`,
/// `#!/usr/bin/env bash`).
fn shell_script_text(text: &str) -> bool {
    let first = text.lines().next().unwrap_or_default();
    first.starts_with("#!")
        && first
            .rsplit(['/', ' '])
            .find(|w| !w.is_empty() && !w.starts_with('-'))
            .is_some_and(|sh| matches!(sh.trim(), "sh" | "bash" | "zsh" | "ksh" | "dash" | "ash"))
}

/// The commands of a `package.json`'s `scripts`, one per line, as a
/// script would hold them (the JSON strings decoded); nothing when the
/// file is not JSON.
fn package_json_scripts(text: &str) -> String {
    let Ok(serde_json::Value::Object(doc)) = serde_json::from_str::<serde_json::Value>(text) else {
        return String::new();
    };
    let Some(serde_json::Value::Object(scripts)) = doc.get("scripts") else {
        return String::new();
    };
    let mut out = String::new();
    for command in scripts.values().filter_map(serde_json::Value::as_str) {
        out.push_str(command);
        out.push('\n');
    }
    out
}

/// Whether a bake candidate is a bake file: named as Docker names them
/// (`docker-bake.hcl`, `*bake*.hcl`), or any other `.hcl` file that
/// declares a bake `target "NAME" {` block at the start of a line (a file
/// handed to `docker buildx bake -f` may have any name; Terraform,
/// Packer and Nomad files declare no `target` blocks).
fn bake_text(path: &Path, text: &str) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if crate::kind::is_bake(&name) || name.contains("bake") {
        return true;
    }
    text.lines().any(|l| {
        l.strip_prefix("target")
            .is_some_and(|rest| rest.trim_start().starts_with('"'))
    })
}

impl Role {
    fn of(path: &Path) -> Role {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let yaml = name.ends_with(".yml") || name.ends_with(".yaml");
        Role {
            compose: (name.starts_with("compose") || name.starts_with("docker-compose")) && yaml,
            // Any `.hcl` may be a bake file (`docker buildx bake -f
            // tests/build.hcl`): its `target` blocks decide (see `bake_text`).
            bake: crate::kind::is_bake(&name) || name.ends_with(".hcl"),
            yaml,
            script: yaml || runs_commands(&name) || script_candidate(path, &name),
            kustomization: path
                .file_name()
                .is_some_and(|n| KUSTOMIZATION_NAMES.iter().any(|k| n == *k)),
            registries_conf: shortnames::is_registries_conf(path),
            devcontainer: crate::kind::is_devcontainer(path),
            bazel: bazel::is_bazel_file(&name),
            template: templates::rendered_name(path).is_some(),
            update_config: update_configs::is_update_config(path),
        }
    }

    fn used(self) -> bool {
        self.compose
            || self.bake
            || self.script
            || self.kustomization
            || self.registries_conf
            || self.devcontainer
            || self.bazel
            || self.template
            || self.update_config
    }
}

/// Whether a file carries facts the workspace reads (by its name alone).
pub fn is_fact_file(path: &Path) -> bool {
    Role::of(path).used()
        || path.file_name().is_some_and(|n| {
            let n = n.to_string_lossy();
            build_refs::is_build_file(&n) || build_refs::is_doc_file(&n)
        })
}

/// Whether a file under `root` carries facts the workspace reads: a fact
/// file by its name ([`is_fact_file`]), or test code by its path inside
/// the repository (its string literals, `test_literals`).
pub fn is_fact_file_in(root: &Path, path: &Path) -> bool {
    is_fact_file(path) || test_literals::is_test_source(path.strip_prefix(root).unwrap_or(path))
}

/// What one fact file says: its share of its root's [`RepoContext`], the
/// Compose builds it names (before the services that build one Dockerfile
/// are reconciled), and its build targets and named contexts.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Extracted {
    #[serde(skip_serializing_if = "is_default")]
    pub part: RepoContext,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub compose_builds: Vec<(PathBuf, BTreeMap<String, String>)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refs: Option<BuildRefs>,
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn is_empty_path(p: &Path) -> bool {
    p.as_os_str().is_empty()
}

/// Read what one file says. `root` is the canonical root it was found
/// under, `path` the file (under it).
pub fn extract(root: &Path, path: &Path, text: &str) -> Extracted {
    let mut role = Role::of(path);
    let npm_scripts;
    let lower_name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if script_candidate(path, &lower_name) {
        // An extensionless file in a script folder: a script if it is a
        // shell script (`hack/build` is then no Bazel `BUILD` file).
        let shell = shell_script_text(text);
        role.script = shell || runs_commands(&lower_name);
        role.bazel &= !shell;
    }
    let text = if path.file_name().is_some_and(|n| n == "package.json") {
        npm_scripts = package_json_scripts(text);
        npm_scripts.as_str()
    } else if just::is_justfile(&lower_name) {
        // Every command reader reads a Justfile's commands interpolated.
        npm_scripts = just::interpolate(text);
        npm_scripts.as_str()
    } else {
        text
    };
    let mut ctx = RepoContext::default();
    let mut args: BTreeMap<PathBuf, Vec<BTreeMap<String, String>>> = BTreeMap::new();
    let shown = path
        .strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/");
    if role.update_config {
        for m in update_configs::names(path, text) {
            ctx.update_names.push((m, shown.clone()));
        }
    }
    if role.registries_conf {
        let mut names = crate::facts::ShortNames::default();
        names.read(&shown, text);
        if names != crate::facts::ShortNames::default() {
            let owner = shortnames::owner(path);
            let owner = crate::realpath::canonical(&owner).unwrap_or(owner);
            ctx.short_names.push((owner, names));
        }
    } else if role.bazel {
        ctx.pushed_repositories.extend(bazel::pushed(text));
    } else if role.kustomization {
        kustomization(path, &shown, text, &mut ctx);
    } else if role.devcontainer {
        devcontainer(path, text, &mut ctx, &mut args);
    } else {
        if role.compose {
            compose(path, text, &mut ctx, &mut args);
        }
        if role.bake && bake_text(path, text) {
            bake(path, text, &mut ctx, &mut args);
        }
        if role.script {
            if path
                .file_name()
                .is_some_and(|n| n.eq_ignore_ascii_case("tiltfile"))
            {
                builds::tilt(text, &mut ctx);
            }
            let commands = build_commands(text, &mut ctx);
            let is_makefile = make::is_makefile(&lower_name) || just::is_justfile(&lower_name);
            // A Makefile's or Justfile's builds are read by `make` and
            // `just`, with their variables.
            // CI runs from the root; a script from its folder or the root.
            if !is_makefile {
                let dir = (!role.yaml).then(|| path.parent()).flatten();
                for words in &commands {
                    if ctx.build_passes.len() >= passes::MAX_PASSES {
                        break;
                    }
                    if let Some(pass) = passes::place_command(dir, words) {
                        ctx.build_passes.push(pass);
                    }
                }
            }
            if role.yaml && path.to_string_lossy().contains(".github/workflows/") {
                let steps = passes::build_push_action(text);
                let room = passes::MAX_PASSES.saturating_sub(ctx.build_passes.len());
                ctx.build_passes.extend(steps.into_iter().take(room));
            }
            // YAML runs commands only in CI files: a container's
            // `command` in a manifest writes inside the container, not
            // the repository.
            let shown_path = path.to_string_lossy();
            if !role.yaml
                || shown_path.contains(".github/workflows/")
                || shown_path.ends_with(".gitlab-ci.yml")
            {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().to_ascii_lowercase())
                    .unwrap_or_default();
                // A `cd` holds for the lines after it in a shell script,
                // not in a Makefile or justfile recipe (one shell a line).
                let shell = !role.yaml && !make::is_makefile(&name) && !just::is_justfile(&name);
                ctx.generated = generated::read(text, role.yaml, shell);
            }
            if path
                .file_name()
                .is_some_and(|n| make::is_makefile(&n.to_string_lossy().to_ascii_lowercase()))
                && let Some(m) = make::read(root, path, text)
            {
                ctx.make.insert(path.to_path_buf(), m);
            }
            // A Justfile recipe is a build as a Makefile's is.
            if just::is_justfile(&lower_name)
                && let Some(m) = just::read(root, path, text)
            {
                ctx.make.insert(path.to_path_buf(), m);
            }
            // Of YAML files, only CI files run scripts: an issue template
            // or a manifest that mentions `docker compose` runs nothing.
            // By name: every CI kind is told by its name (no read).
            let ci = role.yaml
                && crate::discover::classify_by_name(path)
                    .is_some_and(crate::kind::runs_ci_scripts);
            if !role.yaml || ci {
                ctx.compose_runs
                    .extend(compose_runs::read(path, text, role.yaml));
            }
            // Make and just run commands in the file's own folder.
            let folder = (make::is_makefile(&lower_name) || just::is_justfile(&lower_name))
                .then(|| path.parent())
                .flatten();
            containers_builds(&shown, text, folder, &mut ctx);
            for name in from_text::pattern_names(text) {
                ctx.from_readers.push((name, shown.clone()));
            }
            if from_text::is_bashbrew(&lower_name, text) {
                ctx.bashbrew = Some(shown.clone());
            }
            kustomize_set_image(text, &mut ctx);
            from_substitutions(text, &mut ctx);
            if role.yaml {
                ci_build_args(text, &mut ctx);
            }
        }
        if role.yaml
            && path
                .file_name()
                .is_some_and(|n| TEST_HARNESS_NAMES.iter().any(|h| n.eq_ignore_ascii_case(h)))
        {
            let folder = path.parent().unwrap_or(root).to_path_buf();
            for dir in harness_folders(&folder, text) {
                ctx.test_harness.push((dir, shown.clone()));
            }
        }
        if role.yaml && crate::discover::compared_output(Path::new(&shown)) {
            for v in image_values(text) {
                ctx.golden_images.entry(v).or_insert_with(|| shown.clone());
            }
        }
        if text.len() as u64 <= test_literals::MAX_TEST_FILE_BYTES
            && test_literals::is_test_source(Path::new(&shown))
        {
            let found = test_literals::literals(text);
            // Literals without a file named beside them compare nothing
            // refit can place.
            if !found.files.is_empty() {
                for v in found.images {
                    ctx.test_literals.entry(v).or_insert_with(|| shown.clone());
                }
                if !ctx.test_literals.is_empty() {
                    ctx.test_names.extend(found.files);
                }
            }
        }
        if role.template && crate::sources::template::file_marker(text).is_some() {
            ctx.renders = templates::rendered_name(path);
        }
        // A policy that is test data (`test/fixtures/…`) is applied by a
        // test, not to the clusters the repository deploys to.
        if role.yaml
            && crate::discover::test_data(Path::new(&shown)).is_none()
            && image_policies::reads_images(text)
        {
            ctx.image_policies.push(shown.clone());
        }
        if role.yaml && openshift_resource(text) {
            let folder = path.parent().unwrap_or(root).to_path_buf();
            ctx.openshift.push((folder, shown.clone()));
        }
        if role.yaml && text.contains("skaffold/") {
            skaffold(path, text, &mut ctx, &mut args);
        }
        if role.yaml {
            ctx.flux = crate::sources::flux::image_automation(text, &shown);
        }
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let in_workflows = path
        .parent()
        .is_some_and(|p| p.ends_with(".github/workflows"));
    let refs = if in_workflows && role.yaml {
        let mut r = BuildRefs::default();
        build_refs::read_workflow(text, &mut r);
        Some(r)
    } else if build_refs::is_doc_file(&name) {
        let mut r = BuildRefs::default();
        build_refs::read_doc(text, &mut r);
        // `FROM NAME` with a context a README passes is no image either.
        ctx.named_contexts.extend(r.contexts.iter().cloned());
        Some(r)
    } else {
        build_refs::is_build_file(&name).then(|| {
            let mut r = BuildRefs::default();
            build_refs::read(text, &mut r);
            r
        })
    };
    Extracted {
        part: ctx,
        compose_builds: args
            .into_iter()
            .flat_map(|(file, maps)| maps.into_iter().map(move |m| (file.clone(), m)))
            .collect(),
        // A build file that names no target or context says nothing: it
        // is kept out of the index (and the cache's facts), as a file of
        // no facts is.
        refs: refs.filter(|r| *r != BuildRefs::default()),
    }
}

/// A root's facts: its [`RepoContext`], and the indexes a file's view is
/// read from.
#[derive(Debug, Default)]
pub struct RepoFacts {
    pub context: RepoContext,
    pub local: Arc<LocalNames>,
    /// Flux image automation objects of the whole root (FLX001).
    pub flux: Arc<crate::facts::FluxPolicies>,
    /// Whether the root holds `.git`: then the build files that name
    /// targets and contexts are known to be all there.
    pub git: bool,
    /// Kustomizations by what they include (the reverse of `includes`).
    included_by: HashMap<PathBuf, Vec<PathBuf>>,
    /// Build targets and named contexts that the root's build files name.
    refs: BuildRefs,
    /// `RepoContext::golden_images`, shared by every file's options.
    golden: Arc<BTreeMap<String, String>>,
    /// Test files (repository-relative) with the image literals they
    /// write (`RepoContext::test_literals`).
    test_files: Vec<(String, Vec<String>)>,
    /// The names of files that test files name (`RepoContext::test_names`),
    /// each with those test files (indexes into `test_files`).
    test_named: HashMap<String, Vec<usize>>,
    /// `RepoContext::update_names`, shared by every file's options.
    update_names: Arc<Vec<(update_configs::Match, String)>>,
}

impl RepoFacts {
    /// Combine the facts of the files under `root` (in path order).
    fn combine<'a>(
        root: &Path,
        files: impl Iterator<Item = (&'a PathBuf, &'a Arc<Extracted>)>,
        cut: Option<String>,
    ) -> RepoFacts {
        let mut ctx = RepoContext {
            root: root.to_path_buf(),
            truncated: cut,
            ..RepoContext::default()
        };
        let mut args: BTreeMap<PathBuf, Vec<BTreeMap<String, String>>> = BTreeMap::new();
        let mut all_refs = BuildRefs::default();
        let mut make_files: BTreeMap<PathBuf, make::MakeFile> = BTreeMap::new();
        let mut compose_runs: Vec<compose_runs::ComposeRun> = Vec::new();
        let mut build_passes: Vec<(passes::BuildPass, String)> = Vec::new();
        let mut test_files: Vec<(String, Vec<String>)> = Vec::new();
        let mut test_named: HashMap<String, Vec<usize>> = HashMap::new();
        // Literals kept in all (each test file's are few, `test_literals`).
        let mut test_literal_count = 0usize;
        for (path, e) in files {
            ctx.files += 1;
            let p = &e.part;
            make_files.extend(p.make.iter().map(|(k, v)| (k.clone(), v.clone())));
            compose_runs.extend(p.compose_runs.iter().cloned());
            // Messages name the file relative to this root (an outer root
            // may have read it).
            let shown = path
                .strip_prefix(root)
                .unwrap_or(path)
                .to_string_lossy()
                .replace('\\', "/");
            build_passes.extend(
                p.build_passes
                    .iter()
                    .map(|b| (b.place(root), shown.clone())),
            );
            ctx.local_images.extend(p.local_images.iter().cloned());
            ctx.set_image_names
                .extend(p.set_image_names.iter().cloned());
            ctx.pushed_repositories
                .extend(p.pushed_repositories.iter().cloned());
            // A reader of another project's Dockerfiles (a folder below
            // this root with its own `.git` or refit config) reads that
            // project's `FROM` lines, not these.
            let own_project = || {
                path.ancestors()
                    .skip(1)
                    .take_while(|d| *d != root && d.starts_with(root))
                    .all(|d| !crate::marks::of(d).any())
            };
            let readers: &[(String, String)] = if p.from_readers.is_empty() || own_project() {
                &p.from_readers
            } else {
                &[]
            };
            for (name, _) in readers {
                if ctx.from_readers.len() < MAX_FROM_READERS
                    && !ctx.from_readers.iter().any(|(n, _)| n == name)
                {
                    ctx.from_readers.push((name.clone(), shown.clone()));
                }
            }
            if ctx.bashbrew.is_none() && p.bashbrew.is_some() && own_project() {
                ctx.bashbrew = Some(shown.clone());
            }
            ctx.named_contexts.extend(p.named_contexts.iter().cloned());
            ctx.placeholder_prefixes
                .extend(p.placeholder_prefixes.iter().cloned());
            ctx.build_arg_names
                .extend(p.build_arg_names.iter().cloned());
            ctx.built_names.extend(p.built_names.iter().cloned());
            ctx.buildkit_names.extend(p.buildkit_names.iter().cloned());
            for (name, values) in &p.build_arg_values {
                let into = ctx.build_arg_values.entry(name.clone()).or_default();
                for v in values {
                    if into.len() < builds::MAX_ARG_VALUES {
                        into.insert(v.clone());
                    }
                }
            }
            for (file, names) in &p.dockerfile_arg_names {
                ctx.dockerfile_arg_names
                    .entry(file.clone())
                    .or_default()
                    .extend(names.iter().cloned());
            }
            if ctx.build_args_unknown.is_none() {
                ctx.build_args_unknown = p
                    .build_args_unknown
                    .as_ref()
                    .map(|why| format!("{shown}: {why}"));
            }
            for (dir, k) in &p.kustomizations {
                ctx.kustomizations.insert(dir.clone(), k.clone());
            }
            for (owner, names) in &p.short_names {
                let mut names = names.clone();
                names.files = vec![shown.clone()];
                ctx.short_names.push((owner.clone(), names));
            }
            for k in p.containers_files.keys() {
                ctx.containers_files
                    .entry(k.clone())
                    .or_insert_with(|| shown.clone());
            }
            for (folder, _) in &p.test_harness {
                if !ctx.test_harness.iter().any(|(f, _)| f == folder) {
                    ctx.test_harness.push((folder.clone(), shown.clone()));
                }
            }
            for (target, why) in generated::resolve(root, path, &shown, &p.generated) {
                if ctx.generated_paths.len() < MAX_GENERATED
                    && !ctx.generated_paths.iter().any(|(t, _)| *t == target)
                {
                    ctx.generated_paths.push((target, why));
                }
            }
            if ctx.image_policies.len() < MAX_IMAGE_POLICIES && !p.image_policies.is_empty() {
                ctx.image_policies.push(shown.clone());
            }
            let room = if update_configs::read_for_root(&shown) {
                update_configs::MAX_NAMES.saturating_sub(ctx.update_names.len())
            } else {
                0
            };
            // Named relative to this root, as every message is.
            ctx.update_names.extend(
                p.update_names
                    .iter()
                    .take(room)
                    .map(|(m, _)| (m.clone(), shown.clone())),
            );
            if !p.golden_images.is_empty() && crate::discover::compared_output(Path::new(&shown)) {
                for v in p.golden_images.keys() {
                    if ctx.golden_images.len() >= MAX_GOLDEN_IMAGES {
                        break;
                    }
                    ctx.golden_images
                        .entry(v.clone())
                        .or_insert_with(|| shown.clone());
                }
            }
            if !p.test_literals.is_empty()
                && test_literal_count < MAX_GOLDEN_IMAGES
                && test_literals::is_test_source(Path::new(&shown))
            {
                let at = test_files.len();
                test_literal_count += p.test_literals.len();
                test_files.push((shown.clone(), p.test_literals.keys().cloned().collect()));
                for name in &p.test_names {
                    test_named.entry(name.clone()).or_default().push(at);
                }
            }
            if let Some(stem) = &p.renders
                && ctx.templates.len() < MAX_GENERATED
            {
                let folder = path.parent().unwrap_or(root).to_path_buf();
                ctx.templates
                    .push((stem.to_ascii_lowercase(), folder, shown.clone()));
            }
            for (folder, _) in &p.openshift {
                if !ctx.openshift.iter().any(|(f, _)| f == folder) {
                    ctx.openshift.push((folder.clone(), shown.clone()));
                }
            }
            // Named relative to this root, as `shown` is.
            let here = |o: &crate::facts::FluxObject| crate::facts::FluxObject {
                file: shown.clone(),
                ..o.clone()
            };
            ctx.flux.policies.extend(p.flux.policies.iter().map(here));
            ctx.flux
                .repositories
                .extend(p.flux.repositories.iter().map(here));
            ctx.flux
                .helm_repositories
                .extend(p.flux.helm_repositories.iter().map(here));
            for (file, map) in &e.compose_builds {
                args.entry(file.clone()).or_default().push(map.clone());
            }
            if let Some(refs) = &e.refs {
                // A build file's targets and contexts count for every
                // Dockerfile of its repository: a script in `scripts/`,
                // `hack/` or `.github/workflows/` builds Dockerfiles in
                // other folders (run from the root, or after a `cd`), and
                // which one a `--target` goes with is not visible. STG001
                // and REF005 only keep quiet on these, so the wider reading
                // can only drop a finding, never make one up.
                let into = &mut all_refs;
                into.targets.extend(refs.targets.iter().cloned());
                into.contexts.extend(refs.contexts.iter().cloned());
                into.variable_target |= refs.variable_target;
            }
        }
        if ctx.bashbrew.is_some() {
            ctx.bashbrew_dirs = std::fs::read_dir(root)
                .into_iter()
                .flatten()
                .take(4 * MAX_FROM_READERS)
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|n| !n.starts_with('.'))
                .take(MAX_FROM_READERS)
                .collect();
        }
        for (makefile, pass) in make::passes(&make_files) {
            let shown = makefile
                .strip_prefix(root)
                .unwrap_or(&makefile)
                .to_string_lossy()
                .replace('\\', "/");
            build_passes.push((pass.place(root), shown));
        }
        ctx.build_agreement = passes::agree(&build_passes);
        ctx.compose_env = compose_runs::agreed(root, compose_runs.iter());
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
        let mut included_by: HashMap<PathBuf, Vec<PathBuf>> = HashMap::new();
        for (dir, k) in &ctx.kustomizations {
            for item in &k.includes {
                included_by
                    .entry(item.clone())
                    .or_default()
                    .push(dir.clone());
            }
        }
        // Images a Makefile builds through a recipe it includes.
        for name in make::included_tags(&make_files) {
            builds::local_name(&mut ctx, &name);
        }
        let local = Arc::new(ctx.local_names());
        let flux = Arc::new(ctx.flux.clone());
        RepoFacts {
            flux,
            git: crate::marks::of(root).git,
            golden: Arc::new(ctx.golden_images.clone()),
            test_files,
            test_named,
            update_names: Arc::new(ctx.update_names.clone()),
            context: ctx,
            local,
            included_by,
            refs: all_refs,
        }
    }

    /// The image literals of the test files that name a file (canonical)
    /// by its name, each with the first such test file; none when no
    /// test file names it.
    fn test_literals_for(&self, root: &Path, file: &Path) -> Option<Arc<BTreeMap<String, String>>> {
        let name = file.file_name()?.to_string_lossy();
        let tests = self.test_named.get(name.as_ref())?;
        let inside = file
            .strip_prefix(root)
            .unwrap_or(file)
            .to_string_lossy()
            .replace('\\', "/");
        let mut out: BTreeMap<String, String> = BTreeMap::new();
        for &i in tests {
            let Some((test, images)) = self.test_files.get(i) else {
                continue;
            };
            if *test == inside {
                continue;
            }
            for image in images {
                out.entry(image.clone()).or_insert_with(|| test.clone());
            }
        }
        (!out.is_empty()).then(|| Arc::new(out))
    }

    /// The `images:` entries of every kustomization that includes a file
    /// (canonical), directly or through overlays: each kustomization is
    /// visited once, so a chain or a fan-out costs its length.
    pub fn kustomize_overrides(&self, file: &Path) -> Vec<KustomizeImage> {
        let mut out = Vec::new();
        let mut seen: BTreeSet<&Path> = BTreeSet::new();
        let mut queue: Vec<&Path> = vec![file];
        while let Some(item) = queue.pop() {
            let Some(dirs) = self.included_by.get(item) else {
                continue;
            };
            for dir in dirs {
                if seen.insert(dir.as_path()) {
                    if let Some(k) = self.context.kustomizations.get(dir) {
                        out.extend(k.images.iter().cloned());
                    }
                    queue.push(dir.as_path());
                }
            }
        }
        out
    }

    /// What the top kustomizations (those no other includes) deploy for an
    /// image of a file (canonical) written as `name` (without tag or
    /// digest) and `rest` (`:tag`, `@digest`, or empty): each kustomization
    /// from the file up applies its `images:` entries in order to what the
    /// one below produced. Each result comes with the entries that changed
    /// it. `None` when no kustomization includes the file. Each
    /// kustomization is visited once per distinct image, so a diamond of
    /// overlays costs its size, not its paths.
    pub fn kustomize_renders(&self, file: &Path, name: &str, rest: &str) -> Option<Vec<Rendered>> {
        let first = self.included_by.get(file)?;
        let mut tops: Vec<Rendered> = Vec::new();
        let mut seen: HashSet<(&Path, String, String)> = HashSet::new();
        let start = Rendered {
            name: name.to_string(),
            rest: rest.to_string(),
            applied: Vec::new(),
        };
        let mut queue: Vec<(&Path, Rendered)> =
            first.iter().map(|d| (d.as_path(), start.clone())).collect();
        while let Some((dir, mut image)) = queue.pop() {
            if !seen.insert((dir, image.name.clone(), image.rest.clone())) {
                continue;
            }
            if let Some(k) = self.context.kustomizations.get(dir) {
                for entry in &k.images {
                    if let Some((n, r)) = entry.apply(&image.name, &image.rest) {
                        image.name = n;
                        image.rest = r;
                        image.applied.push(entry.clone());
                    }
                }
            }
            match self.included_by.get(dir) {
                Some(above) if !above.is_empty() => {
                    queue.extend(above.iter().map(|d| (d.as_path(), image.clone())));
                }
                _ => {
                    if !tops
                        .iter()
                        .any(|t| t.name == image.name && t.rest == image.rest)
                    {
                        tops.push(image);
                    }
                }
            }
        }
        Some(tops)
    }

    /// The folder (root-relative) of a kustomization that lists a file
    /// (canonical) as a resource, base, component or patch, or that
    /// includes the kustomization the file is: from the reverse index, so
    /// each file costs a lookup.
    pub fn listed_by(&self, file: &Path) -> Option<String> {
        let own_dir = file
            .file_name()
            .is_some_and(|n| KUSTOMIZATION_NAMES.iter().any(|k| n == *k))
            .then(|| file.parent())
            .flatten();
        let dir = self
            .included_by
            .get(file)
            .or_else(|| own_dir.and_then(|d| self.included_by.get(d)))
            .and_then(|dirs| dirs.iter().min())?;
        let shown = dir.strip_prefix(&self.context.root).unwrap_or(dir);
        let shown = shown.to_string_lossy().replace('\\', "/");
        Some(if shown.is_empty() {
            ".".to_string()
        } else {
            shown
        })
    }

    /// The build targets and named contexts the root's build files name:
    /// they count for each of its Dockerfiles (see `combine`).
    pub fn build_refs(&self) -> BuildRefs {
        BuildRefs {
            root: self.git,
            ..self.refs.clone()
        }
    }
}

/// An image as a chain of kustomizations deploys it (see
/// [`RepoFacts::kustomize_renders`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The name, without tag or digest.
    pub name: String,
    /// `:tag`, `@digest`, both, or empty.
    pub rest: String,
    /// The `images:` entries that changed it, innermost first.
    pub applied: Vec<KustomizeImage>,
}

/// The facts of every repository refit reads in one run (or one editor
/// session), built once and shared by every file check.
#[derive(Debug, Default)]
pub struct Workspace {
    /// Keep the index on disk between runs (`--no-cache` turns it off).
    disk_cache: bool,
    /// What each root's documentation includes as text, read the first
    /// time a YAML file there fails to parse.
    doc_includes: Mutex<HashMap<PathBuf, Arc<OnceLock<doc_includes::DocIncludes>>>>,
    state: Mutex<State>,
    repos: Mutex<HashMap<PathBuf, Arc<OnceLock<Arc<RepoFacts>>>>>,
    charts: Mutex<HashMap<PathBuf, Arc<OnceLock<Arc<ChartFacts>>>>>,
}

#[derive(Debug, Default)]
struct State {
    /// Each folder's nearest marked folder at or above it (canonical).
    marked: HashMap<PathBuf, Option<PathBuf>>,
    /// The roots enumerated so far, with why each was read only in part.
    enumerated: HashMap<PathBuf, Option<String>>,
    /// What each fact file says, by canonical path.
    index: BTreeMap<PathBuf, Arc<Extracted>>,
}

impl Workspace {
    pub fn new(disk_cache: bool) -> Workspace {
        Workspace {
            disk_cache,
            ..Workspace::default()
        }
    }

    /// One workspace for the whole process, without the disk cache: for
    /// commands that check a few files outside a run (`refit pin`,
    /// `refit sites`, tests).
    pub fn shared() -> &'static Workspace {
        static SHARED: OnceLock<Workspace> = OnceLock::new();
        SHARED.get_or_init(|| Workspace::new(false))
    }

    /// Forget everything (a configuration changed).
    pub fn clear(&self) {
        // A `.git` or a config file appeared or went: folders' marks too.
        crate::marks::clear();
        if let Ok(mut state) = self.state.lock() {
            *state = State::default();
        }
        if let Ok(mut repos) = self.repos.lock() {
            repos.clear();
        }
        if let Ok(mut charts) = self.charts.lock() {
            charts.clear();
        }
    }

    /// The repository root of a file (canonical): the nearest folder with
    /// `.git` or a refit config file, else the file's folder. (Not the
    /// working directory: a folder of unrelated projects checked from its
    /// top would mix their contexts.) Each folder is looked at once.
    pub fn root_of(&self, file: &Path) -> Option<PathBuf> {
        let file = crate::realpath::canonical(file).ok()?;
        let dir = file.parent()?;
        Some(self.root_of_folder(dir))
    }

    /// The documentation file (root-relative) that includes `path` as
    /// text (mkdocs `{% include %}`, snippets, `literalinclude`, …): the
    /// file is a fragment shown on a page, not input to a tool.
    pub fn included_as_text(&self, path: &Path) -> Option<String> {
        let file = crate::realpath::canonical(path).ok()?;
        let root = self.root_of_folder(file.parent()?);
        let rel = file.strip_prefix(&root).ok()?.to_path_buf();
        let cell = self
            .doc_includes
            .lock()
            .ok()?
            .entry(root.clone())
            .or_default()
            .clone();
        cell.get_or_init(|| doc_includes::DocIncludes::read(&root))
            .includer(&rel)
            .map(str::to_string)
    }

    /// The repository root of a folder (canonical).
    pub fn root_of_folder(&self, dir: &Path) -> PathBuf {
        self.nearest_marked(dir)
            .unwrap_or_else(|| dir.to_path_buf())
    }

    /// Whether a folder is a root a user marked (`.git`, a config file),
    /// not one refit guessed.
    fn is_marked_root(&self, dir: &Path) -> bool {
        self.nearest_marked(dir).as_deref() == Some(dir)
    }

    /// The nearest folder at or above `dir` with `.git` or a refit config
    /// file. Each folder is looked at once: its answer is its parent's
    /// unless it is marked itself.
    fn nearest_marked(&self, dir: &Path) -> Option<PathBuf> {
        let mut visited: Vec<&Path> = Vec::new();
        let mut answer = None;
        for ancestor in dir.ancestors() {
            if let Ok(state) = self.state.lock()
                && let Some(found) = state.marked.get(ancestor)
            {
                answer = found.clone();
                break;
            }
            visited.push(ancestor);
            if is_marked(ancestor) {
                answer = Some(ancestor.to_path_buf());
                break;
            }
        }
        if let Ok(mut state) = self.state.lock() {
            for v in visited {
                state.marked.insert(v.to_path_buf(), answer.clone());
            }
        }
        answer
    }

    /// Index the repositories of the files a run will check before it
    /// checks them: outer roots first, so a folder refit guessed as a root
    /// inside another is never listed twice.
    pub fn prepare<'a>(&self, files: impl Iterator<Item = &'a Path>) {
        use rayon::prelude::*;
        let mut folders: HashSet<&Path> = HashSet::new();
        for f in files {
            if let Some(parent) = f.parent() {
                folders.insert(parent);
            }
        }
        let mut roots: HashSet<PathBuf> = HashSet::new();
        for folder in folders {
            let folder = if folder.as_os_str().is_empty() {
                Path::new(".")
            } else {
                folder
            };
            if let Ok(real) = crate::realpath::canonical(folder) {
                roots.insert(self.root_of_folder(&real));
            }
        }
        // Outer roots before the roots inside them (a root's ancestors
        // sort before it).
        let mut roots: Vec<PathBuf> = roots.into_iter().collect();
        roots.sort_unstable();
        let mut tops: Vec<PathBuf> = Vec::new();
        let mut inner: Vec<PathBuf> = Vec::new();
        let mut outer: HashSet<PathBuf> = HashSet::new();
        for root in roots {
            if root.ancestors().skip(1).any(|a| outer.contains(a)) {
                inner.push(root);
            } else {
                outer.insert(root.clone());
                tops.push(root);
            }
        }
        tops.par_iter().for_each(|root| {
            self.ensure_enumerated(root);
        });
        inner.par_iter().for_each(|root| {
            self.ensure_enumerated(root);
        });
    }

    /// The facts of a root, built on first use.
    pub fn repo(&self, root: &Path) -> Arc<RepoFacts> {
        let cell = match self.repos.lock() {
            Ok(mut repos) => repos.entry(root.to_path_buf()).or_default().clone(),
            Err(_) => Arc::new(OnceLock::new()),
        };
        cell.get_or_init(|| {
            let cut = self.ensure_enumerated(root);
            let Ok(state) = self.state.lock() else {
                return Arc::new(RepoFacts::default());
            };
            let under = state
                .index
                .range::<Path, _>((std::ops::Bound::Included(root), std::ops::Bound::Unbounded))
                .take_while(|(p, _)| p.starts_with(root));
            Arc::new(RepoFacts::combine(root, under, cut))
        })
        .clone()
    }

    /// Enumerate a root and index its fact files, unless a root above it
    /// (or itself) was; returns why its facts are cut, if they are.
    fn ensure_enumerated(&self, root: &Path) -> Option<String> {
        // A root refit guessed (no `.git`, no config) inside one already
        // enumerated was listed with it; a repository nested in another is
        // enumerated on its own (git lists it apart).
        let marked = self.is_marked_root(root);
        if let Ok(state) = self.state.lock() {
            let mut covering = root
                .ancestors()
                .filter_map(|a| state.enumerated.get(a).map(|c| (a, c)));
            if let Some((_, cut)) = covering.find(|(done, _)| !marked || *done == root) {
                return cut.clone();
            }
        }
        let known: BTreeSet<PathBuf> = self
            .state
            .lock()
            .map(|s| {
                s.index
                    .range::<Path, _>((std::ops::Bound::Included(root), std::ops::Bound::Unbounded))
                    .take_while(|(p, _)| p.starts_with(root))
                    .map(|(p, _)| p.clone())
                    .collect()
            })
            .unwrap_or_default();
        let found = enumerate::index_root(root, self.disk_cache && marked, &known);
        if let Ok(mut state) = self.state.lock() {
            // A file that says nothing adds nothing to a root's facts; the
            // disk cache keeps its stamp, the index need not keep it.
            for (path, extracted) in found.files {
                if *extracted != Extracted::default() {
                    state.index.insert(path, extracted);
                }
            }
            state
                .enumerated
                .insert(root.to_path_buf(), found.cut.clone());
        }
        found.cut
    }

    /// The facts of a chart folder (canonical), read once.
    pub fn chart(&self, root: &Path, dir: &Path, chart_yaml: &str) -> Arc<ChartFacts> {
        let cell = match self.charts.lock() {
            Ok(mut charts) => charts.entry(dir.to_path_buf()).or_default().clone(),
            Err(_) => return Arc::new(chart_facts(root, dir, chart_yaml)),
        };
        cell.get_or_init(|| Arc::new(chart_facts(root, dir, chart_yaml)))
            .clone()
    }

    /// What a front-end is handed for one file: `base` (the command line's
    /// values) with the facts of the files around it.
    pub fn source_options(
        &self,
        path: &Path,
        kind: FileKind,
        base: SourceOptions,
    ) -> SourceOptions {
        let s = base;
        // An editor's buffer may not be on disk yet: its folder is.
        let file = match crate::realpath::canonical(path) {
            Ok(f) => f,
            Err(_) => match (path.parent(), path.file_name()) {
                (Some(parent), Some(name)) => {
                    let parent = if parent.as_os_str().is_empty() {
                        Path::new(".")
                    } else {
                        parent
                    };
                    match crate::realpath::canonical(parent) {
                        Ok(p) => p.join(name),
                        Err(_) => return s,
                    }
                }
                _ => return s,
            },
        };
        self.source_options_of(path, file, kind, s)
    }

    /// [`Workspace::source_options`] of a file whose canonical path is
    /// known (`file`).
    pub fn source_options_of(
        &self,
        path: &Path,
        file: PathBuf,
        kind: FileKind,
        base: SourceOptions,
    ) -> SourceOptions {
        let mut s = base;
        let Some(dir) = file.parent() else {
            return s;
        };
        let root = self.root_of_folder(dir);
        // Test data, judged by the path inside the repository (a checkout
        // under a folder named `testdata` is not all test data).
        s.test_data = crate::discover::test_data(file.strip_prefix(&root).unwrap_or(&file));
        // Only a marked root (`.git`, a refit config) says where the
        // repository starts; an unmarked folder is its own root.
        s.nested_workflow = kind == FileKind::GithubActions
            && file
                .strip_prefix(&root)
                .is_ok_and(crate::discover::nested_workflow);
        if s.test_data.is_none() && matches!(kind, FileKind::Kubernetes | FileKind::Kustomize) {
            let repo = self.repo(&root);
            s.test_data = repo
                .context
                .test_harness
                .iter()
                .find(|(folder, _)| file.starts_with(folder))
                .map(|(_, by)| format!("in the folder of the test harness `{by}`, which applies these files and compares resources with them"));
        }
        {
            let repo = self.repo(&root);
            // A source whose images a test's expected output repeats (not
            // the expected output itself, which is test data).
            if s.test_data.is_none()
                && !repo.golden.is_empty()
                && matches!(
                    kind,
                    FileKind::Kubernetes | FileKind::Kustomize | FileKind::HelmValues
                )
            {
                s.golden = Some(repo.golden.clone());
            }
            // Images that test code naming this file writes as literals
            // (not the test file's own, which are its sites).
            if s.test_data.is_none() {
                s.test_literals = repo.test_literals_for(&root, &file);
            }
            if !repo.update_names.is_empty() {
                s.update_names = Some(repo.update_names.clone());
            }
            s.generated = repo
                .context
                .generated_paths
                .iter()
                .find(|(target, _)| file.starts_with(target))
                .map(|(_, why)| why.clone())
                .or_else(|| rendered_from(&repo.context.templates, &file));
            // Chart values render into the objects the policy admits.
            if matches!(
                kind,
                FileKind::Kubernetes | FileKind::Kustomize | FileKind::HelmValues
            ) {
                // The one nearest the file (the longest shared folder
                // prefix) is named; any one makes the fix unsafe.
                let inside = file.strip_prefix(&root).unwrap_or(&file);
                s.image_policy = repo
                    .context
                    .image_policies
                    .iter()
                    .max_by_key(|p| {
                        Path::new(p.as_str())
                            .components()
                            .zip(inside.components())
                            .take_while(|(a, b)| a == b)
                            .count()
                    })
                    .cloned();
            }
        }
        match kind {
            FileKind::Compose => {
                if let Some(text) = read(&root, &dir.join(".env")) {
                    s.dotenv = crate::sources::parse_dotenv(&text);
                }
            }
            FileKind::HelmValues => {
                if let Some(text) = read(&root, &dir.join("Chart.yaml"))
                    && let Ok(docs) = crate::sources::yaml::parse_shared(&text)
                    && let Some(doc) = docs.first()
                {
                    s.chart_app_version = doc
                        .get_scalar(&doc.root, "appVersion")
                        .map(|a| a.value.clone());
                    s.chart = Some(self.chart(&root, dir, &text));
                }
            }
            FileKind::HelmChart => {
                s.chart_lock = crate::bounded::read_inside(&root, &dir.join("Chart.lock")).is_ok();
            }
            FileKind::ContainerdHosts => {
                s.hosts_namespace = crate::kind::certs_d_namespace(path);
            }
            FileKind::Terraform => {
                s.terraform_module = terraform_module(&root, dir, &file).map(Arc::new);
            }
            FileKind::Quadlet => {
                s.quadlet_override = quadlet_override(&root, dir, &file);
            }
            _ => {}
        }
        // Flux setter markers may sit in any YAML the automation edits.
        if matches!(
            kind,
            FileKind::Kubernetes | FileKind::HelmValues | FileKind::Kustomize | FileKind::Compose
        ) {
            let repo = self.repo(&root);
            if repo.context.truncated.is_none() {
                s.flux = Some(repo.flux.clone());
            }
        }
        // The files whose images may be what the repository builds: its
        // Dockerfiles and Compose files, manifests that kustomize or a dev
        // tool fills in, and CI jobs and dev containers, which run on the
        // machine that built the image. A chart's values are pulled by a
        // cluster from a registry, never from a build's local store.
        if !matches!(
            kind,
            FileKind::Dockerfile
                | FileKind::Compose
                | FileKind::GitlabCi
                | FileKind::Kustomize
                | FileKind::Kubernetes
                | FileKind::Quadlet
                | FileKind::GithubActions
                | FileKind::Circleci
                | FileKind::BitbucketPipelines
                | FileKind::AzurePipelines
                | FileKind::Devcontainer
        ) {
            return s;
        }
        let repo = self.repo(&root);
        if kind == FileKind::Dockerfile {
            s.supplied_args = Some(repo.context.supplied_args_for(&file));
            s.template_name = file
                .file_name()
                .is_some_and(|n| crate::sources::template::is_template_name(&n.to_string_lossy()));
            s.build_refs = Some(Arc::new(repo.build_refs()));
            if let Some(args) = repo.context.dockerfile_args.get(&file) {
                s.compose_args = args.clone();
            }
        }
        if kind == FileKind::Compose
            && let Some(env) = repo.context.compose_env.get(&file)
        {
            s.run_env = env.clone();
        }
        if kind == FileKind::GitlabCi {
            s.gitlab_variables = gitlab_included_variables(&file, &root);
        }
        if kind == FileKind::Kubernetes {
            s.kustomize_images = repo.kustomize_overrides(&file);
        }
        if matches!(kind, FileKind::Kubernetes | FileKind::Kustomize) {
            s.kustomize_resource_of = repo.listed_by(&file);
        }
        let mut short_names = repo.context.short_names_for(&file);
        if let Some(why) = repo.context.containers_build(&file, kind) {
            short_names.get_or_insert_with(Default::default).built_by = Some(why);
        }
        s.short_names = short_names.map(Arc::new);
        s.cut = repo.context.truncated.clone();
        s.local = Some(repo.local.clone());
        s
    }

    /// A file changed, appeared or went away (an editor's event): read it
    /// again if it carries facts, and forget what was combined from it.
    /// Only that file is read; its root's facts are combined again on
    /// next use.
    pub fn changed(&self, path: &Path) {
        self.changed_to(path, None);
    }

    /// A file's text changed in an editor, before it was saved: its facts
    /// are read from `text` (at most the bounded reader's cap).
    pub fn edited(&self, path: &Path, text: &str) {
        self.changed_to(path, Some(text));
    }

    fn changed_to(&self, path: &Path, text: Option<&str>) {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        if name == ".git" || crate::kind::CONFIG_FILE_NAMES.contains(&name.as_str()) {
            // A root moved: start again.
            self.clear();
            return;
        }
        let absolute = crate::realpath::absolute(path);
        let file = crate::realpath::canonical(path).unwrap_or(absolute);
        let Some(dir) = file.parent() else { return };
        let root = self.root_of_folder(dir);
        if is_fact_file_in(&root, &file) {
            let fresh = match text {
                Some(t)
                    if (t.len() as u64) <= crate::bounded::MAX_FILE_BYTES
                        && file.starts_with(&root) =>
                {
                    Some(Arc::new(extract(&root, &file, t)))
                }
                Some(_) => None,
                None => read(&root, &file).map(|t| Arc::new(extract(&root, &file, &t))),
            };
            if let Ok(mut state) = self.state.lock() {
                match fresh {
                    Some(e) => state.index.insert(file.clone(), e),
                    None => state.index.remove(&file),
                };
            }
            if let Ok(mut repos) = self.repos.lock() {
                repos.retain(|r, _| !file.starts_with(r));
            }
        }
        if let Ok(mut charts) = self.charts.lock() {
            charts.retain(|chart, _| !file.starts_with(chart));
        }
    }
}

/// Whether a folder is a repository root: `.git` (a folder, or a file in
/// a worktree) or a refit config file.
fn is_marked(dir: &Path) -> bool {
    crate::marks::of(dir).any()
}

/// What the files of a repository say about each other.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct RepoContext {
    #[serde(skip_serializing_if = "is_empty_path")]
    pub root: PathBuf,
    /// Image names the repository builds (Compose `build:` with `image:`,
    /// `docker-bake.hcl` target `tags`, `docker build -t` in scripts,
    /// Makefiles and CI files), without tag or digest.
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub local_images: BTreeSet<String>,
    /// Repository paths a Bazel push rule pushes (`repository =
    /// "org/name"`, registry cut off).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub pushed_repositories: BTreeSet<String>,
    /// Image names whose `FROM` text code in the repository matches with
    /// a pattern (`awk '/FROM golang/'`), each with that file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub from_readers: Vec<(String, String)>,
    /// A file that says bashbrew builds the repository's images (it links
    /// parent and child by exact `FROM` text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bashbrew: Option<String>,
    /// With [`RepoContext::bashbrew`], the root's folders: bashbrew
    /// builds an image named for each (`tianon/perl` from `perl/`).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub bashbrew_dirs: BTreeSet<String>,
    /// Named build contexts (bake `contexts`, Compose `additional_contexts`,
    /// `--build-context name=…`).
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub named_contexts: BTreeSet<String>,
    /// Placeholder names a script substitutes before the build
    /// (`sed "s#FROM bats-jenkins.*#FROM ${parent}#"`, PowerShell
    /// `-replace "FROM bats-jenkins", "FROM $(…)"`): every name that
    /// starts with one is replaced, so is not pulled as written.
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub placeholder_prefixes: BTreeSet<String>,
    /// Build arguments Compose passes to a Dockerfile (`build: {context,
    /// dockerfile, args}`), by the Dockerfile's canonical path; only the
    /// arguments every service that builds it agrees on.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub dockerfile_args: BTreeMap<PathBuf, BTreeMap<String, String>>,
    /// Build arguments Compose passes to a Dockerfile, by name (values
    /// known or not), by the Dockerfile's canonical path.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub dockerfile_arg_names: BTreeMap<PathBuf, BTreeSet<String>>,
    /// Build arguments some build invocation sets, for any Dockerfile
    /// (`--build-arg NAME` in scripts, Makefiles and CI, bake `args`, CI
    /// `build-args`).
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub build_arg_names: BTreeSet<String>,
    /// Values some build invocation gives a build argument, for any
    /// Dockerfile (`--build-arg NAME=VALUE` in scripts, Makefiles and CI,
    /// bake `args`, CI `build-args`): plain values only, a few per name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub build_arg_values: BTreeMap<String, BTreeSet<String>>,
    /// File names (lower case) of the Dockerfiles some build invocation
    /// builds: `-f`/`--file` of a build command, `dockerfile` and
    /// `containerfile` for a build that names none, the Dockerfile of a
    /// Compose service, bake target, dev container or Skaffold artifact;
    /// `*` when one cannot be placed. A Dockerfile no invocation names is
    /// built in a way refit does not see.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub built_names: BTreeSet<String>,
    /// The [`RepoContext::built_names`] that a build other than Podman's
    /// or Buildah's builds (Docker, nerdctl, a tool variable that may be
    /// either, Compose, bake, build-push-action, dev containers,
    /// Skaffold): BuildKit reads them.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub buildkit_names: BTreeSet<String>,
    /// A build invocation whose arguments refit cannot read
    /// (`--build-arg "$@"`, `$(BUILD_ARGS)`, a CI expression): then any
    /// build argument may be set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_args_unknown: Option<String>,
    /// Why refit read the repository only in part (its byte bound, far
    /// above any real repository): then what it did not read is unknown,
    /// and fixes that rest on it are not safe.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truncated: Option<String>,
    /// How many files were read for it.
    #[serde(skip_serializing_if = "is_zero")]
    pub files: usize,
    /// Every kustomization, by its folder (canonical).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub kustomizations: BTreeMap<PathBuf, Kustomization>,
    /// How the containers tools would resolve short names, from the
    /// repository's `registries.conf` files: each with the folder it
    /// configures, in walk order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub short_names: Vec<(PathBuf, crate::facts::ShortNames)>,
    /// Files the containers tools build or run, by lower-case file name
    /// (or `*`, `*compose` for any), with the file that does so.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub containers_files: BTreeMap<String, String>,
    /// Folders holding an OpenShift resource (canonical), each with the
    /// first such file (repository-relative): the manifests at and below
    /// that folder run on CRI-O.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub openshift: Vec<(PathBuf, String)>,
    /// Folders of a test harness that applies the YAML files beside and
    /// below it and compares resources with them (chainsaw's
    /// `chainsaw-test.yaml`, the Kyverno CLI's `kyverno-test.yaml`,
    /// kuttl's `kuttl-test.yaml`), each with that file
    /// (repository-relative): those files are test data.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub test_harness: Vec<(PathBuf, String)>,
    /// Files and folders that a command in the repository writes, each
    /// with why: one file's share as written (`generated::read`), placed
    /// when combined (`generated::resolve`, canonical). A fix there would
    /// be overwritten or fail a regenerate-and-compare check.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub generated: Vec<(String, String)>,
    /// The combined [`RepoContext::generated`], placed (canonical).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub generated_paths: Vec<(PathBuf, String)>,
    /// Names a `kustomize edit set image NAME=…` rewrites.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub set_image_names: BTreeSet<String>,
    /// Image values written in expected outputs that tests compare with
    /// rendered files (`discover::compared_output`), each with the first
    /// such file (repository-relative); at most `MAX_GOLDEN_IMAGES`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub golden_images: BTreeMap<String, String>,
    /// Image references that test code writes as quoted literals
    /// (`test_literals`), each with the first such file
    /// (repository-relative); at most `MAX_GOLDEN_IMAGES`. A fix to a
    /// site written exactly so breaks a test that compares the two.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub test_literals: BTreeMap<String, String>,
    /// The names of the files those test files name (`x.yaml` of
    /// `"manifests/x.yaml"`): the test compares its literals with them.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub test_names: BTreeSet<String>,
    /// The name a template file renders (one file's share, when its text
    /// has template markers): `templates`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renders: Option<String>,
    /// The combined templates: what each renders (lower case), its
    /// folder (canonical) and the file (repository-relative); at most
    /// `MAX_GENERATED`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub templates: Vec<(String, PathBuf, String)>,
    /// Image names that Renovate or Dependabot rules match as written
    /// (`update_configs`), each with its file (repository-relative);
    /// combined, at most `update_configs::MAX_NAMES`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub update_names: Vec<(update_configs::Match, String)>,
    /// Files (repository-relative) holding an admission object that
    /// matches or rewrites image names (`image_policies::reads_images`);
    /// combined, at most `MAX_IMAGE_POLICIES`, the nearest one named.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image_policies: Vec<String>,
    /// Flux image automation objects (`ImagePolicy`, `ImageRepository`),
    /// for the setter markers that name them (FLX001).
    #[serde(skip_serializing_if = "crate::facts::FluxPolicies::is_empty")]
    pub flux: crate::facts::FluxPolicies,
    /// What each Makefile says about the builds it runs (one file's
    /// share; combined into `build_agreement`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub make: BTreeMap<PathBuf, make::MakeFile>,
    /// The builds of one file other than a Makefile's (build commands in
    /// scripts and CI, docker/build-push-action steps, Compose, bake, dev
    /// containers, Skaffold): one file's share, combined into
    /// `build_agreement` with the Makefiles' builds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub build_passes: Vec<passes::BuildPass>,
    /// What every build of a Dockerfile (by its canonical path) passes
    /// (`passes::agree`): the Dockerfile's default for those arguments is
    /// not what any build uses; the plain values passed are judged.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub build_agreement: BTreeMap<PathBuf, passes::Agreed>,
    /// The Compose runs of one script (one file's share; combined into
    /// `compose_env`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub compose_runs: Vec<compose_runs::ComposeRun>,
    /// Variables that every script running a Compose file (by its
    /// canonical path) sets and exports first.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub compose_env: BTreeMap<PathBuf, BTreeSet<String>>,
}

/// One kustomization: what it includes and the images it overrides.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Kustomization {
    /// `resources`, `bases`, `components` and patch files, canonical:
    /// files, or folders holding another kustomization.
    pub includes: Vec<PathBuf>,
    pub images: Vec<KustomizeImage>,
}

impl RepoContext {
    /// The names the repository builds itself, as file checks are handed
    /// them.
    pub fn local_names(&self) -> LocalNames {
        LocalNames {
            images: self.local_images.clone(),
            contexts: self.named_contexts.clone(),
            placeholder_prefixes: self.placeholder_prefixes.clone(),
            dev_paths: self
                .local_images
                .iter()
                .map(|n| bazel::without_registry(n).to_string())
                .chain(self.pushed_repositories.iter().cloned())
                .collect(),
            set_image: self.set_image_names.clone(),
        }
    }

    /// How the containers tools would resolve short names for a file (canonical): the
    /// configurations whose folder holds it, shallow to deep; `None` when
    /// none does.
    pub fn short_names_for(&self, file: &Path) -> Option<crate::facts::ShortNames> {
        if self.short_names.is_empty() {
            return None;
        }
        let mut applying: Vec<&(PathBuf, crate::facts::ShortNames)> = self
            .short_names
            .iter()
            .filter(|(owner, _)| file.starts_with(owner))
            .collect();
        if applying.is_empty() {
            return None;
        }
        applying.sort_by_key(|(owner, _)| owner.components().count());
        let mut merged = crate::facts::ShortNames::default();
        for (_, names) in applying {
            merged.merge(names);
        }
        Some(merged)
    }

    /// What the repository's build invocations say about a Dockerfile's
    /// (canonical) build arguments.
    pub fn supplied_args_for(&self, dockerfile: &Path) -> crate::site::SuppliedArgs {
        let mut names = self.build_arg_names.clone();
        if let Some(own) = self.dockerfile_arg_names.get(dockerfile) {
            names.extend(own.iter().cloned());
        }
        let name = dockerfile
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        crate::site::SuppliedArgs {
            built: self.built_names.contains("*") || self.built_names.contains(&name),
            containers_only: self.containers_only(&name),
            containers_builder: self.containers_builder(&name),
            from_readers: self
                .from_readers
                .iter()
                .filter_map(
                    |(pattern, by)| match pattern.strip_prefix(from_text::ANY_IN) {
                        // A reader of named Dockerfiles reads this one only if
                        // it is one of them.
                        Some(suffix) => dockerfile
                            .ends_with(suffix)
                            .then(|| (from_text::ANY.to_string(), by.clone())),
                        None => Some((pattern.clone(), by.clone())),
                    },
                )
                .chain(self.bashbrew.iter().flat_map(|by| {
                    self.bashbrew_dirs
                        .iter()
                        .map(move |d| (format!("*/{d}"), by.clone()))
                }))
                .collect(),
            always: self
                .build_agreement
                .get(dockerfile)
                .map(|a| a.always.clone())
                .unwrap_or_default(),
            values: self
                .build_agreement
                .get(dockerfile)
                .map(|a| a.values.clone())
                .unwrap_or_default(),
            names,
            unknown: self
                .build_args_unknown
                .clone()
                .or_else(|| self.truncated.clone()),
        }
    }
}

/// Whether a change to this file can change a repository context, a
/// chart's facts or the build references around a Dockerfile: the files
/// `scan`, `chart_facts` and `build_refs` read, and a new `.git` or config
/// that moves a root.
pub fn is_context_file(path: &Path) -> bool {
    if is_chart_template(path) {
        return true;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let yaml = name.ends_with(".yml") || name.ends_with(".yaml");
    yaml || name.ends_with(".hcl")
        || name.ends_with(".json")
        || bazel::is_bazel_file(&name)
        || runs_commands(&name)
        || name.ends_with(".tpl")
        || name == "kustomization"
        || name == ".git"
        || crate::workspace::shortnames::is_registries_conf(path)
}

/// Whether `path` is under a chart's `templates/` (any name: `chart_facts`
/// reads every file there, `NOTES.txt` too).
fn is_chart_template(path: &Path) -> bool {
    path.ancestors().skip(1).take(64).any(|dir| {
        dir.file_name().is_some_and(|n| n == "templates")
            && dir
                .parent()
                .is_some_and(|chart| chart.join("Chart.yaml").is_file())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_arguments_set_and_unknown() {
        let mut ctx = RepoContext::default();
        build_commands(
            "docker build --build-arg BASE_IMAGE=debian:12 --build-arg=GO_VERSION -t a .\n",
            &mut ctx,
        );
        bake(
            Path::new("/nonexistent/docker-bake.hcl"),
            "target \"app\" {\n  args = {\n    NODE = \"22\"\n  }\n}\n",
            &mut ctx,
            &mut BTreeMap::new(),
        );
        ci_build_args(
            "      - uses: docker/build-push-action@v6\n        with:\n          build-args: |\n            PY=3.12\n            RUST=1.90\n          push: false\n",
            &mut ctx,
        );
        let names: Vec<&str> = ctx.build_arg_names.iter().map(String::as_str).collect();
        assert_eq!(names, ["BASE_IMAGE", "GO_VERSION", "NODE", "PY", "RUST"]);
        assert_eq!(ctx.build_args_unknown, None);
        for unknown in [
            "docker build --build-arg \"$@\" .\n",
            "docker build $(BUILD_ARGS) -t a .\n",
            "podman build \"$@\" .\n",
        ] {
            let mut ctx = RepoContext::default();
            build_commands(unknown, &mut ctx);
            assert!(ctx.build_args_unknown.is_some(), "{unknown}");
        }
        let mut ctx = RepoContext::default();
        ci_build_args(
            "        build-args: ${{ steps.meta.outputs.args }}\n",
            &mut ctx,
        );
        assert!(ctx.build_args_unknown.is_some());
        // A Compose build whose Dockerfile refit cannot place (a context
        // relative to an including file): its arguments are set somewhere.
        let mut ctx = RepoContext::default();
        let mut args = BTreeMap::new();
        compose(
            Path::new("/nonexistent/elasticsearch/compose.yml"),
            "services:\n  es:\n    build:\n      context: ./elasticsearch\n      args:\n        - ELK_VERSION=${ELK_VERSION}\n",
            &mut ctx,
            &mut args,
        );
        assert!(ctx.build_arg_names.contains("ELK_VERSION"));
    }

    #[test]
    fn every_build_of_a_dockerfile_must_pass_an_argument() {
        let dir = tempfile::tempdir().unwrap();
        let root = crate::realpath::canonical(dir.path()).unwrap();
        let write = |name: &str, text: &str| {
            let path = root.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            (path, text.to_string())
        };
        let docker = write("app/Dockerfile", "ARG TAG=latest\nFROM alpine:${TAG}\n");
        let make = write(
            "Makefile",
            "image:\n\tdocker build --build-arg TAG=3.20 -f app/Dockerfile app\n",
        );
        let gitlab = write(
            ".gitlab-ci.yml",
            "build:\n  script:\n    - docker build --build-arg TAG=$CI_TAG -t app app\n",
        );
        let action = write(
            ".github/workflows/release.yml",
            "jobs:\n  image:\n    steps:\n      - uses: docker/build-push-action@v6\n        with:\n          context: app\n          build-args: |\n            TAG=3.21\n",
        );
        let files: Vec<(PathBuf, Arc<Extracted>)> = [&docker, &make, &gitlab, &action]
            .iter()
            .map(|(p, t)| (p.clone(), Arc::new(extract(&root, p, t))))
            .collect();
        let combine = |files: &[(PathBuf, Arc<Extracted>)]| {
            RepoFacts::combine(&root, files.iter().map(|(p, e)| (p, e)), None)
        };
        let file = crate::realpath::canonical(&docker.0).unwrap();
        let facts = combine(&files);
        let agreed = &facts.context.build_agreement[&file];
        assert_eq!(agreed.always.iter().collect::<Vec<_>>(), ["TAG"]);
        // The plain values, each with its build: judged by the tag rules.
        let values: Vec<(&str, &str)> = agreed
            .values
            .iter()
            .map(|(v, from)| (v["TAG"].as_str(), from.as_str()))
            .collect();
        assert_eq!(
            values,
            [
                ("3.21", ".github/workflows/release.yml"),
                ("3.20", "Makefile")
            ]
        );
        // A script that builds it without the argument vetoes it.
        let script = write("build.sh", "docker build -t app app\n");
        let mut more = files.clone();
        more.push((
            script.0.clone(),
            Arc::new(extract(&root, &script.0, &script.1)),
        ));
        assert!(combine(&more).context.build_agreement.is_empty());
        // Read under an outer root, a file's builds are placed as under
        // its own (the facts do not depend on the root that read them).
        let outer = Arc::new(extract(root.parent().unwrap(), &gitlab.0, &gitlab.1));
        assert_eq!(outer, files[2].1);
    }

    #[test]
    fn extensionless_shell_scripts_in_script_folders_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let root = crate::realpath::canonical(dir.path()).unwrap();
        let build = "#!/usr/bin/env bash\nset -e\ndocker build -t acme/app:dev app\n";
        assert!(is_fact_file(&root.join("hack/build")));
        let e = extract(&root, &root.join("hack/build"), build);
        assert!(e.part.local_images.iter().any(|n| n.contains("acme/app")));
        // Not a shell script, or not in a script folder: nothing is read.
        let e = extract(
            &root,
            &root.join("hack/notes"),
            "docker build -t acme/app:dev app\n",
        );
        assert!(e.part.local_images.is_empty() && e.part.built_names.is_empty());
        assert!(!is_fact_file(&root.join("docs/deploy")));
        assert!(!is_fact_file(&root.join("build/Dockerfile")));
    }

    #[test]
    fn flux_objects_are_facts_of_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = crate::realpath::canonical(dir.path()).unwrap();
        let policy = "apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImagePolicy\nmetadata:\n  name: app\n  namespace: flux-system\nspec:\n  imageRepositoryRef:\n    name: app\n";
        let repo = "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: charts\nspec:\n  type: oci\n  url: oci://ghcr.io/acme/charts\n";
        let a = Arc::new(extract(&root, &root.join("clusters/policy.yaml"), policy));
        let b = Arc::new(extract(&root, &root.join("infra/repo.yaml"), repo));
        assert_eq!(a.part.flux.policies[0].file, "clusters/policy.yaml");
        let pa = root.join("clusters/policy.yaml");
        let pb = root.join("infra/repo.yaml");
        let facts = RepoFacts::combine(&root, [(&pa, &a), (&pb, &b)].into_iter(), None);
        assert!(facts.flux.policy("flux-system", "app").is_some());
        assert_eq!(facts.flux.helm_repositories[0].value, "ghcr.io/acme/charts");
        // Serialized for the disk cache and read back the same.
        let json = serde_json::to_string(&*a).unwrap();
        assert_eq!(serde_json::from_str::<Extracted>(&json).unwrap(), *a);
    }

    /// Each (path under `root`, text) extracted as the index reads it.
    fn extracted_files(root: &Path, files: &[(&str, &str)]) -> Vec<(PathBuf, Arc<Extracted>)> {
        files
            .iter()
            .map(|(p, t)| {
                let path = root.join(p);
                let e = Arc::new(extract(root, &path, t));
                (path, e)
            })
            .collect()
    }

    #[test]
    fn files_rendered_from_templates_of_the_repository() {
        let root = PathBuf::from("/repo");
        let files = extracted_files(
            &root,
            &[
                (
                    "build/templates/r-ver.Dockerfile.txt",
                    "FROM ubuntu:{{series}}\n",
                ),
                ("app/Dockerfile.tmpl", "FROM {{ .Base }}\n"),
                // No markers: a text file, not a template.
                ("notes/web.Dockerfile.txt", "FROM nginx:1.27\n"),
            ],
        );
        let facts = RepoFacts::combine(&root, files.iter().map(|(p, e)| (p, e)), None);
        let why = |f: &str| rendered_from(&facts.context.templates, &root.join(f));
        assert_eq!(
            why("dockerfiles/r-ver_4.6.1.Dockerfile").as_deref(),
            Some("rendered from the template `build/templates/r-ver.Dockerfile.txt`")
        );
        assert!(why("dockerfiles/r-ver_devel.Dockerfile").is_some());
        assert!(why("app/Dockerfile").is_some());
        assert!(why("app/alpine/Dockerfile").is_some());
        // A generic name only below the template's folder.
        assert_eq!(why("Dockerfile"), None);
        assert_eq!(why("other/Dockerfile"), None);
        assert_eq!(why("dockerfiles/r-ver-base.Dockerfile"), None);
        assert_eq!(why("web.Dockerfile"), None);
        let json = serde_json::to_string(&*files[0].1).unwrap();
        assert_eq!(
            serde_json::from_str::<Extracted>(&json).unwrap(),
            *files[0].1
        );
    }

    #[test]
    fn image_literals_of_tests_that_name_the_file() {
        let root = PathBuf::from("/repo");
        let test = "m = 'manifests/upgrade-1.yaml'\nassert image == \"clickhouse/clickhouse-server:24.8\"\n";
        let files = extracted_files(
            &root,
            &[
                ("tests/e2e/test_upgrade.py", test),
                // Not test code: never read for literals.
                (
                    "dev/render.py",
                    "e = 'docs/example.yaml'\ni = 'clickhouse/clickhouse-server:24.8'\n",
                ),
            ],
        );
        assert!(is_fact_file_in(&root, &files[0].0));
        assert!(!is_fact_file_in(&root, &files[1].0));
        let facts = RepoFacts::combine(&root, files.iter().take(1).map(|(p, e)| (p, e)), None);
        let named = facts
            .test_literals_for(&root, &root.join("tests/e2e/manifests/upgrade-1.yaml"))
            .unwrap();
        assert_eq!(
            named
                .get("clickhouse/clickhouse-server:24.8")
                .map(String::as_str),
            Some("tests/e2e/test_upgrade.py")
        );
        assert!(
            facts
                .test_literals_for(&root, &root.join("docs/example.yaml"))
                .is_none()
        );
        assert!(
            facts
                .test_literals_for(&root, &root.join("tests/e2e/test_upgrade.py"))
                .is_none()
        );
    }

    #[test]
    fn skaffold_build_args_go_to_their_dockerfile() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("web")).unwrap();
        std::fs::write(
            dir.path().join("web/Dockerfile.prod"),
            "ARG BASE\nFROM $BASE\n",
        )
        .unwrap();
        let mut ctx = RepoContext::default();
        let mut args = BTreeMap::new();
        skaffold(
            &dir.path().join("skaffold.yaml"),
            "apiVersion: skaffold/v4beta11\nkind: Config\nbuild:\n  artifacts:\n  - image: acme/web\n    context: web\n    docker:\n      dockerfile: Dockerfile.prod\n      buildArgs:\n        BASE: debian:12\n        TAG: '{{.IMAGE_TAG}}'\n  - image: acme/jib\n    jib: {}\n  - image: acme/elsewhere\n    context: missing\n    docker:\n      buildArgs:\n        GONE: x\n",
            &mut ctx,
            &mut args,
        );
        let file = crate::realpath::canonical(&dir.path().join("web/Dockerfile.prod")).unwrap();
        assert_eq!(
            args.get(&file),
            Some(&vec![BTreeMap::from([(
                "BASE".to_string(),
                "debian:12".to_string()
            )])])
        );
        let names: Vec<&str> = ctx.dockerfile_arg_names[&file]
            .iter()
            .map(String::as_str)
            .collect();
        assert_eq!(names, ["BASE", "TAG"]);
        assert!(ctx.build_arg_names.contains("GONE"));
        assert!(ctx.local_images.contains("acme/jib"));
    }

    #[test]
    fn build_commands_and_bake() {
        let mut ctx = RepoContext::default();
        build_commands(
            "\tdocker build -t bats-jenkins:latest .\n  docker buildx build --tag=org/tool --build-context binary_dir=./bin .\necho docker build is here\n",
            &mut ctx,
        );
        bake(
            Path::new("/nonexistent/docker-bake.hcl"),
            "target \"app\" {\n  tags = [\"app-local:dev\", \"${REGISTRY}/app\"]\n  contexts = {\n    vendored = \"./vendor\"\n  }\n}\n",
            &mut ctx,
            &mut BTreeMap::new(),
        );
        let locals: Vec<&str> = ctx.local_images.iter().map(String::as_str).collect();
        assert_eq!(locals, ["app-local", "bats-jenkins", "org/tool"]);
        let named: Vec<&str> = ctx.named_contexts.iter().map(String::as_str).collect();
        assert_eq!(named, ["binary_dir", "vendored"]);
    }

    #[test]
    fn build_commands_over_lines_and_after_other_commands() {
        let mut ctx = RepoContext::default();
        build_commands(
            "podman build \\\n  --file Containerfile.base \\\n  --tag acme/base \\\n  .\nall:\n\tnpm run build && podman build -t acme/web -f Containerfile.web .\nCONTAINER_TOOL ?= docker\ndocker-build:\n\t$(CONTAINER_TOOL) build -t controller:latest .\n\t$(ENGINE) build --tag=acme/tool .; echo built\n# docker build -t commented/out .\nnpm run build -t not-an-image\n",
            &mut ctx,
        );
        let locals: Vec<&str> = ctx.local_images.iter().map(String::as_str).collect();
        assert_eq!(locals, ["acme/base", "acme/tool", "acme/web", "controller"]);
        // One line of many commands without separators: each word is read
        // for one command, so the work stays linear.
        let line = "docker build -t a/x ".repeat(20_000);
        let start = std::time::Instant::now();
        let mut ctx = RepoContext::default();
        build_commands(&line, &mut ctx);
        containers_builds("x.sh", &line.replace("docker", "podman"), None, &mut ctx);
        assert_eq!(ctx.local_images.len(), 1);
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn placeholders_scripts_replace() {
        let mut ctx = RepoContext::default();
        kustomize_set_image(
            "deploy:\n\tcd overlays/dev && \\\n\tkustomize edit set image \\\n\t  app-worker=$(REGISTRY)/app-worker:$(TAG) \\\n\t  app-api=$(REGISTRY)/app-api:$(TAG) && \\\n\tkustomize build . | kubectl apply -f -\n",
            &mut ctx,
        );
        // The tool in a variable, as kubebuilder's scaffold writes it, and
        // a path to it; not a word that only mentions it.
        kustomize_set_image(
            "deploy:\n\tcd config/manager && $(KUSTOMIZE) edit set image controller=${IMG}\n\tcd config/a && ${KUSTOMIZE_BIN} edit set image a-img=x\n\tbin/kustomize edit set image b-img=y\n\t$(NOT_IT) edit set image c-img=z\n",
            &mut ctx,
        );
        from_substitutions(
            "    sed -e \"s#FROM test-base.*#FROM ${parent}#g\" \"$dir/Dockerfile\" > \"$tmp\"\n    sed -i 's/FROM debian/FROM ubuntu/' Dockerfile\n    sed -i \"s/FROM node:.*/FROM node:${NODE_VERSION}/\" Dockerfile\n",
            &mut ctx,
        );
        skaffold(
            Path::new("/nonexistent/skaffold.yaml"),
            "apiVersion: skaffold/v2beta26\nkind: Config\nbuild:\n  artifacts:\n  - image: echo-app\nprofiles:\n- name: dev\n  build:\n    artifacts:\n    - image: echo-dev\n---\napiVersion: v1\nkind: Config\nbuild:\n  artifacts:\n  - image: not-skaffold\n",
            &mut ctx,
            &mut BTreeMap::new(),
        );
        let locals: Vec<&str> = ctx.local_images.iter().map(String::as_str).collect();
        assert_eq!(
            locals,
            [
                "a-img",
                "app-api",
                "app-worker",
                "b-img",
                "controller",
                "echo-app",
                "echo-dev"
            ]
        );
        let local = ctx.local_names();
        assert!(local.is_local("test-base-plugins"));
        assert!(!local.is_local("debian"));
        assert!(!local.is_local("node"));
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
                fallback: Some("image.registry".into()),
                literal_fallback: None,
            }
        );
        assert_eq!(get("b.image").primary.as_deref(), Some("b.registry"));
        let mut literal = BTreeMap::new();
        template_joins(
            "image: \"{{ default \"quay.io\" .Values.image.registry }}/{{ .Values.image.repository }}\"\n",
            &mut literal,
        );
        assert_eq!(
            literal
                .get("image.repository")
                .and_then(|j| j.literal_fallback.as_deref()),
            Some("quay.io")
        );
        assert!(joins.contains_key("c.repository"));
        assert_eq!(get("c.repository"), RegistryJoin::default());
        assert_eq!(joins.len(), 3);
    }

    #[test]
    fn coalesce_with_and_default_pipelines_name_the_registry() {
        let mut joins = BTreeMap::new();
        template_joins(
            "image: {{ with (coalesce .Values.global.imageRegistry (include \"r\" .) .Values.a.registry \"docker.io\") }}{{ . }}/{{ end }}{{ .Values.a.repository }}:{{ .Values.a.tag }}\nimage: \"{{ .Values.b.registry | default \"quay.io\" }}/{{ .Values.b.repository }}\"\nimage: {{ .Values.c.registry | default .Values.global.registry | quote }}/{{ .Values.c.repository }}\n",
            &mut joins,
        );
        let get = |k: &str| joins.get(k).cloned().unwrap_or_default();
        assert_eq!(
            get("a.repository"),
            RegistryJoin {
                primary: Some("a.registry".into()),
                fallback: Some("global.imageRegistry".into()),
                literal_fallback: Some("docker.io".into()),
            }
        );
        assert_eq!(
            get("b.repository"),
            RegistryJoin {
                primary: Some("b.registry".into()),
                fallback: None,
                literal_fallback: Some("quay.io".into()),
            }
        );
        assert_eq!(
            get("c.repository"),
            RegistryJoin {
                primary: Some("c.registry".into()),
                fallback: Some("global.registry".into()),
                literal_fallback: None,
            }
        );
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
