use super::knowledge::{AlpineRelease, Knowledge, RuntimePackages};
use super::{Rule, RuleContext, declare_rule, preview};
use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix};
use crate::reference::Reference;
use crate::site::{ImageSite, Relation, SiteKind, Span, Stage, StageInstruction};

declare_rule! {
    /// ## What it does
    /// Flags a `FROM` on a language runtime image, `node:<major>[-alpine…]`
    /// or `python:<x.y>-alpine…`, that can be the OS base image plus the
    /// distribution's own package, and offers that rewrite:
    ///
    /// - Alpine: `node:20-alpine` becomes `alpine:3.20` with
    ///   `RUN apk add --no-cache nodejs npm` right after the `FROM`. The
    ///   Alpine branch is one whose `nodejs` package has the same major
    ///   (the branch named in the tag when it has, else the newest);
    ///   `python:3.12-alpine` becomes `alpine:3.23` with
    ///   `apk add python3 py3-pip`. The table is `rules/runtimes.toml`.
    ///   When no branch packages the version, there is no fix and the
    ///   message says why.
    /// - Debian (`form = "debian"`): `node:20` becomes
    ///   `debian:bookworm-slim` with NodeSource's `setup_20.x` install.
    ///
    /// The stage name and `--platform` stay. Opt-in: select `BASE001`.
    ///
    /// The image is recognised through Docker Hub mirror paths too:
    /// ECR Public's `public.ecr.aws/docker/library/node`, `mirror.gcr.io`,
    /// the hosts of `rules/mirrors.toml` and a configured
    /// `[registries] proxies` prefix. The rewrite keeps the route the
    /// user chose for Docker Hub: through the proxy when one is configured
    /// (`harbor.corp.example/dockerhub/library/alpine:3.20`), otherwise
    /// Docker Hub (`alpine:3.20`), and the help says so.
    ///
    /// ```toml
    /// [rules.BASE001]
    /// form = "alpine"          # or "debian" (Node.js only); default "alpine"
    /// stages = ["build", "1"]  # names or indexes; default: every stage
    /// ```
    ///
    /// With the default form, Debian-based `node` tags are reported
    /// without a fix (moving from glibc to musl breaks native modules).
    ///
    /// ## Why is this bad?
    /// The runtime image is one more image from a registry that rate-limits
    /// and fails, and it follows its own release and deprecation schedule
    /// (`node:20-*` stopped being rebuilt on 2026-04-21). The OS base plus
    /// its package manager is often already mirrored and patched by the
    /// organisation, and keeps working when the runtime image is gone.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM node:20-alpine AS build
    /// USER node
    /// ```
    ///
    /// ## Use instead
    /// ```dockerfile
    /// FROM alpine:3.20 AS build
    /// RUN apk add --no-cache nodejs npm
    /// RUN addgroup -g 1000 node && adduser -u 1000 -G node -s /bin/sh -D node
    /// USER node
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe, always: the image changes. The help text lists what the
    /// runtime image provided, and the fix adapts where it can:
    /// - the `node` user (uid 1000) is added when the stage uses
    ///   `USER node`, `--chown=node` or `/home/node`;
    /// - `/usr/local/bin/node` (and npm, npx, yarn, `/usr/local/lib/node_modules`;
    ///   for Python `/usr/local/bin/python3`, pip) become `/usr/bin/…`;
    /// - yarn (`apk add yarn`, or `npm install -g yarn`) and corepack
    ///   (`npm install -g corepack`) are installed when the stage uses them;
    /// - `NODE_VERSION` is gone: reported, not replaced;
    /// - the image had `docker-entrypoint.sh` and `CMD ["node"]`: a final
    ///   stage with no `CMD` or `ENTRYPOINT` gets `CMD ["node"]`
    ///   (`["python3"]`), and `CMD ["app.js"]` becomes `CMD ["node", "app.js"]`;
    /// - Python: `python` is linked to `python3` when the stage calls
    ///   `python`, and `pip install` keeps working on Alpine's externally
    ///   managed Python through `PIP_BREAK_SYSTEM_PACKAGES=1`.
    ///
    /// A reference built from `ARG` values is reported without a fix.
    code: "BASE001",
    name: "runtime-base-image",
    severity: Warning,
    fix: Sometimes,
    summary: "A language runtime image that can be an OS base plus its package manager",
    check: check,
    opt_in: true,
}

