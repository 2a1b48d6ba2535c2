//! Podman Quadlet units (`podman-systemd.unit(5)`): systemd INI files that
//! Podman's generator turns into services. The images are:
//!
//! - `[Container] Image=` and `[Volume] Image=` (the latter only with
//!   `Driver=image`): a reference, or the name of another unit
//!   (`db.image`, `app.build`) whose image is used. A unit name is not a
//!   pull: no site (the named unit is read on its own).
//! - `[Image] Image=`: the image the unit pulls.
//! - `[Build] ImageTag=`: the name the build gives its output, a local
//!   name, never a pull (`Extra::build_output`).
//!
//! Parsed as Podman's own unit parser does (`pkg/systemd/parser`): lines
//! are trimmed, `#` and `;` start comment lines, a key/value line ending in
//! `\` continues on the next, sections and keys are case-sensitive, the
//! last instance of a key wins (a section written twice is one group),
//! and a value loses its trailing whitespace and surrounding `"`. A value
//! with a systemd specifier (`%i`) is filled when the unit starts: it is
//! listed unresolved. A transport prefix is read as containers/image does:
//! `docker://` pulls (the site starts after it), `docker-daemon:` reads
//! the local Docker daemon (a local name), and archives, directories and
//! local storage (`oci-archive:`, `dir:`, …) are no registry reference.

//!
//! Drop-ins (`foo.container.d/*.conf`, `container.d/*.conf` for every
//! `*.container` of the folder, and `foo-.container.d/` for `foo-bar`)
//! are read as units of their type: systemd reads them after the unit, so
//! an `Image=` there replaces the unit's. The unit's own `Image=` is then
//! not what runs: it is reported without a fix (`extract_with`'s
//! `overridden`, which the workspace finds beside the unit).

use crate::site::{Extra, ImageSite, SiteKind, SiteValue, Span};
use crate::sources::common::Builder;

/// Transports that name no registry image.
const LOCAL_TRANSPORTS: &[&str] = &[
    "dir:",
    "docker-archive:",
    "oci-archive:",
    "oci:",
    "containers-storage:",
    "sif:",
];

/// One `Key=value` line (with its continuations).
struct Entry<'a> {
    section: &'a str,
    key: &'a str,
    /// The value's bytes on each physical line, continuation backslash
    /// and surrounding whitespace excluded.
    segments: Vec<Span>,
}

/// Whether a unit has the `[section]` header (the test that tells a
/// Quadlet `*.image` from a picture).
pub fn has_section(text: &str, section: &str) -> bool {
    text.lines().any(|l| {
        l.trim()
            .strip_prefix('[')
            .and_then(|l| l.strip_suffix(']'))
            .is_some_and(|name| name == section)
    })
}

/// The physical lines of a text: (start, end without `\r\n`).
fn lines(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    // A byte-order mark is not part of the first line.
    let mut start = if text.starts_with('\u{feff}') { 3 } else { 0 };
    for (i, b) in text.bytes().enumerate().skip(start) {
        if b == b'\n' {
            out.push((start, i));
            start = i + 1;
        }
    }
    if start < text.len() {
        out.push((start, text.len()));
    }
    out
}

/// A line's span without surrounding whitespace.
fn trimmed(text: &str, (start, end): (usize, usize)) -> Span {
    let s = text.get(start..end).unwrap_or("");
    let lead = s.len() - s.trim_start().len();
    let body = s.trim();
    Span::new(start + lead, start + lead + body.len())
}

fn parse(text: &str) -> Vec<Entry<'_>> {
    let all = lines(text);
    let mut entries = Vec::new();
    let mut section = "";
    let mut i = 0;
    while i < all.len() {
        let line = trimmed(text, all[i]);
        i += 1;
        let s = text.get(line.start..line.end).unwrap_or("");
        if s.is_empty() || s.starts_with('#') || s.starts_with(';') {
            continue;
        }
        if let Some(name) = s.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            section = name;
            continue;
        }
        let Some(eq) = s.find('=') else {
            continue;
        };
        let key = s[..eq].trim();
        let rest = &s[eq + 1..];
        let lead = rest.len() - rest.trim_start().len();
        let mut seg = Span::new(line.start + eq + 1 + lead, line.end);
        let mut segments = Vec::new();
        // A trailing `\` joins the next line (Podman removes `\` and the
        // line break; each line is trimmed first).
        while text
            .get(seg.start..seg.end)
            .is_some_and(|v| v.ends_with('\\'))
            && i < all.len()
        {
            segments.push(Span::new(seg.start, seg.end - 1));
            seg = trimmed(text, all[i]);
            i += 1;
        }
        segments.push(seg);
        entries.push(Entry {
            section,
            key,
            segments,
        });
    }
    entries
}

