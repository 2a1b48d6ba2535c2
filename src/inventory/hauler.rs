//! A hauler manifest: `apiVersion: content.hauler.cattle.io/v1`, `kind:
//! Images`, `spec.images[].name` (for `hauler store sync -f`).

use super::{Inventory, yaml_str};

pub fn render(inv: &Inventory, name: &str) -> String {
    let mut out = String::from("apiVersion: content.hauler.cattle.io/v1\nkind: Images\n");
    out.push_str(&format!("metadata:\n  name: {}\nspec:\n", yaml_str(name)));
    if inv.images.is_empty() {
        out.push_str("  images: []\n");
        return out;
    }
    out.push_str("  images:\n");
    for image in &inv.images {
        out.push_str(&format!(
            "    - name: {}\n",
            yaml_str(&image.pull_reference())
        ));
    }
    out
}
