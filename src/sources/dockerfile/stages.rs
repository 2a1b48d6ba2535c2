//! Stages: the `FROM` heads, how stages build on and copy from each
//! other, the model of a stage for its `FROM` site, and the file's stage
//! graph.

use super::*;

/// A `FROM`: which instruction it is, the stage name it gives, and the
/// base as written (lowercase).
pub(super) struct StageHead {
    at: usize,
    pub(super) name: Option<String>,
    base: String,
}

pub(super) fn stage_heads(parsed: &Parsed) -> Vec<StageHead> {
    let mut heads = Vec::new();
    for (at, ins) in parsed.instructions.iter().enumerate() {
        if ins.keyword != "from" {
            continue;
        }
        let (_, args) = split_flags(&ins.logical.text[ins.rest..]);
        let words = fields(args, 0);
        let base = words
            .first()
            .map(|w| w.0.to_ascii_lowercase())
            .unwrap_or_default();
        let name = (words.len() == 3 && words[1].0.eq_ignore_ascii_case("as"))
            .then(|| words[2].0.to_ascii_lowercase());
        heads.push(StageHead { at, name, base });
    }
    heads
}

/// The file's stages and how they relate, computed once in linear time;
/// a stage's model ([`Stage`]) is built only for the stages that need one.
pub(super) struct StageGraph<'p> {
    parsed: &'p Parsed<'p>,
    heads: &'p [StageHead],
    lines: LineIndex,
    /// The instructions (not `FROM`s) of each stage, in file order.
    own: Vec<Vec<usize>>,
    /// The stages built `FROM` each stage.
    children: Vec<Vec<usize>>,
    /// Whether each stage is built on another of the file's stages.
    has_parent: Vec<bool>,
    /// The `COPY --from=` instructions that copy from each stage.
    copies: Vec<Vec<usize>>,
    /// The stage each instruction belongs to.
    owner: Vec<Option<usize>>,
    /// Whether each stage is the last one or one it is built on.
    is_final: Vec<bool>,
}

impl<'p> StageGraph<'p> {
    pub(super) fn new(parsed: &'p Parsed<'p>, heads: &'p [StageHead]) -> Self {
        let n = heads.len();
        let mut own = vec![Vec::new(); n];
        let mut owner = Vec::with_capacity(parsed.instructions.len());
        let mut current: Option<usize> = None;
        let mut next_head = 0;
        for (i, ins) in parsed.instructions.iter().enumerate() {
            if heads.get(next_head).is_some_and(|h| h.at == i) {
                current = Some(next_head);
                next_head += 1;
            }
            owner.push(current);
            if ins.keyword != "from"
                && let Some(o) = current
            {
                own[o].push(i);
            }
        }
        // The stage each stage is built on: the last earlier one of that name.
        let mut by_name: HashMap<&str, usize> = HashMap::new();
        let mut named: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut children = vec![Vec::new(); n];
        let mut parent = vec![None; n];
        for (j, head) in heads.iter().enumerate() {
            if let Some(p) = stage_index(&head.base, j) {
                parent[j] = Some(p);
                children[p].push(j);
            } else if let Some(&p) = by_name.get(head.base.as_str()) {
                parent[j] = Some(p);
                children[p].push(j);
            }
            if let Some(name) = head.name.as_deref() {
                by_name.insert(name, j);
                named.entry(name).or_default().push(j);
            }
        }
        // `COPY --from=` a stage by index, or by name: the last stage of
        // that name before the copy, else the first one after it.
        let mut copies = vec![Vec::new(); n];
        for (i, ins) in parsed.instructions.iter().enumerate() {
            let Some(value) = copy_from(ins) else {
                continue;
            };
            let target = if let Ok(k) = value.parse::<usize>() {
                (value == k.to_string() && k < n).then_some(k)
            } else {
                named
                    .get(value.to_ascii_lowercase().as_str())
                    .and_then(|list| {
                        let here = owner[i].unwrap_or(0);
                        let before = list.partition_point(|&k| k <= here);
                        list.get(before.saturating_sub(1).min(list.len() - 1))
                            .copied()
                    })
            };
            if let Some(k) = target {
                copies[k].push(i);
            }
        }
        let mut is_final = vec![false; n];
        let mut at = n.checked_sub(1);
        while let Some(k) = at {
            if is_final[k] {
                break;
            }
            is_final[k] = true;
            at = parent[k];
        }
        StageGraph {
            parsed,
            heads,
            lines: LineIndex::new(parsed.text),
            own,
            children,
            has_parent: parent.iter().map(Option::is_some).collect(),
            copies,
            owner,
            is_final,
        }
    }

