//! Docker Bake files: `docker-bake.hcl`, `docker-bake.json` and their
//! `docker-bake.*.hcl` / `.json` variants (`docker-bake.override.hcl`).
//! Two kinds of site, in the `target` blocks:
//!
//! - `contexts` values written `docker-image://REF`: BuildKit pulls `REF`
//!   in place of the named context (`FROM alpine` builds on the image a
//!   context `alpine = "docker-image://alpine:3.20"` names), with the same
//!   reading of the name as `FROM` (a short name is Docker Hub's). Other
//!   context values (a folder, a Git or HTTP URL, `target:base`,
//!   `oci-layout://`) are not images and are skipped.
//! - `tags`: the names the build gives its output, never a pull
//!   (`Extra::build_output`): registry and tag rules leave them alone,
//!   REF001 still says when one is not a valid reference.
//!
//! Values are read as bake evaluates them: HCL string templates, with
//! `${NAME}` (or a bare `NAME`) taken from the `variable "NAME"` block's
//! `default`. Bake lets the environment override a variable's default,
//! which refit does not see; like Compose's `${NAME:-default}`, the default
//! is read as the value. A variable without a default (or with `default
//! = null`), a name no `variable` block declares (a `matrix` value, a
//! variable of another bake file) and any other expression (a function
//! call, a conditional) leave the value unresolved: REF002 when selected,
//! never a fix. A variable default that several values use is one place
//! other values share (`Extra::shared`): a fix edits the use, never the
//! default.
//!
//! `args`, `context`, `dockerfile` and `inherits` are read by [`facts`]
//! for the workspace: the build arguments a target gives its Dockerfile
//! (values for ARGs that feed `FROM`), the images it builds (`tags`) and
//! the named contexts it passes. `platforms` names no image and is not
//! read.
//!
//! The HCL is parsed by `hcl-edit` (the `toml_edit` of HCL): it keeps the
//! byte range of every string, template literal and interpolation, so a
//! fix edits exactly the bytes of a reference, and it bounds nesting, so
//! no input overflows the stack. The JSON form is parsed by `jsonc-parser`
//! (as `devcontainer.json`), whose string ranges serve the same purpose;
//! its strings are HCL templates too (`"${TAG}"`), read by [`template`].

use super::common::{Builder, MAX_EXPANDED, MAX_NESTING, OVER_LIMIT, spend};
use crate::site::{Extra, ImageSite, SiteKind, Span, SyntaxError};
use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, ObjectKey};
use hcl_edit::template::Element;
use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};

/// The scheme of a context that names an image.
const DOCKER_IMAGE: &str = "docker-image://";

/// How long an expression refit does not evaluate may be in a message.
const SHOWN: usize = 60;

/// One run of a string value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Part {
    /// Literal text, and its file offset when the bytes there are the text
    /// (no escape in between).
    Lit { text: String, at: Option<usize> },
    /// `${NAME}` or a bare `NAME`: a bake variable.
    Var(String),
    /// Any other expression (`${notequal("", TAG)}`, `target.a.tags`): not
    /// evaluated; its source text.
    Expr(String),
}

/// A string value and where it is written (inside its quotes, or the
/// expression).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Str {
    pub(super) parts: Vec<Part>,
    pub(super) span: Span,
}

/// A `target` block as far as refit reads it.
#[derive(Debug, Clone, Default)]
struct Target {
    name: String,
    context: Option<Str>,
    dockerfile: Option<Str>,
    /// `None`: `null`, the Dockerfile's default is used.
    args: Vec<(String, Option<Str>)>,
    /// Whether `args` is something other than an object (a variable, a
    /// function call): the arguments it sets are unknown.
    args_unknown: bool,
    contexts: Vec<(String, Str)>,
    tags: Vec<Str>,
    inherits: Vec<String>,
    inline: bool,
}

/// What a bake file declares.
#[derive(Debug, Clone, Default)]
struct Bake {
    /// `None`: declared without a default, or `default = null`.
    variables: BTreeMap<String, Option<Str>>,
    targets: Vec<Target>,
}

pub(super) fn shorten(s: &str) -> String {
    let s = s.trim();
    if s.chars().count() > SHOWN {
        let mut out: String = s.chars().take(SHOWN).collect();
        out.push('…');
        out
    } else {
        s.to_string()
    }
}

