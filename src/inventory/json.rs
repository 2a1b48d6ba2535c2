//! The whole inventory as JSON: each image with its sites (file, line,
//! column, kind, how it was resolved), the images built here, and the
//! references left unresolved.

use super::Inventory;

pub fn render(inv: &Inventory) -> String {
    let errors: Vec<serde_json::Value> = inv
        .errors
        .iter()
        .map(|(file, message)| serde_json::json!({"file": file, "message": message}))
        .collect();
    let value = serde_json::json!({
        "images": inv.images,
        "built_here": inv.built_here,
        "unresolved": inv.unresolved,
        "errors": errors,
    });
    let mut out = serde_json::to_string_pretty(&value).unwrap_or_default();
    out.push('\n');
    out
}
