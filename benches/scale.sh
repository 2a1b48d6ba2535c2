#!/usr/bin/env bash
# Scale (issues 11, 21, 23): peak memory of `refit check` per output format,
# to stdout and to `--output-file`, on a generated tree of tiny Dockerfiles
# (`FROM node:20`, one finding each) in nested folders; and the CPU time
# (user + sys) of `--fix` against `check` on copies of the corpus
# Dockerfiles.
#
#   bash benches/scale.sh              # 200,000 files, then the corpus
#   N=50000 bash benches/scale.sh      # a smaller tree
#   SKIP_TREE=1 bash benches/scale.sh  # only --fix against check
#   ROUNDS=5 SETTLE=40 bash benches/scale.sh
#
# Targets: peak RSS under 150 MB in every format at 200,000 files (100 MB
# up to 50,000); `--fix` CPU within 2x of `check`. The script exits 1 when
# a target is missed.
set -euo pipefail
cd "$(dirname "$0")/.."

[[ -x /usr/bin/time ]] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
cargo build --release --quiet
refit="$PWD/target/release/refit"
n=${N:-200000}
limit_mb=150
((n <= 50000)) && limit_mb=100
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
  # One REG001 finding per file, 100 files to a folder, 20 folders to a
  # parent.
  python3 - "$work/tree" "$n" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(root, f"a{i // 2000:03}", f"b{i // 100:05}")
    if i % 100 == 0:
        os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"x{i}.Dockerfile"), "w") as f:
        f.write("FROM node:20\n")
PY
  echo "peak memory, refit check on $n tiny Dockerfiles with a finding each (target < ${limit_mb} MB):"
  for format in human concise json sarif github rdjson rdjsonl review junit gitlab; do
    for to in stdout file; do
      out=()
      [[ $to == file ]] && out=(--output-file "$work/report")
      read -r kb secs < <(measure "$refit" check --isolated --format "$format" "${out[@]}" "$work/tree")
      mb=$((kb / 1024))
      mark=ok
      if ((mb >= limit_mb)); then mark=OVER; fail=1; fi
      printf '  %-8s %-6s %5d MB  %6.1f s  %5.2f KB/file  %s\n' "$format" "$to" "$mb" "$secs" \
        "$(awk -v a="$kb" -v b="$n" 'BEGIN { print a / b }')" "$mark"
    done
  done
  rm -rf "$work/tree" "$work/report"
fi

corpus=../shared/corpus
if [[ -f "$corpus/MANIFEST.tsv" ]]; then
  # CPU time (user + sys) of --fix against check on the corpus Dockerfiles
  # (the list benches/corpus.sh uses), each round on a fresh copy: check,
  # then --fix on the same copy. The copy rests SETTLE seconds first: on
  # ext4 without a journal, creating a file skips the inodes deleted in
  # the last 35 s, and the copy deleted the round before would be charged
  # to this round's --fix.
  (cd "$corpus" && awk -F'\t' 'NR > 1 && $2 == "dockerfile" { print $4 }' MANIFEST.tsv) > "$work/list"
  cpu() {
    /usr/bin/time -f '%U %S' -o "$work/cpu" "$@" >/dev/null 2>&1 || true
    tail -1 "$work/cpu" | awk '{ print $1 + $2 }'
  }
  rounds=${ROUNDS:-3}
  sum_check=0 sum_fix=0
  for ((round = 1; round <= rounds; round++)); do
    rm -rf "$work/c"
    mkdir -p "$work/c"
    (cd "$corpus" && tar cf - -T "$work/list") | (cd "$work/c" && tar xf -)
    # The shared corpus is read-only, and refit refuses read-only files.
    chmod -R u+w "$work/c"
    sleep "${SETTLE:-40}"
    c=$(cd "$work/c" && cpu xargs -d '\n' -a "$work/list" "$refit" check --format concise)
    f=$(cd "$work/c" && cpu xargs -d '\n' -a "$work/list" "$refit" check --fix --format concise)
    printf '  round %d: check %.2f s, --fix %.2f s CPU: %.2fx\n' "$round" "$c" "$f" \
      "$(awk -v a="$f" -v b="$c" 'BEGIN { print a / b }')"
    sum_check=$(awk -v a="$sum_check" -v b="$c" 'BEGIN { print a + b }')
    sum_fix=$(awk -v a="$sum_fix" -v b="$f" 'BEGIN { print a + b }')
  done
  ratio=$(awk -v a="$sum_fix" -v b="$sum_check" 'BEGIN { print a / b }')
  mark=ok
  if awk -v r="$ratio" 'BEGIN { exit !(r > 2) }'; then mark=OVER; fail=1; fi
  printf 'corpus Dockerfiles: --fix/check CPU over %d rounds = %.2f (target <= 2)  %s\n' \
    "$rounds" "$ratio" "$mark"
else
  echo "benches/scale.sh: $corpus not found; --fix against check skipped"
fi
exit "$fail"
