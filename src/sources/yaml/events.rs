//! libyaml's event stream, through `unsafe-libyaml` (libyaml 0.2.5's C
//! source transpiled to Rust), behind a safe interface: the only `unsafe`
//! code of refit's YAML front-end.
//!
//! Marks are byte offsets into the text as libyaml reads it (after a
//! leading BOM, which libyaml consumes before its first mark).

use std::ffi::CStr;
use std::mem::MaybeUninit;

/// How a scalar is written, as libyaml reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ScalarStyle {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Block,
}

#[derive(Debug)]
pub(super) enum EventData {
    StreamStart,
    StreamEnd,
    DocumentStart,
    DocumentEnd,
    Alias {
        anchor: String,
    },
    Scalar {
        anchor: Option<String>,
        tag: Option<String>,
        value: String,
        style: ScalarStyle,
    },
    SequenceStart {
        anchor: Option<String>,
    },
    SequenceEnd,
    MappingStart {
        anchor: Option<String>,
    },
    MappingEnd,
}

/// A position: a byte offset and a 0-based line and column (characters).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Mark {
    pub index: usize,
    pub line: usize,
    pub column: usize,
}

impl From<unsafe_libyaml::yaml_mark_t> for Mark {
    fn from(m: unsafe_libyaml::yaml_mark_t) -> Self {
        let n = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        Mark {
            index: n(m.index),
            line: n(m.line),
            column: n(m.column),
        }
    }
}

#[derive(Debug)]
pub(super) struct Event {
    pub data: EventData,
    pub start: Mark,
    pub end: Mark,
}

/// libyaml's error: its problem, its context ("while scanning a quoted
/// scalar"), and where. A reader error (a control character, invalid
/// UTF-8) has a byte offset but no line.
#[derive(Debug)]
pub(super) struct Error {
    pub problem: String,
    pub context: Option<String>,
    pub mark: Option<Mark>,
    pub offset: usize,
}

/// A libyaml parser over one text. It lives in a box: libyaml keeps a
/// pointer to the parser itself for its string reader, so it must not move.
pub(super) struct Parser<'a> {
    parser: Box<MaybeUninit<unsafe_libyaml::yaml_parser_t>>,
    _text: &'a str,
    done: bool,
}

impl<'a> Parser<'a> {
    pub fn new(text: &'a str) -> Option<Parser<'a>> {
        let mut parser = Box::new(MaybeUninit::<unsafe_libyaml::yaml_parser_t>::uninit());
        let p = parser.as_mut_ptr();
        // SAFETY: `p` points at a boxed, writable parser that libyaml
        // initialises; the input is `text`, borrowed for as long as the
        // parser lives (`'a`), and never written.
        unsafe {
            if unsafe_libyaml::yaml_parser_initialize(p).fail {
                return None;
            }
            unsafe_libyaml::yaml_parser_set_input_string(p, text.as_ptr(), text.len() as u64);
        }
        Some(Parser {
            parser,
            _text: text,
            done: false,
        })
    }

    /// The next event; after an error or the end of the stream, the end of
    /// the stream again.
    pub fn next_event(&mut self) -> Result<Event, Error> {
        if self.done {
            return Ok(Event {
                data: EventData::StreamEnd,
                start: Mark::default(),
                end: Mark::default(),
            });
        }
        let p = self.parser.as_mut_ptr();
        let mut event = MaybeUninit::<unsafe_libyaml::yaml_event_t>::uninit();
        let e = event.as_mut_ptr();
        // SAFETY: the parser was initialised in `new` and is not deleted
        // before `drop`; libyaml fills `event` when it succeeds, the event
        // is read only then, and deleted once after its data is copied.
        unsafe {
            if unsafe_libyaml::yaml_parser_parse(p, e).fail {
                self.done = true;
                let parser = &*p;
                let text = |s: *const std::ffi::c_char| {
                    (!s.is_null()).then(|| CStr::from_ptr(s).to_string_lossy().into_owned())
                };
                let reader = parser.error == unsafe_libyaml::YAML_READER_ERROR;
                return Err(Error {
                    problem: text(parser.problem).unwrap_or_else(|| "invalid YAML".to_string()),
                    context: text(parser.context),
                    mark: (!reader).then(|| parser.problem_mark.into()),
                    offset: usize::try_from(parser.problem_offset).unwrap_or(usize::MAX),
                });
            }
            let ev = &*e;
            let string = |s: *const u8| {
                (!s.is_null()).then(|| CStr::from_ptr(s.cast()).to_string_lossy().into_owned())
            };
            let data = match ev.type_ {
                unsafe_libyaml::YAML_STREAM_START_EVENT => EventData::StreamStart,
                unsafe_libyaml::YAML_STREAM_END_EVENT => EventData::StreamEnd,
                unsafe_libyaml::YAML_DOCUMENT_START_EVENT => EventData::DocumentStart,
                unsafe_libyaml::YAML_DOCUMENT_END_EVENT => EventData::DocumentEnd,
                unsafe_libyaml::YAML_ALIAS_EVENT => EventData::Alias {
                    anchor: string(ev.data.alias.anchor).unwrap_or_default(),
                },
                unsafe_libyaml::YAML_SCALAR_EVENT => {
                    let s = ev.data.scalar;
                    let bytes = if s.value.is_null() {
                        &[][..]
                    } else {
                        std::slice::from_raw_parts(s.value, usize::try_from(s.length).unwrap_or(0))
                    };
                    EventData::Scalar {
                        anchor: string(s.anchor),
                        tag: string(s.tag),
                        // Valid UTF-8 (the input is a `str`) is checked by
                        // the fast path; the lossy one only on an error.
                        value: std::str::from_utf8(bytes).map_or_else(
                            |_| String::from_utf8_lossy(bytes).into_owned(),
                            str::to_owned,
                        ),
                        style: match s.style {
                            unsafe_libyaml::YAML_SINGLE_QUOTED_SCALAR_STYLE => {
                                ScalarStyle::SingleQuoted
                            }
                            unsafe_libyaml::YAML_DOUBLE_QUOTED_SCALAR_STYLE => {
                                ScalarStyle::DoubleQuoted
                            }
                            unsafe_libyaml::YAML_LITERAL_SCALAR_STYLE
                            | unsafe_libyaml::YAML_FOLDED_SCALAR_STYLE => ScalarStyle::Block,
                            _ => ScalarStyle::Plain,
                        },
                    }
                }
                unsafe_libyaml::YAML_SEQUENCE_START_EVENT => EventData::SequenceStart {
                    anchor: string(ev.data.sequence_start.anchor),
                },
                unsafe_libyaml::YAML_SEQUENCE_END_EVENT => EventData::SequenceEnd,
                unsafe_libyaml::YAML_MAPPING_START_EVENT => EventData::MappingStart {
                    anchor: string(ev.data.mapping_start.anchor),
                },
                unsafe_libyaml::YAML_MAPPING_END_EVENT => EventData::MappingEnd,
                _ => {
                    self.done = true;
                    EventData::StreamEnd
                }
            };
            if matches!(data, EventData::StreamEnd) {
                self.done = true;
            }
            let event = Event {
                data,
                start: ev.start_mark.into(),
                end: ev.end_mark.into(),
            };
            unsafe_libyaml::yaml_event_delete(e);
            Ok(event)
        }
    }
}

impl Drop for Parser<'_> {
    fn drop(&mut self) {
        // SAFETY: initialised in `new` (a failed initialisation returns no
        // parser), deleted once here.
        unsafe { unsafe_libyaml::yaml_parser_delete(self.parser.as_mut_ptr()) }
    }
}
