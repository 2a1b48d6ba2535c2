//! The rule registry: one line per rule, sorted by code.

mod base001_runtime_base_image;
mod base002_deprecated_image;
mod dhi001_hardened_image;
mod eol001_eol_base_image;
mod flx001_imagepolicy_marker;
mod k8s001_pull_policy;
mod mir001_dead_mirror;
mod mir002_registry_as_mirror;
pub mod mir003_mirror_unusable;
mod mir004_dead_package_mirror;
mod ref001_invalid_reference;
pub mod ref002_unresolved_variable;
pub mod ref003_missing_image;
pub mod ref004_access_denied;
mod ref005_from_not_a_stage;
pub mod ref006_vanished_digest;
pub mod ref007_platform_digest;
pub mod ref008_tag_moved;
pub mod ref009_missing_platform;
mod reg001_implicit_registry;
mod reg002_mirror_in_reference;
mod reg003_legacy_registry_alias;
mod reg004_moved_registry;
mod reg005_untrusted_registry;
mod reg006_bypasses_proxy;
mod reg007_policy_rewrite;
mod reg008_shut_down_registry;
mod stg001_unreachable_stage;
mod stg002_duplicate_stage_name;
mod stg003_reserved_stage_name;
mod stg004_stage_name_casing;
mod stg005_const_platform;
mod stg006_redundant_target_platform;
mod stg007_invalid_stage_name;
pub mod sup001_unused_suppression;
pub mod sup002_unused_baseline_entry;
mod tag001_missing_tag;
mod tag002_latest_tag;
mod tag003_mutable_tag;
mod tag004_missing_digest;
mod tag005_numeric_tag;

pub mod advisories;
pub mod knowledge;
pub mod overridden;
pub mod values_key;

use crate::diagnostic::{Diagnostic, Fix, Severity};
use crate::site::ImageSite;

/// Every rule, sorted by code.
pub static RULES: &[&Rule] = &[
    &base001_runtime_base_image::RULE,
    &base002_deprecated_image::RULE,
    &dhi001_hardened_image::RULE,
    &eol001_eol_base_image::RULE,
    &flx001_imagepolicy_marker::RULE,
    &k8s001_pull_policy::RULE,
    &mir001_dead_mirror::RULE,
    &mir002_registry_as_mirror::RULE,
    &mir004_dead_package_mirror::RULE,
    &ref001_invalid_reference::RULE,
    &ref002_unresolved_variable::RULE,
    &ref005_from_not_a_stage::RULE,
    &reg001_implicit_registry::RULE,
    &reg002_mirror_in_reference::RULE,
    &reg003_legacy_registry_alias::RULE,
    &reg004_moved_registry::RULE,
    &reg005_untrusted_registry::RULE,
    &reg006_bypasses_proxy::RULE,
    &reg007_policy_rewrite::RULE,
    &reg008_shut_down_registry::RULE,
    &stg001_unreachable_stage::RULE,
    &stg002_duplicate_stage_name::RULE,
    &stg003_reserved_stage_name::RULE,
    &stg004_stage_name_casing::RULE,
    &stg005_const_platform::RULE,
    &stg006_redundant_target_platform::RULE,
    &stg007_invalid_stage_name::RULE,
    &sup001_unused_suppression::RULE,
    &sup002_unused_baseline_entry::RULE,
    &tag001_missing_tag::RULE,
    &tag002_latest_tag::RULE,
    &tag003_mutable_tag::RULE,
    &tag004_missing_digest::RULE,
    &tag005_numeric_tag::RULE,
];

/// Opt-in rules that only their full code selects (`--extend-select
/// TAG004`): a prefix (`TAG`) does not, because they fire on nearly every
/// reference of a repository that does not pin digests.
pub static SELECTED_BY_CODE_ONLY: &[&str] = &["TAG004"];

/// Rules that ask registries: they find nothing offline, and run only
/// with `refit check --online` (`crate::online::check`). Sorted by code.
pub static ONLINE_RULES: &[&Rule] = &[
    &mir003_mirror_unusable::RULE,
    &ref003_missing_image::RULE,
    &ref004_access_denied::RULE,
    &ref006_vanished_digest::RULE,
    &ref007_platform_digest::RULE,
    &ref008_tag_moved::RULE,
    &ref009_missing_platform::RULE,
];

