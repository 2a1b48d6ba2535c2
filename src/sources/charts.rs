//! Helm charts stored in OCI registries, where a chart names another:
//!
//! - **`Chart.yaml`** (`apiVersion: v2`): each `dependencies[]` entry with
//!   `repository: oci://host/path`, `name` and `version` is the chart
//!   `host/path/name:version`, which `helm dependency update` pulls. The
//!   site is the `repository` value: its `host/path` is edited in place
//!   (a moved registry), the name and version are other keys, never
//!   edited. A v1 chart keeps its dependencies in `requirements.yaml`
//!   (Helm 2, which had no OCI charts): not read.
//! - **helmfile** (`helmfile.yaml`, `helmfile.d/*.yaml`): each
//!   `releases[]` entry whose `chart` is `oci://host/path/name`, or
//!   `repo/name` where `repositories[]` has an entry `repo` with `oci:
//!   true` (its `url` is `host/path`, without scheme), with `version` as
//!   its tag. Repositories of every document of the file count, as
//!   helmfile merges its documents. Reported, never edited: the
//!   repository's `url` is shared by every release that names it.
//! - **`Chart.lock`** (told from `Chart.yaml` by its content: top-level
//!   `generated` and `digest`, no `apiVersion`): the same
//!   `dependencies[]` entries, with the exact versions `helm dependency
//!   update` resolved. Reported, never edited: Helm writes the file, and
//!   its `digest` (a hash of `Chart.yaml`'s dependencies and the lock's,
//!   Helm's `HashReq`) makes `helm dependency build` refuse a lock edited
//!   by hand. That `digest` names no chart's content: it is not a digest
//!   of any reference.
//!
//! A registry whose host has no `.` or `:` (`oci://charts/app`; Helm
//! takes the first component as the host, Docker's parser as a Docker Hub
//! path) is not a site: registry rules would misread it.
//!
//! A version is the chart's tag only when it is exact (`1.2.3`,
//! `v1.2.3-rc.1`; Helm writes `+` as `_` in an OCI tag). A range (`~1.2`,
//! `>=1.0`, `1.2.x`, or a partial `1.2`) is resolved by Helm when it runs:
//! the reference then has no tag, and `Extra::version_range` keeps tag
//! rules quiet about it. A helmfile version written with Go templates
//! (`{{ .Values.v }}`) is decided when helmfile renders the file: no tag
//! either, the same way; in `Chart.yaml`, which nothing renders, it is
//! unresolved.

use super::common::{Builder, dedupe, site};
use super::yaml::{self, Document, Node, Scalar};
use crate::site::{ImageSite, SiteKind, Span, SyntaxError};
use std::collections::BTreeMap;

const OCI: &str = "oci://";

/// Whether the first component of an `oci://` path reads as a registry
/// host to Docker's parser too (a `.` or `:`, or `localhost`). Helm takes
/// the first component as the host always; a bare `oci://charts/app`
/// would read as a Docker Hub name, so it is not made a site.
pub fn host_explicit(path: &str) -> bool {
    let host = path.split('/').next().unwrap_or("");
    host.contains(['.', ':']) || host == "localhost"
}

/// Whether a chart version is one exact version (a tag), not a range.
pub fn exact_version(v: &str) -> bool {
    let v = v.strip_prefix('v').unwrap_or(v);
    let core_end = v.find(['-', '+']).unwrap_or(v.len());
    let (core, rest) = v.split_at(core_end);
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.'))
}

/// The tag Helm pushes an exact version under (`+` is not allowed in a tag).
pub fn version_tag(v: &str) -> String {
    v.replace('+', "_")
}

/// Append `:version` (exact) or note the range (`version_range`).
fn push_version(b: &mut Builder, version: Option<&str>, s: &mut Option<String>) {
    let Some(v) = version.map(str::trim).filter(|v| !v.is_empty()) else {
        return;
    };
    if v.contains("{{") {
        b.miss(v);
    } else if exact_version(v) {
        b.push(":", None);
        b.push(&version_tag(v), None);
    } else {
        *s = Some(v.to_string());
    }
}

/// The file span of `value`'s text after `skip` bytes, when the scalar's
/// content is exactly its value.
fn file_at(scalar: &Scalar, skip: usize) -> Option<usize> {
    scalar.content.map(|c| c.start + skip)
}

