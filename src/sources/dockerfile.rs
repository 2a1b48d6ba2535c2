//! Dockerfile front-end: a parser that follows BuildKit's
//! (`frontend/dockerfile/parser` and `instructions`), keeping the byte offset
//! of everything it reads, and the image sites it finds.
//!
//! What it follows from BuildKit:
//! - parser directives (`# syntax=`, `# escape=`, `# check=`) at the top,
//!   ending at the first line that is not one (a blank line included);
//! - a BOM on the first line; CRLF or LF line ends;
//! - line continuations with the escape character (`\` or a backtick),
//!   skipping comment lines and empty lines inside them, and a
//!   continuation at the end of the file;
//! - heredocs on RUN, COPY and ADD (also under ONBUILD): any number per
//!   instruction, `<<-` (leading tabs stripped from the terminator line),
//!   quoted delimiters; an unterminated heredoc is an error;
//! - instruction keywords in any case, flags before arguments in any order,
//!   the JSON (exec) form and the shell form;
//! - `ARG` with several names and `NAME=value` pairs, quoted values;
//! - variable expansion as its shell lexer does it for `FROM`:
//!   `$V`, `${V}`, `${V:-w}`, `${V-w}`, `${V:+w}`, `${V+w}`, `${V:?m}`,
//!   quotes and escapes. An unset variable is reported, never guessed.

use super::SourceOptions;
use super::common::{Builder, MAX_EXPANDED, MAX_NESTING, OVER_LIMIT, Value, spend, too_deep};
use crate::diagnostic::LineIndex;
use crate::reference::Reference;
use crate::site::{
    ImageSite, Piece, Relation, SegmentMap, SiteKind, SiteValue, Span, Stage, StageInstruction,
    SyntaxError,
};
use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Parse a Dockerfile and return every image site in it, or the first
/// error `docker build` would stop at.
pub fn extract(text: &str, options: &SourceOptions) -> Result<Vec<ImageSite>, SyntaxError> {
    let parsed = parse(text)?;
    validate(&parsed)?;
    let mut found = sites(&parsed, options)?;
    mark_shared(&parsed, &mut found);
    Ok(found)
}

/// Mark the `ARG` defaults that more than one place in the file uses (two
/// `FROM` lines, a `FROM` and a `RUN`): a fix that edits such a default
/// changes every use, so fixes edit the use site instead
/// (`Extra::shared`). Uses are counted in the whole text, comments and
/// heredocs included, so a doubt counts as shared.
fn mark_shared(parsed: &Parsed, found: &mut [ImageSite]) {
    let mut defaults: Vec<(String, Span)> = Vec::new();
    for ins in parsed.instructions.iter().filter(|i| i.keyword == "arg") {
        for (name, value) in arg_pairs(&ins.logical, ins.rest) {
            if let Some(range) = value {
                defaults.push((name, ins.logical.file_span(range)));
            }
        }
    }
    if defaults.is_empty() {
        return;
    }
    // Uses that are a whole reference (`FROM $NAME`, `FROM "${NAME}"`) all
    // mean the same image and get the same fix: editing the default keeps
    // them equal. Any other use (a prefix, a suffix, a `RUN`) is shared.
    // Counted once for every name (maps: many ARGs stay linear).
    let mut whole: HashMap<&str, usize> = HashMap::new();
    for s in found.iter() {
        let raw = s.raw.trim_matches('"');
        if let Some(r) = raw.strip_prefix('$') {
            let name = r
                .strip_prefix('{')
                .and_then(|r| r.strip_suffix('}'))
                .unwrap_or(r);
            *whole.entry(name).or_default() += 1;
        }
    }
    let uses = all_variable_uses(parsed.text);
    let mut shared: Vec<Span> = defaults
        .iter()
        .filter(|(name, _)| {
            let n = uses.get(name.as_str()).copied().unwrap_or(0);
            n > 1 && n != whole.get(name.as_str()).copied().unwrap_or(0)
        })
        .map(|(_, span)| *span)
        .collect();
    if shared.is_empty() {
        return;
    }
    shared.sort_by_key(|s| (s.start, s.end));
    for site in found.iter_mut() {
        let SiteValue::Resolved { pieces, .. } = &site.value else {
            continue;
        };
        let mut marks: Vec<Span> = Vec::new();
        for f in pieces.iter().filter_map(|p| p.file) {
            // Defaults are disjoint: only the last one starting at or before
            // the piece can hold it.
            let upto = shared.partition_point(|s| s.start <= f.start);
            if let Some(s) = upto.checked_sub(1).map(|k| shared[k])
                && f.end <= s.end
            {
                marks.push(s);
            }
        }
        marks.sort_by_key(|s| (s.start, s.end));
        marks.dedup();
        site.extra.shared.append(&mut marks);
    }
}

/// How many times each name occurs as `$name` or `${name…}` in a text, in
/// one pass.
fn all_variable_uses(text: &str) -> HashMap<&str, usize> {
    let bytes = text.as_bytes();
    let is_name = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut counts: HashMap<&str, usize> = HashMap::new();
    let mut i = 0;
    while let Some(at) = text.get(i..).and_then(|t| t.find('$')) {
        let start = i + at + 1;
        let (from, braced) = if bytes.get(start) == Some(&b'{') {
            (start + 1, true)
        } else {
            (start, false)
        };
        let mut end = from;
        while end < bytes.len() && is_name(bytes[end]) {
            end += 1;
        }
        if end > from {
            let closes = !braced || bytes.get(end).is_some_and(|&b| b"}:-+?#%/".contains(&b));
            if closes && let Some(name) = text.get(from..end) {
                *counts.entry(name).or_default() += 1;
            }
        }
        i = start;
    }
    counts
}

// ---------------------------------------------------------------------------
// Physical and logical lines

/// One physical line: `[start, end)` without its line terminator.
#[derive(Debug, Clone, Copy)]
struct Line {
    start: usize,
    end: usize,
}

fn physical_lines(text: &str) -> Vec<Line> {
    let bytes = text.as_bytes();
    let mut lines = Vec::new();
    let mut start = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let mut i = start;
    while i < bytes.len() {
        if bytes[i] == b'\n' {
            let end = if i > start && bytes[i - 1] == b'\r' {
                i - 1
            } else {
                i
            };
            lines.push(Line { start, end });
            start = i + 1;
        }
        i += 1;
    }
    if start < bytes.len() {
        let end = if bytes[bytes.len() - 1] == b'\r' {
            bytes.len() - 1
        } else {
            bytes.len()
        };
        lines.push(Line { start, end });
    }
    lines
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c)
}

fn trim_left(text: &str, line: Line) -> usize {
    let bytes = text.as_bytes();
    let mut i = line.start;
    while i < line.end && is_space(bytes[i]) {
        i += 1;
    }
    i
}

fn is_comment(text: &str, line: Line) -> bool {
    let i = trim_left(text, line);
    i < line.end && text.as_bytes()[i] == b'#'
}

fn is_blank(text: &str, line: Line) -> bool {
    trim_left(text, line) == line.end
}

/// Where a line continuation starts: the escape character followed only by
/// spaces and tabs up to the end of the line.
fn continuation_at(text: &str, start: usize, end: usize, escape: u8) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut j = end;
    while j > start && matches!(bytes[j - 1], b' ' | b'\t') {
        j -= 1;
    }
    (j > start && bytes[j - 1] == escape).then(|| j - 1)
}

/// A logical line: pieces of physical lines joined after removing
/// continuations. `map` maps logical offsets back to the file.
#[derive(Debug, Clone, Default)]
struct Logical {
    text: String,
    map: SegmentMap,
}

impl Logical {
    fn push(&mut self, source: &str, start: usize, end: usize) {
        if end <= start {
            return;
        }
        self.map.push(self.text.len(), start, end - start);
        self.text.push_str(&source[start..end]);
    }

    fn file_offset(&self, at: usize) -> Option<usize> {
        self.map.file_offset(at)
    }

    fn file_span(&self, range: Span) -> Span {
        self.map.file_span(range)
    }
}

// ---------------------------------------------------------------------------
// The parse tree

#[derive(Debug, Clone)]
struct Instruction {
    keyword: String,
    keyword_span: Span,
    logical: Logical,
    /// Logical offset where the text after the keyword starts.
    rest: usize,
    /// File spans of its heredoc bodies, terminators excluded.
    heredoc_bodies: Vec<Span>,
}

