//! The SARIF output passes Microsoft's SARIF validator (`sarif-multitool
//! validate --rule-kind "Sarif;Ghas"`), run for real. `.ci/run` installs it
//! with npm into `target/tools`; elsewhere set `SARIF_MULTITOOL` to the
//! binary, or the test is skipped with a message.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn validator() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SARIF_MULTITOOL") {
        return Some(PathBuf::from(p));
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/tools/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool");
    p.is_file().then_some(p)
}

#[test]
fn sarif_passes_the_validator() {
    let Some(validator) = validator() else {
        eprintln!(
            "skipping: sarif-multitool not installed (`npm install --prefix target/tools @microsoft/sarif-multitool`, or set SARIF_MULTITOOL)"
        );
        return;
    };
    // A repository with findings, fixes (insertions, replacements and a
    // deletion from SUP001) and YAML sources.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir(root.join(".git")).unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    for (from, to) in [
        (
            "REG001-implicit-registry/sites.Dockerfile",
            "app/Dockerfile",
        ),
        ("REG001-implicit-registry/compose.web.yaml", "compose.yaml"),
        ("REG004-moved-registry/k8s-gcr.Dockerfile", "k8s/Dockerfile"),
        (
            "SUP001-unused-suppression/unused.Dockerfile",
            "sup/Dockerfile",
        ),
        ("K8S001-pull-policy/policies.yaml", "deploy/pod.yaml"),
        // A URI needs percent-encoding here.
        (
            "REG001-implicit-registry/sites.Dockerfile",
            "sp ace/Dockerfile",
        ),
    ] {
        let target = root.join(to);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(fixtures.join(from), target).unwrap();
    }
    // Where the rule pages are: the tool's `informationUri` and each
    // rule's `helpUri` (with no base, refit writes no link rather than a
    // dead one, and the validator asks for one: SARIF2005).
    std::fs::write(
        root.join("refit.toml"),
        "docs-url = \"https://docs.example.org/refit/rules\"\n",
    )
    .unwrap();
    let out = Command::cargo_bin("refit")
        .unwrap()
        .current_dir(root)
        .args(["check", "--format", "sarif"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let sarif = root.join("refit.sarif");
    std::fs::write(&sarif, &out.stdout).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert!(results.len() > 10);
    assert!(results.iter().all(|r| {
        !r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .starts_with('/')
    }));
    assert!(results.iter().any(|r| {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "sp%20ace/Dockerfile"
    }));
    let report = root.join("validation.sarif");
    let run = std::process::Command::new(&validator)
        .args([
            "validate",
            "--rule-kind",
            "Sarif;Ghas",
            "--level",
            "Error;Warning",
            "--output",
        ])
        .arg(&report)
        .arg(&sarif)
        .output()
        .unwrap();
    let console = String::from_utf8_lossy(&run.stdout);
    // The validator exits 0 even when it finds errors: read what it wrote.
    let validation: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&report)
            .unwrap_or_else(|_| panic!("no validator output:\n{console}")),
    )
    .unwrap();
    let problems: Vec<String> = validation["runs"][0]["results"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .map(|r| format!("{} {}: {}", r["level"], r["ruleId"], r["message"]["text"]))
                .collect()
        })
        .unwrap_or_default();
    assert!(
        problems.is_empty(),
        "SARIF validator findings:\n{}\n{console}",
        problems.join("\n")
    );
}
