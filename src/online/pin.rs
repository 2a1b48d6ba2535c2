//! The pin engine: resolve every reference's tag to a digest and write it
//! as `name:tag@sha256:…`, keeping the tag for people to read.

use super::client::Failure;
use super::lock::{Entry, Lock, rfc3339};
use super::platforms::Wanted;
use super::resolve::{Resolved, Resolver, Want};
use super::verify::{Pin, Verdict, Verification, record, verify_all};
use crate::diagnostic::{Edit, LineIndex};
use crate::discover::Target;
use crate::kind::FileKind;
use crate::settings::Settings;
use crate::site::{ImageSite, SiteKind, Span};
use std::collections::HashMap;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinMode {
    /// Add digests where there are none; leave existing pins alone.
    Pin,
    /// Write nothing; report unpinned references and stale pins.
    Check,
    /// Add digests and refresh stale pins.
    Update,
}

#[derive(Debug, Clone)]
pub struct PinOptions {
    pub mode: PinMode,
    /// Pin one platform's manifest (`linux/arm64`) instead of the index.
    pub platform: Option<String>,
    /// Resolve index platforms (for the lock file).
    pub detailed: bool,
}

/// What became of one reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// A digest was added (or would be, with `--dry-run`).
    Pinned { digest: String },
    /// Already pinned to the current digest (or to one platform of it).
    Current,
    /// The pin is stale: the tag now points elsewhere. `updated` when the
    /// new digest was written.
    Stale {
        old: String,
        new: String,
        updated: bool,
    },
    /// No digest (`--check`).
    Unpinned { digest: String },
    /// The pinned digest is no longer served (REF006). `new`: the tag's
    /// current digest, when there is a tag and it resolves; `updated` when
    /// it was written (`--update`).
    Vanished {
        old: String,
        new: Option<String>,
        updated: bool,
    },
    /// The pin is one platform's manifest of the multi-platform index
    /// the tag points to (REF007), and no `--platform` asked for that.
    /// `updated` when the index's digest was written (`--update`).
    PlatformPin {
        old: String,
        index: String,
        platform: String,
        updated: bool,
    },
    /// Not pinned, and why.
    Skipped(String),
    /// The registry could not resolve it.
    Failed(Failure),
}

