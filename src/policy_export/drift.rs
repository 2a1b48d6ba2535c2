//! `refit policy check DIR`: deployed policy files, found by kind and name
//! (YAML objects named `refit-image-policy`; other policies are left
//! alone) or by file name, compared with what `refit.toml` exports today. Each difference is one [`Drift`]: a missing or extra registry, a
//! different mirror, a changed rule.

use super::{Export, Format, NAME, Spec, export, yaml};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How deep `check` looks under DIR, and how many files it reads at most.
const MAX_DEPTH: usize = 8;
const MAX_FILES: usize = 10_000;
/// The largest policy file read.
const MAX_BYTES: u64 = 4 * 1024 * 1024;

/// One difference between a deployed file and `refit.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    pub file: PathBuf,
    pub message: String,
}

/// What a deployed or exported policy piece is, to pair them up.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    /// A Kubernetes object: kind and name.
    Object(String, String),
    /// A file known by its (relative for `certs.d`) name.
    File(String),
}

impl Key {
    fn describe(&self) -> String {
        match self {
            Key::Object(kind, name) => format!("{kind} `{name}`"),
            Key::File(name) => format!("`{name}`"),
        }
    }
}

/// One piece: its format, what to compare, and where it came from.
struct Piece {
    format: Format,
    value: Value,
    file: PathBuf,
}

/// The Kubernetes object kinds each admission format exports.
fn format_of_kind(api_version: &str, kind: &str) -> Option<Format> {
    match kind {
        "ValidatingAdmissionPolicy" | "ValidatingAdmissionPolicyBinding"
            if api_version.starts_with("admissionregistration.k8s.io/") =>
        {
            Some(Format::Vap)
        }
        "ClusterPolicy" if api_version.starts_with("kyverno.io/") => Some(Format::Kyverno),
        "K8sAllowedReposv2" | "K8sDisallowedTags" | "K8sImageDigests"
            if api_version.starts_with("constraints.gatekeeper.sh/") =>
        {
            Some(Format::Gatekeeper)
        }
        _ => None,
    }
}

/// The part of a Kubernetes object that the policy decides: its `spec`,
/// without what the API server fills in.
fn object_pieces(text: &str, file: &Path, out: &mut BTreeMap<Key, Piece>) {
    let Some(docs) = yaml::read(text) else {
        return;
    };
    for doc in docs {
        let field = |k: &str| doc.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let (api, kind) = (field("apiVersion"), field("kind"));
        let name = doc
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        // Other policies in the cluster are not refit's to judge.
        let Some(format) = format_of_kind(&api, &kind).filter(|_| name == NAME) else {
            continue;
        };
        out.insert(
            Key::Object(kind, name),
            Piece {
                format,
                value: doc.get("spec").cloned().unwrap_or(Value::Null),
                file: file.to_path_buf(),
            },
        );
    }
}

fn toml_value(text: &str) -> Option<Value> {
    let value: toml::Value = toml::from_str(text).ok()?;
    serde_json::to_value(value).ok()
}

/// The pieces of one file, by its name and content.
fn pieces(relative: &str, text: &str, file: &Path, out: &mut BTreeMap<Key, Piece>) {
    let name = relative.rsplit('/').next().unwrap_or(relative);
    let mut add = |key: String, format: Format, value: Option<Value>| {
        out.insert(
            Key::File(key),
            Piece {
                format,
                value: value.unwrap_or(Value::Null),
                file: file.to_path_buf(),
            },
        );
    };
    match name {
        ".hadolint.yaml" | ".hadolint.yml" => add(
            ".hadolint.yaml".to_string(),
            Format::Hadolint,
            yaml::read(text).and_then(|d| d.into_iter().next()),
        ),
        "daemon.json" => add(
            name.to_string(),
            Format::DaemonJson,
            serde_json::from_str::<Value>(text)
                .ok()
                .map(|v| v.get("registry-mirrors").cloned().unwrap_or(Value::Null)),
        ),
        "buildkitd.toml" => add(
            name.to_string(),
            Format::Buildkitd,
            toml_value(text).map(|v| v.get("registry").cloned().unwrap_or(Value::Null)),
        ),
        "registries.conf" => add(
            name.to_string(),
            Format::RegistriesConf,
            toml_value(text).map(|v| v.get("registry").cloned().unwrap_or(Value::Null)),
        ),
        "hosts.toml" => {
            if let Some(ns) = crate::kind::certs_d_namespace(Path::new(relative)) {
                add(
                    format!("certs.d/{ns}/hosts.toml"),
                    Format::Containerd,
                    toml_value(text),
                );
            }
        }
        _ if name.ends_with(".rego") && text.lines().any(|l| l.trim() == "package docker") => {
            let code: Vec<&str> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .collect();
            add(
                "Dockerfile.rego".to_string(),
                Format::DockerfileRego,
                Some(Value::from(code.join("\n"))),
            );
        }
        _ if name.ends_with(".yaml") || name.ends_with(".yml") => {
            object_pieces(text, file, out);
        }
        _ => {}
    }
}

