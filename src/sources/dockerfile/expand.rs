//! Variable expansion with provenance, as BuildKit's shell lexer does it:
//! every byte of the result keeps the file offset it came from.

use super::*;

/// Variables in scope: `None` is declared without a value (unset).
pub(super) type Env = HashMap<String, Option<Value>>;

/// The variables an expansion sees: a stage's, then (for `COPY` and `RUN`
/// flags) the meta ARGs under them.
#[derive(Clone, Copy)]
pub(super) struct Scope<'a> {
    pub(super) env: &'a Env,
    pub(super) outer: Option<&'a Env>,
}

impl<'a> Scope<'a> {
    pub(super) fn of(env: &'a Env) -> Self {
        Scope { env, outer: None }
    }

    fn get(&self, name: &str) -> Option<&'a Value> {
        match self.env.get(name) {
            Some(v) => v.as_ref(),
            None => self
                .outer
                .and_then(|o| o.get(name))
                .and_then(Option::as_ref),
        }
    }
}

struct Expander<'a> {
    word: &'a [u8],
    /// File offset of each byte of the word, when it is the file's.
    file: &'a dyn Fn(usize) -> Option<usize>,
    env: Scope<'a>,
    escape: u8,
    /// The file's expansion budget (bytes of values copied).
    budget: &'a Cell<usize>,
    /// Set when `${…}` nest past [`MAX_NESTING`]; expansion stops.
    too_deep: Cell<bool>,
}

