//! Dev containers: `devcontainer.json` (JSON with comments and trailing
//! commas). Two kinds of site:
//!
//! - `image`: the container image, pulled by Docker or Podman, so a short
//!   name is Docker Hub's (`node:20` is `docker.io/library/node:20`);
//! - the keys of `features` that are OCI references
//!   (`ghcr.io/devcontainers/features/node:1`): artifacts on a registry.
//!   The other forms of a feature are not references and are skipped: a
//!   local path (`./myFeature`), a tarball URL (`https://…/f.tgz`), a
//!   legacy id (`node`) and a legacy GitHub release (`owner/repo/feature`,
//!   whose first component is not a registry host: the Dev Container CLI
//!   takes the first component of a feature as its registry, never
//!   defaulting to Docker Hub).
//!
//! `devcontainer-lock.json` (the CLI's lock file: a top-level `features`
//! object only, each entry with `version`, `resolved` and `integrity`):
//! each `resolved` that is an OCI reference (`ghcr.io/…/node@sha256:…`)
//! is a feature artifact pinned by digest. The CLI writes the file
//! (`devcontainer upgrade`), so the site is reported, never edited nor
//! re-pinned; a tarball (`https://…/f.tgz`) is no registry artifact.
//! `integrity` is the digest of what was fetched (for an OCI feature, the
//! manifest's, as in `resolved`): not read.
//!
//! `dockerComposeFile` and `build.dockerfile` name files refit reads on
//! their own; `build.args` are read by [`build`] for the workspace.

use super::common::Builder;
use crate::site::{Extra, ImageSite, SiteKind, Span, SyntaxError};
use jsonc_parser::ast::{Object, ObjectPropName, StringLit, Value};
use jsonc_parser::{CollectOptions, ParseOptions};

const BOM: &str = "\u{feff}";

/// What VS Code and the Dev Container CLI accept beyond JSON: comments and
/// trailing commas, nothing else (no single quotes, no bare keys).
fn options() -> ParseOptions {
    ParseOptions {
        allow_comments: true,
        allow_loose_object_property_names: false,
        allow_trailing_commas: true,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    }
}

/// The top-level object of a `devcontainer.json`, or `None` for an empty
/// file. The BOM's length is returned to shift ranges by.
pub(super) fn parse(text: &str) -> Result<Option<(Object<'_>, usize)>, SyntaxError> {
    let (body, offset) = match text.strip_prefix(BOM) {
        Some(rest) => (rest, BOM.len()),
        None => (text, 0),
    };
    let parsed =
        jsonc_parser::parse_to_ast(body, &CollectOptions::default(), &options()).map_err(|e| {
            let r = e.range();
            let start = crate::diagnostic::floor_char_boundary(text, r.start + offset);
            let end = crate::diagnostic::floor_char_boundary(text, r.end + offset).max(start);
            SyntaxError {
                message: format!("invalid JSON: {e}"),
                span: Span::new(start, end),
            }
        })?;
    match parsed.value {
        None => Ok(None),
        Some(Value::Object(object)) => Ok(Some((object, offset))),
        Some(_) => Err(SyntaxError {
            message: "invalid devcontainer.json: the top level must be a JSON object".to_string(),
            span: Span::new(offset, offset),
        }),
    }
}

pub(super) fn name_of<'a>(name: &'a ObjectPropName<'a>) -> &'a str {
    match name {
        ObjectPropName::String(s) => &s.value,
        ObjectPropName::Word(w) => w.value,
    }
}

/// The value of a key; the last one when it is written twice, as JSON
/// readers take it.
pub(super) fn get<'o, 'a>(object: &'o Object<'a>, key: &str) -> Option<&'o Value<'a>> {
    object
        .properties
        .iter()
        .rev()
        .find(|p| name_of(&p.name) == key)
        .map(|p| &p.value)
}

/// A site for a JSON string: the span inside its quotes. When the text
/// written there is not its value (an escape: `\/`, `\u002f`), the value
/// is reported but never edited.
pub(super) fn string_site(
    text: &str,
    offset: usize,
    lit: &StringLit<'_>,
    kind: SiteKind,
    path: &str,
) -> ImageSite {
    let span = Span::new(
        lit.range.start + offset + 1,
        (lit.range.end + offset).saturating_sub(1),
    );
    let written = text.get(span.start..span.end).unwrap_or_default();
    let mut b = Builder::default();
    let verbatim = written == lit.value;
    b.push(&lit.value, verbatim.then_some(span.start));
    ImageSite {
        kind,
        span,
        raw: written.to_string(),
        value: b.into_value(),
        stage: None,
        path: Some(path.to_string()),
        extra: Extra::default(),
    }
}