/// Every rule, offline and online, sorted by code: what `refit rules`
/// lists.
pub fn all() -> Vec<&'static Rule> {
    let mut all: Vec<&'static Rule> = RULES.iter().chain(ONLINE_RULES).copied().collect();
    all.sort_by_key(|r| r.code);
    all
}

/// Whether a rule can fix what it finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fixability {
    None,
    Sometimes,
    Always,
}

impl Fixability {
    pub fn as_str(&self) -> &'static str {
        match self {
            Fixability::None => "no",
            Fixability::Sometimes => "sometimes",
            Fixability::Always => "always",
        }
    }
}

/// What a rule sees besides the site.
pub struct RuleContext<'a> {
    pub knowledge: &'a knowledge::Knowledge,
    pub policy: &'a crate::policy::Policy,
    pub options: &'a RuleOptions,
    /// `refit.lock`, when there is one.
    pub lock: Option<&'a crate::online::lock::Lock>,
    /// Facts about the whole file (a Dockerfile's stage graph) and the
    /// repository around it.
    pub file: &'a FileFacts,
    /// Whether the running rule was selected by its full code (`--select
    /// REF002`), not by default, a prefix or `ALL`: rules whose default
    /// scope is narrower (REF002) then report everything they can.
    pub selected_by_code: bool,
}

/// What rules about a whole file see: a Dockerfile's stages and what the
/// repository around it builds by name.
#[derive(Debug, Clone, Default)]
pub struct FileFacts {
    /// The file's text, for fixes that edit around a span.
    pub text: Option<String>,
    pub graph: Option<crate::site::StageGraph>,
    pub build_refs: Option<std::sync::Arc<crate::facts::BuildRefs>>,
    /// REF005's index of stage names, built on first use, and its answers
    /// per name, so that a file with many `--from` values costs one index.
    pub stage_names: ref005_from_not_a_stage::StageNames,
    /// How the containers tools would resolve short names in this file.
    pub short_names: Option<std::sync::Arc<crate::facts::ShortNames>>,
    /// What the repository's build invocations set for this Dockerfile's
    /// build arguments.
    pub supplied_args: Option<crate::site::SuppliedArgs>,
    /// The repository's Flux image automation objects (FLX001).
    pub flux: Option<std::sync::Arc<crate::facts::FluxPolicies>>,
    /// Variables the repository's own build or run always sets for this
    /// file (a Makefile's `--build-arg`, a script's export before `docker
    /// compose`): a default written for them is not what is used.
    pub overridden: std::collections::BTreeSet<String>,
}

/// Per-rule settings from `[rules.CODE]` in refit.toml.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleOptions {
    #[serde(rename = "TAG003", default, skip_serializing_if = "Option::is_none")]
    pub tag003: Option<tag003_mutable_tag::Options>,
    #[serde(rename = "BASE001", default, skip_serializing_if = "Option::is_none")]
    pub base001: Option<base001_runtime_base_image::Options>,
    #[serde(rename = "REF002", default, skip_serializing_if = "Option::is_none")]
    pub ref002: Option<ref002_unresolved_variable::Options>,
}

impl RuleOptions {
    /// `over`'s tables win, each as a whole.
    pub fn merge(self, over: RuleOptions) -> RuleOptions {
        RuleOptions {
            tag003: over.tag003.or(self.tag003),
            base001: over.base001.or(self.base001),
            ref002: over.ref002.or(self.ref002),
        }
    }
}

pub type CheckFn = fn(&Rule, &ImageSite, &RuleContext, &mut Vec<Diagnostic>);
/// A check of the file as a whole, run once per file (STG001).
pub type FileCheckFn = fn(&Rule, &RuleContext, &mut Vec<Diagnostic>);

/// A rule that checks only whole files.
pub(crate) fn no_site_check(_: &Rule, _: &ImageSite, _: &RuleContext, _: &mut Vec<Diagnostic>) {}

/// What a rule's fix edits, which says which vetoes apply to it: a
/// consumer that matches image names as text (a kustomize overlay, an
/// image policy) sees a rename, and a tag or digest change too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edits {
    /// The registry or path of the name (REG, MIR): a rename.
    Name,
    /// The tag, digest or whole reference (TAG, REF, BASE, DHI, EOL).
    Reference,
    /// Something other than the image reference (stages, platforms,
    /// suppressions, pull policies, markers).
    Other,
}

