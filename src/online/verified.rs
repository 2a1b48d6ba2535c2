//! `check --online`'s verified-pin findings: REF006 (the digest is no
//! longer served), REF007 (a platform manifest where the tag is an index),
//! REF008 (the tag now points elsewhere) and REF009 (a platform the
//! repository builds for is missing), and applying their re-pins.

use super::client::Failure;
use super::platforms::{
    FileText, Wanted, missing_platform_findings, repository_platforms, site_platforms,
};
use super::resolve::{Resolver, Want};
use super::verify::{Known, Pin, Verdict, Verification, repin_digest, short, verify_all};
use crate::diagnostic::{Applicability, Diagnostic, Fix};
use crate::engine::{FileReport, FixMode};
use crate::rules::{
    ref006_vanished_digest, ref007_platform_digest, ref008_tag_moved, ref009_missing_platform,
};
use crate::site::{ImageSite, SiteKind};

/// What one site asks the registry.
struct Ask {
    file: usize,
    site: usize,
    pin: Option<Pin>,
    want: Want,
    platforms: Vec<Wanted>,
}

/// Add the verified-pin findings to the reports (`sites`: each report's
/// sites, read from its current text; `known`: what the caller already
/// asked), then apply their fixes when `mode` applies unsafe ones.
/// Returns the `refit.lock` records of the pins verified.
pub fn add_findings(
    reports: &mut [FileReport],
    sites: &[Vec<ImageSite>],
    resolver: &Resolver,
    known: &Known,
    enabled: &dyn Fn(&str) -> bool,
    mode: FixMode,
) -> Vec<super::lock::Verified> {
    let pins_on = enabled(ref006_vanished_digest::RULE.code)
        || enabled(ref007_platform_digest::RULE.code)
        || enabled(ref008_tag_moved::RULE.code);
    let platforms_on = enabled(ref009_missing_platform::RULE.code);
    if !pins_on && !platforms_on {
        return Vec::new();
    }
    let files: Vec<FileText> = reports
        .iter()
        .map(|r| FileText {
            kind: r.kind,
            display: &r.display,
            text: r.current_text(),
            path: r.path.as_deref(),
        })
        .collect();
    let repository = if platforms_on {
        repository_platforms(&files)
    } else {
        Vec::new()
    };
    let mut asks = Vec::new();
    for (file, (f, file_sites)) in files.iter().zip(sites).enumerate() {
        let wanted_all = if platforms_on {
            site_platforms(f, file_sites, &repository)
        } else {
            vec![Vec::new(); file_sites.len()]
        };
        for (index, (site, wanted)) in file_sites.iter().zip(wanted_all).enumerate() {
            if site.extra.build_output || site.kind == SiteKind::DaemonMirror {
                continue;
            }
            let Some(reference) = site.reference() else {
                continue;
            };
            let pin = Pin::of(reference).filter(|_| pins_on || !wanted.is_empty());
            if pin.is_none() && wanted.is_empty() {
                continue;
            }
            asks.push(Ask {
                file,
                site: index,
                pin,
                want: Want::of(reference, true),
                platforms: wanted,
            });
        }
    }
    let pins: Vec<(Pin, bool)> = asks
        .iter()
        .filter_map(|a| a.pin.clone().map(|p| (p, !a.platforms.is_empty())))
        .collect();
    let verified = verify_all(resolver, known, &pins);
    let mut records: Vec<super::lock::Verified> = verified
        .iter()
        .filter_map(|((pin, _), v)| v.as_ref().ok().map(|v| super::verify::record(pin, v)))
        .collect();
    records.sort_by(|a, b| (&a.reference, &a.digest).cmp(&(&b.reference, &b.digest)));
    records.dedup_by(|a, b| a.reference == b.reference && a.digest == b.digest);
    let unpinned: Vec<Want> = asks
        .iter()
        .filter(|a| a.pin.is_none())
        .map(|a| a.want.clone())
        .collect();
    let tags = super::verify::tag_platforms_all(resolver, known, &unpinned);
    let mut added = vec![Vec::new(); reports.len()];
    for ask in &asks {
        let Some(site) = sites.get(ask.file).and_then(|s| s.get(ask.site)) else {
            continue;
        };
        let Some(report) = reports.get(ask.file) else {
            continue;
        };
        let Some(reference) = site.reference() else {
            continue;
        };
        let host = resolver
            .client
            .endpoints(&ask.want.registry)
            .last()
            .map(|e| e.host.clone())
            .unwrap_or_default();
        let out = &mut added[ask.file];
        let offered = match &ask.pin {
            Some(pin) => {
                let key = (pin.clone(), !ask.platforms.is_empty());
                match verified.get(&key) {
                    Some(Ok(v)) => {
                        if pins_on {
                            out.extend(pin_finding(
                                report,
                                &sites[ask.file],
                                ask.site,
                                pin,
                                v,
                                &host,
                                enabled,
                            ));
                        }
                        v.platforms.clone()
                    }
                    // The tag's failure is REF003/REF004/E010 already.
                    Some(Err(Failure::NotFound { .. } | Failure::Denied { .. })) | None => {
                        continue;
                    }
                    Some(Err(e)) => {
                        let already = report
                            .diagnostics
                            .iter()
                            .any(|d| d.code == "E010" && d.span == site.span);
                        if !already {
                            out.push(crate::diagnostic::file_error(
                                "E010",
                                format!(
                                    "Cannot verify the pin of `{}` on {host}: {e}",
                                    reference.input()
                                ),
                                site.span,
                            ));
                        }
                        continue;
                    }
                }
            }
            None => match tags.get(&ask.want) {
                Some(Ok(p)) => p.clone(),
                _ => continue,
            },
        };
        if !enabled(ref009_missing_platform::RULE.code) || offered.is_empty() {
            continue;
        }
        out.extend(missing_platform_findings(site, &ask.platforms, &offered));
    }
    let unsafe_fixes = matches!(mode, FixMode::On { unsafe_fixes: true });
    for ((report, file_sites), new) in reports.iter_mut().zip(sites).zip(added) {
        if new.is_empty() {
            continue;
        }
        report.diagnostics.extend(new);
        if unsafe_fixes {
            apply(report, file_sites);
        }
        report
            .diagnostics
            .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    }
    records
}