/// Which OS base the rewrite targets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Form {
    #[default]
    Alpine,
    Debian,
}

/// `[rules.BASE001]` in refit.toml.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Options {
    #[serde(default)]
    pub form: Form,
    /// Stage names or indexes to rewrite; unset: every stage.
    pub stages: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Runtime {
    Node,
    Python,
}

/// What the tag says: the version and the variant.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Tag {
    major: u32,
    minor: Option<u32>,
    variant: Variant,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Variant {
    /// `-alpine` or `-alpine3.20`
    Alpine(Option<String>),
    /// Debian: the default, `-slim`, `-bookworm`, `-bookworm-slim`, …
    Debian(Option<String>),
}

fn parse_variant(variant: Option<&str>, knowledge: &Knowledge) -> Option<Variant> {
    let Some(v) = variant else {
        return Some(Variant::Debian(None));
    };
    if v == "alpine" {
        return Some(Variant::Alpine(None));
    }
    if let Some(release) = v.strip_prefix("alpine")
        && is_release(release)
    {
        return Some(Variant::Alpine(Some(release.to_string())));
    }
    if v == "slim" {
        return Some(Variant::Debian(None));
    }
    let codename = v.strip_suffix("-slim").unwrap_or(v);
    knowledge
        .runtimes
        .debian_codenames
        .iter()
        .any(|c| c == codename)
        .then(|| Variant::Debian(Some(codename.to_string())))
}

/// `3.20`
fn is_release(s: &str) -> bool {
    s.split_once('.').is_some_and(|(a, b)| {
        !a.is_empty() && !b.is_empty() && (a.bytes().chain(b.bytes())).all(|c| c.is_ascii_digit())
    })
}

fn parse_tag(tag: &str, knowledge: &Knowledge, runtime: Runtime) -> Option<Tag> {
    let (version, variant) = match tag.split_once('-') {
        Some((v, rest)) => (v, Some(rest)),
        None => (tag, None),
    };
    let variant = parse_variant(variant, knowledge)?;
    if runtime == Runtime::Node
        && let Some(major) = knowledge.runtimes.node_codenames.get(version)
    {
        return Some(Tag {
            major: *major,
            minor: None,
            variant,
        });
    }
    let mut parts = version.split('.');
    let number = |p: Option<&str>| -> Option<Option<u32>> {
        match p {
            None => Some(None),
            Some(p) if !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse().ok().map(Some)
            }
            Some(_) => None,
        }
    };
    let major = number(parts.next())??;
    let minor = number(parts.next())?;
    let _patch = number(parts.next())?;
    if parts.next().is_some() {
        return None;
    }
    Some(Tag {
        major,
        minor,
        variant,
    })
}

/// The runtime a `FROM` names, when it is an official runtime image
/// (`docker.io/library/node`, or that through a Docker Hub mirror path or
/// a configured proxy: `crate::identity`).
fn runtime_of(reference: &Reference, ctx: &RuleContext) -> Option<Runtime> {
    let upstream = crate::identity::upstream(reference, ctx.knowledge, ctx.policy);
    let name = upstream.normalized_name();
    match name.strip_prefix("docker.io/library/")? {
        "node" => Some(Runtime::Node),
        "python" => Some(Runtime::Python),
        _ => None,
    }
}

/// Where the rewrite's base is pulled from, when the reference names a
/// Docker Hub mirror path (ECR Public, a mirror host): the user's proxy
/// for Docker Hub when one is configured, else Docker Hub. `None`: the
/// reference is Docker Hub or goes through the proxy already, and keeps
/// its registry and namespace.
fn mirror_route(reference: &Reference, ctx: &RuleContext) -> Option<(String, String)> {
    let id = crate::identity::identity(reference, ctx.knowledge, ctx.policy)?;
    if matches!(id.route, crate::identity::Route::Proxy(_)) {
        return None;
    }
    let (prefix, route) = match ctx.policy.proxy_for("docker.io") {
        Some(proxy) => (
            format!("{}/library/", proxy.via),
            format!("through the configured proxy `{}`", proxy.via),
        ),
        None => (String::new(), "from Docker Hub".to_string()),
    };
    Some((
        prefix,
        format!(
            "`{}` comes from {}; the rewrite pulls its base {route}, the route configured for Docker Hub images (a mirror belongs in the daemon's settings)",
            reference.input(),
            id.route.label()
        ),
    ))
}

