#!/usr/bin/env bash
# bench/pdq.sh BUILD_DIR [RUNS]: PDQ hashing speed against decoding alone
# (it builds nothing; `make bench-pdq` builds the release preset, then runs
# this on build/release). See docs/benchmarks.md, "PDQ hashing".
# bench/pdq.sh --report FILE: the tables again from the RESULT lines of an
# earlier run (each run keeps them in BUILD_DIR/bench-pdq/results.txt).
#
# Three sets of images:
#   a  the 35 reference images, ../shared/data/pdq-reference/images (JPEG
#      and PNG, 34x42 to 4032x3024);
#   b  20 JPEGs of 4000x3000, and
#   c  the same 20 at 1024x768, made once into BUILD_DIR/bench-pdq/ by
#      ImageMagick (kept; remade only when missing or the recipe changes).
# Recipe of b and c: the 20 reference images with the most pixels (ties by
# path; the two 4032x3024 photos, the 15 bridge photos of 1600x1004 or
# 1004x1600, c.png, shrink-a-little.jpg, pen-and-coaster.png), each
#   convert SRC -strip -alpha off -resize 'WxH!' -sampling-factor 2x2 \
#           -quality 90 OUT.jpg
# i.e. metadata dropped, stretched to exactly WxH, 4:2:0 like a camera's
# JPEG, quality 90.
#
# RUNS runs (default 5, or $PDQ_RUNS). Each run times, for each set, one
# process per command (the order of the four turns from run to run):
#   ward hash -j 1 --format text FILES    (BUILD_DIR/ward, one process)
#   ward hash -j 2 --format text FILES
#   djpeg FILE >/dev/null                 (one process per file; set a:
#   djpeg -scale 1/8 FILE >/dev/null       its 32 JPEGs only)
# with `date +%s.%N` around each. Then BUILD_DIR/pdq_decode (one process
# per set, RUNS runs inside it) times ward's decoder alone and decode + PDQ
# in memory, and libturbojpeg's 1/2, 1/4 and 1/8 scaled decodes + PDQ with
# each scaled hash's distance to the exact one. The hashes of ward hash -j 1
# and -j 2 and pdq_decode must agree, and set a's must equal the reference's
# full-resolution hashes (expected_pdq.csv), or the script exits 1.
#
# Prints markdown tables of the medians on stdout; the RESULT lines go to
# stderr as the run goes. Takes about 2 minutes on two cores (plus about a
# minute the first time, to make the images). PDQ_REFERENCE_DIR overrides
# where the reference data is.
set -euo pipefail

