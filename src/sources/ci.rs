//! CI pipelines: GitHub Actions workflows and actions, GitLab CI.

use super::common::{Builder, dedupe, site};
use super::yaml::{self, Document, Node, Scalar};
use crate::site::{ImageSite, SiteKind, Span, SyntaxError};
use std::collections::BTreeMap;

mod run;

/// A GitHub Actions value: `${{ … }}` means it is decided at run time.
fn gha_site(s: &Scalar, path: &str, strip: &str) -> Option<ImageSite> {
    let value = s.value.strip_prefix(strip)?;
    if value.is_empty() {
        return None;
    }
    let mut b = Builder::default();
    if let Some(start) = value.find("${{") {
        let end = value[start..]
            .find("}}")
            .map_or(value.len(), |e| start + e + 2);
        b.miss(value[start..end].trim());
    } else {
        b.push(value, s.content.map(|c| c.start + strip.len()));
    }
    let span = match s.content {
        Some(c) => Span::new(c.start + strip.len(), c.end),
        None => s.span,
    };
    Some(site(
        SiteKind::GithubActions,
        span,
        value,
        b.into_value(),
        path.to_string(),
    ))
}

/// GitHub Actions: `jobs.*.container`, `jobs.*.services.*` (a string or
/// `{image}`), `steps[].uses: docker://…`, and an action's `runs.image`.
pub fn extract_github(text: &str) -> Result<Vec<ImageSite>, SyntaxError> {
    let docs = yaml::parse(text)?;
    let mut out = Vec::new();
    for doc in &docs {
        let root = doc.resolve(&doc.root);
        let image_of = |node| image_of(doc, node);
        if let Some(jobs) = doc.get(root, "jobs") {
            for (name, job) in doc.entries(jobs) {
                let job = doc.resolve(job);
                // Each `${{ matrix.NAME }}` of a job is read once, however
                // many of its services use it.
                let mut read_matrix = std::collections::HashSet::new();
                if let Some(c) = doc.get(job, "container")
                    && let Some(s) = image_of(c)
                {
                    let path = if matches!(doc.resolve(c), Node::Map(..)) {
                        format!("jobs.{name}.container.image")
                    } else {
                        format!("jobs.{name}.container")
                    };
                    out.extend(gha_site(s, &path, ""));
                    if read_matrix.insert(s.value.trim().to_string()) {
                        out.extend(matrix_images(doc, job, s, name));
                    }
                }
                if let Some(services) = doc.get(job, "services") {
                    for (svc, node) in doc.entries(services) {
                        if let Some(s) = image_of(node) {
                            let path = if matches!(doc.resolve(node), Node::Map(..)) {
                                format!("jobs.{name}.services.{svc}.image")
                            } else {
                                format!("jobs.{name}.services.{svc}")
                            };
                            out.extend(gha_site(s, &path, ""));
                            if read_matrix.insert(s.value.trim().to_string()) {
                                out.extend(matrix_images(doc, job, s, name));
                            }
                        }
                    }
                }
                steps(text, doc, job, &format!("jobs.{name}.steps"), &mut out);
            }
        }
        // action.yml: `runs.image: docker://…` and composite steps.
        if let Some(runs) = doc.get(root, "runs") {
            if let Some(s) = doc.get_scalar(runs, "image") {
                out.extend(gha_site(s, "runs.image", "docker://"));
            }
            steps(text, doc, runs, "runs.steps", &mut out);
        }
        doc.check_budget()?;
    }
    dedupe(&mut out);
    Ok(out)
}