/// Every regular file under `dir`, to a bounded depth and count, with its
/// path relative to `dir`.
fn walk(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), 0usize)];
    while let Some((folder, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        let mut entries: Vec<_> = entries.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let Ok(ty) = e.file_type() else { continue };
            let path = e.path();
            if ty.is_dir() && depth < MAX_DEPTH {
                stack.push((path, depth + 1));
            } else if ty.is_file() && out.len() < MAX_FILES {
                let relative = path
                    .strip_prefix(dir)
                    .unwrap_or(&path)
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((relative, path));
            }
        }
    }
    out
}

/// The pieces refit would export, for the formats among `formats`.
fn expected(spec: &Spec, formats: &[Format]) -> BTreeMap<Key, Piece> {
    let mut out = BTreeMap::new();
    for &format in formats {
        let Export { files, .. } = export(spec, format);
        for f in files {
            pieces(&f.path, &f.text, Path::new(&f.path), &mut out);
        }
    }
    out
}

/// Compare the policy files under `dir` with `spec`. `Err` when `dir`
/// holds no policy file refit knows.
pub fn check(spec: &Spec, dir: &Path) -> Result<Vec<Drift>, String> {
    let mut deployed = BTreeMap::new();
    for (relative, path) in walk(dir) {
        if let Ok(text) = crate::bounded::read_regular(&path, MAX_BYTES) {
            pieces(&relative, &text, &path, &mut deployed);
        }
    }
    if deployed.is_empty() {
        return Err(format!(
            "{}: no policy file found (admission YAML, .hadolint.yaml, Dockerfile.rego, \
             daemon.json, buildkitd.toml, registries.conf, certs.d/*/hosts.toml)",
            dir.display()
        ));
    }
    let mut formats: Vec<Format> = deployed.values().map(|p| p.format).collect();
    formats.sort();
    formats.dedup();
    let expected = expected(spec, &formats);
    let mut out = Vec::new();
    for (key, want) in &expected {
        match deployed.get(key) {
            None => out.push(Drift {
                file: dir.to_path_buf(),
                message: format!("missing {}: refit.toml exports it", key.describe()),
            }),
            Some(have) => {
                let strict = matches!(key, Key::File(_));
                let mut messages = Vec::new();
                diff(
                    &key.describe(),
                    &want.value,
                    &have.value,
                    strict,
                    &mut messages,
                );
                out.extend(messages.into_iter().map(|message| Drift {
                    file: have.file.clone(),
                    message,
                }));
            }
        }
    }
    for (key, have) in &deployed {
        if !expected.contains_key(key) {
            out.push(Drift {
                file: have.file.clone(),
                message: format!("extra {}: refit.toml no longer exports it", key.describe()),
            });
        }
    }
    Ok(out)
}

fn short(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.chars().count() > 240 {
        let head: String = text.chars().take(237).collect();
        format!("`{head}...`")
    } else {
        format!("`{text}`")
    }
}

/// Entries by their name (`name`, else `message`, `list`, `prefix`,
/// `location`), when every entry has a distinct one.
fn keyed(items: &[Value]) -> Option<Vec<(String, &Value)>> {
    let mut out: Vec<(String, &Value)> = Vec::new();
    for item in items {
        let key = ["name", "message", "list", "prefix", "location"]
            .iter()
            .find_map(|k| item.get(*k).and_then(Value::as_str))?;
        if out.iter().any(|(k, _)| k == key) {
            return None;
        }
        out.push((key.to_string(), item));
    }
    (!out.is_empty()).then_some(out)
}

