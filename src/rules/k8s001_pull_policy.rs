use super::{Rule, RuleContext, declare_rule};
use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix};
use crate::site::{ImageSite, SiteKind};

declare_rule! {
    /// ## What it does
    /// Flags Kubernetes containers whose `imagePullPolicy` does not fit the
    /// image's tag. Kubernetes defaults the policy to `Always` when the
    /// effective tag is `latest` (no tag and no digest counts as `latest`)
    /// and to `IfNotPresent` otherwise. Flagged: `imagePullPolicy: Always`
    /// on an image pinned by version or digest. A tag that names no one
    /// version (a branch such as `main`, a line such as `registry:2` or
    /// `nginx:1.27`, a channel such as `nightly-py312`) moves, and `Always`
    /// is how a pod keeps up with it: not flagged. A version has three
    /// numbers (`1.27.2`).
    ///
    /// One problem, one finding: a `latest` image (written, or implied by a
    /// missing tag) is reported by TAG002 (or TAG001), whose message says
    /// that Kubernetes then pulls it on every start; K8S001 does not repeat
    /// it. REG001 on the same image is a different problem (which registry
    /// is meant) and stays.
    ///
    /// ## Why is this bad?
    /// `Always` makes the kubelet ask the registry on every container start,
    /// even for an image pinned by digest: every restart, scale-up and node
    /// drain spends a pull against the registry's rate limit (Docker Hub:
    /// 100 pulls per 6 hours per IP, anonymously) and fails while the
    /// registry is down.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     image: docker.io/library/nginx:1.27.2
    ///     imagePullPolicy: Always
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     image: docker.io/library/nginx:1.27.2
    ///     imagePullPolicy: IfNotPresent
    /// ```
    ///
    /// ## Fix safety
    /// Safe for a digest-pinned image: the content cannot change, so
    /// `IfNotPresent` runs the same bytes. Unsafe for a tag-pinned image: a
    /// tag can be moved, and `IfNotPresent` keeps a node's cached copy.
    code: "K8S001",
    name: "pull-policy",
    severity: Warning,
    fix: Sometimes,
    summary: "An image pull policy that does not fit the tag",
    check: check,
}

/// A tag that names one version (`1.27.2`, `7.2.4-alpine`, `24.3.5.46`):
/// a branch (`main`), a major or minor line (`registry:2`, `nginx:1.27`,
/// `clickhouse-server:24.3`) or a build channel (`nightly-py312`) moves, so
/// `Always` is how such a pod keeps up.
fn version_tag(tag: &str, ctx: &RuleContext) -> bool {
    let floating = &ctx.knowledge.mutable.floating;
    let head = tag.split('-').next().unwrap_or(tag);
    let version = tag.split(['-', '_', '+']).any(|part| {
        let part = part.strip_prefix(['v', 'V']).unwrap_or(part);
        let mut numbers = part.split('.');
        let number = |n: Option<&str>| {
            n.is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        };
        // `1.2.3`, `1.2.3rc1`: two numbers, then one that starts with a digit.
        number(numbers.next())
            && number(numbers.next())
            && numbers
                .next()
                .is_some_and(|n| n.starts_with(|c: char| c.is_ascii_digit()))
    });
    version && !floating.iter().any(|f| f == tag || f == head)
}

fn check(rule: &Rule, site: &ImageSite, ctx: &RuleContext, out: &mut Vec<Diagnostic>) {
    if site.kind != SiteKind::KubernetesContainer {
        return;
    }
    let (Some(reference), Some(policy)) = (site.reference(), &site.extra.pull_policy) else {
        return;
    };
    let digest = reference.digest.is_some();
    let latest = !digest && reference.tag_str().is_none_or(|t| t == "latest");
    match &policy.value {
        Some(value)
            if value.value == "Always"
                && !latest
                && (digest || reference.tag_str().is_some_and(|t| version_tag(t, ctx))) =>
        {
            let pinned = if digest { "by digest" } else { "by tag" };
            let mut d = rule.report(
                site,
                format!(
                    "Image `{}` is pinned {pinned} but pulled on every start (`imagePullPolicy: Always`)",
                    reference.input()
                ),
            );
            d.span = value.span;
            if !digest {
                d.help = Some(
                    "a tag can be moved: with `IfNotPresent` each node keeps the copy it pulled first, so pin a digest to make the fix safe"
                        .to_string(),
                );
            }
            d.fix = value.content.map(|span| {
                Fix::new(
                    "Set `imagePullPolicy: IfNotPresent`".to_string(),
                    if digest {
                        Applicability::Safe
                    } else {
                        Applicability::Unsafe
                    },
                    vec![Edit {
                        span,
                        content: "IfNotPresent".to_string(),
                    }],
                )
            });
            out.push(d);
        }
        _ => {}
    }
}
