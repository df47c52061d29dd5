#!/usr/bin/env bash
# `ward serve` over real sockets: the HTTP API through curl, the ward.v1
# WebSocket through ws_client, bad input of every kind (the server must
# answer with a JSON error and stay up), /metrics, the logs, TLS, and a
# clean stop on SIGTERM.
#   test_serve.sh WARD_BINARY WS_CLIENT_BINARY
set -u
ward="$1"
wsc="$2"
# The server closes connections after one answer: a write to one must fail
# (and be checked), not kill this script.
trap '' PIPE
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { # description, command...: passes if the command succeeds
  local what="$1"; shift
  if "$@"; then ok; else bad "$what"; fi
}

work=$(mktemp -d)
server_pid=""
bg_pids=()
cleanup() {
  for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null; done
  [ -n "$server_pid" ] && kill -9 "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

start_server() { # extra options...
  rm -f "$work/port"
  "$ward" serve --listen 127.0.0.1:0 --port-file "$work/port" \
    --data "$(mktemp -d "$work/data.XXXX")" "$@" 2>>"$work/server.log" &
  server_pid=$!
  for _ in $(seq 1 200); do
    [ -s "$work/port" ] && break
    sleep 0.05
  done
  if [ ! -s "$work/port" ]; then
    echo "test_serve: the server did not start"; cat "$work/server.log"; exit 1
  fi
  port=$(cat "$work/port")
}

stop_server() { # sets stop_rc and stop_ms
  local t0=$(date +%s%N)
  kill -TERM "$server_pid"
  wait "$server_pid"
  stop_rc=$?
  stop_ms=$((($(date +%s%N) - t0) / 1000000))
  server_pid=""
}

# HTTP helpers: the status goes to stdout, the body to $work/body.
req() { # method path [curl args...]
  local m="$1" p="$2"; shift 2
  curl -s -o "$work/body" -w '%{http_code}' -X "$m" "$@" "$url$p"
}
body_has() { grep -q -- "$1" "$work/body"; }
is_json_error() { grep -q '^{"error":{"code":"[a-z_]*","message":"' "$work/body"; }
json_field() { # name: a number or string field of $work/body
  sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p" "$work/body"
}
healthy() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")" = 200 ]; }
expect() { # description, wanted status, method, path, [curl args...]
  local what="$1" want="$2"; shift 2
  local got; got=$(req "$@")
  if [ "$got" = "$want" ]; then ok
  else bad "$what: status $got, wanted $want: $(head -c 300 "$work/body")"; fi
}
expect_error() { # like expect, and the body is a JSON error
  local what="$1" want="$2"; shift 2
  local got; got=$(req "$@")
  if [ "$got" = "$want" ] && is_json_error; then ok
  else bad "$what: status $got, wanted $want with a JSON error: $(head -c 300 "$work/body")"; fi
}

start_server
url="http://127.0.0.1:$port"
check "listens on the chosen port" test "$port" -gt 0

# ---- accounts and messages ----
expect "healthz" 200 GET /healthz
check "healthz body" body_has '"status":"ok"'
expect "register an adult" 201 POST /v1/accounts \
  -d '{"username":"alice","password":"alice-password","birth_date":"1990-04-01"}'
check "alice is an adult" body_has '"age_band":"adult"'
year=$(($(date -u +%Y) - 15))
expect "register a minor" 201 POST /v1/accounts \
  -d "{\"username\":\"bob\",\"password\":\"bob-password\",\"birth_date\":\"$year-01-01\"}"
check "bob is a minor" body_has '"age_band":"minor"'
expect "login alice" 200 POST /v1/sessions -d '{"username":"alice","password":"alice-password"}'
ta=$(json_field token)
expect "login bob" 200 POST /v1/sessions -d '{"username":"bob","password":"bob-password"}'
tb=$(json_field token)
check "tokens issued" test -n "$ta" -a -n "$tb"
expect_error "wrong password" 401 POST /v1/sessions -d '{"username":"bob","password":"wrong-password"}'
A=(-H "Authorization: Bearer $ta")
B=(-H "Authorization: Bearer $tb")
# bob is a minor: only accounts he follows can reach him.
expect "bob follows alice" 201 POST /v1/follows "${B[@]}" -d '{"username":"alice"}'

