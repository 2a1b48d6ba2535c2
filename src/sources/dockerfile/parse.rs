//! The parse tree: parser directives, then instructions read from logical
//! lines (heredoc bodies skipped), and what `docker build` validates
//! before building.

use super::*;

#[derive(Debug, Clone)]
pub(super) struct Instruction {
    pub(super) keyword: String,
    pub(super) keyword_span: Span,
    pub(super) logical: Logical,
    /// Logical offset where the text after the keyword starts.
    pub(super) rest: usize,
    /// File spans of its heredoc bodies, terminators excluded.
    pub(super) heredoc_bodies: Vec<Span>,
}

#[derive(Debug, Clone)]
pub(super) struct Directive {
    pub(super) name: String,
    pub(super) value_span: Span,
}

#[derive(Debug, Clone)]
pub(super) struct Parsed<'a> {
    pub(super) text: &'a str,
    pub(super) escape: u8,
    pub(super) directives: Vec<Directive>,
    pub(super) instructions: Vec<Instruction>,
}

const INSTRUCTIONS: &[&str] = &[
    "add",
    "arg",
    "cmd",
    "copy",
    "entrypoint",
    "env",
    "expose",
    "from",
    "healthcheck",
    "label",
    "maintainer",
    "onbuild",
    "run",
    "shell",
    "stopsignal",
    "user",
    "volume",
    "workdir",
];

fn error(message: impl Into<String>, span: Span) -> SyntaxError {
    SyntaxError {
        message: message.into(),
        span,
    }
}

/// `#[ \t]*name[ \t]*=[ \t]*value[ \t]*`, returning (name, value span).
fn directive(text: &str, start: usize, end: usize) -> Option<(String, Span)> {
    let b = text.as_bytes();
    let mut i = start;
    if b.get(i) != Some(&b'#') || i >= end {
        return None;
    }
    i += 1;
    while i < end && matches!(b[i], b' ' | b'\t') {
        i += 1;
    }
    let name_start = i;
    if !(i < end && b[i].is_ascii_alphabetic()) {
        return None;
    }
    while i < end && b[i].is_ascii_alphanumeric() {
        i += 1;
    }
    let name = text[name_start..i].to_ascii_lowercase();
    while i < end && matches!(b[i], b' ' | b'\t') {
        i += 1;
    }
    if b.get(i) != Some(&b'=') || i >= end {
        return None;
    }
    i += 1;
    while i < end && matches!(b[i], b' ' | b'\t') {
        i += 1;
    }
    let mut value_end = end;
    while value_end > i && matches!(b[value_end - 1], b' ' | b'\t') {
        value_end -= 1;
    }
    (value_end > i).then(|| (name, Span::new(i, value_end)))
}

