//! Kubernetes admission: a `ValidatingAdmissionPolicy` (CEL), a Kyverno
//! `ClusterPolicy` (the same CEL, plus the rewrites as mutations) and
//! Gatekeeper constraints for the gatekeeper-library templates.

use super::matching::{self, Matcher, Regexes};
use super::{Export, File, NAME, Spec, yaml};
use serde_json::{Value, json};

/// One check: the refit rule it carries, its CEL over every image, and the
/// message a refused object gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub code: &'static str,
    pub expression: String,
    pub message: String,
}

/// A regex as a CEL string literal: raw (`r'…'`, backslashes as written)
/// when it can be, else single-quoted with escapes.
fn lit(regex: &str) -> String {
    if !regex.contains(['\'', '\n', '\r']) {
        return format!("r'{regex}'");
    }
    let mut out = String::from("'");
    for c in regex.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// The normalized text of image `i` (see `matching`).
fn normalized() -> String {
    format!(
        "(i.matches({d}) ? i : (i.matches({s}) ? 'docker.io/' + i : 'docker.io/library/' + i))",
        d = lit(matching::DOMAIN),
        s = lit(matching::SHORT_WITH_NAMESPACE)
    )
}

/// Whether image `i` passes a matcher: `docker.io/<one component>` is
/// tested as written, everything else normalized.
fn test(m: &Matcher) -> String {
    let hub = match &m.hub {
        Some(h) => format!("i.matches({})", lit(h)),
        None => "false".to_string(),
    };
    format!(
        "(i.matches({}) ? {hub} : {}.matches({}))",
        lit(matching::HUB_SINGLE),
        normalized(),
        lit(&m.normal)
    )
}

/// The pod spec of a Pod, a pod template (Deployment, Job, …) or a
/// CronJob, and every container image in it.
pub fn variables() -> Vec<(String, String)> {
    let spec = "object.kind == 'Pod' ? object.spec : (object.kind == 'CronJob' ? \
                object.spec.jobTemplate.spec.template.spec : object.spec.template.spec)";
    let list = |field: &str| {
        format!("(has(variables.podSpec.{field}) ? variables.podSpec.{field}.map(c, c.image) : [])")
    };
    vec![
        ("podSpec".to_string(), spec.to_string()),
        (
            "images".to_string(),
            format!(
                "{} + {} + {}",
                list("containers"),
                list("initContainers"),
                list("ephemeralContainers")
            ),
        ),
    ]
}

/// The checks the spec turns on, in rule order.
pub fn checks(spec: &Spec) -> Vec<Check> {
    let r = Regexes::of(&spec.policy);
    let all = |body: String| format!("variables.images.all(i, {body})");
    let mut out = Vec::new();
    let mut push = |code: &'static str, body: String, message: String| {
        out.push(Check {
            code,
            expression: all(body),
            message,
        });
    };
    if spec.require_registry {
        push(
            "REG001",
            format!("i.matches({})", lit(matching::DOMAIN)),
            "every image names its registry (refit REG001): write docker.io/library/node:22, \
             not node:22"
                .to_string(),
        );
    }
    if spec.canonical_hub {
        push(
            "REG003",
            format!("!i.matches({})", lit(&matching::non_canonical())),
            "Docker Hub images are written docker.io/library/NAME or docker.io/ORG/NAME (refit \
             REG003): no legacy host alias such as index.docker.io"
                .to_string(),
        );
    }
    if spec.trusted {
        if let Some(deny) = &r.deny {
            push(
                "REG005",
                format!("!{}", test(deny)),
                format!(
                    "an image comes from a denied registry (refit REG005): {}",
                    spec.policy.deny.join(", ")
                ),
            );
        }
        if let Some(allow) = &r.allow {
            let mut allowed = spec.policy.allow.clone();
            allowed.extend(spec.policy.proxies.iter().map(|p| format!("{}/*", p.via)));
            push(
                "REG005",
                test(allow),
                format!(
                    "an image comes from a registry the policy does not allow (refit REG005); \
                     allowed: {}",
                    allowed.join(", ")
                ),
            );
        }
    }
    if spec.proxied
        && let Some(upstream) = &r.upstream
    {
        let routes: Vec<String> = spec
            .policy
            .proxies
            .iter()
            .map(|p| format!("{} through {}", p.upstream, p.via))
            .collect();
        push(
            "REG006",
            format!("!{}", test(upstream)),
            format!(
                "an image bypasses its pull-through cache (refit REG006): {}",
                routes.join(", ")
            ),
        );
    }
    if spec.rewritten
        && let (Some(from), Some(to)) = (&r.rewrite_from, &r.rewrite_to)
    {
        let moves: Vec<String> = spec
            .policy
            .rewrites
            .iter()
            .map(|w| format!("{} -> {}", w.from, w.to))
            .collect();
        push(
            "REG007",
            format!("!{} || {}", test(from), test(to)),
            format!(
                "an image lives under a name the organisation moved (refit REG007): {}",
                moves.join(", ")
            ),
        );
    }
    if spec.require_tag {
        push(
            "TAG001",
            format!("i.matches({}) || i.contains('@')", lit(matching::TAG)),
            "every image has a tag or a digest (refit TAG001): no tag means latest".to_string(),
        );
    }
    if spec.forbid_latest {
        push(
            "TAG002",
            format!("!i.matches({})", lit(matching::LATEST)),
            "no image uses the latest tag without a digest (refit TAG002)".to_string(),
        );
    }
    if spec.require_digest {
        push(
            "TAG004",
            "i.contains('@')".to_string(),
            "every image is pinned by digest (refit TAG004)".to_string(),
        );
    }
    out
}

