//! Code in the repository that compares a Dockerfile's `FROM` text: a
//! script, Makefile or CI step that matches it with a pattern (`awk
//! '/FROM golang/'`, `grep 'FROM node'`, `sed -n 's/^FROM golang:…/p'`),
//! and a build-order tool that links parent and child images by the exact
//! `FROM` text: bashbrew (a repository of library definitions:
//! `generate-stackbrew-library.sh`, `gsl.sh`, `GitCommit:` entries, a
//! `.bashbrew` folder, or a step that runs bashbrew). A fix that rewrites
//! such a `FROM` (qualifying `golang:1.26` as
//! `docker.io/library/golang:1.26`) makes that code stop matching: it is
//! unsafe there, and the help names the file.

/// The most names kept per file.
const MAX_NAMES: usize = 64;

/// The image names whose `FROM` line a pattern in this file matches
/// (`awk '/FROM golang/'` gives `golang`); only lines that run a text
/// matcher are read.
pub(super) fn pattern_names(text: &str) -> Vec<String> {
    static RE: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"FROM(?:\s+|\\s[+*]?|\[\[:space:\]\][+*]?|\[ \][+*]?|\.\*)+([A-Za-z0-9][A-Za-z0-9._/-]*)",
        )
        .ok()
    });
    let Some(re) = RE.as_ref() else {
        return Vec::new();
    };
    if !text.contains("FROM") {
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        if out.len() >= MAX_NAMES {
            break;
        }
        if !line.contains("FROM") {
            continue;
        }
        let matcher = line
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .any(|w| matches!(w, "grep" | "egrep" | "awk" | "gawk" | "sed" | "rg" | "perl"))
            || line.contains("-match ")
            || line.contains("-replace ");
        if !matcher {
            continue;
        }
        // `s/^FROM quay.io\/acme/…/`: the pattern's text, unescaped.
        let line = line.replace("\\/", "/");
        if !re.is_match(&line) && prints_from_operand(&line) {
            // `awk 'toupper($1) == "FROM" { print $2 }'`: every `FROM`
            // image, as written, is what the code reads (`*`), or every
            // one of the Dockerfiles the line names (`*in:readsb/Dockerfile`
            // for `"$dir/readsb/Dockerfile"`).
            for name in read_files(&line) {
                if !out.contains(&name) && out.len() < MAX_NAMES {
                    out.push(name);
                }
            }
            continue;
        }
        for c in re.captures_iter(&line) {
            let name = c[1].trim_end_matches(['.', '/', '-']);
            // `FROM scratch` is no image; a word like `AS` is no name.
            if name.is_empty() || name == "scratch" || name.chars().all(|c| c.is_ascii_uppercase())
            {
                continue;
            }
            if !out.iter().any(|n| n == name) && out.len() < MAX_NAMES {
                out.push(name.to_string());
            }
        }
    }
    out
}

/// The name that stands for every `FROM` image: code that prints the
/// operand of any `FROM` line.
pub const ANY: &str = "*";

/// Prefix of a reader of every `FROM` of the Dockerfiles whose path ends
/// with the rest (`*in:readsb/Dockerfile`).
pub const ANY_IN: &str = "*in:";

/// What a line that prints `FROM` operands reads: the Dockerfiles it
/// names, by the part of their path written without variables, or every
/// Dockerfile (`ANY`) when it names none or only `$dir/Dockerfile`.
fn read_files(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    for word in line.split_whitespace() {
        let lower = word.to_ascii_lowercase();
        if !(lower.contains("dockerfile") || lower.contains("containerfile")) {
            continue;
        }
        let word = word.trim_matches(|c: char| matches!(c, '"' | '\'' | '(' | ')' | ';' | '`'));
        let parts: Vec<&str> = word
            .rsplit('/')
            .take_while(|c| !c.contains(['$', '{', '}', '*', '"', '\'']) && !c.is_empty())
            .collect();
        if parts.len() < 2 {
            return vec![ANY.to_string()];
        }
        let suffix: Vec<&str> = parts.into_iter().rev().collect();
        out.push(format!("{ANY_IN}{}", suffix.join("/")));
    }
    if out.is_empty() {
        out.push(ANY.to_string());
    }
    out
}

/// Whether a matcher line prints the operand of every `FROM` line:
/// `awk '$1 == "FROM" { print $2 }'`, `grep '^FROM' … | awk '{print $2}'`
/// or `| cut -d' ' -f2`, `sed -n 's/^FROM \(.*\)/\1/p'`.
fn prints_from_operand(line: &str) -> bool {
    let awk = (line.contains("awk") && line.contains("\"FROM\""))
        || line.contains("grep") && (line.contains("^FROM") || line.contains("'FROM"));
    let prints = line.contains("print $2")
        || line.contains("print $NF")
        || line.contains("cut -d")
        || (line.contains("sed") && line.contains("\\1"));
    (awk && prints) || (line.contains("sed") && line.contains("^FROM") && line.contains("\\1"))
}

/// Whether a file says the repository's images are built by bashbrew,
/// which orders builds by exact `FROM` text.
pub(super) fn is_bashbrew(name: &str, text: &str) -> bool {
    matches!(
        name,
        "generate-stackbrew-library.sh" | "gsl.sh" | "gsl-libs.sh"
    ) || text.contains("bashbrew ")
        || text.contains("/bashbrew@")
        || (text.contains("\nGitCommit:") && text.contains("\nTags:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        let text = "      - run: echo \"GOVERSION=$(awk -F'[:@]' '/FROM golang/{print $2; exit}' Dockerfile)\" >> $GITHUB_ENV\n\tgrep -E '^FROM\\s+node:' Dockerfile\nsed -n 's/^FROM[[:space:]]*quay.io\\/acme\\/base:\\(.*\\)/\\1/p' Dockerfile\necho FROM alpine\nawk '$1 == \"FROM\" { print $2 }' Dockerfile\n";
        assert_eq!(
            pattern_names(text),
            ["golang", "node", "quay.io/acme/base", ANY]
        );
        // docker-library's generate-stackbrew-library.sh: every parent,
        // as written.
        let gsl = "\t\tvariantParent=\"$(awk 'toupper($1) == \"FROM\" { print $2 }' \"$dir/Dockerfile\")\"\n";
        assert_eq!(pattern_names(gsl), [ANY]);
        // tianon's adsb/gsl.sh reads two Dockerfiles by name.
        let two = "from=\"$(awk '$1 == \"FROM\" { print $2; exit }' \"$dir/readsb/Dockerfile\")\"\nfrom=\"$(awk '$1 == \"FROM\" { print $2; exit }' \"$dir/acarsdec/Dockerfile\")\"\n";
        assert_eq!(
            pattern_names(two),
            ["*in:readsb/Dockerfile", "*in:acarsdec/Dockerfile"]
        );
        assert!(pattern_names("awk '/^RUN/ { print $2 }' Dockerfile\n").is_empty());
    }
}