impl Edits {
    /// The one list of which rules edit what, by code prefix.
    pub const fn of_code(code: &str) -> Edits {
        let b = code.as_bytes();
        if b.len() < 3 {
            return Edits::Other;
        }
        match [b[0], b[1], b[2]] {
            [b'R', b'E', b'G'] | [b'M', b'I', b'R'] => Edits::Name,
            [b'T', b'A', b'G']
            | [b'R', b'E', b'F']
            | [b'B', b'A', b'S']
            | [b'D', b'H', b'I']
            | [b'E', b'O', b'L'] => Edits::Reference,
            _ => Edits::Other,
        }
    }

    /// A fix of this kind changes the image name as a consumer reads it.
    pub fn edits_reference(self) -> bool {
        matches!(self, Edits::Name | Edits::Reference)
    }
}

/// What a diagnostic's code edits (`Edits::Other` for file errors and
/// codes of no rule).
pub fn edits_of(code: &str) -> Edits {
    RULES
        .iter()
        .find(|r| r.code == code)
        .map_or(Edits::Other, |r| r.edits)
}

pub struct Rule {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub fixability: Fixability,
    /// What its fix edits (`Edits::of_code`).
    pub edits: Edits,
    /// One line, for `refit rules`.
    pub summary: &'static str,
    /// Off unless a selector names it (`--extend-select BASE001`).
    pub opt_in: bool,
    /// The rule's documentation page (Markdown), from its doc comment.
    pub doc: &'static str,
    pub check: CheckFn,
    /// Run once per file, after the per-site checks.
    pub check_file: Option<FileCheckFn>,
}

impl Rule {
    /// A diagnostic of this rule at the site.
    pub fn report(&self, site: &ImageSite, message: String) -> Diagnostic {
        Diagnostic {
            kind: crate::diagnostic::DiagnosticKind::Finding,
            code: self.code,
            name: self.name,
            severity: self.severity,
            message,
            span: site.span,
            help: None,
            fix: None,
            yaml_path: site.path.clone(),
        }
    }

    /// A diagnostic of this rule at a span of the file.
    pub fn report_at(&self, span: crate::site::Span, message: String) -> Diagnostic {
        Diagnostic {
            kind: crate::diagnostic::DiagnosticKind::Finding,
            code: self.code,
            name: self.name,
            severity: self.severity,
            message,
            span,
            help: None,
            fix: None,
            yaml_path: None,
        }
    }

    /// The documentation with the doc-comment indentation removed.
    pub fn documentation(&self) -> String {
        let mut out = String::new();
        for line in self.doc.lines() {
            out.push_str(line.strip_prefix(' ').unwrap_or(line));
            out.push('\n');
        }
        out.trim().to_string() + "\n"
    }

    /// Whether the rule asks registries: it runs only with
    /// `refit check --online` (one of [`ONLINE_RULES`]).
    pub fn online(&self) -> bool {
        ONLINE_RULES.iter().any(|r| r.code == self.code)
    }

    /// The full Markdown page for `refit rule CODE` and `rules/CODE.md`.
    pub fn page(&self) -> String {
        format!(
            "# {} ({})\n\nDefault severity: {}. Fix: {}.{}{}\n\n{}",
            self.name,
            self.code,
            self.severity.as_str(),
            self.fixability.as_str(),
            if self.opt_in {
                " Opt-in: runs only when a code or prefix selects it (`ALL` does not)."
            } else {
                ""
            },
            if self.online() {
                " Online: runs only with `refit check --online` (it asks registries)."
            } else {
                ""
            },
            self.documentation()
        )
    }
}

/// Find a rule by code (case-insensitive) or by name.
pub fn find(key: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .chain(ONLINE_RULES)
        .copied()
        .find(|r| r.code.eq_ignore_ascii_case(key) || r.name == key)
}

/// Declare a rule: the doc comment becomes its documentation page.
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        code: $code:literal,
        name: $name:literal,
        severity: $sev:ident,
        fix: $fix:ident,
        summary: $summary:literal,
        check: $check:path
        $(, check_file: $file:path)?
        $(, opt_in: $opt:literal)? $(,)?
    ) => {
        pub static RULE: $crate::rules::Rule = $crate::rules::Rule {
            code: $code,
            name: $name,
            severity: $crate::diagnostic::Severity::$sev,
            fixability: $crate::rules::Fixability::$fix,
            edits: $crate::rules::Edits::of_code($code),
            summary: $summary,
            opt_in: false $(|| $opt)?,
            doc: concat!($($doc, "\n"),*),
            check: $check,
            check_file: $crate::rules::file_check!($($file)?),
        };
    };
}
pub(crate) use declare_rule;

