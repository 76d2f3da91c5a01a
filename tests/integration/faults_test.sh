#!/usr/bin/env bash
# Failure handling: unreachable CA, failed validation, bad usage, and a
# storm of badNonce errors.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_test_init
lab_start_or_die "$TEST_TMP/lab"

# state_snapshot: every file (with content hash) and link under the state
# dir; the lock file's existence is not part of the comparison, nor the
# ledger's SQLite shared-memory index (-shm), which every reader updates.
state_snapshot() {
  (
    cd "$LAB_DIR/state" || exit 1
    # renewal-status.json records the failed attempt itself (for the metrics).
    find . -type f ! -name lock ! -name '*.sqlite-shm' ! -name renewal-status.json -exec sha256sum {} + | sort
    find . -type l -printf '%p -> %l\n' | sort
  )
}

# check_state_unchanged DESC BEFORE: the state dir matches snapshot BEFORE.
check_state_unchanged() {
  local now
  now="$(state_snapshot)"
  if [ "$now" = "$2" ]; then
    ok "$1"
  else
    not_ok "$1" "$(diff <(echo "$2") <(echo "$now") | grep '^[<>]')"
  fi
}

run_bh "$TEST_TMP/reg" account register --email admin@example.org --agree-tos
check_eq "account register exits 0" 0 "$RC"
run_bh "$TEST_TMP/good" issue --name keep -d keep.test --webroot "$LAB_WEBROOT"
check_eq "issue keep exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/good.err"

# --- failed validation ---------------------------------------------------------
serial="$(cert_serial "$(cert_dir keep)/live/cert.pem")"
# Tokens go to a directory nginx does not serve, so http-01 gets a 404.
unserved="$TEST_TMP/unserved"
mkdir -p "$unserved"
run_bh "$TEST_TMP/val" issue --name keep -d keep.test --challenge-dir "$unserved" --force
check_eq "failed validation exits 1" 1 "$RC"
check "... stderr has a 'bulkhead: error:' line" grep -q '^bulkhead: error: ' "$TEST_TMP/val.err"
check "... stderr names the identifier" grep -qF "keep.test" "$TEST_TMP/val.err"
check "... stderr names the problem type" grep -qE 'unauthorized|connection|incorrectResponse' "$TEST_TMP/val.err"
check "... token files removed" test -z "$(find "$unserved" "$LAB_WEBROOT" -type f)"
check_eq "... live certificate unchanged" "$serial" "$(cert_serial "$(cert_dir keep)/live/cert.pem")"
check_eq "... live still version 1" 1 "$(live_version keep)"
run_bh "$TEST_TMP/after" renew --name keep --force
check_eq "renew after the failed issue still uses the good settings" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/after.err"

# Two names where only one can validate: the error names the failing one.
run_bh "$TEST_TMP/val2" issue --name new -d new.test --challenge-dir "$unserved"
check_eq "failed validation of a new certificate exits 1" 1 "$RC"
check "... stderr names new.test" grep -qF "new.test" "$TEST_TMP/val2.err"
check "... no live certificate" test ! -e "$(cert_dir new)/live"
check "... token files removed" test -z "$(find "$unserved" -type f)"

# --- bad usage -----------------------------------------------------------------
run_bh "$TEST_TMP/u1" --no-such-flag list
check_eq "unknown global flag exits 2" 2 "$RC"
run_bh "$TEST_TMP/u2" issue --webroot "$LAB_WEBROOT" --no-such-flag
check_eq "unknown issue flag exits 2" 2 "$RC"
run_bh "$TEST_TMP/u3" issue --webroot "$LAB_WEBROOT"
check_eq "issue without -d exits 2" 2 "$RC"
check "... and says so on stderr" test -s "$TEST_TMP/u3.err"
run_bh "$TEST_TMP/u4" issue -d kt.test --webroot "$LAB_WEBROOT" --key-type nope
check_eq "--key-type nope exits 2" 2 "$RC"
run_bh "$TEST_TMP/u5" issue -d none.test
check_eq "issue without a challenge method exits 2" 2 "$RC"
run_bh "$TEST_TMP/u6" no-such-command
check_eq "unknown command exits 2" 2 "$RC"
check "bad usage creates no certificate dirs" test ! -e "$(cert_dir kt.test)" -a ! -e "$(cert_dir none.test)"

