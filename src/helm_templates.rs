//! Which image maps of a chart's values its templates read a `digest`
//! from: `{{ .Values.image.digest }}`, `.digest` inside
//! `{{ with .Values.image }}`, a variable (`$img := .Values.image`), or a
//! helper (`_helpers.tpl`) that reads `.digest` of the map it is passed
//! (`include "x.image" .Values.image`, or a `dict` entry:
//! `include "common.images.image" (dict "imageRoot" .Values.image)`),
//! through helpers that call helpers. `refit pin` adds a `digest:` key only
//! to a map that one of these reads; elsewhere the key would change
//! nothing that Helm renders.
//!
//! This reads Go template actions token by token; it is not a template
//! engine. What it cannot follow (`index .Values "image"`, `tpl`, values
//! built with `merge`) is simply not a read, so the answer errs towards
//! "no pin".

use std::collections::{BTreeMap, BTreeSet};

/// The most helper-to-helper steps followed.
const MAX_ROUNDS: usize = 16;
/// The most actions read from one chart.
const MAX_ACTIONS: usize = 200_000;
/// The most helper calls kept from one chart.
const MAX_CALLS: usize = 20_000;

/// What `.` (or a variable) is at some point of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ctx {
    /// The root context of a template file (`.Values`, `.Chart`, …).
    Root,
    /// A map of the values, by its dotted path (`image`, `a.image`).
    Values(String),
    /// Inside a helper: its argument (`""`) or a field path of it
    /// (`imageRoot`).
    Arg(String),
    Unknown,
}

fn join(base: &str, more: &str) -> String {
    match (base.is_empty(), more.is_empty()) {
        (true, _) => more.to_string(),
        (_, true) => base.to_string(),
        _ => format!("{base}.{more}"),
    }
}

impl Ctx {
    /// `ctx` followed by the field path `fields` (`a.b`, or empty).
    fn field(&self, fields: &str) -> Ctx {
        match self {
            Ctx::Root => match fields.strip_prefix("Values") {
                Some("") => Ctx::Values(String::new()),
                Some(rest) if rest.starts_with('.') => Ctx::Values(rest[1..].to_string()),
                _ if fields.is_empty() => Ctx::Root,
                _ => Ctx::Unknown,
            },
            Ctx::Values(p) => Ctx::Values(join(p, fields)),
            Ctx::Arg(k) => Ctx::Arg(join(k, fields)),
            Ctx::Unknown => Ctx::Unknown,
        }
    }
}

/// The argument a helper is called with.
#[derive(Debug, Clone)]
enum CallArg {
    Term(Ctx),
    /// `(dict "key" value …)`.
    Dict(Vec<(String, Ctx)>),
}

#[derive(Debug, Clone)]
struct Call {
    /// The helper the call is in (`None`: a template file's body).
    caller: Option<String>,
    helper: String,
    arg: CallArg,
}

#[derive(Default)]
struct Reads {
    /// Values paths whose `.digest` is read.
    paths: BTreeSet<String>,
    /// Per helper: the field paths of its argument whose `.digest` it
    /// reads (`""`: the argument's own `.digest`).
    helpers: BTreeMap<String, BTreeSet<String>>,
    calls: Vec<Call>,
}

impl Reads {
    /// A read of `.digest` of `ctx`, inside `define` (or a file body).
    /// Whether it was new.
    fn digest_of(&mut self, ctx: &Ctx, define: Option<&str>) -> bool {
        match (ctx, define) {
            (Ctx::Values(p), _) if !p.is_empty() => self.paths.insert(p.clone()),
            (Ctx::Arg(k), Some(d)) => self
                .helpers
                .entry(d.to_string())
                .or_default()
                .insert(k.clone()),
            _ => false,
        }
    }
}

/// The `{{ … }}` actions of a template, trim markers and comments removed.
fn actions(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else { break };
        let inner = after[..close]
            .trim_start_matches('-')
            .trim_end_matches('-')
            .trim();
        if !inner.starts_with("/*") {
            out.push(inner);
        }
        rest = &after[close + 2..];
    }
    out
}

