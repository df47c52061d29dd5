#!/usr/bin/env bash
# Groups through a real `ward serve` over HTTP (curl): create a group, add
# members, send a group message that every member lists once (with its
# group and the same tag), remove a member -> the epoch moves on, a send
# with the old epoch is 409 membership_changed, the removed member gets
# nothing more; a minor added is told who did it and leaves with a block;
# bad input answered with JSON errors and the server stays up.
#   test_groups.sh WARD_BINARY
set -u
ward="$1"
trap '' PIPE
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { local what="$1"; shift; if "$@"; then ok; else bad "$what"; fi; }

work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill -9 "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

"$ward" serve --listen 127.0.0.1:0 --port-file "$work/port" \
  --data "$work/data" --pwhash min 2>>"$work/server.log" &
server_pid=$!
for _ in $(seq 1 200); do [ -s "$work/port" ] && break; sleep 0.05; done
if [ ! -s "$work/port" ]; then
  echo "test_groups: the server did not start"; cat "$work/server.log"; exit 1
fi
url="http://127.0.0.1:$(cat "$work/port")"

req() { # method path [curl args...]: the status; the body in $work/body
  local m="$1" p="$2"; shift 2
  curl -s -o "$work/body" -w '%{http_code}' -X "$m" "$@" "$url$p"
}
expect() { # description, status, method, path, [curl args...]
  local what="$1" want="$2"; shift 2
  local got; got=$(req "$@")
  if [ "$got" = "$want" ]; then ok
  else bad "$what: status $got, wanted $want: $(head -c 300 "$work/body")"; fi
}
is_json_error() { grep -q '^{"error":{"code":"[a-z_]*","message":"' "$work/body"; }
expect_error() { # like expect, with a JSON error of code $3
  local what="$1" want="$2" code="$3"; shift 3
  local got; got=$(req "$@")
  if [ "$got" = "$want" ] && is_json_error && grep -q "\"code\":\"$code\"" "$work/body"; then ok
  else bad "$what: status $got, wanted $want $code: $(head -c 300 "$work/body")"; fi
}
# A value from $work/body: py EXPRESSION over the parsed object j.
py() { python3 -c "import json,sys; j=json.load(open('$work/body')); print($1)"; }
healthy() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")" = 200 ]; }

declare -A T
register() { # name birth-date
  expect "register $1" 201 POST /v1/accounts \
    -d "{\"username\":\"$1\",\"password\":\"$1-password\",\"birth_date\":\"$2\"}"
  expect "login $1" 200 POST /v1/sessions \
    -d "{\"username\":\"$1\",\"password\":\"$1-password\"}"
  T[$1]="Authorization: Bearer $(py "j['token']")"
}
for u in alice bob carol dave; do register "$u" 1990-01-01; done
register kid "$(($(date -u +%Y) - 14))-01-01"

C="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
gsend() { # who group epoch -> status
  req POST "/v1/groups/$2/messages" -H "${T[$1]}" \
    -d "{\"type\":4,\"body\":\"R1JPVVA=\",\"commitment\":\"$C\",\"epoch\":$3}"
}
count_group_msgs() { # who group: type-4 messages of that group queued
  req GET "/v1/messages?limit=500" -H "${T[$1]}" >/dev/null
  py "sum(1 for m in j['messages'] if m['type'] == 4 and m.get('group') == $2)"
}

# ---- create, add, send, list ----
expect "create" 201 POST /v1/groups -H "${T[alice]}" \
  -d '{"name":"Book club","description":"Fridays","members":["bob","carol"]}'
gid=$(py "j['id']")
check "created with three members" test "$(py "len(j['members'])")" = 3
check "the creator is admin" test "$(py "j['role']")" = admin
expect "dave added" 201 POST "/v1/groups/$gid/members" -H "${T[alice]}" -d '{"username":"dave"}'
epoch=$(py "j['epoch']")
expect "bob sees the group" 200 GET "/v1/groups/$gid" -H "${T[bob]}"
check "four members" test "$(py "len(j['members'])")" = 4
check "bob knows the epoch" test "$(py "j['epoch']")" = "$epoch"
expect "bob lists his groups" 200 GET /v1/groups -H "${T[bob]}"
check "one group" test "$(py "len(j['groups'])")" = 1

check "alice sends to the group" test "$(gsend alice "$gid" "$epoch")" = 201
check "three delivered" test "$(py "j['delivered']")" = 3
for u in bob carol dave; do
  check "$u lists it once" test "$(count_group_msgs "$u" "$gid")" = 1
done
check "alice gets none of her own" test "$(count_group_msgs alice "$gid")" = 0
tags=$(for u in bob carol dave; do
  req GET /v1/messages -H "${T[$u]}" >/dev/null
  py "[m['tag'] for m in j['messages'] if m['type'] == 4][0]"
done | sort -u | wc -l)
check "the same tag for every member" test "$tags" = 1
req GET /v1/messages -H "${T[dave]}" >/dev/null
check "dave was told he was added" \
  test "$(py "[m['event']['event'] for m in j['messages'] if m['type'] == 100][-1]")" = added

