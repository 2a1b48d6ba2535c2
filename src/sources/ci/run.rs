//! `docker run IMAGE` and `docker pull IMAGE` in a GitHub Actions `run:`
//! step (also `podman`, `docker container run`, `docker image pull`).
//!
//! The step's text is split with the shell helpers the workspace reads
//! build commands with. A word maps back to the file only where the
//! scalar's bytes are its value: a plain or quoted scalar without escapes,
//! or a literal block (`|`), line by line. In a folded block (`>`) or a
//! double-quoted scalar with escapes the image is reported without a place
//! a fix may edit.

use crate::shell::{logical_lines_mapped, word_spans};
use crate::site::{ImageSite, SiteKind, Span};
use crate::sources::common::{Builder, site};
use crate::sources::yaml::{Scalar, Style};

/// The commands that run and pull images.
const ENGINES: &[&str] = &["docker", "podman"];

/// Options of `docker run` / `podman run` that take a value.
const RUN_VALUE: &[&str] = &[
    "add-host",
    "annotation",
    "arch",
    "attach",
    "authfile",
    "blkio-weight",
    "blkio-weight-device",
    "cap-add",
    "cap-drop",
    "cert-dir",
    "cgroup-parent",
    "cgroupns",
    "cidfile",
    "cpu-period",
    "cpu-quota",
    "cpu-rt-period",
    "cpu-rt-runtime",
    "cpu-shares",
    "cpus",
    "cpuset-cpus",
    "cpuset-mems",
    "creds",
    "detach-keys",
    "device",
    "device-cgroup-rule",
    "device-read-bps",
    "device-read-iops",
    "device-write-bps",
    "device-write-iops",
    "dns",
    "dns-opt",
    "dns-option",
    "dns-search",
    "domainname",
    "entrypoint",
    "env",
    "env-file",
    "expose",
    "gpus",
    "group-add",
    "health-cmd",
    "health-interval",
    "health-retries",
    "health-start-interval",
    "health-start-period",
    "health-timeout",
    "hostname",
    "ip",
    "ip6",
    "ipc",
    "isolation",
    "kernel-memory",
    "label",
    "label-file",
    "link",
    "link-local-ip",
    "log-driver",
    "log-opt",
    "mac-address",
    "memory",
    "memory-reservation",
    "memory-swap",
    "memory-swappiness",
    "mount",
    "name",
    "net",
    "net-alias",
    "network",
    "network-alias",
    "oom-score-adj",
    "os",
    "pid",
    "pids-limit",
    "platform",
    "pod",
    "publish",
    "pull",
    "restart",
    "runtime",
    "secret",
    "security-opt",
    "shm-size",
    "stop-signal",
    "stop-timeout",
    "storage-opt",
    "sysctl",
    "systemd",
    "tmpfs",
    "ulimit",
    "user",
    "userns",
    "uts",
    "variant",
    "volume",
    "volume-driver",
    "volumes-from",
    "workdir",
];

/// Options of `run` that take no value.
const RUN_FLAG: &[&str] = &[
    "detach",
    "disable-content-trust",
    "init",
    "interactive",
    "no-healthcheck",
    "oom-kill-disable",
    "privileged",
    "publish-all",
    "quiet",
    "read-only",
    "replace",
    "rm",
    "rmi",
    "sig-proxy",
    "tty",
    "use-api-socket",
    "env-host",
];

/// Options of `docker pull` / `podman pull` that take a value.
const PULL_VALUE: &[&str] = &[
    "arch",
    "authfile",
    "cert-dir",
    "creds",
    "decryption-key",
    "os",
    "platform",
    "retry",
    "retry-delay",
    "variant",
];

/// Options of `pull` that take no value.
const PULL_FLAG: &[&str] = &["all-tags", "disable-content-trust", "quiet"];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Verb {
    Run,
    Pull,
}

