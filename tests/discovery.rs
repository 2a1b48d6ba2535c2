//! Discovery and output: every walk error reported, every file checked
//! under its own name, nothing raw on a terminal, URIs encoded (issue 11).

use assert_cmd::Command;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

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

fn dockerfile(dir: &Path) {
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join("Dockerfile"), "FROM nginx:1.27\n").unwrap();
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    let probe = tempfile::NamedTempFile::new().unwrap();
    probe.as_file().metadata().unwrap().uid() == 0
}

#[test]
fn an_unreadable_folder_is_an_e001_for_that_folder() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::set_permissions(root, fs::Permissions::from_mode(0o755)).unwrap();
    dockerfile(&root.join("ok"));
    dockerfile(&root.join("locked"));
    fs::set_permissions(root.join("locked"), fs::Permissions::from_mode(0o000)).unwrap();
    let binary = assert_cmd::cargo::cargo_bin("refit");
    // Root reads a mode-000 folder: run as `nobody` then.
    let mut cmd = if is_root() {
        let setpriv = Path::new("/usr/bin/setpriv");
        if !setpriv.exists() {
            fs::set_permissions(root.join("locked"), fs::Permissions::from_mode(0o755)).unwrap();
            println!("skipped: running as root without setpriv to drop to `nobody`");
            return;
        }
        let mut c = Command::new(setpriv);
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&binary);
        c
    } else {
        Command::new(&binary)
    };
    let (code, out, err) = run(cmd.current_dir(root).env("NO_COLOR", "1").args([
        "check",
        "--isolated",
        "--format",
        "concise",
        ".",
    ]));
    fs::set_permissions(root.join("locked"), fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        out.contains("locked:1:1: E001 error: Cannot read folder: permission denied"),
        "{out}"
    );
    assert!(out.contains("ok/Dockerfile:1:6: REG001"), "{out}");
}

#[test]
fn files_whose_names_display_alike_are_all_checked() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // A folder named `a\b` beside a path `a/b`.
    dockerfile(&root.join("a\\b"));
    dockerfile(&root.join("a").join("b"));
    // Names that are not UTF-8, differing only in the invalid byte.
    for name in [&b"x\xff"[..], &b"x\xfe"[..]] {
        dockerfile(&root.join(std::ffi::OsStr::from_bytes(name)));
    }
    let (code, out, err) =
        run(refit()
            .current_dir(root)
            .args(["check", "--isolated", "--format", "concise", "."]));
    assert_eq!(code, 1, "{out}{err}");
    let lines: Vec<&str> = out.lines().filter(|l| l.contains("REG001")).collect();
    assert_eq!(
        lines,
        [
            "a/b/Dockerfile:1:6: REG001 warning: Image `nginx:1.27` has no registry; Docker Hub is implied",
            "a\\b/Dockerfile:1:6: REG001 warning: Image `nginx:1.27` has no registry; Docker Hub is implied",
            "x\\xfe/Dockerfile:1:6: REG001 warning: Image `nginx:1.27` has no registry; Docker Hub is implied",
            "x\\xff/Dockerfile:1:6: REG001 warning: Image `nginx:1.27` has no registry; Docker Hub is implied",
        ],
        "{out}"
    );
    // The same file named twice is still checked once.
    let (_, out, _) = run(refit().current_dir(root).args([
        "check",
        "--isolated",
        "--format",
        "concise",
        ".",
        "./a/b/Dockerfile",
    ]));
    assert_eq!(out.matches("a/b/Dockerfile").count(), 1, "{out}");
}

#[test]
fn terminal_escapes_in_names_and_content_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let evil = root.join("evil\x1b]0;owned\x07\x1b[2J");
    fs::create_dir(&evil).unwrap();
    fs::write(
        evil.join("Dockerfile"),
        "FROM nginx:1.27\nFROM ghcr.io/x/y:\x1b[31mred\u{202e}\n",
    )
    .unwrap();
    for format in ["concise", "human"] {
        let out = refit()
            .current_dir(root)
            .args(["check", "--isolated", "--format", format, "."])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!out.stdout.contains(&0x1b), "{format}: {text}");
        assert!(!out.stdout.contains(&0x07), "{format}: {text}");
        assert!(!text.contains('\u{202e}'), "{format}: {text}");
        assert!(
            text.contains("evil\\x1b]0;owned\\x07\\x1b[2J"),
            "{format}: {text}"
        );
        assert!(text.contains("REG001"), "{format}: {text}");
    }
}

#[test]
fn sarif_uris_are_percent_encoded() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir(root.join(".git")).unwrap();
    dockerfile(&root.join("sp ace"));
    dockerfile(&root.join("100%#x"));
    let (code, out, err) =
        run(refit()
            .current_dir(root)
            .args(["check", "--isolated", "--format", "sarif"]));
    assert_eq!(code, 1, "{out}{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mut uris: Vec<&str> = doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    uris.sort();
    assert_eq!(uris, ["100%25%23x/Dockerfile", "sp%20ace/Dockerfile"]);
}

/// `vendor/`, `third_party/`, `node_modules/` and `.terraform/` are left out of a walk
/// by default; a file named on the command line is still checked unless
/// `--force-exclude`; `exclude` (config or `--exclude`) replaces the
/// defaults (issue 22).
#[test]
fn vendored_folders_are_excluded_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir(root.join(".git")).unwrap();
    for d in [
        "vendor/lib",
        "third_party/x",
        "web/node_modules/pkg",
        "infra/.terraform/modules/m",
        "app",
    ] {
        dockerfile(&root.join(d));
    }
    let concise = |args: &[&str]| {
        let (_, out, _) = run(refit()
            .current_dir(root)
            .args(["check", "--output-format", "concise", "--select", "REG001"])
            .args(args));
        let mut files: Vec<String> = out
            .lines()
            .filter(|l| l.contains(": REG001"))
            .map(|l| l.split(':').next().unwrap().to_string())
            .collect();
        files.sort();
        files
    };
    assert_eq!(concise(&[]), ["app/Dockerfile"]);
    assert_eq!(
        concise(&["vendor/lib/Dockerfile", "app/Dockerfile"]),
        ["app/Dockerfile", "vendor/lib/Dockerfile"]
    );
    assert_eq!(
        concise(&["--force-exclude", "vendor/lib/Dockerfile", "app/Dockerfile"]),
        ["app/Dockerfile"]
    );
    assert_eq!(
        concise(&["--exclude", "app"]),
        [
            "infra/.terraform/modules/m/Dockerfile",
            "third_party/x/Dockerfile",
            "vendor/lib/Dockerfile",
            "web/node_modules/pkg/Dockerfile"
        ]
    );
    fs::write(
        root.join("refit.toml"),
        "extend-exclude = [\"app\"]\nforce-exclude = true\n",
    )
    .unwrap();
    assert_eq!(
        concise(&[".", "vendor/lib/Dockerfile"]),
        Vec::<String>::new()
    );
    fs::write(root.join("refit.toml"), "exclude = []\n").unwrap();
    assert_eq!(concise(&[]).len(), 5);
}
