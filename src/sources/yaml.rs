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
            // An empty value (`registry:`) is reported at its key's colon:
            // place it after the colon, so that an edit writing a value
            // there keeps the key.
            let at = if value.is_empty() && b.get(at) == Some(&b':') {
                at + 1
            } else {
                at
            };
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
            let end = closing_quote(b, at, quote);
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
/// saphyr follows YAML 1.2 strictly where go-yaml (kubectl, Helm, Compose)
/// and PyYAML, both ports of libyaml, are lenient. Two such cases are read
/// the way those tools read them, without moving any byte:
///
/// - a flow collection whose closing bracket sits at the parent's
///   indentation (`args: [` … `]`): the parse is retried with each such
///   bracket moved to the end of the line before it (same length);
/// - a multi-line quoted scalar whose continuation lines are indented less
///   than its parent (`key: "a` / `b"` at column 0): the line breaks inside
///   that scalar are replaced by spaces (same length) and its value is
///   computed from the original text, folded as libyaml folds it.
///
/// Every offset of the relaxed text is the original's, so spans still point
/// into the file as written.
pub fn parse(text: &str) -> Result<Vec<Document>, SyntaxError> {
    let mut current = std::borrow::Cow::Borrowed(text);
    let mut overrides: HashMap<usize, String> = HashMap::new();
    let mut closers_relaxed = false;
    let mut first_error: Option<SyntaxError> = None;
    // Each retry fixes one scalar; a file with more than this many is
    // reported as written.
    for _ in 0..MAX_RELAXATIONS {
        let e = match parse_exact(&current, &overrides) {
            Ok(docs) => return Ok(docs),
            Err(e) => e,
        };
        let original = first_error.get_or_insert_with(|| e.clone()).clone();
        if e.message.contains("invalid indentation in quoted scalar")
            && let Some((relaxed, value)) = relax_quoted_scalar(&current, e.span.start)
        {
            overrides.insert(e.span.start, value);
            current = std::borrow::Cow::Owned(relaxed);
            continue;
        }
        if e.message.contains("indentation")
            && let Some(relaxed) = join_flow_line(&current, e.span.start)
        {
            current = std::borrow::Cow::Owned(relaxed);
            continue;
        }
        if e.message.contains("indentation")
            && !closers_relaxed
            && let Some(relaxed) = relax_flow_closers(&current)
        {
            closers_relaxed = true;
            current = std::borrow::Cow::Owned(relaxed);
            continue;
        }
        return Err(original);
    }
    Err(first_error.unwrap_or_else(|| SyntaxError {
        message: "invalid YAML".to_string(),
        span: Span::new(0, 0),
    }))
}

/// An entry of a flow collection on a line indented less than its parent
/// (`args: ['a',` / `'b']` at a smaller indentation): libyaml ignores
/// indentation inside flow collections. The line is joined to the previous
/// one, which must end inside the collection (`,`, `[` or `{`) and have no
/// comment, by replacing the line break with a space (same length).
fn join_flow_line(text: &str, at: usize) -> Option<String> {
    let b = text.as_bytes();
    let line_start = text.get(..at)?.rfind('\n')? + 1;
    if !b[line_start..at].iter().all(|c| matches!(c, b' ' | b'\t')) {
        return None;
    }
    // The previous line with content, skipping blank ones.
    let mut end = line_start - 1;
    let prev = loop {
        let start = text[..end].rfind('\n').map_or(0, |i| i + 1);
        let line = &text[start..end];
        if !line.trim().is_empty() {
            break line;
        }
        if start == 0 {
            return None;
        }
        end = start - 1;
    };
    if prev.contains('#') || !prev.trim_end().ends_with([',', '[', '{']) {
        return None;
    }
    let prev_end = end - prev.len() + prev.trim_end_matches('\r').len();
    let mut bytes = b.to_vec();
    for byte in &mut bytes[prev_end..line_start] {
        if matches!(*byte, b'\n' | b'\r') {
            *byte = b' ';
        }
    }
    String::from_utf8(bytes).ok()
}

/// The offset of the quote that closes the quoted scalar opening at `at`
/// (backslash escapes in double quotes, `''` in single quotes), or the end
/// of the text when it is not closed.
fn closing_quote(b: &[u8], at: usize, quote: u8) -> usize {
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
    i.min(b.len())
}

/// How many under-indented quoted scalars one file may have.
const MAX_RELAXATIONS: usize = 64;

/// The quoted scalar opening at `at`: its text with line breaks replaced by
/// spaces (same length), and its value as libyaml folds it.
fn relax_quoted_scalar(text: &str, at: usize) -> Option<(String, String)> {
    let b = text.as_bytes();
    let quote = *b.get(at)?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let i = closing_quote(b, at, quote);
    if i >= b.len() {
        return None;
    }
    let raw = text.get(at..=i)?;
    let value = fold_quoted(raw)?;
    let mut bytes = b.to_vec();
    for byte in &mut bytes[at..i] {
        if *byte == b'\n' || *byte == b'\r' {
            *byte = b' ';
        }
    }
    Some((String::from_utf8(bytes).ok()?, value))
}

/// The value of a quoted scalar written over several lines, whatever the
/// indentation of its continuation lines: each is re-indented by one space
/// (folding strips leading blanks, so the value is unchanged) and the
/// scalar is parsed alone, as a document of its own.
fn fold_quoted(raw: &str) -> Option<String> {
    let mut normalized = String::with_capacity(raw.len() + 16);
    for (n, line) in raw.split('\n').enumerate() {
        if n > 0 {
            normalized.push_str("\n ");
            normalized.push_str(line.trim_start_matches([' ', '\t']));
        } else {
            normalized.push_str(line);
        }
    }
    normalized.push('\n');
    let mut parser = Parser::new_from_str(&normalized);
    while let Some(Ok((event, _))) = parser.next_event() {
        if let Event::Scalar(value, ..) = event {
            return Some(value.into_owned());
        }
    }
    None
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

fn parse_exact(
    text: &str,
    overrides: &HashMap<usize, String>,
) -> Result<Vec<Document>, SyntaxError> {
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
                let (span, mut content) = scalar_spans(text, start, end, &value, style);
                let value = match overrides.get(&span.start) {
                    Some(folded) => {
                        content = None;
                        std::borrow::Cow::Owned(folded.clone())
                    }
                    None => value,
                };
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