/// `${{ matrix.NAME }}` as a job's image: the literal strings of
/// `strategy.matrix.NAME` and of `strategy.matrix.include[].NAME` are the
/// images the job runs, each in its own place in the file.
fn matrix_images(doc: &Document, job: &Node, image: &Scalar, job_name: &str) -> Vec<ImageSite> {
    let mut out = Vec::new();
    let Some(name) = image
        .value
        .trim()
        .strip_prefix("${{")
        .and_then(|v| v.strip_suffix("}}"))
        .and_then(|v| v.trim().strip_prefix("matrix."))
        .filter(|n| {
            !n.is_empty()
                && n.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
    else {
        return out;
    };
    let Some(matrix) = doc.get(job, "strategy").and_then(|s| doc.get(s, "matrix")) else {
        return out;
    };
    let base = format!("jobs.{job_name}.strategy.matrix");
    // Reported, never edited: the same value is matched by `exclude:`
    // entries and may be used by keys and scripts of the job.
    let literal = |s: &Scalar, path: String| {
        let mut site = (!s.value.contains("${{"))
            .then(|| gha_site(s, &path, ""))
            .flatten()?;
        site.extra.frozen.push(s.content.unwrap_or(s.span));
        site.extra.kept = Some(
            "a matrix value is also what `exclude:` entries match and what the job's other `${{ matrix.* }}` uses read".to_string(),
        );
        Some(site)
    };
    if let Some(values) = doc.get(matrix, name)
        && matches!(doc.resolve(values), Node::Seq(..))
    {
        for (i, item) in doc.items(values).into_iter().enumerate() {
            if let Some(s) = doc.resolve(item).as_scalar() {
                out.extend(literal(s, format!("{base}.{name}[{i}]")));
            }
        }
    }
    if let Some(include) = doc.get(matrix, "include") {
        for (i, item) in doc.items(include).into_iter().enumerate() {
            if let Some(s) = doc.get_scalar(item, name) {
                out.extend(literal(s, format!("{base}.include[{i}].{name}")));
            }
        }
    }
    out
}

fn image_of<'a>(doc: &'a Document, node: &'a Node) -> Option<&'a Scalar> {
    match doc.resolve(node) {
        Node::Scalar(s) => Some(s),
        map @ Node::Map(..) => doc.get_scalar(map, "image"),
        _ => None,
    }
}

fn steps(text: &str, doc: &Document, parent: &Node, path: &str, out: &mut Vec<ImageSite>) {
    let Some(steps) = doc.get(parent, "steps") else {
        return;
    };
    for (i, step) in doc.items(steps).into_iter().enumerate() {
        // A POSIX shell's text only (the default `bash`/`sh`): PowerShell,
        // Python or cmd read the same words otherwise.
        let posix = doc
            .get_scalar(step, "shell")
            .is_none_or(|s| matches!(s.value.split_whitespace().next(), Some("bash" | "sh")));
        if posix && let Some(script) = doc.get_scalar(step, "run") {
            out.extend(run::run_sites(text, script, &format!("{path}[{i}].run")));
        }
        if let Some(uses) = doc.get_scalar(step, "uses") {
            out.extend(gha_site(uses, &format!("{path}[{i}].uses"), "docker://"));
            out.extend(action_image(doc, step, uses, &format!("{path}[{i}]")));
        }
    }
}

/// An entry of `rules/action-images.toml`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct ActionImage {
    uses: String,
    #[serde(default)]
    image: Option<String>,
    #[serde(default)]
    tag_input: Option<String>,
    #[serde(default)]
    input: Option<String>,
    #[serde(default)]
    option: Option<String>,
    /// Where the entry comes from and when it was checked: for readers of
    /// the table, required by the parser and checked by a test.
    #[allow(dead_code)]
    source: String,
    #[allow(dead_code)]
    date: String,
}

#[derive(Debug, Default, serde::Deserialize)]
struct ActionImages {
    #[serde(default)]
    action: Vec<ActionImage>,
}

/// The images well-known Actions pull (data: `rules/action-images.toml`).
static ACTION_IMAGES: std::sync::LazyLock<Vec<ActionImage>> = std::sync::LazyLock::new(|| {
    toml::from_str::<ActionImages>(include_str!("../../rules/action-images.toml"))
        .map(|t| t.action)
        .unwrap_or_default()
});

/// A step of a well-known Action whose input names the image it pulls:
/// the whole reference (`docker/setup-qemu-action` `image:`), a
/// `KEY=VALUE` line of a list input (`docker/setup-buildx-action`
/// `driver-opts: image=…`), or only the tag (`zizmorcore/zizmor-action`
/// with `version: v1.23.1` pulls `ghcr.io/zizmorcore/zizmor:v1.23.1`; the
/// input's value is the part of the file a fix may edit).
fn action_image(doc: &Document, step: &Node, uses: &Scalar, path: &str) -> Vec<ImageSite> {
    let mut out = Vec::new();
    let Some(action) = uses.value.split('@').next().map(str::to_ascii_lowercase) else {
        return out;
    };
    let Some(with) = doc.get(step, "with") else {
        return out;
    };
    for known in ACTION_IMAGES.iter().filter(|a| a.uses == action) {
        match (&known.image, &known.tag_input, &known.input, &known.option) {
            (Some(image), Some(input), _, _) => {
                out.extend(tagged_image(doc, with, image, input, path));
            }
            (_, _, Some(input), None) => {
                if let Some(s) = doc.get_scalar(with, input)
                    && !s.value.contains("${{")
                {
                    out.extend(gha_site(s, &format!("{path}.with.{input}"), ""));
                }
            }
            (_, _, Some(input), Some(key)) => {
                if let Some(s) = doc.get_scalar(with, input) {
                    out.extend(option_image(s, key, &format!("{path}.with.{input}")));
                }
            }
            _ => {}
        }
    }
    out
}

fn tagged_image(
    doc: &Document,
    with: &Node,
    image: &str,
    input: &str,
    path: &str,
) -> Option<ImageSite> {
    let tag = doc.get_scalar(with, input)?;
    if tag.value.is_empty() || tag.value.contains("${{") {
        return None;
    }
    let mut b = Builder::default();
    b.push(&format!("{image}:"), None);
    b.push(&tag.value, tag.content.map(|c| c.start));
    let raw = b.text.clone();
    Some(site(
        SiteKind::GithubActions,
        tag.content.unwrap_or(tag.span),
        &raw,
        b.into_value(),
        format!("{path}.with.{input}"),
    ))
}

/// `KEY=VALUE` lines (and comma-separated pairs, as buildx reads a
/// `--driver-opt`): the value of `key`, placed in the file only when the
/// scalar's bytes are its value (a plain or quoted scalar without escapes).
fn option_image(s: &Scalar, key: &str, path: &str) -> Vec<ImageSite> {
    let mut out = Vec::new();
    let mut at = 0;
    for line in s.value.split_inclusive('\n') {
        let mut pos = at;
        for pair in line.trim_end_matches(['\n', '\r']).split(',') {
            let lead = pair.len() - pair.trim_start().len();
            let trimmed = pair.trim();
            if let Some(value) = trimmed
                .strip_prefix(key)
                .and_then(|v| v.strip_prefix('='))
                .filter(|v| !v.is_empty() && !v.contains("${{"))
            {
                let start = pos + lead + key.len() + 1;
                let file = s.content.map(|c| c.start + start);
                let mut b = Builder::default();
                b.push(value, file);
                let span = file.map_or(s.span, |f| Span::new(f, f + value.len()));
                out.push(site(
                    SiteKind::GithubActions,
                    span,
                    value,
                    b.into_value(),
                    path.to_string(),
                ));
            }
            pos += pair.len() + 1;
        }
        at += line.len();
    }
    out
}

/// GitLab's dependency proxy prefixes: what follows is a Docker Hub path.
const PROXY_PREFIXES: &[&str] = &[
    "$CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX/",
    "${CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX}/",
    "$CI_DEPENDENCY_PROXY_DIRECT_GROUP_IMAGE_PREFIX/",
    "${CI_DEPENDENCY_PROXY_DIRECT_GROUP_IMAGE_PREFIX}/",
];

/// Keys of a `.gitlab-ci.yml` that are not jobs.
const GITLAB_KEYWORDS: &[&str] = &[
    "default",
    "include",
    "stages",
    "variables",
    "workflow",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
    "spec",
];

fn gitlab_site(s: &Scalar, path: &str, variables: &BTreeMap<String, String>) -> Option<ImageSite> {
    if s.value.is_empty() {
        return None;
    }
    let (prefix, rest) = PROXY_PREFIXES
        .iter()
        .find_map(|p| s.value.strip_prefix(p).map(|r| (Some(*p), r)))
        .unwrap_or((None, s.value.as_str()));
    let offset = prefix.map_or(0, str::len);
    let file = s.content.map(|c| c.start + offset);
    let mut b = Builder::default();
    expand_gitlab(rest, file, variables, &mut b, 0);
    let span = match s.content {
        Some(c) => Span::new(c.start + offset, c.end),
        None => s.span,
    };
    let mut site = site(
        SiteKind::GitlabCi,
        span,
        rest,
        b.into_value(),
        path.to_string(),
    );
    site.extra.via_proxy = prefix.map(|p| p.trim_end_matches('/').to_string());
    Some(site)
}

/// `$VAR` and `${VAR}` from the file's own `variables:`; anything else is
/// decided by the runner and stays unresolved.
fn expand_gitlab(
    value: &str,
    file: Option<usize>,
    vars: &BTreeMap<String, String>,
    out: &mut Builder,
    depth: usize,
) {
    let b = value.as_bytes();
    let mut i = 0;
    let mut run = 0;
    while i < b.len() {
        if b[i] != b'$' {
            i += 1;
            continue;
        }
        if i > run {
            out.push(&value[run..i], file.map(|f| f + run));
        }
        let braced = b.get(i + 1) == Some(&b'{');
        let start = i + 1 + usize::from(braced);
        let len = value[start..]
            .bytes()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
            .count();
        let name = &value[start..start + len];
        let mut end = start + len;
        if braced && b.get(end) == Some(&b'}') {
            end += 1;
        }
        if name.is_empty() {
            out.push("$", file.map(|f| f + i));
            i += 1;
        } else {
            match vars.get(name) {
                // GitLab expands variables inside variables
                // (`CI_IMAGE: "${REG}/ci:1.0"`), to a bounded depth.
                Some(v) if depth < 8 && v.contains('$') => {
                    expand_gitlab(v, None, vars, out, depth + 1)
                }
                Some(v) => out.push(v, None),
                None => out.miss(name),
            }
            i = end;
        }
        run = i;
    }
    if run < b.len() {
        out.push(&value[run..], file.map(|f| f + run));
    }
}

fn variables(doc: &Document, node: &Node) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(vars) = doc.get(node, "variables") {
        for (k, v) in doc.entries(vars) {
            let value = match doc.resolve(v) {
                Node::Scalar(s) => Some(s.value.clone()),
                map @ Node::Map(..) => doc.get_scalar(map, "value").map(|s| s.value.clone()),
                _ => None,
            };
            if let Some(value) = value {
                out.insert(k.to_string(), value);
            }
        }
    }
    out
}

