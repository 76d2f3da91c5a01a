#!/usr/bin/env bash
# bulkhead delete: a certificate leaves management in one step, into an
# archive (or for good with --purge); list and renew no longer see it, and
# issue with the same name starts afresh.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_test_init
lab_start_or_die "$TEST_TMP/lab"
ON_TTY="$LAB_LIB_DIR/on_tty.py"

run_bh "$TEST_TMP/reg" account register --email admin@example.org --agree-tos
check_eq "account register exits 0" 0 "$RC"
for n in dl1 dl2 dl3; do
  run_bh "$TEST_TMP/i-$n" issue --name "$n" -d "$n.test" --webroot "$LAB_WEBROOT"
  check_eq "issue $n exits 0" 0 "$RC"
  [ "$RC" -eq 0 ] || cat "$TEST_TMP/i-$n.err"
done
s1="$(cert_serial "$(cert_dir dl1)/live/cert.pem")"

# An unknown name is bad usage, and nothing is created for it.
run_bh "$TEST_TMP/unknown" delete --name nosuch </dev/null
check_eq "delete of an unknown name exits 2" 2 "$RC"
check "... naming it" grep -q 'nosuch' "$TEST_TMP/unknown.err"
check_fails "... and creates no directory for it" test -e "$(cert_dir nosuch)"

# Archive, non-interactive and without --yes: nothing is lost, so it goes.
run_bh "$TEST_TMP/d1" delete --name dl1 </dev/null
check_eq "delete --name dl1 (no terminal) exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/d1.err"
archived="$(ls -d "$LAB_DIR"/state/archive/dl1-*Z 2>/dev/null | head -n1)"
check "... into <state>/archive/dl1-<UTC time>" test -n "$archived"
check_fails "... the certificate directory is gone" test -e "$(cert_dir dl1)"
check_eq "... the archive holds the live certificate" "$s1" \
  "$(cert_serial "$archived/certs/dl1/live/cert.pem")"
check "... the archive holds the key" test -f "$archived/certs/dl1/live/privkey.pem"
check "... says where the files went" grep -qF "$archived/certs/dl1" "$TEST_TMP/d1.out"
check "... warns about servers still configured with them" grep -q 'keeps serving' "$TEST_TMP/d1.out"

run_bh "$TEST_TMP/list" list
check_eq "list exits 0" 0 "$RC"
check_fails "list no longer shows dl1" grep -q '^dl1 ' "$TEST_TMP/list.out"
check "list still shows dl2" grep -q '^dl2 ' "$TEST_TMP/list.out"
run_bh "$TEST_TMP/renew" renew
check_eq "renew exits 0" 0 "$RC"
check_fails "renew no longer sees dl1" grep -q 'dl1' "$TEST_TMP/renew.out" "$TEST_TMP/renew.err"
run_bh "$TEST_TMP/renew1" renew --name dl1
check_eq "renew --name dl1 fails: not managed" 1 "$RC"
check "... saying so" grep -q 'not managed' "$TEST_TMP/renew1.err"
check_fails "... and recreates no directory" test -e "$(cert_dir dl1)/settings.json"

# issue with the same name starts afresh.
run_bh "$TEST_TMP/again" issue --name dl1 -d dl1.test --webroot "$LAB_WEBROOT"
check_eq "issue dl1 again exits 0" 0 "$RC"
check_eq "... as version 1" 1 "$(live_version dl1)"
check_fails "... with a new certificate" test "$s1" = "$(cert_serial "$(cert_dir dl1)/live/cert.pem")"

# A certificate another run holds is refused (exit 1) and left alone.
python3 -c '
import fcntl, sys, time
f = open(sys.argv[1], "a")
fcntl.flock(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(60)' "$(cert_dir dl2)/lock" "$TEST_TMP/locked" &
holder=$!
for _ in $(seq 100); do [ -e "$TEST_TMP/locked" ] && break; sleep 0.05; done
run_bh "$TEST_TMP/busy" delete --name dl2 --yes
check_eq "delete of a locked certificate exits 1" 1 "$RC"
check "... naming the lock" grep -q 'locked by another bulkhead run' "$TEST_TMP/busy.err"
check "... and leaves it managed" test -f "$(cert_dir dl2)/settings.json"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null

# --purge without a terminal needs --yes.
run_bh "$TEST_TMP/p0" delete --name dl2 --purge </dev/null
check_eq "delete --purge without --yes and without a terminal exits 2" 2 "$RC"
check "... naming --yes" grep -q -- '--yes' "$TEST_TMP/p0.err"
check "... and removes nothing" test -f "$(cert_dir dl2)/live/cert.pem"

# On a terminal, the question is asked; "n" changes nothing.
"$ON_TTY" n "$BULKHEAD_BIN" --state-dir "$LAB_DIR/state" delete --name dl2 --purge \
  >"$TEST_TMP/tty-n.out" 2>&1
check_eq "delete --purge on a terminal, answered n, exits 1" 1 "$?"
check "... after asking" grep -q 'for good?' "$TEST_TMP/tty-n.out"
check "... and removes nothing" test -f "$(cert_dir dl2)/live/cert.pem"
"$ON_TTY" y "$BULKHEAD_BIN" --state-dir "$LAB_DIR/state" delete --name dl3 \
  >"$TEST_TMP/tty-y.out" 2>&1
check_eq "delete on a terminal, answered y, exits 0" 0 "$?"
check_fails "... and archives dl3" test -e "$(cert_dir dl3)"
check "... into the archive" test -n "$(ls -d "$LAB_DIR"/state/archive/dl3-*Z 2>/dev/null)"

run_bh "$TEST_TMP/p1" delete --name dl2 --purge --yes </dev/null
check_eq "delete --purge --yes exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/p1.err"
check_fails "... removes the certificate directory" test -e "$(cert_dir dl2)"
check_eq "... and archives nothing of it" "" "$(find "$LAB_DIR/state/archive" -mindepth 1 -maxdepth 1 -name '*dl2*')"
check "... warns that a server's next reload will fail" grep -q 'will fail' "$TEST_TMP/p1.out"

lab_finish
