//! Pieces shared by the front-ends.

use crate::reference::Reference;
use crate::site::{Extra, ImageSite, Piece, SiteKind, SiteValue, Span};

/// The longest value a variable expansion may produce (`ARG A=$A$A`
/// doubling): past it the value is unresolved (REF002), not built.
pub const MAX_VALUE: usize = 64 * 1024;

/// How many bytes of variable values one file's expansions may copy in
/// all, so that many values near [`MAX_VALUE`] cannot add up.
pub const MAX_EXPANDED: usize = 16 * 1024 * 1024;

/// How deeply `${A:-${B:-…}}` may nest; deeper is a syntax error (E004).
pub const MAX_NESTING: usize = 64;

/// Listed in `missing` (it cannot be a variable's name) when a value grew
/// past [`MAX_VALUE`] or the file's [`MAX_EXPANDED`].
pub const OVER_LIMIT: &str = "(value over refit's size limit)";

/// BuildKit's automatic platform ARGs: declared in the global scope of
/// every build, with values that depend on the platform built for, so
/// refit treats them as unset when it expands a reference, and never asks
/// the repository to supply them.
pub const PLATFORM_ARGS: &[&str] = &[
    "BUILDPLATFORM",
    "BUILDOS",
    "BUILDARCH",
    "BUILDVARIANT",
    "TARGETPLATFORM",
    "TARGETOS",
    "TARGETARCH",
    "TARGETVARIANT",
];

/// How many missing names a value lists at most.
const MAX_MISSING: usize = 16;

/// Take `n` bytes from a file's expansion budget; false when it is spent.
pub fn spend(budget: &std::cell::Cell<usize>, n: usize) -> bool {
    match budget.get().checked_sub(n) {
        Some(left) => {
            budget.set(left);
            true
        }
        None => {
            budget.set(0);
            false
        }
    }
}

/// The error for substitutions nested past [`MAX_NESTING`].
pub fn too_deep(span: Span) -> crate::site::SyntaxError {
    crate::site::SyntaxError {
        message: format!(
            "variable substitutions nested more than {MAX_NESTING} levels deep (refit's limit)"
        ),
        span,
    }
}

/// Accumulates expanded text with provenance, merging adjacent runs.
#[derive(Debug, Default)]
pub struct Builder {
    pub text: String,
    pub pieces: Vec<Piece>,
    pub missing: Vec<String>,
}

impl Builder {
    pub fn push(&mut self, s: &str, file: Option<usize>) {
        if s.is_empty() {
            return;
        }
        if self.text.len() + s.len() > MAX_VALUE {
            self.miss(OVER_LIMIT);
            return;
        }
        let at = self.text.len();
        self.text.push_str(s);
        if let Some(last) = self.pieces.last_mut()
            && last.text.end == at
        {
            match (last.file, file) {
                (Some(f), Some(start)) if f.end == start => {
                    last.text.end += s.len();
                    last.file = Some(Span::new(f.start, f.end + s.len()));
                    return;
                }
                (None, None) => {
                    last.text.end += s.len();
                    return;
                }
                _ => {}
            }
        }
        self.pieces.push(Piece {
            text: Span::new(at, at + s.len()),
            file: file.map(|f| Span::new(f, f + s.len())),
        });
    }

    pub fn push_value(&mut self, value: &Value) {
        for piece in &value.pieces {
            let s = value
                .text
                .get(piece.text.start..piece.text.end)
                .unwrap_or("");
            self.push(s, piece.file.map(|f| f.start));
        }
    }

    pub fn miss(&mut self, name: &str) {
        if (self.missing.len() < MAX_MISSING || name == OVER_LIMIT)
            && !self.missing.iter().any(|m| m == name)
        {
            self.missing.push(name.to_string());
        }
    }
}

/// Text with provenance: a variable's value, a YAML scalar.
#[derive(Debug, Clone, Default)]
pub struct Value {
    pub text: String,
    pub pieces: Vec<Piece>,
    /// Its expansion grew past [`MAX_VALUE`]: a reference using it is
    /// unresolved ([`OVER_LIMIT`]).
    pub over_limit: bool,
}

impl Builder {
    /// The site value: resolved and parsed, or the variables it lacks.
    pub fn into_value(self) -> SiteValue {
        if self.missing.is_empty() {
            let parsed = Reference::parse_normalized(&self.text);
            SiteValue::Resolved {
                text: self.text,
                pieces: self.pieces,
                parsed,
            }
        } else {
            SiteValue::Unresolved {
                missing: self.missing,
            }
        }
    }
}

/// A site whose reference is one YAML scalar (or a run of it).
pub fn site(kind: SiteKind, span: Span, raw: &str, value: SiteValue, path: String) -> ImageSite {
    ImageSite {
        kind,
        span,
        raw: raw.to_string(),
        value,
        stage: None,
        path: Some(path),
        extra: Extra::default(),
    }
}

/// Keep one site per span: an anchor used by several aliases is one place
/// in the file, edited once.
pub fn dedupe(sites: &mut Vec<ImageSite>) {
    let mut seen = std::collections::HashSet::new();
    sites.retain(|s| seen.insert((s.span, s.kind)));
}

/// A site whose reference is a YAML scalar, copied verbatim when it can be.
pub fn scalar_site(kind: SiteKind, scalar: &super::yaml::Scalar, path: &str) -> ImageSite {
    let mut b = Builder::default();
    b.push(&scalar.value, scalar.content.map(|c| c.start));
    site(
        kind,
        scalar.content.unwrap_or(scalar.span),
        &scalar.value,
        b.into_value(),
        path.to_string(),
    )
}

/// Each site's path and value as text, for the front-ends' unit tests.
#[cfg(test)]
pub(crate) fn site_texts(sites: &[ImageSite]) -> Vec<(String, String)> {
    sites
        .iter()
        .map(|s| {
            let t = match &s.value {
                SiteValue::Resolved { text, .. } => text.clone(),
                SiteValue::Unresolved { missing } => format!("missing {missing:?}"),
                SiteValue::Mirror(m) => format!("mirror {m:?}"),
            };
            (s.path.clone().unwrap_or_default(), t)
        })
        .collect()
}