/// The last value of `section`/`key`, as Podman's `Lookup` reads it.
fn lookup<'e>(entries: &'e [Entry<'_>], section: &str, key: &str) -> Option<&'e Entry<'e>> {
    entries
        .iter()
        .rev()
        .find(|e| e.section == section && e.key == key)
}

/// A value's text and where each of its bytes is: (text offset, file
/// offset, length) runs.
fn joined(text: &str, entry: &Entry<'_>) -> (String, Vec<(usize, usize, usize)>) {
    let mut out = String::new();
    let mut runs = Vec::new();
    for seg in &entry.segments {
        let s = text.get(seg.start..seg.end).unwrap_or("");
        runs.push((out.len(), seg.start, s.len()));
        out.push_str(s);
    }
    (out, runs)
}

/// The plain value of a key (`Driver=image`), quotes and spaces trimmed.
fn plain(text: &str, entries: &[Entry<'_>], section: &str, key: &str) -> Option<String> {
    let entry = lookup(entries, section, key)?;
    let (value, _) = joined(text, entry);
    Some(value.trim_end().trim_matches('"').to_string())
}

/// What a value names.
enum Named {
    /// A registry reference from `start` (after any `docker://`) to `end`
    /// of the value; `local` for `docker-daemon:`.
    Reference {
        start: usize,
        end: usize,
        local: bool,
    },
    /// Another Quadlet unit, a file or local storage, or nothing.
    Other,
}

fn named(value: &str, units: bool) -> Named {
    let end = value.trim_end().len();
    let mut start = 0;
    let mut end = end;
    // Podman trims every leading and trailing `"`.
    while value[start..end].starts_with('"') {
        start += 1;
    }
    while end > start && value[start..end].ends_with('"') {
        end -= 1;
    }
    let v = &value[start..end];
    if v.is_empty() {
        return Named::Other;
    }
    if units && (v.ends_with(".image") || v.ends_with(".build")) {
        return Named::Other;
    }
    if LOCAL_TRANSPORTS.iter().any(|t| v.starts_with(t)) {
        return Named::Other;
    }
    if let Some(rest) = v.strip_prefix("docker://") {
        return Named::Reference {
            start: end - rest.len(),
            end,
            local: false,
        };
    }
    if let Some(rest) = v.strip_prefix("docker-daemon:") {
        return Named::Reference {
            start: end - rest.len(),
            end,
            local: true,
        };
    }
    Named::Reference {
        start,
        end,
        local: false,
    }
}

/// The systemd specifiers (`%i`, `%n`) in a value; `%%` is a `%`.
fn specifiers(value: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            continue;
        }
        match chars.next() {
            Some('%') => {}
            Some(s) => {
                let name = format!("%{s}");
                if !out.contains(&name) && out.len() < 16 {
                    out.push(name);
                }
            }
            None => {}
        }
    }
    out
}

fn site(text: &str, entry: &Entry<'_>, units: bool, build_output: bool) -> Option<ImageSite> {
    let (value, runs) = joined(text, entry);
    let Named::Reference { start, end, local } = named(&value, units) else {
        return None;
    };
    let mut b = Builder::default();
    for &(at, file, len) in &runs {
        let lo = at.max(start);
        let hi = (at + len).min(end);
        if lo < hi {
            b.push(value.get(lo..hi)?, Some(file + (lo - at)));
        }
    }
    let first = b.pieces.first()?.file?;
    let last = b.pieces.last()?.file?;
    let span = Span::new(first.start, last.end);
    let missing = specifiers(&b.text);
    let value = if missing.is_empty() {
        b.into_value()
    } else {
        SiteValue::Unresolved { missing }
    };
    Some(ImageSite {
        kind: SiteKind::Quadlet,
        span,
        raw: text.get(span.start..span.end)?.to_string(),
        value,
        stage: None,
        path: Some(format!("[{}] {}", entry.section, entry.key)),
        extra: Extra {
            build_output: build_output || local,
            // A value continued over lines is reported, never edited:
            // how the lines join (systemd puts a space where the `\` was)
            // decides what Podman pulls, and an edit of one line alone
            // could change that.
            frozen: if entry.segments.len() > 1 {
                vec![span]
            } else {
                Vec::new()
            },
            kept: (entry.segments.len() > 1).then(|| {
                "the value continues over lines, and refit edits only a value on one line"
                    .to_string()
            }),
            ..Extra::default()
        },
    })
}

