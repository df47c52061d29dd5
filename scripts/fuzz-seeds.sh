#!/usr/bin/env bash
# Rewrites the fuzz targets' seed corpora from real messages and states
# that the targets build at start-up (deterministic randomness, so the
# decrypt seeds are valid messages for the target's session).
set -euo pipefail
build=${1:-build/fuzz}
root=$(cd "$(dirname "$0")/.." && pwd)
for target in wire state decrypt content attach api config frankkey replies console \
              media_jpeg media_png media_webp media_gif media_bmp media_pnm pdq hashlist match_index match_journal sender_key_msg skdm sender_key_state; do
  dir="$root/fuzz/corpus/$target"
  rm -rf "$dir"; mkdir -p "$dir"
  WARD_FUZZ_WRITE_SEEDS="$dir" "$build/fuzz_$target" -runs=0 >/dev/null 2>&1
  echo "$target: $(ls "$dir" | wc -l) seeds"
done
