//! Dockerfile front-end (placeholder being replaced).

use super::SourceOptions;
use crate::site::{ImageSite, SyntaxError};

/// Parse a Dockerfile and return every image site in it, or the first
/// syntax error BuildKit would report.
pub fn extract(text: &str, options: &SourceOptions) -> Result<Vec<ImageSite>, SyntaxError> {
    let _ = (text, options);
    Ok(Vec::new())
}
