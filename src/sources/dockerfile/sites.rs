//! Image sites: the syntax directive, `FROM` bases, `COPY --from=` and
//! `RUN --mount=from=` images, each expanded in the scope it sees.

use super::*;

fn site(
    kind: SiteKind,
    logical: &Logical,
    range: Span,
    env: Scope,
    escape: u8,
    stage: Option<String>,
    budget: &Cell<usize>,
) -> Result<(ImageSite, Option<String>), SyntaxError> {
    let raw = logical.text[range.start..range.end].to_string();
    let built = expand(logical, range, env, escape, budget)?;
    let span = logical.file_span(range);
    let value = if built.missing.is_empty() {
        let parsed = Reference::parse_normalized(&built.text);
        SiteValue::Resolved {
            text: built.text.clone(),
            pieces: built.pieces,
            parsed,
        }
    } else {
        SiteValue::Unresolved {
            missing: built.missing,
        }
    };
    let resolved = match &value {
        SiteValue::Resolved { text, .. } => Some(text.clone()),
        SiteValue::Unresolved { .. } | SiteValue::Mirror(_) => None,
    };
    Ok((
        ImageSite {
            kind,
            span,
            raw,
            value,
            stage,
            path: None,
            extra: Default::default(),
        },
        resolved,
    ))
}

