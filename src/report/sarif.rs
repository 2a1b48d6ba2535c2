//! SARIF 2.1.0 for GitHub code scanning, built with serde-sarif's typed model.

use super::common::positions;
use super::paths::{finding_fingerprint, repo_uri};
use crate::diagnostic::{Diagnostic, LineIndex, Severity};
use crate::engine::FileReport;
use crate::rules::{self, Rule};
use serde_sarif::sarif::{
    ArtifactChange, ArtifactContent, ArtifactLocation, Fix, Location, Message,
    MultiformatMessageString, PhysicalLocation, Region, Replacement, ReportingConfiguration,
    ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif, Tool, ToolComponent,
};
use std::collections::{BTreeMap, HashMap};

use super::links::{help_uri, information_uri};

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn result_level(s: Severity) -> ResultLevel {
    match s {
        Severity::Error => ResultLevel::Error,
        Severity::Warning => ResultLevel::Warning,
        Severity::Info => ResultLevel::Note,
    }
}

fn text(s: impl Into<String>) -> MultiformatMessageString {
    MultiformatMessageString::builder().text(s.into()).build()
}

/// The descriptor of the rule (or per-file error, or note) that `d` is of.
fn descriptor(d: &Diagnostic, severity: Severity, rule: Option<&Rule>) -> ReportingDescriptor {
    let (code, name) = (d.code, d.name);
    let (short, full, help) = match rule {
        Some(r) => {
            let doc = r.documentation();
            let what = doc
                .split("## What it does")
                .nth(1)
                .and_then(|s| s.split("\n## ").next())
                .unwrap_or(r.summary)
                .trim()
                .replace('\n', " ");
            (r.summary.to_string(), what, doc)
        }
        None => {
            let doc = crate::diagnostic::FILE_ERRORS
                .iter()
                .find(|(c, _, _)| *c == code)
                .map_or(String::new(), |(_, _, d)| d.to_string());
            (doc.clone(), doc.clone(), doc)
        }
    };
    let mut descriptor = ReportingDescriptor::builder()
        .id(code.to_string())
        .name(name.to_string())
        .short_description(text(short))
        .full_description(text(full))
        .help(
            MultiformatMessageString::builder()
                .text(help.clone())
                .markdown(help)
                .build(),
        )
        .default_configuration(
            ReportingConfiguration::builder()
                .level(serde_json::json!(level(severity)))
                .build(),
        )
        .build();
    // No documentation base configured: no link rather than a dead one.
    descriptor.help_uri = help_uri(d);
    descriptor
}

fn region(start: crate::diagnostic::Position, end: crate::diagnostic::Position) -> Region {
    Region::builder()
        .start_line(start.line as i64)
        .start_column(start.column as i64)
        .end_line(end.line as i64)
        .end_column(end.column as i64)
        .build()
}

/// The rules that fired, for the driver.
pub type RulesSeen = BTreeMap<&'static str, ReportingDescriptor>;

/// One file's results, each on one line, or (`pretty`) pretty-printed at
/// the depth of `results`.
pub fn file(
    report: &FileReport,
    rules_seen: &mut RulesSeen,
    results: &mut Vec<String>,
    pretty: bool,
) {
    {
        let index = report.current_text().map(LineIndex::new);
        let path = repo_uri(report);
        let artifact = || ArtifactLocation::builder().uri(path.clone()).build();
        let mut occurrences: HashMap<(String, String), usize> = HashMap::new();
        for d in &report.diagnostics {
            rules_seen.entry(d.code).or_insert_with(|| {
                let rule = rules::RULES
                    .iter()
                    .chain(rules::ONLINE_RULES)
                    .copied()
                    .find(|r| r.code == d.code);
                descriptor(d, rule.map_or(d.severity, |r| r.severity), rule)
            });
            let (start, end) = super::common::positions(report, index.as_ref(), d.span);
            let line_text = match (report.current_text(), index.as_ref()) {
                (Some(t), Some(ix)) => {
                    let l = ix.line_of(d.span.start);
                    t.get(ix.line_start(l)..ix.line_end(l))
                        .unwrap_or("")
                        .to_string()
                }
                _ => String::new(),
            };
            let n = occurrences
                .entry((d.code.to_string(), line_text.trim().to_string()))
                .or_insert(0);
            *n += 1;
            let mut fingerprints = BTreeMap::new();
            fingerprints.insert(
                "refit/v1".to_string(),
                finding_fingerprint(report, d.code, &line_text, *n),
            );
            let location = Location::builder()
                .physical_location(
                    PhysicalLocation::builder()
                        .artifact_location(artifact())
                        .region(region(start, end))
                        .build(),
                )
                .build();
            let mut message = d.message.clone();
            if let Some(h) = &d.help {
                message.push_str(&format!("\nhelp: {h}"));
            }
            let fixes: Vec<Fix> = d
                .fix
                .iter()
                .map(|f| {
                    let replacements: Vec<Replacement> = f
                        .edits
                        .iter()
                        .map(|e| {
                            let (s, e2) = positions(report, index.as_ref(), e.span);
                            Replacement::builder()
                                .deleted_region(region(s, e2))
                                // Readers drop a replacement without inserted
                                // content, so a deletion carries "".
                                .inserted_content(
                                    ArtifactContent::builder().text(e.content.clone()).build(),
                                )
                                .build()
                        })
                        .collect();
                    Fix::builder()
                        .description(Message::builder().text(f.title.clone()).build())
                        .artifact_changes(vec![
                            ArtifactChange::builder()
                                .artifact_location(artifact())
                                .replacements(replacements)
                                .build(),
                        ])
                        .build()
                })
                .collect();
            let mut result = SarifResult::builder()
                .rule_id(d.code.to_string())
                .level(result_level(d.severity))
                .message(Message::builder().text(message).build())
                .locations(vec![location])
                .partial_fingerprints(fingerprints)
                .build();
            if !fixes.is_empty() {
                result.fixes = Some(fixes);
            }
            results.push(if pretty {
                super::common::pretty(&result, 8)
            } else {
                serde_json::to_string(&result).unwrap_or_else(|_| "null".to_string())
            });
        }
    }
}

/// The document with an empty `results` array to splice into: its marker
/// is [`RESULTS_PRETTY`] or [`RESULTS_COMPACT`].
pub fn skeleton(rules_seen: RulesSeen, pretty: bool) -> String {
    let mut driver = ToolComponent::builder()
        .name("refit".to_string())
        .version(env!("CARGO_PKG_VERSION").to_string())
        .semantic_version(env!("CARGO_PKG_VERSION").to_string())
        .rules(rules_seen.into_values().collect::<Vec<_>>())
        .build();
    driver.information_uri = information_uri();
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(Vec::<SarifResult>::new())
        .column_kind(serde_json::json!("unicodeCodePoints"))
        .build();
    let sarif = Sarif::builder()
        .schema(serde_sarif::sarif::SCHEMA_URL.to_string())
        .version(serde_json::json!("2.1.0"))
        .runs(vec![run])
        .build();
    let text = if pretty {
        serde_json::to_string_pretty(&sarif)
    } else {
        serde_json::to_string(&sarif)
    };
    text.unwrap_or_else(|_| "{}".to_string())
}

/// The run's empty `results` in the pretty skeleton (the indent tells it
/// from any other).
pub const RESULTS_PRETTY: &str = "\n      \"results\": []";
/// The run's empty `results` in the compact skeleton: the only
/// `"results"` key (a quote inside a string value is escaped).
pub const RESULTS_COMPACT: &str = "\"results\":[]";