pub(super) fn to_span(r: Option<std::ops::Range<usize>>) -> Span {
    r.map_or(Span::new(0, 0), |r| Span::new(r.start, r.end))
}

/// The bytes between a quoted string's quotes.
fn inside_quotes(text: &str, span: Span) -> Span {
    let quoted = text.get(span.start..span.start + 1) == Some("\"")
        && span.end > span.start + 1
        && text.get(span.end - 1..span.end) == Some("\"");
    if quoted {
        Span::new(span.start + 1, span.end - 1)
    } else {
        span
    }
}

fn source(text: &str, span: Span) -> String {
    text.get(span.start..span.end)
        .unwrap_or_default()
        .to_string()
}

/// An HCL expression as a string value; `None` for `null`.
pub(super) fn hcl_str(text: &str, expr: &Expression) -> Option<Str> {
    let span = to_span(expr.span());
    let parts = match expr {
        Expression::Null(_) => return None,
        Expression::Parenthesis(p) => return hcl_str(text, p.inner()),
        Expression::String(s) => {
            let inner = inside_quotes(text, span);
            let verbatim = text.get(inner.start..inner.end) == Some(s.value().as_str());
            return Some(Str {
                parts: vec![Part::Lit {
                    text: s.value().to_string(),
                    at: verbatim.then_some(inner.start),
                }],
                span: inner,
            });
        }
        Expression::StringTemplate(t) => {
            let inner = inside_quotes(text, span);
            let mut parts = Vec::new();
            for element in t.iter() {
                match element {
                    Element::Literal(l) => {
                        let r = to_span(l.span());
                        let verbatim = text.get(r.start..r.end) == Some(l.value().as_str());
                        parts.push(Part::Lit {
                            text: l.value().to_string(),
                            at: verbatim.then_some(r.start),
                        });
                    }
                    Element::Interpolation(i) => {
                        let written = source(text, to_span(i.span()));
                        // `${~ X ~}` strips the whitespace around it.
                        let strips = written.starts_with("${~") || written.ends_with("~}");
                        match &i.expr {
                            Expression::Variable(v) if !strips => {
                                parts.push(Part::Var(v.value().as_str().to_string()));
                            }
                            _ => parts.push(Part::Expr(written)),
                        }
                    }
                    Element::Directive(d) => {
                        parts.push(Part::Expr(source(text, to_span(d.span()))));
                    }
                }
            }
            return Some(Str { parts, span: inner });
        }
        Expression::Variable(v) => vec![Part::Var(v.value().as_str().to_string())],
        Expression::Number(_) | Expression::Bool(_) => vec![Part::Lit {
            text: source(text, span).trim().to_string(),
            at: None,
        }],
        _ => vec![Part::Expr(source(text, span))],
    };
    Some(Str { parts, span })
}

/// The literal strings of an array (`inherits = ["_common"]`).
fn hcl_names(text: &str, expr: &Expression) -> Vec<String> {
    let Expression::Array(a) = expr else {
        return Vec::new();
    };
    a.iter()
        .filter_map(|e| hcl_str(text, e))
        .filter_map(|s| match s.parts.as_slice() {
            [Part::Lit { text, .. }] => Some(text.clone()),
            _ => None,
        })
        .collect()
}

fn hcl_key(text: &str, key: &ObjectKey) -> Option<String> {
    match key {
        ObjectKey::Ident(i) => Some(i.value().as_str().to_string()),
        ObjectKey::Expression(e) => match hcl_str(text, e)?.parts.as_slice() {
            [Part::Lit { text, .. }] => Some(text.clone()),
            _ => None,
        },
    }
}

fn hcl_map(text: &str, expr: &Expression) -> Option<Vec<(String, Option<Str>)>> {
    let Expression::Object(o) = expr else {
        return None;
    };
    Some(
        o.iter()
            .filter_map(|(k, v)| Some((hcl_key(text, k)?, hcl_str(text, v.expr()))))
            .collect(),
    )
}

fn label(block: &hcl_edit::structure::Block) -> Option<String> {
    block.labels.first().map(|l| l.as_str().to_string())
}

