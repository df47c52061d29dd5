#!/usr/bin/env bash
# `ward hash` as a command: formats, order with threads, stdin and
# directories, failures that do not stop the others, exit codes. The
# exact hashes are checked in test_pdq_reference; here the expected values
# come from the reference CSV and from md5sum/sha256sum.
#   test_hash.sh WARD_BINARY DATA_DIR
set -u
ward="$1"
data="$2"
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { local what="$1"; shift; if "$@"; then ok; else bad "$what"; fi; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$data" || exit 1

b1=images/dih/bridge-1-original.jpg
wee=images/misc/wee.jpg
small=images/misc/small.jpg
want_b1=$(grep "^$b1," expected_pdq.csv | cut -d, -f4,5)

# The default line: pdq,quality,md5,sha256,path.
"$ward" hash "$b1" >"$work/out" 2>"$work/err"; rc=$?
check "exit 0" [ "$rc" -eq 0 ]
line=$(cat "$work/out")
check "default: $line" [ "$line" = "$want_b1,$(md5sum <"$b1" | cut -c1-32),$(sha256sum <"$b1" | cut -c1-64),$b1" ]
check "a summary line" grep -qE '^ward hash: 1 files, 0 failed, [0-9.]+ s$' "$work/err"

# text: the reference's hash,quality,path.
"$ward" hash --format text "$b1" >"$work/out" 2>/dev/null
check "text: $(cat "$work/out")" [ "$(cat "$work/out")" = "$want_b1,$b1" ]

# --dihedral in text form is the reference's --pdqdih-across.
row=$(grep "^$b1,fullres," expected_dihedral.csv | tr -d '\r')
IFS=, read -r _ _ q h0 h1 h2 h3 h4 h5 h6 h7 <<<"$row"
"$ward" hash --format text --dihedral "$b1" >"$work/out" 2>/dev/null
check "dihedral: $(cat "$work/out")" [ "$(cat "$work/out")" = "$h0,$h1,$h2,$h3,$h4,$h5,$h6,$h7,$q,$b1" ]

# csv: a header, quoted paths; json: one object a line.
cp "$b1" "$work/a,b.jpg"
"$ward" hash --format csv "$work/a,b.jpg" "$small" >"$work/out" 2>"$work/err"
check "csv header" [ "$(head -1 "$work/out")" = "pdq,quality,reliable,md5,sha256,path" ]
check "csv quotes a comma" grep -q ",yes,.*,\"$work/a,b.jpg\"$" "$work/out"
check "csv marks low quality" grep -q "^[0-9a-f]\{64\},0,no," "$work/out"
check "low quality is reported" grep -q "small.jpg: quality 0 is below 50: the hash is unreliable" "$work/err"
"$ward" hash --format json "$b1" >"$work/out" 2>/dev/null
check "json: $(cat "$work/out")" grep -q "^{\"path\":\"$b1\",\"pdq\":\"${want_b1%,*}\",\"quality\":100,\"reliable\":true,\"md5\":\"[0-9a-f]\{32\}\",\"sha256\":\"[0-9a-f]\{64\}\"}$" "$work/out"

# Order with threads, paths from stdin, directories.
ls images/*/*.jpg >"$work/list"
"$ward" hash --format text - <"$work/list" >"$work/one" 2>/dev/null
"$ward" hash --format text -j 4 - <"$work/list" >"$work/four" 2>/dev/null
check "stdin: one line per file" [ "$(wc -l <"$work/one")" -eq "$(wc -l <"$work/list")" ]
check "-j 4 gives the same lines in the same order" cmp -s "$work/one" "$work/four"
bad_n=0
while IFS=, read -r h q p; do
  w=$(grep "^$p," expected_pdq.csv | cut -d, -f4,5)
  [ "$h,$q" = "$w" ] || { bad_n=$((bad_n + 1)); echo "  $p: $h,$q vs $w"; }
done <"$work/four"
check "every JPEG as expected ($bad_n off)" [ "$bad_n" -eq 0 ]
"$ward" hash --format text -r images/dih >"$work/out" 2>/dev/null
check "-r: the 8 files in name order" [ "$(cut -d, -f3 "$work/out" | tr '\n' ' ')" = "$(ls images/dih/* | sort | tr '\n' ' ')" ]

# A file that cannot be hashed: one error line, the others go on, exit 1.
head -c 1000 "$b1" >"$work/cut.jpg"
: >"$work/empty.png"
head -c 5000 /dev/urandom >"$work/noise.bin"
"$ward" hash --format text "$wee" "$work/cut.jpg" "$work/empty.png" "$work/missing" "$work/noise.bin" "$b1" \
  >"$work/out" 2>"$work/err"; rc=$?
check "exit 1 when some failed" [ "$rc" -eq 1 ]
check "the good ones are printed: $(cat "$work/out")" [ "$(wc -l <"$work/out")" -eq 2 ]
check "one error line per bad file" [ "$(grep -c "^ward: $work/" "$work/err")" -eq 4 ]
check "the summary counts them" grep -q "^ward hash: 6 files, 4 failed, " "$work/err"

# Usage.
"$ward" hash >/dev/null 2>&1; check "no path: exit 2" [ $? -eq 2 ]
"$ward" hash -j 0 "$b1" >/dev/null 2>&1; check "-j 0: exit 2" [ $? -eq 2 ]
"$ward" hash --format xml "$b1" >/dev/null 2>&1; check "--format xml: exit 2" [ $? -eq 2 ]
"$ward" hash --bogus "$b1" >/dev/null 2>&1; check "unknown option: exit 2" [ $? -eq 2 ]
"$ward" hash --max-pixels 1000 "$b1" >/dev/null 2>"$work/err"; rc=$?
check "--max-pixels refuses a big image (exit $rc)" [ "$rc" -eq 1 ]

echo "test_hash: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
