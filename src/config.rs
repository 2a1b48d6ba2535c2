//! `refit.toml` / `.refit.toml`: found from each checked file's folder
//! upward (the nearest wins), composed with `extend = "path"`, or named
//! with `--config`; `--isolated` ignores them all.
//!
//! Unknown keys are errors that name the key and the file, with the nearest
//! known key as a suggestion: a typo must not silently drop the setting.

use crate::diagnostic::Severity;
use crate::kind::FileKind;
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub const FILE_NAMES: &[&str] = crate::kind::CONFIG_FILE_NAMES;

/// The largest configuration file refit reads.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// A config file as written. Every table denies unknown keys.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawConfig {
    /// Another config file this one builds on (relative to this file).
    pub extend: Option<String>,
    pub select: Option<Vec<String>>,
    pub extend_select: Option<Vec<String>>,
    pub ignore: Option<Vec<String>>,
    /// Glob (relative to the config's folder) → codes to ignore there.
    pub per_file_ignores: Option<BTreeMap<String, Vec<String>>>,
    /// Code → `error`, `warning` or `info`.
    pub severity: Option<BTreeMap<String, String>>,
    pub fix: Option<FixConfig>,
    /// Globs of files to check; when set, others are skipped in a walk.
    pub include: Option<Vec<String>>,
    /// Globs to leave out of a walk; unset: `vendor`, `third_party`,
    /// `node_modules` and `.terraform` (`crate::discover::DEFAULT_EXCLUDE`).
    pub exclude: Option<Vec<String>>,
    pub extend_exclude: Option<Vec<String>>,
    /// Leave excluded files out even when named on the command line.
    pub force_exclude: Option<bool>,
    /// Glob → file kind (`dockerfile`, `compose`, `helm-values`,
    /// `kubernetes`, `github-actions`, `gitlab-ci`, `kustomize`).
    pub kinds: Option<BTreeMap<String, String>>,
    pub max_file_size: Option<u64>,
    /// Registry policy (allow, deny, proxies); read by the policy rules.
    pub registries: Option<Registries>,
    /// Prefix rewrites for moves the organisation knows about (REG007).
    pub rewrite: Option<Vec<crate::policy::Rewrite>>,
    /// Per-rule settings: `[rules.TAG003] strict = true`.
    pub rules: Option<crate::rules::RuleOptions>,
    /// Entries added to the knowledge tables of `rules/*.toml`.
    pub knowledge: Option<crate::rules::knowledge::Extension>,
    /// Which advisory packs of `rules/advisories.toml` are in force.
    pub advisories: Option<crate::rules::knowledge::Selection>,
    /// Settings for the files matching globs: `[[overrides]] files = […]`.
    pub overrides: Option<Vec<Override>>,
    /// A baseline file (relative to this file) whose findings are hidden.
    pub baseline: Option<String>,
    /// Where the rule pages are: `<docs-url>/<CODE>.md` (default: the
    /// `rules/` folder of the repository in the package metadata).
    pub docs_url: Option<String>,
    /// `refit update`'s policy: how far, how old, what to leave alone.
    pub update: Option<UpdateConfig>,
}

/// `[update]`: the policy of `refit update`.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct UpdateConfig {
    /// `patch`, `minor` (the default) or `major`.
    pub allow: Option<String>,
    /// The youngest a new tag's image may be (`3d`, `12h`, `2w`).
    pub min_age: Option<String>,
    /// Name globs `refit update` leaves alone.
    pub ignore: Option<Vec<String>>,
    /// Per-image settings; the last rule that matches wins.
    pub rule: Option<Vec<UpdateRule>>,
}

/// `[[update.rule]]`: settings for the images some globs match.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct UpdateRule {
    /// Globs of image names (`docker.io/library/node`, `ghcr.io/org/*`, `node`).
    pub images: Vec<String>,
    pub allow: Option<String>,
    pub min_age: Option<String>,
    /// Leave these images alone.
    pub ignore: Option<bool>,
}

/// Settings for some files only; later overrides win over earlier ones,
/// and each key replaces (lists and tables of `extend-select`,
/// `per-file-ignores` and `severity` add) what the file-wide config says.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Override {
    /// Globs relative to the config's folder (`deploy/**`).
    pub files: Vec<String>,
    pub select: Option<Vec<String>>,
    pub extend_select: Option<Vec<String>>,
    pub ignore: Option<Vec<String>>,
    pub severity: Option<BTreeMap<String, String>>,
    pub fix: Option<FixConfig>,
    pub registries: Option<Registries>,
    pub rewrite: Option<Vec<crate::policy::Rewrite>>,
    pub rules: Option<crate::rules::RuleOptions>,
}