expect "send alice -> bob" 201 POST /v1/messages "${A[@]}" \
  -d '{"to":"bob","type":2,"commitment":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","body":"Zmlyc3QgbWVzc2FnZQ=="}'
id1=$(json_field id)
check "the send is acknowledged with an id" test -n "$id1"
check "and a server time" body_has '"server_time":[0-9]'
expect "bob lists" 200 GET /v1/messages "${B[@]}"
check "bob sees the message" body_has "\"id\":$id1,\"from\":\"alice\",\"type\":2"
expect "list with a query" 200 GET "/v1/messages?after=0&limit=10" "${B[@]}"
check "the query is passed through" body_has "\"id\":$id1"
expect_error "a bad query" 400 GET "/v1/messages?limit=100000" "${B[@]}"
expect_error "alice cannot ack bob's message" 404 DELETE "/v1/messages/$id1" "${A[@]}"
expect "bob acks" 204 DELETE "/v1/messages/$id1" "${B[@]}"
check "a 204 has no body" test ! -s "$work/body"
expect "bob's queue is empty" 200 GET /v1/messages "${B[@]}"
check "empty list" body_has '"messages":\[\]'
expect_error "acking twice" 404 DELETE "/v1/messages/$id1" "${B[@]}"

# One request per connection (lws 4.1.6 mishandles pipelining): curl
# opens a second connection for the second URL, and both succeed.
curl -s -D "$work/kv" -o /dev/null -o /dev/null "$url/healthz" "$url/healthz"
check "answers say Connection: close" test "$(grep -ci '^connection: close' "$work/kv")" = 2
check "a second request on a new connection" test "$(grep -c '^HTTP/1.1 200' "$work/kv")" = 2

# ---- authentication ----
expect_error "no token" 401 GET /v1/messages
expect_error "a bad token" 401 GET /v1/messages -H "Authorization: Bearer wt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
expect_error "not a bearer token" 401 GET /v1/messages -H "Authorization: Basic YTpi"
curl -s -i "$url/v1/messages" >"$work/hdr"
check "401 names the scheme" grep -qi '^www-authenticate: Bearer' "$work/hdr"
check "responses carry a request id" grep -qi '^x-request-id: [0-9]' "$work/hdr"

# ---- bad input: 4xx with a JSON error, and the server stays up ----
expect_error "malformed JSON" 400 POST /v1/messages "${A[@]}" -d '{"to":"bob",'
check "up after malformed JSON" healthy
expect_error "not an object" 400 POST /v1/messages "${A[@]}" -d '[1,2,3]'
expect_error "unknown field" 400 POST /v1/messages "${A[@]}" \
  -d '{"to":"bob","type":2,"commitment":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","body":"aGk=","cc":"eve"}'
check "says which field" body_has "unknown field 'cc'"
expect_error "wrong type" 400 POST /v1/messages "${A[@]}" -d '{"to":"bob","type":"2","body":"aGk="}'
expect_error "invalid base64" 400 POST /v1/messages "${A[@]}" -d '{"to":"bob","type":2,"commitment":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","body":"not base64!"}'
expect_error "no such recipient" 404 POST /v1/messages "${A[@]}" -d '{"to":"nobody","type":2,"commitment":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","body":"aGk="}'
expect_error "register: unknown field" 400 POST /v1/accounts \
  -d '{"username":"carol","password":"carol-password","birth_date":"1990-01-01","admin":true}'