impl Verb {
    fn long(self, name: &str) -> Option<bool> {
        let (value, flag) = match self {
            Verb::Run => (RUN_VALUE, RUN_FLAG),
            Verb::Pull => (PULL_VALUE, PULL_FLAG),
        };
        if value.contains(&name) {
            Some(true)
        } else if flag.contains(&name) {
            Some(false)
        } else {
            None
        }
    }

    /// A short option: `Some(true)` when it takes a value.
    fn short(self, c: char) -> Option<bool> {
        match (self, c) {
            (Verb::Run, 'a' | 'c' | 'e' | 'h' | 'l' | 'm' | 'p' | 'u' | 'v' | 'w') => Some(true),
            (Verb::Run, 'd' | 'i' | 't' | 'P' | 'q') => Some(false),
            (Verb::Pull, 'a' | 'q') => Some(false),
            _ => None,
        }
    }
}

/// Whether the word after `word` starts a command: after a separator, or
/// after a word that runs the next one (`sudo docker pull x`).
fn starts_command(word: &str) -> bool {
    matches!(
        word,
        "&&" | "||"
            | ";"
            | "|"
            | "&"
            | "("
            | "then"
            | "do"
            | "else"
            | "!"
            | "sudo"
            | "exec"
            | "time"
    ) || word.ends_with(';')
}

fn is_separator(word: &str) -> bool {
    matches!(word, "&&" | "||" | ";" | "|" | "&" | "(" | ")")
        || word.starts_with(['>', '<'])
        || word.starts_with("2>")
}

/// The command at `words[i]`: the index of its image word, if it is a
/// `run` or `pull` whose options refit reads, and the index to go on from.
fn command(words: &[&str], i: usize) -> (Option<usize>, usize) {
    let tool = words[i].trim_matches(['"', '\'']);
    let tool = tool.rsplit('/').next().unwrap_or(tool);
    if !ENGINES.contains(&tool) {
        return (None, i + 1);
    }
    let mut j = i + 1;
    let verb = match (words.get(j).copied(), words.get(j + 1).copied()) {
        (Some("run"), _) => Verb::Run,
        (Some("pull"), _) => Verb::Pull,
        (Some("container"), Some("run")) => {
            j += 1;
            Verb::Run
        }
        (Some("image"), Some("pull")) => {
            j += 1;
            Verb::Pull
        }
        _ => return (None, i + 1),
    };
    j += 1;
    while let Some(&w) = words.get(j) {
        if is_separator(w) {
            return (None, j);
        }
        if w == "--" {
            return match words.get(j + 1) {
                Some(_) => (Some(j + 1), j + 2),
                None => (None, j + 1),
            };
        }
        if let Some(long) = w.strip_prefix("--") {
            if long.contains('=') {
                j += 1;
                continue;
            }
            match verb.long(long) {
                Some(true) => j += 2,
                Some(false) => j += 1,
                // `--help`, or an option refit does not know: where the
                // image is is not known.
                None => return (None, j + 1),
            }
            continue;
        }
        if let Some(cluster) = w.strip_prefix('-').filter(|c| !c.is_empty()) {
            let mut step = 1;
            for (k, c) in cluster.char_indices() {
                match verb.short(c) {
                    Some(false) => {}
                    Some(true) => {
                        // `-e A=1` or `-eA=1`.
                        if k + c.len_utf8() == cluster.len() {
                            step = 2;
                        }
                        break;
                    }
                    None => return (None, j + 1),
                }
            }
            j += step;
            continue;
        }
        return (Some(j), j + 1);
    }
    (None, j)
}

