#!/usr/bin/env bash
# `ward admin`: moderators for the console, on a fresh data directory.
# Exit codes 0 done, 1 failed, 2 usage; weak, empty and mismatched input
# is refused and changes nothing.
set -u
ward="$1"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
data="$work/data"
pass=0 fail=0
check() { # description, expected exit code, command...
  local what="$1" want="$2"; shift 2
  "$@" >"$work/out" 2>&1
  local got=$?
  if [ "$got" -eq "$want" ]; then pass=$((pass + 1))
  else fail=$((fail + 1)); echo "FAIL: $what: exit $got, wanted $want"; cat "$work/out"; fi
}
has() { # description, pattern (in the last command's output)
  if grep -q -- "$2" "$work/out"; then pass=$((pass + 1))
  else fail=$((fail + 1)); echo "FAIL: $1: output lacks '$2'"; cat "$work/out"; fi
}
add() { # password, args... (the password on standard input)
  local pw="$1"; shift
  printf '%s\n' "$pw" | "$ward" admin add-moderator "$@" --data "$data"
}

check "help admin" 0 "$ward" help admin
has "help admin shows usage" "usage: ward admin add-moderator"
check "admin --help" 0 "$ward" admin --help
check "--help lists admin" 0 "$ward" --help
has "--help lists admin" "admin"
check "no subcommand" 2 "$ward" admin
check "unknown subcommand" 2 "$ward" admin frobnicate
check "add without a name" 2 add 'long enough password'
check "a bad name" 2 add 'long enough password' 'Bad Name'
check "a bad role" 2 add 'long enough password' olga --role boss
check "an empty password" 2 add '' olga
check "a short password" 2 add 'short pw' olga
has "says why" "at least 12 characters"
check "a password holding the name" 2 add 'olga-olga-olga-1' olga
check "no input at all" 2 sh -c "'$ward' admin add-moderator olga --data '$data' </dev/null"
check "nothing was created" 1 "$ward" admin list-moderators --data "$data"
check "add an admin from stdin" 0 add 'admin pass phrase 1' olga --role admin
has "reports the admin" "added admin 'olga'"
check "add a moderator from WARD_PASSWORD" 0 env WARD_PASSWORD='moderator phrase 2' \
  "$ward" admin add-moderator max --data "$data"
check "the same name again" 1 add 'another pass phrase' max
check "list" 0 "$ward" admin list-moderators --data "$data"
has "lists olga as admin" "olga *admin *active"
has "lists max as moderator" "max *moderator *active"
check "disable" 0 "$ward" admin disable-moderator max --data "$data"
check "list after disable" 0 "$ward" admin list-moderators --data "$data"
has "max is disabled" "max *moderator *disabled"
check "disable nobody" 1 "$ward" admin disable-moderator nobody --data "$data"
check "enable" 0 "$ward" admin enable-moderator max --data "$data"
check "list after enable" 0 "$ward" admin list-moderators --data "$data"
has "max is active" "max *moderator *active"
check "a missing data directory" 1 "$ward" admin list-moderators --data "$work/none"
[ "$(stat -c %a "$data/ward.db")" = 600 ] && pass=$((pass + 1)) ||
  { fail=$((fail + 1)); echo "FAIL: ward.db is not 0600"; }

echo "test_admin: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
