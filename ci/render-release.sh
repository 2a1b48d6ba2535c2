#!/usr/bin/env bash
# Renders the files a release publishes beside its binaries, with the
# repository and version filled in:
#   OUTDIR/refit-installer.sh        the shell installer
#   OUTDIR/refit.gitlab-ci.yml       the GitLab CI template
#   OUTDIR/pre-commit-mirror/        the wheel-based pre-commit repository
#                                    (.pre-commit-hooks.yaml, pyproject.toml,
#                                    README.md), pushed to OWNER/refit-pre-commit
#
# Usage: ci/render-release.sh OWNER/NAME vX.Y.Z OUTDIR
set -euo pipefail
if [[ $# -ne 3 || "$1" != */* || "$2" != v[0-9]* ]]; then
  echo "usage: ci/render-release.sh OWNER/NAME vX.Y.Z OUTDIR" >&2
  exit 2
fi
repo="$1" version="$2" out="$3"
owner="${repo%%/*}"
owner="$(tr '[:upper:]' '[:lower:]' <<<"$owner")" # image names are lower case
py="${version#v}"
root="$(cd "$(dirname "$0")/.." && pwd)"
fill() {
  sed -e "s|@REFIT_REPO@|$repo|g" -e "s|@REFIT_OWNER@|$owner|g" \
    -e "s|@REFIT_VERSION@|$version|g" -e "s|@REFIT_PY_VERSION@|$py|g" "$1"
}
mkdir -p "$out/pre-commit-mirror"
fill "$root/ci/refit-installer.sh" >"$out/refit-installer.sh"
chmod 0755 "$out/refit-installer.sh"
fill "$root/ci/refit.gitlab-ci.yml" >"$out/refit.gitlab-ci.yml"
fill "$root/ci/pre-commit-mirror/pyproject.toml" >"$out/pre-commit-mirror/pyproject.toml"
fill "$root/ci/pre-commit-mirror/README.md" >"$out/pre-commit-mirror/README.md"
# The same hooks as this repository's, installed from the wheel.
{
  echo "# pre-commit hooks for refit, installed from the refit-images wheel"
  echo "# (generated from refit's .pre-commit-hooks.yaml by ci/render-release.sh)."
  grep -v '^#' "$root/.pre-commit-hooks.yaml" | sed -e 's/^\(  language:\) rust$/\1 python/'
} >"$out/pre-commit-mirror/.pre-commit-hooks.yaml"
if grep -rq '@REFIT_[A-Z_]*@' "$out"; then
  echo "render-release.sh: a placeholder was left unfilled" >&2
  exit 1
fi
grep -q 'language: python' "$out/pre-commit-mirror/.pre-commit-hooks.yaml"
if grep -q 'language: rust' "$out/pre-commit-mirror/.pre-commit-hooks.yaml"; then
  echo "render-release.sh: a mirror hook still builds with cargo" >&2
  exit 1
fi
