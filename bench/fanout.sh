#!/usr/bin/env bash
# bench/fanout.sh BUILD_DIR [RUNS]: group fan-out through a real `ward serve`
# on loopback (it builds nothing: `make bench-fanout` builds the release
# preset, then runs this on build/release). See docs/benchmarks.md,
# "Group fan-out".
#
# For each group size (100 and 1,000 members; FANOUT_SIZES="N:SENDS ..."
# for others) and each of RUNS runs (default 5, or $FANOUT_RUNS), a fresh
# server (a new data directory on the disk of /tmp, --pwhash min, the
# registration, login and send limits and the queue limit raised out of
# the way) gets:
#   1. N accounts registered, 8 of them logged in (the senders);
#   2. one group of all N, created by the first sender in one request;
#   3. SENDS group messages of 200 ciphertext bytes, spread over the 8
#      senders, over HTTP one after the other (FANOUT_INFLIGHT=K for K in
#      flight with curl --parallel; with curl's parallel connections the
#      server's commits did not get fuller here, and runs stalled for
#      seconds, so one at a time is the default: each send is then its own
#      group commit, the worst case for batching), each at the group's
#      epoch; the clock runs from the first request to the last answer.
#      Every answer must be a 201.
# A delivered message is one copy durably committed to a member's queue:
# a send is answered 201 only after its copies are committed, and the
# server's ward_group_copies_total must have grown by SENDS x (N - 1).
# Prints one RESULT line per run and a markdown table of the medians.
# Exits 1 if any answer was not a 201 or a copy is missing.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: bash bench/fanout.sh BUILD_DIR [RUNS]" >&2
  exit 2
fi
build="$1"
runs="${2:-${FANOUT_RUNS:-5}}"
sizes="${FANOUT_SIZES:-100:1000 1000:200}"
ward="$build/ward"
[ -x "$ward" ] || { echo "fanout.sh: $ward not found: build first" >&2; exit 1; }
command -v curl >/dev/null || { echo "fanout.sh: needs curl" >&2; exit 1; }

tmp="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
results="$tmp/results"
: >"$results"

start_server() { # DIR
  local dir="$1"
  mkdir -p "$dir"
  "$ward" serve --data "$dir/data" --listen 127.0.0.1:0 \
    --port-file "$dir/port" --pwhash min \
    --register-per-minute 1000000 --register-burst 100000 \
    --login-per-minute 1000000 --login-burst 100000 \
    --send-per-minute 100000000 --send-burst 1000000 \
    --max-queue 1000000 2>"$dir/server.log" &
  pid=$!
  for _ in $(seq 100); do [ -s "$dir/port" ] && break; sleep 0.1; done
  [ -s "$dir/port" ] || { echo "fanout.sh: no server" >&2; cat "$dir/server.log" >&2; exit 1; }
  url="http://127.0.0.1:$(cat "$dir/port")"
}

stop_server() {
  kill -TERM "$pid"
  wait "$pid" || { echo "fanout.sh: the server exited with $?" >&2; exit 1; }
  pid=""
}

