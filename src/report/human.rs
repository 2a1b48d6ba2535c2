//! Code frames via miette, over a source that indexes line starts once.

use super::escape;
use crate::diagnostic::{Applicability, Diagnostic, LineIndex, Severity};
use crate::engine::FileReport;
use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};
use std::borrow::Cow;
use std::fmt;

/// A miette source over one file's text with a line index built once.
/// miette's own sources rescan the text from the start for every span,
/// which is quadratic in the number of findings.
/// The name and the text are escaped for a terminal (the text keeping its
/// byte offsets).
pub struct IndexedSource<'a> {
    name: Cow<'a, str>,
    text: Cow<'a, str>,
    index: LineIndex,
}

impl<'a> IndexedSource<'a> {
    pub fn new(name: &'a str, text: &'a str) -> IndexedSource<'a> {
        let text = escape::source(text);
        let index = LineIndex::new(&text);
        IndexedSource {
            name: escape::terminal(name),
            text,
            index,
        }
    }
}

impl SourceCode for IndexedSource<'_> {
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        let start = span.offset();
        let end = start + span.len();
        if end > self.text.len() {
            return Err(MietteError::OutOfBounds);
        }
        let first = self.index.line_of(start);
        let last = self
            .index
            .line_of(if end > start { end - 1 } else { start });
        let bytes = self.text.as_bytes();
        if context_lines_before == 0 && context_lines_after == 0 {
            let column = start - self.index.line_start(first);
            return Ok(Box::new(MietteSpanContents::new_named(
                self.name.to_string(),
                &bytes[start..end],
                *span,
                first,
                column,
                last - first + 1,
            )));
        }
        let top = first.saturating_sub(context_lines_before);
        let bottom = (last + context_lines_after).min(self.index.line_count().saturating_sub(1));
        let data_start = self.index.line_start(top);
        let data_end = self.index.line_end(bottom).max(end);
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_string(),
            &bytes[data_start..data_end],
            (data_start, data_end - data_start).into(),
            top,
            0,
            bottom - top + 1,
        )))
    }
}

struct Report<'a> {
    diagnostic: &'a Diagnostic,
    source: Option<&'a IndexedSource<'a>>,
    help: Option<String>,
    /// Other findings on the same span, whose labels share this frame.
    also: &'a [Diagnostic],
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape::terminal(&self.diagnostic.message))
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape::terminal(&self.diagnostic.message))
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(format!(
            "{}({})",
            self.diagnostic.code, self.diagnostic.name
        )))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Info => miette::Severity::Advice,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display + 'b>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.source?;
        let span = self.diagnostic.span;
        let label = |d: &Diagnostic| {
            let what = match d.fix.as_ref().map(|f| f.applicability) {
                Some(Applicability::Safe) => "fixable",
                Some(Applicability::Unsafe) => "unsafe fix",
                None => "here",
            };
            if self.also.is_empty() {
                what.to_string()
            } else {
                format!("{}: {what}", d.code)
            }
        };
        let primary = LabeledSpan::new(Some(label(self.diagnostic)), span.start, span.len());
        let shared = self
            .also
            .iter()
            .map(move |d| LabeledSpan::new(Some(label(d)), span.start, span.len()));
        // A fix that edits elsewhere (an ARG default) shows where.
        let elsewhere = self
            .diagnostic
            .fix
            .iter()
            .flat_map(|f| &f.edits)
            .filter(move |e| e.span.end < span.start || e.span.start > span.end)
            .map(|e| {
                LabeledSpan::new(
                    Some("the fix edits here".to_string()),
                    e.span.start,
                    e.span.len(),
                )
            });
        Some(Box::new(
            std::iter::once(primary).chain(shared).chain(elsewhere),
        ))
    }
}

fn help_text(d: &Diagnostic) -> Option<String> {
    let fix = d.fix.as_ref().map(|f| {
        let safety = match f.applicability {
            Applicability::Safe => "safe fix",
            Applicability::Unsafe => "unsafe fix",
        };
        format!("{safety}: {}", f.title)
    });
    match (&d.help, fix) {
        (Some(h), Some(f)) => Some(format!("{h}\n{f}")),
        (Some(h), None) => Some(h.clone()),
        (None, Some(f)) => Some(f),
        (None, None) => None,
    }
}