/// What the CEL-based policies say about short names, for notes and docs.
fn short_name_note(spec: &Spec) -> String {
    if spec.require_registry {
        "short names (node:22) are refused, as REG001 is on; other checks read them normalized \
         (docker.io/library/node:22)"
            .to_string()
    } else {
        "short names are normalized as the runtime does (node:22 is docker.io/library/node:22)"
            .to_string()
    }
}

fn pod_resources() -> Value {
    json!([
        // `kubectl debug` adds ephemeral containers through a subresource.
        {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
         "resources": ["pods", "pods/ephemeralcontainers"]},
        {"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
         "resources": ["deployments", "replicasets", "statefulsets", "daemonsets"]},
        {"apiGroups": ["batch"], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": ["jobs", "cronjobs"]},
    ])
}

pub fn vap(spec: &Spec) -> Export {
    let checks = checks(spec);
    let mut notes = vec![short_name_note(spec)];
    if checks.is_empty() {
        notes.push("no rule of the policy is on: the policy admits every image".to_string());
    }
    let variables: Vec<Value> = variables()
        .into_iter()
        .map(|(name, expression)| json!({"name": name, "expression": expression}))
        .collect();
    let validations: Vec<Value> = checks
        .iter()
        .map(|c| json!({"expression": c.expression, "message": c.message, "reason": "Forbidden"}))
        .collect();
    let policy = json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": NAME, "annotations": {"refit.dev/generated-by": "refit policy export --to vap"}},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {"resourceRules": pod_resources()},
            "variables": variables,
            "validations": validations,
        },
    });
    let binding = json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": NAME},
        "spec": {"policyName": NAME, "validationActions": ["Deny"]},
    });
    Export {
        files: vec![File {
            path: "validating-admission-policy.yaml".to_string(),
            text: format!("{}---\n{}", yaml::write(&policy), yaml::write(&binding)),
        }],
        notes,
    }
}

/// The regex replacements that carry out one rewrite on images as
/// written, as Kyverno's `regex_replace_all` (Go's regexp) applies them:
/// the full form, and for a Docker Hub namespace its short form
/// (`my-org/app`). A single-component short name (`node`, which is
/// `docker.io/library/node`) cannot be matched by a prefix; such rewrites
/// are left to the validation.
pub fn rewrite_replacements(from: &str, to: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    // `docker.io/my-org:1` is `docker.io/library/my-org`, not under
    // `docker.io/my-org`: a one-component Docker Hub prefix needs its `/`.
    let hub_single = from
        .strip_prefix("docker.io/")
        .is_some_and(|rest| !rest.contains('/'));
    let full = if from.ends_with('/') {
        (format!("^{}", matching::escape(from)), to.to_string())
    } else if hub_single {
        (format!("^{}/", matching::escape(from)), format!("{to}/"))
    } else {
        (
            format!("^{}(/|:|@|$)", matching::escape(from)),
            format!("{to}${{1}}"),
        )
    };
    out.push(full);
    if let Some(rest) = from.strip_prefix("docker.io/")
        && !rest.is_empty()
        && rest.split('/').next() != Some("library")
    {
        let short = if rest.contains('/') {
            if rest.ends_with('/') {
                (format!("^{}", matching::escape(rest)), to.to_string())
            } else {
                (
                    format!("^{}(/|:|@|$)", matching::escape(rest)),
                    format!("{to}${{1}}"),
                )
            }
        } else {
            // `my-org/…` only: `my-org:1` is `docker.io/library/my-org`.
            (format!("^{}/", matching::escape(rest)), format!("{to}/"))
        };
        out.push(short);
    }
    out
}

