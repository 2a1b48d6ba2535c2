//! The platforms a repository builds for, as far as the files refit reads
//! show them (REF009): a literal `FROM --platform=` for its own `FROM`,
//! and for every `FROM` built for the target platform, Compose
//! `build.platforms`, bake `platforms`, a CI step's `platforms:` input and
//! `--platform` in `docker build` / `docker buildx build` commands.
//!
//! A text scan, not a parse, on purpose: the values are short lists of
//! `os/arch[/variant]` words in YAML, HCL, JSON or a shell line, and a
//! word that is not a literal platform (`$TARGETPLATFORM`, `${{ matrix.p }}`)
//! is dropped, so a scan can only miss a platform, never invent one.

use crate::site::ImageSite;

/// One platform and where it was read (`compose.yaml:7`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Wanted {
    pub platform: String,
    pub source: String,
}

/// The bake files read besides the checked files, from the folder refit
/// runs in (bake's own default names).
pub const BAKE_FILES: &[&str] = &[
    "docker-bake.hcl",
    "docker-bake.json",
    "docker-bake.override.hcl",
    "docker-bake.override.json",
];

/// The largest bake file read.
const MAX_BAKE_BYTES: u64 = 1024 * 1024;

/// `os/arch[/variant]` in lower case, when `word` is a literal platform.
pub fn literal(word: &str) -> Option<String> {
    let word = word.trim().trim_matches(|c| c == '"' || c == '\'');
    let parts: Vec<&str> = word.split('/').collect();
    let ok = (2..=3).contains(&parts.len())
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.len() <= 32
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
        })
        && parts
            .first()
            .is_some_and(|os| os.chars().next().is_some_and(|c| c.is_ascii_alphabetic()));
    ok.then(|| word.to_ascii_lowercase())
}

/// The literal platforms among the words of a list text
/// (`linux/amd64,linux/arm64`, `["linux/amd64", "linux/arm64"]`).
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| {
        !(c.is_ascii_alphanumeric() || c == '/' || c == '_' || c == '.' || c == '-' || c == '$')
    })
    .filter_map(literal)
    .collect()
}

/// The value after a `platforms` key on a line (`platforms:` in YAML,
/// `platforms =` in HCL, `"platforms":` in JSON), anywhere on the line.
fn key_value(line: &str) -> Option<&str> {
    for (at, _) in line.match_indices("platforms") {
        let before = line[..at].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.') {
            continue;
        }
        let rest = line[at + "platforms".len()..]
            .trim_start_matches('"')
            .trim_start();
        if let Some(value) = rest.strip_prefix(':').or_else(|| rest.strip_prefix('=')) {
            return Some(value);
        }
    }
    None
}

/// The platforms a text that is not a Dockerfile asks builds for.
pub fn in_text(display: &str, text: &str) -> Vec<Wanted> {
    let mut out = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut push = |platforms: Vec<String>, line: usize| {
        for platform in platforms {
            out.push(Wanted {
                platform,
                source: format!("{display}:{}", line + 1),
            });
        }
    };
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if let Some(value) = key_value(line) {
            let value = value.split(" #").next().unwrap_or(value).trim();
            if value.starts_with('[') && !value.contains(']') {
                // A list over several lines (HCL, JSON, YAML flow).
                let mut found = words(value);
                let mut j = i + 1;
                while j < lines.len() && j < i + 64 {
                    found.extend(words(lines[j]));
                    if lines[j].contains(']') {
                        break;
                    }
                    j += 1;
                }
                push(found, i);
                i = j + 1;
                continue;
            }
            if value.is_empty() || value == "|" || value == ">" {
                // A YAML block list or block scalar below the key.
                let indent = line.len() - line.trim_start().len();
                let mut j = i + 1;
                let mut found = Vec::new();
                while j < lines.len() {
                    let l = lines[j];
                    let inner = l.len() - l.trim_start().len();
                    if l.trim().is_empty() {
                        j += 1;
                        continue;
                    }
                    if inner <= indent && !l.trim_start().starts_with("- ") {
                        break;
                    }
                    if inner < indent {
                        break;
                    }
                    found.extend(words(l.split(" #").next().unwrap_or(l)));
                    j += 1;
                }
                push(found, i);
                i = j;
                continue;
            }
            push(words(value), i);
        }
        if line.contains("--platform") {
            let mut found = Vec::new();
            let mut rest = line;
            let mut build = false;
            while let Some(at) = rest.find("--platform") {
                // Only a build's flag (`docker run --platform` runs, and
                // `FROM --platform` is the Dockerfile's own).
                build |= rest[..at].contains("build ");
                rest = &rest[at + "--platform".len()..];
                if !build {
                    continue;
                }
                let value = rest.trim_start_matches(['=', ' ']);
                let end = value.find([' ', '\t']).unwrap_or(value.len());
                found.extend(words(&value[..end]));
            }
            push(found, i);
        }
        i += 1;
    }
    out
}