# ---- tables: medians over the runs ----
report() {
awk '
function median(key,    n, i, j, t, a) {
  n = cnt[key]
  if (!n) return ""
  for (i = 1; i <= n; i++) a[i] = val[key, i] + 0
  for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
  return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
# img/s with 3 significant digits at most, but no decimals above 100.
function rate(x) { return x == "" ? "-" : x >= 100 ? sprintf("%.0f", x) : x >= 10 ? sprintf("%.1f", x) : sprintf("%.2f", x) }
function ips(s, t) { return median(s SUBSEP t) }
/^RESULT / {
  delete kv
  for (i = 2; i <= NF; i++) { k = $i; sub(/=.*/, "", k); v = $i; sub(/^[^=]*=/, "", v); kv[k] = v }
  if (kv["mode"] == "params") { for (k in kv) par[k] = kv[k]; next }
  s = kv["set"]
  if (kv["tool"] == "dist") { for (k in kv) dist[s, kv["scale"], k] = kv[k]; next }
  if (kv["tool"] == "check") { for (k in kv) chk[s, k] = kv[k]; next }
  t = kv["tool"] (kv["scale"] != "" && kv["scale"] != "1" ? "@" kv["scale"] : "")
  key = s SUBSEP t
  val[key, ++cnt[key]] = kv["imgs"] / kv["secs"]
  imgs[s, t] = kv["imgs"]
}
END {
  split("a b c", sets, " ")
  name["a"] = "35 reference images (34x42 to 4032x3024)"
  name["b"] = "20 JPEGs 4000x3000"
  name["c"] = "20 JPEGs 1024x768"
  # The reference on this kind of machine (../shared/pdq/PDQ.md, one
  # core, median of runs): full-resolution path, 512x512 CLI shortcut,
  # libjpeg-turbo decode full size and at 1/8.
  reffull["b"] = "1.53"; refcli["b"] = "5.9"; refdj["b"] = "~20"; refdj8["b"] = "~31"
  reffull["c"] = "22.6"; refcli["c"] = "103"; refdj["c"] = "~122"; refdj8["c"] = "~167"
  for (i = 1; i <= 3; i++) { s = sets[i]; if (!(s in reffull)) { reffull[s] = refcli[s] = refdj[s] = refdj8[s] = "-" } }

  cpu = par["cpu"]; gsub(/_/, " ", cpu); started = par["started"]; gsub(/_/, " ", started)
  printf "## Results (%s, %d runs, medians)\n\n", started, par["runs"]
  printf "Machine: %s CPUs (`nproc`), %s. img/s: images per second.\n\n", par["nproc"], cpu

  print "### ward hash and djpeg, one process per command\n"
  print "| set | ward hash -j 1 | ward hash -j 2 | djpeg | djpeg -scale 1/8 | ratio ward -j 1 / djpeg | reference: full-res path | reference: CLI 512x512 | reference: decode (full, 1/8) |"
  print "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  for (i = 1; i <= 3; i++) {
    s = sets[i]
    if (!cnt[s SUBSEP "ward-j1"]) continue
    w = ips(s, "ward-j1"); d = ips(s, "djpeg")
    r = (imgs[s, "ward-j1"] == imgs[s, "djpeg"]) ? sprintf("%.2fx", d / w) : "n/a (djpeg: " imgs[s, "djpeg"] " JPEGs)"
    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s, %s |\n", name[s], rate(w),
      rate(ips(s, "ward-j2")), rate(d), rate(ips(s, "djpeg@1/8")), r,
      reffull[s], refcli[s], refdj[s], refdj8[s]
  }
  print "\nimg/s, median of the runs. ward hash: one process for the whole set, from reading the files to printing the hashes. djpeg: one process per file, output to /dev/null. ratio: time per image of ward hash -j 1 over that of djpeg (full size); the issue asks for about 2x or less. The reference columns are the figures of ../shared/pdq/PDQ.md (one core).\n"

  print "### In one process, one thread (pdq_decode)\n"
  print "| set | decode alone | decode + PDQ | ratio | ward hash -j 1 (above) |"
  print "|---|---:|---:|---:|---:|"
  for (i = 1; i <= 3; i++) {
    s = sets[i]
    if (!cnt[s SUBSEP "decode"]) continue
    d = ips(s, "decode"); p = ips(s, "pdq")
    printf "| %s | %s | %s | %.2fx | %s |\n", name[s], rate(d), rate(p), d / p, rate(ips(s, "ward-j1"))
  }
  print "\nward_media_decode alone, then ward_media_decode + ward_pdq_hash, over files already in memory: no process start-up, no file reading, no MD5 or SHA-256. ratio: time per image of decode + PDQ over decode alone.\n"

  print "### Optional faster mode: JPEGs decoded at a smaller scale (not bit-exact)\n"
  print "| set | scale | decode alone | decode + PDQ | speed-up over exact decode + PDQ | distance to the exact hash: median / mean / max (bits) |"
  print "|---|---|---:|---:|---:|---:|"
  for (i = 1; i <= 3; i++) {
    s = sets[i]
    split("1/2 1/4 1/8", sc, " ")
    for (j = 1; j <= 3; j++) {
      t = "pdq@" sc[j]
      if (!cnt[s SUBSEP t]) continue
      printf "| %s | %s | %s | %s | %.2fx | %s / %s / %s (%s JPEGs) |\n", name[s], sc[j],
        rate(ips(s, "decode@" sc[j])), rate(ips(s, t)), ips(s, t) / ips(s, "pdq"),
        dist[s, sc[j], "median"], dist[s, sc[j], "mean"], dist[s, sc[j], "max"], dist[s, sc[j], "jpegs"]
    }
  }
  print "\nlibturbojpeg decodes each JPEG straight to 1/2, 1/4 or 1/8 of its size (DCT-domain scaling, tjDecompress2 with a scaled size from tjGetScalingFactors), then ward_pdq_hash hashes that; in set a the 3 PNGs are decoded at full size and left out of the distances. Distance: Hamming distance to the exact full-resolution hash of the same file, over every JPEG of the set; a match is 31 bits or less.\n"

  print "### Hashes\n"
  for (i = 1; i <= 3; i++) {
    s = sets[i]
    if (!((s, "files") in chk)) continue
    printf "- %s: ward hash -j 1, -j 2 and pdq_decode agree on %s of %s files", name[s], chk[s, "agree"], chk[s, "files"]
    if (chk[s, "expected"] != "") printf "; %s of %s equal the reference full-resolution hash and quality (expected_pdq.csv)", chk[s, "expected"], chk[s, "files"]
    print "."
  }
  print ""

  print "### Targets (issue 5)\n"
  print "| target | measured | met |"
  print "|---|---|---|"
  exact = (chk["b", "agree"] == chk["b", "files"] && chk["c", "agree"] == chk["c", "files"] && chk["a", "expected"] == chk["a", "files"])
  split("b c", tg, " "); need["b"] = 10; need["c"] = 120
  for (i = 1; i <= 2; i++) {
    s = tg[i]
    if (!cnt[s SUBSEP "ward-j1"]) continue
    w = ips(s, "ward-j1")
    printf "| %s: at least %d img/s on one core, bit-exact | ward hash -j 1: %s img/s (in one process: %s) | %s |\n",
      name[s], need[s], rate(w), rate(ips(s, "pdq")), (w >= need[s] && exact ? "yes" : "no")
  }
  for (i = 1; i <= 2; i++) {
    s = tg[i]
    if (!cnt[s SUBSEP "ward-j1"]) continue
    r1 = ips(s, "djpeg") / ips(s, "ward-j1"); r2 = ips(s, "decode") / ips(s, "pdq")
    printf "| %s: within about 2x of decoding alone | %.2fx of djpeg; %.2fx of ward_media_decode in one process | %s |\n",
      name[s], r1, r2, (r1 <= 2 ? "yes" : "no")
  }
}' "$1"
}

