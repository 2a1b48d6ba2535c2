//! The fix engine: apply non-overlapping edits, re-check, repeat.

use crate::check::Checked;
use crate::diagnostic::{Applicability, Diagnostic, Edit};
use crate::site::{ImageSite, SiteValue, Span};

/// How many rounds of fixes before giving up on convergence.
pub const MAX_ROUNDS: usize = 10;

/// A fix that was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub code: &'static str,
    pub title: String,
    /// Where the diagnostic was, in the original text.
    pub span: Span,
}

/// One changed region: `original` in the input became `fixed` in the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub original: Span,
    pub fixed: Span,
}

#[derive(Debug, Clone)]
pub struct FixOutcome {
    /// The fixed text (equal to the input when nothing applied).
    pub text: String,
    pub applied: Vec<Applied>,
    /// The check of the final text.
    pub checked: Checked,
    /// Changed regions, sorted and disjoint.
    pub regions: Vec<Region>,
    /// Why fixing stopped early, when it did (reported as E005).
    pub refused: Option<String>,
}

/// Apply sorted, disjoint edits.
pub fn apply_edits(text: &str, edits: &[Edit]) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut at = 0;
    for edit in edits {
        out.push_str(text.get(at..edit.span.start).unwrap_or(""));
        out.push_str(&edit.content);
        at = edit.span.end;
    }
    out.push_str(text.get(at..).unwrap_or(""));
    out
}

fn overlaps(a: Span, b: Span) -> bool {
    if a.is_empty() && b.is_empty() {
        return a.start == b.start;
    }
    // An insertion clashes with a replacement that starts where it is (two
    // fixes rewriting the same reference), not with one that ends there.
    if a.is_empty() {
        return b.start <= a.start && a.start < b.end;
    }
    if b.is_empty() {
        return a.start <= b.start && b.start < a.end;
    }
    a.start < b.end && b.start < a.end
}