/// The jobs a job `extends:` (a name or a list), nearest first, following
/// their own `extends:` up to a bounded depth.
fn extended<'a>(doc: &'a Document, root: &'a Node, job: &'a Node) -> Vec<&'a Node> {
    let mut out: Vec<&Node> = Vec::new();
    let mut queue: Vec<&Node> = vec![job];
    while let Some(current) = queue.pop() {
        if out.len() >= 16 {
            break;
        }
        let Some(ext) = doc.get(current, "extends") else {
            continue;
        };
        let names: Vec<String> = match doc.resolve(ext) {
            Node::Scalar(s) => vec![s.value.clone()],
            _ => doc
                .items(ext)
                .into_iter()
                .filter_map(|n| n.as_scalar().map(|s| s.value.clone()))
                .collect(),
        };
        for name in names {
            if let Some(base) = doc.get(root, &name) {
                let base = doc.resolve(base);
                if !out.iter().any(|b| std::ptr::eq(*b, base)) {
                    out.push(base);
                    queue.push(base);
                }
            }
        }
    }
    out
}

/// The host names GitLab gives a service without `alias:`: its image name
/// without tag or digest, `/` as `__` and as `-`.
pub fn default_service_hosts(name: &str) -> Vec<String> {
    let name = name.split('@').next().unwrap_or(name);
    let name = match name.rfind(':') {
        Some(colon) if !name[colon..].contains('/') => &name[..colon],
        _ => name,
    };
    let mut hosts = vec![name.replace('/', "__"), name.replace('/', "-")];
    hosts.dedup();
    hosts
}

