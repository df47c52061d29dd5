#!/usr/bin/env bash
# bench/group.sh BUILD_DIR [RUNS]: the sender key (group) benchmark of an
# existing build (it builds nothing; `make bench-group` builds the release
# preset, then runs this on build/release).
#
#  1. BUILD_DIR/group --runs RUNS (default 5): median operations per
#     second, ward against libsignal-protocol-c's group cipher, as a
#     markdown table.
#  2. Instructions per operation under callgrind for each row and each
#     implementation, as bench/run.sh counts them: group toggles
#     callgrind's collection around its timed regions, and each count is
#     taken at two --ops values, so (Ir(hi) - Ir(lo)) / (hi - lo) cancels
#     any fixed cost.
#
# Takes about three minutes on two cores. BENCH_JOBS=1 runs the callgrind
# jobs one at a time (two by default; the counts do not depend on it).
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: bash bench/group.sh BUILD_DIR [RUNS]" >&2
  exit 2
fi
bin="$1/group"
runs="${2:-5}"
if [ ! -x "$bin" ]; then
  echo "group.sh: $bin not found: build first (make bench-group)" >&2
  exit 1
fi
if ! command -v valgrind >/dev/null; then
  echo "group.sh: valgrind not found (make deps installs it)" >&2
  exit 1
fi
jobs="${BENCH_JOBS:-2}"

echo "## Throughput: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "\$ $bin --runs $runs"
echo
"$bin" --runs "$runs"
echo
echo "ratio: ward ops/s / libsignal ops/s (the target is at least 2.00x)."
echo

# row, low --ops, high --ops
rows=(
  "enc-100 200 1200"
  "dec-100 200 1200"
  "enc-1k 200 1200"
  "dec-1k 200 1200"
  "late-100 200 1200"
)

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# count IMPL ROW OPS: writes callgrind's "Collected" count to a file.
count() {
  local out="$tmp/$1.$2.$3"
  if ! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
      --collect-atstart=no "$bin" --runs 1 --ops "$3" --only "$1" \
      --row "$2" >/dev/null 2>"$out.log"; then
    echo "group.sh: callgrind run failed: $1 $2 --ops $3" >&2
    cat "$out.log" >&2
    return 1
  fi
  sed -n 's/^==[0-9]*== Collected : \([0-9]*\)$/\1/p' "$out.log" >"$out"
  if [ ! -s "$out" ]; then
    echo "group.sh: no 'Collected' line from callgrind: $1 $2 --ops $3" >&2
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
if ! xargs -P "$jobs" -L 1 bash -c 'count "$0" "$1" "$2" || exit 255' \
    <"$tmp/jobs"; then
  echo "group.sh: callgrind counts failed" >&2
  exit 1
fi

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
     "the timed regions only, with --ops lo/hi = 200/1200."