/// The bake files in `dir` that are not among `seen`, read through the
/// bounded reader: their platforms.
pub fn in_bake_files(dir: &std::path::Path, seen: &[std::path::PathBuf]) -> Vec<Wanted> {
    let mut out = Vec::new();
    for name in BAKE_FILES {
        let path = dir.join(name);
        if seen.iter().any(|s| s.ends_with(name)) || !path.is_file() {
            continue;
        }
        if let Ok(text) = crate::bounded::read_regular(&path, MAX_BAKE_BYTES) {
            out.extend(in_text(name, &text));
        }
    }
    out
}

/// What a Dockerfile `FROM` site must offer: its literal `--platform`, or
/// the repository's platforms when it is built for the target platform
/// (no flag, or one naming `TARGETPLATFORM`/`TARGETOS`/`TARGETARCH`).
/// Nothing for other sites, and nothing for `$BUILDPLATFORM` (the build
/// machine, not a target).
pub fn for_site(
    site: &ImageSite,
    graph: Option<&crate::site::StageGraph>,
    display: &str,
    line: usize,
    repository: &[Wanted],
) -> Vec<Wanted> {
    let Some(stage) = &site.extra.stage else {
        return Vec::new();
    };
    let flag = graph
        .and_then(|g| g.stages.get(stage.index))
        .and_then(|s| s.platform.as_ref())
        .map(|(p, _)| p.as_str());
    match flag {
        Some(p) => {
            if let Some(platform) = literal(p) {
                vec![Wanted {
                    platform,
                    source: format!("`--platform` at {display}:{line}"),
                }]
            } else if p.contains("TARGET") {
                repository.to_vec()
            } else {
                Vec::new()
            }
        }
        None => repository.to_vec(),
    }
}

/// Whether `offered` (an index's platform) serves a build for `wanted`:
/// the same, or one naming a variant of it (`linux/arm/v7` for
/// `linux/arm`); `linux/arm64` and `linux/arm64/v8` are one platform.
pub fn serves(offered: &str, wanted: &str) -> bool {
    let norm = |p: &str| {
        p.strip_suffix("/arm64/v8")
            .map_or(p.to_string(), |s| format!("{s}/arm64"))
    };
    let (o, w) = (norm(offered), norm(wanted));
    o == w || o.starts_with(&format!("{w}/"))
}

/// The platforms of `wanted` that `offered` lacks (each once); none
/// when nothing is known of `offered`.
pub fn missing<'a>(offered: &[String], wanted: &'a [Wanted]) -> Vec<&'a Wanted> {
    if offered.is_empty() {
        return Vec::new();
    }
    let mut seen = Vec::new();
    wanted
        .iter()
        .filter(|w| !offered.iter().any(|p| serves(p, &w.platform)))
        .filter(|w| {
            let fresh = !seen.contains(&w.platform);
            seen.push(w.platform.clone());
            fresh
        })
        .collect()
}

/// One file as the platform checks read it.
pub struct FileText<'a> {
    pub kind: crate::kind::FileKind,
    pub display: &'a str,
    /// `None`: not read.
    pub text: Option<&'a str>,
    pub path: Option<&'a std::path::Path>,
}

/// The platforms the repository's files other than Dockerfiles build for,
/// and those of bake files in the current folder.
pub fn repository_platforms(files: &[FileText]) -> Vec<Wanted> {
    let mut out = Vec::new();
    for f in files {
        if f.kind == crate::kind::FileKind::Dockerfile {
            continue;
        }
        if let Some(text) = f.text {
            out.extend(in_text(f.display, text));
        }
    }
    let seen: Vec<std::path::PathBuf> = files
        .iter()
        .filter_map(|f| f.path.map(std::path::Path::to_path_buf))
        .collect();
    out.extend(in_bake_files(std::path::Path::new("."), &seen));
    out.sort();
    out.dedup_by(|a, b| a.platform == b.platform);
    out
}

