#!/usr/bin/env bash
# Run refit over panel 4 (scripts/panel4.txt), the held-out half, and print, rule by rule, every
# finding (or a round-robin sample) with file context either side:
# scripts/panel-read.sh over a panel without halves. Run it once, at the end.
#
#   scripts/panel4-read.sh [OUT]
#
# Repositories are read from PANEL4 (default /work/panel4), as
# PANEL4/owner+name, each a git work tree. REFIT, RULES, LIMIT and CONTEXT
# as in scripts/panel-read.sh.
here=$(cd "$(dirname "$0")" && pwd)
exec env LIST=panel4.txt PANEL2="${PANEL4:-/work/panel4}" "$here/panel-read.sh" all "$@"