    /// The model of stage `k`: its instructions, those of the stages built
    /// on it, and copies from it. Only stages built on an image get one
    /// (a stage built on another stage has no image to change), so each
    /// instruction is listed under at most one such stage, plus its copy.
    pub(super) fn model(&self, k: usize) -> Option<Arc<Stage>> {
        let head = self.heads.get(k)?;
        if self.has_parent[k] {
            return None;
        }
        let mut listed: Vec<(usize, Relation)> = Vec::new();
        let mut stack = vec![k];
        let mut subtree = HashSet::new();
        while let Some(j) = stack.pop() {
            subtree.insert(j);
            let relation = if j == k {
                Relation::Own
            } else {
                Relation::Descendant
            };
            listed.extend(self.own[j].iter().map(|&i| (i, relation)));
            stack.extend(self.children[j].iter().copied());
        }
        listed.extend(
            self.copies[k]
                .iter()
                .filter(|&&i| !self.owner[i].is_some_and(|o| subtree.contains(&o)))
                .map(|&i| (i, Relation::CopiesFrom)),
        );
        listed.sort_unstable_by_key(|&(i, _)| i);
        let text = self.parsed.text;
        let body = listed
            .into_iter()
            .map(|(i, relation)| {
                let ins = &self.parsed.instructions[i];
                stage_instruction(text, ins, relation, copy_from(ins), &self.lines)
            })
            .collect();
        let from = &self.parsed.instructions[head.at];
        let end = from
            .logical
            .file_span(Span::new(0, from.logical.text.len()))
            .end;
        let newline = if text.get(end..).is_some_and(|t| t.starts_with("\r\n")) {
            "\r\n"
        } else {
            "\n"
        };
        Some(Arc::new(Stage {
            index: k,
            after_from: end,
            newline,
            escape: char::from(self.parsed.escape),
            is_final: self.is_final[k],
            body,
        }))
    }
}

/// `FROM 0`: a base that is an earlier stage's index (Buildah and
/// BuildKit read it as that stage, as they read `COPY --from=0`).
pub(super) fn stage_index(base: &str, before: usize) -> Option<usize> {
    let k = base.parse::<usize>().ok()?;
    (base.bytes().all(|b| b.is_ascii_digit()) && k < before).then_some(k)
}

/// Whether a base or `--from` written with a variable may name a stage:
/// `${BASE}` or `platform-${TARGET}` may, `alpine:${VERSION}` and
/// `${REGISTRY}/app` may not (a stage name has no `:`, `/` or `@`).
fn may_name_stage(written: &str) -> bool {
    written.contains('$') && !fixed_text(written).contains([':', '/', '@'])
}

/// The text outside `$NAME` and `${…}`: what a build argument cannot
/// change.
fn fixed_text(written: &str) -> String {
    let mut fixed = String::new();
    let mut chars = written.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            fixed.push(c);
        } else if chars.peek() == Some(&'{') {
            let mut depth = 0usize;
            for d in chars.by_ref() {
                match d {
                    '{' => depth += 1,
                    '}' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
            }
        } else {
            while chars
                .peek()
                .is_some_and(|d| d.is_ascii_alphanumeric() || *d == '_')
            {
                chars.next();
            }
        }
    }
    fixed
}

