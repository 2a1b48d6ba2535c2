//! Setting a key in a YAML values file as an edit of its text, for fixes
//! with side effects (the `bitnami` advisory pack's
//! `global.security.allowInsecureImages: true`). The text is parsed with
//! refit's own YAML reader for spans, and the edit inserts lines; nothing
//! is re-serialized.

use crate::diagnostic::Edit;
use crate::site::Span;
use crate::sources::yaml::{Node, parse_shared};

/// The edit that sets the dotted `path` to `value` (written as given),
/// `None` when it is already set to that, or why refit does not edit it.
///
/// Every image of a values file may ask for the same key (REG004's
/// side effects, once per Bitnami image): the last answer is kept per
/// thread, so a file of many images is parsed once, not once per image.
pub fn set_key(text: &str, path: &[&str], value: &str) -> Result<Option<Edit>, String> {
    type Answer = Result<Option<Edit>, String>;
    thread_local! {
        static LAST: std::cell::RefCell<Option<(String, String, String, Answer)>> =
            const { std::cell::RefCell::new(None) };
    }
    // NUL joins: no key holds it, so `["a.b"]` and `["a", "b"]` differ.
    let key = path.join("\0");
    let known = LAST.with(|last| {
        last.borrow()
            .as_ref()
            .filter(|(t, p, v, _)| t == text && *p == key && v == value)
            .map(|(_, _, _, answer)| answer.clone())
    });
    if let Some(answer) = known {
        return answer;
    }
    let answer = set_key_uncached(text, path, value);
    LAST.with(|last| {
        *last.borrow_mut() = Some((text.to_string(), key, value.to_string(), answer.clone()));
    });
    answer
}

fn set_key_uncached(text: &str, path: &[&str], value: &str) -> Result<Option<Edit>, String> {
    let dotted = path.join(".");
    let docs = parse_shared(text).map_err(|e| e.message)?;
    if docs.len() > 1 {
        return Err("the file holds several YAML documents".to_string());
    }
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let unit = indent_unit(text);
    let Some(doc) = docs.first() else {
        return Ok(Some(append_at_end(text, path, value, newline, unit)));
    };
    let mut map = match &doc.root {
        Node::Map(entries, span) if !is_flow(text, *span) => entries,
        // An empty file, or one holding only comments.
        Node::Scalar(s) if s.value.is_empty() && s.span.is_empty() => {
            return Ok(Some(append_at_end(text, path, value, newline, unit)));
        }
        _ => return Err("the values file is not a block mapping".to_string()),
    };
    let mut indent = 0;
    for (depth, key) in path.iter().enumerate() {
        let last = depth + 1 == path.len();
        let found = map
            .iter()
            .find(|(k, _)| k.as_scalar().is_some_and(|s| s.value == *key));
        let Some((k, v)) = found else {
            // Insert the rest of the path after the map's last entry.
            let (_, last_value) = map
                .last()
                .ok_or_else(|| format!("`{dotted}` has an empty mapping refit cannot extend"))?;
            // An alias ends where its name does, which the tree does not
            // keep: refit does not guess.
            let end = node_end(last_value).ok_or_else(|| {
                format!("`{dotted}` would follow an alias refit cannot place it after")
            })?;
            let at = line_end(text, end);
            let column = map
                .first()
                .and_then(|(k, _)| k.as_scalar())
                .map_or(indent, |s| column_of(text, s.span.start));
            let mut insert = String::new();
            if at == text.len() && !text.ends_with('\n') {
                insert.push_str(newline);
            }
            insert.push_str(&lines(&path[depth..], value, column, unit, newline));
            return Ok(Some(Edit {
                span: Span::new(at, at),
                content: insert,
            }));
        };
        let v = doc.resolve(v);
        if last {
            return match v.as_scalar() {
                Some(s) if s.value == value => Ok(None),
                Some(s) => Err(format!(
                    "`{dotted}` is set to `{}`; refit does not change it",
                    s.value
                )),
                None => Err(format!("`{dotted}` is not a scalar")),
            };
        }
        match v {
            Node::Map(entries, span) if !is_flow(text, *span) && !entries.is_empty() => {
                indent = k.as_scalar().map_or(0, |s| column_of(text, s.span.start)) + unit;
                map = entries;
            }
            _ => {
                return Err(format!(
                    "`{}` is not a block mapping refit can add `{}` to",
                    path[..=depth].join("."),
                    path[depth + 1..].join(".")
                ));
            }
        }
    }
    Ok(None)
}

fn append_at_end(text: &str, path: &[&str], value: &str, newline: &str, unit: usize) -> Edit {
    let mut insert = String::new();
    if !text.is_empty() && !text.ends_with('\n') {
        insert.push_str(newline);
    }
    insert.push_str(&lines(path, value, 0, unit, newline));
    Edit {
        span: Span::new(text.len(), text.len()),
        content: insert,
    }
}

