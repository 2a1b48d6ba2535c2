use super::{Rule, RuleContext, declare_rule};
use crate::diagnostic::Diagnostic;
use crate::site::ImageSite;

declare_rule! {
    /// ## What it does
    /// Notes references to a registry that shut down without one new place
    /// for every image: `gcr.io` and its regional hosts (`us.gcr.io`,
    /// `eu.gcr.io`, `asia.gcr.io`). Container Registry shut down on
    /// 2025-03-18 and stopped serving images of projects that were not
    /// moved to Artifact Registry about 2025-04-22. Google's own projects
    /// (`gcr.io/distroless`, `gcr.io/kaniko-project`, …) are not noted.
    /// The table is `rules/moved.toml` (entries with `status = "shut-down"`
    /// and no fix).
    ///
    /// This rule is opt-in (`--extend-select REG008`): a gcr.io name whose
    /// project moved to Artifact Registry keeps working, and refit cannot
    /// tell a dead reference from a live one without asking, so the note is
    /// not a finding by default.
    ///
    /// ## Why is this bad?
    /// If the project was not moved, its images are gone: every pull fails.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM gcr.io/my-project/api:1.2.0
    /// ```
    ///
    /// ## Use instead
    /// ```dockerfile
    /// FROM us-docker.pkg.dev/my-project/api/api:1.2.0
    /// ```
    code: "REG008",
    name: "shut-down-registry",
    severity: Info,
    fix: None,
    summary: "A registry that shut down (gcr.io): the image may be gone",
    check: check,
    opt_in: true,
}

fn check(rule: &Rule, site: &ImageSite, ctx: &RuleContext, out: &mut Vec<Diagnostic>) {
    super::reg004_moved_registry::check_moved(rule, site, ctx, out, true);
}
