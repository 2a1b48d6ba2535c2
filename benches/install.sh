#!/usr/bin/env bash
# From nothing to the first finding, for each install path that needs no
# compiler, measured here over loopback (no network): the release
# installer, the wheel, and the container image pulled from a registry.
#
#   benches/install.sh RELEASE_BINARY WHEEL
#
# RELEASE_BINARY: a static refit (cargo build --release --target
# x86_64-unknown-linux-musl); WHEEL: a refit-images wheel for this machine
# (maturin build --release). Needs curl, python3, buildah, skopeo and
# Debian's docker-registry. Prints wall and CPU seconds per path.
set -euo pipefail
binary="$(realpath "$1")" wheel="$(realpath "$2")"
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/tree"
printf 'FROM nginx:1.27\n' >"$work/tree/Dockerfile"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.1; done; echo "port $1 never opened" >&2; exit 1; }
measure() { # NAME COMMAND...: the command must print the first finding
  local name="$1"; shift
  local t="$work/time-$name"
  /usr/bin/time -f '%e %U %S %M' -o "$t" bash -c "$*" >"$work/out-$name" 2>&1 || true
  grep -q 'REG001' "$work/out-$name" || { echo "$name: no finding"; cat "$work/out-$name"; exit 1; }
  read -r wall user sys rss < <(tail -n 1 "$t")
  printf '%-10s wall %6.2f s   cpu %6.2f s   peak %6d KB\n' "$name" "$wall" "$(echo "$user + $sys" | bc)" "$rss"
}

# The release, served as GitHub serves it.
release="$work/www/download/v0.1.0"
bash "$root/ci/package.sh" x86_64-unknown-linux-musl "$binary" "$release" >/dev/null
bash "$root/ci/render-release.sh" acme/refit v0.1.0 "$release"
port="$(free_port)"
(cd "$work/www" && exec python3 -m http.server --bind 127.0.0.1 "$port" >/dev/null 2>&1) &
pids+=($!)
wait_port "$port"
url="http://127.0.0.1:$port/download/v0.1.0"
measure installer "export HOME=$work/home REFIT_DOWNLOAD_URL=$url; curl -LsSf $url/refit-installer.sh | sh && cd $work/tree && \$HOME/.local/bin/refit check --format concise ."

# The wheel, into a fresh virtual environment.
measure wheel "python3 -m venv $work/venv && $work/venv/bin/pip install --quiet --no-index $wheel && cd $work/tree && $work/venv/bin/refit check --format concise ."

# The image, pushed to a loopback registry, then pulled into empty storage.
reg="$(free_port)"
mkdir -p "$work/registry"
printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' "$work/registry" "$reg" >"$work/registry.yml"
/usr/bin/docker-registry serve "$work/registry.yml" >/dev/null 2>&1 &
pids+=($!)
wait_port "$reg"
mkdir -p "$work/context/dist/image/amd64"
cp "$binary" "$work/context/dist/image/amd64/refit"
b=(buildah --root "$work/build" --runroot "$work/build-run" --storage-driver vfs)
"${b[@]}" bud --quiet --isolation chroot --build-arg TARGETARCH=amd64 --target refit -t "127.0.0.1:$reg/acme/refit:v0.1.0" -f "$root/Containerfile" "$work/context" >/dev/null
"${b[@]}" push --quiet --tls-verify=false "127.0.0.1:$reg/acme/refit:v0.1.0" >/dev/null
p=(buildah --root "$work/pull" --runroot "$work/pull-run" --storage-driver vfs)
measure image "c=\$(${p[*]} from --quiet --tls-verify=false 127.0.0.1:$reg/acme/refit:v0.1.0) && ${p[*]} run --isolation chroot -v $work/tree:/work \$c -- /usr/local/bin/refit check --format concise ."
