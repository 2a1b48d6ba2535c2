//! kustomize: the `images:` overrides of a kustomization.

use super::common::{Builder, dedupe, site};
use super::yaml;
use crate::site::{ImageSite, SiteKind, Slot, Span, SyntaxError};

/// Each entry of `images:` gives the reference kustomize deploys:
/// `newName` (or `name`), `newTag`, `digest`.
pub fn extract(text: &str) -> Result<Vec<ImageSite>, SyntaxError> {
    let docs = yaml::parse(text)?;
    let mut out = Vec::new();
    for doc in &docs {
        let root = doc.resolve(&doc.root);
        let Some(images) = doc.get(root, "images") else {
            continue;
        };
        images_of(doc, images, "images", &mut out);
        doc.check_budget()?;
    }
    dedupe(&mut out);
    Ok(out)
}

/// The sites of an `images:` list (`at`: its path, `images` or a Flux
/// Kustomization's `spec.images`).
pub fn images_of(doc: &yaml::Document, images: &yaml::Node, at: &str, out: &mut Vec<ImageSite>) {
    {
        for (i, entry) in doc.items(images).into_iter().enumerate() {
            let new_name = doc.get_scalar(entry, "newName");
            let name = new_name.or_else(|| doc.get_scalar(entry, "name"));
            let Some(name) = name.filter(|n| !n.value.is_empty()) else {
                continue;
            };
            let tag = doc
                .get_scalar(entry, "newTag")
                .filter(|t| !t.value.is_empty());
            let digest = doc
                .get_scalar(entry, "digest")
                .filter(|d| !d.value.is_empty());
            // `- name: foo` alone changes nothing: not an image site.
            if new_name.is_none() && tag.is_none() && digest.is_none() {
                continue;
            }
            // `name: 3` is a number, not an image name.
            if new_name.is_none() && name.is_number() {
                continue;
            }
            let mut b = Builder::default();
            b.push(&name.value, name.content.map(|c| c.start));
            if let Some(t) = tag {
                b.push(":", None);
                b.push(&t.value, t.content.map(|c| c.start));
            }
            if let Some(d) = digest {
                b.push("@", None);
                b.push(&d.value, d.content.map(|c| c.start));
            }
            let raw = b.text.clone();
            let key = if doc.get_scalar(entry, "newName").is_some() {
                "newName"
            } else {
                "name"
            };
            let span: Span = name.content.unwrap_or(name.span);
            let mut s = site(
                SiteKind::Kustomize,
                span,
                &raw,
                b.into_value(),
                format!("{at}[{i}].{key}"),
            );
            // kustomize matches `name` against resource images literally:
            // it is never edited (`newName` is what gets deployed).
            if key == "name" {
                s.extra.frozen.push(name.span);
            }
            // `newName` alone keeps the tag (or digest) of each resource
            // image it matches: the entry names no tag, it implies no
            // `latest`.
            if new_name.is_some() && tag.is_none() && digest.is_none() {
                s.extra.tag_from_overlay = true;
            }
            if let Some(t) = tag.filter(|t| t.is_number()) {
                s.extra.numeric_tags.push(Slot::from(t));
            }
            s.extra.kustomize_name = doc
                .get_scalar(entry, "name")
                .map(|n| n.value.clone())
                .filter(|n| !n.is_empty());
            out.push(s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::SiteValue;

    #[test]
    fn images() {
        let text = "images:\n- name: nginx\n  newName: ghcr.io/org/nginx\n  newTag: 1.10\n- name: app\n  newTag: sha256:abc\n- name: db\n  digest: sha256:4b2bb5f6f8c0e1b4b3f5d2f9a1c0c4c0f6e9b8b1c2d3e4f5a6b7c8d9e0f1a2b3\n";
        let s = extract(text).unwrap();
        let texts: Vec<String> = s
            .iter()
            .map(|s| match &s.value {
                SiteValue::Resolved { text, parsed, .. } => format!("{text} {}", parsed.is_ok()),
                SiteValue::Unresolved { .. } => String::new(),
                SiteValue::Mirror(m) => panic!("mirror {m:?}"),
            })
            .collect();
        assert_eq!(texts[0], "ghcr.io/org/nginx:1.10 true");
        assert_eq!(
            texts[1], "app:sha256:abc false",
            "a digest in newTag is an error"
        );
        assert!(texts[2].ends_with(" true"));
        assert_eq!(s[0].extra.numeric_tags.len(), 1);
    }

    #[test]
    fn entries_that_are_not_images() {
        let text =
            "images:\n- name: foo\n- name: 3\n  newTag: \"1\"\n- name: bar\n  newTag: \"2\"\n";
        let s = extract(text).unwrap();
        let paths: Vec<&str> = s.iter().map(|s| s.path.as_deref().unwrap()).collect();
        assert_eq!(paths, ["images[2].name"]);
    }
}
