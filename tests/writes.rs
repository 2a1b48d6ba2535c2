//! Writing fixes: nothing lost, nothing misreported (issue 11).

use assert_cmd::Command;
use refit::report::{self, Format, RenderOptions};
use refit::run::{Run, RunOptions};
use std::fs;
use std::path::{Path, PathBuf};

const BEFORE: &str = "FROM nginx:1.27\n";
const AFTER: &str = "FROM docker.io/library/nginx:1.27\n";

fn refit() -> Command {
    let mut cmd = Command::cargo_bin("refit").unwrap();
    cmd.env("NO_COLOR", "1");
    cmd
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn fix_run(path: &Path) -> Run {
    Run::new(RunOptions {
        paths: vec![path.to_path_buf()],
        fix: true,
        isolated: true,
        ..RunOptions::default()
    })
    .unwrap()
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn dockerfile(dir: &Path) -> PathBuf {
    let file = dir.join("Dockerfile");
    fs::write(&file, BEFORE).unwrap();
    file
}

#[test]
fn a_failed_write_keeps_its_findings_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let file = dockerfile(dir.path());
    let run = fix_run(&file);
    let mut reports = run.check(std::io::empty()).unwrap();
    assert!(reports[0].fixed.is_some());
    // Deleted between reading and writing.
    fs::remove_file(&file).unwrap();
    let failures = run.write_fixes(&mut reports);
    assert_eq!(failures.len(), 1);
    let r = &reports[0];
    assert!(r.fixed.is_none() && r.applied.is_empty(), "{r:?}");
    let codes: Vec<_> = r.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["E001", "REG001"], "{codes:?}");
    assert_eq!(run.exit_code(&reports, true), 2);
    let options = RenderOptions {
        color: false,
        fixing: true,
        unsafe_fixes: false,
        width: RenderOptions::DEFAULT_WIDTH,
        pretty: true,
    };
    let concise = report::render(Format::Concise, &reports, &options);
    assert!(concise.contains("(0 fixed, 2 remaining)"), "{concise}");
    assert!(concise.contains("REG001"), "{concise}");
    let json: serde_json::Value =
        serde_json::from_str(&report::render(Format::Json, &reports, &options)).unwrap();
    assert_eq!(json["fixed"], serde_json::json!([]), "{json}");
    assert_eq!(json["diagnostics"].as_array().unwrap().len(), 2, "{json}");
    for format in [
        Format::Sarif,
        Format::Github,
        Format::Rdjsonl,
        Format::Human,
    ] {
        let text = report::render(format, &reports, &options);
        assert!(text.contains("REG001"), "{format:?}: {text}");
    }
}

#[test]
fn read_only_files_are_refused_with_e001_even_as_root() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let file = dockerfile(dir.path());
    fs::set_permissions(&file, fs::Permissions::from_mode(0o444)).unwrap();
    let (code, out, err) = run(refit()
        .args(["check", "--isolated", "--fix", "--format", "json"])
        .arg(&file));
    assert_eq!(code, 2, "{out}{err}");
    assert_eq!(fs::read_to_string(&file).unwrap(), BEFORE);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["fixed"], serde_json::json!([]), "{json}");
    let codes: Vec<_> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(codes, ["E001", "REG001"], "{out}");
    assert!(out.contains("read-only"), "{out}");
    let (code, out, _) = run(refit()
        .args(["check", "--isolated", "--fix", "--format", "concise"])
        .arg(&file));
    assert_eq!(code, 2);
    assert!(out.contains("(0 fixed, 2 remaining)"), "{out}");
}

#[test]
fn owner_group_and_mode_are_kept() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    if !nix_is_root() {
        println!("skipped: changing a file's owner needs root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dockerfile(dir.path());
    std::os::unix::fs::chown(&file, Some(1234), Some(5678)).unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o640)).unwrap();
    let (code, out, err) = run(refit()
        .args(["check", "--isolated", "--fix", "--format", "concise"])
        .arg(&file));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(fs::read_to_string(&file).unwrap(), AFTER);
    let m = fs::metadata(&file).unwrap();
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (1234, 5678, 0o640));
    assert_eq!(entries(dir.path()), ["Dockerfile"]);
}

