#!/usr/bin/env bash
# Rebuild refit's real-repository panel (see scripts/panel.txt) under a
# target folder, default /work/panel. Each repository is extracted at its
# pinned commit from a local bare git directory; nothing is downloaded here.
# Files marked export-ignore are kept (they are what the repository runs).
#
#   scripts/panel.sh [TARGET]
#   PANEL_MIRROR=/path/to/mirrors scripts/panel.sh /tmp/panel
#
# The mirror folder holds one git directory per repository, named
# owner+name, either as owner+name/repo or owner+name itself (bare).
# Repositories that are missing, or lack the pinned commit, are reported
# and skipped; the exit status is 1 when any was skipped.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
list=${PANEL_LIST:-$here/panel.txt}
target=${1:-${PANEL_DIR:-/work/panel}}
mirror=${PANEL_MIRROR:-/work/.mirror}

# Extract every blob of COMMIT that the git directory holds; report the rest.
extract_by_file() {
  local gitdir=$1 commit=$2 dest=$3 absent=0 mode type obj path
  while IFS=$'\t' read -r meta path; do
    read -r mode type obj <<<"$meta"
    [[ "$type" == blob ]] || continue
    mkdir -p "$dest/$(dirname "$path")"
    if ! git --git-dir="$gitdir" cat-file -e "$obj" 2>/dev/null; then
      echo "panel:   absent from the snapshot: $path" >&2
      absent=$((absent + 1))
      continue
    fi
    if [[ "$mode" == 120000 ]]; then
      ln -sfn "$(git --git-dir="$gitdir" cat-file blob "$obj")" "$dest/$path"
    else
      git --git-dir="$gitdir" cat-file blob "$obj" >"$dest/$path"
      [[ "$mode" == 100755 ]] && chmod +x "$dest/$path"
    fi
  done < <(git --git-dir="$gitdir" ls-tree -r --full-tree "$commit")
  echo "panel:   $absent file(s) absent from the snapshot (large or LFS)" >&2
}

mkdir -p "$target"
missing=0
built=0
while IFS=$'\t' read -r repo commit shape; do
  [[ -z "$repo" || "$repo" == \#* ]] && continue
  key=${repo/\//+}
  gitdir=""
  for cand in "$mirror/$key/repo" "$mirror/$key"; do
    if git --git-dir="$cand" rev-parse --git-dir >/dev/null 2>&1; then
      gitdir=$cand
      break
    fi
  done
  if [[ -z "$gitdir" ]]; then
    echo "panel: $repo: not available locally (no git directory under $mirror/$key); skipped" >&2
    missing=$((missing + 1))
    continue
  fi
  if ! git --git-dir="$gitdir" cat-file -e "$commit^{commit}" 2>/dev/null; then
    echo "panel: $repo: commit $commit is not in $gitdir; skipped" >&2
    missing=$((missing + 1))
    continue
  fi
  dest="$target/$key"
  rm -rf "$dest"
  mkdir -p "$dest"
  # read-tree + checkout-index into a private index: unlike `git archive`,
  # this keeps files marked export-ignore (CMake's .gitlab/ CI files).
  index=$(mktemp)
  if ! { GIT_INDEX_FILE="$index" git --git-dir="$gitdir" read-tree "$commit" &&
    GIT_INDEX_FILE="$index" git --git-dir="$gitdir" --work-tree="$dest" checkout-index -a -f; } 2>/dev/null; then
    # Snapshots may lack large blobs (and LFS content): extract file by
    # file and list what is absent.
    rm -rf "$dest"
    mkdir -p "$dest"
    extract_by_file "$gitdir" "$commit" "$dest"
  fi
  rm -f "$index"
  echo "$commit" >"$dest/.panel-commit"
  # A repository as its users have it: a `.git` marks its root, so refit
  # reads the context of the whole repository (bake files, skaffold,
  # kustomizations, scripts), whatever folder a file sits in.
  git init -q "$dest" 2>/dev/null || mkdir -p "$dest/.git"
  echo "panel: $repo @ ${commit:0:12} ($shape) -> $dest"
  built=$((built + 1))
done <"$list"

echo "panel: $built repositories under $target, $missing skipped"
[[ $missing -eq 0 ]]