fn text_of<'a>(doc: &'a Document, node: &'a Node, key: &str) -> Option<&'a str> {
    doc.get_scalar(node, key).map(|s| s.value.trim())
}

/// Whether a document is a `Chart.lock`, which Helm writes with
/// `dependencies`, `digest` and `generated` and no `apiVersion`.
fn is_lock(doc: &Document, root: &Node) -> bool {
    doc.get(root, "apiVersion").is_none()
        && doc.get(root, "generated").is_some()
        && doc.get_scalar(root, "digest").is_some()
}

/// `Chart.yaml` (or `Chart.lock`): the dependencies stored in OCI registries.
pub fn extract_chart(text: &str) -> Result<Vec<ImageSite>, SyntaxError> {
    let shared = yaml::parse_shared(text)?;
    let mut out = Vec::new();
    for doc in shared.iter() {
        let root = doc.resolve(&doc.root);
        if text_of(doc, root, "apiVersion") == Some("v1") {
            continue;
        }
        let lock = is_lock(doc, root);
        let Some(deps) = doc.get(root, "dependencies") else {
            continue;
        };
        for (i, dep) in doc.items(deps).into_iter().enumerate() {
            let Some(repo) = doc.get_scalar(dep, "repository") else {
                continue;
            };
            let Some(name) = text_of(doc, dep, "name").filter(|n| !n.is_empty()) else {
                continue;
            };
            let Some(rest) = repo.value.strip_prefix(OCI) else {
                continue;
            };
            let registry = rest.trim_end_matches('/');
            if registry.is_empty() || !host_explicit(registry) {
                continue;
            }
            let mut b = Builder::default();
            b.push(registry, file_at(repo, OCI.len()));
            b.push("/", None);
            b.push(name, None);
            let mut range = None;
            push_version(&mut b, text_of(doc, dep, "version"), &mut range);
            let mut s = site(
                SiteKind::HelmChartDependency,
                repo.content.unwrap_or(repo.span),
                &repo.value,
                b.into_value(),
                format!("dependencies[{i}].repository"),
            );
            s.extra.version_range = range;
            if lock {
                s.extra.kept = Some(
                    "`Chart.lock` is written by `helm dependency update` (and its `digest` checks it): fix `Chart.yaml` and run it again"
                        .to_string(),
                );
                s.extra.frozen.push(s.span);
            } else {
                s.extra.fix_note = Some(
                    "then run `helm dependency update` so that `Chart.lock` names the new repository"
                        .to_string(),
                );
            }
            out.push(s);
        }
        doc.check_budget()?;
    }
    dedupe(&mut out);
    Ok(out)
}

/// helmfile: releases whose chart is in an OCI registry.
pub fn extract_helmfile(text: &str) -> Result<Vec<ImageSite>, SyntaxError> {
    read_helmfile(text).map(|(sites, _)| sites)
}

/// helmfile renders a state file as a Go template before it reads it
/// (`helmfile.yaml.gotmpl`; helmfile 0.x every `helmfile.yaml`): a text
/// with `{{ … }}` is read with its template actions blanked, byte for
/// byte, so the rest parses as YAML with its offsets. A line holding only
/// actions (`{{ if … }}`, `{{ end }}`) becomes blank; an action inside a
/// line (`version: {{ .Values.v }}`) becomes a run of `x`, and a value it
/// touches is a template: a release whose `chart` is one is not read, a
/// templated `version` is unresolved. The second value is the N001 note
/// saying so, when the text is a template.
pub fn read_helmfile(text: &str) -> Result<(Vec<ImageSite>, Option<String>), SyntaxError> {
    let Some((blanked, actions)) = blank_actions(text) else {
        return helmfile_sites(text, text, &[]).map(|s| (s, None));
    };
    let sites = helmfile_sites(&blanked, text, &actions)?;
    let note = "Read as a template: helmfile renders `{{ … }}` before it reads the file; its template actions were left out and only its plain lines read, without fixes".to_string();
    Ok((sites, Some(note)))
}

