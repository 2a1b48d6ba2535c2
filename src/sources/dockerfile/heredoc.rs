//! Heredocs: which words of a RUN, COPY or ADD open one, and their
//! delimiters unquoted.

use super::*;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Heredoc {
    pub(super) name: String,
    pub(super) chomp: bool,
}

/// The heredocs an instruction opens, as BuildKit finds them: only on RUN,
/// COPY and ADD (directly or under ONBUILD), not in the JSON form, on words
/// of the form `[fd]<<[-]WORD`.
pub(super) fn heredocs(instruction: &Instruction, _escape: u8) -> Vec<Heredoc> {
    let line = &instruction.logical.text[instruction.rest..];
    let (keyword, rest) = if instruction.keyword == "onbuild" {
        let trimmed = line.trim_start();
        let end = trimmed.find(is_space_char).unwrap_or(trimmed.len());
        (trimmed[..end].to_ascii_lowercase(), &trimmed[end..])
    } else {
        (instruction.keyword.clone(), line)
    };
    if !matches!(keyword.as_str(), "run" | "copy" | "add") || !rest.contains("<<") {
        return Vec::new();
    }
    let (_, args) = split_flags(rest);
    if json_array(args.trim()).is_some() {
        return Vec::new();
    }
    raw_words(rest)
        .into_iter()
        .filter_map(|word| parse_heredoc(&word))
        .collect()
}

fn is_space_char(c: char) -> bool {
    c.is_ascii() && is_space(c as u8)
}

/// Words split on whitespace outside quotes, quotes and escapes kept.
fn raw_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                word.push(c);
                if c == '\\' && q == '"' {
                    if let Some(n) = chars.next() {
                        word.push(n);
                    }
                } else if c == q {
                    quote = None;
                }
            }
            None if is_space_char(c) => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            None => {
                word.push(c);
                if c == '\'' || c == '"' {
                    quote = Some(c);
                } else if c == '\\'
                    && let Some(n) = chars.next()
                {
                    word.push(n);
                }
            }
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

fn parse_heredoc(word: &str) -> Option<Heredoc> {
    let digits = word.bytes().take_while(u8::is_ascii_digit).count();
    let rest = word[digits..].strip_prefix("<<")?;
    let (chomp, rest) = match rest.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    if rest.is_empty() || rest.contains('<') {
        return None;
    }
    let name = unquote(rest);
    (!name.is_empty()).then_some(Heredoc { name, chomp })
}

/// Remove shell quoting from a word (no expansion).
fn unquote(word: &str) -> String {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    let mut chars = word.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None | Some('"'), '\\') => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            _ => out.push(c),
        }
    }
    out
}
