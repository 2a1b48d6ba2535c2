use super::{Rule, RuleContext, declare_rule};
use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix};
use crate::site::{ImageSite, SiteKind};

declare_rule! {
    /// ## What it does
    /// Flags `COPY --from=name` and `RUN --mount=…,from=name` where `name`
    /// is not a stage of the Dockerfile, not a named build context the
    /// repository defines (bake `contexts`, Compose `additional_contexts`,
    /// `--build-context name=…` in scripts, CI and README files, anywhere
    /// in the repository), and not a Docker
    /// Official Image (`rules/official-images.toml`): a bare name with no
    /// registry, namespace, tag or digest. When a stage's name is close
    /// (edit distance, or the name is one part of exactly one stage's name:
    /// `set` → `license-set`), the message names it, unless that stage is
    /// the one the instruction is in or one built from it (a cycle).
    ///
    /// A name no stage is close to is reported only when refit finds the
    /// repository root (`.git`) and a build of the Dockerfile (a build
    /// command's `-f`, a Compose service, a bake target…): otherwise it is
    /// most likely a named context (`--build-context binary_dir=…`) passed
    /// by a build refit does not see.
    ///
    /// ## Why is this bad?
    /// A `--from` value that is not a stage is an image: BuildKit pulls
    /// `docker.io/library/name:latest`. A typo of a stage name
    /// (`--from=bulid`) then fails the build with a pull error far from the
    /// mistake, or, when an image of that name exists, copies files from a
    /// stranger's image into yours.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM golang:1.23 AS build
    /// RUN go build -o /out/app .
    /// FROM alpine:3.20
    /// COPY --from=bulid /out/app /app
    /// ```
    ///
    /// ## Use instead
    /// ```dockerfile
    /// COPY --from=build /out/app /app
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe: the fix names the closest stage, which changes what is
    /// copied; check that it is the stage you meant. There is no fix when
    /// no stage is close.
    code: "REF005",
    name: "from-not-a-stage",
    severity: Error,
    fix: Sometimes,
    summary: "`COPY --from` or `RUN --mount from` names neither a stage nor a known image",
    check: check,
}

/// Whether a name is a Docker Official Image (`rules/official-images.toml`).
pub fn is_official(name: &str) -> bool {
    crate::official::is_official_image(name)
}

/// Levenshtein distance, for names of a few dozen bytes at most.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().take(128).collect();
    let b: Vec<char> = b.chars().take(128).collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Whether two names are within edit distance 2, and the distance: a