/// The text with each Go template action (`{{ … }}`) blanked, and where
/// the actions were; `None` when it has none. An action left open runs to
/// the end of the text.
fn blank_actions(text: &str) -> Option<(String, Vec<Span>)> {
    let bytes = text.as_bytes();
    let mut actions = Vec::new();
    let mut at = 0;
    while let Some(open) = text[at..].find("{{").map(|i| at + i) {
        let close = text[open + 2..]
            .find("}}")
            .map_or(text.len(), |i| open + 2 + i + 2);
        actions.push(Span::new(open, close));
        at = close;
    }
    if actions.is_empty() {
        return None;
    }
    // 0: text; 1: an action within one line; 2: an action across lines.
    let mut class = vec![0u8; bytes.len()];
    for a in &actions {
        let across = text[a.start..a.end].contains('\n');
        for c in &mut class[a.start..a.end] {
            *c = if across { 2 } else { 1 };
        }
    }
    let mut out = bytes.to_vec();
    let mut line = 0;
    while line < bytes.len() {
        let end = text[line..].find('\n').map_or(bytes.len(), |n| line + n);
        // Only actions and blanks on the line: a control line.
        let control = (line..end).all(|i| class[i] != 0 || bytes[i].is_ascii_whitespace());
        for i in line..end {
            if class[i] != 0 && bytes[i] != b'\r' {
                out[i] = if class[i] == 2 || control { b' ' } else { b'x' };
            }
        }
        line = end + 1;
    }
    // Whole actions were replaced by ASCII: still UTF-8.
    String::from_utf8(out).ok().map(|s| (s, actions))
}

/// Whether a scalar's bytes touch a template action.
fn templated(scalar: &Scalar, actions: &[Span]) -> bool {
    // The actions are in text order and do not overlap: the first that
    // ends after the scalar starts is the only one that can meet it.
    let i = actions.partition_point(|a| a.end <= scalar.span.start);
    actions
        .get(i)
        .is_some_and(|a| a.start < scalar.span.end && scalar.span.start < a.end)
}

