//! A `zarf.yaml`: `kind: ZarfPackageConfig`, package `metadata.name`, and
//! one required component whose `images:` lists every image (for `zarf
//! package create`).

use super::{Inventory, yaml_str};

pub fn render(inv: &Inventory, name: &str) -> String {
    let mut out = String::from("kind: ZarfPackageConfig\n");
    out.push_str(&format!("metadata:\n  name: {}\n", yaml_str(name)));
    out.push_str("components:\n  - name: images\n    required: true\n");
    if inv.images.is_empty() {
        out.push_str("    images: []\n");
        return out;
    }
    out.push_str("    images:\n");
    for image in &inv.images {
        out.push_str(&format!("      - {}\n", yaml_str(&image.pull_reference())));
    }
    out
}