/// Tokens of an action: strings (quotes kept), `(`, `)`, `|`, `,`, `:=`,
/// `=` and words (`.Values.image`, `$img.digest`, `include`).
fn tokens(action: &str) -> Vec<&str> {
    let bytes = action.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'"' || c == b'`' {
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] != c {
                if c == b'"' && bytes[j] == b'\\' {
                    j += 1;
                }
                j += 1;
            }
            let end = (j + 1).min(bytes.len());
            out.push(action.get(i..end).unwrap_or(""));
            i = end;
        } else if matches!(c, b'(' | b')' | b'|' | b',') {
            out.push(action.get(i..i + 1).unwrap_or(""));
            i += 1;
        } else {
            let mut j = i;
            while j < bytes.len()
                && !bytes[j].is_ascii_whitespace()
                && !matches!(bytes[j], b'(' | b')' | b'|' | b',' | b'"' | b'`')
            {
                j += 1;
            }
            out.push(action.get(i..j).unwrap_or(""));
            i = j;
        }
    }
    out
}

fn is_field_path(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
}

/// What a term (`.`, `.a.b`, `$`, `$.Values.x`, `$v`, `$v.a`) names.
fn term(token: &str, dot: &Ctx, vars: &BTreeMap<String, Ctx>) -> Ctx {
    if token == "." {
        return dot.clone();
    }
    if let Some(fields) = token.strip_prefix('.') {
        return if is_field_path(fields) {
            dot.field(fields)
        } else {
            Ctx::Unknown
        };
    }
    if let Some(rest) = token.strip_prefix('$') {
        let (name, fields) = rest.split_once('.').unwrap_or((rest, ""));
        if !fields.is_empty() && !is_field_path(fields) {
            return Ctx::Unknown;
        }
        // `$` is the data the template runs on: the root context in a
        // file's body, the argument in a helper (kept under "").
        let base = vars.get(name).cloned().unwrap_or(if name.is_empty() {
            Ctx::Root
        } else {
            Ctx::Unknown
        });
        return base.field(fields);
    }
    Ctx::Unknown
}

fn unquote(token: &str) -> Option<&str> {
    token
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .or_else(|| token.strip_prefix('`').and_then(|t| t.strip_suffix('`')))
}

