//! An oc-mirror `ImageSetConfiguration` (`mirror.openshift.io/v2alpha1`):
//! every image under `mirror.additionalImages[].name`.

use super::{Inventory, yaml_str};

pub fn render(inv: &Inventory) -> String {
    let mut out = String::from(
        "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v2alpha1\nmirror:\n",
    );
    if inv.images.is_empty() {
        out.push_str("  additionalImages: []\n");
        return out;
    }
    out.push_str("  additionalImages:\n");
    for image in &inv.images {
        out.push_str(&format!(
            "    - name: {}\n",
            yaml_str(&image.pull_reference())
        ));
    }
    out
}