#[derive(Debug, Clone)]
pub struct Item {
    /// 1-based line of the site.
    pub line: usize,
    /// The reference as written at the site.
    pub written: String,
    /// The normalized reference asked (`docker.io/library/alpine:3.20`).
    pub reference: String,
    pub status: Status,
    /// The platform a platform-specific pin is for.
    pub platform: Option<String>,
    /// The host that answered (a mirror or the registry).
    pub host: Option<String>,
    /// The digest came from the digest cache of an earlier run: the
    /// registry was not asked.
    pub from_cache: bool,
    /// Platforms the repository builds this `FROM` for that the image
    /// does not offer (REF009), one message each.
    pub missing_platforms: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct FilePin {
    pub display: String,
    pub path: PathBuf,
    pub kind: FileKind,
    pub original: String,
    /// The pinned text, when it changed.
    pub fixed: Option<String>,
    pub items: Vec<Item>,
    /// A reason the file was not read or its edits were refused.
    pub error: Option<String>,
}

#[derive(Debug, Default)]
pub struct PinOutcome {
    pub files: Vec<FilePin>,
    /// Every reference that resolved, for `refit.lock`.
    pub entries: Vec<Entry>,
    /// What was verified about the pins the files write (`[[verified]]`).
    pub verified: Vec<super::lock::Verified>,
}

impl PinOutcome {
    pub fn items(&self) -> impl Iterator<Item = (&FilePin, &Item)> {
        self.files
            .iter()
            .flat_map(|f| f.items.iter().map(move |i| (f, i)))
    }
    pub fn failed(&self) -> bool {
        self.files.iter().any(|f| f.error.is_some())
            || self.items().any(|(_, i)| {
                matches!(
                    i.status,
                    Status::Failed(_) | Status::Vanished { new: None, .. }
                )
            })
    }
    /// For `--check`: unpinned or stale.
    pub fn needs_work(&self) -> bool {
        self.items().any(|(_, i)| {
            matches!(
                i.status,
                Status::Unpinned { .. }
                    | Status::Stale { updated: false, .. }
                    | Status::Vanished { updated: false, .. }
                    | Status::PlatformPin { updated: false, .. }
            )
        })
    }
}

struct Loaded {
    target: Target,
    text: String,
    sites: Vec<ImageSite>,
}

/// Whether a site names an image that can be pinned. Helm charts
/// (`Chart.yaml` dependencies, helmfile releases, Flux sources) are not:
/// their digests live in `Chart.lock` or in a `ref.digest` key, never
/// beside the reference, so refit neither asks for them nor edits them.
pub(super) fn pinnable(site: &ImageSite) -> bool {
    site.reference().is_some()
        && !site.extra.build_output
        && !matches!(
            site.kind,
            SiteKind::DaemonMirror
                | SiteKind::HelmChartDependency
                | SiteKind::Helmfile
                | SiteKind::Flux
        )
}

/// Read the targets, resolve each distinct reference once, and compute
/// the pinned texts (writing nothing).
pub fn plan(targets: Vec<Target>, resolver: &Resolver, options: &PinOptions) -> PinOutcome {
    let settings = Settings::default();
    let mut loaded = Vec::new();
    let mut outcome = PinOutcome::default();
    for target in targets {
        // The checked files' reader: regular files only, bounded on the
        // read itself.
        let text = crate::engine::read_capped(&target.path, crate::engine::DEFAULT_MAX_FILE_SIZE)
            .and_then(crate::engine::decode)
            .map_err(|d| d.message);
        let input = crate::workspace::Workspace::shared().source_options(
            &target.path,
            target.kind,
            crate::check::options(&settings),
        );
        let sites = text.as_ref().map_err(Clone::clone).and_then(|t| {
            crate::check::extract_with_notes(target.kind, t, &input)
                .map(|(sites, _)| sites)
                .map_err(|d| d.message)
        });
        match (text, sites) {
            (Ok(text), Ok(sites)) => loaded.push(Loaded {
                target,
                text,
                sites,
            }),
            (text, sites) => {
                let error = sites.err().unwrap_or_else(|| "cannot read".to_string());
                outcome.files.push(FilePin {
                    display: target.display.clone(),
                    path: target.path.clone(),
                    kind: target.kind,
                    original: text.unwrap_or_default(),
                    fixed: None,
                    items: Vec::new(),
                    error: Some(error),
                });
            }
        }
    }
    let detailed = options.detailed || options.platform.is_some();
    let wants: Vec<Want> = loaded
        .iter()
        .flat_map(|l| l.sites.iter())
        .filter(|s| pinnable(s))
        .filter_map(|s| s.reference().map(|r| Want::of(r, detailed)))
        .collect();
    let results = resolver.resolve_all(&wants);
    // The platforms each `FROM` is built for (REF009).
    let files: Vec<super::platforms::FileText> = loaded
        .iter()
        .map(|l| super::platforms::FileText {
            kind: l.target.kind,
            display: &l.target.display,
            text: Some(&l.text),
            path: Some(&l.target.path),
        })
        .collect();
    let repository = super::platforms::repository_platforms(&files);
    let wanted: Vec<Vec<Vec<Wanted>>> = files
        .iter()
        .zip(&loaded)
        .map(|(f, l)| super::platforms::site_platforms(f, &l.sites, &repository))
        .collect();
    // Verified pins: every digest the files write, asked by itself; with
    // the platforms it offers where a `FROM` is built for a platform.
    let mut pins: Vec<(Pin, bool)> = Vec::new();
    let mut tags: Vec<Want> = Vec::new();
    for (l, wanted) in loaded.iter().zip(&wanted) {
        for (site, wanted) in l.sites.iter().zip(wanted) {
            let Some(reference) = site.reference().filter(|_| pinnable(site)) else {
                continue;
            };
            match Pin::of(reference) {
                Some(p) => pins.push((p, !wanted.is_empty())),
                None if !wanted.is_empty() && reference.tag_str().is_some() => {
                    tags.push(Want::of(reference, true));
                }
                None => {}
            }
        }
    }
    let verified = verify_all(resolver, &results, &pins);
    let offered = super::verify::tag_platforms_all(resolver, &results, &tags);
    let mut records: Vec<super::lock::Verified> = verified
        .iter()
        .filter_map(|((pin, _), v)| v.as_ref().ok().map(|v| record(pin, v)))
        .collect();
    records.sort_by(|a, b| (&a.reference, &a.digest).cmp(&(&b.reference, &b.digest)));
    records.dedup_by(|a, b| a.reference == b.reference && a.digest == b.digest);
    outcome.verified = records;
    let mut entries: HashMap<String, Entry> = HashMap::new();
    for (want, r) in &results {
        if want.by_digest() {
            continue;
        }
        if let Ok(r) = r {
            entries.insert(
                want.key(),
                Entry {
                    reference: want.key(),
                    digest: r.digest.clone(),
                    media_type: r.media_type.clone(),
                    platforms: r.platforms(),
                    registry: r.host.clone(),
                    resolved: rfc3339(r.resolved_at),
                },
            );
        }
    }
    let mut entries: Vec<Entry> = entries.into_values().collect();
    entries.sort_by(|a, b| a.reference.cmp(&b.reference));
    outcome.entries = entries;
    for (l, wanted) in loaded.into_iter().zip(wanted) {
        let checks = Checks {
            verified: &verified,
            offered: &offered,
            wanted: &wanted,
        };
        outcome
            .files
            .push(plan_file(l, &results, &checks, options, detailed));
    }
    outcome.files.sort_by(|a, b| a.display.cmp(&b.display));
    outcome
}

/// The digest to pin and the platform it is for.
fn target_digest(
    resolved: &Resolved,
    platform: Option<&str>,
) -> Result<(String, Option<String>), String> {
    match platform {
        Some(p) if resolved.is_index() => resolved
            .platform_digest(p)
            .map(|d| (d.to_string(), Some(p.to_string())))
            .ok_or_else(|| format!("the index has no `{p}` manifest")),
        _ => Ok((resolved.digest.clone(), None)),
    }
}

type Verified = HashMap<(Pin, bool), Result<Verification, Failure>>;

/// What verifying a file's pins and platforms found.
struct Checks<'a> {
    verified: &'a Verified,
    /// The platforms unpinned tags offer.
    offered: &'a HashMap<Want, Result<Vec<String>, Failure>>,
    /// Per site: the platforms it is built for.
    wanted: &'a [Vec<Wanted>],
}