/// A stage reference written with a variable (`FROM ${BASE}`,
/// `COPY --from=$SRC`): whether it has fixed text around the variable
/// (`platform-${T}`), and its value with the defaults.
struct VariableRef {
    fixed: bool,
    resolved: Option<String>,
}

impl VariableRef {
    fn new(written: &str, resolved: Option<String>) -> Option<Self> {
        may_name_stage(written).then(|| VariableRef {
            fixed: !fixed_text(written).trim_matches(['"', '\'']).is_empty(),
            resolved,
        })
    }

    /// Whether a build argument may make it name a stage: it has fixed
    /// text a stage name may share, no default, or a default that is a
    /// stage. `${BASE}` whose default is an image (`alpine:3.20`,
    /// `scratch`) is taken to name images.
    fn may_select(&self, names: &HashMap<String, usize>, stages: usize) -> bool {
        self.fixed
            || self.resolved.as_deref().is_none_or(|r| {
                let lower = r.to_ascii_lowercase();
                names.contains_key(&lower) || stage_index(&lower, stages).is_some()
            })
    }
}

/// Whether a base written with a variable picks one of the stages
/// (`FROM platform-${TARGETARCH}` after `AS platform-amd64`): its text
/// outside the variables is a prefix or suffix of a stage name. A bare
/// `${BASE}` is not read so: it usually names an image.
pub(super) fn picks_stage<'a>(written: &str, mut stages: impl Iterator<Item = &'a String>) -> bool {
    if !may_name_stage(written) {
        return false;
    }
    let lower = written.to_ascii_lowercase();
    let (Some(first), Some(last)) = (lower.find('$'), last_variable_end(&lower)) else {
        return false;
    };
    let (prefix, suffix) = (&lower[..first], &lower[last..]);
    !(prefix.is_empty() && suffix.is_empty())
        && stages.any(|n| {
            n.len() > prefix.len() + suffix.len() && n.starts_with(prefix) && n.ends_with(suffix)
        })
}

/// The end of the last `$NAME` or `${…}` in a text.
fn last_variable_end(text: &str) -> Option<usize> {
    let at = text.rfind('$')?;
    let rest = &text[at + 1..];
    let len = if rest.starts_with('{') {
        rest.find('}').map_or(rest.len(), |i| i + 1)
    } else {
        rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len())
    };
    Some(at + 1 + len)
}

/// The value of a `COPY --from=` flag.
fn copy_from(ins: &Instruction) -> Option<String> {
    if ins.keyword != "copy" {
        return None;
    }
    let (raw, _) = split_flags(&ins.logical.text[ins.rest..]);
    parse_flags(&raw, ins.rest)
        .into_iter()
        .find(|f| f.name == "from")
        .and_then(|f| f.verbatim)
        .and_then(|v| ins.logical.text.get(v.start..v.end))
        .map(str::to_string)
}

fn stage_instruction(
    text: &str,
    ins: &Instruction,
    relation: Relation,
    copy_from: Option<String>,
    lines: &LineIndex,
) -> StageInstruction {
    let args = &ins.logical.text[ins.rest..];
    let (_, after_flags) = split_flags(args);
    let flags_len = args.len() - after_flags.len();
    let trimmed = after_flags.trim();
    let exec_at = flags_len + (after_flags.len() - after_flags.trim_start().len());
    let exec_form = json_array(trimmed).map(|words| (exec_at, words));
    let destination_at = match ins.keyword.as_str() {
        "copy" | "add" => match &exec_form {
            // The last element of `["src", …, "dest"]`.
            Some(_) => after_flags.rfind(',').map(|c| flags_len + c + 1),
            None => fields(after_flags, flags_len).last().map(|(_, r)| r.start),
        },
        _ => None,
    };
    let span = ins.logical.file_span(Span::new(0, ins.logical.text.len()));
    StageInstruction {
        keyword: ins.keyword.clone(),
        args: args.to_string(),
        heredocs: ins
            .heredoc_bodies
            .iter()
            .filter_map(|b| text.get(b.start..b.end))
            .collect(),
        exec_form,
        copy_from,
        destination_at,
        span,
        line: lines.line_of(span.start) + 1,
        relation,
        map: ins.logical.map.after(ins.rest),
    }
}