fn stage_selected(stage: &Stage, name: Option<&str>, options: &Options) -> bool {
    let Some(wanted) = &options.stages else {
        return true;
    };
    wanted.iter().any(|w| {
        w.trim() == stage.index.to_string()
            || name.is_some_and(|n| w.trim().eq_ignore_ascii_case(n))
    })
}

/// The rewrite's target and the instructions that install the runtime.
struct Plan {
    base: String,
    /// What the message says the base provides: "Alpine 3.20 packages Node.js 20".
    provides: String,
    install: Vec<String>,
    flavour: Flavour,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavour {
    Alpine,
    Debian,
}

fn pick_alpine<'k>(
    releases: &'k [AlpineRelease],
    pinned: Option<&str>,
    matches: impl Fn(&AlpineRelease) -> bool,
) -> Option<&'k AlpineRelease> {
    let candidates: Vec<&AlpineRelease> = releases.iter().filter(|r| matches(r)).collect();
    pinned
        .and_then(|p| candidates.iter().copied().find(|r| r.release == p))
        .or_else(|| candidates.last().copied())
}

/// `, but its support ended on 2022-11-01` for a release past its end of
/// support when the table was checked (ISO dates compare as text).
fn past_support(release: &AlpineRelease, knowledge: &Knowledge) -> String {
    if release.eol.as_str() < knowledge.runtimes.as_of.as_str() {
        format!(", but its support ended on {}", release.eol)
    } else {
        String::new()
    }
}

fn plan(runtime: Runtime, tag: &Tag, knowledge: &Knowledge, form: Form) -> Result<Plan, String> {
    let releases = &knowledge.runtimes.alpine;
    match (runtime, &tag.variant, form) {
        (Runtime::Node, Variant::Alpine(pinned), Form::Alpine) => {
            let Some(r) = pick_alpine(releases, pinned.as_deref(), |r| r.nodejs == tag.major)
            else {
                let mut majors: Vec<u32> = releases.iter().map(|r| r.nodejs).collect();
                majors.dedup();
                let list: Vec<String> = majors.iter().map(u32::to_string).collect();
                return Err(format!(
                    "no Alpine release packages Node.js {} (`main` has {})",
                    tag.major,
                    list.join(", ")
                ));
            };
            Ok(Plan {
                base: format!("alpine:{}", r.release),
                provides: format!(
                    "Alpine {} packages Node.js {}{}",
                    r.release,
                    r.nodejs,
                    past_support(r, knowledge)
                ),
                install: knowledge.runtimes.node.alpine_packages.clone(),
                flavour: Flavour::Alpine,
            })
        }
        (Runtime::Node, Variant::Debian(_), Form::Alpine) => {
            Err(match plan(runtime, tag, knowledge, Form::Debian) {
                Ok(_) => "it is Debian-based; set `form = \"debian\"` under `[rules.BASE001]` for the Debian rewrite (moving to Alpine's musl breaks native modules)".to_string(),
                Err(why) => format!("it is Debian-based, and the Debian form does not apply either: {why}"),
            })
        }
        (Runtime::Node, variant, Form::Debian) => {
            let ns = &knowledge.runtimes.nodesource;
            if !ns.majors.contains(&tag.major) {
                return Err(format!(
                    "NodeSource publishes no `setup_{}.x` (it has {}–{})",
                    tag.major,
                    ns.majors.first().copied().unwrap_or(0),
                    ns.majors.last().copied().unwrap_or(0)
                ));
            }
            let codename = match variant {
                Variant::Debian(Some(c)) if ns.debian.contains(c) => c.clone(),
                Variant::Debian(Some(c)) => {
                    return Err(format!(
                        "NodeSource does not support Debian `{c}` (it supports {})",
                        ns.debian.join(", ")
                    ));
                }
                _ => ns.debian.last().cloned().unwrap_or_else(|| "bookworm".to_string()),
            };
            Ok(Plan {
                base: format!("debian:{codename}-slim"),
                provides: format!(
                    "NodeSource's `setup_{}.x` installs Node.js {} on Debian {codename}",
                    tag.major, tag.major
                ),
                install: knowledge.runtimes.node.debian_packages.clone(),
                flavour: Flavour::Debian,
            })
        }
        (Runtime::Python, Variant::Alpine(pinned), _) => {
            let Some(minor) = tag.minor else {
                return Err(format!(
                    "`{}` names no minor version, and each Alpine release packages one Python minor",
                    tag.major
                ));
            };
            let version = format!("{}.{minor}", tag.major);
            let Some(r) = pick_alpine(releases, pinned.as_deref(), |r| r.python3 == version) else {
                let mut versions: Vec<&str> = releases.iter().map(|r| r.python3.as_str()).collect();
                versions.dedup();
                return Err(format!(
                    "no Alpine release packages Python {version} (`main` has {})",
                    versions.join(", ")
                ));
            };
            Ok(Plan {
                base: format!("alpine:{}", r.release),
                provides: format!(
                    "Alpine {} packages Python {version}{}",
                    r.release,
                    past_support(r, knowledge)
                ),
                install: knowledge.runtimes.python.alpine_packages.clone(),
                flavour: Flavour::Alpine,
            })
        }
        // Debian-based Python images have no packaged equivalent of their
        // exact version: not reported.
        (Runtime::Python, Variant::Debian(_), _) => Err(String::new()),
    }
}

