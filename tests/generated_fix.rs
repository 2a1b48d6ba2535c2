//! Generated Dockerfiles (a seeded, deterministic generator over the
//! grammar of ARG defaults, stage chains and `--from`): after `--fix` (and
//! `--unsafe-fixes`), every reference means what it meant before, or
//! exactly what the fix applied at it said (`Qualify as `X``, `Use `X``).
//! Fixed text re-parses and a second run changes nothing.

use refit::kind::FileKind;

use refit::settings::Settings;

use refit::check::check_text;
use refit::engine::{FixMode, process_text};
use refit::fix::meaning;
use refit::reference::Reference;

/// xorshift64*: small, seeded, the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const DEFAULTS: &[&str] = &[
    "node:20",
    "node",
    "alpine:3.20",
    "minio/minio:1",
    "k8s.gcr.io/pause:3.9",
    "gcr.io/google_containers/pause:3.1",
    "docker.io/library/redis:7",
    "bats-local",
    "python:3.12-slim",
    "bitnami/redis:7.2.4",
    "quay.io/org/tool:1",
];

const LITERALS: &[&str] = &[
    "node:20",
    "busybox",
    "gcr.io/google_containers:1",
    "k8s.gcr.io/pause:3.9",
    "minio/mc:2",
    "docker.io/library/alpine:3.20",
    "unknown-thing:1",
];

fn generate(rng: &mut Rng) -> String {
    let mut out = String::new();
    let args = 1 + rng.below(3);
    let names: Vec<String> = (0..args).map(|i| format!("A{i}")).collect();
    for name in &names {
        out.push_str(&format!("ARG {name}={}\n", rng.pick(DEFAULTS)));
    }
    let mut stages: Vec<String> = Vec::new();
    for s in 0..1 + rng.below(4) {
        let arg = &names[rng.below(names.len())];
        let base = match rng.below(9) {
            0 => format!("${arg}"),
            1 => format!("${{{arg}}}"),
            2 => format!("docker.io/library/${arg}"),
            3 => format!("docker.io/${arg}"),
            4 => format!("\"${arg}\""),
            5 if !stages.is_empty() => stages[rng.below(stages.len())].clone(),
            6 => format!("${{{arg}:-node:20}}"),
            _ => rng.pick(LITERALS).to_string(),
        };
        let stage = format!("s{s}");
        out.push_str(&format!("FROM {base} AS {stage}\n"));
        match rng.below(5) {
            0 => out.push_str(&format!("ARG {arg}\nRUN echo \"${arg}\"\n")),
            1 if !stages.is_empty() => out.push_str(&format!(
                "COPY --from={} /a /a\n",
                stages[rng.below(stages.len())]
            )),
            2 => out.push_str(&format!("COPY --from={} /b /b\n", rng.pick(LITERALS))),
            3 => out.push_str("COPY --from=binary_dir /c /c\n"),
            _ => out.push_str("RUN true\n"),
        }
        stages.push(stage);
    }
    out
}

/// The reference a fix title names: its first backquoted text.
fn stated(title: &str) -> Option<String> {
    let start = title.find('`')? + 1;
    let end = start + title[start..].find('`')?;
    Some(title[start..end].to_string())
}

#[test]
fn fixes_keep_every_reference_or_apply_their_stated_rewrite() {
    let settings = Settings {
        select: vec!["REG".to_string()],
        ..Settings::default()
    };
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let mut checked_files = 0;
    let mut fixed_files = 0;
    for _ in 0..400 {
        let text = generate(&mut rng);
        let Ok(before) = check_text(FileKind::Dockerfile, &text, &settings) else {
            continue;
        };
        checked_files += 1;
        for unsafe_fixes in [false, true] {
            let mode = FixMode::On { unsafe_fixes };
            let report = process_text(
                text.clone(),
                "Dockerfile",
                None,
                FileKind::Dockerfile,
                &settings,
                mode,
            );
            let Some(fixed) = report.fixed.clone() else {
                continue;
            };
            fixed_files += 1;
            let after = check_text(FileKind::Dockerfile, &fixed, &settings).unwrap_or_else(|e| {
                panic!(
                    "fixed text does not parse: {}\n{text}\n---\n{fixed}",
                    e.message
                )
            });
            assert_eq!(
                before.sites.len(),
                after.sites.len(),
                "{text}\n---\n{fixed}"
            );
            for (b, a) in before.sites.iter().zip(&after.sites) {
                if meaning(b) == meaning(a) {
                    continue;
                }
                // Changed: only by a fix applied at this site, to exactly
                // what its title said.
                let last = report.applied.iter().rev().find(|x| x.span == b.span);
                let want = last
                    .and_then(|x| stated(&x.title))
                    .and_then(|s| Reference::parse_normalized(&s).ok())
                    .map(|r| r.normalized());
                assert_eq!(
                    want.as_deref(),
                    Some(meaning(a).as_str()),
                    "`{}` became `{}` with no fix that says so (unsafe: {unsafe_fixes})\n{text}\n---\n{fixed}\napplied: {:?}",
                    meaning(b),
                    meaning(a),
                    report.applied
                );
            }
            // A second run changes nothing.
            let again = process_text(
                fixed.clone(),
                "Dockerfile",
                None,
                FileKind::Dockerfile,
                &settings,
                mode,
            );
            assert!(
                again.fixed.is_none(),
                "not idempotent:\n{fixed}\n---\n{:?}",
                again.fixed
            );
        }
    }
    eprintln!("generated: {checked_files} Dockerfiles checked, {fixed_files} fixed runs compared");
    assert!(checked_files > 300 && fixed_files > 100);
}

#[test]
fn the_generator_is_deterministic_and_covers_the_grammar() {
    let mut a = Rng(7);
    let mut b = Rng(7);
    let texts: Vec<String> = (0..200).map(|_| generate(&mut a)).collect();
    assert_eq!(
        texts,
        (0..200).map(|_| generate(&mut b)).collect::<Vec<_>>()
    );
    let all = texts.concat();
    for form in [
        "FROM $A",
        "FROM ${A",
        "docker.io/library/$A",
        "COPY --from=s",
        "COPY --from=binary_dir",
        "RUN echo \"$A",
        "AS s1\n",
    ] {
        assert!(all.contains(form), "{form} never generated");
    }
}
