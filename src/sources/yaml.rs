//! YAML with byte spans, on top of saphyr-parser's event stream.
//!
//! The parser reports positions in characters and a scalar's span can run
//! over a following comment, so exact spans are recomputed here from the
//! text: a scalar's bytes are "verbatim" (editable in place) only when the
//! text between its delimiters is exactly its value.

use crate::site::{Span, SyntaxError};
use saphyr_parser::{Event, Parser, ScalarStyle};
use std::cell::Cell;
use std::collections::HashMap;

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

    pub fn get<'a>(&'a self, node: &'a Node, key: &str) -> Option<&'a Node> {
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

/// Character index → byte offset, for texts that are not all ASCII.
struct Offsets {
    table: Option<Vec<usize>>,
    len: usize,
}

impl Offsets {
    fn new(text: &str) -> Offsets {
        let table = (!text.is_ascii()).then(|| {
            let mut t: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
            t.push(text.len());
            t
        });
        Offsets {
            table,
            len: text.len(),
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        match &self.table {
            None => char_index.min(self.len),
            Some(t) => t.get(char_index).copied().unwrap_or(self.len),
        }
    }
}

/// Skip anchors (`&a`) and tags (`!t`) in front of a node.
fn skip_properties(text: &str, mut at: usize) -> usize {
    let b = text.as_bytes();
    loop {
        while at < b.len() && matches!(b[at], b' ' | b'\t') {
            at += 1;
        }
        if at < b.len() && (b[at] == b'&' || b[at] == b'!') {
            while at < b.len() && !matches!(b[at], b' ' | b'\t' | b'\n' | b'\r') {
                at += 1;
            }
        } else {
            return at;
        }
    }
}

fn scalar_spans(
    text: &str,
    start: usize,
    event_end: usize,
    value: &str,
    style: Style,
) -> (Span, Option<Span>) {
    let b = text.as_bytes();
    let at = skip_properties(text, start);
    match style {
        Style::Plain => {
            let end = at + value.len();
            let verbatim = text.get(at..end) == Some(value);
            let span = if verbatim {
                Span::new(at, end)
            } else {
                Span::new(at, event_end.max(at))
            };
            (span, verbatim.then_some(span))
        }
        Style::SingleQuoted | Style::DoubleQuoted => {
            let quote = if style == Style::SingleQuoted {
                b'\''
            } else {
                b'"'
            };
            if b.get(at) != Some(&quote) {
                return (Span::new(at, event_end.max(at)), None);
            }
            let mut i = at + 1;
            while i < b.len() {
                if quote == b'"' && b[i] == b'\\' {
                    i += 2;
                    continue;
                }
                if b[i] == quote {
                    if quote == b'\'' && b.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            let end = i.min(b.len());
            let content = Span::new(at + 1, end);
            let verbatim = text.get(content.start..content.end) == Some(value);
            (
                Span::new(at, (end + 1).min(b.len())),
                verbatim.then_some(content),
            )
        }
        Style::Block => (Span::new(at, event_end.max(at)), None),
    }
}

enum Frame {
    Map(Vec<(Node, Node)>, Option<Node>, Span, usize),
    Seq(Vec<Node>, Span, usize),
}

/// Parse a YAML stream into documents with spans.
///
/// go-yaml (Helm, Compose, kubectl) accepts a flow collection whose closing
/// bracket sits at the parent's indentation (`args: [` … `]`), which YAML
/// 1.2 and saphyr reject. On that error the parse is retried with each such
/// bracket moved to the end of the line before it: the text keeps its
/// length and every offset, so spans still point into the original.
pub fn parse(text: &str) -> Result<Vec<Document>, SyntaxError> {
    match parse_exact(text) {
        Err(e) if e.message.contains("indentation") => match relax_flow_closers(text) {
            Some(relaxed) => parse_exact(&relaxed).map_err(|_| e),
            None => Err(e),
        },
        other => other,
    }
}

/// Move a line's lone `]` or `}` to the end of the previous line (same
/// length), unless that line has a comment the bracket would fall into.
fn relax_flow_closers(text: &str) -> Option<String> {
    let mut bytes = text.as_bytes().to_vec();
    let mut changed = false;
    let mut line_start = 0;
    let mut prev: Option<(usize, usize)> = None;
    while line_start < bytes.len() {
        let line_end = bytes[line_start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| line_start + i);
        let line = &bytes[line_start..line_end];
        let trimmed: Vec<u8> = line
            .iter()
            .copied()
            .filter(|b| !b" \t\r".contains(b))
            .collect();
        if matches!(trimmed.as_slice(), b"]" | b"}" | b"]," | b"},")
            && let Some((ps, pe)) = prev
        {
            let prev_line = &bytes[ps..pe];
            let has_comment = prev_line.contains(&b'#');
            let crlf = pe > ps && bytes[pe - 1] == b'\r';
            let at = line_start + line.iter().position(|b| !b" \t".contains(b)).unwrap_or(0);
            // Only a closer (and comma) written together on the line right
            // after: the rewrite moves exactly those bytes, keeping offsets.
            let adjacent = pe + 1 == line_start
                && bytes.get(at..at + trimmed.len()) == Some(trimmed.as_slice());
            if !has_comment && !crlf && adjacent {
                let closer = bytes[at];
                let comma = bytes.get(at + 1) == Some(&b',');
                // prev_line + "\n" + indent + closer[,] → prev_line + closer[,] + "\n" + indent
                let n = 1 + usize::from(comma);
                let indent = at - line_start;
                let mut segment = Vec::with_capacity(indent + n + 1);
                segment.push(closer);
                if comma {
                    segment.push(b',');
                }
                segment.push(b'\n');
                segment.extend(std::iter::repeat_n(b' ', indent));
                bytes[pe..at + n].copy_from_slice(&segment);
                changed = true;
            }
        }
        if !trimmed.is_empty() {
            prev = Some((line_start, line_end));
        }
        line_start = line_end + 1;
    }
    if !changed {
        return None;
    }
    String::from_utf8(bytes).ok()
}

fn parse_exact(text: &str) -> Result<Vec<Document>, SyntaxError> {
    let offsets = Offsets::new(text);
    let mut parser = Parser::new_from_str(text);
    let mut docs = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut root: Option<Node> = None;
    let mut events = 0usize;
    while let Some(result) = parser.next_event() {
        events += 1;
        let (event, span) = result.map_err(|e| {
            let at = offsets.byte(e.marker().index());
            SyntaxError {
                message: format!(
                    "invalid YAML: {} (line {}, column {})",
                    e.info(),
                    e.marker().line(),
                    e.marker().col() + 1
                ),
                span: Span::new(at, at),
            }
        })?;
        let start = offsets.byte(span.start.index());
        let end = offsets.byte(span.end.index());
        let finished: Option<(Node, usize)> = match event {
            Event::StreamStart | Event::Nothing => None,
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                anchors.clear();
                root = None;
                None
            }
            Event::DocumentEnd => {
                docs.push(Document {
                    root: root
                        .take()
                        .unwrap_or(Node::Seq(Vec::new(), Span::new(start, start))),
                    anchors: std::mem::take(&mut anchors),
                    budget: Cell::new(ALIAS_BUDGET),
                });
                None
            }
            Event::Alias(id) => Some((Node::Alias(id), 0)),
            Event::Scalar(value, style, anchor, tag) => {
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted => Style::SingleQuoted,
                    ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
                    _ => Style::Block,
                };
                let (span, content) = scalar_spans(text, start, end, &value, style);
                Some((
                    Node::Scalar(Scalar {
                        value: value.into_owned(),
                        style,
                        tagged: tag.is_some(),
                        span,
                        content,
                    }),
                    anchor,
                ))
            }
            Event::SequenceStart(..) | Event::MappingStart(..) if stack.len() >= MAX_DEPTH => {
                return Err(SyntaxError {
                    message: format!(
                        "YAML nested more than {MAX_DEPTH} levels deep (refit's limit)"
                    ),
                    span: Span::new(start, start),
                });
            }
            Event::SequenceStart(anchor, _) => {
                stack.push(Frame::Seq(Vec::new(), Span::new(start, start), anchor));
                None
            }
            Event::MappingStart(anchor, _) => {
                stack.push(Frame::Map(
                    Vec::new(),
                    None,
                    Span::new(start, start),
                    anchor,
                ));
                None
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq(items, span, anchor)) => Some((
                    Node::Seq(items, Span::new(span.start, end.max(span.start))),
                    anchor,
                )),
                _ => None,
            },
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map(pairs, _, span, anchor)) => Some((
                    Node::Map(pairs, Span::new(span.start, end.max(span.start))),
                    anchor,
                )),
                _ => None,
            },
        };
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
        // Keep a pathological stream from using unbounded memory.
        if events > 5_000_000 {
            return Err(SyntaxError {
                message: "YAML stream too large".to_string(),
                span: Span::new(start, start),
            });
        }
    }
    Ok(docs)
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
