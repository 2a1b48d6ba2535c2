//! `refit.lock`: one entry per reference, sorted, for stable diffs.

use std::path::Path;

pub const LOCK_FILE: &str = "refit.lock";

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Entry {
    /// The normalized reference (`docker.io/library/alpine:3.20`).
    pub reference: String,
    pub digest: String,
    pub media_type: String,
    /// For an index: its platforms.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<String>,
    /// The host that answered (a mirror or the registry).
    pub registry: String,
    /// When it was resolved (RFC 3339, UTC).
    pub resolved: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    pub version: u32,
    #[serde(default, rename = "image")]
    pub images: Vec<Entry>,
    /// What `refit pin --lock` verified about the pins written in the
    /// files, and when (absent from lock files written before it).
    #[serde(default, rename = "verified", skip_serializing_if = "Vec::is_empty")]
    pub verified: Vec<Verified>,
    /// When refit first saw each digest (`refit update`'s minimum age).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seen: Vec<Seen>,
}

/// When refit first saw a digest (`refit pin --lock`, `refit update`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Seen {
    pub digest: String,
    /// RFC 3339, UTC.
    pub first_seen: String,
}

/// One pinned digest as the files write it, verified against its registry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Verified {
    /// The normalized reference with its tag, or `name@digest` without one.
    pub reference: String,
    /// The digest the files pin.
    pub digest: String,
    /// When it was verified (RFC 3339, UTC).
    pub verified: String,
    /// `current`, `platform-manifest`, `tag-moved` or `vanished`.
    pub verdict: String,
    /// What was checked: `digest-served`, `tag-agrees`, `index` or
    /// `single-manifest`, `platform-manifest linux/amd64`, `platforms`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<String>,
}

/// The largest lock file refit reads.
pub const MAX_LOCK_BYTES: u64 = 64 * 1024 * 1024;

