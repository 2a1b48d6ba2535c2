//! Registry credentials: Docker's `config.json` (`auths`, `credsStore`,
//! `credHelpers`) and Podman's `auth.json`.
//!
//! A [`Credential`] never prints its secret: `Debug` redacts it, and the
//! client only ever sends it to the host it was stored for (or to the token
//! realm that host's own challenge names).

use base64::Engine;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A user name and a secret (password or identity token).
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    pub username: String,
    secret: String,
    /// Where it came from, for `registry status` (`config.json auths`,
    /// `docker-credential-pass`, …): never the secret.
    pub source: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("username", &self.username)
            .field("secret", &"<redacted>")
            .field("source", &self.source)
            .finish()
    }
}

impl Credential {
    pub fn new(username: String, secret: String, source: String) -> Credential {
        Credential {
            username,
            secret,
            source,
        }
    }

    /// The `Authorization: Basic …` value.
    pub fn basic(&self) -> String {
        let raw = format!("{}:{}", self.username, self.secret);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }

    /// Whether a string contains the secret (for tests and a last guard on
    /// error messages).
    pub fn leaks_into(&self, text: &str) -> bool {
        !self.secret.is_empty() && text.contains(&self.secret)
    }
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuthFile {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default)]
    creds_store: Option<String>,
    #[serde(default)]
    cred_helpers: BTreeMap<String, String>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

/// The credential files refit reads, in order: Docker's config, then
/// Podman's `auth.json` files.
#[derive(Debug, Clone, Default)]
pub struct Store {
    files: Vec<PathBuf>,
}

/// The key Docker stores Docker Hub credentials under.
const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

impl Store {
    /// The files named by the environment, as Docker and Podman find them.
    pub fn from_env() -> Store {
        let mut files = Vec::new();
        if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
            files.push(PathBuf::from(dir).join("config.json"));
        } else if let Some(home) = std::env::var_os("HOME") {
            files.push(PathBuf::from(home).join(".docker").join("config.json"));
        }
        if let Some(file) = std::env::var_os("REGISTRY_AUTH_FILE") {
            files.push(PathBuf::from(file));
        }
        if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR") {
            files.push(PathBuf::from(dir).join("containers").join("auth.json"));
        }
        Store { files }
    }

    pub fn with_files(files: Vec<PathBuf>) -> Store {
        Store { files }
    }

    /// The credential for a registry host (`docker.io` for Docker Hub),
    /// `None` when there is none. Errors of a helper are treated as no
    /// credential (and never show its output).
    pub fn lookup(&self, registry: &str) -> Option<Credential> {
        let hub = registry == "docker.io";
        let keys: Vec<&str> = if hub {
            vec![
                DOCKER_HUB_KEY,
                "docker.io",
                "index.docker.io",
                "registry-1.docker.io",
            ]
        } else {
            vec![registry]
        };
        for path in &self.files {
            let Ok(text) = std::fs::read_to_string(path) else {
                continue;
            };
            let Ok(file) = serde_json::from_str::<AuthFile>(&text) else {
                continue;
            };
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            // credHelpers win for their host, then credsStore, then auths.
            for key in &keys {
                if let Some(helper) = file.cred_helpers.get(*key) {
                    return run_helper(helper, key);
                }
            }
            if let Some(helper) = &file.creds_store
                && !helper.is_empty()
            {
                for key in &keys {
                    if let Some(c) = run_helper(helper, key) {
                        return Some(c);
                    }
                }
            }
            for (key, entry) in &file.auths {
                if keys.iter().any(|k| same_registry(key, k))
                    && let Some(c) = entry_credential(entry, &format!("{name} auths"))
                {
                    return Some(c);
                }
            }
        }
        None
    }
}

/// `https://host/v1/` and `host` name the same registry.
fn same_registry(key: &str, registry: &str) -> bool {
    let strip = |s: &str| {
        let s = s
            .strip_prefix("https://")
            .or_else(|| s.strip_prefix("http://"))
            .unwrap_or(s);
        s.split('/').next().unwrap_or(s).to_ascii_lowercase()
    };
    strip(key) == strip(registry)
}

fn entry_credential(entry: &AuthEntry, source: &str) -> Option<Credential> {
    if let Some(token) = entry.identitytoken.as_ref().filter(|t| !t.is_empty()) {
        return Some(Credential::new(
            "<token>".to_string(),
            token.clone(),
            source.to_string(),
        ));
    }
    if let (Some(u), Some(p)) = (&entry.username, &entry.password) {
        return Some(Credential::new(u.clone(), p.clone(), source.to_string()));
    }
    let raw = entry.auth.as_ref()?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(raw.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (u, p) = decoded.split_once(':')?;
    Some(Credential::new(
        u.to_string(),
        p.to_string(),
        source.to_string(),
    ))
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HelperReply {
    username: String,
    secret: String,
}

/// Run `docker-credential-<helper> get` with the server on stdin, as Docker
/// does.
fn run_helper(helper: &str, server: &str) -> Option<Credential> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    if !helper
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
    {
        return None;
    }
    let program = format!("docker-credential-{helper}");
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(server.as_bytes());
    }
    let out = child.wait_with_output().ok()?;
    if !out.status.success() {
        return None;
    }
    let reply: HelperReply = serde_json::from_slice(&out.stdout).ok()?;
    let username = if reply.username == "<token>" {
        "<token>".to_string()
    } else {
        reply.username
    };
    Some(Credential::new(username, reply.secret, program))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let c = Credential::new("u".into(), "hunter2".into(), "x".into());
        assert!(!format!("{c:?}").contains("hunter2"));
        assert!(c.leaks_into("a hunter2 b"));
    }

    #[test]
    fn reads_auths_and_matches_hub_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            r#"{"auths":{"https://index.docker.io/v1/":{"auth":"dTpw"},"127.0.0.1:5000":{"username":"a","password":"b"}}}"#,
        )
        .unwrap();
        let store = Store::with_files(vec![path]);
        let hub = store.lookup("docker.io").unwrap();
        assert_eq!(hub.username, "u");
        assert_eq!(hub.basic(), "Basic dTpw");
        assert_eq!(store.lookup("127.0.0.1:5000").unwrap().username, "a");
        assert!(store.lookup("ghcr.io").is_none());
    }
}
