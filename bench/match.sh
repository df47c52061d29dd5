#!/usr/bin/env bash
# bench/match.sh BUILD_DIR [ROUNDS]: ward's PDQ index against a brute-force
# popcount scan and FAISS's binary indexes, on generated hashes (it builds
# nothing; `make bench-match` builds the release preset, then runs this on
# build/release). See docs/benchmarks.md, "Hash matching".
# bench/match.sh --report FILE: the tables again from the RESULT lines of an
# earlier run (each run keeps them in BUILD_DIR/bench-match/results.txt).
#
# Data sets (MATCH_SETS, default "100000:uniform 1000000:uniform
# 1000000:clustered 10000000:uniform 10000000:clustered"), each made by
# BUILD_DIR/match with a fixed seed: N uniform random hashes, or N entries
# around 1,000 random centres (a centre with 0..40 bits flipped); 10,000
# queries, alternately a near-duplicate of an entry (0..40 bits flipped)
# and a random hash. For each set, one after the other:
#
#   BUILD_DIR/match --n N --data KIND --dir TMP --rounds ROUNDS
#       --brute-rounds ROUNDS --diag 100
#     builds ward's index through ward_match_builder (timed), its size,
#     ward_match_open (timed), then ROUNDS rounds (default 3, or
#     $MATCH_RUNS) of the 10,000 queries at r = 31 on 1 and 2 threads and
#     of a one-thread popcount scan over the sample (all 10,000 queries up
#     to N = 1,000,000, else the first 500), ward's rounds on the index
#     opened three ways, interleaved: mapped (ward_match_open), copied
#     (WARD_MATCH_OPEN_COPY) and a copy of the file in malloc'd memory;
#     ward's hits must equal the scan's for every sample query;
#   /usr/bin/python3 bench/match_faiss.py --dir TMP --n N --data KIND
#       --rounds ROUNDS
#     IndexBinaryFlat and IndexBinaryMultiHash (16 tables of 16 bits,
#     nflip 1) from Debian's python3-faiss, built (timed) and range-searched
#     at r = 31 on 1 and 2 threads over the first K sample queries (K fits
#     about 30 s per index, at least 102), checked against the scan's hits.
#
# TMP (the hashes, the queries, the index) is deleted after each set; the
# 10M sets take about 3 GB of memory in match and 3 GB in FAISS.
# Prints markdown tables of the medians on stdout; the RESULT lines go to
# stderr as the run goes. Takes about 20 minutes on two cores.
set -euo pipefail