/// The releases of a helmfile parsed from `parsed` (the text, or the text
/// with its template actions blanked); `original` for what was written.
fn helmfile_sites(
    parsed: &str,
    original: &str,
    actions: &[Span],
) -> Result<Vec<ImageSite>, SyntaxError> {
    let docs = yaml::parse(parsed)?;
    let plain = |s: &&Scalar| !templated(s, actions);
    // Repositories of every document: helmfile merges them.
    let mut oci_repos: BTreeMap<String, String> = BTreeMap::new();
    for doc in &docs {
        let root = doc.resolve(&doc.root);
        let Some(repos) = doc.get(root, "repositories") else {
            continue;
        };
        for repo in doc.items(repos) {
            let oci = doc
                .get_scalar(repo, "oci")
                .filter(plain)
                .is_some_and(|s| s.value.trim() == "true");
            let name = doc.get_scalar(repo, "name").filter(plain);
            let url = doc.get_scalar(repo, "url").filter(plain);
            if let (true, Some(name), Some(url)) = (oci, name, url) {
                let url = url.value.trim();
                let url = url.strip_prefix(OCI).unwrap_or(url);
                oci_repos.insert(
                    name.value.trim().to_string(),
                    url.trim_end_matches('/').to_string(),
                );
            }
        }
    }
    let mut out = Vec::new();
    for doc in &docs {
        let root = doc.resolve(&doc.root);
        let Some(releases) = doc.get(root, "releases") else {
            continue;
        };
        for (i, release) in doc.items(releases).into_iter().enumerate() {
            let Some(chart) = doc.get_scalar(release, "chart").filter(plain) else {
                continue;
            };
            let value = chart.value.trim();
            let joined = if let Some(rest) = value.strip_prefix(OCI)
                && host_explicit(rest)
            {
                rest.trim_end_matches('/').to_string()
            } else if let Some((repo, name)) = value.split_once('/')
                && let Some(url) = oci_repos.get(repo)
                && !name.is_empty()
                && host_explicit(url)
            {
                format!("{url}/{name}")
            } else {
                continue;
            };
            let mut b = Builder::default();
            if joined.contains("{{") {
                b.miss(&joined);
            } else {
                b.push(&joined, None);
            }
            let mut range = None;
            match doc.get_scalar(release, "version") {
                // Decided when helmfile renders the file, as a range is
                // when Helm runs: no tag, and the registry still known.
                Some(v) if templated(v, actions) => {
                    let written = original.get(v.span.start..v.span.end).unwrap_or("");
                    range = Some(written.trim().trim_matches(['"', '\'']).to_string());
                }
                v => push_version(&mut b, v.map(|v| v.value.trim()), &mut range),
            }
            let span = chart.content.unwrap_or(chart.span);
            let mut s = site(
                SiteKind::Helmfile,
                span,
                &chart.value,
                b.into_value(),
                format!("releases[{i}].chart"),
            );
            s.extra.version_range = range;
            s.extra.kept = Some(
                "a helmfile release's repository, chart name and version are separate keys"
                    .to_string(),
            );
            s.extra.frozen.push(span);
            out.push(s);
        }
        doc.check_budget()?;
    }
    dedupe(&mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::common::site_texts;

    #[test]
    fn versions() {
        for v in ["1.2.3", "v1.2.3", "1.2.3-rc.1", "10.0.0+build.5"] {
            assert!(exact_version(v), "{v}");
        }
        for v in [
            "~1.2",
            ">=1.0",
            "1.2.x",
            "1.2",
            "^2.0.0",
            "1.2.3 || 2.0.0",
            "*",
            "",
        ] {
            assert!(!exact_version(v), "{v}");
        }
        assert_eq!(version_tag("1.0.0+b1"), "1.0.0_b1");
    }

    #[test]
    fn chart_dependencies() {
        let text = "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n  - name: redis\n    version: 20.1.0\n    repository: oci://registry-1.docker.io/bitnamicharts/\n  - name: lib\n    version: ~1.2\n    repository: \"oci://ghcr.io/acme/charts\"\n  - name: web\n    version: 1.0.0\n    repository: https://charts.example.com\n  - name: local\n    repository: file://../local\n";
        let sites = extract_chart(text).unwrap();
        assert_eq!(
            site_texts(&sites),
            [
                (
                    "dependencies[0].repository".to_string(),
                    "registry-1.docker.io/bitnamicharts/redis:20.1.0".to_string()
                ),
                (
                    "dependencies[1].repository".to_string(),
                    "ghcr.io/acme/charts/lib".to_string()
                ),
            ]
        );
        assert_eq!(sites[1].extra.version_range.as_deref(), Some("~1.2"));
        // The registry and path map to the file; the rest does not.
        let span = sites[0].map_to_file(crate::site::Span::new(0, 20)).unwrap();
        assert_eq!(&text[span.start..span.end], "registry-1.docker.io");
        assert_eq!(sites[0].whole_file_span(), None);
        // Helm 2 charts: not read.
        let v1 = "apiVersion: v1\nname: x\ndependencies:\n  - name: a\n    version: 1.0.0\n    repository: oci://r.example.com/c\n";
        assert_eq!(extract_chart(v1).unwrap(), []);
        // A host Docker's parser would not see as one: not a site.
        let bare = "apiVersion: v2\nname: x\ndependencies:\n  - name: a\n    version: 1.0.0\n    repository: oci://charts/c\n";
        assert_eq!(extract_chart(bare).unwrap(), []);
        assert!(host_explicit("localhost/c") && host_explicit("r:5000/c"));
        assert_eq!(extract_chart("").unwrap(), []);
    }

    #[test]
    fn chart_lock() {
        // As `helm dependency update` writes it (bitnami/charts, wordpress).
        let text = "dependencies:\n- name: memcached\n  repository: oci://registry-1.docker.io/bitnamicharts\n  version: 7.5.2\n- name: common\n  repository: https://charts.example.com\n  version: 2.26.0\ndigest: sha256:9d2ba3a8ff4bd7d8d8ab6fbd9b6e3b2a3c0a5e4f0e6b7c9f0a1b2c3d4e5f6a7b\ngenerated: \"2024-10-18T12:53:31.118934+02:00\"\n";
        let sites = extract_chart(text).unwrap();
        assert_eq!(
            site_texts(&sites),
            [(
                "dependencies[0].repository".to_string(),
                "registry-1.docker.io/bitnamicharts/memcached:7.5.2".to_string()
            )]
        );
        let s = &sites[0];
        assert_eq!(
            &text[s.span.start..s.span.end],
            "oci://registry-1.docker.io/bitnamicharts"
        );
        // Never edited: Helm writes the file and checks its digest.
        assert!(s.extra.kept.is_some() && s.extra.frozen == [s.span]);
        assert!(s.extra.fix_note.is_none());
        // A Chart.yaml is not a lock, whatever its keys.
        let chart = "apiVersion: v2\nname: x\nversion: 0.1.0\ndigest: a\ngenerated: b\ndependencies:\n  - name: a\n    version: 1.0.0\n    repository: oci://r.example.com/c\n";
        assert!(extract_chart(chart).unwrap()[0].extra.kept.is_none());
    }

    #[test]
    fn helmfile_templates() {
        // After Renovate's helmfile `go-template.yaml` case, with OCI charts.
        let text = "repositories:\n- name: oci-repo\n  url: ghcr.io/example/charts\n  oci: true\n- name: \"{{ env \"REPO\" }}\"\n  url: {{ .Values.url }}\n  oci: true\n\nreleases:\n  - name: {{ requiredEnv \"RELEASE_NAME\" }}\n    chart: oci-repo/app\n{{ if .Values.nginx.enabled }}\n  - name: nginx\n    chart: oci-repo/ingress-nginx\n    version: 3.37.0\n{{ end }}\n  - name: example\n{{- if neq .Values.example.version \"\" }}\n    version: {{ .Values.example.version }}\n{{- else }}\n    version: 6.0.0\n{{- end }}\n    chart: oci://ghcr.io/example/memcached\n  - name: templated\n    chart: {{ .Values.chart }}\n    version: 1.0.0\n  - name: half\n    chart: oci://ghcr.io/{{ .Values.org }}/tool\n{{/* a comment\n   over lines */}}\n";
        let (sites, note) = read_helmfile(text).unwrap();
        assert!(note.is_some_and(|n| n.contains("template")));
        assert_eq!(
            site_texts(&sites),
            [
                (
                    "releases[0].chart".to_string(),
                    "ghcr.io/example/charts/app".to_string()
                ),
                (
                    "releases[1].chart".to_string(),
                    "ghcr.io/example/charts/ingress-nginx:3.37.0".to_string()
                ),
                (
                    "releases[2].chart".to_string(),
                    "ghcr.io/example/memcached".to_string()
                ),
            ]
        );
        assert_eq!(
            sites[2].extra.version_range.as_deref(),
            Some("{{ .Values.example.version }}")
        );
        // Spans point into the file as written.
        let s = &sites[1];
        assert_eq!(&text[s.span.start..s.span.end], "oci-repo/ingress-nginx");
        // No template: no note; an action left open blanks to the end.
        assert!(read_helmfile("releases: []\n").unwrap().1.is_none());
        let open =
            read_helmfile("releases:\n  - chart: oci://ghcr.io/a/b\n    version: 1.0.0\n{{ if x\n")
                .unwrap();
        assert_eq!(open.0.len(), 1);
        assert!(blank_actions("a: {{ x }} é\n").is_some_and(|(b, _)| b == "a: xxxxxxx é\n"));
        // Linear in the text: many actions, many lines, and one left open.
        let many = format!(
            "releases:\n{}{{{{",
            "  - chart: {{ .Values.c }}\n    version: 1.0.0\n".repeat(20_000)
        );
        let (blanked, actions) = blank_actions(&many).unwrap();
        assert_eq!((blanked.len(), actions.len()), (many.len(), 20_001));
        let wide = "{{ a }}".repeat(100_000);
        assert_eq!(blank_actions(&wide).map(|(_, a)| a.len()), Some(100_000));
    }

    #[test]
    fn helmfile_releases() {
        let text = "repositories:\n  - name: oci-repo\n    url: ghcr.io/example/charts\n    oci: true\n  - name: stable\n    url: https://charts.example.com\n---\nreleases:\n  - name: a\n    chart: oci-repo/nested/app\n    version: 1.2.3\n  - name: b\n    chart: stable/web\n    version: 1.0.0\n  - name: c\n    chart: oci://r.example.com:5000/group/tool\n    version: \"{{ .Values.v }}\"\n  - name: d\n    chart: ./charts/local\n  - name: e\n    chart: oci-repo/ranged\n    version: '>=1.0'\n";
        let sites = extract_helmfile(text).unwrap();
        assert_eq!(
            site_texts(&sites),
            [
                (
                    "releases[0].chart".to_string(),
                    "ghcr.io/example/charts/nested/app:1.2.3".to_string()
                ),
                (
                    "releases[2].chart".to_string(),
                    "r.example.com:5000/group/tool".to_string()
                ),
                (
                    "releases[4].chart".to_string(),
                    "ghcr.io/example/charts/ranged".to_string()
                ),
            ]
        );
        assert!(sites.iter().all(|s| s.extra.kept.is_some()));
        assert_eq!(sites[2].extra.version_range.as_deref(), Some(">=1.0"));
    }
}