pub(super) fn parse(text: &str) -> Result<Parsed<'_>, SyntaxError> {
    let lines = physical_lines(text);
    let mut escape = b'\\';
    let mut directives: Vec<Directive> = Vec::new();
    let mut directives_done = false;
    let mut instructions = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let first = trim_left(text, line);
        if !directives_done {
            match directive(text, first, line.end) {
                Some((name, value_span))
                    if matches!(name.as_str(), "syntax" | "escape" | "check") =>
                {
                    if directives.iter().any(|d| d.name == name) {
                        return Err(error(
                            format!("only one {name} parser directive can be used"),
                            Span::new(line.start, line.end),
                        ));
                    }
                    if name == "escape" {
                        escape = match &text[value_span.start..value_span.end] {
                            "\\" => b'\\',
                            "`" => b'`',
                            other => {
                                return Err(error(
                                    format!(
                                        "invalid escape token '{other}' does not match ` or \\"
                                    ),
                                    value_span,
                                ));
                            }
                        };
                    }
                    directives.push(Directive { name, value_span });
                    i += 1;
                    continue;
                }
                _ => directives_done = true,
            }
        }
        i += 1;
        if is_comment(text, line) {
            continue;
        }
        let mut logical = Logical::default();
        let mut ended = match continuation_at(text, first, line.end, escape) {
            Some(c) => {
                logical.push(text, first, c);
                false
            }
            None => {
                logical.push(text, first, line.end);
                true
            }
        };
        if ended && logical.text.is_empty() {
            continue;
        }
        let start_line = i - 1;
        while !ended && i < lines.len() {
            let next = lines[i];
            i += 1;
            if is_comment(text, next) || is_blank(text, next) {
                continue;
            }
            match continuation_at(text, next.start, next.end, escape) {
                Some(c) => logical.push(text, next.start, c),
                None => {
                    logical.push(text, next.start, next.end);
                    ended = true;
                }
            }
        }
        if logical.text.trim().is_empty() {
            continue;
        }
        let bytes = logical.text.as_bytes();
        let mut k = 0;
        while k < bytes.len() && !is_space(bytes[k]) {
            k += 1;
        }
        let keyword = logical.text[..k].to_ascii_lowercase();
        let keyword_span = logical.file_span(Span::new(0, k));
        let line_span = Span::new(
            lines[start_line].start,
            lines[(i - 1).min(lines.len() - 1)].end,
        );
        if !INSTRUCTIONS.contains(&keyword.as_str()) {
            return Err(error(
                format!("unknown instruction: {}", &logical.text[..k]),
                keyword_span,
            ));
        }
        let mut instruction = Instruction {
            keyword,
            keyword_span,
            logical,
            rest: k,
            heredoc_bodies: Vec::new(),
        };
        // Heredocs: their bodies follow the instruction line, read raw.
        for heredoc in heredocs(&instruction, escape) {
            let mut terminated = false;
            let body_start = lines.get(i).map_or(text.len(), |l| l.start);
            while i < lines.len() {
                let body = lines[i];
                i += 1;
                let mut candidate = &text[body.start..body.end];
                if heredoc.chomp {
                    candidate = candidate.trim_start_matches('\t');
                }
                if candidate == heredoc.name {
                    terminated = true;
                    instruction
                        .heredoc_bodies
                        .push(Span::new(body_start, body.start.max(body_start)));
                    break;
                }
            }
            if !terminated {
                return Err(error(
                    format!("unterminated heredoc `{}`", heredoc.name),
                    line_span,
                ));
            }
        }
        instructions.push(instruction);
    }
    if instructions.is_empty() {
        return Err(error("file with no instructions", Span::new(0, 0)));
    }
    Ok(Parsed {
        text,
        escape,
        directives,
        instructions,
    })
}

/// Validate what `docker build` checks before building: instructions before
/// the first FROM, FROM's arguments and stage names.
pub(super) fn validate(parsed: &Parsed) -> Result<(), SyntaxError> {
    let mut seen_from = false;
    for ins in &parsed.instructions {
        match ins.keyword.as_str() {
            "from" => {
                seen_from = true;
                let rest = &ins.logical.text[ins.rest..];
                let (_, args) = split_flags(rest);
                let base = ins.rest + (rest.len() - args.len());
                let words = fields(args, base);
                let ok =
                    words.len() == 1 || (words.len() == 3 && words[1].0.eq_ignore_ascii_case("as"));
                if !ok {
                    return Err(error(
                        "FROM requires either one or three arguments",
                        ins.logical.file_span(Span::new(0, ins.logical.text.len())),
                    ));
                }
                // A stage name BuildKit rejects (`AS platform-arm/v7`) is
                // one Buildah accepts: STG007 warns, the file is read.
            }
            "arg" => {}
            _ if !seen_from => {
                return Err(error("no build stage in current context", ins.keyword_span));
            }
            _ => {}
        }
    }
    if !seen_from {
        return Err(error(
            "dockerfile contains no stages to build",
            Span::new(0, 0),
        ));
    }
    Ok(())
}
