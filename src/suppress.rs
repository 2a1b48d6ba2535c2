//! Inline suppression comments.
//!
//! - `# refit: ignore[REG001,TAG002]` at the end of a line suppresses those
//!   codes on that line; on a line of its own, on the next line (for a
//!   Dockerfile, the instruction that follows).
//! - `# refit: ignore-file[CODE]` anywhere suppresses a code in the file.
//! - `# refit: ignore-directives[CODE]` right after a Dockerfile's parser
//!   directives suppresses a code on the lines above it (`# syntax=`),
//!   where a comment line before the directive would end the directives.
//! - hadolint's `# hadolint ignore=DL3006,DL3007` is read for the rules that
//!   map to refit's (DL3006 → TAG001, DL3007 → TAG002, DL3026 → REG005).
//!
//! - In JSON with comments (`devcontainer.json`), the same forms are
//!   written `// refit: ignore[CODE]` or `/* refit: ignore[CODE] */` (and
//!   `ignore-file`): at the end of a line for that line, on a line of
//!   their own for the next one. Comments are found by the JSONC parser,
//!   so `//` inside a string (`"https://…"`) is none.
//!
//! A code may be a prefix (`REG`) or `ALL`.

use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix, LineIndex};
use crate::site::Span;

/// hadolint codes that map to refit codes.
const HADOLINT: &[(&str, &str)] = &[
    ("DL3006", "TAG001"),
    ("DL3007", "TAG002"),
    ("DL3026", "REG005"),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// The codes as written (hadolint codes already mapped).
    pub codes: Vec<String>,
    /// 0-based line it applies to; `None` for the whole file.
    pub line: Option<usize>,
    /// `ignore-directives`: it applies to the lines before this one.
    pub above: Option<usize>,
    /// The comment (from `#` to the end of the line, line end excluded).
    pub comment: Span,
    /// The comment is the only thing on its line.
    pub own_line: bool,
    /// Written for hadolint: not reported as unused.
    pub foreign: bool,
}

