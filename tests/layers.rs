//! The module graph: no import cycle, and none of the edges that
//! DESIGN.md's "Layers" section says never exist.
//!
//! The graph is read from the text of `src/**/*.rs`, with no extra tools: a
//! file is a module (`mod.rs` is its folder), and a module depends on every
//! module that a `use` of it or a `crate::…` / `super::…` / `self::…` path
//! in it names (or a path through a name it imported, or a child module).
//! Comments, string literals and `#[cfg(test)]` items do not count: tests
//! may reach anywhere. A folder's `mod.rs` using the modules inside the
//! folder (the rule registry) is containment, not a cycle; siblings that
//! import each other are a cycle.
//!
//! A failure prints each cycle (`a → b → a`, each edge with the line that
//! makes it) and each forbidden edge. `ALLOWED` lists the edges that existed
//! when this test was written and are being removed: take an entry out when
//! its edge is gone (the test fails on a stale entry, so the list only
//! shrinks). Allowed edges are also set aside when looking for cycles: they
//! are the back edges of the one cycle left today.
//!
//! `LAYERS_SRC=/path/to/src cargo test --test layers` checks another tree.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers of DESIGN.md, top first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layer {
    /// `main`, `cli`, the arguments of the online commands.
    Face,
    /// Walk, fix loop over files, writes, diffs, git, baselines; online
    /// and the server sit beside it.
    Run,
    Online,
    Report,
    /// One file: front-end, rules, fix loop.
    Engine,
    /// Facts about the repository.
    Workspace,
    /// What the user configured.
    Config,
    /// Text to image sites.
    Sources,
    /// Image sites to diagnostics.
    Rules,
    /// References, sites, spans, diagnostics, identity, policy.
    Model,
}

/// The layer of each module, by module path prefix (the longest prefix
/// wins). A module missing here fails the test: say where it belongs.
const LAYERS: &[(&str, Layer)] = &[
    ("main", Layer::Face),
    ("cli", Layer::Face),
    ("args", Layer::Face),
    ("man", Layer::Face),
    ("online::cli", Layer::Face),
    ("policy_export::cli", Layer::Face),
    ("online::update_cli", Layer::Face),
    ("run", Layer::Run),
    ("policy_export", Layer::Run),
    ("write", Layer::Run),
    ("diff", Layer::Run),
    ("gitdiff", Layer::Run),
    ("baseline", Layer::Run),
    ("add_ignore", Layer::Run),
    ("server", Layer::Run),
    ("watch", Layer::Run),
    ("inventory", Layer::Run),
    ("online", Layer::Online),
    ("report", Layer::Report),
    ("engine", Layer::Engine),
    ("check", Layer::Engine),
    ("fix", Layer::Engine),
    ("suppress", Layer::Engine),
    ("workspace", Layer::Workspace),
    ("discover", Layer::Workspace),
    ("realpath", Layer::Model),
    ("listing", Layer::Model),
    ("marks", Layer::Model),
    ("bounded", Layer::Model),
    ("config", Layer::Config),
    ("settings", Layer::Config),
    ("sources", Layer::Sources),
    ("rules", Layer::Rules),
    ("reference", Layer::Model),
    ("site", Layer::Model),
    ("span", Layer::Model),
    ("shell", Layer::Model),
    ("diagnostic", Layer::Model),
    ("identity", Layer::Model),
    ("policy", Layer::Model),
    ("official", Layer::Model),
    ("kind", Layer::Model),
    ("facts", Layer::Model),
    ("stamp", Layer::Model),
];

/// DESIGN.md, "Layers": what never imports what. `Model` imports nothing
/// above it, which `forbidden` checks on its own.
const NEVER: &[(Layer, Layer)] = &[
    (Layer::Config, Layer::Engine),
    (Layer::Workspace, Layer::Engine),
    (Layer::Workspace, Layer::Config),
    (Layer::Sources, Layer::Workspace),
    (Layer::Rules, Layer::Workspace),
    (Layer::Engine, Layer::Run),
    (Layer::Sources, Layer::Engine),
    (Layer::Rules, Layer::Engine),
    (Layer::Report, Layer::Face),
    (Layer::Online, Layer::Face),
];