impl Expander<'_> {
    fn literal(&self, out: &mut Builder, at: usize, len: usize) {
        let s = std::str::from_utf8(&self.word[at..at + len]).unwrap_or("");
        out.push(s, (self.file)(at));
    }

    fn char_len(&self, at: usize) -> usize {
        let b = self.word[at];
        if b < 0x80 {
            1
        } else if b >= 0xf0 {
            4
        } else if b >= 0xe0 {
            3
        } else {
            2
        }
        .min(self.word.len() - at)
    }

    /// Expand from `i` until the end, or until an unmatched `}` when
    /// `in_brace`; returns where it stopped.
    fn expand(&self, mut i: usize, depth: usize, out: &mut Builder) -> usize {
        let w = self.word;
        let in_brace = depth > 0;
        if depth > MAX_NESTING {
            self.too_deep.set(true);
        }
        while i < w.len() && !self.too_deep.get() {
            let c = w[i];
            if in_brace && c == b'}' {
                return i;
            }
            if c == b'\'' {
                i += 1;
                while i < w.len() && w[i] != b'\'' {
                    let n = self.char_len(i);
                    self.literal(out, i, n);
                    i += n;
                }
                i += 1;
            } else if c == b'"' {
                i += 1;
                while i < w.len() && w[i] != b'"' {
                    if w[i] == self.escape
                        && i + 1 < w.len()
                        && (matches!(w[i + 1], b'"' | b'$') || w[i + 1] == self.escape)
                    {
                        self.literal(out, i + 1, 1);
                        i += 2;
                    } else if w[i] == b'$' {
                        i = self.dollar(i, depth, out);
                    } else {
                        let n = self.char_len(i);
                        self.literal(out, i, n);
                        i += n;
                    }
                }
                i += 1;
            } else if c == self.escape {
                if i + 1 < w.len() {
                    let n = self.char_len(i + 1);
                    self.literal(out, i + 1, n);
                    i += 1 + n;
                } else {
                    i += 1;
                }
            } else if c == b'$' {
                i = self.dollar(i, depth, out);
            } else {
                let n = self.char_len(i);
                self.literal(out, i, n);
                i += n;
            }
        }
        i.min(w.len())
    }

    fn name_end(&self, mut i: usize) -> usize {
        while i < self.word.len() && (self.word[i].is_ascii_alphanumeric() || self.word[i] == b'_')
        {
            i += 1;
        }
        i
    }

    fn lookup(&self, name: &str) -> Option<&Value> {
        self.env.get(name)
    }

    /// Copy a variable's value, within the file's budget.
    fn push_value(&self, out: &mut Builder, v: &Value) {
        if v.over_limit || !spend(self.budget, v.text.len()) {
            out.miss(OVER_LIMIT);
        } else {
            out.push_value(v);
        }
    }

    /// `$` at `i`: a variable, or a literal `$`.
    fn dollar(&self, i: usize, depth: usize, out: &mut Builder) -> usize {
        let w = self.word;
        let next = w.get(i + 1).copied();
        match next {
            Some(b'{') => self.braced(i, depth, out),
            Some(b) if b.is_ascii_alphabetic() || b == b'_' => {
                let end = self.name_end(i + 1);
                let name = String::from_utf8_lossy(&w[i + 1..end]).to_string();
                match self.lookup(&name) {
                    Some(v) => self.push_value(out, v),
                    None => out.miss(&name),
                }
                end
            }
            _ => {
                self.literal(out, i, 1);
                i + 1
            }
        }
    }

    /// `${...}` at `i`.
    fn braced(&self, i: usize, depth: usize, out: &mut Builder) -> usize {
        let w = self.word;
        let name_start = i + 2;
        let name_end = self.name_end(name_start);
        let name = String::from_utf8_lossy(&w[name_start..name_end]).to_string();
        let value = self.lookup(&name).cloned();
        let mut j = name_end;
        let colon = w.get(j) == Some(&b':');
        if colon {
            j += 1;
        }
        let op = w.get(j).copied();
        match op {
            Some(b'}') if !colon && !name.is_empty() => {
                match value {
                    Some(v) => self.push_value(out, &v),
                    None => out.miss(&name),
                }
                j + 1
            }
            Some(op @ (b'-' | b'+' | b'?')) if !name.is_empty() => {
                // Expand the word into a scratch builder; use it only when
                // the operator selects it, so its variables count only then.
                let mut word = Builder::default();
                let end = self.expand(j + 1, depth + 1, &mut word);
                let set = value.is_some();
                let non_empty = value.as_ref().is_some_and(|v| !v.text.is_empty());
                let has = if colon { non_empty } else { set };
                match op {
                    b'-' => {
                        if has {
                            if let Some(v) = &value {
                                self.push_value(out, v);
                            }
                        } else {
                            self.take(out, word);
                        }
                    }
                    b'+' => {
                        if has {
                            self.take(out, word);
                        }
                    }
                    _ => match (&value, has) {
                        (Some(v), true) => self.push_value(out, v),
                        _ => out.miss(&name),
                    },
                }
                (end + 1).min(w.len())
            }
            _ => {
                // A form refit does not evaluate (`${#V}`, `${V%x}`, an
                // unterminated brace): unresolved rather than guessed.
                let close = w[i..]
                    .iter()
                    .position(|&b| b == b'}')
                    .map_or(w.len(), |p| i + p + 1);
                out.miss(if name.is_empty() { "${…}" } else { &name });
                close
            }
        }
    }

    fn take(&self, out: &mut Builder, word: Builder) {
        let Builder {
            text,
            pieces,
            missing,
        } = word;
        if !spend(self.budget, text.len()) {
            out.miss(OVER_LIMIT);
            return;
        }
        for piece in pieces {
            let s = text.get(piece.text.start..piece.text.end).unwrap_or("");
            out.push(s, piece.file.map(|f| f.start));
        }
        for m in missing {
            out.miss(&m);
        }
    }
}

/// Expand one word of a logical line; an error when its substitutions nest
/// too deeply.
pub(super) fn expand(
    logical: &Logical,
    range: Span,
    env: Scope,
    escape: u8,
    budget: &Cell<usize>,
) -> Result<Builder, SyntaxError> {
    let word = &logical.text.as_bytes()[range.start..range.end];
    let map = |at: usize| logical.file_offset(range.start + at);
    let expander = Expander {
        word,
        file: &map,
        env,
        escape,
        budget,
        too_deep: Cell::new(false),
    };
    let mut out = Builder::default();
    expander.expand(0, 0, &mut out);
    if expander.too_deep.get() {
        return Err(too_deep(logical.file_span(range)));
    }
    Ok(out)
}
