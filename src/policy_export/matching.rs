//! refit's policy as regular expressions over image references, so that
//! CEL (`matches`, RE2), Rego (`regex.match`) and refit answer alike.
//!
//! The exported policies first normalize a reference the way the runtime
//! does, by string concatenation only (CEL has no substring function that
//! every engine offers): a reference without a registry gets `docker.io/`
//! and, when its name has one component, `docker.io/library/`. Every
//! pattern below then applies to that normalized text, which still ends
//! with the tag and digest as written.

use crate::policy::{Policy, Rewrite};

/// A written reference names its registry: the text before the first `/`
/// holds `.` or `:`, is `localhost`, or has an upper-case letter (the
/// distribution reference grammar's rule, `splitDockerDomain`).
pub const DOMAIN: &str = "^(localhost|[^/]*[.:A-Z][^/]*)/";

/// A reference without a registry whose name has several components
/// (`my-org/app`): it becomes `docker.io/my-org/app`.
pub const SHORT_WITH_NAMESPACE: &str = "^[^:@]*/";

/// A tag at the end of the reference (a digest is tested apart).
pub const TAG: &str = ":[^/:@]+$";

/// The explicit `latest` tag without a digest.
pub const LATEST: &str = ":latest$";

/// Docker Hub through a legacy host alias (`index.docker.io`), which
/// REG003 reports; the policies do not normalize it.
pub fn non_canonical() -> String {
    let aliases: Vec<String> = crate::reference::DOCKER_HUB_ALIASES
        .iter()
        .map(|a| escape(a))
        .collect();
    format!("^({})/", aliases.join("|"))
}

/// A Docker Hub name of one component written with its registry
/// (`docker.io/node`): the runtime reads `docker.io/library/node`, which
/// concatenation cannot build, so the policies test it with the `hub`
/// regexes below instead.
pub const HUB_SINGLE: &str = "^docker\\.io/[^/]+$";

/// Regex metacharacters escaped (RE2 and Rust's regex agree on these).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// One `[registries]` pattern as a regex over a normalized reference. A
/// pattern without `/` names registries; with `/`, a name (registry
/// included). `*` matches any run of characters, as in refit; it never runs
/// into the tag (a name has no `:` after its registry) nor, before the
/// pattern's first `/`, past the registry.
pub fn pattern(pattern: &str) -> String {
    let (registry, path) = match pattern.split_once('/') {
        Some((r, p)) => (r, Some(p)),
        None => (pattern, None),
    };
    let glob = |part: &str, star: &str| part.split('*').map(escape).collect::<Vec<_>>().join(star);
    let registry = glob(registry, "[^/@]*");
    match path {
        None => format!("^{registry}/"),
        Some(path) => format!("^{registry}/{}(:[^/:@]+)?(@[^/@]+)?$", glob(path, "[^:@]*")),
    }
}

/// Names under a prefix, as `Rewrite::under` decides it: at a component
/// boundary unless the prefix ends with `/`.
pub fn under(prefix: &str) -> String {
    let boundary = if prefix.ends_with('/') {
        ""
    } else if prefix.contains('/') {
        "(/|:|@|$)"
    } else {
        "/"
    };
    format!("^{}{boundary}", escape(prefix))
}

/// The prefix every `docker.io/<one component>` name gets when normalized.
const HUB_LIBRARY: &str = "docker.io/library/";

/// A glob token: a literal character, or `*` matching any run of the
/// characters a class allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Lit(char),
    /// `*` before the pattern's first `/` (the registry).
    RegistryStar,
    /// `*` in the name's path.
    PathStar,
}

fn tokens(pattern: &str) -> Vec<Token> {
    let mut in_path = false;
    pattern
        .chars()
        .map(|c| match c {
            '*' if in_path => Token::PathStar,
            '*' => Token::RegistryStar,
            c => {
                in_path |= c == '/';
                Token::Lit(c)
            }
        })
        .collect()
}