/// Edges that exist today and break the rules above, kept only until the
/// work that removes them lands. Each entry is `(from, to)`: remove it
/// with its edge; do not add to it.
const ALLOWED: &[(&str, &str)] = &[
    // Model reads the knowledge tables that live under `rules/`.
    ("identity", "rules::knowledge"),
];

/// One module's imports: the module it names and the first line naming it.
type Graph = BTreeMap<String, BTreeMap<String, String>>;

fn layer_of(module: &str) -> Option<Layer> {
    LAYERS
        .iter()
        .filter(|(prefix, _)| {
            module == *prefix
                || module
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with("::"))
        })
        .max_by_key(|(prefix, _)| prefix.len())
        .map(|(_, layer)| *layer)
}

fn forbidden(from: Layer, to: Layer) -> bool {
    (from == Layer::Model && to != Layer::Model) || NEVER.contains(&(from, to))
}

/// Whether `inner` is inside the folder module `outer` (`rules` holds
/// `rules::tag002_latest_tag`). A folder's `mod.rs` lists, registers and
/// re-exports its own modules (DESIGN.md: "mod.rs (the registry, one line
/// per rule)"), and they use the types it defines: that is containment,
/// not a cycle. Everything else between the two, and every edge between
/// siblings, counts.
fn contains(outer: &str, inner: &str) -> bool {
    inner
        .strip_prefix(outer)
        .is_some_and(|rest| rest.starts_with("::"))
}

/// Everything wrong with `graph`: modules without a layer, forbidden edges
/// that are not allowed, cycles once the allowed edges are set aside, and
/// allowed edges that no longer exist.
fn problems(
    graph: &Graph,
    layer_of: &dyn Fn(&str) -> Option<Layer>,
    allowed: &[(&str, &str)],
) -> Vec<String> {
    let mut out = Vec::new();
    let is_allowed = |from: &str, to: &str| allowed.contains(&(from, to));
    for module in graph.keys() {
        if layer_of(module).is_none() {
            out.push(format!("module `{module}` has no layer in LAYERS"));
        }
    }
    for (from, edges) in graph {
        for (to, evidence) in edges {
            let (Some(a), Some(b)) = (layer_of(from), layer_of(to)) else {
                continue;
            };
            if forbidden(a, b) && !is_allowed(from, to) {
                out.push(format!(
                    "forbidden edge {from} ({a:?}) → {to} ({b:?}): {evidence}"
                ));
            }
        }
    }
    let kept: BTreeMap<&str, Vec<&str>> = graph
        .iter()
        .map(|(from, edges)| {
            let to = edges
                .keys()
                .filter(|to| !is_allowed(from, to) && !contains(from, to))
                .map(String::as_str)
                .collect();
            (from.as_str(), to)
        })
        .collect();
    for (component, cycle) in cycles(&kept) {
        let mut text = format!("cycle {}", cycle.join(" → "));
        if component.len() + 1 > cycle.len() {
            text.push_str(&format!(
                "\n    (one of the cycles among {})",
                component.join(", ")
            ));
        }
        for pair in cycle.windows(2) {
            if let Some(evidence) = graph.get(pair[0]).and_then(|e| e.get(pair[1])) {
                text.push_str(&format!("\n    {} → {}: {evidence}", pair[0], pair[1]));
            }
        }
        out.push(text);
    }
    for (from, to) in allowed {
        if !graph.get(*from).is_some_and(|e| e.contains_key(*to)) {
            out.push(format!(
                "ALLOWED lists {from} → {to}, which no longer exists: remove the entry"
            ));
        }
    }
    out
}

/// Each strongly connected component of more than one module (Tarjan),
/// with one cycle through it as a path that starts and ends at the same
/// module.
type Cycle<'a> = (Vec<&'a str>, Vec<&'a str>);