impl Override {
    fn as_raw(&self) -> RawConfig {
        RawConfig {
            select: self.select.clone(),
            extend_select: self.extend_select.clone(),
            ignore: self.ignore.clone(),
            severity: self.severity.clone(),
            fix: self.fix.clone(),
            registries: self.registries.clone(),
            rewrite: self.rewrite.clone(),
            rules: self.rules.clone(),
            ..RawConfig::default()
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FixConfig {
    /// Apply unsafe fixes with `--fix`.
    pub unsafe_fixes: Option<bool>,
    /// Codes whose unsafe fixes count as safe here.
    pub extend_safe: Option<Vec<String>>,
    /// Codes whose safe fixes count as unsafe here.
    pub extend_unsafe: Option<Vec<String>>,
    /// Who consumes the repository's kustomize bases: `anywhere` (the
    /// default: overlays outside the repository may override its image
    /// names, so renaming one is unsafe) or `repository` (every overlay is
    /// here, where refit sees it).
    pub kustomize_consumers: Option<KustomizeConsumers>,
}

/// `[fix] kustomize-consumers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KustomizeConsumers {
    Anywhere,
    Repository,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Registries {
    pub allow: Option<Vec<String>>,
    pub deny: Option<Vec<String>>,
    pub proxies: Option<Vec<crate::policy::Proxy>>,
    /// Hosts `refit pin`/`--online` may speak plain HTTP to (loopback
    /// always may).
    pub insecure: Option<Vec<String>>,
    /// Docker Hub mirrors `refit pin`/`--online` try before Docker Hub.
    pub mirrors: Option<Vec<String>>,
}

/// One documented `refit.toml` key, for the configuration reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyDoc {
    /// The TOML table the key sits in, as written (`[fix]`,
    /// `[[overrides]]`, `[rules.TAG003]`); empty for the top level.
    pub table: &'static str,
    pub key: &'static str,
    /// The value's TOML type; alternatives as `"a" | "b"`.
    pub ty: &'static str,
    /// One line.
    pub description: &'static str,
}

/// Every key `refit.toml` accepts, table by table, with its type and one
/// line on what it does: the source of the book's configuration
/// reference, which `tests/book.rs` generates and holds equal to the
/// structs above.
#[rustfmt::skip]
pub fn documented_keys() -> &'static [KeyDoc] {
    const fn k(table: &'static str, key: &'static str, ty: &'static str, description: &'static str) -> KeyDoc {
        KeyDoc { table, key, ty, description }
    }
    const LIST: &str = "array of strings";
    const KEYS: &[KeyDoc] = &[
        k("", "extend", "string", "Another config file this one builds on (relative to this file)"),
        k("", "select", LIST, "Rule codes or prefixes to run (`REG`, `TAG001`, `ALL`); default: every rule that is not opt-in"),
        k("", "extend-select", LIST, "Codes or prefixes added to `select`"),
        k("", "ignore", LIST, "Codes or prefixes not to run"),
        k("", "per-file-ignores", "table of arrays of strings", "Glob (relative to the config's folder) to the codes ignored in the files it matches"),
        k("", "severity", "table of strings", "Code or prefix to `\"error\"`, `\"warning\"` or `\"info\"`"),
        k("", "fix", "table", "How fixes apply: see `[fix]`"),
        k("", "include", LIST, "Globs of the files a walk checks; when set, a walk skips the others"),
        k("", "exclude", LIST, "Globs a walk leaves out; replaces the defaults `vendor`, `third_party`, `node_modules`, `.terraform`"),
        k("", "extend-exclude", LIST, "Globs a walk leaves out, added to `exclude` (or to the defaults)"),
        k("", "force-exclude", "boolean", "Leave excluded files out even when named on the command line (pre-commit)"),
        k("", "kinds", "table of strings", "Glob to the kind its files are read as (`dockerfile`, `compose`, `helm-values`, `kubernetes`, `github-actions`, `gitlab-ci`, `kustomize`, `daemon-json`, `buildkitd`, `containerd-hosts`, `registries-conf`, `quadlet`, `devcontainer`, `circleci`, `bitbucket-pipelines`, `azure-pipelines`, `bake`, `drone`, `woodpecker`, `cloudbuild`, `ko`, `terraform`, `helm-chart`, `helmfile`)"),
        k("", "max-file-size", "integer", "The largest file read, in bytes (default 10 MiB); a larger one is E003"),
        k("", "registries", "table", "Registry policy and online settings: see `[registries]`"),
        k("", "rewrite", "array of tables", "Moves the organisation knows about (REG007): see `[[rewrite]]`"),
        k("", "rules", "table", "Per-rule settings: see `[rules.CODE]`"),
        k("", "knowledge", "table", "Entries added in front of the knowledge tables of `rules/*.toml`: see `[knowledge]`"),
        k("", "overrides", "array of tables", "Settings for the files some globs match: see `[[overrides]]`"),
        k("", "baseline", "string", "A baseline file (relative to this file) whose findings are hidden"),
        k("", "docs-url", "string", "Where rule links point: the folder holding `REG001.md` and the other rule pages"),
        k("", "update", "table", "The policy of `refit update`: see `[update]`"),
        k("[fix]", "unsafe-fixes", "boolean", "Apply unsafe fixes with `--fix`, as `--unsafe-fixes` does"),
        k("[fix]", "extend-safe", LIST, "Codes or prefixes whose unsafe fixes count as safe"),
        k("[fix]", "extend-unsafe", LIST, "Codes or prefixes whose safe fixes count as unsafe"),
        k("[fix]", "kustomize-consumers", "\"anywhere\" | \"repository\"", "Where the overlays of the repository's kustomize bases are; `anywhere` (the default) makes renames in them unsafe"),
        k("[registries]", "allow", LIST, "Registry or name patterns the policy allows (REG005): `docker.io/library/*`, `*.corp.example`"),
        k("[registries]", "deny", LIST, "Registry or name patterns the policy refuses (REG005)"),
        k("[registries]", "proxies", "array of tables", "Pull-through caches (REG006): see `[[registries.proxies]]`"),
        k("[registries]", "insecure", LIST, "Hosts (`host:port`) that `refit pin` and `--online` may speak plain HTTP to; loopback always may"),
        k("[registries]", "mirrors", LIST, "Docker Hub mirrors that `refit pin` and `--online` try before Docker Hub"),
        k("[[registries.proxies]]", "upstream", "string", "The registry the cache stands in for (`docker.io`)"),
        k("[[registries.proxies]]", "via", "string", "The cache's prefix (`harbor.corp.example/dockerhub`)"),
        k("[[rewrite]]", "from", "string", "A normalized name prefix, registry included (`docker.io/my-org/`)"),
        k("[[rewrite]]", "to", "string", "What replaces `from` (`ghcr.io/my-org/`); rewrites never chain"),
        k("[rules.BASE001]", "form", "\"alpine\" | \"debian\"", "The OS base the rewrite targets; `debian` installs Node.js from NodeSource (default `alpine`)"),
        k("[rules.BASE001]", "stages", LIST, "Stage names or indexes to rewrite; default: every stage"),
        k("[rules.REF002]", "scope", "\"proven\" | \"all\"", "`all`: every variable without a value; `proven`: only those the repository shows no build sets; default `all` when REF002 is selected by code, else `proven`"),
        k("[rules.TAG003]", "strict", "boolean", "Also flag major-only tags (`node:20`)"),
        k("", "advisories", "table", "Which advisory packs are in force (`refit advisories` lists them): see `[advisories]`"),
        k("[advisories]", "select", LIST, "Packs to use instead of the default ones (`bitnami`, `eol`, `ALL`)"),
        k("[advisories]", "extend-select", LIST, "Packs added to the default ones or to `select` (`dhi`)"),
        k("[advisories]", "ignore", LIST, "Packs not to use"),
        k("[knowledge]", "mirror", "array of tables", "Mirror hosts, with the fields of `rules/mirrors.toml`"),
        k("[knowledge]", "moved", "array of tables", "Moved registries and namespaces, with the fields of `rules/moved.toml`"),
        k("[knowledge]", "deprecated", "array of tables", "Deprecated images, with the fields of `rules/deprecated.toml`"),
        k("[knowledge]", "mutable-tags", "table", "Tags that move, with the lists of `rules/mutable-tags.toml` (`floating`, `variant-only`, ...)"),
        k("[knowledge]", "alpine", "array of tables", "Alpine releases for BASE001, with the fields of `rules/runtimes.toml`; an entry replaces the release of the same name"),
        k("[update]", "allow", "\"patch\" | \"minor\" | \"major\"", "How far `refit update` goes: the first version number it may change (default `minor`)"),
        k("[update]", "min-age", "string", "The youngest an update may be (`3d`, `12h`, `2w`), by `refit.lock`'s first-seen time or the registry's `created` time; unset: any age"),
        k("[update]", "ignore", LIST, "Image name globs `refit update` leaves alone (`docker.io/library/postgres`, `ghcr.io/org/*`)"),
        k("[update]", "rule", "array of tables", "Settings per image: see `[[update.rule]]`"),
        k("[[update.rule]]", "images", LIST, "Image name globs the rule applies to (normalized `docker.io/library/node` or as written `node`); required; the last matching rule wins"),
        k("[[update.rule]]", "allow", "\"patch\" | \"minor\" | \"major\"", "Replaces `allow` for those images"),
        k("[[update.rule]]", "min-age", "string", "Replaces `min-age` for those images"),
        k("[[update.rule]]", "ignore", "boolean", "Leave those images alone"),
        k("[[overrides]]", "files", LIST, "Globs (relative to the config's folder) of the files the override applies to; required"),
        k("[[overrides]]", "select", LIST, "Replaces `select` for those files"),
        k("[[overrides]]", "extend-select", LIST, "Added to `extend-select` for those files"),
        k("[[overrides]]", "ignore", LIST, "Replaces `ignore` for those files"),
        k("[[overrides]]", "severity", "table of strings", "Added to `severity` for those files"),
        k("[[overrides]]", "fix", "table", "Replaces `[fix]` for those files"),
        k("[[overrides]]", "registries", "table", "Replaces `[registries]` for those files"),
        k("[[overrides]]", "rewrite", "array of tables", "Replaces the `[[rewrite]]` entries for those files"),
        k("[[overrides]]", "rules", "table", "Replaces each `[rules.CODE]` table it sets, for those files"),
    ];
    KEYS
}

/// A configuration error, naming the file and, when it can be found, the
/// line, column and text at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: PathBuf,
    pub message: String,
    pub at: Option<Location>,
}

