//! Checking one text: front-end, then rules, then selection.

use crate::diagnostic::{Diagnostic, file_error};
use crate::kind::FileKind;
use crate::rules::{RULES, RuleContext, knowledge::Knowledge};
use crate::settings::Settings;
use crate::site::ImageSite;
use crate::sources::{self, SourceOptions};

/// The result of checking one text.
#[derive(Debug, Clone)]
pub struct Checked {
    pub sites: Vec<ImageSite>,
    pub diagnostics: Vec<Diagnostic>,
}

/// What a front-end gets from the configuration alone (a text with no
/// files around it: stdin, a test).
pub fn options(settings: &Settings) -> SourceOptions {
    SourceOptions {
        build_args: settings.build_args.clone(),
        env: settings.env.clone(),
        ..SourceOptions::default()
    }
}

/// Extract the image sites of a text, with nothing known around it.
pub fn extract(
    kind: FileKind,
    text: &str,
    settings: &Settings,
) -> Result<Vec<ImageSite>, Box<Diagnostic>> {
    extract_with_notes(kind, text, &options(settings)).map(|(sites, _)| sites)
}

/// Extract the image sites of a text, with notes about how it was read
/// (`N001`: a templated file that is not YAML, read line by line).
pub fn extract_with_notes(
    kind: FileKind,
    text: &str,
    input: &SourceOptions,
) -> Result<(Vec<ImageSite>, Vec<Diagnostic>), Box<Diagnostic>> {
    extract_all(kind, text, input).map(|e| (e.sites, e.notes))
}

/// Everything a front-end read in a text: the sites rules check, the
/// sites left out as template placeholders, and notes.
#[derive(Debug, Clone, Default)]
pub struct Extraction {
    pub sites: Vec<ImageSite>,
    /// References with a template placeholder (`{{ .image }}`,
    /// `__IMAGE__`): not references yet, so not checked (note N001), but
    /// `refit inventory` lists them as unresolved.
    pub placeholders: Vec<ImageSite>,
    pub notes: Vec<Diagnostic>,
}

/// Extract a text's sites as `check` reads them, keeping the placeholder
/// sites it leaves out.
pub fn extract_all(
    kind: FileKind,
    text: &str,
    input: &SourceOptions,
) -> Result<Extraction, Box<Diagnostic>> {
    extract_all_with(kind, text, input, None)
}

/// `extract_all`, also setting `graph` to a Dockerfile's stage graph from
/// the same parse (when `graph` is given).
fn extract_all_with(
    kind: FileKind,
    text: &str,
    input: &SourceOptions,
    graph: Option<&mut Option<crate::site::StageGraph>>,
) -> Result<Extraction, Box<Diagnostic>> {
    let (mut sites, mut notes) = extract_sites(kind, text, input, graph)?;
    mark_shared_anchors(kind, text, &mut sites);
    let option = text.contains(sources::template::DEVCONTAINER_OPTION);
    let placeholders =
        template_placeholders(kind, &mut sites, &mut notes, input.template_name, option);
    if let Some(local) = &input.local {
        // Podman's `localhost/NAME` is its `NAME` only where Podman or
        // Buildah may read the file.
        // A Dockerfile whose builds refit sees are all BuildKit's keeps
        // the two spellings apart; other files may be read by either.
        let podman = kind != FileKind::Dockerfile
            || input
                .supplied_args
                .as_ref()
                .is_none_or(|a| a.containers_builder.is_some() || a.containers_only.is_some());
        mark_local(&mut sites, local, podman);
    }
    let set_image = input.local.as_ref().map(|l| &l.set_image);
    if !input.kustomize_images.is_empty() || set_image.is_some_and(|s| !s.is_empty()) {
        mark_kustomized(&mut sites, &input.kustomize_images, set_image);
    }
    Ok(Extraction {
        sites,
        placeholders,
        notes,
    })
}

/// A YAML value written once under an anchor (`&img`) and used again
/// through aliases (`*img`) is one place for all its uses, image or not
/// (a CI `variables:` entry, a CircleCI `machine.image`): an edit there
/// changes them all, so no fix edits it (`Extra::shared_anchor`).
fn mark_shared_anchors(kind: FileKind, text: &str, sites: &mut [ImageSite]) {
    let yaml = !matches!(
        kind,
        FileKind::Dockerfile
            | FileKind::DaemonJson
            | FileKind::BuildkitToml
            | FileKind::ContainerdHosts
            | FileKind::RegistriesConf
            | FileKind::Quadlet
            | FileKind::Devcontainer
            | FileKind::Template
    );
    // Only a text with both an anchor and an alias is parsed again.
    if !yaml || !text.contains('&') || !text.contains('*') || sites.is_empty() {
        return;
    }
    let Ok(docs) = sources::yaml::parse_shared(text) else {
        return;
    };
    let spans: Vec<crate::site::Span> = docs.iter().flat_map(|d| d.aliased_scalars()).collect();
    if spans.is_empty() {
        return;
    }
    for site in sites {
        let crate::site::SiteValue::Resolved { pieces, .. } = &site.value else {
            continue;
        };
        let hit: Vec<crate::site::Span> = spans
            .iter()
            .filter(|s| {
                pieces
                    .iter()
                    .filter_map(|p| p.file)
                    .any(|f| s.start <= f.start && f.end <= s.end)
            })
            .copied()
            .collect();
        if !hit.is_empty() {
            site.extra.frozen.extend(hit);
            site.extra.kept = Some(
                "it sits under a YAML anchor, and every alias of the anchor (images or not) would change with it"
                    .to_string(),
            );
        }
    }
}