/// banded computation, linear in the names' length.
fn within_two(a: &[char], b: &[char]) -> Option<usize> {
    const MAX: usize = 2;
    if a.len().abs_diff(b.len()) > MAX {
        return None;
    }
    let big = usize::MAX / 2;
    let mut prev: Vec<usize> = (0..=b.len())
        .map(|j| if j <= MAX { j } else { big })
        .collect();
    let mut cur = vec![big; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        let row = i + 1;
        let lo = row.saturating_sub(MAX).max(1);
        let hi = (row + MAX).min(b.len());
        cur.fill(big);
        if row <= MAX {
            cur[0] = row;
        }
        let mut best = cur[0];
        for j in lo..=hi {
            let cost = usize::from(*ca != b[j - 1]);
            cur[j] = (prev[j - 1] + cost).min(prev[j] + 1).min(cur[j - 1] + 1);
            best = best.min(cur[j]);
        }
        if best > MAX {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[b.len()];
    (d <= MAX).then_some(d)
}

/// How many named stages a name is compared with, and how many distinct
/// names get a suggestion: both bound REF005's work on any input (a real
/// Dockerfile has a few dozen stages at most).
const MAX_STAGES: usize = 128;
const MAX_NAMES: usize = 1024;
/// How many stages' cycles are computed (each walks the whole graph).
const MAX_CYCLES: usize = 64;
/// Names longer than this are compared by their first bytes only.
const MAX_NAME_CHARS: usize = 64;

/// The stage names of one Dockerfile, indexed on first use, and the
/// suggestion already found for each `--from` name.
#[derive(Debug, Default)]
pub struct StageNames {
    index: std::sync::OnceLock<Index>,
    answers: std::sync::Mutex<std::collections::HashMap<(String, usize), Option<String>>>,
    /// Each stage's cycle (see `Index::cycle`), for the first
    /// `MAX_CYCLES` stages that hold a `--from` to judge.
    cycles: std::sync::Mutex<std::collections::HashMap<usize, std::sync::Arc<Vec<bool>>>>,
}

impl Clone for StageNames {
    /// A copy starts empty: it is a cache.
    fn clone(&self) -> Self {
        StageNames::default()
    }
}

#[derive(Debug, Default)]
struct Index {
    /// Each name part (split at `-`, `_`, `.`) and the stages it is a
    /// part of (two at most are kept: only a unique one is used).
    parts: std::collections::HashMap<String, Vec<String>>,
    /// The first named stages, lowercase and cut, with their names.
    names: Vec<(Vec<char>, String)>,
    /// Each stage's index by its name (lowercase).
    by_name: std::collections::HashMap<String, usize>,
    /// Each stage's dependents: the stages built `FROM` it or copying or
    /// mounting from it.
    dependents: Vec<Vec<usize>>,
}

impl Index {
    fn new(graph: &crate::site::StageGraph) -> Index {
        let mut index = Index {
            dependents: vec![Vec::new(); graph.stages.len()],
            ..Index::default()
        };
        for (i, stage) in graph.stages.iter().enumerate() {
            if let Some(name) = stage.lower_name() {
                index.by_name.entry(name).or_insert(i);
            }
            for &on in stage.parent.iter().chain(&stage.uses) {
                if let Some(d) = index.dependents.get_mut(on) {
                    d.push(i);
                }
            }
        }
        for name in graph
            .stages
            .iter()
            .filter_map(|s| s.name.as_ref().map(|(n, _)| n))
        {
            let lower = name.to_ascii_lowercase();
            let mut seen = std::collections::HashSet::new();
            for part in lower.split(['-', '_', '.']) {
                if part.len() < lower.len() && seen.insert(part) {
                    let stages = index.parts.entry(part.to_string()).or_default();
                    if stages.len() < 2 && !stages.contains(name) {
                        stages.push(name.clone());
                    }
                }
            }
            if index.names.len() < MAX_STAGES {
                index
                    .names
                    .push((lower.chars().take(MAX_NAME_CHARS).collect(), name.clone()));
            }
        }
        index
    }

    /// Stage `at` and the stages built on it or copying from it, at any
    /// depth: none of them can be copied from in `at` (BuildKit rejects
    /// the cycle).
    fn cycle(&self, at: usize) -> Vec<bool> {
        let mut seen = vec![false; self.dependents.len()];
        let mut todo = vec![at];
        while let Some(i) = todo.pop() {
            if i >= seen.len() || seen[i] {
                continue;
            }
            seen[i] = true;
            todo.extend(self.dependents[i].iter().copied());
        }
        seen
    }

    /// The stage a name most likely meant: the one stage it is a part of
    /// (`set` → `license-set`), else the closest by edit distance (at most
    /// 2, and at most half the name); never one in `cycle`.
    fn suggest(&self, lower: &str, cycle: &[bool]) -> Option<String> {
        let allowed = |name: &str| {
            self.by_name
                .get(&name.to_ascii_lowercase())
                .is_none_or(|&i| !cycle.get(i).copied().unwrap_or(false))
        };
        if let Some(stages) = self.parts.get(lower)
            && let [only] = stages.as_slice()
            && allowed(only)
        {
            return Some(only.clone());
        }
        let wanted: Vec<char> = lower.chars().take(MAX_NAME_CHARS).collect();
        self.names
            .iter()
            .filter(|(_, name)| allowed(name))
            .filter_map(|(chars, name)| {
                let d = within_two(&wanted, chars)?;
                (d > 0 && d * 2 <= chars.len().max(wanted.len())).then_some((d, name))
            })
            .min_by_key(|(d, _)| *d)
            .map(|(_, name)| name.clone())
    }
}

impl StageNames {
    /// The suggestion for a name in stage `at`, computed once per distinct
    /// name and stage (and none past `MAX_NAMES` of them).
    fn suggest(&self, lower: &str, at: usize, graph: &crate::site::StageGraph) -> Option<String> {
        let index = self.index.get_or_init(|| Index::new(graph));
        let Ok(mut answers) = self.answers.lock() else {
            return None;
        };
        let key = (lower.to_string(), at);
        if let Some(known) = answers.get(&key) {
            return known.clone();
        }
        if answers.len() >= MAX_NAMES {
            return None;
        }
        let cycle = {
            let Ok(mut cycles) = self.cycles.lock() else {
                return None;
            };
            match cycles.get(&at) {
                Some(c) => c.clone(),
                None if cycles.len() < MAX_CYCLES => {
                    let c = std::sync::Arc::new(index.cycle(at));
                    cycles.insert(at, c.clone());
                    c
                }
                None => return None,
            }
        };
        let answer = index.suggest(lower, &cycle);
        answers.insert(key, answer.clone());
        answer
    }
}

fn check(rule: &Rule, site: &ImageSite, ctx: &RuleContext, out: &mut Vec<Diagnostic>) {
    if !matches!(site.kind, SiteKind::CopyFrom | SiteKind::RunMountFrom) {
        return;
    }
    let Some(reference) = site.reference() else {
        return;
    };
    let name = reference.input();
    let bare = reference.domain.is_none()
        && reference.tag.is_none()
        && reference.digest.is_none()
        && !reference.path_str().contains('/');
    if !bare || is_official(name) {
        return;
    }
    if ctx
        .file
        .build_refs
        .as_ref()
        .is_some_and(|r| r.defines_context(name))
    {
        return;
    }
    let Some(graph) = &ctx.file.graph else {
        return;
    };
    let lower = name.to_ascii_lowercase();
    // The stage the instruction is in: the last `FROM` before it.
    let at = graph
        .stages
        .iter()
        .rposition(|s| s.from_span.start <= site.span.start)
        .unwrap_or(0);
    let closest = ctx.file.stage_names.suggest(&lower, at, graph);
    let known = crate::facts::BuildRefs::known(ctx.file.build_refs.as_deref());
    // A build refit read builds this file (a single text is its own build).
    let built = ctx.file.supplied_args.as_ref().is_none_or(|s| s.built);
    // A name no stage is close to is most likely a named context, passed
    // by build files that were not copied along or by a build refit does
    // not see: it is reported only when refit sees the repository and a
    // build of this file, and none passes the name.
    if closest.is_none() && !(known && built) {
        return;
    }

    let what = match site.kind {
        SiteKind::CopyFrom => "COPY --from",
        _ => "RUN --mount from",
    };
    let message = match &closest {
        Some(stage) => format!(
            "`{what}={name}` is not a stage, so it pulls the image `docker.io/library/{lower}`; did you mean the stage `{stage}`?"
        ),
        None => format!(
            "`{what}={name}` is not a stage or a named context, so it pulls the image `docker.io/library/{lower}`"
        ),
    };
    let mut d = rule.report(site, message);
    d.help = Some(
        "name a stage of this Dockerfile, an image with its registry and tag \
         (`docker.io/library/busybox:1.36`), or a named context the build passes \
         (`--build-context`, bake `contexts`, Compose `additional_contexts`)"
            .to_string(),
    );
    if let (Some(stage), Some(span)) = (&closest, site.whole_file_span()) {
        let mut fix = Fix::new(
            format!("Use the stage `{stage}`"),
            Applicability::Unsafe,
            vec![Edit {
                span,
                content: stage.clone(),
            }],
        );
        fix.removes_reference = true;
        d.fix = Some(fix);
    }
    out.push(d);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_and_official_names() {
        assert_eq!(distance("bulid", "build"), 2);
        assert_eq!(distance("buidl", "build"), 2);
        assert_eq!(distance("biuld", "build"), 2);
        assert_eq!(distance("build", "build"), 0);
        assert_eq!(distance("", "ab"), 2);
        assert!(is_official("busybox"));
        assert!(is_official("node"));
        assert!(!is_official("bulid"));
    }

    #[test]
    fn the_banded_distance_agrees_with_the_full_one() {
        let words = [
            "",
            "a",
            "ab",
            "build",
            "bulid",
            "buidl",
            "biuld",
            "builder",
            "runtime",
            "rntime",
            "license-set",
            "set",
            "xx",
            "base",
            "bsae",
            "deps",
            "dep",
        ];
        for a in words {
            for b in words {
                let (ca, cb): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
                let full = distance(a, b);
                assert_eq!(within_two(&ca, &cb), (full <= 2).then_some(full), "{a} {b}");
            }
        }
    }
}