/// Where in a config file an error is: 1-based line and column (in
/// characters), the line's text and how many characters to underline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
    pub text: String,
    pub len: usize,
}

impl Location {
    /// The location of the byte range `start..end` of `text`.
    pub fn of(text: &str, start: usize, end: usize) -> Location {
        let start = floor_char_boundary(text, start.min(text.len()));
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let end = floor_char_boundary(text, end.clamp(start, line_end));
        Location {
            line: text[..start].matches('\n').count() + 1,
            column: text[line_start..start].chars().count() + 1,
            text: text[line_start..line_end]
                .trim_end_matches('\r')
                .to_string(),
            len: text[start..end].chars().count().max(1),
        }
    }
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl ConfigError {
    /// Point the error at the first place one of `files` holds `needle`
    /// as a whole word outside comments (the offending key or value).
    fn locate(mut self, files: &[PathBuf], needle: &str) -> ConfigError {
        for file in files {
            let Ok(text) = crate::bounded::read_regular(file, MAX_CONFIG_BYTES) else {
                continue;
            };
            if let Some(start) = find_word(&text, needle) {
                self.path = file.clone();
                self.at = Some(Location::of(&text, start, start + needle.len()));
                break;
            }
        }
        self
    }
}

/// The byte offset of `needle` standing alone (not part of a longer word)
/// in `text`, skipping comment lines.
fn find_word(text: &str, needle: &str) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let code = line.split('#').next().unwrap_or("");
        let mut from = 0;
        while let Some(i) = code[from..].find(needle) {
            let at = from + i;
            let before = code[..at].chars().next_back();
            let after = code[at + needle.len()..].chars().next();
            if !before.is_some_and(word) && !after.is_some_and(word) {
                return Some(offset + at);
            }
            from = at + needle.len();
        }
        offset += line.len();
    }
    None
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.at {
            None => write!(f, "{}: {}", self.path.display(), self.message),
            Some(at) => {
                let number = at.line.to_string();
                let pad = " ".repeat(number.len());
                write!(
                    f,
                    "{}:{}:{}: {}\n{pad} |\n{number} | {}\n{pad} | {}{}",
                    self.path.display(),
                    at.line,
                    at.column,
                    self.message,
                    at.text,
                    " ".repeat(at.column - 1),
                    "^".repeat(at.len)
                )
            }
        }
    }
}

