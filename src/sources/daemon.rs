//! Container daemon mirror settings: Docker `daemon.json`, BuildKit
//! `buildkitd.toml`, containerd `certs.d/<host>/hosts.toml` and
//! containers/image `registries.conf`. Each mirror they name is a site.
//!
//! The files are parsed by real parsers (serde_json, toml); spans come from
//! the parsers, so a diagnostic points at the mirror's text.

use crate::diagnostic::{LineIndex, floor_char_boundary};
use crate::site::{
    Extra, ImageSite, MirrorFormat, MirrorSetting, SiteKind, SiteValue, Span, SyntaxError,
};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use toml::Spanned;

const BOM: &str = "\u{feff}";

/// A mirror as found in a file, before it becomes a site.
struct Found {
    /// The span of the value, quotes included.
    span: Span,
    written: String,
    upstream: Option<String>,
}

fn sites(text: &str, format: MirrorFormat, found: Vec<Found>) -> Vec<ImageSite> {
    let mut out: Vec<ImageSite> = found
        .into_iter()
        .filter_map(|f| {
            let (host, path) = MirrorSetting::split(&f.written)?;
            let span = unquoted(text, f.span);
            Some(ImageSite {
                kind: SiteKind::DaemonMirror,
                span,
                raw: text
                    .get(span.start..span.end)
                    .unwrap_or_default()
                    .to_string(),
                value: SiteValue::Mirror(MirrorSetting {
                    written: f.written,
                    host,
                    path,
                    upstream: f.upstream,
                    format,
                }),
                stage: None,
                path: None,
                extra: Extra::default(),
            })
        })
        .collect();
    out.sort_by_key(|s| s.span);
    out
}

/// The span without its quotes (`"…"`, `'…'`, and TOML's triple forms).
fn unquoted(text: &str, span: Span) -> Span {
    let Some(s) = text.get(span.start..span.end) else {
        return span;
    };
    for q in ["\"\"\"", "'''", "\"", "'"] {
        if s.len() >= 2 * q.len() && s.starts_with(q) && s.ends_with(q) {
            return Span::new(span.start + q.len(), span.end - q.len());
        }
    }
    span
}

fn strip_bom(text: &str) -> (&str, usize) {
    match text.strip_prefix(BOM) {
        Some(rest) => (rest, BOM.len()),
        None => (text, 0),
    }
}

fn shift(found: &mut [Found], by: usize) {
    for f in found {
        f.span = f.span.shift(by);
    }
}

// ---------------------------------------------------------------- daemon.json

#[derive(Deserialize)]
struct DaemonJson<'a> {
    #[serde(rename = "registry-mirrors", borrow, default)]
    registry_mirrors: Option<Vec<&'a RawValue>>,
}

/// Docker Engine's `daemon.json`: `registry-mirrors` mirror Docker Hub only.
pub fn extract_daemon_json(text: &str) -> Result<Vec<ImageSite>, SyntaxError> {
    let (body, offset) = strip_bom(text);
    if body.trim().is_empty() {
        return Ok(Vec::new());
    }
    let config: DaemonJson =
        serde_json::from_str(body).map_err(|e| json_error(text, offset, &e))?;
    // A derived struct also accepts a JSON array; dockerd wants an object.
    if !body.trim_start().starts_with('{') {
        return Err(SyntaxError {
            message: "invalid daemon.json: the top level must be a JSON object".to_string(),
            span: Span::new(offset, offset),
        });
    }
    let mut found = Vec::new();
    for raw in config.registry_mirrors.unwrap_or_default() {
        let Some(span) = raw_span(body, raw.get()) else {
            continue;
        };
        let written: String = serde_json::from_str(raw.get()).map_err(|_| SyntaxError {
            message: "invalid daemon.json: `registry-mirrors` entries must be strings".to_string(),
            span: span.shift(offset),
        })?;
        found.push(Found {
            span,
            written,
            upstream: Some("docker.io".to_string()),
        });
    }
    shift(&mut found, offset);
    Ok(sites(text, MirrorFormat::DaemonJson, found))
}

