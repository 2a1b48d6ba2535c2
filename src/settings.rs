//! Configuration: which rules run, how they judge, and how references
//! resolve. `Settings` holds what the user configured (refit.toml, the
//! command line), never what the repository contains: facts about other
//! files reach a check through its `SourceOptions` (see `crate::workspace`).

use crate::diagnostic::{Applicability, Diagnostic, Severity};
use crate::rules::{RULES, knowledge::Knowledge};
use std::collections::BTreeMap;

/// Which rules run, and how references resolve.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Codes or prefixes; empty means every rule that is not opt-in.
    pub select: Vec<String>,
    /// Codes or prefixes added to `select` (or to the default set).
    pub extend_select: Vec<String>,
    /// Codes or prefixes to leave out.
    pub ignore: Vec<String>,
    /// `--build-arg NAME=VALUE` overrides for Dockerfile ARGs.
    pub build_args: BTreeMap<String, String>,
    /// `--env NAME=VALUE` values for Compose interpolation; they win over `.env`.
    pub env: BTreeMap<String, String>,
    /// Severity overrides by code or prefix (config `[severity]`).
    pub severity: Vec<(String, Severity)>,
    /// Codes whose unsafe fixes count as safe (config `fix.extend-safe`).
    pub extend_safe: Vec<String>,
    /// Codes whose safe fixes count as unsafe (config `fix.extend-unsafe`).
    pub extend_unsafe: Vec<String>,
    /// Every overlay of the repository's kustomize bases is in the
    /// repository (config `fix.kustomize-consumers = "repository"`).
    pub kustomize_consumers_in_repository: bool,
    /// Registry policy (config `[registries]`).
    pub policy: crate::policy::Policy,
    /// Per-rule settings (config `[rules.CODE]`).
    pub options: crate::rules::RuleOptions,
    /// The knowledge tables extended by config `[knowledge]`; `None`: the
    /// compiled-in ones.
    pub knowledge: Option<std::sync::Arc<Knowledge>>,
    /// `refit.lock` (TAG004's digests), read with no network.
    pub lock: Option<std::sync::Arc<crate::online::lock::Lock>>,
}

pub fn matches(code: &str, selector: &str) -> bool {
    let selector = selector.trim();
    !selector.is_empty()
        && (selector.eq_ignore_ascii_case("ALL")
            || code
                .get(..selector.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(selector)))
}

impl Settings {
    /// Apply severity and fix-safety overrides; the longest matching code
    /// prefix wins.
    pub fn adjust(&self, diagnostics: &mut [Diagnostic]) {
        let longest = |list: &[String], code: &str| {
            list.iter()
                .filter(|c| matches(code, c))
                .map(String::len)
                .max()
        };
        for d in diagnostics {
            if let Some((_, s)) = self
                .severity
                .iter()
                .filter(|(c, _)| matches(d.code, c))
                .max_by_key(|(c, _)| c.len())
            {
                d.severity = *s;
            }
            if let Some(fix) = &mut d.fix {
                match (
                    longest(&self.extend_safe, d.code),
                    longest(&self.extend_unsafe, d.code),
                ) {
                    (Some(s), Some(u)) if s > u => fix.applicability = Applicability::Safe,
                    (Some(_), None) => fix.applicability = Applicability::Safe,
                    (_, Some(_)) => fix.applicability = Applicability::Unsafe,
                    _ => {}
                }
            }
        }
    }

    /// Whether `select` or `extend-select` names the rule by its full code.
    pub fn selects_by_code(&self, code: &str) -> bool {
        self.select
            .iter()
            .chain(&self.extend_select)
            .any(|s| s.trim().eq_ignore_ascii_case(code))
    }

    /// [`Settings::enabled`] of a rule at hand: the default selection
    /// needs no lookup of the rule by its code.
    pub fn rule_enabled(&self, rule: &crate::rules::Rule) -> bool {
        if self.select.is_empty() && self.extend_select.is_empty() && self.ignore.is_empty() {
            return !rule.opt_in;
        }
        self.enabled(rule.code)
    }

