use super::{Rule, RuleContext, declare_rule, no_site_check};
use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix};
use crate::site::{RunText, Span};
use std::sync::LazyLock;

declare_rule! {
    /// ## What it does
    /// Flags package sources inside a Dockerfile's `RUN` (and `ENV`) that
    /// point at a package mirror that is dead, renamed, or serves only its
    /// own cloud's machines:
    ///
    /// - `sed -i 's/dl-cdn.alpinelinux.org/<mirror>/' /etc/apk/repositories`,
    ///   the same on `/etc/apt/sources.list` (or `sources.list.d`);
    /// - `npm config set registry …`, `yarn config set registry …`,
    ///   `--registry=…`;
    /// - `pip config set global.index-url …`, `pip install -i …`,
    ///   `--index-url …`;
    /// - `GOPROXY=…` (`go env -w`, `ENV`).
    ///
    /// The table is `rules/package-mirrors.toml` (host, status, date,
    /// source). It names mirror hosts only, never a package manager's own
    /// upstream.
    ///
    /// ## Why is this bad?
    /// A mirror written into a build works until the mirror goes, then
    /// every build fails at the install step: the Taobao npm mirror's old
    /// name lost its certificate on 2024-01-22 and its DNS in April 2024;
    /// GoCenter shut down on 2021-05-01; a cloud's intranet mirror endpoint
    /// answers only machines inside that cloud. It is the same habit as
    /// hard-coding a Docker Hub mirror in `FROM` (REG002).
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN npm config set registry https://registry.npm.taobao.org
    /// ```
    ///
    /// ## Use instead
    /// ```dockerfile
    /// RUN npm config set registry https://registry.npmmirror.com
    /// ```
    /// or, better, pass the mirror at build time (`--build-arg`,
    /// a BuildKit secret with an `.npmrc`) so the Dockerfile keeps the
    /// upstream default.
    ///
    /// ## Fix safety
    /// Safe for a renamed mirror: the fix writes the successor host, which
    /// serves the same paths. Dead and restricted mirrors have no fix.
    code: "MIR004",
    name: "dead-package-mirror",
    severity: Error,
    fix: Sometimes,
    summary: "A package mirror in RUN that is dead, renamed or restricted",
    check: no_site_check,
    check_file: check_file,
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageMirror {
    pub host: String,
    pub ecosystem: String,
    pub status: String,
    #[serde(default)]
    pub successor: Option<String>,
    pub date: String,
    pub source: String,
    pub note: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    mirror: Vec<PackageMirror>,
}

/// The table in `rules/package-mirrors.toml`.
pub static TABLE: LazyLock<Vec<PackageMirror>> = LazyLock::new(|| {
    toml::from_str::<Table>(include_str!("../../rules/package-mirrors.toml"))
        .map(|t| t.mirror)
        .unwrap_or_default()
});

/// Text that says an instruction sets where packages come from.
const CONTEXTS: &[&str] = &[
    "/etc/apk/repositories",
    "/etc/apt/sources.list",
    "registry",
    "index-url",
    "pip install -i",
    "pip3 install -i",
    "goproxy",
    "npmrc",
    "pip.conf",
    "pip.ini",
];

fn is_host_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'.' || b == b'-'
}

/// Every whole-host occurrence of `host` in `text` (case-insensitive).
pub fn host_occurrences(text: &str, host: &str) -> Vec<Span> {
    let lower = text.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = lower.get(from..).and_then(|t| t.find(host)) {
        let start = from + at;
        let end = start + host.len();
        let before_ok = start == 0 || !is_host_byte(bytes[start - 1]);
        let after_ok = end >= bytes.len() || !is_host_byte(bytes[end]);
        if before_ok && after_ok {
            out.push(Span::new(start, end));
        }
        from = end;
    }
    out
}

/// Whether the text sets a package source, not counting the words inside
/// the mirror hosts themselves (`registry.npm.taobao.org`).
fn sets_packages(text: &str) -> bool {
    let mut lower = text.to_ascii_lowercase();
    for mirror in TABLE.iter() {
        lower = lower.replace(&mirror.host, " ");
    }
    CONTEXTS.iter().any(|c| lower.contains(c))
}

fn check_file(rule: &Rule, ctx: &RuleContext, out: &mut Vec<Diagnostic>) {
    let Some(graph) = &ctx.file.graph else {
        return;
    };
    for run in &graph.runs {
        check_text(rule, run, &run.text, None, out);
        for (body, span) in &run.heredocs {
            check_text(rule, run, body, Some(*span), out);
        }
    }
}

/// Check one text: the instruction (mapped through its segment map) or a
/// heredoc body (`file_start`: where it is in the file, verbatim).
fn check_text(
    rule: &Rule,
    run: &RunText,
    text: &str,
    heredoc: Option<Span>,
    out: &mut Vec<Diagnostic>,
) {
    // A finding needs a table host in the text: most `RUN`s have none, and
    // this one pass spares them the package-source check.
    let lower = text.to_ascii_lowercase();
    if !TABLE.iter().any(|m| lower.contains(m.host.as_str())) {
        return;
    }
    if !sets_packages(text) && !sets_packages(&run.text) {
        return;
    }
    for mirror in TABLE.iter() {
        for range in host_occurrences(text, &mirror.host) {
            let file = match heredoc {
                Some(body) => Some(range.shift(body.start)),
                None => run.map.verbatim(range),
            };
            let span = file.unwrap_or(run.span);
            let what = match mirror.status.as_str() {
                "renamed" => "was renamed",
                "restricted" => "is restricted",
                _ => "is dead",
            };
            let mut d = rule.report_at(
                span,
                format!(
                    "Package mirror `{}` ({}) {what} ({}): {}",
                    mirror.host, mirror.ecosystem, mirror.date, mirror.note
                ),
            );
            d.help = Some(match &mirror.successor {
                Some(next) => format!("use `{next}` (source: {})", mirror.source),
                None => format!(
                    "remove the mirror and use the package manager's default, or pass a working mirror at build time (source: {})",
                    mirror.source
                ),
            });
            if mirror.status == "renamed"
                && let (Some(next), Some(file)) = (&mirror.successor, file)
            {
                d.fix = Some(Fix::new(
                    format!("Use `{next}`"),
                    Applicability::Safe,
                    vec![Edit {
                        span: file,
                        content: next.clone(),
                    }],
                ));
            }
            out.push(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_parses_and_names_no_upstream() {
        assert!(TABLE.len() >= 5);
        for m in TABLE.iter() {
            assert!(!m.source.is_empty() && !m.date.is_empty(), "{}", m.host);
            assert!(
                ["renamed", "dead", "restricted"].contains(&m.status.as_str()),
                "{}",
                m.host
            );
            assert_eq!(m.status == "renamed", m.successor.is_some(), "{}", m.host);
        }
    }

    #[test]
    fn whole_hosts_only() {
        let t = "npm config set registry https://registry.npm.taobao.org/ && x.npm.taobao.org";
        assert_eq!(host_occurrences(t, "npm.taobao.org").len(), 0);
        assert_eq!(host_occurrences(t, "registry.npm.taobao.org").len(), 1);
    }
}