macro_rules! file_check {
    () => {
        None
    };
    ($file:path) => {
        Some($file)
    };
}
pub(crate) use file_check;

/// Shorthand for a fix that replaces a range of the resolved reference text,
/// when that range can be edited in the file.
pub(crate) fn replace_in_reference(
    site: &ImageSite,
    range: crate::site::Span,
    content: String,
    title: String,
    applicability: crate::diagnostic::Applicability,
) -> Option<Fix> {
    let span = site.map_to_file(range)?;
    // A name without a registry that the consumer joins with a registry of
    // its own (Helm templates): a prefix would double it, or refit cannot tell.
    let mut applicability = applicability;
    if site.reference().is_some_and(|r| r.domain.is_none()) {
        match &site.extra.prefixing {
            crate::site::Prefixing::Never(_) => return None,
            crate::site::Prefixing::Unsure(_) => {
                applicability = crate::diagnostic::Applicability::Unsafe
            }
            crate::site::Prefixing::Safe => {}
        }
    }
    let mut edits = vec![crate::diagnostic::Edit { span, content }];
    // A GitLab CI service without `alias:` answers on host names made from
    // its image name: a fix that renames the image keeps them as an alias.
    if let (Some(hosts), Some(reference)) = (&site.extra.service_hosts, site.reference())
        && range.start <= reference.path.end
    {
        let alias = format!("alias: {}", hosts.hosts);
        match &hosts.insert {
            Some((at, before)) => edits.push(crate::diagnostic::Edit {
                span: crate::site::Span::new(*at, *at),
                content: format!("{before}{alias}"),
            }),
            None => {
                let edit = edits.pop()?;
                let scalar = hosts.scalar;
                let original = source_of(site, scalar)?;
                let inner = crate::site::Span::new(
                    edit.span.start.checked_sub(scalar.start)?,
                    edit.span.end.checked_sub(scalar.start)?,
                );
                let renamed = preview(&original, inner, &edit.content);
                edits.push(crate::diagnostic::Edit {
                    span: scalar,
                    content: format!("{{ name: {renamed}, {alias} }}"),
                });
            }
        }
    }
    Some(Fix::new(title, applicability, edits))
}

/// The file bytes of a span inside a site's reference, rebuilt from the
/// site's verbatim pieces and raw text (a service scalar is one piece).
fn source_of(site: &ImageSite, scalar: crate::site::Span) -> Option<String> {
    let crate::site::SiteValue::Resolved { text, pieces, .. } = &site.value else {
        return None;
    };
    // Only a scalar written as exactly its value (one verbatim piece that
    // is the whole scalar) can be rebuilt.
    let [piece] = pieces.as_slice() else {
        return None;
    };
    (piece.file == Some(scalar) && piece.text == crate::site::Span::new(0, text.len()))
        .then(|| text.clone())
}

/// The resolved text of a site with a range replaced: for fix titles.
pub(crate) fn preview(text: &str, range: crate::site::Span, content: &str) -> String {
    let mut out = String::with_capacity(text.len() + content.len());
    out.push_str(text.get(..range.start).unwrap_or(""));
    out.push_str(content);
    out.push_str(text.get(range.end..).unwrap_or(""));
    out
}

/// The range of a reference's name (registry and path, without tag or
/// digest) in its resolved text.
pub(crate) fn name_range(reference: &crate::reference::Reference) -> crate::site::Span {
    let start = reference.domain.map_or(reference.path.start, |d| d.start);
    crate::site::Span::new(start, reference.path.end)
}

/// Replace a site's whole name, keeping tag and digest: the reference as it
/// would read, and the fix when the name can be edited in the file
/// (REG005, REG006 and REG007).
pub(crate) fn rename(
    site: &ImageSite,
    reference: &crate::reference::Reference,
    name: String,
) -> (String, Option<Fix>) {
    let range = name_range(reference);
    let fixed = preview(reference.input(), range, &name);
    let fix = replace_in_reference(
        site,
        range,
        name,
        format!("Use `{fixed}`"),
        crate::diagnostic::Applicability::Safe,
    );
    (fixed, fix)
}
