//! refit: find every container image reference and make it safe.

pub mod reference;
pub mod site;
pub mod sources;