/// The rewrites in the order Kyverno applies them: the longest `from`
/// first; an image already under some `to` is not moved again.
pub fn ordered_rewrites(spec: &Spec) -> Vec<&crate::policy::Rewrite> {
    let mut rewrites: Vec<&crate::policy::Rewrite> = spec.policy.rewrites.iter().collect();
    rewrites.sort_by_key(|r| std::cmp::Reverse(r.from.len()));
    rewrites
}

/// A rewrite as a Kyverno mutation of each container list.
fn rewrite_rule(index: usize, regex: &str, replacement: &str, settled: &str) -> Value {
    let foreach: Vec<Value> = ["containers", "initContainers", "ephemeralContainers"]
        .iter()
        .map(|list| {
            json!({
                "list": format!("request.object.spec.{list}"),
                "preconditions": {"all": [
                    {
                        "key": format!("{{{{ regex_match('{regex}', '{{{{element.image}}}}') }}}}"),
                        "operator": "Equals",
                        "value": true,
                    },
                    {
                        "key": format!("{{{{ regex_match('{settled}', '{{{{element.image}}}}') }}}}"),
                        "operator": "Equals",
                        "value": false,
                    },
                ]},
                "patchStrategicMerge": {"spec": {list.to_string(): [{
                    "name": "{{ element.name }}",
                    "image": format!("{{{{ regex_replace_all('{regex}', '{{{{element.image}}}}', '{replacement}') }}}}"),
                }]}},
            })
        })
        .collect();
    json!({
        "name": format!("rewrite-{}", index + 1),
        "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
        "mutate": {"foreach": foreach},
    })
}

/// Images under some rewrite's `to`, as written (rewrites never chain).
pub fn settled(spec: &Spec) -> String {
    matching::any(spec.policy.rewrites.iter().map(|r| matching::under(&r.to)))
        .unwrap_or_else(|| "$^".to_string())
}

pub fn kyverno(spec: &Spec) -> Export {
    let checks = checks(spec);
    let mut rules: Vec<Value> = Vec::new();
    if spec.rewritten {
        let settled = settled(spec);
        let replacements = ordered_rewrites(spec)
            .into_iter()
            .flat_map(|r| rewrite_replacements(&r.from, &r.to));
        for (i, (regex, replacement)) in replacements.enumerate() {
            rules.push(rewrite_rule(i, &regex, &replacement, &settled));
        }
    }
    if !checks.is_empty() {
        let variables: Vec<Value> = variables()
            .into_iter()
            .map(|(name, expression)| json!({"name": name, "expression": expression}))
            .collect();
        let expressions: Vec<Value> = checks
            .iter()
            .map(|c| json!({"expression": c.expression, "message": c.message}))
            .collect();
        rules.push(json!({
            "name": "images",
            "match": {"any": [{"resources": {"kinds": [
                "Pod", "Pod/ephemeralcontainers", "Deployment", "ReplicaSet", "StatefulSet",
                "DaemonSet", "Job", "CronJob"
            ]}}]},
            "validate": {"cel": {"variables": variables, "expressions": expressions}},
        }));
    }
    let policy = json!({
        "apiVersion": "kyverno.io/v1",
        "kind": "ClusterPolicy",
        "metadata": {
            "name": NAME,
            "annotations": {
                "refit.dev/generated-by": "refit policy export --to kyverno",
                // The CEL reads pod templates itself.
                "pod-policies.kyverno.io/autogen-controllers": "none",
            },
        },
        "spec": {"validationFailureAction": "Enforce", "background": true, "rules": rules},
    });
    let mut notes = vec![short_name_note(spec)];
    if spec.rewritten && !spec.policy.rewrites.is_empty() {
        notes.push(
            "the rewrites mutate Pods before validation; a single-component Docker Hub short \
             name under a rewrite is not moved, and the validation refuses it"
                .to_string(),
        );
    }
    Export {
        files: vec![File {
            path: "kyverno-policy.yaml".to_string(),
            text: yaml::write(&policy),
        }],
        notes,
    }
}

