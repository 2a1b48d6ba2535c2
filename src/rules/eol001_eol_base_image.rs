use super::{Rule, RuleContext, declare_rule, replace_in_reference};
use crate::diagnostic::{Applicability, Diagnostic};
use crate::rules::knowledge::{Cycle, Eol, EolImage};
use crate::site::ImageSite;

declare_rule! {
    /// ## What it does
    /// Flags an official image whose release line has reached its end of
    /// life: `node:16`, `python:3.8`, `postgres:11`, `alpine:3.16`,
    /// `debian:buster`, `ubuntu:18.04`, `node:gallium`, and a distribution named inside a
    /// tag (`python:3.12-slim-bullseye` is on Debian 11). The dates come
    /// from a dated snapshot of endoflife.date shipped in `rules/eol.toml`
    /// (the `eol` advisory pack); the message names the date the line
    /// ended and the date of the snapshot. refit never reads the clock: a
    /// line whose end of life falls after the snapshot is reported once
    /// the snapshot is refreshed (`scripts/eol-snapshot.py`).
    ///
    /// Images covered: `node`, `python`, `golang`, `ruby`, `php`,
    /// `eclipse-temurin`, `alpine`, `debian` (numbers and codenames),
    /// `ubuntu` (numbers and codenames), `postgres`, `mysql`, `mariadb`,
    /// `redis`: the Docker Official Images, written with or without
    /// `docker.io/library/`, or through a known Docker Hub mirror. Other
    /// registries' images of the same name are not theirs to judge.
    /// `openjdk` is deprecated altogether (every tag; BASE002 reports it).
    /// A tag that names no version (`latest`, `alpine`, `lts`) or an
    /// unknown line says nothing and is not reported; a tag that names
    /// only a major (`redis:6`) is judged by the newest line it follows.
    ///
    /// ## Why is this bad?
    /// A line past its end of life gets no security fixes upstream, and
    /// the official image stops rebuilding it: its tags stay pullable, so
    /// nothing fails until a scanner or an incident notices.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM node:16-alpine
    /// ```
    ///
    /// ## Use instead
    /// ```dockerfile
    /// FROM node:24-alpine
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe: a new major line changes the runtime under the code. The fix
    /// moves to the line `rules/eol.toml` names as the target (the newest
    /// supported line the official image publishes; the newest LTS line
    /// where the project has them) and keeps the tag's variant, only when
    /// the official image publishes that tag (`node:16-alpine` →
    /// `node:24-alpine`). No fix when the tag is not published for the
    /// target line (`python:3.8-slim-bullseye`: no Bullseye for 3.14), when
    /// the reference has a digest (choose and pin the new one), for
    /// databases (`postgres`, `mysql`, `mariadb`, `redis`: their data
    /// needs an upgrade), and when only a distribution inside the tag has
    /// ended.
    ///
    /// Opt-in (`extend-select = ["EOL001"]`, or the prefix `EOL`): what it
    /// states is a dated fact about the reference as written, but whether
    /// it fires depends on the snapshot refit ships, so a refit upgrade
    /// alone would turn a passing repository's check red. Selected, it
    /// reports at warning severity.
    ///
    /// Dates are endoflife.date's `eol` (end of security support), except
    /// for `debian`, whose official image keeps building a release through
    /// Debian LTS: its lines end with LTS. Ubuntu's extended support needs
    /// a subscription, so `ubuntu` lines end at the standard date and the
    /// help names the extended one.
    code: "EOL001",
    name: "eol-base-image",
    severity: Warning,
    fix: Sometimes,
    summary: "An official image on a release line past its end of life",
    check: check,
    opt_in: true,
}

/// A line that has ended, as the message names it.
struct Ended<'a> {
    what: String,
    cycle: &'a Cycle,
    image: &'a EolImage,
}

