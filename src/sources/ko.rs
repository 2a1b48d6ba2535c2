//! ko: `.ko.yaml`, the configuration `ko build` reads. `defaultBaseImage`
//! and each value of `baseImageOverrides` (keyed by Go import path) name
//! the base image ko puts the Go binary on. ko parses them with
//! go-containerregistry, whose default registry is Docker Hub, so a short
//! name (`debian:12`) is `docker.io/library/debian:12`. ko's own default
//! (`cgr.dev/chainguard/static` when no `defaultBaseImage` is set) is not
//! written in the file and not a site.

use super::common::dedupe;
use super::common::scalar_site;
use super::yaml;
use crate::site::{ImageSite, SiteKind, SyntaxError};

pub fn extract(text: &str) -> Result<Vec<ImageSite>, SyntaxError> {
    let docs = yaml::parse(text)?;
    let mut out = Vec::new();
    for doc in &docs {
        let root = doc.resolve(&doc.root);
        if let Some(s) = doc.get_scalar(root, "defaultBaseImage")
            && !s.value.trim().is_empty()
        {
            out.push(scalar_site(SiteKind::Ko, s, "defaultBaseImage"));
        }
        if let Some(overrides) = doc.get(root, "baseImageOverrides") {
            for (path, value) in doc.entries(overrides) {
                if let Some(s) = doc.resolve(value).as_scalar()
                    && !s.value.trim().is_empty()
                {
                    out.push(scalar_site(
                        SiteKind::Ko,
                        s,
                        &format!("baseImageOverrides.{path}"),
                    ));
                }
            }
        }
        doc.check_budget()?;
    }
    dedupe(&mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::common::site_texts;

    #[test]
    fn base_images() {
        let text = "defaultBaseImage: cgr.dev/chainguard/static:latest\nbaseImageOverrides:\n  github.com/acme/app/cmd/tool: debian:12-slim\n  github.com/acme/app/cmd/empty: ''\nbuilds:\n- id: app\n  main: ./cmd/app\n";
        let sites = extract(text).unwrap();
        assert_eq!(
            site_texts(&sites),
            [
                (
                    "defaultBaseImage".to_string(),
                    "cgr.dev/chainguard/static:latest".to_string()
                ),
                (
                    "baseImageOverrides.github.com/acme/app/cmd/tool".to_string(),
                    "debian:12-slim".to_string()
                ),
            ]
        );
        assert_eq!(
            sites[1].reference().map(|r| r.normalized()).as_deref(),
            Some("docker.io/library/debian:12-slim")
        );
        let s = &sites[1];
        assert_eq!(&text[s.span.start..s.span.end], "debian:12-slim");
        assert_eq!(extract("").unwrap(), []);
        assert_eq!(extract("builds: []\n").unwrap(), []);
    }
}
