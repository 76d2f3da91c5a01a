#!/usr/bin/env bash
# Issuance end to end: account registration, http-01 by webroot, challenge
# dir and standalone, key types, SANs, chains, file modes, CSR issuance.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_test_init
lab_start_or_die "$TEST_TMP/web"

# check_version_dir DESC NAME NAMES...: the live version of NAME is a
# complete, well-formed issuance for NAMES.
check_issued_files() {
  local desc="$1" name="$2"
  shift 2
  local live
  live="$(cert_dir "$name")/live"
  local f missing=""
  for f in privkey.pem cert.pem chain.pem fullchain.pem; do
    [ -s "$live/$f" ] || missing="$missing $f"
  done
  if [ -n "$missing" ]; then
    not_ok "$desc: live dir has all files" "missing:$missing"
    return
  fi
  ok "$desc: live dir has privkey.pem cert.pem chain.pem fullchain.pem"
  check_eq "$desc: privkey.pem is 0600" 600 "$(file_mode "$live/privkey.pem")"
  check_eq "$desc: SANs equal requested names" "$(sorted_names "$@")" "$(cert_names "$live/cert.pem")"
  if [ -n "$(cert_pubkey "$live/cert.pem")" ] &&
    [ "$(cert_pubkey "$live/cert.pem")" = "$(key_pubkey "$live/privkey.pem")" ]; then
    ok "$desc: certificate matches privkey.pem"
  else
    not_ok "$desc: certificate matches privkey.pem"
  fi
  local v
  v="$(openssl verify -CAfile "$LAB_ROOT" -untrusted "$live/fullchain.pem" "$live/cert.pem" 2>&1)"
  check_eq "$desc: fullchain verifies to the root" "$live/cert.pem: OK" "$v"
  if [ "$(openssl x509 -in "$live/fullchain.pem" -noout -fingerprint)" = \
    "$(openssl x509 -in "$live/cert.pem" -noout -fingerprint)" ]; then
    ok "$desc: fullchain.pem starts with cert.pem"
  else
    not_ok "$desc: fullchain.pem starts with cert.pem"
  fi
  v="$(openssl verify -CAfile "$LAB_ROOT" -untrusted "$live/chain.pem" "$live/cert.pem" 2>&1)"
  check_eq "$desc: chain.pem completes the chain" "$live/cert.pem: OK" "$v"
}

# key_type_of PEM: ec256, ec384, rsa2048, ... as seen by openssl.
key_type_of() {
  local text
  text="$(openssl pkey -in "$1" -noout -text 2>/dev/null)"
  if grep -q 'ASN1 OID: prime256v1' <<<"$text"; then
    echo ec256
  elif grep -q 'ASN1 OID: secp384r1' <<<"$text"; then
    echo ec384
  elif grep -q '^modulus:' <<<"$text"; then
    echo "rsa$(sed -n 's/^Private-Key: (\([0-9]*\) bit.*/\1/p' <<<"$text")"
  else
    echo unknown
  fi
}

no_files_under() {
  [ -z "$(find "$1" -type f 2>/dev/null)" ]
}

# --- account ---------------------------------------------------------------
run_bh "$TEST_TMP/reg" account register --email admin@example.org --agree-tos
check_eq "account register exits 0" 0 "$RC"
key="$(ls "$LAB_DIR"/state/accounts/*/default/account.key 2>/dev/null | head -n 1)"
if [ -n "$key" ]; then
  ok "account.key written under state/accounts/<ca>/default/"
  check_eq "account.key is 0400" 400 "$(file_mode "$key")"
  check "account.json beside account.key" test -s "$(dirname "$key")/account.json"
else
  not_ok "account.key written under state/accounts/<ca>/default/" "$(cat "$TEST_TMP/reg.err")"
fi

# --- one name by webroot, default key type, default certificate name -------
run_bh "$TEST_TMP/one" issue -d single.test --webroot "$LAB_WEBROOT"
check_eq "issue -d single.test --webroot exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/one.err"
out="$(cat "$TEST_TMP/one.out")"
check "issue output says 'issued single.test (version 1)'" grep -q '^issued single.test (version 1)' <<<"$out"
check "issue output names live/fullchain.pem" grep -qF "certificate: $LAB_DIR/state/certs/single.test/live/fullchain.pem" <<<"$out"
check "issue output names live/privkey.pem" grep -qF "key:         $LAB_DIR/state/certs/single.test/live/privkey.pem" <<<"$out"
check "issue output names the names" grep -qE '^ +names: +single\.test$' <<<"$out"
expiry="$(date -u -d "$(openssl x509 -in "$(cert_dir single.test)/live/cert.pem" -noout -enddate 2>/dev/null | cut -d= -f2)" +%Y-%m-%dT%H:%M 2>/dev/null)"
check "issue output gives the expiry ($expiry...Z)" grep -qE "^ +expires: +${expiry}:[0-9]{2}Z \([0-9]+ days\)" <<<"$out"
check_eq "live links to version 1" 1 "$(live_version single.test)"
check_issued_files "single name" single.test single.test
check "settings.json recorded" test -s "$(cert_dir single.test)/settings.json"
check "no token files left in the webroot" no_files_under "$LAB_WEBROOT/.well-known"