fn parse_hcl(text: &str) -> Result<Bake, SyntaxError> {
    let body = hcl_edit::parser::parse_body(text).map_err(|e| {
        let at = crate::diagnostic::floor_char_boundary(text, e.location().offset());
        SyntaxError {
            message: format!("invalid HCL: {}", e.message()),
            span: Span::new(at, at),
        }
    })?;
    let mut bake = Bake::default();
    for block in body.blocks() {
        let Some(name) = label(block) else {
            continue;
        };
        match block.ident.value().as_str() {
            "variable" => {
                let default = block
                    .body
                    .get_attribute("default")
                    .and_then(|a| hcl_str(text, &a.value));
                bake.variables.insert(name, default);
            }
            "target" => {
                let mut t = Target {
                    name,
                    ..Target::default()
                };
                for attr in block.body.attributes() {
                    let value = &attr.value;
                    match attr.key.value().as_str() {
                        "context" => t.context = hcl_str(text, value),
                        "dockerfile" => t.dockerfile = hcl_str(text, value),
                        "dockerfile-inline" => t.inline = true,
                        "inherits" => t.inherits = hcl_names(text, value),
                        "args" => match hcl_map(text, value) {
                            Some(args) => t.args = args,
                            None => t.args_unknown = !matches!(value, Expression::Null(_)),
                        },
                        "contexts" => {
                            t.contexts = hcl_map(text, value)
                                .unwrap_or_default()
                                .into_iter()
                                .filter_map(|(k, v)| Some((k, v?)))
                                .collect();
                        }
                        "tags" => {
                            if let Expression::Array(a) = value {
                                t.tags = a.iter().filter_map(|e| hcl_str(text, e)).collect();
                            }
                        }
                        _ => {}
                    }
                }
                bake.targets.push(t);
            }
            _ => {}
        }
    }
    Ok(bake)
}

/// An HCL template in a JSON string (`"app:${TAG}"`): `${NAME}` is a
/// variable, `$${` and `%%{` are escapes, other `${…}` and `%{…}` are
/// expressions. `base`: the file offset of the value's first byte when
/// the bytes in the file are the value.
fn template(value: &str, base: Option<usize>) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut lit_at: Option<usize> = base;
    let mut i = 0;
    let flush = |parts: &mut Vec<Part>, lit: &mut String, at: Option<usize>| {
        if !lit.is_empty() {
            parts.push(Part::Lit {
                text: std::mem::take(lit),
                at,
            });
        }
    };
    while i < value.len() {
        let rest = &value[i..];
        if rest.starts_with("$${") || rest.starts_with("%%{") {
            // The escape's text is not its value: a run of its own, not
            // mapped to the file.
            flush(&mut parts, &mut lit, lit_at);
            parts.push(Part::Lit {
                text: rest[1..3].to_string(),
                at: None,
            });
            i += 3;
            lit_at = base.map(|b| b + i);
            continue;
        }
        if rest.starts_with("${") || rest.starts_with("%{") {
            flush(&mut parts, &mut lit, lit_at);
            let end = rest.find('}').map_or(rest.len(), |e| e + 1);
            let inner = rest.get(2..end.saturating_sub(1)).unwrap_or_default();
            let name = inner.trim();
            let simple = rest.starts_with("${")
                && !name.is_empty()
                && name == inner
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            parts.push(if simple {
                Part::Var(name.to_string())
            } else {
                Part::Expr(rest[..end].to_string())
            });
            i += end;
            lit_at = base.map(|b| b + i);
            continue;
        }
        let c = rest.chars().next().unwrap_or(' ');
        lit.push(c);
        i += c.len_utf8();
    }
    flush(&mut parts, &mut lit, lit_at);
    parts
}

mod json {
    use super::{Bake, Part, Span, Str, SyntaxError, Target, template};
    use jsonc_parser::ast::{Object, ObjectPropName, Value};

    fn name_of<'a>(name: &'a ObjectPropName<'a>) -> &'a str {
        match name {
            ObjectPropName::String(s) => &s.value,
            ObjectPropName::Word(w) => w.value,
        }
    }

    fn get<'o, 'a>(object: &'o Object<'a>, key: &str) -> Option<&'o Value<'a>> {
        object
            .properties
            .iter()
            .rev()
            .find(|p| name_of(&p.name) == key)
            .map(|p| &p.value)
    }

