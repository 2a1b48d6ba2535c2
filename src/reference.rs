//! The OCI distribution reference grammar and Docker's normalization, as the
//! Go package `github.com/distribution/reference` implements them (the
//! package Docker, containerd and the CNCF registry use).
//!
//! ```text
//! reference      := name [ ":" tag ] [ "@" digest ]
//! name           := [domain "/"] remote-name
//! domain         := host [":" port]
//! host           := domain-name | "[" ipv6 "]"
//! domain-name    := component ("." component)*       component: [a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?
//! remote-name    := path-component ("/" path-component)*
//! path-component := [a-z0-9]+ (separator [a-z0-9]+)*  separator: "." | "_" | "__" | "-"+
//! tag            := [\w][\w.-]{0,127}                 (ASCII \w)
//! digest         := algorithm ":" hex{32,}
//! ```
//!
//! The scanner is hand-written rather than a regex: it runs for every image
//! site, and every component keeps its byte span into the input.

use crate::span::Span;

/// The longest repository path the grammar accepts.
pub const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// Hosts that serve Docker Hub under another name (only `index.docker.io`
/// is normalized to `docker.io` by the reference grammar).
pub const DOCKER_HUB_ALIASES: &[&str] = &[
    "index.docker.io",
    "registry-1.docker.io",
    "registry.hub.docker.com",
];

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
    /// Parsed with Docker's normalization (`parse_normalized`): a first path
    /// component without `.`, `:` or `localhost` is a path, not a domain.
    normalized: bool,
}

/// Why a string is not a valid reference. `Display` gives the distribution
/// library's own message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceError {
    pub kind: ReferenceErrorKind,
    /// The text quoted in the message, for the kinds whose message quotes one.
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferenceErrorKind {
    /// `invalid reference format`
    ReferenceInvalidFormat,
    /// `invalid tag format`
    TagInvalidFormat,
    /// `invalid digest format`
    DigestInvalidFormat,
    /// `repository name must be lowercase`
    NameContainsUppercase,
    /// `invalid reference format: repository name (…) must be lowercase`
    /// (ParseNormalizedNamed's wording)
    NormalizedNameContainsUppercase,
    /// `repository name must have at least one component`
    NameEmpty,
    /// `repository name must not be more than 255 characters`
    NameTooLong,
    /// `repository name must be canonical`
    NameNotCanonical,
    /// `unsupported digest algorithm`
    DigestUnsupported,
    /// `invalid checksum digest length`
    DigestInvalidLength,
    /// `invalid checksum digest format`
    DigestInvalidChecksumFormat,
    /// `invalid repository name (…), cannot specify 64-byte hexadecimal strings`
    RepositoryIsHex,
}

impl ReferenceError {
    fn new(kind: ReferenceErrorKind) -> ReferenceError {
        ReferenceError { kind, detail: None }
    }

    fn with(kind: ReferenceErrorKind, detail: &str) -> ReferenceError {
        ReferenceError {
            kind,
            detail: Some(detail.to_string()),
        }
    }
}

impl std::fmt::Display for ReferenceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use ReferenceErrorKind::*;
        let detail = self.detail.as_deref().unwrap_or("");
        match self.kind {
            ReferenceInvalidFormat => f.write_str("invalid reference format"),
            TagInvalidFormat => f.write_str("invalid tag format"),
            DigestInvalidFormat => f.write_str("invalid digest format"),
            NameContainsUppercase => f.write_str("repository name must be lowercase"),
            NormalizedNameContainsUppercase => write!(
                f,
                "invalid reference format: repository name ({detail}) must be lowercase"
            ),
            NameEmpty => f.write_str("repository name must have at least one component"),
            NameTooLong => write!(
                f,
                "repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters"
            ),
            NameNotCanonical => f.write_str("repository name must be canonical"),
            DigestUnsupported => f.write_str("unsupported digest algorithm"),
            DigestInvalidLength => f.write_str("invalid checksum digest length"),
            DigestInvalidChecksumFormat => f.write_str("invalid checksum digest format"),
            RepositoryIsHex => write!(
                f,
                "invalid repository name ({detail}), cannot specify 64-byte hexadecimal strings"
            ),
        }
    }
}