fn cycles<'a>(graph: &BTreeMap<&'a str, Vec<&'a str>>) -> Vec<Cycle<'a>> {
    struct Tarjan<'g, 'a> {
        graph: &'g BTreeMap<&'a str, Vec<&'a str>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        components: Vec<Vec<&'a str>>,
    }
    impl<'a> Tarjan<'_, 'a> {
        // Recursion depth is bounded by the number of modules (about 130).
        fn visit(&mut self, v: &'a str) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            self.on_stack.insert(v);
            for &w in self.graph.get(v).into_iter().flatten() {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.on_stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort_unstable();
                    self.components.push(component);
                }
            }
        }
    }
    let mut t = Tarjan {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        components: Vec::new(),
    };
    for &v in graph.keys() {
        if !t.index.contains_key(v) {
            t.visit(v);
        }
    }
    t.components.sort();
    t.components
        .iter()
        .map(|component| {
            // The shortest way back to the first module, inside the component.
            let start = component[0];
            let inside: BTreeSet<&str> = component.iter().copied().collect();
            let mut previous: BTreeMap<&str, &str> = BTreeMap::new();
            let mut queue = std::collections::VecDeque::from([start]);
            let mut end = None;
            'search: while let Some(v) = queue.pop_front() {
                for &w in graph.get(v).into_iter().flatten() {
                    if !inside.contains(w) {
                        continue;
                    }
                    if w == start {
                        end = Some(v);
                        break 'search;
                    }
                    if !previous.contains_key(w) {
                        previous.insert(w, v);
                        queue.push_back(w);
                    }
                }
            }
            let mut path = vec![start];
            let mut at = end;
            while let Some(v) = at {
                if v == start {
                    break;
                }
                path.push(v);
                at = previous.get(v).copied();
            }
            path.push(start);
            path.reverse();
            (component.clone(), path)
        })
        .collect()
}

// ---- reading the graph from the source text ----

/// The text with comments, string and character literals blanked out
/// (same length, same line breaks), so offsets still give line numbers.
fn blank_literals(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = b.to_vec();
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to.min(b.len())] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let end = b[i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(b.len(), |p| i + p);
                blank(&mut out, i, end);
                i = end;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 0usize;
                let mut j = i;
                while j < b.len() {
                    if b[j] == b'/' && b.get(j + 1) == Some(&b'*') {
                        depth += 1;
                        j += 2;
                    } else if b[j] == b'*' && b.get(j + 1) == Some(&b'/') {
                        depth -= 1;
                        j += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        j += 1;
                    }
                }
                blank(&mut out, i, j);
                i = j;
            }
            b'r' if (i == 0 || !ident(b[i - 1]))
                && matches!(b.get(i + 1), Some(b'"') | Some(b'#')) =>
            {
                let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
                if b.get(i + 1 + hashes) != Some(&b'"') {
                    i += 1;
                    continue;
                }
                let close: Vec<u8> = std::iter::once(b'"')
                    .chain(std::iter::repeat_n(b'#', hashes))
                    .collect();
                let body = i + 2 + hashes;
                let end = b[body..]
                    .windows(close.len())
                    .position(|w| w == close.as_slice())
                    .map_or(b.len(), |p| body + p + close.len());
                blank(&mut out, i, end);
                i = end;
            }
            b'"' => {
                let mut j = i + 1;
                while j < b.len() && b[j] != b'"' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                blank(&mut out, i, j + 1);
                i = j + 1;
            }
            b'\'' => {
                // A character literal ('x', '\n', '\u{1F600}'), or a lifetime.
                if b.get(i + 1) == Some(&b'\\') {
                    let end = b[i + 2..]
                        .iter()
                        .position(|&c| c == b'\'')
                        .map_or(b.len(), |p| i + 2 + p + 1);
                    blank(&mut out, i, end);
                    i = end;
                } else if let Some(c) = text.get(i + 1..).and_then(|s| s.chars().next()) {
                    let after = i + 1 + c.len_utf8();
                    if b.get(after) == Some(&b'\'') {
                        blank(&mut out, i, after + 1);
                        i = after + 1;
                    } else {
                        i += 1;
                    }
                } else {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The byte just past the `}` matching the `{` at `open`.
fn matching_brace(b: &[u8], open: usize) -> usize {
    let mut depth = 0usize;
    for (j, &c) in b.iter().enumerate().skip(open) {
        match c {
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return j + 1;
                }
            }
            _ => {}
        }
    }
    b.len()
}

