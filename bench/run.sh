#!/usr/bin/env bash
# bench/run.sh BUILD_DIR: runs the ratchet benchmark of an existing build
# (it builds nothing; `make bench` builds the release preset, then runs
# this on build/release).
#
#  1. BUILD_DIR/ratchet --runs 5: median operations per second, ward against
#     libsignal-protocol-c, as a markdown table.
#  2. Instructions per operation under callgrind, for each row and each
#     implementation: ratchet counts only its timed regions (it toggles
#     callgrind's collection around them), and each count is taken at two
#     --ops values, so (Ir(hi) - Ir(lo)) / (hi - lo) cancels any fixed cost.
#
# Takes about two minutes on two cores. Set BENCH_JOBS=1 to run the
# callgrind jobs one at a time (they run two at a time by default; counts
# do not depend on it).
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: bash bench/run.sh BUILD_DIR" >&2
  exit 2
fi
bin="$1/ratchet"
if [ ! -x "$bin" ]; then
  echo "run.sh: $bin not found: build first (make bench)" >&2
  exit 1
fi
if ! command -v valgrind >/dev/null; then
  echo "run.sh: valgrind not found (make deps installs it)" >&2
  exit 1
fi
jobs="${BENCH_JOBS:-2}"

echo "## Throughput: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "\$ $bin --runs 5"
echo
"$bin" --runs 5
echo
echo "ratio: ward ops/s / libsignal ops/s (the target is at least 2.00x)."
echo

# row, low --ops, high --ops. The rows with a DH ratchet step or a session
# setup cost ~100x more per operation, so they use fewer.
rows=(
  "enc-100-oneway 200 1200"
  "dec-100-oneway 200 1200"
  "enc-4k-oneway 200 1200"
  "dec-4k-oneway 200 1200"
  "enc-100-alt 50 250"
  "dec-100-alt 50 250"
  "encdec-4k-alt 50 250"
  "setup 20 120"
)

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# count IMPL ROW OPS: writes callgrind's "Collected" count to a file.
count() {
  local out="$tmp/$1.$2.$3"
  if ! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
      --collect-atstart=no "$bin" --runs 1 --ops "$3" --only "$1" \
      --row "$2" >/dev/null 2>"$out.log"; then
    echo "run.sh: callgrind run failed: $1 $2 --ops $3" >&2
    cat "$out.log" >&2
    return 1
  fi
  sed -n 's/^==[0-9]*== Collected : \([0-9]*\)$/\1/p' "$out.log" >"$out"
  if [ ! -s "$out" ]; then
    echo "run.sh: no 'Collected' line from callgrind: $1 $2 --ops $3" >&2
    cat "$out.log" >&2
    return 1
  fi
}

echo "## Instructions per operation (callgrind)"
echo
echo "\$ valgrind --tool=callgrind --callgrind-out-file=/dev/null" \
     "--collect-atstart=no $bin --runs 1 --ops K --only IMPL --row ROW"
echo
for spec in "${rows[@]}"; do
  read -r row lo hi <<<"$spec"
  for impl in ward libsignal; do
    for ops in "$lo" "$hi"; do
      printf '%s %s %s\n' "$impl" "$row" "$ops"
    done
  done
done >"$tmp/jobs"
export -f count
export bin tmp
# One callgrind run per line; xargs stops on the first failure (exit 255).
if ! xargs -P "$jobs" -L 1 bash -c 'count "$0" "$1" "$2" || exit 255' \
    <"$tmp/jobs"; then
  echo "run.sh: callgrind counts failed" >&2
  exit 1
fi

# Thousands separators without relying on the locale.
group() {
  awk -v n="$1" 'BEGIN {
    s = sprintf("%.0f", n); out = "";
    while (length(s) > 3) { out = "," substr(s, length(s) - 2) out;
                            s = substr(s, 1, length(s) - 3) }
    print s out }'
}

echo "| row | ward instructions/op | libsignal instructions/op | ratio |"
echo "|---|---:|---:|---:|"
for spec in "${rows[@]}"; do
  read -r row lo hi <<<"$spec"
  label="$("$bin" --list | awk -v r="$row" '$1 == r {
    sub(/^[^ ]+ +/, ""); sub(/ \(default --ops [0-9]+\)$/, ""); print }')"
  per=()
  for impl in ward libsignal; do
    a="$(cat "$tmp/$impl.$row.$lo")"
    b="$(cat "$tmp/$impl.$row.$hi")"
    per+=("$(awk -v a="$a" -v b="$b" -v n=$((hi - lo)) \
      'BEGIN { printf "%.0f", (b - a) / n }')")
  done
  ratio="$(awk -v w="${per[0]}" -v s="${per[1]}" \
    'BEGIN { printf "%.2fx", s / w }')"
  echo "| $label | $(group "${per[0]}") | $(group "${per[1]}") | $ratio |"
done
echo
echo "ratio: libsignal instructions / ward instructions (higher is better" \
     "for ward). Per operation: (Ir(hi) - Ir(lo)) / (hi - lo), counted in" \
     "the timed regions only, with --ops lo/hi = 200/1200 (one-way rows)," \
     "50/250 (alternating rows), 20/120 (session setup)."
