//! Other CI pipelines: CircleCI, Bitbucket Pipelines and Azure Pipelines.
//! Each front-end reads the keys its CI pulls container images from, and
//! nothing that only looks like an image (CircleCI's `machine.image` is a
//! VM image, an Azure `services:` entry names a container resource).
//! A value with the CI's own variables (`$VAR`, `${VAR}`, Azure's `$(var)`,
//! `${{ parameters.x }}` and `$[ … ]`, CircleCI's `<< parameters.x >>`) is
//! decided when the pipeline runs: unresolved, never edited.

use super::common::{Builder, dedupe, site};
use super::yaml::{self, Document, Node, Scalar};
use crate::site::{ImageSite, SiteKind, Span, SyntaxError};

/// How deeply the walks below follow nested pipelines and inline orbs.
const MAX_WALK: usize = 12;

/// Expressions that open and close (the name is the whole expression).
const EXPRESSIONS: &[(&str, &str)] = &[("${{", "}}"), ("$[", "]"), ("<<", ">>")];

/// The CI variables and expressions in a value, as the names a report
/// lists: `NAME` for `$NAME`, `${NAME}` and `$(NAME)`, the expression as
/// written for `${{ … }}`, `$[ … ]` and `<< … >>`.
fn variables(value: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(rest) = value.get(i..).filter(|r| !r.is_empty()) {
        if let Some((open, close)) = EXPRESSIONS.iter().find(|(o, _)| rest.starts_with(o)) {
            let end = rest[open.len()..]
                .find(close)
                .map_or(rest.len(), |e| open.len() + e + close.len());
            out.push(rest[..end].trim());
            i += end;
            continue;
        }
        if let Some(after) = rest.strip_prefix('$') {
            let close = match after.chars().next() {
                Some('{') => Some('}'),
                Some('(') => Some(')'),
                _ => None,
            };
            let (name, used) = match close {
                Some(c) => {
                    let inner = &after[1..];
                    let end = inner.find(c).unwrap_or(inner.len());
                    (&inner[..end], 1 + end + usize::from(end < inner.len()) + 1)
                }
                None => {
                    let len = after
                        .bytes()
                        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
                        .count();
                    (&after[..len], 1 + len)
                }
            };
            if !name.trim().is_empty() {
                out.push(name.trim());
                i += used;
                continue;
            }
        }
        i += rest.chars().next().map_or(1, char::len_utf8);
    }
    out
}

/// A site for one scalar, after a prefix (`docker://`): exact bytes when
/// the scalar is written as its value, unresolved when it holds variables.
pub(super) fn ci_site(kind: SiteKind, s: &Scalar, strip: &str, path: String) -> Option<ImageSite> {
    let value = s.value.strip_prefix(strip)?;
    if value.trim().is_empty() {
        return None;
    }
    let mut b = Builder::default();
    let vars = variables(value);
    if vars.is_empty() {
        b.push(value, s.content.map(|c| c.start + strip.len()));
    }
    for v in vars {
        b.miss(v);
    }
    let span = match s.content {
        Some(c) => Span::new(c.start + strip.len(), c.end),
        None => s.span,
    };
    Some(site(kind, span, value, b.into_value(), path))
}

/// CircleCI: `jobs.<job>.docker[].image` and `executors.<name>.docker[].image`
/// (the first the primary container, the rest services), the same in
/// inline orbs (`orbs.<name>.jobs…`), and the `aliases:` entries written
/// as `{image}` to be anchored into jobs. `machine.image` is a VM image;
/// an orb's executor parameters are the orb's own business (not read).
pub fn extract_circleci(text: &str) -> Result<Vec<ImageSite>, SyntaxError> {
    let docs = yaml::parse(text)?;
    let mut out = Vec::new();
    for doc in &docs {
        let root = doc.resolve(&doc.root);
        circleci_definition(doc, root, "", &mut out, 0);
        if let Some(aliases) = doc.get(root, "aliases") {
            for (i, item) in doc.items(aliases).into_iter().enumerate() {
                if let Some(s) = doc.get_scalar(item, "image") {
                    out.extend(ci_site(
                        SiteKind::Circleci,
                        s,
                        "",
                        format!("aliases[{i}].image"),
                    ));
                }
            }
        }
        doc.check_budget()?;
    }
    dedupe(&mut out);
    Ok(out)
}

