#!/usr/bin/env bash
# Linear growth (issue 11): each hostile shape at 1×, 2×, 4× and 8× its
# base size, checked by the release binary; prints the best-of-3 wall and
# CPU time, peak memory, and the 8×/1× ratio (linear is 8).
#
#   bash benches/linear.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -x /usr/bin/time ]] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
cargo build --release --quiet
refit="$PWD/target/release/refit"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 - "$work" <<'PY'
import os, sys
work = sys.argv[1]
nested = lambda d: "${A:-" * d + "docker.io/library/alpine:3.20" + "}" * d
shapes = {
    "stage-chain": ("Dockerfile", 8000, lambda n: "FROM alpine:3.20 AS s0\nRUN true\n" + "".join(f"FROM s{i-1} AS s{i}\nRUN echo {i}\n" for i in range(1, n))),
    "from-lines": ("Dockerfile", 12500, lambda n: "".join(f"FROM alpine:3.{i} AS s{i}\n" for i in range(n))),
    "doubling-arg": ("Dockerfile", 5000, lambda n: "ARG A=a\n" + "ARG A=$A$A\n" * n + "FROM $A\n"),
    "arg-copies": ("Dockerfile", 5000, lambda n: "ARG A=" + "a" * 32768 + "\n" + "".join(f"ARG B{i}=$A\n" for i in range(n)) + "FROM alpine:3.20\n"),
    "nested-defaults": ("Dockerfile", 1000, lambda n: "".join(f"FROM {nested(60)} AS s{i}\n" for i in range(n))),
    "continuations": ("Dockerfile", 50000, lambda n: "FROM alpine:3.20\nRUN --mount=type=cache,target=/c \\\n" + "  echo $HOME \\\n" * n + "  true\n"),
    "compose-interpolation": ("compose.yaml", 1000, lambda n: "services:\n" + "".join(f"  s{i}:\n    image: \"{nested(60)}\"\n" for i in range(n))),
    "deep-yaml": ("compose.yaml", 2000, lambda n: ("---\nx: " + "[" * 200 + "1" + "]" * 200 + "\n") * n),
}
for name, (file, base, make) in shapes.items():
    for k in (1, 2, 4, 8):
        d = os.path.join(work, f"{name}-{k}")
        os.makedirs(d)
        with open(os.path.join(d, file), "w") as f:
            f.write(make(base * k))
PY

printf '%-22s %4s %10s %8s %8s %9s\n' shape size bytes wall_s cpu_s peak_MB
for dir in "$work"/*-1; do
  name="$(basename "$dir" -1)"
  first=""
  for k in 1 2 4 8; do
    d="$work/$name-$k"
    file="$(ls "$d")"
    best=""
    for _ in 1 2 3; do
      line=$(/usr/bin/time -f '%e %U %S %M' "$refit" check --isolated --format concise --max-file-size 100000000 "$d/$file" 2>&1 >/dev/null | tail -1 || true)
      read -r wall user sys mem <<<"$line"
      cpu=$(python3 -c "print(round($user + $sys, 2))")
      if [[ -z "$best" ]] || python3 -c "import sys; sys.exit(0 if $cpu < ${best%% *} else 1)"; then
        best="$cpu $wall $mem"
      fi
    done
    read -r cpu wall mem <<<"$best"
    [[ -z "$first" ]] && first="$cpu"
    printf '%-22s %3sx %10s %8s %8s %9s\n' "$name" "$k" "$(wc -c < "$d/$file")" "$wall" "$cpu" "$((mem / 1024))"
  done
  python3 -c "print(f'{\"$name\":<22} 8x/1x CPU ratio: {max($cpu, 0.01) / max($first, 0.01):.1f}')"
done
