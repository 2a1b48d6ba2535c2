//! `skopeo sync --src yaml` source file: registries at the top level, each
//! with `images:` mapping a repository to the tags and digests to copy
//! (skopeo-sync(1), "YAML file content"). A repository is never written
//! with an empty list, which skopeo reads as "every tag". Loopback
//! registries get `tls-verify: false`, as refit's own client speaks plain
//! HTTP to them.

use super::{Inventory, yaml_str};
use std::collections::{BTreeMap, BTreeSet};

pub fn render(inv: &Inventory) -> String {
    let mut registries: BTreeMap<&str, BTreeMap<&str, BTreeSet<String>>> = BTreeMap::new();
    for image in &inv.images {
        let wanted = registries
            .entry(&image.registry)
            .or_default()
            .entry(&image.repository)
            .or_default();
        if let Some(t) = &image.tag {
            wanted.insert(t.clone());
        }
        if let Some(d) = image.any_digest() {
            wanted.insert(d.to_string());
        }
    }
    let mut out = String::new();
    for (registry, repos) in registries {
        out.push_str(&format!("{}:\n", yaml_str(registry)));
        out.push_str("  images:\n");
        for (repo, refs) in repos {
            out.push_str(&format!("    {}:\n", yaml_str(repo)));
            for r in refs {
                out.push_str(&format!("      - {}\n", yaml_str(&r)));
            }
        }
        if crate::online::client::is_loopback(registry) {
            out.push_str("  tls-verify: false\n");
        }
    }
    out
}
