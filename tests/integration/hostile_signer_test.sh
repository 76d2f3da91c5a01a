#!/usr/bin/env bash
# A compromised net role attacks through the roles that trust it. The net
# role parses everything the CA sends, so it is where an attacker lands
# first; with test hooks (src/roles/hostile.h) it performs each attack for
# real: it asks the signer to sign a keyChange to a key the attacker made,
# a deactivation, a contact change, the revocation of the live certificate,
# an order for a foreign name, a finalize with the attacker's CSR and a JWS
# without a nonce, and it asks the store to make a certificate for another
# key live. A request the signer signs would go to Pebble.
#
# Every attack must be blocked, the run must fail with a clear error, the
# live certificate must stay as it was, and afterwards the account must
# still be ours and valid at the CA (account show with our own key), and a
# normal renewal must still work.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_test_init

probe="$("$BULKHEAD_BIN" --version 2>&1)"
if ! grep -q "test hooks" <<<"$probe"; then
  echo "ok - skipped: $BULKHEAD_BIN was built without test hooks (-DBULKHEAD_TEST_HOOKS=ON)"
  lab_finish
  exit
fi

lab_start_or_die "$TEST_TMP/lab"
name=hostile.test
run_bh "$TEST_TMP/reg" account register --email admin@example.org --agree-tos
check_eq "account register exits 0" 0 "$RC"
run_bh "$TEST_TMP/first" issue -d "$name" -d www.hostile.test --webroot "$LAB_WEBROOT"
check_eq "a first certificate is issued" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/first.err"
live="$(cert_dir "$name")/live/fullchain.pem"
live_sum="$(sha256sum <"$live")"
key="$(ls "$LAB_DIR"/state/accounts/*/default/account.key)"
key_sum="$(sha256sum <"$key")"
live_der_b64="$(openssl x509 -in "$(cert_dir "$name")/live/cert.pem" -outform DER | base64 -w0 | tr '+/' '-_' | tr -d '=')"
serial="$(cert_serial "$(cert_dir "$name")/live/cert.pem")"

# A certificate for the run's names, made by the attacker with its own key.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
  -keyout "$TEST_TMP/evil.key" -out "$TEST_TMP/evil.pem" -subj "/CN=$name" \
  -addext "subjectAltName=DNS:$name,DNS:www.hostile.test" 2>/dev/null

# attack ROLE:ACTION[:ARG] COMMAND...: runs a bulkhead command with the
# attack; checks it was blocked and changed nothing lasting.
attack() {
  local spec="$1"
  shift
  local action="${spec#*:}"
  action="${action%%:*}"
  local out="$TEST_TMP/att-$action"
  RC=0
  BULKHEAD_TEST_HOSTILE="$spec" bh "$@" >"$out.out" 2>"$out.err" || RC=$?
  check_no_sanitizer "$out.err" "$action"
  if grep -q "hostile [a-z]* $action: blocked" "$out.err" && ! grep -q "SUCCEEDED" "$out.err"; then
    ok "$action: blocked ($(grep -m1 -o "hostile [a-z]* $action: blocked: .\{0,120\}" "$out.err"))"
  else
    not_ok "$action: blocked" "$(cat "$out.err")"
  fi
  case "$action" in
    sign-*) check "$action: the signer is what refused it" \
      grep -q "hostile [a-z]* $action: blocked: .*signer refused" "$out.err" ;;
    store-*) check "$action: the store is what refused it" \
      grep -q "hostile [a-z]* $action: blocked: .*store role: refusing" "$out.err" ;;
  esac
  if [ "$RC" -ne 0 ]; then
    ok "$action: the run fails (exit $RC)"
  else
    not_ok "$action: the run fails" "$(cat "$out.out" "$out.err")"
  fi
  check_eq "$action: the live certificate is unchanged" "$live_sum" "$(sha256sum <"$live")"
  check_eq "$action: account.key is unchanged" "$key_sum" "$(sha256sum <"$key")"
}

force=(issue -d "$name" -d www.hostile.test --webroot "$LAB_WEBROOT" --force)
attack net:sign-keychange "${force[@]}"
check "the signer said which request it refused" grep -q "signer refused" "$TEST_TMP/att-sign-keychange.err"
attack net:sign-deactivate "${force[@]}"
attack net:sign-contact "${force[@]}"
attack "net:sign-revoke:$live_der_b64" "${force[@]}"
attack net:sign-foreign-order:evil.example.net "${force[@]}"
attack net:sign-finalize-csr "${force[@]}"
attack net:sign-inner-jws "${force[@]}"
attack "net:store-foreign-cert:$(cat "$TEST_TMP/evil.pem")" "${force[@]}"
check "the store said why it refused" grep -q "for another key" "$TEST_TMP/att-store-foreign-cert.err"

# The account commands have their own one-operation policy: `account show`
# may not deactivate, roll over or revoke either.
attack net:sign-keychange account show
attack net:sign-deactivate account show
attack "net:sign-revoke:$live_der_b64" account show

# Nothing lasting: the account is still ours and valid, the certificate is
# not revoked, and a normal renewal still works.
run_bh "$TEST_TMP/show" account show --json
check_eq "account show with our own key still works" 0 "$RC"
check "the account is still valid at the CA" grep -q '"status": *"valid"' "$TEST_TMP/show.out"
check "the account's contact is unchanged" grep -q 'mailto:admin@example.org' "$TEST_TMP/show.out"
status="$(lab_cert_status "$serial")"
check "the live certificate is not revoked at the CA" grep -q '"Status": *"Valid"' <<<"$status"
run_bh "$TEST_TMP/after" "${force[@]}"
check_eq "a normal renewal still works" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/after.err"

lab_finish
