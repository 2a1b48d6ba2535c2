//! Dependency-update configurations that match image names as text:
//! Renovate's `packageRules` (`matchPackageNames`, `matchDepNames`,
//! `excludePackageNames`, `ignoreDeps`, and their pattern forms) and
//! Dependabot's `ignore`/`allow` `dependency-name`. Both take an image's
//! name as written in the file (`nginx`, not `docker.io/library/nginx`),
//! so a fix that qualifies or moves the name makes a rule stop matching:
//! an ignored image starts getting updates, a grouped one leaves its group.
//! Facts: Renovate's docs ("Configuration Options": `matchPackageNames`
//! matches the package name, regex `/…/` and glob forms; the Docker
//! datasource's package name is the image name as written) and
//! Dependabot's (`ignore`, `dependency-name`).

use std::path::Path;

/// At most this many names are kept per file; a file that lists more is
/// read in part (each name only makes fixes unsafe).
pub const MAX_NAMES: usize = 4096;

/// Whether a file is a Renovate or Dependabot configuration, by its path
/// (repository-relative, `/`-separated, any case): `renovate.json`,
/// `renovate.json5`, `.renovaterc`, `.renovaterc.json(5)` anywhere, any
/// `.json`/`.json5` in a folder named `renovate` (local presets,
/// `.github/renovate/*.json5`), and `dependabot.yml`/`.yaml`.
pub fn is_update_config(path: &Path) -> bool {
    let Some(name) = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
    else {
        return false;
    };
    let in_renovate_folder = path
        .parent()
        .and_then(|p| p.file_name())
        .is_some_and(|d| d.eq_ignore_ascii_case("renovate"));
    matches!(
        name.as_str(),
        "renovate.json"
            | "renovate.json5"
            | ".renovaterc"
            | ".renovaterc.json"
            | ".renovaterc.json5"
            | "dependabot.yml"
            | "dependabot.yaml"
    ) || (in_renovate_folder && (name.ends_with(".json") || name.ends_with(".json5")))
}

pub use crate::facts::NameMatch as Match;

/// Whether a configuration at `rel` (relative to a repository root,
/// `/`-separated) is one that Renovate or Dependabot reads for that
/// repository: at the root, in `.github/` or `.gitlab/`, or a preset in
/// a top-level `renovate/` folder (`.github/renovate/`). A copy deeper in
/// the tree (another project's, a test's) configures nothing here.
pub fn read_for_root(rel: &str) -> bool {
    let parts: Vec<&str> = rel.split('/').collect();
    match parts.as_slice() {
        [_] => true,
        [dir, _] => matches!(*dir, ".github" | ".gitlab" | "renovate" | ".renovate"),
        [dir, sub, _] => matches!(*dir, ".github" | ".gitlab") && *sub == "renovate",
        _ => false,
    }
}

/// Renovate keys whose values are package names or patterns.
const RENOVATE_KEYS: &str = "matchPackageNames|matchDepNames|excludePackageNames|excludeDepNames|ignoreDeps|matchPackagePatterns|matchDepPatterns|excludePackagePatterns|excludeDepPatterns|matchPackagePrefixes|excludePackagePrefixes";

/// The names one configuration file matches (`text`: its content).
pub fn names(path: &Path, text: &str) -> Vec<Match> {
    static LIST: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(&format!(
            r#"["']?({RENOVATE_KEYS})["']?\s*:\s*\[([^\]]*)\]"#
        ))
        .ok()
    });
    static STRING: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#""((?:[^"\\\n]|\\.){1,256})"|'((?:[^'\\\n]|\\.){1,256})'"#).ok()
    });
    static DEPENDABOT: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"(?m)^\s*-?\s*dependency-name:\s*["']?([^"'\s#]{1,256})"#).ok()
    });
    let mut out = Vec::new();
    let dependabot = path.file_name().is_some_and(|n| {
        n.to_string_lossy()
            .to_ascii_lowercase()
            .starts_with("dependabot.")
    });
    if dependabot {
        if let Some(re) = DEPENDABOT.as_ref() {
            for c in re.captures_iter(text).take(MAX_NAMES) {
                if let Some(m) = c.get(1).and_then(|v| glob(v.as_str())) {
                    out.push(m);
                }
            }
        }
        return out;
    }
    let (Some(list), Some(string)) = (LIST.as_ref(), STRING.as_ref()) else {
        return out;
    };
    for c in list.captures_iter(text) {
        let key = c.get(1).map_or("", |k| k.as_str());
        let Some(values) = c.get(2) else { continue };
        for s in string.captures_iter(values.as_str()) {
            if out.len() >= MAX_NAMES {
                return out;
            }
            let Some(v) = s.get(1).or_else(|| s.get(2)) else {
                continue;
            };
            // JSON's escape for a backslash (`"^quay\\.io"`).
            let v = v.as_str().replace("\\\\", "\\");
            let v = v.as_str();
            let m = if key.contains("Patterns") {
                regex_prefix(v)
            } else if key.contains("Prefixes") {
                image_text(v).then(|| Match::Prefix(v.to_string()))
            } else if let Some(re) = v.strip_prefix('/') {
                // `"/^nginx/"`: a regex in a names list.
                regex_prefix(re.rsplit_once('/').map_or(re, |(r, _)| r))
            } else {
                glob(v)
            };
            out.extend(m);
        }
    }
    out
}