    fn str_of(text: &str, value: &Value<'_>) -> Option<Str> {
        match value {
            Value::StringLit(s) => {
                let span = Span::new(s.range.start + 1, s.range.end.saturating_sub(1));
                let verbatim = text.get(span.start..span.end) == Some(&*s.value);
                Some(Str {
                    parts: template(&s.value, verbatim.then_some(span.start)),
                    span,
                })
            }
            Value::NumberLit(n) => Some(Str {
                parts: vec![Part::Lit {
                    text: n.value.to_string(),
                    at: None,
                }],
                span: Span::new(n.range.start, n.range.end),
            }),
            Value::BooleanLit(b) => Some(Str {
                parts: vec![Part::Lit {
                    text: b.value.to_string(),
                    at: None,
                }],
                span: Span::new(b.range.start, b.range.end),
            }),
            _ => None,
        }
    }

    fn map(text: &str, value: Option<&Value<'_>>) -> Option<Vec<(String, Option<Str>)>> {
        let Some(Value::Object(o)) = value else {
            return None;
        };
        Some(
            o.properties
                .iter()
                .map(|p| (name_of(&p.name).to_string(), str_of(text, &p.value)))
                .collect(),
        )
    }

    fn list(text: &str, value: Option<&Value<'_>>) -> Vec<Str> {
        match value {
            Some(Value::Array(a)) => a.elements.iter().filter_map(|v| str_of(text, v)).collect(),
            _ => Vec::new(),
        }
    }

    pub(super) fn parse(text: &str) -> Result<Bake, SyntaxError> {
        let options = jsonc_parser::ParseOptions {
            allow_comments: false,
            allow_loose_object_property_names: false,
            allow_trailing_commas: false,
            allow_missing_commas: false,
            allow_single_quoted_strings: false,
            allow_hexadecimal_numbers: false,
            allow_unary_plus_numbers: false,
            allow_bare_decimal_point_numbers: false,
            allow_non_finite_numbers: false,
            allow_extended_string_escapes: false,
        };
        let parsed =
            jsonc_parser::parse_to_ast(text, &jsonc_parser::CollectOptions::default(), &options)
                .map_err(|e| {
                    let r = e.range();
                    let start = crate::diagnostic::floor_char_boundary(text, r.start);
                    let end = crate::diagnostic::floor_char_boundary(text, r.end).max(start);
                    SyntaxError {
                        message: format!("invalid JSON: {e}"),
                        span: Span::new(start, end),
                    }
                })?;
        let root = match parsed.value {
            None => return Ok(Bake::default()),
            Some(Value::Object(o)) => o,
            Some(_) => {
                return Err(SyntaxError {
                    message: "invalid bake file: the top level must be a JSON object".to_string(),
                    span: Span::new(0, 0),
                });
            }
        };
        let mut bake = Bake::default();
        if let Some(Value::Object(vars)) = get(&root, "variable") {
            for p in &vars.properties {
                let default = match &p.value {
                    Value::Object(v) => get(v, "default").and_then(|d| str_of(text, d)),
                    _ => None,
                };
                bake.variables.insert(name_of(&p.name).to_string(), default);
            }
        }
        if let Some(Value::Object(targets)) = get(&root, "target") {
            for p in &targets.properties {
                let Value::Object(o) = &p.value else {
                    continue;
                };
                let args = get(o, "args");
                bake.targets.push(Target {
                    name: name_of(&p.name).to_string(),
                    context: get(o, "context").and_then(|v| str_of(text, v)),
                    dockerfile: get(o, "dockerfile").and_then(|v| str_of(text, v)),
                    args_unknown: !matches!(
                        args,
                        None | Some(Value::Object(_) | Value::NullKeyword(_))
                    ),
                    args: map(text, args).unwrap_or_default(),
                    contexts: map(text, get(o, "contexts"))
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|(k, v)| Some((k, v?)))
                        .collect(),
                    tags: list(text, get(o, "tags")),
                    inherits: list(text, get(o, "inherits"))
                        .into_iter()
                        .filter_map(|s| match s.parts.as_slice() {
                            [Part::Lit { text, .. }] => Some(text.clone()),
                            _ => None,
                        })
                        .collect(),
                    inline: get(o, "dockerfile-inline").is_some(),
                });
            }
        }
        Ok(bake)
    }
}

fn parse(text: &str) -> Result<Bake, SyntaxError> {
    // An HCL body never starts with `{`; a JSON bake file always does.
    if text.trim_start().starts_with('{') {
        json::parse(text)
    } else {
        parse_hcl(text)
    }
}

/// Evaluates string values against the file's variables.
struct Resolver<'a> {
    variables: &'a BTreeMap<String, Option<Str>>,
    /// How many values use each variable.
    uses: BTreeMap<&'a str, usize>,
    /// Steps and bytes the file's expansions may still take.
    budget: Cell<usize>,
}

