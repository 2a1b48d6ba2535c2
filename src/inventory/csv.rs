//! CSV (RFC 4180): one row per site, so a spreadsheet can filter by file
//! or registry. `status` is `pull`, `built` or `unresolved`.

use super::Inventory;

const HEADER: [&str; 13] = [
    "status",
    "reference",
    "registry",
    "repository",
    "tag",
    "digest",
    "file",
    "line",
    "column",
    "kind",
    "resolution",
    "profiles",
    "raw",
];

/// A field quoted when it holds a comma, a quote or a line break; a leading
/// `=`, `+`, `-` or `@` is prefixed with `'` so a spreadsheet does not run
/// it as a formula (the repository is untrusted input).
fn field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn row(out: &mut String, fields: &[&str]) {
    let line: Vec<String> = fields.iter().map(|f| field(f)).collect();
    out.push_str(&line.join(","));
    out.push_str("\r\n");
}

pub fn render(inv: &Inventory) -> String {
    let mut out = String::new();
    row(&mut out, &HEADER);
    for (status, images) in [("pull", &inv.images), ("built", &inv.built_here)] {
        for image in images {
            let digest = image.any_digest().unwrap_or_default();
            for s in &image.sites {
                let (line, column) = (s.line.to_string(), s.column.to_string());
                let profiles = s.profiles.join(" ");
                row(
                    &mut out,
                    &[
                        status,
                        &image.pull_reference(),
                        &image.registry,
                        &image.repository,
                        image.tag.as_deref().unwrap_or_default(),
                        digest,
                        &s.file,
                        &line,
                        &column,
                        &s.kind,
                        &s.resolution,
                        &profiles,
                        &s.raw,
                    ],
                );
            }
        }
    }
    for u in &inv.unresolved {
        let (line, column) = (u.line.to_string(), u.column.to_string());
        row(
            &mut out,
            &[
                "unresolved",
                "",
                "",
                "",
                "",
                "",
                &u.file,
                &line,
                &column,
                &u.kind,
                &u.reason,
                "",
                &u.raw,
            ],
        );
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn quoting() {
        assert_eq!(super::field("a,b"), "\"a,b\"");
        assert_eq!(super::field("say \"x\""), "\"say \"\"x\"\"\"");
        assert_eq!(super::field("=cmd()"), "'=cmd()");
        assert_eq!(super::field("plain"), "plain");
    }
}