# ---- remove: the epoch moves on ----
expect "dave removed" 200 DELETE "/v1/groups/$gid/members/dave" -H "${T[alice]}"
epoch2=$(py "j['epoch']")
check "the epoch moved on" test "$epoch2" -gt "$epoch"
check "a send at the old epoch is refused" test "$(gsend bob "$gid" "$epoch")" = 409
check "as membership_changed" grep -q '"code":"membership_changed"' "$work/body"
check "naming the new epoch" test "$(py "j['error']['epoch']")" = "$epoch2"
check "at the new epoch it goes" test "$(gsend bob "$gid" "$epoch2")" = 201
check "to alice and carol" test "$(py "j['delivered']")" = 2
check "dave got nothing more" test "$(count_group_msgs dave "$gid")" = 1
check "carol got both" test "$(count_group_msgs carol "$gid")" = 2
expect_error "dave no longer sees the group" 404 no_such_group GET "/v1/groups/$gid" -H "${T[dave]}"
check "dave's send is refused" test "$(gsend dave "$gid" "$epoch2")" = 404

# ---- a minor added: told who did it, leaves with a block ----
expect "kid follows alice" 201 POST /v1/follows -H "${T[kid]}" -d '{"username":"alice"}'
expect "alice makes bob admin" 200 PATCH "/v1/groups/$gid/members/bob" -H "${T[alice]}" -d '{"role":"admin"}'
expect_error "bob (whom kid does not follow) cannot add kid" 403 recipient_private \
  POST "/v1/groups/$gid/members" -H "${T[bob]}" -d '{"username":"kid"}'
expect "alice (whom kid follows) can" 201 POST "/v1/groups/$gid/members" -H "${T[alice]}" -d '{"username":"kid"}'
expect "kid's notices" 200 GET /v1/notices -H "${T[kid]}"
check "a notice names alice" test "$(py "sum(1 for n in j['notices'] if n['kind'] == 'group_added' and 'alice' in n['text'])")" = 1
expect "kid leaves and blocks" 200 POST "/v1/groups/$gid/leave" -H "${T[kid]}" -d '{"block":true}'
check "alice is blocked" test "$(py "j['blocked']")" = alice
expect "kid's blocks" 200 GET /v1/blocks -H "${T[kid]}"
check "alice in them" test "$(py "j['blocked']")" = "['alice']"

# ---- bad input ----
expect_error "no token" 401 unauthorized POST /v1/groups -d '{"name":"x"}'
expect_error "malformed JSON" 400 bad_json POST /v1/groups -H "${T[alice]}" -d '{"name":'
expect_error "unknown field" 400 unknown_field POST /v1/groups -H "${T[alice]}" -d '{"name":"x","colour":"red"}'
expect_error "a name too long" 400 invalid_group POST /v1/groups -H "${T[alice]}" \
  -d "{\"name\":\"$(head -c 65 /dev/zero | tr '\0' n)\"}"
expect_error "an unknown member" 404 no_such_user POST /v1/groups -H "${T[alice]}" -d '{"name":"x","members":["zed"]}'
expect_error "a bad group id" 400 invalid_id GET /v1/groups/abc -H "${T[alice]}"
expect_error "an unknown group" 404 no_such_group GET /v1/groups/999999 -H "${T[alice]}"
expect_error "not an admin" 403 not_admin PATCH "/v1/groups/$gid" -H "${T[carol]}" -d '{"name":"mine"}'
expect_error "a wrong method" 405 method_not_allowed PUT "/v1/groups/$gid" -H "${T[alice]}" -d '{}'
expect_error "a wrong type" 400 invalid_message POST "/v1/groups/$gid/messages" -H "${T[alice]}" \
  -d "{\"type\":2,\"body\":\"AQID\",\"commitment\":\"$C\",\"epoch\":$epoch2}"
head -c 100000 /dev/zero | tr '\0' A >"$work/big"
printf '{"type":4,"commitment":"%s","epoch":%s,"body":"%s"}' "$C" "$epoch2" "$(cat "$work/big")" >"$work/bigmsg"
expect_error "an oversize message" 413 message_too_large POST "/v1/groups/$gid/messages" \
  -H "${T[alice]}" --data-binary @"$work/bigmsg"
head -c 300000 /dev/zero | tr '\0' ' ' >"$work/huge"
expect_error "an oversize body" 413 too_large POST /v1/groups -H "${T[alice]}" --data-binary @"$work/huge"
check "still up" healthy

kill -TERM "$server_pid"; wait "$server_pid"; rc=$?; server_pid=""
check "a clean stop" test "$rc" = 0
echo "test_groups: $pass passed, $fail failed"
[ "$fail" = 0 ]
