//! ARG declarations: names and defaults, BuildKit's platform ARGs, and
//! the values `--build-arg`, defaults and Compose give them.

use super::*;

/// ARG declarations: (name, value range in the logical line) pairs.
pub(super) fn arg_pairs(logical: &Logical, rest: usize) -> Vec<(String, Option<Span>)> {
    let line = &logical.text[rest..];
    let bytes = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && is_space(bytes[i]) {
            i += 1;
        }
        let start = i;
        let mut quote: Option<u8> = None;
        while i < bytes.len() {
            let b = bytes[i];
            match quote {
                Some(q) if b == q => quote = None,
                Some(b'"') if b == b'\\' => i += 1,
                Some(_) => {}
                None if is_space(b) => break,
                None if b == b'\'' || b == b'"' => quote = Some(b),
                None if b == b'\\' => i += 1,
                None => {}
            }
            i += 1;
        }
        let end = i.min(bytes.len());
        if end > start {
            let word = &line[start..end];
            match word.split_once('=') {
                Some((name, _)) => {
                    let v = start + name.len() + 1;
                    out.push((name.to_string(), Some(Span::new(rest + v, rest + end))));
                }
                None => out.push((word.to_string(), None)),
            }
        }
    }
    out
}

pub(super) use crate::sources::common::PLATFORM_ARGS;

pub(super) fn declare(
    env: &mut Env,
    parsed: &Parsed,
    instruction: &Instruction,
    meta: Option<&Env>,
    options: &SourceOptions,
    budget: &Cell<usize>,
) -> Result<(), SyntaxError> {
    for (name, value) in arg_pairs(&instruction.logical, instruction.rest) {
        if let Some(v) = options.build_args.get(&name) {
            env.insert(
                name,
                Some(Value {
                    text: v.clone(),
                    pieces: vec![Piece {
                        text: Span::new(0, v.len()),
                        file: None,
                    }],
                    over_limit: false,
                }),
            );
            continue;
        }
        let value = match value {
            Some(range) => {
                let b = expand(
                    &instruction.logical,
                    range,
                    Scope::of(env),
                    parsed.escape,
                    budget,
                )?;
                if b.missing.is_empty() {
                    Some(Value {
                        text: b.text,
                        pieces: b.pieces,
                        over_limit: false,
                    })
                } else if b.missing.iter().any(|m| m == OVER_LIMIT) {
                    // Kept as set, so that using it says why it is not resolved.
                    Some(Value {
                        over_limit: true,
                        ..Value::default()
                    })
                } else {
                    None
                }
            }
            // `ARG NAME` inside a stage takes the meta ARG's value.
            None => meta.and_then(|m| m.get(&name).cloned().flatten()),
        };
        // An ARG without a value takes the one Compose passes
        // (`build.args`), not editable here.
        let value = value.or_else(|| {
            options.compose_args.get(&name).map(|v| Value {
                text: v.clone(),
                pieces: vec![Piece {
                    text: Span::new(0, v.len()),
                    file: None,
                }],
                over_limit: false,
            })
        });
        env.insert(name, value);
    }
    Ok(())
}