/// The platforms each site of a file is built for (REF009): only a
/// Dockerfile's `FROM`s are; every other site gets none.
pub fn site_platforms(
    file: &FileText,
    sites: &[ImageSite],
    repository: &[Wanted],
) -> Vec<Vec<Wanted>> {
    let (Some(text), crate::kind::FileKind::Dockerfile) = (file.text, file.kind) else {
        return vec![Vec::new(); sites.len()];
    };
    let lines = crate::diagnostic::LineIndex::new(text);
    // The stage graph gives each `FROM`'s `--platform` as written.
    let settings = crate::settings::Settings::default();
    let graph: Option<crate::site::StageGraph> =
        crate::sources::dockerfile::stage_graph(text, &crate::check::options(&settings));
    sites
        .iter()
        .map(|site| {
            if site.extra.build_output || site.reference().is_none() {
                return Vec::new();
            }
            let line = lines.line_of(site.span.start) + 1;
            for_site(site, graph.as_ref(), file.display, line, repository)
        })
        .collect()
}

/// The REF009 findings for a site: the platforms `wanted` that `offered`
/// lacks.
pub fn missing_platform_findings(
    site: &ImageSite,
    wanted: &[Wanted],
    offered: &[String],
) -> Vec<crate::diagnostic::Diagnostic> {
    let mut out = Vec::new();
    let Some(reference) = site.reference() else {
        return out;
    };
    if offered.is_empty() {
        return out;
    }
    for w in missing(offered, wanted) {
        let mut d = crate::rules::ref009_missing_platform::RULE.report(
            site,
            format!(
                "Image `{}` has no {} manifest (it offers {})",
                reference.input().split('@').next().unwrap_or_default(),
                w.platform,
                offered.join(", ")
            ),
        );
        if w.source.starts_with("`--platform` at") {
            d.help = Some(format!(
                "this stage is built for {} ({}): the build fails with `no match for platform in manifest`, or runs another architecture under emulation",
                w.platform, w.source
            ));
        } else {
            // Read outside this Dockerfile: refit does not follow which
            // build uses which Dockerfile, so it says what it saw, as a
            // warning, not that this build fails.
            d.severity = crate::diagnostic::Severity::Warning;
            d.help = Some(format!(
                "the repository builds for {} ({}); if that build uses this Dockerfile, it fails with `no match for platform in manifest` or runs another architecture under emulation",
                w.platform, w.source
            ));
        }
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn platforms(text: &str) -> Vec<String> {
        in_text("f", text).into_iter().map(|w| w.platform).collect()
    }

    #[test]
    fn compose_bake_ci_and_commands() {
        assert_eq!(
            platforms(
                "services:\n  a:\n    build:\n      platforms:\n        - linux/amd64\n        - \"linux/arm64\"\n    image: x\n"
            ),
            ["linux/amd64", "linux/arm64"]
        );
        assert_eq!(
            platforms(
                "target \"x\" {\n  platforms = [\n    \"linux/amd64\",\n    \"linux/s390x\"\n  ]\n}\n"
            ),
            ["linux/amd64", "linux/s390x"]
        );
        assert_eq!(
            platforms("{\"target\":{\"x\":{\"platforms\": [\"linux/ppc64le\"]}}}\n"),
            ["linux/ppc64le"]
        );
        assert_eq!(
            platforms("      with:\n        platforms: linux/amd64,linux/arm/v7\n"),
            ["linux/amd64", "linux/arm/v7"]
        );
        assert_eq!(
            platforms(
                "  script: docker buildx build --platform=linux/amd64,linux/arm64 .\n  - docker build --platform linux/riscv64 --platform linux/mips64le .\n"
            ),
            [
                "linux/amd64",
                "linux/arm64",
                "linux/riscv64",
                "linux/mips64le"
            ]
        );
        // Variables are not platforms; a scan never invents one.
        assert!(platforms("platforms: ${{ matrix.platform }}\n").is_empty());
        assert!(platforms("platforms: $TARGETPLATFORM\n").is_empty());
        assert!(platforms("  - docker run --platform linux/s390x app:1 build\n").is_empty());
        assert!(platforms("image: docker.io/library/alpine:3.20\n").is_empty());
    }

    #[test]
    fn variants() {
        assert!(serves("linux/arm/v7", "linux/arm"));
        assert!(serves("linux/arm64/v8", "linux/arm64"));
        assert!(serves("linux/arm64", "linux/arm64/v8"));
        assert!(!serves("linux/amd64", "linux/s390x"));
        assert!(!serves("linux/arm", "linux/arm64"));
    }
}
