//! YAML with byte spans, on top of libyaml's event stream (libyaml's
//! grammar, as go-yaml and PyYAML read YAML).
//!
//! A scalar's bytes are "verbatim" (editable in place) only when the text
//! between its delimiters is exactly its value.

use crate::site::{Span, SyntaxError};
use events::{EventData, Mark, Parser, ScalarStyle};
use std::cell::Cell;
use std::collections::HashMap;

mod events;

/// How a scalar is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Block,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar {
    pub value: String,
    pub style: Style,
    /// An explicit tag (`!!str 1.10`) decides the type itself.
    pub tagged: bool,
    /// The scalar as written, quotes included.
    pub span: Span,
    /// The bytes between the quotes when they are exactly `value`.
    pub content: Option<Span>,
}

impl From<&Scalar> for crate::site::Slot {
    fn from(s: &Scalar) -> Self {
        crate::site::Slot {
            span: s.span,
            content: s.content,
            value: s.value.clone(),
        }
    }
}

impl Scalar {
    /// A plain scalar that YAML's core schema reads as a number.
    pub fn is_number(&self) -> bool {
        self.style == Style::Plain && !self.tagged && looks_numeric(&self.value)
    }
}

/// YAML 1.2 core schema int/float (plus YAML 1.1 forms Helm's parser uses).
pub fn looks_numeric(s: &str) -> bool {
    let t = s.strip_prefix(['+', '-']).unwrap_or(s);
    if t.is_empty() {
        return false;
    }
    if let Some(hex) = t.strip_prefix("0x") {
        return !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit());
    }
    if let Some(oct) = t.strip_prefix("0o") {
        return !oct.is_empty() && oct.bytes().all(|b| (b'0'..=b'7').contains(&b));
    }
    if matches!(t, ".inf" | ".Inf" | ".INF") {
        return true;
    }
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let digits_dot = !mantissa.is_empty()
        && mantissa
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'_')
        && mantissa.bytes().filter(|&b| b == b'.').count() <= 1
        && mantissa.bytes().any(|b| b.is_ascii_digit());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    digits_dot && exponent_ok
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Scalar(Scalar),
    Map(Vec<(Node, Node)>, Span),
    Seq(Vec<Node>, Span),
    Alias(usize),
}

impl Node {
    pub fn as_scalar(&self) -> Option<&Scalar> {
        match self {
            Node::Scalar(s) => Some(s),
            _ => None,
        }
    }

    pub fn start(&self) -> usize {
        match self {
            Node::Scalar(s) => s.span.start,
            Node::Map(_, span) | Node::Seq(_, span) => span.start,
            Node::Alias(_) => 0,
        }
    }
}

/// One document of a stream, with its anchors.
#[derive(Debug, Clone)]
pub struct Document {
    pub root: Node,
    anchors: HashMap<usize, Node>,
    /// The anchors some alias names.
    aliased: std::collections::HashSet<usize>,
    /// Bounds alias expansion (an alias bomb must not hang refit).
    budget: Cell<usize>,
}

/// How deeply collections may nest: walks over the tree recurse, so a
/// deeper file is an error (E004) rather than a stack overflow.
pub const MAX_DEPTH: usize = 256;

/// How many nodes a walk may visit through aliases per document.
const ALIAS_BUDGET: usize = 100_000;

impl Document {
    /// Follow an alias to the node it names.
    pub fn resolve<'a>(&'a self, node: &'a Node) -> &'a Node {
        let mut n = node;
        for _ in 0..64 {
            match n {
                Node::Alias(id) => match self.anchors.get(id) {
                    Some(target) => {
                        let left = self.budget.get();
                        if left == 0 {
                            return &NULL;
                        }
                        self.budget.set(left - 1);
                        n = target;
                    }
                    None => return &NULL,
                },
                _ => return n,
            }
        }
        &NULL
    }

    /// The spans of the scalars that carry an anchor some alias names:
    /// editing one changes every place that uses it.
    pub fn aliased_scalars(&self) -> Vec<Span> {
        self.aliased
            .iter()
            .filter_map(|id| match self.anchors.get(id) {
                Some(Node::Scalar(s)) => Some(s.span),
                _ => None,
            })
            .collect()
    }