#[derive(Debug, Clone)]
struct Directive {
    name: String,
    value_span: Span,
}

#[derive(Debug, Clone)]
struct Parsed<'a> {
    text: &'a str,
    escape: u8,
    directives: Vec<Directive>,
    instructions: Vec<Instruction>,
}

const INSTRUCTIONS: &[&str] = &[
    "add",
    "arg",
    "cmd",
    "copy",
    "entrypoint",
    "env",
    "expose",
    "from",
    "healthcheck",
    "label",
    "maintainer",
    "onbuild",
    "run",
    "shell",
    "stopsignal",
    "user",
    "volume",
    "workdir",
];

fn error(message: impl Into<String>, span: Span) -> SyntaxError {
    SyntaxError {
        message: message.into(),
        span,
    }
}

/// `#[ \t]*name[ \t]*=[ \t]*value[ \t]*`, returning (name, value span).
fn directive(text: &str, start: usize, end: usize) -> Option<(String, Span)> {
    let b = text.as_bytes();
    let mut i = start;
    if b.get(i) != Some(&b'#') || i >= end {
        return None;
    }
    i += 1;
    while i < end && matches!(b[i], b' ' | b'\t') {
        i += 1;
    }
    let name_start = i;
    if !(i < end && b[i].is_ascii_alphabetic()) {
        return None;
    }
    while i < end && b[i].is_ascii_alphanumeric() {
        i += 1;
    }
    let name = text[name_start..i].to_ascii_lowercase();
    while i < end && matches!(b[i], b' ' | b'\t') {
        i += 1;
    }
    if b.get(i) != Some(&b'=') || i >= end {
        return None;
    }
    i += 1;
    while i < end && matches!(b[i], b' ' | b'\t') {
        i += 1;
    }
    let mut value_end = end;
    while value_end > i && matches!(b[value_end - 1], b' ' | b'\t') {
        value_end -= 1;
    }
    (value_end > i).then(|| (name, Span::new(i, value_end)))
}

fn parse(text: &str) -> Result<Parsed<'_>, SyntaxError> {
    let lines = physical_lines(text);
    let mut escape = b'\\';
    let mut directives: Vec<Directive> = Vec::new();
    let mut directives_done = false;
    let mut instructions = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let first = trim_left(text, line);
        if !directives_done {
            match directive(text, first, line.end) {
                Some((name, value_span))
                    if matches!(name.as_str(), "syntax" | "escape" | "check") =>
                {
                    if directives.iter().any(|d| d.name == name) {
                        return Err(error(
                            format!("only one {name} parser directive can be used"),
                            Span::new(line.start, line.end),
                        ));
                    }
                    if name == "escape" {
                        escape = match &text[value_span.start..value_span.end] {
                            "\\" => b'\\',
                            "`" => b'`',
                            other => {
                                return Err(error(
                                    format!(
                                        "invalid escape token '{other}' does not match ` or \\"
                                    ),
                                    value_span,
                                ));
                            }
                        };
                    }
                    directives.push(Directive { name, value_span });
                    i += 1;
                    continue;
                }
                _ => directives_done = true,
            }
        }
        i += 1;
        if is_comment(text, line) {
            continue;
        }
        let mut logical = Logical::default();
        let mut ended = match continuation_at(text, first, line.end, escape) {
            Some(c) => {
                logical.push(text, first, c);
                false
            }
            None => {
                logical.push(text, first, line.end);
                true
            }
        };
        if ended && logical.text.is_empty() {
            continue;
        }
        let start_line = i - 1;
        while !ended && i < lines.len() {
            let next = lines[i];
            i += 1;
            if is_comment(text, next) || is_blank(text, next) {
                continue;
            }
            match continuation_at(text, next.start, next.end, escape) {
                Some(c) => logical.push(text, next.start, c),
                None => {
                    logical.push(text, next.start, next.end);
                    ended = true;
                }
            }
        }
        if logical.text.trim().is_empty() {
            continue;
        }
        let bytes = logical.text.as_bytes();
        let mut k = 0;
        while k < bytes.len() && !is_space(bytes[k]) {
            k += 1;
        }
        let keyword = logical.text[..k].to_ascii_lowercase();
        let keyword_span = logical.file_span(Span::new(0, k));
        let line_span = Span::new(
            lines[start_line].start,
            lines[(i - 1).min(lines.len() - 1)].end,
        );
        if !INSTRUCTIONS.contains(&keyword.as_str()) {
            return Err(error(
                format!("unknown instruction: {}", &logical.text[..k]),
                keyword_span,
            ));
        }
        let mut instruction = Instruction {
            keyword,
            keyword_span,
            logical,
            rest: k,
            heredoc_bodies: Vec::new(),
        };
        // Heredocs: their bodies follow the instruction line, read raw.
        for heredoc in heredocs(&instruction, escape) {
            let mut terminated = false;
            let body_start = lines.get(i).map_or(text.len(), |l| l.start);
            while i < lines.len() {
                let body = lines[i];
                i += 1;
                let mut candidate = &text[body.start..body.end];
                if heredoc.chomp {
                    candidate = candidate.trim_start_matches('\t');
                }
                if candidate == heredoc.name {
                    terminated = true;
                    instruction
                        .heredoc_bodies
                        .push(Span::new(body_start, body.start.max(body_start)));
                    break;
                }
            }
            if !terminated {
                return Err(error(
                    format!("unterminated heredoc `{}`", heredoc.name),
                    line_span,
                ));
            }
        }
        instructions.push(instruction);
    }
    if instructions.is_empty() {
        return Err(error("file with no instructions", Span::new(0, 0)));
    }
    Ok(Parsed {
        text,
        escape,
        directives,
        instructions,
    })
}

// ---------------------------------------------------------------------------
// Heredocs

#[derive(Debug, Clone, PartialEq, Eq)]
struct Heredoc {
    name: String,
    chomp: bool,
}

/// The heredocs an instruction opens, as BuildKit finds them: only on RUN,
/// COPY and ADD (directly or under ONBUILD), not in the JSON form, on words
/// of the form `[fd]<<[-]WORD`.
fn heredocs(instruction: &Instruction, _escape: u8) -> Vec<Heredoc> {
    let line = &instruction.logical.text[instruction.rest..];
    let (keyword, rest) = if instruction.keyword == "onbuild" {
        let trimmed = line.trim_start();
        let end = trimmed.find(is_space_char).unwrap_or(trimmed.len());
        (trimmed[..end].to_ascii_lowercase(), &trimmed[end..])
    } else {
        (instruction.keyword.clone(), line)
    };
    if !matches!(keyword.as_str(), "run" | "copy" | "add") || !rest.contains("<<") {
        return Vec::new();
    }
    let (_, args) = split_flags(rest);
    if json_array(args.trim()).is_some() {
        return Vec::new();
    }
    raw_words(rest)
        .into_iter()
        .filter_map(|word| parse_heredoc(&word))
        .collect()
}

fn is_space_char(c: char) -> bool {
    c.is_ascii() && is_space(c as u8)
}

/// Words split on whitespace outside quotes, quotes and escapes kept.
fn raw_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                word.push(c);
                if c == '\\' && q == '"' {
                    if let Some(n) = chars.next() {
                        word.push(n);
                    }
                } else if c == q {
                    quote = None;
                }
            }
            None if is_space_char(c) => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            None => {
                word.push(c);
                if c == '\'' || c == '"' {
                    quote = Some(c);
                } else if c == '\\'
                    && let Some(n) = chars.next()
                {
                    word.push(n);
                }
            }
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

fn parse_heredoc(word: &str) -> Option<Heredoc> {
    let digits = word.bytes().take_while(u8::is_ascii_digit).count();
    let rest = word[digits..].strip_prefix("<<")?;
    let (chomp, rest) = match rest.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    if rest.is_empty() || rest.contains('<') {
        return None;
    }
    let name = unquote(rest);
    (!name.is_empty()).then_some(Heredoc { name, chomp })
}

/// Remove shell quoting from a word (no expansion).
fn unquote(word: &str) -> String {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    let mut chars = word.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None | Some('"'), '\\') => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            _ => out.push(c),
        }
    }
    out
}

fn json_array(s: &str) -> Option<Vec<String>> {
    if !s.starts_with('[') {
        return None;
    }
    serde_json::from_str::<Vec<String>>(s).ok()
}

// ---------------------------------------------------------------------------
// Flags

