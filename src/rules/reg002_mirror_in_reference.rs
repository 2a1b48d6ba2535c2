use super::knowledge::MirrorKind;
use super::{Rule, RuleContext, declare_rule, preview, replace_in_reference};
use crate::diagnostic::{Applicability, Diagnostic};
use crate::site::{ImageSite, Span};

declare_rule! {
    /// ## What it does
    /// Flags references that hard-code a Docker Hub mirror or accelerator
    /// (`docker.m.daocloud.io/library/node`, `hub-mirror.c.163.com/...`,
    /// `mirror.gcr.io/...`), or a cloud registry used as one
    /// (`registry.cn-hangzhou.aliyuncs.com/library/node:18-alpine`).
    /// The mirror table lives in `rules/mirrors.toml`, each entry with its
    /// status and the date it changed.
    ///
    /// ## Why is this bad?
    /// Mirrors come and go: most Chinese Docker Hub accelerators shut down in
    /// 2024, others now serve only their own cloud's machines or an
    /// allow-list. A mirror written into `FROM` breaks the build when it goes,
    /// and puts a third party between you and the image. Mirrors belong in
    /// the daemon's `registry-mirrors` setting (`/etc/docker/daemon.json`),
    /// or in containerd's `hosts.toml`, BuildKit's `buildkitd.toml`
    /// (`[registry."docker.io"] mirrors`) or Podman's `registries.conf`
    /// (`[[registry.mirror]]`), where the reference stays canonical and the
    /// daemon falls back to the upstream.
    ///
    /// A cloud registry's `library/` namespace is not a public copy of Docker
    /// Hub: it holds whatever an account pushed there, which is why pulling
    /// `registry.cn-hangzhou.aliyuncs.com/library/node` fails with
    /// `pull access denied ... insufficient_scope`.
    ///
    /// ### ECR Public's `docker/library/` is never flagged
    /// `public.ecr.aws/docker/library/node` is not a mirror: Docker itself
    /// publishes every Docker Official Image there (gallery.ecr.aws/docker),
    /// under its own quota (500 GB a month unauthenticated, more when
    /// signed in). Choosing it is choosing a second registry for the same
    /// image, often to stay off Docker Hub's rate limits, and rewriting it
    /// to `docker.io` would undo that choice. It fails on its own terms
    /// (coverage lagged behind Docker Hub; the quota), but those are not
    /// the failures of a mirror, and the image is the same: rules that
    /// reason about which image a reference is (BASE001, BASE002, TAG003,
    /// REG004) read it as the Docker Hub image. `mirror.gcr.io` is
    /// different: it is Google's cache of Docker Hub, so a reference to it
    /// is flagged, as a dependency on a mirror rather than as a failure.
    ///
    /// ### What refit can know offline
    /// Whether a mirror holds a given image cannot be seen without pulling.
    /// So the finding is an error only for a mirror that the table records
    /// as shut down (`status = "dead"`, with the date and a source): every
    /// pull through it fails. A mirror that is alive (`mirror.gcr.io`) gets
    /// an info note that says only what is true, that the reference depends
    /// on the mirror instead of the upstream; info does not fail a run. A
    /// mirror restricted to some networks or of unknown status, and a
    /// cloud registry's `library/` namespace, get a warning.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM registry.cn-hangzhou.aliyuncs.com/library/node:18-alpine
    /// FROM docker.m.daocloud.io/library/nginx:1.27
    /// ```
    ///
    /// ## Use instead
    /// ```dockerfile
    /// FROM docker.io/library/node:18-alpine
    /// FROM docker.io/library/nginx:1.27
    /// ```
    /// and configure the mirror in the daemon.
    ///
    /// ## Fix safety
    /// The fix names the upstream image the mirror copies, keeping the tag
    /// and digest. Safe for a mirror that is shut down or restricted, or of
    /// unknown status: the upstream serves the same image. Unsafe for a
    /// mirror that is alive (`mirror.gcr.io`): the pulls move from the
    /// cache to the upstream, with its rate limits, and the mirror may have
    /// been chosen for that.
    code: "REG002",
    name: "mirror-in-reference",
    severity: Warning,
    fix: Sometimes,
    summary: "A mirror or accelerator host is hard-coded in a reference",
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
    let (Some(domain_span), Some(domain)) = (reference.domain, reference.domain_str()) else {
        return;
    };
    let Some(mirror) = ctx.knowledge.mirror_for(domain) else {
        return;
    };
    let path = reference.path_str();
    let canonical_name = match mirror.kind {
        MirrorKind::Registry => match path.strip_prefix("library/") {
            Some(rest) if !rest.is_empty() => format!("docker.io/library/{rest}"),
            _ => return,
        },
        MirrorKind::Mirror => upstream_name(&mirror.upstream, path),
    };
    let range = Span::new(domain_span.start, reference.path.end);
    let canonical = preview(reference.input(), range, &canonical_name);
    let dead = mirror.status == "dead";
    let alive = mirror.status == "alive";
    let message = match mirror.kind {
        MirrorKind::Mirror if dead => format!(
            "Image `{}` is pulled through the mirror `{domain}`, which is shut down: {}",
            reference.input(),
            mirror.note
        ),
        MirrorKind::Mirror => format!(
            "Image `{}` depends on the mirror `{domain}`, not on `{}`: {}",
            reference.input(),
            mirror.upstream,
            mirror.note
        ),
        MirrorKind::Registry => format!(
            "Image `{}` takes Docker Hub's `library/` path from `{domain}`, which is not a Docker Hub mirror",
            reference.input()
        ),
    };
    let mut d = rule.report(site, message);
    // Only a shutdown recorded in the table is known to fail every pull;
    // whether a live cache holds an image cannot be seen offline.
    if dead {
        d.severity = crate::diagnostic::Severity::Error;
    } else if alive && mirror.kind == MirrorKind::Mirror {
        // A working cache: a fact about the reference, not a failure.
        d.severity = crate::diagnostic::Severity::Info;
    }
    let mut help = "reference the upstream image and configure mirrors in the daemon's \
                    `registry-mirrors` (or containerd `hosts.toml`, BuildKit `buildkitd.toml`, \
                    Podman `registries.conf`)"
        .to_string();
    if mirror.kind == MirrorKind::Registry {
        help.push_str(
            "; a cloud registry's `library/` namespace is not a copy of Docker Hub, so pulls \
             fail with `insufficient_scope`",
        );
    }
    d.help = Some(help);
    d.fix = replace_in_reference(
        site,
        range,
        canonical_name,
        format!("Use `{canonical}`"),
        if alive && mirror.kind == MirrorKind::Mirror {
            Applicability::Unsafe
        } else {
            Applicability::Safe
        },
    );
    if alive
        && mirror.kind == MirrorKind::Mirror
        && let Some(help) = &mut d.help
    {
        help.push_str(
            "; the fix is unsafe because the mirror is alive: pulls would move from it to the \
             upstream and its rate limits",
        );
    }
    out.push(d);
}

use crate::identity::upstream_name;

#[cfg(test)]
mod tests {
    use super::upstream_name;

    #[test]
    fn upstream_names() {
        assert_eq!(
            upstream_name("docker.io", "library/node"),
            "docker.io/library/node"
        );
        assert_eq!(upstream_name("docker.io", "node"), "docker.io/library/node");
        assert_eq!(
            upstream_name("docker.io", "docker.io/library/nginx"),
            "docker.io/library/nginx"
        );
        assert_eq!(
            upstream_name("docker.io", "ghcr.io/org/app"),
            "ghcr.io/org/app"
        );
        assert_eq!(
            upstream_name("gcr.io", "distroless/static"),
            "gcr.io/distroless/static"
        );
    }
}
