#!/usr/bin/env bash
# End-to-end encrypted groups through a real `ward serve` and the `ward`
# commands: three members and ten, messages in order and several sent
# before anyone fetches; a member removed gets nothing more, and the
# others' sender keys change; a member added late reads only what follows;
# a group message reported and verified (the console's API shows it
# verified); the group-add rules for minors, a minor told who added them
# and leaving with a block; ward chat --group from a pipe; bad input on
# every new command. Then group_order, the library's part (out of order,
# late keys, a removed member's old keys).
#   test_group_e2e.sh WARD_BINARY GROUP_ORDER_BINARY   (KEEP=1 keeps its work folder)
set -u
ward="$1"
order="$2"
trap '' PIPE
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { local what="$1"; shift; if "$@"; then ok; else bad "$what"; fi; }
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

# Two images for avatars, and a hash list holding the first: the server
# refuses, in any orientation, an image on its lists (--match-dir).
python3 - "$work" <<'PY'
import random, struct, sys, zlib
def png(path, w, h, pix):
    raw = b''.join(b'\x00' + bytes(pix[y * w * 3:(y + 1) * w * 3]) for y in range(h))
    def chunk(t, d):
        return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    open(path, 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))
                           + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
r = random.Random(7)
blocks = [[r.randrange(256) for _ in range(8)] for _ in range(8)]
for name, at in (('known', lambda x, y: blocks[y // 8][x // 8]),
                 ('known-turned', lambda x, y: blocks[x // 8][(63 - y) // 8]),
                 ('avatar', lambda x, y: 255 * ((x // 8 + y // 8) % 2))):
    pix = []
    for y in range(64):
        for x in range(64):
            pix += [at(x, y)] * 3
    png(sys.argv[1] + '/' + name + '.png', 64, 64, pix)
PY
"$ward" hash --format text "$work/known.png" 2>/dev/null | cut -d, -f1 >"$work/known.pdq"
"$ward" list import known "$work/known.pdq" --lists "$work/lists" >/dev/null 2>&1 ||
  { echo "test_group_e2e: cannot make the hash list"; exit 1; }

"$ward" serve --listen 127.0.0.1:0 --port-file "$work/port" --data "$data" \
  --match-dir "$work/lists" --pwhash min 2>>"$work/server.log" &
server_pid=$!
for _ in $(seq 1 200); do [ -s "$work/port" ] && break; sleep 0.05; done
[ -s "$work/port" ] || { echo "test_group_e2e: the server did not start"; tail "$work/server.log"; exit 1; }
url="http://127.0.0.1:$(cat "$work/port")"
export WARD_SERVER="$url"

# Runs ward as USER: stdout in $work/out, stderr in $work/err, rc set.
as() { local u="$1"; shift; "$ward" "$@" --user "$u" >"$work/out" 2>"$work/err"; rc=$?; }
out_has() { grep -qF -- "$1" "$work/out"; }
err_has() { grep -qF -- "$1" "$work/err"; }
show() { echo "  rc=$rc out: $(head -c 400 "$work/out")"; echo "  err: $(head -c 400 "$work/err")"; }
register() { # name [birth date]
  echo "password-of-$1" | "$ward" account register "$1" --birth-date "${2:-1990-01-01}" \
    --password-stdin >/dev/null 2>"$work/err" && ok || bad "register $1: $(cat "$work/err")"
}
# The group lines USER's `ward recv` printed, without their ids.
recv_lines() { as "$1" recv; sed 's/^\[[0-9]*\] //' "$work/out"; }
token_of() { sqlite3 "$XDG_DATA_HOME"/ward/*/"$1"/state.db "SELECT value FROM settings WHERE key = 'token'"; }
# Type-4 messages of group $2 queued on the server for $1 (from $3 only,
# if given).
queued_group_msgs() {
  curl -s -H "Authorization: Bearer $(token_of "$1")" "$url/v1/messages?limit=500" |
    python3 -c "import json,sys; print(sum(1 for m in json.load(sys.stdin)['messages'] if m['type'] == 4 and m.get('group') == $2 and (not '${3:-}' or m['from'] == '${3:-}')))"
}
key_of() { # user group: the id of USER's sender key in GROUP
  as "$1" group ls "$2"; sed -n 's/^your sender key: \([0-9]*\) .*/\1/p' "$work/out"
}

for u in alice bob carol dave; do register "$u"; done

# ---------------------------------------------------------------------
# Three members: create, send, receive in order.
as alice group create "Book club" --description "Fridays" --member bob --member carol
check "create: exit 0 ($(cat "$work/err"))" [ "$rc" -eq 0 ]
check "create: what was made" grep -qE '^created group "Book club" \(id [0-9]+\) with bob, carol$' "$work/out"
gid=$(sed -n 's/.*(id \([0-9]*\)).*/\1/p' "$work/out")
as alice group ls
check "ls: the group, alice admin" out_has "$(printf '%s\tBook club\tadmin' "$gid")"
as bob group ls "Book club"
check "ls GROUP: the details" out_has "\"Book club\" (id $gid)"
check "ls GROUP: the description" out_has "description: Fridays"
check "ls GROUP: the members" grep -qx "  carol, added by alice" "$work/out"
check "ls GROUP: no key before the first message" out_has "your sender key: none yet"

as alice send --group "Book club" "hello book club"
check "send --group: exit 0 ($(cat "$work/err"))" [ "$rc" -eq 0 ]
check "send --group: to both" out_has "sent to \"Book club\" (2 of 2 members)"
as bob send --group "$gid" "hi from bob"
check "send --group by id ($(cat "$work/err"))" out_has "sent to \"Book club\" (2 of 2 members)"
recv_lines carol >"$work/carol1"
check "carol told she was added" grep -qx '"Book club": alice created the group with you in it' "$work/carol1"
check "carol reads both, in order" \
  test "$(grep ' in "Book club": ' "$work/carol1")" = "$(printf 'alice in "Book club": hello book club\nbob in "Book club": hi from bob')"
recv_lines alice >"$work/alice1"
check "alice reads bob's" grep -qx 'bob in "Book club": hi from bob' "$work/alice1"
check "alice does not get her own" not grep -q "hello book club" "$work/alice1"
as carol recv
check "nothing shown twice" [ ! -s "$work/out" ]

# An image to the group: encrypted and uploaded once, its key inside the
# group message; each member saves the same bytes.
printf '\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x02\x00\x00\x00\x02\x08\x02\x00\x00\x00\xfd\xd4\x9a\x73\x00\x00\x00\x10\x49\x44\x41\x54\x78\xda\x63\xf8\xcf\xc0\x00\x44\x0c\x10\x0a\x00\x1f\xee\x03\xfd\x63\x5e\xbb\x5b\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82' >"$work/cover.png"
as alice send --group "Book club" --image "$work/cover.png" "our next book"
check "send --group --image: exit 0 ($(cat "$work/err"))" [ "$rc" -eq 0 ]
check "send --group --image: said" out_has 'sent the image to "Book club" (2 of 2 members)'
for u in bob carol; do
  as "$u" recv --save-dir "$work/saved-$u"
  check "$u: recv with the image exits 0 ($(cat "$work/err"))" [ "$rc" -eq 0 ]
  check "$u: the caption" grep -qE '^\[[0-9]+\] alice in "Book club": our next book$' "$work/out"
  path=$(sed -n 's/.*\[image image\/png, [0-9]* bytes, saved to \(.*\)\]$/\1/p' "$work/out" | head -1)
  check "$u: the image saved ($(cat "$work/out"))" test -n "$path"
  check "$u: byte for byte" cmp -s "$work/cover.png" "$path"
done
fail_case_early() { # description, expected stderr, args...
  local what="$1" want="$2"; shift 2
  "$ward" "$@" --user alice >"$work/out" 2>"$work/err"; rc=$?
  if [ "$rc" -eq 1 ] && grep -qF -- "$want" "$work/err"; then ok; else bad "$what: rc=$rc $(cat "$work/err")"; fi
}
fail_case_early "a group image that is not an image" "is not an image" \
  send --group "Book club" --image "$work/carol1"

# Several sends from several members before anyone fetches.
for i in 1 2 3 4 5; do as alice send --group "Book club" "a$i" || true; done
for i in 1 2 3; do as carol send --group "Book club" "c$i" || true; done
as alice send --group "Book club" "a6"
recv_lines bob | grep ' in "Book club": ' | sed 's/ in "Book club"//' >"$work/bob2"
check "bob reads all nine, in the order sent" \
  test "$(tr '\n' ' ' <"$work/bob2")" = "alice: a1 alice: a2 alice: a3 alice: a4 alice: a5 carol: c1 carol: c2 carol: c3 alice: a6 "
check "carol's key was made at her first message" test -n "$(key_of carol "Book club")"

# The server never holds the plaintext.
sync
if grep -rqa "hello book club" "$data" "$work/server.log"; then bad "the server holds group plaintext"; else ok; fi

# ---------------------------------------------------------------------
# A member removed gets nothing more; the others' keys change.
alice_key=$(key_of alice "Book club")
bob_key=$(key_of bob "Book club")
check "alice and bob have keys" test -n "$alice_key" -a -n "$bob_key"
as alice group remove "Book club" carol
check "remove: exit 0 ($(cat "$work/err"))" [ "$rc" -eq 0 ]
check "remove: said" out_has "removed carol from \"Book club\""
before=$(queued_group_msgs carol "$gid")
as bob send --group "Book club" "secret after carol left"
check "bob's send after the removal ($(cat "$work/err"))" out_has "(1 of 1 members; a new sender key, as someone left)"
as alice send --group "Book club" "alice: carol is gone"
check "alice's send after the removal: a new key too" out_has "a new sender key"
check "alice's key changed" test "$(key_of alice "Book club")" != "$alice_key"
check "bob's key changed" test "$(key_of bob "Book club")" != "$bob_key"
check "nothing more queued for carol" test "$(queued_group_msgs carol "$gid")" = "$before"
recv_lines carol >"$work/carol2"
check "carol told she was removed" grep -qx '"Book club": alice removed you' "$work/carol2"
check "carol reads nothing sent after" not grep -q "secret after\|carol is gone" "$work/carol2"
as carol send --group "$gid" "let me back"
check "carol cannot send: exit 1" [ "$rc" -eq 1 ]
check "carol cannot send: said" err_has "you are in no group $gid"
recv_lines bob >"$work/bob3"
check "bob sees the removal" grep -qx '"Book club": alice removed carol' "$work/bob3"
check "bob reads alice's new key's message" grep -qx 'alice in "Book club": alice: carol is gone' "$work/bob3"

# ---------------------------------------------------------------------
# A member added late reads what follows, not what came before.
as alice group add "Book club" dave
check "add: exit 0 ($(cat "$work/err"))" [ "$rc" -eq 0 ]
check "add: said" out_has "added dave to \"Book club\""
as bob send --group "Book club" "welcome dave"
check "bob's send hands dave his key ($(cat "$work/err"))" out_has "(2 of 2 members)"
recv_lines dave >"$work/dave1"
check "dave told he was added" grep -qx '"Book club": alice added you' "$work/dave1"
check "dave reads what follows" grep -qx 'bob in "Book club": welcome dave' "$work/dave1"
check "dave reads nothing from before" not grep -q "hello book club\|a1\|secret after\|carol is gone" "$work/dave1"
check "dave: nothing unreadable" not grep -q "cannot be read\|malformed" "$work/dave1"

# Live: ward recv --follow shows a group message as it arrives.
"$ward" recv --follow --user dave >"$work/follow.out" 2>"$work/follow.err" &
follow_pid=$!
for _ in $(seq 1 100); do grep -q "connected" "$work/follow.err" 2>/dev/null && break; sleep 0.1; done
as alice send --group "Book club" "live hello"
for _ in $(seq 1 100); do grep -q 'alice in "Book club": live hello$' "$work/follow.out" && break; sleep 0.1; done
check "recv --follow shows it ($(head -c 200 "$work/follow.err"))" grep -q 'alice in "Book club": live hello$' "$work/follow.out"
kill "$follow_pid"; wait "$follow_pid" 2>/dev/null

# ---------------------------------------------------------------------
# A group message reported and verified end to end.
as alice send --group "Book club" "buy cheap watches"
as bob recv
spam_id=$(sed -n 's/^\[\([0-9]*\)\] alice in "Book club": buy cheap watches$/\1/p' "$work/out")
check "bob got the spam" test -n "$spam_id"
as bob history
check "history marks the group" grep -q "^\[$spam_id\] alice in group $gid: buy cheap watches$" "$work/out"
as bob report alice "$spam_id" --reason spam --note "group spam"
check "report: exit 0 ($(cat "$work/err"))" [ "$rc" -eq 0 ]
check "report: verified" out_has "the server verified that alice sent this message"
rid=$(sqlite3 "$data/ward.db" "SELECT id FROM reports WHERE message_id = $spam_id")
check "the report is stored" test -n "$rid"
WARD_PASSWORD='moderator pass phrase 3' "$ward" admin add-moderator moe \
  --data "$data" >/dev/null 2>"$work/err" || bad "add-moderator: $(cat "$work/err")"
curl -s -c "$work/jar" -X POST -H 'X-CSRF-Token: login' -H 'Content-Type: application/json' \
  -d '{"name":"moe","password":"moderator pass phrase 3"}' "$url/console/api/login" >"$work/login.json"
curl -s -b "$work/jar" "$url/console/api/reports/$rid" >"$work/report.json"
py() { python3 -c "import json; j=json.load(open('$work/report.json')); print($1)"; }
check "console: verified ($(head -c 300 "$work/report.json"))" test "$(py "j['verification']['verified']")" = True
check "console: a group message" test "$(py "j['message']['group']")" = True
check "console: the group named" test "$(py "j['group']['name']")" = "Book club"
check "console: its size now" test "$(py "j['group']['members']")" -ge 3
check "console: its text" test "$(py "j['message']['body']")" = "buy cheap watches"
check "console: from alice" test "$(py "j['subject']['name']")" = alice
# The same record reported as a direct message: the server refuses it.
sqlite3 "$XDG_DATA_HOME"/ward/*/bob/state.db "UPDATE shown SET group_id = NULL WHERE id = $spam_id"
as bob report alice "$spam_id" --reason spam
check "a group message reported as direct: refused" err_has "could not verify that alice sent this message"

# ---------------------------------------------------------------------
# The group-add rules, and a minor told who added them.
minor_year=$(( $(date -u +%Y) - 15 ))
register kid "$minor_year-03-04"
register teen "$minor_year-05-06"
as teen privacy off
as alice group add "Book club" teen
check "an adult adding a minor who does not follow them: exit 1" [ "$rc" -eq 1 ]
check "the sentence" err_has "teen cannot be contacted: they accept new conversations only from people they follow"
check "no age in it" not grep -qiE "minor|child|18|age" "$work/err"
as alice group add "Book club" kid
check "a private minor: exit 1" [ "$rc" -eq 1 ]
check "a private minor: the sentence" err_has "kid's account is private"
as alice group create "Kids club" --member bob --member kid
check "creation refused for one member: exit 1" [ "$rc" -eq 1 ]
as alice group ls
check "nothing created" not out_has "Kids club"
as bob group add "Book club" erin
check "a non-admin cannot add: exit 1" [ "$rc" -eq 1 ]
check "a non-admin: said" err_has "only the admins of \"Book club\" can do that"
as kid follow alice
as alice group add "Book club" kid
check "a minor who follows alice can be added ($(cat "$work/err"))" [ "$rc" -eq 0 ]
as alice send --group "Book club" "hello kid"
# kid does not follow bob, an adult: the contact rules keep bob's key and
# his messages from kid, and bob is told how many and who, not why.
as bob send --group "Book club" "bob to all"
check "bob's send goes to the others ($(cat "$work/err"))" [ "$rc" -eq 0 ]
check "bob told one member is kept from it ($(cat "$work/out"))" out_has "1 kept from it by blocks or the contact rules"
check "bob told nobody else lacks his key" not out_has "cannot read it"
check "bob told who" err_has "kid does not get your messages in \"Book club\": the contact rules keep your messages in this group from this account"
check "no age in it" not grep -qiwE "minor|child|18|age" "$work/err"
check "nothing of bob's queued for kid" test "$(queued_group_msgs kid "$gid" bob)" = 0
as kid recv
check "kid told who added them" out_has '"Book club": alice added you'
check "kid told by the server's notice" err_has "alice added you to the group \"Book club\""
check "kid reads alice's message" grep -q 'alice in "Book club": hello kid$' "$work/out"
check "kid gets nothing of bob's" not out_has 'bob in "Book club"'
# A private adult added by someone it follows reads every member, though
# bob could not write to it one to one.
register pat 1980-02-03
as pat privacy on
as pat follow alice
as alice group add "Book club" pat
check "pat added ($(cat "$work/err"))" [ "$rc" -eq 0 ]
as bob send pat "hello pat"
check "bob cannot write to private pat directly" err_has "pat's account is private"
as bob send --group "Book club" "bob to pat too"
check "bob's send: exit 0 ($(cat "$work/err"))" [ "$rc" -eq 0 ]
recv_lines pat >"$work/pat"
check "pat reads bob's group message" grep -qx 'bob in "Book club": bob to pat too' "$work/pat"
check "pat got no direct message from bob" not grep -q "hello pat" "$work/pat"
# kid follows bob: the rules let bob reach kid now. bob's client had
# noted kid as refused; the server says kid is reachable, bob hands kid
# his key, and kid reads what follows.
as kid follow bob
as bob send --group "Book club" "bob to kid, now followed"
check "bob's send after the follow: exit 0 ($(cat "$work/err"))" [ "$rc" -eq 0 ]
check "nobody kept from it now ($(cat "$work/out"))" not out_has "kept from it"
as kid recv
check "kid reads bob's message now" grep -q 'bob in "Book club": bob to kid, now followed$' "$work/out"
check "nothing of bob's waits" not out_has "waiting for bob's key"
as kid group leave "Book club" --block
check "leave --block: exit 0 ($(cat "$work/err"))" [ "$rc" -eq 0 ]
check "leave --block: said" out_has "left \"Book club\" and blocked alice, who added you"
as kid contacts blocked
check "alice is blocked" grep -qx alice "$work/out"
as kid group ls
check "kid is in no group" err_has "you are in no group"
as alice group ls "Book club"
check "kid is no longer a member" not grep -q "^  kid" "$work/out"

# ---------------------------------------------------------------------
# The avatar: an image the server sees, checked against its hash lists.
as alice group avatar "Book club" "$work/known.png"
check "an avatar on a hash list: exit 1" [ "$rc" -eq 1 ]
check "an avatar on a hash list: said" err_has "this image cannot be used"
as alice group avatar "Book club" "$work/known-turned.png"
check "the same image turned: refused too" err_has "this image cannot be used"
as bob group avatar "Book club" "$work/avatar.png"
check "a member who is not admin cannot set it" err_has 'only the admins of "Book club" can do that'
as alice group avatar "Book club" "$work/avatar.png"
check "set: exit 0 ($(cat "$work/err"))" [ "$rc" -eq 0 ]
check "set: said" out_has 'set the avatar of "Book club"'
as dave group ls "Book club"
check "dave sees that it has one" grep -qE '^avatar: [0-9a-f]{32} ' "$work/out"
as dave group avatar "Book club" --save "$work/dave-avatar.png"
check "dave saves it ($(cat "$work/err"))" [ "$rc" -eq 0 ]
check "byte for byte" cmp -s "$work/avatar.png" "$work/dave-avatar.png"
check "saved 0600" [ "$(stat -c %a "$work/dave-avatar.png")" = 600 ]
as dave group avatar "Book club" --save "$work/dave-avatar.png"
check "not over a file that is there" [ "$rc" -eq 1 ]
as alice group avatar "Book club" "$work/carol1"
check "not an image: refused" err_has "JPEG, PNG, GIF or WebP"
metrics=$(curl -s "$url/metrics")
check "refusals counted in /metrics" grep -qx 'ward_images_matched_total 2' <<<"$metrics"
as alice group avatar "Book club" --remove
check "removed ($(cat "$work/err"))" out_has 'removed the avatar of "Book club"'
as dave group avatar "Book club" --save "$work/none.png"
check "none to save" err_has 'has no avatar'

# ---------------------------------------------------------------------
# Roles.
as alice group role "Book club" bob admin
check "role: exit 0 ($(cat "$work/err"))" [ "$rc" -eq 0 ]
as bob group ls
check "bob is admin" out_has "$(printf '%s\tBook club\tadmin' "$gid")"
as bob group role "Book club" bob member
as alice group role "Book club" alice member
check "the last admin cannot step down" err_has "a group keeps at least one admin"

# ---------------------------------------------------------------------
# ward chat --group from a pipe: each line sent, exit 0 once confirmed.
printf 'chat line 1\nchat line 2\n' | timeout 30 "$ward" chat --group "Book club" --user dave >"$work/out" 2>"$work/err"; rc=$?
check "chat --group: exit 0 ($(cat "$work/err"))" [ "$rc" -eq 0 ]
recv_lines alice >"$work/alice4"
check "alice reads dave's chat lines" \
  test "$(grep 'dave in "Book club": chat line' "$work/alice4" | wc -l)" = 2

# ---------------------------------------------------------------------
# Ten members: each sends once; then three burst while the others wait.
members=""
for i in 1 2 3 4 5 6 7 8 9; do register "mem$i"; members="$members --member mem$i"; done
as alice group create "Ten" $members
check "ten members: created ($(cat "$work/err"))" [ "$rc" -eq 0 ]
for u in alice mem1 mem2 mem3 mem4 mem5 mem6 mem7 mem8 mem9; do
  as "$u" send --group Ten "hello from $u"
  out_has "(9 of 9 members)" && ok || { bad "$u's send to ten"; show; }
done
for u in alice mem1 mem2 mem3 mem4 mem5 mem6 mem7 mem8 mem9; do
  recv_lines "$u" | grep ' in "Ten": ' >"$work/ten_$u"
  want=$(for v in alice mem1 mem2 mem3 mem4 mem5 mem6 mem7 mem8 mem9; do [ "$v" = "$u" ] || echo "$v in \"Ten\": hello from $v"; done)
  check "$u reads the other nine, in order" test "$(cat "$work/ten_$u")" = "$want"
done
for i in 1 2 3; do as mem4 send --group Ten "m4 burst $i"; as alice send --group Ten "alice burst $i"; done
as mem9 send --group Ten "m9 last"
for u in mem1 mem7; do
  recv_lines "$u" | grep ' in "Ten": ' | sed 's/ in "Ten"//' | tr '\n' '|' >"$work/burst_$u"
  check "$u reads the burst in order" test "$(cat "$work/burst_$u")" = \
    "mem4: m4 burst 1|alice: alice burst 1|mem4: m4 burst 2|alice: alice burst 2|mem4: m4 burst 3|alice: alice burst 3|mem9: m9 last|"
done

# ---------------------------------------------------------------------
# Bad input on the new commands: usage errors exit 2, an unknown group 1.
usage_case() { # description, args...
  local what="$1"; shift
  "$ward" "$@" --user alice >"$work/out" 2>"$work/err"; rc=$?
  if [ "$rc" -eq 2 ] && [ -s "$work/err" ]; then ok; else bad "$what: rc=$rc $(cat "$work/err")"; fi
}
usage_case "group without a command" group
usage_case "an unknown group command" group frobnicate
usage_case "create without a name" group create
usage_case "create with two names" group create a b
usage_case "create with an empty name" group create ""
usage_case "create with a name too long" group create "$(head -c 65 /dev/zero | tr '\0' n)"
usage_case "create with a bad member" group create x --member "Not A Name"
usage_case "create --member without a name" group create x --member
usage_case "add without a user" group add "Book club"
usage_case "add a bad username" group add "Book club" "b@d"
usage_case "remove with too much" group remove "Book club" bob carol
usage_case "leave without a group" group leave
usage_case "--block elsewhere" group add "Book club" bob --block
usage_case "--member elsewhere" group leave "Book club" --member bob
usage_case "role without a role" group role "Book club" bob
usage_case "role: not a role" group role "Book club" bob boss
usage_case "ls with two groups" group ls a b
usage_case "an unknown option" group ls --colour
usage_case "send --group without text" send --group "Book club"
usage_case "send --group with two texts" send --group "Book club" a b
usage_case "send --group with an image and two texts" send --group "Book club" --image x.png a b
usage_case "chat with a user and a group" chat bob --group "Book club"
usage_case "chat --group without a group" chat --group
fail_case() { # description, expected stderr, args...
  local what="$1" want="$2"; shift 2
  "$ward" "$@" --user alice >"$work/out" 2>"$work/err"; rc=$?
  if [ "$rc" -eq 1 ] && grep -qF -- "$want" "$work/err"; then ok; else bad "$what: rc=$rc $(cat "$work/err")"; fi
}
fail_case "ls an unknown group" "you are in no group named 'Nope' (see 'ward group ls')" group ls Nope
fail_case "send to an unknown group" "you are in no group named 'Nope'" send --group Nope hello
fail_case "add to an unknown group id" "you are in no group 999999" group add 999999 bob
fail_case "chat in an unknown group" "you are in no group named 'Nope'" chat --group Nope
fail_case "remove someone not in it" "zed is not a member of the group" group remove "Book club" zed
fail_case "add someone already in it" "bob is in the group already" group add "Book club" bob
fail_case "add nobody" "there is no user nobody" group add "Book club" nobody
fail_case "create with an unknown member" "there is no user nobody" group create Other --member nobody
fail_case "create with unknown members" "one of the members listed is not a user" group create Other --member nobody --member bob
fail_case "a group id with a leading zero" "is not a group id" group ls 0123
as alice group create "Book club"
as alice group ls "Book club"
check "two groups of one name: exit 1" [ "$rc" -eq 1 ]
check "two groups of one name: give the id" err_has "2 of your groups are named 'Book club': give the id"
"$ward" help group >"$work/out"
check "help group" out_has "ward group leave GROUP [--block]"
"$ward" help send >"$work/out"
check "help send mentions --group" out_has "ward send --group GROUP TEXT"
check "still up" test "$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")" = 200

# ---------------------------------------------------------------------
# The client library's part (its own accounts on the same server).
mkdir -p "$work/order"
if "$order" "$url" "$work/order" >"$work/order.out" 2>&1; then ok
else bad "group_order: $(tail -20 "$work/order.out")"; fi

echo "test_group_e2e: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
