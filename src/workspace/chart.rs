//! Helm charts: what a chart's templates say about its values (registry
//! joins, digests read) and its sub-charts.

use super::*;

/// Read the chart in `dir` (the folder of `Chart.yaml`, canonical, under
/// `root`): its templates through the bounded reader, a `templates` that
/// leads outside the root not at all.
pub fn chart_facts(root: &Path, dir: &Path, chart_yaml: &str) -> ChartFacts {
    let mut facts = ChartFacts::default();
    // A v1 (Helm 2) chart lists its dependencies in `requirements.yaml`.
    let requirements = crate::bounded::inside(root, &dir.join("requirements.yaml"))
        .ok()
        .and_then(|p| crate::bounded::read_regular(&p, crate::bounded::MAX_FILE_BYTES).ok());
    for text in std::iter::once(chart_yaml).chain(requirements.as_deref()) {
        if let Ok(docs) = crate::sources::yaml::parse_shared(text)
            && let Some(doc) = docs.first()
            && let Some(deps) = doc.get(&doc.root, "dependencies")
            && let crate::sources::yaml::Node::Seq(items, _) = doc.resolve(deps)
        {
            for item in items {
                for key in ["name", "alias"] {
                    if let Some(s) = doc.get_scalar(item, key)
                        && !s.value.is_empty()
                    {
                        facts.dependencies.push(s.value.clone());
                    }
                }
            }
        }
    }
    let templates = dir.join("templates");
    if let Ok(templates) = crate::bounded::inside(root, &templates)
        && templates.is_dir()
    {
        facts.templates = true;
        let mut digests = crate::workspace::helm_templates::DigestReader::default();
        let mut total: u64 = 0;
        for path in template_files(&templates) {
            if total > MAX_TEMPLATE_BYTES {
                break;
            }
            let Ok(text) = crate::bounded::read_regular(&path, crate::bounded::MAX_FILE_BYTES)
            else {
                continue;
            };
            total += text.len() as u64;
            facts.joins_registry |= template_joins_registry(&text);
            digests.add(&text);
            template_joins(&text, &mut facts.joins);
        }
        (facts.digest_paths, facts.renders) = digests.finish_with_renders();
        // A helper's registry chain may read a value the chart's defaults
        // set (`imageRegistry`) and a values overlay leaves out.
        // (`crate::sources::helm` reads them.)
        if let Ok(values) = crate::bounded::inside(root, &dir.join("values.yaml"))
            && let Ok(text) = crate::bounded::read_regular(&values, crate::bounded::MAX_FILE_BYTES)
        {
            facts.values_registries = crate::sources::helm::set_registry_values(&text);
        }
    }
    facts
}

/// The most bytes of one chart's templates read.
const MAX_TEMPLATE_BYTES: u64 = 256 * 1024 * 1024;

/// The regular files under a chart's `templates/`, links not followed.
fn template_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push(entry.path()),
                Ok(t) if t.is_file() => out.push(entry.path()),
                _ => {}
            }
        }
    }
    out.sort();
    out
}

/// Whether a template expression (`{{ … }}`) uses a registry value.
pub fn template_joins_registry(text: &str) -> bool {
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let close = after.find("}}").unwrap_or(after.len());
        if after[..close].to_ascii_lowercase().contains("registry") {
            return true;
        }
        rest = &after[close..];
    }
    false
}

/// The `{{ … }}` expressions of a template, each with the text before it
/// (since the previous expression).
pub(super) fn expressions(text: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let before = &rest[..open];
        let after = &rest[open + 2..];
        let close = after.find("}}").unwrap_or(after.len());
        let inner = after[..close].trim_start_matches('-').trim_end_matches('-');
        out.push((before, inner.trim()));
        rest = after.get(close + 2..).unwrap_or("");
    }
    out
}

/// Words of a template expression: whitespace-separated at the top level,
/// a quoted string or a parenthesised call kept as one word.
pub(super) fn words(expr: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut quoted = false;
    let mut start = None;
    for (i, c) in expr.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth = depth.saturating_sub(1),
            _ => {}
        }
        if c.is_whitespace() && depth == 0 && !quoted {
            if let Some(s) = start.take() {
                out.push(&expr[s..i]);
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push(&expr[s..]);
    }
    out
}

/// `.Values.a.b` as the value path `a.b`.
pub(super) fn values_path(word: &str) -> Option<String> {
    let path = word.strip_prefix(".Values.")?;
    let ok = !path.is_empty()
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    ok.then(|| path.to_string())
}