/// How a fix that renames a service's image keeps its host names: the
/// names, and where an `alias:` goes. `None` when the name is not known
/// (unresolved variables) or the service cannot be given an alias in place.
fn service_hosts(
    text: &str,
    site: &ImageSite,
    s: &Scalar,
    block: bool,
) -> Option<crate::site::ServiceHosts> {
    let crate::site::SiteValue::Resolved { text: name, .. } = &site.value else {
        return None;
    };
    let hosts = default_service_hosts(name).join(",");
    let insert = if block {
        let line_start = text[..s.span.start].rfind('\n').map_or(0, |n| n + 1);
        let head = &text[line_start..s.span.start];
        if head.contains('{') {
            Some((s.span.end, ", ".to_string()))
        } else {
            let key = head.find("name")?;
            let newline = if text[..line_start].ends_with("\r\n") {
                "\r\n"
            } else {
                "\n"
            };
            // The rest of the `name:` line must be empty or a comment.
            let line_end = text[s.span.end..]
                .find('\n')
                .map_or(text.len(), |n| s.span.end + n);
            let tail = text[s.span.end..line_end].trim();
            if !(tail.is_empty() || tail.starts_with('#')) {
                return None;
            }
            Some((s.span.end, format!("{newline}{}", " ".repeat(key))))
        }
    } else {
        None
    };
    Some(crate::site::ServiceHosts {
        hosts,
        scalar: s.span,
        insert,
    })
}

