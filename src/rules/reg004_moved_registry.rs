use super::{Rule, RuleContext, declare_rule, name_range, preview, replace_in_reference};
use crate::diagnostic::{Applicability, Diagnostic};
use crate::site::{ImageSite, Span};

declare_rule! {
    /// ## What it does
    /// Flags references to registries and namespaces that moved or froze,
    /// such as `k8s.gcr.io` and `gcr.io/google_containers`, which became
    /// `registry.k8s.io`. The table lives in `rules/moved.toml`, each entry
    /// with its status, date and whether the content is the same at the new
    /// place.
    ///
    /// ## Why is this bad?
    /// A frozen registry gets no new images: `k8s.gcr.io` has been frozen
    /// since 2023-04-03, so Kubernetes 1.27+ images were never published
    /// there, and allow-lists or clients that do not follow its redirect
    /// break. Registries that shut down stop serving pulls altogether.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM k8s.gcr.io/pause:3.9
    /// ```
    ///
    /// ## Use instead
    /// ```dockerfile
    /// FROM registry.k8s.io/pause:3.9
    /// ```
    ///
    /// ## Fix safety
    /// Safe where the same content is served at the new place:
    /// `k8s.gcr.io` → `registry.k8s.io`, and `minio/minio`, `minio/mc` →
    /// `quay.io/minio/…` (same digests). Unsafe where a human must check:
    /// `gcr.io/google_containers` and `gcr.io/google-containers` (a legacy
    /// backfill; not every old image was promoted),
    /// `quay.io/coreos/prometheus-operator` (old versions are only under
    /// coreos), `microsoft/*` → `mcr.microsoft.com` (many images were
    /// renamed), and Bitnami's versioned tags → `bitnamilegacy` (frozen, no
    /// updates), as are Bitnami's images removed from ECR Public
    /// (`public.ecr.aws/bitnami`, 2026-06-10). `docker.pkg.github.com` is reported without a fix: its
    /// paths carry a repository component that `ghcr.io` names do not.
    ///
    /// No fix when the rewrite would not name an image at the new place
    /// (`gcr.io/google_containers:1` would become the Docker Hub name
    /// `registry.k8s.io:1`), or when the name comes from an `ARG` default
    /// that other lines also use.
    ///
    /// In a Helm values file that writes a Bitnami image in Bitnami's
    /// `registry`/`repository`/`tag` layout, or under a sub-chart's key
    /// (`redis.image.repository: bitnami/redis`), the fix also sets
    /// `global.security.allowInsecureImages: true` in the same file (the
    /// `bitnami` advisory pack's side effect): Bitnami charts refuse to
    /// render a replaced image without it. When refit cannot add the key
    /// (it is `false`, or `global` is in flow style), there is no fix.
    ///
    /// The moves come in advisory packs (`refit advisories`); the opt-in
    /// `dhi` pack's Docker Hardened Images are DHI001's.
    ///
    /// `gcr.io` and its regional hosts (`us.gcr.io`, `eu.gcr.io`,
    /// `asia.gcr.io`) are not reported here: a gcr.io name on Artifact
    /// Registry keeps working, so refit cannot tell a dead reference from a
    /// live one. The opt-in rule REG008 (shut-down-registry) notes them.
    code: "REG004",
    name: "moved-registry",
    severity: Warning,
    fix: Sometimes,
    summary: "A registry or namespace that moved or froze",
    check: check,
}

fn check(rule: &Rule, site: &ImageSite, ctx: &RuleContext, out: &mut Vec<Diagnostic>) {
    check_moved(rule, site, ctx, out, false);
}