impl std::error::Error for ReferenceError {}

/// Which part of an invalid reference is wrong, in words: the grammar's own
/// message (`invalid reference format`) names none. `None` when no single
/// part can be blamed.
pub fn explain(input: &str) -> Option<String> {
    if input.is_empty() {
        return Some("the reference is empty".to_string());
    }
    if let Some(c) = input.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Some(format!("it contains {c:?}; a reference has no spaces"));
    }
    let (name, digest) = match input.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (input, None),
    };
    if let Some(why) = digest.and_then(explain_digest) {
        return Some(why);
    }
    let last_slash = name.rfind('/').map_or(0, |i| i + 1);
    let (repository, tag) = match name[last_slash..].find(':') {
        Some(i) => (&name[..last_slash + i], Some(&name[last_slash + i + 1..])),
        None => (name, None),
    };
    if let Some(tag) = tag {
        if tag.is_empty() {
            return Some("the tag after `:` is empty".to_string());
        }
        if tag.contains(':') {
            return Some(format!("`{name}` has more than one `:` after the last `/`"));
        }
        if tag.len() > 128 {
            return Some(format!(
                "the tag is {} characters long; at most 128 are allowed",
                tag.len()
            ));
        }
        if let Some(c) = tag
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
        {
            return Some(format!(
                "the tag `{tag}` contains `{c}`; a tag holds letters, digits, `_`, `.` and `-`"
            ));
        }
        if tag.starts_with(['.', '-']) {
            return Some(format!(
                "the tag `{tag}` starts with `{}`; it must start with a letter, digit or `_`",
                &tag[..1]
            ));
        }
    }
    if repository.is_empty() {
        return Some("the repository name is empty".to_string());
    }
    let (domain, rest) = split_docker_domain(repository);
    let path = &repository[rest..];
    if let Some(d) = domain {
        let host = &repository[d.start..d.end];
        if host.to_lowercase() != host && !host.contains(['.', ':']) && host != "localhost" {
            // Docker reads an uppercase first component as a host.
            return Some(format!(
                "`{host}` is read as a registry host because it has an uppercase letter; a Docker Hub name is lowercase: `{}`",
                repository.to_lowercase()
            ));
        }
    }
    if path.to_lowercase() != path {
        return Some(format!(
            "the repository `{path}` has uppercase letters; repository names are lowercase"
        ));
    }
    for component in path.split('/') {
        if component.is_empty() {
            return Some(format!(
                "the repository `{path}` has an empty component (`//` or a `/` at an end)"
            ));
        }
        if let Some(c) = component.chars().find(|c| {
            !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-'))
        }) {
            return Some(format!(
                "the repository component `{component}` contains `{c}`; components hold lowercase letters, digits and the separators `.`, `_`, `__`, `-`"
            ));
        }
        if component.starts_with(['.', '_', '-']) || component.ends_with(['.', '_', '-']) {
            return Some(format!(
                "the repository component `{component}` starts or ends with a separator"
            ));
        }
    }
    None
}

fn explain_digest(d: &str) -> Option<String> {
    if d.is_empty() {
        return Some("the digest after `@` is empty".to_string());
    }
    let Some((algorithm, hex)) = d.split_once(':') else {
        return Some(format!("the digest `{d}` has no algorithm (`sha256:…`)"));
    };
    let want = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => {
            return Some(format!(
                "the digest algorithm `{algorithm}` is not sha256, sha384 or sha512"
            ));
        }
    };
    if hex.len() != want {
        return Some(format!(
            "the {algorithm} digest has {} hex digits; it needs {want}",
            hex.len()
        ));
    }
    if let Some(c) = hex
        .chars()
        .find(|c| !(c.is_ascii_digit() || ('a'..='f').contains(c)))
    {
        return Some(format!(
            "the digest contains `{c}`; it must be lowercase hex"
        ));
    }
    None
}

