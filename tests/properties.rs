//! Property tests (issue 11): the reference grammar and the fix engine.

use proptest::prelude::*;
use refit::diagnostic::Edit;
use refit::fix::{ChangeMap, apply_edits, only_inside_regions};
use refit::reference::Reference;
use refit::site::Span;

/// References built from the grammar's parts, written in every form Docker
/// accepts: with or without a domain, a port, `library/`, a tag, a digest.
fn reference() -> impl Strategy<Value = String> {
    let component = "[a-z0-9]{1,6}([._-][a-z0-9]{1,4})?";
    let domain = prop_oneof![
        Just(String::new()),
        "[a-z][a-z0-9]{0,6}\\.(io|com|dev)(:[0-9]{2,5})?/",
        Just("localhost:5000/".to_string()),
        Just("docker.io/".to_string()),
        Just("index.docker.io/".to_string()),
    ];
    let path = prop::collection::vec(component, 1..4).prop_map(|p| p.join("/"));
    let tag = prop::option::of("[A-Za-z0-9_][A-Za-z0-9_.-]{0,12}");
    let digest = prop::option::of("[0-9a-f]{64}");
    (domain, path, tag, digest).prop_map(|(d, p, t, g)| {
        let mut s = format!("{d}{p}");
        if let Some(t) = t {
            s.push(':');
            s.push_str(&t);
        }
        if let Some(g) = g {
            s.push_str("@sha256:");
            s.push_str(&g);
        }
        s
    })
}

/// The written parts of a parsed reference, put back together.
fn display(r: &Reference) -> String {
    let mut s = String::new();
    if let Some(d) = r.domain_str() {
        s.push_str(d);
        s.push('/');
    }
    s.push_str(r.path_str());
    if let Some(t) = r.tag_str() {
        s.push(':');
        s.push_str(t);
    }
    if let Some(g) = r.digest_str() {
        s.push('@');
        s.push_str(g);
    }
    s
}