    pub fn exhausted(&self) -> bool {
        self.budget.get() == 0
    }

    /// An error when a walk ran out of alias budget (an alias bomb).
    pub fn check_budget(&self) -> Result<(), SyntaxError> {
        if self.exhausted() {
            return Err(SyntaxError {
                message: "YAML aliases expand beyond refit's limit".to_string(),
                span: Span::new(0, 0),
            });
        }
        Ok(())
    }

    /// A mapping's entries, merge keys (`<<: *x`, `<<: [*a, *b]`) followed;
    /// keys written in the mapping win over merged ones.
    pub fn entries<'a>(&'a self, node: &'a Node) -> Vec<(&'a str, &'a Node)> {
        let mut out: Vec<(&str, &Node)> = Vec::new();
        self.collect_entries(node, &mut out, 0);
        out
    }

    fn collect_entries<'a>(
        &'a self,
        node: &'a Node,
        out: &mut Vec<(&'a str, &'a Node)>,
        depth: usize,
    ) {
        if depth > 16 {
            return;
        }
        let Node::Map(pairs, _) = self.resolve(node) else {
            return;
        };
        let mut merges = Vec::new();
        for (k, v) in pairs {
            let Some(key) = self.resolve(k).as_scalar() else {
                continue;
            };
            if key.value == "<<" && key.style == Style::Plain {
                merges.push(v);
            } else if !out.iter().any(|(existing, _)| *existing == key.value) {
                out.push((key.value.as_str(), v));
            }
        }
        for m in merges {
            match self.resolve(m) {
                Node::Seq(items, _) => {
                    for item in items {
                        self.collect_entries(item, out, depth + 1);
                    }
                }
                other => self.collect_entries(other, out, depth + 1),
            }
        }
    }

    /// The value of `key` in a mapping, as [`Document::entries`] has it:
    /// the first key written in the mapping, else the first merged one.
    /// The written keys are scanned in place (no list of entries built,
    /// and no duplicate check, which made a lookup quadratic in the
    /// mapping's size); merge keys are followed only when none matched.
    pub fn get<'a>(&'a self, node: &'a Node, key: &str) -> Option<&'a Node> {
        let Node::Map(pairs, _) = self.resolve(node) else {
            return None;
        };
        let mut merges = false;
        for (k, v) in pairs {
            let Some(written) = self.resolve(k).as_scalar() else {
                continue;
            };
            if written.value == "<<" && written.style == Style::Plain {
                merges = true;
            } else if written.value == key {
                return Some(self.resolve(v));
            }
        }
        if !merges {
            return None;
        }
        self.entries(node)
            .into_iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| self.resolve(v))
    }

    pub fn get_scalar<'a>(&'a self, node: &'a Node, key: &str) -> Option<&'a Scalar> {
        self.get(node, key).and_then(Node::as_scalar)
    }

    pub fn items<'a>(&'a self, node: &'a Node) -> Vec<&'a Node> {
        match self.resolve(node) {
            Node::Seq(items, _) => items.iter().map(|i| self.resolve(i)).collect(),
            _ => Vec::new(),
        }
    }
}

static NULL: Node = Node::Seq(Vec::new(), Span { start: 0, end: 0 });

/// Skip anchors (`&a`), tags (`!t`) and the blanks, line breaks and
/// comments between them and the node they belong to.
fn skip_properties(text: &str, mut at: usize, end: usize) -> usize {
    let b = text.as_bytes();
    let end = end.min(b.len());
    loop {
        while at < end && matches!(b[at], b' ' | b'\t' | b'\n' | b'\r') {
            at += 1;
        }
        if at < end && (b[at] == b'&' || b[at] == b'!') {
            while at < end && !matches!(b[at], b' ' | b'\t' | b'\n' | b'\r') {
                at += 1;
            }
            // A comment can follow a property only after a blank.
            let mut i = at;
            while i < end && matches!(b[i], b' ' | b'\t') {
                i += 1;
            }
            if i > at && i < end && b[i] == b'#' {
                while i < end && b[i] != b'\n' {
                    i += 1;
                }
                at = i;
            }
        } else {
            return at;
        }
    }
}