expect_error "empty body" 400 POST /v1/sessions -H 'Content-Length: 0'
head -c 300000 /dev/zero | tr '\0' 'a' >"$work/big"
expect_error "a body over max_body" 413 POST /v1/messages "${A[@]}" --data-binary "@$work/big"
check "up after an oversize body" healthy
head -c 10000000 /dev/zero | tr '\0' 'a' >"$work/huge"
expect_error "10 MB body" 413 POST /v1/messages "${A[@]}" -H 'Expect:' --data-binary "@$work/huge"
check "up after 10 MB" healthy
{ printf '{"to":"bob","type":2,"commitment":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","body":"'; head -c 90000 /dev/zero | tr '\0' 'A'; printf '"}'; } >"$work/bigmsg"
expect_error "a message over max_message" 413 POST /v1/messages "${A[@]}" --data-binary "@$work/bigmsg"
printf '{}' >"$work/empty"
expect_error "chunked upload" 411 POST /v1/messages "${A[@]}" -H 'Transfer-Encoding: chunked' --data-binary "@$work/empty"
check "up after chunked" healthy
# No Content-Length at all: curl always sends one, so write by hand.
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'POST /v1/messages HTTP/1.1\r\nHost: x\r\n\r\n' >&3
raw=$(timeout 5 cat <&3)
exec 3<&-
check "no Content-Length: 411" grep -q '^HTTP/1.1 411' <<<"$raw"
check "411 is a JSON error" grep -q '"code":"length_required"' <<<"$raw"
expect_error "unknown path" 404 GET /nope
expect_error "wrong method" 405 PUT /healthz -d '{}'
expect_error "a path too long" 414 GET "/$(head -c 700 /dev/zero | tr '\0' 'a')"
# Pipelined requests (lws 4.1.6 would spin or worse): the first one is
# answered, the connection closed, the server neither hangs nor spins.
send1='{"to":"alice","type":2,"commitment":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","body":"cGlwZWxpbmVk"}'
one="POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer $ta\r\nContent-Length: ${#send1}\r\n\r\n$send1"
printf -v pipelined "$one$one${one}GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf '%s' "$pipelined" >&3 2>/dev/null
raw=$(timeout 5 cat <&3)
exec 3<&-
check "pipelined: the first send is acknowledged" grep -q '^HTTP/1.1 201' <<<"$raw"
check "pipelined: ... alone" test "$(grep -c '^HTTP/1.1' <<<"$raw")" = 1
printf -v pipelined "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n$one$one"
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf '%s' "$pipelined" >&3 2>/dev/null
raw=$(timeout 5 cat <&3)
exec 3<&-
check "pipelined behind a GET: the GET is answered" grep -q '^HTTP/1.1 200' <<<"$raw"
check "pipelined behind a GET: ... alone" test "$(grep -c '^HTTP/1.1' <<<"$raw")" = 1
cpu() { awk '{print $14 + $15}' "/proc/$server_pid/stat"; }
c0=$(cpu); sleep 0.5; c1=$(cpu)
check "idle server does not spin ($((c1 - c0)) ticks)" test $((c1 - c0)) -lt 20
check "up after everything" healthy

# ---- group commit: concurrent sends all acknowledged ----
conc=()
for i in $(seq 1 20); do
  curl -s -o /dev/null -w '%{http_code}\n' -X POST "${A[@]}" \
    -d "{\"to\":\"alice\",\"type\":2,\"commitment\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\",\"body\":\"Y29uY3VycmVudA==\"}" "$url/v1/messages" >>"$work/conc" &
  conc+=($!)
done
wait "${conc[@]}"
check "20 concurrent sends: all 201" test "$(grep -c '^201$' "$work/conc")" = 20

# ---- WebSocket ----
expect "queue one for bob while he is away" 201 POST /v1/messages "${A[@]}" \
  -d '{"to":"bob","type":3,"commitment":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","body":"cXVldWVkIGJlZm9yZQ=="}'
idq=$(json_field id)
"$wsc" --port "$port" --token "$tb" --expect 2 --ack-first --send garbage \
  --expect-close 1007 >"$work/ws1" 2>&1 &
ws1=$!; bg_pids+=("$ws1")
# a second session of the same account, which only listens
"$wsc" --port "$port" --token "$tb" --expect 2 >"$work/ws2" 2>&1 &
ws2=$!; bg_pids+=("$ws2")
for _ in $(seq 1 100); do
  grep -q synced "$work/ws1" && grep -q synced "$work/ws2" && break
  sleep 0.05
done
check "the queued message arrives on connect" grep -q "^message $idq alice cXVldWVkIGJlZm9yZQ==" "$work/ws1"
expect "send while bob is connected" 201 POST /v1/messages "${A[@]}" \
  -d '{"to":"bob","type":2,"commitment":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","body":"bGl2ZSBtZXNzYWdl"}'