/// References with a template placeholder (`${IMAGE}` in a manifest a
/// script runs `envsubst` on, `{{ .image }}`, `__IMAGE__`, `IMAGE_URL`) are
/// not references yet: they are left out, and the file gets note N001 (so
/// no fix is offered in it). A file named as a template gets the note too.
/// Returns the sites left out.
fn template_placeholders(
    kind: FileKind,
    sites: &mut Vec<ImageSite>,
    notes: &mut Vec<Diagnostic>,
    named: bool,
    devcontainer_option: bool,
) -> Vec<ImageSite> {
    // `${{ matrix.image }}` is a GitHub expression, not a template; so are
    // the other CIs' variables (`$(tag)`, `<< parameters.v >>`).
    if matches!(
        kind,
        FileKind::GithubActions
            | FileKind::Circleci
            | FileKind::BitbucketPipelines
            | FileKind::AzurePipelines
            | FileKind::Bake
            | FileKind::Drone
            | FileKind::Woodpecker
            | FileKind::CloudBuild
            | FileKind::Terraform
    ) {
        return Vec::new();
    }
    // Tools that interpolate `$VAR` themselves: there it is a variable.
    let shell = matches!(
        kind,
        FileKind::Kubernetes | FileKind::HelmValues | FileKind::Kustomize | FileKind::Devcontainer
    );
    let mut found: Option<String> = None;
    let mut left_out = Vec::new();
    for s in std::mem::take(sites) {
        if let Some(r) = s.reference() {
            // `registry/repo/app:latest` beside `your-password`: no name
            // on Docker Hub has three path components, so a first component
            // with no dot or port there stands for a registry to fill in.
            // (Helm values and kustomize names are joined or matched, not
            // pulled as written; Podman files may search other registries.)
            if r.domain.is_none()
                && r.path_str().matches('/').count() >= 2
                && !matches!(
                    kind,
                    FileKind::HelmValues | FileKind::Kustomize | FileKind::Quadlet
                )
                && s.extra.rendered.is_none()
            {
                found.get_or_insert_with(|| {
                    let first = r.path_str().split('/').next().unwrap_or_default();
                    format!("`{first}/…` has three path components and no registry, which no Docker Hub name has, so `{first}` is a placeholder")
                });
                left_out.push(s);
                continue;
            }
            sites.push(s);
            continue;
        }
        // A dev container template's options feed its ARG defaults too:
        // every unresolved reference in it waits for the template.
        if devcontainer_option {
            found.get_or_insert_with(|| {
                "`${templateOption:…}` is a template placeholder".to_string()
            });
            left_out.push(s);
            continue;
        }
        match sources::template::placeholder(&s.raw, shell) {
            Some(p) => {
                found.get_or_insert_with(|| {
                    let p: String = p.chars().take(60).collect();
                    format!("`{p}` is a template placeholder")
                });
                left_out.push(s);
            }
            None => sites.push(s),
        }
    }
    if !notes.is_empty() {
        return left_out;
    }
    let why = match (found, named) {
        (Some(why), _) => why,
        (None, true) => "its name says it is a template".to_string(),
        (None, false) => return left_out,
    };
    notes.push(crate::diagnostic::file_note(
        "N001",
        format!(
            "Read as a template: {why}; references with placeholders are not checked, and no fixes are offered"
        ),
    ));
    left_out
}

/// A file that does not parse but holds template statements: a note, and
/// its plain image lines (`image:`, `FROM`), read without fixes.
fn read_as_template(kind: FileKind, text: &str, why: &str) -> (Vec<ImageSite>, Vec<Diagnostic>) {
    let (what, sites) = if kind == FileKind::Dockerfile {
        ("Dockerfile", sources::template::dockerfile_from_lines(text))
    } else {
        let mut sites = sources::kubernetes::extract_lines(text);
        let relabel = match kind {
            FileKind::Compose => Some(crate::site::SiteKind::ComposeService),
            FileKind::GitlabCi => Some(crate::site::SiteKind::GitlabCi),
            FileKind::HelmValues => Some(crate::site::SiteKind::HelmValue),
            _ => None,
        };
        if let Some(k) = relabel {
            for s in &mut sites {
                s.kind = k;
            }
        }
        ("YAML", sites)
    };
    let plain = if kind == FileKind::Dockerfile {
        "`FROM`"
    } else {
        "`image:`"
    };
    let note = crate::diagnostic::file_note(
        "N001",
        format!(
            "Skipped as {what}: template expressions make it invalid ({why}); only plain {plain} lines were read, without fixes"
        ),
    );
    (sites, vec![note])
}

