#!/usr/bin/env bash
# Run refit over panel 3 (scripts/panel3.txt) and print, rule by rule, every
# finding (or a round-robin sample) with file context either side:
# scripts/panel-read.sh over a panel without halves.
#
#   scripts/panel3-read.sh [OUT]
#
# Repositories are read from PANEL3 (default /work/panel3), as
# PANEL3/owner+name, each a git work tree. REFIT, RULES, LIMIT and CONTEXT
# as in scripts/panel-read.sh.
here=$(cd "$(dirname "$0")" && pwd)
exec env LIST=panel3.txt PANEL2="${PANEL3:-/work/panel3}" "$here/panel-read.sh" all "$@"
