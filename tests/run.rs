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

#[test]
fn a_run_streams_reports_before_every_file_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let n = 3000;
    for i in 0..n {
        fs::write(
            dir.path().join(format!("{i:05}.Dockerfile")),
            "FROM nginx:1.27\n",
        )
        .unwrap();
    }
    let run = Run::new(options(vec![dir.path().to_path_buf()])).unwrap();
    let (targets, errors) = run.discover();
    assert_eq!(targets.len(), n);
    let checked = std::sync::atomic::AtomicUsize::new(0);
    let mut first_seen_after = None;
    let mut seen = Vec::new();
    run.stream(
        &targets,
        &errors,
        &|| {
            checked.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        },
        true,
        &mut |r| {
            first_seen_after.get_or_insert(checked.load(std::sync::atomic::Ordering::Relaxed));
            seen.push(r.display);
        },
    )
    .unwrap();
    // The first report went out while most files were still unread.
    let first = first_seen_after.unwrap();
    assert!(first < n / 2, "first report after {first} of {n} files");
    assert_eq!(seen.len(), n);
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "in display order");
}

#[test]
fn whole_documents_spilled_to_disk_are_the_same_documents() {
    use refit::report::{self, Format, RenderOptions, stream::Emitter};
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let run = Run::new(options(vec![fixtures])).unwrap();
    let reports = run.check(std::io::empty()).unwrap();
    let options = RenderOptions {
        color: false,
        fixing: false,
        unsafe_fixes: false,
        width: RenderOptions::DEFAULT_WIDTH,
        pretty: true,
    };
    for format in [
        Format::Json,
        Format::Sarif,
        Format::Rdjson,
        Format::Gitlab,
        Format::Junit,
    ] {
        let whole = report::render(format, &reports, &options);
        let mut out = Vec::new();
        let mut emitter = Emitter::new(format, options, &mut out, 1024).unwrap();
        for r in &reports {
            emitter.file(r).unwrap();
        }
        emitter.finish().unwrap();
        assert!(whole.len() > 10_000, "{format:?}");
        assert!(String::from_utf8(out).unwrap() == whole, "{format:?}");
    }
}