/// The rule code or prefix nearest to an unknown one (`REG01` → `REG001`).
pub fn suggest_code(code: &str) -> Option<&'static str> {
    let upper = code.to_ascii_uppercase();
    let all = crate::rules::all();
    let mut candidates: Vec<&'static str> = all.iter().map(|r| r.code).collect();
    candidates.extend(
        all.iter()
            .map(|r| r.code.trim_end_matches(|c: char| c.is_ascii_digit())),
    );
    candidates
        .into_iter()
        .map(|c| (distance(&upper, c), c))
        .filter(|(d, c)| *d <= if c.len() <= 4 { 1 } else { 2 })
        .min()
        .map(|(_, c)| c)
}

/// The rule or per-file error nearest to an unknown code or name, for
/// `refit rule` (`TAG02` → `TAG002`, `latest-tg` → `latest-tag`): whole
/// codes and names, never a prefix.
pub fn suggest_rule(query: &str) -> Option<&'static str> {
    let all = crate::rules::all();
    let errors = crate::diagnostic::FILE_ERRORS;
    let upper = query.to_ascii_uppercase();
    let codes = all
        .iter()
        .map(|r| r.code)
        .chain(errors.iter().map(|(c, _, _)| *c))
        .map(|c| (distance(&upper, c), c))
        .filter(|(d, _)| *d <= 2);
    let lower = query.to_ascii_lowercase();
    let names = all
        .iter()
        .map(|r| r.name)
        .chain(errors.iter().map(|(_, n, _)| *n))
        .map(|n| (distance(&lower, n), n))
        .filter(|(d, n)| *d <= 2.max(n.len() / 4));
    codes.chain(names).min().map(|(_, s)| s)
}

/// The name among `names` nearest to `query`, when near enough to be a
/// typo (`mian` → `main`): for names refit does not own, such as branches.
pub fn nearest<'a>(query: &str, names: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    names
        .into_iter()
        .map(|n| (distance(query, n), n))
        .filter(|(d, n)| *d > 0 && *d <= 2.max(n.chars().count() / 4))
        .min()
        .map(|(_, n)| n)
}

/// `unknown rule code `X``, with a suggestion when one is near.
pub fn unknown_code_message(what: &str, code: &str) -> String {
    match suggest_code(code) {
        Some(s) => format!("unknown {what} `{code}` (did you mean `{s}`?)"),
        None => format!("unknown {what} `{code}`"),
    }
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The known key nearest to `key`, when it is near enough to be a typo.
pub fn suggest(key: &str) -> Option<&'static str> {
    // Every documented key (the configuration reference's table).
    documented_keys()
        .iter()
        .map(|d| (distance(key, d.key), d.key))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min()
        .map(|(_, k)| k)
}

/// Parse one config file's text.
pub fn parse_raw(text: &str, path: &Path) -> Result<RawConfig, ConfigError> {
    toml::from_str::<RawConfig>(text).map_err(|e| {
        let at = e.span().map(|s| Location::of(text, s.start, s.end));
        let mut message = e.message().trim().to_string();
        // serde: "unknown field `selct`, expected one of …"
        let unknown = message
            .strip_prefix("unknown field `")
            .and_then(|rest| rest.split('`').next())
            .map(str::to_string);
        if let Some(key) = unknown {
            message = format!("unknown key `{key}`");
            if let Some(s) = suggest(&key) {
                message.push_str(&format!(" (did you mean `{s}`?)"));
            }
        }
        ConfigError {
            path: path.to_path_buf(),
            message,
            at,
        }
    })
}

/// A config file made ready to use: globs compiled against its folder.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The files it came from, nearest first (empty: defaults).
    pub sources: Vec<PathBuf>,
    pub root: PathBuf,
    pub raw: RawConfig,
    per_file_ignores: Vec<(GlobSet, Vec<String>)>,
    exclude: Option<GlobSet>,
    include: Option<GlobSet>,
    kinds: Vec<(GlobSet, FileKind)>,
    overrides: Vec<(GlobSet, RawConfig)>,
    /// The compiled-in tables with `[knowledge]` added, built once.
    pub knowledge: Option<Arc<crate::rules::knowledge::Knowledge>>,
    /// `refit.lock` beside the config file (TAG004's digests).
    pub lock: Option<Arc<crate::online::lock::Lock>>,
}