// ---------------------------------------------------------------------------
// The scanner. Each function returns the end offset of what it matched.

fn is_alnum_lower(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// `[a-z0-9]+ (separator [a-z0-9]+)*`; `None` when a separator is not
/// followed by an alphanumeric (the grammar has no way to end there).
fn scan_path_component(s: &[u8], mut i: usize) -> Option<usize> {
    let start = i;
    while i < s.len() && is_alnum_lower(s[i]) {
        i += 1;
    }
    if i == start {
        return None;
    }
    loop {
        let sep_end = match s.get(i) {
            Some(b'.') => i + 1,
            Some(b'_') => {
                if s.get(i + 1) == Some(&b'_') {
                    i + 2
                } else {
                    i + 1
                }
            }
            Some(b'-') => {
                let mut j = i;
                while s.get(j) == Some(&b'-') {
                    j += 1;
                }
                j
            }
            _ => return Some(i),
        };
        if !s.get(sep_end).is_some_and(|&b| is_alnum_lower(b)) {
            return None;
        }
        i = sep_end;
        while i < s.len() && is_alnum_lower(s[i]) {
            i += 1;
        }
    }
}

/// `path-component ("/" path-component)*`
fn scan_remote_name(s: &[u8], i: usize) -> Option<usize> {
    let mut end = scan_path_component(s, i)?;
    while s.get(end) == Some(&b'/') {
        end = scan_path_component(s, end + 1)?;
    }
    Some(end)
}

/// `host [":" port]` where host is a domain name or a bracketed IPv6 address.
fn scan_domain(s: &[u8], i: usize) -> Option<usize> {
    let mut end = if s.get(i) == Some(&b'[') {
        let mut j = i + 1;
        while j < s.len() && (s[j].is_ascii_hexdigit() || s[j] == b':') {
            j += 1;
        }
        if j == i + 1 || s.get(j) != Some(&b']') {
            return None;
        }
        j + 1
    } else {
        let mut j = i;
        loop {
            let label = j;
            while j < s.len() && (s[j].is_ascii_alphanumeric() || s[j] == b'-') {
                j += 1;
            }
            if j == label || s[label] == b'-' || s[j - 1] == b'-' {
                return None;
            }
            if s.get(j) == Some(&b'.') {
                j += 1;
            } else {
                break j;
            }
        }
    };
    if s.get(end) == Some(&b':') {
        let mut j = end + 1;
        while j < s.len() && s[j].is_ascii_digit() {
            j += 1;
        }
        if j > end + 1 {
            end = j;
        }
    }
    Some(end)
}

/// `[\w][\w.-]{0,127}`
fn scan_tag(s: &[u8], i: usize) -> Option<usize> {
    if !s.get(i).is_some_and(|&b| is_word(b)) {
        return None;
    }
    let mut j = i + 1;
    while j < s.len() && (is_word(s[j]) || s[j] == b'.' || s[j] == b'-') {
        j += 1;
    }
    (j - i <= 128).then_some(j)
}

/// `[A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}`
fn scan_digest(s: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    loop {
        if !s.get(j).is_some_and(|b| b.is_ascii_alphabetic()) {
            return None;
        }
        j += 1;
        while j < s.len() && s[j].is_ascii_alphanumeric() {
            j += 1;
        }
        match s.get(j) {
            Some(b'-' | b'_' | b'+' | b'.') => j += 1,
            Some(b':') => break,
            _ => return None,
        }
    }
    let hex = j + 1;
    let mut k = hex;
    while k < s.len() && s[k].is_ascii_hexdigit() {
        k += 1;
    }
    (k - hex >= 32).then_some(k)
}

/// The pieces of `referenceRegexp`: name (domain, path), tag, digest.
#[derive(Debug, Clone, Copy)]
struct Parts {
    domain: Option<Span>,
    path: Span,
    tag: Option<Span>,
    digest: Option<Span>,
}

/// Remote name, tag and digest from `i` to the end.
fn scan_rest(s: &[u8], i: usize) -> Option<(Span, Option<Span>, Option<Span>)> {
    let path_end = scan_remote_name(s, i)?;
    let mut at = path_end;
    let mut tag = None;
    if s.get(at) == Some(&b':') {
        let end = scan_tag(s, at + 1)?;
        tag = Some(Span::new(at + 1, end));
        at = end;
    }
    let mut digest = None;
    if s.get(at) == Some(&b'@') {
        let end = scan_digest(s, at + 1)?;
        digest = Some(Span::new(at + 1, end));
        at = end;
    }
    (at == s.len()).then_some((Span::new(i, path_end), tag, digest))
}

/// Match the whole reference grammar, preferring a domain (the regex's
/// optional group is greedy).
fn scan_reference(s: &[u8]) -> Option<Parts> {
    if let Some(d) = scan_domain(s, 0)
        && s.get(d) == Some(&b'/')
        && let Some((path, tag, digest)) = scan_rest(s, d + 1)
    {
        return Some(Parts {
            domain: Some(Span::new(0, d)),
            path,
            tag,
            digest,
        });
    }
    let (path, tag, digest) = scan_rest(s, 0)?;
    Some(Parts {
        domain: None,
        path,
        tag,
        digest,
    })
}

/// `anchoredNameRegexp`: `(domain "/")? remote-name`, returning
/// (domain, path) spans.
pub fn match_name(s: &str) -> Option<(Option<Span>, Span)> {
    let b = s.as_bytes();
    if let Some(d) = scan_domain(b, 0)
        && b.get(d) == Some(&b'/')
        && let Some(end) = scan_remote_name(b, d + 1)
        && end == b.len()
    {
        return Some((Some(Span::new(0, d)), Span::new(d + 1, end)));
    }
    let end = scan_remote_name(b, 0)?;
    (end == b.len()).then_some((None, Span::new(0, end)))
}

/// `^domainAndPort$`
pub fn is_domain_and_port(s: &str) -> bool {
    scan_domain(s.as_bytes(), 0) == Some(s.len())
}

/// `referenceRegexp`: the name, tag and digest as written, when the whole
/// string matches the grammar (no digest validation, no length limit).
pub fn match_reference(s: &str) -> Option<(String, String, String)> {
    let p = scan_reference(s.as_bytes())?;
    let name_start = p.domain.map_or(p.path.start, |d| d.start);
    let get = |sp: Option<Span>| sp.map_or(String::new(), |sp| s[sp.start..sp.end].to_string());
    Some((
        s[name_start..p.path.end].to_string(),
        get(p.tag),
        get(p.digest),
    ))
}

/// `anchoredIdentifierRegexp`: 64 lowercase hex characters (an image ID).
pub fn is_identifier(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `anchoredTagRegexp`
pub fn is_tag(s: &str) -> bool {
    scan_tag(s.as_bytes(), 0) == Some(s.len())
}

/// `anchoredDigestRegexp`
pub fn is_digest(s: &str) -> bool {
    scan_digest(s.as_bytes(), 0) == Some(s.len())
}

/// Validate a digest as go-digest's `Digest.Validate` does, with sha256,
/// sha384 and sha512 available.
pub fn validate_digest(s: &str) -> Result<(), ReferenceError> {
    use ReferenceErrorKind::*;
    let Some(colon) = s.find(':').filter(|&i| i > 0 && i + 1 < s.len()) else {
        return Err(ReferenceError::new(DigestInvalidChecksumFormat));
    };
    let (algorithm, encoded) = (&s[..colon], &s[colon + 1..]);
    let size = match algorithm {
        "sha256" => 32,
        "sha384" => 48,
        "sha512" => 64,
        _ => {
            return Err(ReferenceError::new(if go_digest_shape(s) {
                DigestUnsupported
            } else {
                DigestInvalidChecksumFormat
            }));
        }
    };
    if encoded.len() != size * 2 {
        return Err(ReferenceError::new(DigestInvalidLength));
    }
    if !encoded
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(ReferenceError::new(DigestInvalidChecksumFormat));
    }
    Ok(())
}

/// go-digest's `DigestRegexpAnchored`: `[a-z0-9]+([.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+`
fn go_digest_shape(s: &str) -> bool {
    let Some((algorithm, encoded)) = s.split_once(':') else {
        return false;
    };
    let algorithm_ok = !algorithm.is_empty()
        && algorithm
            .split(['.', '+', '_', '-'])
            .all(|part| !part.is_empty() && part.bytes().all(is_alnum_lower));
    algorithm_ok
        && !encoded.is_empty()
        && encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'=' || b == b'_' || b == b'-')
}