/// Blank the items under `#[cfg(test)]`; return the names of test-only
/// child modules declared as `#[cfg(test)] mod name;` (their files are
/// not part of the library).
fn blank_test_items(text: &mut String) -> Vec<String> {
    let mut test_children = Vec::new();
    let mut b = std::mem::take(text).into_bytes();
    let mut from = 0;
    while let Some(p) = find(&b[from..], b"#[cfg(test)]") {
        let start = from + p;
        let mut i = start + b"#[cfg(test)]".len();
        // Further attributes of the same item.
        loop {
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if b.get(i) == Some(&b'#') && b.get(i + 1) == Some(&b'[') {
                i = b[i..]
                    .iter()
                    .position(|&c| c == b']')
                    .map_or(b.len(), |q| i + q + 1);
            } else {
                break;
            }
        }
        let semi = b[i..].iter().position(|&c| c == b';').map(|q| i + q);
        let brace = b[i..].iter().position(|&c| c == b'{').map(|q| i + q);
        let end = match (semi, brace) {
            (Some(s), o) if o.is_none_or(|o| s < o) => {
                let item = String::from_utf8_lossy(&b[i..s]).into_owned();
                let words: Vec<&str> = item.split_whitespace().collect();
                if let Some(name) = words
                    .iter()
                    .position(|w| *w == "mod")
                    .and_then(|k| words.get(k + 1))
                {
                    test_children.push(name.to_string());
                }
                s + 1
            }
            (_, Some(o)) => matching_brace(&b, o),
            // `(Some, None)` is the first arm.
            _ => b.len(),
        };
        for c in &mut b[start..end] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
        from = end;
    }
    *text = String::from_utf8_lossy(&b).into_owned();
    test_children
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The paths of a use tree (`crate::a::{self, b::{c, d as e}}`), each with
/// the name it is bound to (`None` for `self` of the root, and globs).
fn use_paths(tree: &str) -> Vec<(Vec<String>, Option<String>)> {
    fn split_top(s: &str) -> Vec<&str> {
        let mut parts = Vec::new();
        let mut depth = 0i32;
        let mut start = 0;
        for (i, c) in s.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    parts.push(&s[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        parts.push(&s[start..]);
        parts
    }
    fn walk(prefix: &[String], tree: &str, out: &mut Vec<(Vec<String>, Option<String>)>) {
        let tree = tree.trim();
        if tree.is_empty() {
            return;
        }
        if let Some(brace) = tree.find('{') {
            let head: Vec<String> = tree[..brace]
                .split("::")
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect();
            let inner = tree[brace + 1..].trim_end();
            let inner = inner.strip_suffix('}').unwrap_or(inner);
            let mut full = prefix.to_vec();
            full.extend(head);
            for part in split_top(inner) {
                walk(&full, part, out);
            }
            return;
        }
        let (path, alias) = match tree.split_once(" as ") {
            Some((p, a)) => (p.trim(), Some(a.trim().to_string())),
            None => (tree, None),
        };
        let mut full = prefix.to_vec();
        full.extend(path.split("::").map(|s| s.trim().to_string()));
        if full.last().is_some_and(|s| s == "self") {
            full.pop();
        }
        let name = alias
            .or_else(|| full.last().cloned())
            .filter(|n| n != "*" && n != "_");
        out.push((full, name));
    }
    let mut out = Vec::new();
    walk(&[], tree, &mut out);
    out
}

/// A module path (`report::json`) as its segments; the crate root is empty.
fn segments(module: &str) -> Vec<String> {
    if module.is_empty() {
        Vec::new()
    } else {
        module.split("::").map(String::from).collect()
    }
}

struct Crate {
    /// Module path → its source text (literals, comments, tests blanked).
    modules: BTreeMap<String, (PathBuf, String)>,
}

impl Crate {
    fn read(src: &Path) -> Crate {
        let mut files = Vec::new();
        let mut dirs = vec![src.to_path_buf()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("src/ is readable").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    files.push(path);
                }
            }
        }
        files.sort();
        let mut modules = BTreeMap::new();
        let mut test_only = BTreeSet::new();
        for path in files {
            let rel = path.strip_prefix(src).expect("under src/");
            let mut parts: Vec<String> = rel
                .iter()
                .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
                .collect();
            if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
                parts.pop();
            }
            let module = parts.join("::");
            let raw = std::fs::read_to_string(&path).expect("source is UTF-8");
            let mut text = blank_literals(&raw);
            for child in blank_test_items(&mut text) {
                test_only.insert(if module.is_empty() {
                    child
                } else {
                    format!("{module}::{child}")
                });
            }
            modules.insert(module, (rel.to_path_buf(), text));
        }
        modules.retain(|m, _| !test_only.contains(m));
        Crate { modules }
    }

    /// The module a path names: the longest known module prefix of it.
    fn module_of(&self, path: &[String]) -> Option<String> {
        (1..=path.len())
            .rev()
            .map(|n| path[..n].join("::"))
            .find(|m| self.modules.contains_key(m))
    }

    fn graph(&self) -> Graph {
        let mut graph = Graph::new();
        for (module, (file, text)) in &self.modules {
            if module.is_empty() {
                // `lib.rs` only declares the modules.
                continue;
            }
            let here = segments(module);
            // `main.rs` is the binary: it names the library as `refit`.
            let crate_names: &[&str] = if module == "main" {
                &["crate", "refit"]
            } else {
                &["crate"]
            };
            let mut aliases: BTreeMap<String, Vec<String>> = self
                .modules
                .keys()
                .filter_map(|m| {
                    let s = segments(m);
                    (s.len() == here.len() + 1 && s.starts_with(&here) && module != "main")
                        .then(|| (s[here.len()].clone(), s))
                })
                .collect();
            let edges = graph.entry(module.clone()).or_default();
            let line_of = |offset: usize| text[..offset].matches('\n').count() + 1;
            let resolve =
                |path: &[String], aliases: &BTreeMap<String, Vec<String>>| -> Option<Vec<String>> {
                    let first = path.first()?;
                    let mut base = if crate_names.contains(&first.as_str()) {
                        Vec::new()
                    } else if first == "self" {
                        here.clone()
                    } else if first == "super" {
                        let mut b = here.clone();
                        b.pop();
                        b
                    } else {
                        aliases.get(first)?.clone()
                    };
                    let mut rest = path[1..].iter();
                    for seg in rest.by_ref() {
                        if seg == "super" {
                            base.pop();
                        } else {
                            base.push(seg.clone());
                        }
                    }
                    Some(base)
                };
            let add =
                |target: Option<String>, offset: usize, edges: &mut BTreeMap<String, String>| {
                    if let Some(target) = target.filter(|t| !t.is_empty() && t != module) {
                        edges.entry(target).or_insert_with(|| {
                            format!(
                                "{}:{}",
                                Path::new("src").join(file).display(),
                                line_of(offset)
                            )
                        });
                    }
                };
            // `use` statements first: they bind the names later paths use.
            let b = text.as_bytes();
            let mut body = text.clone().into_bytes();
            let mut i = 0;
            while let Some(p) = find(&b[i..], b"use") {
                let at = i + p;
                i = at + 3;
                let before = at.checked_sub(1).map(|k| b[k]);
                if before.is_some_and(is_ident)
                    || b.get(at + 3).is_some_and(|&c| !c.is_ascii_whitespace())
                {
                    continue;
                }
                let Some(end) = b[at..].iter().position(|&c| c == b';').map(|q| at + q) else {
                    break;
                };
                let tree = &text[at + 3..end];
                if tree.trim_start().starts_with('<') {
                    continue;
                }
                for (path, name) in use_paths(tree) {
                    if let Some(full) = resolve(&path, &aliases) {
                        let target = self.module_of(&full);
                        if let Some(name) = name
                            && self.modules.contains_key(&full.join("::"))
                        {
                            aliases.insert(name, full.clone());
                        }
                        add(target, at, edges);
                    }
                }
                for c in &mut body[at..end] {
                    if *c != b'\n' {
                        *c = b' ';
                    }
                }
                i = end;
            }
            // Then every `a::b::c` path in the code.
            let mut j = 0;
            while j < body.len() {
                if !is_ident(body[j]) || (j > 0 && (is_ident(body[j - 1]) || body[j - 1] == b':')) {
                    j += 1;
                    continue;
                }
                let start = j;
                let mut path = Vec::new();
                loop {
                    let seg_start = j;
                    while j < body.len() && is_ident(body[j]) {
                        j += 1;
                    }
                    path.push(String::from_utf8_lossy(&body[seg_start..j]).into_owned());
                    if body.get(j) == Some(&b':')
                        && body.get(j + 1) == Some(&b':')
                        && body.get(j + 2).is_some_and(|&c| is_ident(c))
                    {
                        j += 2;
                    } else {
                        break;
                    }
                }
                if path.len() > 1
                    && let Some(full) = resolve(&path, &aliases)
                {
                    add(self.module_of(&full), start, edges);
                }
            }
        }
        graph
    }
}