fn glob_set(patterns: &[String], path: &Path, chain: &[PathBuf]) -> Result<GlobSet, ConfigError> {
    let mut b = GlobSetBuilder::new();
    for written in patterns {
        let p = written;
        // A pattern without a slash matches at any depth, as in .gitignore.
        let p = if p.contains('/') {
            p.trim_start_matches("./").to_string()
        } else {
            format!("**/{p}")
        };
        for variant in [p.clone(), format!("{p}/**")] {
            let glob = Glob::new(&variant).map_err(|e| {
                ConfigError {
                    path: path.to_path_buf(),
                    message: format!("invalid glob `{p}`: {e}"),
                    at: None,
                }
                .locate(chain, written)
            })?;
            b.add(glob);
        }
    }
    b.build().map_err(|e| ConfigError {
        path: path.to_path_buf(),
        message: e.to_string(),
        at: None,
    })
}

pub fn parse_kind(s: &str) -> Option<FileKind> {
    Some(match s {
        "dockerfile" => FileKind::Dockerfile,
        "compose" => FileKind::Compose,
        "helm-values" => FileKind::HelmValues,
        "kubernetes" => FileKind::Kubernetes,
        "github-actions" => FileKind::GithubActions,
        "gitlab-ci" => FileKind::GitlabCi,
        "kustomize" => FileKind::Kustomize,
        "daemon-json" => FileKind::DaemonJson,
        "buildkitd" => FileKind::BuildkitToml,
        "containerd-hosts" => FileKind::ContainerdHosts,
        "registries-conf" => FileKind::RegistriesConf,
        "quadlet" => FileKind::Quadlet,
        "devcontainer" => FileKind::Devcontainer,
        "circleci" => FileKind::Circleci,
        "bitbucket-pipelines" => FileKind::BitbucketPipelines,
        "azure-pipelines" => FileKind::AzurePipelines,
        "bake" => FileKind::Bake,
        "drone" => FileKind::Drone,
        "woodpecker" => FileKind::Woodpecker,
        "cloudbuild" => FileKind::CloudBuild,
        "ko" => FileKind::Ko,
        "terraform" => FileKind::Terraform,
        "helm-chart" => FileKind::HelmChart,
        "helmfile" => FileKind::Helmfile,
        _ => return None,
    })
}

fn merge(base: RawConfig, over: RawConfig) -> RawConfig {
    RawConfig {
        extend: None,
        select: over.select.or(base.select),
        extend_select: match (base.extend_select, over.extend_select) {
            (Some(mut a), Some(b)) => {
                a.extend(b);
                Some(a)
            }
            (a, b) => b.or(a),
        },
        ignore: over.ignore.or(base.ignore),
        per_file_ignores: match (base.per_file_ignores, over.per_file_ignores) {
            (Some(mut a), Some(b)) => {
                a.extend(b);
                Some(a)
            }
            (a, b) => b.or(a),
        },
        severity: match (base.severity, over.severity) {
            (Some(mut a), Some(b)) => {
                a.extend(b);
                Some(a)
            }
            (a, b) => b.or(a),
        },
        fix: over.fix.or(base.fix),
        include: over.include.or(base.include),
        exclude: over.exclude.or(base.exclude),
        force_exclude: over.force_exclude.or(base.force_exclude),
        extend_exclude: match (base.extend_exclude, over.extend_exclude) {
            (Some(mut a), Some(b)) => {
                a.extend(b);
                Some(a)
            }
            (a, b) => b.or(a),
        },
        kinds: over.kinds.or(base.kinds),
        max_file_size: over.max_file_size.or(base.max_file_size),
        registries: over.registries.or(base.registries),
        rewrite: over.rewrite.or(base.rewrite),
        rules: match (base.rules, over.rules) {
            (Some(a), Some(b)) => Some(a.merge(b)),
            (a, b) => b.or(a),
        },
        knowledge: match (base.knowledge, over.knowledge) {
            (Some(a), Some(b)) => Some(a.merge(b)),
            (a, b) => b.or(a),
        },
        advisories: match (base.advisories, over.advisories) {
            (Some(a), Some(b)) => Some(a.merge(b)),
            (a, b) => b.or(a),
        },
        baseline: over.baseline.or(base.baseline),
        docs_url: over.docs_url.or(base.docs_url),
        update: over.update.or(base.update),
        overrides: match (base.overrides, over.overrides) {
            (Some(mut a), Some(b)) => {
                a.extend(b);
                Some(a)
            }
            (a, b) => b.or(a),
        },
    }
}