fn plan_file(
    l: Loaded,
    results: &HashMap<Want, Result<Resolved, Failure>>,
    checks: &Checks,
    options: &PinOptions,
    detailed: bool,
) -> FilePin {
    let verified = checks.verified;
    let lines = LineIndex::new(&l.text);
    let mut items = Vec::new();
    let mut edits: Vec<(usize, Edit, String)> = Vec::new();
    for (index, site) in l.sites.iter().enumerate() {
        if !pinnable(site) {
            continue;
        }
        let Some(reference) = site.reference() else {
            continue;
        };
        let want = Want::of(reference, detailed);
        let mut item = Item {
            line: lines.line_of(site.span.start) + 1,
            written: site.raw.clone(),
            reference: want.key(),
            status: Status::Current,
            platform: None,
            host: None,
            from_cache: false,
            missing_platforms: Vec::new(),
        };
        let wanted = checks.wanted.get(index).map_or(&[][..], Vec::as_slice);
        let pin = Pin::of(reference);
        let verification = pin
            .as_ref()
            .and_then(|p| verified.get(&(p.clone(), !wanted.is_empty())))
            .and_then(|v| v.as_ref().ok());
        if !wanted.is_empty() {
            let offered = match &pin {
                Some(_) => verification.map(|v| v.platforms.clone()),
                None => checks
                    .offered
                    .get(&Want::of(reference, true))
                    .and_then(|o| o.as_ref().ok())
                    .cloned(),
            };
            if let Some(offered) = offered {
                item.missing_platforms =
                    super::platforms::missing_platform_findings(site, wanted, &offered)
                        .into_iter()
                        .map(|d| match d.help {
                            Some(h) => format!("{} ({h})", d.message),
                            None => d.message,
                        })
                        .collect();
            }
        }
        // A platform's manifest of the tag's index, where no `--platform`
        // asked for one: REF007, repaired by pinning the index.
        if options.platform.is_none()
            && let (Some(pin), Some(v)) = (&pin, verification)
            && let Verdict::PlatformOfIndex {
                platform,
                index: digest,
            } = &v.verdict
        {
            let write = options.mode == PinMode::Update;
            item.platform = Some(platform.clone());
            item.status = Status::PlatformPin {
                old: pin.digest.clone(),
                index: digest.clone(),
                platform: platform.clone(),
                updated: write,
            };
            if write {
                match edit_for(&l, index, site, digest) {
                    Ok((edit, expected)) => edits.push((index, edit, expected)),
                    Err(why) => item.status = Status::Skipped(why),
                }
            }
            items.push(item);
            continue;
        }
        if let Some(pin) = &pin
            && let Some(v) = verification
            && let Verdict::Vanished { current, .. } = &v.verdict
        {
            // The tag's digest for the requested platform, else the tag's.
            let new = match results.get(&want) {
                Some(Ok(r)) if !want.by_digest() => {
                    item.host = Some(r.host.clone());
                    target_digest(r, options.platform.as_deref())
                        .ok()
                        .map(|(d, p)| {
                            item.platform = p;
                            d
                        })
                }
                _ => current.clone(),
            };
            let write = options.mode == PinMode::Update && new.is_some();
            item.status = Status::Vanished {
                old: pin.digest.clone(),
                new: new.clone(),
                updated: write,
            };
            if let (true, Some(new)) = (write, &new) {
                match edit_for(&l, index, site, new) {
                    Ok((edit, expected)) => edits.push((index, edit, expected)),
                    Err(why) => item.status = Status::Skipped(why),
                }
            }
            items.push(item);
            continue;
        }
        let resolved = match results.get(&want) {
            Some(Ok(r)) => r,
            Some(Err(e)) => {
                item.status = Status::Failed(e.clone());
                items.push(item);
                continue;
            }
            None => {
                item.status = Status::Failed(Failure::Invalid("not asked".to_string()));
                items.push(item);
                continue;
            }
        };
        item.host = Some(resolved.host.clone());
        item.from_cache = resolved.from_cache;
        if want.by_digest() {
            // No tag to follow: the digest exists, and stays.
            items.push(item);
            continue;
        }
        let (target, platform) = match target_digest(resolved, options.platform.as_deref()) {
            Ok(t) => t,
            Err(why) => {
                item.status = Status::Skipped(why);
                items.push(item);
                continue;
            }
        };
        item.platform = platform;
        let existing = reference.digest_str().map(str::to_string);
        let new_digest = match &existing {
            None if options.mode == PinMode::Check => {
                // What `refit pin` could not write is not work left to do
                // (a Helm map no template reads a digest from): say why.
                item.status = match edit_for(&l, index, site, &target) {
                    Ok(_) => Status::Unpinned { digest: target },
                    Err(why) => Status::Skipped(why),
                };
                items.push(item);
                continue;
            }
            None => target,
            Some(old) if *old == target => {
                items.push(item);
                continue;
            }
            // A stale pin moves to the tag's digest: the index's (a
            // platform's manifest only with `--platform`), as REF007 wants.
            Some(_) => target,
        };
        let write = existing.is_none() || options.mode == PinMode::Update;
        item.status = match &existing {
            None => Status::Pinned {
                digest: new_digest.clone(),
            },
            Some(old) => Status::Stale {
                old: old.clone(),
                new: new_digest.clone(),
                updated: write,
            },
        };
        if write {
            match edit_for(&l, index, site, &new_digest) {
                Ok((edit, expected)) => edits.push((index, edit, expected)),
                Err(why) => item.status = Status::Skipped(why),
            }
        }
        items.push(item);
    }
    let mut file = FilePin {
        display: l.target.display.clone(),
        path: l.target.path.clone(),
        kind: l.target.kind,
        original: l.text.clone(),
        fixed: None,
        items,
        error: None,
    };
    if edits.is_empty() {
        return file;
    }
    // One edit per span (sites sharing an ARG get the same edit).
    let mut plain: Vec<Edit> = edits.iter().map(|(_, e, _)| e.clone()).collect();
    plain.sort_by_key(|e| (e.span.start, e.span.end));
    plain.dedup();
    if plain
        .windows(2)
        .any(|w| w[0].span.end > w[1].span.start || w[0].span == w[1].span)
    {
        file.error = Some("edits overlap; nothing written".to_string());
        return file;
    }
    let fixed = crate::fix::apply_edits(&l.text, &plain);
    // Never write a text that does not re-parse to the pinned references.
    let settings = Settings::default();
    let input = crate::workspace::Workspace::shared().source_options(
        &l.target.path,
        l.target.kind,
        crate::check::options(&settings),
    );
    match crate::check::extract_with_notes(l.target.kind, &fixed, &input).map(|(s, _)| s) {
        Ok(sites) => {
            let texts: Vec<&str> = sites
                .iter()
                .filter_map(|s| s.reference().map(|r| r.input()))
                .collect();
            if let Some((_, _, missing)) = edits
                .iter()
                .find(|(_, _, expected)| !texts.contains(&expected.as_str()))
            {
                file.error = Some(format!(
                    "the pinned text does not read back as `{missing}`; nothing written"
                ));
                return file;
            }
        }
        Err(d) => {
            file.error = Some(format!(
                "the pinned text does not parse ({}); nothing written",
                d.message
            ));
            return file;
        }
    }
    file.fixed = (fixed != l.text).then_some(fixed);
    file
}

