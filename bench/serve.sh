#!/usr/bin/env bash
# bench/serve.sh BUILD_DIR [RUNS]: `ward serve` under load on loopback
# (it builds nothing; `make bench-serve` builds the release preset, then
# runs this on build/release). See docs/benchmarks.md, "ward serve".
# bench/serve.sh --report FILE: the tables again from the raw RESULT lines
# of an earlier run (SERVE_RESULTS=FILE keeps them; they also go to
# stderr as the run goes).
#
# Each of RUNS runs (default 3, or $SERVE_RUNS) starts a fresh server
# (BUILD_DIR/ward serve on 127.0.0.1, a new data directory under a temp
# folder on the same disk as /tmp, --pwhash min and registration and login
# limits raised so 10,000 accounts take seconds; send limits are left at
# their defaults) and, against it:
#   1. registers and logs in 10,000 accounts (serve_load register);
#   2. opens idle authenticated sessions, 10,000 and then up to 50,000 (or
#      as many as the open-files limit allows), and reads the server's
#      memory before and after (serve_load idle);
#   3. for 1,000 and 10,000 connected clients, sends over the WebSocket
#      and over HTTP (the order alternates between runs):
#        closed loop, 200 messages in the pipeline: the throughput;
#        ward's store alone on the same disk with the batch size the
#        server reached (serve_ref): the reference and its ratio;
#        open loop at half that throughput: the latency under load.
# Then it prints markdown tables of the medians over the runs. Exits 1 if
# any measurement counted an error (a refused send, a lost, duplicated or
# misrouted message, a session that closed).
#
# Takes about 3 minutes a run on two cores. SERVE_DURATION (10) and
# SERVE_WARMUP (3) set each measurement's window and warm-up in seconds.
set -euo pipefail

