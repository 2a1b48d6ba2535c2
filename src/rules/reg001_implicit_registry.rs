use super::{Rule, RuleContext, declare_rule, preview, replace_in_reference};
use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix};
use crate::facts::Judged;
use crate::site::{ImageSite, SiteKind, Span};

declare_rule! {
    /// ## What it does
    /// Flags image references that name no registry, so Docker Hub is implied.
    ///
    /// ## Why is this bad?
    /// `FROM node:20` hides that the build depends on Docker Hub, with its
    /// anonymous pull rate limit (100 pulls per 6 hours per IP) and its
    /// outages. Written out as `docker.io/library/node:20`, the dependency is
    /// visible, searchable and easy to route through a mirror or a
    /// pull-through cache.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM node:20
    /// FROM bitnami/redis:7
    /// ```
    ///
    /// ## Use instead
    /// ```dockerfile
    /// FROM docker.io/library/node:20
    /// FROM docker.io/bitnami/redis:7
    /// ```
    ///
    /// ## Fix safety
    /// Safe: Docker normalizes `node:20` to `docker.io/library/node:20`, so
    /// the same image is pulled. When the reference comes from an `ARG`
    /// default, the fix edits the `ARG` line; from a Compose
    /// `${VAR:-default}`, the default. In Helm values with a `registry:`
    /// key, the fix sets `registry: docker.io` rather than prefixing
    /// `repository:` (templates join the two). A value from outside the
    /// file (`--build-arg`, `.env`) cannot be edited, so no fix is offered.
    ///
    /// Unsafe in a file a kustomization lists as a resource (or a
    /// kustomization another includes): kustomize matches `images[].name`
    /// literally, so qualifying `mysql:8.0` breaks every overlay, in this
    /// repository or not, that overrides `mysql`. This holds for every rule
    /// that renames an image (the REG family). When every overlay is in the
    /// repository (refit then sees their `images:` and leaves matched names
    /// alone), say so and the fixes stay safe:
    ///
    /// ```toml
    /// [fix]
    /// kustomize-consumers = "repository"   # default: "anywhere"
    /// ```
    ///
    /// Files whose first lines say they are generated (`DO NOT EDIT`,
    /// `@generated`) get the finding without a fix.
    /// Unsafe where a script or bashbrew compares `FROM` text.
    ///
    /// With a pull-through cache configured for Docker Hub (`[registries]
    /// proxies`), the fix qualifies the reference through the cache:
    /// `node:20` becomes `harbor.corp.example/dockerhub/library/node:20`.
    ///
    /// A name that a `[[rewrite]]` moves is written at its new place:
    /// with `from = "docker.io/my-org/"`, `to = "ghcr.io/my-org/"`,
    /// `my-org/api:1` becomes `ghcr.io/my-org/api:1` in one step.
    ///
    /// Podman, Buildah and CRI-O resolve a short name through
    /// `registries.conf`: `[aliases]` first, then
    /// `unqualified-search-registries`. Their shipped `shortnames.conf`
    /// aliases the Docker Official Image names to `docker.io/library/`, and
    /// with no search registry a short name does not resolve at all, so
    /// the qualification keeps (or repairs) what they pull. When the
    /// repository ships a `registries.conf` that aliases the name elsewhere,
    /// or searches another registry first or several in turn, the fix is
    /// unsafe and the help names that file: Docker and Podman would then
    /// pull different images, and only the user knows which is meant.
    /// The same holds for a file those tools build (a `Containerfile`, a
    /// file a script passes to `podman build -f` or `buildah bud`, the
    /// `redhat-actions/buildah-build` Action's `containerfiles:`, a Compose
    /// file `podman-compose` runs, a Kubernetes manifest in a folder with an
    /// OpenShift resource, which CRI-O runs, a Podman Quadlet unit) when
    /// the repository pins no search
    /// registry: the build machine's own `registries.conf` decides, and
    /// refit cannot see it. A repository `registries.conf` with
    /// `unqualified-search-registries = ["docker.io"]`, or an alias to
    /// `docker.io/library/<name>`, makes the fix safe again.
    ///
    /// An `ARG` default that other uses share (a `FROM docker.io/library/$NAME`,
    /// a `RUN`) is not edited: the qualification goes to the use. A single
    /// name that is not a Docker Official Image (`rules/official-images.toml`)
    /// may be a local image (Podman: `localhost/<name>`), so it is reported
    /// without a fix. Helm repositories get no prefix when the chart's
    /// templates join a registry value themselves or the value belongs to a
    /// sub-chart (whose templates may add a registry of their own), and only
    /// an unsafe one when refit found no templates. A
    /// GitLab CI service without `alias:` gets one with the host names it
    /// answers on. A kustomize `images[].name`, and the resource images it
    /// matches, are never edited.
    ///
    /// Helm values are read the way the chart's templates join them: a map
    /// `{image: traefik, tag: …, registry: …}` is one reference (its
    /// `registry:` is the registry); a template that writes
    /// `{{ default .Values.image.registry .Values.x.image.registry }}/…`
    /// takes the fallback while the map's own `registry:` is empty, so
    /// `registry: ""` beside `name: agent` with `image.registry: acme` is
    /// `acme/agent`, a Docker Hub image: the fix sets
    /// `registry: docker.io/acme`. When the template reads its registry from
    /// another value, there is no fix.
    ///
    /// Not flagged either: an image map handed to a helper that may take the
    /// registry from somewhere other than the map's own `registry:` key,
    /// following variables (`$r := …`), `default`/`coalesce`/`or` chains and
    /// `dict` arguments: another key of the map (kyverno's
    /// `default (default .image.defaultRegistry .globalRegistry)
    /// .image.registry`), another argument (a global registry), or a literal
    /// host (`default "ghcr.io" .registry`). Helm then renders that registry,
    /// and `registry: docker.io` would override it (and a user's global
    /// registry). A helper that reads only the map's own `registry` and its
    /// repository is still judged as above.
    ///
    /// The values such a helper reads are looked up in the values file and
    /// the chart's `values.yaml`, at the level the helper reads them: jfrog's
    /// `default $dot.Values.imageRegistry (index $dot.Values $a $b "image"
    /// "registry")`, called as `include "…" (list . "pipelines" "api")`, reads
    /// the top-level `imageRegistry` and `pipelines.api.image.registry` (the
    /// call's strings fill `$a` and `$b`). When one of them is set, Helm
    /// renders that registry: not flagged. When none is set (and the helper
    /// has no literal host), the finding stays, without a fix, and its help
    /// names every key the helper reads. A source refit cannot resolve (an
    /// argument built by a pipeline) leaves the result unknown: not flagged.
    /// Nor is an entry handed to a helper refit cannot follow while a
    /// registry value that a template names is set at a level above the
    /// image map (a top-level `imageRegistry`, `global.imageRegistry`): the
    /// helper may put it in front. When such values are present but empty,
    /// the finding's help names them.
    ///
    /// Not flagged: a Compose `image:` beside `build:` (it names the build
    /// output), images the repository builds itself (Compose, bake,
    /// `docker build -t`, skaffold `build.artifacts[].image`), placeholders
    /// a script replaces (`kustomize edit set image NAME=…`, a `sed` or
    /// PowerShell `-replace` of `FROM NAME` with a computed value), named
    /// build contexts (`COPY --from=binary_dir`), resource images a
    /// kustomization overrides with `newName`, images that are never pulled
    /// (Kubernetes or Helm `imagePullPolicy: Never`, Compose `pull_policy:
    /// never` or `build`), and GitLab's dependency-proxy prefixes. Helm
    /// values with a `registry:` or `imageRegistry:` beside the image key
    /// (`{registry: quay.io, image: {repository: …}}`) name that registry.
    /// Values under a sub-chart's key (`dependencies:` in Chart.yaml) are
    /// not flagged: the sub-chart's own templates and defaults, which refit
    /// does not read, may add the registry.
    ///
    /// In a chart with templates, a values entry is judged by the template
    /// expression that writes it (the book's "How a chart's templates write
    /// its values"). Not
    /// flagged: an entry no template names (nor a map above it), which is
    /// not known to be an image at all (`config.token.image: 24h`, a token
    /// lifetime); and an entry a template writes after text refit did not
    /// read into the reference (`{{ .Values.image.registry }}/{{
    /// .Values.image.org }}/{{ .Values.image.repository }}`, `quay.io/{{ … }}`,
    /// a value written right before it that is set). An entry handed to a
    /// helper refit cannot follow (a library chart's `include "common.all" .`)
    /// is still flagged: helpers take the registry from the values, which
    /// refit reads (a `registry:` key, `global.imageRegistry`), so the value
    /// alone shows Docker Hub is implied; but its `registry:` fix is unsafe
    /// unless a template refit read writes the map too. A value written right before the
    /// entry (`{{ .Values.image.repository }}{{ .Values.ndm.image }}`) that is
    /// empty adds nothing; the fix then goes nowhere, because a registry set
    /// there would be written twice.
    /// The repository is the folder with `.git` (or a refit
    /// config) above the file, else the working directory.
    code: "REG001",
    name: "implicit-registry",
    severity: Warning,
    fix: Sometimes,
    summary: "No registry: Docker Hub is implied",
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
    // A dependency-proxy prefix (GitLab) names the registry.
    if reference.domain.is_some() || site.extra.via_proxy.is_some() {
        return;
    }
    // A sub-chart's values: its templates may join a registry of their
    // own (Bitnami's `image.registry: docker.io`), which refit did not read.
    if site.extra.subchart.is_some() {
        return;
    }
    // Helm values: no template of the chart names the value (nor a map
    // above it), or one writes something in front of it that refit did
    // not read (`{{ .Values.hub }}/{{ .Values.image }}`). A value handed to
    // a helper refit cannot follow stays: a helper takes the registry from
    // the values, which refit reads.
    if site
        .extra
        .rendered
        .is_some_and(|j| j == Judged::Unseen || j.prefixed())
    {
        return;
    }
    // Helm values whose chart helper may take the registry from another
    // key or a literal (`default .image.defaultRegistry .image.registry`):
    // no registry is implied, and setting `registry:` would override it.
    if site.extra.registry_elsewhere {
        return;
    }
    // A single name that is not a Docker Official Image is a local image or
    // a named build context as often as a Docker Hub one.
    let single = !reference.path_str().contains('/');
    let official = !single || crate::official::is_official_image(reference.path_str());
    if !official
        && matches!(site.kind, SiteKind::CopyFrom | SiteKind::RunMountFrom)
        && reference.tag.is_none()
        && reference.digest.is_none()
    {
        // `COPY --from=binary_dir`: a named build context (bake `contexts`,
        // Compose `additional_contexts`, `--build-context`).
        return;
    }
    // With a pull-through cache for Docker Hub, qualify straight through it
    // (REG006 would otherwise rewrite the result again).
    let registry = ctx
        .policy
        .proxy_for("docker.io")
        .map_or("docker.io", |p| p.via.as_str());
    let prefix = if reference.path_str().contains('/') {
        format!("{registry}/")
    } else {
        format!("{registry}/library/")
    };
    let mut at = Span::new(reference.path.start, reference.path.start);
    let mut edit = prefix;
    // A name a `[[rewrite]]` moves is written at its new place directly
    // (REG007 would otherwise rewrite the qualified name again).
    if let Some((_, rewritten)) = ctx.policy.rewrite_for(&reference.normalized_name()) {
        at = reference.path;
        edit = rewritten;
    }
    let qualified = preview(reference.input(), at, &edit);
    let mut d = rule.report(
        site,
        format!(
            "Image `{}` has no registry; Docker Hub is implied",
            reference.input()
        ),
    );
    if !official {
        d.message = format!(
            "Image `{}` has no registry; `{}` is not a Docker Official Image, so it is a local image or `{qualified}`",
            reference.input(),
            reference.path_str()
        );
        d.help = Some(format!(
            "if the repository or an earlier step builds `{0}`, it is a local name (Podman calls it `localhost/{0}`); otherwise write its registry",
            reference.path_str()
        ));
        out.push(d);
        return;
    }
    d.fix = match &site.extra.registry_slot {
        // Helm values with a `registry:` key: templates join
        // `registry/repository`, so the registry is set there.
        // With a template fallback (`default .Values.image.registry
        // .registry`), the empty slot stands for the fallback's namespace.
        Some(slot) => slot.content.filter(|_| slot.value.is_empty()).map(|span| {
            let value = match &site.extra.registry_fallback {
                Some(namespace) => format!("docker.io/{namespace}"),
                None => "docker.io".to_string(),
            };
            // `registry:` with no value: the edit goes right after the colon.
            let content = if slot.span.is_empty() {
                format!(" {value}")
            } else {
                value.clone()
            };
            Fix::new(
                format!("Set `registry: {value}`"),
                Applicability::Safe,
                vec![Edit { span, content }],
            )
        }),
        None => replace_in_reference(
            site,
            at,
            edit,
            format!("Qualify as `{qualified}`"),
            Applicability::Safe,
        ),
    };
    // Podman, Buildah and CRI-O read a short name through `registries.conf`:
    // when the repository's own configuration can send it elsewhere, the
    // qualification may change the image pulled.
    if let Some(why) = ctx
        .file
        .short_names
        .as_ref()
        .and_then(|r| r.elsewhere(reference.path_str()))
        && let Some(fix) = d.fix.as_mut()
    {
        fix.applicability = Applicability::Unsafe;
        d.help = Some(if site.kind == SiteKind::Quadlet {
            format!(
                "Podman reads `{}` through `registries.conf`, which may not choose Docker Hub: {why}; write the registry the unit should use",
                reference.input()
            )
        } else {
            format!(
                "Docker reads `{}` as Docker Hub, but the containers tools (Podman, Buildah, CRI-O) may not: {why}; write the registry the build should use",
                reference.input()
            )
        });
    }
    if let crate::site::Prefixing::Never(reason) = &site.extra.prefixing {
        if d.fix.is_none() && !site.extra.registry_keys.is_empty() {
            let which = if site.extra.registry_keys.len() == 1 {
                "it"
            } else {
                "one of them"
            };
            d.help = Some(format!(
                "{reason}: set {which} to the registry to pull from (`docker.io` for Docker Hub), not in front of the repository"
            ));
        } else if d.fix.is_none() {
            d.help = Some(format!(
                "{reason}: set the registry there (a `registry:` key or `global.imageRegistry`), not in front of the repository"
            ));
        }
    } else if d.fix.is_none()
        && let Some(why) = &site.extra.kept
    {
        d.help = Some(format!(
            "write `{qualified}`; refit does not edit it: {why}"
        ));
    } else if d.fix.is_none() && !site.extra.frozen.is_empty() {
        d.help = Some(format!(
            "kustomize matches `images[].name` against resource images literally, so refit edits neither side alone; to deploy `{qualified}`, give the `images:` entry a `newName:`"
        ));
    } else if d.fix.is_none() && !site.extra.shared.is_empty() {
        d.help = Some(format!(
            "write `{qualified}` here; the value comes from an ARG default other lines also use, so refit does not edit it"
        ));
    } else if d.fix.is_none() && site.kind == SiteKind::GitlabCi && site.raw.contains('$') {
        d.help = Some(format!(
            "write `{qualified}` where `{}` is set (a `variables:` entry, an included file or the CI/CD settings); refit does not edit a variable other lines may use",
            site.raw
        ));
    } else if d.fix.is_none()
        && matches!(
            site.kind,
            SiteKind::DevcontainerImage | SiteKind::DevcontainerFeature
        )
    {
        d.help = Some(format!(
            "write `{qualified}`; the value is written with JSON escapes, so refit does not edit it"
        ));
    } else if d.fix.is_none() {
        d.help = Some(format!(
            "write `{qualified}`; the value comes from outside the file, so refit cannot edit it"
        ));
    }
    out.push(d);
}