/// Load a config file and whatever it extends.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let absolute = crate::realpath::absolute(path);
    let path = absolute.as_path();
    let mut chain = Vec::new();
    let mut raw = load_raw(path, &mut chain)?;
    raw.extend = None;
    let root = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let validate_codes = |codes: &[String]| -> Result<(), ConfigError> {
        for c in codes {
            // The online rules too: their severity and selection are set
            // in the same file, for `refit check --online`.
            let known = c == "ALL"
                || crate::rules::RULES
                    .iter()
                    .chain(crate::rules::ONLINE_RULES)
                    .any(|r| r.code.starts_with(c.as_str()));
            if !known {
                return Err(ConfigError {
                    path: path.to_path_buf(),
                    message: unknown_code_message("rule code", c),
                    at: None,
                }
                .locate(&chain, c));
            }
        }
        Ok(())
    };
    for list in [&raw.select, &raw.extend_select, &raw.ignore]
        .into_iter()
        .flatten()
    {
        validate_codes(list)?;
    }
    let mut per_file_ignores = Vec::new();
    for (glob, codes) in raw.per_file_ignores.iter().flatten() {
        validate_codes(codes)?;
        per_file_ignores.push((
            glob_set(std::slice::from_ref(glob), path, &chain)?,
            codes.clone(),
        ));
    }
    validate_severity(raw.severity.as_ref(), path, &chain, &validate_codes)?;
    let mut kinds = Vec::new();
    for (glob, kind) in raw.kinds.iter().flatten() {
        let k = parse_kind(kind).ok_or_else(|| {
            ConfigError {
                path: path.to_path_buf(),
                message: format!("unknown file kind `{kind}` for `{glob}`"),
                at: None,
            }
            .locate(&chain, kind)
        })?;
        kinds.push((glob_set(std::slice::from_ref(glob), path, &chain)?, k));
    }
    let mut excludes: Vec<String> = raw.exclude.clone().unwrap_or_else(|| {
        crate::discover::DEFAULT_EXCLUDE
            .iter()
            .map(|d| d.to_string())
            .collect()
    });
    excludes.extend(raw.extend_exclude.clone().unwrap_or_default());
    let exclude = (!excludes.is_empty())
        .then(|| glob_set(&excludes, path, &chain))
        .transpose()?;
    let include = raw
        .include
        .as_ref()
        .map(|i| glob_set(i, path, &chain))
        .transpose()?;
    let mut overrides = Vec::new();
    for o in raw.overrides.iter().flatten() {
        for list in [&o.select, &o.extend_select, &o.ignore]
            .into_iter()
            .flatten()
        {
            validate_codes(list)?;
        }
        validate_severity(o.severity.as_ref(), path, &chain, &validate_codes)?;
        if o.files.is_empty() {
            return Err(ConfigError {
                path: path.to_path_buf(),
                message: "an `[[overrides]]` entry needs `files`".to_string(),
                at: None,
            }
            .locate(&chain, "[[overrides]]"));
        }
        overrides.push((glob_set(&o.files, path, &chain)?, o.as_raw()));
    }
    let rewrites: Vec<&crate::policy::Rewrite> = raw
        .rewrite
        .iter()
        .flatten()
        .chain(
            raw.overrides
                .iter()
                .flatten()
                .flat_map(|o| o.rewrite.iter().flatten()),
        )
        .collect();
    for r in rewrites {
        r.validate().map_err(|message| {
            ConfigError {
                path: path.to_path_buf(),
                message,
                at: None,
            }
            .locate(&chain, &r.from)
        })?;
    }
    if let Some(selection) = &raw.advisories {
        let all = crate::rules::knowledge::Knowledge::all();
        if let Some(name) = selection.unknown(&all.packs).first() {
            let known: Vec<&str> = all.packs.iter().map(|p| p.name.as_str()).collect();
            return Err(ConfigError {
                path: path.to_path_buf(),
                message: format!(
                    "unknown advisory pack `{name}` in [advisories] (known: {})",
                    known.join(", ")
                ),
                at: None,
            }
            .locate(&chain, name));
        }
    }
    let knowledge = (raw.knowledge.is_some() || raw.advisories.is_some()).then(|| {
        let all = crate::rules::knowledge::Knowledge::all();
        let extended = match &raw.knowledge {
            Some(extension) => all.extended(extension),
            None => all.clone(),
        };
        Arc::new(extended.with_packs(&raw.advisories.clone().unwrap_or_default()))
    });
    let lock_path = root.join(crate::online::lock::LOCK_FILE);
    let lock = if lock_path.is_file() {
        Some(Arc::new(
            crate::online::lock::Lock::read(&lock_path).map_err(|message| ConfigError {
                path: lock_path.clone(),
                message,
                at: None,
            })?,
        ))
    } else {
        None
    };
    Ok(Config {
        sources: chain,
        root,
        raw,
        per_file_ignores,
        exclude,
        include,
        kinds,
        overrides,
        knowledge,
        lock,
    })
}

fn validate_severity(
    severity: Option<&BTreeMap<String, String>>,
    path: &Path,
    chain: &[PathBuf],
    validate_codes: &dyn Fn(&[String]) -> Result<(), ConfigError>,
) -> Result<(), ConfigError> {
    for (code, level) in severity.into_iter().flatten() {
        validate_codes(std::slice::from_ref(code))?;
        if !matches!(level.as_str(), "error" | "warning" | "info") {
            return Err(ConfigError {
                path: path.to_path_buf(),
                message: format!(
                    "severity of `{code}` must be `error`, `warning` or `info`, not `{level}`"
                ),
                at: None,
            }
            .locate(chain, level));
        }
    }
    Ok(())
}

fn load_raw(path: &Path, chain: &mut Vec<PathBuf>) -> Result<RawConfig, ConfigError> {
    if chain.iter().any(|p| p == path) || chain.len() > 16 {
        return Err(ConfigError {
            path: path.to_path_buf(),
            message: "`extend` forms a cycle".to_string(),
            at: None,
        }
        .locate(&chain[chain.len().saturating_sub(1)..], "extend"));
    }
    chain.push(path.to_path_buf());
    let text = crate::bounded::read_regular(path, MAX_CONFIG_BYTES).map_err(|e| ConfigError {
        path: path.to_path_buf(),
        message: format!("cannot read: it {e} ({MAX_CONFIG_BYTES} bytes at most)"),
        at: None,
    })?;
    let raw = parse_raw(&text, path)?;
    match &raw.extend {
        Some(base) => {
            let base_path = path.parent().unwrap_or(Path::new(".")).join(base);
            let base_raw = load_raw(&base_path, chain)?;
            Ok(merge(base_raw, raw))
        }
        None => Ok(raw),
    }
}

