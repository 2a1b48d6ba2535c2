//! The README and the shipped pre-commit hooks agree with the code.

use assert_cmd::Command;
use std::path::Path;

fn repo_file(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(name)).unwrap()
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> &'a str {
    let start = text.find(open).unwrap_or_else(|| panic!("no {open}")) + open.len();
    let end = text[start..]
        .find(close)
        .unwrap_or_else(|| panic!("no {close}"))
        + start;
    &text[start..end]
}

/// The `files` and `exclude` patterns of one hook in .pre-commit-hooks.yaml.
fn hook_patterns(hooks: &str, id: &str) -> (regex::Regex, regex::Regex) {
    let block = hooks
        .split("- id: ")
        .find(|b| b.starts_with(&format!("{id}\n")))
        .unwrap_or_else(|| panic!("no hook {id}"));
    let field = |name: &str| {
        block
            .lines()
            .find_map(|l| l.trim().strip_prefix(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("{id} has no {name}"))
            .to_string()
    };
    (
        regex::Regex::new(&field("files")).unwrap(),
        regex::Regex::new(&field("exclude")).unwrap(),
    )
}

#[test]
fn pre_commit_files_pattern_matches_what_refit_reads() {
    let hooks = repo_file(".pre-commit-hooks.yaml");
    for id in ["refit", "refit-fix"] {
        let (files, exclude) = hook_patterns(&hooks, id);
        let hook = |p: &str| files.is_match(p) && !exclude.is_match(p);
        for yes in [
            "Dockerfile",
            "sub/Dockerfile.dev",
            "api.dockerfile",
            "Containerfile",
            "Containerfile.debug-ubi",
            "compose.yaml",
            "deploy/pod.yml",
            "etc/docker/daemon.json",
            "buildkitd.toml",
            "etc/containerd/certs.d/docker.io/hosts.toml",
            "etc/containers/registries.conf",
            ".devcontainer/devcontainer.json",
            ".devcontainer/python/devcontainer.json",
            "app/.devcontainer.json",
            ".devcontainer/devcontainer-lock.json",
            "app/.devcontainer-lock.json",
            ".circleci/config.yml",
            "bitbucket-pipelines.yml",
            "azure-pipelines.yml",
            "ci/azure-pipelines/build.yml",
            "docker-bake.hcl",
            "build/docker-bake.override.json",
            ".drone.yml",
            ".woodpecker/build.yaml",
            "cloudbuild.yaml",
            ".ko.yaml",
            "infra/main.tf",
            "infra/cdk.tf.json",
            "charts/app/Chart.yaml",
            "charts/app/Chart.lock",
            "helmfile.d/apps.yaml",
            "helmfile.yaml.gotmpl",
            "helmfile.d/apps.yaml.gotmpl",
        ] {
            assert!(hook(yes), "{id} should match {yes}");
            assert!(refit::discover::classify(Path::new(yes)).is_some(), "{yes}");
        }
        // Quadlet units: refit takes them by name and section, so the
        // hook passes the names and refit skips a `logo.image`.
        for yes in [
            "etc/containers/systemd/web.container",
            "db.image",
            "app.build",
            "data.volume",
            "site.kube",
            "web.pod",
            "web.container.d/10-image.conf",
            "container.d/all.conf",
        ] {
            assert!(hook(yes), "{id} should match {yes}");
            assert!(
                refit::kind::quadlet_section(yes.rsplit('/').next().unwrap()).is_some()
                    || refit::kind::quadlet_dropin_section(Path::new(yes)).is_some()
            );
        }
        for no in [
            "docs/dockerfile-tips.md",
            "container",
            "Dockerfile.md",
            "dockerfile-notes.txt",
            "README.md",
            ".dockerignore",
            "src/main.rs",
            "chart/templates/deployment.yaml",
            "devcontainer.json",
            ".devcontainer/a/b/devcontainer.json",
            "my-docker-bake.hcl",
            "docker-bake.hcl.bak",
        ] {
            assert!(!hook(no), "{id} should not match {no}");
        }
    }
}

#[test]
fn readme_pre_commit_snippet_names_the_repository_and_the_hooks() {
    // Cargo.toml's `repository`, when set, is what the snippets name (the
    // wheel-based mirror is that name plus `-pre-commit`, as ruff's is);
    // unset (no public home yet), they say `<owner>` instead of a guess.
    let repository = env!("CARGO_PKG_REPOSITORY");
    let home = if repository.is_empty() {
        "https://github.com/<owner>/refit"
    } else {
        repository.trim_end_matches('/')
    };
    let hooks = repo_file(".pre-commit-hooks.yaml");
    let shipped: Vec<&str> = hooks
        .lines()
        .filter_map(|l| l.strip_prefix("- id: "))
        .collect();
    let readme = repo_file("README.md");
    let book = repo_file("docs/src/integrations/pre-commit.md");
    for (page, section) in [
        ("README.md", between(&readme, "## pre-commit\n", "\n## ")),
        ("the book's pre-commit page", book.as_str()),
    ] {
        // The recommended snippet (the mirror, `language: python`) first,
        // then this repository's own hooks (`language: rust`).
        let snippets: Vec<&str> = section
            .split("```yaml\n")
            .skip(1)
            .map(|s| s.split("```").next().unwrap_or(""))
            .collect();
        assert_eq!(snippets.len(), 2, "{page}: two pre-commit snippets");
        for (snippet, repo) in [
            (snippets[0], format!("{home}-pre-commit")),
            (snippets[1], home.to_string()),
        ] {
            assert!(
                snippet.contains(&format!("- repo: {repo}\n")),
                "{page}'s pre-commit `repo:` is not {repo:?}:\n{snippet}"
            );
            let named: Vec<&str> = snippet
                .lines()
                .filter_map(|l| l.trim().strip_prefix("- id: "))
                .map(|l| l.split_whitespace().next().unwrap_or(""))
                .collect();
            assert_eq!(named, shipped, "{page}: hook ids vs .pre-commit-hooks.yaml");
        }
    }
    // SARIF rule links follow the same field: there when it is set, and
    // left out (never dead) when it is not.
    let out = Command::cargo_bin("refit")
        .unwrap()
        .args([
            "check",
            "--isolated",
            "--format",
            "sarif",
            "--stdin-filename",
            "Dockerfile",
            "-",
        ])
        .write_stdin("FROM node:20\n")
        .output()
        .unwrap();
    let sarif = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        sarif.contains("/blob/main/rules/REG001.md"),
        !repository.is_empty(),
        "{sarif}"
    );
}

