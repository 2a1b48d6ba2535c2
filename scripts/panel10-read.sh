#!/usr/bin/env bash
# Run refit over panel 10 (scripts/panel10.txt), the held-out half, and print, rule by rule, every
# finding (or a round-robin sample) with file context either side:
# scripts/panel-read.sh over a panel without halves. Run it once, at the end.
#
#   scripts/panel10-read.sh [OUT]
#
# Repositories are read from PANEL10 (default /work/panel10), as
# PANEL10/owner+name, each a git work tree. REFIT, RULES, LIMIT and CONTEXT
# as in scripts/panel-read.sh.
here=$(cd "$(dirname "$0")" && pwd)
exec env LIST=panel10.txt PANEL2="${PANEL10:-/work/panel10}" "$here/panel-read.sh" all "$@"