# ---- tables: medians over the rounds ----
report() {
awk '
function median(key,    n, i, j, t, a) {
  n = cnt[key]
  if (!n) return ""
  for (i = 1; i <= n; i++) a[i] = val[key, i] + 0
  for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
  return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
# 3 significant digits at most, no decimals from 100 up, thousands with commas.
function rate(x,    s, r) {
  if (x == "") return "-"
  if (x < 10) return sprintf("%.2f", x)
  if (x < 100) return sprintf("%.1f", x)
  s = sprintf("%.0f", x); r = ""
  while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
  return s r
}
function big(x,    s, r) {
  s = sprintf("%.0f", x); r = ""
  while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
  return s r
}
function qps(d, t) { return median(d SUBSEP t) }
# An open: the median, and the first of the process (the others reuse
# memory the first was given).
function opened(d, w,    k) {
  k = d SUBSEP w
  if (!cnt[k]) return "-"
  return sprintf("%.3f (%.3f)", median(k), val[k, 1])
}
# The median, and the slowest and fastest round.
function spread(d, t,    k) {
  k = d SUBSEP t
  if (!cnt[k]) return "-"
  return rate(median(k)) " (" rate(lo[k]) "-" rate(hi[k]) ")"
}
function mb(x) { return sprintf("%.0f MB", x / 1e6) }
/^RESULT / {
  delete kv
  for (i = 2; i <= NF; i++) { k = $i; sub(/=.*/, "", k); v = $i; sub(/^[^=]*=/, "", v); kv[k] = v }
  if (kv["mode"] == "params") { for (k in kv) par[k] = kv[k]; next }
  d = kv["data"] " " kv["n"]
  if (!(d in seen)) { seen[d] = 1; order[++nd] = d; kind[d] = kv["data"]; size[d] = kv["n"] }
  w = kv["what"]; t = kv["tool"]
  if (w == "load") { load[d, kv["at"]] = kv["load"]; next }
  if (w == "params" || w == "faiss-params" || w == "size" || w == "build" && t == "" || w == "queries") { for (k in kv) info[d, w, k] = kv[k]; next }
  if (w == "open" || w == "open-copy" || w == "open-mem") {
    val[d SUBSEP w, ++cnt[d SUBSEP w]] = kv["secs"]
    # The memory of the process after the last open of each kind.
    rss_anon[d, w] = kv["rss_anon"]; rss_file[d, w] = kv["rss_file"]
    anon_huge[d, w] = kv["anon_huge"]; file_huge[d, w] = kv["file_huge"]
    next
  }
  if (w == "check") {
    if (t == "") { chk[d, "ward"] = big(kv["agree"]) " / " big(kv["queries"]); ok[d, "ward"] = (kv["agree"] == kv["queries"]) }
    else chk[d, t, kv["threads"]] = big(kv["agree"]) " / " big(kv["queries"])
    next
  }
  if (w == "model") { model[d, kv["kind"], "probed"] = kv["probed"] / kv["queries"]; model[d, kv["kind"], "compared"] = kv["compared"] / kv["queries"]; next }
  if (w == "stats") { mihcand[d] = kv["candidates"] / kv["queries"]; next }
  if (w == "build") { fb[d, t] = kv["secs"]; fmem[d, t] = kv["mem"]; next }
  key = d SUBSEP t kv["threads"]
  r = kv["queries"] / kv["secs"]
  val[key, ++cnt[key]] = r
  if (!(key in lo) || r < lo[key]) lo[key] = r
  if (!(key in hi) || r > hi[key]) hi[key] = r
  nq[d, t] = kv["queries"]
  flt[d, t] += kv["majflt"]
  if (t == "brute") pop = kv["popcnt"]
}
END {
  cpu = par["cpu"]; gsub(/_/, " ", cpu); started = par["started"]; gsub(/_/, " ", started)
  printf "## Results (%s, %d rounds, medians)\n\n", started, par["runs"]
  printf "Machine: %s CPUs (`nproc`), %s, %s GB of memory. Load average (1 min) at the start and end of each set: ", par["nproc"], cpu, par["mem"]
  for (i = 1; i <= nd; i++) { d = order[i]; printf "%s%s %s: %s, %s", (i > 1 ? "; " : ""), kind[d], big(size[d]), load[d, "start"], load[d, "end"] }
  print ".\n"

  print "### Build, size, open\n"
  print "| data | N | build + write (s) | of which adding entries (s) | index file | bytes per hash | without the raw 32 | open mapped (s) | open copied (s) | open from memory (s) |"
  print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for (i = 1; i <= nd; i++) {
    d = order[i]
    printf "| %s | %s | %.2f | %.2f | %s | %.1f | %.1f | %s | %s | %s |\n", kind[d], big(size[d]),
      info[d, "build", "secs"], info[d, "build", "add"], mb(info[d, "size", "bytes"]),
      info[d, "size", "per_hash"], info[d, "size", "per_hash_noraw"], opened(d, "open"),
      opened(d, "open-copy"), opened(d, "open-mem")
  }
  print "\nbuild + write: ward_match_builder_new, one list, ward_match_builder_add per entry, ward_match_builder_write (tables built, checksummed, written, fsync and rename). open mapped: ward_match_open_opts(WARD_MATCH_OPEN_MAP), the default, median of 3, the file in the page cache (it checksums every section). open copied: WARD_MATCH_OPEN_COPY (the PDQ hashes and tables read into huge-page memory, checksummed as read; the rest mapped and checked as above), median of 3. open from memory: set_open_mem on a copy of the whole file in a malloc'"'"'d buffer (the same checks), median of 3. In brackets after each open: the first of the 3, the first of its kind in the process.\n"

  print "### Memory after opening\n"
  print "| data | N | mapped: file pages resident | of which on huge pages | copied: memory added | of which on huge pages |"
  print "|---|---:|---:|---:|---:|---:|"
  for (i = 1; i <= nd; i++) {
    d = order[i]
    printf "| %s | %s | %s | %s | %s | %s |\n", kind[d], big(size[d]),
      mb(rss_file[d, "open"]), mb(file_huge[d, "open"]),
      mb(rss_anon[d, "open-copy"] - rss_anon[d, "open"]), mb(anon_huge[d, "open-copy"])
  }
  print "\nThe benchmark process'"'"'s RssFile and FilePmdMapped after the mapped open, and the growth of its RssAnon over the copied open and its AnonHugePages after it (/proc/self/status, /proc/self/smaps_rollup). The mapped pages are the page cache'"'"'s, shared by every process that maps the file; the copy is the process'"'"'s own.\n"

  print "### ward: queries per second at r = 31\n"
  print "| data | N | index file mapped, 1 thread | mapped, 2 threads | copied, 1 thread | copied, 2 threads | malloc'"'"'d copy, 1 thread | malloc'"'"'d copy, 2 threads | major page faults in all rounds |"
  print "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  for (i = 1; i <= nd; i++) {
    d = order[i]
    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", kind[d], big(size[d]),
      spread(d, "ward1"), spread(d, "ward2"), spread(d, "ward-copy1"), spread(d, "ward-copy2"),
      spread(d, "ward-mem1"), spread(d, "ward-mem2"),
      big(flt[d, "ward"] + flt[d, "ward-copy"] + flt[d, "ward-mem"])
  }
  print "\nMedian of the rounds (slowest-fastest round in brackets), all 10,000 queries each round; the rounds of the three interleaved. mapped: ward_match_open (WARD_MATCH_OPEN_MAP), the index file mapped from the page cache, as ward runs. copied: WARD_MATCH_OPEN_COPY. malloc'"'"'d copy: the same file read into a malloc'"'"'d buffer (4 KiB pages) and opened with set_open_mem, the same code on the same bytes.\n"

  print "### Against a scan and FAISS: queries per second at r = 31\n"
  print "| data | N | ward mapped, 1 thread | ward copied, 1 thread | brute-force scan, 1 thread | ward / scan (mapped, copied) | FAISS flat, 1 thread | FAISS flat, 2 threads | FAISS multi-hash, 1 thread | FAISS multi-hash, 2 threads |"
  print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for (i = 1; i <= nd; i++) {
    d = order[i]
    w1 = qps(d, "ward1"); m1 = qps(d, "ward-copy1"); b1 = qps(d, "brute1")
    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", kind[d], big(size[d]),
      rate(w1), rate(m1), rate(b1), (b1 ? sprintf("%.1fx, %.1fx", w1 / b1, m1 / b1) : "-"),
      rate(qps(d, "faiss-flat1")), rate(qps(d, "faiss-flat2")),
      rate(qps(d, "faiss-mih1")), rate(qps(d, "faiss-mih2"))
  }
  printf "\nQueries per second, median of the rounds; each column on these queries (half near-duplicates of an entry, half random):\n\n"
  print "| data | N | ward | scan | FAISS flat | FAISS multi-hash |"
  print "|---|---:|---:|---:|---:|---:|"
  for (i = 1; i <= nd; i++) {
    d = order[i]
    printf "| %s | %s | %s | first %s | first %s | first %s |\n", kind[d], big(size[d]), big(nq[d, "ward"]),
      big(nq[d, "brute"]), big(nq[d, "faiss-flat"]), big(nq[d, "faiss-mih"])
  }
  printf "\nscan: every hash, four __builtin_popcountll each (POPCNT: %s). FAISS %s from Debian (python3-faiss), range_search: IndexBinaryFlat, and IndexBinaryMultiHash with %s tables of %s bits and nflip %s (exact at r = 31: 16 x 2 > 31).\n\n", pop, par["faiss"], par["nhash"], par["bits"], par["nflip"]

  print "### Recall: hits equal to the scan'"'"'s, queries that agree / queries checked\n"
  print "| data | N | ward | FAISS flat, 1 / 2 threads | FAISS multi-hash, 1 / 2 threads |"
  print "|---|---:|---:|---:|---:|"
  for (i = 1; i <= nd; i++) {
    d = order[i]
    printf "| %s | %s | %s | %s, %s | %s, %s |\n", kind[d], big(size[d]), chk[d, "ward"],
      chk[d, "faiss-flat", 1], chk[d, "faiss-flat", 2], chk[d, "faiss-mih", 1], chk[d, "faiss-mih", 2]
  }
  print "\nward: the same hashes as the scan, as many times, at the same distances (no hit missing, none extra); FAISS: the same entry numbers.\n"

  print "### Hits and work per query\n"
  print "| data | N | near-duplicates with a hit | hits per near-duplicate | random queries with a hit | ward: entries under a probed key, near / random | ward: hashes read whole, near / random | FAISS multi-hash: candidates |"
  print "|---|---:|---:|---:|---:|---:|---:|---:|"
  for (i = 1; i <= nd; i++) {
    d = order[i]
    printf "| %s | %s | %s of %s | %.1f | %s of %s | %s / %s | %s / %s | %s |\n", kind[d], big(size[d]),
      big(info[d, "queries", "near_with_hits"]), big(info[d, "queries", "near"]),
      info[d, "queries", "near_hits"] / info[d, "queries", "near"],
      big(info[d, "queries", "random_with_hits"]), big(info[d, "queries", "random"]),
      big(model[d, "near", "probed"]), big(model[d, "random", "probed"]),
      big(model[d, "near", "compared"]), big(model[d, "random", "compared"]),
      ((d in mihcand) ? big(mihcand[d]) : "-")
  }
  print "\nward'"'"'s work is counted by a scan that applies the index'"'"'s two tests to every entry (match --diag, first 100 queries, not timed): an entry under a probed key has its partner chunk tested; one that passes has its whole hash read. FAISS: the mean shortlist (distinct entries under its probed keys) of its timed queries.\n"

  print "### FAISS builds\n"
  print "| data | N | flat: add (s) | flat: memory | multi-hash: add (s) | multi-hash: memory | bytes per hash |"
  print "|---|---:|---:|---:|---:|---:|---:|"
  for (i = 1; i <= nd; i++) {
    d = order[i]
    if (fb[d, "faiss-flat"] == "") continue
    printf "| %s | %s | %.2f | %s | %.1f | %s | %.0f |\n", kind[d], big(size[d]), fb[d, "faiss-flat"],
      mb(fmem[d, "faiss-flat"]), fb[d, "faiss-mih"], mb(fmem[d, "faiss-mih"]), fmem[d, "faiss-mih"] / size[d]
  }
  print "\nmemory: growth of the process'"'"'s resident set over the add (the multi-hash index keeps its own copy of the codes, 32 B per hash, in that figure).\n"

  print "### Targets (issue 6)\n"
  print "| target | measured | met |"
  print "|---|---|---|"
  d = "uniform 10000000"
  if (d in seen) {
    w1 = qps(d, "ward1"); m1 = qps(d, "ward-copy1")
    printf "| 10M uniform, r = 31, one thread: at least 10,000 queries/s with 100%% recall | mapped: %s q/s; copied: %s q/s; recall: %s sample queries exact | %s |\n",
      rate(w1), rate(m1), chk[d, "ward"], (w1 >= 10000 && ok[d, "ward"] ? "yes" : m1 >= 10000 && ok[d, "ward"] ? "copied only" : "no")
    pb = info[d, "size", "per_hash"] + 0
    printf "| 10M uniform: index under 2x the raw 32 bytes per hash (64 B) | %.1f B/hash (%.1f without the raw hashes) | %s |\n",
      pb, info[d, "size", "per_hash_noraw"], (pb < 64 ? "yes" : "no")
    o = median(d SUBSEP "open") + 0
    printf "| 10M: open well under a second (asked with this benchmark, not in the issue) | %s s mapped from the page cache; %s s copied (median of 3, the first in brackets) | %s |\n",
      opened(d, "open"), opened(d, "open-copy"), (o < 0.5 && val[d SUBSEP "open", 1] < 1 ? "yes" : "no")
  }
  for (i = 1; i <= nd; i++) {
    d = order[i]
    if (kind[d] != "clustered") continue
    w1 = qps(d, "ward1"); m1 = qps(d, "ward-copy1"); b1 = qps(d, "brute1")
    printf "| clustered %s: at least 10x the brute-force scan | mapped: %.1fx (%s against %s q/s, one thread each); copied: %.1fx | %s |\n",
      big(size[d]), w1 / b1, rate(w1), rate(b1), m1 / b1,
      (w1 >= 10 * b1 && ok[d, "ward"] ? "yes" : m1 >= 10 * b1 && ok[d, "ward"] ? "copied only" : "no")
  }
}' "$1"
}

