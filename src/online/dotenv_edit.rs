//! `refit update` through `.env`: a Compose reference whose tag (or whole
//! image) comes from a variable of the `.env` file beside it
//! (`image: app:${TAG}`, `image: ${IMAGE}`) is updated where the text
//! is: in the `.env` file.
//!
//! The site model is `--fix`'s: the edit goes to the one place that holds
//! the tag text, and only when the result reads back as the expected
//! reference. Which variable holds it is not guessed from offsets: each
//! candidate edit of a variable the reference names is tried by reading
//! the Compose file again with the edited value, and exactly one must give
//! the expected reference. [`check_group`] then reads every Compose file
//! that shares the `.env` file with all the edits applied: a value that
//! feeds another image, or a reference that changes other than proposed,
//! refuses the edits of that file.

use crate::diagnostic::Edit;
use crate::kind::FileKind;
use crate::site::{ImageSite, Span};
use crate::sources::SourceOptions;
use std::collections::BTreeMap;

/// The most places in one value tried as the edited text.
const MAX_TRIES: usize = 16;
/// The largest `.env` file refit edits.
pub const MAX_ENV_BYTES: u64 = 1024 * 1024;

/// One variable's definition in a `.env` file: the value's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Definition {
    name: String,
    value: Span,
}

/// The definitions of a `.env` text, with the byte span of each value
/// (what `crate::sources::parse_dotenv` reads: quotes stripped, an
/// unquoted value ending at ` #`).
fn definitions(text: &str) -> Vec<Definition> {
    let mut out = Vec::new();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let start = at;
        at += line.len();
        let body = line.trim_end_matches(['\n', '\r']);
        let lead = body.len() - body.trim_start().len();
        let trimmed = body.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let (skip, rest) = match trimmed.strip_prefix("export ") {
            Some(r) => ("export ".len(), r),
            None => (0, trimmed),
        };
        let Some(eq) = rest.find('=') else {
            continue;
        };
        let name = rest[..eq].trim().to_string();
        let value_raw = &rest[eq + 1..];
        let value_start = start + lead + skip + eq + 1;
        let inner = value_raw.trim();
        let offset = value_start + (value_raw.len() - value_raw.trim_start().len());
        let span = if inner.len() >= 2
            && ((inner.starts_with('"') && inner.ends_with('"'))
                || (inner.starts_with('\'') && inner.ends_with('\'')))
        {
            Span::new(offset + 1, offset + inner.len() - 1)
        } else {
            let kept = inner.split(" #").next().unwrap_or(inner).trim_end();
            Span::new(offset, offset + kept.len())
        };
        out.push(Definition { name, value: span });
    }
    out
}

/// The variable names a Compose value refers to (`$NAME`, `${NAME…}`).
fn names_in(raw: &str) -> Vec<String> {
    let b = raw.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'$' {
            i += 1;
            continue;
        }
        match b.get(i + 1) {
            Some(b'$') => i += 2,
            Some(b'{') => {
                let n = raw[i + 2..]
                    .bytes()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
                    .count();
                out.push(raw[i + 2..i + 2 + n].to_string());
                i += 2 + n;
            }
            Some(c) if c.is_ascii_alphabetic() || *c == b'_' => {
                let n = raw[i + 1..]
                    .bytes()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
                    .count();
                out.push(raw[i + 1..i + 1 + n].to_string());
                i += 1 + n;
            }
            _ => i += 1,
        }
    }
    out.retain(|n| !n.is_empty());
    out.sort();
    out.dedup();
    out
}

/// The references of a Compose text read with `dotenv`.
pub fn read_with(
    text: &str,
    options: &SourceOptions,
    dotenv: BTreeMap<String, String>,
) -> Option<Vec<ImageSite>> {
    let options = SourceOptions {
        dotenv,
        ..options.clone()
    };
    crate::check::extract_with_notes(FileKind::Compose, text, &options)
        .ok()
        .map(|(s, _)| s)
}

/// The input text of each site's reference.
pub fn inputs(sites: &[ImageSite]) -> Vec<Option<String>> {
    sites
        .iter()
        .map(|s| s.reference().map(|r| r.input().to_string()))
        .collect()
}