fn source_graph() -> Graph {
    Crate::read(
        &std::env::var_os("LAYERS_SRC")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("src")),
    )
    .graph()
}

#[test]
fn no_cycle_and_no_forbidden_edge() {
    let graph = source_graph();
    let problems = problems(&graph, &layer_of, ALLOWED);
    assert!(
        problems.is_empty(),
        "{} problem(s) in the module graph (see tests/layers.rs):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn the_graph_is_read_from_the_source() {
    // Known edges, one per way of naming a module, so a parser that reads
    // nothing cannot pass the test above.
    let graph = source_graph();
    let has = |from: &str, to: &str| graph.get(from).is_some_and(|e| e.contains_key(to));
    // `use crate::…` in a group, `super::` in a group, a child module used
    // bare in `mod.rs`, an expression path, a path through an imported module.
    assert!(has("cli", "args"));
    assert!(has("report::stream", "report::json"));
    assert!(has("report", "report::stream"));
    assert!(has("report::sarif", "report::common"));
    assert!(has("main", "cli"));
    assert!(graph.len() > 100, "{} modules", graph.len());
    // Test-only code and files are not part of the graph.
    assert!(!graph.contains_key("sources::dockerfile::tests"));
    assert!(!has("diagnostic", "check"));
}

// ---- the checker itself, on small graphs ----

fn synthetic(edges: &[(&str, &str)]) -> Graph {
    let mut g = Graph::new();
    for (from, to) in edges {
        g.entry(from.to_string())
            .or_default()
            .insert(to.to_string(), "test".to_string());
        g.entry(to.to_string()).or_default();
    }
    g
}

fn synthetic_layer(module: &str) -> Option<Layer> {
    match module.split("::").next() {
        Some("cli") => Some(Layer::Face),
        Some("engine") => Some(Layer::Engine),
        Some("config") => Some(Layer::Config),
        Some("rules") => Some(Layer::Rules),
        Some("span") => Some(Layer::Model),
        _ => None,
    }
}

#[test]
fn checker_accepts_a_layered_graph() {
    let g = synthetic(&[
        ("cli", "engine"),
        ("engine", "rules"),
        ("engine", "config"),
        ("rules", "span"),
    ]);
    assert_eq!(problems(&g, &synthetic_layer, &[]), Vec::<String>::new());
}

#[test]
fn checker_reports_a_cycle_with_its_path() {
    let g = synthetic(&[
        ("engine::a", "engine::b"),
        ("engine::b", "engine::c"),
        ("engine::c", "engine::a"),
        ("cli", "engine::a"),
    ]);
    let p = problems(&g, &synthetic_layer, &[]);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].starts_with(
            "cycle engine::a → engine::b → engine::c → engine::a\n    engine::a → engine::b: test"
        ),
        "{p:?}"
    );
}

