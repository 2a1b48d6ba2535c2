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
