use super::{Rule, RuleContext, declare_rule};
use crate::diagnostic::Diagnostic;
use crate::reference::Reference;
use crate::site::{ImageSite, SiteKind, SiteValue};
use crate::sources::common::{MAX_VALUE, OVER_LIMIT, PLATFORM_ARGS};

declare_rule! {
    /// ## What it does
    /// Flags image references built from variables that have no value: an
    /// `ARG` declared without a default, or a variable that was never
    /// declared before the first `FROM`. Also flags references whose
    /// expansion grows past 64 KiB (`ARG A=$A$A` repeated), which refit
    /// does not build. In GitLab CI, variables GitLab predefines for every
    /// job (`CI_*`, `GITLAB_*`, such as `$CI_REGISTRY`) have a value when
    /// the job runs and are not flagged.
    ///
    /// ## Why is this bad?
    /// BuildKit expands an unset variable to the empty string, so the build
    /// either fails with `invalid reference format` or silently pulls a
    /// different image than intended. refit does not guess a value, so it
    /// cannot check the reference either.
    ///
    /// ## Example
    /// ```dockerfile
    /// ARG BASE
    /// FROM ${BASE}
    /// ```
    ///
    /// ## Use instead
    /// ```dockerfile
    /// ARG BASE=docker.io/library/node:22
    /// FROM ${BASE}
    /// ```
    /// or pass the value on the command line: `refit check --build-arg BASE=…`.
    ///
    /// ## BuildKit's build checks
    /// For a Dockerfile `FROM`, REF002 follows `docker build --check`:
    ///
    /// - **UndefinedArgInFrom**: a variable no `ARG` before the first
    ///   `FROM` declares, in the image or in `--platform`, is reported,
    ///   with the closest declared name (`MYARCH`: did you mean `MY_ARCH`?).
    ///   Predefined platform variables (`BUILDPLATFORM`, `TARGETARCH`, …)
    ///   are declared, and BuildKit gives them a value in every build, so
    ///   a reference whose only variables are these is never reported.
    /// - **InvalidDefaultArgInFrom**: an `ARG` declared without a default
    ///   expands to the empty string; when the result is empty or not a
    ///   valid reference (`ARG VERSION` + `FROM busybox:$VERSION` gives
    ///   `busybox:`), it is reported.
    /// - An `ARG` with an empty default (`ARG WINDOWS_VERSION=`) is the same
    ///   case: BuildKit expands it to the empty string, and
    ///   `FROM servercore:${WINDOWS_VERSION}` gives `servercore:`. Builds
    ///   that write this always pass `--build-arg`, so it is reported here,
    ///   as a variable without a usable value, not by REF001 as an invalid
    ///   reference.
    /// - When every variable is declared and the empty expansion is a valid
    ///   reference (`ARG VARIANT` + `FROM busybox:stable${VARIANT}`), BuildKit
    ///   is silent and so is REF002.
    ///
    /// ## What it reports by default
    /// Most variables in image references are set by the build: a
    /// `--build-arg` in a Makefile or script, Compose `build.args`, bake
    /// `args`, a CI variable. Unless REF002 is selected by its code, it
    /// reports only what the files refit reads prove:
    ///
    /// - a variable no `ARG` before the first `FROM` declares (a
    ///   `--build-arg` cannot set it), and a reference that grows past
    ///   64 KiB;
    /// - an `ARG` without a usable default used in `FROM`, only when no
    ///   build invocation in the repository sets that argument (Compose
    ///   `build.args` of a service that builds the Dockerfile; `--build-arg
    ///   NAME` in scripts, Makefiles, justfiles and CI files, also when a
    ///   script first collects it in a variable or an array; bake `args`;
    ///   dev container `build.args`; Skaffold `buildArgs`; GitHub Actions
    ///   `build-args`), no invocation passes arguments refit cannot read
    ///   (`--build-arg "$@"`, `$(BUILD_ARGS)`, an expression), and some
    ///   invocation refit read builds a Dockerfile of this name (a build
    ///   command's `-f`/`--file`, the default `Dockerfile` or
    ///   `Containerfile` of a build that names none, a Compose service,
    ///   bake target, dev container or Skaffold artifact, a
    ///   docker/build-push-action `file:`). A Dockerfile that no
    ///   invocation names is built in a way refit does not see (a
    ///   program, CI settings, another repository): the argument may well
    ///   be passed, so the default scope says nothing rather than guess.
    ///
    /// Variables in Compose files and CI files get their values from the
    /// environment, which refit does not see: they are reported only when
    /// REF002 is selected by code (`--select REF002`,
    /// `extend-select = ["REF002"]`), which reports every case above. The
    /// scope can also be set in refit.toml:
    ///
    /// ```toml
    /// [rules.REF002]
    /// scope = "all"   # or "proven"
    /// ```
    ///
    /// Deliberate difference: BuildKit checks the defaults even when a
    /// `--build-arg` gives a value; refit checks the values it was given
    /// (`refit check --build-arg`), which are the ones the build uses.
    code: "REF002",
    name: "unresolved-variable",
    severity: Warning,
    fix: None,
    summary: "A variable in an image reference has no value or default",
    check: check,
    check_file: check_platforms,
}

