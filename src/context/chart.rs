//! Helm charts: what a chart's templates say about its values (registry
//! joins, digests read) and its sub-charts.

use super::*;
use std::collections::HashMap;
use std::sync::OnceLock;

/// How a chart builds image strings, from its `templates/`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChartFacts {
    /// Whether the chart has templates refit read.
    pub templates: bool,
    /// Whether a template uses a registry value (`.Values.global.imageRegistry`,
    /// `.imageRoot.registry`, `_helpers.tpl` joins): a repository must not
    /// be prefixed with a registry, or the join doubles it.
    pub joins_registry: bool,
    /// Names and aliases of `dependencies:`: values under these keys belong
    /// to sub-charts, with their own templates and defaults.
    pub dependencies: Vec<String>,
    /// Values paths of the image maps whose `digest` a template reads
    /// (`image`, `controller.image`), directly or through `_helpers.tpl`:
    /// where `refit pin` may add a `digest:` key (`crate::helm_templates`).
    pub digest_paths: BTreeSet<String>,
    /// Values a template writes right after `<registry>/`, by value path
    /// (`kernelCollector.image.name`): where their registry comes from.
    pub joins: BTreeMap<String, RegistryJoin>,
}

/// How a template writes the registry in front of a value:
/// `{{ .Values.a.registry }}/{{ .Values.a.name }}`,
/// `{{ default .Values.image.registry .Values.a.registry }}/{{ … }}`,
/// `{{ printf "%s/%s:%s" .Values.a.registry .Values.a.image … }}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryJoin {
    /// The value path the registry is read from; `None` when the template
    /// computes it some other way (`include`, a variable).
    pub primary: Option<String>,
    /// With `default FALLBACK PRIMARY`: the value used when the primary
    /// is empty or absent.
    pub fallback: Option<String>,
    /// With `default "quay.io" PRIMARY`: the literal registry used when
    /// the primary is empty or absent.
    pub literal_fallback: Option<String>,
}

/// Facts of each chart folder (canonical) read in this process: every
/// values file beside a `Chart.yaml` needs them, and reading the templates
/// is the costly part. A cell per folder, so two files of one chart
/// checked at once wait for one read rather than both reading.
type ChartCache = HashMap<PathBuf, Arc<OnceLock<Arc<ChartFacts>>>>;
static CHARTS: LazyLock<Mutex<ChartCache>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// [`chart_facts`] of the chart in `dir`, read once per chart folder
/// until [`forget`](super::forget).
pub fn chart_facts_cached(dir: &Path, chart_yaml: &str) -> Arc<ChartFacts> {
    let key = crate::realpath::canonical(dir).unwrap_or_else(|_| dir.to_path_buf());
    let cell = match CHARTS.lock() {
        Ok(mut cache) => cache.entry(key).or_default().clone(),
        Err(_) => return Arc::new(chart_facts(dir, chart_yaml)),
    };
    cell.get_or_init(|| Arc::new(chart_facts(dir, chart_yaml)))
        .clone()
}

/// Forget every chart read so far.
pub(super) fn forget_charts() {
    if let Ok(mut cache) = CHARTS.lock() {
        cache.clear();
    }
}

/// Read the chart in `dir` (the folder of `Chart.yaml`).
pub fn chart_facts(dir: &Path, chart_yaml: &str) -> ChartFacts {
    let mut facts = ChartFacts::default();
    if let Ok(docs) = crate::sources::yaml::parse(chart_yaml)
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
    let templates = dir.join("templates");
    if templates.is_dir() {
        facts.templates = true;
        let mut digests = crate::helm_templates::DigestReader::default();
        let mut total: u64 = 0;
        for path in walk(&templates, |_| true).0 {
            if total > MAX_TOTAL_BYTES {
                break;
            }
            let Some(text) = read(&path) else { continue };
            total += text.len() as u64;
            facts.joins_registry |= template_joins_registry(&text);
            digests.add(&text);
            template_joins(&text, &mut facts.joins);
        }
        facts.digest_paths = digests.finish();
    }
    facts
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