impl Config {
    fn relative<'a>(&self, file: &'a Path) -> &'a Path {
        file.strip_prefix(&self.root).unwrap_or(file)
    }

    /// Codes ignored for this file by `per-file-ignores`.
    pub fn ignored_for(&self, file: &Path) -> Vec<String> {
        let rel = self.relative(file);
        self.per_file_ignores
            .iter()
            .filter(|(g, _)| g.is_match(rel))
            .flat_map(|(_, codes)| codes.clone())
            .collect()
    }

    /// `force-exclude = true`.
    pub fn force_exclude(&self) -> bool {
        self.raw.force_exclude == Some(true)
    }

    pub fn is_excluded(&self, file: &Path) -> bool {
        let rel = self.relative(file);
        self.exclude.as_ref().is_some_and(|g| g.is_match(rel))
            || self.include.as_ref().is_some_and(|g| !g.is_match(rel))
    }

    pub fn kind_for(&self, file: &Path) -> Option<FileKind> {
        let rel = self.relative(file);
        self.kinds
            .iter()
            .find(|(g, _)| g.is_match(rel))
            .map(|(_, k)| *k)
    }

    /// The settings for one file: the file-wide ones with every matching
    /// `[[overrides]]` entry merged over them, in order.
    pub fn raw_for(&self, file: &Path) -> std::borrow::Cow<'_, RawConfig> {
        let rel = self.relative(file);
        let mut matching = self.overrides.iter().filter(|(g, _)| g.is_match(rel));
        let Some((_, first)) = matching.next() else {
            return std::borrow::Cow::Borrowed(&self.raw);
        };
        let mut raw = merge(self.raw.clone(), first.clone());
        for (_, o) in matching {
            raw = merge(raw, o.clone());
        }
        std::borrow::Cow::Owned(raw)
    }

    /// Apply this config to the settings of one file. Selections already in
    /// `s` (the command line's) win over the config's `select`; ignores add.
    /// Returns the settings that applied, for the caller's other keys.
    pub fn apply(
        &self,
        file: &Path,
        s: &mut crate::settings::Settings,
    ) -> std::borrow::Cow<'_, RawConfig> {
        let raw = self.raw_for(file);
        if s.select.is_empty() {
            s.select = raw.select.clone().unwrap_or_default();
        }
        s.extend_select
            .extend(raw.extend_select.iter().flatten().cloned());
        s.ignore.extend(raw.ignore.iter().flatten().cloned());
        s.ignore.extend(self.ignored_for(file));
        for code in raw.severity.iter().flatten().map(|(c, _)| c) {
            if let Some(level) = raw.severity_for(code) {
                s.severity.push((code.clone(), level));
            }
        }
        s.policy = raw.policy();
        if let Some(fix) = &raw.fix {
            s.extend_safe = fix.extend_safe.clone().unwrap_or_default();
            s.extend_unsafe = fix.extend_unsafe.clone().unwrap_or_default();
            s.kustomize_consumers_in_repository =
                fix.kustomize_consumers == Some(KustomizeConsumers::Repository);
        }
        s.options = raw.rules.clone().unwrap_or_default();
        s.knowledge = self.knowledge.clone();
        if self.lock.is_some() {
            s.lock = self.lock.clone();
        }
        raw
    }
}

impl RawConfig {
    /// The registry policy of `[registries]` and `[[rewrite]]`.
    pub fn policy(&self) -> crate::policy::Policy {
        let r = self.registries.clone().unwrap_or_default();
        crate::policy::Policy {
            allow: r.allow.unwrap_or_default(),
            deny: r.deny.unwrap_or_default(),
            proxies: r.proxies.unwrap_or_default(),
            rewrites: self.rewrite.clone().unwrap_or_default(),
        }
    }

    pub fn severity_for(&self, code: &str) -> Option<Severity> {
        let map = self.severity.as_ref()?;
        let best = map
            .iter()
            .filter(|(c, _)| code.starts_with(c.as_str()))
            .max_by_key(|(c, _)| c.len())?;
        Some(match best.1.as_str() {
            "error" => Severity::Error,
            "info" => Severity::Info,
            _ => Severity::Warning,
        })
    }
}

/// Finds the nearest config for each file, caching per folder.
#[derive(Default)]
pub struct Resolver {
    /// `--config`: one file for everything.
    fixed: Option<Arc<Config>>,
    isolated: bool,
    cache: Mutex<HashMap<PathBuf, Option<Arc<Config>>>>,
    /// The same answers by a file's folder as the caller wrote it
    /// (`for_file`), so a file asked for again, or another file of its
    /// folder, costs one lookup, not making its path absolute.
    by_given: Mutex<HashMap<PathBuf, Option<Arc<Config>>>>,
}

impl Resolver {
    pub fn new(config: Option<&Path>, isolated: bool) -> Result<Resolver, ConfigError> {
        let fixed = config.map(load).transpose()?.map(Arc::new);
        Ok(Resolver {
            fixed,
            isolated,
            cache: Mutex::new(HashMap::new()),
            by_given: Mutex::new(HashMap::new()),
        })
    }

