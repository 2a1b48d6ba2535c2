#!/usr/bin/env bash
# Run refit over panel 3 (scripts/panel3.txt) and print, rule by rule, every
# finding (or a round-robin sample) with file context either side, so that a
# hand reading (TP / FP / placeholder / test data / unverifiable / vendored)
# is fast. A copy of scripts/panel-read.sh for the one-half layout of panel 3.
#
#   scripts/panel3-read.sh [OUT]
#
# Repositories are read from PANEL3 (default /work/panel3), as
# PANEL3/owner+name (see scripts/panel3.txt for the commits). OUT (default a
# new temporary folder) receives <repo>.json, <repo>.err, summary.tsv (repo,
# exit status, seconds, files, per-rule counts) and read.txt (the listing,
# also printed). Environment: REFIT, RULES, LIMIT, CONTEXT as in
# scripts/panel-read.sh. Panel 3 is held out: run it once and change nothing
# for what it shows.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$(mktemp -d)}
panel=${PANEL3:-/work/panel3}
refit=${REFIT:-$here/../target/release/refit}
mkdir -p "$out"
: >"$out/summary.tsv"

grep -v '^#' "$here/panel3.txt" | awk -F'\t' '{ print $1 }' |
  while read -r name; do
    repo=${name/\//+}
    dir=$panel/$repo
    if [[ ! -d $dir ]]; then
      printf '%s\tmissing\n' "$repo" >>"$out/summary.tsv"
      continue
    fi
    start=$(date +%s.%N)
    (cd "$dir" && "$refit" check --format json --no-cache . >"$out/$repo.json" 2>"$out/$repo.err")
    status=$?
    secs=$(echo "$(date +%s.%N) - $start" | bc)
    python3 - "$repo" "$status" "$secs" "$out/$repo.json" >>"$out/summary.tsv" <<'PY'
import collections, json, sys
repo, status, secs, path = sys.argv[1:]
try:
    d = json.load(open(path))
    c = collections.Counter(x['code'] for x in d['diagnostics'])
    print(repo, status, f'{float(secs):.1f}s', d.get('files_checked', '?'),
          ' '.join(f'{k}={v}' for k, v in sorted(c.items())), sep='\t')
except Exception as e:
    print(repo, status, f'{float(secs):.1f}s', 'unreadable output', e, sep='\t')
PY
  done

python3 - "$out" "$panel" "${RULES:-}" "${LIMIT:-0}" "${CONTEXT:-2}" <<'PY' | tee "$out/read.txt"
import collections, json, os, sys
out, panel, rules, limit, ctx = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
rules = set(r for r in rules.split(',') if r)
by_rule = collections.defaultdict(lambda: collections.defaultdict(list))
repos = []
for line in open(os.path.join(out, 'summary.tsv')):
    repo = line.split('\t')[0]
    repos.append(repo)
    try:
        d = json.load(open(os.path.join(out, repo + '.json')))
    except Exception:
        continue
    for x in d['diagnostics']:
        if rules and x['code'] not in rules:
            continue
        by_rule[x['code']][repo].append(x)
cache = {}
def lines(repo, path):
    key = (repo, path)
    if key not in cache:
        try:
            with open(os.path.join(panel, repo, path), 'rb') as f:
                cache[key] = f.read().decode('utf-8', 'replace').splitlines()
        except OSError:
            cache[key] = []
    return cache[key]
print('# summary (repo, exit, time, files, counts)')
print(open(os.path.join(out, 'summary.tsv')).read())
for code in sorted(by_rule):
    per = by_rule[code]
    total = sum(len(v) for v in per.values())
    # Round-robin over repositories, each in file order.
    queues = [list(per[r]) for r in repos if per.get(r)]
    names = [r for r in repos if per.get(r)]
    picked = []
    while any(queues) and (limit == 0 or len(picked) < limit):
        for name, q in zip(names, queues):
            if q and (limit == 0 or len(picked) < limit):
                picked.append((name, q.pop(0)))
    print(f'=== {code} ({total} findings in {len(names)} repositories; {len(picked)} shown) ===')
    for n, (repo, x) in enumerate(picked, 1):
        line = x['start']['line']
        fix = x.get('fix')
        fixs = f" [fix {fix['applicability']}: {fix['title']}]" if fix else ''
        print(f"--- {code}#{n} {repo} {x['path']}:{line}:{x['start']['column']} {x['severity']}: {x['message']}{fixs}")
        if x.get('yaml_path'):
            print(f"    yaml_path: {x['yaml_path']}")
        src = lines(repo, x['path'])
        for i in range(max(1, line - ctx), min(len(src), line + ctx) + 1):
            mark = '>' if i == line else ' '
            print(f'  {mark}{i:5} | {src[i-1][:200]}')
    print()
PY
echo "panel-read: results in $out (summary.tsv, read.txt, <repo>.json)" >&2
