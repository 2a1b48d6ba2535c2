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

use crate::facts::{Render, Renders};

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
    /// `(list . "pipelines" "api")`, by position: a helper reads item `n`
    /// as `index . n` (kept as the argument path `#n`), and a string item
    /// as a key of `index X $k` (kept as `{#n}` in a path).
    List(Vec<ListItem>),
}

/// An item of a `list` argument.
#[derive(Debug, Clone)]
enum ListItem {
    Ctx(Ctx),
    /// A string literal (`"api"`).
    Lit(String),
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
    /// What the template writes around the call's output ([`around`]);
    /// [`UNKNOWN`] when the output is not written where it stands (an
    /// argument of something else, a variable).
    place: u8,
}

/// Shape bits: what is written around an entry where a template outputs
/// it (see `crate::facts::Render`).
const TAG: u8 = 1;
const DIGEST: u8 = 2;
const PREFIX: u8 = 4;
const AFTER: u8 = 8;
/// Inside a helper, nothing before (after) the entry up to the helper's
/// start (end): what the call site writes there counts.
const OPEN_START: u8 = 16;
const OPEN_END: u8 = 32;
/// Written somewhere refit cannot see (a helper's output kept in a
/// variable or passed on): not a rendering refit can judge.
const UNKNOWN: u8 = 64;

/// An entry's shape seen through a call placed at `place`.
fn through(shape: u8, place: u8) -> u8 {
    let mut out = shape & !(OPEN_START | OPEN_END);
    if shape & OPEN_START != 0 {
        out |= place & (PREFIX | OPEN_START | UNKNOWN);
    }
    if shape & OPEN_END != 0 {
        out |= place & (TAG | DIGEST | AFTER | OPEN_END | UNKNOWN);
    }
    out | (place & UNKNOWN)
}

fn render_of(bits: u8) -> Render {
    Render {
        plain: bits & (TAG | DIGEST | PREFIX | AFTER) == 0,
        tag: bits & TAG != 0,
        digest: bits & DIGEST != 0,
        prefix: bits & PREFIX != 0,
        after: bits & AFTER != 0,
    }
}

/// A piece of a template file's output stream, in file order, for
/// telling what is written next to what.
#[derive(Debug, Clone)]
enum Item {
    /// Literal text (after trim markers): its first and last character,
    /// and whether it is that one character.
    Text {
        first: Option<char>,
        last: Option<char>,
        single: bool,
    },
    /// An action that writes nothing (`if`, `end`, `$x := …`).
    Ctrl,
    /// The start or end of a `define`.
    Edge,
    /// A value written out: what it names, in which helper.
    Val(Ctx, Option<Helper>),
    /// A helper's output written out, by its index in [`Reads::calls`].
    Call(usize),
    /// Some other output (`.Chart.AppVersion`, a function's result).
    Other,
}

fn text_item(text: &str) -> Item {
    let mut chars = text.chars();
    let first = chars.next();
    Item::Text {
        first,
        last: text.chars().next_back(),
        single: first.is_some() && chars.next().is_none(),
    }
}

/// The value written right before `items[i]`, with nothing between.
fn value_before(items: &[Item], i: usize) -> Option<&str> {
    for item in items.get(..i).unwrap_or_default().iter().rev().take(32) {
        match item {
            Item::Ctrl | Item::Text { last: None, .. } => continue,
            Item::Val(Ctx::Values(q), _) if !q.is_empty() => return Some(q),
            _ => return None,
        }
    }
    None
}

/// What `items[i]` (a value or a call) has written around it. A value of
/// the file's body written right before it ([`value_before`]) is not a
/// [`PREFIX`].
/// `joined_with` receives what is joined after `:` or `@`: the values
/// paths written there, `?` for anything else.
fn around(items: &[Item], i: usize, joined_with: &mut Vec<String>) -> u8 {
    let glued = |c: char| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '-' | '_');
    let mut bits = 0;
    for item in items.get(..i).unwrap_or_default().iter().rev().take(32) {
        match item {
            Item::Ctrl | Item::Text { last: None, .. } => continue,
            Item::Text { last: Some(c), .. } => {
                if glued(*c) {
                    bits |= PREFIX;
                }
            }
            Item::Val(Ctx::Values(q), _) if !q.is_empty() => {}
            Item::Val(..) | Item::Call(_) | Item::Other => bits |= PREFIX,
            Item::Edge => bits |= OPEN_START,
        }
        break;
    }
    let mut joined = false;
    for item in items.iter().skip(i + 1).take(32) {
        match item {
            Item::Ctrl | Item::Text { first: None, .. } => continue,
            Item::Text {
                first: Some(c),
                single,
                ..
            } => {
                let sep = match c {
                    ':' => TAG,
                    '@' => DIGEST,
                    _ => 0,
                };
                if sep != 0 {
                    bits |= sep;
                    if *single {
                        joined = true;
                        continue;
                    }
                    // A literal tag or digest (`:latest`).
                    joined_with.push("?".to_string());
                } else if !joined && glued(*c) {
                    bits |= AFTER;
                }
            }
            Item::Val(..) | Item::Call(_) | Item::Other => {
                if joined {
                    joined_with.push(match item {
                        Item::Val(Ctx::Values(q), _) if !q.is_empty() => q.clone(),
                        _ => "?".to_string(),
                    });
                    continue;
                }
                bits |= AFTER;
            }
            Item::Edge => {
                if !joined {
                    bits |= OPEN_END;
                }
            }
        }
        break;
    }
    bits
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
    /// Whether each helper is defined in the chart's templates.
    defined: Vec<bool>,
    /// Per helper: the field paths of its argument it writes out, with
    /// their shape bits.
    helper_writes: Vec<BTreeSet<(String, u8)>>,
    /// Per helper: the field paths of its argument it writes whole as
    /// YAML or JSON.
    helper_verbatim: Vec<BTreeSet<String>>,
    /// Per helper: the field paths of its argument it names otherwise.
    helper_mentions: Vec<BTreeSet<String>>,
    /// Per helper: the field paths of its argument it hands to a helper
    /// the chart does not define, with that helper's name.
    helper_unread: Vec<BTreeMap<String, String>>,
    /// Per helper: whether an action of it picks a registry with a
    /// literal host (`default "reg.example.io" .image.registry`).
    helper_literal_registry: Vec<bool>,
    renders: Renders,
    /// (values path, bits) already recorded.
    written_bits: BTreeSet<(String, u8)>,
}

