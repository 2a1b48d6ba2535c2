//! GitLab Code Quality report (JSON), with stable fingerprints.

use super::paths::{finding_fingerprint, repo_relative};
use crate::diagnostic::{LineIndex, Severity};
use crate::engine::FileReport;
use serde_json::json;
use std::collections::HashMap;

/// One file's issues.
pub fn file(report: &FileReport) -> Vec<serde_json::Value> {
    let mut issues = Vec::new();
    {
        let index = report.current_text().map(LineIndex::new);
        let path = repo_relative(report);
        let mut seen: HashMap<(String, String), usize> = HashMap::new();
        for d in &report.diagnostics {
            let (line, text) = match (report.current_text(), index.as_ref()) {
                (Some(t), Some(ix)) => {
                    let l = ix.line_of(d.span.start);
                    (
                        l + 1,
                        t.get(ix.line_start(l)..ix.line_end(l))
                            .unwrap_or("")
                            .to_string(),
                    )
                }
                _ => (1, String::new()),
            };
            let n = seen
                .entry((d.code.to_string(), text.trim().to_string()))
                .or_insert(0);
            *n += 1;
            issues.push(json!({
                "type": "issue",
                "check_name": d.code,
                "description": format!("{} {}", d.code, d.message),
                "categories": ["Bug Risk"],
                "severity": match d.severity {
                    Severity::Error => "major",
                    Severity::Warning => "minor",
                    Severity::Info => "info",
                },
                "fingerprint": finding_fingerprint(report, d.code, &text, *n),
                "location": {"path": path, "lines": {"begin": line}},
            }));
        }
    }
    issues
}