idl=$(json_field id)
wait "$ws1"; rc1=$?
wait "$ws2"; rc2=$?
check "ws client 1 finished its scenario (rc $rc1)" test "$rc1" = 0
check "the live message is pushed" grep -q "^message $idl alice bGl2ZSBtZXNzYWdl" "$work/ws1"
check "the ack by id is confirmed" grep -q "^acked $idq$" "$work/ws1"
check "garbage closes the session with 1007" grep -q "^close 1007" "$work/ws1"
check "the second session got both (rc $rc2)" test "$rc2" = 0
check "second session: live message" grep -q "^message $idl " "$work/ws2"
expect "bob's queue after the ack" 200 GET /v1/messages "${B[@]}"
check "the acked message is gone" test "$(grep -c "\"id\":$idq," "$work/body")" = 0
check "the other one stays until acked" body_has "\"id\":$idl,"
check "up after garbage" healthy
"$wsc" --port "$port" --token "$tb" --expect 1 --send binary --expect-close 1003 >"$work/ws3" 2>&1
check "a binary frame closes with 1003" test $? = 0
"$wsc" --port "$port" --token "$tb" --expect 1 --send unknown >"$work/ws4" 2>&1
check "an unknown frame type gets an error frame" test $? = 0
"$wsc" --port "$port" --token "wt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" --expect-reject >"$work/ws5" 2>&1
check "a wrong token is refused at the upgrade" test $? = 0
"$wsc" --port "$port" --expect-reject >"$work/ws6" 2>&1
check "no token is refused at the upgrade" test $? = 0
upgrade=(-H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13'
         -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' -H 'Sec-WebSocket-Protocol: ward.v1')
expect_error "upgrade with a wrong token: 401" 401 GET /v1/ws "${upgrade[@]}" -H "Authorization: Bearer wt_nope"
expect_error "upgrade elsewhere: 404" 404 GET /v1/other "${upgrade[@]}" "${B[@]}"
check "up after the WebSocket tests" healthy

# A logout ends the sessions opened with that token (re-checked every 15 s).
expect "login bob again" 200 POST /v1/sessions -d '{"username":"bob","password":"bob-password"}'
tb2=$(json_field token)
"$wsc" --port "$port" --token "$tb2" --timeout 40 --expect-close 1008 >"$work/ws8" 2>&1 &
wsrev=$!
sleep 1
expect "logout of that token" 204 DELETE /v1/sessions -H "Authorization: Bearer $tb2"
wait "$wsrev"
check "the session of a logged-out token is closed (1008)" test $? = 0

# ---- metrics ----
expect "metrics" 200 GET /metrics
for m in ward_connections_open ward_websocket_sessions ward_http_requests_total \
         'ward_messages_in_total [1-9]' 'ward_messages_out_total{via="websocket"} [1-9]' \
         'ward_messages_out_total{via="http"} [1-9]' ward_send_queue_pending 'ward_messages_queued [0-9]' \
         'ward_errors_total{kind="too_large"} [1-9]' 'ward_errors_total{kind="ws_bad_frame"} [1-9]' \
         'ward_errors_total{kind="length_required"} [1-9]' 'ward_errors_total{kind="unauthorized"} [1-9]' \
         'ward_http_request_duration_seconds_bucket{le="+Inf"} [1-9]' \
         ward_http_request_duration_seconds_sum ward_http_request_duration_seconds_count; do
  check "metrics has $m" grep -q "^$m" "$work/body"
done
curl -s -i "$url/metrics" >"$work/hdr"
check "metrics are Prometheus text" grep -qi '^content-type: text/plain; version=0.0.4' "$work/hdr"

# ---- SIGTERM: the request in flight is answered, sessions get 1001,
# the server exits 0 quickly ----
"$wsc" --port "$port" --token "$ta" --expect-close 1001 >"$work/ws7" 2>&1 &
ws7=$!; bg_pids+=("$ws7")
for _ in $(seq 1 100); do grep -q synced "$work/ws7" && break; sleep 0.05; done
slow='{"to":"bob","type":2,"commitment":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","body":"aW4gZmxpZ2h0"}'
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n%s' \
  "$ta" "${#slow}" "${slow:0:10}" >&3
# until the server has read those headers (it counts the /metrics
# request itself too)
for _ in $(seq 1 100); do
  curl -s "$url/metrics" | grep -q '^ward_http_inflight 2$' && break
  sleep 0.05
done
t0=$(date +%s%N)
kill -TERM "$server_pid"
sleep 0.2
printf '%s' "${slow:10}" >&3
raw=$(timeout 5 cat <&3)
exec 3<&-
check "SIGTERM: the upload in flight is stored and acknowledged" grep -q '^HTTP/1.1 201' <<<"$raw"
check "SIGTERM: ... and its connection closed" grep -qi '^connection: close' <<<"$raw"
wait "$server_pid"
stop_rc=$?
stop_ms=$((($(date +%s%N) - t0) / 1000000))
server_pid=""
check "SIGTERM: exit 0 (got $stop_rc)" test "$stop_rc" = 0
check "SIGTERM: within 5 s (${stop_ms} ms)" test "$stop_ms" -lt 5000
wait "$ws7"
check "SIGTERM: the session is closed with 1001" grep -q "^close 1001" "$work/ws7"
check "SIGTERM: no longer accepting" test "$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")" = 000

