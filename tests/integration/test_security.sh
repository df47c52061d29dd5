#!/usr/bin/env bash
# `ward serve` under hostile input, over real sockets (curl and ws_client):
#   1. bad input against every endpoint that takes input: each refused
#      with the 4xx and the error code docs/api.md documents, and nothing
#      changes (the state is compared before and after);
#   2. authentication: missing, malformed, expired, logged-out and
#      deleted-account tokens, and one user's token against another's
#      messages;
#   3. other clients are unaffected: a WebSocket session stays connected
#      through everything and still gets its message; /metrics counts
#      every 4xx;
#   4. WebSocket garbage: the documented close codes, or error frames;
#   5. reconnects: unacknowledged messages come again, acknowledged ones
#      do not, across SIGTERM and kill -9 restarts on the same port.
# Four servers: the main one, one with --token-ttl 2s, one with tight
# rate limits and quotas, and a throwaway one for a frame that kills it.
# The authentication checks come first: the WebSocket sessions of a
# logged-out token and a deleted account end at the server's next
# 15-second re-check, which the rest of the test then need not wait for.
# A check marked known_bug reports a bug that is not fixed on this
# branch (the code is being changed elsewhere) without failing the test.
#   test_security.sh WARD_BINARY WS_CLIENT_BINARY
set -u
ward="$1"
wsc="$2"
# The server closes connections after one answer: a write to one must
# fail (and be checked), not kill this script.
trap '' PIPE
pass=0 fail=0 known=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { # description, command...: passes if the command succeeds
  local what="$1"; shift
  if "$@"; then ok; else bad "$what"; fi
}
known_bug() { # description, command...: the command succeeds once fixed
  local what="$1"; shift
  if "$@"; then ok; echo "known bug not seen here: $what"
  else known=$((known + 1)); echo "KNOWN BUG: $what"; fi
}
t_start=$(date +%s%N)

