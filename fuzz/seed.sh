#!/usr/bin/env bash
# Seed each fuzz target's corpus from fixtures/ and ../shared/corpus (copied
# at run time into fuzz/corpus/, which is not committed).
set -euo pipefail
cd "$(dirname "$0")"
root=..
shared=../../shared/corpus
mkdir -p corpus/{reference,dockerfile,yaml,yaml_libyaml,daemon,fix_roundtrip,dockerfile_structured,lsp_framing}
n=0
seed() { # target prefix-byte file
  local out="corpus/$1/$(basename "$3" | tr -c 'A-Za-z0-9._-' _)-$(cksum < "$3" | cut -d' ' -f1)"
  if [[ -n "$2" ]]; then { printf "\\x$2"; head -c 65536 "$3"; } > "$out"; else head -c 65536 "$3" > "$out"; fi
  n=$((n + 1))
}
while IFS= read -r -d '' f; do
  case "$f" in
    *.snap|*.fixed) continue ;;
    *Dockerfile*|*.dockerfile) seed dockerfile "" "$f"; seed fix_roundtrip 02 "$f" ;;
    *.json) seed daemon 00 "$f" ;;
    *.toml|*.conf) seed daemon 01 "$f" ;;
    *.yaml|*.yml) seed yaml 00 "$f"; seed yaml 02 "$f"; seed yaml_libyaml "" "$f"; seed fix_roundtrip 00 "$f" ;;
  esac
done < <(find "$root/fixtures" -type f -print0)
for f in "$root"/tests/data/yaml-grammar/*.yaml; do seed yaml_libyaml "" "$f"; done
if [[ -d "$shared" ]]; then
  while IFS= read -r -d '' f; do
    case "$f" in
      *Dockerfile*|*.dockerfile) seed dockerfile "" "$f" ;;
      *.yaml|*.yml) seed yaml 00 "$f"; seed yaml_libyaml "" "$f" ;;
    esac
  done < <(find "$shared" -type f -size -64k -print0 | head -z -n 400)
else
  echo "note: $shared not found; seeding from fixtures/ only"
fi
# Framed messages, well-formed and not, for the language server's reader.
lsp() { printf "$2" > "corpus/lsp_framing/$1"; }
lsp ok 'Content-Length: 2\r\n\r\n{}Content-Length: 2\r\nContent-Type: x\r\n\r\n[]'
lsp huge 'Content-Length: 1000000000000\r\n\r\n{}\nContent-Length: 2\r\n\r\n{}'
lsp garbled 'Content-Lenght: 2\r\n\r\n{}\ncontent-length:2\r\n\r\n{}'
lsp noheader 'garbage\r\n\r\n{"a":1}'
# `head` closes the pipe early: that is not a failure of the seeding.
set +o pipefail
grep -rhoE '[a-z0-9.:/_-]+(:[A-Za-z0-9._-]+)?(@sha256:[0-9a-f]{64})?' "$root/tests/data" "$root/fixtures" 2>/dev/null \
  | sort -u | head -n 500 | while IFS= read -r r; do printf '%s' "$r" > "corpus/reference/$(printf '%s' "$r" | cksum | cut -d' ' -f1)"; done
echo "seeded $n files (and references)"