/// The sites of a text as its front-end reads them, and notes about how.
fn extract_sites(
    kind: FileKind,
    text: &str,
    input: &SourceOptions,
    graph: Option<&mut Option<crate::site::StageGraph>>,
) -> Result<(Vec<ImageSite>, Vec<Diagnostic>), Box<Diagnostic>> {
    // A Kubernetes object kept beside pipelines (`azure-pipelines/pod.yaml`,
    // `.circleci/pod.yaml`) is a manifest, whatever its folder says.
    let kind = match kind {
        FileKind::Circleci | FileKind::AzurePipelines | FileKind::Woodpecker
            if sources::kubernetes::looks_like_manifest(text) =>
        {
            FileKind::Kubernetes
        }
        k => k,
    };
    if kind == FileKind::Kubernetes && sources::kubernetes::looks_like_manifest(text) {
        match sources::kubernetes::extract_with(text, input.flux.as_deref()) {
            // A templated manifest outside `templates/` that is not YAML:
            // skipped as YAML, said so, and its plain `image:` lines read.
            Err(e)
                if sources::yaml::is_templated(text)
                    || sources::template::file_marker(text).is_some() =>
            {
                let why = e
                    .message
                    .strip_prefix("invalid YAML: ")
                    .unwrap_or(&e.message);
                let marker =
                    sources::template::file_marker(text).unwrap_or_else(|| "`{{ … }}`".to_string());
                let note = crate::diagnostic::file_note(
                    "N001",
                    format!(
                        "Skipped as YAML: template expressions ({marker}) make it invalid ({why}); only plain `image:` lines were read, without fixes"
                    ),
                );
                return Ok((sources::kubernetes::extract_lines(text), vec![note]));
            }
            Err(e) => return Err(Box::new(file_error("E004", e.message, e.span))),
            Ok(sites) => return Ok((sites, Vec::new())),
        }
    }
    let result = match kind {
        FileKind::Dockerfile => match graph {
            Some(graph) => {
                let (built, found) = sources::dockerfile::extract_with_graph(text, input);
                *graph = built;
                found
            }
            None => sources::dockerfile::extract(text, input),
        },
        FileKind::Compose => sources::compose::extract(text, input),
        FileKind::HelmValues => sources::helm::extract(text, input),
        // GitHub never runs a workflow below the repository root.
        FileKind::GithubActions if input.nested_workflow => Ok(Vec::new()),
        FileKind::GithubActions => sources::ci::extract_github(text),
        FileKind::GitlabCi => sources::ci::extract_gitlab_with(text, &input.gitlab_variables),
        FileKind::Kustomize => sources::kustomize::extract(text),
        FileKind::Template => Ok(Vec::new()),
        FileKind::DaemonJson => sources::daemon::extract_daemon_json(text),
        FileKind::BuildkitToml => sources::daemon::extract_buildkit(text),
        FileKind::ContainerdHosts => {
            sources::daemon::extract_containerd_hosts(text, input.hosts_namespace.as_deref())
        }
        FileKind::RegistriesConf => sources::daemon::extract_registries_conf(text),
        FileKind::Quadlet => Ok(sources::quadlet::extract_with(
            text,
            input.quadlet_override.as_deref(),
        )),
        FileKind::Devcontainer => sources::devcontainer::extract(text),
        FileKind::Circleci => sources::other_ci::extract_circleci(text),
        FileKind::BitbucketPipelines => sources::other_ci::extract_bitbucket(text),
        FileKind::AzurePipelines => sources::other_ci::extract_azure(text),
        FileKind::Bake => sources::bake::extract(text),
        FileKind::Drone => sources::pipelines::extract_drone(text),
        FileKind::Woodpecker => sources::pipelines::extract_woodpecker(text),
        FileKind::CloudBuild => sources::pipelines::extract_cloudbuild(text),
        FileKind::Ko => sources::ko::extract(text),
        FileKind::Terraform => sources::terraform::extract_with(
            text,
            input.terraform_module.as_deref().map(|m| &m[..]),
        ),
        FileKind::HelmChart => sources::charts::extract_chart(text),
        // A helmfile with Go templates: read with its actions blanked, N001.
        FileKind::Helmfile => match sources::charts::read_helmfile(text) {
            Ok((sites, Some(why))) => {
                return Ok((sites, vec![crate::diagnostic::file_note("N001", why)]));
            }
            other => other.map(|(sites, _)| sites),
        },
        // Manifests are read above.
        FileKind::Kubernetes => Ok(Vec::new()),
    };
    match result {
        Ok(sites) => Ok((sites, Vec::new())),
        // A template that is not valid as what it will become: note N001
        // and its plain image lines, never a syntax error.
        Err(e)
            if kind != FileKind::GithubActions
                && (sources::template::file_marker(text).is_some()
                    || (kind == FileKind::Dockerfile
                        && (input.template_name
                            || sources::template::lone_variable_line(text).is_some()))) =>
        {
            let why = e
                .message
                .strip_prefix("invalid YAML: ")
                .unwrap_or(&e.message);
            Ok(read_as_template(kind, text, why))
        }
        // A Dockerfile with no `FROM` and nothing that builds names no
        // image: empty, or a fragment a generator pastes into a stage
        // (BlueBuild's `containerfiles/labels/Containerfile`, a `LABEL`
        // alone). A `RUN` before any `FROM` stays the error it is.
        // BuildKit would refuse to build it alone, but nothing refit
        // checks is in it: a note, not a file error that fails the run.
        Err(e)
            if kind == FileKind::Dockerfile
                && (e.message == "file with no instructions"
                    || e.message == "no build stage in current context")
                && !has_from_line(text)
                && !does_work(text) =>
        {
            Ok((
                Vec::new(),
                vec![crate::diagnostic::file_note(
                    "N001",
                    format!(
                        "Skipped as a Dockerfile: {} and no `FROM`, so it names no image (a fragment another file includes, or unused)",
                        e.message
                    ),
                )],
            ))
        }
        Err(e) => Err(Box::new(file_error("E004", e.message, e.span))),
    }
}

