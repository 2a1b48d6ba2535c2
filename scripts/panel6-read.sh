#!/usr/bin/env bash
# Run refit over panel 6 (scripts/panel6.txt), the held-out half, and print, rule by rule, every
# finding (or a round-robin sample) with file context either side:
# scripts/panel-read.sh over a panel without halves. Run it once, at the end.
#
#   scripts/panel6-read.sh [OUT]
#
# Repositories are read from PANEL6 (default /work/panel6), as
# PANEL6/owner+name, each a git work tree. REFIT, RULES, LIMIT and CONTEXT
# as in scripts/panel-read.sh.
here=$(cd "$(dirname "$0")" && pwd)
exec env LIST=panel6.txt PANEL2="${PANEL6:-/work/panel6}" "$here/panel-read.sh" all "$@"
