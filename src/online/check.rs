//! `refit check --online`: REF003, REF004 and MIR003 findings from the
//! registries, and the verified-pin findings (REF006 to REF009), added to
//! the offline reports; with `--fix --unsafe-fixes` (or `--diff
//! --unsafe-fixes`) the re-pins are applied to the report's text.

use super::client::Failure;
use super::resolve::{Resolver, Want};
use super::status::{MirrorState, probe_mirror};
use crate::diagnostic::Diagnostic;
use crate::engine::{FileReport, FixMode};
use crate::rules::{
    mir003_mirror_unusable, ref003_missing_image, ref004_access_denied, ref006_vanished_digest,
};
use crate::settings::Settings;
use crate::site::{ImageSite, SiteKind};
use std::collections::HashMap;

/// Ask the registries about every reference (each distinct one once) and
/// every Docker Hub mirror setting (each distinct mirror once), and add
/// the findings to the reports. Findings for rules `enabled` says no to
/// are left out. A reference whose registry could not be asked gets an
/// E010 error (exit 2). With `mode` fixing unsafe fixes too, the
/// verified-pin fixes are applied (see [`super::verified::apply`]).
pub fn add_findings(
    reports: &mut [FileReport],
    resolver: &Resolver,
    enabled: &dyn Fn(&str) -> bool,
    mode: FixMode,
) -> Seen {
    let settings = Settings::default();
    let mut per_file: Vec<Vec<ImageSite>> = Vec::with_capacity(reports.len());
    for r in reports.iter() {
        let sites = match (r.current_text(), r.has_error()) {
            (Some(text), false) => {
                let input = match r.path.as_deref() {
                    Some(p) => crate::workspace::Workspace::shared().source_options(
                        p,
                        r.kind,
                        crate::check::options(&settings),
                    ),
                    None => crate::check::options(&settings),
                };
                crate::check::extract_with_notes(r.kind, text, &input)
                    .map(|(sites, _)| sites)
                    .unwrap_or_default()
            }
            _ => Vec::new(),
        };
        per_file.push(sites);
    }
    let wants: Vec<Want> = per_file
        .iter()
        .flatten()
        .filter(|s| !s.extra.build_output && s.kind != SiteKind::DaemonMirror)
        .filter_map(|s| s.reference().map(|r| Want::of(r, false)))
        .collect();
    let results =
        if enabled(ref003_missing_image::RULE.code) || enabled(ref004_access_denied::RULE.code) {
            resolver.resolve_all(&wants)
        } else {
            HashMap::new()
        };
    let mut probes: HashMap<String, MirrorState> = HashMap::new();
    for (report, sites) in reports.iter_mut().zip(&per_file) {
        let before = report.diagnostics.len();
        for site in sites {
            if let Some(mirror) = site.mirror() {
                if !enabled(mir003_mirror_unusable::RULE.code) || !mirror.mirrors_docker_hub() {
                    continue;
                }
                let Some(endpoint) = resolver.client.mirror_endpoint(&mirror.written) else {
                    continue;
                };
                let state = probes
                    .entry(endpoint.base.clone() + "/" + &endpoint.prefix)
                    .or_insert_with(|| probe_mirror(&resolver.client, &endpoint))
                    .clone();
                if !state.is_ok() {
                    let mut d = mir003_mirror_unusable::RULE.report(
                        site,
                        format!(
                            "Mirror `{}` ({}) is {}",
                            mirror.written,
                            mirror.format.label(),
                            state.describe()
                        ),
                    );
                    d.help = Some(
                        "the daemon silently falls back to Docker Hub: fix or remove the mirror"
                            .to_string(),
                    );
                    report.diagnostics.push(d);
                }
                continue;
            }
            if site.extra.build_output {
                continue;
            }
            let Some(reference) = site.reference() else {
                continue;
            };
            let want = Want::of(reference, false);
            let Some(Err(failure)) = results.get(&want) else {
                continue;
            };
            let host = resolver
                .client
                .endpoints(&want.registry)
                .last()
                .map(|e| e.host.clone())
                .unwrap_or_default();
            let d = match failure {
                // A pin by digest alone that is not served: REF006 says so.
                Failure::NotFound { .. }
                    if want.by_digest() && enabled(ref006_vanished_digest::RULE.code) =>
                {
                    continue;
                }
                Failure::NotFound { code } if enabled(ref003_missing_image::RULE.code) => {
                    let mut d = ref003_missing_image::RULE.report(
                        site,
                        format!(
                            "Image `{}` does not exist on {host} ({code})",
                            reference.input()
                        ),
                    );
                    d.help = Some(format!("`{}` was asked", want.key()));
                    d
                }
                Failure::Denied { status, code } if enabled(ref004_access_denied::RULE.code) => {
                    let mut d = ref004_access_denied::RULE.report(
                        site,
                        format!(
                            "Access to `{}` is denied by {host} ({status} {code})",
                            reference.input()
                        ),
                    );
                    d.help =
                        Some("log in to the registry, or check the repository path".to_string());
                    d
                }
                Failure::NotFound { .. } | Failure::Denied { .. } => continue,
                other => crate::diagnostic::file_error(
                    "E010",
                    format!("Cannot ask {host} about `{}`: {other}", reference.input()),
                    site.span,
                ),
            };
            report.diagnostics.push(d);
        }
        if report.diagnostics.len() != before {
            report
                .diagnostics
                .sort_by(|a: &Diagnostic, b: &Diagnostic| a.sort_key().cmp(&b.sort_key()));
        }
    }
    let verified =
        super::verified::add_findings(reports, &per_file, resolver, &results, enabled, mode);
    // The digests the registries answered with, and the pins they serve.
    let mut digests: Vec<String> = results
        .values()
        .filter_map(|r| r.as_ref().ok().map(|r| r.digest.clone()))
        .chain(
            verified
                .iter()
                .filter(|v| v.verdict != "vanished")
                .map(|v| v.digest.clone()),
        )
        .collect();
    digests.sort();
    digests.dedup();
    Seen { digests, verified }
}

/// What `check --online` saw, for `refit.lock`: every digest a registry
/// answered with or served (first-seen times), and what was verified.
#[derive(Debug, Default)]
pub struct Seen {
    pub digests: Vec<String>,
    pub verified: Vec<super::lock::Verified>,
}
