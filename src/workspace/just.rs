//! Justfile recipes are builds, as Makefile recipes are (`make.rs`): a
//! recipe that runs `podman build`/`docker build`/`buildah build` with
//! `--build-arg NAME=VALUE` passes `NAME` to the Dockerfile it places.
//!
//! Read enough of just's syntax for that, in bounded work:
//! - `{{ expr }}` interpolation ([`interpolate`]): a variable assigned one
//!   string literal becomes its text, a variable whose value names a build
//!   tool (`PODMAN := if … { "podman" } else { … }`) becomes that tool,
//!   `justfile_dir()` becomes `.` (a recipe runs in the Justfile's
//!   folder), any other variable `${NAME}`, and any other expression a
//!   word no reader takes for text (`${__just}`). Every command reader of
//!   the workspace then reads the interpolated text.
//! - recipes: a header line at the left margin, its body the indented
//!   lines below, `\` continuations joined; a shebang recipe is one
//!   script, any other runs each line in its own shell.
//! - bash arrays a recipe fills (`ARGS=( "--build-arg" "K=V" … )`,
//!   `ARGS+=(…)`) and expands on the build line (`"${ARGS[@]}"`).
//!
//! A value counts as passed when it is literal text, a Justfile variable
//! assigned a value that is not empty, or a shell variable the recipe's
//! script assigned a value before the build (`D="$(yq …)"`); other values
//! may expand to nothing and do not count.

use super::builds::{BUILD_TOOLS, command_flags, is_build_tool, tool_variables};
use super::make::{MakeFile, MakePass};
use crate::shell::{logical_lines, shell_words};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The most build invocations kept per Justfile.
const MAX_PASSES: usize = 64;
/// The most words an array may hold, and the most arrays per recipe.
const MAX_ARRAY_WORDS: usize = 512;
const MAX_ARRAYS: usize = 64;
/// The most interpolations replaced in one Justfile.
const MAX_INTERPOLATIONS: usize = 4096;
/// The longest `{{ … }}` expression read.
const MAX_EXPRESSION: usize = 512;