/// Whether a feature key is an OCI reference, as the Dev Container CLI
/// tells the forms apart: a local path or a URL is not, an id without `/`
/// is a legacy feature, and the first component must be a registry host
/// (else it is a legacy GitHub release, `owner/repo/feature@v1`). A key
/// naming a tarball without its scheme (`host/x/feature.tgz`) is skipped
/// too: no registry serves it as a feature.
fn oci_feature(key: &str) -> bool {
    if key.starts_with("./") || key.starts_with("../") || key.starts_with('/') {
        return false;
    }
    if key.contains("://") || key.contains('\\') {
        return false;
    }
    let Some((host, _)) = key.split_once('/') else {
        return false;
    };
    let lower = key.to_ascii_lowercase();
    if lower.ends_with(".tgz") || lower.ends_with(".tar.gz") {
        return false;
    }
    host.contains('.') || host.contains(':') || host == "localhost"
}

/// A comment of a JSONC text: the span of the whole comment (markers
/// included), its text without the markers, and whether it is a block
/// (`/* … */`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub span: Span,
    pub body: String,
    pub block: bool,
}

/// The comments of a JSON-with-comments text, as its parser finds them
/// (`//` inside a string is none); none when the text does not parse.
pub fn comments(text: &str) -> Vec<Comment> {
    let (body, offset) = match text.strip_prefix(BOM) {
        Some(rest) => (rest, BOM.len()),
        None => (text, 0),
    };
    let collect = CollectOptions {
        comments: jsonc_parser::CommentCollectionStrategy::Separate,
        tokens: false,
    };
    let Ok(parsed) = jsonc_parser::parse_to_ast(body, &collect, &options()) else {
        return Vec::new();
    };
    let mut out: Vec<Comment> = Vec::new();
    for list in parsed.comments.iter().flat_map(|m| m.values()) {
        for c in list.iter() {
            let (range, block) = match c {
                jsonc_parser::ast::Comment::Line(l) => (l.range, false),
                jsonc_parser::ast::Comment::Block(b) => (b.range, true),
            };
            let span = Span::new(range.start + offset, range.end + offset);
            let written = text.get(span.start..span.end).unwrap_or("");
            let inner = written.get(2..).unwrap_or("");
            let inner = if block {
                inner.strip_suffix("*/").unwrap_or(inner)
            } else {
                inner
            };
            out.push(Comment {
                span,
                body: inner.to_string(),
                block,
            });
        }
    }
    // A comment may be listed under the tokens on both its sides.
    out.sort_by_key(|c| c.span);
    out.dedup_by_key(|c| c.span);
    out
}

/// Whether a parsed file is a `devcontainer-lock.json`: only `features`,
/// whose entries say what they `resolved` to.
fn is_lock(root: &Object<'_>) -> bool {
    let Some(Value::Object(features)) = get(root, "features") else {
        return false;
    };
    root.properties
        .iter()
        .all(|p| name_of(&p.name) == "features")
        && !features.properties.is_empty()
        && features
            .properties
            .iter()
            .all(|p| matches!(&p.value, Value::Object(o) if get(o, "resolved").is_some()))
}

/// The lock file's resolved OCI features, reported and never edited.
fn lock_sites(text: &str, offset: usize, root: &Object<'_>) -> Vec<ImageSite> {
    let mut out = Vec::new();
    let Some(Value::Object(features)) = get(root, "features") else {
        return out;
    };
    for prop in &features.properties {
        let Value::Object(entry) = &prop.value else {
            continue;
        };
        let Some(Value::StringLit(resolved)) = get(entry, "resolved") else {
            continue;
        };
        if !oci_feature(&resolved.value) {
            continue;
        }
        let key = name_of(&prop.name);
        let mut site = string_site(
            text,
            offset,
            resolved,
            SiteKind::DevcontainerFeature,
            &format!("features[\"{key}\"].resolved"),
        );
        if site.reference().is_none() {
            continue;
        }
        site.extra.frozen.push(site.span);
        site.extra.kept = Some(
            "the Dev Container CLI writes `devcontainer-lock.json` (`devcontainer upgrade`); change the feature in `devcontainer.json`"
                .to_string(),
        );
        out.push(site);
    }
    out
}