impl Lock {
    pub fn read(path: &Path) -> Result<Lock, String> {
        let text = crate::bounded::read_regular(path, MAX_LOCK_BYTES).map_err(|e| {
            format!(
                "{}: it {e} ({MAX_LOCK_BYTES} bytes at most)",
                path.display()
            )
        })?;
        Lock::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Lock, String> {
        let mut lock: Lock = toml::from_str(text).map_err(|e| e.message().to_string())?;
        if lock.version != 1 {
            return Err(format!("unknown lock file version {}", lock.version));
        }
        // Sorted for `first_seen` (a merge may have shuffled them); a
        // digest listed twice keeps its earlier time.
        lock.seen.sort_by(|a, b| {
            (a.digest.as_str(), parse_rfc3339(&a.first_seen))
                .cmp(&(b.digest.as_str(), parse_rfc3339(&b.first_seen)))
        });
        lock.seen
            .dedup_by(|later, earlier| later.digest == earlier.digest);
        Ok(lock)
    }

    /// The entry for a normalized reference.
    pub fn get(&self, reference: &str) -> Option<&Entry> {
        self.images
            .binary_search_by(|e| e.reference.as_str().cmp(reference))
            .ok()
            .and_then(|i| self.images.get(i))
    }

    /// When refit first saw a digest.
    pub fn first_seen(&self, digest: &str) -> Option<&str> {
        self.seen
            .binary_search_by(|s| s.digest.as_str().cmp(digest))
            .ok()
            .and_then(|i| self.seen.get(i))
            .map(|s| s.first_seen.as_str())
    }

    /// Record that refit saw `digest` at `at` (RFC 3339), unless it saw it
    /// before. Whether anything was added.
    pub fn see(&mut self, digest: &str, at: &str) -> bool {
        self.version = 1;
        match self
            .seen
            .binary_search_by(|s| s.digest.as_str().cmp(digest))
        {
            Ok(_) => false,
            Err(i) => {
                self.seen.insert(
                    i,
                    Seen {
                        digest: digest.to_string(),
                        first_seen: at.to_string(),
                    },
                );
                true
            }
        }
    }

    /// Add or replace entries, keeping them sorted; their digests are
    /// seen at their resolution time.
    pub fn merge(&mut self, entries: impl IntoIterator<Item = Entry>) {
        self.version = 1;
        for e in entries {
            self.see(&e.digest, &e.resolved);
            match self
                .images
                .binary_search_by(|x| x.reference.as_str().cmp(&e.reference))
            {
                Ok(i) => self.images[i] = e,
                Err(i) => self.images.insert(i, e),
            }
        }
    }

    /// Add or replace verification records (one per reference and digest),
    /// keeping them sorted.
    pub fn merge_verified(&mut self, records: impl IntoIterator<Item = Verified>) {
        for v in records {
            let key = (v.reference.clone(), v.digest.clone());
            match self
                .verified
                .binary_search_by(|x| (x.reference.clone(), x.digest.clone()).cmp(&key))
            {
                Ok(i) => self.verified[i] = v,
                Err(i) => self.verified.insert(i, v),
            }
        }
    }

    /// Write the lock file at `path`: never through a link that leads
    /// outside the repository root (see `crate::write::write_file`).
    pub fn write(&self, path: &Path) -> Result<(), String> {
        let root = crate::write::root_of(path);
        crate::write::write_file(path, &root, self.render().as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    pub fn render(&self) -> String {
        let mut sorted = self.clone();
        sorted.version = 1;
        sorted.images.sort_by(|a, b| a.reference.cmp(&b.reference));
        sorted
            .verified
            .sort_by(|a, b| (&a.reference, &a.digest).cmp(&(&b.reference, &b.digest)));
        sorted.seen.sort_by(|a, b| a.digest.cmp(&b.digest));
        let body = toml::to_string(&sorted).unwrap_or_default();
        format!(
            "# refit.lock: image digests resolved by `refit pin --lock`.\n# Regenerate with `refit pin --lock`; do not edit by hand.\n{body}"
        )
    }
}

/// The RFC 3339 form of seconds since the epoch (UTC).
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Seconds since the epoch of an RFC 3339 time (`2024-01-15T10:20:30Z`,
/// fractions and `+01:00` offsets allowed).
pub fn parse_rfc3339(text: &str) -> Option<u64> {
    let b = text.trim().as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = b.get(r)?;
        if !s.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(s).ok()?.parse().ok()
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || !matches!(b.get(10), Some(b'T' | b't' | b' '))
    {
        return None;
    }
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if b.get(13) != Some(&b':') || b.get(16) != Some(&b':') {
        return None;
    }
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    let offset = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && b.get(i + 3) == Some(&b':') => {
            let o = num(i + 1..i + 3)? * 3600 + num(i + 4..i + 6)? * 60;
            if *sign == b'+' { o } else { -o }
        }
        _ => return None,
    };
    // Howard Hinnant's days_from_civil.
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + mi * 60 + s - offset;
    u64::try_from(secs).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_798_761_600), "2027-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn rfc3339_times() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2027-01-01T00:00:00Z"), Some(1_798_761_600));
        assert_eq!(
            parse_rfc3339("2000-02-29T00:00:00.123456789Z"),
            Some(951_782_400)
        );
        assert_eq!(
            parse_rfc3339("2000-02-29T01:00:00+01:00"),
            Some(951_782_400)
        );
        for secs in [0, 951_782_400, 1_798_761_600, 4_102_444_799] {
            assert_eq!(parse_rfc3339(&rfc3339(secs)), Some(secs));
        }
        for bad in [
            "",
            "2024-01-15",
            "2024-13-01T00:00:00Z",
            "2024-01-15T00:00:00",
            "x",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn round_trip_sorted() {
        let e = |r: &str| Entry {
            reference: r.to_string(),
            digest: "sha256:00".to_string(),
            media_type: "m".to_string(),
            platforms: vec![],
            registry: "h".to_string(),
            resolved: rfc3339(0),
        };
        let mut lock = Lock::default();
        lock.merge([e("b"), e("a"), e("c")]);
        let text = lock.render();
        let back = Lock::parse(&text).unwrap();
        assert_eq!(back.images[0].reference, "a");
        assert!(back.get("c").is_some());
        assert!(back.get("d").is_none());
        // Every digest merged in is seen once, at its first resolution.
        assert_eq!(back.first_seen("sha256:00"), Some(rfc3339(0).as_str()));
        let mut again = back.clone();
        assert!(!again.see("sha256:00", &rfc3339(5)));
        assert!(again.see("sha256:01", &rfc3339(5)));
        assert_eq!(again.first_seen("sha256:00"), Some(rfc3339(0).as_str()));
        assert_eq!(Lock::parse(&again.render()).unwrap(), again);
    }

    #[test]
    fn verified_records_round_trip_and_old_locks_read() {
        let old = "version = 1\n\n[[image]]\nreference = \"a\"\ndigest = \"sha256:00\"\nmedia-type = \"m\"\nregistry = \"h\"\nresolved = \"1970-01-01T00:00:00Z\"\n";
        let mut lock = Lock::parse(old).unwrap();
        assert!(lock.verified.is_empty());
        lock.merge_verified([Verified {
            reference: "a".to_string(),
            digest: "sha256:01".to_string(),
            verified: rfc3339(0),
            verdict: "current".to_string(),
            checks: vec!["digest-served".to_string(), "tag-agrees".to_string()],
        }]);
        let text = lock.render();
        assert!(text.contains("[[verified]]"), "{text}");
        let back = Lock::parse(&text).unwrap();
        assert_eq!(back.verified, lock.verified);
        assert_eq!(back.images, lock.images);
    }
}
