//! Writing a report file by file. Line formats (human, concise, github,
//! rdjsonl, review) go out as each file is done; whole-document formats
//! (json, sarif, rdjson, gitlab, junit) keep only their rendered array
//! items, in memory up to a limit and then in an anonymous temporary file,
//! and splice them into the document at the end. Nothing keeps a file's
//! text or findings after the file is written out.

use super::common::{Format, RenderOptions, Totals, pretty};
use super::{github, human, json, junit, rdjson, review, sarif};
use crate::engine::FileReport;
use std::io::{self, BufWriter, Seek, Write};

/// The items of one array (or the body of a document), in memory up to
/// `limit` bytes, then in an anonymous temporary file.
struct Spill {
    memory: Vec<u8>,
    file: Option<BufWriter<std::fs::File>>,
    items: usize,
    limit: usize,
}

impl Spill {
    fn new(limit: usize) -> Spill {
        Spill {
            memory: Vec::new(),
            file: None,
            items: 0,
            limit,
        }
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        if let Some(f) = &mut self.file {
            return f.write_all(bytes);
        }
        self.memory.extend_from_slice(bytes);
        if self.memory.len() > self.limit {
            let mut f = BufWriter::new(tempfile::tempfile()?);
            f.write_all(&self.memory)?;
            self.memory = Vec::new();
            self.file = Some(f);
        }
        Ok(())
    }

    /// An array element, after a separator when it is not the first.
    fn item(&mut self, text: &str) -> io::Result<()> {
        if self.items > 0 {
            self.write(b",\n")?;
        }
        self.items += 1;
        self.write(text.as_bytes())
    }

    fn copy_to(self, out: &mut dyn Write) -> io::Result<()> {
        match self.file {
            None => out.write_all(&self.memory),
            Some(f) => {
                let mut f = f.into_inner().map_err(io::IntoInnerError::into_error)?;
                f.rewind()?;
                io::copy(&mut f, out).map(|_| ())
            }
        }
    }
}

/// Write `skeleton` with each `marker` (an empty array, `"key": []`, as
/// serde_json prints it) filled with its spilled items, `indent` spaces
/// deep; markers in the order they appear.
fn splice(
    out: &mut dyn Write,
    skeleton: &str,
    arrays: Vec<(&str, usize, Spill)>,
) -> io::Result<()> {
    let mut rest = skeleton;
    for (marker, indent, spill) in arrays {
        let Some(at) = rest.find(marker) else {
            continue;
        };
        let open = at + marker.len() - 1;
        out.write_all(&rest.as_bytes()[..open])?;
        if spill.items == 0 {
            out.write_all(b"]")?;
        } else {
            out.write_all(b"\n")?;
            spill.copy_to(out)?;
            out.write_all(b"\n")?;
            out.write_all(" ".repeat(indent.saturating_sub(2)).as_bytes())?;
            out.write_all(b"]")?;
        }
        rest = &rest[open + 1..];
    }
    out.write_all(rest.as_bytes())?;
    out.write_all(b"\n")
}

enum State {
    Human(Box<miette::GraphicalReportHandler>),
    Concise,
    Json {
        diagnostics: Spill,
        fixed: Spill,
    },
    Sarif {
        results: Spill,
        rules: sarif::RulesSeen,
        pretty: bool,
    },
    Github(github::Counts),
    Rdjson(Spill),
    Rdjsonl,
    Review,
    Junit(Spill),
    Gitlab(Spill),
    /// GitHub's review API takes one document: its comments and the body's
    /// lines are kept rendered, not the reports.
    GithubReview {
        comments: Spill,
        outside: Spill,
        total: usize,
    },
}

/// A report being written, file by file.
pub struct Emitter<'w> {
    out: &'w mut dyn Write,
    options: RenderOptions,
    totals: Totals,
    state: State,
    /// Files seen (`files_checked`, JUnit's `tests`).
    files: usize,
    /// Findings seen (JUnit's `failures`, review's total).
    findings: usize,
    /// `--diff-base`, for the GitHub review.
    change: Option<&'w crate::gitdiff::Change>,
    /// Whether the human and concise formats end with the summary
    /// (`--quiet` leaves it out).
    summary: bool,
}