impl Reads {
    fn helper(&mut self, name: &str) -> Helper {
        if let Some(&h) = self.names.get(name) {
            return h;
        }
        let h = self.helpers.len();
        self.helpers.push(BTreeSet::new());
        self.defined.push(false);
        self.helper_writes.push(BTreeSet::new());
        self.helper_verbatim.push(BTreeSet::new());
        self.helper_mentions.push(BTreeSet::new());
        self.helper_unread.push(BTreeMap::new());
        self.helper_literal_registry.push(false);
        self.names.insert(name.to_string(), h);
        h
    }

    /// An entry written out with shape `bits`, at `ctx` inside `define`.
    /// Whether it was new.
    fn write(&mut self, ctx: &Ctx, bits: u8, define: Option<Helper>) -> bool {
        match (ctx, define) {
            (Ctx::Values(p), _) => {
                if bits & UNKNOWN != 0 {
                    return self.renders.mentioned.insert(p.clone());
                }
                if !self.written_bits.insert((p.clone(), bits)) {
                    return false;
                }
                let r = render_of(bits);
                let e = self.renders.written.entry(p.clone()).or_default();
                *e = e.or(r);
                true
            }
            (Ctx::Arg(k), Some(d)) => self
                .helper_writes
                .get_mut(d)
                .is_some_and(|w| w.insert((k.clone(), bits))),
            _ => false,
        }
    }

    /// A map written whole as YAML or JSON.
    fn verbatim(&mut self, ctx: &Ctx, define: Option<Helper>) -> bool {
        match (ctx, define) {
            (Ctx::Values(p), _) => self.renders.verbatim.insert(p.clone()),
            (Ctx::Arg(k), Some(d)) => self
                .helper_verbatim
                .get_mut(d)
                .is_some_and(|w| w.insert(k.clone())),
            _ => false,
        }
    }

    /// An entry handed to the helper `name`, which the chart does not
    /// define. Whether it was new.
    fn unread(&mut self, ctx: &Ctx, define: Option<Helper>, name: &str) -> bool {
        let into = match (ctx, define) {
            (Ctx::Values(p), _) => self.renders.unread_helpers.entry(p.clone()),
            (Ctx::Arg(k), Some(d)) => match self.helper_unread.get_mut(d) {
                Some(m) => m.entry(k.clone()),
                None => return false,
            },
            _ => return false,
        };
        match into {
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(name.to_string());
                true
            }
            std::collections::btree_map::Entry::Occupied(_) => false,
        }
    }

    /// An entry named in a way not followed.
    fn mention(&mut self, ctx: &Ctx, define: Option<Helper>) -> bool {
        match (ctx, define) {
            (Ctx::Values(p), _) => self.renders.mentioned.insert(p.clone()),
            (Ctx::Arg(k), Some(d)) => self
                .helper_mentions
                .get_mut(d)
                .is_some_and(|w| w.insert(k.clone())),
            _ => false,
        }
    }

    /// A read of `.digest` of `ctx`, inside `define` (or a file body).
    /// Whether it was new.
    fn digest_of(&mut self, ctx: &Ctx, define: Option<Helper>) -> bool {
        match (ctx, define) {
            // Items of a list (`range`) are not where `refit pin` adds keys.
            (Ctx::Values(p), _) if !p.is_empty() && !p.contains("[*]") => {
                self.paths.insert(p.clone())
            }
            (Ctx::Arg(k), Some(d)) => self
                .helpers
                .get_mut(d)
                .is_some_and(|fields| fields.insert(k.clone())),
            _ => false,
        }
    }
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
                    // `((.Values.global).image).registry`: fields of the
                    // pipeline's value belong to the same entry.
                    while tokens.get(j).is_some_and(|t| t.starts_with('.')) {
                        j += 1;
                    }
                    continue;
                }
                pairs.insert(key.to_string(), term(value, dot, vars));
                j += 2;
            }
            CallArg::Dict(pairs)
        }
        Some(&"(") if tokens.get(i + 1) == Some(&"list") => {
            let end = close.get(i).copied().unwrap_or(tokens.len());
            let mut items = Vec::new();
            let mut j = i + 2;
            while j < end {
                let Some(t) = tokens.get(j) else { break };
                if *t == "(" {
                    items.push(ListItem::Ctx(Ctx::Unknown));
                    j = close.get(j).map_or(tokens.len(), |c| c + 1);
                    continue;
                }
                items.push(match unquote(t) {
                    Some(l) => ListItem::Lit(l.to_string()),
                    None => ListItem::Ctx(term(t, dot, vars)),
                });
                j += 1;
            }
            CallArg::List(items)
        }
        Some(t) => CallArg::Term(term(t, dot, vars)),
        None => CallArg::Term(Ctx::Unknown),
    }
}

struct Frame {
    define: Option<Helper>,
    dot: Ctx,
}

/// A template file's text and actions, in order, trim markers applied
/// (`{{-` trims the white space before, `-}}` the white space after);
/// comments are left out.
enum Elem<'a> {
    Text(&'a str),
    Action(&'a str),
}

fn elements(text: &str) -> Vec<Elem<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut trim_next = false;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else { break };
        let raw = &after[..close];
        let mut before = &rest[..open];
        if trim_next {
            before = before.trim_start();
        }
        if raw.starts_with('-') {
            before = before.trim_end();
        }
        out.push(Elem::Text(before));
        let inner = raw.trim_start_matches('-').trim_end_matches('-').trim();
        if !inner.starts_with("/*") {
            out.push(Elem::Action(inner));
        }
        trim_next = raw.ends_with('-');
        rest = &after[close + 2..];
    }
    out.push(Elem::Text(if trim_next { rest.trim_start() } else { rest }));
    out
}

