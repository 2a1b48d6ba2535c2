//! The knowledge tables (`rules/*.toml`) against `../shared/KNOWLEDGE.md`,
//! where they say something about the same image or registry: the tables
//! must not contradict the notes they cite.

use refit::rules::knowledge::Knowledge;
use std::path::Path;

fn knowledge_md() -> Option<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/KNOWLEDGE.md");
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(_) => {
            eprintln!("skipped: ../shared/KNOWLEDGE.md is absent");
            None
        }
    }
}

/// The table rows of KNOWLEDGE.md.
fn rows(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("|---"))
        .collect()
}

/// Deprecated images the notes cover only under another image's row, with
/// the reason.
const DEPRECATED_ELSEWHERE: &[(&str, &str)] = &[(
    "python",
    "KNOWLEDGE.md §3.1 lists ONBUILD variants under `node:*-onbuild`; official-images#2076 deprecated them all",
)];

#[test]
fn deprecated_images_agree_with_knowledge_md() {
    let Some(md) = knowledge_md() else {
        return;
    };
    let rows = rows(&md);
    let k = Knowledge::parse().unwrap();
    for d in &k.deprecated {
        if DEPRECATED_ELSEWHERE.iter().any(|(i, _)| *i == d.image) {
            continue;
        }
        let named = |r: &&str| {
            r.contains(&format!("`{}`", d.image))
                || r.contains(&format!("`{}:", d.image))
                || r.contains(&format!("`docker.io/library/{}`", d.image))
        };
        let mine: Vec<&&str> = rows.iter().filter(|r| named(r)).collect();
        assert!(
            !mine.is_empty(),
            "rules/deprecated.toml: `{}` is in no KNOWLEDGE.md table row",
            d.image
        );
        assert!(
            !mine.iter().any(|r| r.contains("not deprecated")),
            "rules/deprecated.toml: KNOWLEDGE.md says `{}` is not deprecated",
            d.image
        );
        // The date: as written, or its year-month (`2023-03-03` ~ `2023-03`).
        let month = d.since.get(..7).unwrap_or(&d.since);
        assert!(
            mine.iter()
                .any(|r| r.contains(&d.since) || r.contains(month)),
            "rules/deprecated.toml: `{}` since {} is not what KNOWLEDGE.md says: {mine:?}",
            d.image,
            d.since
        );
    }
    // Whatever KNOWLEDGE.md says is alive is not in the table.
    for row in rows.iter().filter(|r| r.contains("not deprecated")) {
        for d in &k.deprecated {
            assert!(
                !row.contains(&format!("`{}`", d.image))
                    && !row.contains(&format!("/{}`", d.image))
                    && !row.contains(&format!(", `{}`", d.image))
                    && !row.contains(&format!("`{}`,", d.image)),
                "rules/deprecated.toml lists `{}`, which KNOWLEDGE.md says is alive: {row}",
                d.image
            );
        }
    }
}

#[test]
fn elastic_images_are_not_deprecated() {
    let k = Knowledge::parse().unwrap();
    for image in ["elasticsearch", "kibana", "logstash"] {
        assert!(
            !k.deprecated.iter().any(|d| d.image == image),
            "`{image}` is alive (KNOWLEDGE.md §3 correction of 2026-12-01)"
        );
    }
}

/// Moved registries: KNOWLEDGE.md names each `from` and gives its date.
#[test]
fn moved_registries_agree_with_knowledge_md() {
    let Some(md) = knowledge_md() else {
        return;
    };
    let rows = rows(&md);
    let k = Knowledge::parse().unwrap();
    for m in &k.moved {
        // Docker Hardened Images are alternatives sourced from Docker's
        // DHI documentation, not moves KNOWLEDGE.md tracks (§7 has them as
        // a survey fact): the entry must cite that documentation.
        if m.pack == "dhi" {
            assert!(m.source.contains("docs.docker.com/dhi/"), "{}", m.from);
            assert_eq!(m.status, "alternative", "{}", m.from);
            assert!(!m.fix, "{}: DHI tags differ, no rewrite", m.from);
            continue;
        }
        // `docker.io/minio/minio` is written `minio/minio` in the notes;
        // regional gcr.io hosts are covered by the `*.gcr.io` row.
        let short = m.from.strip_prefix("docker.io/").unwrap_or(&m.from);
        let key = if matches!(m.from.as_str(), "us.gcr.io" | "eu.gcr.io" | "asia.gcr.io") {
            "*.gcr.io"
        } else {
            short
        };
        let mine: Vec<&&str> = rows.iter().filter(|r| r.contains(key)).collect();
        assert!(
            !mine.is_empty(),
            "rules/moved.toml: `{}` is in no KNOWLEDGE.md table row",
            m.from
        );
        assert!(
            mine.iter().any(|r| r.contains(&m.date)),
            "rules/moved.toml: `{}` date {} is not in KNOWLEDGE.md: {mine:?}",
            m.from,
            m.date
        );
    }
}

/// Mirrors KNOWLEDGE.md calls dead are dead in the table, and the reverse.
#[test]
fn dead_mirrors_agree_with_knowledge_md() {
    let Some(md) = knowledge_md() else {
        return;
    };
    let rows = rows(&md);
    let k = Knowledge::parse().unwrap();
    for m in &k.mirror {
        let host = m.host.as_str();
        let Some(row) = rows.iter().find(|r| r.starts_with(&format!("| `{host}`"))) else {
            continue;
        };
        let status = row.split('|').nth(5).unwrap_or("").to_ascii_lowercase();
        let says_dead = [
            "dead",
            "shut down",
            "closed",
            "discontinued",
            "nxdomain",
            "关闭",
        ]
        .iter()
        .any(|w| status.contains(w));
        let says_alive = status.contains("alive");
        if says_dead && !says_alive {
            assert_eq!(m.status, "dead", "rules/mirrors.toml `{host}`: {row}");
        }
        if m.status == "dead" {
            assert!(says_dead, "rules/mirrors.toml says `{host}` is dead: {row}");
        }
    }
}