/// A scalar's span as written (quotes included) and, when the bytes
/// between its delimiters are exactly its value, those bytes.
fn scalar_spans(
    text: &str,
    start: usize,
    end: usize,
    value: &str,
    style: Style,
    has_properties: bool,
) -> (Span, Option<Span>) {
    let at = if has_properties {
        skip_properties(text, start, end)
    } else {
        start
    };
    let end = end.max(at).min(text.len());
    let span = Span::new(at, end);
    let content = match style {
        Style::Plain => span,
        Style::SingleQuoted | Style::DoubleQuoted if end >= at + 2 => Span::new(at + 1, end - 1),
        _ => return (span, None),
    };
    let verbatim = text.get(content.start..content.end) == Some(value);
    (span, verbatim.then_some(content))
}

enum Frame {
    Map(Vec<(Node, Node)>, Option<Node>, Span, usize),
    Seq(Vec<Node>, Span, usize),
}

type SharedParse = Result<std::rc::Rc<Vec<Document>>, SyntaxError>;
thread_local! {
    /// The text `parse_shared` parsed last on this thread, and its result.
    static LAST: std::cell::RefCell<Option<(String, SharedParse)>> =
        const { std::cell::RefCell::new(None) };
}

/// Drop the tree `parse_shared` keeps on this thread (a file's check is
/// over: its tree need not stay in memory while the next file is read).
pub fn forget_shared() {
    LAST.with(|last| last.borrow_mut().take());
}

/// `parse`, shared between the passes over one file: the last text parsed
/// this way on the thread is kept with its documents, so the front-end,
/// the anchor check and REG004's values key parse a file once, not once
/// each. Every call hands the documents out with their alias budgets full
/// again, as a fresh parse has them (a caller still walking documents an
/// earlier call handed out would see its budget refilled: none does).
pub fn parse_shared(text: &str) -> Result<std::rc::Rc<Vec<Document>>, SyntaxError> {
    let kept = LAST.with(|last| {
        last.borrow()
            .as_ref()
            .filter(|(t, _)| t == text)
            .map(|(_, parsed)| parsed.clone())
    });
    if let Some(parsed) = kept {
        if let Ok(docs) = &parsed {
            for doc in docs.iter() {
                doc.budget.set(ALIAS_BUDGET);
            }
        }
        return parsed;
    }
    let parsed = parse(text).map(std::rc::Rc::new);
    LAST.with(|last| *last.borrow_mut() = Some((text.to_string(), parsed.clone())));
    parsed
}

