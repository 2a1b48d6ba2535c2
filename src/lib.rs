//! refit: find every container image reference and make it safe.

pub mod check;
pub mod diagnostic;
pub mod fix;
pub mod reference;
pub mod rules;
pub mod site;
pub mod sources;