/// Run the fix loop. `check` re-parses and re-checks a candidate text.
pub fn fix(
    original: &str,
    first: Checked,
    unsafe_fixes: bool,
    check: impl Fn(&str) -> Result<Checked, Box<Diagnostic>>,
) -> FixOutcome {
    let mut text = original.to_string();
    let mut checked = first;
    let mut site_count = checked.sites.len();
    let mut applied = Vec::new();
    let mut map = ChangeMap::default();
    let mut refused = None;
    let mut converged = false;
    // Fixes refused because they would change what another reference means
    // (an ARG default two sites share), as edits in the original text.
    let mut vetoed: Vec<Vec<Edit>> = Vec::new();
    let mut rounds = 0;
    let mut attempts = 0;
    while rounds < MAX_ROUNDS && attempts < MAX_ROUNDS + checked.diagnostics.len() + 1 {
        attempts += 1;
        let mut accepted: Vec<&[Edit]> = Vec::new();
        let mut targets: Vec<Span> = Vec::new();
        let mut round_applied = Vec::new();
        let mut candidates: Vec<&Diagnostic> = checked
            .diagnostics
            .iter()
            .filter(|d| {
                d.fix.as_ref().is_some_and(|f| {
                    !f.edits.is_empty()
                        && (f.applicability == Applicability::Safe || unsafe_fixes)
                        && !vetoed.contains(&in_original(&map, &f.edits))
                })
            })
            .collect();
        candidates.sort_by_key(|d| d.fix.as_ref().and_then(|f| f.edits.first()).map(|e| e.span));
        for d in candidates {
            let Some(fix) = &d.fix else { continue };
            let in_bounds = fix.edits.iter().all(|e| {
                e.span.start <= e.span.end
                    && text.is_char_boundary(e.span.start)
                    && text.is_char_boundary(e.span.end)
                    && e.span.end <= text.len()
            });
            if !in_bounds {
                continue;
            }
            // The same edit from several sites (one ARG default used by two
            // FROM lines) is one change.
            let duplicate = accepted.contains(&fix.edits.as_slice());
            if !duplicate {
                let clash = accepted.iter().any(|a| {
                    a.iter()
                        .any(|x| fix.edits.iter().any(|y| overlaps(x.span, y.span)))
                });
                if clash {
                    continue;
                }
                accepted.push(&fix.edits);
            }
            targets.push(d.span);
            round_applied.push(Applied {
                code: d.code,
                title: fix.title.clone(),
                span: map.to_original(d.span),
            });
        }
        if accepted.is_empty() {
            converged = true;
            break;
        }
        let removed = candidates_removing(&checked, &accepted);
        let expected = site_count.saturating_sub(removed);
        let mut edits: Vec<Edit> = accepted.into_iter().flatten().cloned().collect();
        edits.sort();
        let candidate = apply_edits(&text, &edits);
        match check(&candidate) {
            Err(e) => {
                refused = Some(format!(
                    "a fix produced text that does not parse ({}); the last fixes were not applied",
                    e.message
                ));
                break;
            }
            Ok(next) if next.sites.len() != expected => {
                refused = Some(format!(
                    "a fix changed the number of image references from {site_count} to {}; the last fixes were not applied",
                    next.sites.len()
                ));
                break;
            }
            Ok(next) => {
                let changed = meaning_changes(&checked.sites, &next.sites, &targets);
                if !changed.is_empty() {
                    // Refuse the fixes that touch a reference whose meaning
                    // changed without a fix aimed at it, and redo the round.
                    let culprits: Vec<Vec<Edit>> = checked
                        .diagnostics
                        .iter()
                        .filter_map(|d| d.fix.as_ref())
                        .filter(|f| {
                            f.edits.iter().any(|e| {
                                changed.iter().any(|site| {
                                    site_spans(site).iter().any(|s| touches(*s, e.span))
                                })
                            })
                        })
                        .map(|f| in_original(&map, &f.edits))
                        .collect();
                    if culprits.iter().all(|c| vetoed.contains(c)) {
                        refused = Some(format!(
                            "a fix changed what `{}` means; the last fixes were not applied",
                            changed.first().map_or("", |s| s.raw.as_str())
                        ));
                        break;
                    }
                    vetoed.extend(culprits);
                    continue;
                }
                rounds += 1;
                site_count = next.sites.len();
                map.record(&edits);
                text = candidate;
                checked = next;
                applied.extend(round_applied);
            }
        }
    }
    if !converged && refused.is_none() {
        refused = Some(format!(
            "fixes did not converge after {MAX_ROUNDS} rounds; nothing was changed"
        ));
        // Refuse the whole result: a loop means two fixes disagree.
        let first = check(original);
        return FixOutcome {
            text: original.to_string(),
            applied: Vec::new(),
            checked: first.unwrap_or(checked),
            regions: Vec::new(),
            refused,
        };
    }
    if !vetoed.is_empty() {
        for d in &mut checked.diagnostics {
            if d.fix
                .as_ref()
                .is_some_and(|f| vetoed.contains(&in_original(&map, &f.edits)))
            {
                d.fix = None;
                d.help = Some(
                    "no safe fix: the edit would also change what another reference in this file means; change this use by hand"
                        .to_string(),
                );
            }
        }
    }
    FixOutcome {
        text,
        applied,
        checked,
        regions: map.regions,
        refused,
    }
}

/// Edits mapped back to the original text, to recognise a fix across rounds.
fn in_original(map: &ChangeMap, edits: &[Edit]) -> Vec<Edit> {
    edits
        .iter()
        .map(|e| Edit {
            span: map.to_original(e.span),
            content: e.content.clone(),
        })
        .collect()
}

fn touches(a: Span, b: Span) -> bool {
    a.start <= b.end && b.start <= a.end
}

/// The file spans a site's value comes from: the site and its pieces.
fn site_spans(site: &ImageSite) -> Vec<Span> {
    let mut spans = vec![site.span];
    if let SiteValue::Resolved { pieces, .. } = &site.value {
        spans.extend(pieces.iter().filter_map(|p| p.file));
    }
    spans
}

/// What a site means: its fully normalized reference, or what it is made of.
pub fn meaning(site: &ImageSite) -> String {
    match &site.value {
        SiteValue::Resolved {
            parsed: Ok(reference),
            ..
        } => reference.normalized(),
        SiteValue::Resolved { text, .. } => format!("unparsed {text}"),
        SiteValue::Unresolved { missing } => format!("unresolved {}", missing.join(",")),
        SiteValue::Mirror(m) => format!("mirror {}", m.written),
    }
}

