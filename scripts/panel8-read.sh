#!/usr/bin/env bash
# Run refit over panel 8 (scripts/panel8.txt), the held-out half, and print, rule by rule, every
# finding (or a round-robin sample) with file context either side:
# scripts/panel-read.sh over a panel without halves. Run it once, at the end.
#
#   scripts/panel8-read.sh [OUT]
#
# Repositories are read from PANEL8 (default /work/panel8), as
# PANEL8/owner+name, each a git work tree. REFIT, RULES, LIMIT and CONTEXT
# as in scripts/panel-read.sh.
here=$(cd "$(dirname "$0")" && pwd)
exec env LIST=panel8.txt PANEL2="${PANEL8:-/work/panel8}" "$here/panel-read.sh" all "$@"
