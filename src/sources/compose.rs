//! Compose files: `services.<name>.image`, with interpolation.

use super::SourceOptions;
use super::common::{
    Builder, MAX_EXPANDED, MAX_NESTING, OVER_LIMIT, dedupe, site, spend, too_deep,
};
use super::yaml::{self, Document, Node, Scalar};
use crate::site::{ImageSite, SiteKind, SyntaxError};
use std::cell::Cell;

pub fn extract(text: &str, options: &SourceOptions) -> Result<Vec<ImageSite>, SyntaxError> {
    let shared = yaml::parse_shared(text)?;
    let docs: &[yaml::Document] = &shared;
    let mut out = Vec::new();
    let budget = Cell::new(MAX_EXPANDED);
    for doc in docs {
        let root = doc.resolve(&doc.root);
        let (services, prefix) = match doc.get(root, "services") {
            Some(s) => (s, "services."),
            // Compose file format v1: services at the top level.
            None => (root, ""),
        };
        for (name, svc) in doc.entries(services) {
            if name.starts_with("x-") {
                continue;
            }
            let svc = doc.resolve(svc);
            service(
                doc,
                svc,
                &format!("{prefix}{name}"),
                options,
                &budget,
                &mut out,
            )?;
        }
        // Extension blocks (`x-*`) are checked too: images in anchors that
        // services merge, or in blocks tools read themselves.
        for (name, block) in doc.entries(root) {
            if name.starts_with("x-") {
                extension(doc, doc.resolve(block), name, options, &budget, &mut out, 0)?;
            }
        }
        doc.check_budget()?;
    }
    dedupe(&mut out);
    Ok(out)
}

fn service(
    doc: &Document,
    svc: &Node,
    path: &str,
    options: &SourceOptions,
    budget: &Cell<usize>,
    out: &mut Vec<ImageSite>,
) -> Result<(), SyntaxError> {
    let Some(image) = doc.get_scalar(svc, "image") else {
        return Ok(());
    };
    if image.value.is_empty() {
        return Ok(());
    }
    let mut s = interpolated_site(image, &format!("{path}.image"), options, budget)?;
    s.extra.build_output = doc.get(svc, "build").is_some() || never_pulled(doc, svc);
    if let Some(profiles) = doc.get(svc, "profiles") {
        s.extra.profiles = doc
            .items(profiles)
            .into_iter()
            .filter_map(|p| p.as_scalar())
            .map(|p| p.value.clone())
            .collect();
    }
    out.push(s);
    Ok(())
}

/// `pull_policy: never` (the image must exist locally) or `build` (always
/// built): Compose does not pull the image.
fn never_pulled(doc: &Document, svc: &Node) -> bool {
    doc.get_scalar(svc, "pull_policy")
        .is_some_and(|p| matches!(p.value.as_str(), "never" | "build"))
}

fn extension(
    doc: &Document,
    node: &Node,
    path: &str,
    options: &SourceOptions,
    budget: &Cell<usize>,
    out: &mut Vec<ImageSite>,
    depth: usize,
) -> Result<(), SyntaxError> {
    if depth > 8 {
        return Ok(());
    }
    if let Node::Map(..) = node {
        for (key, value) in doc.entries(node) {
            let value = doc.resolve(value);
            let p = format!("{path}.{key}");
            match value {
                Node::Scalar(s) if key == "image" && !s.value.is_empty() => {
                    let mut site = interpolated_site(s, &p, options, budget)?;
                    site.extra.build_output =
                        doc.get(node, "build").is_some() || never_pulled(doc, node);
                    out.push(site);
                }
                Node::Map(..) => extension(doc, value, &p, options, budget, out, depth + 1)?,
                _ => {}
            }
        }
    }
    Ok(())
}

/// A site for a Compose scalar, interpolating `${VAR}` forms; an error
/// when they nest past [`MAX_NESTING`]. `budget` bounds the bytes of
/// variable values one file's interpolations copy.
pub fn interpolated_site(
    scalar: &Scalar,
    path: &str,
    options: &SourceOptions,
    budget: &Cell<usize>,
) -> Result<ImageSite, SyntaxError> {
    let mut b = Builder::default();
    let span = scalar.content.unwrap_or(scalar.span);
    let mut state = Interpolation {
        options,
        budget,
        out: &mut b,
    };
    if !interpolate(
        &scalar.value,
        scalar.content.map(|c| c.start),
        &mut state,
        0,
    ) {
        return Err(too_deep(span));
    }
    Ok(site(
        SiteKind::ComposeService,
        span,
        &scalar.value,
        b.into_value(),
        path.to_string(),
    ))
}

struct Interpolation<'a> {
    options: &'a SourceOptions,
    budget: &'a Cell<usize>,
    out: &'a mut Builder,
}

impl Interpolation<'_> {
    /// Copy a variable's value, within the file's budget.
    fn value(&mut self, v: &str) {
        if spend(self.budget, v.len()) {
            self.out.push(v, None);
        } else {
            self.out.miss(OVER_LIMIT);
        }
    }
}

fn lookup<'a>(name: &str, options: &'a SourceOptions) -> Option<&'a String> {
    options.env.get(name).or_else(|| options.dotenv.get(name))
}