# ---- tables: medians over the runs ----
# report FILE RUNS STARTED IDLE_BIG NOFILE DURATION WARMUP
report() {
awk -v runs="$2" -v started="$3" -v idle_big="$4" -v nofile="$5" \
    -v duration="$6" -v warmup="$7" '
function median(key,    n, i, j, t, a) {
  n = cnt[key]
  if (!n) return "";
  for (i = 1; i <= n; i++) a[i] = val[key, i] + 0;
  for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
  return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function lo(key,    n, i, m) { n = cnt[key]; m = val[key, 1] + 0; for (i = 2; i <= n; i++) if (val[key, i] + 0 < m) m = val[key, i] + 0; return m }
function hi(key,    n, i, m) { n = cnt[key]; m = val[key, 1] + 0; for (i = 2; i <= n; i++) if (val[key, i] + 0 > m) m = val[key, i] + 0; return m }
function group(n,    s, out) {
  s = sprintf("%.0f", n); out = ""
  while (length(s) > 3) { out = "," substr(s, length(s) - 2) out; s = substr(s, 1, length(s) - 3) }
  return s out
}
function m(g, k) { return median(g SUBSEP k) }
/^RESULT / {
  delete kv
  for (i = 2; i <= NF; i++) { split($i, p, "="); kv[p[1]] = p[2] }
  if (kv["mode"] == "deliver") g = kv["label"] "|" kv["via"] "|" kv["clients"]
  else if (kv["mode"] == "ref") g = "ref|" kv["via"] "|" kv["clients"]
  else if (kv["mode"] == "idle") g = "idle|" kv["conns"]
  else g = kv["mode"]
  for (k in kv) { key = g SUBSEP k; val[key, ++cnt[key]] = kv[k] }
  if (kv["mode"] == "ref") { rate = last_rate; ratio = rate / kv["store_msgs_per_s"]; key = g SUBSEP "ratio"; val[key, ++cnt[key]] = ratio }
  if (kv["mode"] == "deliver" && kv["label"] == "closed") last_rate = kv["msgs_per_s"]
  errors += kv["errors"]; errsum[g] += kv["errors"]
}
END {
  printf "## ward serve on loopback: %s, %d runs, medians\n\n", started, runs
  printf "Measured window %d s after a %d s warm-up; 200-byte bodies.\n\n", duration, warmup
  print "### Throughput: messages delivered end to end (closed loop, 200 in flight)\n"
  print "| clients | send via | delivered msgs/s (min-max) | push p50 / p99 / p99.9 ms | send->stored p99 ms | msgs per commit | server CPU | generator CPU | store alone msgs/s | ratio | errors |"
  print "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  split("1000 10000", cl, " "); split("ws http", vv, " ")
  for (c = 1; c <= 2; c++) for (v = 1; v <= 2; v++) {
    g = "closed|" vv[v] "|" cl[c]; rg = "ref|" vv[v] "|" cl[c]
    if (!cnt[g SUBSEP "msgs_per_s"]) continue
    printf "| %s | %s | %s (%s-%s) | %.1f / %.1f / %.1f | %.1f | %.0f | %.0f%% | %.0f%% | %s | %.2f | %d |\n",
      group(cl[c]), (vv[v] == "ws" ? "WebSocket" : "HTTP"), group(m(g, "msgs_per_s")),
      group(lo(g SUBSEP "msgs_per_s")), group(hi(g SUBSEP "msgs_per_s")),
      m(g, "push_p50_ms"), m(g, "push_p99_ms"), m(g, "push_p999_ms"),
      m(g, "sent_p99_ms"), m(g, "msgs_per_commit"), m(g, "srv_cpu"),
      m(g, "gen_cpu"), group(m(rg, "store_msgs_per_s")), m(rg, "ratio"),
      errsum[g]
  }
  print "\nstore alone: ward_store_queue_put in batches of the size the server reached plus one ward_store_queue_ack per message, on the same disk, no network (serve_ref). ratio: delivered / store alone, per run, median.\n"
  print "### Latency under load (open loop, Poisson arrivals at half the closed-loop throughput)\n"
  print "| clients | send via | offered msgs/s | delivered msgs/s | push p50 / p99 / p99.9 / max ms | send->stored p50 / p99 ms | start->acked p99 ms | server CPU | generator CPU | errors |"
  print "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  for (c = 1; c <= 2; c++) for (v = 1; v <= 2; v++) {
    g = "half|" vv[v] "|" cl[c]
    if (!cnt[g SUBSEP "msgs_per_s"]) continue
    printf "| %s | %s | %s | %s | %.1f / %.1f / %.1f / %.1f | %.1f / %.1f | %.1f | %.0f%% | %.0f%% | %d |\n",
      group(cl[c]), (vv[v] == "ws" ? "WebSocket" : "HTTP"), group(m(g, "rate")),
      group(m(g, "msgs_per_s")), m(g, "push_p50_ms"), m(g, "push_p99_ms"),
      m(g, "push_p999_ms"), m(g, "push_max_ms"), m(g, "sent_p50_ms"),
      m(g, "sent_p99_ms"), m(g, "acked_p99_ms"), m(g, "srv_cpu"), m(g, "gen_cpu"),
      errsum[g]
  }
  print "\npush: from the scheduled start of the send to the recipient receiving the push. send->stored: to the 201 or \"sent\". start->acked: to the recipient getting {\"type\":\"acked\"} for it.\n"
  print "### Memory per idle connection (server RSS)\n"
  print "| sessions | accounts | server VmRSS before -> after (KiB) | per session: VmRSS | per session: RssAnon | kernel slab per connection (both ends) |"
  print "|---:|---:|---:|---:|---:|---:|"
  split("10000 " idle_big, ic, " ")
  for (i = 1; i <= 2; i++) {
    g = "idle|" ic[i]
    if (!cnt[g SUBSEP "per_conn_rss_b"]) continue
    printf "| %s | %s | %s -> %s | %s B | %s B | %s B |\n", group(ic[i]),
      group(m(g, "accounts")), group(m(g, "rss0_kb")), group(m(g, "rss_kb")),
      group(m(g, "per_conn_rss_b")), group(m(g, "per_conn_anon_b")),
      group(m(g, "kernel_slab_per_conn_b"))
  }
  if (idle_big < 50000)
    printf "\n50,000 sessions not measured: open files are limited to %s here (raising the hard limit needs CAP_SYS_RESOURCE), so %s is the most this run could open.\n", group(nofile), group(idle_big)
  print "\n### The reference on this disk (serve_ref, medians)\n"
  print "| clients | send via | batch | SQLite durable commits/s (1 row) | store put msgs/s | store ack/s (1 commit each) | store put+ack msgs/s | with acks grouped per batch msgs/s |"
  print "|---:|---|---:|---:|---:|---:|---:|---:|"
  for (c = 1; c <= 2; c++) for (v = 1; v <= 2; v++) {
    g = "ref|" vv[v] "|" cl[c]
    if (!cnt[g SUBSEP "batch"]) continue
    printf "| %s | %s | %d | %s | %s | %s | %s | %s |\n", group(cl[c]),
      (vv[v] == "ws" ? "WebSocket" : "HTTP"), m(g, "batch"),
      group(m(g, "sync_commits_per_s")), group(m(g, "put_msgs_per_s")),
      group(m(g, "ack_per_s")), group(m(g, "store_msgs_per_s")),
      group(m(g, "grouped_msgs_per_s"))
  }
  print "\n### Targets\n"
  print "| target | measured (medians) | met |"
  print "|---|---|---|"
  for (c = 1; c <= 2; c++) for (v = 1; v <= 2; v++) {
    g = "closed|" vv[v] "|" cl[c]
    if (!cnt[g SUBSEP "msgs_per_s"]) continue
    x = m(g, "msgs_per_s")
    printf "| >= 20,000 delivered msgs/s, %s clients, %s | %s msgs/s | %s |\n",
      group(cl[c]), (vv[v] == "ws" ? "WebSocket" : "HTTP"), group(x), (x >= 20000 ? "yes" : "no")
  }
  for (v = 1; v <= 2; v++) {
    g = "half|" vv[v] "|1000"
    if (!cnt[g SUBSEP "push_p99_ms"]) continue
    x = m(g, "push_p99_ms")
    printf "| p99 < 50 ms at 1,000 clients, %s | %.1f ms at %s msgs/s (half the throughput, open loop) | %s |\n",
      (vv[v] == "ws" ? "WebSocket" : "HTTP"), x, group(m(g, "msgs_per_s")), (x < 50 ? "yes" : "no")
    g = "closed|" vv[v] "|1000"
    x = m(g, "push_p99_ms")
    printf "| p99 < 50 ms at 1,000 clients, %s, saturated | %.1f ms at %s msgs/s (closed loop) | %s |\n",
      (vv[v] == "ws" ? "WebSocket" : "HTTP"), x, group(m(g, "msgs_per_s")), (x < 50 ? "yes" : "no")
  }
  for (i = 1; i <= 2; i++) {
    g = "idle|" ic[i]
    if (!cnt[g SUBSEP "per_conn_rss_b"]) continue
    x = m(g, "per_conn_rss_b")
    printf "| < 10 KiB server memory per idle connection, %s sessions | %s B | %s |\n",
      group(ic[i]), group(x), (x < 10240 ? "yes" : "no")
  }
  if (idle_big < 50000)
    print "| < 10 KiB per idle connection, 50,000 sessions | not measurable here (open-files limit) | - |"
  printf "\nerrors in all measurements: %d\n", errors
  exit errors ? 1 : 0
}' "$1"
}

