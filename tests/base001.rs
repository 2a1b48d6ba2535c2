//! BASE001's output, judged from outside the rule: every rewrite must
//! parse with refit's own Dockerfile parser, and the Alpine release it
//! picks must package the requested version according to the table in
//! `../shared/KNOWLEDGE.md` (§4.1), which the rule never reads (it reads
//! `rules/runtimes.toml`). Skipped, with a message, when `../shared` is
//! absent.

use refit::kind::FileKind;

use refit::engine::{FixMode, process_text};
use refit::rules::RuleOptions;
use refit::settings::Settings;
use refit::site::SiteKind;
use std::collections::BTreeMap;
use std::path::Path;

/// Alpine release → (nodejs major, python3 minor), from KNOWLEDGE.md;
/// `None` when `../shared` is absent. A KNOWLEDGE.md whose table cannot be
/// read fails the test rather than skipping it.
fn knowledge_table() -> Option<BTreeMap<String, (u32, String)>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/KNOWLEDGE.md");
    let text = std::fs::read_to_string(path).ok()?;
    let section = text
        .split("### 4.1")
        .nth(1)
        .and_then(|s| s.split("### 4.2").next())
        .expect("KNOWLEDGE.md has its §4.1 Alpine table");
    let mut table = BTreeMap::new();
    for line in section.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | 3.20 | 2024-05-22 | **20** (…) | npm | 3.12 | V |
        if cells.len() < 7 || !cells[1].starts_with("3.") {
            continue;
        }
        let major: u32 = cells[3]
            .trim_start_matches("**")
            .split("**")
            .next()
            .and_then(|m| m.parse().ok())
            .unwrap_or_else(|| panic!("KNOWLEDGE.md §4.1: no nodejs major in `{line}`"));
        let python = cells[5].trim_matches('*').to_string();
        table.insert(cells[1].to_string(), (major, python));
    }
    assert!(table.len() >= 10, "KNOWLEDGE.md §4.1 gave only {table:?}");
    Some(table)
}

fn settings(options: &str) -> Settings {
    Settings {
        select: vec!["BASE001".to_string()],
        options: toml::from_str::<RuleOptions>(options).expect("rule options"),
        ..Settings::default()
    }
}

struct Outcome {
    fixed: Option<String>,
    messages: Vec<String>,
}

fn rewrite(dockerfile: &str, settings: &Settings) -> Outcome {
    let before = process_text(
        dockerfile.to_string(),
        "Dockerfile",
        None,
        FileKind::Dockerfile,
        settings,
        FixMode::Off,
    );
    let after = process_text(
        dockerfile.to_string(),
        "Dockerfile",
        None,
        FileKind::Dockerfile,
        settings,
        FixMode::On { unsafe_fixes: true },
    );
    assert!(
        !after.diagnostics.iter().any(|d| d.code == "E005"),
        "fix refused for {dockerfile:?}: {:?}",
        after.diagnostics
    );
    Outcome {
        fixed: after.fixed,
        messages: before.diagnostics.into_iter().map(|d| d.message).collect(),
    }
}

/// The base image and the instruction after it, read back by the parser.
fn read_back(text: &str) -> (String, String) {
    let sites = refit::sources::dockerfile::extract(text, &Default::default())
        .unwrap_or_else(|e| panic!("rewritten Dockerfile does not parse: {e:?}\n{text}"));
    let from = sites
        .iter()
        .find(|s| s.kind == SiteKind::From)
        .expect("a FROM site");
    let base = from.reference().expect("a reference").familiar();
    let stage = from.extra.stage.as_ref().expect("stage facts");
    let next = stage
        .body
        .first()
        .map(|i| format!("{} {}", i.keyword, i.args.trim()))
        .unwrap_or_default();
    (base, next)
}