#[test]
fn checker_counts_a_folder_holding_its_modules_as_no_cycle() {
    // `rules` registers `rules::a`, which uses `rules::Rule`: containment.
    let g = synthetic(&[("rules", "rules::a"), ("rules::a", "rules")]);
    assert_eq!(problems(&g, &synthetic_layer, &[]), Vec::<String>::new());
    // Siblings inside the folder still count.
    let g = synthetic(&[("rules::a", "rules::b"), ("rules::b", "rules::a")]);
    let p = problems(&g, &synthetic_layer, &[]);
    assert!(
        p.iter()
            .any(|p| p.starts_with("cycle rules::a → rules::b → rules::a")),
        "{p:?}"
    );
}

#[test]
fn checker_reports_a_forbidden_edge_and_a_model_edge_upward() {
    let g = synthetic(&[("config", "engine"), ("span", "rules")]);
    let p = problems(&g, &synthetic_layer, &[]);
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(p[0].starts_with("forbidden edge config (Config) → engine (Engine)"));
    assert!(p[1].starts_with("forbidden edge span (Model) → rules (Rules)"));
}

#[test]
fn checker_allows_listed_edges_only() {
    // The allowed back edge breaks the cycle and is not reported...
    let g = synthetic(&[("engine", "config"), ("config", "engine")]);
    assert_eq!(
        problems(&g, &synthetic_layer, &[("config", "engine")]),
        Vec::<String>::new()
    );
    // ...but a new edge closing another cycle is, and so is a new forbidden edge.
    let g = synthetic(&[
        ("engine", "config"),
        ("config", "engine"),
        ("engine", "rules"),
        ("rules", "engine"),
    ]);
    let p = problems(&g, &synthetic_layer, &[("config", "engine")]);
    assert!(
        p.iter()
            .any(|p| p.starts_with("forbidden edge rules (Rules) → engine")),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|p| p.starts_with("cycle engine → rules → engine")),
        "{p:?}"
    );
}