/// `[rules.REF002]` in refit.toml.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Options {
    /// What to report; by default `all` when REF002 is selected by its
    /// code and `proven` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
}

/// Which unresolved variables REF002 reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// Only what the files refit reads prove.
    Proven,
    /// Every variable without a value.
    All,
}

fn scope(ctx: &RuleContext) -> Scope {
    match ctx.options.ref002.as_ref().and_then(|o| o.scope) {
        Some(scope) => scope,
        None if ctx.selected_by_code => Scope::All,
        None => Scope::Proven,
    }
}

/// Whether the repository's build invocations may set one of `names`: a
/// default-scope finding needs every one of them proven unset.
/// A Dockerfile that no build invocation refit read names is built in a
/// way refit does not see (a program, a CI system's settings, another
/// repository), so nothing shows an argument missing.
fn may_be_supplied(ctx: &RuleContext, names: &[String]) -> bool {
    match &ctx.file.supplied_args {
        // refit did not read the repository (text from stdin).
        None => true,
        Some(args) => {
            !args.built || args.unknown.is_some() || names.iter().any(|n| args.names.contains(n))
        }
    }
}

/// The declared name closest to an undeclared one, as BuildKit suggests.
fn suggest<'a>(name: &str, declared: &'a [String]) -> Option<&'a str> {
    declared
        .iter()
        .map(|d| {
            let case = d.eq_ignore_ascii_case(name);
            let dist = super::ref005_from_not_a_stage::distance(
                &name.to_ascii_lowercase(),
                &d.to_ascii_lowercase(),
            );
            (if case { 0 } else { dist }, d)
        })
        .filter(|(dist, d)| *dist <= 2 && d.as_str() != name && *dist * 2 < d.len().max(name.len()))
        .min_by_key(|(dist, _)| *dist)
        .map(|(_, d)| d.as_str())
}

fn undeclared_message(names: &[String], raw: &str, declared: &[String]) -> String {
    let list = names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let (noun, verb) = if names.len() == 1 {
        ("Variable", "is")
    } else {
        ("Variables", "are")
    };
    let hint = names
        .iter()
        .find_map(|n| suggest(n, declared).map(|s| format!(" (did you mean `{s}`?)")))
        .unwrap_or_default();
    format!(
        "{noun} {list} in `FROM {raw}` {verb} not declared by an ARG before the first FROM{hint}"
    )
}

/// `--platform` values with undeclared variables (UndefinedArgInFrom).
fn check_platforms(rule: &Rule, ctx: &RuleContext, out: &mut Vec<Diagnostic>) {
    let Some(graph) = &ctx.file.graph else {
        return;
    };
    for node in &graph.stages {
        let Some((platform, span)) = &node.platform else {
            continue;
        };
        let undeclared: Vec<String> = variables(platform)
            .into_iter()
            .filter(|v| !graph.meta_args.iter().any(|m| m == v))
            .collect();
        if undeclared.is_empty() {
            continue;
        }
        let mut d = rule.report_at(
            *span,
            undeclared_message(
                &undeclared,
                &format!("--platform={platform}"),
                &graph.meta_args,
            ),
        );
        d.help = Some(
            "BuildKit expands it to the empty string and fails on the platform; declare it with `ARG` before the first FROM or fix its name"
                .to_string(),
        );
        out.push(d);
    }
}

/// The variable names in a word: `$NAME`, `${NAME}`, `${NAME:-x}`.
pub(crate) fn variables(word: &str) -> Vec<String> {
    let bytes = word.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        if bytes[i] == b'$' {
            let braced = bytes.get(i + 1) == Some(&b'{');
            let start = i + 1 + usize::from(braced);
            let mut end = start;
            while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
                end += 1;
            }
            if end > start
                && let Some(name) = word.get(start..end)
            {
                out.push(name.to_string());
            }
            i = end.max(i + 1);
            continue;
        }
        i += 1;
    }
    out
}

/// Variables GitLab sets for every job (`CI_REGISTRY`,
/// `CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX`, `GITLAB_USER_LOGIN`…): they
/// have a value when the job runs, which no file in the repository shows.
fn gitlab_predefined(name: &str) -> bool {
    name.starts_with("CI_") || name.starts_with("GITLAB_")
}

