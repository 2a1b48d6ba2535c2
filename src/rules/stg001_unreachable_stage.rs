use super::{Rule, RuleContext, declare_rule, no_site_check};
use crate::diagnostic::Diagnostic;

declare_rule! {
    /// ## What it does
    /// Flags a Dockerfile stage that no build target reaches: it is not the
    /// last stage, no reachable stage is built `FROM` it, copies from it
    /// (`COPY --from=`) or mounts it (`RUN --mount=…,from=`), and the
    /// repository does not build it by name. refit looks for names built
    /// as targets anywhere in the Dockerfile's repository (a script in
    /// `scripts/` builds Dockerfiles in other folders):
    /// `docker-bake.hcl` / `docker-bake.json` `target`, Compose
    /// `build.target`, `--target` in Makefiles, justfiles, shell and
    /// PowerShell scripts, `package.json` scripts and `.gitlab-ci.yml`,
    /// and in `.github/workflows/` the `target` of
    /// `docker/build-push-action`, the `targets` of `docker/bake-action`
    /// and `--target` in `run:` steps (another action's `target` input,
    /// such as a Rust target triple, names no stage).
    ///
    /// When refit cannot find the repository root (no `.git` above the
    /// Dockerfile: a file copied out of its project), the build
    /// files that name targets may be missing, so only stages whose name
    /// suggests a fallback are reported.
    ///
    /// A stage reference written with a variable that may name a stage
    /// (`COPY --from="${VARIANT}"`, `FROM ${BASE}`, `FROM platform-${T}`,
    /// `AS ${NAME}`), or a target named by one (`--target $TARGET`,
    /// `--target ${{ matrix.target }}`), may select any stage through a
    /// build argument: then no stage is reported. `alpine:${VERSION}` names
    /// no stage (a stage name has no `:`). `FROM 0` and `COPY --from=0` use
    /// stage 0.
    ///
    /// When the stage's name suggests a fallback (`fallback`, `backup`,
    /// `alt`, `secondary`, `failover`…), the message says that Dockerfiles
    /// have no fallback between stages.
    ///
    /// ## Why is this bad?
    /// BuildKit builds only the stages the target needs. A stage nothing
    /// reaches is never built by `docker build .`: its base image is never
    /// pulled, its commands never run. A common misreading is a "fallback"
    /// stage:
    ///
    /// ```dockerfile
    /// FROM gcr.io/distroless/static:${DISTROLESS_VERSION} AS go-runtime-primary
    /// FROM alpine:${ALPINE_VERSION} AS go-runtime-fallback
    /// FROM go-runtime-primary AS go-runtime
    /// ```
    ///
    /// is not "try primary, fall back to alpine": `go-runtime-fallback` is
    /// never built, and when `gcr.io` fails, the build fails.
    ///
    /// What does work when a base image may be unavailable: a mirror or
    /// pull-through cache in the daemon's configuration (`registry-mirrors`
    /// in `daemon.json`, `mirrors` in `buildkitd.toml`, containerd
    /// `hosts.toml`), the base image as a `--build-arg` so CI can switch
    /// it, or separate bake targets that CI tries in turn.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM gcr.io/distroless/static:nonroot AS go-runtime-primary
    /// FROM alpine:3.20 AS go-runtime-fallback
    /// FROM go-runtime-primary AS go-runtime
    /// ```
    ///
    /// ## Use instead
    /// ```dockerfile
    /// ARG RUNTIME_IMAGE=gcr.io/distroless/static:nonroot
    /// FROM ${RUNTIME_IMAGE} AS go-runtime
    /// ```
    /// and `--build-arg RUNTIME_IMAGE=alpine:3.20` when CI must fall back.
    ///
    /// A stage kept on purpose for `docker build --target` outside the
    /// repository can be suppressed with `# refit: ignore[STG001]` above its
    /// `FROM`.
    code: "STG001",
    name: "unreachable-stage",
    severity: Warning,
    fix: None,
    summary: "A Dockerfile stage that no build target reaches",
    check: no_site_check,
    check_file: check_file,
}

/// Name parts that say a stage is meant as a fallback.
const FALLBACK_WORDS: &[&str] = &[
    "fallback",
    "backup",
    "alt",
    "alternate",
    "alternative",
    "secondary",
    "failover",
    "spare",
    "fallbacks",
];

/// Whether a stage name suggests a fallback (`go-runtime-fallback`,
/// `alt_base`, `backupImage`).
pub fn suggests_fallback(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|part| FALLBACK_WORDS.contains(&part))
        || lower.contains("fallback")
        || lower.contains("backup")
        || lower.contains("failover")
}

fn check_file(rule: &Rule, ctx: &RuleContext, out: &mut Vec<Diagnostic>) {
    let Some(graph) = &ctx.file.graph else {
        return;
    };
    // A stage a variable may name (`COPY --from=$SRC`, `AS ${NAME}`,
    // `FROM ${BASE}`), or a target a variable names (`--target $T` in a
    // build script or workflow), may be any stage: none is known unused.
    if graph.stages.len() < 2
        || graph.variable_refs
        || ctx
            .file
            .build_refs
            .as_ref()
            .is_some_and(|r| r.variable_target)
    {
        return;
    }
    let mut reached = graph.reachable();
    if let Some(refs) = &ctx.file.build_refs {
        for node in &graph.stages {
            if node.lower_name().is_some_and(|n| refs.targets(&n)) {
                graph.reach_from(node.index, &mut reached);
            }
        }
    }
    let known = crate::facts::BuildRefs::known(ctx.file.build_refs.as_deref());
    for node in &graph.stages {
        if reached.get(node.index).copied().unwrap_or(true) {
            continue;
        }
        let label = match &node.name {
            Some((name, _)) => format!("`{name}`"),
            None => format!("{} (`FROM {}`)", node.index, node.base.0),
        };
        let span = node.name.as_ref().map_or(node.base.1, |(_, s)| *s);
        let fallback = node
            .name
            .as_ref()
            .is_some_and(|(n, _)| suggests_fallback(n));
        // Without the repository, a stage may be a `--target` of build
        // files that were not copied along: only a fallback is certain.
        if !known && !fallback {
            continue;
        }
        let message = if fallback {
            format!(
                "Stage {label} is never built: Dockerfiles have no fallback between stages; BuildKit builds only the stages the target needs, so this stage is not tried when another base image fails"
            )
        } else {
            format!(
                "Stage {label} is unused: the last stage does not use it and no target in the repository names it (BuildKit skips it; the classic builder and kaniko build it for nothing)"
            )
        };
        let mut d = rule.report_at(span, message);
        d.help = Some(if fallback {
            "what works when a base image may fail: a mirror or pull-through cache in the daemon's \
             configuration (`registry-mirrors` in daemon.json, `mirrors` in buildkitd.toml, \
             containerd `hosts.toml`), the base image as a `--build-arg` CI can switch, or \
             separate bake targets that CI tries in turn"
                .to_string()
        } else {
            "remove the stage, use it from the stage that is built, or build it by name \
             (`docker build --target`, a bake target, Compose `build.target`)"
                .to_string()
        });
        out.push(d);
    }
}

#[cfg(test)]
mod tests {
    use super::suggests_fallback;

    #[test]
    fn fallback_names() {
        for n in [
            "go-runtime-fallback",
            "alt",
            "base_alt",
            "backupImage",
            "secondary",
        ] {
            assert!(suggests_fallback(n), "{n}");
        }
        for n in [
            "alpine",
            "builder",
            "salt",
            "go-runtime-primary",
            "altitude",
        ] {
            assert!(!suggests_fallback(n), "{n}");
        }
    }
}