if [ "${1:-}" = --report ] && [ $# -eq 2 ]; then
  report "$2"
  exit
fi

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: bash bench/match.sh BUILD_DIR [ROUNDS]" >&2
  exit 2
fi
build="$1"
rounds="${2:-${MATCH_RUNS:-3}}"
sets="${MATCH_SETS:-100000:uniform 1000000:uniform 1000000:clustered 10000000:uniform 10000000:clustered}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
bin="$build/match"
# Debian's python3, where python3-faiss is (another python3 may come first
# in PATH).
py=/usr/bin/python3
if [ ! -x "$bin" ]; then
  echo "match.sh: $bin not found: build first (make bench-match)" >&2
  exit 1
fi
if ! "$py" -c 'import faiss, numpy' 2>/dev/null; then
  echo "match.sh: $py cannot import faiss and numpy (make deps installs" \
       "python3-faiss)" >&2
  exit 1
fi
case "$rounds" in
  '' | *[!0-9]* | 0) echo "match.sh: ROUNDS is a positive count" >&2; exit 2 ;;
esac

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cache="$build/bench-match"
mkdir -p "$cache"
results="$cache/results.txt"
: >"$results"
result() { echo "RESULT $*" >>"$results"; echo "  $*" >&2; }
# Lines of a command's RESULT output into the results, as they come.
keep() {
  local line
  while IFS= read -r line; do
    case "$line" in RESULT\ *) result "${line#RESULT }" ;; esac
  done
}