/// The edit of a `.env` value (`env_text`) that makes the `index`th site
/// of a Compose file (`text`, read with `options`) read as `expected`:
/// the variable's name and the edit.
pub fn plan(
    text: &str,
    sites: &[ImageSite],
    index: usize,
    options: &SourceOptions,
    env_text: &str,
    expected: &str,
) -> Result<(String, Edit), String> {
    let site = sites.get(index).ok_or("no such site")?;
    let old = site
        .reference()
        .map(|r| r.input().to_string())
        .ok_or("not a reference")?;
    // The part that changes: between the common prefix and suffix.
    let (a, b) = (old.as_bytes(), expected.as_bytes());
    let mut p = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    while !old.is_char_boundary(p) || !expected.is_char_boundary(p) {
        p -= 1;
    }
    let max_s = a.len().min(b.len()) - p;
    let mut s = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(max_s)
        .take_while(|(x, y)| x == y)
        .count();
    while !old.is_char_boundary(a.len() - s) || !expected.is_char_boundary(b.len() - s) {
        s -= 1;
    }
    let from = &old[p..a.len() - s];
    let to = &expected[p..b.len() - s];
    let defs = definitions(env_text);
    let mut found: Vec<(String, Edit)> = Vec::new();
    let mut reasons = Vec::new();
    for name in names_in(&site.raw) {
        if options.env.contains_key(&name) {
            reasons.push(format!("`{name}` is set with `--env`"));
            continue;
        }
        let mine: Vec<&Definition> = defs.iter().filter(|d| d.name == name).collect();
        let def = match mine.as_slice() {
            [] => continue,
            [one] => *one,
            _ => {
                reasons.push(format!("`{name}` is set {} times in `.env`", mine.len()));
                continue;
            }
        };
        let Some(value) = env_text.get(def.value.start..def.value.end) else {
            continue;
        };
        // Where the changing text may sit in the value.
        let places: Vec<usize> = if from.is_empty() {
            (0..=value.len())
                .filter(|i| value.is_char_boundary(*i))
                .collect()
        } else {
            value.match_indices(from).map(|(i, _)| i).collect()
        };
        for at in places.into_iter().take(MAX_TRIES) {
            let mut new_value = String::with_capacity(value.len() + to.len());
            new_value.push_str(&value[..at]);
            new_value.push_str(to);
            new_value.push_str(&value[at + from.len()..]);
            let mut dotenv = options.dotenv.clone();
            dotenv.insert(name.clone(), new_value);
            let Some(after) = read_with(text, options, dotenv) else {
                continue;
            };
            let reads = after.len() == sites.len()
                && after
                    .get(index)
                    .and_then(|s| s.reference())
                    .is_some_and(|r| r.input() == expected);
            if reads {
                let start = def.value.start + at;
                found.push((
                    name.clone(),
                    Edit {
                        span: Span::new(start, start + from.len()),
                        content: to.to_string(),
                    },
                ));
            }
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 if !reasons.is_empty() => Err(format!(
            "the tag comes from `.env`, which refit does not edit here: {}",
            reasons.join("; ")
        )),
        0 => Err(
            "the reference is composed from values refit cannot edit in place (no single `.env` value gives the new reference)"
                .to_string(),
        ),
        n => Err(format!(
            "{n} places in `.env` would give the new reference; refit does not guess"
        )),
    }
}

/// One Compose file that reads a `.env` file, for [`check_group`].
pub struct Reader<'a> {
    pub display: &'a str,
    pub text: &'a str,
    pub options: &'a SourceOptions,
    pub sites: &'a [ImageSite],
    /// The sites (by index) with an edit of this `.env` file, and the
    /// reference each must read as.
    pub expected: Vec<(usize, String)>,
}