/// Functions that write their argument as it stands, or nearly.
const SAME: &[&str] = &["quote", "squote", "toString", "trim", "lower", "upper"];
/// Functions that write a map or list whole.
const WHOLE: &[&str] = &["toYaml", "toJson", "toPrettyJson", "toRawJson"];

/// What an output action writes.
enum Out {
    /// One value (`.Values.image`, `default "x" .Values.tag`, `… | quote`).
    Val(Ctx),
    /// `printf`'s pieces: literal text and values.
    Pieces(Vec<Item>),
    /// The call of [`Reads::calls`] at this index.
    Call(usize),
    /// A map written whole.
    Whole(Ctx),
    Other,
}

/// The stages of an action's tokens, split at top-level `|`.
fn stages<'t, 'a>(tokens: &'t [&'a str]) -> Vec<&'t [&'a str]> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, t) in tokens.iter().enumerate() {
        match *t {
            "(" => depth += 1,
            ")" => depth = depth.saturating_sub(1),
            "|" if depth == 0 => {
                out.push(tokens.get(start..i).unwrap_or_default());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(tokens.get(start..).unwrap_or_default());
    out
}

/// The value a pipeline's first stage names: a term, `default A B`,
/// `quote X`, `index X "a" "b"`.
fn main_term(stage: &[&str], dot: &Ctx, vars: &BTreeMap<String, Ctx>) -> Option<Ctx> {
    let is_term = |t: &str| t.starts_with('.') || t.starts_with('$');
    match stage {
        [x] if is_term(x) => Some(term(x, dot, vars)),
        ["default", _, x] if is_term(x) => Some(term(x, dot, vars)),
        [f, x] if SAME.contains(f) && is_term(x) => Some(term(x, dot, vars)),
        ["index", x, keys @ ..] if is_term(x) && !keys.is_empty() => {
            let base = term(x, dot, vars);
            let mut path = Vec::with_capacity(keys.len());
            for k in keys {
                path.push(index_key(k, &base, vars)?);
            }
            Some(base.field(&path.join(".")))
        }
        _ => None,
    }
}

/// One key of `index X k…` as a path segment: a quoted field name, an item
/// number of a helper's `list` argument (`index . 1`, kept as `#1`), or a
/// variable holding such an item (`$k := index . 1`, kept as `{#1}`, which
/// each call replaces with its string: [`arg_field`]).
fn index_key(key: &str, base: &Ctx, vars: &BTreeMap<String, Ctx>) -> Option<String> {
    if let Some(k) = unquote(key) {
        return is_field_path(k).then(|| k.to_string());
    }
    if matches!(base, Ctx::Arg(_))
        && !key.is_empty()
        && key.len() < 4
        && key.bytes().all(|b| b.is_ascii_digit())
    {
        return Some(format!("#{key}"));
    }
    let name = key.strip_prefix('$')?;
    match vars.get(name) {
        Some(Ctx::Arg(k)) if is_item(k) => Some(format!("{{{k}}}")),
        _ => None,
    }
}

/// What each `index X k…` of an action's tokens names (`index $dot.Values
/// $a $b "image" "registry"`), where [`main_term`] can tell.
fn index_terms(t: &[&str], dot: &Ctx, vars: &BTreeMap<String, Ctx>) -> Vec<Ctx> {
    let mut out = Vec::new();
    let mut close = None;
    // A few per action: each may scan the rest of the action.
    let found = t
        .iter()
        .enumerate()
        .filter(|(_, w)| **w == "index")
        .take(16);
    for (i, _) in found {
        let end = if i > 0 && t.get(i - 1) == Some(&"(") {
            let close = close.get_or_insert_with(|| closing(t));
            close.get(i - 1).copied().unwrap_or(t.len())
        } else {
            t.iter()
                .skip(i)
                .position(|w| matches!(*w, "|" | ")" | "("))
                .map_or(t.len(), |p| i + p)
        };
        if let Some(ctx) = t.get(i..end).and_then(|stage| main_term(stage, dot, vars)) {
            out.push(ctx);
        }
    }
    out
}

/// Whether an argument path is one item of a `list` argument (`#1`).
fn is_item(k: &str) -> bool {
    k.strip_prefix('#')
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// `printf "%s:%s" a b` as pieces; `None` for a format or an argument
/// not followed.
fn printf_pieces(
    format: &str,
    args: &[&str],
    dot: &Ctx,
    vars: &BTreeMap<String, Ctx>,
) -> Option<Vec<Item>> {
    let format = unquote(format)?;
    let mut out = Vec::new();
    let mut args = args.iter();
    let mut literal = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            literal.push(c);
            continue;
        }
        match chars.next()? {
            '%' => literal.push('%'),
            's' | 'v' | 'd' => {
                out.push(text_item(&literal));
                literal.clear();
                let arg = args.next()?;
                out.push(if arg.starts_with('.') || arg.starts_with('$') {
                    Item::Val(term(arg, dot, vars), None)
                } else {
                    Item::Other
                });
            }
            _ => return None,
        }
    }
    out.push(text_item(&literal));
    Some(out)
}

fn output(
    t: &[&str],
    first_call: usize,
    calls: usize,
    dot: &Ctx,
    vars: &BTreeMap<String, Ctx>,
) -> Out {
    let stages = stages(t);
    let Some(first) = stages.first() else {
        return Out::Other;
    };
    let whole_pipe = stages
        .iter()
        .skip(1)
        .any(|s| s.first().is_some_and(|f| WHOLE.contains(f)));
    if let [f, x] = first
        && WHOLE.contains(f)
    {
        return Out::Whole(term(x, dot, vars));
    }
    if let Some(ctx) = main_term(first, dot, vars) {
        return if whole_pipe {
            Out::Whole(ctx)
        } else {
            Out::Val(ctx)
        };
    }
    match first {
        ["include" | "template", ..] if calls > first_call => Out::Call(first_call),
        ["printf", format, args @ ..] => {
            // A parenthesised argument is one piece, not followed.
            let mut grouped: Vec<&str> = Vec::new();
            let mut depth = 0usize;
            for a in args.iter() {
                match *a {
                    "(" => {
                        if depth == 0 {
                            grouped.push("(");
                        }
                        depth += 1;
                    }
                    ")" => depth = depth.saturating_sub(1),
                    _ if depth == 0 => grouped.push(a),
                    _ => {}
                }
            }
            printf_pieces(format, &grouped, dot, vars).map_or(Out::Other, Out::Pieces)
        }
        _ => Out::Other,
    }
}

/// Read one template file's actions into `reads`.
fn read_file(text: &str, reads: &mut Reads, budget: &mut usize) {
    let mut stack: Vec<Frame> = Vec::new();
    let mut vars: BTreeMap<String, Ctx> = BTreeMap::new();
    // Per variable: the registry sources its value was chosen from
    // ([`registry_sources`]).
    let mut var_regs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut items: Vec<Item> = Vec::new();
    for elem in elements(text) {
        let action = match elem {
            Elem::Text(t) => {
                items.push(text_item(t));
                continue;
            }
            Elem::Action(a) => a,
        };
        if *budget == 0 {
            break;
        }
        *budget -= 1;
        let t = tokens(action);
        let (define, dot) = stack
            .last()
            .map_or((None, Ctx::Root), |f| (f.define, f.dot.clone()));
        let mut control = true;
        match t.first().copied() {
            Some("define") => {
                let name = t.get(1).and_then(|n| unquote(n)).map(|n| reads.helper(n));
                if let Some(d) = name.and_then(|h| reads.defined.get_mut(h)) {
                    *d = true;
                }
                stack.push(Frame {
                    define: name,
                    dot: Ctx::Arg(String::new()),
                });
                vars.clear();
                var_regs.clear();
                vars.insert(String::new(), Ctx::Arg(String::new()));
                items.push(Item::Edge);
                continue;
            }
            Some("end") => {
                if stack.pop().is_some_and(|f| f.define.is_some()) {
                    items.push(Item::Edge);
                    if stack.last().is_none_or(|f| f.define.is_none()) {
                        vars.clear();
                        var_regs.clear();
                    }
                } else {
                    items.push(Item::Ctrl);
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
            Some("range") => {
                // `range X`, `range $v := X`, `range $i, $v := X`: each
                // item of the list X, written `X[*]`.
                let (var, over) = match t.get(1..).unwrap_or_default() {
                    [x] => (None, Some(*x)),
                    [v, ":=", x] => (Some(*v), Some(*x)),
                    [_, ",", v, ":=", x] => (Some(*v), Some(*x)),
                    _ => (None, None),
                };
                let item = over.map_or(Ctx::Unknown, |x| match term(x, &dot, &vars) {
                    Ctx::Values(p) if !p.is_empty() => Ctx::Values(format!("{p}[*]")),
                    Ctx::Arg(k) if !k.is_empty() => Ctx::Arg(format!("{k}[*]")),
                    _ => Ctx::Unknown,
                });
                if let Some(name) = var.and_then(|v| v.strip_prefix('$')) {
                    vars.insert(name.to_string(), item.clone());
                }
                stack.push(Frame { define, dot: item });
            }
            Some("block") => stack.push(Frame {
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
            _ => control = false,
        }
        // `$v := X` (and `=`): X a term or what `main_term` reads.
        if let (Some(var), Some(op)) = (t.first(), t.get(1))
            && let Some(name) = var.strip_prefix('$')
            && (*op == ":=" || *op == "=")
        {
            control = true;
            if !name.is_empty() {
                let value = t
                    .get(2..)
                    .and_then(|rest| {
                        let st = stages(rest);
                        match st.as_slice() {
                            [one] => main_term(one, &dot, &vars),
                            _ => None,
                        }
                    })
                    .unwrap_or(Ctx::Unknown);
                let regs = registry_sources(t.get(2..).unwrap_or_default(), &dot, &vars, &var_regs);
                vars.insert(name.to_string(), value);
                let e = var_regs.entry(name.to_string()).or_default();
                if *op == ":=" {
                    e.clear();
                }
                e.extend(regs);
                while e.len() > 32 {
                    e.pop_last();
                }
            }
        } else if define.is_none() {
            // A file's body: an action that writes a map's repository with
            // a registry chosen elsewhere (`print $reg "/" .Values.x.repository`).
            let regs = registry_sources(&t, &dot, &vars, &var_regs);
            if !regs.is_empty() {
                let named: Vec<String> = t
                    .iter()
                    .filter(|w| w.starts_with('.') || w.starts_with('$'))
                    .filter_map(|w| match term(w, &dot, &vars) {
                        Ctx::Values(p) => Some(p),
                        _ => None,
                    })
                    .collect();
                let refs: Vec<&String> = named.iter().collect();
                for (map, sources) in maps_elsewhere(&refs, &regs) {
                    let set = reads.renders.registry_elsewhere.entry(map).or_default();
                    for s in sources {
                        if set.len() < MAX_SOURCES {
                            set.insert(s);
                        }
                    }
                }
            }
        }
        let first_call = reads.calls.len();
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
                    place: UNKNOWN,
                };
                reads.calls.push(call);
            }
            if let Some(base) = token.strip_suffix(".digest") {
                let base = if base.is_empty() { "." } else { base };
                let ctx = term(base, &dot, &vars);
                reads.digest_of(&ctx, define);
            }
            if token.starts_with('.') || token.starts_with('$') {
                let ctx = term(token, &dot, &vars);
                reads.mention(&ctx, define);
            }
        }
        if t.contains(&"index") {
            for ctx in index_terms(&t, &dot, &vars) {
                reads.mention(&ctx, define);
            }
        }
        if let Some(d) = define
            && literal_registry(&t, &dot, &vars)
            && let Some(flag) = reads.helper_literal_registry.get_mut(d)
        {
            *flag = true;
        }
        if control {
            items.push(Item::Ctrl);
            continue;
        }
        match output(&t, first_call, reads.calls.len(), &dot, &vars) {
            Out::Val(ctx) => items.push(Item::Val(ctx, define)),
            Out::Pieces(pieces) => items.extend(pieces.into_iter().map(|p| match p {
                Item::Val(ctx, _) => Item::Val(ctx, define),
                other => other,
            })),
            Out::Call(i) => items.push(Item::Call(i)),
            Out::Whole(ctx) => {
                reads.verbatim(&ctx, define);
                items.push(Item::Other);
            }
            Out::Other => items.push(Item::Other),
        }
    }
    for i in 0..items.len() {
        match items.get(i) {
            Some(Item::Val(ctx, define)) => {
                let (ctx, define) = (ctx.clone(), *define);
                let mut joined_with = Vec::new();
                let bits = around(&items, i, &mut joined_with);
                // A file's body has no helper edges.
                let bits = if define.is_none() {
                    bits & !(OPEN_START | OPEN_END)
                } else {
                    bits
                };
                if let Ctx::Values(p) = &ctx
                    && !joined_with.is_empty()
                {
                    reads
                        .renders
                        .joined_values
                        .entry(p.clone())
                        .or_default()
                        .extend(joined_with);
                }
                if let (Ctx::Values(p), Some(q)) = (&ctx, value_before(&items, i)) {
                    reads
                        .renders
                        .prefix_values
                        .entry(p.clone())
                        .or_default()
                        .insert(q.to_string());
                }
                reads.write(&ctx, bits, define);
            }
            Some(Item::Call(c)) => {
                let c = *c;
                let bits = around(&items, i, &mut Vec::new());
                let caller = reads.calls.get(c).and_then(|call| call.caller);
                let bits = if caller.is_none() {
                    bits & !(OPEN_START | OPEN_END)
                } else {
                    bits
                };
                if let Some(call) = reads.calls.get_mut(c) {
                    call.place = bits;
                }
            }
            _ => {}
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
        self.finish_with_renders().0
    }

    /// The digest paths and how the templates write each values entry.
    pub fn finish_with_renders(self) -> (BTreeSet<String>, Renders) {
        let mut reads = self.reads;
        let calls = std::mem::take(&mut reads.calls);
        let paths = resolve_digests(&mut reads, &calls);
        resolve_renders(&mut reads, &calls);
        resolve_registry_elsewhere(&mut reads, &calls);
        (paths, reads.renders)
    }
}

/// Whether a field path names a registry (`registry`, `imageRegistry`,
/// `image.defaultRegistry`, `globalRegistry`).
fn is_registry_field(field: &str) -> bool {
    field
        .rsplit('.')
        .next()
        .is_some_and(|last| last.to_ascii_lowercase().contains("registry"))
}

/// Whether an action picks between a registry value and a literal host:
/// `default "reg.example.io" .image.registry`, `coalesce … "quay.io"`,
/// `or .registry "ghcr.io"`.
fn literal_registry(t: &[&str], dot: &Ctx, vars: &BTreeMap<String, Ctx>) -> bool {
    let chooses = t
        .iter()
        .any(|w| matches!(*w, "default" | "coalesce" | "or"));
    let reads_registry = t.iter().any(|w| {
        (w.starts_with('.') || w.starts_with('$'))
            && match term(w, dot, vars) {
                Ctx::Arg(k) | Ctx::Values(k) => is_registry_field(&k),
                _ => false,
            }
    });
    let host = t.iter().filter_map(|w| unquote(w)).any(|l| {
        let host = l.split('/').next().unwrap_or(l);
        (host.contains('.') || host.contains(':') || host == "localhost")
            && !l.contains(char::is_whitespace)
    });
    chooses && reads_registry && host
}

/// The registry sources an action's tokens name: registry fields
/// (`.Values.x.defaultRegistry`, `.image.registry`), those of the
/// variables it uses, and `"` for a literal host it may choose.
fn registry_sources(
    t: &[&str],
    dot: &Ctx,
    vars: &BTreeMap<String, Ctx>,
    var_regs: &BTreeMap<String, BTreeSet<String>>,
) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for w in t {
        if !(w.starts_with('.') || w.starts_with('$')) {
            continue;
        }
        if let Ctx::Values(k) | Ctx::Arg(k) = term(w, dot, vars)
            && is_registry_field(&k)
        {
            out.insert(k);
        }
        if let Some(name) = w.strip_prefix('$') {
            let name = name.split('.').next().unwrap_or(name);
            if let Some(regs) = var_regs.get(name) {
                out.extend(regs.iter().cloned());
            }
        }
    }
    for ctx in index_terms(t, dot, vars) {
        if let Ctx::Values(k) | Ctx::Arg(k) = ctx
            && is_registry_field(&k)
        {
            out.insert(k);
        }
    }
    if literal_registry(t, dot, vars) {
        out.insert("\"".to_string());
    }
    out
}

/// Of the fields `named` (values or argument paths), the image maps (`m`
/// of `m.repository` or `m.name`) whose registry may come from one of
/// `regs` other than `m.registry`: another key, a literal (`"`), a
/// registry field of no other image map named (`.b.registry` beside
/// `.b.repository` is `b`'s). Each with those sources.
fn maps_elsewhere(
    named: &[&String],
    regs: &BTreeSet<String>,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut maps = BTreeMap::new();
    for field in named {
        let (map, last) = field.rsplit_once('.').unwrap_or(("", field.as_str()));
        if !matches!(last, "repository" | "name") {
            continue;
        }
        let own = join(map, "registry");
        let other_image = |f: &str| {
            let parent = f.rsplit_once('.').map_or("", |(p, _)| p);
            parent != map
                && ["repository", "name"]
                    .iter()
                    .any(|k| named.iter().any(|n| **n == join(parent, k)))
        };
        let sources: BTreeSet<String> = regs
            .iter()
            .filter(|f| **f != own && !other_image(f))
            .take(MAX_SOURCES)
            .cloned()
            .collect();
        if !sources.is_empty() {
            maps.insert(map.to_string(), sources);
        }
    }
    maps
}

/// The most registry sources kept for one image map.
const MAX_SOURCES: usize = 32;

/// A registry source of a helper (an argument path, `=`+ a values path,
/// `"` for a literal, `?` for unknown) as the call at hand gives it: in a
/// file's body a values path, in a helper one of that helper's sources.
fn source_at(call: &Call, src: &str) -> String {
    if src == "\"" || src == "?" {
        return src.to_string();
    }
    let ctx = match src.strip_prefix('=') {
        Some(p) => Ctx::Values(p.to_string()),
        None => arg_field(&call.arg, src),
    };
    match (ctx, call.caller) {
        (Ctx::Values(p), None) => p,
        (Ctx::Values(p), Some(_)) => format!("={p}"),
        (Ctx::Arg(k), Some(_)) => k,
        _ => "?".to_string(),
    }
}

/// The image maps whose registry a helper may take from somewhere other
/// than the map's own `registry` key: the helper (or one it calls) names a
/// repository field `m.repository` (or `m.name`) of its argument and also
/// a registry field that is not `m.registry` (`m.defaultRegistry`, a
/// `globalRegistry` entry of a `dict`, `$.Values.global.imageRegistry`),
/// or picks a literal host. Kept in [`Renders::registry_elsewhere`] by the
/// values path of the map the call passes, with the values paths the
/// registry may come from (as the call gives them: `index $dot.Values $a
/// "image" "registry"` with `(list . "api")` is `api.image.registry`).
fn resolve_registry_elsewhere(reads: &mut Reads, calls: &[Call]) {
    let mut elsewhere: Vec<BTreeMap<String, BTreeSet<String>>> =
        Vec::with_capacity(reads.helpers.len());
    for h in 0..reads.helpers.len() {
        let named: Vec<&String> = reads
            .helper_mentions
            .get(h)
            .into_iter()
            .flatten()
            .chain(
                reads
                    .helper_writes
                    .get(h)
                    .into_iter()
                    .flatten()
                    .map(|(f, _)| f),
            )
            .collect();
        let mut regs: BTreeSet<String> = named
            .iter()
            .filter(|f| is_registry_field(f))
            .map(|f| f.to_string())
            .collect();
        if reads
            .helper_literal_registry
            .get(h)
            .copied()
            .unwrap_or(false)
        {
            regs.insert("\"".to_string());
        }
        let maps = maps_elsewhere(&named, &regs);
        elsewhere.push(maps);
    }
    let mut steps = 0usize;
    for _ in 0..MAX_ROUNDS {
        let mut changed = false;
        for call in calls {
            let maps: Vec<(String, Vec<String>)> = elsewhere
                .get(call.helper)
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.iter().cloned().collect()))
                        .collect()
                })
                .unwrap_or_default();
            steps += maps.iter().map(|(_, v)| 1 + v.len()).sum::<usize>();
            if steps > MAX_STEPS {
                return;
            }
            for (map, sources) in maps {
                let sources: Vec<String> = sources.iter().map(|s| source_at(call, s)).collect();
                let into = match (arg_field(&call.arg, &map), call.caller) {
                    (Ctx::Values(p), _) => reads.renders.registry_elsewhere.entry(p),
                    (Ctx::Arg(k), Some(d)) => match elsewhere.get_mut(d) {
                        Some(m) => m.entry(k),
                        None => continue,
                    },
                    _ => continue,
                };
                let set = into.or_default();
                for s in sources {
                    if set.len() >= MAX_SOURCES {
                        break;
                    }
                    changed |= set.insert(s);
                }
            }
        }
        if !changed {
            break;
        }
    }
}