fn codes_in(list: &str) -> Vec<String> {
    list.split([',', ' '])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Find the suppression comments of a text. Only `#` comments count: the
/// comment must start the line or follow whitespace; with `own_line_only`
/// (Dockerfiles, where `#` after an instruction is not a comment) it must
/// be the only thing on its line.
pub fn parse(text: &str, own_line_only: bool) -> Vec<Suppression> {
    let mut out = Vec::new();
    let index = LineIndex::new(text);
    // A byte order mark is not part of the first line's text.
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    for line in 0..index.line_count() {
        let start = index.line_start(line).max(bom);
        let end = text[start..index.line_end(line).max(start)]
            .trim_end_matches(['\n', '\r'])
            .len()
            + start;
        let content = &text[start..end];
        let mut search = 0;
        while let Some(rel) = content[search..].find('#') {
            let at = search + rel;
            search = at + 1;
            if at > 0 && !content[..at].ends_with([' ', '\t']) {
                continue;
            }
            let comment = &content[at..];
            let body = comment[1..].trim_start();
            let own_line = content[..at].trim().is_empty();
            if own_line_only && !own_line {
                break;
            }
            let target = if own_line { line + 1 } else { line };
            let span = Span::new(start + at, end);
            if let Some(rest) = body.strip_prefix("refit:") {
                let rest = rest.trim_start();
                let (file_wide, above, rest) = if let Some(r) = rest.strip_prefix("ignore-file") {
                    (true, None, r)
                } else if let Some(r) = rest.strip_prefix("ignore-directives") {
                    (true, Some(line), r)
                } else if let Some(r) = rest.strip_prefix("ignore") {
                    (false, None, r)
                } else {
                    break;
                };
                let Some(list) = rest
                    .trim_start()
                    .strip_prefix('[')
                    .and_then(|r| r.split(']').next())
                else {
                    break;
                };
                out.push(Suppression {
                    codes: codes_in(list),
                    line: (!file_wide).then_some(target),
                    above,
                    comment: span,
                    own_line,
                    foreign: false,
                });
            } else if let Some(rest) = body.strip_prefix("hadolint") {
                let Some(list) = rest.trim_start().strip_prefix("ignore=") else {
                    continue;
                };
                let list = list.split_whitespace().next().unwrap_or("");
                let codes: Vec<String> = codes_in(list)
                    .iter()
                    .filter_map(|c| {
                        HADOLINT
                            .iter()
                            .find(|(h, _)| h == c)
                            .map(|(_, r)| r.to_string())
                    })
                    .collect();
                if !codes.is_empty() {
                    out.push(Suppression {
                        codes,
                        line: Some(target),
                        above: None,
                        comment: span,
                        own_line,
                        foreign: true,
                    });
                }
            }
        }
    }
    out
}

/// The suppression comments of a JSON-with-comments text.
pub fn parse_jsonc(text: &str) -> Vec<Suppression> {
    let mut out = Vec::new();
    if !text.contains("refit:") {
        return out;
    }
    let index = LineIndex::new(text);
    for c in crate::sources::devcontainer::comments(text) {
        let Some(rest) = c.body.trim_start().strip_prefix("refit:") else {
            continue;
        };
        let rest = rest.trim_start();
        let (file_wide, rest) = if let Some(r) = rest.strip_prefix("ignore-file") {
            (true, r)
        } else if let Some(r) = rest.strip_prefix("ignore") {
            (false, r)
        } else {
            continue;
        };
        let Some(list) = rest
            .trim_start()
            .strip_prefix('[')
            .and_then(|r| r.split(']').next())
        else {
            continue;
        };
        let first = index.line_of(c.span.start);
        let last = index.line_of(c.span.end.saturating_sub(1).max(c.span.start));
        let before = &text[index.line_start(first).min(c.span.start)..c.span.start];
        let after_end = index.line_end(last).max(c.span.end);
        let after = &text[c.span.end..after_end];
        let own_line = before.trim().is_empty() && after.trim().is_empty();
        let target = if own_line { last + 1 } else { first };
        out.push(Suppression {
            codes: codes_in(list),
            line: (!file_wide).then_some(target),
            above: None,
            comment: c.span,
            own_line,
            foreign: false,
        });
    }
    out
}

fn covers(selector: &str, code: &str) -> bool {
    selector == "ALL" || code.starts_with(selector)
}

/// Drop suppressed diagnostics. Returns SUP001 findings for suppressions
/// (of enabled rules) that suppressed nothing.
pub fn apply(
    text: &str,
    own_line_only: bool,
    diagnostics: &mut Vec<Diagnostic>,
    enabled: impl Fn(&str) -> bool,
    sup001: &crate::rules::Rule,
) -> Vec<Diagnostic> {
    if !text.contains("refit:") && !text.contains("hadolint") {
        return Vec::new();
    }
    let suppressions = parse(text, own_line_only);
    apply_parsed(text, suppressions, diagnostics, enabled, sup001)
}

/// [`apply`] for JSON with comments (`devcontainer.json`).
pub fn apply_jsonc(
    text: &str,
    diagnostics: &mut Vec<Diagnostic>,
    enabled: impl Fn(&str) -> bool,
    sup001: &crate::rules::Rule,
) -> Vec<Diagnostic> {
    apply_parsed(text, parse_jsonc(text), diagnostics, enabled, sup001)
}

/// [`apply`] with the suppressions found.
fn apply_parsed(
    text: &str,
    suppressions: Vec<Suppression>,
    diagnostics: &mut Vec<Diagnostic>,
    enabled: impl Fn(&str) -> bool,
    sup001: &crate::rules::Rule,
) -> Vec<Diagnostic> {
    if suppressions.is_empty() {
        return Vec::new();
    }
    let index = LineIndex::new(text);
    let mut used = vec![vec![false; 0]; suppressions.len()];
    for (i, s) in suppressions.iter().enumerate() {
        used[i] = vec![false; s.codes.len()];
    }
    diagnostics.retain(|d| {
        if d.is_file_error() {
            return true;
        }
        let line = index.line_of(d.span.start);
        let mut suppressed = false;
        for (i, s) in suppressions.iter().enumerate() {
            if s.line.is_some_and(|l| l != line) || s.above.is_some_and(|a| line >= a) {
                continue;
            }
            for (j, c) in s.codes.iter().enumerate() {
                if covers(c, d.code) {
                    used[i][j] = true;
                    suppressed = true;
                }
            }
        }
        !suppressed
    });
    let mut out = Vec::new();
    for (i, s) in suppressions.iter().enumerate() {
        if s.foreign {
            continue;
        }
        let unused: Vec<&String> = s
            .codes
            .iter()
            .zip(&used[i])
            .filter(|(c, u)| !**u && (c.as_str() == "ALL" || enabled(c)))
            .map(|(c, _)| c)
            .collect();
        if unused.is_empty() {
            continue;
        }
        let list = unused
            .iter()
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut d = sup001.report_at(
            s.comment,
            format!("Suppression of {list} suppresses nothing"),
        );
        if unused.len() == s.codes.len() {
            d.fix = Some(Fix::new(
                "Remove the suppression comment".to_string(),
                Applicability::Safe,
                vec![Edit {
                    span: removal(text, &index, s),
                    content: String::new(),
                }],
            ));
        }
        out.push(d);
    }
    out
}

/// What to delete: the whole line for a comment on its own line, else the
/// comment and the whitespace before it.
fn removal(text: &str, index: &LineIndex, s: &Suppression) -> Span {
    let line = index.line_of(s.comment.start);
    if s.own_line {
        // A block comment may run over lines: all of them go.
        let last = index.line_of(s.comment.end.saturating_sub(1).max(s.comment.start));
        return Span::new(index.line_start(line), index.line_end(last));
    }
    let before = text[..s.comment.start].trim_end_matches([' ', '\t']).len();
    Span::new(before, s.comment.end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonc_forms() {
        let text = "{\n  // refit: ignore[REG001]\n  \"image\": \"node:20\", // refit: ignore[tag]\n  /* refit: ignore-file[TAG002] */\n  \"x\": \"https://a // refit: ignore[ALL]\",\n  /* refit: ignore[REG]\n     over lines */\n  \"y\": 1 /* refit: ignore[REG004] */, \"z\": 2\n}\n";
        let s = parse_jsonc(text);
        assert_eq!(s.len(), 5, "{s:?}");
        assert_eq!(
            (s[0].codes.clone(), s[0].line, s[0].own_line),
            (vec!["REG001".to_string()], Some(2), true)
        );
        assert_eq!((s[1].line, s[1].own_line), (Some(2), false));
        assert_eq!(s[1].codes, ["TAG"]);
        assert_eq!(s[2].line, None);
        // A block over lines applies to the line after its end.
        assert_eq!((s[3].line, s[3].own_line), (Some(7), true));
        // Code after a block comment: the comment is the line's.
        assert_eq!((s[4].line, s[4].own_line), (Some(7), false));
        let index = LineIndex::new(text);
        let r = removal(text, &index, &s[3]);
        assert_eq!(
            &text[r.start..r.end],
            "  /* refit: ignore[REG]\n     over lines */\n"
        );
        assert_eq!(parse_jsonc("{\"a\": \"// refit: ignore[ALL]\"}"), []);
    }

    #[test]
    fn forms() {
        let text = "# refit: ignore[REG001, tag002]\nFROM node\nimage: x # refit: ignore[TAG]\n# refit: ignore-file[REF002]\n# hadolint ignore=DL3006,DL3008\nFROM y\nurl: http://a#b # not: a suppression\n";
        let s = parse(text, false);
        assert_eq!(parse("FROM a # refit: ignore[TAG]\n", true), []);
        assert_eq!(s.len(), 4);
        assert_eq!(s[0].codes, ["REG001", "TAG002"]);
        assert_eq!(s[0].line, Some(1));
        assert_eq!(s[1].line, Some(2));
        assert!(!s[1].own_line);
        assert_eq!(s[2].line, None);
        assert_eq!(s[3].codes, ["TAG001"]);
        let d = parse(
            "# syntax=a\n# refit: ignore-directives[REG001]\nFROM b\n",
            true,
        );
        assert_eq!((d[0].line, d[0].above), (None, Some(1)));
        assert!(s[3].foreign);
    }
}
