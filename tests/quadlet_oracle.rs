//! Renovate's quadlet manager as an oracle: its test inputs
//! (`tests/data/quadlet-renovate/`) through `refit sites`, compared with
//! what Renovate's tests expect it to extract (`depName:currentValue`).
//! Where the two differ, the table says why refit's reading is Podman's.

mod common;
use std::path::Path;

/// (input, Renovate's extraction, refit's, why they differ).
const CASES: &[(&str, Option<&str>, Option<&str>, &str)] = &[
    ("invalid.container", None, None, ""),
    ("empty.container", None, None, ""),
    (
        "container.container",
        Some("docker.io/library/alpine:3.22"),
        Some("docker.io/library/alpine:3.22"),
        "",
    ),
    (
        "image.image",
        Some("docker.io/library/alpine:3.22"),
        Some("docker.io/library/alpine:3.22"),
        "",
    ),
    // Podman reads `[Volume] Image=` only with `Driver=image`; without it
    // the volume is a plain local volume and the key is ignored.
    (
        "volume.volume",
        Some("docker.io/library/alpine:3.22"),
        None,
        "no Driver=image",
    ),
    (
        "docker-prefix.volume",
        Some("docker.io/library/alpine:3.22"),
        None,
        "no Driver=image",
    ),
    (
        "docker-daemon-prefix.volume",
        Some("docker.io/library/alpine:3.22"),
        None,
        "no Driver=image",
    ),
    ("image-unit.container", None, None, ""),
    ("build-unit.container", None, None, ""),
    (
        "aliases.container",
        Some("quay.io/metallb/controller:v0.13.10"),
        Some("quay.io/metallb/controller:v0.13.10"),
        "",
    ),
    ("no-image.container", None, None, ""),
    // Our variants: with `Driver=image` both read the transports alike.
    (
        "docker-prefix-driver.volume",
        Some("docker.io/library/alpine:3.22"),
        Some("docker.io/library/alpine:3.22"),
        "",
    ),
    (
        "docker-daemon-prefix-driver.volume",
        Some("docker.io/library/alpine:3.22"),
        Some("docker.io/library/alpine:3.22"),
        "",
    ),
];

#[test]
fn refit_sites_agree_with_renovate_where_podman_does() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/quadlet-renovate");
    let sites = common::sites_in(&dir);
    for (file, renovate, refit, why) in CASES {
        let found: Vec<&str> = sites
            .iter()
            .filter(|s| s["path"] == *file)
            .filter_map(|s| s["reference"].as_str())
            .collect();
        assert_eq!(found, refit.iter().copied().collect::<Vec<_>>(), "{file}");
        assert_eq!(renovate == refit, why.is_empty(), "{file}: {why}");
    }
    let listed = |p: &serde_json::Value| CASES.iter().any(|(f, ..)| p == *f);
    assert!(
        sites.iter().all(|s| listed(&s["path"])),
        "a site in a file the table does not list"
    );
}
