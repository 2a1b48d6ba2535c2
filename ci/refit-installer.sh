#!/bin/sh
# Installs a released refit binary: picks the archive for this machine,
# downloads it with its checksum, verifies the checksum, and puts `refit`
# in REFIT_INSTALL_DIR (default ~/.local/bin). No compiler needed.
#
#   curl -LsSf https://github.com/<owner>/refit/releases/latest/download/refit-installer.sh | sh
#
# The release workflow publishes this file with the repository and version
# filled in. Variables (all optional):
#   REFIT_VERSION       a tag such as v0.2.0 (default: the release this
#                       installer came with)
#   REFIT_REPO          owner/name on GitHub (default: filled in at release)
#   REFIT_DOWNLOAD_URL  the folder holding the archives (default: the
#                       GitHub release of REFIT_VERSION); a mirror or a
#                       local copy
#   REFIT_INSTALL_DIR   where `refit` goes
#   REFIT_TARGET        the archive's target triple (default: detected)
set -eu

repo="${REFIT_REPO:-@REFIT_REPO@}"
version="${REFIT_VERSION:-@REFIT_VERSION@}"
install_dir="${REFIT_INSTALL_DIR:-${HOME:-}/.local/bin}"

say() { printf 'refit-installer: %s\n' "$*" >&2; }
fail() { say "$*"; exit 1; }

detect_target() {
  os="$(uname -s)"
  arch="$(uname -m)"
  case "$arch" in
    x86_64 | amd64) arch=x86_64 ;;
    aarch64 | arm64) arch=aarch64 ;;
    *) fail "no release binary for the processor '$arch'; install with 'pipx install refit-images' or 'cargo install --locked refit'" ;;
  esac
  case "$os" in
    # Static (musl) binaries run on every Linux distribution.
    Linux) echo "$arch-unknown-linux-musl" ;;
    Darwin) echo "$arch-apple-darwin" ;;
    MINGW* | MSYS* | CYGWIN* | Windows_NT) echo "$arch-pc-windows-msvc" ;;
    *) fail "no release binary for the system '$os'; install with 'pipx install refit-images' or 'cargo install --locked refit'" ;;
  esac
}

download() { # URL FILE
  case "$1" in
    # A local copy of the release files: a path or a file:// address.
    /*) cp "$1" "$2"; return ;;
    file://*) cp "${1#file://}" "$2"; return ;;
  esac
  if command -v curl >/dev/null 2>&1; then
    curl --proto '=https,http' --fail --location --silent --show-error --retry 3 --output "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then
    wget --quiet --tries=3 --output-document="$2" "$1"
  else
    fail "neither curl nor wget is installed"
  fi
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d ' ' -f 1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d ' ' -f 1
  else
    fail "neither sha256sum nor shasum is installed: cannot verify the download"
  fi
}

target="${REFIT_TARGET:-$(detect_target)}"
case "$target" in
  *windows*) archive="refit-$target.zip"; exe=refit.exe ;;
  *) archive="refit-$target.tar.gz"; exe=refit ;;
esac
if [ -n "${REFIT_DOWNLOAD_URL:-}" ]; then
  base="${REFIT_DOWNLOAD_URL%/}"
else
  case "$repo" in
    @*@ | "") fail "REFIT_REPO is not set (owner/name of refit's GitHub repository)" ;;
  esac
  case "$version" in
    @*@ | "" | latest) base="https://github.com/$repo/releases/latest/download" ;;
    *) base="https://github.com/$repo/releases/download/$version" ;;
  esac
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT INT TERM
say "downloading $archive"
download "$base/$archive" "$tmp/$archive" || fail "could not download $base/$archive"
download "$base/$archive.sha256" "$tmp/$archive.sha256" || fail "could not download $base/$archive.sha256"
want="$(cut -d ' ' -f 1 <"$tmp/$archive.sha256")"
got="$(sha256_of "$tmp/$archive")"
[ -n "$want" ] && [ "$want" = "$got" ] || fail "checksum mismatch for $archive (want $want, got $got): nothing installed"

case "$archive" in
  *.zip) (cd "$tmp" && unzip -q "$archive") ;;
  *) (cd "$tmp" && tar -xzf "$archive") ;;
esac
binary="$tmp/refit-$target/$exe"
[ -f "$binary" ] && [ ! -L "$binary" ] || fail "$archive has no regular file refit-$target/$exe"
mkdir -p "$install_dir"
# Copy beside the destination, then rename: a running refit is never
# overwritten in place.
cp "$binary" "$install_dir/.$exe.new"
chmod 0755 "$install_dir/.$exe.new"
mv -f "$install_dir/.$exe.new" "$install_dir/$exe"
say "installed $("$install_dir/$exe" --version 2>/dev/null || echo refit) to $install_dir/$exe"
case ":${PATH:-}:" in
  *":$install_dir:"*) ;;
  *) say "add $install_dir to PATH to run it as 'refit'" ;;
esac
