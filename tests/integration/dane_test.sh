#!/usr/bin/env bash
# DANE-safe key rollover (issue --tlsa): a certificate with TLSA records
# gets a next key ahead of time; renewals keep the current key until the
# next key's record has been served by DNS for twice its TTL, then switch.
# Real peers: Pebble (validating dns-01 against Knot) and Knot serving the
# TLSA records the operator publishes from `zone compile --tlsa-map`.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/integration/lib_knot.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib_knot.sh"
lab_test_init

cleanup() {
  lab_knot_cleanup
  _lab_test_cleanup
}
trap cleanup EXIT

K="$TEST_TMP/knot"
if ! knot_start "$K" example.test; then
  echo "not ok - knotd starts"
  exit 1
fi
KNOT="$(knot_addr "$K")"
export LAB_DNS_SERVER="$KNOT"
LAB_NO_WEB=1 lab_start_or_die "$TEST_TMP/lab"
run_bh "$TEST_TMP/reg" account register --email dane@example.org --agree-tos
check_eq "account register exits 0" 0 "$RC"

DNS=(--dns-rfc2136 "$KNOT" --tsig-key "$K/tsig.key" --dns-resolver "$KNOT" --dns-timeout 20)
D="$(cert_dir mail)"

# pub_of_key KEYFILE / pub_of_cert CERTFILE: the public key PEM.
pub_of_key() { key_pubkey "$1"; }
pub_of_cert() { cert_pubkey "$1"; }

# publish_map MAPFILE: the operator's zone step. zone compile turns the map
# into TLSA records (TTL 1 s, so twice the TTL is 2 s), which are sent to
# Knot, replacing whatever TLSA records the owners had.
publish_map() {
  local records cmds=() owner line
  records="$(bh zone compile --drop-dir "$TEST_TMP/emptydrop" --allow example.test \
    --tlsa-map "$1" --tlsa-ttl 1)" || return 1
  for owner in _25._tcp.mail.example.test. _465._tcp.mail.example.test.; do
    cmds+=("update delete $owner TLSA")
  done
  while IFS= read -r line; do
    [ -n "$line" ] && cmds+=("update add $line")
  done <<<"$records"
  knot_update "$K" "${cmds[@]}" >/dev/null
}

# tlsa_at OWNER: the TLSA records Knot serves at OWNER, sorted.
tlsa_at() {
  kdig +time=2 +retry=0 +short @127.0.0.1 -p "$(knot_port "$K")" "$1" TLSA 2>/dev/null | sort
}

# state_field FIELD: a field of dane.json.
state_field() {
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$D/dane.json" "$1"
}

mkdir -p "$TEST_TMP/emptydrop"

# --- usage ------------------------------------------------------------------
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TEST_TMP/csr.key" \
  -subj /CN=csr.example.test -addext subjectAltName=DNS:csr.example.test \
  -out "$TEST_TMP/csr.pem" 2>/dev/null
run_bh "$TEST_TMP/u1" issue -d csr.example.test --csr "$TEST_TMP/csr.pem" \
  --tlsa csr.example.test:25 "${DNS[@]}"
check_eq "--tlsa with --csr is a usage error" 2 "$RC"
check "  naming the reason" grep -q "the key is yours" "$TEST_TMP/u1.err"
for bad in mail.example.test mail.example.test:0 'bad..name:25' mail.example.test:x; do
  run_bh "$TEST_TMP/u2" issue -d mail.example.test --tlsa "$bad" "${DNS[@]}"
  check_eq "--tlsa $bad is a usage error" 2 "$RC"
done

# --- first issuance: current key, next key made ahead -------------------------
run_bh "$TEST_TMP/i1" issue -d mail.example.test --name mail "${DNS[@]}" \
  --tlsa mail.example.test:25 --tlsa MAIL.example.test.:465
check_eq "issue --tlsa exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/i1.err"
check_eq "the next key is 0600" 600 "$(file_mode "$D/next/privkey.pem")"
check_eq "its public key is 0644" 644 "$(file_mode "$D/next/pubkey.pem")"
check_eq "pubkey.pem is the next key's public key" "$(pub_of_key "$D/next/privkey.pem")" \
  "$(cat "$D/next/pubkey.pem")"
CUR1="$(pub_of_cert "$D/live/cert.pem")"
NEXT1="$(cat "$D/next/pubkey.pem")"
if [ -n "$CUR1" ] && [ "$CUR1" != "$NEXT1" ]; then
  ok "the next key differs from the current key"