/// REG004 (`notes` false: moves) and REG008 (`notes` true: registries that
/// shut down with no one new place, where refit cannot tell whether the
/// image still lives).
pub(super) fn check_moved(
    rule: &Rule,
    site: &ImageSite,
    ctx: &RuleContext,
    out: &mut Vec<Diagnostic>,
    notes: bool,
) {
    let Some(reference) = site.reference() else {
        return;
    };
    // A Compose `image:` beside `build:` names the build's output.
    if site.extra.build_output {
        return;
    }
    let name = name_range(reference);
    let name_start = name.start;
    let written = reference.input().get(name.start..name.end).unwrap_or("");
    // Through a Docker Hub mirror path, the upstream name: a mirrored
    // `minio/minio` moved as Docker Hub's did. The fix then replaces the
    // whole name (it leaves the mirror, so it is unsafe).
    let upstream = crate::identity::identity(reference, ctx.knowledge, ctx.policy);
    let normalized = upstream.as_ref().map_or_else(
        || reference.normalized_name(),
        |id| id.reference.normalized_name(),
    );
    let mirrored = upstream.is_some();
    let versioned = reference.tag_str().is_some_and(|t| t != "latest");
    for moved in &ctx.knowledge.moved {
        if moved.versioned_only && !versioned {
            continue;
        }
        // Prefer editing only the moved prefix as written; fall back to
        // replacing the whole name when it matched only after normalization.
        let variant = (!moved.tag_variants.is_empty())
            .then(|| variant_rename(reference, &moved.tag_variants))
            .flatten();
        let (range, content) = if prefix_len(&normalized, &moved.from).is_some()
            && !moved.tag_variants.is_empty()
        {
            match &variant {
                Some(v) => v.clone(),
                // No variant in the tag: say where they went, fix nothing.
                None => {
                    if notes {
                        return;
                    }
                    let mut d = rule.report(
                        site,
                        format!(
                            "Image `{}` uses `{}`, which moved to separate repositories under `{}` ({})",
                            reference.input(),
                            moved.from,
                            moved.to,
                            moved.note
                        ),
                    );
                    d.severity = moved.severity.unwrap_or(d.severity);
                    out.push(d);
                    return;
                }
            }
        } else if mirrored {
            let Some(len) = prefix_len(&normalized, &moved.from) else {
                continue;
            };
            let rest = normalized.get(len..).unwrap_or("");
            let moved_to = format!("{}{rest}", moved.to);
            // Through a proxy, the new name stays behind the proxy when
            // the proxy caches the registry it moved to.
            let content = match upstream.as_ref().map(|id| id.route) {
                Some(crate::identity::Route::Proxy(p)) => moved_to
                    .strip_prefix(&format!("{}/", p.upstream))
                    .map_or(moved_to.clone(), |r| format!("{}/{r}", p.via)),
                _ => moved_to,
            };
            (name, content)
        } else if let Some(edit) = tail_edit(written, &normalized, &moved.from, &moved.to) {
            // Within one registry (`docker.io/bitnami` → `…/bitnamilegacy`):
            // only the namespace as written, so a Helm values `registry:`
            // key is left alone.
            (
                Span::new(name_start + edit.0.start, name_start + edit.0.end),
                edit.1,
            )
        } else if let Some(len) = prefix_len(written, &moved.from) {
            (Span::new(name_start, name_start + len), moved.to.clone())
        } else if let Some(len) = prefix_len(&normalized, &moved.from) {
            let rest = normalized.get(len..).unwrap_or("");
            (name, format!("{}{rest}", moved.to))
        } else {
            continue;
        };
        // Projects under the prefix that did not move.
        if moved
            .except
            .iter()
            .any(|e| prefix_len(&normalized, e).is_some())
        {
            return;
        }
        let fixed = preview(reference.input(), range, &content);
        // The message names what the fix writes.
        let to = if variant.is_some() {
            preview(reference.input(), range, &content)
                .split('@')
                .next()
                .unwrap_or_default()
                .to_string()
        } else {
            moved.to.clone()
        };
        // A shut-down registry with no one new place (gcr.io) is a note on
        // what happened, not a move.
        let shut_down = moved.status == "shut-down" && !moved.fix;
        if shut_down != notes {
            return;
        }
        let message = if shut_down {
            format!(
                "Image `{}` is on `{}`: {}",
                reference.input(),
                moved.from,
                moved.note
            )
        } else {
            format!(
                "Image `{}` uses `{}`, which moved to `{}` ({})",
                reference.input(),
                moved.from,
                to,
                moved.note
            )
        };
        let mut d = rule.report(site, message);
        d.severity = moved.severity.unwrap_or(d.severity);
        if shut_down {
            d.help = Some(format!(
                "if this project was not moved, its images are gone: push them to `{}` and use that name",
                moved.to
            ));
        } else if !moved.safe {
            d.help = Some(format!(
                "check that the image exists at `{fixed}` before switching"
            ));
        }
        // The rewrite must name an image at the new place: a whole name
        // equal to a moved host prefix (`gcr.io/google_containers:1`) would
        // become a Docker Hub name (`registry.k8s.io:1`).
        // Through a mirror or proxy, where the name leads upstream.
        let lands = crate::reference::Reference::parse_normalized(&fixed).is_ok_and(|r| {
            let name = crate::identity::identity(&r, ctx.knowledge, ctx.policy)
                .map_or_else(|| r.normalized_name(), |id| id.reference.normalized_name());
            prefix_len(&name, &moved.to).is_some()
        });
        if moved.fix && !lands {
            d.help = Some(format!(
                "`{fixed}` would not name an image at `{}`; choose the image there by hand",
                moved.to
            ));
        } else if moved.fix && !site.extra.shared.is_empty() && site.whole_file_span().is_none() {
            d.help = Some(format!(
                "write `{fixed}` here; the value comes from an ARG default other lines also use, so refit does not edit it"
            ));
        }
        if moved.fix && lands {
            let applicability = if moved.safe && !mirrored {
                Applicability::Safe
            } else {
                Applicability::Unsafe
            };
            d.fix = replace_in_reference(
                site,
                range,
                content,
                format!("Use `{fixed}`"),
                applicability,
            );
            add_side_effects(site, ctx, moved, &mut d);
        }
        out.push(d);
        return;
    }
}

