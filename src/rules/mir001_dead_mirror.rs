use super::knowledge::MirrorKind;
use super::{Rule, RuleContext, declare_rule};
use crate::diagnostic::Diagnostic;
use crate::site::ImageSite;

declare_rule! {
    /// ## What it does
    /// Flags a registry mirror in a daemon's settings (Docker `daemon.json`
    /// `registry-mirrors`, BuildKit `buildkitd.toml` `mirrors`, containerd
    /// `hosts.toml` `[host."…"]`, Podman/CRI-O `registries.conf`
    /// `[[registry.mirror]]`) that `rules/mirrors.toml` knows to be shut down
    /// (`dead`) or serving only some clients (`restricted`: its own cloud's
    /// machines, an allow-list). Mirrors whose status nobody vouches for
    /// (`unknown`: mostly unofficial third-party proxies) get an info-level
    /// note: each pull goes through a third party that comes and goes, and
    /// a mirror that stops resolving has been reported as a hard pull failure
    /// rather than a fallback, so it is worth a look, but it may well work
    /// today.
    ///
    /// ## Why is this bad?
    /// Most public Docker Hub accelerators in China shut down in 2024
    /// (USTC on 2024-06-06, SJTUG, NetEase, Baidu), earlier ones in 2019 and
    /// 2020 (docker-cn, Qiniu), and Azure China's and Alibaba Cloud's now
    /// answer only their own cloud's machines. A dead mirror costs every pull
    /// a timeout or an error before the daemon falls back to the upstream, and
    /// some setups do not fall back at all: pulls fail with
    /// `no such host`, `403 Forbidden` or `manifest unknown`.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "registry-mirrors": ["https://docker.mirrors.ustc.edu.cn"]
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```json
    /// {
    ///   "registry-mirrors": ["https://mirror.gcr.io"]
    /// }
    /// ```
    /// or a self-hosted pull-through cache (a `registry:2` proxy, Harbor,
    /// Artifactory), or your cloud provider's internal mirror. `mirror.gcr.io`
    /// caches only frequently pulled Docker Hub images; the daemon falls back
    /// to Docker Hub for the rest.
    code: "MIR001",
    name: "dead-mirror",
    severity: Warning,
    fix: None,
    summary: "A daemon mirror setting names a mirror that is shut down or restricted",
    check: check,
}

fn check(rule: &Rule, site: &ImageSite, ctx: &RuleContext, out: &mut Vec<Diagnostic>) {
    let Some(setting) = site.mirror() else {
        return;
    };
    let Some(mirror) = ctx.knowledge.mirror_for(&setting.host) else {
        return;
    };
    if mirror.kind != MirrorKind::Mirror {
        return;
    }
    let host = &setting.host;
    let (date, note) = (&mirror.date, &mirror.note);
    let message = match mirror.status.as_str() {
        "dead" => format!("Mirror `{host}` is dead since {date}: {note}"),
        "restricted" => format!("Mirror `{host}` is restricted since {date}: {note}"),
        "unknown" => format!("Mirror `{host}` has no known status (as of {date}): {note}"),
        _ => return,
    };
    let mut d = rule.report(site, message);
    if mirror.status == "unknown" {
        d.severity = crate::diagnostic::Severity::Info;
    }
    d.help = Some(if setting.mirrors_docker_hub() {
        "remove it, or use a self-hosted pull-through cache (a `registry:2` proxy, Harbor, \
         Artifactory), your cloud provider's internal mirror, or `mirror.gcr.io` for popular \
         Docker Hub images"
            .to_string()
    } else {
        "remove it, or use a self-hosted pull-through cache (a `registry:2` proxy, Harbor, \
         Artifactory) or your cloud provider's internal mirror"
            .to_string()
    });
    out.push(d);
}
