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

use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The most helper-to-helper steps followed.
const MAX_ROUNDS: usize = 16;
/// The most actions read from one chart.
const MAX_ACTIONS: usize = 200_000;
/// The most helper calls kept from one chart.
const MAX_CALLS: usize = 20_000;
/// The longest values or argument path followed (real ones are a few
/// dozen bytes). Keeping paths short keeps copying `.` and variables,
/// done for every action, from growing with the file.
const MAX_PATH: usize = 256;
/// The most helper reads carried to their calls, over all rounds: a
/// helper reading n fields called n times with different maps makes n²
/// values paths.
const MAX_STEPS: usize = 200_000;

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
        let ctx = match self {
            Ctx::Root => match fields.strip_prefix("Values") {
                Some("") => Ctx::Values(String::new()),
                Some(rest) if rest.starts_with('.') => Ctx::Values(rest[1..].to_string()),
                _ if fields.is_empty() => Ctx::Root,
                _ => Ctx::Unknown,
            },
            Ctx::Values(p) => Ctx::Values(join(p, fields)),
            Ctx::Arg(k) => Ctx::Arg(join(k, fields)),
            Ctx::Unknown => Ctx::Unknown,
        };
        match &ctx {
            Ctx::Values(p) | Ctx::Arg(p) if p.len() > MAX_PATH => Ctx::Unknown,
            _ => ctx,
        }
    }
}

/// The argument a helper is called with.
#[derive(Debug, Clone)]
enum CallArg {
    Term(Ctx),
    /// `(dict "key" value …)`, by key (a later entry of a key replaces an
    /// earlier one, as in sprig's `dict`).
    Dict(BTreeMap<String, Ctx>),
}

/// A helper, by its index in [`Reads::helpers`]: a name is hashed once
/// where it is written, not copied into every action and call inside it.
type Helper = usize;

#[derive(Debug, Clone)]
struct Call {
    /// The helper the call is in (`None`: a template file's body).
    caller: Option<Helper>,
    helper: Helper,
    arg: CallArg,
}

#[derive(Default)]
struct Reads {
    /// Values paths whose `.digest` is read.
    paths: BTreeSet<String>,
    /// Each helper name seen (defined or called), to its index.
    names: HashMap<String, Helper>,
    /// Per helper: the field paths of its argument whose `.digest` it
    /// reads (`""`: the argument's own `.digest`).
    helpers: Vec<BTreeSet<String>>,
    calls: Vec<Call>,
}

impl Reads {
    fn helper(&mut self, name: &str) -> Helper {
        if let Some(&h) = self.names.get(name) {
            return h;
        }
        let h = self.helpers.len();
        self.helpers.push(BTreeSet::new());
        self.names.insert(name.to_string(), h);
        h
    }

