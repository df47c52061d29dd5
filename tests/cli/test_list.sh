#!/usr/bin/env bash
# `ward list` and `ward match` as commands: import in each format and
# export back, matching Meta's needles against its haystack checked
# against a brute-force scan written here in Python (an independent
# implementation of the Hamming distance), images against lists made from
# the reference CSV's hashes and from md5sum, the dihedral variants, exit
# codes, malformed and strict imports, replace/rm, adds and removals
# through the journal (checked against the scan too), a torn and a
# damaged journal, compaction, a damaged index.
#   test_list.sh WARD_BINARY DATA_DIR
set -u
ward="$1"
data="$2"
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { local what="$1"; shift; if "$@"; then ok; else bad "$what"; fi; }
not() { ! "$@"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
L=(--lists "$work/lists")

hay="$data/hash-lists/haystack.txt"
needles="$data/hash-lists/needles.txt"

# ---- import and export: the reference's own list, byte for byte ----
"$ward" list import haystack "$hay" "${L[@]}" --source "Meta MIH test" >"$work/out" 2>&1
check "import haystack: $(cat "$work/out")" grep -q "^haystack: 1350 entries (1350 PDQ, 0 MD5, 0 SHA-256).*reference format" "$work/out"
"$ward" list export haystack "${L[@]}" >"$work/hay.out"
check "export gives the file back" cmp -s "$work/hay.out" "$hay"
"$ward" list ls "${L[@]}" >"$work/out"
check "ls: $(tail -1 "$work/out")" grep -qE '^haystack +1350 +0 +0 +reference +[0-9]{4}-[0-9]{2}-[0-9]{2} Meta MIH test$' "$work/out"
check "the index file is 0600" [ "$(stat -c %a "$work/lists/index.wlx")" = 600 ]
"$ward" list import haystack "$hay" "${L[@]}" >/dev/null 2>"$work/err"; rc=$?
check "a second import of the same name is refused" [ "$rc" -eq 1 ]
check "  and says --replace" grep -q -- "--replace" "$work/err"

# ---- match: needles against haystack, against a brute-force scan ----
brute() { # radius -> lines "needle_line hash distance", sorted
  python3 - "$hay" "$needles" "$1" <<'EOF'
import sys
hay = [l.strip() for l in open(sys.argv[1]) if l.strip()]
nee = [l.strip() for l in open(sys.argv[2]) if l.strip()]
r = int(sys.argv[3])
out = []
for i, n in enumerate(nee, 1):
    for h in hay:
        d = bin(int(n, 16) ^ int(h, 16)).count("1")
        if d <= r:
            out.append("%d %s %d" % (i, h, d))
print("\n".join(sorted(out)))
EOF
}
for r in 0 10 31 32 63 64; do
  "$ward" match --radius "$r" "${L[@]}" --hashes "$needles" >"$work/out" 2>"$work/err"; rc=$?
  awk -F'\t' '{ split($1, q, ":"); print q[2], $5, $4 }' "$work/out" | sort >"$work/got"
  brute "$r" >"$work/want"
  n=$(grep -c . "$work/want")
  check "radius $r: $n hits as the scan finds ($(diff "$work/got" "$work/want" | head -3))" cmp -s "$work/got" "$work/want"
  if [ "$n" -gt 0 ]; then want_rc=3; else want_rc=0; fi
  check "radius $r: exit $want_rc (got $rc)" [ "$rc" -eq "$want_rc" ]
done
check "the scan finds hits at 31 (else the check means little)" [ "$(brute 31 | grep -c .)" -gt 50 ]

# ---- python-threatexchange's formats, labels, round trips ----
b1="$data/images/dih/bridge-1-original.jpg"
b2="$data/images/dih/bridge-2-rotate-90.jpg"
pdq_b1=$(grep "^images/dih/bridge-1-original.jpg," "$data/expected_pdq.csv" | cut -d, -f4)
md5_b2=$(md5sum <"$b2" | cut -c1-32)
sha_b2=$(sha256sum <"$b2" | cut -c1-64)
printf 'signal_type,signal_str,collab,category,tags\npdq,%s,NCMEC,A1,"known, bridge"\nmd5,%s,NCMEC,B2,\nsha256,%s,,,\n' \
  "$pdq_b1" "$md5_b2" "$sha_b2" >"$work/te.csv"
"$ward" list import ncmec "$work/te.csv" "${L[@]}" >"$work/out" 2>&1
check "te-csv import: $(cat "$work/out")" grep -q "^ncmec: 3 entries (1 PDQ, 1 MD5, 1 SHA-256).*te-csv format" "$work/out"
"$ward" list export ncmec "${L[@]}" >"$work/te.out"
check "te-csv exports as it came ($(diff "$work/te.out" "$work/te.csv" | head -2))" cmp -s "$work/te.out" "$work/te.csv"
"$ward" list export ncmec --format te "${L[@]}" >"$work/te.lines"
check "te lines" [ "$(cat "$work/te.lines")" = "$(printf 'pdq %s\nmd5 %s\nsha256 %s' "$pdq_b1" "$md5_b2" "$sha_b2")" ]
"$ward" list import ncmec2 "$work/te.lines" "${L[@]}" >/dev/null 2>&1
"$ward" list export ncmec2 "${L[@]}" >"$work/te.lines2"
check "te round trip" cmp -s "$work/te.lines" "$work/te.lines2"

# ---- images ----
"$ward" match "${L[@]}" "$b1" >"$work/out" 2>"$work/err"; rc=$?
check "bridge 1 matches (exit 3, got $rc)" [ "$rc" -eq 3 ]
check "bridge 1: ncmec pdq 0 with its labels: $(grep ncmec "$work/out")" \
  grep -qP "^\Q$b1\E\tncmec\tpdq\t0\t$pdq_b1\tcollab=NCMEC,category=A1,tags=known%2C bridge$" "$work/out"
"$ward" match "${L[@]}" "$b2" >"$work/out" 2>/dev/null; rc=$?
check "bridge 2 (rotated): exact MD5 and SHA-256 hits" [ "$(grep -cP '\tncmec2?\t(md5|sha256)\t0\t' "$work/out")" -eq 4 ]
check "  but no PDQ hit without --dihedral" [ "$(grep -cP '\tpdq\t' "$work/out")" -eq 0 ]
"$ward" match --dihedral "${L[@]}" "$b2" >"$work/out" 2>/dev/null
check "--dihedral: the rotated bridge finds bridge 1's entries: $(grep -P '\tpdq\t' "$work/out" | head -1)" \
  [ "$(grep -cP '\tncmec2?\tpdq\t[0-9]+\t(rot90|rot270|flipplus1|flipminus1)\t' "$work/out")" -eq 2 ]
# Each of the reference's transformed bridge photos matches bridge 1's
# hash through the variant that undoes its transform.
printf '%s\n' "$pdq_b1" >"$work/b1.txt"
"$ward" list import b1 "$work/b1.txt" --lists "$work/b1lists" >/dev/null
for pair in 1-original:orig 2-rotate-90:rot270 3-rotate-180:rot180 4-rotate-270:rot90 \
            5-flipx:flipx 6-flipy:flipy 7-flip-plus-1:flipplus1 8-flip-minus-1:flipminus1; do
  img="$data/images/dih/bridge-${pair%%:*}.jpg"
  "$ward" match --dihedral --lists "$work/b1lists" "$img" >"$work/out" 2>/dev/null
  check "dihedral ${pair%%:*}: $(cut -f4,5 "$work/out" | tr '\t' ' ')" \
    awk -F'\t' -v v="${pair#*:}" 'NR == 1 && $5 == v && $4 <= 31 { ok = 1 } END { exit !(ok && NR == 1) }' "$work/out"
done
"$ward" match --format json "${L[@]}" "$b1" >"$work/out" 2>/dev/null
check "json lines" python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert any(r["list"] == "ncmec" and r["type"] == "pdq" and r["distance"] == 0 and r["quality"] == 100 for r in rows), rows
' "$work/out"
"$ward" match "${L[@]}" "$data/images/misc/pen-and-coaster.png" >"$work/out" 2>/dev/null; rc=$?
check "an unrelated image: exit 0 (got $rc)" [ "$rc" -eq 0 ]
check "  and nothing printed" [ ! -s "$work/out" ]
"$ward" match "${L[@]}" "$data/images/misc/small.jpg" >/dev/null 2>"$work/err"; rc=$?
check "quality 0: not matched by PDQ, said so" grep -q "quality 0 is under 50" "$work/err"
"$ward" match "${L[@]}" "$work/nonexistent.jpg" "$b1" >"$work/out" 2>"$work/err"; rc=$?
check "a missing file: exit 1 (got $rc)" [ "$rc" -eq 1 ]
check "  the other image still matched" grep -q ncmec "$work/out"
head -c 1000 "$b1" >"$work/trunc.jpg"
"$ward" match "${L[@]}" "$work/trunc.jpg" >/dev/null 2>"$work/err"; rc=$?
check "a truncated image: exit 1 (got $rc)" [ "$rc" -eq 1 ]
check "  with an error line" [ "$(wc -l <"$work/err")" -ge 1 ]
"$ward" match --radius 65 "${L[@]}" "$b1" >/dev/null 2>&1; rc=$?
check "radius 65 is a usage error" [ "$rc" -eq 2 ]

# ---- malformed lines, strict ----
{ head -2 "$hay"; echo "not a hash"; echo "hash=$(head -1 "$hay"),idx=9"; echo "$(head -c 63 "$hay")"; } >"$work/mixed.txt"
"$ward" list import mixed "$work/mixed.txt" "${L[@]}" >"$work/out" 2>"$work/err"; rc=$?
check "malformed lines skipped: $(cat "$work/out")" grep -q "^mixed: 3 entries.*2 malformed lines skipped" "$work/out"
check "  each reported with its line number" [ "$(grep -cE "mixed.txt:(3|5): " "$work/err")" -eq 2 ]
"$ward" list import strict "$work/mixed.txt" --strict "${L[@]}" >/dev/null 2>"$work/err"; rc=$?
check "--strict refuses the file (exit 1)" [ "$rc" -eq 1 ]
"$ward" list ls "${L[@]}" >"$work/out"
check "  and no list was made" not grep -q "^strict " "$work/out"
check "--type sha256: 64 digits read as SHA-256" sh -c "'$ward' list import shas '$hay' --type sha256 ${L[*]} | grep -q '(0 PDQ, 0 MD5, 1350 SHA-256)'"

# ---- a writer killed mid-write leaves a temporary file; the next one clears it ----
printf 'junk' >"$work/lists/index.wlx.new.AbC123"
"$ward" list import tiny "$work/b1.txt" "${L[@]}" >/dev/null 2>&1
check "a stale temporary index is removed by the next writer" [ ! -e "$work/lists/index.wlx.new.AbC123" ]

# ---- replace and rm ----
head -5 "$hay" | "$ward" list import haystack - --replace "${L[@]}" >"$work/out" 2>&1
check "--replace from stdin: $(cat "$work/out")" grep -q "^haystack: 5 entries" "$work/out"
"$ward" match --radius 0 "${L[@]}" --hashes "$needles" >"$work/out" 2>/dev/null
check "the replaced entries are gone" [ "$(grep -cP '\thaystack\t' "$work/out")" -eq 0 ]
"$ward" list rm haystack "${L[@]}" >/dev/null
"$ward" list export haystack "${L[@]}" >/dev/null 2>&1; rc=$?
check "rm: the list is gone" [ "$rc" -eq 1 ]
"$ward" list rm haystack "${L[@]}" >/dev/null 2>&1; rc=$?
check "rm of a list that is not there fails" [ "$rc" -eq 1 ]
"$ward" list import 'bad/name' "$hay" "${L[@]}" >/dev/null 2>&1; rc=$?
check "a name with a slash is a usage error" [ "$rc" -eq 2 ]

# ---- adds and removals through the journal, between queries ----
J=(--lists "$work/jlists")
scan() { # hay-file radius -> "needle_line hash distance", sorted
  python3 - "$1" "$needles" "$2" <<'EOF'
import sys
hay = [l.strip() for l in open(sys.argv[1]) if l.strip()]
nee = [l.strip() for l in open(sys.argv[2]) if l.strip()]
r = int(sys.argv[3])
out = []
for i, n in enumerate(nee, 1):
    for h in hay:
        d = bin(int(n, 16) ^ int(h, 16)).count("1")
        if d <= r:
            out.append("%d %s %d" % (i, h, d))
print("\n".join(sorted(out)))
EOF
}
jmatch() { # radius -> the same lines from ward match
  "$ward" match --radius "$1" "${J[@]}" --hashes "$needles" 2>/dev/null |
    awk -F'\t' '{ split($1, q, ":"); print q[2], $5, $4 }' | sort
}
"$ward" list import haystack "$hay" "${J[@]}" >/dev/null 2>&1
cp "$work/jlists/index.wlx" "$work/j.index"
head -100 "$hay" >"$work/first100"
"$ward" list remove haystack "$work/first100" "${J[@]}" >"$work/out" 2>&1
check "remove: $(cat "$work/out")" grep -q "^haystack: 100 entries removed; 0 hashes" "$work/out"
check "the index file is not rewritten by a removal" cmp -s "$work/jlists/index.wlx" "$work/j.index"
check "the journal is 0600" [ "$(stat -c %a "$work/jlists/journal.wlj")" = 600 ]
# What the list should hold, worked out here: an added entry already in
# the list (or earlier in the file) is not added again; a removed hash
# takes every entry with it.
after_add() { python3 -c '
import sys
cur = [l.strip() for l in open(sys.argv[1]) if l.strip()]
seen = set(cur)
for h in (l.strip() for l in open(sys.argv[2])):
    if h and h not in seen:
        cur.append(h); seen.add(h)
print("\n".join(cur))' "$1" "$2"; }
after_remove() { python3 -c '
import sys
gone = set(l.strip() for l in open(sys.argv[2]))
print("\n".join(l.strip() for l in open(sys.argv[1]) if l.strip() and l.strip() not in gone))' "$1" "$2"; }
{ sed -n 1,20p "$hay"; cat "$needles"; head -5 "$needles"; } >"$work/adds"
"$ward" list add haystack "$work/adds" "${J[@]}" >"$work/out" 2>&1
sed -n '101,$p' "$hay" >"$work/rest"
after_add "$work/rest" "$work/adds" >"$work/expect"
nadd=$(($(grep -c . "$work/expect") - 1250)) nlines=$(grep -c . "$work/adds")
check "the scan's expectation has adds and skips (else the check means little)" [ "$nadd" -gt 20 ] && [ "$nadd" -lt $((nlines - 5)) ]
check "add: $(cat "$work/out")" grep -q "^haystack: $nadd entries added ($nadd PDQ, 0 MD5, 0 SHA-256) from .*; $((nlines - nadd)) already there" "$work/out"
for r in 0 31 64; do
  jmatch "$r" >"$work/got"; scan "$work/expect" "$r" >"$work/want"
  check "after remove and add, radius $r: as the scan of what the list should hold ($(diff "$work/got" "$work/want" | head -2))" cmp -s "$work/got" "$work/want"
done
"$ward" list export haystack "${J[@]}" | sort >"$work/exp.got"
sort "$work/expect" >"$work/exp.want"
check "export has the journal's changes" cmp -s "$work/exp.got" "$work/exp.want"
"$ward" list ls "${J[@]}" >"$work/out"
check "ls counts them: $(grep haystack "$work/out")" grep -qE "^haystack +$((1250 + nadd)) " "$work/out"
check "  and shows the journal: $(grep journal "$work/out")" grep -q "^journal: $((100 + nadd)) changes" "$work/out"
"$ward" list add haystack "$work/adds" "${J[@]}" >"$work/out" 2>&1
check "the same file added again adds nothing: $(cat "$work/out")" grep -q "^haystack: 0 entries added.*; $nlines already there" "$work/out"
# A commit cut short by a crash is ignored, and cut off by the next writer.
printf '\x30\x00\x00\x00\x00\x00\x00\x00pdq-partial' >>"$work/jlists/journal.wlj"
jmatch 31 >"$work/got"; scan "$work/expect" 31 >"$work/want"
check "a torn last commit is ignored by readers" cmp -s "$work/got" "$work/want"
"$ward" list remove haystack "$needles" "${J[@]}" >/dev/null 2>&1
after_remove "$work/expect" "$needles" >"$work/expect2"
jmatch 31 >"$work/got"; scan "$work/expect2" 31 >"$work/want"
check "the next writer cuts it off and appends ($(diff "$work/got" "$work/want" | head -2))" cmp -s "$work/got" "$work/want"
# Damage before the last commit: refused, and nothing is changed.
cp "$work/jlists/journal.wlj" "$work/j.two"
printf '\x7f' | dd of="$work/jlists/journal.wlj" bs=1 seek=40 conv=notrunc status=none
"$ward" list ls "${J[@]}" >/dev/null 2>"$work/err"; rc=$?
check "a damaged journal: exit 1 (got $rc)" [ "$rc" -eq 1 ]
check "  saying why: $(cat "$work/err")" grep -q "journal is damaged" "$work/err"
"$ward" list add haystack "$work/adds" "${J[@]}" >/dev/null 2>&1; rc=$?
check "  and a writer refuses to append to it" [ "$rc" -eq 1 ]
cp "$work/j.two" "$work/jlists/journal.wlj"
"$ward" list compact "${J[@]}" >"$work/out" 2>&1
check "compact: $(cat "$work/out")" grep -q "^$(grep -c . "$work/expect2") entries in the new index" "$work/out"
check "  and the journal is gone" [ ! -e "$work/jlists/journal.wlj" ]
jmatch 31 >"$work/got"
check "  the same answers from the new index" cmp -s "$work/got" "$work/want"
# A journal left from before the compaction (a writer stopped between the
# rename and the removal) is not replayed twice.
cp "$work/j.two" "$work/jlists/journal.wlj"
jmatch 31 >"$work/got"
check "a journal that follows an older index is skipped" cmp -s "$work/got" "$work/want"
"$ward" list rm haystack "${J[@]}" >/dev/null
"$ward" list ls "${J[@]}" >"$work/out"
check "rm goes through the journal too" grep -q "^journal: 1 change since" "$work/out"
# Enough changes and the journal is folded in unasked.
python3 -c '
import random
r = random.Random(7)
for _ in range(70000): print("%064x" % r.getrandbits(256))' >"$work/many"
"$ward" list import big "$work/b1.txt" "${J[@]}" >/dev/null 2>&1
"$ward" list add big "$work/many" "${J[@]}" >"$work/out" 2>&1
check "a big add is folded in: $(cat "$work/out")" grep -q "journal's 70000 changes folded into a new index (70001 entries)" "$work/out"
check "  leaving no journal" [ ! -e "$work/jlists/journal.wlj" ]
"$ward" list add nosuch "$work/adds" "${J[@]}" >/dev/null 2>"$work/err"; rc=$?
check "add to a list that is not there: exit 1" [ "$rc" -eq 1 ]

# ---- a damaged index is refused, nothing is changed ----
cp "$work/lists/index.wlx" "$work/good.wlx"
# (a byte of the last section, the set's description; padding between
# sections is in no checksum, and changes nothing)
printf '\x7f' | dd of="$work/lists/index.wlx" bs=1 seek=$(($(stat -c %s "$work/lists/index.wlx") - 20)) conv=notrunc status=none
"$ward" list ls "${L[@]}" >/dev/null 2>"$work/err"; rc=$?
check "ls on a damaged index: exit 1 (got $rc)" [ "$rc" -eq 1 ]
check "  saying why: $(cat "$work/err")" grep -q "corrupt" "$work/err"
"$ward" list import more "$hay" "${L[@]}" >/dev/null 2>&1; rc=$?
check "import refuses to build on a damaged index" [ "$rc" -eq 1 ]
truncate -s 3000 "$work/lists/index.wlx"
"$ward" match "${L[@]}" "$b1" >/dev/null 2>"$work/err"; rc=$?
check "match on a truncated index: exit 1" [ "$rc" -eq 1 ]
cp "$work/good.wlx" "$work/lists/index.wlx"
"$ward" list ls "${L[@]}" >/dev/null 2>&1; rc=$?
check "the good file reads again" [ "$rc" -eq 0 ]
"$ward" help list | grep -q "ward list import NAME FILE"; check "ward help list" [ $? -eq 0 ]
"$ward" help match | grep -q "Exit codes: 0 no hits, 3 hits"; check "ward help match" [ $? -eq 0 ]

echo "test_list: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