fn check(rule: &Rule, site: &ImageSite, ctx: &RuleContext, out: &mut Vec<Diagnostic>) {
    let SiteValue::Unresolved { missing } = &site.value else {
        return;
    };
    // A Quadlet specifier (`Image=%i`): systemd fills it when the unit
    // starts, as the template intends.
    if site.kind == crate::site::SiteKind::Quadlet {
        return;
    }
    let proven = scope(ctx) == Scope::Proven;
    if site.kind == crate::site::SiteKind::GitlabCi && missing.iter().all(|m| gitlab_predefined(m))
    {
        return;
    }
    // BuildKit gives its platform arguments (`TARGETOS`, `BUILDPLATFORM`, …)
    // a value in every build: a `FROM ${TARGETOS}` needs nothing from the
    // repository, and its value depends only on the platform built for.
    if site.extra.from_args.is_some() && missing.iter().all(|m| PLATFORM_ARGS.contains(&m.as_str()))
    {
        return;
    }
    if missing.iter().any(|m| m == OVER_LIMIT) {
        let mut d = rule.report(
            site,
            format!(
                "The reference expands to more than {} KiB (refit's limit), so refit does not resolve it",
                MAX_VALUE / 1024
            ),
        );
        d.help = Some(
            "variables that double themselves (`ARG A=$A$A`) grow past any useful image reference"
                .to_string(),
        );
        out.push(d);
        return;
    }
    if let Some(args) = &site.extra.from_args {
        if !args.undeclared.is_empty() {
            let mut d = rule.report(
                site,
                undeclared_message(&args.undeclared, &site.raw, &args.declared),
            );
            d.help = Some(
                "BuildKit expands it to the empty string (UndefinedArgInFrom); declare it with `ARG NAME=…` before the first FROM or fix its name"
                    .to_string(),
            );
            out.push(d);
            return;
        }
        if let Some(empty) = &args.with_empty {
            if Reference::parse_normalized(empty).is_ok() {
                // BuildKit builds `empty` by default and says nothing.
                return;
            }
            if proven && may_be_supplied(ctx, missing) {
                return;
            }
            let first = missing.first().map(String::as_str).unwrap_or("NAME");
            let shown = if empty.is_empty() {
                "an empty reference".to_string()
            } else {
                format!("the invalid reference `{empty}`")
            };
            let default = if args.empty_defaults.iter().any(|e| e == first) {
                "an empty default"
            } else {
                "no default"
            };
            let mut d = rule.report(
                site,
                format!(
                    "Without a build argument, `FROM {}` is {shown}: `{first}` has {default}",
                    site.raw
                ),
            );
            let seen = if proven {
                "; no build invocation in the repository sets it"
            } else {
                ""
            };
            d.help = Some(format!(
                "give the ARG a default before the first FROM (`ARG {first}=…`) or pass `--build-arg {first}=…` (BuildKit: InvalidDefaultArgInFrom){seen}"
            ));
            out.push(d);
            return;
        }
    }
    // Compose and CI variables come from the environment, and a FROM's
    // ARGs without a default from the build's arguments: neither shows.
    if proven && (site.extra.from_args.is_none() || may_be_supplied(ctx, missing)) {
        return;
    }
    let names = missing
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let noun = if missing.len() == 1 {
        "Variable"
    } else {
        "Variables"
    };
    let verb = if missing.len() == 1 { "has" } else { "have" };
    let mut d = rule.report(
        site,
        format!("{noun} {names} in `{}` {verb} no value", site.raw),
    );
    let first = missing.first().map(String::as_str).unwrap_or("NAME");
    d.help = Some(match site.kind {
        SiteKind::ComposeService => format!(
            "set `{first}` in the environment or the `.env` file, or write a default (`${{{first}:-…}}`)"
        ),
        SiteKind::Circleci
        | SiteKind::BitbucketPipelines
        | SiteKind::AzurePipelines
        | SiteKind::Drone
        | SiteKind::Woodpecker
        | SiteKind::CloudBuild => format!(
            "refit does not see the values the CI gives `{first}` when the pipeline runs (parameters, pipeline variables, project settings)"
        ),
        SiteKind::BakeContext | SiteKind::BakeTag => format!(
            "declare `{first}` with a default (`variable \"{first}\" {{ default = \"…\" }}`); refit does not see the environment `docker buildx bake` reads, nor expressions it evaluates"
        ),
        SiteKind::GitlabCi | SiteKind::GithubActions => format!(
            "refit does not see CI variables set outside the file (project or group settings): define `{first}` under `variables:` to check the reference"
        ),
        _ => format!(
            "give the ARG a default before the first FROM (`ARG {first}=…`) or pass `--build-arg {first}=…`"
        ),
    });
    out.push(d);
}
