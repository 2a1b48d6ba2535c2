use super::{Rule, RuleContext, declare_rule};
use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix};
use crate::site::{ImageSite, SiteKind};

declare_rule! {
    /// ## What it does
    /// Flags image tags in YAML written as plain scalars that YAML reads as
    /// numbers: `tag: 1.10` in Helm values, `newTag: 2.0` in a
    /// kustomization.
    ///
    /// ## Why is this bad?
    /// YAML parses `1.10` as the float 1.1, so the chart renders
    /// `image: app:1.1` and deploys a different version than the one
    /// written, or one that does not exist. Helm reads values through
    /// JSON, so every number is a float64 that a template prints with Go's
    /// `%v`: `1.20` becomes `1.2`, `1e3` becomes `1000` and a date tag
    /// `20250101` becomes `2.0250101e+07`.
    ///
    /// In chart values, TAG005 reports a number only when the chart prints
    /// something other than what is written: `tag: 3.6` and `tag: 2020`
    /// print as written, so nothing changes and nothing is reported.
    ///
    /// In a kustomization it is worse: kustomize converts the YAML to JSON
    /// and reads `newTag` into a string field, so a number makes it refuse
    /// to load the whole kustomization (`cannot unmarshal number into Go
    /// struct field Image.images.newTag of type string`).
    ///
    /// ## Example
    /// ```yaml
    /// image:
    ///   repository: docker.io/library/redis
    ///   tag: 7.10
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// image:
    ///   repository: docker.io/library/redis
    ///   tag: "7.10"
    /// ```
    ///
    /// ## Fix safety
    /// Safe: quoting keeps the text exactly as written, which is the tag the
    /// author meant.
    code: "TAG005",
    name: "numeric-tag",
    severity: Error,
    fix: Always,
    summary: "A YAML tag that parses as a number (`1.10` becomes `1.1`)",
    check: check,
}

/// What a Helm chart prints for a number written in its values: Helm
/// reads values through JSON, so every YAML number (integer or not) is a
/// float64, and a template prints it with Go's `%v` (`strconv` `'g'`,
/// shortest digits, exponent form from 1e+06 on): `1.10` prints `1.1`,
/// `1000000` prints `1e+06`, `3.6` and `2020` print as written. YAML 1.1
/// integers (go-yaml v2) take `_` separators and `0x`/`0o`/`0b`/leading-0
/// bases.
fn helm_prints(text: &str) -> Option<String> {
    let clean = text.replace('_', "");
    let (negative, digits) = match clean.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, clean.strip_prefix('+').unwrap_or(&clean)),
    };
    let integer = if let Some(hex) = digits.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()
    } else if let Some(oct) = digits.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()
    } else if let Some(bin) = digits.strip_prefix("0b") {
        i64::from_str_radix(bin, 2).ok()
    } else if digits.len() > 1 && digits.starts_with('0') {
        i64::from_str_radix(&digits[1..], 8).ok()
    } else {
        digits.parse::<i64>().ok()
    };
    let value = match integer {
        Some(i) => (if negative { -i } else { i }) as f64,
        None => clean.parse::<f64>().ok().filter(|f| f.is_finite())?,
    };
    Some(go_format_v(value))
}

/// Go's `fmt` `%v` for a float64: the shortest digits that read back as
/// the same number; `%e` form (`1.5e+07`) when the exponent is below -4 or
/// at least 6, as `strconv`'s `'g'` with precision -1 decides.
fn go_format_v(value: f64) -> String {
    if value == 0.0 {
        return "0".to_string();
    }
    // Rust's `{:e}` gives the shortest round-trip digits: `1.234567e6`.
    let sci = format!("{:e}", value.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if value < 0.0 { "-" } else { "" };
    if !(-4..6).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let dot = if rest.is_empty() { "" } else { "." };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{dot}{rest}e{esign}{:02}", exp.abs());
    }
    let point = exp + 1;
    let body = if point <= 0 {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else if point as usize >= digits.len() {
        format!("{digits}{}", "0".repeat(point as usize - digits.len()))
    } else {
        let (int, frac) = digits.split_at(point as usize);
        format!("{int}.{frac}")
    };
    format!("{sign}{body}")
}

fn check(rule: &Rule, site: &ImageSite, _ctx: &RuleContext, out: &mut Vec<Diagnostic>) {
    for slot in &site.extra.numeric_tags {
        let printed = helm_prints(&slot.value);
        // A chart prints `3.6` and `2020` as written: nothing changes, so
        // nothing is reported. Only kustomize refuses every number.
        if site.kind != SiteKind::Kustomize && printed.as_deref() == Some(slot.value.as_str()) {
            continue;
        }
        let becomes = match &printed {
            Some(n) if *n != slot.value => format!(", so the chart renders `{n}`"),
            _ => String::new(),
        };
        let message = if site.kind == SiteKind::Kustomize {
            format!(
                "`newTag: {}` is a YAML number: kustomize refuses to load this kustomization (it reads `newTag` as a string); quote it",
                slot.value
            )
        } else {
            format!("Tag `{}` is a YAML number{becomes}; quote it", slot.value)
        };
        let mut d = rule.report(site, message);
        d.span = slot.span;
        d.fix = Some(Fix::new(
            format!("Quote as `\"{}\"`", slot.value),
            Applicability::Safe,
            vec![Edit {
                span: slot.span,
                content: format!("\"{}\"", slot.value),
            }],
        ));
        out.push(d);
    }
}

#[cfg(test)]
mod tests {
    use super::helm_prints;

    /// What Go prints (`fmt.Sprint(float64)`) for values read through
    /// JSON, as Helm reads them.
    #[test]
    fn go_prints_as_helm_does() {
        for (written, printed) in [
            ("3.6", "3.6"),
            ("1.10", "1.1"),
            ("7.10", "7.1"),
            ("2020", "2020"),
            ("312", "312"),
            ("0.4", "0.4"),
            ("1.0", "1"),
            ("100000", "100000"),
            ("1000000", "1e+06"),
            ("1234567", "1.234567e+06"),
            ("20250101", "2.0250101e+07"),
            ("0.0001", "0.0001"),
            ("0.00001", "1e-05"),
            ("1e3", "1000"),
            ("010", "8"),
            ("0x1F", "31"),
            ("1_000", "1000"),
            ("-2.50", "-2.5"),
            ("0", "0"),
        ] {
            assert_eq!(helm_prints(written).as_deref(), Some(printed), "{written}");
        }
    }
}
