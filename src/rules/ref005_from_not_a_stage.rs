use super::{Rule, RuleContext, declare_rule};
use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix};
use crate::site::{ImageSite, SiteKind};

declare_rule! {
    /// ## What it does
    /// Flags `COPY --from=name` and `RUN --mount=…,from=name` where `name`
    /// is not a stage of the Dockerfile, not a named build context the
    /// repository defines (bake `contexts`, Compose `additional_contexts`,
    /// `--build-context name=…` in scripts and CI), and not a Docker
    /// Official Image (`rules/official-images.toml`): a bare name with no
    /// registry, namespace, tag or digest. When a stage's name is close
    /// (edit distance, or the name is one part of exactly one stage's name:
    /// `set` → `license-set`), the message names it.
    ///
    /// When refit cannot find the repository root (no `.git` above the
    /// Dockerfile), a name no stage is close to is not reported:
    /// it is most likely a named context (`--build-context binary_dir=…`)
    /// passed by build files that were not copied along.
    ///
    /// ## Why is this bad?
    /// A `--from` value that is not a stage is an image: BuildKit pulls
    /// `docker.io/library/name:latest`. A typo of a stage name
    /// (`--from=bulid`) then fails the build with a pull error far from the
    /// mistake, or, when an image of that name exists, copies files from a
    /// stranger's image into yours.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM golang:1.23 AS build
    /// RUN go build -o /out/app .
    /// FROM alpine:3.20
    /// COPY --from=bulid /out/app /app
    /// ```
    ///
    /// ## Use instead
    /// ```dockerfile
    /// COPY --from=build /out/app /app
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe: the fix names the closest stage, which changes what is
    /// copied; check that it is the stage you meant. There is no fix when
    /// no stage is close.
    code: "REF005",
    name: "from-not-a-stage",
    severity: Error,
    fix: Sometimes,
    summary: "`COPY --from` or `RUN --mount from` names neither a stage nor a known image",
    check: check,
}

/// Whether a name is a Docker Official Image (`rules/official-images.toml`).
pub fn is_official(name: &str) -> bool {
    crate::official::is_official_image(name)
}

/// Levenshtein distance, for names of a few dozen bytes at most.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().take(128).collect();
    let b: Vec<char> = b.chars().take(128).collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The stage closest to a name by edit distance (at most 2, and at most
/// half the name).
fn closest_by_distance(lower: &str, graph: &crate::site::StageGraph) -> Option<String> {
    graph
        .stages
        .iter()
        .filter_map(|s| s.name.as_ref().map(|(n, _)| n))
        .map(|n| (distance(lower, &n.to_ascii_lowercase()), n))
        .filter(|(d, n)| *d > 0 && *d <= 2 && *d * 2 <= n.len().max(lower.len()))
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n.clone())
}

fn check(rule: &Rule, site: &ImageSite, ctx: &RuleContext, out: &mut Vec<Diagnostic>) {
    if !matches!(site.kind, SiteKind::CopyFrom | SiteKind::RunMountFrom) {
        return;
    }
    let Some(reference) = site.reference() else {
        return;
    };
    let name = reference.input();
    let bare = reference.domain.is_none()
        && reference.tag.is_none()
        && reference.digest.is_none()
        && !reference.path_str().contains('/');
    if !bare || is_official(name) {
        return;
    }
    if ctx
        .file
        .build_refs
        .as_ref()
        .is_some_and(|r| r.defines_context(name))
    {
        return;
    }
    let Some(graph) = &ctx.file.graph else {
        return;
    };
    let lower = name.to_ascii_lowercase();
    let names: Vec<&String> = graph
        .stages
        .iter()
        .filter_map(|s| s.name.as_ref().map(|(n, _)| n))
        .collect();
    // A stage the name is one part of (`set` → `license-set`), when only
    // one is, before the closest by edit distance.
    let parts: Vec<&String> = names
        .iter()
        .copied()
        .filter(|n| {
            n.to_ascii_lowercase()
                .split(['-', '_', '.'])
                .any(|p| p == lower)
                && n.len() > lower.len()
        })
        .collect();
    let by_part = (parts.len() == 1).then(|| parts[0].clone());
    let closest = by_part.or_else(|| closest_by_distance(&lower, graph));
    let known = crate::build_refs::BuildRefs::known(ctx.file.build_refs.as_deref());
    // Without the repository, a name no stage is close to is most likely a
    // named context passed by build files that were not copied along.
    if closest.is_none() && !known {
        return;
    }

    let what = match site.kind {
        SiteKind::CopyFrom => "COPY --from",
        _ => "RUN --mount from",
    };
    let message = match &closest {
        Some(stage) => format!(
            "`{what}={name}` is not a stage, so it pulls the image `docker.io/library/{lower}`; did you mean the stage `{stage}`?"
        ),
        None => format!(
            "`{what}={name}` is not a stage or a named context, so it pulls the image `docker.io/library/{lower}`"
        ),
    };
    let mut d = rule.report(site, message);
    d.help = Some(
        "name a stage of this Dockerfile, an image with its registry and tag \
         (`docker.io/library/busybox:1.36`), or a named context the build passes \
         (`--build-context`, bake `contexts`, Compose `additional_contexts`)"
            .to_string(),
    );
    if let (Some(stage), Some(span)) = (&closest, site.whole_file_span()) {
        let mut fix = Fix::new(
            format!("Use the stage `{stage}`"),
            Applicability::Unsafe,
            vec![Edit {
                span,
                content: stage.clone(),
            }],
        );
        fix.removes_reference = true;
        d.fix = Some(fix);
    }
    out.push(d);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_and_official_names() {
        assert_eq!(distance("bulid", "build"), 2);
        assert_eq!(distance("buidl", "build"), 2);
        assert_eq!(distance("biuld", "build"), 2);
        assert_eq!(distance("build", "build"), 0);
        assert_eq!(distance("", "ab"), 2);
        assert!(is_official("busybox"));
        assert!(is_official("node"));
        assert!(!is_official("bulid"));
    }
}