/// Whether a text can be (the start of) an image name as written.
fn image_text(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| {
            b.is_ascii_lowercase()
                || b.is_ascii_digit()
                || matches!(b, b'.' | b'_' | b'-' | b'/' | b':')
        })
}

/// A glob (`nginx`, `bitnami/*`, `!nginx`): its literal start. A negation
/// or a glob that starts with a wildcard says nothing refit can use.
fn glob(v: &str) -> Option<Match> {
    if v.starts_with('!') {
        return None;
    }
    match v.find(['*', '?', '{', '[']) {
        None => image_text(v).then(|| Match::Exact(v.to_string())),
        Some(0) => None,
        Some(at) => image_text(&v[..at]).then(|| Match::Prefix(v[..at].to_string())),
    }
}

/// A regex anchored at the start (`^nginx$`, `^bitnami\/`): the literal
/// text it requires the name to start with (exact when it ends with `$`
/// right after). Unanchored patterns match a qualified name as well.
fn regex_prefix(re: &str) -> Option<Match> {
    let body = re.strip_prefix('^')?;
    let mut literal = String::new();
    let mut chars = body.chars().peekable();
    let mut stop = None;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e @ ('.' | '/' | '-' | '_' | ':')) => literal.push(e),
                _ => break,
            },
            '$' if chars.peek().is_none() => {
                return image_text(&literal).then_some(Match::Exact(literal));
            }
            c if c.is_ascii_lowercase()
                || c.is_ascii_digit()
                || matches!(c, '/' | '-' | '_' | ':') =>
            {
                literal.push(c)
            }
            // `.` unescaped is any character; `(`, `[`, `*`, `?`… end the
            // literal start.
            c => {
                stop = Some(c);
                break;
            }
        }
    }
    // A quantifier applies to the last character, which is then optional.
    if matches!(stop, Some('*' | '?' | '{')) {
        literal.pop();
    }
    image_text(&literal).then_some(Match::Prefix(literal))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_files() {
        assert!(is_update_config(Path::new("renovate.json")));
        assert!(is_update_config(Path::new(".github/renovate.json5")));
        assert!(is_update_config(Path::new(".github/renovate/groups.json5")));
        assert!(is_update_config(Path::new(".github/dependabot.yml")));
        assert!(!is_update_config(Path::new("package.json")));
        assert!(!is_update_config(Path::new("config/groups.json5")));
        assert!(read_for_root("renovate.json"));
        assert!(read_for_root(".github/renovate/groups.json5"));
        assert!(!read_for_root("tests/fixtures/renovate.json"));
    }

    #[test]
    fn renovate_names_and_patterns() {
        let text = r#"{
  // JSON5 keys may be unquoted
  packageRules: [
    { matchDatasources: ["docker"], matchPackageNames: ["nginx", "bitnami/*", "/^quay\\.io\\//", "!redis"], enabled: false },
    { "matchPackagePatterns": ["^ghcr.io/acme/", "postgres"], groupName: "db" },
    { matchDepNames: ['mysql'] },
  ],
  ignoreDeps: ["busybox"],
}"#;
        let got = names(Path::new("renovate.json5"), text);
        assert_eq!(
            got,
            [
                Match::Exact("nginx".into()),
                Match::Prefix("bitnami/".into()),
                Match::Prefix("quay.io/".into()),
                Match::Prefix("ghcr".into()),
                Match::Exact("mysql".into()),
                Match::Exact("busybox".into()),
            ]
        );
        // `docker` is a datasource, not a name; `postgres` unanchored
        // matches a qualified name too.
        assert!(!got.iter().any(|m| m.matches("docker")));
        assert!(!got.iter().any(|m| m.matches("postgres")));
        assert!(got.iter().any(|m| m.matches("bitnami/redis")));
        assert!(!got.iter().any(|m| m.matches("docker.io/library/nginx")));
    }

    #[test]
    fn dependabot_names() {
        let text = "version: 2\nupdates:\n  - package-ecosystem: docker\n    directory: /\n    ignore:\n      - dependency-name: \"nginx\"\n        versions: [\">=1.26\"]\n      - dependency-name: bitnami/*\n";
        assert_eq!(
            names(Path::new(".github/dependabot.yml"), text),
            [
                Match::Exact("nginx".into()),
                Match::Prefix("bitnami/".into())
            ]
        );
    }
}