/// Whether a text has an instruction that builds something (`RUN`,
/// `COPY`, `ADD`, `CMD`, `ENTRYPOINT`, `ONBUILD`): without a `FROM` that
/// is a broken Dockerfile (E004), while `LABEL`, `ENV`, `ARG` and the
/// like alone are a fragment another file includes.
fn does_work(text: &str) -> bool {
    const WORK: [&str; 6] = ["run", "copy", "add", "cmd", "entrypoint", "onbuild"];
    text.lines().any(|l| {
        let word = l.split_whitespace().next().unwrap_or("");
        WORK.iter().any(|w| word.eq_ignore_ascii_case(w))
    })
}

/// Whether a text has a line starting with `FROM` (any case), even one
/// the parser did not reach.
fn has_from_line(text: &str) -> bool {
    text.lines().any(|l| {
        l.trim_start()
            .get(..5)
            .is_some_and(|w| w.eq_ignore_ascii_case("from "))
    })
}

/// Resource images a kustomization's `images:` entry matches (literally,
/// by name): with `newName`, what is deployed is the entry, reported
/// there; otherwise the name must keep matching, so no fix edits it.
/// A kustomization's own `images:` entry that a script's `kustomize edit
/// set image` rewrites before deploying (`set_image`: the names it sets)
/// is a value that gets replaced, not a pull.
fn mark_kustomized(
    sites: &mut [ImageSite],
    entries: &[crate::facts::KustomizeImage],
    set_image: Option<&std::collections::BTreeSet<String>>,
) {
    for site in sites {
        if let (Some(name), Some(set)) = (&site.extra.kustomize_name, set_image)
            && set.contains(name)
        {
            site.extra.build_output = true;
            continue;
        }
        if entries.is_empty() {
            continue;
        }
        let Some(reference) = site.reference() else {
            continue;
        };
        let written = reference
            .input()
            .get(..reference.path.end)
            .unwrap_or_default()
            .to_string();
        let matching: Vec<_> = entries.iter().filter(|e| e.name == written).collect();
        if matching.is_empty() {
            // An entry that names the same image spelled otherwise
            // (`docker.io/library/nginx` for `nginx`), or an image of the
            // same name elsewhere (`registry.k8s.io/pause` for
            // `k8s.gcr.io/pause`), does not match today; a fix that
            // qualifies or moves the name could make it match, and
            // kustomize would then deploy something else.
            let name = reference.normalized_name();
            let last = name.rsplit('/').next().unwrap_or(&name).to_string();
            let could_match = entries.iter().any(|e| {
                crate::reference::Reference::parse(&e.name).is_ok_and(|r| {
                    let other = r.normalized_name();
                    other == name || other.rsplit('/').next() == Some(last.as_str())
                })
            });
            if could_match {
                site.extra.frozen.push(site.span);
            }
            continue;
        }
        if matching.iter().any(|e| e.new_name.is_some()) {
            site.extra.build_output = true;
        }
        if matching.iter().any(|e| e.new_tag) {
            site.extra.tag_from_overlay = true;
        }
        site.extra.frozen.push(site.span);
    }
}

