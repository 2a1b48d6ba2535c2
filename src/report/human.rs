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
        let label = match &self.diagnostic.fix {
            Some(_) => "fixable",
            None => "here",
        };
        let primary = LabeledSpan::new(Some(label.to_string()), span.start, span.len());
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
        Some(Box::new(std::iter::once(primary).chain(elsewhere)))
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

/// The handler: plain (no colour) unless asked, never terminal links.
pub fn handler(color: bool) -> GraphicalReportHandler {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    GraphicalReportHandler::new_themed(theme)
        .with_links(false)
        .with_width(100)
}

/// One file's code frames.
pub fn file(out: &mut String, report: &FileReport, handler: &GraphicalReportHandler) {
    let source = report
        .current_text()
        .map(|t| IndexedSource::new(&report.display, t));
    for d in &report.diagnostics {
        let located = source
            .as_ref()
            .filter(|_| !d.code.starts_with('E') || d.code == "E004");
        let r = Report {
            diagnostic: d,
            source: located,
            // Line by line: the help's own line breaks stay.
            help: help_text(d).map(|h| {
                h.split('\n')
                    .map(|l| escape::terminal(l).into_owned())
                    .collect::<Vec<_>>()
                    .join("\n")
            }),
        };
        if located.is_none() {
            out.push_str(&format!("{}: ", escape::terminal(&report.display)));
        }
        let _ = handler.render_report(out, &r);
        out.push('\n');
    }
}
