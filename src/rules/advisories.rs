//! `refit advisories`: the advisory packs of `rules/advisories.toml`, with
//! whether a configuration selects them and how many entries each holds.
//! The CLI prints what this builds.

use super::knowledge::{Knowledge, Pack};
use serde::Serialize;

/// One pack as `refit advisories` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    #[serde(flatten)]
    pub pack: Pack,
    /// In force for the path asked about.
    pub selected: bool,
    /// Entries of the data files that belong to the pack (for `eol` and
    /// `dhi`, the images their snapshot covers).
    pub entries: usize,
    /// `eol`: the date of the endoflife.date snapshot; `dhi`: of the DHI
    /// catalog snapshot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
}

/// Every compiled-in pack, marked as `in_force` selects it.
pub fn rows(in_force: &Knowledge) -> Vec<Row> {
    let all = Knowledge::all();
    all.packs
        .iter()
        .map(|pack| {
            let (entries, snapshot) = if pack.data.contains("eol.toml") {
                (all.eol.image.len(), Some(all.eol.snapshot.clone()))
            } else if pack.data.contains("dhi.toml") {
                (all.dhi.image.len(), Some(all.dhi.snapshot.clone()))
            } else {
                let moved = all.moved.iter().filter(|m| m.pack == pack.name).count();
                (moved, None)
            };
            Row {
                pack: pack.clone(),
                selected: in_force.selected.contains(&pack.name),
                entries,
                snapshot,
            }
        })
        .collect()
}

/// The human listing: a line a pack, then its reason, source and side
/// effects indented.
pub fn human(rows: &[Row]) -> String {
    let name = rows.iter().map(|r| r.pack.name.len()).max().unwrap_or(0);
    let mut out = String::new();
    for r in rows {
        let state = match (r.selected, r.pack.default) {
            (true, true) => "on",
            (true, false) => "on (selected)",
            (false, true) => "off (ignored)",
            (false, false) => "off (opt-in)",
        };
        out.push_str(&format!(
            "{:<name$}  {}  {:<7}  {}  [{}; {} entries; {}]\n",
            r.pack.name,
            r.pack.date,
            r.pack.severity.as_str(),
            r.pack.title,
            r.pack.rules.join(", "),
            r.entries,
            state
        ));
        out.push_str(&format!("    {}\n", r.pack.reason));
        if let Some(snapshot) = &r.snapshot {
            out.push_str(&format!("    snapshot: {snapshot}\n"));
        }
        out.push_str(&format!("    source: {}\n", r.pack.source));
        for e in &r.pack.side_effect {
            out.push_str(&format!(
                "    side effect ({}, `{}*` images): set `{}: {}`. {}\n",
                e.when, e.repository_prefix, e.key, e.value, e.note
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::knowledge::Selection;

    #[test]
    fn defaults_leave_dhi_off_and_selection_turns_it_on() {
        let default = rows(Knowledge::builtin());
        let dhi = default.iter().find(|r| r.pack.name == "dhi").unwrap();
        assert!(!dhi.selected && dhi.entries >= 3);
        assert!(
            default
                .iter()
                .filter(|r| r.pack.default)
                .all(|r| r.selected)
        );
        let selection: Selection =
            toml::from_str("extend-select = [\"dhi\"]\nignore = [\"eol\"]").unwrap();
        let k = Knowledge::all().with_packs(&selection);
        let rows = rows(&k);
        assert!(rows.iter().any(|r| r.pack.name == "dhi" && r.selected));
        assert!(rows.iter().any(|r| r.pack.name == "eol" && !r.selected));
        assert!(k.eol.image.is_empty());
        assert!(k.dhi.image.iter().any(|i| i.name == "node"));
        let text = human(&rows);
        assert!(text.contains("global.security.allowInsecureImages: true"));
        assert!(text.contains("snapshot: 2026-08-22"));
        assert!(text.contains("[DHI001; 9 entries; on (selected)]"));
    }

    #[test]
    fn select_replaces_the_defaults() {
        let selection: Selection = toml::from_str("select = [\"bitnami\"]").unwrap();
        let k = Knowledge::all().with_packs(&selection);
        assert_eq!(k.selected, ["bitnami"]);
        assert!(k.moved.iter().all(|m| m.pack == "bitnami"));
        let unknown: Selection = toml::from_str("select = [\"bitnamy\"]").unwrap();
        assert_eq!(unknown.unknown(&k.packs), ["bitnamy"]);
    }
}
