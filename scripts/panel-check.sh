#!/usr/bin/env bash
# Run refit over the real-repository panel (see scripts/panel.sh) and check
# fix safety with kubectl kustomize.
#
#   scripts/panel-check.sh [PANEL] [OUT]
#
# PANEL defaults to /work/panel, OUT to a new temporary folder. REFIT
# overrides the binary (default target/release/refit of this checkout).
# For each repository: OUT/<repo>.json (check --format json) and a line of
# per-rule counts in OUT/summary.tsv. Then each repository is copied three
# times (orig, fix, unsafe) under OUT/work; `check --fix` and
# `check --fix --unsafe-fixes` run on the copies, OUT/<repo>.{fix,unsafe}.diff
# hold the edits, and every folder with a kustomization is rendered with
# `kubectl kustomize` before and after (OUT/kustomize.tsv): `identical`,
# `equal-after-normalisation` (only image references differ, and they
# name the same image), `DIFFERENT` (a behaviour change: a bug), or
# `orig-render-failed`. Exit status 1 when any render differs. The copies
# are removed after each repository unless KEEP=1.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
panel=${1:-/work/panel}
out=${2:-$(mktemp -d)}
refit=${REFIT:-$here/../target/release/refit}
mkdir -p "$out/work"
: >"$out/summary.tsv"
: >"$out/kustomize.tsv"

# Normalise `image:` values (docker.io/library/ and docker.io/ prefixes,
# legacy Hub aliases) and compare two rendered streams.
normcmp() {
  python3 - "$1" "$2" <<'PY'
import re, sys
def ref(s):
    s = s.strip("\"'")
    s = re.sub(r'^(index\.docker\.io|registry-1\.docker\.io|registry\.hub\.docker\.com)/', 'docker.io/', s)
    first = s.split('/')[0]
    if '/' not in s.split('@')[0]:
        s = 'docker.io/library/' + s
    elif '.' not in first and ':' not in first and first != 'localhost':
        s = 'docker.io/' + s
    if s.startswith('docker.io/') and s.count('/') == 1:
        s = 'docker.io/library/' + s[len('docker.io/'):]
    return s
def norm(path):
    lines = []
    for line in open(path, errors='replace'):
        m = re.match(r'^(\s*-?\s*image:\s*)(\S+)\s*$', line)
        lines.append(m.group(1) + ref(m.group(2)) if m else line.rstrip('\n'))
    return lines
sys.exit(0 if norm(sys.argv[1]) == norm(sys.argv[2]) else 1)
PY
}

have_kubectl=1
command -v kubectl >/dev/null 2>&1 || { have_kubectl=0; echo "panel-check: kubectl not found; render checks skipped" >&2; }
different=0
for src in "$panel"/*/; do
  repo=$(basename "$src")
  (cd "$src" && "$refit" check --format json . >"$out/$repo.json" 2>"$out/$repo.err")
  status=$?
  python3 - "$repo" "$status" "$out/$repo.json" >>"$out/summary.tsv" <<'PY'
import collections, json, sys
repo, status, path = sys.argv[1:]
try:
    d = json.load(open(path))
    c = collections.Counter(x['code'] for x in d['diagnostics'])
    print(repo, status, d['files_checked'], ' '.join(f'{k}={v}' for k, v in sorted(c.items())), sep='\t')
except Exception as e:
    print(repo, status, 'unreadable output', e, sep='\t')
PY
  for mode in orig fix unsafe; do
    rm -rf "$out/work/$repo.$mode"
    cp -a "$src" "$out/work/$repo.$mode"
  done
  (cd "$out/work/$repo.fix" && "$refit" check --fix --format json . >"$out/$repo.fixed.json" 2>/dev/null)
  (cd "$out/work/$repo.unsafe" && "$refit" check --fix --unsafe-fixes --format json . >"$out/$repo.unsafe-fixed.json" 2>/dev/null)
  diff -ru "$out/work/$repo.orig" "$out/work/$repo.fix" >"$out/$repo.fix.diff"
  diff -ru "$out/work/$repo.orig" "$out/work/$repo.unsafe" >"$out/$repo.unsafe.diff"
  if [[ $have_kubectl -ne 1 ]]; then
    [[ ${KEEP:-0} == 1 ]] || rm -rf "$out/work/$repo.orig" "$out/work/$repo.fix" "$out/work/$repo.unsafe"
    continue
  fi
  (cd "$out/work/$repo.orig" && find . \( -name kustomization.yaml -o -name kustomization.yml -o -name Kustomization \) -printf '%h\n' | sort -u) |
    while read -r dir; do
      render() { timeout 30 kubectl kustomize --load-restrictor LoadRestrictionsNone "$1" 2>/dev/null; }
      if ! render "$out/work/$repo.orig/$dir" >"$out/work/render.orig"; then
        printf '%s\t%s\t-\torig-render-failed\n' "$repo" "$dir" >>"$out/kustomize.tsv"
        continue
      fi
      for mode in fix unsafe; do
        if ! render "$out/work/$repo.$mode/$dir" >"$out/work/render.$mode"; then
          verdict=DIFFERENT-render-failed
        elif cmp -s "$out/work/render.orig" "$out/work/render.$mode"; then
          verdict=identical
        elif normcmp "$out/work/render.orig" "$out/work/render.$mode"; then
          verdict=equal-after-normalisation
        else
          verdict=DIFFERENT
        fi
        printf '%s\t%s\t%s\t%s\n' "$repo" "$dir" "$mode" "$verdict" >>"$out/kustomize.tsv"
      done
    done
  # The copies can be large; KEEP=1 keeps them for inspection.
  [[ ${KEEP:-0} == 1 ]] || rm -rf "$out/work/$repo.orig" "$out/work/$repo.fix" "$out/work/$repo.unsafe"
done
grep -c DIFFERENT "$out/kustomize.tsv" >/dev/null && different=1
echo "panel-check: results in $out (summary.tsv, kustomize.tsv, <repo>.json, <repo>.{fix,unsafe}.diff)"
cut -f4 "$out/kustomize.tsv" | sort | uniq -c
exit $different
