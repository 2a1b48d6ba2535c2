#!/usr/bin/env bash
# Run refit over panel 5 (scripts/panel5.txt), the held-out half, and print, rule by rule, every
# finding (or a round-robin sample) with file context either side:
# scripts/panel-read.sh over a panel without halves. Run it once, at the end.
#
#   scripts/panel5-read.sh [OUT]
#
# Repositories are read from PANEL5 (default /work/panel5), as
# PANEL5/owner+name, each a git work tree. REFIT, RULES, LIMIT and CONTEXT
# as in scripts/panel-read.sh.
here=$(cd "$(dirname "$0")" && pwd)
exec env LIST=panel5.txt PANEL2="${PANEL5:-/work/panel5}" "$here/panel-read.sh" all "$@"
