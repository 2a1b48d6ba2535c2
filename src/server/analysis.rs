//! What the server knows about one document: the same check `refit check`
//! runs, on the editor's buffer instead of the file on disk.

use crate::kind::FileKind;

use crate::config::ConfigError;
use crate::diagnostic::{Applicability, Diagnostic, Severity};
use crate::engine::{self, FixMode};
use crate::run::Run;
use crate::settings::Settings;
use crate::site::{ImageSite, SiteValue};
use std::path::Path;

/// What `refit check` would use for `path`: its kind, and the settings of
/// its nearest `refit.toml` with the matching overrides and the files
/// beside it (`.env`, `Chart.yaml`).
#[derive(Debug, Clone)]
pub struct FileSettings {
    pub kind: FileKind,
    pub settings: Settings,
    /// What the workspace says about the files around it.
    pub input: crate::sources::SourceOptions,
    pub max_file_size: u64,
    /// `fix.unsafe-fixes` in the config: what fix-all applies.
    pub unsafe_fixes: bool,
}

/// The kind of `path` and its settings; `Ok(None)` when a walk would not
/// read it (an unrecognised name, or excluded by the config).
pub fn settings_for(run: &Run, path: &Path) -> Result<Option<FileSettings>, ConfigError> {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let Some(kind) = run.kind_for(&absolute) else {
        return Ok(None);
    };
    let fs = run.file_settings(&absolute)?;
    let unsafe_fixes = matches!(fs.mode, FixMode::On { unsafe_fixes: true });
    let input =
        run.workspace()
            .source_options(&absolute, kind, crate::check::options(&fs.settings));
    Ok(Some(FileSettings {
        kind,
        settings: fs.settings,
        input,
        max_file_size: fs.max_file_size,
        unsafe_fixes,
    }))
}

/// One check of one buffer.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub kind: FileKind,
    pub diagnostics: Vec<Diagnostic>,
    pub sites: Vec<ImageSite>,
    pub unsafe_fixes: bool,
    settings: Settings,
    input: crate::sources::SourceOptions,
}

fn error(code: &'static str, message: String) -> Diagnostic {
    crate::diagnostic::file_error(code, message, crate::site::Span::new(0, 0))
}

/// Check a buffer as `refit check` checks the file. A panic inside the
/// check becomes an error diagnostic instead of taking the server down.
pub fn analyze(text: &str, fs: &FileSettings) -> Analysis {
    analyze_with(text, fs, check_buffer)
}

/// The check itself: the findings (or the per-file error) and the sites,
/// from one extraction.
fn check_buffer(text: &str, fs: &FileSettings) -> (Vec<Diagnostic>, Vec<ImageSite>) {
    if text.len() as u64 > fs.max_file_size {
        let d = error(
            "E003",
            format!(
                "File is {} bytes, over the {}-byte limit (max-file-size); not checked",
                text.len(),
                fs.max_file_size
            ),
        );
        return (vec![d], Vec::new());
    }
    match crate::check::check_with(fs.kind, text, &fs.settings, &fs.input) {
        Ok(checked) => (checked.diagnostics, checked.sites),
        Err(d) => (vec![*d], Vec::new()),
    }
}

fn analyze_with(
    text: &str,
    fs: &FileSettings,
    check: impl FnOnce(&str, &FileSettings) -> (Vec<Diagnostic>, Vec<ImageSite>),
) -> Analysis {
    let run = || check(text, fs);
    let (diagnostics, sites) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(run))
        .unwrap_or_else(|_| {
            let d = error(
                "E004",
                "refit failed while checking this file (an internal error); please report it"
                    .to_string(),
            );
            (vec![d], Vec::new())
        });
    Analysis {
        kind: fs.kind,
        diagnostics,
        sites,
        unsafe_fixes: fs.unsafe_fixes,
        settings: fs.settings.clone(),
        input: fs.input.clone(),
    }
}