/// Apply the edits to the `.env` text and read every Compose file that
/// reads it again: each reference that changes must be one that was
/// proposed, read exactly as proposed, and all the references one
/// variable feeds must name the same image. The new `.env` text, or why
/// not.
pub fn check_group(env_text: &str, edits: &[Edit], readers: &[Reader]) -> Result<String, String> {
    let mut edits = edits.to_vec();
    edits.sort_by_key(|e| (e.span.start, e.span.end));
    edits.dedup();
    if edits
        .windows(2)
        .any(|w| w[0].span.end > w[1].span.start || w[0].span == w[1].span)
    {
        return Err("the edits of `.env` overlap; nothing written".to_string());
    }
    let fixed = crate::fix::apply_edits(env_text, &edits);
    let dotenv = crate::sources::parse_dotenv(&fixed);
    let mut names: Vec<String> = Vec::new();
    for r in readers {
        let after = read_with(r.text, r.options, dotenv.clone())
            .ok_or_else(|| format!("{} does not read with the new `.env`", r.display))?;
        if after.len() != r.sites.len() {
            return Err(format!(
                "{} reads differently with the new `.env`; nothing written",
                r.display
            ));
        }
        for (i, (before, now)) in inputs(r.sites).iter().zip(inputs(&after)).enumerate() {
            if *before == now {
                continue;
            }
            let Some(before_site) = r.sites.get(i) else {
                continue;
            };
            match r.expected.iter().find(|(x, _)| *x == i) {
                Some((_, e)) if now.as_deref() == Some(e.as_str()) => {
                    if let Some(name) = before_site.reference().map(|x| x.normalized_name()) {
                        names.push(name);
                    }
                }
                _ => {
                    return Err(format!(
                        "the `.env` value is shared with `{}` ({}), which would become `{}`",
                        before_site.raw,
                        r.display,
                        now.unwrap_or_default()
                    ));
                }
            }
        }
    }
    names.sort();
    names.dedup();
    if names.len() > 1 {
        return Err(format!(
            "the `.env` value feeds references to different images ({}); left alone",
            names.join(", ")
        ));
    }
    Ok(fixed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_give_value_spans() {
        let text = "# c\nTAG=1.0\nexport IMAGE=\"app:2\"\nX = 'y' \nZ=3 # note\n";
        let d = definitions(text);
        let got: Vec<(&str, &str)> = d
            .iter()
            .map(|d| (d.name.as_str(), &text[d.value.start..d.value.end]))
            .collect();
        assert_eq!(
            got,
            [("TAG", "1.0"), ("IMAGE", "app:2"), ("X", "y"), ("Z", "3")]
        );
    }

    #[test]
    fn names_of_a_compose_value() {
        assert_eq!(names_in("app:${TAG:-1}-$VARIANT$$x"), ["TAG", "VARIANT"]);
        assert_eq!(names_in("${IMAGE}"), ["IMAGE"]);
        assert!(names_in("nginx:1.27").is_empty());
    }

    fn compose(text: &str, env: &str) -> (Vec<ImageSite>, SourceOptions) {
        let options = SourceOptions {
            dotenv: crate::sources::parse_dotenv(env),
            ..SourceOptions::default()
        };
        let sites = crate::check::extract_with_notes(FileKind::Compose, text, &options)
            .unwrap()
            .0;
        (sites, options)
    }

    #[test]
    fn the_variable_that_holds_the_tag_is_edited() {
        let text = "services:\n  a:\n    image: reg/app:${TAG}-alpine\n";
        let env = "OTHER=1.0\nTAG=1.0\n";
        let (sites, options) = compose(text, env);
        let (name, edit) = plan(text, &sites, 0, &options, env, "reg/app:1.1-alpine").unwrap();
        assert_eq!(name, "TAG");
        assert_eq!(
            crate::fix::apply_edits(env, &[edit]),
            "OTHER=1.0\nTAG=1.1\n"
        );
        // A whole image in one variable.
        let text = "services:\n  a:\n    image: ${IMAGE}\n";
        let env = "IMAGE=\"reg/app:1.0\"\n";
        let (sites, options) = compose(text, env);
        let (_, edit) = plan(text, &sites, 0, &options, env, "reg/app:1.1").unwrap();
        assert_eq!(
            crate::fix::apply_edits(env, &[edit]),
            "IMAGE=\"reg/app:1.1\"\n"
        );
        // Set twice: not edited.
        let text = "services:\n  a:\n    image: reg/app:${TAG}\n";
        let env = "TAG=1.0\nTAG=1.0\n";
        let (sites, options) = compose(text, env);
        let e = plan(text, &sites, 0, &options, env, "reg/app:1.1").unwrap_err();
        assert!(e.contains("set 2 times"), "{e}");
    }

    #[test]
    fn a_value_feeding_another_image_is_refused() {
        let text = "services:\n  a:\n    image: reg/a:${TAG}\n  b:\n    image: reg/b:${TAG}\n  c:\n    image: reg/a:${TAG}\n";
        let env = "TAG=1.0\n";
        let (sites, options) = compose(text, env);
        let (_, edit) = plan(text, &sites, 0, &options, env, "reg/a:1.1").unwrap();
        let reader = |expected: Vec<(usize, String)>| Reader {
            display: "compose.yaml",
            text,
            options: &options,
            sites: &sites,
            expected,
        };
        let e = check_group(
            env,
            std::slice::from_ref(&edit),
            &[reader(vec![
                (0, "reg/a:1.1".into()),
                (2, "reg/a:1.1".into()),
            ])],
        )
        .unwrap_err();
        assert!(e.contains("reg/b:${TAG}"), "{e}");
        let e = check_group(
            env,
            std::slice::from_ref(&edit),
            &[reader(vec![
                (0, "reg/a:1.1".into()),
                (1, "reg/b:1.1".into()),
                (2, "reg/a:1.1".into()),
            ])],
        )
        .unwrap_err();
        assert!(e.contains("different images"), "{e}");
        // The same image twice: one edit.
        let text2 = "services:\n  a:\n    image: reg/a:${TAG}\n  c:\n    image: reg/a:${TAG}\n";
        let (sites2, options2) = compose(text2, env);
        let ok = check_group(
            env,
            &[edit.clone(), edit],
            &[Reader {
                display: "compose.yaml",
                text: text2,
                options: &options2,
                sites: &sites2,
                expected: vec![(0, "reg/a:1.1".into()), (1, "reg/a:1.1".into())],
            }],
        )
        .unwrap();
        assert_eq!(ok, "TAG=1.1\n");
    }
}
