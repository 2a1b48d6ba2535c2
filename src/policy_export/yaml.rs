//! YAML in and out for the Kubernetes and hadolint formats: a block-style
//! writer whose strings are JSON-quoted (a JSON string is a YAML
//! double-quoted scalar), and a reader into `serde_json::Value` over
//! refit's own YAML parser for `refit policy check`.

use crate::sources::yaml::{Document, Node};
use serde_json::Value;

/// One YAML document (no `---`), ending with a newline.
pub fn write(value: &Value) -> String {
    let mut out = String::new();
    block(value, 0, &mut out);
    out
}

/// Whether a string can be written plain: letters, digits and `._/-`,
/// starting with a letter or digit, and not read as another type.
fn plain(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._/-".contains(c))
        && !matches!(
            lower.as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n"
        )
        && !crate::sources::yaml::looks_numeric(s)
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) if plain(s) => s.clone(),
        Value::String(s) => serde_json::to_string(s).unwrap_or_default(),
        Value::Null => "null".to_string(),
        Value::Array(a) if a.is_empty() => "[]".to_string(),
        Value::Object(o) if o.is_empty() => "{}".to_string(),
        other => other.to_string(),
    }
}

fn is_block(value: &Value) -> bool {
    match value {
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => false,
    }
}

fn block(value: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                let key = if k
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
                    && !k.is_empty()
                {
                    k.clone()
                } else {
                    serde_json::to_string(k).unwrap_or_default()
                };
                if is_block(v) {
                    out.push_str(&format!("{pad}{key}:\n"));
                    block(v, indent + 2, out);
                } else {
                    out.push_str(&format!("{pad}{key}: {}\n", scalar(v)));
                }
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                if is_block(item) {
                    // The first line of the item follows the dash.
                    let mut inner = String::new();
                    block(item, indent + 2, &mut inner);
                    let inner = inner.get(indent + 2..).unwrap_or(&inner);
                    out.push_str(&format!("{pad}- {inner}"));
                } else {
                    out.push_str(&format!("{pad}- {}\n", scalar(item)));
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other))),
    }
}

/// A parsed document as JSON: scalars are strings except plain `true`,
/// `false`, `null` and numbers, as Kubernetes reads them.
pub fn to_json(doc: &Document) -> Value {
    convert(doc, &doc.root, 0)
}

fn convert(doc: &Document, node: &Node, depth: usize) -> Value {
    if depth > crate::sources::yaml::MAX_DEPTH {
        return Value::Null;
    }
    match doc.resolve(node) {
        Node::Scalar(s) => {
            use crate::sources::yaml::Style;
            if s.style != Style::Plain || s.tagged {
                return Value::String(s.value.clone());
            }
            match s.value.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" | "~" | "" => Value::Null,
                v => v
                    .parse::<i64>()
                    .map(Value::from)
                    .unwrap_or_else(|_| Value::String(v.to_string())),
            }
        }
        Node::Map(..) => Value::Object(
            doc.entries(node)
                .into_iter()
                .map(|(k, v)| (k.to_string(), convert(doc, v, depth + 1)))
                .collect(),
        ),
        Node::Seq(..) => Value::Array(
            doc.items(node)
                .into_iter()
                .map(|v| convert(doc, v, depth + 1))
                .collect(),
        ),
        Node::Alias(_) => Value::Null,
    }
}

/// Every document of a YAML stream as JSON (`None` when it does not parse).
pub fn read(text: &str) -> Option<Vec<Value>> {
    let docs = crate::sources::yaml::parse(text).ok()?;
    Some(docs.iter().map(to_json).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let value = serde_json::json!({
            "apiVersion": "v1",
            "list": [{"a": "x: y", "b": ["1", "two"]}, "plain"],
            "empty": [],
            "n": 3,
            "flag": true,
            "quote": "it's \"quoted\"\n",
            "plain": ["v1", "1.10", "yes", "a/b-c.d", "", "-x"],
        });
        let text = write(&value);
        let back = read(&text).unwrap();
        assert_eq!(back, [value], "{text}");
    }
}