if [ "${1:-}" = --report ] && [ $# -eq 2 ]; then
  report "$2"
  exit
fi

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: bash bench/pdq.sh BUILD_DIR [RUNS]" >&2
  exit 2
fi
build="$1"
runs="${2:-${PDQ_RUNS:-5}}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
ref="${PDQ_REFERENCE_DIR:-$repo/../shared/data/pdq-reference}"
if [ -d "$ref" ]; then
  ref="$(cd "$ref" && pwd)"
fi
ward="$build/ward"
dec="$build/pdq_decode"
cache="$build/bench-pdq"
for b in "$ward" "$dec"; do
  if [ ! -x "$b" ]; then
    echo "pdq.sh: $b not found: build first (make bench-pdq)" >&2
    exit 1
  fi
done
for c in convert identify djpeg; do
  if ! command -v "$c" >/dev/null; then
    echo "pdq.sh: $c not found (make deps installs imagemagick and" \
         "libjpeg-turbo-progs)" >&2
    exit 1
  fi
done
if [ ! -f "$ref/expected_pdq.csv" ]; then
  echo "pdq.sh: no reference data in $ref (set PDQ_REFERENCE_DIR)" >&2
  exit 1
fi
case "$runs" in
  '' | *[!0-9]* | 0) echo "pdq.sh: RUNS is a positive count" >&2; exit 2 ;;
esac

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$cache"
results="$cache/results.txt"
: >"$results"

# ---- the images ----
# Set a: every reference image, by path.
mapfile -d '' set_a < <(find "$ref/images" -type f \( -name '*.jpg' \
  -o -name '*.jpeg' -o -name '*.png' \) -print0 | LC_ALL=C sort -z)
# The 20 with the most pixels, ties by path: the sources of b and c.
mapfile -t sources < <(
  for f in "${set_a[@]}"; do
    wh="$(identify -format '%w %h' "${f}[0]" 2>/dev/null)"
    printf '%s %s\n' "$(awk -v s="$wh" 'BEGIN { split(s, a, " ");
      printf "%d", a[1] * a[2] }')" "${f#"$ref/images/"}"
  done | LC_ALL=C sort -t ' ' -k1,1nr -k2 | head -20 | cut -d ' ' -f 2-)
if [ "${#sources[@]}" -ne 20 ]; then
  echo "pdq.sh: expected 35 reference images in $ref/images" >&2
  exit 1
fi

# make_set WxH: the 20 JPEGs of that size in $cache/WxH, made if missing
# or if the recipe or the sources changed (recipe.txt records them).
make_set() {
  local size="$1" dir="$cache/$1" i src out stamp
  stamp="$(printf 'convert SRC -strip -alpha off -resize %s! -sampling-factor 2x2 -quality 90 OUT\n' "$size"
           printf '%s\n' "${sources[@]}")"
  mkdir -p "$dir"
  if [ "$(cat "$dir/recipe.txt" 2>/dev/null)" != "$stamp" ]; then
    rm -f "$dir/recipe.txt"
  fi
  set_files=()
  for i in "${!sources[@]}"; do
    src="$ref/images/${sources[$i]}"
    out="$dir/$(printf '%02d' $((i + 1)))-$(tr / _ <<<"${sources[$i]%.*}").jpg"
    if [ ! -s "$out" ] || [ ! -f "$dir/recipe.txt" ]; then
      echo "pdq.sh: making $out" >&2
      convert "$src" -strip -alpha off -resize "$size!" \
        -sampling-factor 2x2 -quality 90 "JPG:$out.part" 2>"$tmp/convert.log" ||
        { cat "$tmp/convert.log" >&2; exit 1; }
      mv "$out.part" "$out"
    fi
    set_files+=("$out")
  done
  printf '%s\n' "$stamp" >"$dir/recipe.txt"
}
make_set 4000x3000
set_b=("${set_files[@]}")
make_set 1024x768
set_c=("${set_files[@]}")