/// A helper's field path `field`, as its call's argument gives it.
fn arg_field(arg: &CallArg, field: &str) -> Ctx {
    if let CallArg::List(items) = arg {
        return list_field(items, field);
    }
    // Items of a `list` read from an argument that is not one.
    if field.contains(['#', '{']) {
        return Ctx::Unknown;
    }
    match arg {
        CallArg::Term(ctx) => ctx.field(field),
        CallArg::Dict(pairs) => {
            let (key, rest) = field.split_once('.').unwrap_or((field, ""));
            match pairs.get(key) {
                Some(ctx) if !key.is_empty() => ctx.field(rest),
                _ => Ctx::Unknown,
            }
        }
        CallArg::List(items) => list_field(items, field),
    }
}

/// A helper's field path `#n.rest` given the call's `list` items: item
/// `n`'s field `rest`, each `{#m}` in it replaced by item `m`'s string.
fn list_field(items: &[ListItem], field: &str) -> Ctx {
    let (first, rest) = field.split_once('.').unwrap_or((field, ""));
    let item = |seg: &str| {
        seg.strip_prefix('#')
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|n| items.get(n))
    };
    let mut path = Vec::new();
    for seg in rest.split('.').filter(|s| !s.is_empty()) {
        match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            None if !seg.contains(['#', '{', '}']) => path.push(seg.to_string()),
            None => return Ctx::Unknown,
            Some(inner) => match item(inner) {
                Some(ListItem::Lit(l)) if is_field_path(l) => path.push(l.clone()),
                // A helper handing its own item on: still a placeholder.
                Some(ListItem::Ctx(Ctx::Arg(k))) if is_item(k) => path.push(format!("{{{k}}}")),
                _ => return Ctx::Unknown,
            },
        }
    }
    match item(first) {
        Some(ListItem::Ctx(ctx)) => ctx.field(&path.join(".")),
        _ => Ctx::Unknown,
    }
}