/// `a:\n  b: value\n` at a column.
fn lines(path: &[&str], value: &str, column: usize, unit: usize, newline: &str) -> String {
    let mut out = String::new();
    for (i, key) in path.iter().enumerate() {
        out.push_str(&" ".repeat(column + i * unit));
        out.push_str(key);
        out.push(':');
        if i + 1 == path.len() {
            out.push(' ');
            out.push_str(value);
        }
        out.push_str(newline);
    }
    out
}

fn is_flow(text: &str, span: Span) -> bool {
    text.get(span.start..)
        .is_some_and(|t| t.starts_with('{') || t.starts_with('['))
}

/// Where a node's text ends (its last scalar); `None` at an alias.
fn node_end(node: &Node) -> Option<usize> {
    match node {
        Node::Scalar(s) => Some(s.span.end),
        Node::Map(entries, span) => match entries.last() {
            Some((_, v)) => node_end(v),
            None => Some(span.end),
        },
        Node::Seq(items, span) => match items.last() {
            Some(v) => node_end(v),
            None => Some(span.end),
        },
        Node::Alias(_) => None,
    }
}

/// The offset after the line end at or after `at`.
fn line_end(text: &str, at: usize) -> usize {
    // A block scalar's span ends after its last line end.
    if at > 0 && text.as_bytes().get(at - 1) == Some(&b'\n') {
        return at;
    }
    match text.get(at..).and_then(|t| t.find('\n')) {
        Some(i) => at + i + 1,
        None => text.len(),
    }
}

fn column_of(text: &str, at: usize) -> usize {
    let start = text
        .get(..at)
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |i| i + 1);
    at - start
}

/// The file's indentation step: the first indented key's indentation.
fn indent_unit(text: &str) -> usize {
    text.lines()
        .map(|l| l.len() - l.trim_start_matches(' ').len())
        .find(|&n| n > 0 && n <= 8)
        .unwrap_or(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATH: &[&str] = &["global", "security", "allowInsecureImages"];

    fn apply(text: &str) -> Result<String, String> {
        Ok(match set_key(text, PATH, "true")? {
            Some(e) => format!(
                "{}{}{}",
                &text[..e.span.start],
                e.content,
                &text[e.span.end..]
            ),
            None => text.to_string(),
        })
    }

    #[test]
    fn adds_the_whole_path_at_the_end() {
        assert_eq!(
            apply("image:\n  repository: bitnami/redis\n").unwrap(),
            "image:\n  repository: bitnami/redis\nglobal:\n  security:\n    allowInsecureImages: true\n"
        );
        assert_eq!(
            apply("a: 1").unwrap(),
            "a: 1\nglobal:\n  security:\n    allowInsecureImages: true\n"
        );
        assert_eq!(
            apply("# only a comment\n").unwrap(),
            "# only a comment\nglobal:\n  security:\n    allowInsecureImages: true\n"
        );
    }

    #[test]
    fn extends_existing_maps_at_their_indentation() {
        let text = "global:\n    imageRegistry: \"\"\n    storageClass: fast\nimage:\n    tag: 1\n";
        assert_eq!(
            apply(text).unwrap(),
            "global:\n    imageRegistry: \"\"\n    storageClass: fast\n    security:\n        allowInsecureImages: true\nimage:\n    tag: 1\n"
        );
        let text = "global:\n  security:\n    allowInsecureImages: true\n";
        assert_eq!(apply(text).unwrap(), text);
        let text = "global:\n  note: |\n    two\n    lines\nimage: x\n";
        assert_eq!(
            apply(text).unwrap(),
            "global:\n  note: |\n    two\n    lines\n  security:\n    allowInsecureImages: true\nimage: x\n"
        );
        let text = "global:\n  security:\n    other: x\n";
        assert_eq!(
            apply(text).unwrap(),
            "global:\n  security:\n    other: x\n    allowInsecureImages: true\n"
        );
    }

    #[test]
    fn refuses_what_it_cannot_edit_in_place() {
        assert!(apply("global:\n  security:\n    allowInsecureImages: false\n").is_err());
        assert!(apply("global: {}\n").is_err());
        assert!(apply("{a: 1}\n").is_err());
        assert!(apply("a: 1\n---\nb: 2\n").is_err());
        assert!(apply("base: &b\n  x: 1\nother: *b\n").is_err());
    }

    #[test]
    fn keeps_crlf() {
        assert_eq!(
            apply("a: 1\r\n").unwrap(),
            "a: 1\r\nglobal:\r\n  security:\r\n    allowInsecureImages: true\r\n"
        );
    }
}
