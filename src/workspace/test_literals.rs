//! Image references that test code writes as string literals. A test
//! that applies a manifest and then asserts `pod_image ==
//! "clickhouse/clickhouse-server:24.8"` compares the image as written:
//! after a fix to the manifest (`docker.io/clickhouse/…`) the assertion
//! fails, so a fix to any site whose text is exactly such a literal is
//! unsafe when the same test file also names the file of that site
//! (`"manifests/chi/test-006-ch-upgrade-1.yaml"`): a test that names a
//! file and writes an image compares the two; a docs example that only
//! happens to use the same image is left alone. Only files that are
//! test code by their path are read (a folder named `test`, `tests`, `e2e`, `testing`, `__tests__`, `spec`,
//! or a test file name: `*_test.go`, `test_*.py`, `*.test.ts`,
//! `*_spec.rb`, `FooTest.java`, `*.bats`), and only quoted literals that
//! parse as an image reference with a tag, a digest or a `/`.

use std::path::{Component, Path};

/// Extensions of source files whose string literals are read.
const CODE: [&str; 28] = [
    "py", "go", "rs", "js", "mjs", "cjs", "ts", "mts", "cts", "jsx", "tsx", "rb", "java", "kt",
    "kts", "scala", "groovy", "cs", "php", "sh", "bash", "bats", "swift", "ex", "exs", "lua", "pl",
    "robot",
];

/// Words of a folder name that make what is below it tests.
const TEST_FOLDER_WORDS: [&str; 6] = ["test", "tests", "e2e", "testing", "spec", "specs"];

/// The most literals kept from one file.
const MAX_PER_FILE: usize = 256;

/// The longest literal read (an image reference is short).
const MAX_LITERAL: usize = 256;

/// Test files larger than this are not read for literals.
pub const MAX_TEST_FILE_BYTES: u64 = 1024 * 1024;

fn words(s: &str) -> impl Iterator<Item = String> + '_ {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_ascii_lowercase())
}

/// Whether a file, by its path inside the repository (no I/O), is test
/// code: a source file (by extension) in a test folder or with a test
/// file name.
pub fn is_test_source(rel: &Path) -> bool {
    let Some(name) = rel.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return false;
    };
    let ext = ext.to_ascii_lowercase();
    if !CODE.contains(&ext.as_str()) {
        return false;
    }
    let parent = rel.parent().unwrap_or(Path::new(""));
    let in_tests = parent.components().any(|c| match c {
        Component::Normal(p) => {
            words(&p.to_string_lossy()).any(|w| TEST_FOLDER_WORDS.contains(&w.as_str()))
        }
        _ => false,
    });
    if in_tests || ext == "bats" {
        return true;
    }
    // `test_x.py`, `x_test.go`, `x.test.ts`, `x-test.sh`; `x_spec.rb`,
    // `x.spec.ts`; `XTest.java`, `XTests.cs`, `XIT.java`.
    let spec_language = matches!(
        ext.as_str(),
        "rb" | "js" | "ts" | "mjs" | "cjs" | "jsx" | "tsx"
    );
    words(stem).any(|w| w == "test" || w == "tests" || (spec_language && w == "spec"))
        || stem.ends_with("Test")
        || stem.ends_with("Tests")
        || (stem.len() > 2 && stem.ends_with("IT"))
}

/// Whether a literal reads as an image reference worth keeping: it
/// parses, and has a tag, a digest or a `/` (a plain word is no image a
/// test names). A `/` path whose last part has a `.` (`dir/file.yaml`)
/// and URLs are left out.
fn image_like(s: &str) -> bool {
    if s.len() < 3
        || s.contains("://")
        || s.starts_with(['-', '/', '.', ':', '@'])
        || s.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return false;
    }
    let Ok(r) = crate::reference::Reference::parse(s) else {
        return false;
    };
    if r.tag.is_some() || r.digest.is_some() {
        return true;
    }
    s.rsplit_once('/')
        .is_some_and(|(_, last)| !last.contains('.'))
}

/// Whether a literal names a file refit reads (its last `/` part): YAML,
/// JSON, HCL, TOML, a Dockerfile or Containerfile; that last part, as
/// written.
fn file_name(s: &str) -> Option<&str> {
    let last = s.rsplit('/').next().unwrap_or(s);
    let lower = last.to_ascii_lowercase();
    let named = [".yaml", ".yml", ".json", ".hcl", ".toml"]
        .iter()
        .any(|e| lower.ends_with(e) && lower.len() > e.len())
        || lower.contains("dockerfile")
        || lower.contains("containerfile");
    (named && !last.contains(['{', '}', '$', '%', '*', '?', '<', '>'])).then_some(last)
}

/// Whether a line is a YAML mapping line with a quoted value and
/// nothing after it (`      image: 'alpine:3.23'`, `- image: "x:1"`):
/// a manifest that the test code holds in a string, which it builds
/// objects from, not a value it compares. Code writes a quoted key
/// (`"pod_image": "…"`), an assignment, or a `,` after the value.
fn yaml_line(line: &str) -> bool {
    let t = line.trim();
    let t = t.strip_prefix("- ").unwrap_or(t);
    let Some((key, value)) = t.split_once(": ") else {
        return false;
    };
    let value = value.trim();
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && value.len() >= 2
        && [('"', '"'), ('\'', '\'')]
            .iter()
            .any(|(a, b)| value.starts_with(*a) && value.ends_with(*b))
}

