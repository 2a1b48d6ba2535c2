//! The OCI distribution reference grammar and Docker's normalization.
//!
//! API CONTRACT (other modules rely on exactly these items; the
//! implementation below is a placeholder being replaced):

use crate::site::Span;

/// A parsed reference. All spans are byte ranges into `input()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    input: String,
    /// The domain as written (`localhost:5000`, `[::1]:5000`, `docker.io`), if any.
    pub domain: Option<Span>,
    /// The path as written (`library/node`, `node`).
    pub path: Span,
    pub tag: Option<Span>,
    pub digest: Option<Span>,
}

/// Why a string is not a valid reference. `Display` gives the distribution
/// library's own message (e.g. `invalid reference format: repository name
/// must be lowercase`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceError {
    pub kind: ReferenceErrorKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferenceErrorKind {
    ReferenceInvalidFormat,
    TagInvalidFormat,
    DigestInvalidFormat,
    NameContainsUppercase,
    NameEmpty,
    NameTooLong,
    NameNotCanonical,
    DigestUnsupported,
    DigestInvalidLength,
    /// ParseNormalizedNamed: a 64-hex string is an image ID, not a name.
    RepositoryIsHex,
}

impl std::fmt::Display for ReferenceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.kind)
    }
}

impl std::error::Error for ReferenceError {}

impl Reference {
    /// `ParseNormalizedNamed` semantics: what `docker pull`/`FROM` accept.
    pub fn parse_normalized(input: &str) -> Result<Reference, ReferenceError> {
        let _ = input;
        Err(ReferenceError {
            kind: ReferenceErrorKind::ReferenceInvalidFormat,
        })
    }
    pub fn input(&self) -> &str {
        &self.input
    }
    pub fn domain_str(&self) -> Option<&str> {
        self.domain.map(|s| &self.input[s.start..s.end])
    }
    pub fn path_str(&self) -> &str {
        &self.input[self.path.start..self.path.end]
    }
    pub fn tag_str(&self) -> Option<&str> {
        self.tag.map(|s| &self.input[s.start..s.end])
    }
    pub fn digest_str(&self) -> Option<&str> {
        self.digest.map(|s| &self.input[s.start..s.end])
    }
    /// `docker.io` when no domain is written; `index.docker.io` becomes `docker.io`.
    pub fn normalized_domain(&self) -> &str {
        "docker.io"
    }
    /// The path with `library/` added for single-component Docker Hub names.
    pub fn normalized_path(&self) -> String {
        String::new()
    }
    /// `docker.io/library/node` (domain/path, no tag or digest).
    pub fn normalized_name(&self) -> String {
        String::new()
    }
    /// `docker.io/library/node:20@sha256:…`
    pub fn normalized(&self) -> String {
        String::new()
    }
    /// `node:20@sha256:…` (Docker's familiar form).
    pub fn familiar(&self) -> String {
        String::new()
    }
    /// True when the normalized domain is `docker.io`.
    pub fn is_docker_hub(&self) -> bool {
        self.normalized_domain() == "docker.io"
    }
}