/// Whether `word` occurs in `text` as a shell word or path component
/// (`yarn install`, `&&yarn`, not `yarnpkg` or `my-yarn`).
fn has_word(text: &str, word: &str) -> bool {
    word_positions(text, word).next().is_some()
}

fn word_positions<'a>(text: &'a str, word: &'a str) -> impl Iterator<Item = usize> + 'a {
    let bytes = text.as_bytes();
    let is_name = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.');
    text.match_indices(word).filter_map(move |(at, _)| {
        let before = at.checked_sub(1).and_then(|i| bytes.get(i)).copied();
        let after = bytes.get(at + word.len()).copied();
        let starts = before.is_none_or(|b| !is_name(b) && b != b'/' && b != b'$');
        let ends = after.is_none_or(|b| !is_name(b));
        (starts && ends).then_some(at)
    })
}

/// Whether an instruction that runs commands uses `word`, in its
/// arguments or its heredocs.
fn runs_word(ins: &StageInstruction, word: &str) -> bool {
    runs_commands(ins) && (has_word(&ins.args, word) || has_word(&ins.heredocs, word))
}

fn runs_commands(ins: &StageInstruction) -> bool {
    matches!(ins.keyword.as_str(), "run" | "cmd" | "entrypoint" | "shell")
        && ins.relation != Relation::CopiesFrom
}

impl Runtime {
    fn packages<'k>(&self, knowledge: &'k Knowledge) -> &'k RuntimePackages {
        match self {
            Runtime::Node => &knowledge.runtimes.node,
            Runtime::Python => &knowledge.runtimes.python,
        }
    }
}

