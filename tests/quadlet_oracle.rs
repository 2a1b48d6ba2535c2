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

/// Podman's own quadlet tests (`test/e2e/quadlet/`, copied to
/// `tests/data/quadlet-podman-dropins/`) as the oracle for drop-ins: each
/// unit's `## assert-podman-final-args` names the image Podman runs. refit
/// must name the same one: the unit's `Image=`, or the drop-in's that
/// replaces it (then the unit's line is reported without a fix).
/// Agreement: 3 of 3 units.
#[test]
fn drop_ins_decide_the_image_as_podman_does() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/quadlet-podman-dropins");
    let settings = refit::settings::Settings::default();
    let mut agree = 0;
    let units = [
        "template@.container",
        "template@instance.container",
        "merged-override.container",
    ];
    for unit in units {
        let path = dir.join(unit);
        let text = std::fs::read_to_string(&path).unwrap();
        let expected = text
            .lines()
            .find_map(|l| l.strip_prefix("## assert-podman-final-args "))
            .unwrap()
            .trim()
            .to_string();
        let kind = refit::discover::classify(&path).unwrap();
        let input = refit::workspace::Workspace::shared().source_options(
            &path,
            kind,
            refit::check::options(&settings),
        );
        let own = refit::check::extract_with_notes(kind, &text, &input)
            .unwrap()
            .0;
        let runs = match &input.quadlet_override {
            Some(dropin) => {
                // The unit's own line is kept as it is.
                assert!(own.iter().all(|s| s.extra.kept.is_some()), "{unit}");
                let conf = dir.join(dropin);
                let conf_text = std::fs::read_to_string(&conf).unwrap();
                let conf_kind = refit::discover::classify(&conf).unwrap();
                refit::check::extract_with_notes(conf_kind, &conf_text, &input)
                    .unwrap()
                    .0
            }
            None => own,
        };
        let got: Vec<String> = runs.iter().map(|s| s.raw.clone()).collect();
        if got == [expected.clone()] {
            agree += 1;
        } else {
            eprintln!("{unit}: Podman runs {expected}, refit says {got:?}");
        }
    }
    assert_eq!((agree, units.len()), (3, 3));
    // A drop-in's `Image=` that a later drop-in of its folder replaces.
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("web.container.d");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("10-a.conf"), "[Container]\nImage=nginx:1.26\n").unwrap();
    std::fs::write(d.join("20-b.conf"), "[Container]\nImage=nginx:1.27\n").unwrap();
    std::fs::write(d.join("30-env.conf"), "[Container]\nEnvironment=A=1\n").unwrap();
    let over = |name: &str| {
        refit::workspace::Workspace::shared()
            .source_options(
                &d.join(name),
                refit::kind::FileKind::Quadlet,
                refit::check::options(&settings),
            )
            .quadlet_override
    };
    assert_eq!(
        over("10-a.conf").as_deref(),
        Some("web.container.d/20-b.conf")
    );
    assert_eq!(over("20-b.conf"), None);
}
