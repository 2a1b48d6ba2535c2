use super::{Rule, RuleContext, declare_rule};
use crate::diagnostic::Diagnostic;
use crate::site::ImageSite;

declare_rule! {
    /// ## What it does
    /// Flags tags that move by design: floating tags (`lts`, `current`,
    /// `stable`, `mainline`, `edge`, `rolling`, `nightly`, `dev`, `main`,
    /// `master`, `canary`, …, also with a variant: `lts-alpine`, or as any
    /// dash-separated part: `core-nightly`, `2.1-dev`), Node.js
    /// codenames (`iron`, `jod`, `krypton`), and variant-only tags
    /// (`alpine`, `slim`, `bookworm`, `trixie`, and `apache`, `fpm`,
    /// `fpm-alpine` of `nextcloud`, `php` or `wordpress`), which name no
    /// version (an official image's imply `latest`). A floating name followed by a commit or a date stamp
    /// (`master-c3235cd`, `nightly-20260805`) is one build, a pin, and is not
    /// flagged. The
    /// lists live in `rules/mutable-tags.toml` and `[knowledge.mutable-tags]`
    /// in refit.toml adds to them. A digest next to the tag pins it, so it
    /// is not flagged. A distribution's own codenames are versions
    /// (`debian:bookworm-slim` is Debian 12), and so are they for images
    /// versioned by them: `buildpack-deps:bookworm` follows Debian 12, not
    /// `latest` (the `distributions` list); `i386/debian` is `debian`.
    ///
    /// Not flagged: a tag that a variable supplies when the repository's
    /// own build or run always sets that variable (every build passes
    /// `--build-arg`, every run exports it first; see TAG002): the default
    /// written here is not what it uses (a plain passed value is judged),
    /// and `${D:+@${D}}` is a digest when every build passes `D`.
    /// Nor the repository's own image in a dev-loop registry
    /// (`registry:5000`, `localhost:5000`, `127.0.0.1:…`) whose path it
    /// builds or pushes (a build's `-t`, a Bazel push rule's `repository`).
    ///
    /// Major-only tags (`node:20`, `alpine:3`, `postgres:18-alpine`) float
    /// to the newest minor and patch; they are flagged only in strict mode:
    ///
    /// ```toml
    /// [rules.TAG003]
    /// strict = true
    /// ```
    ///
    /// ## Why is this bad?
    /// A moving tag pulls a different image over time: `node:lts` went from
    /// 20 to 22 to 24, `debian:stable` from bookworm to trixie, `node:alpine`
    /// is the newest Node on the newest Alpine. Builds change without a
    /// change to the file.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM docker.io/library/node:lts-alpine
    /// ```
    ///
    /// ## Use instead
    /// ```dockerfile
    /// FROM docker.io/library/node:24.11-alpine3.22
    /// ```
    code: "TAG003",
    name: "mutable-tag",
    severity: Warning,
    fix: None,
    summary: "A tag that moves by design (`lts`, `stable`, `edge`, …)",
    check: check,
}

/// `[rules.TAG003]` in refit.toml.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Options {
    /// Also flag major-only tags (`node:20`).
    #[serde(default)]
    pub strict: bool,
}

