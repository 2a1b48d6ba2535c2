//! Shared invariants for the fuzz targets, and the structure-aware
//! Dockerfile generator.

use arbitrary::Arbitrary;
use refit::kind::FileKind;
use refit::settings::Settings;
use refit::check::check_text;
use refit::engine::{FixMode, process_text};
use refit::fix::only_inside_regions;
use std::time::{Duration, Instant};

/// How long one input may take (unoptimised fuzz builds get room).
pub const BUDGET: Duration = Duration::from_secs(5);

/// Check → fix → re-check, asserting the fix invariants:
/// - no panic, and bounded time;
/// - a fixed file re-parses, with as many image sites as before;
/// - a second fix changes nothing;
/// - bytes outside the edited regions are unchanged;
/// - a reference no applied fix was about keeps its text.
pub fn fix_roundtrip(kind: FileKind, text: &str) {
    let settings = Settings::default();
    let started = Instant::now();
    let Ok(before) = check_text(kind, text, &settings) else {
        return;
    };
    let mode = FixMode::On { unsafe_fixes: true };
    let report = process_text(text.to_string(), "fuzz", None, kind, &settings, mode);
    assert!(started.elapsed() < BUDGET, "fixing took {:?}", started.elapsed());
    let Some(fixed) = report.fixed.as_deref() else {
        return;
    };
    let after = match check_text(kind, fixed, &settings) {
        Ok(c) => c,
        Err(d) => panic!("the fixed text does not re-parse: {}\n{fixed}", d.message),
    };
    // REF005's fix turns `--from=<image>` into a stage: one site fewer
    // each (`Fix::removes_reference`); every other fix keeps the count.
    let removed = report.applied.iter().filter(|a| a.code == "REF005").count();
    assert_eq!(
        before.sites.len().saturating_sub(removed),
        after.sites.len(),
        "a fix changed the number of image sites:\n{text}\n---\n{fixed}"
    );
    // The fix engine's own record of where it wrote.
    let outcome = refit::fix::fix(text, before.clone(), true, |t: &str| {
        check_text(kind, t, &settings)
    });
    assert_eq!(outcome.text, fixed, "fixing is deterministic");
    assert!(
        only_inside_regions(text, fixed, &outcome.regions),
        "bytes outside the edits changed"
    );
    // Sites outside every changed region keep their reference text.
    let paired = if removed == 0 { before.sites.len() } else { 0 };
    for (b, a) in before.sites.iter().zip(&after.sites).take(paired) {
        let touched = outcome
            .regions
            .iter()
            .any(|r| r.original.start < b.span.end.max(b.span.start + 1) && b.span.start < r.original.end.max(r.original.start + 1));
        if !touched {
            assert_eq!(b.raw, a.raw, "a reference no fix was about changed");
        }
    }
    let again = process_text(fixed.to_string(), "fuzz", None, kind, &settings, mode);
    if again.diagnostics.iter().all(|d| !d.code.starts_with('E')) {
        assert!(
            again.fixed.is_none(),
            "a second fix changed the text:\n{fixed}\n---\n{}",
            again.fixed.as_deref().unwrap_or("")
        );
    }
}

/// A Dockerfile built from parts that interact: ARGs before and inside
/// stages, stages built on stages, `COPY --from`, `RUN --mount=from`,
/// heredocs and line continuations.
#[derive(Debug, Arbitrary)]
pub struct Dockerfile {
    pub escape_backtick: bool,
    pub meta_args: Vec<Arg>,
    pub stages: Vec<StageSpec>,
    pub crlf: bool,
}

#[derive(Debug, Arbitrary)]
pub struct Arg {
    pub name: u8,
    pub value: Option<Word>,
}

#[derive(Debug, Arbitrary)]
pub enum Word {
    Image(u8, Option<u8>, Option<u8>),
    Var(u8),
    Default(u8, Box<Word>),
    Alt(u8, Box<Word>),
    Concat(Box<Word>, Box<Word>),
    Quoted(Box<Word>),
    Raw(String),
}

#[derive(Debug, Arbitrary)]
pub struct StageSpec {
    pub base: Base,
    pub name: bool,
    pub platform: bool,
    pub body: Vec<Step>,
}

#[derive(Debug, Arbitrary)]
pub enum Base {
    Word(Word),
    Stage(u8),
    Scratch,
}

