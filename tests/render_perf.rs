//! Rendering many findings on a large file stays fast: miette's built-in
//! sources rescan the text for every span (quadratic); ours indexes lines once.

use refit::diagnostic::Diagnostic;
use refit::engine::FileReport;
use refit::kind::FileKind;
use refit::report::{Format, RenderOptions, render};
use refit::site::Span;
use std::time::{Duration, Instant};

#[test]
fn eight_thousand_findings_on_a_3mb_file() {
    let line = format!("FROM node:20 AS s{}\n", "x".repeat(390));
    let mut text = String::new();
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    let rule = refit::rules::find("REG001").expect("REG001 exists");
    for i in 0..8000 {
        let start = text.len() + 5;
        text.push_str(&line);
        diagnostics.push(rule.report_at(Span::new(start, start + 7), format!("finding {i}")));
    }
    assert!(text.len() > 3_200_000);
    let report = FileReport {
        display: "big/Dockerfile".to_string(),
        path: None,
        kind: FileKind::Dockerfile,
        source: Some(text),
        diagnostics,
        fixed: None,
        applied: Vec::new(),
        suggested: None,
        stamp: None,
    };
    let options = RenderOptions {
        color: false,
        fixing: false,
        unsafe_fixes: false,
        width: RenderOptions::DEFAULT_WIDTH,
        pretty: true,
    };
    for format in [Format::Human, Format::Concise, Format::Json] {
        let started = Instant::now();
        let out = render(format, std::slice::from_ref(&report), &options);
        let took = started.elapsed();
        assert!(out.contains("finding 7999"));
        // Generous for unoptimized test builds; the quadratic path took 109 s.
        assert!(took < Duration::from_secs(10), "{format:?} took {took:?}");
        eprintln!("{format:?}: {took:?}");
    }
    let human = render(Format::Human, std::slice::from_ref(&report), &options);
    assert!(
        human.contains("[big/Dockerfile:8000:6]"),
        "line numbers are right at the end"
    );
}
