#!/usr/bin/env python3
"""Read paths (one per line on stdin) with PyYAML's libyaml bindings.

Default: print each path whose every YAML document PyYAML loads with its
safe loader; the differential YAML test reads the output.

--grammar: print `path<TAB>P<TAB>L` for every path, where P is 1 when
libyaml's parser (yaml.parse with the C loader: the grammar alone) reads
the whole stream and L is 1 when the safe loader also builds every
document (anchors, tags, duplicate anchors), else 0.

Exit 3 when PyYAML is missing, 4 when it has no libyaml bindings in
--grammar mode (the pure-Python parser is not libyaml)."""
import sys

try:
    import yaml
except ImportError:
    sys.exit(3)

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
grammar = "--grammar" in sys.argv[1:]
if grammar and not hasattr(yaml, "CSafeLoader"):
    sys.exit(4)


def reads(path, load):
    try:
        with open(path, "rb") as f:
            if load:
                for _ in yaml.load_all(f, Loader=Loader):
                    pass
            else:
                for _ in yaml.parse(f, Loader=Loader):
                    pass
    except Exception:
        return False
    return True


for line in sys.stdin:
    path = line.rstrip("\n")
    if grammar:
        parsed = reads(path, False)
        loaded = parsed and reads(path, True)
        print(f"{path}\t{int(parsed)}\t{int(loaded)}", flush=False)
    elif reads(path, True):
        print(path, flush=False)