/// Docker's split of a name into domain and remainder (`splitDockerDomain`),
/// as byte offsets: `(domain span if written, remainder start)`.
fn split_docker_domain(s: &str) -> (Option<Span>, usize) {
    match s.find('/') {
        None => (None, 0),
        Some(i) => {
            let first = &s[..i];
            let is_domain =
                first.contains(['.', ':']) || first == "localhost" || first.to_lowercase() != first;
            if is_domain {
                (Some(Span::new(0, i)), i + 1)
            } else {
                (None, 0)
            }
        }
    }
}

impl Reference {
    /// Go's `Parse`: the grammar alone, no normalization. A first component
    /// that looks like a domain is a domain (`foo/bar` has domain `foo`).
    pub fn parse(input: &str) -> Result<Reference, ReferenceError> {
        use ReferenceErrorKind::*;
        let Some(parts) = scan_reference(input.as_bytes()) else {
            if input.is_empty() {
                return Err(ReferenceError::new(NameEmpty));
            }
            if scan_reference(input.to_ascii_lowercase().as_bytes()).is_some() {
                return Err(ReferenceError::new(NameContainsUppercase));
            }
            return Err(ReferenceError::new(ReferenceInvalidFormat));
        };
        if parts.path.len() > NAME_TOTAL_LENGTH_MAX {
            return Err(ReferenceError::new(NameTooLong));
        }
        if let Some(d) = parts.digest {
            validate_digest(&input[d.start..d.end])?;
        }
        Ok(Reference {
            input: input.to_string(),
            domain: parts.domain,
            path: parts.path,
            tag: parts.tag,
            digest: parts.digest,
            normalized: false,
        })
    }