/// The edit that writes `digest` into a site, and the reference text the
/// site must read back as.
fn edit_for(
    l: &Loaded,
    index: usize,
    site: &ImageSite,
    digest: &str,
) -> Result<(Edit, String), String> {
    digest_edit(&l.text, &l.sites, index, site, digest)
}

/// The edit that writes `digest` into `site` (the `index`th of `sites`,
/// read from `text`), and the reference text the site must read back as.
/// Replacing a digest keeps the text's length (`check --online` relies on
/// it to keep the other findings' spans).
pub fn digest_edit(
    text: &str,
    sites: &[ImageSite],
    index: usize,
    site: &ImageSite,
    digest: &str,
) -> Result<(Edit, String), String> {
    let reference = site
        .reference()
        .ok_or_else(|| "not a reference".to_string())?;
    let input = reference.input();
    let with_digest = |range: Span, content: &str| {
        let mut expected = String::with_capacity(input.len() + content.len());
        expected.push_str(input.get(..range.start).unwrap_or(""));
        expected.push_str(content);
        expected.push_str(input.get(range.end..).unwrap_or(""));
        expected
    };
    match site.kind {
        // Helm values and kustomize keep the digest in its own key.
        SiteKind::HelmValue | SiteKind::Kustomize => {
            if let Some(d) = reference.digest {
                let span = site.map_to_file(d).ok_or_else(|| {
                    "the digest is composed from values refit cannot edit in place".to_string()
                })?;
                let expected = with_digest(d, digest);
                return Ok((
                    Edit {
                        span,
                        content: digest.to_string(),
                    },
                    expected,
                ));
            }
            let end = Span::new(input.len(), input.len());
            let expected = with_digest(end, &format!("@{digest}"));
            if site.kind == SiteKind::HelmValue {
                let slot = match (&site.extra.digest_slot, &site.extra.digest_insert) {
                    (Some(slot), _) => slot,
                    // No key, but the chart's templates read one: add it.
                    (None, Some(Ok((at, before)))) => {
                        return Ok((
                            Edit {
                                span: Span::new(*at, *at),
                                content: format!("{before}{digest}"),
                            },
                            expected,
                        ));
                    }
                    (None, Some(Err(why))) => {
                        return Err(format!(
                            "Helm values: the image map has no `digest:` key, and {why}"
                        ));
                    }
                    (None, None) => {
                        return Err(
                            "Helm values: the image is one string with no `digest:` key to write"
                                .to_string(),
                        );
                    }
                };
                let content = if slot.span.is_empty() {
                    format!(" {digest}")
                } else if text.get(slot.span.start..slot.span.start + 1) == Some("'") {
                    format!("'{digest}'")
                } else {
                    format!("\"{digest}\"")
                };
                return Ok((
                    Edit {
                        span: slot.span,
                        content,
                    },
                    expected,
                ));
            }
            let edit = kustomize_digest_line(text, site, digest)?;
            return Ok((edit, expected));
        }
        _ => {}
    }
    let range = match reference.digest {
        // `@` and the digest.
        Some(d) => Span::new(d.start.saturating_sub(1), d.end),
        None => {
            let end = reference.tag.map_or(reference.path.end, |t| t.end);
            Span::new(end, end)
        }
    };
    let content = format!("@{digest}");
    let span = site.map_to_file(range).ok_or_else(|| {
        "the reference is composed from values refit cannot edit in place".to_string()
    })?;
    // An edit outside the site (an ARG default) must not change another
    // site that reads the same bytes to a different image.
    let inside = site.span.start <= span.start && span.end <= site.span.end;
    if !inside {
        for (other_index, other) in sites.iter().enumerate() {
            if other_index == index {
                continue;
            }
            let SiteValueRef(Some(pieces)) = pieces_of(other) else {
                continue;
            };
            let touches = pieces.iter().any(|p| {
                p.file
                    .is_some_and(|f| f.start <= span.start && span.end <= f.end)
            });
            let same = other.reference().map(|r| r.input()) == Some(input);
            if touches && !same {
                return Err(format!(
                    "the value is shared with `{}`, which names another image",
                    other.raw
                ));
            }
        }
    }
    let expected = with_digest(range, &content);
    Ok((Edit { span, content }, expected))
}