/// The positions a glob can be at after reading `text` (an NFA run).
fn after(tokens: &[Token], text: &str) -> Vec<usize> {
    let close = |states: &mut Vec<usize>| {
        let mut i = 0;
        while i < states.len() {
            let p = states[i];
            if matches!(tokens.get(p), Some(Token::RegistryStar | Token::PathStar))
                && !states.contains(&(p + 1))
            {
                states.push(p + 1);
            }
            i += 1;
        }
    };
    let mut states = vec![0];
    close(&mut states);
    for c in text.chars() {
        let mut next = Vec::new();
        for &p in &states {
            let step = match tokens.get(p) {
                Some(Token::Lit(l)) if *l == c => Some(p + 1),
                Some(Token::RegistryStar) if c != '/' && c != '@' => Some(p),
                Some(Token::PathStar) if c != ':' && c != '@' => Some(p),
                _ => None,
            };
            if let Some(n) = step.filter(|n| !next.contains(n)) {
                next.push(n);
            }
        }
        states = next;
        close(&mut states);
    }
    states.sort_unstable();
    states
}

/// A name pattern as a regex over `docker.io/<one component>[tail]`, the
/// form [`HUB_SINGLE`] matches: true when the pattern matches
/// `docker.io/library/<component>`. `None` when it never does.
pub fn hub_pattern(pattern: &str) -> Option<String> {
    if !pattern.contains('/') {
        // A registry pattern: the registry is `docker.io` either way.
        return Some(self::pattern(pattern));
    }
    let tokens = tokens(pattern);
    let rests: Vec<String> = after(&tokens, HUB_LIBRARY)
        .into_iter()
        .filter_map(|p| {
            let rest = tokens.get(p..)?;
            // The component has no `/`.
            if rest.contains(&Token::Lit('/')) {
                return None;
            }
            Some(
                rest.iter()
                    .map(|t| match t {
                        Token::Lit(c) => escape(&c.to_string()),
                        _ => "[^/:@]*".to_string(),
                    })
                    .collect::<String>(),
            )
        })
        .collect();
    let alternatives = any(rests)?;
    Some(format!(
        "^docker\\.io/({alternatives})(:[^/:@]+)?(@[^/@]+)?$"
    ))
}

/// [`under`] for `docker.io/<one component>[tail]`, read as
/// `docker.io/library/<component>`.
pub fn hub_under(prefix: &str) -> Option<String> {
    if let Some(rest) = prefix.strip_prefix(HUB_LIBRARY) {
        if rest.contains('/') || rest.is_empty() {
            // `docker.io/library/` itself, or a deeper prefix.
            return rest.is_empty().then(|| HUB_SINGLE.to_string());
        }
        let boundary = "(:|@|$)";
        return Some(format!("^docker\\.io/{}{boundary}", escape(rest)));
    }
    // A shorter prefix of `docker.io/library/` at a boundary holds every
    // such name: `docker.io`, `docker.io/library`, `docker.io/`.
    let library = HUB_LIBRARY.trim_end_matches('/');
    let holds = library == prefix.trim_end_matches('/')
        || (HUB_LIBRARY.starts_with(prefix)
            && (prefix.ends_with('/') || HUB_LIBRARY[prefix.len()..].starts_with('/')));
    holds.then(|| HUB_SINGLE.to_string())
}

/// Alternatives joined into one regex (`None` for none).
pub fn any(regexes: impl IntoIterator<Item = String>) -> Option<String> {
    let all: Vec<String> = regexes.into_iter().map(|r| format!("({r})")).collect();
    (!all.is_empty()).then(|| all.join("|"))
}

/// A test on a reference: `normal` over its normalized text, except for
/// the [`HUB_SINGLE`] form, which `hub` reads as written (`None`: never).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    pub normal: String,
    pub hub: Option<String>,
}

impl Matcher {
    fn patterns<'a>(patterns: impl Iterator<Item = &'a String> + Clone) -> Option<Matcher> {
        Some(Matcher {
            normal: any(patterns.clone().map(|p| pattern(p)))?,
            hub: any(patterns.filter_map(|p| hub_pattern(p))),
        })
    }

    fn prefixes(prefixes: Vec<String>) -> Option<Matcher> {
        Some(Matcher {
            normal: any(prefixes.iter().map(|p| under(p)))?,
            hub: any(prefixes.iter().filter_map(|p| hub_under(p))),
        })
    }
}

/// The tests of one policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Regexes {
    /// Some deny pattern matches.
    pub deny: Option<Matcher>,
    /// Some allow pattern or proxy matches (`None`: everything is allowed).
    pub allow: Option<Matcher>,
    /// The upstream of a pull-through cache.
    pub upstream: Option<Matcher>,
    /// Under some rewrite's `from`.
    pub rewrite_from: Option<Matcher>,
    /// Under some rewrite's `to` (rewrites never chain).
    pub rewrite_to: Option<Matcher>,
}