work=$(mktemp -d)
export XDG_DATA_HOME="$work/clients"
main_pid="" ttl_pid="" lim_pid=""
bg_pids=() all_srv=()
cleanup() {
  for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${all_srv[@]}"; do kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
  if [ -n "${WARD_TEST_KEEP:-}" ]; then echo "test_security: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# start NAME PORT [options...]: a server with data in $work/NAME; sets
# srv_pid and srv_port
start() {
  local name="$1" p="$2"; shift 2
  rm -f "$work/$name.port"
  "$ward" serve --listen "127.0.0.1:$p" --port-file "$work/$name.port" \
    --data "$work/$name" --pwhash min "$@" 2>>"$work/$name.log" &
  srv_pid=$!
  for _ in $(seq 1 200); do
    [ -s "$work/$name.port" ] && break
    sleep 0.05
  done
  if [ ! -s "$work/$name.port" ]; then
    echo "test_security: server $name did not start"; cat "$work/$name.log"; exit 1
  fi
  srv_port=$(cat "$work/$name.port")
  all_srv+=("$srv_pid")
}
generous=(--register-burst 1000 --register-per-minute 1000 --login-burst 1000
          --login-per-minute 1000 --send-burst 10000 --send-per-minute 100000)
start_main() { # [PORT]
  start main "${1:-0}" "${generous[@]}" --max-body 32KiB --max-message 16KiB
  main_pid=$srv_pid port=$srv_port
  url="http://127.0.0.1:$port" main_url=$url
}

# ---- HTTP helpers: the status in $st, the body in $work/body ----
# Every 4xx (and 401) the main server gives is counted, for /metrics.
n4xx=0 n401=0 n413=0 n_upg=0 main_url=""
req() { # method path [curl args...]
  local m="$1" p="$2"; shift 2
  st=$(curl -s -m 10 -o "$work/body" -w '%{http_code}' -X "$m" "$@" "$url$p")
  if [ "$url" = "$main_url" ]; then
    case "$st" in 4??) n4xx=$((n4xx + 1)) ;; esac
    [ "$st" = 401 ] && n401=$((n401 + 1))
    [ "$st" = 413 ] && n413=$((n413 + 1))
  fi
  return 0
}
body_has() { grep -q -- "$1" "$work/body"; }
is_error() { # code: the body is exactly {"error":{"code":CODE,"message":"..."}}
  grep -qx "{\"error\":{\"code\":\"$1\",\"message\":\"[^\"]*\"}}" "$work/body"
}
field() { # name: a number or string field of $work/body (the first)
  grep -o "\"$1\":\"\{0,1\}[^\",}]*" "$work/body" | head -1 | sed "s/^\"$1\":\"\{0,1\}//"
}
healthy() { [ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$url/healthz")" = 200 ]; }
expect() { # description, status, method, path, [curl args...]
  local what="$1" want="$2"; shift 2
  req "$@"
  if [ "$st" = "$want" ]; then ok
  else bad "$what: status $st, wanted $want: $(head -c 300 "$work/body")"; fi
}
refuse() { # description, status, code, method, path, [curl args...]
  local what="$1" want="$2" code="$3"; shift 3
  req "$@"
  if [ "$st" = "$want" ] && is_error "$code"; then ok
  else bad "$what: status $st, wanted $want $code: $(head -c 300 "$work/body")"; fi
}
refused_json() { [ "${st:0:1}" = 4 ] && grep -q '^{"error":{"code":"' "$work/body"; }
metric() { # name with labels: its value on the main server
  curl -s "$url/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}
login() { # user password: the token, or ""
  curl -s -X POST --data-binary "{\"username\":\"$1\",\"password\":\"$2\"}" \
    "$url/v1/sessions" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p'
}
register() { # user password
  [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary \
      "{\"username\":\"$1\",\"password\":\"$2\",\"birth_date\":\"1990-01-01\"}" \
      "$url/v1/accounts")" = 201 ]
}
send_msg() { # token to body64: the new message's id, or ""
  curl -s -X POST -H "Authorization: Bearer $1" --data-binary \
    "{\"to\":\"$2\",\"type\":2,\"commitment\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\",\"body\":\"$3\"}" "$url/v1/messages" |
    sed -n 's/^{"id":\([0-9]*\),.*/\1/p'
}
queue_of() { # token: the ids queued for its account, space-separated
  curl -s -H "Authorization: Bearer $1" "$url/v1/messages?limit=500" |
    grep -o '"id":[0-9]*,"from"' | tr -dc '0-9\n' | tr '\n' ' '
}
prekeys_of() { # token
  curl -s -H "Authorization: Bearer $1" "$url/v1/keys" |
    sed -n 's/^{"prekeys":\([0-9]*\),.*/\1/p'
}
key33() { { printf '\005'; head -c 32 /dev/urandom; } | base64 -w0; }
b64n() { head -c "$1" /dev/urandom | base64 -w0; }
rep() { head -c "$2" /dev/zero | tr '\0' "$1"; }

# ---- WebSocket helpers: ws_client's output in $work/ws.NAME ----
ws() { # name, ws_client args...: in the foreground; sets wsrc
  local name="$1"; shift
  "$wsc" --port "$port" "$@" >"$work/ws.$name" 2>&1
  wsrc=$?
}
ws_bg() { # name, ws_client args...: in the background; sets wspid
  local name="$1"; shift
  "$wsc" --port "$port" "$@" >"$work/ws.$name" 2>&1 &
  wspid=$!
  bg_pids+=("$wspid")
}
wait_line() { # name, pattern, [seconds]: until ws.NAME has a matching line
  for _ in $(seq 1 $((${3:-10} * 20))); do
    grep -q -- "$2" "$work/ws.$1" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}
wait_pid() { # pid, seconds: its exit status in $wrc (124 if still running)
  for _ in $(seq 1 $(($2 * 20))); do
    kill -0 "$1" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$1" 2>/dev/null; then wrc=124; else wait "$1"; wrc=$?; fi
}
ws_refused() { # description, token ("" for none): the upgrade is refused
  local what="$1"
  if [ -n "$2" ]; then ws refused --token "$2" --expect-reject
  else ws refused --expect-reject; fi
  n4xx=$((n4xx + 1)) n401=$((n401 + 1)) n_upg=$((n_upg + 1)) # the server's 401
  if [ "$wsrc" = 0 ] && ! grep -q '^open' "$work/ws.refused"; then ok
  else bad "$what: the upgrade was not refused: $(tr '\n' ' ' <"$work/ws.refused")"; fi
}
msgs_before_synced() { # name: the message ids a session got before "synced"
  sed '/^synced/q' "$work/ws.$1" | sed -n 's/^message \([0-9]*\) .*/\1/p' | tr '\n' ' '
}
upgrade=(-H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13'
         -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' -H 'Sec-WebSocket-Protocol: ward.v1')

# ======================================================================
# The token-expiry server first: its tokens last 2 s, and sessions are
# re-checked every 15 s, so it runs alongside everything else.
start ttl 0 "${generous[@]}" --token-ttl 2s
ttl_pid=$srv_pid ttl_port=$srv_port
url="http://127.0.0.1:$ttl_port"
check "ttl: register" register tina tina-password
tt=$(login tina tina-password)
tt_t0=$(date +%s%N)
expect "ttl: the fresh token works" 200 GET /v1/keys -H "Authorization: Bearer $tt"
"$wsc" --port "$ttl_port" --token "$tt" --timeout 40 --expect-close 1008 >"$work/ws.ttl" 2>&1 &
ttl_ws=$!; bg_pids+=("$ttl_ws")

start_main
check "listens on a free port" test "$port" -gt 0
check "metrics start with no 4xx" test "$(metric 'ward_http_responses_total{code="4xx"}')" = 0

# ---- users ----
# alice registers through the ward command, which publishes real keys
# (an identity, a signed prekey and 100 one-time prekeys).
if echo "alice-password" | WARD_SERVER="$url" "$ward" account register alice \
     --birth-date 1990-01-01 --password-stdin >/dev/null 2>"$work/err"; then ok
else bad "register alice with the ward command: $(cat "$work/err")"; fi
for u in bob carol dave eve rita; do
  check "register $u" register "$u" "$u-password"
done
ta=$(login alice alice-password) tb=$(login bob bob-password)
tc=$(login carol carol-password) te=$(login eve eve-password)
tr_=$(login rita rita-password)
check "tokens issued" test -n "$ta" -a -n "$tb" -a -n "$tc" -a -n "$te" -a -n "$tr_"
A=(-H "Authorization: Bearer $ta")
B=(-H "Authorization: Bearer $tb")
E=(-H "Authorization: Bearer $te")
check "alice published 100 prekeys" test "$(prekeys_of "$ta")" = 100

# carol's session listens through everything that follows; the one
# message for her comes at the very end.
ws_bg observer --token "$tc" --expect 1 --timeout 120
observer=$wspid
check "the observer's session opens" wait_line observer '^synced'

# bob publishes a full bundle: alice's identity and signed prekey (a
# signature that verifies) and 20 one-time prekeys.
expect "alice's bundle" 200 GET /v1/keys/alice "${B[@]}"
ik=$(field identity_key)
read -r spk_id spk_key spk_sig < <(sed -n \
  's/.*"signed_prekey":{"id":\([0-9]*\),"key":"\([^"]*\)","signature":"\([^"]*\)".*/\1 \2 \3/p' "$work/body")
check "the bundle has an identity and a signed prekey" test -n "$ik" -a -n "$spk_sig"
check "handing it out took one of alice's prekeys" test "$(prekeys_of "$ta")" = 99
SPK="{\"id\":$spk_id,\"key\":\"$spk_key\",\"signature\":\"$spk_sig\"}"
pre=""
for i in $(seq 1 20); do pre="$pre${pre:+,}{\"id\":$i,\"key\":\"$(key33)\"}"; done
expect "bob publishes keys" 200 PUT /v1/keys "${B[@]}" --data-binary \
  "{\"identity_key\":\"$ik\",\"registration_id\":7,\"signed_prekey\":$SPK,\"prekeys\":[$pre]}"
check "bob has 20 prekeys" body_has '"prekeys":20,'

# Two messages wait for bob, one for eve.
mb1=$(send_msg "$ta" bob Zm9yIGJvYiAx) mb2=$(send_msg "$ta" bob Zm9yIGJvYiAy)
me1=$(send_msg "$ta" eve Zm9yIGV2ZQ==)
check "messages queued" test -n "$mb1" -a -n "$mb2" -a -n "$me1"

# Everything a refused request must leave as it was.
state() {
  local t
  for t in "$ta" "$tb" "$tc" "$te"; do
    curl -s -H "Authorization: Bearer $t" "$url/v1/keys"
    curl -s -H "Authorization: Bearer $t" "$url/v1/messages?limit=500"
  done
  curl -s "$url/metrics" | grep '^ward_messages_in_total '
}
same_state() { [ "$(state)" = "$1" ]; }

# ======================================================================
# 2. Authentication
# ======================================================================
before=$(state)
forged="wt_$(rep A 43)"
auths=("" "Authorization;" "Authorization: Basic YWxpY2U6YWxpY2UtcGFzc3dvcmQ="
       "Authorization: Bearer" "Authorization: Bearer " "Authorization: Bearer $forged"
       "Authorization: Bearer ${ta}x" "Authorization: Bearer ${ta:0:45}"
       "Authorization: Bearer ${ta}="
       "Authorization: Token $ta" "Authorization: $ta" "Authorization: Bearer $(rep a 3000)"
       "Authorization: Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9."
       "Authorization: Bearer ${ta:0:20}$(printf '\001')${ta:21}")
names=("no Authorization" "an empty Authorization" "Basic credentials" "Bearer without a token"
       "Bearer and a space" "a forged token of the right form" "a token with a byte more"
       "a token with a byte less" "a token with padding"
       "another scheme" "no scheme" "a 3000-byte token" "a JWT" "a control byte in the token")
endpoints=("DELETE /v1/sessions" "DELETE /v1/accounts/me" "PUT /v1/keys" "GET /v1/keys"
           "GET /v1/keys/alice" "POST /v1/messages" "GET /v1/messages" "DELETE /v1/messages/$mb1")
bodies=("" "{\"password\":\"alice-password\"}" "{\"prekeys\":[{\"id\":77,\"key\":\"$(key33)\"}]}"
        "" "" '{"to":"bob","type":2,"commitment":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","body":"aGk="}' "" "")
for i in "${!auths[@]}"; do
  for j in "${!endpoints[@]}"; do
    set -- ${endpoints[$j]}
    args=()
    [ -n "${auths[$i]}" ] && args+=(-H "${auths[$i]}")
    [ -n "${bodies[$j]}" ] && args+=(--data-binary "${bodies[$j]}")
    refuse "${names[$i]}: $1 $2" 401 unauthorized "$1" "$2" "${args[@]}"
  done
done
req GET /v1/keys -D "$work/hdr" -H "Authorization: Bearer $forged"
check "a 401 names the Bearer scheme" grep -qi '^www-authenticate: Bearer' "$work/hdr"
check "auth: nothing changed after $((${#auths[@]} * ${#endpoints[@]})) refused requests" same_state "$before"
check "auth: alice's token still works" test "$(prekeys_of "$ta")" = 99
# One space exactly, as test_api wants ...
refuse "two spaces before the token" 401 unauthorized GET /v1/keys -H "Authorization: Bearer  $ta"
# ... but the scheme is case-insensitive (RFC 9110 11.1).
for a in "bearer $ta" "BEARER $ta"; do
  req GET /v1/keys -H "Authorization: $a"
  check "'Authorization: ${a/$ta/TOKEN}' is accepted ($st)" test "$st" = 200
done
# Past lws's 4 KiB of header space the connection closes without an answer.
req GET /v1/keys -H "Authorization: Bearer $(rep a 5000)"
known_bug "a 5000-byte Authorization gets no answer at all (status $st), not 401 or 431" refused_json
check "up after a huge Authorization" healthy

# WebSocket upgrades with bad tokens
ws_refused "upgrade without a token" ""
ws_refused "upgrade with a forged token" "$forged"
ws_refused "upgrade with a token with a byte more" "${ta}x"
refuse "upgrade with Basic credentials: 401" 401 unauthorized GET /v1/ws "${upgrade[@]}" \
  -H "Authorization: Basic YWxpY2U6YWxpY2UtcGFzc3dvcmQ="
refuse "upgrade with the token in the query: 401" 401 unauthorized GET "/v1/ws?token=$ta" "${upgrade[@]}"
refuse "upgrade with another subprotocol: 400" 400 bad_subprotocol GET /v1/ws "${upgrade[@]:0:8}" \
  -H 'Sec-WebSocket-Protocol: chat' "${A[@]}"
n_upg=$((n_upg + 3))
refuse "subprotocol 'ward.v10' (not ward.v1): 400" 400 bad_subprotocol GET /v1/ws "${upgrade[@]:0:8}" \
  -H 'Sec-WebSocket-Protocol: ward.v10' "${A[@]}"
n_upg=$((n_upg + 1))

# ---- a logged-out token ----
ta2=$(login alice alice-password)
ws_bg logout --token "$ta2" --timeout 40 --expect-close 1008
logout_ws=$wspid
check "a second session of alice opens" wait_line logout '^synced'
expect "logout" 204 DELETE /v1/sessions -H "Authorization: Bearer $ta2"
before=$(state)
for j in "${!endpoints[@]}"; do
  set -- ${endpoints[$j]}
  args=(-H "Authorization: Bearer $ta2")
  [ -n "${bodies[$j]}" ] && args+=(--data-binary "${bodies[$j]}")
  refuse "logged-out token: $1 $2" 401 unauthorized "$1" "$2" "${args[@]}"
done
check "logout: nothing changed" same_state "$before"
check "logout ends only that token" test "$(prekeys_of "$ta")" = 99
ws_refused "upgrade with a logged-out token" "$ta2"

# ---- a deleted account's tokens ----
td1=$(login dave dave-password) td2=$(login dave dave-password)
md=$(send_msg "$ta" dave Zm9yIG9sZCBkYXZl)
expect "dave publishes a prekey" 200 PUT /v1/keys -H "Authorization: Bearer $td1" \
  --data-binary "{\"identity_key\":\"$(key33)\",\"registration_id\":9,\"prekeys\":[{\"id\":1,\"key\":\"$(key33)\"}]}"
ws_bg dave --token "$td2" --expect 1 --timeout 40 --expect-close 1008
dave_ws=$wspid
check "dave's session gets his message" wait_line dave "^message $md "
expect "dave deletes his account" 204 DELETE /v1/accounts/me -H "Authorization: Bearer $td1" \
  --data-binary '{"password":"dave-password"}'
before=$(state)
for t in "$td1" "$td2"; do
  for j in "${!endpoints[@]}"; do
    set -- ${endpoints[$j]}
    args=(-H "Authorization: Bearer $t")
    [ -n "${bodies[$j]}" ] && args+=(--data-binary "${bodies[$j]}")
    refuse "deleted account's token: $1 $2" 401 unauthorized "$1" "$2" "${args[@]}"
  done
done
check "deleted account: nothing changed" same_state "$before"
ws_refused "upgrade with a deleted account's token" "$td2"
refuse "a deleted account cannot log in" 401 bad_credentials POST /v1/sessions \
  --data-binary '{"username":"dave","password":"dave-password"}'
refuse "a deleted account has no bundle" 404 no_such_user GET /v1/keys/dave "${A[@]}"
refuse "nobody can write to a deleted account" 404 no_such_user POST /v1/messages "${A[@]}" \
  --data-binary '{"to":"dave","type":2,"commitment":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","body":"aGk="}'
check "the name is free again" register dave new-dave-password
tdn=$(login dave new-dave-password)
check "the new dave inherits no messages" test "$(queue_of "$tdn")" = ""
check "... and no keys" test "$(prekeys_of "$tdn")" = 0
refuse "... and hands out no old bundle" 404 no_keys GET /v1/keys/dave "${A[@]}"
refuse "the old tokens stay dead" 401 unauthorized GET /v1/keys -H "Authorization: Bearer $td2"

# ---- another user's token ----
check "eve lists only her own messages" test "$(queue_of "$te")" = "$me1 "
before=$(state)
refuse "eve cannot ack bob's message" 404 not_found DELETE "/v1/messages/$mb1" "${E[@]}"
refuse "eve cannot ack bob's other message" 404 not_found DELETE "/v1/messages/$mb2" "${E[@]}"
refuse "bob cannot ack eve's message" 404 not_found DELETE "/v1/messages/$me1" "${B[@]}"
refuse "eve cannot delete bob's account with bob's password" 403 bad_credentials \
  DELETE /v1/accounts/me "${E[@]}" --data-binary '{"password":"bob-password"}'
expect "eve lists after bob's messages" 200 GET "/v1/messages?after=$((mb1 - 1))" "${E[@]}"
check "... and sees none of his" test "$(grep -c "\"id\":$mb1," "$work/body")" = 0
ws eveack --token "$te" --expect 1 --ack-id "$mb1" --ack-id "$mb2"
check "eve's WebSocket ack of bob's message: not_found" grep -q "^error not_found $mb1$" "$work/ws.eveack"
check "... of his other one too" grep -q "^error not_found $mb2$" "$work/ws.eveack"
check "... and her session did not see them" test "$(msgs_before_synced eveack)" = "$me1 "
check "another user's token: nothing changed" same_state "$before"
check "bob still has both messages" test "$(queue_of "$tb")" = "$mb1 $mb2 "
ws bobgets --token "$tb" --expect 2
check "bob's session still gets both" test "$(msgs_before_synced bobgets)" = "$mb1 $mb2 "

# ======================================================================
# 1. Bad input, endpoint by endpoint
# ======================================================================
big=$(( 32 * 1024 ))
pad_to() { # n, json: json padded with spaces to exactly n bytes, in $work/pad
  { printf '%s' "$2"; rep ' ' $(($1 - ${#2})); } >"$work/pad"
}
printf '{"username":"mallory","password":"mallory-pass","birth_date":"1990-01-01"}\0{"x":1}' >"$work/nul"
printf '\0{"username":"mallory","password":"mallory-pass","birth_date":"1990-01-01"}' >"$work/nul0"
head -c 10000000 /dev/zero | tr '\0' 'a' >"$work/huge"
rep '[' 30000 >"$work/deep"

# ---- POST /v1/accounts ----
before=$(state)
R=(POST /v1/accounts)
young="$(($(date -u +%Y) - 5))-01-01" future="$(($(date -u +%Y) + 1))-01-01"
refuse "register: malformed JSON" 400 bad_json "${R[@]}" --data-binary '{"username":"mallory",'
refuse "register: truncated JSON" 400 bad_json "${R[@]}" \
  --data-binary '{"username":"mallory","password":"mallory-pass","birth_date":"1990-01-01"'
refuse "register: an array" 400 bad_json "${R[@]}" --data-binary '["mallory","mallory-pass","1990-01-01"]'
refuse "register: a string" 400 bad_json "${R[@]}" --data-binary '"mallory"'
refuse "register: null" 400 bad_json "${R[@]}" --data-binary 'null'
refuse "register: a number" 400 bad_json "${R[@]}" --data-binary '42'
refuse "register: an empty body" 400 bad_json "${R[@]}" -H 'Content-Length: 0'
refuse "register: trailing garbage" 400 bad_json "${R[@]}" \
  --data-binary '{"username":"mallory","password":"mallory-pass","birth_date":"1990-01-01"}x'
refuse "register: a duplicate key" 400 bad_json "${R[@]}" \
  --data-binary '{"username":"mallory","username":"mallory2","password":"mallory-pass","birth_date":"1990-01-01"}'
refuse "register: a NUL byte after the object" 400 bad_json "${R[@]}" --data-binary "@$work/nul"
refuse "register: a NUL byte first" 400 bad_json "${R[@]}" --data-binary "@$work/nul0"
refuse "register: 30000 levels of nesting" 400 bad_json "${R[@]}" --data-binary "@$work/deep"
refuse "register: an unknown field" 400 unknown_field "${R[@]}" \
  --data-binary '{"username":"mallory","password":"mallory-pass","birth_date":"1990-01-01","admin":true}'
check "register: the message names the field" body_has "unknown field 'admin'"
for v in 42 null true '["mallory"]' '{}' '""' '"ma"' '"Mallory"' '"-mallory"' '"mal lory"' \
         "\"$(rep m 33)\"" '"mal\u0001lory"' '"m\u00e5llory"' '"mallory\n"' '"mal/lory"'; do
  refuse "register: username $v" 400 invalid_username "${R[@]}" \
    --data-binary "{\"username\":$v,\"password\":\"mallory-pass\",\"birth_date\":\"1990-01-01\"}"
done
refuse "register: no username" 400 invalid_username "${R[@]}" \
  --data-binary '{"password":"mallory-pass","birth_date":"1990-01-01"}'
# not UTF-8: refused as JSON (RFC 8259 8.1)
for v in $'"mal\xfflory"' $'"mal\xc0\xafory"' $'"mal\xed\xa0\x80ory"' '"mal\ud800lory"' \
         '"mal\u0000lory"' $'"mal\001lory"' $'"mal\tlory"'; do
  refuse "register: username $(printf '%q' "$v")" 400 bad_json "${R[@]}" \
    --data-binary "{\"username\":$v,\"password\":\"mallory-pass\",\"birth_date\":\"1990-01-01\"}"
done
for v in 42 null false '["mallory-pass"]' '"short"' "\"$(rep p 1025)\""; do
  refuse "register: password ${v:0:20}" 400 invalid_password "${R[@]}" \
    --data-binary "{\"username\":\"mallory\",\"password\":$v,\"birth_date\":\"1990-01-01\"}"
done
refuse "register: no password" 400 invalid_password "${R[@]}" \
  --data-binary '{"username":"mallory","birth_date":"1990-01-01"}'
for v in 19900101 null '{}' '"1990-02-30"' '"1990-1-1"' '"1990-01-01x"' '"01-01-1990"' \
         '"1899-12-31"' "\"$future\"" '"1990-13-01"' '"199a-01-01"' '"1990-01-01T00:00:00Z"' '""'; do
  refuse "register: birth_date $v" 400 invalid_birth_date "${R[@]}" \
    --data-binary "{\"username\":\"mallory\",\"password\":\"mallory-pass\",\"birth_date\":$v}"
done
refuse "register: no birth_date" 400 invalid_birth_date "${R[@]}" \
  --data-binary '{"username":"mallory","password":"mallory-pass"}'
refuse "register: under 13" 403 too_young "${R[@]}" \
  --data-binary "{\"username\":\"mallory\",\"password\":\"mallory-pass\",\"birth_date\":\"$young\"}"
refuse "register: a taken name" 409 username_taken "${R[@]}" \
  --data-binary '{"username":"alice","password":"mallory-pass","birth_date":"1990-01-01"}'
pad_to $big '{"username":"Mallory","password":"mallory-pass","birth_date":"1990-01-01"}'
refuse "register: a body of exactly --max-body is read" 400 invalid_username "${R[@]}" --data-binary "@$work/pad"
pad_to $((big + 1)) '{"username":"mallory","password":"mallory-pass","birth_date":"1990-01-01"}'
refuse "register: one byte over --max-body" 413 too_large "${R[@]}" --data-binary "@$work/pad"
refuse "register: 10 MB" 413 too_large "${R[@]}" -H 'Expect:' --data-binary "@$work/huge"
check "register: nothing changed" same_state "$before"
check "register: the name of every refused attempt is still free" register mallory mallory-pass

# ---- POST /v1/sessions ----
before=$(state)
R=(POST /v1/sessions)
refuse "login: malformed JSON" 400 bad_json "${R[@]}" --data-binary '{"username":"alice"'
refuse "login: truncated JSON" 400 bad_json "${R[@]}" --data-binary '{"username":"alice","password":"alice-passw'
refuse "login: an array" 400 bad_json "${R[@]}" --data-binary '["alice","alice-password"]'
refuse "login: an empty body" 400 bad_json "${R[@]}" -H 'Content-Length: 0'
refuse "login: an unknown field" 400 unknown_field "${R[@]}" \
  --data-binary '{"username":"alice","password":"alice-password","otp":123456}'
for b in '{"username":"alice"}' '{"password":"alice-password"}' '{"username":42,"password":"alice-password"}' \
         '{"username":"alice","password":null}' '{"username":["alice"],"password":"alice-password"}' \
         "{\"username\":\"alice\",\"password\":\"$(rep p 1025)\"}" \
         "{\"username\":\"$(rep a 33)\",\"password\":\"alice-password\"}"; do
  refuse "login: ${b:0:60}" 400 invalid_request "${R[@]}" --data-binary "$b"
done
for b in '{"username":"alice","password":"wrong-password"}' '{"username":"nobody","password":"alice-password"}' \
         '{"username":"ALICE","password":"alice-password"}' '{"username":"alice","password":""}' \
         '{"username":"al\u0001ice","password":"alice-password"}'; do
  refuse "login: $b" 401 bad_credentials "${R[@]}" --data-binary "$b"
done
refuse "login: a username not in UTF-8" 400 bad_json "${R[@]}" --data-binary $'{"username":"al\xffice","password":"alice-password"}'
refuse "login: \\u0000 in the username" 400 bad_json "${R[@]}" --data-binary '{"username":"alice\u0000","password":"alice-password"}'
pad_to $((big + 1)) '{"username":"alice","password":"alice-password"}'
refuse "login: over --max-body" 413 too_large "${R[@]}" --data-binary "@$work/pad"
check "login: nothing changed" same_state "$before"
check "login: alice still logs in" test -n "$(login alice alice-password)"

# ---- DELETE /v1/accounts/me ----
before=$(state)
R=(DELETE /v1/accounts/me "${B[@]}")
refuse "delete: malformed JSON" 400 bad_json "${R[@]}" --data-binary '{"password":'
refuse "delete: truncated JSON" 400 bad_json "${R[@]}" --data-binary '{"password":"bob-password"'
refuse "delete: a string" 400 bad_json "${R[@]}" --data-binary '"bob-password"'
refuse "delete: no body" 400 bad_json "${R[@]}"
refuse "delete: a NUL byte" 400 bad_json "${R[@]}" --data-binary "@$work/nul"
refuse "delete: an unknown field" 400 unknown_field "${R[@]}" --data-binary '{"password":"bob-password","really":true}'
# docs/api.md: 403 bad_credentials for a wrong password; the server says
# the same for a missing one or one of the wrong type (test_api agrees)
for b in '{"password":"wrong-password"}' '{"password":"alice-password"}' '{}' '{"password":42}' \
         '{"password":null}' '{"password":["bob-password"]}' "{\"password\":\"$(rep p 1025)\"}"; do
  refuse "delete: ${b:0:40}" 403 bad_credentials "${R[@]}" --data-binary "$b"
done
pad_to $((big + 1)) '{"password":"bob-password"}'
refuse "delete: over --max-body" 413 too_large "${R[@]}" --data-binary "@$work/pad"
check "delete: nothing changed" same_state "$before"
check "delete: bob still logs in" test -n "$(login bob bob-password)"
check "delete: bob's token still works" test "$(prekeys_of "$tb")" = 20

# ---- PUT /v1/keys ----
expect "bob's bundle before" 200 GET /v1/keys/bob "${A[@]}"
bundle0=$(sed 's/,"prekey":.*//' "$work/body")
check "the first bundle hands out prekey 1" body_has '"prekey":{"id":1,'
before=$(state)
R=(PUT /v1/keys "${B[@]}")
P900="{\"id\":900,\"key\":\"$(key33)\"}"
keys() { # ik registration_id signed_prekey prekeys (JSON values; "" leaves one out)
  local o="" k v
  for kv in "identity_key:$1" "registration_id:$2" "signed_prekey:$3" "prekeys:$4"; do
    k=${kv%%:*} v=${kv#*:}
    [ -n "$v" ] && o="$o${o:+,}\"$k\":$v"
  done
  printf '{%s}' "$o"
}
IK="\"$ik\""
refuse "keys: malformed JSON" 400 bad_json "${R[@]}" --data-binary '{"prekeys":[{"id":1,'
refuse "keys: truncated JSON" 400 bad_json "${R[@]}" --data-binary "$(keys "$IK" 7 "$SPK" "[$P900]" | head -c 60)"
refuse "keys: an array" 400 bad_json "${R[@]}" --data-binary "[$P900]"
refuse "keys: no body" 400 bad_json "${R[@]}" -H 'Content-Length: 0'
refuse "keys: a NUL byte" 400 bad_json "${R[@]}" --data-binary "@$work/nul"
refuse "keys: an unknown field" 400 unknown_field "${R[@]}" --data-binary "{\"device_id\":2,\"prekeys\":[$P900]}"
urlsafe=$(key33); while [ "$urlsafe" = "$(tr -d '+/' <<<"$urlsafe")" ]; do urlsafe=$(key33); done
urlsafe=$(tr '+/' '-_' <<<"$urlsafe")
for v in '"!!!!"' "\"$(b64n 32)\"" "\"$(b64n 34)\"" "\"$({ printf '\006'; head -c 32 /dev/urandom; } | base64 -w0)\"" \
         "\"$urlsafe\"" "\"${ik:0:20} ${ik:20}\"" "\"${ik:0:43}\"" 42 null '[]'; do
  refuse "keys: identity_key ${v:0:30}" 400 invalid_keys "${R[@]}" --data-binary "$(keys "$v" 7 "$SPK" "[$P900]")"
done
for v in '"7"' -1 16384 1.5 true null; do
  refuse "keys: registration_id $v" 400 invalid_keys "${R[@]}" --data-binary "$(keys "$IK" "$v" "$SPK" "[$P900]")"
done
refuse "keys: identity_key without registration_id" 400 invalid_keys "${R[@]}" --data-binary "$(keys "$IK" "" "$SPK" "[$P900]")"
refuse "keys: registration_id without identity_key" 400 invalid_keys "${R[@]}" --data-binary "$(keys "" 7 "" "[$P900]")"
refuse "keys: signed_prekey without identity_key" 400 invalid_keys "${R[@]}" --data-binary "$(keys "" "" "$SPK" "[$P900]")"
for v in '"x"' '[]' null "{\"id\":1,\"key\":\"$spk_key\"}" "{\"id\":1,\"signature\":\"$spk_sig\"}" \
         "{\"key\":\"$spk_key\",\"signature\":\"$spk_sig\"}" \
         "{\"id\":16777216,\"key\":\"$spk_key\",\"signature\":\"$spk_sig\"}" \
         "{\"id\":\"1\",\"key\":\"$spk_key\",\"signature\":\"$spk_sig\"}" \
         "{\"id\":1,\"key\":\"$spk_key\",\"signature\":\"$(b64n 63)\"}" \
         "{\"id\":1,\"key\":\"$spk_key\",\"signature\":\"$(b64n 65)\"}" \
         "{\"id\":1,\"key\":\"$(b64n 32)\",\"signature\":\"$spk_sig\"}" \
         "{\"id\":$spk_id,\"key\":\"$spk_key\",\"signature\":\"$spk_sig\",\"extra\":1}"; do
  refuse "keys: signed_prekey ${v:0:40}" 400 invalid_keys "${R[@]}" --data-binary "$(keys "$IK" 7 "$v" "[$P900]")"
done
refuse "keys: a signature that does not verify" 400 bad_signature "${R[@]}" \
  --data-binary "$(keys "$IK" 7 "{\"id\":1,\"key\":\"$spk_key\",\"signature\":\"$(b64n 64)\"}" "[$P900]")"
refuse "keys: another key's signature" 400 bad_signature "${R[@]}" \
  --data-binary "$(keys "$IK" 7 "{\"id\":1,\"key\":\"$(key33)\",\"signature\":\"$spk_sig\"}" "[$P900]")"
refuse "keys: the signed prekey under a new identity" 400 bad_signature "${R[@]}" \
  --data-binary "$(keys "\"$(key33)\"" 7 "$SPK" "[$P900]")"
k=$(key33)
for v in '{}' 'null' '"x"' '[1]' "[\"$k\"]" "[{\"id\":901}]" "[{\"key\":\"$k\"}]" "[{\"id\":\"901\",\"key\":\"$k\"}]" \
         "[{\"id\":-1,\"key\":\"$k\"}]" "[{\"id\":16777216,\"key\":\"$k\"}]" "[{\"id\":1.5,\"key\":\"$k\"}]" \
         "[{\"id\":901,\"key\":\"$(b64n 32)\"}]" "[{\"id\":901,\"key\":\"@@@@\"}]" \
         "[{\"id\":901,\"key\":\"$k\",\"x\":1}]" "[$P900,{\"id\":902,\"key\":null}]"; do
  refuse "keys: prekeys ${v:0:40}" 400 invalid_keys "${R[@]}" --data-binary "$(keys "$IK" 7 "$SPK" "$v")"
done
many=""; for i in $(seq 1000 1200); do many="$many${many:+,}{\"id\":$i,\"key\":\"$k\"}"; done
refuse "keys: 201 prekeys in one request" 400 invalid_keys "${R[@]}" --data-binary "{\"prekeys\":[$many]}"
pad_to $((big + 1)) "$(keys "$IK" 7 "$SPK" "[$P900]")"
refuse "keys: over --max-body" 413 too_large "${R[@]}" --data-binary "@$work/pad"
check "keys: nothing changed" same_state "$before"
check "keys: bob's prekey count is unchanged" test "$(prekeys_of "$tb")" = 19
expect "bob's bundle after" 200 GET /v1/keys/bob "${A[@]}"
check "keys: the same identity and signed prekey" test "$(sed 's/,"prekey":.*//' "$work/body")" = "$bundle0"
check "keys: the next prekey is 2" body_has '"prekey":{"id":2,'
expect "keys: the request the refused ones were made from is accepted" 200 \
  PUT /v1/keys "${B[@]}" --data-binary "$(keys "$IK" 7 "$SPK" "[$P900]")"
check "... and adds its one prekey" body_has '"prekeys":19,'

# ---- GET /v1/keys/{user} (GET /v1/keys takes nothing but the token) ----
before=$(state)
for u in nobody ALICE al "$(rep a 33)" '%ff%fe' 'al%01ice' 'alice%20' '%c3%a5lice' 'alice%2fx' 'alice/x' \
         "alice$(rep x 30)" '-alice'; do
  refuse "bundle of '$u'" 404 no_such_user GET "/v1/keys/$u" "${B[@]}"
done
refuse "bundle of a user without keys" 404 no_keys GET /v1/keys/mallory "${B[@]}"
refuse "bundle with an empty name" 404 no_route GET /v1/keys/ "${B[@]}"
# lws resolves dot segments (RFC 3986 5.2.4) before ward sees the path
refuse "bundle of '..' is the parent path" 404 no_route GET /v1/keys/.. --path-as-is "${B[@]}"
refuse "bundle of '../accounts' is POST-only /v1/accounts" 405 method_not_allowed GET /v1/keys/../accounts --path-as-is "${B[@]}"
req GET /v1/keys/al%00ice "${B[@]}"
known_bug "a NUL (%00) in a path gets no answer (status $st): lws closes the connection" refused_json
check "bundles: alice's prekeys are untouched" test "$(prekeys_of "$ta")" = 99
check "bundles: nothing changed" same_state "$before"

# ---- POST /v1/messages ----
max=$((16 * 1024))
expect "a message of exactly --max-message" 201 POST /v1/messages "${A[@]}" \
  --data-binary "{\"to\":\"bob\",\"type\":2,\"commitment\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\",\"body\":\"$(b64n $max)\"}"
mb3=$(field id)
before=$(state)
R=(POST /v1/messages "${A[@]}")
msg() { # to type body [commitment] (JSON values; "" leaves one out; a
  # commitment of 32 bytes when none is given)
  local o="" kv k v
  for kv in "to:$1" "type:$2" "body:$3" "commitment:${4-\"$(b64n 32)\"}"; do
    k=${kv%%:*} v=${kv#*:}
    [ -n "$v" ] && o="$o${o:+,}\"$k\":$v"
  done
  printf '{%s}' "$o"
}
refuse "send: malformed JSON" 400 bad_json "${R[@]}" --data-binary '{"to":"bob","type":2,'
refuse "send: truncated JSON" 400 bad_json "${R[@]}" --data-binary '{"to":"bob","type":2,"commitment":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","body":"aGk="'
refuse "send: an array" 400 bad_json "${R[@]}" --data-binary '["bob",2,"aGk="]'
refuse "send: no body" 400 bad_json "${R[@]}" -H 'Content-Length: 0'
refuse "send: a NUL byte" 400 bad_json "${R[@]}" --data-binary "@$work/nul"
refuse "send: an unknown field" 400 unknown_field "${R[@]}" --data-binary '{"to":"bob","type":2,"commitment":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","body":"aGk=","cc":"eve"}'
refuse "send: a huge type number" 400 bad_json "${R[@]}" --data-binary "$(msg '"bob"' 99999999999999999999 '"aGk="')"
for v in 42 null '["bob"]' true; do
  refuse "send: to $v" 400 invalid_message "${R[@]}" --data-binary "$(msg "$v" 2 '"aGk="')"
done
refuse "send: no to" 400 invalid_message "${R[@]}" --data-binary "$(msg "" 2 '"aGk="')"
for v in '"nobody"' '"BOB"' '"b\u00f6b"' '"bob\n"' '"bo"' '""'; do
  refuse "send: to $v" 404 no_such_user "${R[@]}" --data-binary "$(msg "$v" 2 '"aGk="')"
done
refuse "send: to a name not in UTF-8" 400 bad_json "${R[@]}" --data-binary "$(msg $'"b\xffb"' 2 '"aGk="')"
for v in '"2"' 0 1 4 -2 2.0 true null 256; do
  refuse "send: type $v" 400 invalid_message "${R[@]}" --data-binary "$(msg '"bob"' "$v" '"aGk="')"
done
refuse "send: no type" 400 invalid_message "${R[@]}" --data-binary "$(msg '"bob"' "" '"aGk="')"
for v in '""' '"aGk"' '"a?k="' '"====="' '"aGk=aGk="' '"-_8="' '"aG k="' '"aGk=\n"' 42 null '["aGk="]'; do
  refuse "send: body $v" 400 invalid_message "${R[@]}" --data-binary "$(msg '"bob"' 2 "$v")"
done
refuse "send: no body field" 400 invalid_message "${R[@]}" --data-binary "$(msg '"bob"' 2 "")"
c32=$(b64n 32)
for v in "\"$(b64n 31)\"" "\"$(b64n 33)\"" "\"${c32%=}\"" '"!!!!"' 42 null '""'; do
  refuse "send: commitment ${v:0:20}" 400 invalid_message "${R[@]}" --data-binary "$(msg '"bob"' 2 '"aGk="' "$v")"
done
refuse "send: no commitment (it could not be reported)" 400 invalid_message "${R[@]}" --data-binary "$(msg '"bob"' 2 '"aGk="' "")"
refuse "send: a ciphertext one byte over --max-message" 413 message_too_large "${R[@]}" \
  --data-binary "$(msg '"bob"' 2 "\"$(b64n $((max + 1)))\"")"
refuse "send: over --max-body" 413 too_large "${R[@]}" \
  --data-binary "$(msg '"bob"' 2 "\"$(b64n $((big * 3 / 4 + 10)))\"")"
check "send: nothing changed (bob's queue, messages in)" same_state "$before"
check "send: bob's queue" test "$(queue_of "$tb")" = "$mb1 $mb2 $mb3 "
expect "send: the request the refused ones were made from is accepted" 201 \
  POST /v1/messages "${A[@]}" --data-binary "$(msg '"bob"' 3 '"aGk="' "\"$c32\"")"
mb4=$(field id)

# ---- GET /v1/messages?after&limit ----
before=$(state)
for q in after=-1 after=abc after= after limit=0 limit=501 limit=-5 limit=1.5 limit=abc limit=1e2 \
         'after=%01' 'after=1%20' 'after=0x10' "after=$(rep 9 19)" unknown=1 'after=0&limit=10&x=1' \
         'after=1%26limit%3D999' 'AFTER=1' 'limit=%2b5'; do
  refuse "list: ?$q" 400 invalid_query GET "/v1/messages?$q" "${B[@]}"
done
# Empty parameters are nothing, as most servers take them.
expect "list: ?&after=0" 200 GET "/v1/messages?&after=0" "${B[@]}"
expect "list: ?after=0&&limit=2" 200 GET "/v1/messages?after=0&&limit=2" "${B[@]}"
check "list: limit=2 still applies" test "$(grep -o '"id":' "$work/body" | wc -l)" = 2
expect "list: ?after=0&limit=500" 200 GET "/v1/messages?after=0&limit=500" "${B[@]}"
expect "list: ?limit=1" 200 GET "/v1/messages?limit=1" "${B[@]}"
check "list: one message" test "$(grep -o '"id":' "$work/body" | wc -l)" = 1
expect "list: after the last one" 200 GET "/v1/messages?after=$mb4" "${B[@]}"
check "list: none" body_has '^{"messages":\[\]}$'
req GET "/v1/messages?" "${B[@]}"
check "'GET /v1/messages?' (an empty query) is a plain list ($st)" test "$st" = 200
req GET "/v1/messages?limit=1&" "${B[@]}"
check "a trailing '&' is nothing ($st)" test "$st" = 200
req GET "/v1/messages?after=1%00" "${B[@]}"
known_bug "a NUL (%00) in the query gets no answer (status $st): lws closes the connection" refused_json
check "list: nothing changed" same_state "$before"

# ---- DELETE /v1/messages/{id} ----
before=$(state)
for id in abc -1 1.5 +1 0x10 1e3 '%01' '%201' '1%20' '1%2f2' "$(rep 9 19)" "$(rep 9 40)" "${mb1}abc" "$mb1%3b"; do
  refuse "ack: id '$id'" 400 invalid_id DELETE "/v1/messages/$id" "${B[@]}"
done
for id in 0 "$(rep 9 18)" "$me1"; do
  refuse "ack: id $id (not bob's)" 404 not_found DELETE "/v1/messages/$id" "${B[@]}"
done
refuse "ack: '..' is the parent path" 404 no_route DELETE /v1/messages/.. --path-as-is "${B[@]}"
refuse "ack: an empty id" 404 no_route DELETE /v1/messages/ "${B[@]}"
refuse "ack: PUT on a message" 405 method_not_allowed PUT "/v1/messages/$mb1" "${B[@]}" --data-binary '{}'
req DELETE "/v1/messages/$mb1%00" "${B[@]}"
known_bug "a NUL (%00) in a message id gets no answer (status $st): lws closes the connection" refused_json
check "ack: nothing changed" same_state "$before"
check "ack: bob's queue" test "$(queue_of "$tb")" = "$mb1 $mb2 $mb3 $mb4 "
# lws 4.1.6 cuts a path at ';' (path parameters): '/v1/messages/ID;x'
# reaches ward as '/v1/messages/ID', and acknowledges message ID.
ms=$(send_msg "$ta" eve c2VtaWNvbG9u)
req DELETE "/v1/messages/$ms;x" "${E[@]}"
known_bug "'DELETE /v1/messages/$ms;x' is not refused: status $st (lws drops ';x'), so the message is acknowledged" \
  test "$st" = 400
req DELETE "/v1/messages/$ms" "${E[@]}" # gone either way from here on

# ---- the transport: lengths and methods ----
before=$(state)
refuse "Content-Length not a number" 400 bad_request POST /v1/messages "${A[@]}" -H 'Content-Length: abc' --data-binary x
refuse "two Content-Lengths" 400 bad_request POST /v1/sessions -H 'Content-Length: 5' \
  -H 'Content-Length: 60' --data-binary '{"username":"alice","password":"alice-password"}'
refuse "chunked upload" 411 length_required POST /v1/messages "${A[@]}" -H 'Transfer-Encoding: chunked' \
  --data-binary "$(msg '"bob"' 2 '"aGk="')"
refuse "a path over 512 bytes" 414 uri_too_long GET "/v1/keys/$(rep a 600)" "${B[@]}"
refuse "a query over 256 bytes" 414 uri_too_long GET "/v1/messages?after=$(rep 0 300)" "${B[@]}"
check "transport: nothing changed" same_state "$before"
check "up after all the bad input" healthy

# ======================================================================
# 4. WebSocket garbage (bob's sessions)
# ======================================================================
bf0=$(metric 'ward_errors_total{kind="ws_bad_frame"}')
# Frames answered with an error frame: the session stays open.
ws wrongacks --token "$tb" --expect 4 \
  --send 'text:{"type":"ack","id":"1"}' --send 'text:{"type":"ack","id":-1}' \
  --send 'text:{"type":"ack","id":1.5}' --send 'text:{"type":"ack","id":true}' \
  --send 'text:{"type":"ack","id":null}' --send 'text:{"type":"ack","id":[1]}' \
  --send 'text:{"type":"ack","id":{}}' --send 'text:{"type":"ack"}' \
  --send "text:{\"type\":\"ack\",\"id\":$mb1,\"x\":1}" --send 'text:{"type":"ack","id":1e3}' \
  --send 'text:{"type":"frobnicate"}' --send 'text:{"type":""}' --send 'text:{"type":"ACK","id":1}' \
  --send 'text:{"type":"ack","id":9223372036854775807}' --send "text:{\"type\":\"ack\",\"id\":$me1}" \
  --send big:32768
check "WS wrong acks: the session ends as planned (rc $wsrc)" test "$wsrc" = 0
check "WS wrong acks: 10 invalid_ack" test "$(grep -c '^error invalid_ack$' "$work/ws.wrongacks")" = 10
check "WS: 3 unknown_type" test "$(grep -c '^error unknown_type$' "$work/ws.wrongacks")" = 3
check "WS: acking an unknown id: not_found" grep -q '^error not_found 9223372036854775807$' "$work/ws.wrongacks"
check "WS: acking eve's message: not_found" grep -q "^error not_found $me1$" "$work/ws.wrongacks"
check "WS: a frame of exactly --max-body (32 KiB) is read (an ack of 0)" grep -q '^error not_found 0$' "$work/ws.wrongacks"
check "WS: no close" test "$(grep -c '^close' "$work/ws.wrongacks")" = 0
check "WS wrong acks: nothing changed" test "$(queue_of "$tb")" = "$mb1 $mb2 $mb3 $mb4 "
# Frames that end the session.
closing=('garbage 1007' 'text:[1] 1007' 'text:"ack" 1007' 'text:{"type":5} 1007' 'text:{} 1007'
         'text:{"type":null} 1007' 'text:{"type":["ack"]} 1007'
         'text:{"type":"ack","id":1}} 1007' "nul:$mb1 1007" 'text:{"type":"ack","id":99999999999999999999} 1007'
         'text:{"type":"ack","type":"ack","id":1} 1007' 'binary 1003' 'big:32769 1009' 'big:1000000 1009')
for c in "${closing[@]}"; do
  ws closing --token "$tb" --expect 4 --send "${c% *}" --expect-close "${c##* }"
  check "WS: '${c% *}' closes with ${c##* } (rc $wsrc: $(grep '^close' "$work/ws.closing"))" test "$wsrc" = 0
done
ws closing --token "$tb" --expect 4 --send badutf8 --expect-close 1007
check "WS: invalid UTF-8 closes with 1007 (rc $wsrc)" test "$wsrc" = 0
check "WS: the server counted every bad frame it closed for" \
  test "$(metric 'ward_errors_total{kind="ws_bad_frame"}')" = $((bf0 + ${#closing[@]}))
# An empty text frame, on a server of its own (ws_receive once copied it
# with memcpy(NULL, in, 0), which the UBSan build turned into an abort).
start empty 0
empty_pid=$srv_pid
url="http://127.0.0.1:$srv_port"
check "empty: register" register zed zed-password
"$wsc" --port "$srv_port" --token "$(login zed zed-password)" --send text: --expect-close 1007 >"$work/ws.empty" 2>&1
erc=$?
sleep 0.2
check "an empty text frame closes with 1007 and the server stays up (rc $erc)" \
  eval 'test "$erc" = 0 && kill -0 "$empty_pid" && healthy'
kill -9 "$empty_pid" 2>/dev/null; wait "$empty_pid" 2>/dev/null
url=$main_url
ws long --token "$tb" --expect 4 --send "text:{\"type\":\"$(rep a 40)\"}"
check "a type longer than 32 bytes is a string type: unknown_type ($(grep '^close\|^error' "$work/ws.long"))" \
  grep -q '^error unknown_type$' "$work/ws.long"
# Frames lws sees first (raw socket).
ws raw --token "$tb" --raw opcode --expect-close 1002
check "WS: a reserved opcode closes with 1002 (rc $wsrc)" test "$wsrc" = 0
ws raw --token "$tb" --raw frag-close --expect-close 1000
check "WS: a close in the middle of a fragmented message is answered (rc $wsrc)" test "$wsrc" = 0
ws raw --token "$tb" --raw midframe
check "WS: a client that vanishes in the middle of a frame (rc $wsrc)" test "$wsrc" = 0
ws raw --token "$tb" --raw unmasked --timeout 3 --expect-close 1002
known_bug "an unmasked client frame is accepted (RFC 6455 5.1: close with 1002): $(grep -v '^message' "$work/ws.raw" | tr '\n' ' ')" \
  test "$wsrc" = 0
# The sessions still open: the observer's, and alice's and dave's until
# the 15-second re-check ends them.
listening() {
  local n=0 p
  for p in "$observer" "$logout_ws" "$dave_ws"; do kill -0 "$p" 2>/dev/null && n=$((n + 1)); done
  echo "$n"
}
same_sessions=0
for _ in $(seq 1 40); do
  [ "$(metric ward_websocket_sessions)" = "$(listening)" ] && { same_sessions=1; break; }
  sleep 0.05
done
check "WS: only the listening sessions remain ($(metric ward_websocket_sessions) open, $(listening) listening)" \
  test $same_sessions = 1
# Acks that do work: fragmented (with a ping between the fragments), and
# a plain one.
ws raw --token "$tb" --raw frag-ack --id "$mb3" --expect-close 1000
check "WS: a fragmented ack with a ping inside (rc $wsrc)" grep -q "^acked $mb3$" "$work/ws.raw"
check "... the ping is answered" grep -q '^pong$' "$work/ws.raw"
ws fragack --token "$tb" --expect 3 --send "frag:$mb4"
check "WS: a fragmented ack through lws (rc $wsrc)" grep -q "^acked $mb4$" "$work/ws.fragack"
check "WS: exactly those two are gone" test "$(queue_of "$tb")" = "$mb1 $mb2 "
check "up after the WebSocket garbage" healthy

# ======================================================================
# 3. Other clients: the observer stayed connected through all of it
# ======================================================================
check "the observer is still connected" kill -0 "$observer"
check "... and was sent nothing" test "$(grep -cv '^open$\|^synced$' "$work/ws.observer")" = 0
mc=$(send_msg "$ta" carol YWZ0ZXIgdGhlIGJhcnJhZ2U=)
wait_pid "$observer" 10
check "the observer gets the message sent after the barrage (rc $wrc)" test "$wrc" = 0
check "... pushed live" grep -q "^message $mc alice YWZ0ZXIgdGhlIGJhcnJhZ2U=$" "$work/ws.observer"
check "... the only one" test "$(grep -c '^message' "$work/ws.observer")" = 1
m4=$(metric 'ward_http_responses_total{code="4xx"}')
check "metrics count every 4xx ($m4, this test saw $n4xx)" test "$m4" = "$n4xx"
check "metrics: errors http_4xx" test "$(metric 'ward_errors_total{kind="http_4xx"}')" = "$n4xx"
check "metrics count every 401 ($(metric 'ward_errors_total{kind="unauthorized"}'), this test saw $n401)" \
  test "$(metric 'ward_errors_total{kind="unauthorized"}')" = "$n401"
check "metrics: no 5xx at all" test "$(metric 'ward_http_responses_total{code="5xx"}')" = 0
check "metrics count every 413 ($(metric 'ward_errors_total{kind="too_large"}'), this test saw $n413)" \
  test "$(metric 'ward_errors_total{kind="too_large"}')" = "$n413"
check "metrics count every refused upgrade ($(metric 'ward_errors_total{kind="ws_upgrade_refused"}'), this test saw $n_upg)" \
  test "$(metric 'ward_errors_total{kind="ws_upgrade_refused"}')" = "$n_upg"

# ======================================================================
# Rate limits and quotas (a server with tight ones)
# ======================================================================
start lim 0 --login-burst 3 --login-per-minute 1 --register-burst 3 --register-per-minute 1 \
  --send-burst 3 --send-per-minute 1 --max-queue 2 --max-prekeys 5
lim_pid=$srv_pid
url="http://127.0.0.1:$srv_port"
check "limits: register 1" register user1 user1-password
check "limits: register 2" register user2 user2-password
check "limits: register 3" register user3 user3-password
refuse "limits: the fourth registration from one address" 429 rate_limited POST /v1/accounts \
  --data-binary '{"username":"user4","password":"user4-password","birth_date":"1990-01-01"}'
t1=$(login user1 user1-password) t2=$(login user2 user2-password)
# Deleting the account checks the password: it spends the login budget.
for i in 1 2; do
  refuse "limits: delete with a wrong password ($i)" 403 bad_credentials DELETE /v1/accounts/me \
    -H "Authorization: Bearer $t1" --data-binary "{\"password\":\"guess-$i\"}"
done
refuse "limits: the next password guess by delete" 429 rate_limited DELETE /v1/accounts/me \
  -H "Authorization: Bearer $t1" --data-binary '{"password":"guess-3"}'
refuse "limits: ... even the right password waits" 429 rate_limited DELETE /v1/accounts/me \
  -H "Authorization: Bearer $t1" --data-binary '{"password":"user1-password"}'
expect "limits: the account is still there" 200 GET /v1/keys -H "Authorization: Bearer $t1"
refuse "limits: and login is limited too" 429 rate_limited POST /v1/sessions \
  --data-binary '{"username":"user1","password":"user1-password"}'
expect "limits: send 1" 201 POST /v1/messages -H "Authorization: Bearer $t2" --data-binary '{"to":"user1","type":2,"commitment":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","body":"MQ=="}'
expect "limits: send 2" 201 POST /v1/messages -H "Authorization: Bearer $t2" --data-binary '{"to":"user1","type":2,"commitment":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","body":"Mg=="}'
refuse "limits: a full queue" 429 queue_full POST /v1/messages -H "Authorization: Bearer $t2" \
  --data-binary '{"to":"user1","type":2,"commitment":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","body":"Mw=="}'
refuse "limits: sending too fast" 429 rate_limited POST /v1/messages -H "Authorization: Bearer $t2" \
  --data-binary '{"to":"user3","type":2,"commitment":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","body":"NA=="}'
check "limits: user1's queue holds the two" test "$(queue_of "$t1" | wc -w)" = 2
check "limits: user3's queue is empty" test "$(queue_of "$(login user3 user3-password)")" = ""
pre=""; for i in 1 2 3 4 5; do pre="$pre${pre:+,}{\"id\":$i,\"key\":\"$(key33)\"}"; done
expect "limits: 5 prekeys" 200 PUT /v1/keys -H "Authorization: Bearer $t1" --data-binary "{\"prekeys\":[$pre]}"
refuse "limits: a sixth" 409 too_many_prekeys PUT /v1/keys -H "Authorization: Bearer $t1" \
  --data-binary "{\"prekeys\":[{\"id\":6,\"key\":\"$(key33)\"}]}"
check "limits: still 5" test "$(prekeys_of "$t1")" = 5
expect "limits: replacing one is not adding one" 200 PUT /v1/keys -H "Authorization: Bearer $t1" \
  --data-binary "{\"prekeys\":[{\"id\":5,\"key\":\"$(key33)\"}]}"
check "limits: still 5 after the replacement" body_has '"prekeys":5,'
kill -TERM "$lim_pid"; wait "$lim_pid"; lim_pid=""

# ======================================================================
# Expired tokens (the --token-ttl 2s server)
# ======================================================================
url="http://127.0.0.1:$ttl_port"
while [ $(($(date +%s%N) - tt_t0)) -lt 2500000000 ]; do sleep 0.1; done
for j in "${!endpoints[@]}"; do
  set -- ${endpoints[$j]}
  args=(-H "Authorization: Bearer $tt")
  [ -n "${bodies[$j]}" ] && args+=(--data-binary "${bodies[$j]}")
  [ "$2" = "/v1/keys/alice" ] && set -- GET /v1/keys/tina
  refuse "expired token: $1 $2" 401 unauthorized "$1" "$2" "${args[@]}"
done
"$wsc" --port "$ttl_port" --token "$tt" --expect-reject >"$work/ws.ttlrej" 2>&1
check "expired token: the upgrade is refused" test $? = 0
tt2=$(login tina tina-password)
check "expired token: nothing changed (no prekeys, no messages)" \
  test "$(prekeys_of "$tt2"):$(queue_of "$tt2")" = "0:"
check "expired token: tina is still there" test -n "$tt2"

# ======================================================================
# Sessions that ended with their tokens (re-checked every 15 s)
# ======================================================================
url=$main_url
wait_pid "$logout_ws" 30
check "the session of a logged-out token is closed with 1008 (rc $wrc)" test "$wrc" = 0
wait_pid "$dave_ws" 30
check "the session of a deleted account is closed with 1008 (rc $wrc)" test "$wrc" = 0
wait_pid "$ttl_ws" 30
check "the session of an expired token is closed with 1008 (rc $wrc)" test "$wrc" = 0
kill -TERM "$ttl_pid"; wait "$ttl_pid"; ttl_pid=""

# ======================================================================
# 5. Reconnects (rita), and restarts on the same port and data
# ======================================================================
r1=$(send_msg "$ta" rita cjE=) r2=$(send_msg "$ta" rita cjI=) r3=$(send_msg "$ta" rita cjM=)
ws s1 --token "$tr_" --expect 3
check "rita's first session gets 3 (rc $wsrc)" test "$(msgs_before_synced s1)" = "$r1 $r2 $r3 "
ws s2 --token "$tr_" --expect 3 --ack-n 2
check "unacknowledged: all 3 again, acking 2 (rc $wsrc)" test "$(msgs_before_synced s2)" = "$r1 $r2 $r3 "
check "... both acked" test "$(grep -c '^acked' "$work/ws.s2")" = 2
ws s3 --token "$tr_" --expect 1
check "the acknowledged ones do not come again (rc $wsrc)" test "$(msgs_before_synced s3)" = "$r3 "
check "... nor over HTTP" test "$(queue_of "$tr_")" = "$r3 "

# SIGTERM: the session is told 1001, the server stops cleanly
ws_bg s4 --token "$tr_" --expect 2 --expect-close 1001 --timeout 20
s4=$wspid
check "rita connected" wait_line s4 '^synced'
r4=$(send_msg "$ta" rita cjQ=)
check "r4 is pushed live" wait_line s4 "^message $r4 "
kill -TERM "$main_pid"; wait "$main_pid"; rc=$?; main_pid=""
check "SIGTERM: exit 0 (got $rc)" test "$rc" = 0
wait_pid "$s4" 10
check "SIGTERM: the session is closed with 1001 (rc $wrc)" test "$wrc" = 0
old_port=$port
start_main "$old_port"
check "restarted on the same port" test "$port" = "$old_port"
check "tokens survive the restart" test "$(prekeys_of "$ta")" = 99
r5=$(send_msg "$ta" rita cjU=)
ws s5 --token "$tr_" --expect 3
check "after SIGTERM: the unacknowledged and the new (rc $wsrc)" test "$(msgs_before_synced s5)" = "$r3 $r4 $r5 "

# kill -9: a session connected, a message pushed, then the crash
ws_bg s6 --token "$tr_" --expect 4 --expect-close 1001 --timeout 20
s6=$wspid
check "rita connected again" wait_line s6 '^synced'
r6=$(send_msg "$ta" rita cjY=)
check "r6 is pushed live" wait_line s6 "^message $r6 "
kill -9 "$main_pid"; wait "$main_pid" 2>/dev/null; main_pid=""
wait_pid "$s6" 10
check "kill -9: the session just ends (rc $wrc)" grep -q '^closed$' "$work/ws.s6"
# A client that keeps reconnecting while the server is down.
ws_bg s7 --token "$tr_" --retry 15 --expect 5 --ack-n 5 --timeout 25
s7=$wspid
check "the client retries while the server is down" wait_line s7 '^retry$'
start_main "$old_port"
check "restarted on the same port after kill -9" test "$port" = "$old_port"
r7=$(send_msg "$ta" rita cjc=)
wait_pid "$s7" 20
check "after kill -9: the reconnecting client gets r3..r7 and acks them (rc $wrc)" test "$wrc" = 0
got=$(sed -n 's/^message \([0-9]*\) .*/\1/p' "$work/ws.s7" | sort -n | uniq | tr '\n' ' ')
check "... exactly those ($got)" test "$got" = "$r3 $r4 $r5 $r6 $r7 "
check "... never r1 or r2" test "$(grep -c "^message \($r1\|$r2\) " "$work/ws.s7")" = 0
check "rita's queue is empty" test "$(queue_of "$tr_")" = ""
check "bob's queue survived both restarts" test "$(queue_of "$tb")" = "$mb1 $mb2 "
kill -TERM "$main_pid"; wait "$main_pid"; rc=$?; main_pid=""
check "the last stop: exit 0 (got $rc)" test "$rc" = 0

# ---- the logs: no secrets ----
cat "$work"/*.log >"$work/all.log"
check "logs: no tokens" test "$(grep -cF -e "$ta" -e "$tb" -e "$tt" "$work/all.log")" = 0
check "logs: no passwords" test "$(grep -c 'alice-password\|bob-password' "$work/all.log")" = 0

secs=$((($(date +%s%N) - t_start) / 1000000))
echo "test_security: $pass passed, $fail failed, $known known bugs (not fixed here), $((secs / 1000)).$((secs % 1000 / 100)) s"
[ "$fail" -eq 0 ]