/// A `--name[=value]` flag before an instruction's arguments.
#[derive(Debug, Clone)]
struct Flag {
    name: String,
    /// The value's range in the logical line when it was written without
    /// quotes or escapes, so its bytes are the file's.
    verbatim: Option<Span>,
}

/// Split leading flags off an instruction's text (BuildKit's
/// `extractBuilderFlags`), returning them and the remaining arguments.
fn split_flags(rest: &str) -> (Vec<(String, Span)>, &str) {
    let bytes = rest.as_bytes();
    let mut flags = Vec::new();
    let mut i = 0;
    loop {
        while i < bytes.len() && is_space(bytes[i]) {
            i += 1;
        }
        if !(bytes.get(i) == Some(&b'-') && bytes.get(i + 1) == Some(&b'-')) {
            return (flags, &rest[i..]);
        }
        let start = i;
        let mut quote: Option<u8> = None;
        while i < bytes.len() {
            let b = bytes[i];
            match quote {
                Some(q) if b == q => quote = None,
                Some(_) if b == b'\\' => i += 1,
                Some(_) => {}
                None if is_space(b) => break,
                None if b == b'\'' || b == b'"' => quote = Some(b),
                None if b == b'\\' => i += 1,
                None => {}
            }
            i += 1;
        }
        let end = i.min(bytes.len());
        if &rest[start..end] == "--" {
            return (flags, &rest[end..]);
        }
        flags.push((rest[start..end].to_string(), Span::new(start, end)));
    }
}

fn parse_flags(raw: &[(String, Span)], base: usize) -> Vec<Flag> {
    raw.iter()
        .map(|(word, span)| {
            let body = &word[2..];
            match body.split_once('=') {
                None => Flag {
                    name: body.to_ascii_lowercase(),
                    verbatim: None,
                },
                Some((name, value)) => {
                    let value_start = base + span.start + 2 + name.len() + 1;
                    let plain = !value.contains(['\'', '"', '\\']);
                    Flag {
                        name: name.to_ascii_lowercase(),
                        verbatim: plain.then(|| Span::new(value_start, value_start + value.len())),
                    }
                }
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Variable expansion with provenance

/// Variables in scope: `None` is declared without a value (unset).
type Env = HashMap<String, Option<Value>>;

/// The variables an expansion sees: a stage's, then (for `COPY` and `RUN`
/// flags) the meta ARGs under them.
#[derive(Clone, Copy)]
struct Scope<'a> {
    env: &'a Env,
    outer: Option<&'a Env>,
}

impl<'a> Scope<'a> {
    fn of(env: &'a Env) -> Self {
        Scope { env, outer: None }
    }

    fn get(&self, name: &str) -> Option<&'a Value> {
        match self.env.get(name) {
            Some(v) => v.as_ref(),
            None => self
                .outer
                .and_then(|o| o.get(name))
                .and_then(Option::as_ref),
        }
    }
}

struct Expander<'a> {
    word: &'a [u8],
    /// File offset of each byte of the word, when it is the file's.
    file: &'a dyn Fn(usize) -> Option<usize>,
    env: Scope<'a>,
    escape: u8,
    /// The file's expansion budget (bytes of values copied).
    budget: &'a Cell<usize>,
    /// Set when `${…}` nest past [`MAX_NESTING`]; expansion stops.
    too_deep: Cell<bool>,
}

impl Expander<'_> {
    fn literal(&self, out: &mut Builder, at: usize, len: usize) {
        let s = std::str::from_utf8(&self.word[at..at + len]).unwrap_or("");
        out.push(s, (self.file)(at));
    }

    fn char_len(&self, at: usize) -> usize {
        let b = self.word[at];
        if b < 0x80 {
            1
        } else if b >= 0xf0 {
            4
        } else if b >= 0xe0 {
            3
        } else {
            2
        }
        .min(self.word.len() - at)
    }

    /// Expand from `i` until the end, or until an unmatched `}` when
    /// `in_brace`; returns where it stopped.
    fn expand(&self, mut i: usize, depth: usize, out: &mut Builder) -> usize {
        let w = self.word;
        let in_brace = depth > 0;
        if depth > MAX_NESTING {
            self.too_deep.set(true);
        }
        while i < w.len() && !self.too_deep.get() {
            let c = w[i];
            if in_brace && c == b'}' {
                return i;
            }
            if c == b'\'' {
                i += 1;
                while i < w.len() && w[i] != b'\'' {
                    let n = self.char_len(i);
                    self.literal(out, i, n);
                    i += n;
                }
                i += 1;
            } else if c == b'"' {
                i += 1;
                while i < w.len() && w[i] != b'"' {
                    if w[i] == self.escape
                        && i + 1 < w.len()
                        && (matches!(w[i + 1], b'"' | b'$') || w[i + 1] == self.escape)
                    {
                        self.literal(out, i + 1, 1);
                        i += 2;
                    } else if w[i] == b'$' {
                        i = self.dollar(i, depth, out);
                    } else {
                        let n = self.char_len(i);
                        self.literal(out, i, n);
                        i += n;
                    }
                }
                i += 1;
            } else if c == self.escape {
                if i + 1 < w.len() {
                    let n = self.char_len(i + 1);
                    self.literal(out, i + 1, n);
                    i += 1 + n;
                } else {
                    i += 1;
                }
            } else if c == b'$' {
                i = self.dollar(i, depth, out);
            } else {
                let n = self.char_len(i);
                self.literal(out, i, n);
                i += n;
            }
        }
        i.min(w.len())
    }

    fn name_end(&self, mut i: usize) -> usize {
        while i < self.word.len() && (self.word[i].is_ascii_alphanumeric() || self.word[i] == b'_')
        {
            i += 1;
        }
        i
    }

    fn lookup(&self, name: &str) -> Option<&Value> {
        self.env.get(name)
    }

    /// Copy a variable's value, within the file's budget.
    fn push_value(&self, out: &mut Builder, v: &Value) {
        if v.over_limit || !spend(self.budget, v.text.len()) {
            out.miss(OVER_LIMIT);
        } else {
            out.push_value(v);
        }
    }

    /// `$` at `i`: a variable, or a literal `$`.
    fn dollar(&self, i: usize, depth: usize, out: &mut Builder) -> usize {
        let w = self.word;
        let next = w.get(i + 1).copied();
        match next {
            Some(b'{') => self.braced(i, depth, out),
            Some(b) if b.is_ascii_alphabetic() || b == b'_' => {
                let end = self.name_end(i + 1);
                let name = String::from_utf8_lossy(&w[i + 1..end]).to_string();
                match self.lookup(&name) {
                    Some(v) => self.push_value(out, v),
                    None => out.miss(&name),
                }
                end
            }
            _ => {
                self.literal(out, i, 1);
                i + 1
            }
        }
    }

    /// `${...}` at `i`.
    fn braced(&self, i: usize, depth: usize, out: &mut Builder) -> usize {
        let w = self.word;
        let name_start = i + 2;
        let name_end = self.name_end(name_start);
        let name = String::from_utf8_lossy(&w[name_start..name_end]).to_string();
        let value = self.lookup(&name).cloned();
        let mut j = name_end;
        let colon = w.get(j) == Some(&b':');
        if colon {
            j += 1;
        }
        let op = w.get(j).copied();
        match op {
            Some(b'}') if !colon && !name.is_empty() => {
                match value {
                    Some(v) => self.push_value(out, &v),
                    None => out.miss(&name),
                }
                j + 1
            }
            Some(op @ (b'-' | b'+' | b'?')) if !name.is_empty() => {
                // Expand the word into a scratch builder; use it only when
                // the operator selects it, so its variables count only then.
                let mut word = Builder::default();
                let end = self.expand(j + 1, depth + 1, &mut word);
                let set = value.is_some();
                let non_empty = value.as_ref().is_some_and(|v| !v.text.is_empty());
                let has = if colon { non_empty } else { set };
                match op {
                    b'-' => {
                        if has {
                            if let Some(v) = &value {
                                self.push_value(out, v);
                            }
                        } else {
                            self.take(out, word);
                        }
                    }
                    b'+' => {
                        if has {
                            self.take(out, word);
                        }
                    }
                    _ => match (&value, has) {
                        (Some(v), true) => self.push_value(out, v),
                        _ => out.miss(&name),
                    },
                }
                (end + 1).min(w.len())
            }
            _ => {
                // A form refit does not evaluate (`${#V}`, `${V%x}`, an
                // unterminated brace): unresolved rather than guessed.
                let close = w[i..]
                    .iter()
                    .position(|&b| b == b'}')
                    .map_or(w.len(), |p| i + p + 1);
                out.miss(if name.is_empty() { "${…}" } else { &name });
                close
            }
        }
    }

    fn take(&self, out: &mut Builder, word: Builder) {
        let Builder {
            text,
            pieces,
            missing,
        } = word;
        if !spend(self.budget, text.len()) {
            out.miss(OVER_LIMIT);
            return;
        }
        for piece in pieces {
            let s = text.get(piece.text.start..piece.text.end).unwrap_or("");
            out.push(s, piece.file.map(|f| f.start));
        }
        for m in missing {
            out.miss(&m);
        }
    }
}

