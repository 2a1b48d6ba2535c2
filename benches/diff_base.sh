#!/usr/bin/env bash
# `--diff-base` on a large repository: a tree of 50,000 files (Dockerfiles,
# Compose files, other files) with one changed file, against checking that
# one file alone. Target: within 2x, for a pull request (`--diff-committed`,
# what CI runs). Without it git also looks at every file of the working
# tree for uncommitted edits and untracked files, which is git's own
# `status` time and grows with the tree; that figure is shown too.
#
#   bash benches/diff_base.sh          # 50,000 files
#   N=200000 bash benches/diff_base.sh
set -euo pipefail
cd "$(dirname "$0")/.."
n="${N:-50000}"
cargo build --release --quiet
refit="$PWD/target/release/refit"
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
repo="$work/repo"
mkdir -p "$repo"
cd "$repo"
git init -q -b main
python3 - "$n" <<'PY'
import os, sys
n = int(sys.argv[1])
for i in range(n):
    d = f"svc{i // 100}/m{i % 100}"
    os.makedirs(d, exist_ok=True)
    kind = i % 3
    if kind == 0:
        open(f"{d}/Dockerfile", "w").write(f"FROM node:20 AS build\nRUN echo {i}\nFROM nginx\n")
    elif kind == 1:
        open(f"{d}/compose.yaml", "w").write(f"services:\n  s{i}:\n    image: redis:7.{i % 9}\n")
    else:
        open(f"{d}/notes.txt", "w").write(f"file {i}\n")
PY
git add -A >/dev/null
git -c user.name=b -c user.email=b@example.invalid commit -q -m base
# A pull request: a branch with one commit that changes one Dockerfile.
git checkout -q -b change
echo "FROM alpine" >> svc7/m3/Dockerfile 2>/dev/null || echo "FROM alpine" > svc7/m3/Dockerfile
git -c user.name=b -c user.email=b@example.invalid commit -q -am change
# git's index is only trusted for files older than it: let the second pass.
sleep 1
git update-index --refresh >/dev/null || true
echo "files: $(git ls-files | wc -l)"
hyperfine --warmup 3 --runs 20 --ignore-failure \
  --command-name "one file" "$refit check --format concise svc7/m3/Dockerfile" \
  --command-name "diff-base main --diff-committed ($n files)" "$refit check --format concise --diff-base main --diff-committed" \
  --command-name "diff-base main, working tree ($n files)" "$refit check --format concise --diff-base main" \
  --command-name "whole tree ($n files)" "$refit check --format concise ." \
  --export-json "$work/diff-base.json" >/dev/null
python3 - "$work/diff-base.json" <<'PY'
import json, sys
r = {x["command"]: x["mean"] for x in json.load(open(sys.argv[1]))["results"]}
one = r["one file"]
for k, v in r.items():
    print(f"{k:32} {v*1000:8.1f} ms  {v/one:6.2f}x one file")
PY
