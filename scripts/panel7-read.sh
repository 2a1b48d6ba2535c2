#!/usr/bin/env bash
# Run refit over panel 7 (scripts/panel7.txt), the held-out half, and print, rule by rule, every
# finding (or a round-robin sample) with file context either side:
# scripts/panel-read.sh over a panel without halves. Run it once, at the end.
#
#   scripts/panel7-read.sh [OUT]
#
# Repositories are read from PANEL7 (default /work/panel7), as
# PANEL7/owner+name, each a git work tree. REFIT, RULES, LIMIT and CONTEXT
# as in scripts/panel-read.sh.
here=$(cd "$(dirname "$0")" && pwd)
exec env LIST=panel7.txt PANEL2="${PANEL7:-/work/panel7}" "$here/panel-read.sh" all "$@"