impl Regexes {
    pub fn of(policy: &Policy) -> Regexes {
        let allow = if policy.allow.is_empty() {
            None
        } else {
            let patterns = Matcher::patterns(policy.allow.iter());
            let vias: Vec<String> = policy
                .proxies
                .iter()
                .map(|p| format!("{}/", p.via))
                .collect();
            let vias = Matcher::prefixes(vias);
            match (patterns, vias) {
                (Some(p), Some(v)) => Some(Matcher {
                    normal: format!("{}|{}", p.normal, v.normal),
                    hub: any(p.hub.into_iter().chain(v.hub)),
                }),
                (p, v) => p.or(v),
            }
        };
        Regexes {
            deny: Matcher::patterns(policy.deny.iter()),
            allow,
            upstream: Matcher::prefixes(
                policy.proxies.iter().map(|p| p.upstream.clone()).collect(),
            ),
            rewrite_from: Matcher::prefixes(
                policy
                    .rewrites
                    .iter()
                    .map(|r: &Rewrite| r.from.clone())
                    .collect(),
            ),
            rewrite_to: Matcher::prefixes(
                policy
                    .rewrites
                    .iter()
                    .map(|r: &Rewrite| r.to.clone())
                    .collect(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    fn is(re: &str, text: &str) -> bool {
        Regex::new(re).unwrap().is_match(text)
    }

    #[test]
    fn patterns_agree_with_refit_globs() {
        let cases = [
            ("docker.io/library/*", "docker.io/library/node:20", true),
            ("docker.io/library/*", "docker.io/library-evil/x:1", false),
            ("docker.io", "docker.io/library/node", true),
            ("*.corp.example", "harbor.corp.example/x/y:1", true),
            ("*.corp.example", "corp.example.evil/x", false),
            ("ghcr.io/my-org/*", "ghcr.io/my-org/a/b@sha256:00", true),
            ("docker.io/library/node", "docker.io/library/node:20", true),
            (
                "docker.io/library/node",
                "docker.io/library/nodejs:20",
                false,
            ),
            (
                "docker.io/library/node*x",
                "docker.io/library/node:x",
                false,
            ),
            ("localhost:5000", "localhost:5000/app:1", true),
            ("localhost", "localhost:5000/app:1", false),
        ];
        for (p, image, want) in cases {
            assert_eq!(is(&pattern(p), image), want, "{p} on {image}");
        }
        assert!(is(&under("docker.io/my-org"), "docker.io/my-org:1"));
        assert!(is(&under("docker.io/my-org"), "docker.io/my-org/app"));
        assert!(!is(
            &under("docker.io/my-org"),
            "docker.io/my-organisation/app"
        ));
        assert!(!is(&under("localhost"), "localhost:5000/app"));
        assert!(is(DOMAIN, "localhost:5000/app"));
        assert!(!is(DOMAIN, "node:20"));
        assert!(!is(DOMAIN, "my-org/app:1"));
        assert!(!is(&non_canonical(), "docker.io/node:20"));
        let hub = |p: &str| hub_pattern(p).map(|r| is(&r, "docker.io/node:20"));
        assert_eq!(hub("docker.io/library/*"), Some(true));
        assert_eq!(hub("docker.io/library/node"), Some(true));
        assert_eq!(hub("docker.io/library/nodejs"), Some(false));
        assert_eq!(hub("docker.io/*/node"), Some(true));
        assert_eq!(hub("docker.io/my-org/*"), None);
        assert_eq!(hub("docker.io"), Some(true));
        assert_eq!(hub("ghcr.io"), Some(false));
        let under = |p: &str| hub_under(p).map(|r| is(&r, "docker.io/node:20"));
        assert_eq!(under("docker.io"), Some(true));
        assert_eq!(under("docker.io/library"), Some(true));
        assert_eq!(under("docker.io/library/node"), Some(true));
        assert_eq!(under("docker.io/library/no"), Some(false));
        assert_eq!(under("docker.io/lib"), None);
        assert_eq!(under("docker.io/my-org"), None);
        assert!(is(&non_canonical(), "index.docker.io/library/node:20"));
        assert!(!is(&non_canonical(), "docker.io/library/node:20"));
    }
}