# ---- timing ----
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", b - a }'; }
result() { echo "RESULT $*" >>"$results"; echo "  $*" >&2; }

djpeg_each() { # djpeg_each SCALE FILE...: SCALE "" for full size
  local scale="$1" f
  shift
  for f in "$@"; do
    if [ -n "$scale" ]; then
      djpeg -scale "$scale" "$f" >/dev/null
    else
      djpeg "$f" >/dev/null
    fi
  done
}

# timed SET TOOL RUN FILE...: one timed command over the set's files.
timed() {
  local set="$1" tool="$2" run="$3" t0 t1 n
  shift 3
  local files=("$@")
  if [ "$tool" = djpeg ] || [ "$tool" = djpeg-8 ]; then
    files=()
    for f in "$@"; do
      case "${f,,}" in *.jpg | *.jpeg) files+=("$f") ;; esac
    done
  fi
  n="${#files[@]}"
  t0="$(date +%s.%N)"
  case "$tool" in
    ward-j1) "$ward" hash -j 1 --format text "${files[@]}" >"$tmp/$set.j1" ;;
    ward-j2) "$ward" hash -j 2 --format text "${files[@]}" >"$tmp/$set.j2" ;;
    djpeg) djpeg_each "" "${files[@]}" ;;
    djpeg-8) djpeg_each 1/8 "${files[@]}" ;;
  esac
  t1="$(date +%s.%N)"
  if [ "$tool" = djpeg-8 ]; then
    result "set=$set tool=djpeg scale=1/8 run=$run imgs=$n secs=$(secs "$t0" "$t1")"
  else
    result "set=$set tool=$tool run=$run imgs=$n secs=$(secs "$t0" "$t1")"
  fi
}

started="$(date -u '+%Y-%m-%d %H:%M UTC')"
cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "RESULT mode=params runs=$runs started=${started// /_}" \
  "nproc=$(nproc) cpu=${cpu// /_}" >>"$results"

set_of() { # set_of a|b|c: that set's files in cur
  case "$1" in
    a) cur=("${set_a[@]}") ;;
    b) cur=("${set_b[@]}") ;;
    c) cur=("${set_c[@]}") ;;
  esac
}

tools=(ward-j1 ward-j2 djpeg djpeg-8)
for r in $(seq "$runs"); do
  echo "pdq.sh: run $r of $runs" >&2
  for set in a b c; do
    set_of "$set"
    for k in 0 1 2 3; do
      timed "$set" "${tools[$(( (k + r) % 4 ))]}" "$r" "${cur[@]}"
    done
  done
done

# In one process; then the hashes of all three must agree.
fail=0
for set in a b c; do
  set_of "$set"
  echo "pdq.sh: pdq_decode on set $set" >&2
  "$dec" --runs "$runs" "${cur[@]}" >"$tmp/$set.dec" 2>"$tmp/dec.log" ||
    { cat "$tmp/dec.log" >&2; exit 1; }
  grep '^RESULT ' "$tmp/$set.dec" | sed "s/^RESULT /set=$set /" |
    while IFS= read -r line; do result "$line"; done
  sed -n 's/^HASH //p' "$tmp/$set.dec" >"$tmp/$set.inproc"
  agree="$(awk -F, 'FILENAME == ARGV[1] { a[FNR] = $0; next }
    FILENAME == ARGV[2] { b[FNR] = $0; next }
    $0 == a[FNR] && $0 == b[FNR] { n++ } END { print n + 0 }' \
    "$tmp/$set.j1" "$tmp/$set.j2" "$tmp/$set.inproc")"
  line="set=$set tool=check files=${#cur[@]} agree=$agree"
  [ "$agree" = "${#cur[@]}" ] || fail=1
  if [ "$set" = a ]; then
    # HEX,QUALITY,PATH against path,...,fullres_hash,fullres_quality,...
    expected="$(awk -F, -v pre="$ref/" '
      FILENAME == ARGV[1] { if (FNR > 1) e[$1] = $4 "," $5; next }
      { p = $0; sub(/^[^,]*,[^,]*,/, "", p)
        if (index(p, pre) == 1) p = substr(p, length(pre) + 1)
        if ((p in e) && e[p] == $1 "," $2) n++ }
      END { print n + 0 }' "$ref/expected_pdq.csv" "$tmp/a.j1")"
    line="$line expected=$expected"
    [ "$expected" = "${#cur[@]}" ] || fail=1
  fi
  result "$line"
done

report "$results"

if [ "$fail" -ne 0 ]; then
  echo "pdq.sh: the hashes disagree (see the Hashes section)" >&2
  exit 1
fi
