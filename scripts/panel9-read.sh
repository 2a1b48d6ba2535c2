#!/usr/bin/env bash
# Run refit over panel 9 (scripts/panel9.txt), the held-out half, and print, rule by rule, every
# finding (or a round-robin sample) with file context either side:
# scripts/panel-read.sh over a panel without halves. Run it once, at the end.
#
#   scripts/panel9-read.sh [OUT]
#
# Repositories are read from PANEL9 (default /work/panel9), as
# PANEL9/owner+name, each a git work tree. REFIT, RULES, LIMIT and CONTEXT
# as in scripts/panel-read.sh.
here=$(cd "$(dirname "$0")" && pwd)
exec env LIST=panel9.txt PANEL2="${PANEL9:-/work/panel9}" "$here/panel-read.sh" all "$@"
