//! Container-native pipelines: Drone, Woodpecker and Google Cloud Build.
//! Every step of these runs in a container image, so each front-end reads
//! the key its runner pulls, and nothing else:
//!
//! - **Drone** (`.drone.yml`): the `steps[].image` and `services[].image`
//!   of each `kind: pipeline` document of type `docker` (the default) or
//!   `kubernetes`; `exec`, `ssh` and `digitalocean` pipelines run no
//!   images, and other documents (`kind: secret`, `kind: signature`) are
//!   no pipelines.
//! - **Woodpecker** (`.woodpecker.yml`, `.woodpecker/*.yml`): the `image`
//!   of each entry of `steps`, `services` and `clone`, and of the older
//!   `pipeline` key, written as a mapping (name → step) or a list.
//! - **Cloud Build** (`cloudbuild.yaml`): `steps[].name`, the builder image
//!   a step runs (a short name is Docker Hub's, as Cloud Build pulls it).
//!   `images:` lists what the build pushes, not pulls (not read).
//!
//! Values with the CI's substitutions (`${DRONE_TAG}`, `${CI_COMMIT_SHA}`,
//! `$PROJECT_ID`, `${_IMAGE}`) are decided when the pipeline runs:
//! unresolved, never edited, as in the other CI front-ends.

use super::common::dedupe;
use super::other_ci::ci_site;
use super::yaml::{self, Document, Node};
use crate::site::{ImageSite, SiteKind, SyntaxError};

/// The entries of a steps collection written as a mapping (name → step)
/// or a list (of steps with `name:`), with the path each is shown at.
fn steps<'a>(doc: &'a Document, node: &'a Node, key: &str) -> Vec<(String, &'a Node)> {
    match doc.resolve(node) {
        map @ Node::Map(..) => doc
            .entries(map)
            .into_iter()
            .map(|(name, step)| (format!("{key}.{name}"), step))
            .collect(),
        Node::Seq(..) => doc
            .items(node)
            .into_iter()
            .enumerate()
            .map(|(i, step)| (format!("{key}[{i}]"), step))
            .collect(),
        _ => Vec::new(),
    }
}

/// The `image` of each step under `keys`, read as `kind`.
fn step_images(
    doc: &Document,
    node: &Node,
    keys: &[&str],
    field: &str,
    kind: SiteKind,
    out: &mut Vec<ImageSite>,
) {
    for key in keys {
        let Some(list) = doc.get(node, key) else {
            continue;
        };
        for (path, step) in steps(doc, list, key) {
            if let Some(s) = doc.get_scalar(step, field) {
                out.extend(ci_site(kind, s, "", format!("{path}.{field}")));
            }
        }
    }
}

/// Drone: `steps[].image` and `services[].image` of each docker or
/// kubernetes pipeline document.
pub fn extract_drone(text: &str) -> Result<Vec<ImageSite>, SyntaxError> {
    let docs = yaml::parse(text)?;
    let mut out = Vec::new();
    for doc in &docs {
        let root = doc.resolve(&doc.root);
        let scalar = |key: &str| doc.get_scalar(root, key).map(|s| s.value.as_str());
        if !matches!(scalar("kind"), None | Some("pipeline")) {
            continue;
        }
        if !matches!(scalar("type"), None | Some("docker" | "kubernetes")) {
            continue;
        }
        step_images(
            doc,
            root,
            &["steps", "services"],
            "image",
            SiteKind::Drone,
            &mut out,
        );
        doc.check_budget()?;
    }
    dedupe(&mut out);
    Ok(out)
}

/// Woodpecker: the `image` of `steps`, `services`, `clone` and the older
/// `pipeline` entries, as a mapping or a list.
pub fn extract_woodpecker(text: &str) -> Result<Vec<ImageSite>, SyntaxError> {
    let docs = yaml::parse(text)?;
    let mut out = Vec::new();
    for doc in &docs {
        let root = doc.resolve(&doc.root);
        step_images(
            doc,
            root,
            &["clone", "steps", "pipeline", "services"],
            "image",
            SiteKind::Woodpecker,
            &mut out,
        );
        doc.check_budget()?;
    }
    dedupe(&mut out);
    Ok(out)
}