pub fn extract(text: &str) -> Result<Vec<ImageSite>, SyntaxError> {
    let Some((root, offset)) = parse(text)? else {
        return Ok(Vec::new());
    };
    if is_lock(&root) {
        return Ok(lock_sites(text, offset, &root));
    }
    let mut out = Vec::new();
    // The Dev Container CLI picks one way to get the container: a Compose
    // file first, then a Dockerfile (`build.dockerfile`, the older
    // `dockerFile`), and only then `image`; an `image` beside either is
    // never pulled.
    let builds = get(&root, "dockerComposeFile").is_some()
        || get(&root, "dockerFile").is_some()
        || matches!(get(&root, "build"), Some(Value::Object(b)) if get(b, "dockerfile").is_some());
    if !builds
        && let Some(Value::StringLit(image)) = get(&root, "image")
        && !image.value.trim().is_empty()
    {
        out.push(string_site(
            text,
            offset,
            image,
            SiteKind::DevcontainerImage,
            "image",
        ));
    }
    if let Some(Value::Object(features)) = get(&root, "features") {
        for prop in &features.properties {
            let ObjectPropName::String(key) = &prop.name else {
                continue;
            };
            if !oci_feature(&key.value) {
                continue;
            }
            let site = string_site(text, offset, key, SiteKind::DevcontainerFeature, "features");
            // A key that is no reference at all is a form refit does not
            // know, not an invalid reference.
            if site.reference().is_some() {
                out.push(site);
            }
        }
    }
    out.sort_by_key(|s| s.span);
    Ok(out)
}

/// What a `devcontainer.json` says about the Dockerfile it builds:
/// `build.dockerfile` (relative to the `devcontainer.json`, whatever
/// `build.context` says) and `build.args`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Build {
    pub dockerfile: String,
    pub args: std::collections::BTreeMap<String, String>,
}