/// Where a slice borrowed from `text` lies in it, checked: `None` unless
/// the slice really is those bytes of `text`.
fn raw_span(text: &str, part: &str) -> Option<Span> {
    let start = (part.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
    let end = start.checked_add(part.len())?;
    (text.get(start..end) == Some(part)).then_some(Span::new(start, end))
}

fn json_error(text: &str, offset: usize, e: &serde_json::Error) -> SyntaxError {
    // serde_json counts 1-based lines and 1-based byte columns.
    let index = LineIndex::new(text);
    let at = if e.line() == 0 {
        offset
    } else {
        let start = index.line_start(e.line() - 1);
        let start = if e.line() == 1 { start + offset } else { start };
        let column = e.column().saturating_sub(1);
        floor_char_boundary(
            text,
            start
                .saturating_add(column)
                .min(index.line_end(e.line() - 1)),
        )
    };
    SyntaxError {
        message: format!("invalid JSON: {e}"),
        span: Span::new(at, at),
    }
}

fn toml_error(text: &str, offset: usize, e: &toml::de::Error) -> SyntaxError {
    let span = e
        .span()
        .map(|r| {
            let start = floor_char_boundary(text, r.start.saturating_add(offset));
            let end = floor_char_boundary(text, r.end.saturating_add(offset)).max(start);
            Span::new(start, end)
        })
        .unwrap_or(Span::new(offset, offset));
    let at = LineIndex::new(text).position(text, span.start);
    SyntaxError {
        message: format!(
            "invalid TOML: {} (line {}, column {})",
            e.message().trim(),
            at.line,
            at.column
        ),
        span,
    }
}

fn spanned(s: &Spanned<String>, upstream: Option<String>) -> Found {
    let r = s.span();
    Found {
        span: Span::new(r.start, r.end),
        written: s.get_ref().clone(),
        upstream,
    }
}

// ------------------------------------------------------------- buildkitd.toml

#[derive(Deserialize)]
struct BuildkitToml {
    #[serde(default)]
    registry: BTreeMap<String, BuildkitRegistry>,
}

#[derive(Deserialize)]
struct BuildkitRegistry {
    #[serde(default)]
    mirrors: Vec<Spanned<String>>,
}

/// BuildKit's `buildkitd.toml`: `[registry."<upstream>"] mirrors = [...]`,
/// values `host[:port][/path]` without a scheme.
pub fn extract_buildkit(text: &str) -> Result<Vec<ImageSite>, SyntaxError> {
    let (body, offset) = strip_bom(text);
    let config: BuildkitToml = toml::from_str(body).map_err(|e| toml_error(text, offset, &e))?;
    let mut found = Vec::new();
    for (upstream, registry) in &config.registry {
        for m in &registry.mirrors {
            found.push(spanned(m, Some(upstream.to_ascii_lowercase())));
        }
    }
    shift(&mut found, offset);
    Ok(sites(text, MirrorFormat::Buildkit, found))
}

// ------------------------------------------------------- containerd hosts.toml

#[derive(Deserialize)]
struct HostsToml {
    server: Option<String>,
    #[serde(default)]
    host: BTreeMap<Spanned<String>, IgnoredAny>,
}

/// containerd's `certs.d/<namespace>/hosts.toml`: each `[host."<url>"]` is a
/// mirror of the namespace (the folder name; `_default` is every registry).
/// Without a namespace, the `server` names the upstream.
pub fn extract_containerd_hosts(
    text: &str,
    namespace: Option<&str>,
) -> Result<Vec<ImageSite>, SyntaxError> {
    let (body, offset) = strip_bom(text);
    let config: HostsToml = toml::from_str(body).map_err(|e| toml_error(text, offset, &e))?;
    let upstream = match namespace {
        Some("_default") => None,
        Some(ns) => Some(ns.to_ascii_lowercase()),
        None => config
            .server
            .as_deref()
            .and_then(MirrorSetting::split)
            .map(|(host, _)| host),
    };
    let mut found: Vec<Found> = config
        .host
        .keys()
        .map(|k| spanned(k, upstream.clone()))
        .collect();
    shift(&mut found, offset);
    Ok(sites(text, MirrorFormat::ContainerdHosts, found))
}

// ------------------------------------------------------------ registries.conf

#[derive(Deserialize)]
struct RegistriesConf {
    #[serde(default)]
    registry: Vec<ConfRegistry>,
}

#[derive(Deserialize)]
struct ConfRegistry {
    prefix: Option<String>,
    location: Option<String>,
    #[serde(default)]
    mirror: Vec<ConfMirror>,
}

#[derive(Deserialize)]
struct ConfMirror {
    location: Option<Spanned<String>>,
}

/// containers/image `registries.conf` (Podman, Buildah, Skopeo, CRI-O):
/// `[[registry.mirror]] location` under a `[[registry]]` whose `prefix`
/// (else `location`) is the upstream.
pub fn extract_registries_conf(text: &str) -> Result<Vec<ImageSite>, SyntaxError> {
    let (body, offset) = strip_bom(text);
    let config: RegistriesConf = toml::from_str(body).map_err(|e| toml_error(text, offset, &e))?;
    let mut found = Vec::new();
    for registry in &config.registry {
        let upstream = registry
            .prefix
            .as_deref()
            .or(registry.location.as_deref())
            .map(|u| u.trim().to_ascii_lowercase())
            .filter(|u| !u.is_empty());
        for m in &registry.mirror {
            if let Some(location) = &m.location {
                found.push(spanned(location, upstream.clone()));
            }
        }
    }
    shift(&mut found, offset);
    Ok(sites(text, MirrorFormat::RegistriesConf, found))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mirrors(sites: &[ImageSite]) -> Vec<(String, String, Option<String>)> {
        sites
            .iter()
            .map(|s| {
                let m = s.mirror().unwrap();
                (s.raw.clone(), m.host.clone(), m.upstream.clone())
            })
            .collect()
    }

    fn at(text: &str, s: &ImageSite) -> String {
        text[s.span.start..s.span.end].to_string()
    }

    #[test]
    fn daemon_json() {
        let text = "{\n  \"debug\": true,\n  \"registry-mirrors\": [\"https://Docker.Mirrors.USTC.edu.cn:443/\", \"https://mirror.gcr.io\"]\n}\n";
        let s = extract_daemon_json(text).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(at(text, &s[0]), "https://Docker.Mirrors.USTC.edu.cn:443/");
        let m = s[0].mirror().unwrap();
        assert_eq!(m.host, "docker.mirrors.ustc.edu.cn");
        assert_eq!(m.path, "");
        assert_eq!(m.upstream.as_deref(), Some("docker.io"));
        assert_eq!(m.format, MirrorFormat::DaemonJson);
        assert!(s[0].reference().is_none());
        // Escapes: the span is the text as written, the value unescaped.
        let text = "\u{feff}{\"registry-mirrors\": [\"https:\\/\\/hub.example\\u002ecom\"]}";
        let s = extract_daemon_json(text).unwrap();
        assert_eq!(s[0].mirror().unwrap().host, "hub.example.com");
        assert_eq!(at(text, &s[0]), "https:\\/\\/hub.example\\u002ecom");
        assert_eq!(extract_daemon_json("{}").unwrap(), []);
        assert_eq!(extract_daemon_json("  \n").unwrap(), []);
        assert_eq!(
            extract_daemon_json("{\"registry-mirrors\": []}").unwrap(),
            []
        );
    }

    #[test]
    fn daemon_json_errors() {
        let text = "{\n  \"registry-mirrors\": [\"https://a\",]\n}\n";
        let e = extract_daemon_json(text).unwrap_err();
        assert!(e.message.contains("line 2"), "{}", e.message);
        assert_eq!(LineIndex::new(text).line_of(e.span.start), 1);
        assert!(extract_daemon_json("[[\"https://a\"]]").is_err());
        assert!(extract_daemon_json("{\"registry-mirrors\": [1]}").is_err());
        assert!(extract_daemon_json("{\"registry-mirrors\": \"x\"}").is_err());
    }

    #[test]
    fn buildkit() {
        let text = "debug = true\n[registry.\"docker.io\"]\n  mirrors = [\"mirror.gcr.io\", 'core.harbor.domain/proxy.docker.io']\n[registry.\"ghcr.io\"]\n  http = true\n[registry.\"quay.io\"]\n  mirrors = [\"\"\"quay.m.daocloud.io\"\"\"]\n";
        let s = extract_buildkit(text).unwrap();
        assert_eq!(
            mirrors(&s),
            [
                (
                    "mirror.gcr.io".into(),
                    "mirror.gcr.io".into(),
                    Some("docker.io".into())
                ),
                (
                    "core.harbor.domain/proxy.docker.io".into(),
                    "core.harbor.domain".into(),
                    Some("docker.io".into())
                ),
                (
                    "quay.m.daocloud.io".into(),
                    "quay.m.daocloud.io".into(),
                    Some("quay.io".into())
                ),
            ]
        );
        assert_eq!(s[1].mirror().unwrap().path, "proxy.docker.io");
        assert_eq!(extract_buildkit("debug = true\n").unwrap(), []);
        let e = extract_buildkit("[registry.\"docker.io\"\nmirrors = 1\n").unwrap_err();
        assert!(e.message.starts_with("invalid TOML"), "{}", e.message);
    }

    #[test]
    fn containerd_hosts() {
        let text = "server = \"https://registry-1.docker.io\"\n\n[host.\"https://docker.mirrors.ustc.edu.cn\"]\n  capabilities = [\"pull\", \"resolve\"]\n\n[host.'https://mirror.gcr.io'.header]\n  x = [\"y\"]\n";
        let s = extract_containerd_hosts(text, Some("docker.io")).unwrap();
        assert_eq!(
            mirrors(&s),
            [
                (
                    "https://docker.mirrors.ustc.edu.cn".into(),
                    "docker.mirrors.ustc.edu.cn".into(),
                    Some("docker.io".into())
                ),
                (
                    "https://mirror.gcr.io".into(),
                    "mirror.gcr.io".into(),
                    Some("docker.io".into())
                ),
            ]
        );
        let s = extract_containerd_hosts(text, Some("_default")).unwrap();
        assert_eq!(s[0].mirror().unwrap().upstream, None);
        let s = extract_containerd_hosts(text, None).unwrap();
        assert_eq!(
            s[0].mirror().unwrap().upstream.as_deref(),
            Some("registry-1.docker.io")
        );
        assert!(s[0].mirror().unwrap().mirrors_docker_hub());
        assert_eq!(
            extract_containerd_hosts("server = \"https://x\"\n", None).unwrap(),
            []
        );
    }

    #[test]
    fn registries_conf() {
        let text = "unqualified-search-registries = [\"docker.io\"]\n\n[[registry]]\nprefix = \"docker.io\"\nlocation = \"registry-1.docker.io\"\n\n[[registry.mirror]]\nlocation = \"docker.m.daocloud.io\"\n\n[[registry.mirror]]\nlocation = \"hub-mirror.c.163.com/library\"\n\n[[registry]]\nlocation = \"quay.io\"\n[[registry.mirror]]\nlocation = \"quay.mirrors.ustc.edu.cn\"\ninsecure = true\n";
        let s = extract_registries_conf(text).unwrap();
        let m = mirrors(&s);
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].0, "docker.m.daocloud.io");
        assert_eq!(m[0].2.as_deref(), Some("docker.io"));
        assert_eq!(m[1].1, "hub-mirror.c.163.com");
        assert_eq!(m[2].2.as_deref(), Some("quay.io"));
        assert_eq!(at(text, &s[2]), "quay.mirrors.ustc.edu.cn");
        assert_eq!(
            extract_registries_conf("[registries.search]\nregistries = [\"docker.io\"]\n").unwrap(),
            []
        );
    }

    /// Garbage never panics, and every span lies on char boundaries inside
    /// the text.
    #[test]
    fn garbage_does_not_panic() {
        let seeds = [
            "{\"registry-mirrors\": [\"https://a\"]}",
            "[registry.\"docker.io\"]\nmirrors = [\"a\"]\n",
            "[host.\"https://a\"]\ncapabilities = [\"pull\"]\n",
            "[[registry]]\nprefix = \"docker.io\"\n[[registry.mirror]]\nlocation = \"a\"\n",
            "\u{feff}{\"registry-mirrors\": [\"ü\"]}",
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet: Vec<char> = "{}[]\"'=,.:\n \\#\u{feff}ü\u{2028}aé0".chars().collect();
        for seed in seeds {
            for _ in 0..300 {
                let mut chars: Vec<char> = seed.chars().collect();
                for _ in 0..(next() % 4 + 1) {
                    let pos = (next() as usize) % (chars.len() + 1);
                    let c = alphabet[(next() as usize) % alphabet.len()];
                    match next() % 3 {
                        0 if pos < chars.len() => {
                            chars.remove(pos);
                        }
                        1 if pos < chars.len() => chars[pos] = c,
                        _ => chars.insert(pos, c),
                    }
                }
                let text: String = chars.into_iter().collect();
                let results = [
                    extract_daemon_json(&text),
                    extract_buildkit(&text),
                    extract_containerd_hosts(&text, None),
                    extract_registries_conf(&text),
                ];
                for r in results {
                    let spans: Vec<Span> = match r {
                        Ok(sites) => sites.iter().map(|s| s.span).collect(),
                        Err(e) => vec![e.span],
                    };
                    for span in spans {
                        assert!(span.start <= span.end && span.end <= text.len(), "{text:?}");
                        assert!(text.is_char_boundary(span.start), "{text:?}");
                        assert!(text.is_char_boundary(span.end), "{text:?}");
                    }
                }
            }
        }
    }
}