    /// A read of `.digest` of `ctx`, inside `define` (or a file body).
    /// Whether it was new.
    fn digest_of(&mut self, ctx: &Ctx, define: Option<Helper>) -> bool {
        match (ctx, define) {
            (Ctx::Values(p), _) if !p.is_empty() => self.paths.insert(p.clone()),
            (Ctx::Arg(k), Some(d)) => self
                .helpers
                .get_mut(d)
                .is_some_and(|fields| fields.insert(k.clone())),
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

/// For each `(` of an action's tokens, the index of the `)` that closes
/// it (`tokens.len()` when none does). Found once per action: scanning
/// forward from every call's `(` would read a long action once per call.
fn closing(tokens: &[&str]) -> Vec<usize> {
    let mut close = vec![tokens.len(); tokens.len()];
    let mut open = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        match *t {
            "(" => open.push(i),
            ")" => {
                if let Some(o) = open.pop()
                    && let Some(c) = close.get_mut(o)
                {
                    *c = i;
                }
            }
            _ => {}
        }
    }
    close
}

/// The argument after `include "name"`, starting at `tokens[i]`;
/// `close` is [`closing`] of `tokens`.
fn call_arg(
    tokens: &[&str],
    close: &[usize],
    i: usize,
    dot: &Ctx,
    vars: &BTreeMap<String, Ctx>,
) -> CallArg {
    match tokens.get(i) {
        Some(&"(") if tokens.get(i + 1) == Some(&"dict") => {
            let mut pairs = BTreeMap::new();
            let mut j = i + 2;
            while let (Some(key), Some(value)) = (tokens.get(j), tokens.get(j + 1)) {
                let Some(key) = unquote(key) else { break };
                if *value == "(" {
                    // A nested pipeline: its value is not followed.
                    pairs.insert(key.to_string(), Ctx::Unknown);
                    j = close.get(j + 1).map_or(tokens.len(), |c| c + 1);
                    continue;
                }
                pairs.insert(key.to_string(), term(value, dot, vars));
                j += 2;
            }
            CallArg::Dict(pairs)
        }
        Some(t) => CallArg::Term(term(t, dot, vars)),
        None => CallArg::Term(Ctx::Unknown),
    }
}

struct Frame {
    define: Option<Helper>,
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
            .map_or((None, Ctx::Root), |f| (f.define, f.dot.clone()));
        match t.first().copied() {
            Some("define") => {
                let name = t.get(1).and_then(|n| unquote(n)).map(|n| reads.helper(n));
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
                stack.push(Frame { define, dot: inner });
            }
            Some("range" | "block") => stack.push(Frame {
                define,
                dot: Ctx::Unknown,
            }),
            Some("if") => stack.push(Frame {
                define,
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
        let mut close = None;
        for (i, token) in t.iter().enumerate() {
            if matches!(*token, "include" | "template")
                && reads.calls.len() < MAX_CALLS
                && let Some(helper) = t.get(i + 1).and_then(|n| unquote(n))
            {
                let close = close.get_or_insert_with(|| closing(&t));
                let call = Call {
                    caller: define,
                    helper: reads.helper(helper),
                    arg: call_arg(&t, close, i + 2, &dot, &vars),
                };
                reads.calls.push(call);
            }
            if let Some(base) = token.strip_suffix(".digest") {
                let base = if base.is_empty() { "." } else { base };
                let ctx = term(base, &dot, &vars);
                reads.digest_of(&ctx, define);
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
    let mut steps = 0;
    for _ in 0..MAX_ROUNDS {
        let mut changed = false;
        for call in &calls {
            let Some(fields) = reads.helpers.get(call.helper) else {
                continue;
            };
            if steps + fields.len() > MAX_STEPS {
                // What was found so far stands; the rest is not a read.
                return reads.paths;
            }
            steps += fields.len();
            let found: Vec<Ctx> = fields
                .iter()
                .map(|field| match &call.arg {
                    CallArg::Term(ctx) => ctx.field(field),
                    CallArg::Dict(pairs) => {
                        let (key, rest) = field.split_once('.').unwrap_or((field.as_str(), ""));
                        match pairs.get(key) {
                            Some(ctx) if !key.is_empty() => ctx.field(rest),
                            _ => Ctx::Unknown,
                        }
                    }
                })
                .collect();
            for ctx in &found {
                changed |= reads.digest_of(ctx, call.caller);
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
    fn dict_entries_around_nested_and_unclosed_pipelines() {
        let helper = r#"{{ define "h" }}{{ .imageRoot.digest }}{{ .other.digest }}{{ end }}"#;
        let calls = r#"
{{ include "h" (dict "imageRoot" .Values.a "x" (include "h" (dict "imageRoot" .Values.b)) "other" .Values.c) }}
{{ include "h" (dict "imageRoot" .Values.d "imageRoot" .Values.e) }}
{{ include "h" (dict "other" .Values.f "x" (dict "y" (include "h" (dict "imageRoot" .Values.g }}
"#;
        // `e` replaces `d`, as Helm's `dict` does; the unclosed pipeline
        // ends its call's entries, and a call inside it still counts.
        assert_eq!(paths(&[helper, calls]), ["a", "b", "c", "e", "f", "g"]);
    }

    #[test]
    fn long_paths_and_many_reads_are_bounded() {
        let at = |n: usize| format!("{{{{ .Values.{}.digest }}}}", "a".repeat(n));
        assert_eq!(paths(&[&at(MAX_PATH)]).len(), 1);
        assert!(paths(&[&at(MAX_PATH + 1)]).is_empty());
        // n fields read by a helper called with n maps: n² paths, bounded.
        let n = 1000;
        let reads: String = (0..n).map(|i| format!("{{{{ .f{i}.digest }}}}")).collect();
        let calls: String = (0..n)
            .map(|i| format!("{{{{ include \"h\" .Values.a{i} }}}}"))
            .collect();
        let helper = format!("{{{{ define \"h\" }}}}{reads}{{{{ end }}}}");
        let got = digest_paths([helper.as_str(), calls.as_str()]);
        assert!(got.contains("a0.f0"), "{:?}", got.first());
        assert!(got.len() <= MAX_STEPS, "{}", got.len());
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