fn parts(r: &Reference) -> (String, String, Option<String>, Option<String>) {
    (
        r.normalized_domain().to_string(),
        r.normalized_path(),
        r.tag_str().map(str::to_string),
        r.digest_str().map(str::to_string),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn parse_display_parse_is_the_same(s in reference()) {
        let r = Reference::parse_normalized(&s).expect("generated from the grammar");
        let shown = display(&r);
        prop_assert_eq!(&shown, &s);
        let again = Reference::parse_normalized(&shown).expect("it parsed before");
        prop_assert_eq!(parts(&again), parts(&r));
    }

    #[test]
    fn normalisation_is_idempotent(s in reference()) {
        let r = Reference::parse_normalized(&s).expect("generated from the grammar");
        let n = r.normalized();
        let again = Reference::parse_normalized(&n).expect("normalised parses");
        prop_assert_eq!(again.normalized(), n.clone());
        prop_assert_eq!(parts(&again), parts(&r));
        // Docker's familiar form drops `docker.io/`, so a Docker Hub path
        // whose first part looks like a domain (`docker.io/0.0/a`) would
        // read as one; Docker Hub names cannot hold `.` or `:`, and Docker
        // shortens them the same way.
        let first = r.normalized_path();
        let first = first.split('/').next().unwrap_or("");
        if !(r.is_docker_hub() && (first.contains(['.', ':']) || first == "localhost")) {
            let familiar = Reference::parse_normalized(&r.familiar()).expect("familiar parses");
            prop_assert_eq!(familiar.normalized(), n);
        }
    }

    #[test]
    fn any_text_parses_or_errs_without_panic(s in "\\PC{0,80}") {
        if let Ok(r) = Reference::parse_normalized(&s) {
            let n = r.normalized();
            prop_assert_eq!(Reference::parse_normalized(&n).map(|x| x.normalized()).ok(), Some(n));
        }
        let _ = Reference::parse(&s);
    }
}

/// A text and sorted, disjoint edits on it (ASCII, so every offset is a
/// character boundary).
fn text_and_edits() -> impl Strategy<Value = (String, Vec<Edit>)> {
    "[a-z \n]{0,60}"
        .prop_flat_map(|text| {
            let len = text.len();
            let edit = (0..=len, 0..=4usize, "[A-Z]{0,5}");
            (Just(text), prop::collection::vec(edit, 0..6))
        })
        .prop_map(|(text, raw)| {
            let mut edits: Vec<Edit> = Vec::new();
            let mut sorted = raw;
            sorted.sort_by_key(|e| e.0);
            let mut end = 0;
            for (start, len, content) in sorted {
                // Disjoint, and no two insertions at the same place.
                if start < end || (start == end && !edits.is_empty()) {
                    continue;
                }
                let stop = (start + len).min(text.len());
                end = stop;
                edits.push(Edit {
                    span: Span::new(start, stop),
                    content,
                });
            }
            (text, edits)
        })
}

/// Apply one edit, shifted by what the edits before it changed.
fn apply_one(text: &str, edit: &Edit, shift: isize) -> String {
    let start = edit.span.start.checked_add_signed(shift).unwrap();
    let end = edit.span.end.checked_add_signed(shift).unwrap();
    apply_edits(
        text,
        &[Edit {
            span: Span::new(start, end),
            content: edit.content.clone(),
        }],
    )
}

fn delta(edit: &Edit) -> isize {
    edit.content.len() as isize - edit.span.len() as isize
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    /// Applying disjoint edits together, front to back, or back to front
    /// gives the same text: they commute.
    #[test]
    fn non_overlapping_edits_commute((text, edits) in text_and_edits()) {
        let together = apply_edits(&text, &edits);
        let mut back_to_front = text.clone();
        for e in edits.iter().rev() {
            back_to_front = apply_one(&back_to_front, e, 0);
        }
        prop_assert_eq!(&back_to_front, &together);
        let mut front_to_back = text.clone();
        let mut shift = 0;
        for e in &edits {
            front_to_back = apply_one(&front_to_back, e, shift);
            shift += delta(e);
        }
        prop_assert_eq!(&front_to_back, &together);
    }

    /// The bytes between edits are the original's, in order; the change map
    /// places every region where its content is.
    #[test]
    fn an_edit_never_shifts_another_regions_bytes((text, edits) in text_and_edits()) {
        let fixed = apply_edits(&text, &edits);
        let mut map = ChangeMap::default();
        map.record(&edits);
        prop_assert!(only_inside_regions(&text, &fixed, map.regions()));
        let mut shift = 0isize;
        for e in &edits {
            let at = e.span.start.checked_add_signed(shift).unwrap();
            prop_assert_eq!(&fixed[at..at + e.content.len()], e.content.as_str());
            shift += delta(e);
        }
        // A second round of edits leaves the first round's regions intact
        // when it stays outside them.
        if let Some(first) = map.regions().first().copied() {
            let after = first.fixed.end;
            if after < fixed.len() {
                let second = [Edit { span: Span::new(after + 1, after + 1), content: "Z".into() }];
                if !map.regions().iter().any(|r| r.fixed.start <= after + 1 && after < r.fixed.end) {
                    let fixed2 = apply_edits(&fixed, &second);
                    prop_assert_eq!(&fixed2[first.fixed.start..first.fixed.end], &fixed[first.fixed.start..first.fixed.end]);
                    map.record(&second);
                    prop_assert!(only_inside_regions(&text, &fixed2, map.regions()));
                }
            }
        }
    }
}

/// Found by the `reference` fuzz target: a Docker Hub name of 64 hex digits
/// parses with its domain, but its familiar form is what Docker reads as an
/// image ID, so it is refused there (as Docker refuses it).
#[test]
fn a_hex_name_parses_only_with_its_domain() {
    let hex = "1111111111111111111111111111111111118b333333d3331111111111111111";
    let full = format!("docker.io/library/{hex}");
    let r = refit::reference::Reference::parse_normalized(&full).expect("parses with its domain");
    assert_eq!(r.familiar(), hex);
    assert!(refit::reference::Reference::parse_normalized(hex).is_err());
}
