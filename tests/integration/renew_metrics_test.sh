#!/usr/bin/env bash
# renew --metrics-file against Pebble: per certificate the expiry, the
# planned renewal, the last attempt and whether it worked, kept across runs
# that have nothing to do, and a failed attempt reported as such while the
# last success stays.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_test_init
lab_start_or_die "$TEST_TMP/lab"

m="$TEST_TMP/metrics/bulkhead_renew.prom"
mkdir -p "$(dirname "$m")"
value() {  # value METRIC: the sample of METRIC{name="met"} in the file
  sed -n "s/^$1{name=\"met\"} //p" "$m"
}
run_bh "$TEST_TMP/reg" account register --email admin@example.org --agree-tos
check_eq "account register exits 0" 0 "$RC"
run_bh "$TEST_TMP/i" issue --name met -d met.test --webroot "$LAB_WEBROOT"
check_eq "issue exits 0" 0 "$RC"

run_bh "$TEST_TMP/r1" renew --force --name met --metrics-file "$m"
check_eq "renew --force --metrics-file exits 0" 0 "$RC"
check_eq "the file is readable by a collector (0644)" 644 "$(file_mode "$m")"
na="$(date -d "$(openssl x509 -noout -enddate -in "$(cert_dir met)/live/cert.pem" | cut -d= -f2)" +%s)"
check_eq "it has the live certificate's not-after" "$na" "$(value bulkhead_managed_cert_not_after_seconds | awk '{printf "%d", $1}')"
check "... the planned renewal" test -n "$(value bulkhead_renewal_planned_seconds)"
check_eq "... and a successful last attempt" 1 "$(value bulkhead_renewal_last_attempt_success)"
first="$(value bulkhead_renewal_last_success_seconds)"
check "... with its time" test -n "$first"

run_bh "$TEST_TMP/r2" renew --cron --metrics-file "$m"
check_eq "a run with nothing due exits 0" 0 "$RC"
check_eq "... prints nothing" "" "$(cat "$TEST_TMP/r2.out" "$TEST_TMP/r2.err")"
check_eq "... and still reports the last attempt" 1 "$(value bulkhead_renewal_last_attempt_success)"
check "... and its own run" grep -q "^bulkhead_renew_run_timestamp_seconds " "$m"

# A CA that cannot be verified: the attempt fails, the metric says so.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=other -days 1 \
  -keyout "$TEST_TMP/other.key" -out "$TEST_TMP/other.pem" 2>/dev/null
RC=0
"$BULKHEAD_BIN" --state-dir "$LAB_DIR/state" --server "$LAB_URL" --ca-bundle "$TEST_TMP/other.pem" \
  renew --force --name met --metrics-file "$m" >"$TEST_TMP/r3.out" 2>"$TEST_TMP/r3.err" || RC=$?
check_eq "a failing renewal exits 1" 1 "$RC"
check_eq "the last attempt is reported as failed" 0 "$(value bulkhead_renewal_last_attempt_success)"
check_eq "the last success is still the earlier one" "$first" "$(value bulkhead_renewal_last_success_seconds)"
check "renewal-status.json names the failure" grep -q '"ok": false' "$LAB_DIR/state/renewal-status.json"

lab_finish
