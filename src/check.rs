//! Checking one text: front-end, then rules, then selection.

use crate::diagnostic::{Applicability, Diagnostic, Severity};
use crate::rules::{RULES, RuleContext, knowledge::Knowledge};
use crate::site::{ImageSite, Span};
use crate::sources::{self, SourceOptions};

/// The kinds of file refit reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    Dockerfile,
    Compose,
    HelmValues,
    /// Any other YAML: Kubernetes objects are found by `apiVersion` and `kind`.
    Kubernetes,
    GithubActions,
    GitlabCi,
    Kustomize,
    /// A templated file (Helm `templates/`): skipped, never an error.
    Template,
    /// Docker Engine `daemon.json`.
    DaemonJson,
    /// BuildKit `buildkitd.toml`.
    BuildkitToml,
    /// containerd `certs.d/<host>/hosts.toml`.
    ContainerdHosts,
    /// containers/image `registries.conf` (Podman, CRI-O).
    RegistriesConf,
}

impl FileKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            FileKind::Dockerfile => "dockerfile",
            FileKind::Compose => "compose",
            FileKind::HelmValues => "helm-values",
            FileKind::Kubernetes => "kubernetes",
            FileKind::GithubActions => "github-actions",
            FileKind::GitlabCi => "gitlab-ci",
            FileKind::Kustomize => "kustomize",
            FileKind::Template => "template",
            FileKind::DaemonJson => "daemon-json",
            FileKind::BuildkitToml => "buildkitd",
            FileKind::ContainerdHosts => "containerd-hosts",
            FileKind::RegistriesConf => "registries-conf",
        }
    }
}

/// Which rules run, and how references resolve.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Codes or prefixes; empty means every rule that is not opt-in.
    pub select: Vec<String>,
    /// Codes or prefixes added to `select` (or to the default set).
    pub extend_select: Vec<String>,
    /// Codes or prefixes to leave out.
    pub ignore: Vec<String>,
    pub source: SourceOptions,
    /// Severity overrides by code or prefix (config `[severity]`).
    pub severity: Vec<(String, Severity)>,
    /// Codes whose unsafe fixes count as safe (config `fix.extend-safe`).
    pub extend_safe: Vec<String>,
    /// Codes whose safe fixes count as unsafe (config `fix.extend-unsafe`).
    pub extend_unsafe: Vec<String>,
    /// Registry policy (config `[registries]`).
    pub policy: crate::policy::Policy,
    /// Per-rule settings (config `[rules.CODE]`).
    pub options: crate::rules::RuleOptions,
    /// The knowledge tables extended by config `[knowledge]`; `None`: the
    /// compiled-in ones.
    pub knowledge: Option<std::sync::Arc<Knowledge>>,
    /// `refit.lock` (TAG004's digests), read with no network.
    pub lock: Option<std::sync::Arc<crate::online::lock::Lock>>,
}

fn matches(code: &str, selector: &str) -> bool {
    let selector = selector.trim();
    !selector.is_empty()
        && (selector.eq_ignore_ascii_case("ALL")
            || code
                .get(..selector.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(selector)))
}

impl Settings {
    /// Apply severity and fix-safety overrides; the longest matching code
    /// prefix wins.
    pub fn adjust(&self, diagnostics: &mut [Diagnostic]) {
        let longest = |list: &[String], code: &str| {
            list.iter()
                .filter(|c| matches(code, c))
                .map(String::len)
                .max()
        };
        for d in diagnostics {
            if let Some((_, s)) = self
                .severity
                .iter()
                .filter(|(c, _)| matches(d.code, c))
                .max_by_key(|(c, _)| c.len())
            {
                d.severity = *s;
            }
            if let Some(fix) = &mut d.fix {
                match (
                    longest(&self.extend_safe, d.code),
                    longest(&self.extend_unsafe, d.code),
                ) {
                    (Some(s), Some(u)) if s > u => fix.applicability = Applicability::Safe,
                    (Some(_), None) => fix.applicability = Applicability::Safe,
                    (_, Some(_)) => fix.applicability = Applicability::Unsafe,
                    _ => {}
                }
            }
        }
    }

