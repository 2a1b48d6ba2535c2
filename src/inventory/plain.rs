//! One reference a line, sorted and deduplicated
//! (`docker.io/library/nginx:1.27`): what `xargs -n1 docker pull` or a
//! mirroring script reads. With `--resolve`, pinned (`name:tag@digest`).

use super::Inventory;

pub fn render(inv: &Inventory) -> String {
    let mut lines: Vec<String> = inv.images.iter().map(|i| i.pull_reference()).collect();
    lines.sort();
    lines.dedup();
    let mut out = String::new();
    for l in lines {
        out.push_str(&l);
        out.push('\n');
    }
    out
}
