//! Text for a terminal: control characters (and the bidirectional
//! overrides of "Trojan Source") from file names and file content are
//! escaped, so a hostile name or reference cannot move the cursor, recolour
//! or rewrite what the reader sees.

use std::borrow::Cow;
use std::fmt::Write;

/// Characters a terminal acts on or reorders by.
fn dangerous(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A name or message on one line: `\x1b`, `\n`, `\u{202e}` written out.
pub fn terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(dangerous) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !dangerous(c) {
            out.push(c);
        } else if (c as u32) < 0x80 {
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
    Cow::Owned(out)
}

/// File content for a code frame: every dangerous character becomes `?`
/// (as many as its UTF-8 bytes, so byte offsets still hold). Tabs, line
/// feeds and the CR of a CRLF stay.
pub fn source(s: &str) -> Cow<'_, str> {
    let keep = |c: char, next: Option<char>| {
        !dangerous(c) || c == '\t' || c == '\n' || (c == '\r' && next == Some('\n'))
    };
    let mut chars = s.chars().peekable();
    let mut clean = true;
    while let Some(c) = chars.next() {
        if !keep(c, chars.peek().copied()) {
            clean = false;
            break;
        }
    }
    if clean {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if keep(c, chars.peek().copied()) {
            out.push(c);
        } else {
            out.extend(std::iter::repeat_n('?', c.len_utf8()));
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_messages_are_escaped() {
        assert_eq!(terminal("plain/Dockerfile"), "plain/Dockerfile");
        assert_eq!(terminal("a\x1b[31mred\n"), "a\\x1b[31mred\\x0a");
        assert_eq!(terminal("x\u{202e}y\u{9b}"), "x\\u{202e}y\\u{9b}");
    }

    #[test]
    fn source_keeps_its_byte_offsets() {
        assert_eq!(source("FROM a\r\nRUN b\tc\n"), "FROM a\r\nRUN b\tc\n");
        let dirty = "FROM \x1b[2Jx\u{202e}\rY\n";
        let clean = source(dirty);
        assert_eq!(clean.len(), dirty.len());
        assert_eq!(clean, "FROM ?[2Jx????Y\n");
    }
}