# Issuing the same names again is refused politely unless --force.
serial_before="$(cert_serial "$(cert_dir single.test)/live/cert.pem")"
run_bh "$TEST_TMP/again" issue -d single.test --webroot "$LAB_WEBROOT"
check_eq "issuing an existing certificate again exits 0" 0 "$RC"
check "... and says it exists and is not due" grep -q 'exists and is not due' "$TEST_TMP/again.out" "$TEST_TMP/again.err"
check_eq "... and keeps the live certificate" "$serial_before" "$(cert_serial "$(cert_dir single.test)/live/cert.pem")"
run_bh "$TEST_TMP/force" issue -d single.test --webroot "$LAB_WEBROOT" --force
check_eq "issue --force reissues (exit 0)" 0 "$RC"
check_eq "issue --force makes version 2" 2 "$(live_version single.test)"

# --- several names via --challenge-dir, each key type -----------------------
chal="$LAB_WEBROOT/.well-known/acme-challenge"
mkdir -p "$chal"
for kt in ec256 ec384 rsa2048; do
  names=("$kt.multi.test" "www.$kt.multi.test" "api.$kt.multi.test")
  run_bh "$TEST_TMP/$kt" issue --name "multi-$kt" -d "${names[0]}" -d "${names[1]}" \
    -d "${names[2]}" --challenge-dir "$chal" --key-type "$kt"
  check_eq "issue 3 names --challenge-dir --key-type $kt exits 0" 0 "$RC"
  [ "$RC" -eq 0 ] || cat "$TEST_TMP/$kt.err"
  check_eq "$kt: privkey.pem is $kt" "$kt" "$(key_type_of "$(cert_dir "multi-$kt")/live/privkey.pem")"
  check_issued_files "$kt" "multi-$kt" "${names[@]}"
  check "$kt: no token files left in the challenge dir" no_files_under "$chal"
done

# --- CSR ---------------------------------------------------------------------
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout "$TEST_TMP/csr.key" -out "$TEST_TMP/csr.pem" -subj "/CN=csr.test" \
  -addext "subjectAltName=DNS:csr.test,DNS:www.csr.test" >/dev/null 2>&1
run_bh "$TEST_TMP/csr" issue --name bycsr --csr "$TEST_TMP/csr.pem" -d csr.test -d www.csr.test \
  --webroot "$LAB_WEBROOT"
check_eq "issue --csr exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/csr.err"
live="$(cert_dir bycsr)/live"
if [ -n "$(csr_pubkey "$TEST_TMP/csr.pem")" ] &&
  [ "$(cert_pubkey "$live/cert.pem")" = "$(csr_pubkey "$TEST_TMP/csr.pem")" ]; then
  ok "--csr: certificate carries the CSR's public key"
else
  not_ok "--csr: certificate carries the CSR's public key"
fi
check "--csr: no privkey.pem in the version dir" test ! -e "$live/privkey.pem"
check_fails "--csr: the output names no privkey.pem" grep -q 'privkey.pem' "$TEST_TMP/csr.out"
check "--csr: the output says the key is the CSR's" grep -qF "key of $TEST_TMP/csr.pem" "$TEST_TMP/csr.out"
check "issue without --csr names the key file" grep -q 'privkey.pem' "$TEST_TMP/one.out"
check "--csr: cert.pem present" test -s "$live/cert.pem"
check_eq "--csr: SANs equal the CSR's" "csr.test,www.csr.test" "$(cert_names "$live/cert.pem")"
v="$(openssl verify -CAfile "$LAB_ROOT" -untrusted "$live/fullchain.pem" "$live/cert.pem" 2>&1)"
check_eq "--csr: fullchain verifies" "$live/cert.pem: OK" "$v"

# --- a --webroot that does not exist: refused before the CA hears of it ------
requests_before="$(grep -c 'calling handler' "$LAB_DIR/pebble.log")"
run_bh "$TEST_TMP/nowebroot" issue --name nowebroot -d nowebroot.test --webroot "$LAB_DIR/no/such/www"
check_eq "issue --webroot MISSING exits 2" 2 "$RC"
check "... naming the path" grep -qF "webroot $LAB_DIR/no/such/www does not exist" "$TEST_TMP/nowebroot.err"
check_eq "... before any request reaches the CA" "$requests_before" \
  "$(grep -c 'calling handler' "$LAB_DIR/pebble.log")"
check_fails "... creating no webroot" test -e "$LAB_DIR/no"
check_fails "... and no certificate directory" test -e "$(cert_dir nowebroot)"

# --- standalone (no nginx on the http-01 port) -------------------------------
lab_stop "$LAB_DIR"
LAB_NO_WEB=1 lab_start_or_die "$TEST_TMP/standalone"
run_bh "$TEST_TMP/sreg" account register --email admin@example.org --agree-tos
check_eq "standalone lab: account register exits 0" 0 "$RC"
run_bh "$TEST_TMP/sa" issue --name alone -d alone.test -d www.alone.test \
  --standalone "127.0.0.1:$LAB_HTTP_PORT"
check_eq "issue --standalone 127.0.0.1:port exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/sa.err"
check_issued_files "standalone" alone alone.test www.alone.test
if python3 -c 'import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1])))' "$LAB_HTTP_PORT" 2>/dev/null; then
  ok "standalone listener closed after issue"
else
  not_ok "standalone listener closed after issue"
fi

lab_finish
