#!/usr/bin/env bash
# Scaffold a rule: scripts/new-rule.sh TAG003 mutable-tag
set -euo pipefail
code="${1:?usage: scripts/new-rule.sh CODE kebab-name}"
name="${2:?usage: scripts/new-rule.sh CODE kebab-name}"
cd "$(dirname "$0")/.."
module="$(echo "${code}_${name}" | tr 'A-Z-' 'a-z_')"
file="src/rules/${module}.rs"
[[ -e "$file" ]] && { echo "$file exists" >&2; exit 1; }
cat > "$file" <<RUST
use super::{Rule, RuleContext, declare_rule};
use crate::diagnostic::Diagnostic;
use crate::site::ImageSite;

declare_rule! {
    /// ## What it does
    /// TODO
    ///
    /// ## Why is this bad?
    /// TODO
    ///
    /// ## Example
    /// \`\`\`dockerfile
    /// TODO
    /// \`\`\`
    ///
    /// ## Use instead
    /// \`\`\`dockerfile
    /// TODO
    /// \`\`\`
    code: "${code}",
    name: "${name}",
    severity: Warning,
    fix: None,
    summary: "TODO",
    check: check,
}

fn check(rule: &Rule, site: &ImageSite, _ctx: &RuleContext, out: &mut Vec<Diagnostic>) {
    let Some(reference) = site.reference() else {
        return;
    };
    let _ = (rule, reference, out);
}
RUST
mkdir -p "fixtures/${code}-${name}"
echo "created $file and fixtures/${code}-${name}/"
echo "next: add \`mod ${module};\` and \`&${module}::RULE,\` to src/rules/mod.rs (sorted by code),"
echo "write fixtures (a firing case and valid-*.Dockerfile), then BLESS=1 INSTA_UPDATE=always cargo test"
