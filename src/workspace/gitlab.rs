//! GitLab CI: the variables a `.gitlab-ci.yml` sees through `include: local:`,
//! `extends:` and `default:`.

use super::*;

/// The `variables:` of the local files a GitLab CI file includes
/// (`include: local: …`, `include: path.yml`, lists of either), following
/// their own includes to a bounded depth; later files win, as in GitLab.
pub fn gitlab_included_variables(file: &Path, root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut seen = BTreeSet::new();
    include_into(file, root, 0, &mut seen, &mut out);
    out
}

pub(super) fn include_into(
    file: &Path,
    root: &Path,
    depth: usize,
    seen: &mut BTreeSet<PathBuf>,
    out: &mut BTreeMap<String, String>,
) {
    use crate::sources::yaml::Node;
    if depth > 4 || seen.len() > 64 || !seen.insert(file.to_path_buf()) {
        return;
    }
    let Some(text) = read(root, file) else { return };
    // Only an `include:` brings variables in: a file that does not say
    // the word is not parsed.
    if !text.contains("include") {
        return;
    }
    // The file itself is parsed as its check will parse it (`parse_shared`
    // keeps the tree on this thread for that check); an included file is
    // parsed after it and must not take its place.
    let parsed = if depth == 0 {
        crate::sources::yaml::parse_shared(&text)
    } else {
        crate::sources::yaml::parse(&text).map(std::rc::Rc::new)
    };
    let Ok(docs) = parsed else {
        return;
    };
    for doc in docs.iter() {
        let top = doc.resolve(&doc.root);
        let Some(include) = doc.get(top, "include") else {
            continue;
        };
        let items: Vec<&Node> = match doc.resolve(include) {
            Node::Seq(..) => doc.items(include),
            other => vec![other],
        };
        for item in items {
            let local = match doc.resolve(item) {
                Node::Scalar(s) if !s.value.contains("://") => Some(s.value.clone()),
                map @ Node::Map(..) => doc.get_scalar(map, "local").map(|s| s.value.clone()),
                _ => None,
            };
            let Some(local) = local else { continue };
            // Wildcards and variables are not followed.
            if local.contains(['*', '$']) {
                continue;
            }
            let path = root.join(local.trim_start_matches('/'));
            include_into(&path, root, depth + 1, seen, out);
            let Some(included) = read(root, &path) else {
                continue;
            };
            let Ok(idocs) = crate::sources::yaml::parse(&included) else {
                continue;
            };
            for idoc in &idocs {
                let iroot = idoc.resolve(&idoc.root);
                if let Some(vars) = idoc.get(iroot, "variables") {
                    for (k, v) in idoc.entries(vars) {
                        let value = match idoc.resolve(v) {
                            Node::Scalar(s) => Some(s.value.clone()),
                            m @ Node::Map(..) => {
                                idoc.get_scalar(m, "value").map(|s| s.value.clone())
                            }
                            _ => None,
                        };
                        if let Some(value) = value {
                            out.insert(k.to_string(), value);
                        }
                    }
                }
            }
        }
    }
}