/// The argument after `include "name"`, starting at `tokens[i]`.
fn call_arg(tokens: &[&str], i: usize, dot: &Ctx, vars: &BTreeMap<String, Ctx>) -> CallArg {
    match tokens.get(i) {
        Some(&"(") if tokens.get(i + 1) == Some(&"dict") => {
            let mut pairs = Vec::new();
            let mut j = i + 2;
            while let (Some(key), Some(value)) = (tokens.get(j), tokens.get(j + 1)) {
                let Some(key) = unquote(key) else { break };
                if *value == "(" {
                    // A nested pipeline: its value is not followed.
                    let mut depth = 0usize;
                    while let Some(t) = tokens.get(j + 1) {
                        match *t {
                            "(" => depth += 1,
                            ")" => depth = depth.saturating_sub(1),
                            _ => {}
                        }
                        j += 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    pairs.push((key.to_string(), Ctx::Unknown));
                    j += 1;
                    continue;
                }
                pairs.push((key.to_string(), term(value, dot, vars)));
                j += 2;
            }
            CallArg::Dict(pairs)
        }
        Some(t) => CallArg::Term(term(t, dot, vars)),
        None => CallArg::Term(Ctx::Unknown),
    }
}

struct Frame {
    define: Option<String>,
    dot: Ctx,
}

/// Read one template file's actions into `reads`.
fn read_file(text: &str, reads: &mut Reads, budget: &mut usize) {
    let mut stack: Vec<Frame> = Vec::new();
    let mut vars: BTreeMap<String, Ctx> = BTreeMap::new();
    for action in actions(text) {
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        let t = tokens(action);
        let (define, dot) = stack
            .last()
            .map_or((None, Ctx::Root), |f| (f.define.clone(), f.dot.clone()));
        match t.first().copied() {
            Some("define") => {
                let name = t.get(1).and_then(|n| unquote(n)).map(str::to_string);
                stack.push(Frame {
                    define: name,
                    dot: Ctx::Arg(String::new()),
                });
                vars.clear();
                vars.insert(String::new(), Ctx::Arg(String::new()));
                continue;
            }
            Some("end") => {
                if stack.pop().is_some_and(|f| f.define.is_some())
                    && stack.last().is_none_or(|f| f.define.is_none())
                {
                    vars.clear();
                }
                continue;
            }
            Some("with") => {
                let inner = match (t.get(1), t.get(2)) {
                    (Some(one), None) => term(one, &dot, &vars),
                    _ => Ctx::Unknown,
                };
                stack.push(Frame {
                    define: define.clone(),
                    dot: inner,
                });
            }
            Some("range" | "block") => stack.push(Frame {
                define: define.clone(),
                dot: Ctx::Unknown,
            }),
            Some("if") => stack.push(Frame {
                define: define.clone(),
                dot: dot.clone(),
            }),
            Some("else") => {
                // `else` of a `with`: `.` is the outer one again.
                let outer = stack
                    .len()
                    .checked_sub(2)
                    .and_then(|i| stack.get(i))
                    .map_or(Ctx::Root, |f| f.dot.clone());
                if let Some(top) = stack.last_mut() {
                    top.dot = outer;
                }
            }
            _ => {}
        }
        // `$v := term` (and `=`).
        if let (Some(var), Some(op), Some(value), None) = (t.first(), t.get(1), t.get(2), t.get(3))
            && let Some(name) = var.strip_prefix('$')
            && (*op == ":=" || *op == "=")
            && !name.is_empty()
        {
            vars.insert(name.to_string(), term(value, &dot, &vars));
        }
        for (i, token) in t.iter().enumerate() {
            if matches!(*token, "include" | "template")
                && reads.calls.len() < MAX_CALLS
                && let Some(helper) = t.get(i + 1).and_then(|n| unquote(n))
            {
                reads.calls.push(Call {
                    caller: define.clone(),
                    helper: helper.to_string(),
                    arg: call_arg(&t, i + 2, &dot, &vars),
                });
            }
            if let Some(base) = token.strip_suffix(".digest") {
                let base = if base.is_empty() { "." } else { base };
                let ctx = term(base, &dot, &vars);
                reads.digest_of(&ctx, define.as_deref());
            }
        }
    }
}

/// The values paths (`image`, `controller.image`) of the maps whose
/// `digest` the templates read, directly or through helpers.
pub fn digest_paths<'a>(texts: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    let mut reader = DigestReader::default();
    for text in texts {
        reader.add(text);
    }
    reader.finish()
}

/// [`digest_paths`] one template file at a time (a chart's files need not
/// all be in memory).
pub struct DigestReader {
    reads: Reads,
    budget: usize,
}

impl Default for DigestReader {
    fn default() -> Self {
        DigestReader {
            reads: Reads::default(),
            budget: MAX_ACTIONS,
        }
    }
}

impl DigestReader {
    pub fn add(&mut self, text: &str) {
        read_file(text, &mut self.reads, &mut self.budget);
    }

    pub fn finish(self) -> BTreeSet<String> {
        resolve(self.reads)
    }
}