/// Length of `prefix` in `name` when it matches whole path components.
/// For a repository split by tag variant: the range from the name through
/// the tag, and what replaces it (`mcr.microsoft.com/dotnet/sdk:2.1`).
fn variant_rename(
    reference: &crate::reference::Reference,
    variants: &[crate::rules::knowledge::TagVariant],
) -> Option<(Span, String)> {
    let tag_span = reference.tag?;
    let tag = reference.tag_str()?;
    for v in variants {
        let words: Vec<&str> = tag.split('-').collect();
        let want: Vec<&str> = v.variant.split('-').collect();
        let Some(at) = words.windows(want.len()).position(|w| w == want.as_slice()) else {
            continue;
        };
        let rest: Vec<&str> = words[..at]
            .iter()
            .chain(&words[at + want.len()..])
            .copied()
            .collect();
        let new_tag = rest.join("-");
        let content = if new_tag.is_empty() {
            v.to.clone()
        } else {
            format!("{}:{new_tag}", v.to)
        };
        let start = name_range(reference).start;
        return Some((Span::new(start, tag_span.end), content));
    }
    None
}

/// The edits a move's advisory pack says a correct migration needs besides
/// the reference (`rules/advisories.toml` `side-effect`): in a Helm values
/// file that writes a Bitnami image in Bitnami's `registry`/`repository`
/// layout, `global.security.allowInsecureImages: true`. When refit cannot
/// add it, there is no fix: the swap alone would make the chart refuse to
/// render.
fn add_side_effects(
    site: &ImageSite,
    ctx: &RuleContext,
    moved: &crate::rules::knowledge::Moved,
    d: &mut Diagnostic,
) {
    let Some(pack) = ctx.knowledge.packs.iter().find(|p| p.name == moved.pack) else {
        return;
    };
    let Some(reference) = site.reference() else {
        return;
    };
    let upstream = crate::identity::upstream(reference, ctx.knowledge, ctx.policy);
    let path = upstream.normalized_path();
    for effect in &pack.side_effect {
        let applies = effect.when == "helm-values"
            && site.kind == crate::site::SiteKind::HelmValue
            && (site.extra.registry_slot.is_some() || site.extra.subchart.is_some())
            && path.starts_with(&effect.repository_prefix);
        if !applies {
            continue;
        }
        let keys: Vec<&str> = effect.key.split('.').collect();
        let setting = format!("`{}: {}`", effect.key, effect.value);
        let result = match ctx.file.text.as_deref() {
            Some(text) => crate::rules::values_key::set_key(text, &keys, &effect.value),
            None => Err("refit has not read the file's text".to_string()),
        };
        match result {
            Ok(Some(edit)) => {
                let also = match d.fix.as_mut() {
                    Some(fix) => {
                        fix.title = format!("{} and set {setting}", fix.title);
                        fix.edits.push(edit);
                        fix.edits.sort();
                        effect.note.clone()
                    }
                    None => format!(
                        "switching also needs {setting} in this values file; {}",
                        effect.note
                    ),
                };
                d.help = Some(match d.help.take() {
                    Some(help) => format!("{help}; {also}"),
                    None => also,
                });
            }
            Ok(None) => {}
            Err(why) => {
                d.fix = None;
                d.help = Some(format!(
                    "switching also needs {setting} in this values file, which refit does not add here ({why}); {}",
                    effect.note
                ));
            }
        }
    }
}

/// For a move inside one registry, the range of the moved path components
/// in the name as written, and what replaces them: `bitnami` in
/// `bitnami/redis` or `docker.io/bitnami/redis`.
fn tail_edit(written: &str, normalized: &str, from: &str, to: &str) -> Option<(Span, String)> {
    let (from_host, from_path) = from.split_once('/')?;
    let (to_host, to_path) = to.split_once('/')?;
    if from_host != to_host {
        return None;
    }
    let rest = normalized.get(prefix_len(normalized, from)?..)?;
    let tail = format!("{from_path}{rest}");
    let start = written.len().checked_sub(tail.len())?;
    let boundary = start == 0 || written.get(..start)?.ends_with('/');
    (boundary && written.get(start..)? == tail).then(|| {
        (
            Span::new(start, start + from_path.len()),
            to_path.to_string(),
        )
    })
}

fn prefix_len(name: &str, prefix: &str) -> Option<usize> {
    let rest = name.strip_prefix(prefix)?;
    (rest.is_empty() || rest.starts_with('/')).then_some(prefix.len())
}
