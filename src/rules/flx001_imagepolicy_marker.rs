use super::{Rule, RuleContext, declare_rule, no_site_check};
use crate::diagnostic::Diagnostic;
use crate::reference::Reference;
use crate::sources::flux::{MarkerField, markers};

declare_rule! {
    /// ## What it does
    /// Checks Flux image automation setter markers, the YAML comments
    /// `# {"$imagepolicy": "namespace:name"}` (or `…:name:tag`,
    /// `…:name:name`, `…:name:digest`) beside a value that Flux's image
    /// update automation rewrites. Flags a marker not of that form (a
    /// policy name without its namespace, another field), which matches
    /// no setter Flux defines; a marker whose `ImagePolicy` the
    /// repository does not define (by name and namespace; a policy written
    /// without a namespace may be in any), and a marker whose policy
    /// follows an `ImageRepository` other than the image beside it: the
    /// whole reference (`image: ghcr.io/acme/app:1.0 # {"$imagepolicy":
    /// …}`) or, for a `:name` marker, the value itself must be the
    /// repository's `spec.image` (compared as normalized names).
    ///
    /// A missing policy is reported only when the repository defines some
    /// `ImagePolicy` (the automation is configured here, not in another
    /// repository), and only when refit read the whole repository.
    /// `:tag` and `:digest` markers sit beside a tag or digest alone, so
    /// only their policy is checked. No fix: which policy was meant is not
    /// in the file.
    ///
    /// ## Why is this bad?
    /// A marker that names no policy is silently ignored: the image is
    /// never updated, while the comment says it is automated. A marker
    /// whose policy follows another repository makes Flux write that
    /// repository's image here on its next run, replacing the image.
    ///
    /// ## Example
    /// ```yaml
    /// # ImagePolicy flux-system/app follows ImageRepository ghcr.io/acme/app
    /// image: ghcr.io/acme/web:1.4.0 # {"$imagepolicy": "flux-system:app"}
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// image: ghcr.io/acme/app:1.4.0 # {"$imagepolicy": "flux-system:app"}
    /// ```
    /// or name the policy that follows `ghcr.io/acme/web`.
    code: "FLX001",
    name: "imagepolicy-marker",
    severity: Warning,
    fix: None,
    summary: "A Flux setter marker names a missing ImagePolicy, or one that follows another image",
    check: no_site_check,
    check_file: check_file,
}

/// A reference's normalized repository name, or the text as written.
fn repository(text: &str) -> String {
    Reference::parse_normalized(text).map_or_else(|_| text.to_string(), |r| r.normalized_name())
}

fn check_file(rule: &Rule, ctx: &RuleContext, out: &mut Vec<Diagnostic>) {
    let Some(text) = &ctx.file.text else {
        return;
    };
    let none = crate::facts::FluxPolicies::default();
    // Without the repository's objects only the marker's form is checked.
    let (flux, known) = match &ctx.file.flux {
        Some(f) => (f.as_ref(), true),
        None => (&none, false),
    };
    for m in markers(text) {
        // Flux defines the setters `ns:name` and `ns:name:tag|name|digest`
        // for each policy: any other marker matches none.
        if m.field == MarkerField::Unknown {
            let mut d = rule.report_at(
                m.span,
                format!(
                    "Flux setter marker `{}` is not `namespace:name` with an optional `:tag`, `:name` or `:digest`: Flux ignores it",
                    m.setter
                ),
            );
            d.help = Some(
                "write the policy as `namespace:name` (the ImagePolicy's namespace is required)"
                    .to_string(),
            );
            out.push(d);
            continue;
        }
        let id = format!("{}/{}", m.namespace, m.name);
        let Some(policy) = flux.policy(&m.namespace, &m.name) else {
            if known && !flux.policies.is_empty() {
                let mut d = rule.report_at(
                    m.span,
                    format!("Flux setter marker names ImagePolicy `{id}`, which the repository does not define"),
                );
                d.help = Some(
                    "Flux's image automation skips a marker whose policy does not exist: name an existing ImagePolicy (`namespace:name`) or add it".to_string(),
                );
                out.push(d);
            }
            continue;
        };
        let Some(image_repo) = flux.repository_of(policy) else {
            continue;
        };
        let written = match (m.field, &m.value) {
            (MarkerField::Whole | MarkerField::Name, Some((value, _))) => value,
            _ => continue,
        };
        // A value Flux will fill in later, or one with a variable, is not
        // a name to compare.
        if written.contains("${") || written.contains("{{") {
            continue;
        }
        let beside = repository(written);
        let follows = repository(&image_repo.value);
        if beside == follows {
            continue;
        }
        let span = m.value.as_ref().map_or(m.span, |(_, s)| *s);
        let mut d = rule.report_at(
            span,
            format!(
                "`{written}` is marked for ImagePolicy `{id}`, which follows `{}` (ImageRepository `{}` in {})",
                image_repo.value, image_repo.name, image_repo.file
            ),
        );
        d.help = Some(format!(
            "on its next run Flux writes an image of `{}` here: point the marker at the policy for `{beside}`, or change the image",
            image_repo.value
        ));
        out.push(d);
    }
}