else
  not_ok "the next key differs from the current key"
fi
printf '%s %s %s\n' "$D/live/cert.pem" mail.example.test 25 "$D/live/cert.pem" mail.example.test 465 \
  "$D/next/pubkey.pem" mail.example.test 25 "$D/next/pubkey.pem" mail.example.test 465 \
  >"$TEST_TMP/tlsa.map"
check_eq "issue prints the four records zone compile makes from live/ and next/" \
  "$(bh zone compile --drop-dir "$TEST_TMP/emptydrop" --allow example.test \
    --tlsa-map "$TEST_TMP/tlsa.map" | sort)" \
  "$(sed -n 's/^    \(_[0-9]*\._tcp\.\)/\1/p' "$TEST_TMP/i1.out" | sort)"
# The same from the certificate directory alone: live/cert.pem and next/pubkey.pem.
printf '%s %s %s\n' "$D" mail.example.test 25 "$D" mail.example.test 465 >"$TEST_TMP/dir.map"
check_eq "a certificate directory in the map gives the same records" \
  "$(bh zone compile --drop-dir "$TEST_TMP/emptydrop" --allow example.test \
    --tlsa-map "$TEST_TMP/tlsa.map")" \
  "$(bh zone compile --drop-dir "$TEST_TMP/emptydrop" --allow example.test \
    --tlsa-map "$TEST_TMP/dir.map")"
check "settings record the endpoints" grep -q '"mail.example.test:465"' "$D/settings.json"

# --- renewal before the next record is published keeps the current key -------
run_bh "$TEST_TMP/r1" renew --name mail --force
check_eq "renew --force exits 0" 0 "$RC"
check "  says the next key's record is not served yet" grep -q "not served yet" "$TEST_TMP/r1.out"
check_eq "  the renewed certificate keeps the current key" "$CUR1" "$(pub_of_cert "$D/live/cert.pem")"
check_eq "  the next key is unchanged" "$NEXT1" "$(cat "$D/next/pubkey.pem")"
check_eq "  no publication is recorded" 0 "$(state_field next_published_since)"
check "  plan notes that the record is not served" grep -q "TLSA record not served yet" <(bh plan)

# --- only one endpoint published: still not served ------------------------------
printf '%s %s %s\n' "$D/live/cert.pem" mail.example.test 25 "$D/live/cert.pem" mail.example.test 465 \
  "$D/next/pubkey.pem" mail.example.test 25 >"$TEST_TMP/half.map"
check "the half map is published" publish_map "$TEST_TMP/half.map"
check_eq "Knot serves two records at port 25" 2 "$(tlsa_at _25._tcp.mail.example.test | wc -l)"
run_bh "$TEST_TMP/r2" renew --name mail
check_eq "renew (not due) exits 0" 0 "$RC"
check "  the missing endpoint is named" grep -q "_465._tcp.mail.example.test. at $KNOT" "$TEST_TMP/r2.out"
check_eq "  no publication is recorded" 0 "$(state_field next_published_since)"

# --- published everywhere: the wait starts, then ends ------------------------
check "the full map is published" publish_map "$TEST_TMP/dir.map"
run_bh "$TEST_TMP/r3" renew --name mail
check_eq "renew after publishing exits 0" 0 "$RC"
check "  says the record is served" grep -qE "is served|served long enough" "$TEST_TMP/r3.out"
since="$(state_field next_published_since)"
if [ "$since" -gt 0 ] 2>/dev/null; then ok "  publication recorded ($since)"; else not_ok "  publication recorded" "$since"; fi
check_eq "  the TTL seen is recorded" 1 "$(state_field ttl)"

ready=0
deadline=$((SECONDS + 30))
while [ $SECONDS -lt $deadline ]; do
  run_bh "$TEST_TMP/r4" renew --name mail
  if grep -q "the next certificate uses the next key" "$TEST_TMP/r4.out"; then
    ready=1
    break
  fi
  sleep 0.5
done
check_eq "after twice the TTL the next key is ready" 1 "$ready"
check_eq "  plan --json says the renewal uses the next key" next \
  "$(bh plan --json | python3 -c 'import json,sys