/// A path occurrence ends where a path component ends.
fn path_positions<'a>(text: &'a str, path: &'a str) -> impl Iterator<Item = usize> + 'a {
    let bytes = text.as_bytes();
    text.match_indices(path).filter_map(move |(at, _)| {
        let after = bytes.get(at + path.len()).copied();
        let ends = after.is_none_or(|b| !(b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
            // `/usr/local/lib/python3.12/…` continues with the minor.
            || path.ends_with("python3");
        ends.then_some(at)
    })
}

/// What the fix does besides the rewrite, and what it cannot do.
#[derive(Default)]
struct Adaptation {
    lines: Vec<String>,
    edits: Vec<Edit>,
    changes: Vec<String>,
}

fn adapt(
    runtime: Runtime,
    plan: &mut Plan,
    stage: &Stage,
    alpine_release: Option<&str>,
    knowledge: &Knowledge,
) -> Adaptation {
    let mut a = Adaptation::default();
    let body = &stage.body;
    let lines_where = |pred: &dyn Fn(&StageInstruction) -> bool| -> Vec<String> {
        body.iter()
            .filter(|i| pred(i))
            .map(|i| i.line.to_string())
            .collect()
    };
    let at_lines = |lines: &[String]| -> String {
        match lines.len() {
            0 => String::new(),
            1 => format!(" (line {})", lines[0]),
            _ => format!(" (lines {})", lines.join(", ")),
        }
    };
    if runtime == Runtime::Node {
        let uses_user = |i: &StageInstruction| {
            i.relation != Relation::CopiesFrom
                && ((i.keyword == "user"
                    && i.args.trim().split(':').next().is_some_and(|u| u == "node"))
                    || i.args.contains("--chown=node")
                    || i.args.contains("/home/node"))
        };
        let lines = lines_where(&uses_user);
        // A stage that creates the user itself keeps doing so.
        let creates_user = body.iter().any(|i| {
            i.relation != Relation::CopiesFrom
                && (runs_word(i, "adduser") || runs_word(i, "useradd"))
                && (has_word(&i.args, "node") || has_word(&i.heredocs, "node"))
        });
        if !lines.is_empty() && !creates_user {
            a.lines.push(match plan.flavour {
                Flavour::Alpine => {
                    "RUN addgroup -g 1000 node && adduser -u 1000 -G node -s /bin/sh -D node"
                        .to_string()
                }
                Flavour::Debian => "RUN groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node".to_string(),
            });
            a.changes.push(format!(
                "the image's `node` user (uid 1000) is not there: the fix adds it{}",
                at_lines(&lines)
            ));
        }
        let yarn = lines_where(&|i| runs_word(i, "yarn"));
        if !yarn.is_empty() {
            match plan.flavour {
                Flavour::Alpine => plan.install.push("yarn".to_string()),
                Flavour::Debian => a.lines.push("RUN npm install -g yarn".to_string()),
            }
            a.changes.push(format!(
                "the image's bundled yarn is not there: the fix installs it{}",
                at_lines(&yarn)
            ));
        } else {
            a.changes
                .push("no yarn (the image bundled Yarn v1)".to_string());
        }
        let corepack = lines_where(&|i| runs_word(i, "corepack"));
        if !corepack.is_empty() {
            a.lines.push("RUN npm install -g corepack".to_string());
            a.changes.push(format!(
                "corepack is not bundled: the fix installs it with npm{}",
                at_lines(&corepack)
            ));
        }
        let version = lines_where(&|i| {
            i.relation != Relation::CopiesFrom
                && (i.args.contains("$NODE_VERSION") || i.args.contains("${NODE_VERSION"))
        });
        if !version.is_empty() {
            a.changes.push(format!(
                "`NODE_VERSION` is no longer set, and the stage reads it{}",
                at_lines(&version)
            ));
        }
    }
    if runtime == Runtime::Python {
        let bare = lines_where(&|i| runs_word(i, "python"));
        if !bare.is_empty() {
            a.lines
                .push("RUN ln -sf python3 /usr/bin/python".to_string());
            a.changes.push(format!(
                "Alpine has no `python` command: the fix links it to `python3`{}",
                at_lines(&bare)
            ));
        }
        let externally_managed = alpine_release
            .and_then(|r| r.split_once('.'))
            .and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)))
            .is_some_and(|v| v >= (3, 19));
        let pip = lines_where(&|i| {
            runs_commands(i)
                && [&i.args, &i.heredocs]
                    .iter()
                    .any(|t| t.contains("pip") && t.contains("install"))
        });
        if externally_managed && !pip.is_empty() {
            a.lines.push("ENV PIP_BREAK_SYSTEM_PACKAGES=1".to_string());
            a.changes.push(format!(
                "Alpine's Python is externally managed (PEP 668): the fix sets `PIP_BREAK_SYSTEM_PACKAGES=1` so `pip install` keeps working{}; a virtualenv is cleaner",
                at_lines(&pip)
            ));
        }
    }
    if plan.flavour == Flavour::Debian {
        let apk = lines_where(&|i| runs_word(i, "apk"));
        if !apk.is_empty() {
            a.changes.push(format!(
                "Debian has no `apk`: the stage's Alpine package steps must become `apt-get install`{}",
                at_lines(&apk)
            ));
        }
    }
    // Paths under /usr/local move to /usr.
    let mut moved_lines = Vec::new();
    let mut copied_lines = Vec::new();
    for ins in body {
        // `COPY --from=other` reads another stage's files; `COPY
        // --from=this-stage SRC… DEST` reads this stage's in its sources.
        let sources_end = match ins.relation {
            Relation::CopiesFrom => ins.destination_at.unwrap_or(0),
            _ if ins.copy_from.is_some() => continue,
            _ => ins.args.len(),
        };
        for (old, new) in &runtime.packages(knowledge).moved_paths {
            for at in path_positions(&ins.args, old) {
                let line = ins.line.to_string();
                if at >= sources_end {
                    continue;
                }
                if let Some(span) = ins.file_span(Span::new(at, at + old.len())) {
                    a.edits.push(Edit {
                        span,
                        content: (*new).to_string(),
                    });
                    if ins.relation == Relation::CopiesFrom {
                        copied_lines.push(line);
                    } else {
                        moved_lines.push(line);
                    }
                }
            }
        }
    }
    moved_lines.dedup();
    copied_lines.dedup();
    let binary = match runtime {
        Runtime::Node => "node",
        Runtime::Python => "python3",
    };
    if moved_lines.is_empty() {
        a.changes
            .push(format!("`{binary}` is in `/usr/bin`, not `/usr/local/bin`"));
    } else {
        a.changes.push(format!(
            "`{binary}` is in `/usr/bin`, not `/usr/local/bin`: the fix rewrites the paths{}",
            at_lines(&moved_lines)
        ));
    }
    if !copied_lines.is_empty() {
        a.changes.push(format!(
            "`COPY --from` this stage reads `/usr/local` paths: the fix rewrites its sources{}",
            at_lines(&copied_lines)
        ));
    }
    // The entrypoint and default command.
    let own_or_later = |i: &&StageInstruction| i.relation != Relation::CopiesFrom;
    let has_entrypoint = body
        .iter()
        .filter(own_or_later)
        .any(|i| i.keyword == "entrypoint");
    let cmds: Vec<&StageInstruction> = body
        .iter()
        .filter(own_or_later)
        .filter(|i| i.keyword == "cmd")
        .collect();
    if runtime == Runtime::Node {
        a.changes.push(
            "there is no `docker-entrypoint.sh`, which ran `node` for arguments that are not commands"
                .to_string(),
        );
    }
    if stage.is_final && !has_entrypoint && cmds.is_empty() {
        a.lines.push(format!("CMD [\"{binary}\"]"));
        a.changes.push(format!(
            "the default command was `{binary}`: the fix adds `CMD [\"{binary}\"]`"
        ));
    }
    if runtime == Runtime::Node && !has_entrypoint {
        for cmd in cmds.iter().filter(|c| c.relation == Relation::Own) {
            let Some((at, words)) = &cmd.exec_form else {
                continue;
            };
            let needs_node = words.first().is_some_and(|w| {
                w.starts_with('-') || [".js", ".mjs", ".cjs"].iter().any(|e| w.ends_with(e))
            });
            if needs_node && let Some(span) = cmd.file_span(Span::new(at + 1, at + 1)) {
                a.edits.push(Edit {
                    span,
                    content: "\"node\", ".to_string(),
                });
                a.changes.push(format!(
                    "the entrypoint ran `node` for `CMD {}`: the fix adds `node` (line {})",
                    cmd.args.trim(),
                    cmd.line
                ));
            }
        }
    }
    a
}