/// The `allowedImages` of `K8sAllowedReposv2` for the policy: exact names
/// and prefixes that end with `*`, never a bare prefix. What the template
/// cannot say is in the notes.
pub fn allowed_images(spec: &Spec, notes: &mut Vec<String>) -> Option<Vec<String>> {
    let policy = &spec.policy;
    if !spec.trusted || policy.allow.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    for p in &policy.allow {
        let star = p.find('*');
        let registry_only = !p.contains('/');
        match star {
            None if registry_only => out.push(format!("{p}/*")),
            None => {
                out.push(format!("{p}:*"));
                out.push(format!("{p}@*"));
            }
            Some(at) if at == p.len() - 1 && !registry_only => out.push(p.clone()),
            _ => notes.push(format!(
                "gatekeeper: `{p}` has a `*` the template cannot match (it takes `*` only at the \
                 end of a name pattern); images it allows are refused"
            )),
        }
    }
    for proxy in &policy.proxies {
        out.push(format!("{}/*", proxy.via));
    }
    for upstream in super::allowed_upstreams(spec) {
        notes.push(format!(
            "gatekeeper: `{upstream}` is allowed and has a pull-through cache; the template \
             admits it directly (REG006 is left to refit check and the CEL policies)"
        ));
    }
    Some(out)
}

pub fn gatekeeper(spec: &Spec) -> Export {
    let mut notes = vec![
        "gatekeeper: the library templates compare images as written; short names (node:22) are \
         refused"
            .to_string(),
    ];
    let mut docs = Vec::new();
    let constraint = |kind: &str, parameters: Value| {
        json!({
            "apiVersion": "constraints.gatekeeper.sh/v1beta1",
            "kind": kind,
            "metadata": {"name": NAME},
            "spec": {
                "enforcementAction": "deny",
                "match": {"kinds": [{"apiGroups": [""], "kinds": ["Pod"]}]},
                "parameters": parameters,
            },
        })
    };
    if let Some(images) = allowed_images(spec, &mut notes) {
        docs.push(constraint(
            "K8sAllowedReposv2",
            json!({"allowedImages": images}),
        ));
    }
    if spec.trusted && !spec.policy.deny.is_empty() {
        notes.push(format!(
            "gatekeeper: the deny list ({}) has no library template; refit check and the CEL \
             policies enforce it",
            spec.policy.deny.join(", ")
        ));
    }
    if spec.proxied && !spec.policy.proxies.is_empty() && spec.policy.allow.is_empty() {
        notes.push(
            "gatekeeper: with no allow list, the upstreams of pull-through caches are not refused"
                .to_string(),
        );
    }
    if spec.rewritten && !spec.policy.rewrites.is_empty() {
        notes.push(
            "gatekeeper: the rewrites are not exported (no library template moves images)"
                .to_string(),
        );
    }
    if spec.require_tag || spec.forbid_latest {
        if spec.require_tag != spec.forbid_latest {
            notes.push(
                "gatekeeper: K8sDisallowedTags refuses both images without a tag and `latest`; \
                 only one of TAG001 and TAG002 is on"
                    .to_string(),
            );
        }
        docs.push(constraint("K8sDisallowedTags", json!({"tags": ["latest"]})));
    }
    if spec.require_digest {
        docs.push(constraint("K8sImageDigests", json!({})));
    }
    let text = docs
        .iter()
        .map(yaml::write)
        .collect::<Vec<_>>()
        .join("---\n");
    Export {
        files: vec![File {
            path: "gatekeeper-constraints.yaml".to_string(),
            text,
        }],
        notes,
    }
}