    /// Whether a rule runs. The more specific selector wins, as in ruff:
    /// `--select REG --ignore REG003` drops REG003, and
    /// `--ignore REG --select REG003` keeps it.
    ///
    /// An opt-in rule runs only when a code or prefix names it (`ALL` does
    /// not), as clippy's pedantic lints need naming.
    pub fn enabled(&self, code: &str) -> bool {
        // The default selection (nothing selected or ignored) needs only
        // whether the rule is opt-in: the common case, asked for every
        // rule of every file.
        if self.select.is_empty() && self.extend_select.is_empty() && self.ignore.is_empty() {
            return !RULES.iter().any(|r| r.code == code && r.opt_in);
        }
        let opt_in = RULES.iter().any(|r| r.code == code && r.opt_in);
        let by_code_only = crate::rules::SELECTED_BY_CODE_ONLY.contains(&code);
        let best = |list: &[String], extra: &[String], selecting: bool| {
            list.iter()
                .chain(extra)
                .filter(|s| matches(code, s))
                .filter(|s| !(opt_in && s.trim().eq_ignore_ascii_case("ALL")))
                // Selecting by prefix does not turn these on (ignoring does
                // turn them off).
                .filter(|s| !(by_code_only && selecting && !s.trim().eq_ignore_ascii_case(code)))
                .map(|s| {
                    if s.trim().eq_ignore_ascii_case("ALL") {
                        0
                    } else {
                        s.trim().len()
                    }
                })
                .max()
        };
        let selected = if self.select.is_empty() && !opt_in {
            Some(0)
        } else {
            best(&self.select, &self.extend_select, true)
        };
        match (selected, best(&self.ignore, &[], false)) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(s), Some(i)) => s > i,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(select: &[&str], ignore: &[&str]) -> Settings {
        Settings {
            select: select.iter().map(|s| s.to_string()).collect(),
            ignore: ignore.iter().map(|s| s.to_string()).collect(),
            ..Settings::default()
        }
    }

    #[test]
    fn tag004_needs_its_full_code() {
        assert!(!settings(&["TAG"], &[]).enabled("TAG004"));
        assert!(!settings(&["ALL"], &[]).enabled("TAG004"));
        assert!(settings(&["TAG004"], &[]).enabled("TAG004"));
        assert!(settings(&["TAG"], &[]).enabled("TAG001"));
        let mut s = settings(&[], &[]);
        s.extend_select = vec!["TAG004".to_string()];
        assert!(s.enabled("TAG004"));
        s.ignore = vec!["TAG004".to_string()];
        assert!(!s.enabled("TAG004"));
    }

    #[test]
    fn selection_by_code_and_prefix() {
        assert!(settings(&[], &[]).enabled("REG001"));
        assert!(settings(&["REG"], &[]).enabled("REG001"));
        assert!(!settings(&["REG"], &[]).enabled("TAG001"));
        assert!(!settings(&["REG"], &["REG003"]).enabled("REG003"));
        assert!(settings(&["REG003"], &["REG"]).enabled("REG003"));
        assert!(!settings(&[], &["tag"]).enabled("TAG002"));
        assert!(settings(&["ALL"], &[]).enabled("TAG002"));
    }

    #[test]
    fn opt_in_rules_need_a_selector() {
        assert!(!settings(&[], &[]).enabled("BASE001"));
        assert!(settings(&[], &[]).enabled("BASE002"));
        assert!(settings(&["BASE"], &[]).enabled("BASE001"));
        assert!(!settings(&["ALL"], &[]).enabled("BASE001"));
        let extended = Settings {
            extend_select: vec!["BASE001".to_string()],
            ..Settings::default()
        };
        assert!(extended.enabled("BASE001"));
        assert!(
            extended.enabled("REG001"),
            "extend-select keeps the default set"
        );
        let ignored = Settings {
            extend_select: vec!["BASE".to_string()],
            ignore: vec!["BASE001".to_string()],
            ..Settings::default()
        };
        assert!(!ignored.enabled("BASE001"));
    }
}