fn circleci_definition(
    doc: &Document,
    node: &Node,
    prefix: &str,
    out: &mut Vec<ImageSite>,
    depth: usize,
) {
    for section in ["executors", "jobs"] {
        let Some(defs) = doc.get(node, section) else {
            continue;
        };
        for (name, def) in doc.entries(defs) {
            let Some(docker) = doc.get(def, "docker") else {
                continue;
            };
            for (i, container) in doc.items(docker).into_iter().enumerate() {
                if let Some(s) = doc.get_scalar(container, "image") {
                    let path = format!("{prefix}{section}.{name}.docker[{i}].image");
                    out.extend(ci_site(SiteKind::Circleci, s, "", path));
                }
            }
        }
    }
    if depth >= MAX_WALK || doc.exhausted() {
        return;
    }
    if let Some(orbs) = doc.get(node, "orbs") {
        for (name, orb) in doc.entries(orbs) {
            let orb = doc.resolve(orb);
            if matches!(orb, Node::Map(..)) {
                let prefix = format!("{prefix}orbs.{name}.");
                circleci_definition(doc, orb, &prefix, out, depth + 1);
            }
        }
    }
}

/// Bitbucket Pipelines: the top-level `image`, `definitions.services.<name>.image`
/// and every step's `image` (a string or `{name, username, password}`),
/// in `definitions.steps` and anywhere under `pipelines` (`default`,
/// `branches`, `tags`, `pull-requests`, `custom`, through `parallel` and
/// `stage`), and a step's `pipe: docker://…`, which runs that image.
pub fn extract_bitbucket(text: &str) -> Result<Vec<ImageSite>, SyntaxError> {
    let docs = yaml::parse(text)?;
    let mut out = Vec::new();
    for doc in &docs {
        let root = doc.resolve(&doc.root);
        if let Some(image) = doc.get(root, "image") {
            bitbucket_image(doc, image, "image", &mut out);
        }
        if let Some(defs) = doc.get(root, "definitions") {
            if let Some(services) = doc.get(defs, "services") {
                for (name, svc) in doc.entries(services) {
                    if let Some(image) = doc.get(svc, "image") {
                        let path = format!("definitions.services.{name}.image");
                        bitbucket_image(doc, image, &path, &mut out);
                    }
                }
            }
            if let Some(steps) = doc.get(defs, "steps") {
                bitbucket_steps(doc, steps, "definitions.steps", &mut out, 0);
            }
        }
        if let Some(pipelines) = doc.get(root, "pipelines") {
            bitbucket_steps(doc, pipelines, "pipelines", &mut out, 0);
        }
        doc.check_budget()?;
    }
    dedupe(&mut out);
    Ok(out)
}

fn bitbucket_image(doc: &Document, node: &Node, path: &str, out: &mut Vec<ImageSite>) {
    let kind = SiteKind::BitbucketPipelines;
    match doc.resolve(node) {
        Node::Scalar(s) => out.extend(ci_site(kind, s, "", path.to_string())),
        map @ Node::Map(..) => {
            if let Some(s) = doc.get_scalar(map, "name") {
                out.extend(ci_site(kind, s, "", format!("{path}.name")));
            }
        }
        _ => {}
    }
}

/// The `step:` mappings under a node, however pipelines nest them.
fn bitbucket_steps(
    doc: &Document,
    node: &Node,
    path: &str,
    out: &mut Vec<ImageSite>,
    depth: usize,
) {
    if depth >= MAX_WALK || doc.exhausted() {
        return;
    }
    match doc.resolve(node) {
        map @ Node::Map(..) => {
            for (key, value) in doc.entries(map) {
                let here = format!("{path}.{key}");
                if key == "step" {
                    bitbucket_step(doc, value, &here, out);
                } else {
                    bitbucket_steps(doc, value, &here, out, depth + 1);
                }
            }
        }
        seq @ Node::Seq(..) => {
            for (i, item) in doc.items(seq).into_iter().enumerate() {
                bitbucket_steps(doc, item, &format!("{path}[{i}]"), out, depth + 1);
            }
        }
        _ => {}
    }
}