#[test]
fn readme_rule_count_and_table_match_the_rules() {
    let readme = repo_file("README.md");
    let out = Command::cargo_bin("refit")
        .unwrap()
        .args(["rules", "--format", "json"])
        .output()
        .unwrap();
    let rules: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes: Vec<&str> = rules
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    let count = between(&readme, "<!-- rule-count -->", "<!-- /rule-count -->");
    assert_eq!(count, codes.len().to_string(), "README rule count");
    // The rule table: the first table after the count.
    let after = readme
        .split_once("<!-- /rule-count -->")
        .map_or("", |(_, rest)| rest);
    let table: Vec<&str> = after
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split(' ').next())
        .filter(|c| codes.contains(c))
        .collect();
    assert_eq!(table, codes, "README rule table vs `refit rules`");
}

#[test]
fn readme_sample_is_what_refit_prints() {
    let readme = repo_file("README.md");
    let block = between(&readme, "<!-- sample-human:", "<!-- /sample-human -->");
    let shown = between(block, "```text\n", "```");
    let out = Command::cargo_bin("refit")
        .unwrap()
        .env_remove("COLUMNS")
        .args(["check", "--isolated", "--stdin-filename", "Dockerfile", "-"])
        .write_stdin("FROM nginx:latest\n")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), shown);
}
