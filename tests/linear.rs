//! Acceptance for issue 11: every hostile shape is processed in time linear
//! in its size. Each shape is generated at 1×, 2×, 4× and 8× its base size
//! and checked in-process; the test fails when 8× takes more than
//! `SLACK`× the time of 1× (linear is 8×; the quadratic stage model this
//! replaces took 64×). Times are the best of several runs of the measuring
//! thread's CPU time (where the work is single-threaded), so other
//! processes on a loaded machine do not count.
//! `benches/linear.sh` measures the same shapes with the release binary.

use refit::kind::FileKind;

use refit::settings::Settings;

use refit::check::check_text;
use std::time::{Duration, Instant};

const SLACK: f64 = 20.0;
const RUNS: usize = 3;

/// The CPU time of the calling thread: what a single-threaded piece of
/// work costs, whatever else the machine runs (wall time under a load of 8
/// made a 1× run look three times faster than its 2× one).
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the call.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0;
    if !ok {
        return Duration::ZERO;
    }
    Duration::new(
        u64::try_from(ts.tv_sec).unwrap_or(0),
        u32::try_from(ts.tv_nsec).unwrap_or(0),
    )
}

/// A chain of stages, each built on the one before, with a RUN each.
fn stage_chain(n: usize) -> String {
    let mut s = String::from("FROM alpine:3.20 AS s0\nRUN true\n");
    for i in 1..n {
        s.push_str(&format!("FROM s{} AS s{i}\nRUN echo {i}\n", i - 1));
    }
    s
}

/// n `FROM` lines, each an image of its own.
fn from_lines(n: usize) -> String {
    (0..n)
        .map(|i| format!("FROM alpine:3.{i} AS s{i}\n"))
        .collect()
}

/// `ARG A=$A$A` n times: the value doubles until refit's cap.
fn doubling(n: usize) -> String {
    format!("ARG A=a\n{}FROM $A\n", "ARG A=$A$A\n".repeat(n))
}

/// n ARGs each copying a 32 KiB value: bounded by the file's budget.
fn copies(n: usize) -> String {
    let mut s = format!("ARG A={}\n", "a".repeat(32 * 1024));
    for i in 0..n {
        s.push_str(&format!("ARG B{i}=$A\n"));
    }
    s.push_str("FROM alpine:3.20\n");
    s
}

fn nested(depth: usize) -> String {
    format!(
        "{}docker.io/library/alpine:3.20{}",
        "${A:-".repeat(depth),
        "}".repeat(depth)
    )
}

/// n `FROM` lines, each nesting defaults 60 deep (under the limit).
fn nested_froms(n: usize) -> String {
    let word = nested(60);
    (0..n).map(|i| format!("FROM {word} AS s{i}\n")).collect()
}

/// One RUN continued over n lines.
fn continued(n: usize) -> String {
    format!(
        "FROM alpine:3.20\nRUN --mount=type=cache,target=/c \\\n{}  true\n",
        "  echo $HOME \\\n".repeat(n)
    )
}

/// n Compose services, each interpolating defaults 60 deep.
fn compose_services(n: usize) -> String {
    let word = nested(60);
    let mut s = String::from("services:\n");
    for i in 0..n {
        s.push_str(&format!("  s{i}:\n    image: \"{word}\"\n"));
    }
    s
}

/// n Kubernetes-like documents nested 200 levels deep (under the limit).
fn deep_yaml(n: usize) -> String {
    format!("---\nx: {}1{}\n", "[".repeat(200), "]".repeat(200)).repeat(n)
}

/// n stages, and n `COPY --from` values that each miss a stage by a typo:
/// REF005 looks for the closest stage of every one.
fn from_typos(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&format!("FROM alpine:3.20 AS build-{i}\n"));
    }
    for i in 0..n {
        s.push_str(&format!("COPY --from=bulid-{i} /out /out\n"));
    }
    s
}

fn time(kind: FileKind, text: &str) -> Duration {
    let settings = Settings::default();
    (0..RUNS)
        .map(|_| {
            let started = thread_cpu();
            let out = check_text(kind, text, &settings);
            let took = thread_cpu().saturating_sub(started);
            std::hint::black_box(out.is_ok());
            took
        })
        .min()
        .unwrap_or_default()
}

/// Whether the time at 8× (`measure(3)`) is within `SLACK` times the time
/// at 1× (`measure(0)`; `measure(1)` and `measure(2)` are 2× and 4×).
/// Measured up to three times: a quadratic path fails every time, a burst
/// of load on the machine does not. `Err` carries the last figures.
fn grows_linearly(name: &str, mut measure: impl FnMut(usize) -> Duration) -> Result<(), String> {
    let mut last = String::new();
    for _ in 0..3 {
        let times: Vec<Duration> = (0..4).map(&mut measure).collect();
        // A floor keeps timer noise on a tiny 1× from counting as growth.
        let floor = Duration::from_millis(2);
        let ratio = times[3].as_secs_f64() / times[0].max(floor).as_secs_f64();
        last = format!(
            "{name}: {:?} at 1×, {:?} at 2×, {:?} at 4×, {:?} at 8× (8×/1× = {ratio:.1})",
            times[0], times[1], times[2], times[3]
        );
        eprintln!("{last}");
        if ratio <= SLACK {
            return Ok(());
        }
    }
    Err(last)
}

