//! Files that documentation includes as text: mkdocs and GitBook
//! `{% include "x.yaml" %}`, pymdownx snippets `--8<-- "x.yaml"`, Sphinx
//! and MyST `literalinclude`, AsciiDoc `include::x.yaml[]`, Hugo
//! `readfile`, Docusaurus `!!raw-loader!./x.yaml`. Such a file is a
//! fragment shown on a page (it may elide lines with `...`), not input to
//! a tool that parses it, so a YAML syntax error there is no reason to fail
//! the run. Read only when a YAML file fails to parse, once per
//! repository root, bounded.

use std::collections::HashMap;
use std::path::{Component, Path};

/// The most documentation files read per root.
const MAX_DOCS: usize = 20_000;
/// The most bytes read from one documentation file.
const MAX_DOC_BYTES: u64 = 1 << 20;
/// The most bytes read over all documentation files of a root.
const MAX_TOTAL_BYTES: u64 = 256 << 20;
/// The most distinct included file names kept per root.
const MAX_NAMES: usize = 100_000;
/// Folders never walked for documentation.
const SKIP: [&str; 4] = [".git", "node_modules", "vendor", super::cache::DIR];

/// What the documentation of one root includes as text: by file name,
/// each included path (its normal components, `./` and `../` dropped) and
/// the documentation file that includes it (root-relative).
#[derive(Debug, Default)]
pub struct DocIncludes {
    by_name: HashMap<String, Vec<(Vec<String>, String)>>,
}

impl DocIncludes {
    /// Read the documentation files under `root` (git's ignore rules
    /// applied, links not followed).
    pub fn read(root: &Path) -> DocIncludes {
        let mut out = DocIncludes::default();
        let mut docs = 0usize;
        let mut total = 0u64;
        let walk = ignore::WalkBuilder::new(root)
            .hidden(false)
            .ignore(false)
            .require_git(false)
            .filter_entry(|e| !SKIP.iter().any(|s| e.file_name() == *s))
            .build();
        for entry in walk.filter_map(Result::ok) {
            if docs >= MAX_DOCS || total >= MAX_TOTAL_BYTES {
                break;
            }
            if !entry.file_type().is_some_and(|t| t.is_file()) || !is_doc(entry.path()) {
                continue;
            }
            docs += 1;
            let Ok(bytes) = crate::bounded::inside(root, entry.path())
                .and_then(|real| crate::bounded::read_bytes(&real, MAX_DOC_BYTES))
            else {
                continue;
            };
            total += bytes.len() as u64;
            let text = String::from_utf8_lossy(&bytes);
            let shown = entry
                .path()
                .strip_prefix(root)
                .unwrap_or(entry.path())
                .to_string_lossy()
                .into_owned();
            for target in included(&text) {
                let parts: Vec<String> = Path::new(target)
                    .components()
                    .filter_map(|c| match c {
                        Component::Normal(p) => Some(p.to_string_lossy().into_owned()),
                        _ => None,
                    })
                    .collect();
                let Some(name) = parts.last().cloned() else {
                    continue;
                };
                if out.by_name.len() >= MAX_NAMES && !out.by_name.contains_key(&name) {
                    continue;
                }
                let list = out.by_name.entry(name).or_default();
                if list.len() < 64 {
                    list.push((parts, shown.clone()));
                }
            }
        }
        out
    }