/// Whether a file (its lower-case name) is a Justfile.
pub fn is_justfile(name: &str) -> bool {
    name == "justfile" || name == ".justfile" || name.ends_with(".just")
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A top-level assignment `[export] NAME := VALUE`: (name, value).
fn assignment(line: &str) -> Option<(&str, &str)> {
    if line.starts_with([' ', '\t']) {
        return None;
    }
    let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
    let (name, value) = line.split_once(":=")?;
    let name = name.trim();
    is_name(name).then_some((name, value.trim()))
}

/// A value that is one string literal: its text.
fn literal(value: &str) -> Option<&str> {
    ['"', '\''].iter().find_map(|q| {
        value
            .strip_prefix(*q)
            .and_then(|v| v.strip_suffix(*q))
            .filter(|v| !v.contains(*q) && !v.contains('\\'))
    })
}

/// The Justfile's variables: literal text, tool names, and which are
/// empty.
#[derive(Default)]
struct Variables {
    literal: BTreeMap<String, String>,
    tool: BTreeMap<String, String>,
    set: BTreeSet<String>,
    empty: BTreeSet<String>,
}

fn variables(text: &str) -> Variables {
    let mut out = Variables::default();
    for line in text.lines() {
        let Some((name, value)) = assignment(line) else {
            continue;
        };
        if matches!(value, "\"\"" | "''") {
            out.empty.insert(name.to_string());
            continue;
        }
        out.set.insert(name.to_string());
        if let Some(text) = literal(value) {
            out.literal.insert(name.to_string(), text.to_string());
        }
        // `which('podman')`, `if … { "podman" } else { … }`.
        if let Some(tool) = BUILD_TOOLS
            .iter()
            .find(|t| value.contains(&format!("\"{t}\"")) || value.contains(&format!("'{t}'")))
        {
            out.tool.insert(name.to_string(), tool.to_string());
        }
    }
    out
}

/// The Justfile's text with its `{{ … }}` interpolations replaced (see
/// the module's notes); `{{{{` (a literal `{{`) is kept.
pub fn interpolate(text: &str) -> String {
    if !text.contains("{{") {
        return text.to_string();
    }
    let vars = variables(text);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut count = 0usize;
    while let Some(at) = rest.find("{{") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        if let Some(escaped) = after.strip_prefix("{{") {
            out.push_str("{{{{");
            rest = escaped;
            continue;
        }
        // An interpolation closes on its line, within a short window: the
        // search stays linear in the text.
        let mut window = after.len().min(MAX_EXPRESSION);
        while !after.is_char_boundary(window) {
            window -= 1;
        }
        let Some(end) = after[..window]
            .find("}}")
            .filter(|e| !after[..*e].contains('\n'))
        else {
            // No interpolation closes here: copy the rest of the line as
            // it is, so each byte is looked at once.
            let line_end = after.find('\n').map_or(after.len(), |n| n + 1);
            out.push_str("{{");
            out.push_str(&after[..line_end]);
            rest = &after[line_end..];
            continue;
        };
        count += 1;
        if count > MAX_INTERPOLATIONS {
            out.push_str(&rest[at..]);
            return out;
        }
        let expr = after[..end].trim();
        let compact: String = expr.chars().filter(|c| !c.is_whitespace()).collect();
        if let Some(value) = vars.literal.get(expr) {
            out.push_str(value);
        } else if let Some(tool) = vars.tool.get(expr) {
            out.push_str(tool);
        } else if matches!(compact.as_str(), "justfile_dir()" | "justfile_directory()") {
            out.push('.');
        } else if is_name(expr) {
            out.push_str("${");
            out.push_str(expr);
            out.push('}');
        } else {
            out.push_str("${__just}");
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// A recipe: whether it is one script (a shebang), whether it runs in
/// the Justfile's folder, and its body lines.
struct Recipe<'a> {
    script: bool,
    in_folder: bool,
    body: Vec<&'a str>,
}

fn recipes(text: &str) -> Vec<Recipe<'_>> {
    let mut out: Vec<Recipe> = Vec::new();
    let mut no_cd = false;
    let mut current: Option<Recipe> = None;
    for line in text.lines() {
        if line.starts_with([' ', '\t']) || line.trim().is_empty() {
            if let Some(r) = current.as_mut() {
                r.body.push(line);
            }
            continue;
        }
        if let Some(r) = current.take() {
            out.push(r);
        }
        let trimmed = line.trim();
        if trimmed.starts_with('#') {
            continue;
        }
        if trimmed.starts_with('[') {
            // `[no-cd]`, `[working-directory: …]`: not the folder.
            no_cd |= trimmed.contains("no-cd") || trimmed.contains("working-directory");
            continue;
        }
        let keyword = ["set ", "alias ", "import ", "mod ", "export "]
            .iter()
            .any(|k| trimmed.starts_with(k));
        if keyword || trimmed.contains(":=") || !trimmed.contains(':') {
            no_cd = false;
            continue;
        }
        current = Some(Recipe {
            script: false,
            in_folder: !no_cd,
            body: Vec::new(),
        });
        no_cd = false;
    }
    if let Some(r) = current.take() {
        out.push(r);
    }
    for r in &mut out {
        r.script = r
            .body
            .iter()
            .find(|l| !l.trim().is_empty())
            .is_some_and(|l| l.trim_start().starts_with("#!"));
    }
    out
}

/// `NAME=VALUE` (also after `export`, `local`, `declare …`) at the start
/// of a shell line, the value not empty: NAME.
fn shell_assignment(line: &str) -> Option<&str> {
    let mut line = line.trim_start();
    for k in ["export ", "local ", "readonly "] {
        line = line.strip_prefix(k).unwrap_or(line).trim_start();
    }
    if let Some(rest) = line.strip_prefix("declare ") {
        line = rest
            .trim_start()
            .split_once(' ')
            .filter(|(flags, _)| flags.starts_with('-'))
            .map_or(rest, |(_, r)| r)
            .trim_start();
    }
    let (name, value) = line.split_once('=')?;
    let value = value.split_whitespace().next().unwrap_or("");
    let empty = value.is_empty() || matches!(value, "\"\"" | "''" | "(" | "()");
    (!empty && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !name.is_empty())
        .then_some(name)
}

/// `NAME=(…` or `NAME+=(…`: (name, appends, the text after `(`).
fn array_start(line: &str) -> Option<(&str, bool, &str)> {
    let line = line.trim_start();
    let line = line.strip_prefix("declare -a ").unwrap_or(line);
    let line = line.strip_prefix("local ").unwrap_or(line).trim_start();
    let at = line.find("=(")?;
    let (name, append) = match line[..at].strip_suffix('+') {
        Some(n) => (n, true),
        None => (&line[..at], false),
    };
    (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then(|| (name, append, &line[at + 2..]))
}

/// The array a word expands whole: `"${NAME[@]}"`, `${NAME[*]}`.
fn array_word(word: &str) -> Option<&str> {
    let word = word.trim_matches('"');
    word.strip_prefix("${")
        .and_then(|w| w.strip_suffix("[@]}").or_else(|| w.strip_suffix("[*]}")))
}

/// A shell variable a value is exactly: `$NAME`, `${NAME}`.
fn shell_variable(value: &str) -> Option<&str> {
    value
        .strip_prefix("${")
        .and_then(|v| v.strip_suffix('}'))
        .or_else(|| value.strip_prefix('$'))
        .filter(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

/// Read a Justfile at `path` (canonical) under `root` (canonical); `text`
/// is already [`interpolate`]d.
pub fn read(root: &Path, path: &Path, text: &str) -> Option<MakeFile> {
    if !(text.contains("build") || text.contains("bud")) {
        return None;
    }
    let dir = path.parent()?;
    let vars = variables(text);
    let mut out = MakeFile {
        set: vars.set.clone(),
        empty: vars.empty.clone(),
        ..MakeFile::default()
    };
    let all_lines = logical_lines(text);
    let tools = tool_variables(&all_lines, BUILD_TOOLS);
    // A recipe moved to another folder (a `set working-directory`) builds
    // elsewhere.
    if text.lines().any(|l| l.starts_with("set working-directory")) {
        return None;
    }
    for recipe in recipes(text) {
        let body = recipe.body.join("\n");
        let mut assigned: BTreeSet<String> = BTreeSet::new();
        let mut arrays: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut moved = !recipe.in_folder;
        let mut filling: Option<String> = None;
        for line in logical_lines(&body) {
            if out.passes.len() >= MAX_PASSES {
                return Some(out);
            }
            let trimmed = line.trim();
            if trimmed.starts_with('#') {
                continue;
            }
            if !recipe.script {
                // Each line of a recipe runs in its own shell.
                assigned.clear();
                arrays.clear();
                moved = !recipe.in_folder;
            }
            // Inside a multi-line array.
            if let Some(name) = filling.clone() {
                let (inner, done) = match trimmed.strip_suffix(')') {
                    Some(inner) => (inner, true),
                    None => (trimmed, trimmed.starts_with(')')),
                };
                let words = arrays.entry(name).or_default();
                for w in shell_words(inner) {
                    if words.len() < MAX_ARRAY_WORDS {
                        words.push(w);
                    }
                }
                if done {
                    filling = None;
                }
                continue;
            }
            if let Some((name, append, after)) = array_start(trimmed) {
                if arrays.len() >= MAX_ARRAYS && !arrays.contains_key(name) {
                    continue;
                }
                let words = arrays.entry(name.to_string()).or_default();
                if !append {
                    words.clear();
                }
                let (inner, done) = match after.trim_end().strip_suffix(')') {
                    Some(inner) => (inner, true),
                    None => (after, false),
                };
                for w in shell_words(inner) {
                    if words.len() < MAX_ARRAY_WORDS {
                        words.push(w);
                    }
                }
                if !done {
                    filling = Some(name.to_string());
                }
                continue;
            }
            let words = shell_words(trimmed);
            if words.first().is_some_and(|w| w == "cd" || w == "pushd") {
                moved = true;
            }
            if let Some(name) = shell_assignment(trimmed) {
                assigned.insert(name.to_string());
            }
            if !(trimmed.contains("build") || trimmed.contains("bud")) {
                continue;
            }
            let mut expanded: Vec<String> = Vec::new();
            for w in words {
                match array_word(&w).and_then(|a| arrays.get(a)) {
                    Some(items) => expanded.extend(items.iter().cloned()),
                    None => expanded.push(w),
                }
                if expanded.len() > MAX_ARRAY_WORDS * 2 {
                    break;
                }
            }
            let words = expanded;
            let Some(at) = words.iter().enumerate().position(|(i, w)| {
                matches!(w.as_str(), "build" | "bud")
                    && words[..i]
                        .iter()
                        .rev()
                        .find(|w| !matches!(w.as_str(), "buildx" | "image"))
                        .is_some_and(|t| is_build_tool(t, &tools))
            }) else {
                continue;
            };
            if moved {
                continue;
            }
            let flags = command_flags(&words, at);
            let Some(dockerfile) =
                super::make::place(root, dir, words.get(at + 1..).unwrap_or_default())
            else {
                continue;
            };
            let mut args: Vec<(String, Option<String>)> = Vec::new();
            for (flag, value) in &flags {
                if flag != "--build-arg" {
                    continue;
                }
                let Some((name, value)) = value.as_deref().and_then(|v| v.split_once('=')) else {
                    continue;
                };
                if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || value.is_empty()
                {
                    continue;
                }
                match shell_variable(value) {
                    // A Justfile variable, as interpolated.
                    Some(var) if vars.set.contains(var) || vars.empty.contains(var) => {
                        args.push((name.to_string(), Some(var.to_string())));
                    }
                    Some(var) if assigned.contains(var) => args.push((name.to_string(), None)),
                    Some(_) => {}
                    None if value.contains('$') || value.contains('`') => {}
                    None => args.push((name.to_string(), None)),
                }
            }
            // A build that passes nothing counts too: it uses every
            // default (`passes::agree`).
            out.passes.push(MakePass {
                dockerfile,
                args,
                ..MakePass::default()
            });
        }
    }
    (out.passes != Vec::new()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolation() {
        let text = "PODMAN := if `command -v podman` != \"\" { \"podman\" } else { require(\"podman-remote\") }\nreg := \"ghcr.io/acme\"\nIMAGE := \"x\" / reg\nbuild:\n    {{ PODMAN }} build --build-arg R={{ reg }} --build-arg I={{IMAGE}} -f {{ justfile_dir() }}/Containerfile {{ quote(reg) }} {{{{ .Tag }}\n";
        let out = interpolate(text);
        assert!(
            out.ends_with("    podman build --build-arg R=ghcr.io/acme --build-arg I=${IMAGE} -f ./Containerfile ${__just} {{{{ .Tag }}\n"),
            "{out}"
        );
    }

    use super::super::write_test_file as write;

    #[test]
    fn recipe_builds_pass_arguments() {
        let tmp = tempfile::tempdir().unwrap();
        let root = crate::realpath::canonical(tmp.path()).unwrap();
        let file = write(
            &root,
            "Containerfile",
            "ARG D=\"\"\nFROM x:main${D:+@${D}}\n",
        );
        let text = interpolate(
            "PODMAN := which('podman')\nREG := \"ghcr.io\" / org\nEMPTY := \"\"\n\nbuild tag=\"\":\n    #!/usr/bin/bash\n    D=\"$(yq -r .digest images.yaml)\"\n    ARGS=(\n        \"--build-arg\" \"D=$D\"\n        \"--build-arg\" \"REG={{ REG }}\"\n        \"--build-arg\" \"E={{ EMPTY }}\"\n        \"--build-arg\" \"T=$tag\"\n    )\n    ARGS+=(\"--build-arg\" \"PLAIN=1\")\n    {{ PODMAN }} build -f Containerfile \"${ARGS[@]}\" .\n\nother:\n    D=x\n    podman build --build-arg D=$D --build-arg PLAIN=2 .\n",
        );
        let just = root.join("Justfile");
        let m = read(&root, &just, &text).unwrap();
        assert_eq!(m.passes.len(), 2, "{m:?}");
        let names: Vec<(&str, Option<&str>)> = m.passes[0]
            .args
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_deref()))
            .collect();
        assert_eq!(
            names,
            [
                ("D", None),
                ("REG", Some("REG")),
                ("E", Some("EMPTY")),
                ("PLAIN", None)
            ]
        );
        assert_eq!(m.passes[0].dockerfile, file);
        // A line recipe runs each line in its own shell: `D` is unset on
        // the build's line.
        assert_eq!(m.passes[1].args, [("PLAIN".to_string(), None)]);
        let mut files = BTreeMap::new();
        files.insert(just, m);
        let agreed = super::super::make::always(&files);
        let names: Vec<&str> = agreed[&file].iter().map(String::as_str).collect();
        assert_eq!(names, ["PLAIN"]);
    }

    #[test]
    fn hostile_text_stays_linear() {
        let start = std::time::Instant::now();
        let text = format!(
            "{}\n{}\nb:\n    #!/bin/sh\n    A=(\n{}",
            "{{ ".repeat(100_000),
            "{{ x }}".repeat(100_000),
            "    \"--build-arg\" \"K=1\"\n".repeat(50_000)
        );
        let out = interpolate(&text);
        assert!(out.len() >= text.len() / 2);
        let tmp = tempfile::tempdir().unwrap();
        let root = crate::realpath::canonical(tmp.path()).unwrap();
        assert_eq!(read(&root, &root.join("Justfile"), &out), None);
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn moved_recipes_place_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let root = crate::realpath::canonical(tmp.path()).unwrap();
        write(&root, "Containerfile", "FROM x\n");
        let just = root.join("Justfile");
        let text = "[no-cd]\nb:\n    podman build --build-arg A=1 .\nc:\n    #!/bin/sh\n    cd sub\n    podman build --build-arg A=1 .\n";
        assert_eq!(read(&root, &just, text), None);
        let text = "d:\n    podman build --build-arg A=1 .\n";
        assert!(read(&root, &just, text).is_some());
    }
}