fn bitbucket_step(doc: &Document, step: &Node, path: &str, out: &mut Vec<ImageSite>) {
    if let Some(image) = doc.get(step, "image") {
        bitbucket_image(doc, image, &format!("{path}.image"), out);
    }
    for key in ["script", "after-script"] {
        let Some(script) = doc.get(step, key) else {
            continue;
        };
        for (i, item) in doc.items(script).into_iter().enumerate() {
            if let Some(pipe) = doc.get_scalar(item, "pipe") {
                let path = format!("{path}.{key}[{i}].pipe");
                out.extend(ci_site(
                    SiteKind::BitbucketPipelines,
                    pipe,
                    "docker://",
                    path,
                ));
            }
        }
    }
}

/// Azure Pipelines: `resources.containers[].image`, and a job's
/// `container:` (the pipeline's own, `jobs[]`, `stages[].jobs[]`): a map
/// with `image:`, or a string. Azure reads the string as the name of a
/// container resource first, so a string that is a declared resource, or
/// a bare word that could be one declared by the pipeline that includes
/// this file, is no site; `services:` always name resources. `endpoint:`
/// is the service connection that logs in to the image's own registry.
pub fn extract_azure(text: &str) -> Result<Vec<ImageSite>, SyntaxError> {
    let docs = yaml::parse(text)?;
    let mut out = Vec::new();
    for doc in &docs {
        let root = doc.resolve(&doc.root);
        let mut names: Vec<&str> = Vec::new();
        if let Some(resources) = doc.get(root, "resources")
            && let Some(containers) = doc.get(resources, "containers")
        {
            for (i, c) in doc.items(containers).into_iter().enumerate() {
                if let Some(name) = doc.get_scalar(c, "container") {
                    names.push(&name.value);
                }
                if let Some(s) = doc.get_scalar(c, "image") {
                    let path = format!("resources.containers[{i}].image");
                    out.extend(ci_site(SiteKind::AzurePipelines, s, "", path));
                }
            }
        }
        azure_job(doc, root, "", &names, &mut out);
        if let Some(jobs) = doc.get(root, "jobs") {
            azure_jobs(doc, jobs, "jobs", &names, &mut out);
        }
        if let Some(stages) = doc.get(root, "stages") {
            for (i, stage) in doc.items(stages).into_iter().enumerate() {
                if let Some(jobs) = doc.get(stage, "jobs") {
                    azure_jobs(doc, jobs, &format!("stages[{i}].jobs"), &names, &mut out);
                }
            }
        }
        doc.check_budget()?;
    }
    dedupe(&mut out);
    Ok(out)
}

fn azure_jobs(doc: &Document, jobs: &Node, path: &str, names: &[&str], out: &mut Vec<ImageSite>) {
    for (i, job) in doc.items(jobs).into_iter().enumerate() {
        azure_job(doc, job, &format!("{path}[{i}]."), names, out);
    }
}

