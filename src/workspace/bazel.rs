//! Images a Bazel workspace pushes: a push rule (`image_push`,
//! `container_push`, `oci_push`, any `*_push` macro) names the repository
//! it pushes to in `repository = "org/name"`. The repository builds that
//! image, so the same path in a dev-loop registry on the developer's
//! machine or cluster (`registry:5000/org/name:devel`) is its own image,
//! not a pull (see `LocalNames::dev_paths`).

/// The most pushed repositories kept per file.
const MAX_PUSHES: usize = 1024;
/// How far after `_push(` a call's `repository` is looked for.
const CALL_WINDOW: usize = 2048;

/// Whether a file (its lower-case name) is a Bazel build file.
pub fn is_bazel_file(name: &str) -> bool {
    name == "build.bazel" || name == "build" || name.ends_with(".bzl")
}

/// The repository paths (registry cut off) the push rules of one Bazel
/// file name.
pub fn pushed(text: &str) -> Vec<String> {
    static RE: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"\brepository\s*=\s*"([^"$%{}\s]+)""#).ok()
    });
    let Some(re) = RE.as_ref() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("_push(") {
        if out.len() >= MAX_PUSHES {
            break;
        }
        let call = &rest[at + "_push(".len()..];
        // The call ends at the first line that closes it, within a window.
        let mut window = call.len().min(CALL_WINDOW);
        while !call.is_char_boundary(window) {
            window -= 1;
        }
        let end = call[..window].find("\n)").unwrap_or(window);
        if let Some(c) = re.captures(&call[..end]) {
            out.push(without_registry(&c[1]).to_string());
        }
        // On past the window: each byte is searched at most once more.
        rest = &call[end..];
    }
    out
}

/// A name without its registry host (a first part with `.` or `:`, or
/// `localhost`).
pub fn without_registry(name: &str) -> &str {
    match name.split_once('/') {
        Some((host, path))
            if host.contains(['.', ':']) || host == "localhost" || host.starts_with('[') =>
        {
            path
        }
        _ => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_rules() {
        let text = "image_push(\n    name = \"push-cni\",\n    image = \"//cmd:cni-image\",\n    registry = \"quay.io\",\n    repository = \"kubevirt/network-passt-binding-cni\",\n)\n\noci_push(\n    name = \"push\",\n    repository = \"index.docker.io/acme/app\",\n)\n\ngo_binary(\n    name = \"x\",\n)\nother(repository = \"not/pushed\")\n";
        assert_eq!(
            pushed(text),
            ["kubevirt/network-passt-binding-cni", "acme/app"]
        );
    }

    #[test]
    fn dev_registries() {
        use crate::facts::dev_registry;
        for host in [
            "registry:5000",
            "kind-registry:5000",
            "localhost:5000",
            "127.0.0.1:32000",
            "[::1]:5000",
            "registry.localhost:5000",
        ] {
            assert!(dev_registry(host), "{host}");
        }
        for host in [
            "quay.io",
            "ghcr.io",
            "registry:",
            "registry",
            "my.registry:5000",
            "[2001:db8::1]:5000",
        ] {
            assert!(!dev_registry(host), "{host}");
        }
    }
}