fn check(rule: &Rule, site: &ImageSite, ctx: &RuleContext, out: &mut Vec<Diagnostic>) {
    let Some(reference) = site.reference() else {
        return;
    };
    if site.extra.build_output || reference.digest.is_some() {
        return;
    }
    // A default the repository's own build or run always overrides.
    if super::overridden::tag_overridden(site, ctx).is_some() {
        return;
    }
    let Some(tag) = reference.tag_str() else {
        return;
    };
    let lists = &ctx.knowledge.mutable;
    let head = tag.split('-').next().unwrap_or(tag);
    // Through a Docker Hub mirror path, the Docker Hub image's name.
    let repo = crate::identity::upstream(reference, ctx.knowledge, ctx.policy).familiar_name();
    // `i386/debian`, `arm64v8/ubuntu`: an official image's per-architecture
    // copy on Docker Hub, tagged as the image itself.
    let official = repo
        .split_once('/')
        .filter(|(ns, _)| ARCH_NAMESPACES.contains(ns))
        .map_or(repo.as_str(), |(_, name)| name)
        .to_string();
    let distribution = lists.distributions.contains(&official);
    let why = if !distribution && lists.variant_only.iter().any(|t| t == tag) {
        // An official image's variant tag is its newest release in that
        // variant (Docker's official-images rules); another publisher's
        // may be its own line: refit says only that no version is named.
        if official.contains('/') {
            format!("`{tag}` names only a variant and no version, so it moves with new releases")
        } else {
            format!("`{tag}` names only a variant, so it follows `latest`")
        }
    } else if lists.floating.iter().any(|t| {
        t == tag
            || (!pinned_by_suffix(tag)
                && !has_full_version(tag)
                && tag.split('-').any(|part| part == t))
    }) {
        format!("`{tag}` follows a release line and moves")
    } else if lists
        .codenames
        .get(official.as_str())
        .is_some_and(|names| names.iter().any(|n| n == head))
    {
        format!("`{tag}` is a release codename that moves with its line")
    } else if ctx.options.tag003.as_ref().is_some_and(|o| o.strict)
        // A dev container feature's major tag (`:1`) is how features are
        // versioned: semver lines whose options stay compatible.
        && site.kind != crate::site::SiteKind::DevcontainerFeature
        && is_major_only(head)
        && !pinned_by_suffix(tag)
    {
        format!("`{tag}` names only a major version, so it moves to each new minor and patch")
    } else {
        return;
    };
    let mut d = rule.report(
        site,
        format!("Image `{}` uses a mutable tag: {why}", reference.input()),
    );
    d.help = Some("pin a version tag, and a digest for reproducible builds".to_string());
    out.push(d);
}

/// The Docker Hub namespaces that hold the Docker Official Images built
/// for one architecture (docker-library/official-images, "Architectures
/// other than amd64?"): `i386/debian:bookworm` is `debian:bookworm`'s
/// i386 image, with the same tags.
const ARCH_NAMESPACES: &[&str] = &[
    "amd64",
    "arm32v5",
    "arm32v6",
    "arm32v7",
    "arm64v8",
    "i386",
    "mips64le",
    "ppc64le",
    "riscv64",
    "s390x",
    "windows-amd64",
];

/// A part that is one release (`1.2.3-dev`, `v2.0.1-nightly`,
/// `rc4.2.0-devel`): a pre-release of that version, not a line that moves,
/// whatever letters stand before the version.
fn has_full_version(tag: &str) -> bool {
    tag.split('-').any(|part| {
        let part = part.trim_start_matches(|c: char| c.is_ascii_alphabetic());
        part.split('.').count() >= 3
            && part
                .split('.')
                .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// `20`, not `20.1` and not a date stamp (`20260805`, a snapshot).
fn is_major_only(head: &str) -> bool {
    (1..=4).contains(&head.len()) && head.bytes().all(|b| b.is_ascii_digit())
}

/// A suffix that pins what the major or branch leaves open: a Bitnami
/// revision (`12-debian-12-r51`), a date stamp (`2-20260805`) or a commit
/// (`master-c3235cd`).
fn pinned_by_suffix(tag: &str) -> bool {
    let Some(last) = tag.rsplit('-').next().filter(|l| *l != tag) else {
        return false;
    };
    let revision = last
        .strip_prefix('r')
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    let date = last.len() >= 8 && last.bytes().all(|b| b.is_ascii_digit());
    // A commit (`master-c3235cd`): a branch build of one commit.
    let commit = (7..=40).contains(&last.len())
        && last
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && last.bytes().any(|b| b.is_ascii_digit());
    revision || date || commit
}
