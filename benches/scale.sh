#!/usr/bin/env bash
# Scale (issue 11): peak memory of `refit check` per output format on a
# generated tree of small files, and the time of `--fix` against `check`
# on a copy of the shared corpus.
#
#   bash benches/scale.sh              # 200,000 files, then the corpus
#   N=20000 bash benches/scale.sh      # a smaller tree
#   SKIP_TREE=1 bash benches/scale.sh  # only --fix against check
#
# Targets: peak RSS under 150 MB in every format at 200,000 files; `--fix`
# within 3x of `check`. The script exits 1 when a target is missed.
set -euo pipefail
cd "$(dirname "$0")/.."

[[ -x /usr/bin/time ]] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
cargo build --release --quiet
refit="$PWD/target/release/refit"
n=${N:-200000}
limit_mb=150
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail=0

# Peak RSS (KB) and wall seconds of one command; its exit status is ignored
# (findings exit 1).
measure() {
  /usr/bin/time -f '%M %e' -o "$work/time" "$@" >/dev/null 2>&1 || true
  tail -1 "$work/time"
}

if [[ -z "${SKIP_TREE:-}" ]]; then
  # Three Dockerfiles (one REG001 finding each) and one YAML file without
  # images per four files, 200 to a folder.
  python3 - "$work/tree" "$n" <<'EOF'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(root, f"d{i // 200:05}")
    if i % 200 == 0:
        os.makedirs(d, exist_ok=True)
    if i % 4 == 3:
        with open(os.path.join(d, f"s{i % 200:03}.compose.yaml"), "w") as f:
            f.write(f"services:\n  web:\n    image: nginx:1.{i % 200}\n")
    else:
        with open(os.path.join(d, f"s{i % 200:03}.Dockerfile"), "w") as f:
            f.write(f"FROM nginx:1.{i % 200}\nRUN echo {i}\n")
EOF
  echo "peak memory, refit check on $n small files (target < ${limit_mb} MB):"
  for format in human concise json sarif github rdjson rdjsonl review junit gitlab; do
    read -r kb secs < <(measure "$refit" check --isolated --format "$format" "$work/tree")
    mb=$((kb / 1024))
    mark=ok
    if ((mb >= limit_mb)); then mark=OVER; fail=1; fi
    printf '  %-8s %5d MB  %6.1f s  %5.2f KB/file  %s\n' "$format" "$mb" "$secs" \
      "$(awk -v a="$kb" -v b="$n" 'BEGIN { print a / b }')" "$mark"
  done
  rm -rf "$work/tree"
fi

corpus=../shared/corpus
if [[ -d "$corpus" ]]; then
  # Each --fix run gets a fresh copy (it rewrites files); check runs on
  # the same copies before they are fixed. Best of three.
  best_check="" best_fix=""
  for round in 1 2 3; do
    rm -rf "$work/c"
    cp -r "$corpus" "$work/c"
    # The shared corpus is read-only, and refit refuses read-only files.
    chmod -R u+w "$work/c"
    read -r _ c < <(measure "$refit" check --isolated --format concise "$work/c")
    read -r _ f < <(measure "$refit" check --isolated --fix --format concise "$work/c")
    best_check=$(awk -v a="$c" -v b="${best_check:-$c}" 'BEGIN { print (a < b) ? a : b }')
    best_fix=$(awk -v a="$f" -v b="${best_fix:-$f}" 'BEGIN { print (a < b) ? a : b }')
  done
  ratio=$(awk -v a="$best_fix" -v b="$best_check" 'BEGIN { print a / b }')
  mark=ok
  if awk -v r="$ratio" 'BEGIN { exit !(r > 3) }'; then mark=OVER; fail=1; fi
  printf 'corpus: check %.2f s, --fix %.2f s: --fix/check = %.2f (target <= 3)  %s\n' \
    "$best_check" "$best_fix" "$ratio" "$mark"
else
  echo "benches/scale.sh: $corpus not found; --fix against check skipped"
fi
exit "$fail"
