#!/usr/bin/env bash
# Installs refit for the GitHub Action (action.yml), in two steps around
# the action's caches:
#
#   install-refit.sh resolve   decides how: `path` (refit is already on
#                              PATH), `release` (download this runner's
#                              released binary, checksum verified) or
#                              `source` (cargo install from the action's
#                              own source: a branch or commit, not a release)
#   install-refit.sh install   does it, and puts refit on GITHUB_PATH
#
# resolve reads REFIT_VERSION (the `version` input), the action's own
# repository and ref (GITHUB_ACTION_REPOSITORY/GITHUB_ACTION_REF, else the
# last three parts of GITHUB_ACTION_PATH: .../OWNER/NAME/REF), RUNNER_OS_NAME,
# RUNNER_ARCH_NAME and RUNNER_TOOL_CACHE_DIR, and writes how, version, repo,
# target, dir and lock to GITHUB_OUTPUT (or stdout). install reads them
# back as REFIT_HOW, REFIT_VERSION, REFIT_REPO, REFIT_TARGET, REFIT_DIR, and
# REFIT_EXPLICIT (true when the version input named the release: a failed
# download is then an error, not a build from source).
# REFIT_DOWNLOAD_URL (a mirror of the release files) and
# REFIT_CARGO_INSTALL_ARGS (more `cargo install` arguments) pass through.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
action="${GITHUB_ACTION_PATH:-$(cd "$here/.." && pwd)}"

out() {
  if [[ -n "${GITHUB_OUTPUT:-}" ]]; then echo "$1=$2" >>"$GITHUB_OUTPUT"; else echo "$1=$2"; fi
}

source_key() {
  # What a source build is made of: a new commit of the action rebuilds,
  # the same one reuses the cached install. sha256sum, or shasum on macOS.
  local hasher=(sha256sum)
  command -v sha256sum >/dev/null 2>&1 || hasher=(shasum -a 256)
  { (cd "$action" && find Cargo.toml Cargo.lock src rules -type f 2>/dev/null | LC_ALL=C sort | xargs "${hasher[@]}") || true; } |
    "${hasher[@]}" | cut -c 1-16
}

resolve() {
  local repo ref version target cache how dir
  cache="${RUNNER_TOOL_CACHE_DIR:-${RUNNER_TOOL_CACHE:-${TMPDIR:-/tmp}}}/refit"
  if command -v refit >/dev/null 2>&1; then
    out how path
    out version ""
    out repo ""
    out target ""
    out dir "$(dirname "$(command -v refit)")"
    out lock ""
    return
  fi
  repo="${GITHUB_ACTION_REPOSITORY:-}"
  ref="${GITHUB_ACTION_REF:-}"
  if [[ -z "$repo" ]]; then
    # Runners check actions out to .../_actions/OWNER/NAME/REF.
    local p="${GITHUB_ACTION_PATH:-}"
    if [[ "$p" == */_actions/*/*/* ]]; then
      local rest="${p##*/_actions/}"
      IFS=/ read -r owner name r _ <<<"$rest"
      repo="$owner/$name"
      ref="${ref:-$r}"
    fi
  fi
  version="${REFIT_VERSION:-}"
  # A release tag (v1.2.3, v1.2.3-rc.1); a moving major tag (`v1`) names
  # no release archive, so it builds from source.
  if [[ -z "$version" && "$ref" =~ ^v[0-9]+\.[0-9]+\.[0-9]+([.-][0-9A-Za-z.-]+)?$ ]]; then
    version="$ref"
  fi
  [[ -z "$version" || "$version" == v* ]] || version="v$version"
  local arch
  case "${RUNNER_ARCH_NAME:-$(uname -m)}" in
    X64 | x86_64 | amd64) arch=x86_64 ;;
    ARM64 | aarch64 | arm64) arch=aarch64 ;;
    *) arch="" ;;
  esac
  case "${RUNNER_OS_NAME:-$(uname -s)}" in
    Linux) target="$arch-unknown-linux-musl" ;;
    macOS | Darwin) target="$arch-apple-darwin" ;;
    Windows) target="$arch-pc-windows-msvc" ;;
    *) target="" ;;
  esac
  [[ -n "$arch" ]] || target=""
  if [[ -n "$version" && -n "$target" && -n "$repo${REFIT_DOWNLOAD_URL:-}" ]]; then
    how=release
    dir="$cache/$version/$target"
  else
    how=source
    dir="$cache/source"
  fi
  out how "$how"
  out version "$version"
  out repo "$repo"
  out target "$target"
  out dir "$dir"
  out lock "$(source_key)"
}

on_path() {
  if [[ -n "${GITHUB_PATH:-}" ]]; then echo "$1" >>"$GITHUB_PATH"; fi
  echo "refit: $("$1/refit" --version)"
}

from_source() {
  local dir="$1" key
  key="$(source_key)"
  if [[ -x "$dir/bin/refit" && "$(cat "$dir/.source-key" 2>/dev/null)" == "$key" ]]; then
    echo "refit: the cached build of this source"
  else
    command -v cargo >/dev/null 2>&1 || { echo "::error title=refit::this ref of the action is not a release and cargo is not installed to build it; pin the action to a release tag or set the version input"; exit 2; }
    echo "refit: building from source (this ref is not a release); pin a release tag to download instead"
    # shellcheck disable=SC2086 # extra arguments split on purpose
    cargo install --locked --quiet --root "$dir" --path "$action" ${REFIT_CARGO_INSTALL_ARGS:-}
    echo "$key" >"$dir/.source-key"
  fi
  on_path "$dir/bin"
}

install() {
  local how="${REFIT_HOW:?run resolve first}" dir="${REFIT_DIR:?run resolve first}"
  case "$how" in
    path) echo "refit: $(refit --version) (already on PATH)" ;;
    release)
      if [[ -x "$dir/refit" || -x "$dir/refit.exe" ]]; then
        echo "refit: cached $REFIT_VERSION"
      elif ! REFIT_INSTALL_DIR="$dir" REFIT_VERSION="$REFIT_VERSION" REFIT_REPO="$REFIT_REPO" \
        REFIT_TARGET="$REFIT_TARGET" sh "$here/refit-installer.sh"; then
        if [[ "${REFIT_EXPLICIT:-false}" == true ]]; then
          echo "::error title=refit::could not install refit $REFIT_VERSION for $REFIT_TARGET"
          exit 2
        fi
        echo "::warning title=refit::no release binary for $REFIT_VERSION ($REFIT_TARGET); building from source"
        from_source "$(dirname "$(dirname "$dir")")/source"
        return
      fi
      on_path "$dir"
      ;;
    source) from_source "$dir" ;;
    *) echo "::error title=refit::unknown install method '$how'"; exit 2 ;;
  esac
}

case "${1:-}" in
  resolve) resolve ;;
  install) install ;;
  *) echo "usage: install-refit.sh resolve|install" >&2; exit 2 ;;
esac