fn resolve(mut reads: Reads) -> BTreeSet<String> {
    let calls = std::mem::take(&mut reads.calls);
    for _ in 0..MAX_ROUNDS {
        let mut changed = false;
        for call in &calls {
            let Some(fields) = reads.helpers.get(&call.helper).cloned() else {
                continue;
            };
            for field in fields {
                let ctx = match &call.arg {
                    CallArg::Term(ctx) => ctx.field(&field),
                    CallArg::Dict(pairs) => {
                        let (key, rest) = field.split_once('.').unwrap_or((field.as_str(), ""));
                        match pairs.iter().find(|(k, _)| k == key) {
                            Some((_, ctx)) if !key.is_empty() => ctx.field(rest),
                            _ => Ctx::Unknown,
                        }
                    }
                };
                changed |= reads.digest_of(&ctx, call.caller.as_deref());
            }
        }
        if !changed {
            break;
        }
    }
    reads.paths
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(texts: &[&str]) -> Vec<String> {
        digest_paths(texts.iter().copied()).into_iter().collect()
    }

    #[test]
    fn direct_reads_with_blocks_and_variables() {
        assert_eq!(
            paths(&[
                "image: \"{{ .Values.image.repository }}{{ if .Values.image.digest }}@{{ .Values.image.digest }}{{ else }}:{{ .Values.image.tag }}{{ end }}\"",
                "{{- with .Values.sidecar.image }}\nimage: {{ .repository }}@{{ .digest }}\n{{- end }}",
                "{{- $img := .Values.controller.image -}}\nimage: {{ $img.repository }}@{{ $img.digest }}",
                "{{ range .Values.extra }}{{ .digest }}{{ end }}",
                "{{ $.Values.global.image.digest | default \"\" }}",
            ]),
            ["controller.image", "global.image", "image", "sidecar.image"]
        );
        // No digest read: nothing.
        assert!(
            paths(&["image: \"{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}\""])
                .is_empty()
        );
        // `.digest` in a `with` of something else, or in the `else` of one.
        assert!(paths(&["{{ with .Values.image }}{{ else }}{{ .digest }}{{ end }}"]).is_empty());
    }

    #[test]
    fn helpers_dicts_and_helpers_calling_helpers() {
        let helpers = r#"
{{/* Bitnami's shape */}}
{{- define "common.images.image" -}}
{{- $registryName := default .imageRoot.registry ((.global).imageRegistry) -}}
{{- $termination := .imageRoot.tag | toString -}}
{{- if .imageRoot.digest }}
    {{- $termination = .imageRoot.digest | toString -}}
{{- end -}}
{{- end -}}
{{- define "app.image" -}}
{{ include "common.images.image" (dict "imageRoot" .Values.image "global" .Values.global) }}
{{- end -}}
{{- define "plain.image" -}}
{{ .repository }}{{ with .digest }}@{{ . }}{{ end }}
{{- end -}}
{{- define "wrapper" -}}
{{ include "plain.image" . }}
{{- end -}}
{{- define "unused" -}}{{ .digest }}{{- end -}}
"#;
        let deployment = r#"
image: {{ include "app.image" . }}
sidecar: {{ include "common.images.image" (dict "imageRoot" .Values.sidecar.image "global" (.Values.global)) }}
metrics: {{ include "wrapper" .Values.metrics.image }}
other: {{ template "plain.image" $.Values.other }}
nothing: {{ include "common.images.image" (dict "image" .Values.nothing.image) }}
"#;
        assert_eq!(
            paths(&[helpers, deployment]),
            ["image", "metrics.image", "other", "sidecar.image"]
        );
    }

    #[test]
    fn values_read_inside_a_helper_given_the_root_context() {
        let helpers = r#"{{- define "x.image" -}}
{{ $.Values.image.repository }}@{{ .Values.image.digest }}{{ $.Values.job.image.digest }}
{{- end -}}"#;
        // Called with the root context: `.Values` there is the chart's.
        assert_eq!(
            paths(&[helpers, r#"image: {{ include "x.image" . }}"#]),
            ["image", "job.image"]
        );
        // Never called: nothing is known to be read.
        assert!(paths(&[helpers]).is_empty());
    }

    #[test]
    fn hostile_templates_end() {
        let deep = "{{ define \"a\" }}".repeat(10_000) + &"{{ end }}".repeat(10_000);
        assert!(paths(&[&deep, "{{ unclosed", "{{ \"open string }}"]).is_empty());
        // Helpers that call each other in a loop stop.
        let cycle = r#"{{ define "a" }}{{ include "b" . }}{{ end }}{{ define "b" }}{{ include "a" .x }}{{ .digest }}{{ end }}{{ include "a" .Values.img }}"#;
        let got = paths(&[cycle]);
        assert_eq!(got.first().map(String::as_str), Some("img"));
        assert!(got.len() <= MAX_ROUNDS + 1, "{got:?}");
    }
}