#[derive(Debug, Arbitrary)]
pub enum Step {
    Arg(Arg),
    Run(String, bool),
    CopyFrom(Base, bool),
    MountFrom(Base),
    Heredoc(String, bool),
    Env(u8, Word),
    Comment(String),
    Blank,
}

const IMAGES: &[&str] = &[
    "node",
    "python",
    "alpine",
    "docker.io/library/node",
    "k8s.gcr.io/pause",
    "gcr.io/distroless/static",
    "quay.io/org/app",
    "bitnami/redis",
    "localhost:5000/x",
    "ghcr.io/o/r",
    "mcr.microsoft.com/dotnet/sdk",
    "public.ecr.aws/bitnami/nginx",
];
const TAGS: &[&str] = &["20", "latest", "3.12-slim", "1.0", "20-alpine", "stable", "18.04"];
const NAMES: &[&str] = &["BASE", "TAG", "REG", "IMAGE", "VERSION", "X"];

fn pick<'a>(list: &[&'a str], i: u8) -> &'a str {
    list[usize::from(i) % list.len()]
}

impl Word {
    fn render(&self, out: &mut String, depth: usize) {
        if depth > 6 {
            out.push('x');
            return;
        }
        match self {
            Word::Image(i, tag, digest) => {
                out.push_str(pick(IMAGES, *i));
                if let Some(t) = tag {
                    out.push(':');
                    out.push_str(pick(TAGS, *t));
                }
                if let Some(d) = digest {
                    out.push_str(&format!("@sha256:{:064x}", u64::from(*d)));
                }
            }
            Word::Var(n) => {
                out.push_str(&format!("${{{}}}", pick(NAMES, *n)));
            }
            Word::Default(n, w) => {
                out.push_str(&format!("${{{}:-", pick(NAMES, *n)));
                w.render(out, depth + 1);
                out.push('}');
            }
            Word::Alt(n, w) => {
                out.push_str(&format!("${{{}:+", pick(NAMES, *n)));
                w.render(out, depth + 1);
                out.push('}');
            }
            Word::Concat(a, b) => {
                a.render(out, depth + 1);
                b.render(out, depth + 1);
            }
            Word::Quoted(w) => {
                out.push('"');
                w.render(out, depth + 1);
                out.push('"');
            }
            Word::Raw(s) => out.extend(s.chars().filter(|c| !c.is_whitespace()).take(12)),
        }
    }
}

impl Dockerfile {
    pub fn render(&self) -> String {
        let nl = if self.crlf { "\r\n" } else { "\n" };
        let esc = if self.escape_backtick { '`' } else { '\\' };
        let mut s = String::new();
        if self.escape_backtick {
            s.push_str(&format!("# escape=`{nl}"));
        }
        let arg = |s: &mut String, a: &Arg| {
            s.push_str("ARG ");
            s.push_str(pick(NAMES, a.name));
            if let Some(v) = &a.value {
                s.push('=');
                v.render(s, 0);
            }
            s.push_str(nl);
        };
        for a in self.meta_args.iter().take(8) {
            arg(&mut s, a);
        }
        let base = |s: &mut String, b: &Base, k: usize| match b {
            Base::Word(w) => w.render(s, 0),
            Base::Stage(j) if k > 0 => s.push_str(&format!("s{}", usize::from(*j) % k)),
            Base::Stage(j) => s.push_str(&j.to_string()),
            Base::Scratch => s.push_str("scratch"),
        };
        for (k, stage) in self.stages.iter().take(8).enumerate() {
            s.push_str("FROM ");
            if stage.platform {
                s.push_str("--platform=$BUILDPLATFORM ");
            }
            base(&mut s, &stage.base, k);
            if stage.name {
                s.push_str(&format!(" AS s{k}"));
            }
            s.push_str(nl);
            for step in stage.body.iter().take(8) {
                match step {
                    Step::Arg(a) => arg(&mut s, a),
                    Step::Run(cmd, continued) => {
                        let cmd: String = cmd.chars().filter(|c| *c != '\r' && *c != '\n').take(40).collect();
                        if *continued {
                            s.push_str(&format!("RUN echo a {esc}{nl}  && {cmd}{nl}"));
                        } else {
                            s.push_str(&format!("RUN {cmd}{nl}"));
                        }
                    }
                    Step::CopyFrom(b, continued) => {
                        s.push_str("COPY --from=");
                        base(&mut s, b, k + 1);
                        if *continued {
                            s.push_str(&format!(" {esc}{nl}  /usr/local/bin/node /usr/local/bin/"));
                        } else {
                            s.push_str(" /usr/local/lib /usr/local/lib");
                        }
                        s.push_str(nl);
                    }
                    Step::MountFrom(b) => {
                        s.push_str("RUN --mount=type=bind,from=");
                        base(&mut s, b, k + 1);
                        s.push_str(&format!(",target=/m true{nl}"));
                    }
                    Step::Heredoc(body, chomp) => {
                        let body: String = body.chars().filter(|c| *c != '\r' && *c != '\n').take(40).collect();
                        let dash = if *chomp { "-" } else { "" };
                        s.push_str(&format!("RUN <<{dash}EOF{nl}{body}{nl}EOF{nl}"));
                    }
                    Step::Env(n, w) => {
                        s.push_str(&format!("ENV {}=", pick(NAMES, *n)));
                        w.render(&mut s, 0);
                        s.push_str(nl);
                    }
                    Step::Comment(c) => {
                        let c: String = c.chars().filter(|c| *c != '\r' && *c != '\n').take(40).collect();
                        s.push_str(&format!("# {c}{nl}"));
                    }
                    Step::Blank => s.push_str(nl),
                }
            }
        }
        s
    }
}