/// Two long strings cut to where they differ, with a little context.
fn changed(a: &str, b: &str) -> (String, String) {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let cut = |s: &[char]| {
        let start = prefix.saturating_sub(20);
        let end = (s.len() - suffix + 20).min(s.len());
        let mut text: String = s[start..end].iter().collect();
        if text.chars().count() > 160 {
            text = text.chars().take(157).collect::<String>() + "...";
        }
        let head = if start > 0 { "..." } else { "" };
        let tail = if end < s.len() { "..." } else { "" };
        format!("{head}{text}{tail}")
    };
    (cut(&a), cut(&b))
}

/// The differences between what refit exports (`want`) and what is
/// deployed (`have`). Kubernetes objects (`strict = false`) may carry
/// fields the API server defaults; files may not.
fn diff(path: &str, want: &Value, have: &Value, strict: bool, out: &mut Vec<String>) {
    match (want, have) {
        (Value::Object(w), Value::Object(h)) => {
            for (k, wv) in w {
                let at = format!("{path}.{k}");
                match h.get(k) {
                    None => out.push(format!("{at} is missing: refit.toml gives {}", short(wv))),
                    Some(hv) => diff(&at, wv, hv, strict, out),
                }
            }
            if strict {
                for (k, hv) in h {
                    if !w.contains_key(k) {
                        out.push(format!(
                            "{path}.{k} = {} is extra: refit.toml does not give it",
                            short(hv)
                        ));
                    }
                }
            }
        }
        (Value::Array(w), Value::Array(h)) if w.iter().chain(h).all(Value::is_string) => {
            for item in w.iter().filter(|i| !h.contains(i)) {
                out.push(format!("{path}: missing {}", short(item)));
            }
            for item in h.iter().filter(|i| !w.contains(i)) {
                out.push(format!("{path}: extra {}", short(item)));
            }
            let same_set = w.iter().all(|i| h.contains(i)) && h.iter().all(|i| w.contains(i));
            if same_set && w != h {
                out.push(format!(
                    "{path}: the order differs (refit.toml gives {})",
                    short(want)
                ));
            }
        }
        (Value::Array(w), Value::Array(h)) => match (keyed(w), keyed(h)) {
            // Rules and entries with a name (or message) pair up by it, so
            // one rule added does not shift every other.
            (Some(wk), Some(hk)) => {
                for (k, wv) in &wk {
                    match hk.iter().find(|(hkey, _)| hkey == k) {
                        Some((_, hv)) => diff(&format!("{path}[{k}]"), wv, hv, strict, out),
                        None => out.push(format!(
                            "{path}: missing {}",
                            short(&Value::from(k.as_str()))
                        )),
                    }
                }
                for (k, _) in hk.iter().filter(|(k, _)| !wk.iter().any(|(w, _)| w == k)) {
                    out.push(format!("{path}: extra {}", short(&Value::from(k.as_str()))));
                }
            }
            _ => {
                for (i, (wv, hv)) in w.iter().zip(h).enumerate() {
                    diff(&format!("{path}[{i}]"), wv, hv, strict, out);
                }
                if w.len() != h.len() {
                    out.push(format!(
                        "{path} has {} entries, refit.toml gives {}",
                        h.len(),
                        w.len()
                    ));
                }
            }
        },
        (w, h) if w == h => {}
        (Value::String(ws), Value::String(hs)) if path.ends_with("Dockerfile.rego`") => {
            let line = ws
                .lines()
                .zip(hs.lines())
                .find(|(a, b)| a != b)
                .map(|(a, _)| a)
                .or_else(|| ws.lines().nth(hs.lines().count()))
                .unwrap_or("");
            out.push(format!(
                "{path} differs from the exported policy, first at {}",
                short(&Value::from(line))
            ));
        }
        (Value::String(ws), Value::String(hs)) => {
            let (had, gives) = changed(hs, ws);
            out.push(format!("{path} is `{had}`: refit.toml gives `{gives}`"));
        }
        (w, h) => out.push(format!(
            "{path} is {}: refit.toml gives {}",
            short(h),
            short(w)
        )),
    }
}
