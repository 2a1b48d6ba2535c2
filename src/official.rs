//! The Docker Official Images list (`rules/official-images.toml`): the
//! single names that mean `docker.io/library/<name>`.

use serde::Deserialize;
use std::collections::BTreeSet;
use std::sync::LazyLock;

pub const OFFICIAL_IMAGES_TOML: &str = include_str!("../rules/official-images.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficialList {
    pub status: String,
    pub date: String,
    pub source: String,
    pub names: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficialFile {
    pub current: OfficialList,
    pub deprecated: OfficialList,
}

static NAMES: LazyLock<BTreeSet<String>> = LazyLock::new(|| {
    toml::from_str::<OfficialFile>(OFFICIAL_IMAGES_TOML)
        .map(|f| {
            f.current
                .names
                .into_iter()
                .chain(f.deprecated.names)
                .collect()
        })
        .unwrap_or_default()
});

/// Whether `name` (a single path component, any case) is a Docker Official
/// Image, current or deprecated.
pub fn is_official_image(name: &str) -> bool {
    NAMES.contains(&name.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_parses_and_is_dated() {
        let file: OfficialFile = toml::from_str(OFFICIAL_IMAGES_TOML).unwrap();
        assert_eq!(file.current.status, "current");
        assert!(file.current.date.starts_with("20"));
        assert!(file.current.names.len() > 100);
        assert!(is_official_image("node") && is_official_image("Postgres"));
        assert!(is_official_image("centos"), "deprecated still counts");
        assert!(!is_official_image("bats-jenkins"));
        assert!(!is_official_image("binary_dir"));
    }
}