/// The handler: plain (no colour) unless asked, never terminal links,
/// wrapped to `width` columns between words but never inside a code span.
pub fn handler(color: bool, width: usize) -> GraphicalReportHandler {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    GraphicalReportHandler::new_themed(theme)
        .with_links(false)
        .with_width(width)
        .with_break_words(false)
        .with_word_separator(textwrap::WordSeparator::Custom(words_outside_code))
        .with_word_splitter(textwrap::WordSplitter::NoHyphenation)
}

/// Words for wrapping: split at spaces, except inside backticks, so a
/// code span (`mcr.microsoft.com/dotnet/sdk`, `refit check --fix`) stays on
/// one line.
fn words_outside_code(line: &str) -> Box<dyn Iterator<Item = textwrap::core::Word<'_>> + '_> {
    let mut words = Vec::new();
    let mut start = 0;
    let mut in_code = false;
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'`' => in_code = !in_code,
            b' ' if !in_code => {
                let mut end = i;
                while end < bytes.len() && bytes[end] == b' ' {
                    end += 1;
                }
                words.push(textwrap::core::Word::from(&line[start..end]));
                start = end;
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    if start < line.len() {
        words.push(textwrap::core::Word::from(&line[start..]));
    }
    Box::new(words.into_iter())
}

/// Help text for a terminal, line by line (its own line breaks stay).
fn escaped_help(d: &Diagnostic) -> Option<String> {
    help_text(d).map(|h| {
        h.split('\n')
            .map(|l| escape::terminal(l).into_owned())
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// One file's code frames.
pub fn file(out: &mut String, report: &FileReport, handler: &GraphicalReportHandler) {
    let diagnostics = &report.diagnostics;
    if diagnostics.is_empty() {
        return;
    }
    // The frame's source (escaped, indexed) only for a file with a
    // located diagnostic; its line index serves the headers too (escaping
    // keeps every byte offset and line feed).
    let source = report
        .current_text()
        .filter(|_| {
            diagnostics
                .iter()
                .any(|d| d.is_finding() || d.code == "E004")
        })
        .map(|t| IndexedSource::new(&report.display, t));
    let index = source.as_ref().map(|s| &s.index);
    let display = escape::terminal(&report.display);
    let mut i = 0;
    while i < diagnostics.len() {
        let d = &diagnostics[i];
        let located = source
            .as_ref()
            .filter(|_| d.is_finding() || d.code == "E004");
        // Findings on the same span share one frame (REG001 and TAG002
        // on `nginx:latest`); the others follow without a frame.
        let mut end = i + 1;
        if located.is_some() {
            while end < diagnostics.len()
                && diagnostics[end].span == d.span
                && !diagnostics[end].is_file_error()
            {
                end += 1;
            }
        }
        let r = Report {
            diagnostic: d,
            source: located,
            help: escaped_help(d),
            also: &diagnostics[i + 1..end],
        };
        // Every header names where it is, the first of a frame too, so
        // `grep Dockerfile:1:` finds each finding (as the companions').
        match (located, report.current_text(), index) {
            (Some(_), Some(text), Some(index)) => {
                let at = index.position(text, d.span.start);
                out.push_str(&format!("{display}:{}:{}: ", at.line, at.column));
            }
            _ => out.push_str(&format!("{display}: ")),
        }
        let _ = handler.render_report(out, &r);
        out.push('\n');
        for other in &diagnostics[i + 1..end] {
            if let (Some(text), Some(index)) = (report.current_text(), index) {
                let at = index.position(text, other.span.start);
                out.push_str(&format!("{display}:{}:{}: ", at.line, at.column));
            }
            let r = Report {
                diagnostic: other,
                source: None,
                help: escaped_help(other),
                also: &[],
            };
            let _ = handler.render_report(out, &r);
            out.push('\n');
        }
        i = end;
    }
}