impl Analysis {
    /// The text `refit check --fix` would write (with the config's
    /// `unsafe-fixes`), or `None` when nothing changes.
    pub fn fix_all(&self, text: &str) -> Option<String> {
        let mode = FixMode::On {
            unsafe_fixes: self.unsafe_fixes,
        };
        let run = || {
            engine::process_with(
                text.to_string(),
                "",
                None,
                self.kind,
                &self.settings,
                &self.input,
                mode,
            )
            .fixed
        };
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(run))
            .ok()
            .flatten()
    }

    /// The site whose reference text holds `offset`.
    pub fn site_at(&self, offset: usize) -> Option<&ImageSite> {
        self.sites
            .iter()
            .find(|s| s.span.start <= offset && offset <= s.span.end)
    }

    /// Hover text for a site: what `refit reference` prints, and what the
    /// rules say about it.
    pub fn hover(&self, site: &ImageSite) -> String {
        let mut out = String::new();
        match &site.value {
            SiteValue::Resolved { text, parsed, .. } => match parsed {
                Ok(r) => {
                    out.push_str(&format!("**`{text}`**\n\n"));
                    let implicit = |s: Option<&str>, normal: &str| match s {
                        Some(s) => format!("`{s}`"),
                        None => format!("`{normal}` (implicit)"),
                    };
                    out.push_str(&format!(
                        "- registry: {}\n",
                        implicit(r.domain_str(), r.normalized_domain())
                    ));
                    out.push_str(&format!("- repository: `{}`\n", r.normalized_path()));
                    out.push_str(&format!(
                        "- tag: {}\n",
                        match (r.tag_str(), r.digest_str()) {
                            (Some(t), _) => format!("`{t}`"),
                            (None, Some(_)) => "(none)".to_string(),
                            (None, None) => "`latest` (implicit)".to_string(),
                        }
                    ));
                    out.push_str(&format!(
                        "- digest: {}\n",
                        r.digest_str()
                            .map_or("(none)".to_string(), |d| format!("`{d}`"))
                    ));
                    out.push_str(&format!("- normalized: `{}`\n", r.normalized()));
                    if site.raw != *text {
                        out.push_str(&format!("- written as: `{}`\n", site.raw));
                    }
                }
                Err(e) => out.push_str(&format!("**`{text}`**: not a valid reference ({e})\n")),
            },
            SiteValue::Unresolved { missing } => out.push_str(&format!(
                "**`{}`**: unresolved (no value for {})\n",
                site.raw,
                missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            SiteValue::Mirror(m) => out.push_str(&format!(
                "**`{}`**: a registry mirror for {}\n",
                m.written,
                m.upstream
                    .as_deref()
                    .map_or("every registry".to_string(), |u| format!("`{u}`"))
            )),
        }
        let findings: Vec<&Diagnostic> = self
            .diagnostics
            .iter()
            .filter(|d| {
                d.span.start < site.span.end && site.span.start < d.span.end.max(d.span.start + 1)
            })
            .collect();
        if !findings.is_empty() {
            out.push_str("\nrefit:\n");
            for d in findings {
                let sev = match d.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                    Severity::Info => "info",
                };
                out.push_str(&format!("- {} {} ({sev}): {}\n", d.code, d.name, d.message));
                if let Some(fix) = &d.fix {
                    let safety = match fix.applicability {
                        Applicability::Safe => "safe fix",
                        Applicability::Unsafe => "unsafe fix",
                    };
                    out.push_str(&format!("  - {safety}: {}\n", fix.title));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_check_becomes_an_error_diagnostic() {
        let fs = FileSettings {
            kind: FileKind::Dockerfile,
            settings: Settings::default(),
            input: Default::default(),
            max_file_size: crate::engine::DEFAULT_MAX_FILE_SIZE,
            unsafe_fixes: false,
        };
        let a = analyze_with("FROM node:20\n", &fs, |_, _| panic!("boom"));
        let codes: Vec<&str> = a.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, vec!["E004"]);
        assert!(a.diagnostics[0].message.contains("internal error"));
        // The same document checks normally afterwards.
        let a = analyze("FROM node:20\n", &fs);
        let codes: Vec<&str> = a.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, vec!["REG001"]);
    }
}