print([c for c in json.load(sys.stdin) if c["name"] == "mail"][0]["dane"]["renewal_key"])')"
check "  plan says so too" grep -q "DANE: renews with the next key" <(bh plan)
check_eq "  a run that is not due does not change the key" "$CUR1" "$(pub_of_cert "$D/live/cert.pem")"

run_bh "$TEST_TMP/r5" renew --name mail --force
check_eq "the renewal after the wait exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/r5.err"
check_eq "  the new certificate uses the former next key" "$NEXT1" "$(pub_of_cert "$D/live/cert.pem")"
NEXT2="$(cat "$D/next/pubkey.pem")"
if [ -n "$NEXT2" ] && [ "$NEXT2" != "$NEXT1" ] && [ "$NEXT2" != "$CUR1" ]; then
  ok "  a new next key was made"
else
  not_ok "  a new next key was made"
fi
check_eq "  its publication wait starts from zero" 0 "$(state_field next_published_since)"
check_eq "  four records to publish are printed" 4 "$(grep -c "IN	TLSA	3 1 1" "$TEST_TMP/r5.out")"

# --- DNS failure: a warning, the state stays as it was ------------------------
# The settings are pointed at a loopback port where nothing answers.
check "the map follows the rollover by itself" publish_map "$TEST_TMP/dir.map"
run_bh "$TEST_TMP/r6" renew --name mail
since="$(state_field next_published_since)"
if [ "$since" -gt 0 ] 2>/dev/null; then ok "  the new next key is seen served"; else not_ok "  the new next key is seen served" "$since"; fi
cp "$D/dane.json" "$TEST_TMP/dane.before"
cp "$D/settings.json" "$TEST_TMP/settings.before"
# Run as root, renew acts only on settings that match root's own record
# (manager/settings_record.h): the change is made to both.
RECORD="$LAB_DIR/state/root-settings/mail.json"
[ -f "$RECORD" ] && cp "$RECORD" "$TEST_TMP/record.before"
DEAD="127.0.0.1:$(python3 "$LAB_LIB_DIR/freeport.py" 1)"
for f in "$D/settings.json" "$RECORD"; do
  [ -f "$f" ] || continue
  python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))
s["dane"]["resolver"] = sys.argv[2]
json.dump(s, open(sys.argv[1], "w"))' "$f" "$DEAD"
done
run_bh "$TEST_TMP/r7" renew --name mail
check_eq "renew with DNS down exits 0" 0 "$RC"
check "  warns that the wait goes on unchanged" grep -q "goes on unchanged" "$TEST_TMP/r7.err"
check "  dane.json is unchanged" cmp -s "$TEST_TMP/dane.before" "$D/dane.json"
cp "$TEST_TMP/settings.before" "$D/settings.json"
[ -f "$TEST_TMP/record.before" ] && cp "$TEST_TMP/record.before" "$RECORD"

# --- keyCompromise: the next key is used at once ------------------------------
# Its record is withdrawn first, so its wait has not begun.
printf '%s %s %s\n' "$D/live/cert.pem" mail.example.test 25 "$D/live/cert.pem" mail.example.test 465 \
  >"$TEST_TMP/live.map"
check "the map without the next key is published" publish_map "$TEST_TMP/live.map"
run_bh "$TEST_TMP/r7b" renew --name mail
check_eq "a withdrawn record restarts the wait" 0 "$(state_field next_published_since)"
[ "$(state_field next_published_since)" = 0 ] || cat "$TEST_TMP/r7b.out" "$TEST_TMP/r7b.err"
run_bh "$TEST_TMP/rv" revoke --name mail --reason keyCompromise --reissue
check_eq "revoke keyCompromise --reissue exits 0" 0 "$RC"
run_bh "$TEST_TMP/r8" renew --name mail
check_eq "renew after keyCompromise exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/r8.err"
check_eq "  the next key replaces the compromised one" "$NEXT2" "$(pub_of_cert "$D/live/cert.pem")"
check "  warns that the wait was cut short" grep -q "compromised" "$TEST_TMP/r8.err"

# --- --reuse-key: the record never changes, so no next key -----------------------
run_bh "$TEST_TMP/i2" issue -d reuse.example.test --name reuse --reuse-key "${DNS[@]/$KNOT*/$KNOT}" \
  --tlsa reuse.example.test:443
check_eq "issue --reuse-key --tlsa exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/i2.err"
check_fails "  no next key is made" test -e "$(cert_dir reuse)/next"

lab_finish
