use super::{Rule, RuleContext, declare_rule, name_range, replace_in_reference};
use crate::diagnostic::{Applicability, Diagnostic};
use crate::rules::knowledge::DhiImage;
use crate::site::{ImageSite, Relation, SiteKind, Span, Stage};

declare_rule! {
    /// ## What it does
    /// With the opt-in `dhi` advisory pack selected (`[advisories]
    /// extend-select = ["dhi"]` in refit.toml), notes an official image
    /// that has a Docker Hardened Image and offers the rewrite to
    /// `dhi.io/<name>:<tag>`. Without the pack it reports nothing.
    ///
    /// The map is data: `rules/dhi.toml`, generated from a dated commit of
    /// Docker's catalog of image definitions (`scripts/dhi-snapshot.py`),
    /// which lists every tag DHI publishes for each image, distribution
    /// and variant. It covers `golang`, `nginx`, `node`, `php`, `postgres`,
    /// `python`, `redis`, `ruby` and `rust`; the file says which official
    /// images are left out and why (an Ubuntu or Oracle Linux default,
    /// another tag scheme).
    ///
    /// ## Why is this bad?
    /// It is not: this is a migration the project asked for. Docker
    /// Hardened Images are free since December 2025 and carry far fewer
    /// packages, but they are not drop-in: pulls need `docker login
    /// dhi.io`, DHI has no `latest`, the `-dev` variants (root, shell,
    /// package manager) are for build stages, and the runtime variants run
    /// as a non-root user with no shell or package manager, so a `RUN` or
    /// a `USER root` on top of one fails.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM node:24-alpine3.23 AS build
    /// RUN npm ci && npm run build
    /// FROM node:24-alpine3.23
    /// COPY --from=build /app /app
    /// ```
    ///
    /// ## Use instead
    /// ```dockerfile
    /// FROM dhi.io/node:24-alpine3.23-dev AS build
    /// RUN npm ci && npm run build
    /// FROM dhi.io/node:24-alpine3.23
    /// COPY --from=build /app /app
    /// ```
    ///
    /// ## Fix safety
    /// Always unsafe: the image changes, and its pulls need a login.
    ///
    /// The tag keeps its version and its distribution: the official
    /// default and `-slim` (Debian) map to DHI's Debian tag of the same
    /// version, `-bookworm` and `-trixie` to `-debian12` and `-debian13`,
    /// `-alpine` and `-alpine3.23` to the same Alpine tag. There is no fix
    /// when DHI publishes no such tag in the snapshot (a patch version it
    /// no longer builds, `bullseye`, PHP's `-fpm` and `-apache`, `latest`
    /// or no tag), for a digest (choose and pin the new one), or when the
    /// name or tag comes from a variable.
    ///
    /// The variant follows the stage:
    /// - a stage that is not the final one gets the `-dev` variant when it
    ///   or a stage built on it runs a `RUN` (the runtime variant has no
    ///   shell); one that is only copied from gets the runtime variant;
    /// - the final stage gets the runtime variant. When it (or a stage
    ///   built on it) has a `RUN`, switches to `USER root`, ends with a
    ///   shell-form `CMD` or `ENTRYPOINT` (no `/bin/sh`), or has a `CMD`
    ///   that starts with the program the variant's own `ENTRYPOINT`
    ///   already runs (`CMD ["nginx", …]` on `dhi.io/nginx`, whose
    ///   `ENTRYPOINT` is `nginx`), the help says which line breaks on the
    ///   runtime variant and names the `-dev` tag as the single-stage
    ///   alternative;
    /// - a Compose service or a Kubernetes container gets the runtime
    ///   variant, with a note on its non-root user.
    ///
    /// Other places (CI job images, which run scripts in a shell, `COPY
    /// --from`, Helm values, dev containers) get the note without a fix.
    /// Only references written as Docker Hub names are reported; a name
    /// through a mirror or proxy is left alone.
    code: "DHI001",
    name: "hardened-image",
    severity: Info,
    fix: Sometimes,
    summary: "An official image with a Docker Hardened Image (opt-in `dhi` pack)",
    check: check,
}

fn check(rule: &Rule, site: &ImageSite, ctx: &RuleContext, out: &mut Vec<Diagnostic>) {
    let dhi = &ctx.knowledge.dhi;
    if site.extra.build_output || dhi.image.is_empty() {
        return;
    }
    let Some(written) = site.reference() else {
        return;
    };
    if written.normalized_domain() != "docker.io" {
        return;
    }
    let path = written.normalized_path();
    let Some(name) = path.strip_prefix("library/") else {
        return;
    };
    let Some(image) = dhi.image.iter().find(|i| i.name == name) else {
        return;
    };
    let role = role(site, image);
    let mut d = rule.report(
        site,
        format!(
            "Image `{}` has a Docker Hardened Image at `{}` (opt-in `dhi` pack; catalog snapshot {})",
            written.input(),
            image.to,
            dhi.snapshot
        ),
    );
    let plan = plan(written.tag_str(), image, &role);
    let mut help = vec![
        "pulls from dhi.io need `docker login dhi.io`".to_string(),
        role.note(image),
    ];
    match plan {
        Err(why) => help.push(why),
        Ok(tag) => {
            let target = format!("{}:{tag}", image.to);
            if written.digest.is_some() {
                help.push(format!(
                    "move to `{target}` and pin its digest; refit does not change a pinned reference"
                ));
            } else if let Some(tag_span) = written.tag {
                let range = Span::new(name_range(written).start, tag_span.end);
                let title = format!("Use the hardened image `{target}`");
                match replace_in_reference(site, range, target, title, Applicability::Unsafe) {
                    Some(fix) => d.fix = Some(fix),
                    None => help.push(
                        "the name or tag is not written here literally, so refit does not rewrite it"
                            .to_string(),
                    ),
                }
            }
        }
    }
    d.help = Some(help.join("; "));
    out.push(d);
}