fn install_lines(plan: &Plan, tag: &Tag, escape: char, newline: &str) -> Vec<String> {
    match plan.flavour {
        Flavour::Alpine => vec![format!("RUN apk add --no-cache {}", plan.install.join(" "))],
        Flavour::Debian => {
            let cont = format!(" {escape}{newline}    ");
            let steps = [
                "apt-get update".to_string(),
                "apt-get install -y --no-install-recommends ca-certificates curl".to_string(),
                format!(
                    "curl -fsSL https://deb.nodesource.com/setup_{}.x -o /tmp/nodesource_setup.sh",
                    tag.major
                ),
                "bash /tmp/nodesource_setup.sh".to_string(),
                format!(
                    "apt-get install -y --no-install-recommends {}",
                    plan.install.join(" ")
                ),
                "rm -rf /var/lib/apt/lists/* /tmp/nodesource_setup.sh".to_string(),
            ];
            vec![format!("RUN {}", steps.join(&format!("{cont}&& ")))]
        }
    }
}

fn check(rule: &Rule, site: &ImageSite, ctx: &RuleContext, out: &mut Vec<Diagnostic>) {
    if site.kind != SiteKind::From {
        return;
    }
    let (Some(reference), Some(stage)) = (site.reference(), site.extra.stage.as_ref()) else {
        return;
    };
    let Some(runtime) = runtime_of(reference, ctx) else {
        return;
    };
    let default_options = Options::default();
    let options = ctx.options.base001.as_ref().unwrap_or(&default_options);
    if !stage_selected(stage, site.stage.as_deref(), options) {
        return;
    }
    let Some(tag) = reference
        .tag_str()
        .and_then(|t| parse_tag(t, ctx.knowledge, runtime))
    else {
        return;
    };
    let input = reference.input();
    let mut plan = match plan(runtime, &tag, ctx.knowledge, options.form) {
        Ok(p) => p,
        Err(why) if why.is_empty() => return,
        Err(why) => {
            out.push(rule.report(
                site,
                format!(
                    "Image `{input}` is a language runtime image, but there is no rewrite: {why}"
                ),
            ));
            return;
        }
    };
    // From the repository's last component to the end: `library/node:20`
    // keeps its registry and namespace, tag and digest are replaced.
    let path = reference.path_str();
    let last = reference.path.start + path.rfind('/').map_or(0, |i| i + 1);
    let mut range = Span::new(last, input.len());
    // A mirror path (ECR Public's `docker/library/`, `mirror.gcr.io`) is
    // replaced whole: the base goes the user's route for Docker Hub.
    let route = mirror_route(reference, ctx);
    if let Some((prefix, _)) = &route {
        range = Span::new(reference.domain.map_or(0, |d| d.start), input.len());
        plan.base = format!("{prefix}{}", plan.base);
    }
    let rewritten = preview(input, range, &plan.base);
    let alpine_release = plan
        .base
        .rsplit('/')
        .next()
        .and_then(|b| b.strip_prefix("alpine:"))
        .map(str::to_string);
    let adaptation = adapt(
        runtime,
        &mut plan,
        stage,
        alpine_release.as_deref(),
        ctx.knowledge,
    );
    let mut lines = install_lines(&plan, &tag, stage.escape, stage.newline);
    lines.extend(adaptation.lines);
    let package_step = match plan.flavour {
        Flavour::Alpine => format!("`apk add {}`", plan.install.join(" ")),
        Flavour::Debian => format!("NodeSource `setup_{}.x`", tag.major),
    };
    let mut d = rule.report(
        site,
        format!(
            "Image `{input}` is a language runtime image; `{}` plus {package_step} can replace it ({})",
            plan.base, plan.provides
        ),
    );
    let mut changes = adaptation.changes.clone();
    if let Some((_, why)) = &route {
        changes.insert(0, why.clone());
    }
    d.help = Some(format!("what changes:\n- {}", changes.join("\n- ")));
    let Some(span) = site.map_to_file(range).filter(|s| {
        // Only a reference written in the FROM line: an ARG default may
        // feed other stages, which would change without their install step.
        site.span.start <= s.start && s.end <= site.span.end
    }) else {
        let by_hand = changes
            .join("\n- ")
            .replace("the fix adds", "add")
            .replace("the fix installs", "install")
            .replace("the fix rewrites", "rewrite")
            .replace("the fix links", "link")
            .replace("the fix sets", "set");
        d.help = Some(format!(
            "write `FROM {rewritten}` and {package_step} by hand: the reference is built from variables; what changes:\n- {by_hand}"
        ));
        out.push(d);
        return;
    };
    let mut insert = String::new();
    for line in &lines {
        insert.push_str(stage.newline);
        insert.push_str(line);
    }
    let mut edits = vec![
        Edit {
            span,
            content: plan.base.clone(),
        },
        Edit {
            span: Span::new(stage.after_from, stage.after_from),
            content: insert,
        },
    ];
    edits.extend(adaptation.edits);
    d.fix = Some(Fix::new(
        format!("Rewrite to `{rewritten}` + {package_step}"),
        Applicability::Unsafe,
        edits,
    ));
    out.push(d);
}
