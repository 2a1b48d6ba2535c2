use super::{Rule, RuleContext, declare_rule};
use crate::diagnostic::Diagnostic;
use crate::site::{ImageSite, SiteValue};

declare_rule! {
    /// ## What it does
    /// Flags image references that are not valid under the OCI distribution
    /// reference grammar, the grammar Docker, containerd and every registry
    /// use. The message gives the grammar's own reason.
    ///
    /// ## Why is this bad?
    /// The pull fails before it reaches a registry: `docker build` stops with
    /// `invalid reference format`. Common causes are uppercase letters in the
    /// repository, a tag longer than 128 characters, a digest of the wrong
    /// length, or a variable that expanded to something unexpected.
    ///
    /// A `FROM` that is invalid only because an `ARG` has an empty default
    /// (`ARG WINDOWS_VERSION=` + `FROM servercore:${WINDOWS_VERSION}`, which
    /// the build always overrides with `--build-arg`) is not flagged here:
    /// REF002 reports the variable without a usable value, as BuildKit's
    /// InvalidDefaultArgInFrom check does.
    ///
    /// Helm values are composed the way the chart's templates write them:
    /// a `repository:` that already holds a tag (`graylog/graylog:3.1`) and
    /// that a template writes alone (`{{ .Values.graylog.image.repository }}`)
    /// is the whole reference, without the map's tag or the chart's
    /// `appVersion`; `image: x@sha256` with `imageTag: <hex>` beside it is
    /// the digest reference `x@sha256:<hex>` the template
    /// `{{ .Values.image }}:{{ .Values.imageTag }}` writes. Not flagged: an
    /// entry no template names, one handed to a helper refit cannot follow,
    /// and one a template joins more text to than refit read.
    ///
    /// Where refit joins `registry` and `repository` itself, without a
    /// template that writes the join (a Flux `HelmRelease`'s values, a
    /// sub-chart's values, a chart whose templates were not found), the `/`
    /// between them is refit's guess: a registry written with a trailing
    /// slash (`registry: quay.io/`) is joined without a second one, as the
    /// charts that accept it render it (`trimSuffix "/"`). A `//` is flagged
    /// only where a template refit read writes it.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM MyOrg/App:1.0
    /// ```
    ///
    /// ## Use instead
    /// ```dockerfile
    /// FROM docker.io/myorg/app:1.0
    /// ```
    code: "REF001",
    name: "invalid-reference",
    severity: Error,
    fix: None,
    summary: "Text is not a valid image reference",
    check: check,
}

fn check(rule: &Rule, site: &ImageSite, _ctx: &RuleContext, out: &mut Vec<Diagnostic>) {
    let SiteValue::Resolved {
        text,
        parsed: Err(error),
        ..
    } = &site.value
    else {
        return;
    };
    // Helm values: refit did not find how the chart's templates write the
    // value, or they join more text after it than refit read.
    if site
        .extra
        .rendered
        .is_some_and(|j| !j.found() || j.joined_after())
    {
        return;
    }
    let shown = if text.is_empty() { "" } else { text.as_str() };
    // The grammar's message, then which part is wrong.
    // (The grammar's uppercase message already names the repository.)
    use crate::reference::ReferenceErrorKind::{
        NameContainsUppercase, NormalizedNameContainsUppercase,
    };
    let named = matches!(
        error.kind,
        NameContainsUppercase | NormalizedNameContainsUppercase
    );
    let why = crate::reference::explain(text)
        .filter(|w| !named || w.contains("registry host"))
        .map(|w| format!(" ({w})"))
        .unwrap_or_default();
    out.push(rule.report(
        site,
        format!("Image reference `{shown}` is invalid: {error}{why}"),
    ));
}
