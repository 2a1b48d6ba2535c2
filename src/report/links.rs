//! Links to rule documentation. The base comes from `docs-url` in
//! refit.toml, else from the `repository` in the package metadata (its
//! `rules/` folder); with neither, no link is emitted rather than a dead one.

use crate::diagnostic::Diagnostic;
use std::sync::OnceLock;

static CONFIGURED: OnceLock<String> = OnceLock::new();

/// Set the documentation base for this process (`docs-url`). The first
/// call wins; later ones are ignored.
pub fn set_docs_url(url: &str) {
    let _ = CONFIGURED.set(url.trim_end_matches('/').to_string());
}

/// The repository in the package metadata, when there is one.
fn repository() -> Option<String> {
    let repo = env!("CARGO_PKG_REPOSITORY").trim_end_matches('/');
    (!repo.is_empty()).then(|| repo.to_string())
}

/// Where to learn about the tool: the repository, else the configured
/// documentation.
pub fn information_uri() -> Option<String> {
    repository().or_else(|| CONFIGURED.get().cloned())
}

/// The folder the rule pages are in.
pub fn docs_base() -> Option<String> {
    match CONFIGURED.get() {
        Some(url) => Some(url.clone()),
        None => repository().map(|r| format!("{r}/blob/main/rules")),
    }
}

/// The page of a diagnostic's rule (`<base>/REG001.md`); `None` without a
/// base, and for per-file errors and notes, which have no page.
pub fn help_uri(d: &Diagnostic) -> Option<String> {
    if !d.is_finding() {
        return None;
    }
    docs_base().map(|base| format!("{base}/{}.md", d.code))
}