/// Cloud Build: `steps[].name`, the image each step runs.
pub fn extract_cloudbuild(text: &str) -> Result<Vec<ImageSite>, SyntaxError> {
    let docs = yaml::parse(text)?;
    let mut out = Vec::new();
    for doc in &docs {
        let root = doc.resolve(&doc.root);
        if let Some(list) = doc.get(root, "steps")
            && matches!(doc.resolve(list), Node::Seq(..))
        {
            step_images(
                doc,
                root,
                &["steps"],
                "name",
                SiteKind::CloudBuild,
                &mut out,
            );
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

    fn texts(sites: Vec<ImageSite>) -> Vec<(String, String)> {
        site_texts(&sites)
    }

    #[test]
    fn drone_pipelines() {
        let text = "kind: pipeline\ntype: docker\nname: test\nsteps:\n  - name: build\n    image: golang:1.23\n  - name: publish\n    image: plugins/docker:${DRONE_TAG}\nservices:\n  - name: db\n    image: postgres:16\n---\nkind: pipeline\ntype: exec\nname: host\nsteps:\n  - name: x\n    image: not-pulled:1\n---\nkind: secret\nname: token\nget:\n  path: x\n";
        let s = texts(extract_drone(text).unwrap());
        assert_eq!(
            s,
            [
                ("steps[0].image".to_string(), "golang:1.23".to_string()),
                (
                    "steps[1].image".to_string(),
                    "missing [\"DRONE_TAG\"]".to_string()
                ),
                ("services[0].image".to_string(), "postgres:16".to_string()),
            ]
        );
        let sites = extract_drone(text).unwrap();
        assert_eq!(&text[sites[0].span.start..sites[0].span.end], "golang:1.23");
    }

    #[test]
    fn woodpecker_maps_and_lists() {
        let map = "clone:\n  git:\n    image: woodpeckerci/plugin-git:2.0.3\nsteps:\n  build:\n    image: node:22\n    commands: [npm test]\nservices:\n  db:\n    image: postgres:16\n";
        let s = texts(extract_woodpecker(map).unwrap());
        assert_eq!(
            s,
            [
                (
                    "clone.git.image".to_string(),
                    "woodpeckerci/plugin-git:2.0.3".to_string()
                ),
                ("steps.build.image".to_string(), "node:22".to_string()),
                ("services.db.image".to_string(), "postgres:16".to_string()),
            ]
        );
        let list = "steps:\n  - name: build\n    image: golang:1.23\n  - name: tag\n    image: alpine:${CI_COMMIT_TAG}\n";
        let s = texts(extract_woodpecker(list).unwrap());
        assert_eq!(
            s[0],
            ("steps[0].image".to_string(), "golang:1.23".to_string())
        );
        assert!(s[1].1.starts_with("missing"));
        assert_eq!(extract_woodpecker("").unwrap(), []);
        assert!(extract_woodpecker("nothing here\n:::::::").is_err());
    }

    #[test]
    fn cloud_build_steps() {
        let text = "steps:\n  - name: 'gcr.io/cloud-builders/docker:24.0.9'\n    args: ['build', '-t', 'gcr.io/$PROJECT_ID/app', '.']\n  - name: ubuntu\n  - name: gcr.io/$PROJECT_ID/tool\nimages: ['gcr.io/$PROJECT_ID/app']\n";
        let s = texts(extract_cloudbuild(text).unwrap());
        assert_eq!(
            s,
            [
                (
                    "steps[0].name".to_string(),
                    "gcr.io/cloud-builders/docker:24.0.9".to_string()
                ),
                ("steps[1].name".to_string(), "ubuntu".to_string()),
                (
                    "steps[2].name".to_string(),
                    "missing [\"PROJECT_ID\"]".to_string()
                ),
            ]
        );
        // `steps` that is not a list is not Cloud Build's.
        assert_eq!(
            extract_cloudbuild("steps:\n  a:\n    name: x\n").unwrap(),
            []
        );
    }
}
