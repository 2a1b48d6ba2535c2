//! Templates and generated files. A template is filled in by a script or a
//! template engine before any tool reads it (`sed`/`envsubst` placeholders,
//! Jinja, Go templates, docker-library's `%%VAR%%`): it is not data, so
//! refit reads its plain image lines, checks no placeholder, and fixes
//! nothing (note N001). A generated file is rewritten by its generator:
//! its findings stay, its fixes go.

use super::common::{Builder, site};
use crate::site::{ImageSite, SiteKind, Span};

/// Whether a file's name says it is a template: `Dockerfile-alpine.template`,
/// `Dockerfile.tmpl`, `deployment.yaml.j2`.
pub fn is_template_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".template", ".tmpl", ".tpl", ".j2", ".jinja", ".jinja2"]
        .iter()
        .any(|s| lower.ends_with(s))
}

/// Template statements in a text (Jinja `{% %}`, Go `{{ }}`, `%%VAR%%`,
/// `@VAR@`): what makes a file that does not parse a template rather than
/// broken. The marker found, for the note.
pub fn file_marker(text: &str) -> Option<String> {
    if text.contains("{%") {
        return Some("`{% … %}`".to_string());
    }
    if text.contains("{{") {
        return Some("`{{ … }}`".to_string());
    }
    if text.contains(DEVCONTAINER_OPTION) {
        return Some("`${templateOption:…}`".to_string());
    }
    text.lines().find_map(|line| {
        let value = line.split_once(':').map_or(line, |(_, v)| v).trim();
        let value = value.split_whitespace().next().unwrap_or("");
        placeholder(value, true)
            .filter(|p| p.starts_with(['%', '@', '_', '{', '<']))
            .map(|p| format!("`{}`", p.chars().take(60).collect::<String>()))
    })
}

/// A line that is only a variable (`${LABELS}`, `$EXTRA`) where a
/// Dockerfile instruction goes: `envsubst` fills it before the file is
/// built (percona's OLM `bundle.Dockerfile`). The line, quoted.
pub fn lone_variable_line(text: &str) -> Option<String> {
    text.lines().take(10_000).find_map(|line| {
        let t = line.trim();
        let name = t
            .strip_prefix("${")
            .and_then(|v| v.strip_suffix('}'))
            .or_else(|| t.strip_prefix('$'))?;
        (!name.is_empty()
            && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then(|| format!("`{t}`"))
    })
}

/// A placeholder's name: `IMAGE`, `image_url`, `YOUR-CONTAINER`.
fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && s.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        && s.chars().any(|c| c.is_ascii_alphabetic())
}