fn azure_job(doc: &Document, job: &Node, prefix: &str, names: &[&str], out: &mut Vec<ImageSite>) {
    let Some(container) = doc.get(job, "container") else {
        return;
    };
    let kind = SiteKind::AzurePipelines;
    match container {
        Node::Scalar(s) => {
            let bare = !s.value.contains([':', '/', '@', '$', '<']);
            if !names.contains(&s.value.as_str()) && !bare {
                out.extend(ci_site(kind, s, "", format!("{prefix}container")));
            }
        }
        map @ Node::Map(..) => {
            if let Some(s) = doc.get_scalar(map, "image") {
                out.extend(ci_site(kind, s, "", format!("{prefix}container.image")));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sites: &[ImageSite]) -> Vec<(String, String)> {
        crate::sources::common::site_texts(sites)
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn variable_forms() {
        assert_eq!(variables("node:20"), Vec::<&str>::new());
        assert_eq!(variables("$REG/app:${TAG}"), ["REG", "TAG"]);
        assert_eq!(variables("app:$(tag)"), ["tag"]);
        assert_eq!(
            variables("${{ parameters.image }}"),
            ["${{ parameters.image }}"]
        );
        assert_eq!(variables("node:<< parameters.v >>"), ["<< parameters.v >>"]);
        assert_eq!(variables("a:$[ variables.t ]"), ["$[ variables.t ]"]);
        // Unclosed forms end the value; a lone `$` is no variable.
        assert_eq!(variables("a:${x"), ["x"]);
        assert_eq!(variables("a$"), Vec::<&str>::new());
        assert_eq!(variables("é$€"), Vec::<&str>::new());
    }

    #[test]
    fn circleci() {
        let text = "version: 2.1\naliases:\n  - &py\n    image: python:3.12\nexecutors:\n  ex:\n    docker:\n      - image: cimg/base:2024.01\njobs:\n  build:\n    docker:\n      - image: 'node:20'\n      - image: postgres:16\n      - *py\n  vm:\n    machine:\n      image: ubuntu-2204:2024.01.1\n  param:\n    docker:\n      - image: node:<< parameters.v >>\norbs:\n  mine:\n    executors:\n      e:\n        docker:\n          - image: alpine:3.20\n  node: circleci/node@5.2.0\n";
        let sites = extract_circleci(text).unwrap();
        assert_eq!(
            texts(&sites),
            pairs(&[
                ("executors.ex.docker[0].image", "cimg/base:2024.01"),
                ("jobs.build.docker[0].image", "node:20"),
                ("jobs.build.docker[1].image", "postgres:16"),
                ("jobs.build.docker[2].image", "python:3.12"),
                (
                    "jobs.param.docker[0].image",
                    "missing [\"<< parameters.v >>\"]"
                ),
                ("orbs.mine.executors.e.docker[0].image", "alpine:3.20"),
            ])
        );
        // A quoted scalar: the span is its content, quotes kept outside.
        assert_eq!(&text[sites[1].span.start..sites[1].span.end], "node:20");
    }

    #[test]
    fn bitbucket() {
        let text = "image:\n  name: atlassian/default-image:4\n  username: $USER\ndefinitions:\n  services:\n    db:\n      image: postgres:16\n    cache:\n      image:\n        name: redis:7\n  steps:\n    - step: &lint\n        image: golangci/golangci-lint:v1.59\npipelines:\n  default:\n    - step: *lint\n    - parallel:\n        steps:\n          - step:\n              image: node:20\n              script:\n                - pipe: docker://alpine:3.20\n                - pipe: atlassian/aws-s3-deploy:1.1.0\n  branches:\n    main:\n      - stage:\n          steps:\n            - step:\n                image: \"$REG/app:1\"\n";
        let sites = extract_bitbucket(text).unwrap();
        assert_eq!(
            texts(&sites),
            pairs(&[
                ("image.name", "atlassian/default-image:4"),
                ("definitions.services.db.image", "postgres:16"),
                ("definitions.services.cache.image.name", "redis:7"),
                (
                    "definitions.steps[0].step.image",
                    "golangci/golangci-lint:v1.59"
                ),
                (
                    "pipelines.default[1].parallel.steps[0].step.image",
                    "node:20"
                ),
                (
                    "pipelines.default[1].parallel.steps[0].step.script[0].pipe",
                    "alpine:3.20"
                ),
                (
                    "pipelines.branches.main[0].stage.steps[0].step.image",
                    "missing [\"REG\"]"
                ),
            ])
        );
        let pipe = &sites[5];
        assert_eq!(&text[pipe.span.start..pipe.span.end], "alpine:3.20");
    }

    #[test]
    fn azure() {
        let text = "resources:\n  containers:\n    - container: linux\n      image: ubuntu:24.04\n    - container: private\n      image: myacr.azurecr.io/app:1\n      endpoint: acr-connection\ncontainer: linux\njobs:\n  - job: a\n    container: node:20\n    services:\n      db: linux\n  - job: b\n    container:\n      image: ${{ parameters.image }}\n  - job: c\n    container: other\nstages:\n  - stage: s\n    jobs:\n      - deployment: d\n        container:\n          image: python:3.12\n";
        let sites = extract_azure(text).unwrap();
        assert_eq!(
            texts(&sites),
            pairs(&[
                ("resources.containers[0].image", "ubuntu:24.04"),
                ("resources.containers[1].image", "myacr.azurecr.io/app:1"),
                ("jobs[0].container", "node:20"),
                (
                    "jobs[1].container.image",
                    "missing [\"${{ parameters.image }}\"]"
                ),
                ("stages[0].jobs[0].container.image", "python:3.12"),
            ])
        );
    }

    #[test]
    fn not_yaml_is_an_error() {
        assert!(extract_azure("a: [").is_err());
        assert!(extract_bitbucket("a: [").is_err());
        assert!(extract_circleci("a: [").is_err());
    }
}
