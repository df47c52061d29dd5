#!/usr/bin/env bash
# The ward command's contract: help for every subcommand, exit codes
# 0 success, 1 failure, 2 usage error, and a demo that round-trips.
set -u
ward="$1"
pass=0 fail=0
check() { # description, expected exit code, command...
  local what="$1" want="$2"; shift 2
  "$@" >/tmp/ward_cli_out.$$ 2>&1
  local got=$?
  if [ "$got" -eq "$want" ]; then pass=$((pass + 1))
  else fail=$((fail + 1)); echo "FAIL: $what: exit $got, wanted $want"; cat /tmp/ward_cli_out.$$; fi
}
check_out() { # description, pattern, command...
  local what="$1" pat="$2"; shift 2
  if "$@" 2>&1 | grep -q -- "$pat"; then pass=$((pass + 1))
  else fail=$((fail + 1)); echo "FAIL: $what: output lacks '$pat'"; fi
}

check "no arguments is a usage error" 2 "$ward"
check "--help" 0 "$ward" --help
check "unknown command" 2 "$ward" frobnicate
check "version" 0 "$ward" version
check_out "version prints a version" "^ward [0-9]" "$ward" version
check "help for an unknown command" 2 "$ward" help frobnicate
for cmd in demo account send recv trust help version history follow unfollow \
           block unblock find contacts suggestions privacy report; do
  check "help $cmd" 0 "$ward" help "$cmd"
  check_out "help $cmd shows usage" "usage: ward $cmd" "$ward" help "$cmd"
  check_out "--help lists $cmd" "$cmd" "$ward" --help
done
check "send without arguments" 2 "$ward" send
# The new commands refuse bad usage before opening any state (2).
check "follow without a user" 2 "$ward" follow
check "follow two users" 2 "$ward" follow bob carol --user alice
check "follow a name that cannot be one" 2 "$ward" follow 'Bob!' --user alice
check "block with an unknown option" 2 "$ward" block bob --frob --user alice
check "contacts of an unknown list" 2 "$ward" contacts friends --user alice
check "privacy maybe" 2 "$ward" privacy maybe --user alice
check "suggestions --limit 0" 2 "$ward" suggestions --limit 0 --user alice
check "suggestions --limit 101" 2 "$ward" suggestions --limit 101 --user alice
check "report without a reason" 2 "$ward" report bob 42 --user alice
check "report with an unknown reason" 2 "$ward" report bob 42 --reason rude --user alice
check "report with a bad message id" 2 "$ward" report bob 4x2 --reason spam --user alice
check "report with a zero message id" 2 "$ward" report bob 0 --reason spam --user alice
check_out "report names the reasons" "csam, grooming, sexual-harassment, harassment, spam or other" "$ward" report bob --reason rude --user alice
check_out "help report lists csam" "csam (or child-sexual-exploitation)" "$ward" help report
check "account without a verb" 2 "$ward" account
check "account with an unknown verb" 2 "$ward" account frob --user x
check "register without a birth date" 2 "$ward" account register alice
# No server listens on this port: a clear failure (1), not a crash.
tmp=$(mktemp -d)
check "send with no server" 1 env XDG_DATA_HOME="$tmp" "$ward" send bob hi --user alice --server http://127.0.0.1:1
rm -rf "$tmp"
check "demo runs" 0 "$ward" demo --messages 12
check "demo bad option" 2 "$ward" demo --bogus
check "demo bad count" 2 "$ward" demo --messages 0
check_out "demo shows the server's view" "server sees: PreKeySignalMessage" "$ward" demo
check_out "demo shows the text arriving" 'bob reads: "hi bob' "$ward" demo
# The server's view must never contain the plaintext.
if "$ward" demo | grep "server sees" | grep -q "alice"; then
  fail=$((fail + 1)); echo "FAIL: plaintext in the server's view"
else pass=$((pass + 1)); fi
rm -f /tmp/ward_cli_out.$$
echo "test_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