    /// Whether a rule runs. The more specific selector wins, as in ruff:
    /// `--select REG --ignore REG003` drops REG003, and
    /// `--ignore REG --select REG003` keeps it.
    ///
    /// An opt-in rule runs only when a code or prefix names it (`ALL` does
    /// not), as clippy's pedantic lints need naming.
    pub fn enabled(&self, code: &str) -> bool {
        let opt_in = RULES.iter().any(|r| r.code == code && r.opt_in);
        let by_code_only = crate::rules::SELECTED_BY_CODE_ONLY.contains(&code);
        let best = |list: &[String], extra: &[String], selecting: bool| {
            list.iter()
                .chain(extra)
                .filter(|s| matches(code, s))
                .filter(|s| !(opt_in && s.trim().eq_ignore_ascii_case("ALL")))
                // Selecting by prefix does not turn these on (ignoring does
                // turn them off).
                .filter(|s| !(by_code_only && selecting && !s.trim().eq_ignore_ascii_case(code)))
                .map(|s| {
                    if s.trim().eq_ignore_ascii_case("ALL") {
                        0
                    } else {
                        s.trim().len()
                    }
                })
                .max()
        };
        let selected = if self.select.is_empty() && !opt_in {
            Some(0)
        } else {
            best(&self.select, &self.extend_select, true)
        };
        match (selected, best(&self.ignore, &[], false)) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(s), Some(i)) => s > i,
        }
    }
}

/// The result of checking one text.
#[derive(Debug, Clone)]
pub struct Checked {
    pub sites: Vec<ImageSite>,
    pub diagnostics: Vec<Diagnostic>,
}

/// A per-file error that stopped the file from being checked.
pub fn file_error(code: &'static str, message: String, span: Span) -> Diagnostic {
    let name = crate::diagnostic::error_name(code);
    Diagnostic {
        code,
        name,
        severity: Severity::Error,
        message,
        span,
        help: None,
        fix: None,
        yaml_path: None,
    }
}

/// Extract the image sites of a text.
pub fn extract(
    kind: FileKind,
    text: &str,
    settings: &Settings,
) -> Result<Vec<ImageSite>, Box<Diagnostic>> {
    extract_with_notes(kind, text, settings).map(|(sites, _)| sites)
}

/// Extract the image sites of a text, with notes about how it was read
/// (`N001`: a templated file that is not YAML, read line by line).
pub fn extract_with_notes(
    kind: FileKind,
    text: &str,
    settings: &Settings,
) -> Result<(Vec<ImageSite>, Vec<Diagnostic>), Box<Diagnostic>> {
    let (mut sites, notes) = extract_sites(kind, text, settings)?;
    if let Some(repo) = &settings.source.repo {
        mark_local(&mut sites, repo);
    }
    if !settings.source.kustomize_images.is_empty() {
        mark_kustomized(&mut sites, &settings.source.kustomize_images);
    }
    Ok((sites, notes))
}