impl<'a> Resolver<'a> {
    fn new(bake: &'a Bake) -> Resolver<'a> {
        let mut uses: BTreeMap<&str, usize> = BTreeMap::new();
        let values = bake
            .variables
            .values()
            .flatten()
            .chain(bake.targets.iter().flat_map(|t| {
                t.context
                    .iter()
                    .chain(&t.dockerfile)
                    .chain(t.args.iter().filter_map(|(_, v)| v.as_ref()))
                    .chain(t.contexts.iter().map(|(_, v)| v))
                    .chain(&t.tags)
            }));
        for value in values {
            for part in &value.parts {
                if let Part::Var(name) = part {
                    *uses.entry(name.as_str()).or_default() += 1;
                }
            }
        }
        Resolver {
            variables: &bake.variables,
            uses,
            budget: Cell::new(MAX_EXPANDED),
        }
    }

    fn resolve(&self, value: &Str, b: &mut Builder, shared: &mut Vec<Span>, depth: usize) {
        for part in &value.parts {
            match part {
                Part::Lit { text, at } => b.push(text, *at),
                Part::Expr(e) => b.miss(&shorten(e)),
                Part::Var(name) => {
                    let Some(Some(default)) = self.variables.get(name) else {
                        b.miss(name);
                        continue;
                    };
                    // A default that names itself, or a chain past the
                    // nesting limit, has no value.
                    if depth >= MAX_NESTING || !spend(&self.budget, 1 + default.span.len()) {
                        b.miss(if depth >= MAX_NESTING {
                            name
                        } else {
                            OVER_LIMIT
                        });
                        continue;
                    }
                    if self.uses.get(name.as_str()).copied().unwrap_or(0) > 1 {
                        shared.push(default.span);
                    }
                    self.resolve(default, b, shared, depth + 1);
                }
            }
        }
    }

    fn text(&self, value: &Str) -> Option<String> {
        let mut b = Builder::default();
        self.resolve(value, &mut b, &mut Vec::new(), 0);
        b.missing.is_empty().then_some(b.text)
    }
}

/// The builder's text after its first `n` bytes, with provenance.
fn drop_prefix(b: Builder, n: usize) -> Builder {
    let mut out = Builder {
        missing: b.missing,
        ..Builder::default()
    };
    for piece in &b.pieces {
        if piece.text.end <= n {
            continue;
        }
        let start = piece.text.start.max(n);
        let s = b.text.get(start..piece.text.end).unwrap_or_default();
        out.push(s, piece.file.map(|f| f.start + (start - piece.text.start)));
    }
    out
}

fn site_of(
    text: &str,
    kind: SiteKind,
    span: Span,
    b: Builder,
    shared: Vec<Span>,
    path: String,
) -> ImageSite {
    ImageSite {
        kind,
        span,
        raw: source(text, span),
        value: b.into_value(),
        stage: None,
        path: Some(path),
        extra: Extra {
            build_output: kind == SiteKind::BakeTag,
            shared,
            ..Extra::default()
        },
    }
}

pub fn extract(text: &str) -> Result<Vec<ImageSite>, SyntaxError> {
    let bake = parse(text)?;
    let resolver = Resolver::new(&bake);
    let mut out = Vec::new();
    for target in &bake.targets {
        for (name, value) in &target.contexts {
            let mut b = Builder::default();
            let mut shared = Vec::new();
            resolver.resolve(value, &mut b, &mut shared, 0);
            // The scheme written at the start of the string: the site is
            // the reference after it.
            let literal = match value.parts.first() {
                Some(Part::Lit { text, at }) if text.starts_with(DOCKER_IMAGE) => {
                    Some(*at == Some(value.span.start))
                }
                _ => None,
            };
            let image =
                literal.is_some() || (b.missing.is_empty() && b.text.starts_with(DOCKER_IMAGE));
            if !image {
                continue;
            }
            let span = if literal == Some(true) {
                Span::new(value.span.start + DOCKER_IMAGE.len(), value.span.end)
            } else {
                value.span
            };
            let b = if b.missing.is_empty() {
                drop_prefix(b, DOCKER_IMAGE.len())
            } else {
                b
            };
            let path = format!("target.{}.contexts.{name}", target.name);
            out.push(site_of(text, SiteKind::BakeContext, span, b, shared, path));
        }
        for tag in &target.tags {
            let mut b = Builder::default();
            let mut shared = Vec::new();
            resolver.resolve(tag, &mut b, &mut shared, 0);
            if b.missing.is_empty() && b.text.trim().is_empty() {
                continue;
            }
            let path = format!("target.{}.tags", target.name);
            out.push(site_of(text, SiteKind::BakeTag, tag.span, b, shared, path));
        }
    }
    out.sort_by_key(|s| s.span);
    super::common::dedupe(&mut out);
    Ok(out)
}

/// One build a bake file describes: a target, with what it inherits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Build {
    pub target: String,
    /// The context folder (relative to the bake file's folder, where
    /// `docker buildx bake` runs by default); `None` when it is not a
    /// local folder refit can place (a URL, `target:…`, an unresolved
    /// value).
    pub context: Option<String>,
    /// The Dockerfile, relative to the context (`Dockerfile` by
    /// default); `None` when unresolved.
    pub dockerfile: Option<String>,
    /// The arguments it sets: a value, or `None` when set to a value refit
    /// cannot evaluate. `null` arguments are left out (the Dockerfile's
    /// default is used).
    pub args: BTreeMap<String, Option<String>>,
    /// Whether it sets arguments refit cannot list (`args = local.x`).
    pub args_unknown: bool,
}

