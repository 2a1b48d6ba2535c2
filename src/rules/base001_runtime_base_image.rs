use super::{Rule, RuleContext, declare_rule};
use crate::diagnostic::Diagnostic;
use crate::site::ImageSite;

declare_rule! {
    /// ## What it does
    /// TODO
    code: "BASE001",
    name: "runtime-base-image",
    severity: Warning,
    fix: Sometimes,
    summary: "A language runtime image that can be an OS base plus its package manager",
    check: check,
    opt_in: true,
}

/// `[rules.BASE001]` in refit.toml.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Options {
    pub form: Option<String>,
    pub stages: Option<Vec<String>>,
}

fn check(_rule: &Rule, _site: &ImageSite, _ctx: &RuleContext, _out: &mut Vec<Diagnostic>) {}
