#!/usr/bin/env bash
# Alternate chains: --preferred-chain picks the chain whose top certificate
# is issued by the named root; without it the CA's default chain is kept.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_test_init
PEBBLE_ALTERNATE_ROOTS=2 lab_start_or_die "$TEST_TMP/lab"

root_cn() {
  openssl x509 -in "$1" -noout -subject -nameopt multiline 2>/dev/null |
    sed -n 's/^ *commonName *= *//p'
}

# verifies_to ROOTPEM NAME: the live cert.pem + chain.pem chain up to ROOTPEM.
verifies_to() {
  local live
  live="$(cert_dir "$2")/live"
  [ "$(openssl verify -CAfile "$1" -untrusted "$live/chain.pem" "$live/cert.pem" 2>&1)" = \
    "$live/cert.pem: OK" ]
}

# top_issuer_cn NAME: issuer CN of the last certificate in chain.pem.
top_issuer_cn() {
  local live last
  live="$(cert_dir "$1")/live"
  last="$(awk '/-----BEGIN CERTIFICATE-----/{buf=""} {buf=buf $0 "\n"} END{printf "%s", buf}' "$live/chain.pem")"
  openssl x509 -noout -issuer -nameopt multiline <<<"$last" 2>/dev/null |
    sed -n 's/^ *commonName *= *//p'
}

cn0="$(root_cn "$LAB_DIR/root0.pem")"
cn1="$(root_cn "$LAB_DIR/root1.pem")"
if [ -n "$cn0" ] && [ -n "$cn1" ] && [ "$cn0" != "$cn1" ]; then
  ok "Pebble serves distinct roots ($cn0 / $cn1)"
else
  not_ok "Pebble serves distinct roots" "root0 '$cn0' root1 '$cn1'"
fi

run_bh "$TEST_TMP/reg" account register --email admin@example.org --agree-tos
check_eq "account register exits 0" 0 "$RC"

run_bh "$TEST_TMP/def" issue --name default -d default.chain.test --webroot "$LAB_WEBROOT"
check_eq "issue without --preferred-chain exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/def.err"
check "default chain verifies to root 0" verifies_to "$LAB_DIR/root0.pem" default
check_fails "default chain does not verify to root 1" verifies_to "$LAB_DIR/root1.pem" default
check_eq "default chain tops out at root 0" "$cn0" "$(top_issuer_cn default)"

run_bh "$TEST_TMP/alt" issue --name alt -d alt.chain.test --webroot "$LAB_WEBROOT" \
  --preferred-chain "$cn1"
check_eq "issue --preferred-chain '$cn1' exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/alt.err"
check "preferred chain verifies to root 1" verifies_to "$LAB_DIR/root1.pem" alt
check_eq "preferred chain tops out at root 1" "$cn1" "$(top_issuer_cn alt)"
live="$(cert_dir alt)/live"
check_eq "fullchain.pem is cert.pem + chain.pem" \
  "$(cat "$live/cert.pem" "$live/chain.pem" | grep -v '^$' | sha256sum)" \
  "$(grep -v '^$' "$live/fullchain.pem" | sha256sum)"

# A renewal keeps the preferred chain (it is part of the recorded settings).
run_bh "$TEST_TMP/altr" renew --name alt --force
check_eq "renew of the preferred-chain certificate exits 0" 0 "$RC"
check "renewed certificate keeps the preferred chain" verifies_to "$LAB_DIR/root1.pem" alt

# A preference no chain matches falls back to the default chain.
run_bh "$TEST_TMP/none" issue --name nomatch -d nomatch.chain.test --webroot "$LAB_WEBROOT" \
  --preferred-chain "No Such Root"
check_eq "issue with an unmatched --preferred-chain exits 0" 0 "$RC"
check "unmatched preference falls back to root 0" verifies_to "$LAB_DIR/root0.pem" nomatch

lab_finish