metric() { # NAME: its value from /metrics
  curl -s "$url/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}

now_ns() { date +%s%N; }

# A 200-byte "ciphertext", base64; the server never reads it.
body_b64="$(head -c 200 /dev/urandom | base64 -w0)"
commitment="$(head -c 32 /dev/urandom | base64 -w0)"

for size in $sizes; do
  n="${size%%:*}" sends="${size##*:}"
  for r in $(seq "$runs"); do
    dir="$tmp/n$n-r$r"
    start_server "$dir"
    # 1. accounts (in parallel), then the senders' tokens
    cfg="$dir/register.cfg"
    : >"$cfg"
    for i in $(seq "$n"); do
      [ "$i" = 1 ] || echo next >>"$cfg"
      printf 'url = "%s/v1/accounts"\ndata = "{\\"username\\":\\"fan%05d\\",\\"password\\":\\"fan-password\\",\\"birth_date\\":\\"1990-01-01\\"}"\noutput = "/dev/null"\n' \
        "$url" "$i" >>"$cfg"
    done
    bad="$(curl -s --no-progress-meter -Z --parallel-max 16 -K "$cfg" -w '%{http_code}\n' | grep -vc '^201$' || true)"
    [ "$bad" = 0 ] || { echo "fanout.sh: $bad registrations failed" >&2; exit 1; }
    tokens=()
    for i in 1 2 3 4 5 6 7 8; do
      t="$(curl -s -X POST "$url/v1/sessions" \
        -d "{\"username\":\"fan$(printf %05d "$i")\",\"password\":\"fan-password\"}" |
        sed -n 's/.*"token":"\([^"]*\)".*/\1/p')"
      [ -n "$t" ] || { echo "fanout.sh: no token" >&2; exit 1; }
      tokens+=("$t")
    done
    # 2. the group, everyone in it
    members="$(seq 2 "$n" | awk '{ printf "%s\"fan%05d\"", (NR > 1 ? "," : ""), $1 }')"
    curl -s -o "$dir/group" -X POST "$url/v1/groups" \
      -H "Authorization: Bearer ${tokens[0]}" \
      -d "{\"name\":\"fan-out\",\"members\":[$members]}"
    gid="$(sed -n 's/^{"id":\([0-9]*\),.*/\1/p' "$dir/group")"
    epoch="$(sed -n 's/.*"epoch":\([0-9]*\),"role".*/\1/p' "$dir/group")"
    [ -n "$gid" ] && [ -n "$epoch" ] || { echo "fanout.sh: no group: $(head -c 300 "$dir/group")" >&2; exit 1; }
    # 3. the sends
    cfg="$dir/send.cfg"
    : >"$cfg"
    for i in $(seq "$sends"); do
      [ "$i" = 1 ] || echo next >>"$cfg"
      printf 'url = "%s/v1/groups/%s/messages"\nheader = "Authorization: Bearer %s"\ndata = "{\\"type\\":4,\\"body\\":\\"%s\\",\\"commitment\\":\\"%s\\",\\"epoch\\":%s}"\noutput = "/dev/null"\n' \
        "$url" "$gid" "${tokens[$((i % 8))]}" "$body_b64" "$commitment" "$epoch" >>"$cfg"
    done
    copies0="$(metric ward_group_copies_total)"
    commits0="$(metric ward_group_commits_total)"
    t0="$(now_ns)"
    curl -s --no-progress-meter -Z --parallel-max "${FANOUT_INFLIGHT:-1}" -K "$cfg" -w '%{http_code}\n' >"$dir/codes"
    t1="$(now_ns)"
    copies1="$(metric ward_group_copies_total)"
    commits1="$(metric ward_group_commits_total)"
    errors="$(grep -vc '^201$' "$dir/codes" || true)"
    want=$(( sends * (n - 1) ))
    got=$(( copies1 - copies0 ))
    [ "$got" = "$want" ] || errors=$(( errors + 1 ))
    echo "RESULT members=$n sends=$sends run=$r secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }') copies=$got commits=$((commits1 - commits0)) errors=$errors" |
      tee -a "$results" >&2
    stop_server
  done
done

awk '
function median(key,    n, i, j, t, a) {
  n = cnt[key]
  for (i = 1; i <= n; i++) a[i] = val[key, i] + 0
  for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
  return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function put(k, v) { val[k, ++cnt[k]] = v }
/^RESULT / {
  delete kv
  for (i = 2; i <= NF; i++) { split($i, p, "="); kv[p[1]] = p[2] }
  g = kv["members"]
  if (!(g in seen)) { seen[g] = 1; order[++ng] = g; sends[g] = kv["sends"] }
  put(g SUBSEP "sends_s", kv["sends"] / kv["secs"])
  put(g SUBSEP "copies_s", kv["copies"] / kv["secs"])
  put(g SUBSEP "per_commit", kv["commits"] ? kv["sends"] / kv["commits"] : 0)
  put(g SUBSEP "lo", kv["copies"] / kv["secs"])
  runs[g]++; errors += kv["errors"]; errg[g] += kv["errors"]
}
END {
  print "| members | group sends per run | runs | group messages/s | delivered copies/s (min-max) | sends per commit | errors |"
  print "|---:|---:|---:|---:|---:|---:|---:|"
  for (i = 1; i <= ng; i++) {
    g = order[i]; k = g SUBSEP "lo"; lo = hi = val[k, 1]
    for (j = 2; j <= cnt[k]; j++) { if (val[k, j] < lo) lo = val[k, j]; if (val[k, j] > hi) hi = val[k, j] }
    printf "| %d | %d | %d | %.0f | %.0f (%.0f-%.0f) | %.1f | %d |\n", g, sends[g], runs[g],
      median(g SUBSEP "sends_s"), median(g SUBSEP "copies_s"), lo, hi,
      median(g SUBSEP "per_commit"), errg[g]
  }
  exit errors ? 1 : 0
}' "$results"
