#!/usr/bin/env bash
# The client's side of child safety through a real `ward serve`: follow,
# unfollow, block, unblock, find, contacts, suggestions and privacy; the
# contact policy's refusals as plain sentences in `ward send` and `ward
# chat` (never a raw code); reports of a received text message and of an
# image (verified by the server, the image fetched and checked), account
# reports, and reports the server must refuse (a tampered kept record); a
# malformed message dropped with a notice; a suspended account told until
# when.
#   test_social.sh WARD_BINARY      (KEEP=1 keeps its work folder)
set -u
ward="$1"
trap '' PIPE
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { # description, command...: passes if the command succeeds
  local what="$1"; shift
  if "$@"; then ok; else bad "$what"; fi
}
not() { ! "$@"; }

work=$(mktemp -d)
export XDG_DATA_HOME="$work/clients"
data="$work/server"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && { kill -9 "$server_pid"; wait "$server_pid"; } 2>/dev/null
  [ -n "${KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT

rm -f "$work/port"
"$ward" serve --listen 127.0.0.1:0 --port-file "$work/port" --data "$data" \
  --pwhash min 2>>"$work/server.log" &
server_pid=$!
for _ in $(seq 1 200); do [ -s "$work/port" ] && break; sleep 0.05; done
[ -s "$work/port" ] || { echo "test_social: the server did not start"; tail "$work/server.log"; exit 1; }
url="http://127.0.0.1:$(cat "$work/port")"
export WARD_SERVER="$url"

# Runs ward as USER, keeping stdout in $work/out and stderr in $work/err;
# sets rc.
as() { local u="$1"; shift; "$ward" "$@" --user "$u" >"$work/out" 2>"$work/err"; rc=$?; }
out_is() { [ "$(cat "$work/out")" = "$1" ]; }
out_has() { grep -qF -- "$1" "$work/out"; }
err_has() { grep -qF -- "$1" "$work/err"; }
# No raw error code (a word with an underscore) reaches the user.
no_code() { ! grep -qE '[a-z]+_[a-z_]+' "$work/err"; }
show() { echo "  rc=$rc out: $(head -c 300 "$work/out")"; echo "  err: $(head -c 300 "$work/err")"; }

minor_year=$(( $(date -u +%Y) - 15 ))
for u in alice bob carol dave erin mallory; do
  echo "password-of-$u" | "$ward" account register "$u" --birth-date 1990-01-01 \
    --password-stdin >/dev/null 2>"$work/err" && ok || bad "register $u: $(cat "$work/err")"
done
echo "password-of-kid" | "$ward" account register kid --birth-date "$minor_year-03-04" \
  --password-stdin >/dev/null 2>"$work/err" && ok || bad "register kid: $(cat "$work/err")"

# ---------------------------------------------------------------------
# Privacy: a minor's account starts private, an adult's public.
as kid privacy
check "kid's account is private by default" out_has "kid's account is private"
as alice privacy
check "alice's account is public by default" out_has "alice's account is public"
as alice privacy on
check "privacy on: exit 0" [ "$rc" -eq 0 ]
as alice privacy
check "alice's account is now private" out_has "alice's account is private"
as alice privacy off
as alice privacy
check "alice's account is public again" out_has "alice's account is public"

# ---------------------------------------------------------------------
# Find by exact name.
as alice find bob
check "find bob: exit 0" [ "$rc" -eq 0 ]
check "find bob: no follows yet" out_is "bob: you do not follow each other"
as alice find nobody
check "find nobody: exit 1" [ "$rc" -eq 1 ]
check "find nobody: says there is no such user" err_has "there is no user nobody"
cp "$work/err" "$work/err_nobody"
check "find nobody: no raw code" no_code
# An adult looking for a minor who does not follow them: exactly like
# nobody (the name aside).
as alice find kid
check "find a hidden minor: exit 1 like nobody" [ "$rc" -eq 1 ]
check "find a hidden minor reads exactly like no such user" \
  [ "$(sed 's/kid/NAME/g' "$work/err")" = "$(sed 's/nobody/NAME/g' "$work/err_nobody")" ]
as alice find 'Bob!'
check "find a name that cannot be one: usage error" [ "$rc" -eq 2 ]

# ---------------------------------------------------------------------
# Follow, unfollow, the lists.
as alice follow bob
check "alice follows bob" out_is "now following bob"
as alice follow bob
check "following again is fine" out_is "already following bob"
as alice find bob
check "find: you follow them" out_is "bob: you follow them"
as bob find alice
check "find: they follow you" out_is "alice: they follow you"
as alice contacts following
check "contacts following" out_is "bob"
as bob contacts followers
check "contacts followers" out_is "alice"
as bob contacts
check "contacts: all three lists" \
  [ "$(cat "$work/out")" = "$(printf 'following: (none)\nfollowers: alice\nblocked: (none)')" ]
as alice unfollow carol
check "unfollow someone not followed: exit 1" [ "$rc" -eq 1 ]
check "unfollow someone not followed: a sentence" err_has "you do not follow carol"
check "unfollow someone not followed: no raw code" no_code
as alice follow nobody
check "follow nobody: exit 1" [ "$rc" -eq 1 ]
check "follow nobody: a sentence" err_has "there is no user nobody"

# ---------------------------------------------------------------------
# Suggestions: accounts followed by accounts alice follows, by how many.
as alice follow dave
as bob follow carol
as dave follow carol
as dave follow erin
as alice suggestions
check "suggestions: exit 0" [ "$rc" -eq 0 ]
check "suggestions: carol first, shared by two" \
  [ "$(head -n 1 "$work/out")" = "carol (followed by 2 of the people you follow)" ]
check "suggestions: erin, shared by one" out_has "erin (followed by 1 of the people you follow)"
check "suggestions: not those already followed" [ "$(grep -c '^bob \|^dave ' "$work/out")" -eq 0 ]
as alice suggestions --limit 1
check "suggestions --limit 1: one line" [ "$(wc -l <"$work/out")" -eq 1 ]
as erin suggestions
check "no suggestions: exit 0, said on stderr" [ "$rc" -eq 0 ] 
check "no suggestions: told so" err_has "no suggestions yet"

# ---------------------------------------------------------------------
# The contact policy in ward send: an adult and a minor who does not
# follow them.
# kid's account is private (the first rule that applies).
as alice send kid "hello there"
check "send to a private minor: exit 1" [ "$rc" -eq 1 ]
check "send to a private minor: the sentence" \
  err_has "kid's account is private: you can contact them once they follow you"
check "send to a private minor: no raw code" no_code
# Public, the minor is still out of reach of an adult they do not follow,
# and the sentence does not say why (their age).
as kid privacy off
check "kid goes public" out_has "kid's account is public"
as alice send kid "hello there"
check "send to a minor who does not follow: exit 1" [ "$rc" -eq 1 ]
check "send to a minor: the sentence" \
  err_has "kid cannot be contacted: they accept new conversations only from people they follow"
check "send to a minor: no raw code" no_code
check "send to a minor: nothing about age" not grep -qE '18|minor|child' "$work/err"
# Following a minor who does not follow you is refused like following
# nobody: the policy hides them there.
as alice follow kid
check "follow a minor who does not follow: exit 1" [ "$rc" -eq 1 ]
check "follow a minor: reads like no such user" err_has "there is no user kid"
as kid privacy on
# Once the minor follows the adult, they can talk.
as kid follow alice
check "kid follows alice" out_is "now following alice"
as alice send kid "hello kid"
check "send to a minor who follows: exit 0 ($(cat "$work/err"))" [ "$rc" -eq 0 ]
as kid recv
check "kid receives it" grep -qE '^\[[0-9]+\] alice: hello kid$' "$work/out"
kid_msg=$(sed -n 's/^\[\([0-9]*\)\] alice: hello kid$/\1/p' "$work/out")

# ---------------------------------------------------------------------
# Block: refusals both ways, in send and in chat, follows removed.
as bob block alice
check "bob blocks alice" grep -q "^blocked alice" "$work/out"
as alice contacts following
check "the block removed alice's follow of bob" [ "$(grep -c '^bob$' "$work/out")" -eq 0 ]
as bob contacts blocked
check "contacts blocked" out_is "alice"
as alice send bob "are you there?"
check "send to someone who blocked you: exit 1" [ "$rc" -eq 1 ]
check "send: they have blocked you" err_has "bob has blocked you"
check "send: no raw code" no_code
check "blocked_by_recipient says nothing about age" not err_has "18"
as bob send alice "go away"
check "send to someone you blocked: exit 1" [ "$rc" -eq 1 ]
check "send: you have blocked them" err_has "you have blocked alice: run 'ward unblock alice'"
echo "over chat" | "$ward" chat bob --user alice >"$work/out" 2>"$work/err"; rc=$?
check "chat with someone who blocked you: exit 1" [ "$rc" -eq 1 ]
check "chat: the sentence, not a code" err_has "not sent: bob has blocked you"
check "chat: no raw code" no_code
as alice follow bob
check "follow someone who blocked you: exit 1" [ "$rc" -eq 1 ]
check "follow someone who blocked you: reads like no such user" err_has "there is no user bob"
as bob unblock alice
check "bob unblocks alice" out_is "unblocked alice"
as bob unblock alice
check "unblock again: exit 1" [ "$rc" -eq 1 ]
check "unblock again: a sentence" err_has "you have not blocked alice"
as alice send bob "back again"
check "send after the unblock: exit 0 ($(cat "$work/err"))" [ "$rc" -eq 0 ]

# ---------------------------------------------------------------------
# Reports of a text message.
as alice send bob "buy cheap pills at spam.example"
as bob recv
check "bob receives the spam" grep -qE '^\[[0-9]+\] alice: buy cheap pills at spam.example$' "$work/out"
spam_id=$(sed -n 's/^\[\([0-9]*\)\] alice: buy cheap pills.*/\1/p' "$work/out")
as bob history alice
check "history lists it with its id" out_has "[$spam_id] alice: buy cheap pills at spam.example"
check "history lists the earlier one too" grep -qE '^\[[0-9]+\] alice: back again$' "$work/out"
as bob history carol
check "history of someone who sent nothing: empty" [ ! -s "$work/out" ]
as bob report carol "$spam_id" --reason spam
check "report naming the wrong sender: exit 1" [ "$rc" -eq 1 ]
check "report naming the wrong sender: said so" err_has "is from alice, not carol"
as bob report alice 999999 --reason spam
check "report of a message not kept: exit 1" [ "$rc" -eq 1 ]
check "report of a message not kept: said so" err_has "not kept on this device"
as bob report alice "$spam_id" --reason spam --note "unsolicited advertising"
check "report the spam: exit 0 ($(cat "$work/err"))" [ "$rc" -eq 0 ]
check "report: the server's verdict" \
  grep -qE "^reported message $spam_id from alice for spam: report [0-9]+, normal priority$" "$work/out"
check "report: verified" out_has "the server verified that alice sent this message"
check "report of a text message: nothing about an image" not out_has "image"
# The report is in the server's database, as the message alice sent.
if [ "$(sqlite3 "$data/ward.db" "SELECT count(*) FROM reports WHERE message_id = $spam_id" 2>/dev/null)" = 1 ]; then ok
else bad "the report of message $spam_id is not in the server's database"; fi
# A minor's report is high priority.
as kid report alice "$kid_msg" --reason grooming --note "asked where I live"
check "a minor's report: exit 0 ($(cat "$work/err"))" [ "$rc" -eq 0 ]
check "a minor's report: high priority" out_has "high priority (reviewed first)"

# A kept record changed on disk (the text made to say something else) is
# refused by the server, in a sentence.
as alice send bob "an innocent message"
as bob recv
inno_id=$(sed -n 's/^\[\([0-9]*\)\] alice: an innocent message$/\1/p' "$work/out")
bob_state=$(find "$XDG_DATA_HOME" -path '*/bob/state.db')
sqlite3 "$bob_state" "UPDATE shown SET content = CAST(replace(CAST(content AS TEXT), 'innocent', 'guilty!!') AS BLOB) WHERE id = $inno_id" 2>"$work/err"
check "the kept content was changed for the test" \
  [ "$(sqlite3 "$bob_state" "SELECT instr(CAST(content AS TEXT), 'guilty') > 0 FROM shown WHERE id = $inno_id")" = 1 ]
as bob report alice "$inno_id" --reason other-harassment
check "a tampered report: exit 1" [ "$rc" -eq 1 ]
check "a tampered report: the sentence" err_has "the server could not verify that alice sent this message"
check "a tampered report: no raw code" no_code

# ---------------------------------------------------------------------
# Report of an image: the server fetches, decrypts and checks it.
printf '\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x02\x00\x00\x00\x02\x08\x02\x00\x00\x00\xfd\xd4\x9a\x73\x00\x00\x00\x10\x49\x44\x41\x54\x78\xda\x63\xf8\xcf\xc0\x00\x44\x0c\x10\x0a\x00\x1f\xee\x03\xfd\x63\x5e\xbb\x5b\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82' >"$work/pic.png"
as alice send bob --image "$work/pic.png" "look at this"
check "send an image: exit 0 ($(cat "$work/err"))" [ "$rc" -eq 0 ]
as bob recv --save-dir "$work/saved"
check "bob receives the image" grep -qE '^\[[0-9]+\] alice: \[image image/png' "$work/out"
img_id=$(sed -n 's/^\[\([0-9]*\)\] alice: look at this$/\1/p' "$work/out")
check "the image message has an id" [ -n "$img_id" ]
as bob history alice
check "history shows the image" grep -qE "^\[$img_id\] alice: look at this \[image image/png, [0-9]+ bytes\]$" "$work/out"
as bob report alice "$img_id" --reason csam
check "report the image: exit 0 ($(cat "$work/err"))" [ "$rc" -eq 0 ]
check "report the image: reason in words" out_has "for child sexual exploitation"
check "report the image: checked by the server" out_has "the server checked the image: it is the one that was sent"
check "the server kept the image as evidence" \
  [ "$(find "$data/evidence" -type f 2>/dev/null | wc -l)" -ge 1 ]

# ---------------------------------------------------------------------
# Account reports.
as bob report dave --reason harassment --note "keeps following me around"
check "account report: exit 0 ($(cat "$work/err"))" [ "$rc" -eq 0 ]
check "account report: the verdict" grep -qE "^reported dave for harassment: report [0-9]+, normal priority$" "$work/out"
as bob report nobody --reason spam
check "account report about nobody: exit 1" [ "$rc" -eq 1 ]
check "account report about nobody: a sentence" err_has "there is no user nobody"
long_note=$(head -c 1001 /dev/zero | tr '\0' 'n')
as bob report dave --reason spam --note "$long_note"
check "a note of 1,001 characters: exit 1" [ "$rc" -eq 1 ]
check "a note too long: said so" err_has "at most 1000 characters"

# ---------------------------------------------------------------------
# A message that cannot be what was committed to (here: not even a
# ciphertext, with a well-formed commitment) is dropped, and bob told.
token=$(curl -s -X POST "$url/v1/sessions" -H 'Content-Type: application/json' \
  -d '{"username":"mallory","password":"password-of-mallory"}' | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
check "mallory logged in over HTTP" [ -n "$token" ]
commit=$(head -c 32 /dev/urandom | base64 -w0)
body=$(head -c 80 /dev/urandom | base64 -w0)
curl -s -o /dev/null -w '%{http_code}' -X POST "$url/v1/messages" \
  -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d "{\"to\":\"bob\",\"type\":2,\"body\":\"$body\",\"commitment\":\"$commit\"}" >"$work/code"
check "the forged message was queued ($(cat "$work/code"))" [ "$(cat "$work/code")" = 201 ]
as bob recv
check "the malformed message: bob is told" \
  grep -qE '^\[[0-9]+\] \(a malformed message from mallory was dropped\)$' "$work/out"
bad_id=$(sed -n 's/^\[\([0-9]*\)\] (a malformed message from mallory.*/\1/p' "$work/out")
as bob history mallory
check "the malformed message is not kept" [ ! -s "$work/out" ]
as bob report mallory "$bad_id" --reason spam
check "the malformed message cannot be reported" err_has "not kept on this device"
as bob recv
check "the malformed message is not shown again" not grep -q mallory "$work/out"

# ---------------------------------------------------------------------
# A suspended account is told until when, in send and in every command.
until_ms=1798761600000  # 2027-01-01 00:00 UTC
sqlite3 "$data/ward.db" "UPDATE accounts SET status = 1, status_until = $until_ms WHERE username = 'erin'"
as erin send dave "hello"
check "a suspended account's send: exit 1" [ "$rc" -eq 1 ]
check "suspended: until when" err_has "your account is suspended until 2027-01-01 00:00 UTC"
check "suspended: no raw code" no_code
as erin follow dave
check "a suspended account's follow: the same sentence" err_has "your account is suspended until 2027-01-01 00:00 UTC"
sqlite3 "$data/ward.db" "UPDATE accounts SET status = 2, status_until = 0 WHERE username = 'erin'"
as erin contacts
check "a banned account: a sentence" err_has "your account has been banned"
check "banned: no raw code" no_code
# The live connection is refused at the upgrade: chat says why and stops,
# rather than reconnecting for ever.
echo "hello" | timeout 20 "$ward" chat dave --user erin >"$work/out" 2>"$work/err"; rc=$?
check "a banned account's chat: exit 1 ($rc)" [ "$rc" -eq 1 ]
check "a banned account's chat: the sentence" err_has "your account has been banned"
timeout 20 "$ward" recv --follow --user erin >"$work/out" 2>"$work/err"; rc=$?
check "a banned account's recv --follow: exit 1" [ "$rc" -eq 1 ]
check "a banned account's recv --follow: the sentence" err_has "your account has been banned"

# ---------------------------------------------------------------------
# A moderator's warning (from the console's API) reaches alice once, in
# words of the server's, without the moderator's note.
WARD_PASSWORD='moderator pass phrase 3' "$ward" admin add-moderator moe \
  --data "$data" >/dev/null 2>"$work/err" || bad "add-moderator: $(cat "$work/err")"
curl -s -c "$work/jar" -X POST -H 'X-CSRF-Token: login' -H 'Content-Type: application/json' \
  -d '{"name":"moe","password":"moderator pass phrase 3"}' "$url/console/api/login" >"$work/login.json"
csrf=$(sed -n 's/.*"csrf":"\([^"]*\)".*/\1/p' "$work/login.json")
check "the moderator logs in" [ -n "$csrf" ]
rid=$(sqlite3 "$data/ward.db" "SELECT id FROM reports WHERE subject_name = 'alice' AND reason = 5 LIMIT 1")
code=$(curl -s -o "$work/body" -w '%{http_code}' -b "$work/jar" -X POST -H "X-CSRF-Token: $csrf" \
  -H 'Content-Type: application/json' -d '{"action":"warn","note":"reported by bob"}' \
  "$url/console/api/reports/$rid/decision")
check "warn alice ($code: $(cat "$work/body"))" [ "$code" = 200 ]
as alice recv
check "alice sees the warning: $(cat "$work/err")" \
  err_has "ward: warning from the moderators: A moderator reviewed a report about your account (spam) and warned you."
check "the moderator's note stays private" not err_has "reported by bob"
as alice recv
check "the warning is shown once" not err_has "warning from the moderators"

echo "test_social: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
