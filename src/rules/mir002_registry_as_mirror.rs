use super::knowledge::MirrorKind;
use super::{Rule, RuleContext, declare_rule};
use crate::diagnostic::Diagnostic;
use crate::site::ImageSite;

declare_rule! {
    /// ## What it does
    /// Flags a plain registry listed as a Docker Hub mirror in a daemon's
    /// settings: a host that `rules/mirrors.toml` marks `kind = "registry"`
    /// (`registry.cn-hangzhou.aliyuncs.com` and the other
    /// `registry.cn-<region>.aliyuncs.com`, `registry.aliyuncs.com`,
    /// `ccr.ccs.tencentyun.com`, `hub.c.163.com`) in `registry-mirrors`, or
    /// as a mirror of `docker.io` (or of every registry, containerd's
    /// `_default`) in `buildkitd.toml`, `hosts.toml` or `registries.conf`.
    ///
    /// Mirrors of other registries are left alone: pointing
    /// `registry.k8s.io` at a namespace such as
    /// `registry.aliyuncs.com/google_containers` is a deliberate choice of a
    /// re-hosted copy, not a mistaken accelerator.
    ///
    /// ## Why is this bad?
    /// A cloud registry has user namespaces; it is not an accelerator. The
    /// daemon asks it for Docker Hub paths (`library/nginx`), which exist
    /// there only if some account pushed something under that name: either
    /// the pull fails (`pull access denied`, `insufficient_scope`) and the
    /// daemon falls back after a wasted round trip, or it gets whatever was
    /// pushed, unofficial and possibly stale. Blog posts that list these
    /// hosts as "accelerators" are wrong.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "registry-mirrors": ["https://registry.cn-hangzhou.aliyuncs.com"]
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```json
    /// {
    ///   "registry-mirrors": ["https://mirror.gcr.io"]
    /// }
    /// ```
    /// or a self-hosted pull-through cache, or your cloud provider's
    /// per-account accelerator where you run on that cloud.
    code: "MIR002",
    name: "registry-as-mirror",
    severity: Warning,
    fix: None,
    summary: "A plain registry is listed as a Docker Hub mirror",
    check: check,
}

fn check(rule: &Rule, site: &ImageSite, ctx: &RuleContext, out: &mut Vec<Diagnostic>) {
    let Some(setting) = site.mirror() else {
        return;
    };
    if !setting.mirrors_docker_hub() {
        return;
    }
    let Some(entry) = ctx.knowledge.mirror_for(&setting.host) else {
        return;
    };
    if entry.kind != MirrorKind::Registry {
        return;
    }
    let upstream = match &setting.upstream {
        Some(u) => format!("`{u}`"),
        None => "every registry".to_string(),
    };
    let mut d = rule.report(
        site,
        format!(
            "Registry `{}` is listed as a mirror of {upstream}: {}",
            setting.host, entry.note
        ),
    );
    d.help = Some(
        "a registry serves only what accounts pushed to it, so Docker Hub paths there are \
         missing or unofficial; remove it, or use a pull-through cache, `mirror.gcr.io`, or \
         your cloud provider's accelerator"
            .to_string(),
    );
    out.push(d);
}