/// What a bake file says for the workspace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub builds: Vec<Build>,
    /// The images its targets build (resolved `tags`).
    pub tags: Vec<String>,
    /// The names of the build contexts its targets pass.
    pub contexts: Vec<String>,
}

/// How deep `inherits` is followed.
const MAX_INHERITS: usize = 32;

/// A target's attributes with what it inherits applied: the parents in
/// order, then the target's own (later wins; `args` merge by name).
fn effective(
    by_name: &BTreeMap<&str, Vec<&Target>>,
    name: &str,
    depth: usize,
    visiting: &mut BTreeSet<String>,
) -> Target {
    let mut out = Target {
        name: name.to_string(),
        ..Target::default()
    };
    let Some(blocks) = by_name.get(name) else {
        return out;
    };
    if depth >= MAX_INHERITS || !visiting.insert(name.to_string()) {
        return out;
    }
    let apply = |out: &mut Target, t: &Target| {
        if t.context.is_some() {
            out.context.clone_from(&t.context);
        }
        if t.dockerfile.is_some() {
            out.dockerfile.clone_from(&t.dockerfile);
        }
        for (k, v) in &t.args {
            out.args.retain(|(n, _)| n != k);
            out.args.push((k.clone(), v.clone()));
        }
        out.args_unknown |= t.args_unknown;
        out.inline |= t.inline;
    };
    for block in blocks {
        for parent in &block.inherits {
            let p = effective(by_name, parent, depth + 1, visiting);
            apply(&mut out, &p);
        }
    }
    for block in blocks {
        apply(&mut out, block);
    }
    visiting.remove(name);
    out
}