    /// `ParseNormalizedNamed` semantics: what `docker pull` and `FROM`
    /// accept. Spans still point into the input as written; the normalized
    /// forms come from the methods.
    pub fn parse_normalized(input: &str) -> Result<Reference, ReferenceError> {
        use ReferenceErrorKind::*;
        if is_identifier(input) {
            return Err(ReferenceError::with(RepositoryIsHex, input));
        }
        let (domain, rest) = split_docker_domain(input);
        let remainder = &input[rest..];
        let written_domain = domain.map(|d| &input[d.start..d.end]);
        let canonical_domain = match written_domain {
            None | Some("index.docker.io") => "docker.io",
            Some(d) => d,
        };
        let library = canonical_domain == "docker.io" && !remainder.contains('/');
        let remote = remainder.split(':').next().unwrap_or(remainder);
        if remote.to_lowercase() != remote {
            let shown = if library {
                format!("library/{remote}")
            } else {
                remote.to_string()
            };
            return Err(ReferenceError::with(
                NormalizedNameContainsUppercase,
                &shown,
            ));
        }
        // Go re-parses `domain + "/" + remainder`; the grammar then applies
        // to the canonical name, including the path-length limit.
        let canonical = format!(
            "{canonical_domain}/{}{remainder}",
            if library { "library/" } else { "" }
        );
        let parsed = Reference::parse(&canonical)?;
        let shift = canonical_domain.len() + 1 + if library { 8 } else { 0 };
        // The canonical text is the input's remainder behind a prefix of
        // `shift` bytes; the written path starts where the remainder does.
        if parsed.domain.map(|d| d.end + 1) != Some(canonical_domain.len() + 1)
            || parsed.path.end < shift
        {
            return Err(ReferenceError::new(ReferenceInvalidFormat));
        }
        let back = |sp: Span| Span::new(sp.start - shift + rest, sp.end - shift + rest);
        Ok(Reference {
            input: input.to_string(),
            domain,
            path: Span::new(rest, parsed.path.end - shift + rest),
            tag: parsed.tag.map(back),
            digest: parsed.digest.map(back),
            normalized: true,
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

    /// `docker.io` when no domain is written; `index.docker.io` becomes
    /// `docker.io`. (For a reference from `parse`, the domain as written.)
    pub fn normalized_domain(&self) -> &str {
        match self.domain_str() {
            None if self.normalized => "docker.io",
            None => "",
            Some("index.docker.io") if self.normalized => "docker.io",
            Some(d) => d,
        }
    }

    /// The path with `library/` added for single-component Docker Hub names.
    pub fn normalized_path(&self) -> String {
        let path = self.path_str();
        if self.normalized && self.normalized_domain() == "docker.io" && !path.contains('/') {
            format!("library/{path}")
        } else {
            path.to_string()
        }
    }

    /// `docker.io/library/node` (domain/path, no tag or digest).
    pub fn normalized_name(&self) -> String {
        let domain = self.normalized_domain();
        if domain.is_empty() {
            self.normalized_path()
        } else {
            format!("{domain}/{}", self.normalized_path())
        }
    }

    fn with_suffix(&self, name: String) -> String {
        let mut out = name;
        if let Some(t) = self.tag_str() {
            out.push(':');
            out.push_str(t);
        }
        if let Some(d) = self.digest_str() {
            out.push('@');
            out.push_str(d);
        }
        out
    }

    /// `docker.io/library/node:20@sha256:…`
    pub fn normalized(&self) -> String {
        self.with_suffix(self.normalized_name())
    }

    /// Docker's familiar name: `node`, `bitnami/redis`, `ghcr.io/org/app`.
    pub fn familiar_name(&self) -> String {
        if self.normalized_domain() != "docker.io" {
            return self.normalized_name();
        }
        let path = self.normalized_path();
        match path.strip_prefix("library/") {
            Some(rest) if !rest.contains('/') => rest.to_string(),
            _ => path,
        }
    }

    /// `node:20@sha256:…` (Docker's familiar form).
    pub fn familiar(&self) -> String {
        self.with_suffix(self.familiar_name())
    }

    /// True when the normalized domain is `docker.io`.
    pub fn is_docker_hub(&self) -> bool {
        self.normalized_domain() == "docker.io"
    }

    /// `name`, `name+tag`, `name+digest` or `name+tag+digest`.
    pub fn kind(&self) -> &'static str {
        match (self.tag.is_some(), self.digest.is_some()) {
            (false, false) => "name",
            (true, false) => "name+tag",
            (false, true) => "name+digest",
            (true, true) => "name+tag+digest",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(r: &Reference) -> (Option<&str>, &str, Option<&str>, Option<&str>) {
        (r.domain_str(), r.path_str(), r.tag_str(), r.digest_str())
    }

    const DIGEST: &str = "sha256:4b2bb5f6f8c0e1b4b3f5d2f9a1c0c4c0f6e9b8b1c2d3e4f5a6b7c8d9e0f1a2b3";

    #[test]
    fn normalized_forms() {
        let r = Reference::parse_normalized("node:20").unwrap();
        assert_eq!(spans(&r), (None, "node", Some("20"), None));
        assert_eq!(r.normalized(), "docker.io/library/node:20");
        assert_eq!(r.familiar(), "node:20");
        let r = Reference::parse_normalized("bitnami/redis:7").unwrap();
        assert_eq!(r.normalized(), "docker.io/bitnami/redis:7");
        let r = Reference::parse_normalized("index.docker.io/library/alpine").unwrap();
        assert_eq!(r.domain_str(), Some("index.docker.io"));
        assert_eq!(r.normalized(), "docker.io/library/alpine");
        assert_eq!(r.familiar(), "alpine");
        let r = Reference::parse_normalized("localhost/app").unwrap();
        assert_eq!(r.normalized_domain(), "localhost");
        // The known upstream quirk: a bare `localhost:5000` is a tag.
        let r = Reference::parse_normalized("localhost:5000").unwrap();
        assert_eq!(r.normalized(), "docker.io/library/localhost:5000");
    }

    #[test]
    fn spans_point_into_the_input() {
        let input = format!("[::1]:5000/team/app:1.0@{DIGEST}");
        let r = Reference::parse_normalized(&input).unwrap();
        assert_eq!(
            spans(&r),
            (Some("[::1]:5000"), "team/app", Some("1.0"), Some(DIGEST))
        );
        assert_eq!(r.path, Span::new(11, 19));
        let r = Reference::parse_normalized(&format!("app@{DIGEST}")).unwrap();
        assert_eq!(spans(&r), (None, "app", None, Some(DIGEST)));
        assert_eq!(r.kind(), "name+digest");
    }

    #[test]
    fn errors() {
        let e = |s: &str| Reference::parse_normalized(s).unwrap_err().to_string();
        assert_eq!(
            e("Node:20"),
            "invalid reference format: repository name (library/Node) must be lowercase"
        );
        assert_eq!(e("node:20@sha256:abc"), "invalid reference format");
        assert_eq!(
            e("node@sha256:ffffffffffffffffffffffffffffffff"),
            "invalid checksum digest length"
        );
        assert_eq!(e("a:b:c"), "invalid reference format");
        assert_eq!(
            explain("node:").as_deref(),
            Some("the tag after `:` is empty")
        );
        assert_eq!(
            explain("node@sha256:abc").as_deref(),
            Some("the sha256 digest has 3 hex digits; it needs 64")
        );
        assert_eq!(
            explain("myorg/App:1").as_deref(),
            Some(
                "the repository `myorg/App` has uppercase letters; repository names are lowercase"
            )
        );
        assert_eq!(
            explain("a:b:c").as_deref(),
            Some("`a:b:c` has more than one `:` after the last `/`")
        );
        assert_eq!(explain("docker.io/library/node:20"), None);
        assert_eq!(e(""), "invalid reference format");
        assert_eq!(
            e(&format!("node:{}", "a".repeat(129))),
            "invalid reference format"
        );
        assert!(Reference::parse_normalized(&format!("node:{}", "a".repeat(128))).is_ok());
        assert_eq!(
            e(&"a".repeat(256)),
            "repository name must not be more than 255 characters"
        );
        assert_eq!(
            e(&"a".repeat(248)),
            "repository name must not be more than 255 characters"
        );
        assert!(Reference::parse_normalized(&"a".repeat(247)).is_ok());
        let sha512 = format!("app@sha512:{}", "f".repeat(128));
        assert!(Reference::parse_normalized(&sha512).is_ok());
        let sha384 = format!("app@sha384:{}", "f".repeat(96));
        assert!(Reference::parse_normalized(&sha384).is_ok());
        assert_eq!(
            e(&format!("app@md5:{}", "f".repeat(32))),
            "unsupported digest algorithm"
        );
        assert_eq!(
            e(&format!("app@sha256:{}", "F".repeat(64))),
            "invalid checksum digest format"
        );
    }

    #[test]
    fn never_panics() {
        for s in [
            "",
            ":",
            "@",
            "/",
            "//",
            "a/",
            "/a",
            "[",
            "[]",
            "[::1",
            "[::1]",
            "[::1]/a",
            "a:",
            "a@",
            "é",
            "ünïcode/ref:tag",
            "a\u{0}b",
            "\u{feff}node",
            "a..b",
            "a__b",
            "a___b",
            "a--b",
            "-a",
            "a-",
            "a:-b",
            ":a",
            "a::b",
            "a@sha256:",
            "a@:ff",
            "localhost:",
            "x:99999999999999999999/a",
        ] {
            let _ = Reference::parse_normalized(s);
            let _ = Reference::parse(s);
            let _ = match_name(s);
            let _ = validate_digest(s);
        }
        let long = "a/".repeat(10_000) + "a";
        assert!(Reference::parse_normalized(&long).is_err());
    }
}