pub(super) fn sites(
    parsed: &Parsed,
    options: &SourceOptions,
) -> Result<Vec<ImageSite>, SyntaxError> {
    let mut out = Vec::new();
    let text = parsed.text;
    for d in &parsed.directives {
        if d.name != "syntax" {
            continue;
        }
        let raw = &text[d.value_span.start..d.value_span.end];
        out.push(ImageSite {
            kind: SiteKind::SyntaxDirective,
            span: d.value_span,
            raw: raw.to_string(),
            value: SiteValue::Resolved {
                text: raw.to_string(),
                pieces: vec![Piece {
                    text: Span::new(0, raw.len()),
                    file: Some(d.value_span),
                }],
                parsed: Reference::parse_normalized(raw),
            },
            stage: None,
            path: None,
            extra: Default::default(),
        });
    }

    // All stage names, for COPY --from and RUN --mount from, which may name
    // any stage of the file.
    let heads = stage_heads(parsed);
    let all_stages: HashSet<String> = heads.iter().filter_map(|h| h.name.clone()).collect();
    // `AS ${NAME}`: a build argument may give a stage any name, so a
    // `COPY --from` that names no stage as written may still name one.
    let variable_names = heads
        .iter()
        .any(|h| h.name.as_ref().is_some_and(|n| n.contains('$')));

    let graph = StageGraph::new(parsed, &heads);
    let budget = Cell::new(MAX_EXPANDED);
    let mut from_index = 0;
    let mut meta = Env::new();
    for name in PLATFORM_ARGS {
        meta.insert((*name).to_string(), None);
    }
    let mut seen_from = false;
    let mut earlier_stages: HashSet<String> = HashSet::new();
    let mut stage_env = Env::new();
    let mut stage_name: Option<String> = None;
    for ins in &parsed.instructions {
        let rest_text = &ins.logical.text[ins.rest..];
        match ins.keyword.as_str() {
            "arg" if !seen_from => declare(&mut meta, parsed, ins, None, options, &budget)?,
            "arg" => declare(&mut stage_env, parsed, ins, Some(&meta), options, &budget)?,
            "from" => {
                seen_from = true;
                let (_, args) = split_flags(rest_text);
                let base = ins.rest + (rest_text.len() - args.len());
                let words = fields(args, base);
                let name = (words.len() == 3 && words[1].0.eq_ignore_ascii_case("as"))
                    .then(|| words[2].0.to_ascii_lowercase());
                if let Some((_, range)) = words.first() {
                    let (mut s, resolved) = site(
                        SiteKind::From,
                        &ins.logical,
                        *range,
                        Scope::of(&meta),
                        parsed.escape,
                        name.clone(),
                        &budget,
                    )?;
                    // `ARG WINDOWS_VERSION=` + `FROM img:${WINDOWS_VERSION}`:
                    // an empty default the build always overrides. When it
                    // makes the reference invalid, read it as a variable
                    // without a value (BuildKit's InvalidDefaultArgInFrom,
                    // REF002), not as an invalid reference written so.
                    if matches!(&s.value, SiteValue::Resolved { parsed: Err(_), .. }) {
                        let unset: Env = meta
                            .iter()
                            .map(|(k, v)| {
                                let v = v.clone().filter(|v| !v.text.is_empty() || v.over_limit);
                                (k.clone(), v)
                            })
                            .collect();
                        let (again, _) = site(
                            SiteKind::From,
                            &ins.logical,
                            *range,
                            Scope::of(&unset),
                            parsed.escape,
                            name.clone(),
                            &budget,
                        )?;
                        if matches!(again.value, SiteValue::Unresolved { .. }) {
                            s = again;
                        }
                    }
                    let not_image = resolved.as_deref().is_some_and(|t| {
                        t.eq_ignore_ascii_case("scratch")
                            || earlier_stages.contains(&t.to_ascii_lowercase())
                            || stage_index(t, from_index).is_some()
                    }) || words
                        .first()
                        .is_some_and(|(w, _)| picks_stage(w, earlier_stages.iter()));
                    if !not_image {
                        let mut s = s;
                        s.extra.stage = graph.model(from_index);
                        s.extra.from_args =
                            from_args(&s, &ins.logical, *range, &meta, parsed.escape, &budget);
                        out.push(s);
                    }
                }
                from_index += 1;
                if let Some(n) = &name {
                    earlier_stages.insert(n.clone());
                    // `AS ${NAME}` with `ARG NAME=first`: the stage `first`
                    // unless the build passes another name.
                    if n.contains('$')
                        && let Some((_, range)) = words.get(2)
                        && let Ok(b) = expand(
                            &ins.logical,
                            *range,
                            Scope::of(&meta),
                            parsed.escape,
                            &budget,
                        )
                        && b.missing.is_empty()
                    {
                        earlier_stages.insert(b.text.to_ascii_lowercase());
                    }
                }
                stage_name = name;
                stage_env = Env::new();
            }
            "copy" | "run" => {
                let (raw_flags, _) = split_flags(rest_text);
                let flags = parse_flags(&raw_flags, ins.rest);
                let env = Scope {
                    env: &stage_env,
                    outer: Some(&meta),
                };
                for flag in flags {
                    let (kind, range) = match (ins.keyword.as_str(), flag.name.as_str()) {
                        ("copy", "from") => (SiteKind::CopyFrom, flag.verbatim),
                        ("run", "mount") => {
                            let Some(v) = flag.verbatim else { continue };
                            let value = &ins.logical.text[v.start..v.end];
                            (SiteKind::RunMountFrom, mount_from(value, v.start))
                        }
                        _ => continue,
                    };
                    let Some(range) = range else {
                        continue;
                    };
                    if range.is_empty() {
                        continue;
                    }
                    let raw = &ins.logical.text[range.start..range.end];
                    if raw.bytes().all(|b| b.is_ascii_digit()) {
                        continue;
                    }
                    let (s, resolved) = site(
                        kind,
                        &ins.logical,
                        range,
                        env,
                        parsed.escape,
                        stage_name.clone(),
                        &budget,
                    )?;
                    let is_stage = resolved.as_deref().is_some_and(|t| {
                        t.bytes().all(|b| b.is_ascii_digit())
                            || t.eq_ignore_ascii_case("scratch")
                            || all_stages.contains(&t.to_ascii_lowercase())
                    });
                    if !is_stage && !variable_names {
                        out.push(s);
                    }
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// For a `FROM` whose variables have no value: which are undeclared, and
/// the reference BuildKit builds with the declared ones empty.
fn from_args(
    site: &ImageSite,
    logical: &Logical,
    range: Span,
    meta: &Env,
    escape: u8,
    budget: &Cell<usize>,
) -> Option<crate::site::FromArgs> {
    let SiteValue::Unresolved { missing } = &site.value else {
        return None;
    };
    let undeclared: Vec<String> = missing
        .iter()
        .filter(|m| !meta.contains_key(m.as_str()))
        .cloned()
        .collect();
    let mut declared: Vec<String> = meta.keys().cloned().collect();
    declared.sort();
    let with_empty = undeclared.is_empty().then(|| {
        let mut env = meta.clone();
        for value in env.values_mut() {
            if value.is_none() {
                *value = Some(Value::default());
            }
        }
        expand(logical, range, Scope::of(&env), escape, budget)
            .ok()
            .map(|b| b.text)
    });
    let empty_defaults = missing
        .iter()
        .filter(|m| {
            meta.get(m.as_str())
                .is_some_and(|v| v.as_ref().is_some_and(|v| v.text.is_empty()))
        })
        .cloned()
        .collect();
    Some(crate::site::FromArgs {
        undeclared,
        declared,
        with_empty: with_empty.flatten(),
        empty_defaults,
    })
}