/// The `build` of a `devcontainer.json` (also its older top-level
/// `dockerFile`), or `None` when it builds nothing or does not parse.
pub fn build(text: &str) -> Option<Build> {
    let (root, _) = parse(text).ok()??;
    let string = |v: Option<&Value<'_>>| match v {
        Some(Value::StringLit(s)) => Some(s.value.to_string()),
        _ => None,
    };
    let build = match get(&root, "build") {
        Some(Value::Object(b)) => Some(b),
        _ => None,
    };
    let dockerfile = build
        .and_then(|b| string(get(b, "dockerfile").or_else(|| get(b, "dockerFile"))))
        .or_else(|| string(get(&root, "dockerFile").or_else(|| get(&root, "dockerfile"))))?;
    let mut args = std::collections::BTreeMap::new();
    if let Some(Value::Object(a)) = build.and_then(|b| get(b, "args")) {
        for prop in &a.properties {
            if let Value::StringLit(v) = &prop.value {
                args.insert(name_of(&prop.name).to_string(), v.value.to_string());
            }
        }
    }
    Some(Build { dockerfile, args })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sites(text: &str) -> Vec<(SiteKind, String, String)> {
        extract(text)
            .unwrap()
            .into_iter()
            .map(|s| {
                let at = text[s.span.start..s.span.end].to_string();
                let norm = s
                    .reference()
                    .map(|r| r.normalized())
                    .unwrap_or_else(|| "(invalid)".to_string());
                (s.kind, at, norm)
            })
            .collect()
    }

    #[test]
    fn image_and_features() {
        let text = "\u{feff}{\n  // a comment: \"image\": \"x\"\n  \"name\": \"é\", /* \"image\" */\n  \"image\": \"node:20\",\n  \"features\": {\n    \"ghcr.io/devcontainers/features/node:1\": {\"version\": \"20\"},\n    \"./local\": {},\n    \"node\": {},\n    \"https://example.com/f.tgz\": {},\n    \"owner/repo/feature@v1\": {},\n    \"ghcr.io/x/y@sha256:0123456789012345678901234567890123456789012345678901234567890123\": {},\n  },\n}\n";
        let s = sites(text);
        assert_eq!(s.len(), 3, "{s:?}");
        assert_eq!(s[0].0, SiteKind::DevcontainerImage);
        assert_eq!(s[0].1, "node:20");
        assert_eq!(s[0].2, "docker.io/library/node:20");
        assert_eq!(s[1].0, SiteKind::DevcontainerFeature);
        assert_eq!(s[1].1, "ghcr.io/devcontainers/features/node:1");
        assert!(s[2].1.starts_with("ghcr.io/x/y@sha256:"));
    }

    #[test]
    fn jsonc_comments() {
        let text = "\u{feff}{\n  // one\n  \"image\": \"https://x//y\", /* two\n lines */\n  \"a\": 1 // three\n}\n";
        let c = comments(text);
        let bodies: Vec<(&str, bool)> = c.iter().map(|c| (c.body.as_str(), c.block)).collect();
        assert_eq!(
            bodies,
            [(" one", false), (" two\n lines ", true), (" three", false)]
        );
        assert_eq!(&text[c[0].span.start..c[0].span.end], "// one");
        assert!(comments("{ // x").is_empty());
    }

    #[test]
    fn lock_file() {
        // devcontainers/cli's own `.devcontainer/devcontainer-lock.json`,
        // with a tarball feature from its tests.
        let text = "{\n  \"features\": {\n    \"ghcr.io/devcontainers/features/docker-in-docker:2\": {\n      \"version\": \"2.16.1\",\n      \"resolved\": \"ghcr.io/devcontainers/features/docker-in-docker@sha256:ce078b7bf7d9ef3bcb9813b32103795d8d72172446890b64772cbe1dec6baafd\",\n      \"integrity\": \"sha256:ce078b7bf7d9ef3bcb9813b32103795d8d72172446890b64772cbe1dec6baafd\"\n    },\n    \"https://github.com/codspace/features/releases/download/tarball02/devcontainer-feature-docker-in-docker.tgz\": {\n      \"version\": \"1.0.0\",\n      \"resolved\": \"https://github.com/codspace/features/releases/download/tarball02/devcontainer-feature-docker-in-docker.tgz\",\n      \"integrity\": \"sha256:9cf3f2a17c1bb2b599b6027cfa975d2fb28234df88ba33ff5e276fa052aac7a0\"\n    }\n  }\n}\n";
        let s = extract(text).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].kind, SiteKind::DevcontainerFeature);
        assert!(
            text[s[0].span.start..s[0].span.end]
                .starts_with("ghcr.io/devcontainers/features/docker-in-docker@sha256:ce07")
        );
        assert!(
            s[0].path
                .as_deref()
                .is_some_and(|p| p.ends_with(".resolved"))
        );
        // Never edited: the CLI writes the file.
        assert_eq!(s[0].extra.frozen, [s[0].span]);
        assert!(s[0].extra.kept.is_some());
        // A devcontainer.json whose feature options say `resolved` is no lock.
        let config = r#"{"image": "node:20", "features": {"ghcr.io/a/f:1": {"resolved": "x"}}}"#;
        assert_eq!(extract(config).unwrap().len(), 2);
        assert!(!is_lock(&parse(r#"{"features": {}}"#).unwrap().unwrap().0));
    }

    #[test]
    fn escapes_are_reported_not_edited() {
        let text = r#"{"image": "mcr.microsoft.com\/devcontainers\u002fbase:ubuntu"}"#;
        let s = extract(text).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(
            s[0].reference().map(|r| r.normalized()).as_deref(),
            Some("mcr.microsoft.com/devcontainers/base:ubuntu")
        );
        assert_eq!(s[0].whole_file_span(), None);
        let s = extract(r#"{"image": "node:20"}"#).unwrap();
        assert_eq!(s[0].whole_file_span(), Some(Span::new(11, 18)));
    }

    #[test]
    fn image_beside_compose_or_dockerfile_is_not_pulled() {
        for text in [
            r#"{"image": "node:20", "dockerComposeFile": "compose.yaml", "service": "app"}"#,
            r#"{"image": "node:20", "build": {"dockerfile": "Dockerfile"}}"#,
            r#"{"image": "node:20", "dockerFile": "Dockerfile"}"#,
        ] {
            assert!(sites(text).is_empty(), "{text}");
        }
        assert_eq!(
            sites(r#"{"image": "node:20", "build": {"args": {}}}"#).len(),
            1
        );
    }

    #[test]
    fn empty_and_invalid() {
        assert_eq!(extract("").unwrap(), []);
        assert_eq!(extract("  // nothing\n").unwrap(), []);
        assert_eq!(extract("{}").unwrap(), []);
        assert_eq!(extract(r#"{"image": null, "features": null}"#).unwrap(), []);
        assert!(extract("malformed json}}}").is_err());
        assert!(extract("[1]").is_err());
        assert!(extract("{'image': 'x'}").is_err());
        // Nesting is bounded by the parser, not the stack.
        let deep = format!("{{\"a\": {}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(extract(&deep).is_err());
    }

    /// What Renovate's devcontainer manager extracts (depName, currentValue,
    /// currentDigest) for the cases its tests cover, on inputs of our own.
    /// Where refit differs on purpose: a file that does not parse is an
    /// error here (Renovate extracts nothing), and the tool versions
    /// Renovate reads from known features' `version` options are not
    /// images.
    /// A name, its tag and its digest.
    type Dep<'a> = (&'a str, Option<&'a str>, Option<&'a str>);

    #[test]
    fn agrees_with_renovate_extraction() {
        let cases: &[(&str, &[Dep])] = &[
            ("", &[]),
            ("{}", &[]),
            (r#"{"features": null}"#, &[]),
            (r#"{"image": null}"#, &[]),
            (r#"{"image": null, "features": null}"#, &[]),
            (r#"{"image:": "registry.example/a/image:1.2.3"}"#, &[]),
            (r#"{"features": "registry.example/a:1.2.3"}"#, &[]),
            (r#"{"features": {"someFeature": {}}}"#, &[]),
            (
                "{\n  // hello\n  \"features\": {\n    \"registry.example/a/features/one:1.2.3\": {},\n  }\n}",
                &[("registry.example/a/features/one", Some("1.2.3"), None)],
            ),
            (
                r#"{"features": {"registry.example/a/one:1.2.3": {}, "registry.example/a/two:4.5.6": {}}}"#,
                &[
                    ("registry.example/a/one", Some("1.2.3"), None),
                    ("registry.example/a/two", Some("4.5.6"), None),
                ],
            ),
            (
                r#"{"image": "registry.example/a/image:1.2.3", "features": {"registry.example/a/feature:4.5.6": {}}}"#,
                &[
                    ("registry.example/a/image", Some("1.2.3"), None),
                    ("registry.example/a/feature", Some("4.5.6"), None),
                ],
            ),
            (
                r#"{"features": {"registry.example/a/feature:1.2.3": {}, "./local": {}, "registry.example/a/feature/other.tgz": {}}}"#,
                &[("registry.example/a/feature", Some("1.2.3"), None)],
            ),
            (
                r#"{"features": {"ghcr.io/devcontainers/features/go:1": {"version": "1.24"}, "ghcr.io/devcontainers/features/ruby:1": {}}}"#,
                &[
                    ("ghcr.io/devcontainers/features/go", Some("1"), None),
                    ("ghcr.io/devcontainers/features/ruby", Some("1"), None),
                ],
            ),
        ];
        for (text, expected) in cases {
            let got: Vec<(String, Option<String>, Option<String>)> = extract(text)
                .unwrap()
                .iter()
                .map(|s| {
                    let r = s.reference().unwrap();
                    let name = r.input().get(..r.path.end).unwrap_or_default().to_string();
                    (
                        name,
                        r.tag_str().map(str::to_string),
                        r.digest_str().map(str::to_string),
                    )
                })
                .collect();
            let expected: Vec<(String, Option<String>, Option<String>)> = expected
                .iter()
                .map(|(n, t, d)| (n.to_string(), t.map(str::to_string), d.map(str::to_string)))
                .collect();
            assert_eq!(got, expected, "{text}");
        }
        assert!(extract("malformed json}}}").is_err());
    }

    #[test]
    fn build_args() {
        let text = "{\"build\": {\"dockerfile\": \"Dockerfile\", \"context\": \"..\", \"args\": {\"VARIANT\": \"3.12\", \"N\": 1,},},}";
        let b = build(text).unwrap();
        assert_eq!(b.dockerfile, "Dockerfile");
        assert_eq!(b.args.get("VARIANT").map(String::as_str), Some("3.12"));
        assert_eq!(b.args.len(), 1);
        assert_eq!(build("{\"image\": \"x\"}"), None);
        let b = build("{\"dockerFile\": \"../Dockerfile\"}").unwrap();
        assert_eq!(b.dockerfile, "../Dockerfile");
    }
}
