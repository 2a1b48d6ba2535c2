#!/usr/bin/env bash
# `refit pin` on 500 distinct references (50 repositories x 10 tags) on a
# local CNCF distribution registry (Debian's docker-registry, 127.0.0.1
# only): wall time, peak memory and the concurrency used, cold (no cache)
# and warm (the digest cache).
#
#   bash benches/pin.sh              # release build
#   N_REPOS=100 N_TAGS=10 bash benches/pin.sh
#   REPEAT=5 bash benches/pin.sh     # each measurement 5 times
#
# Each line names the load average when it was measured: on a machine
# shared with other builds the figures move with it.
set -euo pipefail
cd "$(dirname "$0")/.."

repos=${N_REPOS:-50}
tags=${N_TAGS:-10}
jobs=${JOBS:-16}
per_host=${PER_HOST:-8}
repeat=${REPEAT:-1}
if [[ ! -x /usr/bin/docker-registry ]]; then
  apt-get update -qq && apt-get install -y -qq docker-registry >/dev/null
fi
[[ -x /usr/bin/time ]] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
cargo build --release --quiet
refit="$PWD/target/release/refit"

work="$(mktemp -d)"
pid=""
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/config.yml" <<YAML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/data
http:
  addr: 127.0.0.1:$port
YAML
/usr/bin/docker-registry serve "$work/config.yml" 2>"$work/registry.log" &
pid=$!
for _ in $(seq 100); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),1)" 2>/dev/null && break
  sleep 0.1
done

# Push the images over the Distribution API (one keep-alive connection).
python3 - "$port" "$repos" "$tags" "$work/compose.yaml" <<'PY'
import hashlib, http.client, json, sys
port, repos, tags, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
c = http.client.HTTPConnection("127.0.0.1", port)
def req(method, path, body=b"", headers=None):
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse(); data = r.read()
    return r, data
def blob(repo, data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    r, _ = req("POST", f"/v2/{repo}/blobs/uploads/")
    loc = r.getheader("Location"); loc = loc.split(str(port), 1)[-1] if loc.startswith("http") else loc
    sep = "&" if "?" in loc else "?"
    r, _ = req("PUT", f"{loc}{sep}digest={d}", data, {"Content-Type": "application/octet-stream"})
    assert r.status == 201, r.status
    return d, len(data)
lines = ["services:"]
for i in range(repos):
    repo = f"bench/app{i}"
    layer = blob(repo, f"layer {i}".encode())
    for t in range(tags):
        cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Labels": {"t": f"{i}-{t}"}},
                          "rootfs": {"type": "layers", "diff_ids": [layer[0]]}}).encode()
        cd = blob(repo, cfg)
        m = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd[0], "size": cd[1]},
                        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer[0], "size": layer[1]}]}).encode()
        r, _ = req("PUT", f"/v2/{repo}/manifests/1.{t}", m, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
        assert r.status == 201, r.status
        lines.append(f"  s{i}x{t}:\n    image: 127.0.0.1:{port}/{repo}:1.{t}")
open(out, "w").write("\n".join(lines) + "\n")
PY
n=$((repos * tags))
echo "pushed $n images to 127.0.0.1:$port"

export REFIT_CACHE_DIR="$work/cache" REFIT_DOCKER_HUB="http://127.0.0.1:1"
run() {
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$refit" pin "$@" --jobs "$jobs" --per-host "$per_host" -v "$work" \
    >"$work/out" 2>"$work/err" || true
  read -r secs kb <"$work/time"
  local pinned
  pinned=$(grep -c "pinned sha256:" "$work/out" || true)
  echo "$label: $n references in ${secs} s, peak RSS $((kb / 1024)) MiB, pinned $pinned; $(grep '^requests' "$work/err"); load $(cut -d' ' -f1-3 /proc/loadavg)"
}
cp "$work/compose.yaml" "$work/compose.orig"
for _ in $(seq "$repeat"); do
  cp "$work/compose.orig" "$work/compose.yaml"
  run "cold (--no-cache)" --no-cache
  grep -q "@sha256:" "$work/compose.yaml" || { echo "nothing was pinned" >&2; exit 1; }
done
cp "$work/compose.orig" "$work/compose.yaml"
run "cold, filling the cache"
for _ in $(seq "$repeat"); do
  cp "$work/compose.orig" "$work/compose.yaml"
  run "warm (cache)"
done
echo "concurrency: $jobs resolver threads, at most $per_host requests in flight per registry host"