/// A `digest:` line for a kustomize `images[]` entry, after the line of
/// its last piece (`newTag:` or the name), at its keys' indentation.
fn kustomize_digest_line(text: &str, site: &ImageSite, digest: &str) -> Result<Edit, String> {
    let refuse = || "kustomize: cannot place `digest:` in this entry".to_string();
    let crate::site::SiteValue::Resolved { pieces, .. } = &site.value else {
        return Err(refuse());
    };
    let last = pieces
        .iter()
        .filter_map(|p| p.file)
        .max_by_key(|f| f.end)
        .ok_or_else(refuse)?;
    let line_start = text
        .get(..last.start)
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |i| i + 1);
    let line_end = text
        .get(last.end..)
        .and_then(|t| t.find('\n'))
        .map_or(text.len(), |i| last.end + i);
    let line = text.get(line_start..line_end).ok_or_else(refuse)?;
    if line.contains('{') || line.contains('[') {
        return Err(refuse());
    }
    // The key's column: past the indentation and a `- ` item marker.
    let trimmed = line.trim_start_matches(' ');
    let mut column = line.len() - trimmed.len();
    if let Some(rest) = trimmed.strip_prefix("- ") {
        column += 2 + (rest.len() - rest.trim_start_matches(' ').len());
    }
    let at = if text.get(..line_end).is_some_and(|t| t.ends_with('\r')) {
        line_end - 1
    } else {
        line_end
    };
    let newline = if at < line_end { "\r\n" } else { "\n" };
    Ok(Edit {
        span: Span::new(at, at),
        content: format!("{newline}{}digest: {digest}", " ".repeat(column)),
    })
}

struct SiteValueRef<'a>(Option<&'a [crate::site::Piece]>);

fn pieces_of(site: &ImageSite) -> SiteValueRef<'_> {
    match &site.value {
        crate::site::SiteValue::Resolved { pieces, .. } => SiteValueRef(Some(pieces)),
        _ => SiteValueRef(None),
    }
}

/// Write the pinned files (crate::write: atomic, owner and mode kept, a
/// file edited since it was read is left alone).
pub fn write(outcome: &PinOutcome) -> Vec<(String, String)> {
    let mut errors = Vec::new();
    for f in &outcome.files {
        if let Some(fixed) = &f.fixed
            && let Err(e) = crate::write::write_fixed(&f.path, &f.original, None, fixed)
        {
            errors.push((f.display.clone(), e.to_string()));
        }
    }
    errors
}

/// The lock file with these entries merged in.
pub fn lock_with(existing: Option<Lock>, entries: &[Entry]) -> Lock {
    let mut lock = existing.unwrap_or_default();
    lock.merge(entries.iter().cloned());
    lock
}