/// The builds, images and named contexts of a bake file; `None` when it
/// does not parse. Targets that other targets inherit are read through
/// them (`_common`), not as builds of their own.
pub fn facts(text: &str) -> Option<Facts> {
    let bake = parse(text).ok()?;
    let resolver = Resolver::new(&bake);
    let mut facts = Facts::default();
    let mut by_name: BTreeMap<&str, Vec<&Target>> = BTreeMap::new();
    for t in &bake.targets {
        by_name.entry(t.name.as_str()).or_default().push(t);
        for tag in &t.tags {
            if let Some(tag) = resolver.text(tag) {
                facts.tags.push(tag);
            }
        }
        for (name, _) in &t.contexts {
            facts.contexts.push(name.clone());
        }
    }
    let inherited: BTreeSet<&str> = bake
        .targets
        .iter()
        .flat_map(|t| t.inherits.iter().map(String::as_str))
        .collect();
    for name in by_name.keys() {
        if inherited.contains(name) {
            continue;
        }
        let t = effective(&by_name, name, 0, &mut BTreeSet::new());
        if t.inline {
            continue;
        }
        let context = match &t.context {
            None => Some(".".to_string()),
            Some(c) => resolver.text(c),
        };
        let context = context
            .map(|c| c.strip_prefix("cwd://").map(str::to_string).unwrap_or(c))
            .filter(|c| !c.contains("://") && !c.starts_with("target:") && !c.contains(".git"));
        let dockerfile = match &t.dockerfile {
            None => Some("Dockerfile".to_string()),
            Some(d) => resolver
                .text(d)
                .map(|d| d.strip_prefix("cwd://").map(str::to_string).unwrap_or(d)),
        };
        let args = t
            .args
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), resolver.text(v.as_ref()?))))
            .collect();
        facts.builds.push(Build {
            target: t.name,
            context,
            dockerfile,
            args,
            args_unknown: t.args_unknown,
        });
    }
    Some(facts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::SiteValue;
    use crate::sources::common::site_texts;

    fn sites(text: &str) -> Vec<(String, String, String)> {
        let sites = extract(text).unwrap();
        site_texts(&sites)
            .into_iter()
            .zip(&sites)
            .map(|((path, value), s)| (path, s.raw.clone(), value))
            .collect()
    }

    #[test]
    fn contexts_and_tags() {
        let text = r#"# comment
variable "TAG" {
  default = "1.2"
}
variable "REGISTRY" {}
target "app" {
  context = "."
  contexts = {
    alpine = "docker-image://alpine:3.20"
    src = "./src"
    base = "target:base"
    "golang" = "docker-image://golang:${GO}"
  }
  tags = ["example/app:${TAG}", "${REGISTRY}/app:${TAG}", TAG]
  platforms = ["linux/amd64", "linux/arm64"]
}
"#;
        let s = sites(text);
        assert_eq!(
            s,
            [
                (
                    "target.app.contexts.alpine".to_string(),
                    "alpine:3.20".to_string(),
                    "alpine:3.20".to_string()
                ),
                (
                    "target.app.contexts.golang".to_string(),
                    "golang:${GO}".to_string(),
                    "missing [\"GO\"]".to_string()
                ),
                (
                    "target.app.tags".to_string(),
                    "example/app:${TAG}".to_string(),
                    "example/app:1.2".to_string()
                ),
                (
                    "target.app.tags".to_string(),
                    "${REGISTRY}/app:${TAG}".to_string(),
                    "missing [\"REGISTRY\"]".to_string()
                ),
                (
                    "target.app.tags".to_string(),
                    "TAG".to_string(),
                    "1.2".to_string()
                ),
            ]
        );
        let all = extract(text).unwrap();
        let alpine = &all[0];
        assert_eq!(&text[alpine.span.start..alpine.span.end], "alpine:3.20");
        assert_eq!(alpine.whole_file_span(), Some(alpine.span));
        assert!(!alpine.extra.build_output);
        assert!(all[2].extra.build_output);
        // `TAG` is used three times: its default is shared, never edited.
        assert!(!all[2].extra.shared.is_empty());
    }

    #[test]
    fn variables_resolve_into_contexts() {
        let text = "variable \"BASE\" {\n  default = \"debian:12\"\n}\ntarget \"x\" {\n  contexts = {\n    debian = \"docker-image://${BASE}\"\n  }\n}\n";
        let all = extract(text).unwrap();
        assert_eq!(all.len(), 1);
        let s = &all[0];
        assert_eq!(
            s.reference().map(|r| r.normalized()).as_deref(),
            Some("docker.io/library/debian:12")
        );
        assert_eq!(s.raw, "${BASE}");
        // Used once: the default is the place to edit.
        let span = s.whole_file_span().unwrap();
        assert_eq!(&text[span.start..span.end], "debian:12");
        // A scheme that comes from a variable: the whole value is the site.
        let text = "variable \"CTX\" {\n  default = \"docker-image://busybox\"\n}\ntarget \"x\" {\n  contexts = { b = CTX }\n}\n";
        let all = extract(text).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].raw, "CTX");
        assert_eq!(
            all[0].reference().map(|r| r.normalized()).as_deref(),
            Some("docker.io/library/busybox")
        );
    }

    #[test]
    fn unknown_expressions_and_escapes() {
        let text = "variable \"A\" {\n  default = \"${B}\"\n}\nvariable \"B\" {\n  default = \"${A}\"\n}\ntarget \"x\" {\n  contexts = {\n    a = \"docker-image://${A}\"\n    f = \"docker-image://${lower(\"X\")}\"\n    e = \"docker-image://alp\\u0069ne\"\n  }\n  tags = [notequal(\"\", A) ? \"a\" : \"b\", \"\"]\n}\n";
        let all = extract(text).unwrap();
        let v = site_texts(&all);
        assert_eq!(v.len(), 4, "{v:?}");
        assert!(v[0].1.starts_with("missing"), "{v:?}");
        assert!(v[1].1.contains("lower"), "{v:?}");
        assert_eq!(v[2].1, "alpine");
        // An escape: reported, never edited.
        assert_eq!(all[2].whole_file_span(), None);
        assert!(v[3].1.contains("notequal"), "{v:?}");
    }

    #[test]
    fn json_form() {
        let text = r#"{
  "variable": {"TAG": {"default": "3.20"}, "N": {"default": null}},
  "target": {
    "app": {
      "contexts": {"alpine": "docker-image://alpine:${TAG}", "src": "./src", "n": "docker-image://x:${N}"},
      "tags": ["app:${TAG}", "a$${b}"],
      "args": {"BASE": "debian:12", "GONE": null}
    }
  }
}"#;
        let all = extract(text).unwrap();
        let v = site_texts(&all);
        assert_eq!(
            v[0],
            (
                "target.app.contexts.alpine".to_string(),
                "alpine:3.20".to_string()
            )
        );
        assert_eq!(all[0].raw, "alpine:${TAG}");
        assert_eq!(v[1].1, "missing [\"N\"]");
        assert_eq!(v[2].1, "app:3.20");
        assert_eq!(v[3].1, "a${b}");
        let f = facts(text).unwrap();
        assert_eq!(f.builds.len(), 1);
        assert_eq!(
            f.builds[0].args,
            BTreeMap::from([("BASE".to_string(), Some("debian:12".to_string()))])
        );
        assert!(extract("{\"target\": }").is_err());
        assert!(extract("[1]").is_err());
    }

    #[test]
    fn facts_follow_inherits() {
        let text = r#"
variable "GO_VERSION" { default = "1.23" }
variable "UNSET" {}
target "_common" {
  args = {
    GO_VERSION = GO_VERSION
    KEEP = 1
  }
}
target "lint" {
  inherits = ["_common"]
  dockerfile = "./hack/lint.Dockerfile"
  args = { KEEP = null, X = UNSET }
}
target "remote" {
  context = "https://github.com/a/b.git"
  args = { Y = "1" }
  tags = ["acme/remote:dev", "${UNSET}/x"]
  contexts = { tools = "./tools" }
}
target "inline" { dockerfile-inline = "FROM scratch" }
"#;
        let f = facts(text).unwrap();
        assert_eq!(f.builds.len(), 2, "{f:?}");
        let lint = &f.builds[0];
        assert_eq!(lint.target, "lint");
        assert_eq!(lint.context.as_deref(), Some("."));
        assert_eq!(lint.dockerfile.as_deref(), Some("./hack/lint.Dockerfile"));
        assert_eq!(
            lint.args,
            BTreeMap::from([
                ("GO_VERSION".to_string(), Some("1.23".to_string())),
                ("X".to_string(), None),
            ])
        );
        assert_eq!(f.builds[1].context, None);
        assert_eq!(f.tags, ["acme/remote:dev"]);
        assert_eq!(f.contexts, ["tools"]);
        // Inheritance cycles end.
        let f = facts("target \"a\" {\n inherits = [\"b\"]\n}\ntarget \"b\" {\n inherits = [\"a\"]\n}\ntarget \"c\" {\n inherits = [\"a\"]\n}\n").unwrap();
        assert_eq!(f.builds.len(), 1);
    }

    #[test]
    fn invalid_and_hostile() {
        assert!(extract("target \"x\" {").is_err());
        assert_eq!(extract("").unwrap(), []);
        assert_eq!(extract("# nothing\n").unwrap(), []);
        // Nesting is bounded by the parser.
        let deep = format!("x = {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        assert!(extract(&deep).is_err());
        // Exponential variable chains stop at the budget.
        let mut text = String::from("variable \"V0\" { default = \"x\" }\n");
        for i in 1..64 {
            text.push_str(&format!(
                "variable \"V{i}\" {{ default = \"${{V{p}}}${{V{p}}}\" }}\n",
                p = i - 1
            ));
        }
        text.push_str("target \"t\" {\n  contexts = { a = \"docker-image://${V63}\" }\n}\n");
        let start = std::time::Instant::now();
        let all = extract(&text).unwrap();
        assert!(matches!(all[0].value, SiteValue::Unresolved { .. }));
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
    }
}
