//! Physical and logical lines: line ends, a BOM, comments, blank lines,
//! and continuations joined into logical lines that map back to the file.

use super::*;

/// One physical line: `[start, end)` without its line terminator.
#[derive(Debug, Clone, Copy)]
pub(super) struct Line {
    pub(super) start: usize,
    pub(super) end: usize,
}

pub(super) fn physical_lines(text: &str) -> Vec<Line> {
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

pub(super) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c)
}

pub(super) fn trim_left(text: &str, line: Line) -> usize {
    let bytes = text.as_bytes();
    let mut i = line.start;
    while i < line.end && is_space(bytes[i]) {
        i += 1;
    }
    i
}

pub(super) fn is_comment(text: &str, line: Line) -> bool {
    let i = trim_left(text, line);
    i < line.end && text.as_bytes()[i] == b'#'
}

pub(super) fn is_blank(text: &str, line: Line) -> bool {
    trim_left(text, line) == line.end
}

/// Where a line continuation starts: the escape character followed only by
/// spaces and tabs up to the end of the line.
pub(super) fn continuation_at(text: &str, start: usize, end: usize, escape: u8) -> Option<usize> {
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
pub(super) struct Logical {
    pub(super) text: String,
    pub(super) map: SegmentMap,
}

impl Logical {
    pub(super) fn push(&mut self, source: &str, start: usize, end: usize) {
        if end <= start {
            return;
        }
        self.map.push(self.text.len(), start, end - start);
        self.text.push_str(&source[start..end]);
    }

    pub(super) fn file_offset(&self, at: usize) -> Option<usize> {
        self.map.file_offset(at)
    }

    pub(super) fn file_span(&self, range: Span) -> Span {
        self.map.file_span(range)
    }
}