/// Words for the reader to fill in (`{Organization name}`, `<your
/// registry>`): two to six words of letters and digits, single spaces.
fn is_phrase(s: &str) -> bool {
    let words: Vec<&str> = s.split(' ').collect();
    (2..=6).contains(&words.len())
        && s.len() <= 60
        && words.iter().all(|w| {
            !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
}

/// A name in capitals (`IMAGE_URL`, `REPLACE-ME`): never a valid
/// repository name, which is lower case.
fn is_caps_name(s: &str) -> bool {
    s.len() >= 2
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' || c == '-')
        && s.starts_with(|c: char| c.is_ascii_uppercase())
        && !s.ends_with('-')
}

/// A dev container template option (`${templateOption:imageVariant}`),
/// which the dev container CLI fills in when it applies the template.
pub const DEVCONTAINER_OPTION: &str = "${templateOption:";

/// The placeholder in an image value, if it has one: `{{ … }}`, `{% … %}`,
/// `{IMAGE}`, `__IMAGE__`, `@IMAGE@`, `%%IMAGE%%`, `<IMAGE>`, a name in
/// capitals as a whole component (`IMAGE_URL`, `REGISTRY/app`), and, where
/// the file's own tool does not interpolate (`shell`), `${IMAGE}`,
/// `$IMAGE`, `$(IMAGE)`. The value is bounded by the caller (one scalar).
pub fn placeholder(value: &str, shell: bool) -> Option<&str> {
    let value = value.trim_matches(|c| c == '"' || c == '\'');
    if let Some(at) = value
        .find("{{")
        .or_else(|| value.find("{%"))
        .or_else(|| value.find(DEVCONTAINER_OPTION))
    {
        return Some(&value[at..]);
    }
    if shell && let Some(at) = value.find('$') {
        return Some(&value[at..]);
    }
    for (open, close) in [
        ("__", "__"),
        ("@", "@"),
        ("%%", "%%"),
        ("{", "}"),
        ("<", ">"),
    ] {
        let mut rest = value;
        let mut offset = 0;
        while let Some(at) = rest.find(open) {
            let after = &rest[at + open.len()..];
            if let Some(end) = after.find(close) {
                let name = &after[..end];
                let start = offset + at;
                let stop = start + open.len() + end + close.len();
                // A whole piece of the reference: `my__app__x` is a valid
                // name (`__` separates its parts), `app:__TAG__` is not.
                let edge = |c: Option<char>| c.is_none_or(|c| "/:@-.".contains(c));
                let bounded =
                    edge(value[..start].chars().next_back()) && edge(value[stop..].chars().next());
                let named = is_name(name) || (matches!(open, "{" | "<") && is_phrase(name));
                if bounded && named && (open != "@" || is_caps_name(name)) {
                    return value.get(start..stop);
                }
            }
            offset += at + open.len();
            rest = after;
        }
    }
    // A name in capitals as a whole path component, before the tag.
    let name = value.split('@').next().unwrap_or(value);
    let name = match name.rsplit_once(':') {
        Some((n, tag)) if !tag.contains('/') => n,
        _ => name,
    };
    let mut components = name.split('/');
    let first = components.next().unwrap_or("");
    // The first component may be a registry host (upper case is allowed
    // there only with a dot or port, which `is_caps_name` excludes).
    std::iter::once(first)
        .chain(components)
        .find(|c| is_caps_name(c))
}

/// `FROM` lines of a Dockerfile template that is not a Dockerfile (Jinja
/// statements, `%%VAR%%`): each line's image, read as written.
pub fn dockerfile_from_lines(text: &str) -> Vec<ImageSite> {
    let mut out = Vec::new();
    // Stage names (`FROM alpine:{{ … }} AS build-base`), from every
    // `FROM` line, template or not: a later `FROM build-base` is that
    // stage, not an image.
    let mut stages: Vec<&str> = Vec::new();
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let start = line_start;
        line_start += line.len();
        let body = line.trim_end_matches(['\n', '\r']);
        let indent = body.len() - body.trim_start().len();
        let trimmed = body.trim_start();
        // `get`, not indexing: the fifth byte may fall inside a character.
        let (Some(head), Some(rest)) = (trimmed.get(..5), trimmed.get(5..)) else {
            continue;
        };
        if !head.eq_ignore_ascii_case("from ") {
            continue;
        }
        let mut at = start + indent + 5;
        let mut image = None;
        for word in rest.split(' ') {
            if word.is_empty() || word.starts_with("--") {
                at += word.len() + 1;
                continue;
            }
            image = Some(word);
            break;
        }
        let Some(image) = image else { continue };
        let words: Vec<&str> = rest.split_whitespace().collect();
        if let [.., as_word, name] = words.as_slice()
            && as_word.eq_ignore_ascii_case("as")
            && !name.contains(['$', '{', '}'])
            && stages.len() < 256
        {
            stages.push(name);
        }
        // A stage, or `scratch` (no image at all).
        if image.eq_ignore_ascii_case("scratch")
            || stages.iter().any(|st| st.eq_ignore_ascii_case(image))
        {
            continue;
        }
        // Quotes are the shell's, as BuildKit's lexer reads `FROM "x"`.
        let (image, at) = match image.as_bytes() {
            [q @ (b'"' | b'\''), .., last] if last == q && image.len() >= 2 => {
                (&image[1..image.len() - 1], at + 1)
            }
            _ => (image, at),
        };
        // A variable or a template expression is not a reference yet: the
        // plain lines of a template are only those that name an image.
        if image.is_empty() || image.contains(['$', '{', '}']) {
            continue;
        }
        let span = Span::new(at, at + image.len());
        if text.get(span.start..span.end) != Some(image) {
            continue;
        }
        let mut b = Builder::default();
        b.push(image, Some(span.start));
        let mut s = site(SiteKind::From, span, image, b.into_value(), String::new());
        s.path = None;
        out.push(s);
    }
    out
}

/// How far into a file a "generated" marker is looked for: generated files
/// are not the user's to fix (their findings stay, their fixes go).
const GENERATED_LINES: usize = 20;
const GENERATED_BYTES: usize = 1024;

/// The comment that marks a file as generated (`# Code generated by … DO
/// NOT EDIT.`, `# @generated`, `# This file is generated by …`), in its
/// first lines: such a file is not the user's to fix.
pub fn generated_marker(text: &str) -> Option<String> {
    // The first `GENERATED_BYTES` characters; bytes when they are ASCII
    // (no walk over the characters).
    let head = if text.len() <= GENERATED_BYTES {
        text
    } else if text.as_bytes()[..=GENERATED_BYTES].is_ascii() {
        &text[..GENERATED_BYTES]
    } else {
        match text.char_indices().nth(GENERATED_BYTES) {
            Some((at, _)) => &text[..at],
            None => text,
        }
    };
    head.lines().take(GENERATED_LINES).find_map(|line| {
        let trimmed = line.trim();
        let comment = ["#", "//", "/*", "*", "<!--", "{{/*"]
            .iter()
            .any(|c| trimmed.starts_with(c));
        if !comment {
            return None;
        }
        let lower = trimmed.to_ascii_lowercase();
        let words = lower.trim_start_matches(|c: char| !c.is_ascii_alphanumeric() && c != '@');
        // Anywhere in the comment: what generators write.
        let anywhere = [
            "do not edit",
            "do not manually edit",
            "do not modify",
            "code generated",
            "@generated",
        ]
        .iter()
        .any(|m| lower.contains(m));
        // At the start of the comment only: "auto-generated credentials"
        // in a values file's comment says nothing about the file.
        let opening = [
            "generated by",
            "autogenerated by",
            "auto-generated by",
            "automatically generated",
            "this file is generated",
            "this file was generated",
            "this file is autogenerated",
            "this file is auto-generated",
            "this file was autogenerated",
            "this file was auto-generated",
        ]
        .iter()
        .any(|m| words.starts_with(m));
        // "NOTE: THIS DOCKERFILE IS GENERATED VIA …" (docker-library):
        // `this <what> is/was generated`, after a `note:`-like word.
        let said = {
            let mut w = words.split_whitespace();
            let mut first = w.next().unwrap_or_default();
            if matches!(first, "note:" | "notice:" | "warning:" | "important:") {
                first = w.next().unwrap_or_default();
            }
            let (_, verb, what) = (w.next(), w.next(), w.next());
            first == "this"
                && matches!(verb, Some("is" | "was"))
                && what.is_some_and(|g| {
                    ["generated", "autogenerated", "auto-generated"]
                        .iter()
                        .any(|m| g.trim_end_matches([',', '.', ':', ';']) == *m)
                })
        };
        (anywhere || opening || said).then(|| trimmed.chars().take(80).collect())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fuzzing found it: a line whose fifth byte falls inside a character
    /// (`FRO` and a BOM) panicked on slicing.
    #[test]
    fn a_multibyte_character_at_the_fifth_byte_is_no_from_line() {
        assert!(dockerfile_from_lines("FRO\u{feff}uay.io/x:1\nFROM\u{feff} y\n").is_empty());
        let sites = dockerfile_from_lines("FRO\u{feff}x\nFROM alpine:3.20\n");
        assert_eq!(sites.len(), 1);
    }

    /// BlueBuild's `Containerfile.j2`: `FROM "${BASE_IMAGE}"` is no
    /// reference yet; a quoted plain name is read without its quotes.
    #[test]
    fn quoted_and_variable_from_lines() {
        let text = "FROM {{ base }}\nFROM \"${BASE_IMAGE}\"\nFROM 'alpine:3.20' AS a\nFROM \"\"\n";
        let sites = dockerfile_from_lines(text);
        assert_eq!(sites.len(), 1);
        assert_eq!(sites[0].raw, "alpine:3.20");
        assert_eq!(&text[sites[0].span.start..sites[0].span.end], "alpine:3.20");
    }

    #[test]
    fn a_line_that_is_only_a_variable_marks_an_envsubst_template() {
        assert_eq!(
            lone_variable_line("FROM scratch\n# LABELS is replaced\n${LABELS}\nCOPY . /\n")
                .as_deref(),
            Some("`${LABELS}`")
        );
        assert!(lone_variable_line("FROM x\nRUN echo ${A}\n").is_none());
    }

    #[test]
    fn template_stage_names_are_not_images() {
        let text = "FROM alpine:{{ .alpine.version }} AS build-base\nRUN make\nFROM build-base AS openssl-builder\nFROM openssl-builder\nFROM scratch\nFROM busybox:1.36\n";
        let got: Vec<String> = dockerfile_from_lines(text)
            .iter()
            .map(|s| s.raw.clone())
            .collect();
        assert_eq!(got, ["busybox:1.36"]);
    }

    #[test]
    fn phrases_to_fill_in_are_placeholders() {
        assert_eq!(
            placeholder(
                "swr.cn-north-4.myhuaweicloud.com/{Organization name}/cluster-autoscaler:dev",
                false
            ),
            Some("{Organization name}")
        );
        assert_eq!(
            placeholder("<your registry>/app:1", false),
            Some("<your registry>")
        );
        assert_eq!(placeholder("ghcr.io/acme/app:1", false), None);
    }

    #[test]
    fn generated_markers_say_this_thing_is_generated() {
        let text = "#\n# NOTE: THIS DOCKERFILE IS GENERATED VIA \"apply-templates.sh\"\n#\n# PLEASE DO NOT EDIT IT DIRECTLY.\n#\nFROM x\n";
        assert!(generated_marker(text).is_some());
        let text = "#\n# NOTE: THIS DOCKERFILE IS GENERATED VIA \"apply-templates.sh\"\n#\nFROM debian:trixie-slim\n";
        assert!(generated_marker(text).is_some());
        assert!(generated_marker("# this is the source, not generated\nFROM x\n").is_none());
        assert!(generated_marker("# This chart was generated by helm create\n").is_some());
    }

    #[test]
    fn generated_markers() {
        assert!(generated_marker("# Code generated by gen.go. DO NOT EDIT.\nFROM x\n").is_some());
        assert!(
            generated_marker("---\n# Source: chart/templates/x.yaml\n# @generated\n").is_some()
        );
        assert!(generated_marker("# This file is generated by update.sh\n").is_some());
        assert!(
            generated_marker("# WARNING: This file is autogenerated. Do not manually edit.\n")
                .is_some()
        );
        assert!(
            generated_marker("## be created containing auto-generated credentials.\n").is_none()
        );
        assert!(generated_marker("FROM node:20\n# the image generated by CI\n").is_none());
        assert!(generated_marker("FROM node:20\nRUN echo generated by hand\n").is_none());
        let late = format!("{}# DO NOT EDIT\n", "# x\n".repeat(30));
        assert!(generated_marker(&late).is_none());
    }

    #[test]
    fn placeholders() {
        for (value, shell, want) in [
            ("${IMAGE}", true, Some("${IMAGE}")),
            ("${IMAGE}", false, None),
            ("IMAGE_URL", false, Some("IMAGE_URL")),
            ("__IMAGE__", false, Some("__IMAGE__")),
            ("app:__TAG__", false, Some("__TAG__")),
            ("@IMAGE@", false, Some("@IMAGE@")),
            ("{IMAGE}", false, Some("{IMAGE}")),
            ("php:%%PHP_VERSION%%-apache", false, Some("%%PHP_VERSION%%")),
            ("{{ .Values.image }}", false, Some("{{ .Values.image }}")),
            ("REGISTRY/app:1.0", false, Some("REGISTRY")),
            ("<IMAGE>", false, Some("<IMAGE>")),
            ("nginx:1.27", true, None),
            ("nginx@sha256:abc", true, None),
            ("docker.io/library/nginx:1.27-alpine", true, None),
            ("myorg/MyApp:1", false, None),
            ("my__app__x:1", false, None),
            ("REPLACE-ME", false, Some("REPLACE-ME")),
            ("<YOUR-CONTAINER>", false, Some("<YOUR-CONTAINER>")),
            (
                "mcr.microsoft.com/devcontainers/python:${templateOption:imageVariant}",
                false,
                Some("${templateOption:imageVariant}"),
            ),
            ("my-app:1", false, None),
            ("ghcr.io/org/my-app:v1-rc", false, None),
        ] {
            assert_eq!(placeholder(value, shell), want, "{value}");
        }
    }

    #[test]
    fn names_and_markers() {
        assert!(is_template_name("Dockerfile-alpine.template"));
        assert!(is_template_name("deployment.yaml.j2"));
        assert!(!is_template_name("Dockerfile"));
        assert_eq!(
            file_marker("{% if x %}\nFROM a\n").as_deref(),
            Some("`{% … %}`")
        );
        assert_eq!(
            file_marker("  image: @IMAGE@\n").as_deref(),
            Some("`@IMAGE@`")
        );
        assert_eq!(file_marker("image: nginx:1.27\n"), None);
    }

    #[test]
    fn from_lines() {
        let text = "{% if a %}\nFROM --platform=$BUILDPLATFORM php:%%V%%-fpm AS base\n{% endif %}\nfrom alpine:3.20\n";
        let sites = dockerfile_from_lines(text);
        let raws: Vec<&str> = sites.iter().map(|s| s.raw.as_str()).collect();
        assert_eq!(raws, ["php:%%V%%-fpm", "alpine:3.20"]);
        assert_eq!(
            &text[sites[0].span.start..sites[0].span.end],
            "php:%%V%%-fpm"
        );
    }
}
