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

mod args;
mod expand;
mod flags;
mod heredoc;
mod lines;
mod parse;
mod sites;
mod stages;

use args::*;
use expand::*;
use flags::*;
use heredoc::*;
use lines::*;
use parse::*;
use sites::*;
pub use stages::*;

/// Parse a Dockerfile and return every image site in it, or the first
/// error `docker build` would stop at.
pub fn extract(text: &str, options: &SourceOptions) -> Result<Vec<ImageSite>, SyntaxError> {
    let parsed = parse(text)?;
    validate(&parsed)?;
    let mut found = sites(&parsed, options)?;
    mark_shared(&parsed, &mut found);
    Ok(found)
}

/// `extract` and `stage_graph` from one parse: the graph of a text that
/// parses (`None` otherwise), and its sites or the first error.
pub fn extract_with_graph(
    text: &str,
    options: &SourceOptions,
) -> (
    Option<crate::site::StageGraph>,
    Result<Vec<ImageSite>, SyntaxError>,
) {
    let parsed = match parse(text) {
        Ok(parsed) => parsed,
        Err(e) => return (None, Err(e)),
    };
    let graph = stage_graph_of(&parsed, options);
    let found = validate(&parsed).and_then(|()| {
        let mut found = sites(&parsed, options)?;
        mark_shared(&parsed, &mut found);
        Ok(found)
    });
    (graph, found)
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

#[cfg(test)]
mod tests;
