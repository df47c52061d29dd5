#!/usr/bin/env bash
# Fuzzes every libFuzzer target for SECONDS each, starting from its seed
# corpus (read-only: new inputs go to a scratch folder). A crash fails.
#   scripts/fuzz.sh BUILD_DIR SECONDS
set -euo pipefail
build=${1:-build/fuzz}
seconds=${2:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
status=0
for target in wire state decrypt content attach api config frankkey replies console \
              media_jpeg media_png media_webp media_gif media_bmp media_pnm pdq \
              hashlist match_index match_journal sender_key_msg skdm sender_key_state; do
  mkdir -p "$scratch/$target"
  # An index file's header alone is 4 KiB.
  max_len=4096
  [ "$target" = match_index ] && max_len=16384
  echo "fuzz_$target: ${seconds}s"
  # -timeout: one input taking 10 s is a hang (the image decoders must
  # never take that long, whatever the bytes).
  if ! "$build/fuzz_$target" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 \
       -artifact_prefix="$root/build/fuzz-crash-$target-" \
       "$scratch/$target" "$root/fuzz/corpus/$target" \
       >"$scratch/$target.log" 2>&1; then
    echo "fuzz_$target FAILED; log tail:"; tail -40 "$scratch/$target.log"
    status=1
  else
    tail -1 "$scratch/$target.log"
  fi
done
exit $status
