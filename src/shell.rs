//! Shell command text: words and `\` continuations, with byte offsets, for
//! the scripts refit reads commands from (Makefiles, CI `run:` steps).

/// A command line's words as byte ranges of the line: whitespace inside
/// quotes or `${…}` does not split one (`-f "images/${{ matrix.release }}/Containerfile"`).
pub fn word_spans(line: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut quote: Option<char> = None;
    let mut braces = 0usize;
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        match c {
            '"' | '\'' if quote.is_none() => quote = Some(c),
            q if quote == Some(q) => quote = None,
            '{' if prev == '$' || braces > 0 => braces += 1,
            '}' if braces > 0 => braces -= 1,
            c if c.is_whitespace() && quote.is_none() && braces == 0 => {
                if let Some(s) = start.take() {
                    out.push((s, i));
                }
                prev = c;
                continue;
            }
            _ => {}
        }
        start.get_or_insert(i);
        prev = c;
    }
    if let Some(s) = start {
        out.push((s, line.len()));
    }
    out
}

/// A command line's words (see [`word_spans`]).
pub fn shell_words(line: &str) -> Vec<String> {
    word_spans(line)
        .into_iter()
        .map(|(s, e)| line[s..e].to_string())
        .collect()
}

/// A shell line with its `\` continuations joined, and where each joined
/// piece comes from in the text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogicalLine {
    pub text: String,
    /// (start in `text`, start in the source text, length).
    segments: Vec<(usize, usize, usize)>,
}

impl LogicalLine {
    /// The source range of `text[start..end]`, when it lies within one
    /// physical line.
    pub fn origin(&self, start: usize, end: usize) -> Option<(usize, usize)> {
        let at = self
            .segments
            .partition_point(|s| s.0 <= start)
            .checked_sub(1)?;
        let (line, source, len) = self.segments[at];
        (end <= line + len).then(|| (source + start - line, source + end - line))
    }
}

/// Shell lines with their `\` continuations joined, each with where its
/// pieces come from.
pub fn logical_lines_mapped(text: &str) -> Vec<LogicalLine> {
    let mut out = Vec::new();
    let mut current = LogicalLine::default();
    let mut at = 0;
    for raw in text.split_inclusive('\n') {
        let line = raw.strip_suffix('\n').unwrap_or(raw);
        let line = line.strip_suffix('\r').unwrap_or(line);
        let trimmed = line.trim_end();
        let (head, continued) = match trimmed.strip_suffix('\\') {
            Some(head) => (head, true),
            None => (trimmed, false),
        };
        current.segments.push((current.text.len(), at, head.len()));
        current.text.push_str(head);
        if continued {
            current.text.push(' ');
        } else {
            out.push(std::mem::take(&mut current));
        }
        at += raw.len();
    }
    if !current.text.is_empty() {
        out.push(current);
    }
    out
}

/// Shell lines with their `\` continuations joined.
pub fn logical_lines(text: &str) -> Vec<String> {
    logical_lines_mapped(text)
        .into_iter()
        .map(|l| l.text)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_continuations() {
        let text = "docker run \\\n  -e A=\"b c\" node:20\necho ${{ env.X }} y\n";
        let lines = logical_lines_mapped(text);
        assert_eq!(lines.len(), 2);
        let words = shell_words(&lines[0].text);
        assert_eq!(words, ["docker", "run", "-e", "A=\"b c\"", "node:20"]);
        let (s, e) = word_spans(&lines[0].text)[4];
        let (fs, fe) = lines[0].origin(s, e).unwrap();
        assert_eq!(&text[fs..fe], "node:20");
        assert_eq!(shell_words(&lines[1].text), ["echo", "${{ env.X }}", "y"]);
        assert_eq!(logical_lines("a \\\nb\nc"), ["a  b", "c"]);
    }
}