/// The sites of a text as its front-end reads them, and notes about how.
fn extract_sites(
    kind: FileKind,
    text: &str,
    settings: &Settings,
) -> Result<(Vec<ImageSite>, Vec<Diagnostic>), Box<Diagnostic>> {
    if kind == FileKind::Kubernetes && sources::kubernetes::looks_like_manifest(text) {
        match sources::kubernetes::extract(text) {
            // A templated manifest outside `templates/` that is not YAML:
            // skipped as YAML, said so, and its plain `image:` lines read.
            Err(e) if sources::yaml::is_templated(text) => {
                let why = e
                    .message
                    .strip_prefix("invalid YAML: ")
                    .unwrap_or(&e.message);
                let note = crate::engine::file_note(
                    "N001",
                    format!(
                        "Skipped as YAML: template expressions (`{{{{ … }}}}`) make it invalid ({why}); only plain `image:` lines were read, without fixes"
                    ),
                );
                return Ok((sources::kubernetes::extract_lines(text), vec![note]));
            }
            Err(e) => return Err(Box::new(file_error("E004", e.message, e.span))),
            Ok(sites) => return Ok((sites, Vec::new())),
        }
    }
    let result = match kind {
        FileKind::Dockerfile => sources::dockerfile::extract(text, &settings.source),
        FileKind::Compose => sources::compose::extract(text, &settings.source),
        FileKind::HelmValues => sources::helm::extract(text, &settings.source),
        FileKind::GithubActions => sources::ci::extract_github(text),
        FileKind::GitlabCi => {
            sources::ci::extract_gitlab_with(text, &settings.source.gitlab_variables)
        }
        FileKind::Kustomize => sources::kustomize::extract(text),
        FileKind::Template => Ok(Vec::new()),
        FileKind::DaemonJson => sources::daemon::extract_daemon_json(text),
        FileKind::BuildkitToml => sources::daemon::extract_buildkit(text),
        FileKind::ContainerdHosts => sources::daemon::extract_containerd_hosts(
            text,
            settings.source.hosts_namespace.as_deref(),
        ),
        FileKind::RegistriesConf => sources::daemon::extract_registries_conf(text),
        // Manifests are read above.
        FileKind::Kubernetes => Ok(Vec::new()),
    };
    result
        .map(|sites| (sites, Vec::new()))
        .map_err(|e| Box::new(file_error("E004", e.message, e.span)))
}

