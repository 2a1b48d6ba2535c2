//! Admission objects that match or rewrite image names as text: a
//! Gatekeeper `AssignImage` mutator (it keeps the path, so `nginx` and
//! `docker.io/library/nginx` become different images), an `Assign` or
//! `ModifySet` on an image field, a `ConstraintTemplate` whose Rego or CEL
//! reads `.image` (`K8sAllowedRepos`' `startswith(container.image, …)`),
//! a Kyverno policy that names images (patterns, mutations,
//! `verifyImages`), and Kubernetes' own `ValidatingAdmissionPolicy` /
//! `MutatingAdmissionPolicy` reading `.image`. These objects are
//! cluster-wide (a namespaced Kyverno `Policy` is kept too: which
//! namespace a manifest lands in is not known), and refit cannot tell which
//! manifests of the repository go to which cluster, so one such object
//! makes every qualifying fix in the repository's manifests unsafe: the new
//! name may get another verdict or another rewrite.

/// Whether a YAML file's text holds an admission object that reads or
/// rewrites image names. A cheap textual test on the top-level `kind:`
/// lines (not indented: the CRD that defines `ClusterPolicy` names the
/// kind under `spec.names` and is no policy) and the API group, as the
/// other context scans are.
pub fn reads_images(text: &str) -> bool {
    // Each verdict below needs one of these words in the text: without
    // any, the lines are not read. One search for all five (the regex
    // crate's vectorized search over literals), not a pass each.
    static WORDS: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"AssignImage|mutations\.gatekeeper\.sh|ConstraintTemplate|kyverno\.io|AdmissionPolicy",
        )
        .ok()
    });
    if WORDS.as_ref().is_some_and(|w| !w.is_match(text)) {
        return false;
    }
    let kinds: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("kind:"))
        .map(|k| k.trim().trim_matches(|c| c == '"' || c == '\''))
        .collect();
    if kinds.is_empty() {
        return false;
    }
    let has = |k: &str| kinds.contains(&k);
    if has("AssignImage") {
        return true;
    }
    let image_field = text.contains(".image") || text.contains("image:") || text.contains("images");
    if (has("Assign") || has("ModifySet")) && text.contains("mutations.gatekeeper.sh") {
        return text.lines().any(|l| {
            let l = l.trim_start();
            l.starts_with("location:") && l.contains("image")
        });
    }
    if has("ConstraintTemplate") && text.contains(".image") {
        return true;
    }
    if (has("ClusterPolicy") || has("Policy")) && text.contains("kyverno.io") {
        return image_field || text.contains("verifyImages");
    }
    if (has("ValidatingAdmissionPolicy") || has("MutatingAdmissionPolicy"))
        && text.contains(".image")
    {
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::reads_images;

    #[test]
    fn kinds() {
        assert!(reads_images(
            "apiVersion: mutations.gatekeeper.sh/v1alpha1\nkind: AssignImage\nspec:\n  parameters:\n    assignDomain: x.io\n"
        ));
        assert!(reads_images(
            "kind: ConstraintTemplate\nspec:\n  targets:\n    - rego: |\n        violation { not startswith(container.image, \"x\") }\n"
        ));
        assert!(reads_images(
            "apiVersion: mutations.gatekeeper.sh/v1\nkind: Assign\nspec:\n  location: \"spec.containers[name:*].image\"\n"
        ));
        assert!(!reads_images(
            "apiVersion: mutations.gatekeeper.sh/v1\nkind: Assign\nspec:\n  location: \"spec.dnsPolicy\"\n"
        ));
        assert!(!reads_images(
            "kind: ConstraintTemplate\nspec:\n  targets:\n    - rego: |\n        violation { input.review.object.metadata.labels }\n"
        ));
        assert!(reads_images(
            "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nspec:\n  rules:\n    - validate:\n        pattern:\n          spec:\n            containers:\n              - image: \"!*:latest\"\n"
        ));
        assert!(!reads_images(
            "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: nginx\n"
        ));
    }

    #[test]
    fn the_crd_of_a_policy_kind_is_no_policy() {
        assert!(!reads_images(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec:\n  group: kyverno.io\n  names:\n    kind: ClusterPolicy\n  versions:\n    - schema:\n        image: {}\n"
        ));
    }
}
