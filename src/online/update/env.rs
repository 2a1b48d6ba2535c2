//! `refit update` through the `.env` beside a Compose file: the edits
//! planned per file, then applied per `.env` file after
//! [`crate::online::dotenv_edit::check_group`].

use super::{FileUpdate, Loaded, Status};
use crate::diagnostic::Edit;
use crate::kind::FileKind;
use crate::settings::Settings;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// An edit of the `.env` file beside a Compose file, waiting for
/// [`crate::online::dotenv_edit::check_group`].
pub(super) struct PendingEnv {
    pub(super) env: PathBuf,
    pub(super) edit: Edit,
    /// The site (in its file) and the reference it must read as.
    pub(super) site: usize,
    pub(super) expected: String,
    /// The item (in its file's items).
    pub(super) item: usize,
    /// The `.env` text the edit was planned on: applied to the same text.
    pub(super) text: std::sync::Arc<str>,
}

/// A Compose file's `.env` (its path and text) and its source options.
pub(super) fn env_of(l: &Loaded) -> Option<(PathBuf, String, crate::sources::SourceOptions)> {
    if l.target.kind != FileKind::Compose {
        return None;
    }
    let path = l.target.path.parent()?.join(".env");
    let text = read_env(&path)?;
    let settings = Settings::default();
    let options = crate::workspace::Workspace::shared().source_options(
        &l.target.path,
        l.target.kind,
        crate::check::options(&settings),
    );
    Some((path, text, options))
}

/// Apply the `.env` edits, one `.env` file at a time, after reading every
/// Compose file beside it with all of them ([`super::dotenv_edit`]); the
/// `.env` file joins the outcome's files, or its items are left alone
/// with the reason. `base`: where `loaded`'s files start in `files`.
pub(super) fn apply_env_edits(
    loaded: &[Loaded],
    files: &mut Vec<FileUpdate>,
    base: usize,
    pending: Vec<(usize, PendingEnv)>,
) {
    let mut groups: BTreeMap<PathBuf, Vec<(usize, PendingEnv)>> = BTreeMap::new();
    for (fi, p) in pending {
        groups.entry(p.env.clone()).or_default().push((fi, p));
    }
    for (env, group) in groups {
        // Every edit was planned on one reading of the file; two Compose
        // files that read it at different moments may have seen it change.
        let Some(env_text) = group.first().map(|(_, p)| p.text.to_string()) else {
            continue;
        };
        if group.iter().any(|(_, p)| *p.text != *env_text) {
            skip_group(files, base, &group, "the .env file changed during the run");
            continue;
        }
        let settings = Settings::default();
        let readers_options: Vec<(usize, crate::sources::SourceOptions)> = loaded
            .iter()
            .enumerate()
            .filter(|(_, l)| {
                l.target.kind == FileKind::Compose
                    && l.target.path.parent().map(|d| d.join(".env")).as_ref() == Some(&env)
            })
            .map(|(i, l)| {
                (
                    i,
                    crate::workspace::Workspace::shared().source_options(
                        &l.target.path,
                        l.target.kind,
                        crate::check::options(&settings),
                    ),
                )
            })
            .collect();
        let readers: Vec<crate::online::dotenv_edit::Reader> = readers_options
            .iter()
            .filter_map(|(i, options)| {
                let l = loaded.get(*i)?;
                Some(crate::online::dotenv_edit::Reader {
                    display: &l.target.display,
                    text: &l.text,
                    options,
                    sites: &l.sites,
                    expected: group
                        .iter()
                        .filter(|(fi, _)| fi == i)
                        .map(|(_, p)| (p.site, p.expected.clone()))
                        .collect(),
                })
            })
            .collect();
        let edits: Vec<Edit> = group.iter().map(|(_, p)| p.edit.clone()).collect();
        match crate::online::dotenv_edit::check_group(&env_text, &edits, &readers) {
            Ok(fixed) => {
                let display = group
                    .first()
                    .and_then(|(fi, _)| loaded.get(*fi))
                    .map(|l| {
                        std::path::Path::new(&l.target.display)
                            .with_file_name(".env")
                            .display()
                            .to_string()
                    })
                    .unwrap_or_else(|| env.display().to_string());
                files.push(FileUpdate {
                    display,
                    path: env.clone(),
                    kind: FileKind::Compose,
                    fixed: (fixed != env_text).then_some(fixed),
                    original: env_text,
                    items: Vec::new(),
                    error: None,
                });
            }
            Err(why) => skip_group(files, base, &group, &why),
        }
    }
}

/// Leave every item of a `.env` group alone, with the reason.
fn skip_group(files: &mut [FileUpdate], base: usize, group: &[(usize, PendingEnv)], why: &str) {
    for (fi, p) in group {
        if let Some(item) = files
            .get_mut(base + fi)
            .and_then(|f| f.items.get_mut(p.item))
        {
            item.status = Status::Skipped(why.to_string());
            item.to = None;
            for f in &mut item.findings {
                f.fixed = false;
            }
        }
    }
}

/// A `.env` file's text, read only when it resolves inside the
/// repository root (a link out of the repository is not read, so nothing
/// of an outside file reaches a diff), at most `MAX_ENV_BYTES`.
fn read_env(path: &std::path::Path) -> Option<String> {
    let root = crate::write::root_of(path);
    let real = crate::bounded::inside(&root, path).ok()?;
    crate::bounded::read_regular(&real, crate::online::dotenv_edit::MAX_ENV_BYTES).ok()
}