    /// The config that applies to `file`, if any.
    pub fn for_file(&self, file: &Path) -> Result<Option<Arc<Config>>, ConfigError> {
        if self.isolated {
            return Ok(None);
        }
        if let Some(c) = &self.fixed {
            return Ok(Some(c.clone()));
        }
        // `absolute(folder/name)` is `absolute(folder)/name` for a name
        // (not `..`), so the answer depends on the folder as written.
        let given = file.file_name().and(file.parent());
        if let Some(given) = given
            && let Ok(known) = self.by_given.lock()
            && let Some(hit) = known.get(given)
        {
            return Ok(hit.clone());
        }
        let absolute = crate::realpath::absolute(file);
        let dir = absolute.parent().map(Path::to_path_buf).unwrap_or_default();
        let found = self.for_dir(&dir)?;
        if let Some(given) = given
            && let Ok(mut known) = self.by_given.lock()
        {
            known.insert(given.to_path_buf(), found.clone());
        }
        Ok(found)
    }

    fn for_dir(&self, dir: &Path) -> Result<Option<Arc<Config>>, ConfigError> {
        if let Ok(cache) = self.cache.lock()
            && let Some(hit) = cache.get(dir)
        {
            return Ok(hit.clone());
        }
        let mut found = None;
        if let Some(name) = crate::marks::of(dir).config {
            found = Some(Arc::new(load(&dir.join(name))?));
        }
        if found.is_none()
            && let Some(parent) = dir.parent()
        {
            found = self.for_dir(parent)?;
        }
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(dir.to_path_buf(), found.clone());
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip() {
        for kind in [
            FileKind::Dockerfile,
            FileKind::Compose,
            FileKind::HelmValues,
            FileKind::Kubernetes,
            FileKind::GithubActions,
            FileKind::GitlabCi,
            FileKind::Kustomize,
            FileKind::DaemonJson,
            FileKind::BuildkitToml,
            FileKind::ContainerdHosts,
            FileKind::RegistriesConf,
            FileKind::Quadlet,
            FileKind::Devcontainer,
            FileKind::Circleci,
            FileKind::BitbucketPipelines,
            FileKind::AzurePipelines,
            FileKind::Bake,
            FileKind::Drone,
            FileKind::Woodpecker,
            FileKind::CloudBuild,
            FileKind::Ko,
            FileKind::Terraform,
            FileKind::HelmChart,
            FileKind::Helmfile,
        ] {
            assert_eq!(parse_kind(kind.as_str()), Some(kind));
        }
    }

    #[test]
    fn unknown_keys_are_errors_with_suggestions() {
        let e = parse_raw("selct = [\"REG\"]\n", Path::new("refit.toml")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "refit.toml:1:1: unknown key `selct` (did you mean `select`?)\n  |\n1 | selct = [\"REG\"]\n  | ^^^^^"
        );
        let e = parse_raw("[fix]\nunsafe-fixs = true\n", Path::new("x/.refit.toml")).unwrap_err();
        assert!(
            e.message
                .contains("unknown key `unsafe-fixs` (did you mean `unsafe-fixes`?)"),
            "{e}"
        );
        let e = parse_raw("completely-different = 1\n", Path::new("refit.toml")).unwrap_err();
        assert_eq!(e.message, "unknown key `completely-different`");
        assert_eq!(e.at.as_ref().map(|a| (a.line, a.column)), Some((1, 1)));
        assert_eq!(suggest_code("REG01"), Some("REG001"));
        assert_eq!(suggest_code("TAGG"), Some("TAG"));
        assert_eq!(suggest_code("XYZ123"), None);
        assert!(parse_raw("select = 3\n", Path::new("refit.toml")).is_err());
    }

    #[test]
    fn discovery_extend_and_globs() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(
            root.join("base.toml"),
            "ignore = [\"TAG001\"]\n[severity]\nREG = \"error\"\n",
        )
        .unwrap();
        std::fs::write(
            root.join("refit.toml"),
            "extend = \"base.toml\"\nextend-exclude = [\"vendor\"]\n[per-file-ignores]\n\"examples/**\" = [\"REG001\"]\n[kinds]\n\"*.containerfile.txt\" = \"dockerfile\"\n",
        )
        .unwrap();
        std::fs::create_dir_all(root.join("deploy")).unwrap();
        std::fs::write(root.join("deploy/.refit.toml"), "select = [\"REG\"]\n").unwrap();
        let r = Resolver::new(None, false).unwrap();
        let top = r
            .for_file(&root.join("examples/web/Dockerfile"))
            .unwrap()
            .unwrap();
        assert_eq!(top.raw.ignore.as_deref(), Some(&["TAG001".to_string()][..]));
        assert_eq!(
            top.ignored_for(&root.join("examples/web/Dockerfile")),
            ["REG001"]
        );
        assert!(top.ignored_for(&root.join("src/Dockerfile")).is_empty());
        assert!(top.is_excluded(&root.join("vendor/x/Dockerfile")));
        assert_eq!(
            top.kind_for(&root.join("a/b.containerfile.txt")),
            Some(FileKind::Dockerfile)
        );
        assert_eq!(top.raw.severity_for("REG003"), Some(Severity::Error));
        let deploy = r
            .for_file(&root.join("deploy/app/Dockerfile"))
            .unwrap()
            .unwrap();
        assert_eq!(deploy.raw.select.as_deref(), Some(&["REG".to_string()][..]));
        assert!(deploy.raw.ignore.is_none(), "the nearest file wins");
        assert!(
            Resolver::new(None, true)
                .unwrap()
                .for_file(&root.join("x"))
                .unwrap()
                .is_none()
        );
        std::fs::write(root.join("bad.toml"), "select = [\"NOPE1\"]\n").unwrap();
        assert!(
            load(&root.join("bad.toml"))
                .unwrap_err()
                .message
                .contains("unknown rule code `NOPE1`")
        );
    }
}