fn nix_is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    // A file we create is owned by our effective user.
    let probe = tempfile::NamedTempFile::new().unwrap();
    probe.as_file().metadata().unwrap().uid() == 0
}

#[test]
fn hard_links_are_kept() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let file = dockerfile(dir.path());
    let other = dir.path().join("linked");
    fs::hard_link(&file, &other).unwrap();
    let inode = fs::metadata(&file).unwrap().ino();
    let (code, out, err) = run(refit()
        .args(["check", "--isolated", "--fix", "--format", "concise"])
        .arg(&file));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(fs::read_to_string(&file).unwrap(), AFTER);
    assert_eq!(fs::read_to_string(&other).unwrap(), AFTER);
    let m = fs::metadata(&file).unwrap();
    assert_eq!((m.ino(), m.nlink()), (inode, 2));
    // The backup is gone once the write is synced.
    assert_eq!(entries(dir.path()), ["Dockerfile", "linked"]);
}

#[test]
fn symlinks_are_kept_and_their_target_written() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    fs::create_dir(&real).unwrap();
    let target = dockerfile(&real);
    let link = dir.path().join("Dockerfile");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let (code, out, err) = run(refit()
        .args(["check", "--isolated", "--fix", "--format", "concise"])
        .arg(&link));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(fs::read_to_string(&target).unwrap(), AFTER);
}

#[test]
fn a_concurrent_edit_is_kept_and_reported_as_e006() {
    let dir = tempfile::tempdir().unwrap();
    let file = dockerfile(dir.path());
    let run = fix_run(&file);
    // The same size, the same modification time: only the content moved.
    let mut reports = run.check(std::io::empty()).unwrap();
    let modified = fs::metadata(&file).unwrap().modified().unwrap();
    let edit = "FROM nginx:1.28\n";
    fs::write(&file, edit).unwrap();
    fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(modified)
        .unwrap();
    let failures = run.write_fixes(&mut reports);
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].error.code(), "E006");
    assert_eq!(fs::read_to_string(&file).unwrap(), edit);
    assert!(reports[0].diagnostics.iter().any(|d| d.code == "E006"));
    assert!(reports[0].fixed.is_none());
    // A longer file.
    fs::write(&file, BEFORE).unwrap();
    let mut reports = run.check(std::io::empty()).unwrap();
    let edit = "FROM nginx:1.27\nRUN true\n";
    fs::write(&file, edit).unwrap();
    let failures = run.write_fixes(&mut reports);
    assert_eq!(failures[0].error.code(), "E006");
    assert!(
        failures[0].error.to_string().contains("changed"),
        "{}",
        failures[0].error
    );
    assert_eq!(fs::read_to_string(&file).unwrap(), edit);
    assert_eq!(entries(dir.path()), ["Dockerfile"]);
}

#[test]
fn add_ignore_works_after_a_byte_order_mark() {
    let dir = tempfile::tempdir().unwrap();
    for (before, after) in [
        (
            "\u{feff}FROM nginx:1.27\n",
            "\u{feff}# refit: ignore[REG001]\nFROM nginx:1.27\n",
        ),
        (
            "\u{feff}# syntax=docker/dockerfile:1\nFROM nginx:1.27\n",
            "\u{feff}# syntax=docker/dockerfile:1\n# refit: ignore-directives[REG001]\n# refit: ignore[REG001]\nFROM nginx:1.27\n",
        ),
    ] {
        let file = dir.path().join("Dockerfile");
        fs::write(&file, before).unwrap();
        let (code, out, err) = run(refit()
            .args(["check", "--isolated", "--add-ignore"])
            .arg(&file));
        assert_eq!(code, 0, "{out}{err}");
        assert_eq!(fs::read_to_string(&file).unwrap(), after);
        let (code, out, _) = run(refit()
            .args(["check", "--isolated", "--format", "concise"])
            .arg(&file));
        assert_eq!(code, 0, "{out}");
    }
}