/// The stage graph of a Dockerfile: its stages, what each is built from
/// and copies from, and its `RUN` texts (STG…, MIR004). `None` when the
/// file does not parse (E004 reports that).
pub fn stage_graph(text: &str, options: &SourceOptions) -> Option<crate::site::StageGraph> {
    stage_graph_of(&parse(text).ok()?, options)
}

/// The stage graph of a parsed Dockerfile (`stage_graph`), for a caller
/// that already parsed it.
pub(super) fn stage_graph_of(
    parsed: &Parsed,
    options: &SourceOptions,
) -> Option<crate::site::StageGraph> {
    use crate::site::{RunText, StageGraph, StageNode};
    let mut graph = StageGraph::default();
    let mut meta = Env::new();
    for name in PLATFORM_ARGS {
        meta.insert((*name).to_string(), None);
    }
    let mut seen_from = false;
    let mut stage_env = Env::new();
    // Resolved references from each stage, turned into stage indexes once
    // every name is known (`COPY --from` may name a later stage).
    let mut pending: Vec<(usize, String)> = Vec::new();
    let mut last_named: HashMap<String, usize> = HashMap::new();
    let mut first_named: HashMap<String, usize> = HashMap::new();
    let mut variable_refs: Vec<VariableRef> = Vec::new();
    let budget = Cell::new(MAX_EXPANDED);
    let resolve = |logical: &Logical, range: Span, env: Scope| -> Option<String> {
        let b = expand(logical, range, env, parsed.escape, &budget).ok()?;
        b.missing.is_empty().then_some(b.text)
    };
    for ins in &parsed.instructions {
        let rest_text = &ins.logical.text[ins.rest..];
        match ins.keyword.as_str() {
            "arg" if !seen_from => declare(&mut meta, parsed, ins, None, options, &budget).ok()?,
            "arg" => declare(&mut stage_env, parsed, ins, Some(&meta), options, &budget).ok()?,
            "from" => {
                if !seen_from {
                    graph.meta_args = meta.keys().cloned().collect();
                    graph.meta_args.sort();
                }
                seen_from = true;
                stage_env = Env::new();
                let (raw_flags, args) = split_flags(rest_text);
                let base_at = ins.rest + (rest_text.len() - args.len());
                let words = fields(args, base_at);
                let Some((base, base_range)) = words.first().cloned() else {
                    continue;
                };
                let name = (words.len() == 3 && words[1].0.eq_ignore_ascii_case("as"))
                    .then(|| (words[2].0.clone(), ins.logical.file_span(words[2].1)));
                graph.variable_refs |= name.as_ref().is_some_and(|(n, _)| n.contains('$'));
                let platform = raw_flags.iter().find_map(|(word, span)| {
                    let (flag, value) = word.get(2..)?.split_once('=')?;
                    if !flag.eq_ignore_ascii_case("platform") {
                        return None;
                    }
                    let start = ins.rest + span.start + 2 + flag.len() + 1;
                    let range = Span::new(start, start + value.len());
                    Some((value.to_string(), ins.logical.file_span(range)))
                });
                let base_resolved = resolve(&ins.logical, base_range, Scope::of(&meta));
                variable_refs.extend(VariableRef::new(&base, base_resolved.clone()));
                let index = graph.stages.len();
                // The last earlier stage of that name (a map: a file of many
                // stages stays linear), or of that index (`FROM 0`).
                let parent = base_resolved.as_deref().and_then(|b| {
                    stage_index(b, index)
                        .or_else(|| last_named.get(&b.to_ascii_lowercase()).copied())
                });
                if let Some((n, _)) = &name {
                    last_named.insert(n.to_ascii_lowercase(), index);
                    first_named.entry(n.to_ascii_lowercase()).or_insert(index);
                }
                graph.stages.push(StageNode {
                    index,
                    name,
                    base: (base, ins.logical.file_span(base_range)),
                    base_resolved,
                    platform,
                    from_span: ins.keyword_span,
                    parent,
                    uses: Vec::new(),
                });
            }
            "copy" | "run" if seen_from => {
                let (raw_flags, after) = split_flags(rest_text);
                let env = Scope {
                    env: &stage_env,
                    outer: Some(&meta),
                };
                // Quoted (`--from="${VARIANT}"`): read as written, value unknown.
                for (word, _) in &raw_flags {
                    if !word.contains(['"', '\'', '\\']) {
                        continue;
                    }
                    let lower = word.to_ascii_lowercase();
                    let values: Vec<&str> = if let Some(value) = lower.strip_prefix("--from=") {
                        vec![value]
                    } else if let Some(mount) = lower.strip_prefix("--mount=") {
                        mount
                            .split(',')
                            .filter_map(|f| f.trim_matches(['"', '\'']).strip_prefix("from="))
                            .collect()
                    } else {
                        Vec::new()
                    };
                    for v in values {
                        variable_refs.extend(VariableRef::new(v.trim_matches(['"', '\'']), None));
                    }
                }
                for flag in parse_flags(&raw_flags, ins.rest) {
                    let range = match (ins.keyword.as_str(), flag.name.as_str()) {
                        ("copy", "from") => flag.verbatim,
                        ("run", "mount") => flag
                            .verbatim
                            .and_then(|v| mount_from(&ins.logical.text[v.start..v.end], v.start)),
                        _ => None,
                    };
                    if let Some(range) = range
                        && let Some(written) = ins.logical.text.get(range.start..range.end)
                    {
                        let value = resolve(&ins.logical, range, env);
                        variable_refs.extend(VariableRef::new(written, value));
                    }
                    if let Some(range) = range
                        && let Some(value) = resolve(&ins.logical, range, env)
                    {
                        pending.push((graph.stages.len().saturating_sub(1), value));
                    }
                }
                if ins.keyword == "run" {
                    let at = ins.rest + (rest_text.len() - after.len());
                    graph.runs.push(RunText {
                        keyword: "run",
                        text: after.to_string(),
                        map: ins.logical.map.after(at),
                        heredocs: ins
                            .heredoc_bodies
                            .iter()
                            .filter_map(|b| {
                                Some((parsed.text.get(b.start..b.end)?.to_string(), *b))
                            })
                            .collect(),
                        span: ins.logical.file_span(Span::new(0, ins.logical.text.len())),
                    });
                }
            }
            "env" if seen_from => {
                graph.runs.push(RunText {
                    keyword: "env",
                    text: rest_text.to_string(),
                    map: ins.logical.map.after(ins.rest),
                    heredocs: Vec::new(),
                    span: ins.logical.file_span(Span::new(0, ins.logical.text.len())),
                });
            }
            _ => {}
        }
    }
    graph.variable_refs |= variable_refs
        .iter()
        .any(|v| v.may_select(&first_named, graph.stages.len()));
    for (from, value) in pending {
        let target = if value.bytes().all(|b| b.is_ascii_digit()) {
            value
                .parse::<usize>()
                .ok()
                .filter(|i| *i < graph.stages.len())
        } else {
            first_named.get(&value.to_ascii_lowercase()).copied()
        };
        if let (Some(t), Some(node)) = (target, graph.stages.get_mut(from))
            && !node.uses.contains(&t)
        {
            node.uses.push(t);
        }
    }
    Some(graph)
}