/// Whether a unit or drop-in sets the key whose image it names (`Image=`
/// in `[Container]`, `[Image]` or `[Volume]`): a drop-in that does
/// overrides the unit's.
pub fn sets_image(text: &str, section: &str) -> bool {
    matches!(section, "Container" | "Image" | "Volume")
        && lookup(&parse(text), section, "Image").is_some()
}

/// The drop-in folders Podman reads for a unit file name, nearest first:
/// `foo-bar.container.d`, `foo-.container.d` (each `-` prefix), then
/// `container.d`.
pub fn dropin_dirs(unit_name: &str) -> Vec<String> {
    let Some((stem, ext)) = unit_name.rsplit_once('.') else {
        return Vec::new();
    };
    let mut out = vec![format!("{unit_name}.d")];
    // An instance (`web@a.container`) reads its template's (`web@.container.d`).
    if let Some((base, instance)) = stem.split_once('@')
        && !instance.is_empty()
    {
        out.push(format!("{base}@.{ext}.d"));
    }
    let mut prefixes: Vec<String> = stem
        .match_indices('-')
        .map(|(i, _)| format!("{}-.{ext}.d", &stem[..i]))
        .collect();
    prefixes.reverse();
    out.extend(prefixes);
    out.push(format!("{ext}.d"));
    out
}

/// [`extract`], where `overridden` names the drop-in whose `Image=`
/// replaces this file's: the file's own `Image=` is reported, not fixed.
pub fn extract_with(text: &str, overridden: Option<&str>) -> Vec<ImageSite> {
    let mut out = extract(text);
    if let Some(dropin) = overridden {
        for s in out
            .iter_mut()
            .filter(|s| s.path.as_deref().is_some_and(|p| p.ends_with(" Image")))
        {
            s.extra.frozen.push(s.span);
            s.extra.kept = Some(format!(
                "the drop-in `{dropin}` sets `Image=` too, so this line is not what Podman runs"
            ));
        }
    }
    out
}

