//! kustomize: what a kustomization includes, and the `images:` entries
//! that override its resources' images (see `RepoFacts::kustomize_overrides`).

use super::*;

pub(super) const KUSTOMIZATION_NAMES: &[&str] =
    &["kustomization.yaml", "kustomization.yml", "Kustomization"];

pub(super) fn kustomization(path: &Path, shown: &str, text: &str, ctx: &mut RepoContext) {
    let Ok(docs) = crate::sources::yaml::parse(text) else {
        return;
    };
    let Some(dir) = path
        .parent()
        .and_then(|d| crate::realpath::canonical(d).ok())
    else {
        return;
    };
    let mut k = Kustomization::default();
    let index = crate::diagnostic::LineIndex::new(text);
    for doc in &docs {
        let root = doc.resolve(&doc.root);
        for key in [
            "resources",
            "bases",
            "components",
            "patchesStrategicMerge",
            "patches",
        ] {
            let Some(list) = doc.get(root, key) else {
                continue;
            };
            for item in doc.items(list) {
                let entry = match item.as_scalar() {
                    Some(s) => Some(s),
                    None => doc.get_scalar(item, "path"),
                };
                let Some(entry) = entry else { continue };
                if entry.value.contains("://") || entry.value.contains('\n') {
                    continue;
                }
                if let Ok(p) = crate::realpath::canonical(&dir.join(&entry.value)) {
                    k.includes.push(p);
                }
            }
        }
        if let Some(images) = doc.get(root, "images") {
            for entry in doc.items(images) {
                let Some(name) = doc
                    .get_scalar(entry, "name")
                    .filter(|n| !n.value.is_empty())
                else {
                    continue;
                };
                let value = |key: &str| {
                    doc.get_scalar(entry, key)
                        .filter(|s| !s.value.is_empty())
                        .map(|s| s.value.clone())
                };
                let (tag, digest) = (value("newTag"), value("digest"));
                // Where the kustomize front-end puts the entry's site.
                let shown_name = doc
                    .get_scalar(entry, "newName")
                    .filter(|s| !s.value.is_empty())
                    .unwrap_or(name);
                let at = index.position(text, shown_name.content.unwrap_or(shown_name.span).start);
                k.images.push(KustomizeImage {
                    name: name.value.clone(),
                    new_name: value("newName"),
                    new_tag: tag.is_some() || digest.is_some(),
                    tag,
                    digest,
                    file: shown.to_string(),
                    line: at.line,
                    column: at.column,
                });
            }
        }
    }
    ctx.kustomizations.insert(dir, k);
}