/// Kinds of file the YAML front-end reads.
pub const YAML_KINDS: &[FileKind] = &[
    FileKind::Compose,
    FileKind::HelmValues,
    FileKind::Kubernetes,
    FileKind::GithubActions,
    FileKind::GitlabCi,
    FileKind::Kustomize,
];

/// Kinds of daemon settings file.
pub const DAEMON_KINDS: &[FileKind] = &[
    FileKind::DaemonJson,
    FileKind::BuildkitToml,
    FileKind::ContainerdHosts,
    FileKind::RegistriesConf,
];

/// Run a check within the time budget, asserting it does not hang.
pub fn bounded_check(kind: FileKind, text: &str) {
    let started = Instant::now();
    let _ = check_text(kind, text, &Settings::default());
    assert!(started.elapsed() < BUDGET, "{kind:?} took {:?}", started.elapsed());
}

/// One event of libyaml's parse, as far as the YAML differential needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LibyamlEvent {
    DocumentStart,
    /// A scalar's value.
    Scalar(String),
    /// An alias, with whether the document defined its anchor before it.
    Alias { defined: bool },
    /// A sequence or mapping starts.
    Open,
    /// A sequence or mapping ends.
    Close,
}

/// libyaml 0.2.5's parse of `text` (through `unsafe-libyaml`, its C source
/// transpiled to Rust): the events, or `None` where libyaml reports an error.
pub fn libyaml_events(text: &str) -> Option<Vec<LibyamlEvent>> {
    use std::mem::MaybeUninit;
    use unsafe_libyaml as y;
    // SAFETY: the parser and each event are initialised by libyaml before
    // use and deleted once; the input outlives the parser.
    unsafe {
        let mut parser = MaybeUninit::<y::yaml_parser_t>::uninit();
        let parser = parser.as_mut_ptr();
        if y::yaml_parser_initialize(parser).fail {
            return None;
        }
        y::yaml_parser_set_input_string(parser, text.as_ptr(), text.len() as u64);
        let mut anchors: std::collections::HashSet<Vec<u8>> = Default::default();
        let mut out = Vec::new();
        let mut event = MaybeUninit::<y::yaml_event_t>::uninit();
        let event = event.as_mut_ptr();
        let bytes = |p: *const u8| -> Vec<u8> {
            if p.is_null() {
                return Vec::new();
            }
            std::ffi::CStr::from_ptr(p.cast()).to_bytes().to_vec()
        };
        let result = loop {
            if y::yaml_parser_parse(parser, event).fail {
                break None;
            }
            let t = (*event).type_;
            let mut anchor = std::ptr::null();
            if t == y::YAML_STREAM_END_EVENT {
                y::yaml_event_delete(event);
                break Some(std::mem::take(&mut out));
            } else if t == y::YAML_DOCUMENT_START_EVENT {
                anchors.clear();
                out.push(LibyamlEvent::DocumentStart);
            } else if t == y::YAML_SCALAR_EVENT {
                let s = (*event).data.scalar;
                let value = std::slice::from_raw_parts(s.value, s.length as usize);
                out.push(LibyamlEvent::Scalar(String::from_utf8_lossy(value).into_owned()));
                anchor = s.anchor;
            } else if t == y::YAML_ALIAS_EVENT {
                let name = bytes((*event).data.alias.anchor);
                out.push(LibyamlEvent::Alias { defined: anchors.contains(&name) });
            } else if t == y::YAML_SEQUENCE_START_EVENT {
                out.push(LibyamlEvent::Open);
                anchor = (*event).data.sequence_start.anchor;
            } else if t == y::YAML_MAPPING_START_EVENT {
                out.push(LibyamlEvent::Open);
                anchor = (*event).data.mapping_start.anchor;
            } else if t == y::YAML_SEQUENCE_END_EVENT || t == y::YAML_MAPPING_END_EVENT {
                out.push(LibyamlEvent::Close);
            }
            if !anchor.is_null() {
                anchors.insert(bytes(anchor));
            }
            y::yaml_event_delete(event);
        };
        y::yaml_parser_delete(parser);
        result
    }
}

