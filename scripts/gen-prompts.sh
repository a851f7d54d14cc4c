#!/usr/bin/env bash
# Generates every prompt WAV of a language directory from its manifest, with espeak-ng's
# voice, then sox to 8 kHz mono 16-bit PCM (the format `ivr check` expects).
#
#   scripts/gen-prompts.sh [DIR]        (default prompts/fr; voice from the directory name)
#   SPEED=150 VOICE=fr scripts/gen-prompts.sh prompts/fr
#
# Needs espeak-ng, sox and python3 (>= 3.11, for tomllib to read the manifest).
# Existing files are overwritten: a town's own recordings should live in another directory.
set -euo pipefail

dir="${1:-prompts/fr}"
voice="${VOICE:-$(basename "$dir")}"
speed="${SPEED:-150}"
manifest="$dir/manifest.toml"

for tool in espeak-ng sox python3; do
  command -v "$tool" >/dev/null || { echo "gen-prompts: $tool is missing" >&2; exit 1; }
done
[ -f "$manifest" ] || { echo "gen-prompts: $manifest not found" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# One "id<TAB>text" line per prompt; ids are [a-z0-9_] and texts have no tab or newline.
python3 - "$manifest" >"$tmp/list" <<'PY'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    prompts = tomllib.load(f)["prompts"]
for pid, text in prompts.items():
    if "\t" in text or "\n" in text:
        sys.exit(f"gen-prompts: the text of {pid} has a tab or newline")
    print(f"{pid}\t{text}")
PY

count=0
while IFS=$'\t' read -r id text; do
  espeak-ng -v "$voice" -s "$speed" -w "$tmp/raw.wav" -- "$text"
  # espeak-ng writes 22.05 kHz; the telephone wants 8 kHz mono 16-bit. `gain -n -3`
  # normalises every prompt to the same level, with headroom for the codecs; the leading
  # and trailing silence is cut (and 80 ms put back) so words said in a row sound natural.
  # -D: no dither, so that the same text always gives the same file (no spurious diffs).
  sox -D "$tmp/raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "$dir/$id.wav" \
    silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse pad 0 0.08 gain -n -3
  count=$((count + 1))
done <"$tmp/list"
echo "gen-prompts: $count prompts written to $dir"
