//! `refit advisories`, `[advisories]` in refit.toml, and EOL001's dated
//! message, end to end through the binary.

use assert_cmd::Command;
use refit::rules::knowledge::Knowledge;

fn refit() -> Command {
    Command::new(assert_cmd::cargo::cargo_bin!("refit"))
}

#[test]
fn lists_packs_with_dates_sources_and_selection() {
    let dir = tempfile::tempdir().unwrap();
    let out = refit()
        .current_dir(dir.path())
        .args(["advisories", "--isolated"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for pack in &Knowledge::all().packs {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{} ", pack.name)))
            .unwrap_or_else(|| panic!("{} missing:\n{text}", pack.name));
        assert!(line.contains(&pack.date), "{line}");
        let state = if pack.default {
            "; on]"
        } else {
            "; off (opt-in)]"
        };
        assert!(line.ends_with(state), "{line}");
        assert!(text.contains(&format!("source: {}", pack.source)));
    }
    assert!(text.contains("100 anonymous pulls per 6 hours"));
    assert!(text.contains("set `global.security.allowInsecureImages: true`"));
}

#[test]
fn json_lists_the_selection_a_config_makes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("refit.toml"),
        "[advisories]\nselect = [\"bitnami\", \"k8s-registry\", \"eol\"]\nextend-select = [\"dhi\"]\n",
    )
    .unwrap();
    let out = refit()
        .current_dir(dir.path())
        .args(["advisories", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let selected: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["selected"] == true)
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(selected, ["k8s-registry", "bitnami", "dhi", "eol"]);
    let eol = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "eol")
        .unwrap();
    assert_eq!(eol["snapshot"], Knowledge::all().eol.snapshot.as_str());
    // `refit config` says which packs are in force.
    let out = refit()
        .current_dir(dir.path())
        .arg("config")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("# advisory packs in force: k8s-registry, bitnami, dhi, eol"),
        "{text}"
    );
    assert!(text.contains("[advisories]"), "{text}");
}

#[test]
fn an_unknown_pack_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("refit.toml"),
        "[advisories]\nignore = [\"bitnamy\"]\n",
    )
    .unwrap();
    let out = refit()
        .current_dir(dir.path())
        .arg("advisories")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown advisory pack `bitnamy`"));
}

#[test]
fn eol_message_names_the_snapshot_date_and_the_pack_turns_it_off() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Dockerfile"), "FROM node:16-alpine\n").unwrap();
    let out = refit()
        .current_dir(dir.path())
        .args([
            "check",
            "--isolated",
            "--select",
            "EOL001",
            "--output-format",
            "json",
            ".",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let snapshot = &Knowledge::all().eol.snapshot;
    assert!(
        text.contains(&format!(
            "node 16, which reached end of life on 2023-09-11 (endoflife.date snapshot {snapshot})"
        )),
        "{text}"
    );
    std::fs::write(
        dir.path().join("refit.toml"),
        "[advisories]\nignore = [\"eol\"]\n",
    )
    .unwrap();
    let out = refit()
        .current_dir(dir.path())
        .args([
            "check",
            "--select",
            "EOL001",
            "--output-format",
            "json",
            ".",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// The `dhi` pack end to end: nothing without it; with it, `--fix
/// --unsafe-fixes` writes the `-dev` variant in the build stage and the
/// runtime variant in the final one, and `--fix` alone writes nothing.
#[test]
fn dhi_pack_rewrites_only_when_selected_and_only_as_unsafe() {
    let dockerfile = "FROM python:3.13-slim-bookworm AS build\nRUN pip wheel -w /wheels .\nFROM python:3.13-slim-bookworm\nCOPY --from=build /wheels /wheels\n";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Dockerfile");
    std::fs::write(&path, dockerfile).unwrap();
    let run = |args: &[&str]| {
        refit()
            .current_dir(dir.path())
            .args(["check", "--select", "DHI001"])
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["--fix", "--unsafe-fixes"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), dockerfile);

    std::fs::write(
        dir.path().join("refit.toml"),
        "[advisories]\nextend-select = [\"dhi\"]\n",
    )
    .unwrap();
    let out = run(&[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("catalog snapshot 2026-08-22"), "{text}");
    run(&["--fix"]);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), dockerfile);
    run(&["--fix", "--unsafe-fixes"]);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "FROM dhi.io/python:3.13-debian12-dev AS build\nRUN pip wheel -w /wheels .\nFROM dhi.io/python:3.13-debian12\nCOPY --from=build /wheels /wheels\n"
    );
}
