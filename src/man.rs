//! The man page: clap's NAME, SYNOPSIS, DESCRIPTION and OPTIONS, then
//! every subcommand with its options, EXIT STATUS and ENVIRONMENT.

use std::fmt::Write;

/// Roff text: backslashes, hyphens and leading control characters escaped.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split('\n') {
        if !out.is_empty() {
            out.push('\n');
        }
        if line.starts_with(['.', '\'']) {
            out.push_str("\\&");
        }
        out.push_str(&line.replace('\\', "\\e").replace('-', "\\-"));
    }
    out
}

/// What the exit codes mean (also in the README).
pub const EXIT_STATUS: &[(&str, &str)] = &[
    (
        "0",
        "Nothing left to report at or above the fail level (with `--diff`: nothing would change), or `--exit-zero`.",
    ),
    (
        "1",
        "Findings remain at or above the fail level (`--fail-level`, default `warning`: `info` findings never fail); with `--diff`, fixes would change a file; with `--fix --exit-non-zero-on-fix`, a file was changed.",
    ),
    (
        "2",
        "A usage or configuration error, or a per-file error (E001-E005: a file could not be read, parsed or fixed).",
    ),
];

/// The environment variables refit reads.
pub const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "NO_COLOR",
        "When set and not empty, no colour (`FORCE_COLOR`, `CLICOLOR_FORCE` and `--color always` win).",
    ),
    (
        "FORCE_COLOR, CLICOLOR_FORCE",
        "When set and not empty (and not `0`), colour even when the output is not a terminal (unless `--color never`).",
    ),
    (
        "COLUMNS",
        "The width the human format wraps to; by default the terminal's width, or 100 columns when the output is not a terminal.",
    ),
];

fn tagged(out: &mut String, tag: &str, body: &str) {
    let _ = writeln!(out, ".TP\n{}\n{}", tag, esc(body));
}

fn arguments(out: &mut String, cmd: &clap::Command) {
    for arg in cmd.get_arguments() {
        if arg.is_hide_set() || arg.get_id() == "help" || arg.get_id() == "version" {
            continue;
        }
        let mut names = Vec::new();
        if let Some(s) = arg.get_short() {
            names.push(format!("\\fB\\-{s}\\fR"));
        }
        if let Some(l) = arg.get_long() {
            names.push(format!("\\fB\\-\\-{}\\fR", esc(l)));
        }
        for a in arg.get_visible_aliases().into_iter().flatten() {
            names.push(format!("\\fB\\-\\-{}\\fR", esc(a)));
        }
        let takes_value = arg.get_num_args().is_some_and(|n| n.takes_values());
        let value = arg
            .get_value_names()
            .and_then(|v| v.first())
            .map(|v| v.to_string())
            .unwrap_or_else(|| arg.get_id().as_str().to_uppercase());
        let mut tag = if names.is_empty() {
            format!("\\fI{}\\fR", esc(&value))
        } else {
            names.join(", ")
        };
        if !names.is_empty() && takes_value {
            let _ = write!(tag, " \\fI{}\\fR", esc(&value));
        }
        let mut help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
        let possible: Vec<String> = arg
            .get_possible_values()
            .iter()
            .filter(|v| !v.is_hide_set())
            .map(|v| v.get_name().to_string())
            .collect();
        if !possible.is_empty() && takes_value {
            let _ = write!(help, " [possible values: {}]", possible.join(", "));
        }
        tagged(out, &tag, &help);
    }
}

/// The whole page, in roff.
pub fn page(mut cmd: clap::Command) -> std::io::Result<String> {
    // Built, so arguments know how many values they take.
    cmd.build();
    let man = clap_mangen::Man::new(cmd.clone());
    let mut bytes = Vec::new();
    man.render_title(&mut bytes)?;
    man.render_name_section(&mut bytes)?;
    man.render_synopsis_section(&mut bytes)?;
    man.render_description_section(&mut bytes)?;
    man.render_options_section(&mut bytes)?;
    let mut out = String::from_utf8_lossy(&bytes).into_owned();
    out.push_str(".SH COMMANDS\n");
    for sub in cmd.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        let _ = writeln!(
            out,
            ".SS \"{} {}\"",
            esc(cmd.get_name()),
            esc(sub.get_name())
        );
        if let Some(about) = sub.get_long_about().or(sub.get_about()) {
            let _ = writeln!(out, "{}", esc(&about.to_string()));
        }
        arguments(&mut out, sub);
    }
    out.push_str(".SH \"EXIT STATUS\"\n");
    for (code, text) in EXIT_STATUS {
        tagged(&mut out, &format!("\\fB{code}\\fR"), text);
    }
    out.push_str(".SH ENVIRONMENT\n");
    for (name, text) in ENVIRONMENT {
        tagged(&mut out, &format!("\\fB{}\\fR", esc(name)), text);
    }
    let mut bytes = Vec::new();
    man.render_version_section(&mut bytes)?;
    out.push_str(&String::from_utf8_lossy(&bytes));
    Ok(out)
}