# --- unreachable CA ------------------------------------------------------------
closed="$(python3 "$LAB_LIB_DIR/freeport.py" 1)"
dead="https://127.0.0.1:$closed/dir"
serial="$(cert_serial "$(cert_dir keep)/live/cert.pem")"
bh_dead() {
  RC=0
  "$BULKHEAD_BIN" --state-dir "$LAB_DIR/state" --server "$dead" --ca-bundle "$LAB_CA" "$@" \
    >"$TEST_TMP/dead.out" 2>"$TEST_TMP/dead.err" || RC=$?
  check_no_sanitizer "$TEST_TMP/dead.err" "$*"
}
before="$(state_snapshot)"
bh_dead account register --email admin@example.org --agree-tos
check_eq "register against an unreachable CA exits 1" 1 "$RC"
check "... stderr has a 'bulkhead: error:' line" grep -q '^bulkhead: error: ' "$TEST_TMP/dead.err"
check "... stderr names the URL" grep -qF "127.0.0.1:$closed" "$TEST_TMP/dead.err"
check_state_unchanged "... state dir unchanged" "$before"
before="$(state_snapshot)"
bh_dead issue --name keep -d keep.test --webroot "$LAB_WEBROOT" --force
check_eq "issue against an unreachable CA exits 1" 1 "$RC"
check "... stderr names the URL" grep -qF "127.0.0.1:$closed" "$TEST_TMP/dead.err"
check_state_unchanged "... state dir unchanged" "$before"
check_eq "... live certificate unchanged" "$serial" "$(cert_serial "$(cert_dir keep)/live/cert.pem")"

# renew talks to the CA recorded at issue time: stop that CA.
lab_stop "$LAB_DIR"
before="$(state_snapshot)"
run_bh "$TEST_TMP/rdead" renew --name keep --force
check_eq "renew while the CA is down exits 1" 1 "$RC"
check "... stderr has a 'bulkhead: error:' line" grep -q '^bulkhead: error: ' "$TEST_TMP/rdead.err"
check "... stderr names the URL" grep -qF "${LAB_URL%/dir}" "$TEST_TMP/rdead.err"
check_state_unchanged "... state dir unchanged" "$before"
run_bh "$TEST_TMP/cdead" renew --cron --force
check_eq "renew --cron while the CA is down exits 1" 1 "$RC"
check_eq "... stdout empty" "" "$(cat "$TEST_TMP/cdead.out")"
check "... the error goes to stderr" grep -q '^bulkhead: error: ' "$TEST_TMP/cdead.err"
check_eq "... live certificate unchanged" "$serial" "$(cert_serial "$(cert_dir keep)/live/cert.pem")"

# --- badNonce storm ---------------------------------------------------------------
PEBBLE_WFE_NONCEREJECT=50 lab_start_or_die "$TEST_TMP/nonces"
run_bh "$TEST_TMP/nreg" account register --email admin@example.org --agree-tos
check_eq "badNonce storm: account register exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/nreg.err"
for i in 1 2; do
  run_bh "$TEST_TMP/n$i" -v issue --name "storm$i" -d "storm$i.test" -d "www.storm$i.test" \
    --webroot "$LAB_WEBROOT"
  check_eq "badNonce storm: issue $i exits 0" 0 "$RC"
  [ "$RC" -eq 0 ] || cat "$TEST_TMP/n$i.err"
  check "badNonce storm: certificate $i present" test -s "$(cert_dir "storm$i")/live/fullchain.pem"
done
check "Pebble was rejecting half the nonces" grep -q 'reject 50% of good nonces' "$LAB_DIR/pebble.log"
echo "# nonce retries logged by bulkhead -v: $(cat "$TEST_TMP"/n[12].err | grep -ci nonce)"

lab_finish