/// Expand one word of a logical line; an error when its substitutions nest
/// too deeply.
fn expand(
    logical: &Logical,
    range: Span,
    env: Scope,
    escape: u8,
    budget: &Cell<usize>,
) -> Result<Builder, SyntaxError> {
    let word = &logical.text.as_bytes()[range.start..range.end];
    let map = |at: usize| logical.file_offset(range.start + at);
    let expander = Expander {
        word,
        file: &map,
        env,
        escape,
        budget,
        too_deep: Cell::new(false),
    };
    let mut out = Builder::default();
    expander.expand(0, 0, &mut out);
    if expander.too_deep.get() {
        return Err(too_deep(logical.file_span(range)));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Sites

/// Split on whitespace (no quote handling), with ranges: FROM's arguments.
fn fields(s: &str, base: usize) -> Vec<(String, Span)> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && is_space(bytes[i]) {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && !is_space(bytes[i]) {
            i += 1;
        }
        if i > start {
            out.push((s[start..i].to_string(), Span::new(base + start, base + i)));
        }
    }
    out
}

/// ARG declarations: (name, value range in the logical line) pairs.
fn arg_pairs(logical: &Logical, rest: usize) -> Vec<(String, Option<Span>)> {
    let line = &logical.text[rest..];
    let bytes = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && is_space(bytes[i]) {
            i += 1;
        }
        let start = i;
        let mut quote: Option<u8> = None;
        while i < bytes.len() {
            let b = bytes[i];
            match quote {
                Some(q) if b == q => quote = None,
                Some(b'"') if b == b'\\' => i += 1,
                Some(_) => {}
                None if is_space(b) => break,
                None if b == b'\'' || b == b'"' => quote = Some(b),
                None if b == b'\\' => i += 1,
                None => {}
            }
            i += 1;
        }
        let end = i.min(bytes.len());
        if end > start {
            let word = &line[start..end];
            match word.split_once('=') {
                Some((name, _)) => {
                    let v = start + name.len() + 1;
                    out.push((name.to_string(), Some(Span::new(rest + v, rest + end))));
                }
                None => out.push((word.to_string(), None)),
            }
        }
    }
    out
}

/// BuildKit's automatic platform ARGs: declared, but their values depend on
/// the build, so refit treats them as unset.
const PLATFORM_ARGS: &[&str] = &[
    "BUILDPLATFORM",
    "BUILDOS",
    "BUILDARCH",
    "BUILDVARIANT",
    "TARGETPLATFORM",
    "TARGETOS",
    "TARGETARCH",
    "TARGETVARIANT",
];

fn declare(
    env: &mut Env,
    parsed: &Parsed,
    instruction: &Instruction,
    meta: Option<&Env>,
    options: &SourceOptions,
    budget: &Cell<usize>,
) -> Result<(), SyntaxError> {
    for (name, value) in arg_pairs(&instruction.logical, instruction.rest) {
        if let Some(v) = options.build_args.get(&name) {
            env.insert(
                name,
                Some(Value {
                    text: v.clone(),
                    pieces: vec![Piece {
                        text: Span::new(0, v.len()),
                        file: None,
                    }],
                    over_limit: false,
                }),
            );
            continue;
        }
        let value = match value {
            Some(range) => {
                let b = expand(
                    &instruction.logical,
                    range,
                    Scope::of(env),
                    parsed.escape,
                    budget,
                )?;
                if b.missing.is_empty() {
                    Some(Value {
                        text: b.text,
                        pieces: b.pieces,
                        over_limit: false,
                    })
                } else if b.missing.iter().any(|m| m == OVER_LIMIT) {
                    // Kept as set, so that using it says why it is not resolved.
                    Some(Value {
                        over_limit: true,
                        ..Value::default()
                    })
                } else {
                    None
                }
            }
            // `ARG NAME` inside a stage takes the meta ARG's value.
            None => meta.and_then(|m| m.get(&name).cloned().flatten()),
        };
        // An ARG without a value takes the one Compose passes
        // (`build.args`), not editable here.
        let value = value.or_else(|| {
            options.compose_args.get(&name).map(|v| Value {
                text: v.clone(),
                pieces: vec![Piece {
                    text: Span::new(0, v.len()),
                    file: None,
                }],
                over_limit: false,
            })
        });
        env.insert(name, value);
    }
    Ok(())
}

fn site(
    kind: SiteKind,
    logical: &Logical,
    range: Span,
    env: Scope,
    escape: u8,
    stage: Option<String>,
    budget: &Cell<usize>,
) -> Result<(ImageSite, Option<String>), SyntaxError> {
    let raw = logical.text[range.start..range.end].to_string();
    let built = expand(logical, range, env, escape, budget)?;
    let span = logical.file_span(range);
    let value = if built.missing.is_empty() {
        let parsed = Reference::parse_normalized(&built.text);
        SiteValue::Resolved {
            text: built.text.clone(),
            pieces: built.pieces,
            parsed,
        }
    } else {
        SiteValue::Unresolved {
            missing: built.missing,
        }
    };
    let resolved = match &value {
        SiteValue::Resolved { text, .. } => Some(text.clone()),
        SiteValue::Unresolved { .. } | SiteValue::Mirror(_) => None,
    };
    Ok((
        ImageSite {
            kind,
            span,
            raw,
            value,
            stage,
            path: None,
            extra: Default::default(),
        },
        resolved,
    ))
}

/// The `from` field of a `--mount` value (CSV `key=value` fields), as a
/// range of the logical line when written plainly.
fn mount_from(value: &str, value_start: usize) -> Option<Span> {
    let mut at = 0;
    for field in value.split(',') {
        let start = at;
        at += field.len() + 1;
        if let Some((key, v)) = field.split_once('=')
            && key.trim().eq_ignore_ascii_case("from")
        {
            if v.contains('"') {
                return None;
            }
            let v_start = value_start + start + key.len() + 1;
            return Some(Span::new(v_start, v_start + v.len()));
        }
    }
    None
}