/// The sites (before a round) whose meaning changed though no fix of the
/// round was aimed at them: a safe fix changes only the reference it is for.
fn meaning_changes<'a>(
    before: &'a [ImageSite],
    after: &[ImageSite],
    targets: &[Span],
) -> Vec<&'a ImageSite> {
    if before.len() != after.len() {
        // A fix removed a reference (REF005 turns `--from=<image>` into a
        // stage): the others cannot be paired by position, so each
        // reference no fix aimed at must still be there with its meaning.
        let mut left: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for a in after {
            *left.entry(meaning(a)).or_default() += 1;
        }
        return before
            .iter()
            .filter(|b| !targets.contains(&b.span))
            .filter(|b| match left.get_mut(&meaning(b)) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    false
                }
                _ => true,
            })
            .collect();
    }
    before
        .iter()
        .zip(after)
        .filter(|(b, _)| !targets.contains(&b.span))
        .filter(|(b, a)| meaning(b) != meaning(a))
        .map(|(b, _)| b)
        .collect()
}

/// Tracks which ranges of the original text were replaced, across rounds.
#[derive(Debug, Default, Clone)]
pub struct ChangeMap {
    regions: Vec<Region>,
}

impl ChangeMap {
    pub fn regions(&self) -> &[Region] {
        &self.regions
    }

    /// Growth of the text caused by the regions that end at or before `pos`.
    fn delta_before(&self, pos: usize) -> isize {
        self.regions
            .iter()
            .filter(|r| r.fixed.end <= pos)
            .map(|r| r.fixed.len() as isize - r.original.len() as isize)
            .sum()
    }

    fn original_pos(&self, pos: usize) -> usize {
        (pos as isize - self.delta_before(pos)).max(0) as usize
    }

    /// Map a span of the current text back to the original text.
    pub fn to_original(&self, span: Span) -> Span {
        let start = self
            .regions
            .iter()
            .find(|r| r.fixed.start <= span.start && span.start <= r.fixed.end)
            .map_or_else(|| self.original_pos(span.start), |r| r.original.start);
        let end = self
            .regions
            .iter()
            .find(|r| r.fixed.start <= span.end && span.end <= r.fixed.end)
            .map_or_else(|| self.original_pos(span.end), |r| r.original.end);
        Span::new(start, end.max(start))
    }

    /// Record sorted, disjoint edits made on the current text.
    pub fn record(&mut self, edits: &[Edit]) {
        for edit in edits.iter().rev() {
            let (a, b) = (edit.span.start, edit.span.end);
            let growth = edit.content.len() as isize - (b - a) as isize;
            let touching: Vec<usize> = (0..self.regions.len())
                .filter(|&i| self.regions[i].fixed.start <= b && a <= self.regions[i].fixed.end)
                .collect();
            let first = touching.first().map(|&i| self.regions[i]);
            let last = touching.last().map(|&i| self.regions[i]);
            let (cs, os) = match first {
                Some(r) if r.fixed.start <= a => (r.fixed.start, r.original.start),
                _ => (a, self.original_pos(a)),
            };
            let (ce, oe) = match last {
                Some(r) if r.fixed.end >= b => (r.fixed.end, r.original.end),
                _ => (b, self.original_pos(b)),
            };
            let merged = Region {
                original: Span::new(os, oe),
                fixed: Span::new(cs, (ce as isize + growth) as usize),
            };
            let mut next = Vec::with_capacity(self.regions.len() + 1);
            for (i, r) in self.regions.iter().enumerate() {
                if touching.contains(&i) {
                    continue;
                }
                if r.fixed.start > b {
                    next.push(Region {
                        original: r.original,
                        fixed: Span::new(
                            (r.fixed.start as isize + growth) as usize,
                            (r.fixed.end as isize + growth) as usize,
                        ),
                    });
                } else {
                    next.push(*r);
                }
            }
            next.push(merged);
            next.sort_by_key(|r| r.fixed.start);
            self.regions = next;
        }
    }
}

