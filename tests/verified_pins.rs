//! Verified pins (REF006 vanished-digest, REF007 platform-digest, REF008
//! tag-moved, REF009 missing-platform) in `check --online` and `refit
//! pin`, against a real CNCF distribution registry on 127.0.0.1 (deletes
//! enabled), with skopeo as the oracle for every digest. Skips when
//! docker-registry is missing.

mod common;
mod registry_support;

use registry_support::*;

const RULES: &str = "REF006,REF007,REF008,REF009";

fn check(lab: &Lab, extra: &[&str]) -> Run {
    let mut args = vec![
        "check", "--online", "--select", RULES, "--format", "concise",
    ];
    args.extend_from_slice(extra);
    lab.run(&args)
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

/// skopeo's digest of a reference, when skopeo is installed.
fn oracle(reference: &str, expected: &str) {
    if skopeo() {
        assert_eq!(skopeo_digest(reference, None), expected, "{reference}");
    } else {
        eprintln!("skopeo is not installed: digests not cross-checked");
    }
}

#[test]
fn platform_pin_gets_the_index_and_the_unsafe_fix_writes_it() {
    let Some(lab) = Lab::open() else { return };
    let (index, amd, _arm) = lab.push.index("lib/base", "1", "a");
    let h = &lab.host;
    oracle(&format!("{h}/lib/base:1"), &index.digest);
    if skopeo() {
        let raw = skopeo_raw(&format!("{h}/lib/base:1"));
        let listed = raw["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["platform"]["architecture"] == "amd64")
            .unwrap()["digest"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(listed, amd.digest);
    }
    let original = format!("FROM {h}/lib/base:1@{}\n", amd.digest);
    let dockerfile = lab.write("Dockerfile", &original);
    let out = check(&lab, &["--no-cache"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("Dockerfile:1:6: REF007"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("linux/amd64"), "{}", out.stdout);
    assert!(out.stdout.contains(&index.digest), "{}", out.stdout);
    // The fix is unsafe: `--fix` alone leaves the file.
    let out = check(&lab, &["--no-cache", "--fix"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert_eq!(read(&dockerfile), original);
    // `--diff --unsafe-fixes` shows it and writes nothing.
    let out = check(&lab, &["--no-cache", "--diff", "--unsafe-fixes"]);
    assert!(
        out.stdout
            .contains(&format!("+FROM {h}/lib/base:1@{}", index.digest)),
        "{}{}",
        out.stdout,
        out.stderr
    );
    assert_eq!(read(&dockerfile), original);
    let out = check(&lab, &["--no-cache", "--fix", "--unsafe-fixes"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        read(&dockerfile),
        format!("FROM {h}/lib/base:1@{}\n", index.digest)
    );
    let out = check(&lab, &["--no-cache"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    // Offline: nothing, and no request.
    let out = lab.run(&["check", "--select", RULES, "--format", "concise"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
}

#[test]
fn a_platform_the_repository_builds_for_is_missing() {
    let Some(lab) = Lab::open() else { return };
    let (index, amd, _) = lab.push.index("lib/base", "1", "a");
    let single = lab
        .push
        .image("lib/one", "1", "linux", "amd64", "one", false);
    let h = &lab.host;
    oracle(&format!("{h}/lib/base:1"), &index.digest);
    oracle(&format!("{h}/lib/one:1"), &single.digest);
    lab.write(
        "a/Dockerfile",
        &format!(
            "FROM --platform=linux/s390x {h}/lib/base:1@{}\nFROM --platform=linux/arm64 {h}/lib/base:1\nFROM --platform=linux/s390x {h}/lib/base:1\nFROM --platform=$BUILDPLATFORM {h}/lib/one:1\nFROM --platform=linux/arm64 {h}/lib/one:1@{}\n",
            index.digest, single.digest
        ),
    );
    // Compose builds `b/` for linux/ppc64le too.
    lab.write(
        "b/Dockerfile",
        &format!("FROM {h}/lib/base:1@{}\n", index.digest),
    );
    lab.write(
        "compose.yaml",
        "services:\n  app:\n    build:\n      context: b\n      platforms:\n        - linux/amd64\n        - linux/ppc64le\n",
    );
    // And bake (read from the current folder) for linux/riscv64.
    lab.write(
        "docker-bake.hcl",
        "target \"b\" {\n  context = \"b\"\n  platforms = [\"linux/riscv64\"]\n}\n",
    );
    let out = check(&lab, &["--no-cache", "--select", "REF009"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let lines: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.contains("REF009"))
        .collect();
    let has = |needle: &str| lines.iter().any(|l| l.contains(needle));
    assert!(has("a/Dockerfile:1:29: REF009"), "{}", out.stdout);
    assert!(has("no linux/s390x manifest"), "{}", out.stdout);
    assert!(!has("a/Dockerfile:2:"), "{}", out.stdout);
    // Unpinned: the tag's index is checked.
    assert!(has("a/Dockerfile:3:29: REF009"), "{}", out.stdout);
    // The build machine's platform is not a target.
    assert!(!has("a/Dockerfile:4:"), "{}", out.stdout);
    // A single amd64 manifest asked for arm64.
    assert!(has("a/Dockerfile:5:29: REF009"), "{}", out.stdout);
    assert!(has("no linux/arm64 manifest"), "{}", out.stdout);
    assert!(has("b/Dockerfile:1:6: REF009"), "{}", out.stdout);
    assert!(has("no linux/ppc64le manifest"), "{}", out.stdout);
    assert!(has("no linux/riscv64 manifest"), "{}", out.stdout);
    let json = lab.run(&[
        "check",
        "--online",
        "--no-cache",
        "--select",
        "REF009",
        "--format",
        "json",
    ]);
    assert!(json.stdout.contains("docker-bake.hcl:3"), "{}", json.stdout);
    assert!(json.stdout.contains("compose.yaml:5"), "{}", json.stdout);
    // A literal `--platform` is an error; a platform read elsewhere is a
    // warning (refit does not know that build uses this Dockerfile).
    let report: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    fn diagnostics(v: &serde_json::Value, out: &mut Vec<serde_json::Value>) {
        match v {
            serde_json::Value::Object(m) if m.get("code").is_some_and(|c| c == "REF009") => {
                out.push(v.clone());
            }
            serde_json::Value::Object(m) => m.values().for_each(|x| diagnostics(x, out)),
            serde_json::Value::Array(a) => a.iter().for_each(|x| diagnostics(x, out)),
            _ => {}
        }
    }
    let mut findings = Vec::new();
    diagnostics(&report, &mut findings);
    let severity = |source: &str| -> Vec<String> {
        findings
            .iter()
            .filter(|d| d["help"].as_str().is_some_and(|h| h.contains(source)))
            .map(|d| d["severity"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let literal = severity("`--platform` at");
    let elsewhere = severity("compose.yaml:5");
    assert!(
        !literal.is_empty() && literal.iter().all(|s| s == "error"),
        "{literal:?}"
    );
    assert!(
        !elsewhere.is_empty() && elsewhere.iter().all(|s| s == "warning"),
        "{elsewhere:?}"
    );
    assert!(!has("linux/amd64 manifest"), "{}", out.stdout);
    // A platform pin is not needed to see it.
    let _ = amd;
}

#[test]
fn a_vanished_digest_is_re_pinned_to_the_tag() {
    let Some(lab) = Lab::open() else { return };
    let h = &lab.host;
    let old = lab
        .push
        .image("lib/app", "2", "linux", "amd64", "old", false);
    let new = lab
        .push
        .image("lib/app", "2", "linux", "amd64", "new", false);
    oracle(&format!("{h}/lib/app:2"), &new.digest);
    delete_manifest(&lab, "lib/app", &old.digest);
    // A digest that was never pushed (the sha256 of nothing).
    let never = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let original = format!(
        "FROM {h}/lib/app:2@{}\nFROM {h}/lib/app@{never}\n",
        old.digest
    );
    let dockerfile = lab.write("Dockerfile", &original);
    let out = check(&lab, &["--no-cache"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let has = |needle: &str| out.stdout.lines().any(|l| l.contains(needle));
    assert!(has("Dockerfile:1:6: REF006"), "{}", out.stdout);
    assert!(has(&old.digest), "{}", out.stdout);
    assert!(has("MANIFEST_UNKNOWN"), "{}", out.stdout);
    assert!(has("Dockerfile:2:6: REF006"), "{}", out.stdout);
    // A bare digest is REF006's, not REF003's as well.
    let both = lab.run(&[
        "check",
        "--online",
        "--no-cache",
        "--select",
        "REF003,REF006",
        "--format",
        "concise",
    ]);
    assert!(
        both.stdout.contains("Dockerfile:2:6: REF006"),
        "{}",
        both.stdout
    );
    assert!(
        !both.stdout.contains("Dockerfile:2:6: REF003"),
        "{}",
        both.stdout
    );
    let out = check(&lab, &["--no-cache", "--fix", "--unsafe-fixes"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    // The tagged pin follows the tag; the bare digest has nothing to follow.
    assert_eq!(
        read(&dockerfile),
        format!(
            "FROM {h}/lib/app:2@{}\nFROM {h}/lib/app@{never}\n",
            new.digest
        )
    );
    // `refit pin --check` says so too (exit 1: `--update` can repair it);
    // `--update` re-pins.
    let tagged = format!("FROM {h}/lib/app:2@{}\n", old.digest);
    lab.write("Dockerfile", &tagged);
    let out = lab.run(&["pin", "--check", "--no-cache"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("is no longer served"), "{}", out.stdout);
    assert!(out.stdout.contains(&new.digest), "{}", out.stdout);
    let out = lab.run(&["pin", "--update", "--no-cache"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        read(&dockerfile),
        format!("FROM {h}/lib/app:2@{}\n", new.digest)
    );
    // A bare digest nothing can repair is an error (exit 2), left as it is.
    let bare = format!("FROM {h}/lib/app@{never}\n");
    lab.write("Dockerfile", &bare);
    let out = lab.run(&["pin", "--update", "--no-cache"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("there is no tag to re-pin to"),
        "{}",
        out.stdout
    );
    assert_eq!(read(&dockerfile), bare);
}

#[test]
fn a_moved_tag_names_both_digests() {
    let Some(lab) = Lab::open() else { return };
    let h = &lab.host;
    let first = lab
        .push
        .image("lib/app", "3", "linux", "amd64", "first", false);
    let original = format!("FROM {h}/lib/app:3@{}\n", first.digest);
    let dockerfile = lab.write("Dockerfile", &original);
    let out = check(&lab, &["--no-cache"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let second = lab
        .push
        .image("lib/app", "3", "linux", "amd64", "second", false);
    oracle(&format!("{h}/lib/app:3"), &second.digest);
    oracle(&format!("{h}/lib/app@{}", first.digest), &first.digest);
    let out = check(&lab, &["--no-cache"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains("REF008"))
        .unwrap_or_default();
    assert!(line.starts_with("Dockerfile:1:6: REF008"), "{}", out.stdout);
    assert!(line.contains(&first.digest), "{line}");
    assert!(line.contains(&second.digest), "{line}");
    // The help says what Docker does with `tag@digest`.
    let full = lab.run(&[
        "check",
        "--online",
        "--no-cache",
        "--select",
        "REF008",
        "--format",
        "json",
    ]);
    assert!(
        full.stdout.contains("the build keeps using"),
        "{}",
        full.stdout
    );
    let out = check(&lab, &["--no-cache", "--fix", "--unsafe-fixes"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        read(&dockerfile),
        format!("FROM {h}/lib/app:3@{}\n", second.digest)
    );
}

#[test]
fn verification_goes_to_the_lock_and_a_warm_rerun_asks_nothing() {
    let Some(lab) = Lab::open() else { return };
    let (index, amd, _) = lab.push.index("lib/base", "1", "a");
    let h = &lab.host;
    oracle(&format!("{h}/lib/base:1"), &index.digest);
    lab.write(
        "Dockerfile",
        &format!(
            "FROM {h}/lib/base:1@{}\nFROM {h}/lib/base:1@{}\n",
            index.digest, amd.digest
        ),
    );
    let select = "REF003,REF004,REF006,REF007,REF008,REF009";
    let args = [
        "check", "--online", "--select", select, "--format", "concise", "-v",
    ];
    let cold = lab.run(&args);
    assert_eq!(cold.code, 1, "{}{}", cold.stdout, cold.stderr);
    assert!(cold.stdout.contains("REF007"), "{}", cold.stdout);
    assert!(
        !cold.stderr.contains("requests: 0 HEAD, 0 GET"),
        "{}",
        cold.stderr
    );
    // Within the cache TTL, the same questions are answered from the cache.
    let warm = lab.run(&args);
    assert_eq!(warm.stdout, cold.stdout);
    assert!(
        warm.stderr.contains("requests: 0 HEAD, 0 GET"),
        "{}",
        warm.stderr
    );
    // `refit pin --lock` records what it verified, and when.
    let out = lab.run(&["pin", "--lock", "--no-cache"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let lock = read(&lab.dir().join("refit.lock"));
    assert!(lock.contains("[[verified]]"), "{lock}");
    assert!(
        lock.contains(&format!("digest = \"{}\"", amd.digest)),
        "{lock}"
    );
    assert!(lock.contains("verdict = \"platform-manifest\""), "{lock}");
    assert!(lock.contains("platform-manifest linux/amd64"), "{lock}");
    assert!(lock.contains("verdict = \"current\""), "{lock}");
    assert!(lock.contains("\"tag-agrees\""), "{lock}");
    assert!(lock.contains("verified = \"20"), "{lock}");
}

#[test]
fn pin_reports_platform_pins_and_missing_platforms() {
    let Some(lab) = Lab::open() else { return };
    let (index, amd, _) = lab.push.index("lib/base", "1", "a");
    let h = &lab.host;
    oracle(&format!("{h}/lib/base:1"), &index.digest);
    let dockerfile = lab.write(
        "Dockerfile",
        &format!(
            "FROM {h}/lib/base:1@{}\nFROM --platform=linux/s390x {h}/lib/base:1\n",
            amd.digest
        ),
    );
    let out = lab.run(&["pin", "--check", "--no-cache"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let has = |needle: &str| out.stdout.lines().any(|l| l.contains(needle));
    assert!(has("Dockerfile:1:") && has("REF007"), "{}", out.stdout);
    assert!(has(&index.digest), "{}", out.stdout);
    assert!(has("Dockerfile:2:"), "{}", out.stdout);
    assert!(
        out.stdout
            .lines()
            .any(|l| l.contains("REF009") && l.contains("no linux/s390x manifest")),
        "{}",
        out.stdout
    );
    // Plain `pin` adds the missing pin and says how to repair REF007.
    let out = lab.run(&["pin", "--no-cache"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("use --update"), "{}", out.stdout);
    assert_eq!(
        read(&dockerfile),
        format!(
            "FROM {h}/lib/base:1@{}\nFROM --platform=linux/s390x {h}/lib/base:1@{}\n",
            amd.digest, index.digest
        )
    );
    // The missing platform stays a finding of the pinned reference too.
    let json = lab.run(&["pin", "--check", "--no-cache", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    let refs = v["references"].as_array().expect("references");
    assert!(
        refs.iter().any(|r| r["missing_platforms"]
            .as_array()
            .is_some_and(|m| m.iter().any(|x| x.as_str().unwrap_or("").contains("s390x")))),
        "{refs:#?}"
    );
    assert!(
        refs.iter().any(|r| r["status"] == "platform-manifest"),
        "{refs:#?}"
    );
    // `--update` pins the index.
    let out = lab.run(&["pin", "--update", "--no-cache"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        read(&dockerfile),
        format!(
            "FROM {h}/lib/base:1@{}\nFROM --platform=linux/s390x {h}/lib/base:1@{}\n",
            index.digest, index.digest
        )
    );
}

#[test]
fn check_online_records_first_seen_times_only_when_fixing() {
    let Some(lab) = Lab::open() else { return };
    let one = lab.push.image("lib/app", "1", "linux", "amd64", "x", false);
    let h = &lab.host;
    oracle(&format!("{h}/lib/app:1"), &one.digest);
    lab.write(
        "Dockerfile",
        &format!("FROM {h}/lib/app:1\nFROM {h}/lib/app:1@{}\n", one.digest),
    );
    let args = [
        "check",
        "--online",
        "--no-cache",
        "--select",
        "REF003,REF006,REF007,REF008",
        "--format",
        "concise",
    ];
    // No lock file: nothing written, and a note says what was not kept.
    let out = lab.run(&args);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains("1 digest was seen for the first time, not recorded: there is no refit.lock"),
        "{}",
        out.stderr
    );
    assert!(!lab.dir().join("refit.lock").exists());
    // A lock file: still not written without `--fix`.
    let lock = lab.write("refit.lock", "version = 1\n");
    let out = lab.run(&args);
    assert!(
        out.stderr.contains("1 digest was seen for the first time")
            && out.stderr.contains("only with `--fix`"),
        "{}",
        out.stderr
    );
    assert_eq!(read(&lock), "version = 1\n");
    // `--fix` writes the first-seen time and what was verified.
    let mut fix = args.to_vec();
    fix.push("--fix");
    let out = lab.run(&fix);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(!out.stderr.contains("first time"), "{}", out.stderr);
    let text = read(&lock);
    assert!(text.contains("[[seen]]"), "{text}");
    assert!(
        text.contains(&format!("digest = \"{}\"\nfirst-seen = \"20", one.digest)),
        "{text}"
    );
    assert!(text.contains("[[verified]]"), "{text}");
    assert!(text.contains("verdict = \"current\""), "{text}");
    // Seen before: no note, and the time is kept.
    let out = lab.run(&args);
    assert!(!out.stderr.contains("first time"), "{}", out.stderr);
    let out = lab.run(&fix);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let again = read(&lock);
    let seen = |t: &str| {
        t.lines()
            .find(|l| l.starts_with("first-seen"))
            .map(str::to_string)
    };
    assert_eq!(seen(&again), seen(&text));
}