    /// The documentation file that includes `rel` (a path relative to the
    /// root) as text: an included path matches when it is a suffix of
    /// `rel`, since pages name files relative to themselves, to a docs
    /// folder or to the root.
    pub fn includer(&self, rel: &Path) -> Option<&str> {
        let parts: Vec<String> = rel
            .components()
            .filter_map(|c| match c {
                Component::Normal(p) => Some(p.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect();
        let name = parts.last()?;
        // A bare file name (`{% include 'x.yaml' %}`, resolved against a
        // configured snippets folder) only for a file in a documentation
        // folder: `values.yaml` named on a page is not every `values.yaml`.
        let in_docs = parts[..parts.len() - 1].iter().any(|p| {
            matches!(
                p.to_ascii_lowercase().as_str(),
                "docs" | "doc" | "documentation" | "snippets" | "includes" | "_includes"
            )
        });
        self.by_name.get(name)?.iter().find_map(|(suffix, by)| {
            (parts.ends_with(suffix) && (suffix.len() > 1 || in_docs)).then_some(by.as_str())
        })
    }
}

/// Whether a file is documentation that can include others as text.
fn is_doc(path: &Path) -> bool {
    let Some(ext) = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
    else {
        return false;
    };
    matches!(
        ext.as_str(),
        "md" | "markdown" | "mdx" | "rst" | "adoc" | "asciidoc" | "txt" | "html"
    )
}

/// The paths a documentation text includes as text.
fn included(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for line in text.lines() {
        let l = line.trim();
        // `{% include "x" %}`, `{%- include 'x' -%}` (mkdocs-macros,
        // GitBook, Jekyll).
        if let Some(at) = l.find("{%")
            && let Some(rest) = l[at + 2..]
                .trim_start_matches('-')
                .trim_start()
                .strip_prefix("include")
        {
            out.extend(quoted(rest));
        }
        // pymdownx.snippets: `--8<-- "x"`.
        if let Some(at) = l.find("--8<--") {
            out.extend(quoted(&l[at + 6..]));
        }
        // Sphinx and MyST: `.. literalinclude:: x`, `.. include:: x`,
        // ```` ```{literalinclude} x ````.
        for directive in [
            "literalinclude::",
            "include::",
            "{literalinclude}",
            "{include}",
        ] {
            if let Some(at) = l.find(directive) {
                let rest = l[at + directive.len()..].trim();
                // AsciiDoc: `include::x[...]`.
                let rest = rest.split('[').next().unwrap_or(rest).trim();
                if !rest.is_empty() && !rest.contains(char::is_whitespace) {
                    out.push(rest);
                }
                break;
            }
        }
        // Hugo: `{{< readfile file="x" >}}`, `{{% readfile "x" %}}`.
        if let Some(at) = l.find("readfile") {
            out.extend(quoted(&l[at + 8..]));
        }
        // Docusaurus: `import X from '!!raw-loader!./x'`.
        if let Some(at) = l.find("!!raw-loader!") {
            let rest = &l[at + 13..];
            let end = rest.find(['\'', '"', '`']).unwrap_or(rest.len());
            out.push(&rest[..end]);
        }
    }
    out.retain(|p| !p.is_empty() && p.len() < 512);
    out
}

/// The first quoted string of a text (`"x"` or `'x'`).
fn quoted(text: &str) -> Option<&str> {
    let start = text.find(['"', '\''])?;
    let q = text[start..].chars().next()?;
    let rest = &text[start + 1..];
    let end = rest.find(q)?;
    Some(&rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives() {
        let text = "intro\n{% include '1password-connect-server-deployment.yaml' %}\n\
            --8<-- \"docs/snippets/pod.yaml\"\n.. literalinclude:: ../examples/a.yaml\n   :language: yaml\n\
            include::example$deploy.yaml[lines=1..5]\n{{< readfile file=\"/static/b.yaml\" >}}\n\
            import X from '!!raw-loader!./c.yaml';\n{% raw %}\n";
        assert_eq!(
            included(text),
            vec![
                "1password-connect-server-deployment.yaml",
                "docs/snippets/pod.yaml",
                "../examples/a.yaml",
                "example$deploy.yaml",
                "/static/b.yaml",
                "./c.yaml",
            ]
        );
    }

    #[test]
    fn includer_matches_by_suffix() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("docs/provider")).unwrap();
        std::fs::create_dir_all(root.join("docs/snippets")).unwrap();
        std::fs::write(
            root.join("docs/provider/1password.md"),
            "{% include '1password-connect-server-deployment.yaml' %}\n",
        )
        .unwrap();
        let found = DocIncludes::read(root);
        assert_eq!(
            found.includer(Path::new(
                "docs/snippets/1password-connect-server-deployment.yaml"
            )),
            Some("docs/provider/1password.md")
        );
        assert_eq!(found.includer(Path::new("deploy/other.yaml")), None);
        // The bare name outside a documentation folder is another file.
        assert_eq!(
            found.includer(Path::new("deploy/1password-connect-server-deployment.yaml")),
            None
        );
        assert_eq!(found.includer(Path::new("x/deployment.yaml")), None);
    }
}