fn sites(parsed: &Parsed, options: &SourceOptions) -> Result<Vec<ImageSite>, SyntaxError> {
    let mut out = Vec::new();
    let text = parsed.text;
    for d in &parsed.directives {
        if d.name != "syntax" {
            continue;
        }
        let raw = &text[d.value_span.start..d.value_span.end];
        out.push(ImageSite {
            kind: SiteKind::SyntaxDirective,
            span: d.value_span,
            raw: raw.to_string(),
            value: SiteValue::Resolved {
                text: raw.to_string(),
                pieces: vec![Piece {
                    text: Span::new(0, raw.len()),
                    file: Some(d.value_span),
                }],
                parsed: Reference::parse_normalized(raw),
            },
            stage: None,
            path: None,
            extra: Default::default(),
        });
    }

    // All stage names, for COPY --from and RUN --mount from, which may name
    // any stage of the file.
    let heads = stage_heads(parsed);
    let all_stages: HashSet<String> = heads.iter().filter_map(|h| h.name.clone()).collect();

    let graph = StageGraph::new(parsed, &heads);
    let budget = Cell::new(MAX_EXPANDED);
    let mut from_index = 0;
    let mut meta = Env::new();
    for name in PLATFORM_ARGS {
        meta.insert((*name).to_string(), None);
    }
    let mut seen_from = false;
    let mut earlier_stages: HashSet<String> = HashSet::new();
    let mut stage_env = Env::new();
    let mut stage_name: Option<String> = None;
    for ins in &parsed.instructions {
        let rest_text = &ins.logical.text[ins.rest..];
        match ins.keyword.as_str() {
            "arg" if !seen_from => declare(&mut meta, parsed, ins, None, options, &budget)?,
            "arg" => declare(&mut stage_env, parsed, ins, Some(&meta), options, &budget)?,
            "from" => {
                seen_from = true;
                let (_, args) = split_flags(rest_text);
                let base = ins.rest + (rest_text.len() - args.len());
                let words = fields(args, base);
                let name = (words.len() == 3 && words[1].0.eq_ignore_ascii_case("as"))
                    .then(|| words[2].0.to_ascii_lowercase());
                if let Some((_, range)) = words.first() {
                    let (mut s, resolved) = site(
                        SiteKind::From,
                        &ins.logical,
                        *range,
                        Scope::of(&meta),
                        parsed.escape,
                        name.clone(),
                        &budget,
                    )?;
                    // `ARG WINDOWS_VERSION=` + `FROM img:${WINDOWS_VERSION}`:
                    // an empty default the build always overrides. When it
                    // makes the reference invalid, read it as a variable
                    // without a value (BuildKit's InvalidDefaultArgInFrom,
                    // REF002), not as an invalid reference written so.
                    if matches!(&s.value, SiteValue::Resolved { parsed: Err(_), .. }) {
                        let unset: Env = meta
                            .iter()
                            .map(|(k, v)| {
                                let v = v.clone().filter(|v| !v.text.is_empty() || v.over_limit);
                                (k.clone(), v)
                            })
                            .collect();
                        let (again, _) = site(
                            SiteKind::From,
                            &ins.logical,
                            *range,
                            Scope::of(&unset),
                            parsed.escape,
                            name.clone(),
                            &budget,
                        )?;
                        if matches!(again.value, SiteValue::Unresolved { .. }) {
                            s = again;
                        }
                    }
                    let not_image = resolved.as_deref().is_some_and(|t| {
                        t.eq_ignore_ascii_case("scratch")
                            || earlier_stages.contains(&t.to_ascii_lowercase())
                    });
                    if !not_image {
                        let mut s = s;
                        s.extra.stage = graph.model(from_index);
                        s.extra.from_args =
                            from_args(&s, &ins.logical, *range, &meta, parsed.escape, &budget);
                        out.push(s);
                    }
                }
                from_index += 1;
                if let Some(n) = &name {
                    earlier_stages.insert(n.clone());
                }
                stage_name = name;
                stage_env = Env::new();
            }
            "copy" | "run" => {
                let (raw_flags, _) = split_flags(rest_text);
                let flags = parse_flags(&raw_flags, ins.rest);
                let env = Scope {
                    env: &stage_env,
                    outer: Some(&meta),
                };
                for flag in flags {
                    let (kind, range) = match (ins.keyword.as_str(), flag.name.as_str()) {
                        ("copy", "from") => (SiteKind::CopyFrom, flag.verbatim),
                        ("run", "mount") => {
                            let Some(v) = flag.verbatim else { continue };
                            let value = &ins.logical.text[v.start..v.end];
                            (SiteKind::RunMountFrom, mount_from(value, v.start))
                        }
                        _ => continue,
                    };
                    let Some(range) = range else {
                        continue;
                    };
                    if range.is_empty() {
                        continue;
                    }
                    let raw = &ins.logical.text[range.start..range.end];
                    if raw.bytes().all(|b| b.is_ascii_digit()) {
                        continue;
                    }
                    let (s, resolved) = site(
                        kind,
                        &ins.logical,
                        range,
                        env,
                        parsed.escape,
                        stage_name.clone(),
                        &budget,
                    )?;
                    let is_stage = resolved.as_deref().is_some_and(|t| {
                        t.bytes().all(|b| b.is_ascii_digit())
                            || t.eq_ignore_ascii_case("scratch")
                            || all_stages.contains(&t.to_ascii_lowercase())
                    });
                    if !is_stage {
                        out.push(s);
                    }
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// For a `FROM` whose variables have no value: which are undeclared, and
/// the reference BuildKit builds with the declared ones empty.
fn from_args(
    site: &ImageSite,
    logical: &Logical,
    range: Span,
    meta: &Env,
    escape: u8,
    budget: &Cell<usize>,
) -> Option<crate::site::FromArgs> {
    let SiteValue::Unresolved { missing } = &site.value else {
        return None;
    };
    let undeclared: Vec<String> = missing
        .iter()
        .filter(|m| !meta.contains_key(m.as_str()))
        .cloned()
        .collect();
    let mut declared: Vec<String> = meta.keys().cloned().collect();
    declared.sort();
    let with_empty = undeclared.is_empty().then(|| {
        let mut env = meta.clone();
        for value in env.values_mut() {
            if value.is_none() {
                *value = Some(Value::default());
            }
        }
        expand(logical, range, Scope::of(&env), escape, budget)
            .ok()
            .map(|b| b.text)
    });
    let empty_defaults = missing
        .iter()
        .filter(|m| {
            meta.get(m.as_str())
                .is_some_and(|v| v.as_ref().is_some_and(|v| v.text.is_empty()))
        })
        .cloned()
        .collect();
    Some(crate::site::FromArgs {
        undeclared,
        declared,
        with_empty: with_empty.flatten(),
        empty_defaults,
    })
}

/// A `FROM`: which instruction it is, the stage name it gives, and the
/// base as written (lowercase).
struct StageHead {
    at: usize,
    name: Option<String>,
    base: String,
}

fn stage_heads(parsed: &Parsed) -> Vec<StageHead> {
    let mut heads = Vec::new();
    for (at, ins) in parsed.instructions.iter().enumerate() {
        if ins.keyword != "from" {
            continue;
        }
        let (_, args) = split_flags(&ins.logical.text[ins.rest..]);
        let words = fields(args, 0);
        let base = words
            .first()
            .map(|w| w.0.to_ascii_lowercase())
            .unwrap_or_default();
        let name = (words.len() == 3 && words[1].0.eq_ignore_ascii_case("as"))
            .then(|| words[2].0.to_ascii_lowercase());
        heads.push(StageHead { at, name, base });
    }
    heads
}

/// The file's stages and how they relate, computed once in linear time;
/// a stage's model ([`Stage`]) is built only for the stages that need one.
struct StageGraph<'p> {
    parsed: &'p Parsed<'p>,
    heads: &'p [StageHead],
    lines: LineIndex,
    /// The instructions (not `FROM`s) of each stage, in file order.
    own: Vec<Vec<usize>>,
    /// The stages built `FROM` each stage.
    children: Vec<Vec<usize>>,
    /// Whether each stage is built on another of the file's stages.
    has_parent: Vec<bool>,
    /// The `COPY --from=` instructions that copy from each stage.
    copies: Vec<Vec<usize>>,
    /// The stage each instruction belongs to.
    owner: Vec<Option<usize>>,
    /// Whether each stage is the last one or one it is built on.
    is_final: Vec<bool>,
}

impl<'p> StageGraph<'p> {
    fn new(parsed: &'p Parsed<'p>, heads: &'p [StageHead]) -> Self {
        let n = heads.len();
        let mut own = vec![Vec::new(); n];
        let mut owner = Vec::with_capacity(parsed.instructions.len());
        let mut current: Option<usize> = None;
        let mut next_head = 0;
        for (i, ins) in parsed.instructions.iter().enumerate() {
            if heads.get(next_head).is_some_and(|h| h.at == i) {
                current = Some(next_head);
                next_head += 1;
            }
            owner.push(current);
            if ins.keyword != "from"
                && let Some(o) = current
            {
                own[o].push(i);
            }
        }
        // The stage each stage is built on: the last earlier one of that name.
        let mut by_name: HashMap<&str, usize> = HashMap::new();
        let mut named: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut children = vec![Vec::new(); n];
        let mut parent = vec![None; n];
        for (j, head) in heads.iter().enumerate() {
            if let Some(&p) = by_name.get(head.base.as_str()) {
                parent[j] = Some(p);
                children[p].push(j);
            }
            if let Some(name) = head.name.as_deref() {
                by_name.insert(name, j);
                named.entry(name).or_default().push(j);
            }
        }
        // `COPY --from=` a stage by index, or by name: the last stage of
        // that name before the copy, else the first one after it.
        let mut copies = vec![Vec::new(); n];
        for (i, ins) in parsed.instructions.iter().enumerate() {
            let Some(value) = copy_from(ins) else {
                continue;
            };
            let target = if let Ok(k) = value.parse::<usize>() {
                (value == k.to_string() && k < n).then_some(k)
            } else {
                named
                    .get(value.to_ascii_lowercase().as_str())
                    .and_then(|list| {
                        let here = owner[i].unwrap_or(0);
                        let before = list.partition_point(|&k| k <= here);
                        list.get(before.saturating_sub(1).min(list.len() - 1))
                            .copied()
                    })
            };
            if let Some(k) = target {
                copies[k].push(i);
            }
        }
        let mut is_final = vec![false; n];
        let mut at = n.checked_sub(1);
        while let Some(k) = at {
            if is_final[k] {
                break;
            }
            is_final[k] = true;
            at = parent[k];
        }
        StageGraph {
            parsed,
            heads,
            lines: LineIndex::new(parsed.text),
            own,
            children,
            has_parent: parent.iter().map(Option::is_some).collect(),
            copies,
            owner,
            is_final,
        }
    }

    /// The model of stage `k`: its instructions, those of the stages built
    /// on it, and copies from it. Only stages built on an image get one
    /// (a stage built on another stage has no image to change), so each
    /// instruction is listed under at most one such stage, plus its copy.
    fn model(&self, k: usize) -> Option<Arc<Stage>> {
        let head = self.heads.get(k)?;
        if self.has_parent[k] {
            return None;
        }
        let mut listed: Vec<(usize, Relation)> = Vec::new();
        let mut stack = vec![k];
        let mut subtree = HashSet::new();
        while let Some(j) = stack.pop() {
            subtree.insert(j);
            let relation = if j == k {
                Relation::Own
            } else {
                Relation::Descendant
            };
            listed.extend(self.own[j].iter().map(|&i| (i, relation)));
            stack.extend(self.children[j].iter().copied());
        }
        listed.extend(
            self.copies[k]
                .iter()
                .filter(|&&i| !self.owner[i].is_some_and(|o| subtree.contains(&o)))
                .map(|&i| (i, Relation::CopiesFrom)),
        );
        listed.sort_unstable_by_key(|&(i, _)| i);
        let text = self.parsed.text;
        let body = listed
            .into_iter()
            .map(|(i, relation)| {
                let ins = &self.parsed.instructions[i];
                stage_instruction(text, ins, relation, copy_from(ins), &self.lines)
            })
            .collect();
        let from = &self.parsed.instructions[head.at];
        let end = from
            .logical
            .file_span(Span::new(0, from.logical.text.len()))
            .end;
        let newline = if text.get(end..).is_some_and(|t| t.starts_with("\r\n")) {
            "\r\n"
        } else {
            "\n"
        };
        Some(Arc::new(Stage {
            index: k,
            after_from: end,
            newline,
            escape: char::from(self.parsed.escape),
            is_final: self.is_final[k],
            body,
        }))
    }
}

/// The value of a `COPY --from=` flag.
fn copy_from(ins: &Instruction) -> Option<String> {
    if ins.keyword != "copy" {
        return None;
    }
    let (raw, _) = split_flags(&ins.logical.text[ins.rest..]);
    parse_flags(&raw, ins.rest)
        .into_iter()
        .find(|f| f.name == "from")
        .and_then(|f| f.verbatim)
        .and_then(|v| ins.logical.text.get(v.start..v.end))
        .map(str::to_string)
}

fn stage_instruction(
    text: &str,
    ins: &Instruction,
    relation: Relation,
    copy_from: Option<String>,
    lines: &LineIndex,
) -> StageInstruction {
    let args = &ins.logical.text[ins.rest..];
    let (_, after_flags) = split_flags(args);
    let flags_len = args.len() - after_flags.len();
    let trimmed = after_flags.trim();
    let exec_at = flags_len + (after_flags.len() - after_flags.trim_start().len());
    let exec_form = json_array(trimmed).map(|words| (exec_at, words));
    let destination_at = match ins.keyword.as_str() {
        "copy" | "add" => match &exec_form {
            // The last element of `["src", …, "dest"]`.
            Some(_) => after_flags.rfind(',').map(|c| flags_len + c + 1),
            None => fields(after_flags, flags_len).last().map(|(_, r)| r.start),
        },
        _ => None,
    };
    let span = ins.logical.file_span(Span::new(0, ins.logical.text.len()));
    StageInstruction {
        keyword: ins.keyword.clone(),
        args: args.to_string(),
        heredocs: ins
            .heredoc_bodies
            .iter()
            .filter_map(|b| text.get(b.start..b.end))
            .collect(),
        exec_form,
        copy_from,
        destination_at,
        span,
        line: lines.line_of(span.start) + 1,
        relation,
        map: ins.logical.map.after(ins.rest),
    }
}

/// The stage graph of a Dockerfile: its stages, what each is built from
/// and copies from, and its `RUN` texts (STG…, MIR004). `None` when the
/// file does not parse (E004 reports that).
pub fn stage_graph(text: &str, options: &SourceOptions) -> Option<crate::site::StageGraph> {
    use crate::site::{RunText, StageGraph, StageNode};
    let parsed = parse(text).ok()?;
    let mut graph = StageGraph::default();
    let mut meta = Env::new();
    for name in PLATFORM_ARGS {
        meta.insert((*name).to_string(), None);
    }
    let mut seen_from = false;
    let mut stage_env = Env::new();
    // Resolved references from each stage, turned into stage indexes once
    // every name is known (`COPY --from` may name a later stage).
    let mut pending: Vec<(usize, String)> = Vec::new();
    let mut last_named: HashMap<String, usize> = HashMap::new();
    let mut first_named: HashMap<String, usize> = HashMap::new();
    let budget = Cell::new(MAX_EXPANDED);
    let resolve = |logical: &Logical, range: Span, env: Scope| -> Option<String> {
        let b = expand(logical, range, env, parsed.escape, &budget).ok()?;
        b.missing.is_empty().then_some(b.text)
    };
    for ins in &parsed.instructions {
        let rest_text = &ins.logical.text[ins.rest..];
        match ins.keyword.as_str() {
            "arg" if !seen_from => declare(&mut meta, &parsed, ins, None, options, &budget).ok()?,
            "arg" => declare(&mut stage_env, &parsed, ins, Some(&meta), options, &budget).ok()?,
            "from" => {
                if !seen_from {
                    graph.meta_args = meta.keys().cloned().collect();
                    graph.meta_args.sort();
                }
                seen_from = true;
                stage_env = Env::new();
                let (raw_flags, args) = split_flags(rest_text);
                let base_at = ins.rest + (rest_text.len() - args.len());
                let words = fields(args, base_at);
                let Some((base, base_range)) = words.first().cloned() else {
                    continue;
                };
                let name = (words.len() == 3 && words[1].0.eq_ignore_ascii_case("as"))
                    .then(|| (words[2].0.clone(), ins.logical.file_span(words[2].1)));
                let platform = raw_flags.iter().find_map(|(word, span)| {
                    let (flag, value) = word.get(2..)?.split_once('=')?;
                    if !flag.eq_ignore_ascii_case("platform") {
                        return None;
                    }
                    let start = ins.rest + span.start + 2 + flag.len() + 1;
                    let range = Span::new(start, start + value.len());
                    Some((value.to_string(), ins.logical.file_span(range)))
                });
                let base_resolved = resolve(&ins.logical, base_range, Scope::of(&meta));
                let index = graph.stages.len();
                // The last earlier stage of that name (a map: a file of many
                // stages stays linear).
                let parent = base_resolved
                    .as_deref()
                    .and_then(|b| last_named.get(&b.to_ascii_lowercase()).copied());
                if let Some((n, _)) = &name {
                    last_named.insert(n.to_ascii_lowercase(), index);
                    first_named.entry(n.to_ascii_lowercase()).or_insert(index);
                }
                graph.stages.push(StageNode {
                    index,
                    name,
                    base: (base, ins.logical.file_span(base_range)),
                    base_resolved,
                    platform,
                    from_span: ins.keyword_span,
                    parent,
                    uses: Vec::new(),
                });
            }
            "copy" | "run" if seen_from => {
                let (raw_flags, after) = split_flags(rest_text);
                let env = Scope {
                    env: &stage_env,
                    outer: Some(&meta),
                };
                for flag in parse_flags(&raw_flags, ins.rest) {
                    let range = match (ins.keyword.as_str(), flag.name.as_str()) {
                        ("copy", "from") => flag.verbatim,
                        ("run", "mount") => flag
                            .verbatim
                            .and_then(|v| mount_from(&ins.logical.text[v.start..v.end], v.start)),
                        _ => None,
                    };
                    if let Some(range) = range
                        && let Some(value) = resolve(&ins.logical, range, env)
                    {
                        pending.push((graph.stages.len().saturating_sub(1), value));
                    }
                }
                if ins.keyword == "run" {
                    let at = ins.rest + (rest_text.len() - after.len());
                    graph.runs.push(RunText {
                        keyword: "run",
                        text: after.to_string(),
                        map: ins.logical.map.after(at),
                        heredocs: ins
                            .heredoc_bodies
                            .iter()
                            .filter_map(|b| Some((text.get(b.start..b.end)?.to_string(), *b)))
                            .collect(),
                        span: ins.logical.file_span(Span::new(0, ins.logical.text.len())),
                    });
                }
            }
            "env" if seen_from => {
                graph.runs.push(RunText {
                    keyword: "env",
                    text: rest_text.to_string(),
                    map: ins.logical.map.after(ins.rest),
                    heredocs: Vec::new(),
                    span: ins.logical.file_span(Span::new(0, ins.logical.text.len())),
                });
            }
            _ => {}
        }
    }
    for (from, value) in pending {
        let target = if value.bytes().all(|b| b.is_ascii_digit()) {
            value
                .parse::<usize>()
                .ok()
                .filter(|i| *i < graph.stages.len())
        } else {
            first_named.get(&value.to_ascii_lowercase()).copied()
        };
        if let (Some(t), Some(node)) = (target, graph.stages.get_mut(from))
            && !node.uses.contains(&t)
        {
            node.uses.push(t);
        }
    }
    Some(graph)
}

/// Validate what `docker build` checks before building: instructions before
/// the first FROM, FROM's arguments and stage names.
fn validate(parsed: &Parsed) -> Result<(), SyntaxError> {
    let mut seen_from = false;
    for ins in &parsed.instructions {
        match ins.keyword.as_str() {
            "from" => {
                seen_from = true;
                let rest = &ins.logical.text[ins.rest..];
                let (_, args) = split_flags(rest);
                let base = ins.rest + (rest.len() - args.len());
                let words = fields(args, base);
                let ok =
                    words.len() == 1 || (words.len() == 3 && words[1].0.eq_ignore_ascii_case("as"));
                if !ok {
                    return Err(error(
                        "FROM requires either one or three arguments",
                        ins.logical.file_span(Span::new(0, ins.logical.text.len())),
                    ));
                }
                if let Some((name, range)) = words.get(2) {
                    let lower = name.to_ascii_lowercase();
                    let valid = lower.starts_with(|c: char| c.is_ascii_lowercase())
                        && lower.bytes().all(|b| {
                            b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b)
                        });
                    if !valid && !name.contains('$') {
                        return Err(error(
                            format!(
                                "invalid name for build stage: \"{name}\", name can't start with a number or contain symbols"
                            ),
                            ins.logical.file_span(*range),
                        ));
                    }
                }
            }
            "arg" => {}
            _ if !seen_from => {
                return Err(error("no build stage in current context", ins.keyword_span));
            }
            _ => {}
        }
    }
    if !seen_from {
        return Err(error(
            "dockerfile contains no stages to build",
            Span::new(0, 0),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn run(text: &str) -> Vec<ImageSite> {
        extract(text, &SourceOptions::default()).unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn with_args(text: &str, args: &[(&str, &str)]) -> Vec<ImageSite> {
        let options = SourceOptions {
            build_args: args
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
            ..SourceOptions::default()
        };
        extract(text, &options).unwrap()
    }

    fn resolved(site: &ImageSite) -> &str {
        match &site.value {
            SiteValue::Resolved { text, .. } => text,
            SiteValue::Unresolved { missing } => panic!("unresolved: {missing:?}"),
            SiteValue::Mirror(m) => panic!("mirror: {m:?}"),
        }
    }

    fn at(text: &str, span: Span) -> &str {
        &text[span.start..span.end]
    }

    fn err(text: &str) -> String {
        extract(text, &SourceOptions::default())
            .unwrap_err()
            .message
    }

    #[test]
    fn from_with_platform_and_alias_in_any_case() {
        let text = "from --platform=$BUILDPLATFORM node:20 as Build\nFrOm build\n";
        let sites = run(text);
        assert_eq!(sites.len(), 1, "the second FROM names a stage");
        assert_eq!(sites[0].kind, SiteKind::From);
        assert_eq!(at(text, sites[0].span), "node:20");
        assert_eq!(sites[0].stage.as_deref(), Some("build"));
        assert!(sites[0].reference().is_some());
    }

    #[test]
    fn syntax_directive_and_escape_backtick() {
        let text = "# syntax = docker/dockerfile:1.7\n# escape=`\nFROM windows/servercore:ltsc2022 `\n  AS base\nRUN dir c:\\ `\n && echo hi\n";
        let sites = run(text);
        assert_eq!(sites.len(), 2);
        assert_eq!(sites[0].kind, SiteKind::SyntaxDirective);
        assert_eq!(at(text, sites[0].span), "docker/dockerfile:1.7");
        assert_eq!(sites[1].stage.as_deref(), Some("base"));
        // A directive after an instruction or a blank line is a comment.
        let text = "\n# syntax=docker/dockerfile:1\nFROM a:1\n";
        assert_eq!(run(text).len(), 1);
        assert!(err("# escape=x\nFROM a\n").contains("invalid escape token"));
        assert!(err("# syntax=a\n# syntax=b\nFROM a\n").contains("only one syntax"));
    }

    #[test]
    fn continuations_skip_comments_and_blank_lines() {
        let text = "FROM \\\n# a comment\n\n   docker.io/library/node:20 \\\n  AS app\nRUN echo \\";
        let sites = run(text);
        assert_eq!(sites.len(), 1);
        assert_eq!(at(text, sites[0].span), "docker.io/library/node:20");
        assert_eq!(sites[0].stage.as_deref(), Some("app"));
        // A reference split across lines maps back piece by piece.
        let text = "FROM docker.io/library/no\\\nde:20\n";
        let site = &run(text)[0];
        assert_eq!(resolved(site), "docker.io/library/node:20");
        let SiteValue::Resolved { pieces, .. } = &site.value else {
            panic!()
        };
        assert_eq!(pieces.len(), 2);
        assert_eq!(site.map_to_file(Span::new(0, 0)), Some(Span::new(5, 5)));
    }

    #[test]
    fn heredocs_many_chomped_and_quoted() {
        let text = "FROM a:1\nRUN <<EOF <<-'EOT' cat\nFROM not-an-image\nEOF\n\tFROM also-not\n\tEOT\nCOPY <<\"X\" /x\n$HOME\nX\nFROM b:2\n";
        let sites = run(text);
        let refs: Vec<&str> = sites.iter().map(resolved).collect();
        assert_eq!(refs, ["a:1", "b:2"]);
        assert!(err("FROM a\nRUN <<EOF\nno end\n").contains("unterminated heredoc"));
        // The JSON form has no heredocs, and `<<` inside quotes is not one.
        let text = "FROM a:1\nRUN [\"sh\", \"-c\", \"cat <<EOF\"]\nRUN echo \"<<EOF\"\nFROM b:2\n";
        assert_eq!(run(text).len(), 2);
    }

    #[test]
    fn crlf_and_bom_keep_byte_offsets() {
        let text = "\u{feff}FROM node:20\r\nRUN x \\\r\n y\r\nFROM alpine:3.20";
        let sites = run(text);
        assert_eq!(sites.len(), 2);
        assert_eq!(at(text, sites[0].span), "node:20");
        assert_eq!(sites[0].span.start, 8);
        assert_eq!(at(text, sites[1].span), "alpine:3.20");
    }

    #[test]
    fn copy_from_and_run_mount_from() {
        let text = "FROM golang:1.23 AS build\nFROM alpine:3.20\nCOPY --chown=1:1 --from=build /a /a\nCOPY --from=0 /a /b\nCOPY --link --from=nginx:1.27 /etc/nginx /etc/nginx\nRUN --mount=type=cache,target=/c --mount=type=bind,from=busybox:1.36,target=/bb true\nRUN --mount=from=BUILD,target=/x true\nCOPY --from=later /x /x\nFROM scratch AS later\n";
        let sites = run(text);
        let got: Vec<(SiteKind, &str)> = sites.iter().map(|s| (s.kind, at(text, s.span))).collect();
        assert_eq!(
            got,
            [
                (SiteKind::From, "golang:1.23"),
                (SiteKind::From, "alpine:3.20"),
                (SiteKind::CopyFrom, "nginx:1.27"),
                (SiteKind::RunMountFrom, "busybox:1.36"),
            ]
        );
    }

    #[test]
    fn scratch_and_stage_names_are_not_images() {
        let text =
            "ARG BASE=scratch\nFROM ${BASE} AS Base\nFROM SCRATCH\nFROM base\nFROM BASE AS other\n";
        assert!(run(text).is_empty());
    }

    #[test]
    fn arg_defaults_record_their_span() {
        let text = "ARG A B=1 REG=docker.io\nARG IMAGE=\"node\"\nFROM ${REG}/library/${IMAGE}:20\n";
        let site = &run(text)[0];
        assert_eq!(resolved(site), "docker.io/library/node:20");
        let SiteValue::Resolved { pieces, .. } = &site.value else {
            panic!()
        };
        let mapped: Vec<&str> = pieces.iter().map(|p| at(text, p.file.unwrap())).collect();
        assert_eq!(mapped, ["docker.io", "/library/", "node", ":20"]);
        // An edit at the start of the reference lands on the ARG line.
        let ins = site.map_to_file(Span::new(0, 0)).unwrap();
        assert_eq!(ins.start, text.find("docker.io").unwrap());
    }

    #[test]
    fn build_args_override_declared_args_only() {
        let text = "ARG TAG=18\nFROM node:${TAG}\nFROM node:${OTHER:-22}\n";
        let sites = with_args(text, &[("TAG", "20"), ("OTHER", "x")]);
        assert_eq!(resolved(&sites[0]), "node:20");
        assert_eq!(
            sites[0].map_to_file(Span::new(5, 7)),
            None,
            "override is not in the file"
        );
        assert_eq!(
            resolved(&sites[1]),
            "node:22",
            "undeclared ARGs are not overridden"
        );
    }

    #[test]
    fn expansion_forms() {
        let text = "ARG SET=x\nARG EMPTY=\nARG UNSET\nFROM a${SET:+-plus}:${UNSET:-dflt}\nFROM b:${EMPTY-kept}${EMPTY:-colon}\nFROM c:${SET+p}${UNSET+q}1\nFROM d:\\$x\n";
        let sites = run(text);
        let refs: Vec<&str> = sites.iter().map(resolved).collect();
        assert_eq!(refs, ["a-plus:dflt", "b:colon", "c:p1", "d:$x"]);
        // The default inside `${V:-default}` is in the file, so it is editable.
        let SiteValue::Resolved { pieces, .. } = &sites[0].value else {
            panic!()
        };
        assert!(
            pieces
                .iter()
                .any(|p| p.file.is_some_and(|f| at(text, f) == "dflt"))
        );
    }

    #[test]
    fn unset_variables_are_reported_not_guessed() {
        let text = "ARG BASE\nFROM ${BASE}\nFROM node:${UNDECLARED}\nFROM x:${Q:?needit}\nFROM y:$TARGETARCH\n";
        let sites = run(text);
        let missing: Vec<Vec<String>> = sites
            .iter()
            .map(|s| match &s.value {
                SiteValue::Unresolved { missing } => missing.clone(),
                SiteValue::Resolved { .. } | SiteValue::Mirror(_) => vec![],
            })
            .collect();
        assert_eq!(
            missing,
            [
                vec!["BASE"],
                vec!["UNDECLARED"],
                vec!["Q"],
                vec!["TARGETARCH"]
            ]
        );
    }

    #[test]
    fn stage_args_and_meta_args() {
        // Only ARGs before the first FROM reach FROM lines; a stage ARG
        // without a value takes the meta ARG's.
        let text = "ARG V=1\nFROM a:${V}\nARG W=2\nFROM b:${W}\nARG V\nCOPY --from=c:${V} / /\n";
        let sites = run(text);
        assert_eq!(resolved(&sites[0]), "a:1");
        assert!(matches!(sites[1].value, SiteValue::Unresolved { .. }));
        assert_eq!(resolved(&sites[2]), "c:1");
    }

    #[test]
    fn errors_docker_build_reports() {
        assert_eq!(err(""), "file with no instructions");
        assert_eq!(err("# just a comment\n\n"), "file with no instructions");
        assert_eq!(err("RUN true\n"), "no build stage in current context");
        assert_eq!(err("ARG A=1\n"), "dockerfile contains no stages to build");
        assert_eq!(
            err("FROM a b\n"),
            "FROM requires either one or three arguments"
        );
        assert!(err("FROM a\nFOO bar\n").starts_with("unknown instruction: FOO"));
        assert!(err("FROM a AS 1x\n").starts_with("invalid name for build stage"));
        let e = extract("FROM a\nBOGUS x\n", &SourceOptions::default()).unwrap_err();
        assert_eq!(e.span, Span::new(7, 12));
    }

    #[test]
    fn json_form_and_onbuild() {
        let text = "FROM a:1\nCMD [\"node\", \"app.js\"]\nONBUILD RUN <<EOF\nFROM x\nEOF\nENTRYPOINT [\"sh\"]\n";
        assert_eq!(run(text).len(), 1);
    }

    #[test]
    fn never_panics() {
        let samples = [
            "\\",
            "FROM \\",
            "FROM a\\\n",
            "FROM ${",
            "FROM ${A",
            "FROM ${A:-",
            "FROM ${A:-${B",
            "FROM $",
            "FROM a\nRUN <<",
            "FROM a\nRUN <<-",
            "FROM a\nCOPY --from= / /",
            "FROM a\nRUN --mount=from= x",
            "FROM \"a",
            "FROM 'a",
            "FROM a\"b'c",
            "\u{feff}",
            "\u{feff}FROM",
            "FROM é:ü",
            "FROM ${é}",
            "\r\n\r\n",
            "FROM a\r",
            "# escape=`\nFROM a`",
            "FROM a\nARG \"",
            "FROM a\nARG =x",
            "FROM --platform",
            "FROM a AS",
            "FROM \u{0}",
            "ONBUILD",
            "FROM a\nONBUILD RUN <<E\nE",
        ];
        for s in samples {
            let _ = extract(s, &SourceOptions::default());
        }
        // Every prefix of a realistic file.
        let text = "# syntax=docker/dockerfile:1\nARG B=node:20\nFROM ${B} AS x\nRUN --mount=type=bind,from=busybox,target=/b <<EOF\nls\nEOF\nCOPY --from=x / /\n";
        for end in 0..=text.len() {
            if text.is_char_boundary(end) {
                let _ = extract(&text[..end], &SourceOptions::default());
            }
        }
        let mut state = 7u64;
        for _ in 0..2000 {
            let len = (state % 60) as usize;
            let mut s = String::new();
            for _ in 0..len {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let pool = b"FROM ARG $ {}:-+?\\`\"'\n\r\t<<EOF a=b,@/.";
                s.push(pool[(state >> 33) as usize % pool.len()] as char);
            }
            let _ = extract(&s, &SourceOptions::default());
        }
    }

    #[test]
    fn stage_graph_links_and_reach() {
        let text = "ARG BASE=base\nFROM alpine:3.20 AS base\nFROM golang:1.23 AS build\nFROM alpine:3.20 AS cache\nFROM alpine:3.20 AS orphan\nFROM busybox:1.36\nFROM ${BASE} AS final\nCOPY --from=build /a /a\nRUN --mount=type=cache,target=/c,from=cache true\nCOPY --from=4 /b /b\n";
        let graph = stage_graph(text, &SourceOptions::default()).unwrap();
        assert_eq!(graph.stages.len(), 6);
        assert_eq!(graph.stages[5].parent, Some(0));
        assert_eq!(graph.stages[5].uses, vec![1, 2, 4]);
        assert_eq!(graph.reachable(), vec![true, true, true, false, true, true]);
        assert_eq!(graph.runs.len(), 1);
        assert!(graph.meta_args.contains(&"BASE".to_string()));
    }

    #[test]
    fn stage_graph_names_and_platforms() {
        let text = "FROM --platform=$TARGETPLATFORM scratch AS Base\nFROM base\n";
        let graph = stage_graph(text, &SourceOptions::default()).unwrap();
        let first = &graph.stages[0];
        assert_eq!(first.name.as_ref().map(|n| n.0.as_str()), Some("Base"));
        let (platform, span) = first.platform.clone().unwrap();
        assert_eq!(platform, "$TARGETPLATFORM");
        assert_eq!(&text[span.start..span.end], "$TARGETPLATFORM");
        assert_eq!(graph.stages[1].parent, Some(0));
        assert_eq!(graph.reachable(), vec![true, true]);
    }
}