/// Resource images a kustomization's `images:` entry matches (literally,
/// by name): with `newName`, what is deployed is the entry, reported
/// there; otherwise the name must keep matching, so no fix edits it.
fn mark_kustomized(sites: &mut [ImageSite], entries: &[crate::context::KustomizeImage]) {
    for site in sites {
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

/// Images the repository builds itself, and named build contexts, are not
/// pulls: registry and tag rules leave them alone (`Extra::build_output`).
fn mark_local(sites: &mut [ImageSite], repo: &crate::context::RepoContext) {
    for site in sites {
        let Some(reference) = site.reference() else {
            continue;
        };
        if reference.domain.is_some() {
            continue;
        }
        let name = reference.path_str().to_string();
        if repo.is_local(&name) {
            site.extra.build_output = true;
        }
    }
}

/// Run the enabled rules over a text.
pub fn check_text(
    kind: FileKind,
    text: &str,
    settings: &Settings,
) -> Result<Checked, Box<Diagnostic>> {
    let (sites, notes) = extract_with_notes(kind, text, settings)?;
    let facts = crate::rules::FileFacts {
        text: (kind == FileKind::Dockerfile).then(|| text.to_string()),
        graph: (kind == FileKind::Dockerfile)
            .then(|| sources::dockerfile::stage_graph(text, &settings.source))
            .flatten(),
        build_refs: settings.source.build_refs.clone(),
        stage_names: Default::default(),
        short_names: settings.source.short_names.clone(),
    };
    let ctx = RuleContext {
        file: &facts,
        knowledge: settings
            .knowledge
            .as_deref()
            .unwrap_or(Knowledge::builtin()),
        policy: &settings.policy,
        options: &settings.options,
        lock: settings.lock.as_deref(),
    };
    let mut diagnostics = Vec::new();
    for rule in RULES.iter().filter(|r| settings.enabled(r.code)) {
        for site in &sites {
            let before = diagnostics.len();
            (rule.check)(rule, site, &ctx, &mut diagnostics);
            if let Some(path) = &site.path {
                for d in &mut diagnostics[before..] {
                    d.message = format!("{} (`{path}`)", d.message);
                }
            }
        }
        if let Some(check_file) = rule.check_file {
            check_file(rule, &ctx, &mut diagnostics);
        }
    }
    // The repository context was cut at its bounds: what it did not read
    // (an overlay's `images:`, a script that builds a name) is unknown, so
    // a fix that renames an image is not safe.
    if let Some(why) = settings
        .source
        .repo
        .as_ref()
        .and_then(|r| r.truncated.as_deref())
    {
        for d in &mut diagnostics {
            if !(d.code.starts_with("REG") || d.code.starts_with("MIR")) {
                continue;
            }
            if let Some(fix) = d.fix.as_mut()
                && fix.applicability == crate::diagnostic::Applicability::Safe
            {
                fix.applicability = crate::diagnostic::Applicability::Unsafe;
                let note = format!(
                    "refit read the repository's build, CI and manifest files only in part ({why}), so a rename is not known to be safe"
                );
                d.help = Some(match d.help.take() {
                    Some(h) => format!("{h}; {note}"),
                    None => note,
                });
            }
        }
    }
    // Test data: findings stay, but a test compares the file as it is.
    if let Some(why) = &settings.source.test_data {
        for d in &mut diagnostics {
            if let Some(fix) = d.fix.as_mut()
                && fix.applicability == crate::diagnostic::Applicability::Safe
            {
                fix.applicability = crate::diagnostic::Applicability::Unsafe;
                let note = format!(
                    "the file is test data ({why}): a test compares it as it is, so a fix here breaks that test unless its code changes too"
                );
                d.help = Some(match d.help.take() {
                    Some(h) => format!("{h}; {note}"),
                    None => note,
                });
            }
        }
    }
    let unused = crate::suppress::apply(
        text,
        kind == FileKind::Dockerfile,
        &mut diagnostics,
        |code| {
            RULES
                .iter()
                .any(|r| r.code.starts_with(code) && settings.enabled(r.code))
        },
        &crate::rules::sup001_unused_suppression::RULE,
    );
    if settings.enabled(crate::rules::sup001_unused_suppression::RULE.code) {
        diagnostics.extend(unused);
    }
    if !notes.is_empty() {
        // Sites read line by line from a file that is not YAML: a fix
        // could not be checked by re-parsing, so none is offered.
        for d in &mut diagnostics {
            d.fix = None;
        }
        diagnostics.extend(notes);
    }
    settings.adjust(&mut diagnostics);
    diagnostics.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    Ok(Checked { sites, diagnostics })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(select: &[&str], ignore: &[&str]) -> Settings {
        Settings {
            select: select.iter().map(|s| s.to_string()).collect(),
            ignore: ignore.iter().map(|s| s.to_string()).collect(),
            ..Settings::default()
        }
    }

    #[test]
    fn tag004_needs_its_full_code() {
        assert!(!settings(&["TAG"], &[]).enabled("TAG004"));
        assert!(!settings(&["ALL"], &[]).enabled("TAG004"));
        assert!(settings(&["TAG004"], &[]).enabled("TAG004"));
        assert!(settings(&["TAG"], &[]).enabled("TAG001"));
        let mut s = settings(&[], &[]);
        s.extend_select = vec!["TAG004".to_string()];
        assert!(s.enabled("TAG004"));
        s.ignore = vec!["TAG004".to_string()];
        assert!(!s.enabled("TAG004"));
    }

    #[test]
    fn selection_by_code_and_prefix() {
        assert!(settings(&[], &[]).enabled("REG001"));
        assert!(settings(&["REG"], &[]).enabled("REG001"));
        assert!(!settings(&["REG"], &[]).enabled("TAG001"));
        assert!(!settings(&["REG"], &["REG003"]).enabled("REG003"));
        assert!(settings(&["REG003"], &["REG"]).enabled("REG003"));
        assert!(!settings(&[], &["tag"]).enabled("TAG002"));
        assert!(settings(&["ALL"], &[]).enabled("TAG002"));
    }

    #[test]
    fn opt_in_rules_need_a_selector() {
        assert!(!settings(&[], &[]).enabled("BASE001"));
        assert!(settings(&[], &[]).enabled("BASE002"));
        assert!(settings(&["BASE"], &[]).enabled("BASE001"));
        assert!(!settings(&["ALL"], &[]).enabled("BASE001"));
        let extended = Settings {
            extend_select: vec!["BASE001".to_string()],
            ..Settings::default()
        };
        assert!(extended.enabled("BASE001"));
        assert!(
            extended.enabled("REG001"),
            "extend-select keeps the default set"
        );
        let ignored = Settings {
            extend_select: vec!["BASE".to_string()],
            ignore: vec!["BASE001".to_string()],
            ..Settings::default()
        };
        assert!(!ignored.enabled("BASE001"));
    }
}
