#!/usr/bin/env bash
# Packages one built refit binary as a release archive, the way the release
# workflow (.github/workflows/release.yml), the installer
# (ci/refit-installer.sh), the GitHub Action and `cargo binstall`
# (Cargo.toml's [package.metadata.binstall]) expect it:
#
#   refit-<target>.tar.gz   (.zip for Windows targets)
#     refit-<target>/refit  (refit.exe on Windows), README.md
#   refit-<target>.tar.gz.sha256   "<sha256>  refit-<target>.tar.gz"
#
# Usage: ci/package.sh TARGET BINARY OUTDIR
set -euo pipefail
if [[ $# -ne 3 ]]; then
  echo "usage: ci/package.sh TARGET BINARY OUTDIR" >&2
  exit 2
fi
target="$1" binary="$2" out="$3"
root="$(cd "$(dirname "$0")/.." && pwd)"
[[ -f "$binary" ]] || { echo "package.sh: no binary at $binary" >&2; exit 2; }
mkdir -p "$out"
out="$(cd "$out" && pwd)"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
name="refit-$target"
mkdir "$stage/$name"
case "$target" in
  *windows*) exe=refit.exe; archive="$name.zip" ;;
  *) exe=refit; archive="$name.tar.gz" ;;
esac
cp "$binary" "$stage/$name/$exe"
chmod 0755 "$stage/$name/$exe"
cp "$root/README.md" "$stage/$name/README.md"
rm -f "$out/$archive"
case "$archive" in
  *.zip) (cd "$stage" && 7z a -tzip -bd -bso0 "$out/$archive" "$name") ;;
  *)
    # GNU tar (Linux): reproducible order and owners; bsdtar (macOS): ids 0.
    # gzip -n leaves out the name and time.
    if tar --version 2>/dev/null | grep -q GNU; then
      flags=(--sort=name --owner=0 --group=0 --numeric-owner)
    else
      flags=(--uid 0 --gid 0)
    fi
    (cd "$stage" && tar "${flags[@]}" -cf - "$name" | gzip -n -9 >"$out/$archive")
    ;;
esac
if command -v sha256sum >/dev/null 2>&1; then
  (cd "$out" && sha256sum "$archive" >"$archive.sha256")
else
  (cd "$out" && shasum -a 256 "$archive" >"$archive.sha256")
fi
echo "$out/$archive"