/// The REF006/REF007/REF008 finding for a verified pin, with its re-pin.
fn pin_finding(
    report: &FileReport,
    sites: &[ImageSite],
    index: usize,
    pin: &Pin,
    v: &Verification,
    host: &str,
    enabled: &dyn Fn(&str) -> bool,
) -> Option<Diagnostic> {
    let site = sites.get(index)?;
    // The name and tag without the digest: the frame shows the rest.
    let written = site.reference()?.input();
    let named = written.split('@').next().unwrap_or(written);
    let tag = pin.tag.as_deref().unwrap_or_default();
    let (rule, message, help) = match &v.verdict {
        Verdict::Current => return None,
        Verdict::Vanished { code, current } => (
            &ref006_vanished_digest::RULE,
            format!(
                "Pinned digest `{}` of `{named}` is not served by {host} ({code})",
                pin.digest
            ),
            match current {
                Some(c) => format!(
                    "pulls and builds fail with `manifest unknown`; the tag `{tag}` is now `{c}`: re-pinning to it is an unsafe fix (other content)"
                ),
                None if pin.tag.is_some() => format!(
                    "pulls and builds fail with `manifest unknown`, and the tag `{tag}` does not resolve either"
                ),
                None => "pulls and builds fail with `manifest unknown`; with no tag beside the digest there is nothing to re-pin to".to_string(),
            },
        ),
        Verdict::PlatformOfIndex { platform, index } => (
            &ref007_platform_digest::RULE,
            format!(
                "The pin of `{named}` is its {platform} manifest; the tag is the multi-platform index `{index}`"
            ),
            format!(
                "every machine pulls this {platform} image, whatever its platform: pin the index (its {platform} entry is this very manifest)"
            ),
        ),
        Verdict::TagMoved { current } => (
            &ref008_tag_moved::RULE,
            format!(
                "The tag of `{named}` now points to `{current}`, not the pinned `{}`",
                pin.digest
            ),
            format!(
                "Docker, BuildKit and containerd pull by the digest and ignore the tag: the build keeps using `{}`, and the tag text is misleading; re-pin to `{}` (an unsafe fix) or keep the pin on purpose",
                short(&pin.digest),
                short(current)
            ),
        ),
    };
    if !enabled(rule.code) {
        return None;
    }
    let mut d = rule.report(site, message);
    d.help = Some(help);
    if let (Some(digest), Some(text)) = (repin_digest(&v.verdict), report.current_text())
        && let Ok((edit, _)) = super::pin::digest_edit(text, sites, index, site, digest)
    {
        let title = match &v.verdict {
            Verdict::PlatformOfIndex { .. } => format!("Pin the index `{}`", short(digest)),
            _ => format!("Re-pin to `{tag}@{}`", short(digest)),
        };
        d.fix = Some(Fix::new(title, Applicability::Unsafe, vec![edit]));
    }
    Some(d)
}