fn resolve_digests(reads: &mut Reads, calls: &[Call]) -> BTreeSet<String> {
    let mut steps = 0;
    for _ in 0..MAX_ROUNDS {
        let mut changed = false;
        for call in calls {
            let Some(fields) = reads.helpers.get(call.helper) else {
                continue;
            };
            if steps + fields.len() > MAX_STEPS {
                // What was found so far stands; the rest is not a read.
                return std::mem::take(&mut reads.paths);
            }
            steps += fields.len();
            let found: Vec<Ctx> = fields.iter().map(|f| arg_field(&call.arg, f)).collect();
            for ctx in &found {
                changed |= reads.digest_of(ctx, call.caller);
            }
        }
        if !changed {
            break;
        }
    }
    std::mem::take(&mut reads.paths)
}

/// Carry what helpers write, write whole and name to the values their
/// calls pass them, through helpers that call helpers. A call of a helper
/// the chart does not define (a library chart's) names its argument.
fn resolve_renders(reads: &mut Reads, calls: &[Call]) {
    let mut helper_names = vec![String::new(); reads.helpers.len()];
    for (name, &h) in &reads.names {
        if let Some(slot) = helper_names.get_mut(h) {
            slot.clone_from(name);
        }
    }
    for call in calls {
        if reads.defined.get(call.helper).copied().unwrap_or(false) {
            continue;
        }
        let args: Vec<Ctx> = match &call.arg {
            CallArg::Term(ctx) => vec![ctx.clone()],
            CallArg::Dict(pairs) => pairs.values().cloned().collect(),
            CallArg::List(items) => items
                .iter()
                .filter_map(|i| match i {
                    ListItem::Ctx(c) => Some(c.clone()),
                    ListItem::Lit(_) => None,
                })
                .collect(),
        };
        for ctx in args {
            let ctx = if ctx == Ctx::Root {
                Ctx::Values(String::new())
            } else {
                ctx
            };
            reads.mention(&ctx, call.caller);
            // refit did not analyse how that helper writes them.
            if let Some(name) = helper_names.get(call.helper) {
                reads.unread(&ctx, call.caller, name);
            }
        }
    }
    // A helper no template of the chart calls (a library chart's, called
    // by the charts that use it): the values it names through the root
    // context (`.Values.x`, `$.Values.x`) are named.
    let mut called = vec![false; reads.helpers.len()];
    for call in calls {
        if let Some(c) = called.get_mut(call.helper) {
            *c = true;
        }
    }
    for (h, called) in called.iter().enumerate() {
        if *called {
            continue;
        }
        let fields: Vec<String> = [
            reads
                .helper_writes
                .get(h)
                .map(|w| w.iter().map(|(f, _)| f.clone()).collect::<Vec<_>>()),
            reads
                .helper_verbatim
                .get(h)
                .map(|w| w.iter().cloned().collect()),
            reads
                .helper_mentions
                .get(h)
                .map(|w| w.iter().cloned().collect()),
        ]
        .into_iter()
        .flatten()
        .flatten()
        .collect();
        for field in fields {
            let ctx = Ctx::Root.field(&field);
            if matches!(ctx, Ctx::Values(_)) {
                reads.mention(&ctx, None);
            }
        }
    }
    let mut steps = 0usize;
    for _ in 0..MAX_ROUNDS {
        let mut changed = false;
        for call in calls {
            let h = call.helper;
            let writes: Vec<(String, u8)> = reads
                .helper_writes
                .get(h)
                .map(|w| w.iter().cloned().collect())
                .unwrap_or_default();
            let whole: Vec<String> = reads
                .helper_verbatim
                .get(h)
                .map(|w| w.iter().cloned().collect())
                .unwrap_or_default();
            let named: Vec<String> = reads
                .helper_mentions
                .get(h)
                .map(|w| w.iter().cloned().collect())
                .unwrap_or_default();
            let unread: Vec<(String, String)> = reads
                .helper_unread
                .get(h)
                .map(|w| w.iter().map(|(f, n)| (f.clone(), n.clone())).collect())
                .unwrap_or_default();
            steps += writes.len() + whole.len() + named.len() + unread.len();
            if steps > MAX_STEPS {
                return;
            }
            for (field, bits) in writes {
                let ctx = arg_field(&call.arg, &field);
                let bits = through(bits, call.place);
                let bits = if call.caller.is_none() {
                    bits & !(OPEN_START | OPEN_END)
                } else {
                    bits
                };
                changed |= reads.write(&ctx, bits, call.caller);
            }
            for field in whole {
                changed |= reads.verbatim(&arg_field(&call.arg, &field), call.caller);
            }
            for field in named {
                changed |= reads.mention(&arg_field(&call.arg, &field), call.caller);
            }
            for (field, name) in unread {
                changed |= reads.unread(&arg_field(&call.arg, &field), call.caller, &name);
            }
        }
        if !changed {
            break;
        }
    }
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

#[cfg(test)]
mod render_tests {
    use super::*;
    use crate::facts::Judged;

    fn renders(texts: &[&str]) -> Renders {
        let mut r = DigestReader::default();
        for t in texts {
            r.add(t);
        }
        r.finish_with_renders().1
    }

    #[test]
    fn what_is_joined_around_a_value() {
        let r = renders(&[
            r#"image: "{{ .Values.a.image }}:{{ .Values.istio.release }}"
image: "{{ .Values.b.image.repository }}"
image: "{{ .Values.c.registry }}/{{ .Values.c.org }}/{{ .Values.c.repository }}:{{ .Values.c.tag }}"
image: {{ .Values.d.repository }}{{ if .Values.d.digest }}@{{ .Values.d.digest }}{{ end }}
{{- range .Values.extra }}
image: {{ .image }}
{{- end }}
{{ toYaml .Values.sidecars | nindent 8 }}
{{ if .Values.flag }}x{{ end }}"#,
        ]);
        let w = |p: &str| match r.judge(p) {
            Judged::Written(x) => x,
            other => panic!("{p}: {other:?}"),
        };
        assert!(w("a.image").tag && !w("a.image").plain);
        assert!(w("b.image.repository").plain);
        assert!(w("c.repository").prefix && w("c.repository").tag);
        assert!(w("d.repository").digest);
        assert!(w("extra[3].image").plain);
        assert_eq!(r.judge("sidecars[0].image"), Judged::Verbatim);
        assert_eq!(r.judge("flag"), Judged::Mentioned);
        assert_eq!(r.judge("config.token.image"), Judged::Unseen);
    }

    #[test]
    fn through_helpers_and_printf() {
        let helpers = r#"{{- define "x.image" -}}
{{- $repo := .Values.image.repository -}}
{{- printf "%s:%s" $repo (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- define "x.plain" -}}{{ .repository }}{{- end -}}"#;
        let r = renders(&[
            helpers,
            r#"image: {{ include "x.image" . }}
image: quay.io/{{ include "x.plain" .Values.side }}
{{ include "lib.all" .Values.lib }}"#,
        ]);
        assert!(matches!(r.judge("image.repository"), Judged::Written(x) if x.tag));
        assert!(matches!(r.judge("side.repository"), Judged::Written(x) if x.prefix && !x.tag));
        // A helper the chart does not define names its argument.
        assert_eq!(r.judge("lib.image"), Judged::Mentioned);
        // Only a helper the chart does not define leaves a value unread.
        assert_eq!(
            r.unread_helper("lib.image.registry"),
            Some(("lib".to_string(), "lib.all"))
        );
        assert_eq!(r.unread_helper("side.repository"), None);
        assert_eq!(r.unread_helper("image.repository"), None);
    }

    #[test]
    fn unread_helpers_through_defined_ones() {
        // Bitnami's shape: the chart's helper hands a map to the library's.
        let r = renders(&[
            r#"{{- define "app.metrics.image" -}}
{{ include "common.images.image" (dict "imageRoot" .Values.metrics.image "global" .Values.global) }}
{{- end -}}"#,
            r#"name: {{ include "common.names.fullname" . }}
image: {{ include "app.metrics.image" . }}"#,
        ]);
        assert_eq!(
            r.unread_helper("metrics.image.repository"),
            Some(("metrics.image".to_string(), "common.images.image"))
        );
        // Elsewhere only the whole context was handed to a library helper.
        assert_eq!(
            r.unread_helper("other.image.repository"),
            Some((String::new(), "common.names.fullname"))
        );
    }
}

#[cfg(test)]
mod registry_elsewhere_tests {
    use super::*;

    fn elsewhere(texts: &[&str]) -> Vec<String> {
        let mut r = DigestReader::default();
        for t in texts {
            r.add(t);
        }
        r.finish_with_renders()
            .1
            .registry_elsewhere
            .into_keys()
            .collect()
    }

    #[test]
    fn a_helper_with_a_default_registry_chain() {
        // kyverno's `kyverno.image`.
        let helper = r#"{{- define "kyverno.image" -}}
{{- $tag := default .defaultTag .image.tag -}}
{{- $imageRegistry := default (default .image.defaultRegistry .globalRegistry) .image.registry -}}
{{- if $imageRegistry -}}
  {{- print $imageRegistry "/" (required "An image repository is required" .image.repository) ":" $tag -}}
{{- else -}}
  {{- print (required "An image repository is required" .image.repository) ":" $tag -}}
{{- end -}}
{{- end -}}
{{- define "plain.image" -}}
{{ with .registry }}{{ . }}/{{ end }}{{ .repository }}:{{ .tag }}
{{- end -}}
{{- define "literal.image" -}}
{{ default "ghcr.io" .registry }}/{{ .repository }}
{{- end -}}
{{- define "two.images" -}}
{{ .a.registry }}/{{ .a.repository }} {{ .b.registry }}/{{ .b.repository }}
{{- end -}}"#;
        let body = r#"image: {{ include "kyverno.image" (dict "globalRegistry" ((.Values.global).image).registry "image" .Values.admission.image "defaultTag" (default .Chart.AppVersion .Values.admission.image.tag)) | quote }}
image: {{ include "plain.image" .Values.plain.image }}
image: {{ include "literal.image" .Values.lit.image }}
image: {{ include "two.images" .Values.two }}"#;
        assert_eq!(elsewhere(&[helper, body]), ["admission.image", "lit.image"]);
    }

    #[test]
    fn a_file_body_with_a_registry_variable() {
        let body = r#"{{- $reg := default .Values.a.image.defaultRegistry .Values.a.image.registry -}}
image: {{ print $reg "/" .Values.a.image.repository }}
{{- $own := .Values.b.image.registry }}
image: {{ print $own "/" .Values.b.image.repository }}
image: {{ printf "%s/%s" .Values.global.imageRegistry .Values.c.image.repository }}
image: {{ .Values.d.image.registry }}/{{ .Values.d.image.repository }}
image: {{ .Values.e.image.repository }}"#;
        assert_eq!(elsewhere(&[body]), ["a.image", "c.image"]);
    }
}

#[cfg(test)]
mod list_argument_tests {
    use super::*;

    fn sources(texts: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
        let mut r = DigestReader::default();
        for t in texts {
            r.add(t);
        }
        r.finish_with_renders().1.registry_elsewhere
    }

    #[test]
    fn a_helper_given_a_list_reads_the_paths_its_items_name() {
        // jfrog/charts `pipelines.getImageInfoByValue`.
        let helper = r#"{{- define "p.image" -}}
{{- $dot := index . 0 }}
{{- $a := index . 1 }}
{{- $b := index . 2 }}
{{- $registryName := default $dot.Values.imageRegistry (index $dot.Values $a $b "image" "registry") -}}
{{- $repositoryName := index $dot.Values $a $b "image" "repository" -}}
{{- if $dot.Values.global.imageRegistry }}
{{- printf "%s/%s" $dot.Values.global.imageRegistry $repositoryName -}}
{{- else -}}
{{- printf "%s/%s" $registryName $repositoryName -}}
{{- end -}}
{{- end -}}
{{- define "wrap" -}}{{ include "p.image" (list (index . 0) "x" (index . 1)) }}{{- end -}}"#;
        let body = r#"image: {{ include "p.image" (list . "pipelines" "api" ) }}
image: {{ include "wrap" (list . "www") }}
image: {{ include "p.image" (list . .Values.name "api") }}"#;
        let got = sources(&[helper, body]);
        let want: BTreeSet<String> = ["global.imageRegistry", "imageRegistry"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(got.get("pipelines.api.image"), Some(&want), "{got:?}");
        // A key that is not a string literal at the call: not followed.
        assert_eq!(got.len(), 1, "{got:?}");
    }

    #[test]
    fn long_lists_and_many_indexes_end() {
        let many = "index . ".repeat(50_000);
        let items = "\"a\" ".repeat(50_000);
        let text = format!(
            "{{{{ define \"h\" }}}}{{{{ $x := {many} }}}}{{{{ index .Values.registry {items} }}}}{{{{ end }}}}{{{{ include \"h\" (list . {items}) }}}}"
        );
        let start = std::time::Instant::now();
        let _ = sources(&[&text]);
        assert!(start.elapsed() < std::time::Duration::from_secs(20));
    }
}