/// The references the repository's builds use when they pass plain
/// values over a Dockerfile's `ARG` defaults (`--build-arg TAG=latest`,
/// Compose `args: {TAG: latest}`): the tag rules leave a default that every
/// build replaces alone (`rules::overridden`), and judge instead what each
/// build passes, one set of values at a time (bounded by
/// `workspace::passes::MAX_VARIANTS`). A finding is on the `FROM` line,
/// says which build passes the value, and has no fix: the value is the
/// build's, not the Dockerfile's.
fn judge_passed_values(
    text: &str,
    settings: &Settings,
    input: &SourceOptions,
    ctx: &crate::rules::RuleContext,
    out: &mut Vec<Diagnostic>,
) {
    let Some(args) = &input.supplied_args else {
        return;
    };
    for (values, from) in &args.values {
        let mut options = input.clone();
        for (name, value) in values {
            // A value given on refit's command line wins.
            options
                .build_args
                .entry(name.clone())
                .or_insert_with(|| value.clone());
        }
        let Ok(Extraction { sites, .. }) =
            extract_all_with(FileKind::Dockerfile, text, &options, None)
        else {
            continue;
        };
        let mut facts = ctx.file.clone();
        facts.overridden.retain(|n| !values.contains_key(n));
        let vctx = crate::rules::RuleContext {
            file: &facts,
            ..*ctx
        };
        for rule in RULES
            .iter()
            .filter(|r| r.code.starts_with("TAG") && settings.rule_enabled(r))
        {
            for site in &sites {
                // Only references whose tag the file's run left alone as
                // overridden, and one of these values supplies: any other
                // reference was judged there already.
                if crate::rules::overridden::tag_overridden(site, ctx).is_none()
                    || crate::rules::overridden::tag_overridden(site, &vctx).is_some()
                {
                    continue;
                }
                let used = crate::rules::ref002_unresolved_variable::variables(&site.raw);
                let shown: Vec<String> = values
                    .iter()
                    .filter(|(k, _)| used.iter().any(|u| u == *k))
                    .map(|(k, v)| format!("`{k}={v}`"))
                    .collect();
                let mut found = Vec::new();
                (rule.check)(rule, site, &vctx, &mut found);
                for mut d in found {
                    d.fix = None;
                    d.message = format!(
                        "{} (the build in `{from}` passes {})",
                        d.message,
                        shown.join(", ")
                    );
                    d.help = Some(format!(
                        "the value comes from the build in `{from}`: change it there"
                    ));
                    if !out
                        .iter()
                        .any(|o| o.code == d.code && o.span == d.span && o.message == d.message)
                    {
                        out.push(d);
                    }
                }
            }
        }
    }
}

/// Images the repository builds itself, and named build contexts, are not
/// pulls: registry and tag rules leave them alone (`Extra::build_output`,
/// which this only ever sets).
fn mark_local(sites: &mut [ImageSite], local: &crate::facts::LocalNames, podman: bool) {
    for site in sites {
        let Some(reference) = site.reference() else {
            continue;
        };
        // Built names are kept as written, so a reference is compared as
        // written too: `localhost/` (Podman's name for images it built)
        // stays the registry on both sides. Another registry may serve
        // the name, so a reference there is a pull.
        let name = match reference.domain_str() {
            None => reference.path_str().to_string(),
            Some("localhost") => format!("localhost/{}", reference.path_str()),
            // ko's names for an image it builds into the local daemon
            // (`KO_DOCKER_REPO=ko.local`) or loads into kind (`kind.local`):
            // never pulled from a registry.
            Some("ko.local" | "kind.local") => {
                site.extra.build_output = true;
                continue;
            }
            // The repository's own image in a dev-loop registry
            // (`registry:5000/org/app:devel`, pushed by its build).
            Some(host) if crate::facts::dev_registry(host) => {
                if local.dev_paths.contains(reference.path_str()) {
                    site.extra.build_output = true;
                }
                continue;
            }
            Some(_) => continue,
        };
        if local.is_local_for(&name, podman) {
            site.extra.build_output = true;
        }
    }
}