/// Compose interpolation: `$VAR`, `${VAR}`, `${VAR:-d}`, `${VAR-d}`,
/// `${VAR:+x}`, `${VAR+x}`, `${VAR:?err}`, `${VAR?err}`, `$$`.
/// `file` is the offset of `value`'s first byte when it is the file's.
/// False when defaults nest deeper than [`MAX_NESTING`].
fn interpolate(value: &str, file: Option<usize>, st: &mut Interpolation, depth: usize) -> bool {
    if depth > MAX_NESTING {
        return false;
    }
    let options = st.options;
    let b = value.as_bytes();
    let at = |i: usize| file.map(|f| f + i);
    let mut i = 0;
    let mut run = 0;
    let flush = |st: &mut Interpolation, from: usize, to: usize| {
        if to > from {
            st.out.push(&value[from..to], at(from));
        }
    };
    while i < b.len() {
        if b[i] != b'$' {
            i += 1;
            continue;
        }
        flush(st, run, i);
        match b.get(i + 1) {
            Some(b'$') => {
                st.out.push("$", at(i + 1));
                i += 2;
            }
            Some(b'{') => {
                let close = matching_brace(b, i + 1);
                let inner = &value[i + 2..close.min(b.len())];
                let name_len = inner
                    .bytes()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
                    .count();
                let name = &inner[..name_len];
                let rest = &inner[name_len..];
                let word_offset = i + 2 + name_len;
                let val = lookup(name, options);
                let set = val.is_some();
                let non_empty = val.is_some_and(|v| !v.is_empty());
                let (colon, op) = match rest.strip_prefix(':') {
                    Some(r) => (true, r.chars().next()),
                    None => (false, rest.chars().next()),
                };
                let has = if colon { non_empty } else { set };
                let word_start = word_offset + usize::from(colon) + 1;
                let word = value.get(word_start..close.min(b.len())).unwrap_or("");
                let nested = match op {
                    None => {
                        match val {
                            Some(v) => st.value(v),
                            None => st.out.miss(name),
                        }
                        true
                    }
                    Some('-') => match (has, val) {
                        (true, Some(v)) => {
                            st.value(v);
                            true
                        }
                        _ => interpolate(word, at(word_start), st, depth + 1),
                    },
                    Some('+') => !has || interpolate(word, at(word_start), st, depth + 1),
                    Some('?') => {
                        match (has, val) {
                            (true, Some(v)) => st.value(v),
                            _ => st.out.miss(name),
                        }
                        true
                    }
                    _ => {
                        st.out.miss(if name.is_empty() { inner } else { name });
                        true
                    }
                };
                if !nested {
                    return false;
                }
                i = (close + 1).min(b.len());
            }
            Some(c) if c.is_ascii_alphabetic() || *c == b'_' => {
                let end = i
                    + 1
                    + value[i + 1..]
                        .bytes()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
                        .count();
                let name = &value[i + 1..end];
                match lookup(name, options) {
                    Some(v) => st.value(v),
                    None => st.out.miss(name),
                }
                i = end;
            }
            _ => {
                st.out.push("$", at(i));
                i += 1;
            }
        }
        run = i;
    }
    flush(st, run, b.len());
    true
}

/// The index of the `}` closing the `{` at `open`, nesting counted.
fn matching_brace(b: &[u8], open: usize) -> usize {
    let mut depth = 0;
    for (i, &c) in b.iter().enumerate().skip(open) {
        match c {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::SiteValue;

    fn sites(text: &str, env: &[(&str, &str)]) -> Vec<ImageSite> {
        let options = SourceOptions {
            dotenv: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..SourceOptions::default()
        };
        extract(text, &options).unwrap()
    }

    fn text_of(s: &ImageSite) -> String {
        match &s.value {
            SiteValue::Resolved { text, .. } => text.clone(),
            SiteValue::Unresolved { missing } => format!("missing {missing:?}"),
            SiteValue::Mirror(m) => panic!("mirror {m:?}"),
        }
    }

    #[test]
    fn services_v1_v2_build_and_extensions() {
        let text = "x-base: &base\n  image: redis:7\nservices:\n  web:\n    image: \"nginx:1.27\"  # front\n  app:\n    build: .\n    image: myorg/app:dev\n  cache:\n    <<: *base\n";
        let s = sites(text, &[]);
        let got: Vec<(String, String, bool)> = s
            .iter()
            .map(|s| (s.path.clone().unwrap(), text_of(s), s.extra.build_output))
            .collect();
        assert_eq!(
            got,
            [
                ("services.web.image".into(), "nginx:1.27".into(), false),
                ("services.app.image".into(), "myorg/app:dev".into(), true),
                ("services.cache.image".into(), "redis:7".into(), false),
            ]
        );
        assert_eq!(&text[s[0].span.start..s[0].span.end], "nginx:1.27");
        let v1 = "web:\n  image: nginx\ndb:\n  image: postgres:16\n";
        assert_eq!(sites(v1, &[]).len(), 2);
        assert_eq!(sites(v1, &[])[0].path.as_deref(), Some("web.image"));
    }

    #[test]
    fn interpolation() {
        let text = "services:\n  a:\n    image: ${REG:-docker.io}/library/node:${TAG}\n  b:\n    image: app:$$VERSION\n  c:\n    image: ${MISSING}\n  d:\n    image: x:${T:?need}\n";
        let s = sites(text, &[("TAG", "20")]);
        assert_eq!(text_of(&s[0]), "docker.io/library/node:20");
        // The default inside `${REG:-…}` maps to the file.
        assert_eq!(
            s[0].map_to_file(crate::site::Span::new(0, 9))
                .map(|sp| &text[sp.start..sp.end]),
            Some("docker.io")
        );
        assert_eq!(text_of(&s[1]), "app:$VERSION");
        assert_eq!(text_of(&s[2]), "missing [\"MISSING\"]");
        assert_eq!(text_of(&s[3]), "missing [\"T\"]");
    }
}