# ---- the logs ----
check "logs: every line is a JSON object" test "$(grep -cv '^{.*}$' "$work/server.log")" = 0
check "logs: one line per request" grep -q '"event":"http","id":[0-9]*,"method":"POST","path":"/v1/messages","status":201,"ms":' "$work/server.log"
check "logs: no tokens" test "$(grep -cF -e "$ta" -e "$tb" "$work/server.log")" = 0
check "logs: no message bodies" test "$(grep -cF -e 'bGl2ZSBtZXNzYWdl' -e 'alice-password' "$work/server.log")" = 0
check "logs: a clean stop" grep -q '"event":"stopped","drained":true' "$work/server.log"

# ---- TLS ----
if command -v openssl >/dev/null; then
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" \
    -days 2 -subj /CN=localhost >/dev/null 2>&1
  start_server --tls-cert "$work/cert.pem" --tls-key "$work/key.pem"
  check "https healthz" test "$(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$port/healthz")" = 200
  check "no plain HTTP on the TLS port" test "$(curl -s -m 3 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")" != 200
  url="https://127.0.0.1:$port"
  expect "register over TLS" 201 POST /v1/accounts -k \
    -d '{"username":"carol","password":"carol-password","birth_date":"1990-01-01"}'
  expect "login over TLS" 200 POST /v1/sessions -k -d '{"username":"carol","password":"carol-password"}'
  "$wsc" --tls --port "$port" --token "$(json_field token)" >"$work/ws8" 2>&1
  check "a wss session" test $? = 0
  stop_server
  check "TLS server: exit 0" test "$stop_rc" = 0
fi

# ---- usage ----
"$ward" serve --listen nonsense >/dev/null 2>&1; check "bad --listen is a usage error" test $? = 2
"$ward" serve --tls-cert x >/dev/null 2>&1; check "half a TLS pair is a usage error" test $? = 2
"$ward" serve --bogus >/dev/null 2>&1; check "unknown option is a usage error" test $? = 2
"$ward" serve --data "$work/nodir/sub/deeper" --listen 127.0.0.1:0 >/dev/null 2>&1
check "an impossible data dir fails with 1" test $? = 1

# --config: key = value lines; the command line wins
printf '# test\nlisten = 127.0.0.1:1\ndata = %s\nport_file = %s\n' \
  "$work/cfgdata" "$work/cfgport" >"$work/ward.conf"
"$ward" serve --config "$work/ward.conf" --listen 127.0.0.1:0 2>>"$work/cfg.log" &
server_pid=$!
for _ in $(seq 1 200); do [ -s "$work/cfgport" ] && break; sleep 0.05; done
check "--config: port file written" test -s "$work/cfgport"
check "--config: data directory created 0700" test "$(stat -c %a "$work/cfgdata" 2>/dev/null)" = 700
check "--config: the command line's --listen wins" test "$(cat "$work/cfgport" 2>/dev/null)" != 1
stop_server
check "--config: exit 0" test "$stop_rc" = 0
printf 'listen 127.0.0.1:0\n' >"$work/bad.conf"
"$ward" serve --config "$work/bad.conf" >/dev/null 2>&1; check "a malformed config is a usage error" test $? = 2

echo "test_serve: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