/// The reader of a Dockerfile site's text, if any: (what it matches, its
/// file). A pattern name matches a `FROM` written with it as a prefix;
/// `*/NAME` (bashbrew) a `FROM` or `COPY --from` of `<namespace>/NAME`.
fn from_text_reader<'a>(
    site: &ImageSite,
    readers: &'a [(String, String)],
) -> Option<(String, &'a str)> {
    use crate::site::SiteKind;
    if !matches!(site.kind, SiteKind::From | SiteKind::CopyFrom) {
        return None;
    }
    let raw = site.raw.trim();
    let name = raw.split(['@', ':']).next().unwrap_or(raw);
    readers.iter().find_map(|(pattern, by)| {
        if pattern == "*" {
            // Code that prints every `FROM` operand as written.
            return (site.kind == SiteKind::From)
                .then(|| ("it reads every `FROM` image as written".to_string(), by.as_str()));
        }
        let hit = match pattern.strip_prefix("*/") {
            Some(dir) => name
                .rsplit_once('/')
                .is_some_and(|(ns, last)| last == dir && !ns.contains('.')),
            None => site.kind == SiteKind::From && raw.starts_with(pattern.as_str()),
        };
        hit.then(|| {
            let what = match pattern.strip_prefix("*/") {
                Some(_) => format!("bashbrew orders builds by the exact name of `{name}`, which this repository builds"),
                None => format!("a pattern on `FROM {pattern}`"),
            };
            (what, by.as_str())
        })
    })
}

/// Which of a file's diagnostics a veto makes unsafe.
enum VetoScope {
    /// Every fix in the file.
    Every,
    /// Fixes that rename the image (`Edits::Name`).
    Renames,
    /// Fixes that edit the image reference at all.
    References,
    /// Fixes at one site.
    At(crate::site::Span),
    /// Fixes at one site that rename the image.
    RenamesAt(crate::site::Span),
}

/// A reason why safe fixes of a file are not safe, and to which it applies.
struct Veto {
    scope: VetoScope,
    why: String,
}

/// Every reason the repository around a file gives to distrust its safe
/// fixes: one list, applied in one place by `check_with`.
fn file_vetoes(
    kind: FileKind,
    sites: &[ImageSite],
    settings: &Settings,
    input: &SourceOptions,
) -> Vec<Veto> {
    let mut vetoes = Vec::new();
    // The repository context was cut at its bounds: what it did not read
    // (an overlay's `images:`, a script that builds a name) is unknown, so
    // a fix that renames an image is not safe.
    if let Some(why) = input.cut.as_deref() {
        vetoes.push(Veto {
            scope: VetoScope::Renames,
            why: format!(
                "refit read the repository's build, CI and manifest files only in part ({why}), so a rename is not known to be safe"
            ),
        });
    }
    if kind == FileKind::Dockerfile
        && let Some(args) = &input.supplied_args
    {
        for site in sites {
            // A reference built from an ARG that the repository's build
            // passes (`--build-arg BUILD_IMAGE=$(BUILD_IMAGE)` in a
            // Makefile): the default a fix would edit is not what that
            // build uses.
            let vars = crate::rules::ref002_unresolved_variable::variables(&site.raw);
            if let Some(passed) = vars.iter().find(|v| args.names.contains(*v)) {
                vetoes.push(Veto {
                    scope: VetoScope::At(site.span),
                    why: format!(
                        "a build in this repository passes `--build-arg {passed}`, so the default this fix edits may not be what it builds"
                    ),
                });
            }
            // `FROM` text that code in the repository compares: a pattern
            // (`awk '/FROM golang/'`) or bashbrew's build order (exact text
            // of an image the repository builds) stops matching after a
            // rewrite.
            if let Some((what, by)) = from_text_reader(site, &args.from_readers) {
                vetoes.push(Veto {
                    scope: VetoScope::At(site.span),
                    why: format!(
                        "`{by}` compares this `FROM` text ({what}), and would stop matching it"
                    ),
                });
            }
        }
    }
    // Renovate or Dependabot rules that match the image's name as written
    // (`matchPackageNames: ["nginx"]`, `ignore: dependency-name`): a
    // qualified or moved name stops matching, and the image is updated
    // (or grouped, or ignored) otherwise.
    if let Some(names) = &input.update_names {
        for site in sites {
            let Some(r) = site.reference() else { continue };
            let written = r.input().get(..r.path.end).unwrap_or_default();
            if let Some((m, file)) = names.iter().find(|(m, _)| m.matches(written)) {
                let rule = match m {
                    crate::facts::NameMatch::Exact(n) => format!("`{n}`"),
                    crate::facts::NameMatch::Prefix(p) => format!("names starting `{p}`"),
                };
                vetoes.push(Veto {
                    scope: VetoScope::RenamesAt(site.span),
                    why: format!(
                        "a rule in `{file}` matches {rule} as written, and would stop matching the new name"
                    ),
                });
            }
        }
    }
    // A resource of a kustomization: overlays (possibly outside the
    // repository) match its image names literally, so a rename is safe only
    // when the configuration says every consumer is here.
    if let Some(kustomization) = &input.kustomize_resource_of
        && !settings.kustomize_consumers_in_repository
    {
        vetoes.push(Veto {
            scope: VetoScope::Renames,
            why: format!(
                "the kustomization in `{kustomization}` lists this file, and kustomize matches `images[].name` literally: an overlay elsewhere that overrides the old name would stop matching (`[fix] kustomize-consumers = \"repository\"` when every overlay is in this repository)"
            ),
        });
    }
    // Test data (`discover::test_data`, a test harness's folder): findings
    // stay, but a test may compare the file's text, so every fix is unsafe.
    if let Some(why) = &input.test_data {
        vetoes.push(Veto {
            scope: VetoScope::Every,
            why: format!(
                "the file is test data ({why}): a test may compare its text, so a fix here can break that test unless the test changes too"
            ),
        });
    }
    // Generated by a command of the repository: the fix belongs in the
    // source, or it is overwritten (or fails a regenerate-and-compare
    // check).
    if let Some(why) = &input.generated {
        vetoes.push(Veto {
            scope: VetoScope::Every,
            why: format!(
                "the file is generated ({why}): a fix here would be overwritten, so fix the source"
            ),
        });
    }
    // A policy or mutator that matches or rewrites image names as text: a
    // qualified, moved, pinned or replaced name may get another verdict or
    // another rewrite.
    if let Some(policy) = &input.image_policy {
        vetoes.push(Veto {
            scope: VetoScope::References,
            why: format!(
                "a policy in `{policy}` matches or rewrites image names; the fix may change its verdict or rewrite"
            ),
        });
    }
    vetoes
}