/// GitLab CI: `image` (a string or `{name}`) and `services` (strings or
/// `{name, alias}`), at the top level, under `default:` and in every job,
/// hidden `.jobs` included.
pub fn extract_gitlab(text: &str) -> Result<Vec<ImageSite>, SyntaxError> {
    extract_gitlab_with(text, &BTreeMap::new())
}

/// GitLab CI with the variables of the files it includes (`include:
/// local:`), which the file's own `variables:` override.
pub fn extract_gitlab_with(
    text: &str,
    included: &BTreeMap<String, String>,
) -> Result<Vec<ImageSite>, SyntaxError> {
    let docs = yaml::parse(text)?;
    let mut out = Vec::new();
    for doc in &docs {
        let root = doc.resolve(&doc.root);
        let mut globals = included.clone();
        globals.extend(variables(doc, root));
        let mut scopes: Vec<(String, &Node)> = vec![(String::new(), root)];
        if let Some(d) = doc.get(root, "default") {
            scopes.push(("default.".to_string(), d));
        }
        for (name, job) in doc.entries(root) {
            if GITLAB_KEYWORDS.contains(&name) {
                continue;
            }
            let job = doc.resolve(job);
            if matches!(job, Node::Map(..)) {
                scopes.push((format!("{name}."), job));
            }
        }
        for (prefix, scope) in scopes {
            let mut vars = globals.clone();
            // `extends:` jobs' variables, the furthest first (bounded).
            for base in extended(doc, root, scope).iter().rev() {
                vars.extend(variables(doc, base));
            }
            vars.extend(variables(doc, scope));
            if let Some(image) = doc.get(scope, "image") {
                let (s, path) = match image {
                    Node::Scalar(s) => (Some(s), format!("{prefix}image")),
                    map => (doc.get_scalar(map, "name"), format!("{prefix}image.name")),
                };
                if let Some(s) = s {
                    out.extend(gitlab_site(s, &path, &vars));
                }
            }
            if let Some(services) = doc.get(scope, "services") {
                for (i, svc) in doc.items(services).into_iter().enumerate() {
                    let (s, path, aliased) = match svc {
                        Node::Scalar(s) => (Some(s), format!("{prefix}services[{i}]"), false),
                        map => (
                            doc.get_scalar(map, "name"),
                            format!("{prefix}services[{i}].name"),
                            doc.get(map, "alias").is_some(),
                        ),
                    };
                    if let Some(s) = s {
                        let mut site = gitlab_site(s, &path, &vars);
                        if let Some(site) = &mut site
                            && !aliased
                        {
                            let block = !matches!(svc, Node::Scalar(_));
                            site.extra.service_hosts = service_hosts(text, site, s, block);
                        }
                        out.extend(site);
                    }
                }
            }
        }
        doc.check_budget()?;
    }
    dedupe(&mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sites: &[ImageSite]) -> Vec<(String, String)> {
        crate::sources::common::site_texts(sites)
    }

    #[test]
    fn well_known_action_images() {
        assert!(ACTION_IMAGES.len() >= 4, "rules/action-images.toml parses");
        for a in ACTION_IMAGES.iter() {
            assert!(!a.source.is_empty() && a.date.len() == 10, "{}", a.uses);
            assert!(a.image.is_some() == a.tag_input.is_some(), "{}", a.uses);
            assert!(a.input.is_some() != a.image.is_some(), "{}", a.uses);
        }
        let text = "jobs:\n  audit:\n    steps:\n      - uses: zizmorcore/zizmor-action@v0.5.2\n        with:\n          version: v1.23.1\n      - uses: zizmorcore/zizmor-action@v0.5.2\n      - uses: zizmorcore/zizmor-action@v0.5.2\n        with:\n          version: ${{ inputs.v }}\n";
        let sites = extract_github(text).unwrap();
        assert_eq!(
            texts(&sites),
            [(
                "jobs.audit.steps[0].with.version".to_string(),
                "ghcr.io/zizmorcore/zizmor:v1.23.1".to_string()
            )]
        );
        assert_eq!(&text[sites[0].span.start..sites[0].span.end], "v1.23.1");
    }

    #[test]
    fn action_inputs_naming_images() {
        let text = "jobs:\n  b:\n    steps:\n      - uses: docker/setup-qemu-action@v3\n        with:\n          image: tonistiigi/binfmt:qemu-v8.1.5\n      - uses: docker/setup-buildx-action@v3\n        with:\n          driver-opts: |\n            network=host\n            image=moby/buildkit:v0.16.0\n      - uses: docker/setup-buildx-action@v3\n        with:\n          driver-opts: network=host,image=moby/buildkit:master\n      - uses: addnab/docker-run-action@v3\n        with:\n          image: ${{ env.I }}\n      - uses: addnab/docker-run-action@v3\n        with:\n          image: node:20\n          run: npm test\n";
        let sites = extract_github(text).unwrap();
        assert_eq!(
            texts(&sites),
            [
                (
                    "jobs.b.steps[0].with.image".into(),
                    "tonistiigi/binfmt:qemu-v8.1.5".into()
                ),
                (
                    "jobs.b.steps[1].with.driver-opts".into(),
                    "moby/buildkit:v0.16.0".into()
                ),
                (
                    "jobs.b.steps[2].with.driver-opts".into(),
                    "moby/buildkit:master".into()
                ),
                ("jobs.b.steps[4].with.image".into(), "node:20".into()),
            ]
        );
        // A literal block is not placed (no fix); a plain scalar is.
        assert!(sites[1].whole_file_span().is_none());
        let s = &sites[2];
        assert_eq!(&text[s.span.start..s.span.end], "moby/buildkit:master");
        assert!(sites[2].whole_file_span().is_some());
    }

    #[test]
    fn github_actions() {
        let text = "jobs:\n  test:\n    container: node:20\n    services:\n      db:\n        image: postgres:16\n      cache: redis:7\n    steps:\n      - uses: actions/checkout@v4\n      - uses: docker://alpine:3.20\n  matrix:\n    container:\n      image: ${{ matrix.image }}\n";
        let got = texts(&extract_github(text).unwrap());
        assert_eq!(
            got,
            [
                ("jobs.test.container".into(), "node:20".into()),
                ("jobs.test.services.db.image".into(), "postgres:16".into()),
                ("jobs.test.services.cache".into(), "redis:7".into()),
                ("jobs.test.steps[1].uses".into(), "alpine:3.20".into()),
                (
                    "jobs.matrix.container.image".into(),
                    "missing [\"${{ matrix.image }}\"]".into()
                ),
            ]
        );
        let s = &extract_github(text).unwrap()[3];
        assert_eq!(&text[s.span.start..s.span.end], "alpine:3.20");
    }

    #[test]
    fn matrix_images_used_as_images() {
        let text = "jobs:\n  test:\n    strategy:\n      matrix:\n        image: [node:20, 'node:22', \"${{ inputs.i }}\"]\n        os: [ubuntu-latest]\n        include:\n          - image: redis:7\n          - os: windows-latest\n    container: ${{ matrix.image }}\n  other:\n    strategy:\n      matrix:\n        image: [alpine:3.20]\n    container: node:${{ matrix.image }}\n    steps:\n      - run: echo ${{ matrix.image }}\n  svc:\n    strategy:\n      matrix:\n        db: [postgres:16]\n    services:\n      db:\n        image: ${{matrix.db}}\n";
        let sites = extract_github(text).unwrap();
        let got = texts(&sites);
        assert_eq!(
            got[1..],
            [
                (
                    "jobs.test.strategy.matrix.image[0]".into(),
                    "node:20".into()
                ),
                (
                    "jobs.test.strategy.matrix.image[1]".into(),
                    "node:22".into()
                ),
                (
                    "jobs.test.strategy.matrix.include[0].image".into(),
                    "redis:7".into()
                ),
                (
                    "jobs.other.container".into(),
                    "missing [\"${{ matrix.image }}\"]".into()
                ),
                (
                    "jobs.svc.services.db.image".into(),
                    "missing [\"${{matrix.db}}\"]".into()
                ),
                (
                    "jobs.svc.strategy.matrix.db[0]".into(),
                    "postgres:16".into()
                ),
            ]
        );
        let s = &sites[2];
        assert_eq!(&text[s.span.start..s.span.end], "node:22");
    }

    #[test]
    fn gitlab() {
        let text = "variables:\n  NODE: node:20\nimage: ruby:3.3\ndefault:\n  services:\n    - postgres:16\n.base:\n  image:\n    name: $CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX/alpine:3.20\ntest:\n  image: $NODE\n  services:\n    - name: redis:7\n      alias: cache\n  script: [true]\nstages: [test]\n";
        let sites = extract_gitlab(text).unwrap();
        let got = texts(&sites);
        assert_eq!(
            got,
            [
                ("image".into(), "ruby:3.3".into()),
                ("default.services[0]".into(), "postgres:16".into()),
                (".base.image.name".into(), "alpine:3.20".into()),
                ("test.image".into(), "node:20".into()),
                ("test.services[0].name".into(), "redis:7".into()),
            ]
        );
        assert_eq!(
            sites[2].extra.via_proxy.as_deref(),
            Some("$CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX")
        );
        assert_eq!(&text[sites[2].span.start..sites[2].span.end], "alpine:3.20");
    }
}