/// Apply the verified-pin fixes (all unsafe) to the report's current
/// text: non-overlapping, length-keeping digest replacements only (so the
/// other findings' spans stay right), and only when the result reads
/// back as the re-pinned references. Applied findings leave the report.
pub fn apply(report: &mut FileReport, sites: &[ImageSite]) {
    let codes = [
        ref006_vanished_digest::RULE.code,
        ref007_platform_digest::RULE.code,
        ref008_tag_moved::RULE.code,
    ];
    let Some(text) = report.current_text().map(str::to_string) else {
        return;
    };
    let mut chosen: Vec<usize> = Vec::new();
    let mut edits: Vec<crate::diagnostic::Edit> = Vec::new();
    for (i, d) in report.diagnostics.iter().enumerate() {
        let Some(fix) = d.fix.as_ref().filter(|_| codes.contains(&d.code)) else {
            continue;
        };
        let keeps_length = fix
            .edits
            .iter()
            .all(|e| e.span.end - e.span.start == e.content.len());
        let overlaps = fix.edits.iter().any(|e| {
            edits
                .iter()
                .any(|x| x.span.start < e.span.end && e.span.start < x.span.end)
        });
        if keeps_length && !overlaps {
            chosen.push(i);
            edits.extend(fix.edits.iter().cloned());
        }
    }
    if edits.is_empty() {
        return;
    }
    edits.sort_by_key(|e| (e.span.start, e.span.end));
    edits.dedup();
    let fixed = crate::fix::apply_edits(&text, &edits);
    // The fixed text must read back with the same number of references.
    let settings = crate::settings::Settings::default();
    let input = match report.path.as_deref() {
        Some(p) => crate::workspace::Workspace::shared().source_options(
            p,
            report.kind,
            crate::check::options(&settings),
        ),
        None => crate::check::options(&settings),
    };
    let Ok((after, _)) = crate::check::extract_with_notes(report.kind, &fixed, &input) else {
        return;
    };
    if after.len() != sites.len() {
        return;
    }
    let mut applied = Vec::new();
    for &i in chosen.iter().rev() {
        let d = report.diagnostics.remove(i);
        if let Some(fix) = d.fix {
            applied.push(crate::fix::Applied {
                code: d.code,
                title: fix.title,
                span: d.span,
            });
        }
    }
    applied.reverse();
    report.applied.extend(applied);
    report.fixed = (fixed != report.source.as_deref().unwrap_or_default()).then_some(fixed);
}