#[test]
fn checker_reports_stale_allowed_edges_and_unknown_modules() {
    let g = synthetic(&[("engine", "mystery")]);
    let p = problems(&g, &synthetic_layer, &[("config", "engine")]);
    assert!(
        p.contains(&"module `mystery` has no layer in LAYERS".to_string()),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|p| p.starts_with("ALLOWED lists config → engine")),
        "{p:?}"
    );
}

#[test]
fn parser_reads_use_trees_paths_and_skips_literals_and_tests() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir_all(src.join("report")).unwrap();
    let write = |p: &str, t: &str| std::fs::write(src.join(p), t).unwrap();
    write(
        "lib.rs",
        "pub mod a;\npub mod b;\npub mod c;\npub mod report;\n",
    );
    write(
        "a.rs",
        "use crate::{b::{self, X}, report as r};\n// crate::c in a comment\nfn f() { let s = \"crate::c::X\"; let c = 'x'; b::g(); r::json::h(); }\n#[cfg(test)]\nmod tests { use crate::c; }\n",
    );
    write("b.rs", "pub fn g<'a>(x: &'a str) {}\n");
    write("c.rs", "");
    write(
        "report/mod.rs",
        "mod json;\n#[cfg(test)]\nmod tests;\npub fn render() { json::h() }\n",
    );
    write(
        "report/json.rs",
        "use super::super::b::*;\npub fn h() { crate::c::i() }\n",
    );
    write("report/tests.rs", "use crate::a;\n");
    let g = Crate::read(src).graph();
    let edges = |m: &str| g[m].keys().cloned().collect::<Vec<_>>();
    assert_eq!(edges("a"), ["b", "report", "report::json"]);
    assert_eq!(edges("b"), Vec::<String>::new());
    assert_eq!(edges("report"), ["report::json"]);
    assert_eq!(edges("report::json"), ["b", "c"]);
    assert!(!g.contains_key("report::tests"));
    assert_eq!(
        g["a"]["b"],
        format!("{}:1", Path::new("src").join("a.rs").display())
    );
}