/// Parse a YAML stream into documents with spans.
///
/// kubectl, Helm and Compose read YAML with go-yaml, and PyYAML with
/// libyaml; go-yaml is a port of libyaml. refit parses with libyaml itself
/// (see `events`), so it accepts what those tools accept
/// (quoted scalars continued at a smaller indentation, flow collections
/// that ignore indentation) and rejects what they reject. Its marks are
/// byte offsets into the text (after a leading BOM), so every span points
/// into the file as written. An alias to an anchor the document does not
/// define is an error, as it is for PyYAML and go-yaml.
pub fn parse(text: &str) -> Result<Vec<Document>, SyntaxError> {
    // libyaml consumes a leading BOM before its first mark.
    let base = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let Some(mut parser) = Parser::new(text) else {
        return Err(SyntaxError {
            message: "invalid YAML: the parser could not start".to_string(),
            span: Span::new(0, 0),
        });
    };
    let at = |mark: Mark| boundary(text, mark.index.saturating_add(base));
    let mut docs = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    // Anchor names of the current document → ids; a redefined anchor gets
    // a new id, so aliases before and after it keep their own target.
    let mut names: HashMap<String, usize> = HashMap::new();
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut aliased: std::collections::HashSet<usize> = std::collections::HashSet::new();
    let mut root: Option<Node> = None;
    let mut events = 0usize;
    loop {
        events += 1;
        let event = parser
            .next_event()
            .map_err(|e| syntax_error(&e, base, text))?;
        let start = at(event.start);
        let end = at(event.end);
        let mut anchor_id = |anchor: Option<String>| match anchor {
            Some(name) => {
                let id = names.len() + 1;
                names.insert(name, id);
                id
            }
            None => 0,
        };
        let finished: Option<(Node, usize)> = match event.data {
            EventData::StreamStart => None,
            EventData::StreamEnd => break,
            EventData::DocumentStart => {
                anchors.clear();
                aliased.clear();
                names.clear();
                root = None;
                None
            }
            EventData::DocumentEnd => {
                docs.push(Document {
                    root: root
                        .take()
                        .unwrap_or(Node::Seq(Vec::new(), Span::new(start, start))),
                    anchors: std::mem::take(&mut anchors),
                    aliased: std::mem::take(&mut aliased),
                    budget: Cell::new(ALIAS_BUDGET),
                });
                None
            }
            EventData::Alias { anchor } => match names.get(&anchor) {
                Some(&id) => {
                    aliased.insert(id);
                    Some((Node::Alias(id), 0))
                }
                None => {
                    return Err(SyntaxError {
                        message: format!(
                            "invalid YAML: found undefined alias `{anchor}` (line {}, column {})",
                            event.start.line + 1,
                            event.start.column + 1
                        ),
                        span: Span::new(start, end),
                    });
                }
            },
            EventData::Scalar {
                anchor,
                tag,
                value,
                style,
            } => {
                let style = match style {
                    ScalarStyle::SingleQuoted => Style::SingleQuoted,
                    ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
                    ScalarStyle::Block => Style::Block,
                    ScalarStyle::Plain => Style::Plain,
                };
                let has_properties = anchor.is_some() || tag.is_some();
                let (span, content) = scalar_spans(text, start, end, &value, style, has_properties);
                Some((
                    Node::Scalar(Scalar {
                        value,
                        style,
                        tagged: tag.is_some(),
                        span,
                        content,
                    }),
                    anchor_id(anchor),
                ))
            }
            EventData::SequenceStart { .. } | EventData::MappingStart { .. }
                if stack.len() >= MAX_DEPTH =>
            {
                return Err(SyntaxError {
                    message: format!(
                        "YAML nested more than {MAX_DEPTH} levels deep (refit's limit)"
                    ),
                    span: Span::new(start, start),
                });
            }
            EventData::SequenceStart { anchor, .. } => {
                stack.push(Frame::Seq(
                    Vec::new(),
                    Span::new(start, start),
                    anchor_id(anchor),
                ));
                None
            }
            EventData::MappingStart { anchor, .. } => {
                stack.push(Frame::Map(
                    Vec::new(),
                    None,
                    Span::new(start, start),
                    anchor_id(anchor),
                ));
                None
            }
            EventData::SequenceEnd => match stack.pop() {
                Some(Frame::Seq(items, span, anchor)) => Some((
                    Node::Seq(items, Span::new(span.start, end.max(span.start))),
                    anchor,
                )),
                _ => None,
            },
            EventData::MappingEnd => match stack.pop() {
                Some(Frame::Map(pairs, _, span, anchor)) => Some((
                    Node::Map(pairs, Span::new(span.start, end.max(span.start))),
                    anchor,
                )),
                _ => None,
            },
        };
        // Keep a pathological stream from using unbounded memory.
        if events > 5_000_000 {
            return Err(SyntaxError {
                message: "YAML stream too large".to_string(),
                span: Span::new(start, start),
            });
        }
        let Some((node, anchor)) = finished else {
            continue;
        };
        if anchor != 0 {
            anchors.insert(anchor, node.clone());
        }
        match stack.last_mut() {
            Some(Frame::Seq(items, _, _)) => items.push(node),
            Some(Frame::Map(pairs, pending, _, _)) => match pending.take() {
                None => *pending = Some(node),
                Some(key) => pairs.push((key, node)),
            },
            None => root = Some(node),
        }
    }
    Ok(docs)
}

