use super::{Rule, RuleContext, declare_rule};
use crate::diagnostic::Diagnostic;
use crate::site::ImageSite;

declare_rule! {
    /// ## What it does
    /// Flags image references with neither a tag nor a digest.
    ///
    /// In a Kubernetes container with no `imagePullPolicy`, the message
    /// adds that Kubernetes pulls the image on every start: this rule owns
    /// that problem, and K8S001 does not report it again on the same image.
    ///
    /// Not flagged: images the repository builds itself or names as a
    /// placeholder (see REG001), a Helm image map whose `tag:` sits beside
    /// `image:` (`{image: traefik, tag: …}`), and a resource image that a
    /// kustomization including it gives a `newTag` or `digest` in
    /// `images[]` (the deployed image has the overlay's tag; TAG002 and
    /// TAG003 judge that entry), and Helm values under a sub-chart's key
    /// (the sub-chart's own defaults, which refit does not read, supply a
    /// tag left out), and a Helm chart whose version is a range (`~1.2`,
    /// `>=1.0` in `Chart.yaml` or helmfile: Helm picks the version when it
    /// runs, and Chart.lock records it; Flux's default is `*`).
    ///
    /// Not flagged either: a tag from a variable that the repository's own
    /// build or run always sets (see TAG002), and a single `COPY --from`
    /// name that is not an official image (a named context; see REF005).
    ///
    /// In a chart with templates, a values entry is judged by the template
    /// expression that writes it. Not flagged: an entry a template joins a
    /// tag, a digest or more text to
    /// (`"{{ .Values.pilot.image }}:{{ .Values.istio.release }}"`: the tag
    /// comes from another key), and an entry refit did not find written:
    /// no template names it (it is not known to be an image), or it is
    /// handed to a helper refit cannot follow (a library chart's), which
    /// may join a tag refit did not read. Saying nothing there is the
    /// principle: a finding states only what refit can see. So are values
    /// of a chart whose templates refit did not read.
    ///
    /// A kustomize `images[]` entry with `newName` and no `newTag` or
    /// `digest` is not flagged: kustomize keeps the tag of each resource
    /// image it matches (`nginx:1.27` with `newName: ghcr.io/org/nginx`
    /// deploys `ghcr.io/org/nginx:1.27`), so the tag is the resource's.
    ///
    /// ## Why is this bad?
    /// With no tag, `latest` is implied, and `latest` moves: the same
    /// Dockerfile builds a different image from one day to the next, and a
    /// new major version can arrive without anyone choosing it.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM docker.io/library/node
    /// ```
    ///
    /// ## Use instead
    /// ```dockerfile
    /// FROM docker.io/library/node:22.11.0
    /// ```
    /// or, to pin the content exactly, add a digest:
    /// `docker.io/library/node:22.11.0@sha256:…`.
    code: "TAG001",
    name: "missing-tag",
    severity: Warning,
    fix: None,
    summary: "No tag and no digest: `latest` is implied",
    check: check,
}

fn check(rule: &Rule, site: &ImageSite, ctx: &RuleContext, out: &mut Vec<Diagnostic>) {
    let Some(reference) = site.reference() else {
        return;
    };
    // A Compose `image:` beside `build:` names the build's output.
    if site.extra.build_output {
        return;
    }
    // A default the repository's own build or run always overrides.
    if super::overridden::tag_overridden(site, ctx).is_some() {
        return;
    }
    // A kustomization's `images[]` entry gives it a `newTag` or `digest`:
    // what is deployed carries the overlay's tag (TAG002 and TAG003 judge
    // it there).
    if reference.tag.is_some() || reference.digest.is_some() || site.extra.tag_from_overlay {
        return;
    }
    // `COPY --from=binary_dir`: a single name that is neither a stage nor
    // a Docker Official Image is a named build context (bake `contexts`,
    // Compose `additional_contexts`, `--build-context`) as often as an
    // image; REF005 reports it when the build files say it is not one.
    if matches!(
        site.kind,
        crate::site::SiteKind::CopyFrom | crate::site::SiteKind::RunMountFrom
    ) && !reference.path_str().contains('/')
        && !crate::official::is_official_image(reference.path_str())
    {
        return;
    }
    // A sub-chart's values: a tag left out comes from the sub-chart's own
    // defaults, which refit did not read.
    if site.extra.subchart.is_some() {
        return;
    }
    // Helm values of a chart whose templates refit did not read (no
    // `templates/` beside them, or no chart): the tag left out may come
    // from there (`default .Chart.AppVersion`, a `version` or global tag
    // key that the templates join), as for a sub-chart.
    if site.kind == crate::site::SiteKind::HelmValue && site.extra.rendered.is_none() {
        return;
    }
    // A Helm chart's version range: Helm picks the version when it runs.
    if site.extra.version_range.is_some() {
        return;
    }
    // Helm values: the chart's templates join a tag (or more) after the
    // value, or refit did not find how they write it.
    if site
        .extra
        .rendered
        .is_some_and(|j| !j.found() || j.joined_after())
    {
        return;
    }
    let mut d = rule.report(
        site,
        format!(
            "Image `{}` has no tag; `latest` is implied{}",
            reference.input(),
            super::tag002_latest_tag::pulled_on_every_start(site)
        ),
    );
    d.help = Some("pin a version tag, and a digest for reproducible builds".to_string());
    out.push(d);
}
