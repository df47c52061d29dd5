#!/usr/bin/env bash
# bench/journal.sh WARD_BINARY [N] [ADDS] [RUNS]: what the journal costs
# the readers. A list of N random PDQ hashes (default 1,000,000) is
# imported; then `ward match --hashes` of 20,000 random hashes (r = 31) is
# timed with no journal, after `ward list add` of ADDS new hashes (default
# 60,000), after `ward list remove` of 3,000 of the list's, and after
# `ward list compact`; and the open alone (one query) with and without the
# journal. Each figure is the median of RUNS (default 5) runs, whole
# processes, so it includes opening the set and replaying the journal.
set -euo pipefail
ward=$1 n=${2:-1000000} adds=${3:-60000} runs=${4:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work" "$n" "$adds" <<'PY'
import random, sys
d, n, a = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = random.Random(11)
for name, k in (("base", n), ("adds", a), ("q", 20000)):
    with open(f"{d}/{name}.txt", "w") as f:
        for _ in range(k):
            f.write("%064x\n" % r.getrandbits(256))
PY
head -3000 "$work/base.txt" >"$work/rm.txt"
head -1 "$work/q.txt" >"$work/q1.txt"
L=(--lists "$work/lists")
median() { # command... -> median wall seconds of $runs runs
  local t=()
  for _ in $(seq "$runs"); do
    local s e
    s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N)
    t+=("$(echo "$e - $s" | bc)")
  done
  printf '%s\n' "${t[@]}" | sort -g | awk '{ a[NR] = $1 } END { printf "%.3f", a[int((NR + 1) / 2)] }'
}
"$ward" list import base "$work/base.txt" "${L[@]}" >/dev/null
echo "| state | open + 1 query (s) | open + 20,000 queries (s) |"
echo "|---|---:|---:|"
row() { echo "| $1 | $(median "$ward" match --hashes "$work/q1.txt" "${L[@]}") | $(median "$ward" match --hashes "$work/q.txt" "${L[@]}") |"; }
row "index only ($n entries)"
"$ward" list add base "$work/adds.txt" "${L[@]}" >/dev/null
row "+ journal: $adds added"
"$ward" list remove base "$work/rm.txt" "${L[@]}" >/dev/null
row "+ 3,000 removed"
"$ward" list compact "${L[@]}" >/dev/null
row "compacted"
