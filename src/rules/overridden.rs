//! A reference whose tag (or whole name) comes from a variable that the
//! repository's own build or run always sets: a Makefile build that passes
//! `--build-arg NAME=…` (or `$(VAR:%=--build-arg NAME=%)` with `VAR` set)
//! over a Dockerfile's `ARG NAME=…:latest`, a script that exports
//! `NEXUS_VERSION` before `docker compose up` over a Compose file's
//! `${NEXUS_VERSION:-latest}`. The default written there is not what the
//! repository builds or runs, so the tag rules (TAG001, TAG002, TAG003)
//! say nothing about it; the registry rules still judge the name.

use super::RuleContext;
use crate::site::ImageSite;

/// The variable that supplies `site`'s tag and that the repository's
/// build or run always sets, if any.
pub fn tag_overridden(site: &ImageSite, ctx: &RuleContext) -> Option<String> {
    let set = &ctx.file.overridden;
    if set.is_empty() || !site.raw.contains('$') {
        return None;
    }
    super::ref002_unresolved_variable::variables(tag_part(&site.raw))
        .into_iter()
        .find(|v| set.contains(v))
}

/// The part of a written reference that holds its tag: after the last
/// `:` outside `${…}` that follows the last `/`, else the last path
/// component (a variable there may hold the tag too). A digest is cut off.
fn tag_part(raw: &str) -> &str {
    let mut depth = 0usize;
    let mut slash = None;
    let mut colon = None;
    let mut end = raw.len();
    for (i, c) in raw.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            '/' if depth == 0 => {
                slash = Some(i);
                colon = None;
            }
            ':' if depth == 0 => colon = Some(i),
            '@' if depth == 0 => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    let start = colon.or(slash).map_or(0, |i| i + 1);
    raw.get(start..end).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::tag_part;

    #[test]
    fn tag_parts() {
        assert_eq!(
            tag_part("${DRIVER_TOOLKIT_IMAGE}"),
            "${DRIVER_TOOLKIT_IMAGE}"
        );
        assert_eq!(
            tag_part("sonatype/nexus3:${NEXUS_VERSION:-latest}"),
            "${NEXUS_VERSION:-latest}"
        );
        assert_eq!(tag_part("${REGISTRY}/app:latest"), "latest");
        assert_eq!(tag_part("${REGISTRY}/app"), "app");
        assert_eq!(tag_part("localhost:5000/${IMAGE}"), "${IMAGE}");
        assert_eq!(tag_part("app:${TAG}@sha256:abc"), "${TAG}");
    }
}