/// True when `fixed` equals `original` everywhere outside `regions`.
pub fn only_inside_regions(original: &str, fixed: &str, regions: &[Region]) -> bool {
    let (o, f) = (original.as_bytes(), fixed.as_bytes());
    let (mut oa, mut fa) = (0, 0);
    for r in regions {
        if o.get(oa..r.original.start) != f.get(fa..r.fixed.start) {
            return false;
        }
        oa = r.original.end;
        fa = r.fixed.end;
    }
    o.get(oa..) == f.get(fa..)
}

/// How many accepted fixes turn an image reference into something else.
fn candidates_removing(checked: &Checked, accepted: &[&[Edit]]) -> usize {
    checked
        .diagnostics
        .iter()
        .filter_map(|d| d.fix.as_ref())
        .filter(|f| f.removes_reference && accepted.contains(&f.edits.as_slice()))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(start: usize, end: usize, content: &str) -> Edit {
        Edit {
            span: Span::new(start, end),
            content: content.to_string(),
        }
    }

    #[test]
    fn change_map_composes_rounds() {
        let original = "FROM node:20\nFROM k8s.gcr.io/pause\n";
        let e1 = [
            edit(5, 5, "docker.io/library/"),
            edit(18, 28, "registry.k8s.io"),
        ];
        let round1 = apply_edits(original, &e1);
        let mut map = ChangeMap::default();
        map.record(&e1);
        assert!(only_inside_regions(original, &round1, map.regions()));
        // A second round edits inside the first insertion and after it.
        let e2 = [edit(5, 14, "ghcr.io")];
        let round2 = apply_edits(&round1, &e2);
        map.record(&e2);
        assert_eq!(
            round2,
            "FROM ghcr.io/library/node:20\nFROM registry.k8s.io/pause\n"
        );
        assert!(only_inside_regions(original, &round2, map.regions()));
        assert_eq!(map.regions().len(), 2);
        assert_eq!(map.regions()[0].original, Span::new(5, 5));
        assert_eq!(map.to_original(Span::new(34, 49)), Span::new(18, 28));
    }

    #[test]
    fn detects_changes_outside() {
        let regions = [Region {
            original: Span::new(0, 1),
            fixed: Span::new(0, 2),
        }];
        assert!(only_inside_regions("ab", "xxb", &regions));
        assert!(!only_inside_regions("ab", "xxc", &regions));
    }

    fn site_stub() -> crate::site::ImageSite {
        crate::site::ImageSite {
            kind: crate::site::SiteKind::From,
            span: Span::new(0, 0),
            raw: String::new(),
            value: crate::site::SiteValue::Unresolved {
                missing: Vec::new(),
            },
            stage: None,
            path: None,
            extra: crate::site::Extra::default(),
        }
    }

    /// A stand-in checker: one site per line; a line `a` offers a fix to
    /// `b`, a line `b` offers a fix back to `a` when `flip` is set, and a
    /// line `bad` does not parse.
    fn toy_check(text: &str, flip: bool) -> Result<Checked, Box<Diagnostic>> {
        let mut diagnostics = Vec::new();
        let mut sites = Vec::new();
        let mut at = 0;
        for line in text.split_inclusive('\n') {
            let word = line.trim_end();
            if word == "bad" {
                return Err(Box::new(crate::diagnostic::file_error(
                    "E004",
                    "bad line".to_string(),
                    Span::new(at, at + 3),
                )));
            }
            sites.push(site_stub());
            let to = match word {
                "a" => Some("b"),
                "b" if flip => Some("a"),
                "c" => Some("bad"),
                _ => None,
            };
            if let Some(to) = to {
                diagnostics.push(Diagnostic {
                    kind: crate::diagnostic::DiagnosticKind::Finding,
                    code: "TEST",
                    name: "test",
                    severity: crate::diagnostic::Severity::Warning,
                    message: String::new(),
                    span: Span::new(at, at + word.len()),
                    help: None,
                    yaml_path: None,
                    fix: Some(crate::diagnostic::Fix::new(
                        format!("Use {to}"),
                        Applicability::Safe,
                        vec![edit(at, at + word.len(), to)],
                    )),
                });
            }
            at += line.len();
        }
        Ok(Checked { sites, diagnostics })
    }

    #[test]
    fn applies_and_converges() {
        let first = toy_check("a\nx\na\n", false).unwrap();
        let out = fix("a\nx\na\n", first, false, |t| toy_check(t, false));
        assert_eq!(out.text, "b\nx\nb\n");
        assert_eq!(out.applied.len(), 2);
        assert!(out.refused.is_none());
    }

    #[test]
    fn refuses_a_result_that_does_not_parse() {
        let first = toy_check("a\nc\n", false).unwrap();
        let out = fix("a\nc\n", first, false, |t| toy_check(t, false));
        // Both fixes were in the same round, so neither is applied.
        assert_eq!(out.text, "a\nc\n");
        assert!(out.refused.unwrap().contains("does not parse"));
    }

    #[test]
    fn refuses_fixes_that_never_converge() {
        let first = toy_check("a\n", true).unwrap();
        let out = fix("a\n", first, false, |t| toy_check(t, true));
        assert_eq!(out.text, "a\n");
        assert!(out.applied.is_empty());
        assert!(out.refused.unwrap().contains("did not converge"));
    }

    #[test]
    fn refuses_a_change_in_site_count() {
        let first = toy_check("a\n", false).unwrap();
        let out = fix("a\n", first, false, |t| {
            toy_check(t, false).map(|mut c| {
                if t.contains('b') {
                    c.sites.push(site_stub());
                }
                c
            })
        });
        assert_eq!(out.text, "a\n");
        assert!(out.refused.unwrap().contains("number of image references"));
    }

    /// Two references built from one shared value (line 1), the second
    /// with a prefix of its own: a fix for the first that edits the shared
    /// value would change the second, so the engine refuses it.
    fn shared_check(text: &str) -> Result<Checked, Box<Diagnostic>> {
        let value = text.lines().next().unwrap_or("").to_string();
        let site = |span: Span, text: String, own: Option<Span>| {
            let mut pieces = vec![crate::site::Piece {
                text: Span::new(text.len() - value.len(), text.len()),
                file: Some(Span::new(0, value.len())),
            }];
            if let Some(own) = own {
                pieces.insert(
                    0,
                    crate::site::Piece {
                        text: Span::new(0, own.len()),
                        file: Some(own),
                    },
                );
            }
            crate::site::ImageSite {
                value: crate::site::SiteValue::Resolved {
                    parsed: crate::reference::Reference::parse_normalized(&text),
                    text,
                    pieces,
                },
                span,
                ..site_stub()
            }
        };
        let second = value.len() + 1;
        let sites = vec![
            site(Span::new(0, value.len()), value.clone(), None),
            site(
                Span::new(second, text.len()),
                format!("ghcr.io/{value}"),
                Some(Span::new(second, second + 8)),
            ),
        ];
        let mut diagnostics = Vec::new();
        if value == "node" {
            diagnostics.push(Diagnostic {
                kind: crate::diagnostic::DiagnosticKind::Finding,
                code: "TEST",
                name: "test",
                severity: crate::diagnostic::Severity::Warning,
                message: String::new(),
                span: Span::new(0, 4),
                help: None,
                yaml_path: None,
                fix: Some(crate::diagnostic::Fix::new(
                    "Use quay.io/node".to_string(),
                    Applicability::Safe,
                    vec![edit(0, 0, "quay.io/")],
                )),
            });
        }
        Ok(Checked { sites, diagnostics })
    }

    #[test]
    fn refuses_a_fix_that_changes_another_reference() {
        let text = "node\nghcr.io/";
        let out = fix(text, shared_check(text).unwrap(), true, shared_check);
        assert_eq!(out.text, text);
        assert!(out.applied.is_empty());
        assert!(out.refused.is_none());
        let d = &out.checked.diagnostics[0];
        assert!(d.fix.is_none());
        assert!(d.help.as_deref().unwrap_or("").contains("no safe fix"));
    }

    #[test]
    fn overlap_rules() {
        assert!(overlaps(Span::new(3, 3), Span::new(3, 3)));
        assert!(overlaps(Span::new(3, 3), Span::new(3, 5)));
        assert!(!overlaps(Span::new(5, 5), Span::new(3, 5)));
        assert!(overlaps(Span::new(4, 4), Span::new(3, 5)));
        assert!(!overlaps(Span::new(1, 3), Span::new(3, 5)));
    }
}