/// Make a diagnostic's safe fix unsafe, saying why in its help (`note` is
/// built only when there is such a fix).
fn unsafe_because(d: &mut Diagnostic, note: impl FnOnce() -> String) {
    if let Some(fix) = d.fix.as_mut()
        && fix.applicability == crate::diagnostic::Applicability::Safe
    {
        fix.applicability = crate::diagnostic::Applicability::Unsafe;
        let note = note();
        d.help = Some(match d.help.take() {
            Some(h) => format!("{h}; {note}"),
            None => note,
        });
    }
}

/// How short names in the file are resolved: Podman reads a Quadlet unit,
/// so its short names go through `registries.conf` even when refit read
/// nothing around the file (stdin, `--isolated`).
fn quadlet_short_names(
    kind: FileKind,
    input: &SourceOptions,
) -> Option<std::sync::Arc<crate::facts::ShortNames>> {
    let names = input.short_names.clone();
    if kind != FileKind::Quadlet || names.as_ref().is_some_and(|n| n.built_by.is_some()) {
        return names;
    }
    let mut names = names.map(|n| (*n).clone()).unwrap_or_default();
    names.built_by = Some("the file is a Quadlet unit".to_string());
    Some(std::sync::Arc::new(names))
}

/// Run the enabled rules over a text, with nothing known around it.
pub fn check_text(
    kind: FileKind,
    text: &str,
    settings: &Settings,
) -> Result<Checked, Box<Diagnostic>> {
    check_with(kind, text, settings, &options(settings))
}

