use super::{Rule, RuleContext, declare_rule, no_site_check};
use crate::diagnostic::Diagnostic;

declare_rule! {
    /// ## What it does
    /// Flags `FROM --platform=` with a constant value (`linux/amd64`),
    /// unless the stage's name contains the platform's OS or architecture
    /// (`AS build-amd64`), which says it is meant. BuildKit's build check:
    /// **FromPlatformFlagConstDisallowed**, with the same exception.
    ///
    /// ## Why is this bad?
    /// A constant platform pins the base image to one architecture: a build
    /// for another platform then runs the image under emulation, or ships
    /// binaries for the wrong architecture. Use `$BUILDPLATFORM` for build
    /// stages and leave the target platform to `--platform` on the command
    /// line.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM --platform=linux/amd64 golang:1.23 AS build
    /// ```
    ///
    /// ## Use instead
    /// ```dockerfile
    /// FROM --platform=$BUILDPLATFORM golang:1.23 AS build
    /// ```
    code: "STG005",
    name: "constant-platform",
    severity: Warning,
    fix: None,
    summary: "`FROM --platform` with a constant value",
    check: no_site_check,
    check_file: check_file,
}

/// `(os, architecture)` of a platform string, normalized the way
/// containerd's `platforms.Parse` normalizes the common spellings; `None`
/// when it does not look like one.
pub fn parse_platform(value: &str) -> Option<(String, String)> {
    let lower = value.trim_matches(['"', '\'']).to_ascii_lowercase();
    let parts: Vec<&str> = lower.split('/').collect();
    let arch = |a: &str| -> String {
        match a {
            "x86_64" | "x86-64" => "amd64".to_string(),
            "aarch64" => "arm64".to_string(),
            "i386" | "i686" => "386".to_string(),
            "armhf" | "armel" => "arm".to_string(),
            other => other.to_string(),
        }
    };
    let valid = |p: &str| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
    };
    if !parts.iter().all(|p| valid(p)) {
        return None;
    }
    match parts.as_slice() {
        [one] => {
            const OSES: &[&str] = &["linux", "windows", "darwin", "freebsd"];
            if OSES.contains(one) {
                Some((one.to_string(), String::new()))
            } else {
                Some(("linux".to_string(), arch(one)))
            }
        }
        [os, a] | [os, a, _] => Some((os.to_string(), arch(a))),
        _ => None,
    }
}

fn check_file(rule: &Rule, ctx: &RuleContext, out: &mut Vec<Diagnostic>) {
    let Some(graph) = &ctx.file.graph else {
        return;
    };
    for node in &graph.stages {
        let Some((platform, span)) = &node.platform else {
            continue;
        };
        if platform.contains('$') {
            continue;
        }
        let Some((os, arch)) = parse_platform(platform) else {
            continue;
        };
        let name = node.lower_name().unwrap_or_default();
        if (!os.is_empty() && name.contains(&os)) || (!arch.is_empty() && name.contains(&arch)) {
            continue;
        }
        let mut d = rule.report_at(
            *span,
            format!("`FROM --platform={platform}` pins a constant platform"),
        );
        d.help = Some(
            "use `--platform=$BUILDPLATFORM` for a build stage, or name the stage after the platform it is meant for (`AS build-amd64`)"
                .to_string(),
        );
        out.push(d);
    }
}

#[cfg(test)]
mod tests {
    use super::parse_platform;

    #[test]
    fn platforms() {
        assert_eq!(
            parse_platform("linux/amd64"),
            Some(("linux".into(), "amd64".into()))
        );
        assert_eq!(
            parse_platform("linux/arm64/v8"),
            Some(("linux".into(), "arm64".into()))
        );
        assert_eq!(
            parse_platform("x86_64"),
            Some(("linux".into(), "amd64".into()))
        );
        assert_eq!(parse_platform("linux/"), None);
    }
}