started="$(date -u '+%Y-%m-%d %H:%M UTC')"
cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
mem="$(awk '/^MemTotal/ { printf "%.0f", $2 / 1e6 }' /proc/meminfo)"
faiss="$("$py" -c 'import faiss; print(faiss.__version__)')"
echo "RESULT mode=params runs=$rounds started=${started// /_}" \
  "nproc=$(nproc) cpu=${cpu// /_} mem=$mem faiss=$faiss nhash=16 bits=16" \
  "nflip=1" >>"$results"

fail=0
for s in $sets; do
  n="${s%%:*}"
  kind="${s#*:}"
  dir="$tmp/$n-$kind"
  mkdir -p "$dir"
  echo "match.sh: $kind, N = $n" >&2
  result "data=$kind n=$n what=load at=start load=$(cut -d ' ' -f 1 /proc/loadavg)"
  "$bin" --n "$n" --data "$kind" --dir "$dir" --rounds "$rounds" \
    --brute-rounds "$rounds" --diag 100 | keep || fail=1
  "$py" "$repo/bench/match_faiss.py" --dir "$dir" --n "$n" --data "$kind" \
    --rounds "$rounds" --budget 30 --nhash 16 --bits 16 --nflip 1 | keep ||
    fail=1
  result "data=$kind n=$n what=load at=end load=$(cut -d ' ' -f 1 /proc/loadavg)"
  rm -rf "$dir"
done

report "$results"

if [ "$fail" -ne 0 ]; then
  echo "match.sh: a check failed (see the Recall table)" >&2
  exit 1
fi
