#!/usr/bin/env bash
# Revocation by the account key and by the certificate's own key, with
# reasons, checked against Pebble's own record of the certificate.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_test_init
lab_start_or_die "$TEST_TMP/lab"

# status_field JSON KEY: a top-level field of Pebble's status JSON.
status_field() {
  python3 -c '
import json, sys
print(json.loads(sys.argv[1]).get(sys.argv[2], ""))' "$1" "$2" 2>/dev/null
}

# check_revoked DESC NAME SERIAL REASONCODE
check_revoked() {
  local desc="$1" serial="$3" reason="$4" js
  js="$(lab_cert_status "$serial")"
  check_eq "$desc: Pebble says Revoked" Revoked "$(status_field "$js" Status)"
  check_eq "$desc: Pebble records reason $reason" "$reason" "$(status_field "$js" Reason)"
}

run_bh "$TEST_TMP/reg" account register --email admin@example.org --agree-tos
check_eq "account register exits 0" 0 "$RC"
for n in rv1 rv2 rv3; do
  run_bh "$TEST_TMP/i-$n" issue --name "$n" -d "$n.test" --webroot "$LAB_WEBROOT"
  check_eq "issue $n exits 0" 0 "$RC"
  [ "$RC" -eq 0 ] || cat "$TEST_TMP/i-$n.err"
done

s1="$(cert_serial "$(cert_dir rv1)/live/cert.pem")"
js="$(lab_cert_status "$s1")"
check_eq "before revocation Pebble says Valid" Valid "$(status_field "$js" Status)"

# By the account key, reason superseded (4).
run_bh "$TEST_TMP/r1" revoke --name rv1 --reason superseded
check_eq "revoke --name rv1 --reason superseded exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/r1.err"
check_revoked "account key, superseded" rv1 "$s1" 4

# By the certificate's own key, reason keyCompromise (1).
s2="$(cert_serial "$(cert_dir rv2)/live/cert.pem")"
run_bh "$TEST_TMP/r2" revoke --name rv2 --with-cert-key --reason keyCompromise
check_eq "revoke --with-cert-key --reason keyCompromise exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/r2.err"
check_revoked "certificate key, keyCompromise" rv2 "$s2" 1

# By the account key, reason keyCompromise.
s3="$(cert_serial "$(cert_dir rv3)/live/cert.pem")"
run_bh "$TEST_TMP/r3" revoke --name rv3 --reason keyCompromise
check_eq "revoke --name rv3 --reason keyCompromise exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/r3.err"
check_revoked "account key, keyCompromise" rv3 "$s3" 1

# Revoking again is an error the CA reports.
run_bh "$TEST_TMP/again" revoke --name rv1 --reason superseded
check_eq "revoking an already revoked certificate exits 1" 1 "$RC"
check "... naming the problem (alreadyRevoked)" grep -qi 'alreadyRevoked' "$TEST_TMP/again.err"

# Unknown reason is bad usage.
run_bh "$TEST_TMP/badreason" revoke --name rv1 --reason nope
check_eq "revoke --reason nope exits 2" 2 "$RC"

lab_finish