/// The image sites of a Quadlet unit. Every unit reads: what Podman would
/// reject is left for Podman to say.
pub fn extract(text: &str) -> Vec<ImageSite> {
    let entries = parse(text);
    let mut out = Vec::new();
    if let Some(e) = lookup(&entries, "Container", "Image") {
        out.extend(site(text, e, true, false));
    }
    if let Some(e) = lookup(&entries, "Image", "Image") {
        out.extend(site(text, e, false, false));
    }
    if plain(text, &entries, "Volume", "Driver").as_deref() == Some("image")
        && let Some(e) = lookup(&entries, "Volume", "Image")
    {
        out.extend(site(text, e, true, false));
    }
    // `ImageTag=` may be listed several times: every one tags the build.
    for e in entries
        .iter()
        .filter(|e| e.section == "Build" && e.key == "ImageTag")
    {
        out.extend(site(text, e, false, true));
    }
    out.sort_by_key(|s| s.span);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropins() {
        assert_eq!(
            dropin_dirs("web-api-v1.container"),
            [
                "web-api-v1.container.d",
                "web-api-.container.d",
                "web-.container.d",
                "container.d"
            ]
        );
        assert_eq!(dropin_dirs("db.image"), ["db.image.d", "image.d"]);
        assert_eq!(
            dropin_dirs("template@instance.container"),
            [
                "template@instance.container.d",
                "template@.container.d",
                "container.d"
            ]
        );
        assert!(sets_image(
            "[Container]\nImage=quay.io/a/b:1\n",
            "Container"
        ));
        assert!(!sets_image("[Container]\nEnvironment=A=1\n", "Container"));
        assert!(!sets_image("[Build]\nImageTag=x\n", "Build"));
        let unit =
            "[Container]\nImage=docker.io/library/nginx:1.27\n[Install]\nWantedBy=default.target\n";
        let sites = extract_with(unit, Some("web.container.d/10-image.conf"));
        assert_eq!(sites.len(), 1);
        assert_eq!(sites[0].extra.frozen, [sites[0].span]);
        assert!(
            sites[0]
                .extra
                .kept
                .as_deref()
                .is_some_and(|k| k.contains("10-image.conf"))
        );
        assert!(extract_with(unit, None)[0].extra.kept.is_none());
    }

    fn found(text: &str) -> Vec<(String, String, bool)> {
        extract(text)
            .into_iter()
            .map(|s| {
                let v = match &s.value {
                    SiteValue::Resolved { text, .. } => text.clone(),
                    SiteValue::Unresolved { missing } => {
                        format!("unresolved {}", missing.join(","))
                    }
                    SiteValue::Mirror(_) => String::new(),
                };
                assert_eq!(
                    text.get(s.span.start..s.span.end),
                    Some(s.raw.as_str()),
                    "{text}"
                );
                (s.path.unwrap_or_default(), v, s.extra.build_output)
            })
            .collect()
    }

    #[test]
    fn images_of_each_unit() {
        let f = found(
            "[Unit]\nDescription=x\n\n[Container]\nImage=docker.io/library/alpine:3.22\nExec=sh\n",
        );
        assert_eq!(
            f,
            [(
                "[Container] Image".into(),
                "docker.io/library/alpine:3.22".into(),
                false
            )]
        );
        assert_eq!(
            found("[Image]\nImage = \"quay.io/a/b:1\"  \n")[0].1,
            "quay.io/a/b:1"
        );
        assert!(found("[Volume]\nImage=alpine:3\n").is_empty());
        assert_eq!(
            found("[Volume]\nDriver=image\nImage=alpine:3\n")[0].1,
            "alpine:3"
        );
        let build =
            found("[Build]\nImageTag=localhost/app:dev\nImageTag=app:latest\nFile=Containerfile\n");
        assert_eq!(build.len(), 2);
        assert!(build.iter().all(|b| b.2));
    }

    #[test]
    fn units_transports_and_specifiers() {
        assert!(found("[Container]\nImage=db.image\n").is_empty());
        assert!(found("[Container]\nImage=app.build\n").is_empty());
        assert!(found("[Volume]\nDriver=image\nImage=data.build\n").is_empty());
        assert!(found("[Image]\nImage=oci-archive:/tmp/a.tar\n").is_empty());
        assert_eq!(
            found("[Image]\nImage=docker://quay.io/a/b:1\n")[0].1,
            "quay.io/a/b:1"
        );
        let daemon = found("[Container]\nImage=docker-daemon:app:1\n");
        assert_eq!(daemon[0].1, "app:1");
        assert!(daemon[0].2);
        assert_eq!(found("[Container]\nImage=%i\n")[0].1, "unresolved %i");
        assert_eq!(
            found("[Container]\nImage=quay.io/x/%p:1\n")[0].1,
            "unresolved %p"
        );
    }

    #[test]
    fn ini_details() {
        // The last instance wins, across a section written twice.
        let text = "[Container]\nImage=a:1\n[Service]\nImage=no:1\n[Container]\n# Image=c:1\n; Image=d:1\nImage=b:2\n";
        assert_eq!(
            found(text),
            [("[Container] Image".into(), "b:2".into(), false)]
        );
        // Sections and keys are case-sensitive.
        assert!(found("[container]\nImage=a:1\n[Container]\nimage=a:1\n").is_empty());
        // A continuation: the value is joined, each piece maps to the file.
        let text = "[Container]\nImage=quay.io/org/\\\n   app:1\n";
        let sites = extract(text);
        assert_eq!(sites.len(), 1);
        let SiteValue::Resolved {
            text: v, pieces, ..
        } = &sites[0].value
        else {
            panic!("unresolved");
        };
        assert_eq!(v, "quay.io/org/app:1");
        assert_eq!(pieces.len(), 2);
        // CRLF and a BOM-less file with no final newline.
        assert_eq!(
            found("[Container]\r\nImage=nginx:1.27\r\n")[0].1,
            "nginx:1.27"
        );
        assert_eq!(found("[Container]\nImage=nginx:1.27")[0].1, "nginx:1.27");
        assert!(found("[Container]\nImage=\n").is_empty());
        assert!(found("not a unit [").is_empty());
        assert!(has_section("[Unit]\n [Image] \n", "Image"));
        assert!(!has_section("[image]\n", "Image"));
    }
}
