//! Files rendered from a template in the repository. A file `F` is
//! generated when the repository holds a template `T` named as `F` (or as
//! `F` without a version after its last `_`/`-`: `r-ver_4.6.1.Dockerfile`
//! is rendered from `r-ver.Dockerfile.txt`) followed by a template
//! extension, and `T`'s text holds template markers (`{{ }}`, `{% %}`,
//! `@VAR@`, …, as `sources::template::file_marker` finds them). A fix to
//! `F` is overwritten the next time the template is rendered, whether or
//! not `F` says "do not edit". A generic name (`Dockerfile`,
//! `compose.yaml`, `values.yaml`, any YAML, JSON or other non-Dockerfile
//! name) renders only into the template's folder and below; a specific
//! Dockerfile name (`r-ver.Dockerfile`, `Dockerfile.alpine`) anywhere.

use std::path::Path;

/// The extensions a template file adds to the name of what it renders.
pub const EXTENSIONS: [&str; 11] = [
    ".txt",
    ".tmpl",
    ".tpl",
    ".template",
    ".j2",
    ".jinja",
    ".jinja2",
    ".in",
    ".erb",
    ".mustache",
    ".gotmpl",
];

/// Words after the last `_`/`-` of a name that are versions though they
/// start with no digit: release channels.
const CHANNELS: [&str; 9] = [
    "devel", "dev", "latest", "nightly", "edge", "stable", "canary", "next", "main",
];

/// The name a template file renders (its name without the template
/// extension), when that names a file refit reads: a Dockerfile, or a
/// file `discover::classify` knows, or YAML.
pub fn rendered_name(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let lower = name.to_ascii_lowercase();
    let ext = EXTENSIONS.iter().find(|e| lower.ends_with(*e))?;
    let stem = &name[..name.len() - ext.len()];
    if stem.is_empty() || stem.starts_with('.') {
        return None;
    }
    let lower_stem = stem.to_ascii_lowercase();
    let known = crate::discover::classify(&path.with_file_name(stem)).is_some()
        || lower_stem.ends_with(".yaml")
        || lower_stem.ends_with(".yml");
    known.then(|| stem.to_string())
}

/// Whether a rendered name is specific enough to name its file anywhere
/// in the repository: a Dockerfile name other than `Dockerfile` and
/// `Containerfile` (`r-ver.Dockerfile`, `Dockerfile.alpine`).
pub fn is_specific(stem: &str) -> bool {
    let lower = stem.to_ascii_lowercase();
    if lower == "dockerfile" || lower == "containerfile" {
        return false;
    }
    ["dockerfile", "containerfile"]
        .iter()
        .any(|d| lower.starts_with(d) || lower.ends_with(d))
}

/// The names a file may have been rendered from (lower case): its own
/// name, and its name without a version after the last `_` or `-` of
/// its stem (`r-ver_4.6.1.Dockerfile` → `r-ver.Dockerfile`,
/// `compose-1.2.yaml` → `compose.yaml`, `r-ver_devel.Dockerfile`).
pub fn source_names(name: &str) -> Vec<String> {
    let lower = name.to_ascii_lowercase();
    let mut out = vec![lower.clone()];
    // The extension is the last `.` part unless it is a version's
    // (`x_4.6.1.Dockerfile`: `Dockerfile`; `Dockerfile_4.6`: none).
    let (stem, ext) = match lower.rsplit_once('.') {
        Some((s, e)) if !e.starts_with(|c: char| c.is_ascii_digit()) => (s, Some(e)),
        _ => (lower.as_str(), None),
    };
    if let Some(at) = stem.rfind(['_', '-']) {
        let (base, version) = (&stem[..at], &stem[at + 1..]);
        let is_version = version.starts_with(|c: char| c.is_ascii_digit())
            && version
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.');
        if !base.is_empty() && (is_version || CHANNELS.contains(&version)) {
            out.push(match ext {
                Some(e) => format!("{base}.{e}"),
                None => base.to_string(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_names() {
        let r = |p: &str| rendered_name(Path::new(p));
        assert_eq!(
            r("build/templates/dockerfiles/r-ver.Dockerfile.txt").as_deref(),
            Some("r-ver.Dockerfile")
        );
        assert_eq!(r("Dockerfile.template").as_deref(), Some("Dockerfile"));
        assert_eq!(r("deploy/values.yaml.tmpl").as_deref(), Some("values.yaml"));
        assert_eq!(r("compose.yaml.j2").as_deref(), Some("compose.yaml"));
        assert_eq!(r("requirements.txt"), None);
        assert_eq!(r("CMakeLists.txt"), None);
        assert_eq!(r("templates/_helpers.tpl"), None);
        assert_eq!(r("config.h.in"), None);
    }

    #[test]
    fn specific_names() {
        assert!(is_specific("r-ver.Dockerfile"));
        assert!(is_specific("Dockerfile.alpine"));
        assert!(!is_specific("Dockerfile"));
        assert!(!is_specific("values.yaml"));
        assert!(!is_specific("compose.yaml"));
    }

    #[test]
    fn names_without_versions() {
        assert_eq!(
            source_names("r-ver_4.6.1.Dockerfile"),
            ["r-ver_4.6.1.dockerfile", "r-ver.dockerfile"]
        );
        assert_eq!(
            source_names("r-ver_devel.Dockerfile"),
            ["r-ver_devel.dockerfile", "r-ver.dockerfile"]
        );
        assert_eq!(
            source_names("geospatial-dev-osgeo.Dockerfile"),
            ["geospatial-dev-osgeo.dockerfile"]
        );
        assert_eq!(
            source_names("compose-1.2.yaml"),
            ["compose-1.2.yaml", "compose.yaml"]
        );
        assert_eq!(source_names("Dockerfile"), ["dockerfile"]);
        assert_eq!(
            source_names("Dockerfile-1.2"),
            ["dockerfile-1.2", "dockerfile"]
        );
    }
}
