#!/usr/bin/env bash
# Run refit over one half of panel 2 (scripts/panel2.txt) and print, rule by
# rule, every finding with two lines of file context either side, so that a
# hand reading (TP / FP / placeholder / test data / unverifiable) is fast.
#
#   scripts/panel-read.sh HALF [OUT]
#
# HALF is 1 or 2. Repositories are read from PANEL2 (default /work/panel2),
# as PANEL2/halfHALF/owner+name (see scripts/panel2.txt for the commits).
# OUT (default a new temporary folder) receives <repo>.json, <repo>.err,
# summary.tsv (repo, exit status, seconds, files, per-rule counts) and
# read.txt (the listing, also printed). Environment:
#   REFIT   the binary (default target/release/refit of this checkout)
#   RULES   only these codes, comma-separated (default: all)
#   LIMIT   at most this many findings per rule, taken round-robin over the
#           repositories in file order, so a sample is spread (default: all)
#   CONTEXT lines of context either side (default 2)
# Half 2 is the held-out half: run it once, at the end, and change nothing
# for what it shows.
#
# HALF `all` reads a panel without halves: every repository of LIST (a
# file beside this script, default panel2.txt) as PANEL2/owner+name
# (scripts/panel3-read.sh does this for panel 3). Each checkout should be
# a git work tree (`.git`), as a user's clone is: without one refit guesses
# the repository's root.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
half=${1:?usage: panel-read.sh HALF|all [OUT]}
out=${2:-$(mktemp -d)}
list=$here/${LIST:-panel2.txt}
panel=${PANEL2:-/work/panel2}
[[ $half == all ]] || panel=$panel/half$half
refit=${REFIT:-$here/../target/release/refit}
mkdir -p "$out"
: >"$out/summary.tsv"

grep -v '^#' "$list" | awk -F'\t' -v h="$half" 'h == "all" || $4 == h { print $1 }' |
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
