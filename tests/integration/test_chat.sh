#!/usr/bin/env bash
# `ward chat`, `ward recv --follow` and image attachments end to end,
# through a real `ward serve`: 100 messages each way while both are online
# (over the WebSocket) and 100 while the recipient is away, images that
# arrive byte for byte or not at all (a flipped byte, a truncated blob,
# an expired one), the attachment endpoints under bad input, followers that
# come back by themselves after kill -9 and SIGTERM, and chat on a
# pseudo-terminal (redraw around incoming messages, UTF-8 backspace, ^D).
#   test_chat.sh WARD_BINARY      (KEEP=1 keeps its work folder)
set -u
ward="$1"
# The server closes connections after one answer: a write to one must fail
# (and be checked), not kill this script.
trap '' PIPE
pass=0 fail=0 known=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { # description, command...: passes if the command succeeds
  local what="$1"; shift
  if "$@"; then ok; else bad "$what"; fi
}
# A server bug that is reported (its fix belongs to src/server/, which
# others are changing) without failing the test; it passes once fixed.
known_bug() { # description, command...
  local what="$1"; shift
  if "$@"; then ok; else known=$((known + 1)); echo "KNOWN BUG (not failing): $what"; fi
}

work=$(mktemp -d)
export XDG_DATA_HOME="$work/clients"
data="$work/server"
server_pid=""
bg_pids=()
t_start=$(date +%s)
cleanup() {
  { exec 5>&- 6>&- 7>&-; } 2>/dev/null
  for p in "${bg_pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  [ -n "$server_pid" ] && kill -9 "$server_pid" 2>/dev/null
  wait 2>/dev/null
  [ -n "${KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT

start_server() { # PORT (0: any free one) [extra options...]; the same port
                 # again after a restart, since client state is per server URL
  local p="$1"; shift
  rm -f "$work/port"
  "$ward" serve --listen "127.0.0.1:$p" --port-file "$work/port" \
    --data "$data" --pwhash min --max-attachment 8MiB "$@" \
    2>>"$work/server.log" &
  server_pid=$!
  for _ in $(seq 1 200); do
    [ -s "$work/port" ] && break
    sleep 0.05
  done
  if [ ! -s "$work/port" ]; then
    echo "test_chat: the server did not start"; tail "$work/server.log"; exit 1
  fi
  port=$(cat "$work/port")
  url="http://127.0.0.1:$port"
  export WARD_SERVER="$url"
}
kill_server() { # SIGNAL: sets stop_rc
  kill "-$1" "$server_pid"
  wait "$server_pid" 2>/dev/null  # no "Killed" notice
  stop_rc=$?
  server_pid=""
}
wait_for() { # file, fixed text, seconds: until the file holds the text
  local i
  for ((i = 0; i < $3 * 20; i++)); do
    grep -qF -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}
shown_once() { # file, exact line without its "[ID] ": exactly one such line
  [ "$(sed 's/^\[[0-9]*\] //' "$1" | grep -cxF -- "$2")" -eq 1 ]
}
ids_increase() { # file: the [ID]s of its lines strictly increase
  sed -n 's/^\[\([0-9]*\)\] .*/\1/p' "$1" |
    awk 'NR > 1 && $1 <= last { exit 1 } { last = $1 }'
}
in_order() { # file, tag: the ids, and the numbers after the tag, increase
  ids_increase "$1" && sed -n "s/^\[[0-9]*\] [a-z]*: $2 \([0-9]*\) .*/\1/p" "$1" |
    awk 'NR > 1 && $1 <= last { exit 1 } { last = $1 }'
}
blob_files() { find "$data/blobs" -path "$data/blobs/tmp" -prune -o -type f -print | wc -l; }
tmp_files() { find "$data/blobs/tmp" -type f | wc -l; }
newest_blob() { # the blob file written after the stamp file $work/stamp
  find "$data/blobs" -path "$data/blobs/tmp" -prune -o -type f \
    -newer "$work/stamp" -print | head -n 1
}
stamp() { touch "$work/stamp"; sleep 0.02; }
no_part_files() { [ -z "$(find "$1" -name '.part*' 2>/dev/null)" ]; }
elapsed() { echo "$(($(date +%s) - t_start))s"; }

start_server 0
for u in alice bob carol; do
  if echo "password-of-$u" | "$ward" account register "$u" \
       --birth-date 1990-01-01 --password-stdin >/dev/null 2>"$work/err"; then ok
  else bad "register $u: $(cat "$work/err")"; fi
done

# ---------------------------------------------------------------------
# 1. 100 messages each way while the recipient is away, through `ward
# chat` from a pipe, then `ward recv`: each once, in order, exact text,
# with UTF-8 and one 60 KiB line (a message's text is at most 64 KiB and
# its ciphertext too, so 60 KiB is about the largest that fits).
long_line=$(head -c 61440 /dev/zero | tr '\0' 'L')
make_lines() { # tag: the 100 lines of one direction
  local i
  for i in $(seq 1 100); do
    if [ "$i" -eq 50 ]; then echo "$1 $i $long_line"
    else echo "$1 $i ünïcödé — ✓ 日本語 🙂 \"quoted\" \\ back"; fi
  done
}
make_lines "a2b offline" >"$work/a2b_off.in"
make_lines "b2a offline" >"$work/b2a_off.in"
expect_from() { sed "s/^/$1: /" "$2"; } # sender, input file

"$ward" chat bob --user alice <"$work/a2b_off.in" >"$work/chat_a.out" 2>"$work/chat_a.err"
rc=$?; check "chat alice -> bob from a pipe exits 0: $(cat "$work/chat_a.err")" [ $rc -eq 0 ]
"$ward" recv --user bob >"$work/bob_off.out" 2>"$work/err"
rc=$?; check "recv bob exits 0: $(cat "$work/err")" [ $rc -eq 0 ]
"$ward" chat alice --user bob <"$work/b2a_off.in" >"$work/chat_b.out" 2>"$work/chat_b.err"
rc=$?; check "chat bob -> alice from a pipe exits 0: $(cat "$work/chat_b.err")" [ $rc -eq 0 ]
"$ward" recv --user alice >"$work/alice_off.out" 2>"$work/err"
rc=$?; check "recv alice exits 0: $(cat "$work/err")" [ $rc -eq 0 ]
for pair in "bob_off alice a2b_off" "alice_off bob b2a_off"; do
  set -- $pair
  if diff <(expect_from "$2" "$work/$3.in") <(sed 's/^\[[0-9]*\] //' "$work/$1.out") >/dev/null; then ok
  else bad "$1: not the 100 messages once each, in order, exact"
       diff <(expect_from "$2" "$work/$3.in") <(sed 's/^\[[0-9]*\] //' "$work/$1.out") | cut -c1-120 | head -5; fi
  check "$1: message ids increase" ids_increase "$work/$1.out"
done
check "the 60 KiB line arrived whole" \
  shown_once "$work/bob_off.out" "alice: a2b offline 50 $long_line"
if [ -z "$("$ward" recv --user bob 2>/dev/null)" ]; then ok; else bad "bob saw messages again"; fi
# A line too long for one message is refused (exit 1), not cut short; a
# last line without its newline is still sent.
{ echo "x$long_line$long_line"; printf 'no newline at the end'; } |
  "$ward" chat bob --user alice >/dev/null 2>"$work/err"
check "an over-long line: exit 1" [ $? -eq 1 ]
check "an over-long line: said so" grep -q "not sent: a line is longer than" "$work/err"
"$ward" recv --user bob >"$work/out" 2>/dev/null
check "the unterminated last line is sent, the long one is not" \
  [ "$(sed 's/^\[[0-9]*\] //' "$work/out")" = "alice: no newline at the end" ]

# ---------------------------------------------------------------------
# 2. 100 each way while both are online, both directions at once: each
# user runs `ward recv --follow` while their own `ward chat` sends from a
# pipe. A user's two processes share one state: each message is shown
# once, by one of them (the follower or the chat's standard output).
for u in alice bob; do
  "$ward" recv --follow --user "$u" >"$work/follow_$u.out" 2>"$work/follow_$u.err" &
  bg_pids+=($!); eval "follow_$u=$!"
done
check "alice's follower synced" wait_for "$work/follow_alice.err" "synced" 10
check "bob's follower synced" wait_for "$work/follow_bob.err" "synced" 10
make_lines "a2b online" >"$work/a2b_on.in"
make_lines "b2a online" >"$work/b2a_on.in"
rm -f "$work/fifo_a" "$work/fifo_b"
mkfifo "$work/fifo_a" "$work/fifo_b"
"$ward" chat bob --user alice <"$work/fifo_a" >"$work/chat_a.out" 2>"$work/chat_a.err" &
chat_a=$!; bg_pids+=($chat_a)
"$ward" chat alice --user bob <"$work/fifo_b" >"$work/chat_b.out" 2>"$work/chat_b.err" &
chat_b=$!; bg_pids+=($chat_b)
exec 6>"$work/fifo_a" 7>"$work/fifo_b"
# Only once connected, so that every send goes over the WebSocket.
check "alice's chat connected" wait_for "$work/chat_a.err" "* connected" 10
check "bob's chat connected" wait_for "$work/chat_b.err" "* connected" 10
posts_before=$(grep -c '"method":"POST","path":"/v1/messages"' "$work/server.log")
cat "$work/a2b_on.in" >&6 & feed_a=$!
cat "$work/b2a_on.in" >&7 & feed_b=$!
wait "$feed_a" "$feed_b"
exec 6>&- 7>&-
wait "$chat_a"; rc_a=$?
wait "$chat_b"; rc_b=$?
check "online chat alice exits 0 ($rc_a): $(grep -v '^\* connected' "$work/chat_a.err" | head -3)" [ "$rc_a" -eq 0 ]
check "online chat bob exits 0 ($rc_b): $(grep -v '^\* connected' "$work/chat_b.err" | head -3)" [ "$rc_b" -eq 0 ]
check "the online sends went over the WebSocket, not POST /v1/messages" \
  [ "$(grep -c '"method":"POST","path":"/v1/messages"' "$work/server.log")" -eq "$posts_before" ]
shown_all() { # follower output, chat output, sender: all 100 arrived
  local i
  for ((i = 0; i < 300; i++)); do
    [ "$(cat "$1" "$2" | grep -c "^\[[0-9]*\] $3: ")" -ge 100 ] && return 0
    sleep 0.05
  done
  return 1
}
check "bob's processes show all of alice's" \
  shown_all "$work/follow_bob.out" "$work/chat_b.out" alice
check "alice's processes show all of bob's" \
  shown_all "$work/follow_alice.out" "$work/chat_a.out" bob
sleep 0.3
for pair in "bob alice a2b_on chat_b" "alice bob b2a_on chat_a"; do
  set -- $pair
  got=$(cat "$work/follow_$1.out" "$work/$4.out" | sed 's/^\[[0-9]*\] //' | sort)
  if [ "$got" = "$(expect_from "$2" "$work/$3.in" | sort)" ]; then ok
  else bad "$1 online: not each of the 100 once, exact ($(echo "$got" | grep -c .) lines)"
       diff <(expect_from "$2" "$work/$3.in" | sort) <(echo "$got") | cut -c1-120 | head -5; fi
  check "$1 online: the follower's in order" in_order "$work/follow_$1.out" "${3%_on} online"
  check "$1 online: the chat's in order" in_order "$work/$4.out" "${3%_on} online"
  check "$1 online: nothing undecryptable" \
    [ "$(cat "$work/follow_$1.out" "$work/$4.out" | grep -c 'malformed')" -eq 0 ]
done
for u in alice bob; do
  eval "p=\$follow_$u"
  kill -INT "$p"; wait "$p"
  check "$u's follower stops on ^C with 0" [ $? -eq 0 ]
done
bg_pids=()
echo "test_chat: messages done ($(elapsed))"

# ---------------------------------------------------------------------
# 3. Images: byte for byte, 0600, where --save-dir says; the server never
# holds the image, the caption or the file name in the clear.
marker="WARDIMGMARKER"  # inside every test image, never in what the server keeps
# A 2x2 PNG with a tEXt chunk "Comment: WARDIMGMARKER-5f1d2c" (CRCs valid).
printf '\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x02\x00\x00\x00\x02\x08\x02\x00\x00\x00\xfd\xd4\x9a\x73\x00\x00\x00\x1c\x74\x45\x58\x74\x43\x6f\x6d\x6d\x65\x6e\x74\x00\x57\x41\x52\x44\x49\x4d\x47\x4d\x41\x52\x4b\x45\x52\x2d\x35\x66\x31\x64\x32\x63\x31\x79\x79\xe4\x00\x00\x00\x10\x49\x44\x41\x54\x78\xda\x63\xf8\xcf\xc0\x00\x44\x0c\x10\x0a\x00\x1f\xee\x03\xfd\x63\x5e\xbb\x5b\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82' >"$work/small.png"
# An 8x8 baseline JPEG (JFIF, a comment with the marker, one flat block).
{ printf '\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00'
  printf '\xff\xfe\x00\x16WARDIMGMARKER-jpeg01\xff\xdb\x00\x43\x00'
  head -c 64 /dev/zero | tr '\0' '\1'
  printf '\xff\xc0\x00\x0b\x08\x00\x08\x00\x08\x01\x01\x11\x00'
  printf '\xff\xc4\x00\x14\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00'
  printf '\xff\xc4\x00\x14\x10\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00'
  printf '\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00\x3f\xff\xd9'; } >"$work/photo.jpg"
fill() { # bytes: random, with the marker at the start, near 64 KiB and at the end
  { printf '%s' "$marker-fill-head"; head -c 65500 /dev/urandom
    printf '%s' "$marker-fill-chunk"; head -c $(($1 - 65500 - 3 * 22)) /dev/urandom
    printf '%s' "$marker-fill-tail-x"; } | head -c "$1"
}
# ~5 MB (80 chunks, the last one short) and exactly 3 x 65536 bytes (the
# last chunk full): a PNG followed by data, as a PNG may carry after IEND.
{ cat "$work/small.png"; fill $((5 * 1000 * 1000 + 12345 - 113)); } >"$work/big.png"
{ cat "$work/small.png"; fill $((3 * 65536 - 113)); } >"$work/exact.png"
check "the big image is 5012345 bytes" [ "$(stat -c %s "$work/big.png")" -eq 5012345 ]
check "the exact image is 196608 bytes" [ "$(stat -c %s "$work/exact.png")" -eq 196608 ]
for f in photo.jpg small.png big.png exact.png; do
  check "$f carries the marker (or its absence on the server proves nothing)" \
    grep -qa "$marker" "$work/$f"
done
caption="caption-$RANDOM$RANDOM-secret"
for f in photo.jpg small.png big.png exact.png; do
  "$ward" send bob --image "$work/$f" "$caption $f" --user alice >"$work/out" 2>"$work/err"
  check "send --image $f: $(cat "$work/err")" grep -q "^sent the image to bob (message [0-9]*)$" "$work/out"
done
save="$work/saved/here"  # two levels, neither there yet
"$ward" recv --user bob --save-dir "$save" >"$work/img.out" 2>"$work/err"
rc=$?; check "recv with images exits 0: $(cat "$work/err")" [ $rc -eq 0 ]
check "recv with images: 8 lines" [ "$(wc -l <"$work/img.out")" -eq 8 ]
for f in photo.jpg small.png big.png exact.png; do
  size=$(stat -c %s "$work/$f")
  type=image/png; [ "$f" = photo.jpg ] && type=image/jpeg
  check "$f: its caption shown" grep -qxE "\[[0-9]+\] alice: $caption $f" "$work/img.out"
  line=$(grep -E "^\[[0-9]+\] alice: \[image $type, $size bytes, saved to $save/[0-9]+-$f\]$" "$work/img.out")
  if [ -n "$line" ]; then ok; else bad "$f: no '[image $type, $size bytes, saved to ...]' line"; fi
  path=${line##*saved to }; path=${path%]}
  check "$f arrived byte for byte" cmp -s "$work/$f" "$path"
  check "$f saved 0600" [ "$(stat -c %a "$path" 2>/dev/null)" = 600 ]
done
check "the save folder was made 0700" [ "$(stat -c %a "$save")" = 700 ]
check "no partial files left in the save folder" no_part_files "$save"
# The sender names the file: what it is saved as is made safe, and a
# name already taken (a file, or a symlink planted there) is left alone.
# An image that cannot be saved now (its folder cannot be made) is kept,
# key and all, and the next recv saves it; the message is not shown twice.
"$ward" send bob --image "$work/small.png" "later $caption" --user alice >/dev/null 2>&1
"$ward" recv --user bob --save-dir /proc/ward-no-such-dir >"$work/defer1.out" 2>&1
check "deferred: the caption is shown" grep -qxE "\[[0-9]+\] alice: later $caption" "$work/defer1.out"
check "deferred: the image is reported as not downloaded yet" \
  grep -qE "^\[[0-9]+\] alice: \[image not saved: not downloaded yet \(.*\); it is tried again at the next ward recv\]$" "$work/defer1.out"
"$ward" recv --user bob --save-dir "$work/later" >"$work/defer2.out" 2>&1
check "deferred: the next recv saves it: $(cat "$work/defer2.out")" \
  grep -qE "^\[[0-9]+\] alice: \[image image/png, $(stat -c %s "$work/small.png") bytes, saved to $work/later/[0-9]+-small.png\]$" "$work/defer2.out"
check "deferred: byte-identical" cmp -s "$work/small.png" "$(ls "$work"/later/*-small.png 2>/dev/null | head -1)"
check "deferred: the caption is not shown again" eval "! grep -q 'later $caption' '$work/defer2.out'"
"$ward" recv --user bob --save-dir "$work/later" >"$work/defer3.out" 2>&1
check "deferred: settled, not tried a third time" eval "! grep -q 'image' '$work/defer3.out'"
odd="$work/my photo; rm -rf ~ (1).png"
cp "$work/small.png" "$odd"
cp "$work/small.png" "$work/.hidden.png"
n1=$("$ward" send bob --image "$odd" --user alice 2>/dev/null | sed -n 's/.*(message \([0-9]*\))$/\1/p')
n2=$("$ward" send bob --image "$work/.hidden.png" --user alice 2>/dev/null | sed -n 's/.*(message \([0-9]*\))$/\1/p')
echo "not an image" >"$work/victim"
echo "planted" >"$save/$n1-my_photo__rm_-rf____1_.png"
ln -s "$work/victim" "$save/$n2-hidden.png"
"$ward" recv --user bob --save-dir "$save" >"$work/out" 2>/dev/null
check "an odd file name is saved made safe, beside the planted file" \
  cmp -s "$work/small.png" "$save/$n1-1-my_photo__rm_-rf____1_.png"
check "... the planted file untouched" [ "$(cat "$save/$n1-my_photo__rm_-rf____1_.png")" = planted ]
check "a leading dot is dropped, and a planted symlink is not followed" \
  cmp -s "$work/small.png" "$save/$n2-1-hidden.png"
check "... its target untouched" [ "$(cat "$work/victim")" = "not an image" ]
# Without --save-dir: 'attachments' beside the state file. Through the
# live path too: `ward chat`'s /image and `ward recv --follow`.
"$ward" send bob --image "$work/small.png" --user alice >/dev/null 2>&1
"$ward" recv --user bob >"$work/out" 2>/dev/null
default_dir=$(ls -d "$XDG_DATA_HOME"/ward/*/bob)/attachments
check "the default folder has the image" cmp -s "$work/small.png" "$(ls "$default_dir"/*-small.png 2>/dev/null | head -n 1)"
"$ward" recv --follow --user bob --save-dir "$work/live" >"$work/live.out" 2>"$work/live.err" &
live=$!; bg_pids+=($live)
wait_for "$work/live.err" "synced" 10
printf '/image %s live caption\n' "$work/exact.png" | "$ward" chat bob --user alice >/dev/null 2>"$work/err"
rc=$?; check "chat /image exits 0: $(cat "$work/err")" [ $rc -eq 0 ]
check "the follower saves an image sent from chat" \
  wait_for "$work/live.out" "[image image/png, 196608 bytes, saved to $work/live/" 15
check "... byte for byte" cmp -s "$work/exact.png" "$(ls "$work"/live/*-exact.png 2>/dev/null | head -n 1)"
check "... with its caption" grep -qE '^\[[0-9]+\] alice: live caption$' "$work/live.out"
kill -INT "$live"; wait "$live"; bg_pids=()
sync
check "the server's data holds no image bytes" eval "! grep -rqa '$marker' '$data' '$work/server.log'"
check "the server's data and log hold no caption" eval "! grep -rqa '$caption' '$data' '$work/server.log'"
check "the server's data and log hold no file name" eval "! grep -rqa 'exact.png' '$data' '$work/server.log'"
blobs_in_place() { # every file outside tmp/ is blobs/XX/ID, XX the ID's start
  local f n=0 id
  for f in $(find "$data/blobs" -path "$data/blobs/tmp" -prune -o -type f -print); do
    id=${f##*/}
    [[ $id =~ ^[0-9a-f]{32}$ && $f == "$data/blobs/${id:0:2}/$id" ]] || return 1
    n=$((n + 1))
  done
  [ "$n" -ge 6 ]
}
check "the server keeps the images (encrypted) as blobs/XX/ID" blobs_in_place

# ---------------------------------------------------------------------
# 4. Tampering, expiry, and what --image refuses.
tamper_case() { # description, image, command to run on the blob file
  local what="$1" img="$2"; shift 2
  stamp
  "$ward" send bob --image "$work/$img" "tampered $what" --user alice >/dev/null 2>&1
  local blob; blob=$(newest_blob)
  if [ -z "$blob" ]; then bad "$what: no blob stored"; return; fi
  "$@" "$blob"
  rm -rf "$work/tsave"
  "$ward" recv --user bob --save-dir "$work/tsave" >"$work/out" 2>"$work/err"
  local rc=$?; check "$what: recv exits 0: $(cat "$work/err")" [ $rc -eq 0 ]
  check "$what: the caption still shown" grep -qE "^\[[0-9]+\] alice: tampered $what$" "$work/out"
  if grep -qE "^\[[0-9]+\] alice: \[image not saved: the attachment was altered or truncated: not the one that was sent\]$" "$work/out"; then ok
  else bad "$what: not reported as not saved: $(cat "$work/out")"; fi
  check "$what: nothing in the save folder" [ -z "$(ls -A "$work/tsave" 2>/dev/null)" ]
}
flip_byte() { # a byte inside the second chunk
  local b; b=$(od -An -tu1 -j 100000 -N 1 "$1" | tr -d ' ')
  printf "\\$(printf '%03o' $(((b ^ 1) & 255)))" |
    dd of="$1" bs=1 seek=100000 count=1 conv=notrunc 2>/dev/null
}
flip_last() { # the final chunk's tag
  local n b; n=$(($(stat -c %s "$1") - 1))
  b=$(od -An -tu1 -j "$n" -N 1 "$1" | tr -d ' ')
  printf "\\$(printf '%03o' $(((b ^ 128) & 255)))" |
    dd of="$1" bs=1 seek="$n" count=1 conv=notrunc 2>/dev/null
}
tamper_case "a flipped byte" big.png flip_byte
tamper_case "a flipped last byte" exact.png flip_last
tamper_case "a truncated blob" big.png truncate -s 3000000
tamper_case "a blob cut at a chunk boundary" exact.png truncate -s $((24 + 2 * (65536 + 17)))
tamper_case "a blob with bytes appended" exact.png sh -c 'printf xyz >>"$0"'

# Not images: refused with 1, nothing uploaded, nothing sent.
printf 'just some text\n' >"$work/notes.png"
printf 'BMW is a car brand, not a bitmap\n' >"$work/bmw.bmp"
: >"$work/empty.jpg"
blobs_before=$(blob_files)
for f in notes.png bmw.bmp empty.jpg missing.png; do
  "$ward" send bob --image "$work/$f" "should not go" --user alice >"$work/out" 2>"$work/err"
  rc=$?; check "--image $f: exit 1 ($(cat "$work/err"))" [ $rc -eq 1 ]
done
"$ward" send bob --image "$work" "a folder" --user alice >/dev/null 2>&1
check "--image on a folder: exit 1" [ $? -eq 1 ]
check "nothing uploaded for the refused files" [ "$(blob_files)" -eq "$blobs_before" ]
"$ward" recv --user bob >"$work/out" 2>&1
check "nothing sent for the refused files" [ "$(cat "$work/out")" = "no new messages" ]

# Expiry (--attachment-ttl 2s), and --max-attachment from the client.
kill_server TERM
check "SIGTERM stops the server with 0" [ "$stop_rc" -eq 0 ]
start_server "$port" --attachment-ttl 2s --max-attachment 1MiB
stamp
"$ward" send bob --image "$work/small.png" "expiring" --user alice >/dev/null 2>"$work/err"
rc=$?; check "send before expiry: $(cat "$work/err")" [ $rc -eq 0 ]
expired_blob=$(newest_blob)
"$ward" send bob --image "$work/big.png" "too big" --user alice >/dev/null 2>"$work/err"
check "an image over --max-attachment: exit 1" [ $? -eq 1 ]
check "... with the server's reason" grep -q "attachment_too_large" "$work/err"
sleep 2.2
rm -rf "$work/tsave"
"$ward" recv --user bob --save-dir "$work/tsave" >"$work/out" 2>/dev/null
check "an expired attachment is reported as expired" \
  grep -qxE '\[[0-9]+\] alice: \[image not saved: the attachment expired on the server\]' "$work/out"
check "... and the too-big one was never sent" [ "$(grep -c 'too big' "$work/out")" -eq 0 ]
check "... nothing saved" [ -z "$(ls -A "$work/tsave" 2>/dev/null)" ]
kill_server TERM
start_server "$port"
if [ -n "$expired_blob" ] && [ ! -e "$expired_blob" ]; then ok
else bad "the expired blob's file ('$expired_blob') is not deleted by the restarted server"; fi
echo "test_chat: images done ($(elapsed))"

# ---------------------------------------------------------------------
# 5. The attachment endpoints with curl: refusals, bad ids, oversize,
# broken-off uploads; nothing stored, and the server stays up.
login() { # user: a token
  curl -s -X POST -H 'Content-Type: application/json' \
    -d "{\"username\":\"$1\",\"password\":\"password-of-$1\"}" "$url/v1/sessions" |
    sed -n 's/.*"token":"\([^"]*\)".*/\1/p'
}
token=$(login carol)
check "carol logs in with curl" [ -n "$token" ]
req() { # method path [curl args...]: status on stdout, body in $work/body
  local m="$1" p="$2"; shift 2
  curl -s -o "$work/body" -w '%{http_code}' -X "$m" "$@" "$url$p"
}
is_json_error() { grep -q "^{\"error\":{\"code\":\"$1\",\"message\":\"" "$work/body"; }
expect_error() { # description, status, code, method, path, [curl args...]
  local what="$1" want="$2" code="$3"; shift 3
  local got; got=$(req "$@")
  if [ "$got" = "$want" ] && is_json_error "$code"; then ok
  else bad "$what: $got $(head -c 200 "$work/body"), wanted $want $code"; fi
}
auth=(-H "Authorization: Bearer $token")
blobs_before=$(blob_files)
expect_error "upload without a token" 401 unauthorized POST /v1/attachments --data-binary @"$work/big.png"
expect_error "upload with a bad token" 401 unauthorized POST /v1/attachments \
  -H "Authorization: Bearer wt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" --data-binary @"$work/small.png"
expect_error "upload with Basic auth" 401 unauthorized POST /v1/attachments \
  -H "Authorization: Basic Y2Fyb2w6cGFzc3dvcmQ=" --data-binary @"$work/small.png"
expect_error "upload chunked" 411 length_required POST /v1/attachments "${auth[@]}" \
  -H "Transfer-Encoding: chunked" --data-binary @"$work/small.png"
expect_error "upload of nothing" 400 empty_attachment POST /v1/attachments "${auth[@]}" -H "Content-Length: 0"
check "refused uploads store nothing" [ "$(blob_files)" -eq "$blobs_before" ]
check "refused uploads leave tmp/ empty" [ "$(tmp_files)" -eq 0 ]
st=$(req POST /v1/attachments "${auth[@]}" --data-binary @"$work/exact.png")
id=$(sed -n 's/.*"id":"\([0-9a-f]\{32\}\)".*/\1/p' "$work/body")
if [ "$st" = 201 ] && [ -n "$id" ]; then ok
else bad "an upload with a token is not stored: $st $(head -c 100 "$work/body")"; fi
check "... as blobs/XX/ID, the bytes as sent" cmp -s "$work/exact.png" "$data/blobs/${id:0:2}/$id"
expect_error "download without a token" 401 unauthorized GET "/v1/attachments/$id"
expect_error "download with a bad token" 401 unauthorized GET "/v1/attachments/$id" \
  -H "Authorization: Bearer wt_nope"
st=$(req GET "/v1/attachments/$id" -H "Authorization: Bearer $(login bob)")
if [ "$st" = 200 ] && cmp -s "$work/exact.png" "$work/body"; then ok
else bad "download by another account: $st, or not the bytes uploaded"; fi
upper=$(echo "$id" | tr a-f A-F)
expect_error "an uppercase id" 400 invalid_id GET "/v1/attachments/$upper" "${auth[@]}"
expect_error "a 31-digit id" 400 invalid_id GET "/v1/attachments/${id:0:31}" "${auth[@]}"
expect_error "a 33-digit id" 400 invalid_id GET "/v1/attachments/${id}0" "${auth[@]}"
expect_error "a non-hex id" 400 invalid_id GET "/v1/attachments/$(printf 'g%.0s' $(seq 32))" "${auth[@]}"
expect_error "an unknown id" 404 not_found GET "/v1/attachments/0123456789abcdef0123456789abcdef" "${auth[@]}"
for p in "/v1/attachments/../x" "/v1/attachments/..%2f..%2fward.db" "/v1/attachments/%2e%2e/ward.db" \
         "/v1/attachments/tmp" "/v1/attachments/${id:0:2}%2f$id"; do
  st=$(req GET "$p" --path-as-is "${auth[@]}")
  if { [ "$st" = 400 ] || [ "$st" = 404 ]; } && is_json_error '[a-z_]*'; then ok
  else bad "GET $p: $st $(head -c 120 "$work/body")"; fi
done
expect_error "DELETE an attachment" 405 method_not_allowed DELETE "/v1/attachments/$id" "${auth[@]}"
expect_error "PUT an attachment" 405 method_not_allowed PUT "/v1/attachments" "${auth[@]}" --data-binary x

# Raw HTTP, to control what is sent and when.
raw_open() { exec 5<>"/dev/tcp/127.0.0.1/$port"; }
raw_status() { # the status line, within 3 s (the server answers before the body)
  local line=""
  IFS= read -r -t 3 line <&5
  echo "${line%$'\r'}"
}
raw_open
printf 'POST /v1/attachments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n' \
  "$token" $((8 * 1024 * 1024 + 1)) >&5
st=$(raw_status); exec 5>&-
check "over --max-attachment: 413 before any body byte (got '$st')" [ "$st" = "HTTP/1.1 413 Request Entity Too Large" ]
raw_open
printf 'POST /v1/attachments HTTP/1.1\r\nHost: x\r\nContent-Length: 4000000\r\n\r\n' >&5
st=$(raw_status); exec 5>&-
check "no token: 401 before any body byte (got '$st')" [ "$st" = "HTTP/1.1 401 Unauthorized" ]
# A Content-Length larger than what comes, then the client goes away.
raw_open
printf 'POST /v1/attachments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 300000\r\n\r\n' "$token" >&5
head -c 150000 /dev/urandom >&5
for _ in $(seq 1 40); do [ "$(tmp_files)" -eq 1 ] && break; sleep 0.05; done
check "an upload in progress is in tmp/" [ "$(tmp_files)" -eq 1 ]
exec 5>&-
for _ in $(seq 1 40); do [ "$(tmp_files)" -eq 0 ] && break; sleep 0.05; done
check "an upload broken off leaves tmp/ empty" [ "$(tmp_files)" -eq 0 ]
# The same, the client half-closing (it says it is done sending).
raw_open
{ printf 'POST /v1/attachments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 300000\r\n\r\n' "$token"
  head -c 1000 /dev/urandom; } >&5
sleep 0.2; exec 5>&-
sleep 0.3
check "a short upload leaves tmp/ empty" [ "$(tmp_files)" -eq 0 ]
check "broken-off uploads store nothing" [ "$(blob_files)" -eq $((blobs_before + 1)) ]
# Expect: 100-continue (curl sends it for bodies over 1 MiB): an upload
# the server takes should get "100 Continue" at once, or the client waits
# (curl: a second) before it sends the body.
raw_open
printf 'POST /v1/attachments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 2000000\r\nExpect: 100-continue\r\n\r\n' "$token" >&5
line=""; IFS= read -r -t 1 line <&5; exec 5>&-
check "an upload with 'Expect: 100-continue' gets '100 Continue' at once (got '${line%$'\r'}')" \
  [ "${line%$'\r'}" = "HTTP/1.1 100 Continue" ]
for _ in $(seq 1 40); do [ "$(tmp_files)" -eq 0 ] && break; sleep 0.05; done
# Uploads are rate limited per account (50 at once, then 100 a minute):
# the refused one stores nothing.
curl -s -o /dev/null -X POST -H 'Content-Type: application/json' \
  -d '{"username":"dave","password":"password-of-dave","birth_date":"1990-01-01"}' "$url/v1/accounts"
dave=(-H "Authorization: Bearer $(login dave)")
blobs_before=$(blob_files)
n_ok=0 st=""
t0=$(date +%s%N)
for _ in $(seq 1 90); do
  st=$(req POST /v1/attachments "${dave[@]}" --data-binary @"$work/small.png")
  [ "$st" = 201 ] || break
  n_ok=$((n_ok + 1))
done
# The bucket refills at 100 a minute while the loop runs (seconds on a
# loaded machine): allow what refilled, plus one.
elapsed_ms=$((($(date +%s%N) - t0) / 1000000))
n_max=$((50 + elapsed_ms * 100 / 60000 + 1))
if [ "$st" = 429 ] && is_json_error rate_limited && [ "$n_ok" -ge 50 ] && [ "$n_ok" -le "$n_max" ]; then ok
else bad "upload rate limit: $n_ok stored (at most $n_max in ${elapsed_ms} ms), then $st $(head -c 100 "$work/body")"; fi
check "a rate-limited upload stores nothing" [ "$(blob_files)" -eq $((blobs_before + n_ok)) ]
check "the server is still up" [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")" = 200 ]
"$ward" send bob "still works after the bad uploads" --user carol >/dev/null 2>&1 &&
  "$ward" recv --user bob 2>/dev/null | grep -qE '^\[[0-9]+\] carol: still works after the bad uploads$'
check "other clients still work" [ $? -eq 0 ]
echo "test_chat: endpoints done ($(elapsed))"

# ---------------------------------------------------------------------
# 6. Reconnects: a follower rides out kill -9 and SIGTERM restarts on the
# same port and data; what the server acknowledged before a kill arrives
# exactly once.
"$ward" recv --follow --user bob --save-dir "$work/fsave" >"$work/f.out" 2>"$work/f.err" &
follower=$!; bg_pids+=($follower)
check "the follower synced" wait_for "$work/f.err" "synced" 10
kill_server KILL
start_server "$port"
for i in 1 2 3; do "$ward" send bob "after kill -9 $i" --user alice >/dev/null 2>&1 || bad "send after kill -9 $i"; done
check "the follower is back after kill -9" wait_for "$work/f.out" "alice: after kill -9 3" 35
st=$(req GET "/v1/attachments/$id" "${auth[@]}")
if [ "$st" = 200 ] && cmp -s "$work/exact.png" "$work/body"; then ok
else bad "an acknowledged upload is not there after kill -9: $st"; fi
for i in 1 2 3; do check "after kill -9 $i shown once" shown_once "$work/f.out" "alice: after kill -9 $i"; done
kill_server TERM
check "SIGTERM with a follower connected: exit 0" [ "$stop_rc" -eq 0 ]
start_server "$port"
for i in 1 2 3; do "$ward" send bob "after SIGTERM $i" --user alice >/dev/null 2>&1 || bad "send after SIGTERM $i"; done
check "the follower is back after SIGTERM" wait_for "$work/f.out" "alice: after SIGTERM 3" 35
for i in 1 2 3; do check "after SIGTERM $i shown once" shown_once "$work/f.out" "alice: after SIGTERM $i"; done
check "the follower said why it was cut off" \
  grep -qF "ward: disconnected: the server closed (1001 server shutting down)" "$work/f.err"
# Acknowledged by the server while the follower is frozen, then kill -9.
kill -STOP "$follower"
: >"$work/acked"
for i in 1 2 3 4 5; do
  "$ward" send bob "acked before the kill $i" --user alice 2>/dev/null | grep -q '^sent to bob' && echo "$i" >>"$work/acked"
done
check "5 sends acknowledged" [ "$(wc -l <"$work/acked")" -eq 5 ]
# And a burst cut by kill -9, with an upload half done.
raw_open
printf 'POST /v1/attachments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 300000\r\n\r\n' "$token" >&5
head -c 100000 /dev/urandom >&5
( for i in $(seq 1 40); do
    "$ward" send bob "burst $i" --user alice 2>/dev/null | grep -q '^sent to bob' && echo "$i"
  done >"$work/burst_acked" ) &
burst=$!
# Kill once a few are acknowledged (a fixed delay may see none on a
# loaded machine).
for _ in $(seq 1 200); do
  [ "$(wc -l <"$work/burst_acked" 2>/dev/null || echo 0)" -ge 3 ] && break
  sleep 0.05
done
check "a half-done upload is in tmp/ at the kill" [ "$(tmp_files)" -eq 1 ]
kill_server KILL
exec 5>&-
wait "$burst"
start_server "$port"
check "the restarted server empties tmp/" [ "$(tmp_files)" -eq 0 ]
synced_before=$(grep -c '^ward: synced$' "$work/f.err")
kill -CONT "$follower"
check "the frozen follower gets what was acknowledged" \
  wait_for "$work/f.out" "alice: acked before the kill 5" 35
for i in 1 2 3 4 5; do check "acked before the kill $i shown once" shown_once "$work/f.out" "alice: acked before the kill $i"; done
last=$(tail -n 1 "$work/burst_acked")
if [ -n "$last" ]; then
  check "the burst's acknowledged messages arrive" wait_for "$work/f.out" "alice: burst $last" 35
  missing=0
  while read -r i; do shown_once "$work/f.out" "alice: burst $i" || missing=$((missing + 1)); done <"$work/burst_acked"
  check "each acknowledged burst message shown exactly once ($missing not)" [ "$missing" -eq 0 ]
else
  bad "no burst message was acknowledged before the kill"
fi
check "the follower showed nothing twice" \
  [ -z "$(sed 's/^\[[0-9]*\] //' "$work/f.out" | sort | uniq -d)" ]
check "the follower's ids increase" ids_increase "$work/f.out"
synced_again() { for _ in $(seq 1 100); do
  [ "$(grep -c '^ward: synced$' "$work/f.err")" -gt "$synced_before" ] && return 0
  sleep 0.1; done; return 1; }
check "the follower synced again after the kill" synced_again
check "the follower is still running" kill -0 "$follower"
kill -INT "$follower"; wait "$follower"
check "the follower stops with 0" [ $? -eq 0 ]
bg_pids=()
"$ward" recv --user bob >"$work/out" 2>&1
check "the follower left nothing behind: $(head -c 200 "$work/out")" \
  [ "$(cat "$work/out")" = "no new messages" ]
echo "test_chat: reconnects done ($(elapsed))"

# ---------------------------------------------------------------------
# 7. Chat on a terminal (util-linux script gives it a pseudo-terminal).
# Anything still queued (a burst send the kill cut off may have been
# stored without its answer) is read now, so that only the typed lines come.
"$ward" recv --user alice >/dev/null 2>&1
"$ward" recv --user bob >/dev/null 2>&1
rm -f "$work/tty.in"; mkfifo "$work/tty.in"
SHELL=/bin/sh timeout 40 script -qfec \
  "stty -g; '$ward' chat bob --user alice; echo chat-rc=\$?; stty -g" /dev/null \
  <"$work/tty.in" >"$work/tty.raw" 2>&1 &
tty_pid=$!; bg_pids+=($tty_pid)
exec 5>"$work/tty.in"
check "chat starts on a terminal" wait_for "$work/tty.raw" "chatting with bob" 10
wait_for "$work/tty.raw" "* connected" 10
printf 'hello from a terminal\r' >&5
check "a typed line is echoed as sent" wait_for "$work/tty.raw" "[you] hello from a terminal" 10
printf 'half typ' >&5
wait_for "$work/tty.raw" "> half typ" 5
"$ward" send alice "incoming while typing" --user bob >/dev/null 2>&1
check "a message arrives while typing" wait_for "$work/tty.raw" "bob: incoming while typing" 10
sleep 0.3
raw=$(cat "$work/tty.raw")
check "the half-typed line is cleared for the message" \
  grep -qF "$(printf '> half typ\r\033[K[')" "$work/tty.raw"
after=${raw#*bob: incoming while typing}
check "the message is on a line of its own" [ "${after:0:2}" = $'\r\n' ]
after=${after#*> }
check "the half-typed line is drawn again after it" [ "${after:0:8}" = "half typ" ]
printf 'ed\r' >&5
wait_for "$work/tty.raw" "[you] half typed" 10
# Backspace over é (2 bytes), then over 🙂 (4) and € (3).
printf 'caf\xc3\xa9\x7fe! x\xe2\x82\xac\xf0\x9f\x99\x82\x7f\x7fy\r' >&5
check "backspace over UTF-8" wait_for "$work/tty.raw" "[you] cafe! xy" 10
printf '\004' >&5
wait "$tty_pid"; bg_pids=()
exec 5>&-
tr -d '\r' <"$work/tty.raw" >"$work/tty.txt"
check "^D leaves with 0: $(grep chat-rc "$work/tty.txt")" grep -q 'chat-rc=0$' "$work/tty.txt"
modes=$(grep -E '^[0-9a-f]+(:[0-9a-f]+){10,}$' "$work/tty.txt")
if [ "$(echo "$modes" | wc -l)" -eq 2 ] && [ "$(echo "$modes" | sort -u | wc -l)" -eq 1 ]; then ok
else bad "the terminal mode is not restored: $modes"; fi
"$ward" recv --user bob >"$work/out" 2>/dev/null
got=$(sed 's/^\[[0-9]*\] //' "$work/out")
if [ "$got" = "$(printf 'alice: hello from a terminal\nalice: half typed\nalice: cafe! xy')" ]; then ok
else bad "bob does not get the three typed lines, exactly: $got"; fi
# What the peer sends cannot drive the terminal or forge a line.
"$ward" send alice "$(printf 'evil\n[999] carol: forged \033]0;title\007\033[2J\rX')" --user bob >/dev/null 2>&1
"$ward" recv --user alice >"$work/out" 2>/dev/null
check "no escape byte reaches the terminal" eval "! grep -q \$'\\033' '$work/out'"
check "no forged line" eval "! grep -q '^\[999\]' '$work/out'"
check "the text is shown, made visible" grep -qF '[999] carol: forged ^[]0;title^G^[[2J^MX' "$work/out"

echo "test_chat: $pass passed, $fail failed, $known known server bugs ($(elapsed))"
[ "$fail" -eq 0 ]
