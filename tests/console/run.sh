#!/usr/bin/env bash
# The moderation console end to end: a real `ward serve` on a random
# loopback port with a fresh data directory, an admin and a moderator made
# with `ward admin add-moderator`, chat accounts registered over HTTP, a
# report with an evidence PNG seeded into the server's database, then
# e2e.mjs drives Debian's Chromium (headless, playwright-core) through it.
# Exit 77 (skipped) when Chromium or Node.js is not installed.
#   run.sh WARD_BINARY SEED_REPORT_BINARY
set -u
ward="$1"
seed="$2"
here=$(cd "$(dirname "$0")" && pwd)
test_name=console_e2e
# Chromium and playwright-core, or exit 77 (skipped); sets $chromium and
# $node_dir.
. "$here/node_env.sh"

work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
data="$work/data"

fail() { echo "console_e2e: $*"; [ -f "$work/server.log" ] && tail -20 "$work/server.log"; exit 1; }

# The moderators exist before the server starts, as an operator would do it.
WARD_PASSWORD='admin pass phrase 1' "$ward" admin add-moderator olga --role admin --data "$data" >/dev/null ||
  fail "add-moderator olga"
echo 'moderator pass phrase 2' | "$ward" admin add-moderator max --data "$data" >/dev/null ||
  fail "add-moderator max"

"$ward" serve --listen 127.0.0.1:0 --port-file "$work/port" --data "$data" \
  --pwhash min 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 1 200); do [ -s "$work/port" ] && break; sleep 0.05; done
[ -s "$work/port" ] || fail "the server did not start"
url="http://127.0.0.1:$(cat "$work/port")"

post() { # path json -> body on stdout, fails on a non-2xx status
  curl -sf -X POST -H 'Content-Type: application/json' -d "$2" "$url$1"
}
post /v1/accounts '{"username":"sam","password":"sam-password","birth_date":"1980-05-05"}' >/dev/null ||
  fail "register sam"
post /v1/accounts '{"username":"kim","password":"kim-password","birth_date":"2011-03-03"}' >/dev/null ||
  fail "register kim"
token=$(post /v1/sessions '{"username":"sam","password":"sam-password"}' |
        sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
[ -n "$token" ] || fail "log in sam"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$url/v1/messages")" = 200 ] ||
  fail "sam's token works before the ban"

# kim (a minor) reports sam's message; sam reports kim's account as spam.
ids=$("$seed" "$data" kim sam) || fail "seeding the reports"
report=$(echo "$ids" | sed -n 1p)
other=$(echo "$ids" | sed -n 2p)

# The console's API refuses a change without the CSRF header (curl, no
# browser): checked here too, on the raw HTTP.
code=$(curl -s -o "$work/body" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  -d '{"name":"olga","password":"admin pass phrase 1"}' "$url/console/api/login")
[ "$code" = 403 ] || fail "login without X-CSRF-Token: $code"

WARD_URL="$url" ADMIN_NAME=olga ADMIN_PASSWORD='admin pass phrase 1' \
MOD_NAME=max MOD_PASSWORD='moderator pass phrase 2' \
REPORT_ID="$report" OTHER_REPORT_ID="$other" SENDER_TOKEN="$token" \
CHROMIUM="$chromium" \
  timeout 120 node "$node_dir/e2e.mjs" || fail "the browser test failed"

# What the ban did to the store, read behind the server's back.
[ "$("$seed" --status "$data" sam)" = banned ] || fail "sam is not banned in the store"
[ "$("$seed" --status "$data" kim)" = active ] || fail "kim changed"
echo "console_e2e: ok"
