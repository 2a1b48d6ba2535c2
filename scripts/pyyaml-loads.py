#!/usr/bin/env python3
"""Print each path (one per line on stdin) whose every YAML document PyYAML
loads with its safe loader; the differential YAML test reads the output.
Exit 3 when PyYAML is missing."""
import sys

try:
    import yaml
except ImportError:
    sys.exit(3)

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
for line in sys.stdin:
    path = line.rstrip("\n")
    try:
        with open(path, "rb") as f:
            for _ in yaml.load_all(f, Loader=Loader):
                pass
    except Exception:
        continue
    print(path, flush=False)
