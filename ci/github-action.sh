#!/usr/bin/env bash
# Entry point of the refit GitHub Action (action.yml). Reads INPUT_MODE,
# INPUT_DIFF_BASE, INPUT_ARGS and the pull-request event in
# GITHUB_EVENT_PATH; writes GITHUB_OUTPUT and GITHUB_STEP_SUMMARY.
set -uo pipefail

mode="${INPUT_MODE:-annotations}"
base="${INPUT_DIFF_BASE:-}"
if [[ -z "$base" && -n "${GITHUB_EVENT_PATH:-}" && -f "${GITHUB_EVENT_PATH}" ]]; then
  base="$(python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); print(((e.get("pull_request") or {}).get("base") or {}).get("sha") or "")' "$GITHUB_EVENT_PATH" 2>/dev/null || true)"
fi
# shellcheck disable=SC2206 # word splitting of the user's extra arguments is intended
extra=(${INPUT_ARGS:-})
scope=()
if [[ -n "$base" ]]; then
  # The pull request is its commits: what the checkout has beyond them
  # (files an earlier step generated) is not part of the review.
  scope=(--diff-base "$base" --diff-committed)
fi

case "$mode" in
  annotations) format=github; report="" ;;
  sarif) format=sarif; report=refit.sarif ;;
  review) format=github-review; report=refit-review.json ;;
  fix-suggestions) format=review; report=refit-review.md ;;
  *)
    echo "::error title=refit::unknown mode '$mode' (annotations, sarif, review, fix-suggestions)"
    exit 2
    ;;
esac

status=0
if [[ -n "$report" ]]; then
  refit check --format "$format" "${scope[@]}" "${extra[@]}" >"$report" || status=$?
else
  refit check --format "$format" "${scope[@]}" "${extra[@]}" || status=$?
fi

# Counts and the Markdown review for the job summary.
json="$(refit check --format json "${scope[@]}" "${extra[@]}" 2>/dev/null || true)"
counts="$(python3 -c 'import json,sys,collections
d=json.load(sys.stdin)
c=collections.Counter(x["code"] for x in d.get("diagnostics",[]))
print(sum(c.values()))
for k,v in sorted(c.items()): print(f"| {k} | {v} |")' <<<"$json" 2>/dev/null || echo 0)"
findings="$(head -n1 <<<"$counts")"

if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
  {
    echo "## refit"
    echo
    if [[ -n "$base" ]]; then
      echo "Changes since \`${base:0:12}\`: $findings finding(s)."
    else
      echo "$findings finding(s)."
    fi
    if [[ "$findings" != "0" ]]; then
      echo
      echo "| Rule | Findings |"
      echo "|---|---|"
      tail -n +2 <<<"$counts"
      echo
      refit check --format review "${scope[@]}" "${extra[@]}" 2>/dev/null | tail -n +2
    fi
  } >>"$GITHUB_STEP_SUMMARY"
fi

if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
  {
    echo "findings=$findings"
    echo "report=$report"
    echo "exit-code=$status"
  } >>"$GITHUB_OUTPUT"
fi
exit "$status"