/// What the image is used for, which picks the variant.
enum Role {
    /// A stage before the final one whose stage (or a stage built on it)
    /// runs `RUN`: the `-dev` variant.
    Build,
    /// A stage before the final one that is only copied from.
    CopiedFrom,
    /// The final stage: the runtime variant, with what would break on it.
    Final { breaks: Vec<String> },
    /// A container a runtime starts (Compose, Kubernetes).
    Deployed,
    /// Anywhere else: a note, no fix.
    Other,
}

impl Role {
    fn note(&self, image: &DhiImage) -> String {
        match self {
            Role::Build => "a build stage: the `-dev` variant runs as root with a shell and a package manager".to_string(),
            Role::CopiedFrom => "a stage other stages only copy from, which needs no shell: the runtime variant".to_string(),
            Role::Final { breaks } if breaks.is_empty() => format!(
                "the final stage: the runtime variant runs as `{}` with no shell or package manager, and its entry point may differ",
                image.run_as
            ),
            Role::Final { breaks } => format!(
                "the final stage: the runtime variant runs as `{}` with no shell or package manager, so {} would break; build in a `-dev` stage and copy the result, or use the `-dev` tag here (a larger image)",
                image.run_as,
                breaks.join(" and ")
            ),
            Role::Deployed => format!(
                "the runtime variant runs as `{}` with no shell: check its volumes' ownership, ports below 1024 and its command",
                image.run_as
            ),
            Role::Other => "choose the variant by hand: `-dev` tags have a shell and run as root (CI jobs need one), runtime tags do not".to_string(),
        }
    }
}

fn role(site: &ImageSite, image: &DhiImage) -> Role {
    match site.kind {
        SiteKind::From => match site.extra.stage.as_deref() {
            Some(stage) if stage.is_final => Role::Final {
                breaks: breaks(stage, image),
            },
            Some(stage) if runs(stage) => Role::Build,
            Some(_) => Role::CopiedFrom,
            None => Role::Other,
        },
        SiteKind::ComposeService | SiteKind::KubernetesContainer => Role::Deployed,
        _ => Role::Other,
    }
}

/// The stage's own instructions and those of the stages built on it.
fn inside(stage: &Stage) -> impl Iterator<Item = &crate::site::StageInstruction> {
    stage
        .body
        .iter()
        .filter(|i| i.relation != Relation::CopiesFrom)
}

fn runs(stage: &Stage) -> bool {
    inside(stage).any(|i| i.keyword == "run")
}

/// The steps of a final stage that a runtime variant cannot run: a `RUN`,
/// `USER root`, a shell-form `CMD` or `ENTRYPOINT` (there is no
/// `/bin/sh`), and a `CMD` that starts with the program the variant's own
/// `ENTRYPOINT` already runs (`CMD ["nginx", …]` would run `nginx nginx`).
fn breaks(stage: &Stage, image: &DhiImage) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(run) = inside(stage).find(|i| i.keyword == "run") {
        out.push(format!("the `RUN` on line {}", run.line));
    }
    if let Some(user) = inside(stage).find(|i| i.keyword == "user" && is_root(&i.args)) {
        out.push(format!("`USER {}` on line {}", user.args.trim(), user.line));
    }
    // The `CMD` and `ENTRYPOINT` in force: the last of each.
    let last = |keyword: &str| inside(stage).filter(|i| i.keyword == keyword).last();
    let (cmd, entrypoint) = (last("cmd"), last("entrypoint"));
    for (keyword, i) in [("CMD", cmd), ("ENTRYPOINT", entrypoint)] {
        if let Some(i) = i.filter(|i| i.exec_form.is_none()) {
            out.push(format!(
                "the shell-form `{keyword}` on line {} (it needs `/bin/sh`)",
                i.line
            ));
        }
    }
    let program = |i: &crate::site::StageInstruction| {
        let (_, words) = i.exec_form.as_ref()?;
        words.first()?.rsplit('/').next().map(str::to_string)
    };
    if let Some(cmd) = cmd
        && entrypoint.is_none()
        && !image.entrypoint.is_empty()
        && program(cmd).as_deref() == Some(image.entrypoint.as_str())
    {
        out.push(format!(
            "the `CMD` on line {} (the runtime variant's `ENTRYPOINT` already runs `{}`: drop it from the `CMD`)",
            cmd.line, image.entrypoint
        ));
    }
    out
}