#[test]
fn every_shape_grows_linearly() {
    type Shape = (&'static str, FileKind, fn(usize) -> String, usize);
    let shapes: &[Shape] = &[
        ("stage chain", FileKind::Dockerfile, stage_chain, 500),
        ("FROM lines", FileKind::Dockerfile, from_lines, 2000),
        ("doubling ARG", FileKind::Dockerfile, doubling, 200),
        ("ARG copies", FileKind::Dockerfile, copies, 400),
        ("nested defaults", FileKind::Dockerfile, nested_froms, 200),
        ("continuations", FileKind::Dockerfile, continued, 20000),
        (
            "Compose interpolation",
            FileKind::Compose,
            compose_services,
            50,
        ),
        ("deep YAML", FileKind::Kubernetes, deep_yaml, 1000),
        ("--from typos", FileKind::Dockerfile, from_typos, 300),
    ];
    let mut failures = Vec::new();
    for &(name, kind, make, base) in shapes {
        // Each shape is read, not refused: the time measured is the work.
        if let Err(e) = check_text(kind, &make(base), &Settings::default()) {
            panic!("{name}: {}", e.message);
        }
        let texts: Vec<String> = [1, 2, 4, 8].iter().map(|k| make(base * k)).collect();
        if let Err(last) = grows_linearly(name, |i| time(kind, &texts[i])) {
            failures.push(last);
        }
    }
    assert!(failures.is_empty(), "super-linear: {failures:?}");
}

/// The baseline: fingerprints of n findings in one Dockerfile, and n stale
/// entries reported (each with a fix of its own) when they all went away.
#[test]
fn a_baseline_grows_linearly() {
    use refit::engine::{FixMode, process_text};
    let settings = Settings {
        select: vec!["ALL".to_string()],
        ..Settings::default()
    };
    let dir = tempfile::tempdir().expect("a temporary folder");
    let run = |n: usize| -> Duration {
        let text: String = (0..n).map(|i| format!("FROM node AS s{i}\n")).collect();
        let report = process_text(
            text,
            "Dockerfile",
            None,
            FileKind::Dockerfile,
            &settings,
            FixMode::Off,
        );
        let path = dir.path().join(format!("baseline-{n}.json"));
        let started = Instant::now();
        let written = refit::baseline::write(&path, std::slice::from_ref(&report))
            .expect("the baseline is written");
        let baseline = refit::baseline::load(&path).expect("the baseline loads");
        // Nothing is left to match: every entry is stale.
        let mut none = vec![process_text(
            "FROM docker.io/library/node:22@sha256:0000000000000000000000000000000000000000000000000000000000000000\n".to_string(),
            "Dockerfile",
            None,
            FileKind::Dockerfile,
            &settings,
            FixMode::Off,
        )];
        let used = baseline.apply(&mut none);
        let stale = baseline.unmatched_report(&used, &|_| true, false);
        let took = started.elapsed();
        let stale = stale.expect("stale entries");
        assert_eq!(stale.diagnostics.len(), written);
        assert!(stale.diagnostics.iter().all(|d| d.fix.is_some()));
        took
    };
    let base = 400;
    let sizes = [1, 2, 4, 8];
    if let Err(last) = grows_linearly("baseline", |i| run(base * sizes[i])) {
        panic!("super-linear: {last}");
    }
}

/// `{{ include "h" (dict "k" ` n times, never closed: every call's dict
/// value is a pipeline that runs to the end of the action.
fn unclosed_dicts(n: usize) -> String {
    format!("{{{{ {} }}}}", "include \"h\" (dict \"k\" ".repeat(n))
}

/// The same calls, each closed at the end: pipelines nested n deep.
fn nested_dicts(n: usize) -> String {
    format!(
        "{{{{ {}{} }}}}",
        "include \"h\" (dict \"k\" (".repeat(n),
        ")".repeat(2 * n)
    )
}

/// A helper with a name of 80·n bytes holding n blocks that read
/// `.digest`.
fn long_helper_name(n: usize) -> String {
    format!(
        "{{{{ define \"{}\" }}}}{}{{{{ end }}}}",
        "a".repeat(80 * n),
        "{{ if .x }}{{ .digest }}{{ end }}".repeat(n)
    )
}

/// A `with` of a values path of 100·n bytes holding n reads of `.digest`.
fn long_with_path(n: usize) -> String {
    format!(
        "{{{{ with .Values.{} }}}}{}{{{{ end }}}}",
        "a".repeat(100 * n),
        "{{ .digest }}".repeat(n)
    )
}

/// A helper reading `.fI.digest` for n fields, called with one `dict` of
/// n entries.
fn dict_fields(n: usize) -> String {
    let reads: String = (0..n).map(|i| format!("{{{{ .f{i}.digest }}}}")).collect();
    let pairs: String = (0..n).map(|i| format!("\"f{i}\" .Values.a{i} ")).collect();
    format!("{{{{ define \"h\" }}}}{reads}{{{{ end }}}}{{{{ include \"h\" (dict {pairs}) }}}}")
}

/// A helper reading n fields, called n times with a different map each:
/// n² values paths, unless bounded.
fn helper_fan_out(n: usize) -> String {
    let reads: String = (0..n).map(|i| format!("{{{{ .f{i}.digest }}}}")).collect();
    let calls: String = (0..n)
        .map(|i| format!("{{{{ include \"h\" .Values.a{i} }}}}"))
        .collect();
    format!("{{{{ define \"h\" }}}}{reads}{{{{ end }}}}{calls}")
}

const CHART_YAML: &str = "apiVersion: v2\nname: hostile\nversion: 0.1.0\n";

/// A chart folder in `dir` with one template and the values files named.
fn write_chart(dir: &std::path::Path, template: &str, values: &[String]) {
    std::fs::create_dir_all(dir.join("templates")).expect("a templates folder");
    std::fs::write(dir.join("Chart.yaml"), CHART_YAML).expect("Chart.yaml is written");
    std::fs::write(dir.join("templates/_x.tpl"), template).expect("the template is written");
    for name in values {
        std::fs::write(
            dir.join(name),
            "image:\n  repository: nginx\n  tag: \"1.25\"\n",
        )
        .expect("a values file is written");
    }
}

/// Reading a chart's templates (`context::chart_facts`: helper calls,
/// digest reads, registry joins) is linear in their size.
#[test]
fn chart_templates_grow_linearly() {
    type Shape = (&'static str, fn(usize) -> String, usize);
    let shapes: &[Shape] = &[
        ("unclosed dict pipelines", unclosed_dicts, 1500),
        ("nested dict pipelines", nested_dicts, 1500),
        ("long helper name", long_helper_name, 1000),
        ("long with path", long_with_path, 1000),
        ("dict fields", dict_fields, 2000),
        ("helper fan-out", helper_fan_out, 200),
    ];
    let root = tempfile::tempdir().expect("a temporary folder");
    let mut failures = Vec::new();
    for &(name, make, base) in shapes {
        let dirs: Vec<std::path::PathBuf> = [1, 2, 4, 8]
            .iter()
            .map(|k| {
                let dir = root.path().join(format!("{}-{k}", name.replace(' ', "-")));
                write_chart(&dir, &make(base * k), &[]);
                dir
            })
            .collect();
        let run = |i: usize| -> Duration {
            (0..RUNS)
                .map(|_| {
                    let started = thread_cpu();
                    let dir = std::fs::canonicalize(&dirs[i]).expect("canonical");
                    let facts = refit::workspace::chart_facts(&dir, &dir, CHART_YAML);
                    let took = thread_cpu().saturating_sub(started);
                    assert!(facts.templates, "{name}: the templates are read");
                    std::hint::black_box(facts);
                    took
                })
                .min()
                .unwrap_or_default()
        };
        if let Err(last) = grows_linearly(name, run) {
            failures.push(last);
        }
    }
    assert!(failures.is_empty(), "super-linear: {failures:?}");
}

/// A chart whose templates and number of values files grow together: its
/// templates are read once per run, not once per values file.
#[test]
fn a_chart_with_many_values_files_grows_linearly() {
    use refit::engine::{FixMode, process_path};
    let root = tempfile::tempdir().expect("a temporary folder");
    let line = "image: \"{{ .Values.image.repository }}@{{ .Values.image.digest }}\"\n{{ include \"h\" (dict \"imageRoot\" .Values.image) }}\n";
    let base = 400;
    let charts: Vec<(std::path::PathBuf, Vec<String>)> = [1, 2, 4, 8]
        .iter()
        .map(|&k| {
            let dir = root.path().join(format!("chart-{k}"));
            let values: Vec<String> = (0..k).map(|i| format!("values-{i}.yaml")).collect();
            write_chart(&dir, &line.repeat(base * k), &values);
            (dir, values)
        })
        .collect();
    let settings = Settings::default();
    let run = |i: usize| -> Duration {
        let (dir, values) = &charts[i];
        (0..RUNS)
            .map(|_| {
                // A run of its own: nothing read by the one before.
                let workspace = refit::workspace::Workspace::new(false);
                let started = Instant::now();
                for name in values {
                    let report = process_path(
                        &dir.join(name),
                        name,
                        FileKind::HelmValues,
                        &settings,
                        &workspace,
                        u64::MAX,
                        FixMode::Off,
                    );
                    assert!(
                        report.diagnostics.iter().any(|d| d.code == "REG001"),
                        "{name}: {:?}",
                        report.diagnostics
                    );
                }
                started.elapsed()
            })
            .min()
            .unwrap_or_default()
    };
    if let Err(last) = grows_linearly("values files", run) {
        panic!("super-linear: {last}");
    }
}
