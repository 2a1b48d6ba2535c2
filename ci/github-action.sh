#!/usr/bin/env bash
# Entry point of the refit GitHub Action (action.yml). Reads INPUT_MODE,
# INPUT_DIFF_BASE, INPUT_ARGS, INPUT_TOKEN, INPUT_POST_REVIEW and the
# pull-request event in GITHUB_EVENT_PATH; writes GITHUB_OUTPUT and
# GITHUB_STEP_SUMMARY. In `review` mode it posts the review to
# $GITHUB_API_URL/repos/$GITHUB_REPOSITORY/pulls/N/reviews.
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

# review: post refit-review.json as a pull-request review, on the pull
# request's head commit, when it has comments. A token without
# `pull-requests: write` (a pull request from a fork) gets a warning: the
# review is still in refit-review.json and the annotations of the summary.
review_url=""
if [[ "$mode" == review && "${INPUT_POST_REVIEW:-true}" == true && -s "$report" ]]; then
  read -r pr head < <(python3 -c 'import json,sys
e=json.load(open(sys.argv[1])) if sys.argv[1] else {}
p=e.get("pull_request") or {}
print(p.get("number") or "", (p.get("head") or {}).get("sha") or "")' "${GITHUB_EVENT_PATH:-}" 2>/dev/null || echo "")
  comments="$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1])).get("comments") or []))' "$report" 2>/dev/null || echo 0)"
  if [[ -z "${pr:-}" ]]; then
    echo "refit: not a pull request; the review is in $report"
  elif [[ "$comments" == 0 ]]; then
    echo "refit: nothing to review on the changed lines"
  elif [[ -z "${INPUT_TOKEN:-}" ]]; then
    echo "::warning title=refit::no token to post the review; it is in $report"
  else
    body="$(python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
if sys.argv[2]: d["commit_id"]=sys.argv[2]
print(json.dumps(d))' "$report" "${head:-}")"
    api="${GITHUB_API_URL:-https://api.github.com}/repos/${GITHUB_REPOSITORY:-}/pulls/$pr/reviews"
    answer="$(mktemp)"
    code="$(curl --silent --show-error --output "$answer" --write-out '%{http_code}' \
      --request POST "$api" \
      --header "Authorization: Bearer $INPUT_TOKEN" \
      --header "Accept: application/vnd.github+json" \
      --header "X-GitHub-Api-Version: 2022-11-28" \
      --header "Content-Type: application/json" \
      --data-binary @- <<<"$body" || true)"
    if [[ "$code" == 2?? ]]; then
      review_url="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("html_url") or "")' "$answer" 2>/dev/null || true)"
      echo "refit: posted a review with $comments comment(s) ${review_url}"
    else
      # One line, and `%` escaped, as workflow commands require.
      said="$(head -c 300 "$answer" | tr '\r\n' '  ' | sed 's/%/%25/g')"
      echo "::warning title=refit::could not post the review (HTTP ${code:-000}: $said); the workflow needs 'permissions: pull-requests: write', and a pull request from a fork cannot post with its read-only token. The review is in $report"
    fi
    rm -f "$answer"
  fi
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
    echo "review-url=$review_url"
  } >>"$GITHUB_OUTPUT"
fi
exit "$status"
