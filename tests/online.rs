//! `refit pin`, `refit registry status` and `check --online` against real
//! CNCF distribution registries on 127.0.0.1, with skopeo as an
//! independent oracle for every digest. Skips when docker-registry is
//! missing.

mod common;
mod registry_support;

use registry_support::*;
use std::sync::Arc;
use std::time::Duration;

#[test]
fn pin_every_file_kind_agrees_with_skopeo() {
    let Some(lab) = Lab::open() else { return };
    let (index, _, _) = lab.push.index("library/alpine", "3.20", "a");
    let app = lab
        .push
        .image("team/app", "1.0", "linux", "amd64", "app", true);
    let h = &lab.host;
    let dockerfile = lab.write("Dockerfile",
        &format!(
            "ARG TAG=3.20\nFROM {h}/library/alpine:${{TAG}} AS base\nFROM {h}/team/app:1.0\nCOPY --from=base /x /x\n"
        ),
    );
    let compose = lab.write("compose.yaml",
        &format!(
            "services:\n  web:\n    image: {h}/team/app:1.0 # the app\n  cache:\n    image: \"{h}/library/alpine:3.20\"\n"
        ),
    );
    let k8s = lab.write("deploy.yaml",
        &format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\nspec:\n  template:\n    spec:\n      containers:\n        - name: a\n          image: {h}/team/app:1.0\n"
        ),
    );
    let ci = lab.write(
        ".gitlab-ci.yml",
        &format!("build:\n  image: {h}/library/alpine:3.20\n  script: [true]\n"),
    );
    let out = lab.run(&["pin", "--no-cache", "-v"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    // Two distinct references: two HEADs, no GET.
    assert!(
        out.stderr.contains("requests: 2 HEAD, 0 GET"),
        "{}",
        out.stderr
    );
    if skopeo() {
        assert_eq!(
            skopeo_digest(&format!("{h}/library/alpine:3.20"), None),
            index.digest
        );
        assert_eq!(
            skopeo_digest(&format!("{h}/team/app:1.0"), None),
            app.digest
        );
    } else {
        eprintln!("note: skopeo missing; checking against the pushed digests only");
    }
    let a = &index.digest;
    let b = &app.digest;
    assert_eq!(
        read(&dockerfile),
        format!(
            "ARG TAG=3.20@{a}\nFROM {h}/library/alpine:${{TAG}} AS base\nFROM {h}/team/app:1.0@{b}\nCOPY --from=base /x /x\n"
        )
    );
    assert_eq!(
        read(&compose),
        format!(
            "services:\n  web:\n    image: {h}/team/app:1.0@{b} # the app\n  cache:\n    image: \"{h}/library/alpine:3.20@{a}\"\n"
        )
    );
    assert!(read(&k8s).contains(&format!("image: {h}/team/app:1.0@{b}\n")));
    assert!(read(&ci).contains(&format!("image: {h}/library/alpine:3.20@{a}\n")));
    // Now everything is pinned: --check passes and asks again, once each.
    let out = lab.run(&["pin", "--check", "--no-cache"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("up to date"), "{}", out.stdout);
}

#[test]
fn shared_arg_naming_two_images_is_not_pinned() {
    let Some(lab) = Lab::open() else { return };
    lab.push.image("a", "1", "linux", "amd64", "a", false);
    lab.push.image("b", "1", "linux", "amd64", "b", false);
    let h = &lab.host;
    let text = format!("ARG V=1\nFROM {h}/a:$V\nFROM {h}/b:$V\n");
    let dockerfile = lab.write("Dockerfile", &text);
    let out = lab.run(&["pin", "--no-cache"]);
    assert_eq!(read(&dockerfile), text);
    // The ARG default names both images: neither use may be pinned there.
    assert!(
        out.stdout.contains("shared with") || out.stdout.contains("cannot edit in place"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("not pinned"), "{}", out.stdout);
}

#[test]
fn check_update_and_platform_pins_after_the_tag_moves() {
    let Some(lab) = Lab::open() else { return };
    let (index, _amd, arm) = lab.push.index("lib/node", "22", "one");
    let h = &lab.host;
    let multi = lab.write("a/Dockerfile", &format!("FROM {h}/lib/node:22\n"));
    let single = lab.write("b/Dockerfile", &format!("FROM {h}/lib/node:22\n"));
    let out = lab.run(&["pin", "--no-cache", "a"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        read(&multi),
        format!("FROM {h}/lib/node:22@{}\n", index.digest)
    );
    let out = lab.run(&["pin", "--no-cache", "--platform", "linux/arm64", "b"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        read(&single),
        format!("FROM {h}/lib/node:22@{}\n", arm.digest)
    );
    if skopeo() {
        let raw = skopeo_raw(&format!("{h}/lib/node:22"));
        let from_skopeo = raw["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["platform"]["architecture"] == "arm64")
            .unwrap()["digest"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(from_skopeo, arm.digest);
        assert_eq!(
            skopeo_digest(&format!("{h}/lib/node:22"), None),
            index.digest
        );
    }
    // A platform pin of the current index is current when `--platform`
    // asks for that platform...
    let out = lab.run(&[
        "pin",
        "--check",
        "--no-cache",
        "--platform",
        "linux/arm64",
        "b",
    ]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("[linux/arm64]: up to date"),
        "{}",
        out.stdout
    );
    // ... and REF007 otherwise (`--update` pins the index).
    let out = lab.run(&["pin", "--check", "--no-cache"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("[linux/arm64]: REF007") && out.stdout.contains(&index.digest),
        "{}",
        out.stdout
    );

    // The tag moves.
    let (index2, _, arm2) = lab.push.index("lib/node", "22", "two");
    let out = lab.run(&["pin", "--check", "--no-cache"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("stale pin"), "{}", out.stdout);
    assert_eq!(
        read(&multi),
        format!("FROM {h}/lib/node:22@{}\n", index.digest)
    );
    // Plain pin leaves existing pins alone.
    let out = lab.run(&["pin", "--no-cache"]);
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("use --update"), "{}", out.stdout);
    let out = lab.run(&["pin", "--update", "--no-cache", "a"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        read(&multi),
        format!("FROM {h}/lib/node:22@{}\n", index2.digest)
    );
    // With `--platform`, the platform pin stays platform-specific.
    let out = lab.run(&[
        "pin",
        "--update",
        "--no-cache",
        "--platform",
        "linux/arm64",
        "b",
    ]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        read(&single),
        format!("FROM {h}/lib/node:22@{}\n", arm2.digest)
    );
    // Without, `--update` repairs REF007: the index is pinned.
    let out = lab.run(&["pin", "--update", "--no-cache", "b"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("pinned the index"), "{}", out.stdout);
    assert_eq!(
        read(&single),
        format!("FROM {h}/lib/node:22@{}\n", index2.digest)
    );
    if skopeo() {
        assert_eq!(
            skopeo_digest(&format!("{h}/lib/node:22"), None),
            index2.digest
        );
    }
    let out = lab.run(&["pin", "--check", "--no-cache"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
}

#[test]
fn missing_tag_and_repository_fail_and_write_nothing() {
    let Some(lab) = Lab::open() else { return };
    let ok = lab.push.image("there", "1", "linux", "amd64", "x", false);
    let h = &lab.host;
    let compose = lab.write("compose.yaml",
        &format!(
            "services:\n  a:\n    image: {h}/there:2\n  b:\n    image: {h}/nowhere:1\n  c:\n    image: {h}/there:1\n"
        ),
    );
    let out = lab.run(&["pin", "--no-cache"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains(&format!("{h}/there:2 ({h}/there:2): error: not found")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&format!("{h}/nowhere:1")),
        "{}",
        out.stdout
    );
    // Digest-only references are asked by digest and kept.
    let zero = format!("sha256:{}", "0".repeat(64));
    let only = lab.write(
        "d/Dockerfile",
        &format!("FROM {h}/there@{}\nFROM {h}/there@{zero}\n", ok.digest),
    );
    let out = lab.run(&["pin", "--no-cache", "d"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains(&format!(
            "Dockerfile:1: {h}/there@{} ({h}/there@{}): up to date",
            ok.digest, ok.digest
        )),
        "{}",
        out.stdout
    );
    // A pin the registry does not serve, with no tag to follow (REF006).
    assert!(
        out.stdout.contains(&format!(
            "({h}/there@{zero}): REF006: pinned digest sha256:000000000000 is no longer served, and there is no tag to re-pin to"
        )),
        "{}",
        out.stdout
    );
    assert_eq!(
        read(&only),
        format!("FROM {h}/there@{}\nFROM {h}/there@{zero}\n", ok.digest)
    );
    // The one that resolved is pinned; the others are left as they were.
    assert_eq!(
        read(&compose),
        format!(
            "services:\n  a:\n    image: {h}/there:2\n  b:\n    image: {h}/nowhere:1\n  c:\n    image: {h}/there:1@{}\n",
            ok.digest
        )
    );
}

#[test]
fn a_registry_that_is_down_is_a_clear_error() {
    let Some(lab) = Lab::open() else { return };
    let port = free_port();
    let text = format!("FROM 127.0.0.1:{port}/x:1\n");
    let dockerfile = lab.write("Dockerfile", &text);
    let out = lab.run(&["pin", "--no-cache", "--retries", "1"]);
    assert_eq!(out.code, 2);
    assert!(out.stdout.contains("error: unreachable"), "{}", out.stdout);
    assert_eq!(read(&dockerfile), text);
}

#[test]
fn basic_auth_from_docker_config_and_the_secret_never_shows() {
    let secret = "s3cret-Passw0rd";
    let Some(lab) = Lab::start(RegistryOptions {
        htpasswd: Some(("alice".to_string(), secret.to_string())),
        ..Default::default()
    }) else {
        return;
    };
    let img = lab
        .push
        .image("private/app", "1", "linux", "amd64", "p", false);
    let h = &lab.host;
    let text = format!("FROM {h}/private/app:1\n");
    let dockerfile = lab.write("Dockerfile", &text);
    // Without credentials: access denied, nothing written.
    let out = lab.run(&["pin", "--no-cache"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("access denied"), "{}", out.stdout);
    assert_eq!(read(&dockerfile), text);
    use base64::Engine;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("alice:{secret}"));
    lab.env
        .docker_config(&format!(r#"{{"auths":{{"{h}":{{"auth":"{auth}"}}}}}}"#));
    let out = lab.run(&["pin", "--no-cache", "-v"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        read(&dockerfile),
        format!("FROM {h}/private/app:1@{}\n", img.digest)
    );
    if skopeo() {
        assert_eq!(
            skopeo_digest(
                &format!("{h}/private/app:1"),
                Some(&format!("alice:{secret}"))
            ),
            img.digest
        );
    }
    let status = lab.run(&["registry", "status", h, "--format", "json"]);
    assert!(
        status.stdout.contains("alice (config.json auths)"),
        "{}",
        status.stdout
    );
    for text in [&out.stdout, &out.stderr, &status.stdout, &status.stderr] {
        assert!(!text.contains(secret) && !text.contains(&auth), "{text}");
    }
}

#[test]
fn bearer_token_flow_with_a_loopback_token_endpoint() {
    let Some(lab) = Lab::open() else { return };
    let img = lab
        .push
        .image("org/tool", "2", "linux", "amd64", "t", false);
    let realm_port = Arc::new(std::sync::atomic::AtomicU16::new(0));
    let rp = realm_port.clone();
    use base64::Engine;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("bob:tok-pass")
    );
    let basic2 = basic.clone();
    let proxy = FaultProxy::start(
        lab.reg.port,
        Arc::new(move |_, head: &str| {
            let first = head.lines().next().unwrap_or("");
            if first.contains("/token?") {
                // The token endpoint: the registry's credential, the scope asked.
                if authorization(head).as_deref() == Some(basic2.as_str())
                    && first.contains("scope=repository%3Aorg%2Ftool%3Apull")
                    && first.contains("service=test-registry")
                {
                    return Action::Respond(respond(
                        "200 OK",
                        &[("Content-Type", "application/json")],
                        r#"{"token":"good-token"}"#,
                    ));
                }
                return Action::Respond(respond("401 Unauthorized", &[], "{}"));
            }
            if authorization(head).as_deref() == Some("Bearer good-token") {
                return Action::Forward;
            }
            let port = rp.load(std::sync::atomic::Ordering::SeqCst);
            let challenge = format!(
                "Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"test-registry\",scope=\"repository:org/tool:pull\""
            );
            Action::Respond(respond(
                "401 Unauthorized",
                &[
                    ("WWW-Authenticate", &challenge),
                    ("Content-Type", "application/json"),
                ],
                r#"{"errors":[{"code":"UNAUTHORIZED","message":"auth"}]}"#,
            ))
        }),
    );
    realm_port.store(proxy.port, std::sync::atomic::Ordering::SeqCst);
    let h = proxy.host();
    let dockerfile = lab.write("Dockerfile", &format!("FROM {h}/org/tool:2\n"));
    lab.env.docker_config(&format!(
        r#"{{"auths":{{"{h}":{{"username":"bob","password":"tok-pass"}}}}}}"#
    ));
    let out = lab.run(&["pin", "--no-cache", "-v"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("1 token"), "{}", out.stderr);
    assert_eq!(
        read(&dockerfile),
        format!("FROM {h}/org/tool:2@{}\n", img.digest)
    );
    assert!(!out.stdout.contains("tok-pass") && !out.stderr.contains("tok-pass"));
}

#[test]
fn retries_429_503_reset_and_slow_answers() {
    let Some(lab) = Lab::open() else { return };
    let img = lab
        .push
        .image("flaky/app", "1", "linux", "amd64", "f", false);
    let proxy = FaultProxy::start(
        lab.reg.port,
        Arc::new(|n, _: &str| match n {
            0 => Action::Respond(respond(
                "429 Too Many Requests",
                &[("Retry-After", "1")],
                "",
            )),
            1 => Action::Respond(respond("503 Service Unavailable", &[], "")),
            2 => Action::Reset,
            3 => Action::Delay(Duration::from_secs(3)),
            _ => Action::Forward,
        }),
    );
    let h = proxy.host();
    let dockerfile = lab.write("Dockerfile", &format!("FROM {h}/flaky/app:1\n"));
    let start = std::time::Instant::now();
    let out = lab.run(&[
        "pin",
        "--no-cache",
        "-v",
        "--timeout",
        "1",
        "--retries",
        "5",
    ]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("4 retries"), "{}", out.stderr);
    // Retry-After: 1 was honoured.
    assert!(start.elapsed() >= Duration::from_secs(1));
    assert_eq!(
        read(&dockerfile),
        format!("FROM {h}/flaky/app:1@{}\n", img.digest)
    );
    // With too few retries, it fails cleanly.
    let proxy2 = FaultProxy::start(
        lab.reg.port,
        Arc::new(|_, _: &str| Action::Respond(respond("503 Service Unavailable", &[], ""))),
    );
    let text = format!("FROM {}/flaky/app:1\n", proxy2.host());
    let other = lab.write("x/Dockerfile", &text);
    let out = lab.run(&["pin", "--no-cache", "--retries", "2", "x"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("HTTP status 503"), "{}", out.stdout);
    assert_eq!(proxy2.seen.load(std::sync::atomic::Ordering::SeqCst), 3);
    assert_eq!(read(&other), text);
}

#[test]
fn retry_after_as_an_http_date_is_honoured() {
    let Some(lab) = Lab::open() else { return };
    let img = lab
        .push
        .image("dated/app", "1", "linux", "amd64", "d", false);
    // RFC 9110's other form: "retry at this date". Two seconds from now,
    // which (whole seconds) is a wait of one to two seconds.
    let proxy = FaultProxy::start(
        lab.reg.port,
        Arc::new(|n, _: &str| {
            if n == 0 {
                let at = std::time::SystemTime::now() + Duration::from_secs(2);
                let date = httpdate::fmt_http_date(at);
                Action::Respond(respond(
                    "429 Too Many Requests",
                    &[("Retry-After", &date)],
                    "",
                ))
            } else {
                Action::Forward
            }
        }),
    );
    let h = proxy.host();
    let dockerfile = lab.write("Dockerfile", &format!("FROM {h}/dated/app:1\n"));
    let start = std::time::Instant::now();
    let out = lab.run(&["pin", "--no-cache", "-v", "--retries", "1"]);
    let took = start.elapsed();
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("1 retries"), "{}", out.stderr);
    // The date was waited for (the backoff alone is 0.2-0.3 s), and capped
    // well below a stuck run.
    assert!(took >= Duration::from_millis(900), "{took:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert_eq!(
        read(&dockerfile),
        format!("FROM {h}/dated/app:1@{}\n", img.digest)
    );
    // A date hours away waits the cap (60 s): past a 3-second deadline,
    // the run stops at once (a deadline error) instead of sleeping.
    let far = FaultProxy::start(
        lab.reg.port,
        Arc::new(|_, _: &str| {
            let at = std::time::SystemTime::now() + Duration::from_secs(6 * 3600);
            let date = httpdate::fmt_http_date(at);
            Action::Respond(respond(
                "429 Too Many Requests",
                &[("Retry-After", &date)],
                "",
            ))
        }),
    );
    let text = format!("FROM {}/dated/app:1\n", far.host());
    let other = lab.write("x/Dockerfile", &text);
    let start = std::time::Instant::now();
    let out = lab.run(&["pin", "--no-cache", "--deadline", "3", "x"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("deadline"), "{}", out.stdout);
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(far.seen.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(read(&other), text);
}

#[test]
fn the_cache_makes_a_second_run_free() {
    let Some(lab) = Lab::open() else { return };
    let img = lab.push.image("c/app", "1", "linux", "amd64", "c", false);
    let h = &lab.host;
    lab.write("Dockerfile", &format!("FROM {h}/c/app:1\n"));
    lab.write(
        "compose.yaml",
        &format!("services:\n  a:\n    image: {h}/c/app:1\n"),
    );
    let out = lab.run(&["pin", "--dry-run", "-v"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("requests: 1 HEAD, 0 GET"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.contains(&img.digest), "{}", out.stdout);
    assert!(!out.stdout.contains("digest cache"), "{}", out.stdout);
    // A second plain pin is answered from the cache, and says so.
    let out = lab.run(&["pin", "--dry-run", "-v"]);
    assert!(
        out.stderr.contains("requests: 0 HEAD, 0 GET"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.contains(&img.digest), "{}", out.stdout);
    assert_eq!(
        out.stdout
            .matches("(from the digest cache; the registry was not asked)")
            .count(),
        2,
        "{}",
        out.stdout
    );
    // `--check` asks the registry whatever the cache holds.
    let out = lab.run(&["pin", "--check", "-v"]);
    assert!(
        out.stderr.contains("requests: 1 HEAD, 0 GET"),
        "{}",
        out.stderr
    );
    let out = lab.run(&["pin", "--check", "-v", "--no-cache"]);
    assert!(
        out.stderr.contains("requests: 1 HEAD, 0 GET"),
        "{}",
        out.stderr
    );
}

/// `pin --check` and `pin --update` ask the registry (a HEAD) even with a
/// fresh cache entry: a tag that moved a second ago is reported and
/// updated at once. A pin written from the cache while the registry is
/// down says so; `--check` with the registry down is an error, never
/// "up to date".
#[test]
fn check_and_update_see_a_moved_tag_through_the_cache() {
    let Some(mut lab) = Lab::open() else { return };
    let one = lab.push.image("m/app", "1", "linux", "amd64", "one", false);
    let h = lab.host.clone();
    let dockerfile = lab.write("a/Dockerfile", &format!("FROM {h}/m/app:1\n"));
    let out = lab.run(&["pin", "a"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        read(&dockerfile),
        format!("FROM {h}/m/app:1@{}\n", one.digest)
    );
    if skopeo() {
        assert_eq!(skopeo_digest(&format!("{h}/m/app:1"), None), one.digest);
    }
    // The tag moves; the cache still holds the old digest, well within
    // its TTL.
    let two = lab.push.image("m/app", "1", "linux", "amd64", "two", false);
    assert_ne!(one.digest, two.digest);
    if skopeo() {
        assert_eq!(skopeo_digest(&format!("{h}/m/app:1"), None), two.digest);
    }
    let out = lab.run(&["pin", "--check", "-v", "a"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("stale pin"), "{}", out.stdout);
    assert!(out.stdout.contains(&two.digest[..19]), "{}", out.stdout);
    // One HEAD for the tag, one for the pinned digest (verified pins).
    assert!(out.stderr.contains("requests: 2 HEAD"), "{}", out.stderr);
    let out = lab.run(&["pin", "--update", "a"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        read(&dockerfile),
        format!("FROM {h}/m/app:1@{}\n", two.digest)
    );
    assert!(!out.stdout.contains("digest cache"), "{}", out.stdout);
    let out = lab.run(&["pin", "--check", "a"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);

    // The registry goes down.
    lab.reg.stop();
    let other = lab.write("b/Dockerfile", &format!("FROM {h}/m/app:1\n"));
    let out = lab.run(&["pin", "--retries", "0", "b"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(read(&other), format!("FROM {h}/m/app:1@{}\n", two.digest));
    assert!(
        out.stdout
            .contains("(from the digest cache; the registry was not asked)"),
        "{}",
        out.stdout
    );
    let out = lab.run(&["pin", "--check", "--retries", "0", "a"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(!out.stdout.contains("up to date"), "{}", out.stdout);
}

#[test]
fn lock_file_is_sorted_and_leaves_files_alone() {
    let Some(lab) = Lab::open() else { return };
    let (index, _, _) = lab.push.index("z/multi", "1", "m");
    let img = lab
        .push
        .image("a/single", "1", "linux", "amd64", "s", false);
    let h = &lab.host;
    let text = format!("FROM {h}/z/multi:1\nFROM {h}/a/single:1\n");
    let dockerfile = lab.write("Dockerfile", &text);
    let out = lab.run(&["pin", "--lock", "--no-cache"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(read(&dockerfile), text);
    let lock = read(&lab.dir().join("refit.lock"));
    let a = lock
        .find(&format!("reference = \"{h}/a/single:1\""))
        .expect(&lock);
    let z = lock
        .find(&format!("reference = \"{h}/z/multi:1\""))
        .expect(&lock);
    assert!(a < z, "{lock}");
    assert!(
        lock.contains(&format!("digest = \"{}\"", index.digest)),
        "{lock}"
    );
    assert!(
        lock.contains(&format!("digest = \"{}\"", img.digest)),
        "{lock}"
    );
    assert!(
        lock.contains("platforms = [\"linux/amd64\", \"linux/arm64\"]"),
        "{lock}"
    );
    assert!(lock.contains(&format!("registry = \"{h}\"")), "{lock}");
    assert!(
        lock.contains("media-type = \"application/vnd.oci.image.index.v1+json\""),
        "{lock}"
    );
    // Stable: a second run writes the same entries (dates aside).
    let out = lab.run(&["pin", "--lock"]);
    assert_eq!(out.code, 0);
    let again = read(&lab.dir().join("refit.lock"));
    let strip = |s: &str| {
        s.lines()
            .filter(|l| !l.starts_with("resolved"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&lock), strip(&again));
    // `refit check` reads the lock file with no network: TAG004's fix
    // writes the locked digests.
    let out = lab.run(&["check", "--select", "TAG004", "--fix"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        read(&dockerfile),
        format!(
            "FROM {h}/z/multi:1@{}\nFROM {h}/a/single:1@{}\n",
            index.digest, img.digest
        )
    );
}

#[test]
fn docker_hub_names_go_to_mirrors_first_and_registry_status() {
    // The "Docker Hub" stand-in and a pull-through cache of it.
    let Some(mut lab) = Lab::open() else { return };
    let hub = &lab.reg;
    let (alpine, _, _) = lab.push.index("library/alpine", "latest", "hub");
    let (alpine320, _, _) = lab.push.index("library/alpine", "3.20", "hub320");
    let mirror = Registry::start(RegistryOptions {
        proxy_of: Some(hub.url()),
        ..Default::default()
    });
    // An open registry that is not a Docker Hub mirror.
    let wrong = Registry::start(RegistryOptions::default());
    let dead = free_port();
    // Docker Hub's rate-limit headers, from a proxy in front of the stand-in.
    let limited = FaultProxy::start(
        hub.port,
        Arc::new(|_, _: &str| {
            Action::ForwardWith(vec![
                ("ratelimit-limit".to_string(), "100;w=21600".to_string()),
                ("ratelimit-remaining".to_string(), "76;w=21600".to_string()),
                (
                    "docker-ratelimit-source".to_string(),
                    "203.0.113.7".to_string(),
                ),
            ])
        }),
    );
    lab.push.image(
        "ratelimitpreview/test",
        "latest",
        "linux",
        "amd64",
        "rl",
        false,
    );
    let dockerfile = lab.write("Dockerfile", "FROM alpine:3.20\n");
    lab.env.hub = limited.url();
    let out = lab.run(&[
        "pin",
        "--no-cache",
        "--retries",
        "0",
        "--mirror",
        &format!("http://127.0.0.1:{dead}"),
        "--mirror",
        &mirror.url(),
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        read(&dockerfile),
        format!("FROM alpine:3.20@{}\n", alpine320.digest)
    );
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect(&out.stdout);
    assert_eq!(v["references"][0]["host"], mirror.host().as_str());
    assert_eq!(
        v["references"][0]["reference"],
        "docker.io/library/alpine:3.20"
    );
    assert_eq!(v["references"][0]["status"], "pinned");
    if skopeo() {
        assert_eq!(
            skopeo_digest(&format!("{}/library/alpine:3.20", mirror.host()), None),
            alpine320.digest
        );
    }
    // The mirror answered (the dead one was skipped); the stand-in was not asked.
    assert_eq!(limited.seen.load(std::sync::atomic::Ordering::SeqCst), 0);

    let out = lab.run(&[
        "registry",
        "status",
        "--format",
        "json",
        "--retries",
        "0",
        "--mirror",
        &mirror.url(),
        "--mirror",
        &wrong.url(),
        "--mirror",
        &format!("http://127.0.0.1:{dead}"),
    ]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect(&out.stdout);
    let r = &v[0];
    assert_eq!(r["registry"], "docker.io");
    assert_eq!(r["reachable"], true);
    assert_eq!(r["ratelimit"]["limit"], "100;w=21600");
    assert_eq!(r["ratelimit"]["remaining"], "76;w=21600");
    assert_eq!(r["ratelimit"]["source"], "203.0.113.7");
    assert!(r["credential"].is_null());
    assert!(r["rtt_ms"].is_u64());
    let mirrors = r["mirrors"].as_array().unwrap();
    assert_eq!(mirrors[0]["state"], "ok");
    assert_eq!(mirrors[0]["digest"], alpine.digest.as_str());
    assert_eq!(mirrors[1]["state"], "not-serving");
    assert_eq!(mirrors[2]["state"], "unreachable");
    // The rate limit was read with HEADs only.
    let heads = limited.heads.lock().unwrap().clone();
    assert!(
        heads
            .iter()
            .all(|h| h.starts_with("GET /v2/ ") || h.starts_with("HEAD ")),
        "{heads:?}"
    );
    let text = lab.run(&[
        "registry",
        "status",
        "--retries",
        "0",
        "--mirror",
        &format!("http://127.0.0.1:{dead}"),
    ]);
    assert!(
        text.stdout.contains("ratelimit-remaining=76;w=21600"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("credentials: none (anonymous)"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains(&format!("mirror http://127.0.0.1:{dead}: unreachable")),
        "{}",
        text.stdout
    );
}

#[test]
fn offline_by_default_check_makes_no_connection() {
    // A listener standing in for every registry and mirror refit could
    // know of: `refit check` must never connect to it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let work = tempfile::tempdir().unwrap();
    write(
        work.path(),
        "Dockerfile",
        &format!("FROM 127.0.0.1:{port}/a:1\nFROM alpine:3.20\n"),
    );
    write(
        work.path(),
        "daemon.json",
        &format!("{{\"registry-mirrors\": [\"http://127.0.0.1:{port}\"]}}"),
    );
    write(
        work.path(),
        "refit.toml",
        &format!(
            "[registries]\nmirrors = [\"http://127.0.0.1:{port}\"]\ninsecure = [\"127.0.0.1:{port}\"]\n"
        ),
    );
    let env = Env::new(&format!("http://127.0.0.1:{port}"));
    env.docker_config(&format!(
        r#"{{"auths":{{"127.0.0.1:{port}":{{"auth":"dTpw"}}}}}}"#
    ));
    let out = run(env.refit(work.path()).args(["check", "--select", "ALL"]));
    assert!(
        out.code == 0 || out.code == 1,
        "{}{}",
        out.stdout,
        out.stderr
    );
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        listener.accept().is_err(),
        "refit check connected to a registry"
    );
    // The same listener does see `refit pin` (the test can fail).
    let _ = run(env.refit(work.path()).args([
        "pin",
        "--check",
        "--no-cache",
        "--retries",
        "0",
        "--timeout",
        "1",
    ]));
    assert!(listener.accept().is_ok(), "pin did not ask the registry");
}

#[test]
fn check_online_reports_missing_denied_and_unusable_mirrors() {
    if !available() || !htpasswd() {
        return;
    }
    let Some(mut lab) = Lab::open() else { return };
    lab.env.hub = lab.reg.url();
    let hub = &lab.reg;
    lab.push.index("library/alpine", "latest", "hub");
    lab.push
        .image("library/node", "22", "linux", "amd64", "n", false);
    let mirror = Registry::start(RegistryOptions {
        proxy_of: Some(hub.url()),
        ..Default::default()
    });
    let wrong = Registry::start(RegistryOptions::default());
    let private = Registry::start(RegistryOptions {
        htpasswd: Some(("u".to_string(), "p".to_string())),
        ..Default::default()
    });
    let dead = free_port();
    let (p, w) = (private.host(), wrong.host());
    lab.write(
        "Dockerfile",
        &format!("FROM node:22\nFROM node:99\nFROM {w}/nothing/here:1\nFROM {p}/secret/app:1\n"),
    );
    lab.write(
        "daemon.json",
        &format!(
            "{{\"registry-mirrors\": [\"{}\", \"{}\", \"http://127.0.0.1:{dead}\"]}}\n",
            mirror.url(),
            wrong.url()
        ),
    );
    let out = lab.run(&[
        "check",
        "--online",
        "--no-cache",
        "--retries",
        "0",
        "--select",
        "REF003,REF004,MIR003",
        "--format",
        "concise",
        "-v",
    ]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let lines: Vec<&str> = out.stdout.lines().filter(|l| l.contains(": ")).collect();
    let has = |needle: &str| lines.iter().any(|l| l.contains(needle));
    assert!(has("Dockerfile:2:6: REF003"), "{}", out.stdout);
    assert!(has("Dockerfile:3:6: REF003"), "{}", out.stdout);
    assert!(
        has("NAME_UNKNOWN") || has("MANIFEST_UNKNOWN"),
        "{}",
        out.stdout
    );
    assert!(has("Dockerfile:4:6: REF004"), "{}", out.stdout);
    assert!(!has("Dockerfile:1:"), "{}", out.stdout);
    assert!(
        has(&format!("MIR003 warning: Mirror `{}`", wrong.url())),
        "{}",
        out.stdout
    );
    assert!(
        has(&format!("MIR003 warning: Mirror `http://127.0.0.1:{dead}`")),
        "{}",
        out.stdout
    );
    assert!(
        !has(&format!("MIR003 warning: Mirror `{}`", mirror.url())),
        "{}",
        out.stdout
    );
    // Each distinct reference asked once (4 HEADs; the 404 ones do not GET).
    assert!(out.stderr.contains("requests: "), "{}", out.stderr);
    // Without --online: nothing of the kind.
    let out = lab.run(&[
        "check",
        "--select",
        "REF003,REF004,MIR003",
        "--format",
        "concise",
    ]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
}

/// A baseline records and hides online findings (REF003) like any other;
/// a run without `--online` keeps their entries, and an online run judges
/// them.
#[test]
fn online_findings_in_a_baseline() {
    let Some(lab) = Lab::open() else { return };
    let host = lab.host.clone();
    lab.write("Dockerfile", &format!("FROM {host}/team/app:1\n"));
    let online = ["--online", "--no-cache", "--retries", "0"];
    let check = |extra: &[&str]| {
        let mut args = vec!["check", "--select", "REF003", "--format", "concise"];
        args.extend_from_slice(extra);
        lab.run(&args)
    };
    let out = check(&[&online[..], &["--write-baseline", "refit-baseline.json"]].concat());
    assert_eq!(
        out.stdout, "Wrote 1 finding to refit-baseline.json.\n",
        "{}",
        out.stderr
    );
    let baseline = lab.dir().join("refit-baseline.json");
    assert!(
        read(&baseline).contains("\"code\":\"REF003\""),
        "{}",
        read(&baseline)
    );
    let with =
        |extra: &[&str]| check(&[&["--baseline", "refit-baseline.json"][..], extra].concat());
    let out = with(&online);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    // Offline REF003 finds nothing, so its entry is not judged.
    let out = with(&["--fix"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        read(&baseline).contains("\"code\":\"REF003\""),
        "{}",
        read(&baseline)
    );
    // The image now exists: online, the entry is stale.
    lab.push
        .image("team/app", "1", "linux", "amd64", "a", false);
    let out = with(&online);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains(
            "SUP002 warning: Baseline entry for REF003 in `Dockerfile` matches no finding"
        ),
        "{}",
        out.stdout
    );
    let out = with(&[&online[..], &["--fix"]].concat());
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(!read(&baseline).contains("REF003"), "{}", read(&baseline));
}

#[test]
fn helm_digest_keys_and_kustomize_digests() {
    let Some(lab) = Lab::open() else { return };
    let (index, _, _) = lab.push.index("charts/app", "2.1", "h");
    let tool = lab
        .push
        .image("charts/tool", "1", "linux", "amd64", "t", false);
    let h = &lab.host;
    let values = lab.write("chart/values.yaml",
        &format!(
            "image:\n  registry: {h}\n  repository: charts/app\n  tag: \"2.1\"\n  digest: \"\"\nsidecar:\n  image:\n    repository: {h}/charts/tool\n    tag: \"1\"\nworker:\n  registry: {h}\n  repository: charts/tool\n  tag: \"1\"\n  digest:\n"
        ),
    );
    lab.write(
        "chart/Chart.yaml",
        "apiVersion: v2\nname: c\nversion: 1.0.0\n",
    );
    let kustomization = lab.write("kustomization.yaml",
        &format!(
            "resources: []\nimages:\n  - name: app\n    newName: {h}/charts/app\n    newTag: \"2.1\"\n  - name: tool\n    newName: {h}/charts/tool\n    newTag: \"1\"\n    digest: sha256:0000000000000000000000000000000000000000000000000000000000000000\n"
        ),
    );
    let out = lab.run(&["pin", "--no-cache", "--update"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let a = &index.digest;
    let t = &tool.digest;
    // The maps with a `digest:` key get the digest (an empty plain one after
    // its colon, the key kept); the one without is not pinned.
    assert_eq!(
        read(&values),
        format!(
            "image:\n  registry: {h}\n  repository: charts/app\n  tag: \"2.1\"\n  digest: \"{a}\"\nsidecar:\n  image:\n    repository: {h}/charts/tool\n    tag: \"1\"\nworker:\n  registry: {h}\n  repository: charts/tool\n  tag: \"1\"\n  digest: {t}\n"
        )
    );
    assert!(out.stdout.contains("no `digest:` key"), "{}", out.stdout);
    assert_eq!(
        read(&kustomization),
        format!(
            "resources: []\nimages:\n  - name: app\n    newName: {h}/charts/app\n    newTag: \"2.1\"\n    digest: {a}\n  - name: tool\n    newName: {h}/charts/tool\n    newTag: \"1\"\n    digest: {t}\n"
        )
    );
    if skopeo() {
        assert_eq!(skopeo_digest(&format!("{h}/charts/app:2.1"), None), *a);
        assert_eq!(skopeo_digest(&format!("{h}/charts/tool:1"), None), *t);
    }
}

/// The chart under tests/data/helm-digest-chart: its templates read the
/// digest of `image` (a Bitnami-style helper given a `dict`), of
/// `worker.image` (a helper that calls a helper given the map) and of
/// `metrics.image` (`with`); not of `proxy.image`; `redis` is a sub-chart.
fn digest_chart() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/helm-digest-chart")
}

/// `values.yaml.pinned` with its placeholders filled in.
fn pinned_values(registry: &str, web: &str, worker: &str, metrics: &str) -> String {
    read(&digest_chart().join("values.yaml.pinned"))
        .replace("REGISTRY", registry)
        .replace("DIGEST_WEB", web)
        .replace("DIGEST_WORKER", worker)
        .replace("DIGEST_METRICS", metrics)
}

#[test]
fn helm_digest_keys_go_only_where_the_chart_templates_read_them() {
    // No registry: where `refit pin` would add `digest:`, from the files.
    use refit::kind::FileKind;
    use refit::settings::Settings;
    let path = digest_chart().join("values.yaml");
    let text = read(&path);
    let settings = refit::workspace::Workspace::shared().source_options(
        &path,
        FileKind::HelmValues,
        refit::check::options(&Settings::default()),
    );
    assert!(settings.chart.is_some(), "the chart's facts");
    let sites = refit::check::extract_with_notes(FileKind::HelmValues, &text, &settings)
        .map(|(s, _)| s)
        .expect("sites");
    let place = |p: &str| {
        sites
            .iter()
            .find(|s| s.path.as_deref() == Some(p))
            .unwrap_or_else(|| panic!("no site {p}"))
            .extra
            .digest_insert
            .clone()
            .unwrap_or_else(|| panic!("{p}: no digest place"))
    };
    let why = place("proxy.image.repository").unwrap_err();
    assert!(
        why.contains("no template of the chart reads `.Values.proxy.image.digest`"),
        "{why}"
    );
    let why = place("redis.image.repository").unwrap_err();
    assert!(why.contains("sub-chart `redis`"), "{why}");
    // The three maps the templates read: insertions, applied back to front,
    // give values.yaml.pinned exactly (nothing else touched).
    let mut edits = Vec::new();
    for (site, digest) in [
        ("image.repository", "DIGEST_WEB"),
        ("worker.image.repository", "DIGEST_WORKER"),
        ("metrics.image.repository", "DIGEST_METRICS"),
    ] {
        let (at, before) = place(site).unwrap_or_else(|e| panic!("{site}: {e}"));
        edits.push((at, format!("{before}{digest}")));
    }
    edits.sort();
    let mut fixed = text.clone();
    for (at, content) in edits.iter().rev() {
        fixed.insert_str(*at, content);
    }
    assert_eq!(fixed, read(&digest_chart().join("values.yaml.pinned")));
}

#[test]
fn helm_pin_adds_digest_keys_the_chart_templates_read() {
    let Some(lab) = Lab::open() else { return };
    let h = &lab.host;
    let (web, _, _) = lab.push.index("shop/web", "2.1", "w");
    let worker = lab
        .push
        .image("shop/worker", "2.1", "linux", "amd64", "k", false);
    let metrics = lab
        .push
        .image("shop/metrics", "0.9", "linux", "amd64", "m", false);
    lab.push
        .image("shop/proxy", "1.25", "linux", "amd64", "p", false);
    lab.push
        .image("shop/redis", "7.2", "linux", "amd64", "r", false);
    for name in [
        "Chart.yaml",
        "values.yaml",
        "templates/_helpers.tpl",
        "templates/deployment.yaml",
    ] {
        let text = read(&digest_chart().join(name)).replace("REGISTRY", h);
        lab.write(&format!("shop/{name}"), &text);
    }
    let values = lab.dir().join("shop/values.yaml");
    let out = lab.run(&["pin", "--no-cache", "-v"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        read(&values),
        pinned_values(h, &web.digest, &worker.digest, &metrics.digest)
    );
    // Why the other two were left alone.
    assert!(
        out.stdout
            .contains("no template of the chart reads `.Values.proxy.image.digest`"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("sub-chart `redis`"), "{}", out.stdout);
    if skopeo() {
        assert_eq!(
            skopeo_digest(&format!("{h}/shop/web:2.1"), None),
            web.digest
        );
        assert_eq!(
            skopeo_digest(&format!("{h}/shop/metrics:0.9"), None),
            metrics.digest
        );
    }
    // The keys written read back as pins: a second run finds them current
    // and writes nothing.
    let out = lab.run(&["pin", "--no-cache"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        read(&values),
        pinned_values(h, &web.digest, &worker.digest, &metrics.digest)
    );
    assert_eq!(
        out.stdout.matches("up to date").count(),
        3,
        "{}",
        out.stdout
    );
    // `--check` passes: what no template reads is not work left to do, and
    // it says why.
    let out = lab.run(&["pin", "--check", "--no-cache"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        out.stdout.matches("not pinned: ").count(),
        2,
        "{}",
        out.stdout
    );
}

#[test]
fn cred_helpers_podman_auth_file_and_no_credential_across_a_redirect() {
    let Some(lab) = Lab::open() else { return };
    let img = lab
        .push
        .image("team/svc", "3", "linux", "amd64", "r", false);
    use base64::Engine;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("helper-user:helper-secret")
    );
    // B: where A redirects manifests; it must never see a credential.
    let b = FaultProxy::start(lab.reg.port, Arc::new(|_, _: &str| Action::Forward));
    let b_port = b.port;
    let exp = expected.clone();
    // A: basic auth in front of the registry; manifests redirect to B.
    let a = FaultProxy::start(
        lab.reg.port,
        Arc::new(move |_, head: &str| {
            if authorization(head).as_deref() != Some(exp.as_str()) {
                return Action::Respond(respond(
                    "401 Unauthorized",
                    &[("WWW-Authenticate", "Basic realm=\"test\"")],
                    "",
                ));
            }
            let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
            if path.contains("/manifests/") {
                let location = format!("http://127.0.0.1:{b_port}{path}");
                return Action::Respond(respond(
                    "307 Temporary Redirect",
                    &[("Location", &location)],
                    "",
                ));
            }
            Action::Forward
        }),
    );
    let h = a.host();
    let text = format!("FROM {h}/team/svc:3\n");
    let dockerfile = lab.write("Dockerfile", &text);
    // A credential helper, run as Docker runs it.
    let bin = lab.env.home.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let helper = bin.join("docker-credential-fake");
    std::fs::write(
        &helper,
        format!("#!/bin/sh\nread server\n[ \"$server\" = \"{h}\" ] || exit 1\necho '{{\"Username\":\"helper-user\",\"Secret\":\"helper-secret\"}}'\n"),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    lab.env
        .docker_config(&format!(r#"{{"credHelpers":{{"{h}":"fake"}}}}"#));
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = run(lab
        .refit()
        .env("PATH", &path)
        .args(["pin", "--no-cache", "--dry-run"]));
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains(&format!("would pin {}", img.digest)),
        "{}",
        out.stdout
    );
    assert_eq!(read(&dockerfile), text, "--dry-run wrote");
    let status = run(lab
        .refit()
        .env("PATH", &path)
        .args(["registry", "status", &h]));
    assert!(
        status
            .stdout
            .contains("credentials: helper-user (docker-credential-fake)"),
        "{}",
        status.stdout
    );
    // Podman's auth.json ($REGISTRY_AUTH_FILE), with no Docker config.
    lab.env.docker_config("{}");
    let auth_file = lab.env.home.path().join("auth.json");
    std::fs::write(
        &auth_file,
        format!(
            r#"{{"auths":{{"{h}":{{"auth":"{}"}}}}}}"#,
            base64::engine::general_purpose::STANDARD.encode("helper-user:helper-secret")
        ),
    )
    .unwrap();
    let out = run(lab.refit().env("REGISTRY_AUTH_FILE", &auth_file).args([
        "pin",
        "--no-cache",
        "--diff",
    ]));
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains(&format!("+FROM {h}/team/svc:3@{}", img.digest)),
        "{}",
        out.stdout
    );
    // B answered the redirected manifest requests, never with a credential.
    let seen = b.heads.lock().unwrap().clone();
    assert!(!seen.is_empty());
    assert!(seen.iter().all(|h| authorization(h).is_none()), "{seen:?}");
    for t in [&out.stdout, &out.stderr, &status.stdout] {
        assert!(!t.contains("helper-secret"));
    }
}

#[test]
fn per_host_limit_and_run_deadline() {
    let Some(lab) = Lab::open() else { return };
    for t in 0..8 {
        lab.push.image(
            "lim/app",
            &format!("{t}"),
            "linux",
            "amd64",
            &format!("{t}"),
            false,
        );
    }
    let slow = FaultProxy::start(
        lab.reg.port,
        Arc::new(|_, _: &str| Action::Delay(Duration::from_millis(300))),
    );
    let h = slow.host();
    let mut compose = String::from("services:\n");
    for t in 0..8 {
        compose.push_str(&format!("  s{t}:\n    image: {h}/lim/app:{t}\n"));
    }
    lab.write("compose.yaml", &compose);
    // 8 slow answers, 2 at a time: at least 4 rounds.
    let start = std::time::Instant::now();
    let out = lab.run(&[
        "pin",
        "--check",
        "--no-cache",
        "--per-host",
        "2",
        "--jobs",
        "8",
    ]);
    let limited = start.elapsed();
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(limited >= Duration::from_millis(1150), "{limited:?}");
    // 8 at a time: about one round.
    let start = std::time::Instant::now();
    let out = lab.run(&[
        "pin",
        "--check",
        "--no-cache",
        "--per-host",
        "8",
        "--jobs",
        "8",
    ]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        start.elapsed() < limited,
        "{:?} vs {limited:?}",
        start.elapsed()
    );
    // A 1-second deadline with answers that take 3 s each: a clear error.
    let stuck = FaultProxy::start(
        lab.reg.port,
        Arc::new(|_, _: &str| Action::Delay(Duration::from_secs(3))),
    );
    let text = format!("FROM {}/lim/app:0\n", stuck.host());
    lab.write("d/Dockerfile", &text);
    let start = std::time::Instant::now();
    let out = lab.run(&[
        "pin",
        "--no-cache",
        "--deadline",
        "1",
        "--timeout",
        "1",
        "--retries",
        "5",
        "d",
    ]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("deadline") || out.stdout.contains("timed out"),
        "{}",
        out.stdout
    );
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(read(&lab.dir().join("d/Dockerfile")), text);
}

/// Issue 23 item 2: a committed `refit.lock` that links outside the
/// repository is refused (exit 2), and the file it points to is untouched.
#[test]
fn lock_file_linking_outside_the_repository_is_refused() {
    let Some(lab) = Lab::open() else { return };
    lab.push
        .image("a/single", "1", "linux", "amd64", "s", false);
    let h = &lab.host;
    std::fs::create_dir(lab.dir().join("repo")).unwrap();
    std::fs::create_dir(lab.dir().join("repo/.git")).unwrap();
    lab.write("repo/Dockerfile", &format!("FROM {h}/a/single:1\n"));
    let victim = lab.write("outside/victim", "precious\n");
    std::os::unix::fs::symlink(&victim, lab.dir().join("repo/refit.lock")).unwrap();
    let out = run(lab.refit().current_dir(lab.dir().join("repo")).args([
        "pin",
        "--lock",
        "--no-cache",
        ".",
    ]));
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("outside the repository root"),
        "{}",
        out.stderr
    );
    assert_eq!(read(&victim), "precious\n");
    assert!(
        std::fs::symlink_metadata(lab.dir().join("repo/refit.lock"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    // A link inside the repository is followed and kept.
    std::fs::remove_file(lab.dir().join("repo/refit.lock")).unwrap();
    let inside = lab.write("repo/locks/refit.lock", "");
    std::fs::remove_file(&inside).unwrap();
    std::os::unix::fs::symlink("locks/refit.lock", lab.dir().join("repo/refit.lock")).unwrap();
    let out = run(lab.refit().current_dir(lab.dir().join("repo")).args([
        "pin",
        "--lock",
        "--no-cache",
        ".",
    ]));
    // A link to a file that does not exist yet cannot be checked: refused.
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    std::fs::write(&inside, "").unwrap();
    let out = run(lab.refit().current_dir(lab.dir().join("repo")).args([
        "pin",
        "--lock",
        "--no-cache",
        ".",
    ]));
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(read(&inside).contains("a/single:1"), "{}", read(&inside));
}
