#!/usr/bin/env bash
# The issue's scenario end to end, through a real `ward serve`, the `ward`
# command for both users, and the moderation console in headless Chromium:
#   1. an adult tries to message a minor: refused, nothing queued;
#   2. the minor follows the adult; the adult sends an abusive message
#      with an image, which the minor receives;
#   3. the minor reports it; the server verifies it and checks the image;
#   4. a moderator sees the report verified in the console, with the
#      image, and bans the adult;
#   5. the adult's next request is refused.
# Also: `ward admin rotate-franking-key` and SIGHUP, with a report of a
# message tagged under the old key still verified.
#   scenario.sh WARD_BINARY SEED_REPORT_BINARY   (KEEP=1 keeps its folder)
set -u
ward="$1"
seed="$2"
here=$(cd "$(dirname "$0")" && pwd)
test_name=safety_scenario
. "$here/node_env.sh"

pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { local what="$1"; shift; if "$@"; then ok; else bad "$what"; fi; }

work=$(mktemp -d)
export XDG_DATA_HOME="$work/clients"
data="$work/data"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && { kill "$server_pid"; wait "$server_pid"; } 2>/dev/null
  [ -n "${KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT
die() { echo "safety_scenario: $*"; tail -5 "$work/server.log" 2>/dev/null; exit 1; }

WARD_PASSWORD='moderator pass phrase 9' "$ward" admin add-moderator mona \
  --data "$data" >/dev/null || die "add-moderator"
"$ward" serve --listen 127.0.0.1:0 --port-file "$work/port" --data "$data" \
  --pwhash min 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 1 200); do [ -s "$work/port" ] && break; sleep 0.05; done
[ -s "$work/port" ] || die "the server did not start"
url="http://127.0.0.1:$(cat "$work/port")"
export WARD_SERVER="$url"

as() { local u="$1"; shift; "$ward" "$@" --user "$u" >"$work/out" 2>"$work/err"; rc=$?; }
minor_year=$(( $(date -u +%Y) - 14 ))
echo "adam-password-1" | "$ward" account register adam --birth-date 1979-02-03 \
  --password-stdin >/dev/null 2>"$work/err" || die "register adam: $(cat "$work/err")"
echo "mia-password-1" | "$ward" account register mia --birth-date "$minor_year-06-07" \
  --password-stdin >/dev/null 2>"$work/err" || die "register mia: $(cat "$work/err")"
adam_token=$(curl -sf -X POST -d '{"username":"adam","password":"adam-password-1"}' \
  "$url/v1/sessions" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
[ -n "$adam_token" ] || die "adam's token"

# 1. The adult tries to message the minor.
as adam send mia "hi, how old are you?"
check "adam -> mia is refused (exit $rc)" [ "$rc" -eq 1 ]
check "with a sentence, not a code: $(cat "$work/err")" \
  grep -q "mia's account is private: you can contact them once they follow you" "$work/err"
as mia recv
check "mia has nothing: $(cat "$work/out")" [ ! -s "$work/out" ]

# 2. The minor follows the adult, who sends an abusive image message.
as mia follow adam
check "mia follows adam (exit $rc)" [ "$rc" -eq 0 ]
# A 3x2 red PNG, made with Python's zlib and struct (its IHDR says 3x2:
# the browser must decode it to that size).
printf '\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x03\x00\x00\x00\x02\x08\x02\x00\x00\x00\x12\x16\xf1\x4d\x00\x00\x00\x10\x49\x44\x41\x54\x78\x9c\x63\xf8\xcf\xc0\x00\x41\x0c\x70\x16\x00\x41\xd2\x05\xfb\x87\xf0\xb9\x48\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82' >"$work/abuse.png"
as adam send mia --image "$work/abuse.png" "send me a picture of you, our secret"
check "adam's image is sent (exit $rc: $(cat "$work/err"))" [ "$rc" -eq 0 ]
as mia recv --save-dir "$work/saved"
check "mia receives it: $(cat "$work/out")" \
  grep -qE '^\[[0-9]+\] adam: .*our secret' "$work/out"
msg_id=$(sed -n 's/^\[\([0-9]*\)\] adam: .*/\1/p' "$work/out" | head -1)
check "the image is saved intact" cmp -s "$work/abuse.png" "$(ls "$work/saved"/* | head -1)"

# The franking key rotates; the message above keeps its old key's tag.
"$ward" admin rotate-franking-key --data "$data" >"$work/out" 2>&1
check "rotate-franking-key: $(cat "$work/out")" grep -q "franking key 2" "$work/out"
check "the new key file is 0600" [ "$(stat -c %a "$data/franking/2.key")" = 600 ]
kill -HUP "$server_pid"
for _ in $(seq 1 100); do grep -q '"event":"franking_keys"' "$work/server.log" && break; sleep 0.05; done
check "the server took the new key on SIGHUP" grep -q '"current":2' "$work/server.log"

# 3. The minor reports it.
as mia report adam "$msg_id" --reason grooming --note "he asked for photos"
check "mia's report is accepted (exit $rc: $(cat "$work/err"))" [ "$rc" -eq 0 ]
check "high priority: $(cat "$work/out")" grep -q "high priority" "$work/out"
check "the server verified the message" grep -q "verified that adam sent" "$work/out"
report_id=$(sed -n 's/.*report \([0-9]*\).*/\1/p' "$work/out" | head -1)
check "a report id" [ -n "$report_id" ]
check "the evidence image is kept 0600" \
  [ "$(stat -c %a "$data"/evidence/* 2>/dev/null | head -1)" = 600 ]

# 4. A moderator sees it verified in the console and bans the adult.
WARD_URL="$url" MOD_NAME=mona MOD_PASSWORD='moderator pass phrase 9' \
REPORT_ID="$report_id" CHROMIUM="$chromium" \
  timeout 120 node "$node_dir/scenario.mjs" >"$work/browser" 2>&1
rc=$?
cat "$work/browser"
check "the console steps passed" [ "$rc" -eq 0 ]

# 5. The adult's next request is refused.
as adam send mia "are you there?"
check "adam's next send is refused (exit $rc)" [ "$rc" -eq 1 ]
check "adam is told he is banned: $(cat "$work/err")" grep -qi "banned" "$work/err"
code=$(curl -s -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $adam_token" "$url/v1/messages")
check "adam's token gets 403 account_banned ($code)" \
  grep -q account_banned "$work/body"
code=$(curl -s -o "$work/body" -w '%{http_code}' -X POST \
  -d '{"username":"adam","password":"adam-password-1"}' "$url/v1/sessions")
check "adam cannot log in again ($code)" [ "$code" = 403 ]
as mia recv
check "nothing more reached mia" [ ! -s "$work/out" ]

echo "safety_scenario: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