/// What a test file's quoted literals say: the image references it
/// writes, and the names of the files it names (`manifests/x.yaml` →
/// `x.yaml`), which it applies, builds or reads.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Literals {
    pub images: Vec<String>,
    pub files: Vec<String>,
}

/// The quoted literals of a text (`"…"`, `'…'`, `` `…` `` on one line,
/// without escapes or spaces) that read as image references or name
/// files; at most `MAX_PER_FILE` of each, each once, in order.
pub fn literals(text: &str) -> Literals {
    let mut out = Literals::default();
    for line in text.lines().filter(|l| !yaml_line(l)) {
        let bytes = line.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let q = bytes[i];
            if !matches!(q, b'"' | b'\'' | b'`') {
                i += 1;
                continue;
            }
            let rest = &bytes[i + 1..];
            let window = &rest[..rest.len().min(MAX_LITERAL + 1)];
            if let Some(end) = window.iter().position(|&b| b == q) {
                let inner = &window[..end];
                if !inner.is_empty()
                    && !inner.iter().any(|b| {
                        matches!(b, b'\\' | b'"' | b'\'' | b'`') || b.is_ascii_whitespace()
                    })
                    && let Ok(s) = std::str::from_utf8(inner)
                {
                    if let Some(name) = file_name(s) {
                        if out.files.len() < MAX_PER_FILE && !out.files.iter().any(|o| o == name) {
                            out.files.push(name.to_string());
                        }
                    } else if image_like(s)
                        && out.images.len() < MAX_PER_FILE
                        && !out.images.iter().any(|o| o == s)
                    {
                        out.images.push(s.to_string());
                    }
                    // Past the closing quote: it opens nothing.
                    i += end + 2;
                    continue;
                }
            }
            // An apostrophe in prose, a quoted sentence, or a quote that
            // pairs with nothing: go on from the next character.
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_sources_by_path() {
        for yes in [
            "tests/e2e/test_operator.py",
            "test/util.go",
            "pkg/x/x_test.go",
            "e2e-tests/run.sh",
            "src/__tests__/a.ts",
            "spec/models/user_spec.rb",
            "web/app.test.ts",
            "web/app.spec.js",
            "src/main/java/FooTest.java",
            "FooIT.java",
            "check.bats",
            "test_images.py",
            "integration/testing/helpers.py",
        ] {
            assert!(is_test_source(Path::new(yes)), "{yes}");
        }
        for no in [
            "src/main.py",
            "pkg/latest/x.go",
            "contest/a.py",
            "tests/manifest.yaml",
            "tests/README.md",
            "tests/Dockerfile",
            "api/openapi_spec.go",
            "attestation.go",
            "lib/IT.java",
        ] {
            assert!(!is_test_source(Path::new(no)), "{no}");
        }
    }

    #[test]
    fn image_literals() {
        let text = r#"
    old_version = "clickhouse/clickhouse-server:24.8"
    kubectl.check_pod_image(chi, 'clickhouse/clickhouse-server:25.3')
    img := `ghcr.io/org/app@sha256:0123456789012345678901234567890123456789012345678901234567890123`
    word = "hello"  # don't "nginx:1.25" break
    path = "manifests/chi/test.yaml"
    url = "https://example.com/x:1"
    f"clickhouse/clickhouse-server:{version}"
    spaced = "a b:1"
    again = "clickhouse/clickhouse-server:24.8"
    org = "bitnami/kubectl"
"#;
        let found = literals(text);
        assert_eq!(
            found.images,
            [
                "clickhouse/clickhouse-server:24.8",
                "clickhouse/clickhouse-server:25.3",
                "ghcr.io/org/app@sha256:0123456789012345678901234567890123456789012345678901234567890123",
                "nginx:1.25",
                "bitnami/kubectl",
            ]
        );
        assert_eq!(found.files, ["test.yaml"]);
        // YAML held in a string: a manifest the test builds from.
        let embedded = literals(
            "wf := `\n      image: 'alpine:3.23'\n    - image: \"nginx:1\"\n`\nimg := Container{Image: \"redis:7\"}\n",
        );
        assert_eq!(embedded.images, ["redis:7"]);
        let named = literals(
            r##"m = "manifests/chi/test-006-ch-upgrade-1.yaml"; f"x-{i}.yaml"; d = 'tests/Dockerfile.alpine'"##,
        );
        assert_eq!(
            named.files,
            ["test-006-ch-upgrade-1.yaml", "Dockerfile.alpine"]
        );
    }

    #[test]
    fn bounded() {
        let text: String = (0..1000).map(|i| format!("x = \"app/n{i}:1\"\n")).collect();
        assert_eq!(literals(&text).images.len(), MAX_PER_FILE);
        let long = format!("\"{}\"", "a".repeat(10_000));
        assert_eq!(literals(&long), Literals::default());
    }
}