#[test]
fn node_alpine_rewrites_pick_a_release_that_ships_the_major() {
    let Some(table) = knowledge_table() else {
        eprintln!("skipped: ../shared/KNOWLEDGE.md is absent");
        return;
    };
    let settings = settings("");
    let mut fixed_count = 0;
    for major in 10..=28u32 {
        let expected: Vec<&String> = table
            .iter()
            .filter(|(_, (m, _))| *m == major)
            .map(|(r, _)| r)
            .collect();
        for tag in [
            format!("{major}-alpine"),
            format!("{major}.3.1-alpine3.19"),
            format!("{major}-alpine3.21"),
        ] {
            let input = format!("FROM node:{tag} AS app\nUSER node\nCMD [\"node\", \"app.js\"]\n");
            let out = rewrite(&input, &settings);
            assert_eq!(out.messages.len(), 1, "{input}: {:?}", out.messages);
            match (&out.fixed, expected.is_empty()) {
                (None, true) => assert!(
                    out.messages[0]
                        .contains(&format!("no Alpine release packages Node.js {major}")),
                    "{}",
                    out.messages[0]
                ),
                (Some(fixed), false) => {
                    fixed_count += 1;
                    let (base, next) = read_back(fixed);
                    let release = base
                        .strip_prefix("alpine:")
                        .unwrap_or_else(|| panic!("{tag}: base {base}"));
                    assert_eq!(
                        table.get(release).map(|(m, _)| *m),
                        Some(major),
                        "node:{tag} became {base}, which does not package Node.js {major}"
                    );
                    // The release the tag names is kept when it fits.
                    let pinned = tag.split("-alpine").nth(1).filter(|p| !p.is_empty());
                    if let Some(p) = pinned
                        && expected.iter().any(|r| r.as_str() == p)
                    {
                        assert_eq!(release, p, "node:{tag}");
                    }
                    assert_eq!(next, "run apk add --no-cache nodejs npm", "{fixed}");
                    assert!(fixed.contains("adduser -u 1000 -G node"), "{fixed}");
                    // Checking the result again finds nothing more to do.
                    assert!(rewrite(fixed, &settings).messages.is_empty(), "{fixed}");
                }
                (fixed, _) => panic!(
                    "node:{tag}: knowledge says {expected:?}, refit gave {fixed:?} / {:?}",
                    out.messages
                ),
            }
        }
    }
    // 14, 16, 18, 20, 22, 24: three tags each.
    assert_eq!(fixed_count, 18);
}

#[test]
fn python_alpine_rewrites_pick_a_release_that_ships_the_minor() {
    let Some(table) = knowledge_table() else {
        eprintln!("skipped: ../shared/KNOWLEDGE.md is absent");
        return;
    };
    let settings = settings("");
    let mut fixed_count = 0;
    for minor in 6..=16u32 {
        let version = format!("3.{minor}");
        let ships = table.values().any(|(_, p)| *p == version);
        let input = format!("FROM python:{version}-alpine\nRUN pip install requests\n");
        let out = rewrite(&input, &settings);
        assert_eq!(out.messages.len(), 1, "{input}");
        match &out.fixed {
            Some(fixed) => {
                assert!(ships, "python:{version}-alpine was rewritten: {fixed}");
                fixed_count += 1;
                let (base, next) = read_back(fixed);
                let release = base.strip_prefix("alpine:").expect("an alpine base");
                assert_eq!(
                    table.get(release).map(|(_, p)| p.as_str()),
                    Some(version.as_str())
                );
                assert_eq!(next, "run apk add --no-cache python3 py3-pip");
                assert!(fixed.contains("CMD [\"python3\"]"), "{fixed}");
            }
            None => {
                assert!(!ships, "python:{version}-alpine has a release but no fix");
                assert!(out.messages[0].contains("no Alpine release packages Python"));
            }
        }
    }
    // 3.8, 3.9, 3.10, 3.11, 3.12, 3.14
    assert_eq!(fixed_count, 6);
}

#[test]
fn debian_form_uses_nodesource_for_its_majors() {
    let settings = settings("[BASE001]\nform = \"debian\"\n");
    for major in [16u32, 18, 20, 22, 24, 25] {
        for tag in [
            format!("{major}"),
            format!("{major}-bookworm-slim"),
            format!("{major}-alpine"),
        ] {
            let input = format!("FROM node:{tag}\nRUN npm ci\n");
            let out = rewrite(&input, &settings);
            let fixed = out
                .fixed
                .unwrap_or_else(|| panic!("node:{tag}: {:?}", out.messages));
            let (base, next) = read_back(&fixed);
            assert_eq!(base, "debian:bookworm-slim", "node:{tag}");
            assert!(next.starts_with("run apt-get update"), "{next}");
            assert!(
                next.contains(&format!("deb.nodesource.com/setup_{major}.x")),
                "{next}"
            );
        }
    }
    for tag in ["26", "14-bullseye", "20-trixie"] {
        let out = rewrite(&format!("FROM node:{tag}\n"), &settings);
        assert!(out.fixed.is_none(), "node:{tag}");
        assert!(out.messages[0].contains("no rewrite"), "{:?}", out.messages);
    }
}

#[test]
fn unknown_form_is_a_configuration_error() {
    let e = toml::from_str::<RuleOptions>("[BASE001]\nform = \"aline\"\n").unwrap_err();
    assert!(e.to_string().contains("unknown variant `aline`"), "{e}");
}