impl<'w> Emitter<'w> {
    /// Start a report on `out`; whole-document formats keep up to
    /// `memory_limit` bytes of items in memory before spilling to disk.
    pub fn new(
        format: Format,
        options: RenderOptions,
        out: &'w mut dyn Write,
        memory_limit: usize,
    ) -> io::Result<Emitter<'w>> {
        let state = match format {
            Format::Human => State::Human(Box::new(human::handler(options.color, options.width))),
            Format::Concise => State::Concise,
            Format::Json => State::Json {
                diagnostics: Spill::new(memory_limit),
                fixed: Spill::new(memory_limit),
            },
            Format::Sarif => State::Sarif {
                results: Spill::new(memory_limit),
                rules: sarif::RulesSeen::new(),
                pretty: options.pretty,
            },
            Format::Github => State::Github(github::Counts::default()),
            Format::Rdjson => State::Rdjson(Spill::new(memory_limit)),
            Format::Rdjsonl => State::Rdjsonl,
            Format::Review => {
                out.write_all(review::HEADER.as_bytes())?;
                State::Review
            }
            Format::Junit => State::Junit(Spill::new(memory_limit)),
            Format::Gitlab => State::Gitlab(Spill::new(memory_limit)),
            Format::GithubReview => State::GithubReview {
                comments: Spill::new(memory_limit),
                outside: Spill::new(memory_limit),
                total: 0,
            },
        };
        Ok(Emitter {
            out,
            options,
            totals: Totals::default(),
            state,
            files: 0,
            findings: 0,
            change: None,
            summary: true,
        })
    }

    /// Leave out the closing summary of the human and concise formats
    /// (`--quiet`).
    pub fn without_summary(mut self) -> Emitter<'w> {
        self.summary = false;
        self
    }

    /// The changes `--diff-base` found (the GitHub review comments only on
    /// changed lines).
    pub fn with_change(mut self, change: Option<&'w crate::gitdiff::Change>) -> Emitter<'w> {
        self.change = change;
        self
    }

    /// Write (or set aside) one file's part of the report.
    pub fn file(&mut self, report: &FileReport) -> io::Result<()> {
        self.files += 1;
        self.findings += report.diagnostics.len();
        self.totals.add(report);
        let mut text = String::new();
        match &mut self.state {
            State::Human(handler) => human::file(&mut text, report, handler),
            State::Concise => super::concise::file(&mut text, report),
            State::Github(counts) => github::file(&mut text, report, counts),
            State::Review => review::file(&mut text, report),
            State::Rdjsonl => {
                for d in rdjson::file(report) {
                    text.push_str(&d.to_string());
                    text.push('\n');
                }
            }
            State::Json { diagnostics, fixed } => {
                let (mut ds, mut fs) = (Vec::new(), Vec::new());
                json::file(report, &mut ds, &mut fs);
                for d in ds {
                    diagnostics.item(&d)?;
                }
                for f in fs {
                    fixed.item(&f)?;
                }
            }
            State::Sarif {
                results,
                rules,
                pretty,
            } => {
                let mut rs = Vec::new();
                sarif::file(report, rules, &mut rs, *pretty);
                for r in rs {
                    results.item(&r)?;
                }
            }
            State::Rdjson(items) => {
                for d in rdjson::file(report) {
                    items.item(&pretty(&d, 4))?;
                }
            }
            State::Gitlab(items) => {
                for issue in super::gitlab::file(report) {
                    items.item(&pretty(&issue, 2))?;
                }
            }
            State::GithubReview {
                comments,
                outside,
                total,
            } => {
                let (mut cs, mut lines) = (Vec::new(), Vec::new());
                *total += super::github_review::file(
                    report,
                    self.change,
                    self.options.unsafe_fixes,
                    &mut cs,
                    &mut lines,
                );
                for c in cs {
                    comments.item(&pretty(&c, 4))?;
                }
                for line in lines {
                    // Counted as items, written as the body's text.
                    outside.items += 1;
                    outside.write(
                        super::github_review::escaped(&super::github_review::body_line(&line))
                            .as_bytes(),
                    )?;
                }
            }
            State::Junit(body) => {
                junit::file(&mut text, report);
                body.write(text.as_bytes())?;
                text.clear();
            }
        }
        self.out.write_all(text.as_bytes())
    }

    /// Close the report; gives the writer back.
    pub fn finish(self) -> io::Result<&'w mut dyn Write> {
        let out = self.out;
        match self.state {
            State::Human(_) | State::Concise => {
                if self.summary {
                    out.write_all(self.totals.summary(&self.options).as_bytes())?
                }
            }
            State::Github(counts) => out.write_all(github::footer(&counts).as_bytes())?,
            State::Review => out.write_all(review::footer(self.findings).as_bytes())?,
            State::Rdjsonl => {}
            State::Json { diagnostics, fixed } => splice(
                out,
                &json::skeleton(self.files),
                vec![
                    ("\"diagnostics\": []", 4, diagnostics),
                    ("\"fixed\": []", 4, fixed),
                ],
            )?,
            State::Sarif {
                results,
                rules,
                pretty,
            } => {
                let (marker, indent) = if pretty {
                    (sarif::RESULTS_PRETTY, 8)
                } else {
                    (sarif::RESULTS_COMPACT, 2)
                };
                splice(
                    out,
                    &sarif::skeleton(rules, pretty),
                    vec![(marker, indent, results)],
                )?
            }
            State::Rdjson(items) => splice(
                out,
                &rdjson::skeleton(),
                vec![("\"diagnostics\": []", 4, items)],
            )?,
            State::Gitlab(items) => splice(out, "[]", vec![("[]", 2, items)])?,
            State::GithubReview {
                comments,
                outside,
                total,
            } => {
                use super::github_review as gr;
                let skeleton = gr::skeleton(self.change);
                let mark = gr::escaped(gr::BODY_MARK);
                let (before, after) = skeleton.split_once(&mark).unwrap_or((&skeleton, ""));
                out.write_all(before.as_bytes())?;
                let head = gr::body_head(total, comments.items, outside.items > 0);
                out.write_all(gr::escaped(&head).as_bytes())?;
                outside.copy_to(out)?;
                splice(out, after, vec![("\"comments\": []", 4, comments)])?;
            }
            State::Junit(body) => {
                out.write_all(junit::header(self.files, self.findings).as_bytes())?;
                body.copy_to(out)?;
                out.write_all(junit::FOOTER.as_bytes())?;
            }
        }
        out.flush()?;
        Ok(out)
    }
}