/// A quoted literal (`"docker.io"`), unquoted.
fn literal(word: &str) -> Option<String> {
    ['"', '\'', '`'].iter().find_map(|q| {
        word.strip_prefix(*q)
            .and_then(|f| f.strip_suffix(*q))
            .map(str::to_string)
    })
}

/// Where a registry written as one expression comes from:
/// `.Values.a.registry`, `default FALLBACK PRIMARY`,
/// `PRIMARY | default FALLBACK`, `coalesce A B "docker.io"`, and any of
/// them in parentheses.
pub(super) fn registry_source(expr: &str) -> RegistryJoin {
    let expr = expr.trim();
    if let Some(inner) = expr.strip_prefix('(').and_then(|e| e.strip_suffix(')'))
        && words(expr).len() == 1
    {
        return registry_source(inner);
    }
    // `PRIMARY | default FALLBACK`: the pipeline's value is the last
    // argument of `default`.
    let stages = pipeline(expr);
    if let [first, rest @ ..] = stages.as_slice()
        && !rest.is_empty()
    {
        let mut join = registry_source(first);
        for stage in rest {
            // `| quote`, `| trimSuffix "/"`, `| toString`: the same value.
            if let ["default", fallback] = words(stage).as_slice() {
                if let Some(l) = literal(fallback) {
                    join.literal_fallback.get_or_insert(l);
                } else if join.fallback.is_none() {
                    join.fallback = values_path(fallback);
                }
            }
        }
        return join;
    }
    let w = words(expr);
    match w.as_slice() {
        [one] => RegistryJoin {
            primary: values_path(one),
            ..RegistryJoin::default()
        },
        ["default", fallback, primary] => RegistryJoin {
            primary: values_path(primary),
            fallback: values_path(fallback),
            literal_fallback: literal(fallback),
        },
        // `coalesce A B "docker.io"`: the first value that is not empty.
        // The own `registry` value (the last value path) is the primary, an
        // earlier one (`global.imageRegistry`) the fallback, a literal the
        // registry when all are empty. Calls (`include …`) are unknown.
        ["coalesce", args @ ..] => {
            let paths: Vec<String> = args.iter().filter_map(|a| values_path(a)).collect();
            RegistryJoin {
                primary: paths.last().cloned(),
                fallback: paths.iter().rev().nth(1).cloned(),
                literal_fallback: args.iter().rev().find_map(|a| literal(a)),
            }
        }
        _ => RegistryJoin::default(),
    }
}

/// The stages of a pipeline (`a | default "x"`), split at top-level `|`.
fn pipeline(expr: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut quoted = false;
    let mut start = 0;
    for (i, c) in expr.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth = depth.saturating_sub(1),
            '|' if !quoted && depth == 0 => {
                out.push(expr[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(expr[start..].trim());
    out
}

/// Record the values a template writes after `<registry>/`.
pub fn template_joins(text: &str, joins: &mut BTreeMap<String, RegistryJoin>) {
    let exprs = expressions(text);
    for (i, (before, expr)) in exprs.iter().enumerate() {
        // `{{ REGISTRY }}/{{ .Values.x.image }}`
        if i > 0 && *before == "/" {
            let first = words(expr).into_iter().find_map(values_path);
            if let Some(path) = first {
                joins
                    .entry(path)
                    .or_insert_with(|| registry_source(exprs[i - 1].1));
            }
        }
        // `{{ with REGISTRY }}{{ . }}/{{ end }}{{ .Values.x.image }}`: the
        // registry and its slash only when the registry is not empty.
        if i >= 3
            && before.is_empty()
            && exprs[i - 1].1 == "end"
            && exprs[i - 1].0 == "/"
            && exprs[i - 2].1 == "."
            && exprs[i - 2].0.is_empty()
            && let Some(registry) = exprs[i - 3].1.strip_prefix("with ")
            && let Some(path) = words(expr).into_iter().find_map(values_path)
        {
            joins
                .entry(path)
                .or_insert_with(|| registry_source(registry));
        }
        // `printf "%s/%s…" REGISTRY .Values.x.image …`
        let w = words(expr);
        if let Some(at) = w.iter().position(|x| *x == "printf")
            && let Some(format) = w.get(at + 1)
            && format.starts_with("\"%s/%s")
            && let (Some(registry), Some(name)) = (w.get(at + 2), w.get(at + 3))
            && let Some(path) = values_path(name)
        {
            joins.entry(path).or_insert_with(|| {
                let inner = registry.trim_start_matches('(').trim_end_matches(')');
                registry_source(inner)
            });
        }
    }
}
