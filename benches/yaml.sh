#!/usr/bin/env bash
# refit over every YAML file of the shared corpus (MB/s, files/s), and
# refit against dclint on the corpus Compose files over the same files.
# refit reads the file list with `--files-from`, so it is one process
# however long the list (xargs would split it); cat and dclint go through
# xargs.
#
#   bash benches/yaml.sh            # refit and dclint
#   bash benches/yaml.sh --quick    # skip dclint
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
[[ "${1:-}" == "--quick" ]] && quick=1
corpus=../shared/corpus
if [[ ! -f "$corpus/MANIFEST.tsv" ]]; then
  echo "benches/yaml.sh: $corpus/MANIFEST.tsv not found; the shared corpus must sit beside the repository" >&2
  exit 1
fi
need_apt=()
command -v hyperfine >/dev/null || need_apt+=(hyperfine)
[[ -x /usr/bin/time ]] || need_apt+=(time)
if ((${#need_apt[@]})); then
  apt-get update -qq && apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
dclint=""
if ((!quick)); then
  (cd "$work" && npm install --silent --no-audit --no-fund dclint@3 >/dev/null 2>&1)
  dclint="$work/node_modules/.bin/dclint"
fi
cargo build --release --quiet
refit="$PWD/target/release/refit"

cd "$corpus"
awk -F'\t' 'NR > 1 && $2 != "dockerfile" && $4 ~ /\.ya?ml$/ { print $4 }' MANIFEST.tsv > "$work/yaml"
awk -F'\t' 'NR > 1 && $2 == "compose" { print $4 }' MANIFEST.tsv > "$work/compose"
n_yaml=$(wc -l < "$work/yaml")
n_compose=$(wc -l < "$work/compose")
mb_yaml=$(xargs -d '\n' -a "$work/yaml" cat | wc -c)
mb_compose=$(xargs -d '\n' -a "$work/compose" cat | wc -c)

hyperfine -N --warmup 2 --runs 10 -i --export-json "$work/fast.json" \
  -n refit-yaml "bash -c \"$refit check --format concise --files-from $work/yaml > /dev/null\"" \
  -n refit-compose "bash -c \"$refit check --format concise --files-from $work/compose > /dev/null\"" \
  -n cat-yaml "bash -c \"xargs -d '\\n' -a $work/yaml cat > /dev/null\"" >&2
if ((!quick)); then
  hyperfine -N --runs 1 -i --export-json "$work/dclint.json" \
    -n dclint "bash -c \"xargs -d '\\n' -a $work/compose $dclint -f json > /dev/null 2>&1\"" >&2
fi
peak() { /usr/bin/time -f %M bash -c "$1; true" 2>&1 >/dev/null | tail -1; }
mem_yaml=$(peak "$refit check --format concise --files-from $work/yaml")
mem_dclint=""
((quick)) || mem_dclint=$(peak "xargs -d '\n' -a $work/compose $dclint -f json")

python3 - "$work" "$n_yaml" "$mb_yaml" "$n_compose" "$mb_compose" "$mem_yaml" "$mem_dclint" "$quick" <<'PY'
import json, os, sys
work, n_yaml, b_yaml, n_c, b_c, mem_yaml, mem_dclint, quick = sys.argv[1:9]
n_yaml, b_yaml, n_c, b_c = int(n_yaml), int(b_yaml), int(n_c), int(b_c)
r = {x["command"]: x for x in json.load(open(os.path.join(work, "fast.json")))["results"]}
y, c, cat = r["refit-yaml"]["mean"], r["refit-compose"]["mean"], r["cat-yaml"]["mean"]
print(f"All corpus YAML: {n_yaml} files, {b_yaml/1e6:.2f} MB")
print(f"  refit: {y*1000:.1f} ms, {b_yaml/1e6/y:.0f} MB/s, {n_yaml/y:,.0f} files/s, peak {int(mem_yaml)/1024:.1f} MB (cat: {cat*1000:.1f} ms)")
print(f"Compose files: {n_c}, {b_c/1e6:.2f} MB")
print(f"  refit: {c*1000:.1f} ms, {n_c/c:,.0f} files/s")
if quick != "1":
    d = json.load(open(os.path.join(work, "dclint.json")))["results"][0]["mean"]
    print(f"  dclint: {d:.1f} s, {n_c/d:,.1f} files/s, peak {int(mem_dclint)/1024:.1f} MB")
    print(f"  refit throughput / dclint throughput: {d/c:,.0f}x")
PY
