//! An instruction's arguments as BuildKit splits them: leading `--flags`
//! (and the `from` field of a `--mount`), whitespace fields, the JSON
//! (exec) form.

use super::*;

/// A `--name[=value]` flag before an instruction's arguments.
#[derive(Debug, Clone)]
pub(super) struct Flag {
    pub(super) name: String,
    /// The value's range in the logical line when it was written without
    /// quotes or escapes, so its bytes are the file's.
    pub(super) verbatim: Option<Span>,
}

/// Split leading flags off an instruction's text (BuildKit's
/// `extractBuilderFlags`), returning them and the remaining arguments.
pub(super) fn split_flags(rest: &str) -> (Vec<(String, Span)>, &str) {
    let bytes = rest.as_bytes();
    let mut flags = Vec::new();
    let mut i = 0;
    loop {
        while i < bytes.len() && is_space(bytes[i]) {
            i += 1;
        }
        if !(bytes.get(i) == Some(&b'-') && bytes.get(i + 1) == Some(&b'-')) {
            return (flags, &rest[i..]);
        }
        let start = i;
        let mut quote: Option<u8> = None;
        while i < bytes.len() {
            let b = bytes[i];
            match quote {
                Some(q) if b == q => quote = None,
                Some(_) if b == b'\\' => i += 1,
                Some(_) => {}
                None if is_space(b) => break,
                None if b == b'\'' || b == b'"' => quote = Some(b),
                None if b == b'\\' => i += 1,
                None => {}
            }
            i += 1;
        }
        let end = i.min(bytes.len());
        if &rest[start..end] == "--" {
            return (flags, &rest[end..]);
        }
        flags.push((rest[start..end].to_string(), Span::new(start, end)));
    }
}

pub(super) fn parse_flags(raw: &[(String, Span)], base: usize) -> Vec<Flag> {
    raw.iter()
        .map(|(word, span)| {
            let body = &word[2..];
            match body.split_once('=') {
                None => Flag {
                    name: body.to_ascii_lowercase(),
                    verbatim: None,
                },
                Some((name, value)) => {
                    let value_start = base + span.start + 2 + name.len() + 1;
                    let plain = !value.contains(['\'', '"', '\\']);
                    Flag {
                        name: name.to_ascii_lowercase(),
                        verbatim: plain.then(|| Span::new(value_start, value_start + value.len())),
                    }
                }
            }
        })
        .collect()
}

/// Split on whitespace (no quote handling), with ranges: FROM's arguments.
pub(super) fn fields(s: &str, base: usize) -> Vec<(String, Span)> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && is_space(bytes[i]) {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && !is_space(bytes[i]) {
            i += 1;
        }
        if i > start {
            out.push((s[start..i].to_string(), Span::new(base + start, base + i)));
        }
    }
    out
}

pub(super) fn json_array(s: &str) -> Option<Vec<String>> {
    if !s.starts_with('[') {
        return None;
    }
    serde_json::from_str::<Vec<String>>(s).ok()
}

/// The `from` field of a `--mount` value (CSV `key=value` fields), as a
/// range of the logical line when written plainly.
pub(super) fn mount_from(value: &str, value_start: usize) -> Option<Span> {
    let mut at = 0;
    for field in value.split(',') {
        let start = at;
        at += field.len() + 1;
        if let Some((key, v)) = field.split_once('=')
            && key.trim().eq_ignore_ascii_case("from")
        {
            if v.contains('"') {
                return None;
            }
            let v_start = value_start + start + key.len() + 1;
            return Some(Span::new(v_start, v_start + v.len()));
        }
    }
    None
}