/// Run the enabled rules over a text, with what the workspace says about
/// the files around it (`input`).
pub fn check_with(
    kind: FileKind,
    text: &str,
    settings: &Settings,
    input: &SourceOptions,
) -> Result<Checked, Box<Diagnostic>> {
    // The last file's YAML tree is of no use here.
    sources::yaml::forget_shared();
    // A Dockerfile's stage graph comes from the parse that finds its sites.
    let mut graph = None;
    let Extraction { sites, notes, .. } = extract_all_with(
        kind,
        text,
        input,
        (kind == FileKind::Dockerfile).then_some(&mut graph),
    )?;
    let facts = crate::rules::FileFacts {
        // Helm values: fixes with side effects add keys (the `bitnami`
        // advisory pack).
        text: (matches!(kind, FileKind::Dockerfile | FileKind::HelmValues)
            || text.contains("$imagepolicy"))
        .then(|| text.to_string()),
        graph,
        build_refs: input.build_refs.clone(),
        stage_names: Default::default(),
        short_names: quadlet_short_names(kind, input),
        supplied_args: input.supplied_args.clone(),
        flux: input.flux.clone(),
        overridden: input
            .supplied_args
            .iter()
            .flat_map(|a| a.always.iter().cloned())
            .chain(input.run_env.iter().cloned())
            .collect(),
    };
    let mut ctx = RuleContext {
        file: &facts,
        knowledge: settings
            .knowledge
            .as_deref()
            .unwrap_or(Knowledge::builtin()),
        policy: &settings.policy,
        options: &settings.options,
        lock: settings.lock.as_deref(),
        selected_by_code: false,
    };
    let mut diagnostics = Vec::new();
    for rule in RULES.iter().filter(|r| settings.rule_enabled(r)) {
        ctx.selected_by_code = settings.selects_by_code(rule.code);
        for site in &sites {
            let before = diagnostics.len();
            (rule.check)(rule, site, &ctx, &mut diagnostics);
            if let Some(path) = &site.path {
                for d in &mut diagnostics[before..] {
                    d.message = format!("{} (`{path}`)", d.message);
                }
            }
            // An image a test's expected output repeats as written: the
            // test that compares a rendering with it fails after the fix.
            if let Some(file) = input.golden.as_ref().and_then(|g| g.get(site.raw.trim())) {
                for d in &mut diagnostics[before..] {
                    unsafe_because(d, || {
                        format!(
                            "`{file}` repeats `{}` as written, and a test compares rendered output with it: change both",
                            site.raw.trim()
                        )
                    });
                }
            }
            // An image test code writes as a literal: a test comparing it fails after the fix.
            if let Some(file) = input
                .test_literals
                .as_ref()
                .and_then(|g| g.get(site.raw.trim()))
            {
                for d in &mut diagnostics[before..] {
                    unsafe_because(d, || {
                        format!(
                            "test code in `{file}` writes `{}` as a literal and may compare it with this image: change both",
                            site.raw.trim()
                        )
                    });
                }
            }
            // A value used in places refit cannot vouch for.
            if let Some(why) = &site.extra.fix_unsafe {
                for d in &mut diagnostics[before..] {
                    unsafe_because(d, || why.clone());
                }
            }
            // What a fix here leaves for the user to do (Chart.lock). With
            // a `Chart.lock` beside it, `helm dependency build` fails until
            // the user does it: the fix is not safe alone.
            if site.extra.fix_note.is_some()
                && input.chart_lock
                && site.kind == crate::site::SiteKind::HelmChartDependency
            {
                for d in &mut diagnostics[before..] {
                    unsafe_because(d, || {
                        "`Chart.lock` beside it records this repository and its `digest` checks `Chart.yaml`: `helm dependency build` fails until `helm dependency update` writes the lock again".to_string()
                    });
                }
            } else if let Some(note) = &site.extra.fix_note {
                for d in diagnostics[before..].iter_mut().filter(|d| d.fix.is_some()) {
                    d.help = Some(match d.help.take() {
                        Some(help) => format!("{help}; {note}"),
                        None => note.clone(),
                    });
                }
            }
        }
        if let Some(check_file) = rule.check_file {
            check_file(rule, &ctx, &mut diagnostics);
        }
    }
    if kind == FileKind::Dockerfile {
        judge_passed_values(text, settings, input, &ctx, &mut diagnostics);
    }
    for veto in file_vetoes(kind, &sites, settings, input) {
        for d in &mut diagnostics {
            let applies = match veto.scope {
                VetoScope::Every => true,
                VetoScope::Renames => crate::rules::edits_of(d.code) == crate::rules::Edits::Name,
                VetoScope::References => crate::rules::edits_of(d.code).edits_reference(),
                VetoScope::At(span) => d.span == span,
                VetoScope::RenamesAt(span) => {
                    d.span == span && crate::rules::edits_of(d.code) == crate::rules::Edits::Name
                }
            };
            if applies {
                unsafe_because(d, || veto.why.clone());
            }
        }
    }
    let enabled = |code: &str| {
        RULES
            .iter()
            .any(|r| r.code.starts_with(code) && settings.enabled(r.code))
    };
    let sup001 = &crate::rules::sup001_unused_suppression::RULE;
    let unused = if kind == FileKind::Devcontainer {
        // JSON with comments: `// refit: ignore[…]`, `/* … */`.
        crate::suppress::apply_jsonc(text, &mut diagnostics, enabled, sup001)
    } else {
        crate::suppress::apply(
            text,
            kind == FileKind::Dockerfile,
            &mut diagnostics,
            enabled,
            sup001,
        )
    };
    if settings.enabled(crate::rules::sup001_unused_suppression::RULE.code) {
        diagnostics.extend(unused);
    }
    if let Some(marker) = sources::template::generated_marker(text) {
        for d in &mut diagnostics {
            if d.fix.take().is_some() {
                let why = format!(
                    "the file says it is generated (`{marker}`): a fix here would be overwritten, so change what generates it"
                );
                d.help = Some(match d.help.take() {
                    Some(h) => format!("{h}; {why}"),
                    None => why,
                });
            }
        }
    }
    if !notes.is_empty() {
        // Sites read line by line from a file that is not YAML: a fix
        // could not be checked by re-parsing, so none is offered. The
        // finding says why, as the note does.
        for d in &mut diagnostics {
            if d.fix.take().is_some() {
                let why = "no fix: the file is a template, of which refit reads only the plain lines, so edit it by hand";
                d.help = Some(match d.help.take() {
                    Some(h) => format!("{h}; {why}"),
                    None => why.to_string(),
                });
            }
        }
        diagnostics.extend(notes);
    }
    settings.adjust(&mut diagnostics);
    diagnostics.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    Ok(Checked { sites, diagnostics })
}
