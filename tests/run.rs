//! Driving a run through the library, without a process.

use refit::run::{Run, RunOptions};
use std::fs;

fn options(paths: Vec<std::path::PathBuf>) -> RunOptions {
    RunOptions {
        paths,
        isolated: true,
        ..RunOptions::default()
    }
}

#[test]
fn a_run_checks_fixes_and_writes_without_a_process() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("Dockerfile");
    fs::write(&file, "FROM nginx:1.27\n").unwrap();

    let check = Run::new(options(vec![dir.path().to_path_buf()])).unwrap();
    let reports = check.check(std::io::empty()).unwrap();
    assert_eq!(reports.len(), 1);
    assert!(
        reports[0].diagnostics.iter().any(|d| d.code == "REG001"),
        "{:?}",
        reports[0].diagnostics
    );
    assert_eq!(check.exit_code(&reports, false), 1);

    let fix = Run::new(RunOptions {
        fix: true,
        ..options(vec![dir.path().to_path_buf()])
    })
    .unwrap();
    let mut reports = fix.check(std::io::empty()).unwrap();
    assert!(reports[0].fixed.is_some());
    assert!(fix.write_fixes(&mut reports).is_empty());
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        "FROM docker.io/library/nginx:1.27\n"
    );
}

#[test]
fn a_run_reads_stdin_from_any_reader() {
    let run = Run::new(RunOptions {
        stdin_filename: Some("Dockerfile".into()),
        ..options(vec!["-".into()])
    })
    .unwrap();
    let reports = run.check(&b"FROM nginx:1.27\n"[..]).unwrap();
    assert_eq!(reports[0].display, "Dockerfile");
    assert!(reports[0].path.is_none());
    assert!(reports[0].diagnostics.iter().any(|d| d.code == "REG001"));
}

#[test]
fn unknown_selectors_and_mixed_stdin_are_usage_errors() {
    let bad = Run::new(RunOptions {
        select: vec!["NOPE".into()],
        ..options(vec![])
    });
    assert!(bad.is_err_and(|e| e.to_string().contains("unknown rule selector")));
    let mixed = Run::new(options(vec!["-".into(), "x".into()]));
    assert!(mixed.is_err_and(|e| e.to_string().contains("stdin")));
}
