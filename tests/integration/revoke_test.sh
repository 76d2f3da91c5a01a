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
for n in rv1 rv2 rv3 rv4; do
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

# Without --reissue, revoke says renew will leave it, and how to replace it.
check "revoke says renew will not replace it" grep -q 'will not replace it' "$TEST_TMP/r1.out"
check "... naming renew --force" grep -qF 'bulkhead renew --force --name rv1' "$TEST_TMP/r1.out"

# With --reissue (keyCompromise), the next renew replaces it with a new key.
s4="$(cert_serial "$(cert_dir rv4)/live/cert.pem")"
p4="$(cert_pubkey "$(cert_dir rv4)/live/cert.pem")"
run_bh "$TEST_TMP/r4" revoke --name rv4 --reason keyCompromise --reissue
check_eq "revoke --reissue --reason keyCompromise exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/r4.err"
check_revoked "account key, keyCompromise, --reissue" rv4 "$s4" 1
# shellcheck disable=SC2016 # the backquotes are in the message
check "... says the next renew replaces it with a fresh key" \
  grep -q 'next `bulkhead renew` replaces it, with a fresh key' "$TEST_TMP/r4.out"

# list and plan show the revoked certificates renew leaves alone.
run_bh "$TEST_TMP/list" list
check_eq "list exits 0" 0 "$RC"
check "list shows rv1 as revoked" grep -qE '^rv1 .* revoked ' "$TEST_TMP/list.out"
check "... and why it stays" grep -qF 'rv1: revoked, not renewed (revoke --reissue, or issue again, or delete)' "$TEST_TMP/list.out"
check "list shows rv4 as due" grep -qE '^rv4 .* yes ' "$TEST_TMP/list.out"
run_bh "$TEST_TMP/plan" plan
check_eq "plan exits 0" 0 "$RC"
check "plan shows rv1 revoked, never renewed" grep -qE '^rv1 .* never +revoked +revoked, not renewed' "$TEST_TMP/plan.out"

# renew replaces only rv4.
run_bh "$TEST_TMP/renew" renew
check_eq "renew exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/renew.err"
check "renew says rv1 is revoked, not renewed" grep -qF 'rv1: revoked, not renewed' "$TEST_TMP/renew.out"
check_eq "... and leaves rv1 alone" "$s1" "$(cert_serial "$(cert_dir rv1)/live/cert.pem")"
check_eq "... and rv2" "$s2" "$(cert_serial "$(cert_dir rv2)/live/cert.pem")"
check "renew replaces rv4" grep -q '^renewed rv4' "$TEST_TMP/renew.out"
check_fails "... with a fresh key" test "$p4" = "$(cert_pubkey "$(cert_dir rv4)/live/cert.pem")"
check_fails "... no longer marked revoked" grep -q '"revoked"' "$(cert_dir rv4)/settings.json"

# revoke --reissue on a certificate already revoked only marks it.
run_bh "$TEST_TMP/r3b" revoke --name rv3 --reissue
check_eq "revoke --reissue on an already revoked certificate exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/r3b.err"
check "... saying it was already revoked" grep -q 'already revoked' "$TEST_TMP/r3b.out"
run_bh "$TEST_TMP/renew3" renew --name rv3
check_eq "renew --name rv3 then exits 0" 0 "$RC"
check "... and replaces it" grep -q '^renewed rv3' "$TEST_TMP/renew3.out"

# issue (without --force) replaces a revoked certificate: one of the ways
# out renew names.
run_bh "$TEST_TMP/reissue2" issue --name rv2 -d rv2.test --webroot "$LAB_WEBROOT"
check_eq "issue of the revoked rv2 exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/reissue2.err"
check_fails "... with a new certificate" test "$s2" = "$(cert_serial "$(cert_dir rv2)/live/cert.pem")"

# renew --force --name replaces a revoked certificate explicitly.
run_bh "$TEST_TMP/force1" renew --force --name rv1
check_eq "renew --force --name rv1 exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/force1.err"
check_fails "... with a new certificate" test "$s1" = "$(cert_serial "$(cert_dir rv1)/live/cert.pem")"
run_bh "$TEST_TMP/renew2" renew --name rv1
check "... which is then an ordinary certificate" grep -q 'not due until' "$TEST_TMP/renew2.out"

# Unknown reason is bad usage.
run_bh "$TEST_TMP/badreason" revoke --name rv1 --reason nope
check_eq "revoke --reason nope exits 2" 2 "$RC"

lab_finish