/// `USER root`, `USER 0`, `USER root:root`, `USER 0:0`.
fn is_root(args: &str) -> bool {
    let user = args.trim().split(':').next().unwrap_or("");
    user == "root" || user == "0"
}

/// The DHI tag for an official tag in this role, or why there is none.
fn plan(tag: Option<&str>, image: &DhiImage, role: &Role) -> Result<String, String> {
    let dev = match role {
        Role::Build => true,
        Role::CopiedFrom | Role::Final { .. } | Role::Deployed => false,
        Role::Other => return Err(format!("tags are listed in {}", image.source)),
    };
    let Some(tag) = tag.filter(|t| *t != "latest") else {
        return Err("DHI publishes no `latest`: write the version to migrate".to_string());
    };
    let Some((family, base)) = translate(tag) else {
        return Err(format!(
            "DHI publishes no counterpart of the `{tag}` variant in this snapshot"
        ));
    };
    let list = match (family, dev) {
        (Family::Debian, false) => &image.debian,
        (Family::Debian, true) => &image.debian_dev,
        (Family::Alpine, false) => &image.alpine,
        (Family::Alpine, true) => &image.alpine_dev,
    };
    let suffix = if dev { "-dev" } else { "" };
    if !list.contains(&base) {
        return Err(format!(
            "DHI publishes no `{}:{base}{suffix}` in this snapshot (a version it no longer builds, or one it never did); choose a tag from {}",
            image.to, image.source
        ));
    }
    Ok(format!("{base}{suffix}"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Debian,
    Alpine,
}

/// An official tag (`24.11-slim-bookworm`) as the DHI tag of the same
/// version and distribution (`24.11-debian12`), without the variant.
fn translate(tag: &str) -> Option<(Family, String)> {
    let (version, rest) = match tag.split_once('-') {
        Some((v, r)) => (v, Some(r)),
        None => (tag, None),
    };
    let numeric = !version.is_empty()
        && version
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if !numeric {
        return None;
    }
    let rest = rest.map(|r| r.strip_prefix("slim-").unwrap_or(r));
    let (family, distro) = match rest {
        None | Some("slim") => (Family::Debian, String::new()),
        Some("bookworm") => (Family::Debian, "debian12".to_string()),
        Some("trixie") => (Family::Debian, "debian13".to_string()),
        Some("alpine") => (Family::Alpine, "alpine".to_string()),
        Some(alpine)
            if alpine.strip_prefix("alpine").is_some_and(|v| {
                v.split('.').count() == 2
                    && v.split('.')
                        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            }) =>
        {
            (Family::Alpine, alpine.to_string())
        }
        Some(_) => return None,
    };
    Some(if distro.is_empty() {
        (family, version.to_string())
    } else {
        (family, format!("{version}-{distro}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::knowledge::Knowledge;

    fn node() -> DhiImage {
        Knowledge::all()
            .dhi
            .image
            .iter()
            .find(|i| i.name == "node")
            .cloned()
            .unwrap()
    }

    #[test]
    fn tags_keep_version_and_distribution() {
        assert_eq!(translate("24"), Some((Family::Debian, "24".into())));
        assert_eq!(translate("24-slim"), Some((Family::Debian, "24".into())));
        assert_eq!(
            translate("24.11-slim-bookworm"),
            Some((Family::Debian, "24.11-debian12".into()))
        );
        assert_eq!(
            translate("3.13-trixie"),
            Some((Family::Debian, "3.13-debian13".into()))
        );
        assert_eq!(
            translate("22-alpine3.23"),
            Some((Family::Alpine, "22-alpine3.23".into()))
        );
        assert_eq!(translate("8.3-fpm-alpine"), None);
        assert_eq!(translate("22-bullseye").map(|t| t.1), None);
        assert_eq!(translate("lts-alpine"), None);
        assert_eq!(translate("24-alpine3"), None);
    }

    #[test]
    fn variants_follow_the_role() {
        let node = node();
        assert_eq!(plan(Some("24"), &node, &Role::Build), Ok("24-dev".into()));
        assert_eq!(
            plan(
                Some("24-alpine3.23"),
                &node,
                &Role::Final { breaks: vec![] }
            ),
            Ok("24-alpine3.23".into())
        );
        assert!(plan(Some("24.0.1"), &node, &Role::Build).is_err());
        assert!(plan(None, &node, &Role::Deployed).is_err());
        assert!(plan(Some("24"), &node, &Role::Other).is_err());
    }

    #[test]
    fn the_pack_gates_the_table() {
        assert!(Knowledge::builtin().dhi.image.is_empty());
        assert!(Knowledge::all().dhi.image.len() >= 9);
        assert_eq!(Knowledge::all().dhi.snapshot, "2026-08-22");
    }
}
