//! How Podman, Buildah and CRI-O would resolve a short name (`node:20`),
//! from a `registries.conf` the repository ships (`containers/registries.conf`,
//! `registries.conf.d/*.conf`). Docker, BuildKit and containerd always read
//! a short name as Docker Hub; the containers tools read `[aliases]` first,
//! then `unqualified-search-registries` in order. Their shipped
//! `shortnames.conf` aliases the Docker Official Image names to
//! `docker.io/library/`, so without a configuration of the repository's own
//! both readings agree. When the repository's configuration can send a
//! short name elsewhere, qualifying it as Docker Hub is not a safe fix.

use crate::facts::ShortNames;

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