/// Where a scalar's value is in the file: runs of (value offset, file
/// offset, length) copied byte for byte.
fn value_runs(text: &str, s: &Scalar) -> Vec<(usize, usize, usize)> {
    match (s.content, s.style) {
        (Some(c), _) => vec![(0, c.start, c.len())],
        (None, Style::Block) => literal_runs(text, s).unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// A literal block scalar (`|`) line by line: each line of the value is
/// its file line past the block's indentation. `None` for a folded block
/// or when a line does not match (then nothing maps).
fn literal_runs(text: &str, s: &Scalar) -> Option<Vec<(usize, usize, usize)>> {
    let head = text.get(s.span.start..)?;
    if !head.starts_with('|') {
        return None;
    }
    let body = s.span.start + head.find('\n')? + 1;
    let mut lines = text.get(body..)?.split_inclusive('\n');
    let mut out = Vec::new();
    let mut indent: Option<usize> = None;
    let (mut at_value, mut at_file) = (0, body);
    for line in s.value.split('\n') {
        let Some(raw) = lines.next() else {
            if line.is_empty() {
                break;
            }
            return None;
        };
        let file = raw.strip_suffix('\n').unwrap_or(raw);
        let file = file.strip_suffix('\r').unwrap_or(file);
        if !line.is_empty() {
            let ind = match indent {
                Some(i) => i,
                None => *indent.insert(file.len().checked_sub(line.len())?),
            };
            let spaces = file.get(..ind)?.bytes().all(|b| b == b' ');
            if !spaces || file.get(ind..) != Some(line) {
                return None;
            }
            out.push((at_value, at_file + ind, line.len()));
        }
        at_value += line.len() + 1;
        at_file += raw.len();
    }
    Some(out)
}

/// How far past the previous image a display span is looked for.
const DISPLAY_WINDOW: usize = 4096;

/// The images a `run:` step runs or pulls.
pub(super) fn run_sites(text: &str, s: &Scalar, path: &str) -> Vec<ImageSite> {
    let mut out = Vec::new();
    if !ENGINES.iter().any(|e| s.value.contains(e)) {
        return out;
    }
    let runs = value_runs(text, s);
    let to_file = |start: usize, end: usize| -> Option<usize> {
        let at = runs.partition_point(|r| r.0 <= start).checked_sub(1)?;
        let (value, file, len) = runs[at];
        (end <= value + len).then_some(file + start - value)
    };
    // Where the last image was shown, for images that do not map.
    let mut cursor = s.span.start;
    for line in logical_lines_mapped(&s.value) {
        let spans = word_spans(&line.text);
        let words: Vec<&str> = spans.iter().map(|&(a, b)| &line.text[a..b]).collect();
        let mut i = 0;
        while i < words.len() {
            // A comment ends the line; a command starts a line or follows
            // a separator (`echo docker pull x` pulls nothing).
            if words[i].starts_with('#') {
                break;
            }
            if i > 0 && !starts_command(words[i - 1]) {
                i += 1;
                continue;
            }
            let (image, next) = command(&words, i);
            i = next.max(i + 1);
            let Some(k) = image else {
                continue;
            };
            let mut a = spans[k].0;
            let mut word = words[k].strip_suffix(';').unwrap_or(words[k]);
            let mut b = a + word.len();
            for q in ['"', '\''] {
                if word.len() >= 2 && word.starts_with(q) && word.ends_with(q) {
                    word = &word[1..word.len() - 1];
                    a += 1;
                    b -= 1;
                }
            }
            // Variables, expressions and anything the shell would expand
            // are placeholders: the image is decided when the step runs.
            if word.is_empty()
                || word.contains([
                    '$', '`', '"', '\'', '\\', '{', '}', '*', '?', '(', ')', '<', '>', '|', '&',
                    ';',
                ])
            {
                continue;
            }
            let file = line.origin(a, b).and_then(|(a, b)| to_file(a, b));
            let span = match file {
                Some(f) => Span::new(f, f + word.len()),
                None => {
                    let end = s
                        .span
                        .end
                        .min(cursor.saturating_add(DISPLAY_WINDOW))
                        .min(text.len());
                    text.get(cursor..end)
                        .and_then(|t| t.find(word))
                        .map_or(s.span, |f| Span::new(cursor + f, cursor + f + word.len()))
                }
            };
            cursor = span.end.max(cursor);
            let mut builder = Builder::default();
            builder.push(word, file);
            out.push(site(
                SiteKind::GithubActions,
                span,
                word,
                builder.into_value(),
                path.to_string(),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::yaml;

    fn run(text: &str) -> Vec<(String, Option<String>)> {
        let docs = yaml::parse(text).unwrap();
        let doc = &docs[0];
        let s = doc.get_scalar(doc.resolve(&doc.root), "run").unwrap();
        run_sites(text, s, "run")
            .into_iter()
            .map(|site| {
                let fixable = site
                    .whole_file_span()
                    .map(|f| text[f.start..f.end].to_string());
                (site.raw, fixable)
            })
            .collect()
    }

    fn words(line: &str) -> Option<String> {
        let spans = word_spans(line);
        let w: Vec<&str> = spans.iter().map(|&(a, b)| &line[a..b]).collect();
        command(&w, 0).0.map(|k| w[k].to_string())
    }

    #[test]
    fn image_position() {
        assert_eq!(words("docker run node:20").as_deref(), Some("node:20"));
        assert_eq!(
            words("docker run --rm -it -e A=1 -v x:/y -p 80:80 --name n node:20 npm test")
                .as_deref(),
            Some("node:20")
        );
        assert_eq!(
            words("docker run --rm -eA=1 --network=host node:20").as_deref(),
            Some("node:20")
        );
        assert_eq!(
            words("podman container run -w /src alpine sh").as_deref(),
            Some("alpine")
        );
        assert_eq!(
            words("/usr/bin/docker image pull --platform linux/arm64 alpine:3.20").as_deref(),
            Some("alpine:3.20")
        );
        assert_eq!(words("docker pull -q alpine").as_deref(), Some("alpine"));
        assert_eq!(words("docker run -- node:20").as_deref(), Some("node:20"));
        assert_eq!(words("docker run --frobnicate x node:20"), None);
        assert_eq!(words("docker run -Z node:20"), None);
        assert_eq!(words("docker run --help"), None);
        assert_eq!(words("docker run -e A=1 && echo x"), None);
        assert_eq!(words("docker build -t x ."), None);
        assert_eq!(words("docker images"), None);
    }

    #[test]
    fn literal_block_maps_each_line() {
        let text = "run: |\n  echo hi\n  docker run --rm \\\n    -e A=1 \\\n    node:20 npm test\n  docker pull \"x:latest\"; docker pull $IMG\n  docker run ${{ env.IMAGE }}\n";
        assert_eq!(
            run(text),
            [
                ("node:20".to_string(), Some("node:20".to_string())),
                ("x:latest".to_string(), Some("x:latest".to_string())),
            ]
        );
    }

    #[test]
    fn plain_and_crlf() {
        assert_eq!(
            run("run: docker pull alpine:3.20\n"),
            [("alpine:3.20".to_string(), Some("alpine:3.20".to_string()))]
        );
        let text = "run: |-\r\n  docker run -i node:20\r\n  docker pull redis\r\n";
        assert_eq!(
            run(text),
            [
                ("node:20".to_string(), Some("node:20".to_string())),
                ("redis".to_string(), Some("redis".to_string())),
            ]
        );
    }

    #[test]
    fn folded_and_escaped_do_not_map() {
        let text = "run: >\n  docker run\n  node:20\n";
        assert_eq!(run(text), [("node:20".to_string(), None)]);
        let docs = yaml::parse(text).unwrap();
        let doc = &docs[0];
        let s = doc.get_scalar(doc.resolve(&doc.root), "run").unwrap();
        let site = &run_sites(text, s, "run")[0];
        assert_eq!(&text[site.span.start..site.span.end], "node:20");
        assert_eq!(
            run("run: \"docker pull\\talpine\"\n"),
            [("alpine".to_string(), None)]
        );
    }

    #[test]
    fn long_scripts_are_linear() {
        let mut text = String::from("run: |\n");
        for _ in 0..20_000 {
            text.push_str("  docker run -i -i -i -i -i -e A=1 node:20 && docker pull redis:7\n");
        }
        let start = std::time::Instant::now();
        assert_eq!(run(&text).len(), 40_000);
        assert!(start.elapsed().as_secs() < 20);
    }
}