/// A byte offset of libyaml's, kept in the text and on a character
/// boundary (libyaml's marks always are; this only guards the spans).
fn boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// libyaml's error, worded as PyYAML words it ("while scanning a quoted
/// scalar: found unexpected end of stream"), at the problem's byte.
fn syntax_error(e: &events::Error, base: usize, text: &str) -> SyntaxError {
    let context = e
        .context
        .as_deref()
        .map(|c| format!("{c}: "))
        .unwrap_or_default();
    match e.mark {
        Some(mark) => {
            let at = boundary(text, mark.index.saturating_add(base));
            SyntaxError {
                message: format!(
                    "invalid YAML: {context}{} (line {}, column {})",
                    e.problem,
                    mark.line + 1,
                    mark.column + 1
                ),
                span: Span::new(at, at),
            }
        }
        // A reader error (a control character) has a byte offset, no line.
        None => {
            let at = boundary(text, e.offset);
            SyntaxError {
                message: format!("invalid YAML: {}", e.problem),
                span: Span::new(at, at),
            }
        }
    }
}

/// A Helm or Go template rather than YAML: refit skips these.
pub fn is_templated(text: &str) -> bool {
    text.contains("{{")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_quotes_and_comments() {
        let text =
            "a: node:20  # c\nb: &x \"q:1\"\nc: 'it''s'\nd: [ \"ghcr.io/a:1\" , b ]\ne: *x\n";
        let docs = parse(text).unwrap();
        let doc = &docs[0];
        let get = |k: &str| doc.get_scalar(&doc.root, k).unwrap().clone();
        let a = get("a");
        assert_eq!(
            &text[a.content.unwrap().start..a.content.unwrap().end],
            "node:20"
        );
        let b = get("b");
        assert_eq!(
            &text[b.content.unwrap().start..b.content.unwrap().end],
            "q:1"
        );
        assert_eq!(&text[b.span.start..b.span.end], "\"q:1\"");
        assert_eq!(get("c").content, None, "an escaped quote is not verbatim");
        let e = get("e");
        assert_eq!(e.span, b.span, "an alias is its anchor");
        let d = doc.items(doc.get(&doc.root, "d").unwrap());
        let first = d[0].as_scalar().unwrap();
        assert_eq!(
            &text[first.content.unwrap().start..first.content.unwrap().end],
            "ghcr.io/a:1"
        );
    }

    #[test]
    fn merge_keys_and_documents() {
        let text = "base: &b {image: x:1, tag: \"2\"}\nsvc:\n  <<: *b\n  tag: '3'\n---\nk: v\n";
        let docs = parse(text).unwrap();
        assert_eq!(docs.len(), 2);
        let doc = &docs[0];
        let svc = doc.get(&doc.root, "svc").unwrap();
        assert_eq!(doc.get_scalar(svc, "image").unwrap().value, "x:1");
        assert_eq!(doc.get_scalar(svc, "tag").unwrap().value, "3");
    }

    #[test]
    fn get_agrees_with_entries() {
        // Written keys win over merged ones wherever the merge is, the
        // first of a repeated key wins, a quoted `<<` is a plain key, and
        // a merged key is found when no written one matches.
        let text = concat!(
            "a: &a {x: 1, y: 2, z: 3}\nb: &b {z: 4, w: 5}\n",
            "m:\n  y: 9\n  <<: [*a, *b]\n  y: 10\n  '<<': q\n"
        );
        let docs = parse(text).unwrap();
        let doc = &docs[0];
        let m = doc.get(&doc.root, "m").unwrap();
        for key in ["x", "y", "z", "w", "<<", "v"] {
            let from_entries = doc
                .entries(m)
                .into_iter()
                .find(|(k, _)| *k == key)
                .and_then(|(_, v)| doc.resolve(v).as_scalar())
                .map(|s| s.value.clone());
            let got = doc.get_scalar(m, key).map(|s| s.value.clone());
            assert_eq!(got, from_entries, "{key}");
        }
        assert_eq!(doc.get_scalar(m, "y").unwrap().value, "9");
        assert_eq!(doc.get_scalar(m, "z").unwrap().value, "3");
        assert_eq!(doc.get_scalar(m, "<<").unwrap().value, "q");
    }

    #[test]
    fn unicode_offsets_and_errors() {
        let text = "# ünïcode\nimage: \"nginx:1\"\n";
        let doc = &parse(text).unwrap()[0];
        let s = doc.get_scalar(&doc.root, "image").unwrap();
        assert_eq!(
            &text[s.content.unwrap().start..s.content.unwrap().end],
            "nginx:1"
        );
        let e = parse("a: [\n").unwrap_err();
        assert!(e.message.starts_with("invalid YAML"), "{}", e.message);
    }

    #[test]
    fn go_yaml_style_flow_closers() {
        let text = "a:\n  args: [\n    \"x\",\n    \"y\"\n  ]\n  image: \"nginx:1\"\n";
        let doc = &parse(text).unwrap()[0];
        let a = doc.get(&doc.root, "a").unwrap();
        let s = doc.get_scalar(a, "image").unwrap();
        assert_eq!(
            &text[s.content.unwrap().start..s.content.unwrap().end],
            "nginx:1"
        );
        assert_eq!(doc.items(doc.get(a, "args").unwrap()).len(), 2);
    }

    #[test]
    fn under_indented_quoted_scalars() {
        // go-yaml and PyYAML read these; YAML 1.2 wants the continuation
        // lines indented more than the key.
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  annotations:\n    b: \"hello\n world \\\n  again\"\n    c: 'one\n\n  two'\nspec:\n  containers:\n  - name: x\n    image: \"nginx:1.27\"\n    args: ['a\n  b', \"c\"]\n";
        let doc = &parse(text).unwrap()[0];
        let ann = doc
            .get(doc.get(&doc.root, "metadata").unwrap(), "annotations")
            .unwrap();
        let b = doc.get_scalar(ann, "b").unwrap();
        assert_eq!(b.value, "hello world again");
        assert_eq!(b.content, None);
        assert_eq!(
            &text[b.span.start..b.span.end],
            "\"hello\n world \\\n  again\""
        );
        assert_eq!(doc.get_scalar(ann, "c").unwrap().value, "one\ntwo");
        let spec = doc.get(&doc.root, "spec").unwrap();
        let c = doc.items(doc.get(spec, "containers").unwrap())[0];
        let image = doc.get_scalar(c, "image").unwrap();
        assert_eq!(
            &text[image.content.unwrap().start..image.content.unwrap().end],
            "nginx:1.27"
        );
        let args: Vec<String> = doc
            .items(doc.get(c, "args").unwrap())
            .iter()
            .map(|n| n.as_scalar().unwrap().value.clone())
            .collect();
        assert_eq!(args, ["a b", "c"]);
        // A flow entry on a line indented less than the key.
        let text = "a:\n  b:\n    args: ['--port',\n  '80', x]\n    image: \"nginx:1\"\n";
        let doc = &parse(text).unwrap()[0];
        let b = doc.get(doc.get(&doc.root, "a").unwrap(), "b").unwrap();
        assert_eq!(doc.items(doc.get(b, "args").unwrap()).len(), 3);
        let image = doc.get_scalar(b, "image").unwrap();
        assert_eq!(
            &text[image.content.unwrap().start..image.content.unwrap().end],
            "nginx:1"
        );
        // Still an error where libyaml stops too: an unterminated scalar.
        assert!(parse("a:\n  b: \"x\ny\n").is_err());
    }

    #[test]
    fn numbers() {
        for n in ["1.10", "1", "-2", "1e3", "0x1f", "0o7", "1_000", ".inf"] {
            assert!(looks_numeric(n), "{n}");
        }
        for s in ["1.10.0", "v1", "1.2-alpine", "", "latest", "1e", "0x"] {
            assert!(!looks_numeric(s), "{s}");
        }
    }

    #[test]
    fn alias_bomb_is_bounded() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        let doc = &parse(&text).unwrap()[0];
        fn walk(doc: &Document, n: &Node, count: &mut usize) {
            *count += 1;
            for item in doc.items(n) {
                walk(doc, item, count);
            }
        }
        let mut count = 0;
        walk(doc, doc.get(&doc.root, "a11").unwrap(), &mut count);
        assert!(doc.exhausted());
    }
}