fn check(rule: &Rule, site: &ImageSite, ctx: &RuleContext, out: &mut Vec<Diagnostic>) {
    let eol = &ctx.knowledge.eol;
    if site.extra.build_output || eol.image.is_empty() {
        return;
    }
    let Some(written) = site.reference() else {
        return;
    };
    let reference = crate::identity::upstream(written, ctx.knowledge, ctx.policy);
    if reference.normalized_domain() != "docker.io" {
        return;
    }
    let path = reference.normalized_path();
    let Some(name) = path.strip_prefix("library/") else {
        return;
    };
    let Some(image) = eol.image.iter().find(|i| i.name == name) else {
        return;
    };
    let Some(tag) = written.tag_str() else {
        return;
    };
    let Some(parsed) = parse_tag(image, tag, &ctx.knowledge.runtimes.node_codenames) else {
        return;
    };
    let own = line(image, &parsed).filter(|c| c.ended_by(image, &eol.snapshot));
    let mut ended: Vec<Ended> = own
        .map(|cycle| Ended {
            what: describe(image, cycle),
            cycle,
            image,
        })
        .into_iter()
        .collect();
    ended.extend(embedded_distributions(eol, image, parsed.suffix));
    if ended.is_empty() {
        return;
    }
    let list = ended
        .iter()
        .map(|e| match e.cycle.end(e.image) {
            "yes" => format!("{}, which has reached its end of life", e.what),
            date if e.image.follows_extended => {
                format!(
                    "{}, which reached end of life on {date} (end of LTS)",
                    e.what
                )
            }
            date => format!("{}, which reached end of life on {date}", e.what),
        })
        .collect::<Vec<_>>()
        .join(", and ");
    let mut d = rule.report(
        site,
        format!(
            "Image `{}` is on {list} (endoflife.date snapshot {})",
            written.input(),
            eol.snapshot
        ),
    );
    let extended: Vec<String> = ended
        .iter()
        .filter_map(|e| {
            let until = e.cycle.extended.as_deref()?;
            (!e.image.follows_extended && until > eol.snapshot.as_str())
                .then(|| format!("{} has extended support until {until}", e.what))
        })
        .collect();
    let (fix, why) = fix_for(site, written, image, &parsed, own.is_some(), ended.len());
    let mut help: Vec<String> = why.into_iter().collect();
    help.extend(extended);
    if !help.is_empty() {
        d.help = Some(help.join("; "));
    }
    d.fix = fix;
    out.push(d);
}

/// A tag split into the version it names and the rest.
struct Tag<'t> {
    /// Version components (`3`, `8`), or a codename's line.
    version: Vec<String>,
    /// The codename it was written as (`buster`), for the fix.
    codename: bool,
    /// From the first `-` after the version on (`-slim-bullseye`).
    suffix: &'t str,
    /// The length of the part before `suffix`, which a fix replaces (so
    /// an `ARG` that gives only the version is where the edit goes).
    head: usize,
}

fn parse_tag<'t>(
    image: &EolImage,
    tag: &'t str,
    node_codenames: &std::collections::BTreeMap<String, u32>,
) -> Option<Tag<'t>> {
    let (head, suffix) = match tag.find('-') {
        Some(i) => (tag.get(..i)?, tag.get(i..)?),
        None => (tag, ""),
    };
    // Debian and Ubuntu: a codename names the line.
    if let Some(cycle) = image
        .cycles
        .iter()
        .find(|c| c.codename.as_deref() == Some(head))
    {
        return Some(Tag {
            version: cycle.cycle.split('.').map(str::to_string).collect(),
            codename: true,
            suffix,
            head: head.len(),
        });
    }
    // Node.js release codenames (`gallium` is 16): the fix writes the
    // target's number, which every variant is published under.
    if image.name == "node"
        && let Some(major) = node_codenames.get(head)
    {
        return Some(Tag {
            version: vec![major.to_string()],
            codename: false,
            suffix,
            head: head.len(),
        });
    }
    // `8u392-b08-jdk` and `11.0.21_9-jdk` (Temurin): the version ends
    // at the first character that is not a digit or a dot.
    let end = head
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(head.len());
    let version = head.get(..end)?;
    let rest = head.get(end..)?;
    let temurin_build = rest.starts_with('u') || rest.starts_with('_');
    if version.is_empty() || !(rest.is_empty() || temurin_build) {
        return None;
    }
    let components: Vec<String> = version.split('.').map(str::to_string).collect();
    if components.iter().any(|c| c.is_empty()) {
        return None;
    }
    Some(Tag {
        version: components,
        codename: false,
        suffix,
        head: head.len(),
    })
}

fn number(component: &str) -> Option<u64> {
    component.parse().ok()
}