if [ "${1:-}" = --report ] && [ $# -eq 2 ]; then
  # The run's parameters are in its "RESULT mode=params" line.
  p="$(grep '^RESULT mode=params' "$2" | tail -1)"
  get() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$p"; }
  report "$2" "$(get runs)" "$(get started | tr _ ' ')" "$(get idle_big)" \
    "$(get nofile)" "$(get duration)" "$(get warmup)"
  exit
fi

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: bash bench/serve.sh BUILD_DIR [RUNS]" >&2
  exit 2
fi
build="$1"
runs="${2:-${SERVE_RUNS:-3}}"
duration="${SERVE_DURATION:-10}"
warmup="${SERVE_WARMUP:-3}"
ward="$build/ward"
load="$build/serve_load"
ref="$build/serve_ref"
for b in "$ward" "$load" "$ref"; do
  if [ ! -x "$b" ]; then
    echo "serve.sh: $b not found: build first (make bench-serve)" >&2
    exit 1
  fi
done

# Descriptors: the server and the generator each need one per connection.
# Raising the hard limit needs CAP_SYS_RESOURCE; without it, the idle
# measurement stops below the hard limit and says so.
ulimit -Hn 60000 2>/dev/null || true
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
nofile="$(ulimit -n)"
if [ "$nofile" = unlimited ] || [ "$nofile" -ge 51000 ]; then
  idle_big=50000
else
  idle_big=$(( (nofile - 1000) / 1000 * 1000 ))
fi
if [ "$idle_big" -le 10000 ]; then
  echo "serve.sh: open files limited to $nofile; 10,000 sessions need more" >&2
  exit 1
fi

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

start_server() {
  local dir="$1"
  mkdir -p "$dir"
  "$ward" serve --data "$dir/data" --listen 127.0.0.1:0 \
    --port-file "$dir/port" --pwhash min \
    --register-per-minute 1000000 --register-burst 100000 \
    --login-per-minute 1000000 --login-burst 100000 \
    2>"$dir/server.log" &
  pid=$!
  for _ in $(seq 100); do
    [ -s "$dir/port" ] && break
    sleep 0.1
  done
  if [ ! -s "$dir/port" ]; then
    echo "serve.sh: the server did not start:" >&2
    cat "$dir/server.log" >&2
    exit 1
  fi
  port="$(cat "$dir/port")"
}

stop_server() {
  kill -TERM "$pid"
  wait "$pid" || { echo "serve.sh: the server exited with $?" >&2; exit 1; }
  pid=""
}

# run LABEL ARGS...: one serve_load measurement, its RESULT line kept.
run() {
  local out
  out="$("$load" "$@" --port "$port" 2>>"$tmp/load.log" | grep '^RESULT')" ||
    { echo "serve.sh: serve_load $* failed:" >&2; tail -20 "$tmp/load.log" >&2;
      exit 1; }
  echo "$out run=$r" >>"$results"
  echo "  ${out#RESULT }" >&2
}

field() { # field KEY LINE
  sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"
}

started="$(date -u '+%Y-%m-%d %H:%M UTC')"
echo "RESULT mode=params runs=$runs started=${started// /_}" \
  "idle_big=$idle_big nofile=$nofile duration=$duration warmup=$warmup" \
  >>"$results"
for r in $(seq "$runs"); do
  echo "serve.sh: run $r of $runs" >&2
  dir="$tmp/run$r"
  start_server "$dir"
  run register --accounts 10000 --out "$dir/tokens"
  run idle --tokens "$dir/tokens" --conns "10000,$idle_big" \
    --server-pid "$pid" --settle 3
  if [ $((r % 2)) -eq 1 ]; then vias="ws http"; else vias="http ws"; fi
  for clients in 1000 10000; do
    for via in $vias; do
      common=(--tokens "$dir/tokens" --clients "$clients" --send-via "$via"
              --server-pid "$pid" --warmup "$warmup" --duration "$duration")
      run deliver "${common[@]}" --inflight 200 --label closed
      line="$(tail -1 "$results")"
      rate="$(field msgs_per_s "$line")"
      batch="$(field msgs_per_commit "$line" | awk '{ b = int($1 + 0.5);
        print (b < 1 ? 1 : b) }')"
      "$ref" --dir "$dir" --batch "$batch" --rounds $(( 10000 / batch + 1 )) |
        sed "s/\$/ via=$via clients=$clients run=$r/" >>"$results"
      tail -1 "$results" | sed 's/^RESULT /  /' >&2
      run deliver "${common[@]}" --rate $(( rate / 2 )) --label half
    done
  done
  stop_server
done

if [ -n "${SERVE_RESULTS:-}" ]; then
  cp "$results" "$SERVE_RESULTS"
fi
report "$results" "$runs" "$started" "$idle_big" "$nofile" "$duration" \
  "$warmup"
