//! How Podman, Buildah and CRI-O would resolve a short name (`node:20`),
//! from a `registries.conf` the repository ships (`containers/registries.conf`,
//! `registries.conf.d/*.conf`). Docker, BuildKit and containerd always read
//! a short name as Docker Hub; the containers tools read `[aliases]` first,
//! then `unqualified-search-registries` in order. Their shipped
//! `shortnames.conf` aliases the Docker Official Image names to
//! `docker.io/library/`, so without a configuration of the repository's own
//! both readings agree. When the repository's configuration can send a
//! short name elsewhere, qualifying it as Docker Hub is not a safe fix.

use std::collections::BTreeMap;

/// What the repository's `registries.conf` files say about short names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShortNames {
    /// `[aliases]`: short name → fully qualified name.
    pub aliases: BTreeMap<String, String>,
    /// `unqualified-search-registries` (or the v1 `[registries.search]`).
    pub search: Vec<String>,
    /// The files read, for messages (repository-relative).
    pub files: Vec<String>,
    /// Why the containers tools, not Docker, read the file (a
    /// `Containerfile`, a `podman build` in a script): then the build
    /// machine's own `registries.conf` decides unless the repository pins
    /// Docker Hub.
    pub built_by: Option<String>,
}

/// The folder a `registries.conf` configures: the folder holding it, above
/// the conventional `etc/containers/`, `containers/`, `registries.conf.d/`
/// and `.devcontainer/` folders. It applies to the files under that folder
/// only, so an example configuration deep in a repository does not change
/// how the rest of it is read.
pub fn owner(conf: &std::path::Path) -> std::path::PathBuf {
    let mut dir = conf.parent().unwrap_or(conf).to_path_buf();
    while let Some(name) = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
    {
        if !["registries.conf.d", "containers", "etc", ".devcontainer"].contains(&name.as_str()) {
            break;
        }
        if !dir.pop() {
            break;
        }
    }
    dir
}

/// Whether a file name is a containers `registries.conf` (or a drop-in).
pub fn is_registries_conf(path: &std::path::Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    name == "registries.conf"
        || name == "shortnames.conf"
        || (name.ends_with(".conf")
            && path
                .parent()
                .and_then(|p| p.file_name())
                .is_some_and(|p| p == "registries.conf.d"))
}

impl ShortNames {
    /// Add what another (deeper) configuration says: its aliases win, and
    /// its search list replaces the one before.
    pub fn merge(&mut self, other: &ShortNames) {
        for (k, v) in &other.aliases {
            self.aliases.insert(k.clone(), v.clone());
        }
        if !other.search.is_empty() {
            self.search = other.search.clone();
        }
        self.files.extend(other.files.iter().cloned());
    }

    /// Read one file (TOML); a file that does not parse adds nothing.
    pub fn read(&mut self, display: &str, text: &str) {
        let Ok(doc) = toml::from_str::<toml::Table>(text) else {
            return;
        };
        let mut used = false;
        if let Some(aliases) = doc.get("aliases").and_then(toml::Value::as_table) {
            for (k, v) in aliases {
                if let Some(v) = v.as_str() {
                    self.aliases.insert(k.clone(), v.to_string());
                    used = true;
                }
            }
        }
        let search = doc
            .get("unqualified-search-registries")
            .and_then(toml::Value::as_array)
            .or_else(|| {
                doc.get("registries")
                    .and_then(|r| r.get("search"))
                    .and_then(|s| s.get("registries"))
                    .and_then(toml::Value::as_array)
            });
        if let Some(list) = search {
            // A later file replaces the list, as drop-ins do.
            self.search = list
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            used = true;
        }
        if used {
            self.files.push(display.to_string());
        }
    }

    /// Where the containers tools would pull a short name from, when that
    /// may not be Docker Hub: `Some(why)`; `None` when they agree with
    /// Docker (`name` is the repository path without tag, as written).
    pub fn elsewhere(&self, name: &str) -> Option<String> {
        let hub = if name.contains('/') {
            format!("docker.io/{name}")
        } else {
            format!("docker.io/library/{name}")
        };
        let alias = self.aliases.get(name).or_else(|| {
            name.strip_prefix("library/")
                .and_then(|n| self.aliases.get(n))
        });
        if let Some(target) = alias {
            let target = target.trim_end_matches('/');
            return (target != hub).then(|| {
                format!(
                    "an alias in {} sends `{name}` to `{target}`",
                    self.files.join(", ")
                )
            });
        }
        match self.search.as_slice() {
            [] => self.built_by.as_ref().map(|by| {
                format!(
                    "{by}, and the host's `registries.conf` decides where `{name}` comes from (the repository pins no search registry)"
                )
            }),
            [only] if only == "docker.io" => None,
            [first, ..] if first != "docker.io" => Some(format!(
                "{} searches `{first}` first for short names",
                self.files.join(", ")
            )),
            list => Some(format!(
                "{} searches {} registries for short names ({})",
                self.files.join(", "),
                list.len(),
                list.join(", ")
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_and_search_lists() {
        let mut s = ShortNames::default();
        assert_eq!(s.elsewhere("node"), None);
        s.read(
            "registries.conf",
            "unqualified-search-registries = [\"docker.io\"]\n[aliases]\n\"node\" = \"docker.io/library/node\"\n\"python\" = \"quay.io/corp/python\"\n",
        );
        assert_eq!(s.elsewhere("node"), None);
        assert_eq!(s.elsewhere("redis"), None);
        assert!(
            s.elsewhere("python")
                .is_some_and(|w| w.contains("quay.io/corp/python"))
        );
        let mut v1 = ShortNames::default();
        v1.read(
            "registries.conf",
            "[registries.search]\nregistries = ['quay.io', 'docker.io']\n",
        );
        assert!(
            v1.elsewhere("redis")
                .is_some_and(|w| w.contains("`quay.io` first"))
        );
        let mut two = ShortNames::default();
        two.read(
            "registries.conf",
            "unqualified-search-registries = [\"docker.io\", \"quay.io\"]\n",
        );
        assert!(two.elsewhere("redis").is_some());
        // A file the containers tools build: unsafe unless pinned.
        let podman = ShortNames {
            built_by: Some("`build.sh` builds it with Podman or Buildah".into()),
            ..ShortNames::default()
        };
        assert!(
            podman
                .elsewhere("node")
                .is_some_and(|w| w.contains("pins no search registry"))
        );
        let mut pinned = podman.clone();
        pinned.read(
            "registries.conf",
            "unqualified-search-registries = [\"docker.io\"]\n",
        );
        assert_eq!(pinned.elsewhere("node"), None);
        let mut aliased = podman.clone();
        aliased.read(
            "registries.conf",
            "[aliases]\n\"node\" = \"docker.io/library/node\"\n",
        );
        assert_eq!(aliased.elsewhere("node"), None);
        assert!(aliased.elsewhere("redis").is_some());
        let mut broken = ShortNames::default();
        broken.read("registries.conf", "not toml [");
        assert_eq!(broken, ShortNames::default());
        assert!(is_registries_conf(std::path::Path::new(
            "etc/containers/registries.conf"
        )));
        assert!(is_registries_conf(std::path::Path::new(
            "x/registries.conf.d/10-mirror.conf"
        )));
        assert!(!is_registries_conf(std::path::Path::new("nginx/site.conf")));
        assert_eq!(
            owner(std::path::Path::new("/r/etc/containers/registries.conf")),
            std::path::Path::new("/r")
        );
        assert_eq!(
            owner(std::path::Path::new("/r/ci/registries.conf.d/1.conf")),
            std::path::Path::new("/r/ci")
        );
    }
}