fn same(a: &str, b: &str) -> bool {
    match (number(a), number(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn key(cycle: &Cycle) -> Vec<u64> {
    cycle
        .cycle
        .split('.')
        .map(|c| number(c).unwrap_or(0))
        .collect()
}

/// The release line a tag follows: the most specific line it names, or,
/// for a coarser tag (`redis:6`), the newest line under it.
fn line<'a>(image: &'a EolImage, tag: &Tag) -> Option<&'a Cycle> {
    let parts = |c: &'a Cycle| c.cycle.split('.').collect::<Vec<_>>();
    let within = image
        .cycles
        .iter()
        .filter(|c| {
            let p = parts(c);
            p.len() <= tag.version.len() && p.iter().zip(&tag.version).all(|(a, b)| same(a, b))
        })
        .max_by_key(|c| parts(c).len());
    within.or_else(|| {
        image
            .cycles
            .iter()
            .filter(|c| {
                let p = parts(c);
                p.len() > tag.version.len() && tag.version.iter().zip(&p).all(|(a, b)| same(a, b))
            })
            .max_by_key(|c| key(c))
    })
}

fn describe(image: &EolImage, cycle: &Cycle) -> String {
    match &cycle.codename {
        Some(code) => format!("{} {} ({code})", image.name, cycle.cycle),
        None => format!("{} {}", image.name, cycle.cycle),
    }
}

/// Distributions named inside another image's tag: Debian and Ubuntu
/// codenames, `alpine3.16` and `alpine-3.16`.
fn embedded_distributions<'a>(eol: &'a Eol, image: &EolImage, suffix: &str) -> Vec<Ended<'a>> {
    if matches!(image.name.as_str(), "debian" | "ubuntu" | "alpine") {
        return Vec::new();
    }
    let distro = |name: &str| eol.image.iter().find(|i| i.name == name);
    let segments: Vec<&str> = suffix.split('-').filter(|s| !s.is_empty()).collect();
    let mut out = Vec::new();
    for (i, segment) in segments.iter().enumerate() {
        for name in ["debian", "ubuntu"] {
            let Some(d) = distro(name) else {
                continue;
            };
            if let Some(cycle) = d
                .cycles
                .iter()
                .find(|c| c.codename.as_deref() == Some(segment))
                && cycle.ended_by(d, &eol.snapshot)
            {
                out.push(Ended {
                    what: describe(d, cycle),
                    cycle,
                    image: d,
                });
            }
        }
        let alpine = match segment.strip_prefix("alpine") {
            Some("") => segments.get(i + 1).copied(),
            Some(version) => Some(version),
            None => None,
        };
        if let (Some(version), Some(d)) = (alpine, distro("alpine"))
            && let Some(cycle) = d.cycles.iter().find(|c| c.cycle == version)
            && cycle.ended_by(d, &eol.snapshot)
        {
            out.push(Ended {
                what: describe(d, cycle),
                cycle,
                image: d,
            });
        }
    }
    out
}

/// The unsafe fix to the target line, or why there is none.
fn fix_for(
    site: &ImageSite,
    written: &crate::reference::Reference,
    image: &EolImage,
    tag: &Tag,
    own_ended: bool,
    ended: usize,
) -> (Option<crate::diagnostic::Fix>, Option<String>) {
    let Some(target) = image.target.as_deref() else {
        return (None, Some("no supported line is known".to_string()));
    };
    if !image.fix {
        return (
            None,
            Some(format!(
                "moving `{}` to {target} needs a data upgrade (dump and restore, or the upgrade tool), so refit does not rewrite it",
                image.name
            )),
        );
    }
    if !own_ended {
        return (
            None,
            Some(format!(
                "choose a tag of the same `{}` line on a supported distribution",
                image.name
            )),
        );
    }
    if written.digest.is_some() {
        return (
            None,
            Some(format!(
                "move to `{}` {target} and pin its digest; refit does not change a pinned reference",
                image.name
            )),
        );
    }
    let name = if tag.codename {
        image
            .cycles
            .iter()
            .find(|c| c.cycle == target)
            .and_then(|c| c.codename.clone())
            .unwrap_or_else(|| target.to_string())
    } else {
        target.to_string()
    };
    let new_tag = format!("{name}{}", tag.suffix);
    let Some(span) = written.tag else {
        return (None, None);
    };
    let head = crate::site::Span::new(span.start, span.start + tag.head);
    let published = image.target_tags.iter().any(|s| s == tag.suffix);
    if !published || ended > 1 {
        return (
            None,
            Some(format!(
                "the official image publishes no `{}:{new_tag}`; choose a `{}` {target} tag by hand",
                image.name, image.name
            )),
        );
    }
    let fixed = super::preview(written.input(), head, &name);
    let fix = replace_in_reference(
        site,
        head,
        name,
        format!("Use `{fixed}`"),
        Applicability::Unsafe,
    );
    let why = fix
        .is_none()
        .then(|| format!("write `{fixed}` here; refit cannot edit this value"));
    (fix, why)
}