/// refit's YAML front-end against libyaml on one text:
/// - it accepts exactly what libyaml accepts, except where refit's own
///   limits stop it (an alias to an undefined anchor, which PyYAML's and
///   go-yaml's loaders also reject; nesting beyond `MAX_DEPTH`);
/// - it reads the same scalars, in the same order;
/// - every scalar's span lies in the text, a quoted one starts and ends
///   with its quote, and a verbatim one's bytes are its value.
pub fn yaml_matches_libyaml(text: &str) {
    use refit::sources::yaml::{self, Node, Style};
    let ours = yaml::parse(text);
    let Some(events) = libyaml_events(text) else {
        assert!(ours.is_err(), "refit read YAML that libyaml rejects:\n{text:?}");
        return;
    };
    let mut depth = 0usize;
    let mut deepest = 0usize;
    let mut undefined_alias = false;
    for e in &events {
        match e {
            LibyamlEvent::Open => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            LibyamlEvent::Close => depth = depth.saturating_sub(1),
            LibyamlEvent::Alias { defined: false } => undefined_alias = true,
            _ => {}
        }
    }
    let docs = match ours {
        Ok(docs) => docs,
        Err(e) => {
            assert!(
                undefined_alias || deepest > yaml::MAX_DEPTH,
                "libyaml reads YAML that refit rejects ({}):\n{text:?}",
                e.message
            );
            return;
        }
    };
    assert!(!undefined_alias, "refit read an alias to an undefined anchor:\n{text:?}");
    let expected: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            LibyamlEvent::Scalar(v) => Some(v.as_str()),
            _ => None,
        })
        .collect();
    fn walk<'a>(node: &'a Node, out: &mut Vec<&'a yaml::Scalar>) {
        match node {
            Node::Scalar(s) => out.push(s),
            Node::Map(pairs, _) => {
                for (k, v) in pairs {
                    walk(k, out);
                    walk(v, out);
                }
            }
            Node::Seq(items, _) => items.iter().for_each(|i| walk(i, out)),
            Node::Alias(_) => {}
        }
    }
    let mut scalars = Vec::new();
    for doc in &docs {
        walk(&doc.root, &mut scalars);
    }
    let got: Vec<&str> = scalars.iter().map(|s| s.value.as_str()).collect();
    assert_eq!(got, expected, "scalars differ from libyaml's:\n{text:?}");
    for s in scalars {
        let written = text.get(s.span.start..s.span.end);
        assert!(written.is_some(), "span {:?} outside the text:\n{text:?}", s.span);
        let written = written.unwrap_or_default();
        let quote = match s.style {
            Style::SingleQuoted => Some('\''),
            Style::DoubleQuoted => Some('"'),
            _ => None,
        };
        if let Some(q) = quote {
            assert!(
                written.len() >= 2 && written.starts_with(q) && written.ends_with(q),
                "quoted scalar span {written:?}:\n{text:?}"
            );
        }
        if let Some(c) = s.content {
            assert_eq!(text.get(c.start..c.end), Some(s.value.as_str()), "verbatim span:\n{text:?}");
        }
    }
}
