//! Unified diffs of fixed files (`--diff`).

/// A path in a diff header the way git writes it (`core.quotePath=false`):
/// as is, unless it holds a control character, `"` or `\\`; then in double
/// quotes with C escapes, so a name with a newline stays on its line.
pub fn quote_path(name: &[u8]) -> Vec<u8> {
    let needs = |b: u8| b < 0x20 || b == b'"' || b == b'\\' || b == 0x7f;
    if !name.iter().any(|&b| needs(b)) {
        return name.to_vec();
    }
    let mut out = Vec::with_capacity(name.len() + 8);
    out.push(b'"');
    for &b in name {
        let escape = match b {
            0x07 => Some(b'a'),
            0x08 => Some(b'b'),
            b'\t' => Some(b't'),
            b'\n' => Some(b'n'),
            0x0b => Some(b'v'),
            0x0c => Some(b'f'),
            b'\r' => Some(b'r'),
            b'"' => Some(b'"'),
            b'\\' => Some(b'\\'),
            _ => None,
        };
        match escape {
            Some(e) => out.extend([b'\\', e]),
            None if needs(b) => out.extend(format!("\\{b:03o}").bytes()),
            None => out.push(b),
        }
    }
    out.push(b'"');
    out
}

/// `a/PATH` or `b/PATH` for a diff header: an absolute path loses its
/// leading `/` (as git writes it), never `a//tmp/...`.
fn header_name(side: &str, display: &str) -> String {
    let name = format!("{side}/{}", display.trim_start_matches('/'));
    String::from_utf8_lossy(&quote_path(name.as_bytes())).into_owned()
}

/// A unified diff of one file, coloured when `color` is set.
pub fn unified_diff(display: &str, old: &str, new: &str, color: bool) -> String {
    let diff = similar::TextDiff::from_lines(old, new);
    let text = diff
        .unified_diff()
        .context_radius(3)
        .header(&header_name("a", display), &header_name("b", display))
        .to_string();
    // similar leaves the last context line of a hunk without its line end.
    let mut text = text;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    if !color {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 256);
    for line in text.split_inclusive('\n') {
        let code = if line.starts_with("+++") || line.starts_with("---") {
            "1"
        } else if line.starts_with('+') {
            "32"
        } else if line.starts_with('-') {
            "31"
        } else if line.starts_with("@@") {
            "36"
        } else {
            ""
        };
        if code.is_empty() {
            out.push_str(line);
        } else {
            let body = line.strip_suffix('\n').unwrap_or(line);
            out.push_str(&format!("\x1b[{code}m{body}\x1b[0m"));
            if line.ends_with('\n') {
                out.push('\n');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_of_absolute_and_odd_paths() {
        let d = unified_diff("/tmp/x/Dockerfile", "FROM a\n", "FROM b\n", false);
        assert!(
            d.starts_with("--- a/tmp/x/Dockerfile\n+++ b/tmp/x/Dockerfile\n"),
            "{d}"
        );
        let d = unified_diff("sub/Dockerfile", "FROM a\n", "FROM b\n", false);
        assert!(d.starts_with("--- a/sub/Dockerfile\n"), "{d}");
        let d = unified_diff("q\"t\tn\nx/Dockerfile", "FROM a\n", "FROM b\n", false);
        assert!(
            d.starts_with("--- \"a/q\\\"t\\tn\\nx/Dockerfile\"\n"),
            "{d}"
        );
    }

    #[test]
    fn quoting_follows_git() {
        assert_eq!(quote_path(b"a b/c"), b"a b/c");
        assert_eq!(quote_path("é".as_bytes()), "é".as_bytes());
        assert_eq!(quote_path(b"a\x01\x7f"), b"\"a\\001\\177\"");
    }
}
