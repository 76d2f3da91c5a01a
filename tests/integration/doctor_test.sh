#!/usr/bin/env bash
# `bulkhead doctor` on a real account registered with Pebble: the account
# key's directories must be closed to the user renew's roles run as (else a
# key swap would go unnoticed), account.key must still be the key whose
# thumbprint account.json recorded at registration (a replaced key is a
# FAIL naming both thumbprints), and no state or certificate directory may
# be writable by every user, with or without --web-user.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_test_init
lab_start_or_die "$TEST_TMP/lab"

run_bh "$TEST_TMP/reg" account register --email admin@example.org --agree-tos
check_eq "account register exits 0" 0 "$RC"
key="$(find "$LAB_DIR/state/accounts" -path '*/default/account.key' 2>/dev/null | head -n 1)"
check "account.key exists" test -s "$key"
acct_dir="$(dirname "$key")"
ca_dir="$(dirname "$acct_dir")"
accounts="$LAB_DIR/state/accounts"
label="$(basename "$ca_dir")/default"
recorded="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["thumbprint"])' \
  "$acct_dir/account.json" 2>/dev/null)"
check "account.json records the key's thumbprint" test -n "$recorded"

run_bh "$TEST_TMP/issue" issue --name doc -d doc.test --webroot "$LAB_WEBROOT"
check_eq "issue exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/issue.err"

# --- the account directories and the renewing user ---------------------------
# Right after register the directories are 0700 and belong to the user that
# ran it, who here also runs the roles (no --user): it could swap the key.
# (For root, whom no bit stops, doctor goes by the write bits, as for the key.)
run_bh "$TEST_TMP/open" doctor
check_eq "doctor exits 1 while the renewing user may write the account directories" 1 "$RC"
# line_has FILE PREFIX TEXT: some line of FILE starts with PREFIX and holds TEXT.
line_has() {
  grep -F "$2" "$1" | grep -q "^$2" && grep -F "$2" "$1" | grep -qF "$3"
}
check "... with a FAIL line naming the key's directory" \
  line_has "$TEST_TMP/open.out" "FAIL  account dir $label: " \
  "$acct_dir is writable by $(id -un) (mode 0700"
check "... saying what that user could do" \
  line_has "$TEST_TMP/open.out" "FAIL  account dir $label: " \
  "$(id -un) runs renew's roles: it could put another account.key (and account.json) there"
check "... and the command that fixes it" \
  line_has "$TEST_TMP/open.out" "FAIL  account dir $label: " \
  "fix: chmod a-w $accounts $ca_dir $acct_dir; or make $accounts read-only for renew"
check "... also for accounts/ itself" grep -qF "$accounts is writable by" "$TEST_TMP/open.out"

if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
  # Roles run as nobody: root's 0700 directories are closed to them.
  run_bh "$TEST_TMP/asnobody" --user nobody doctor
  check "with --user nobody, root's 0700 account directories pass" \
    grep -qE "^PASS  account dir $label: nobody may not write " "$TEST_TMP/asnobody.out"
fi

chmod a-w "$accounts" "$ca_dir" "$acct_dir"
run_bh "$TEST_TMP/closed" doctor
check_eq "doctor exits 0 once the account directories are read-only" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/closed.out"
check "... and passes the key's thumbprint" \
  grep -qF "PASS  account thumbprint $label: $key is the key account.json records (thumbprint $recorded)" \
  "$TEST_TMP/closed.out"
check "... and the state directories" grep -qE '^PASS  state dir: ' "$TEST_TMP/closed.out"
check "... and says the challenge role opens no connection without pre-flight" \
  grep -qE '^INFO  challenge role doc: .*opens no connection' "$TEST_TMP/closed.out"
check_fails "... and no longer says the challenge role never connects" \
  grep -q 'never connects' "$TEST_TMP/closed.out"

# --- a replaced account key --------------------------------------------------
# thumbprint_of PEM: the RFC 7638 thumbprint of a P-256 key, computed here
# from openssl's public key, independently of bulkhead.
thumbprint_of() {
  openssl pkey -in "$1" -pubout -outform DER 2>/dev/null | python3 -c '
import base64, hashlib, json, sys
der = sys.stdin.buffer.read()
point = der[-65:]  # An uncompressed P-256 point ends the SubjectPublicKeyInfo.
assert point[0] == 4, "not an uncompressed point"
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
jwk = {"crv": "P-256", "kty": "EC", "x": b64(point[1:33]), "y": b64(point[33:65])}
canon = json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode()
print(b64(hashlib.sha256(canon).digest()))
'
}
check_eq "the registered key's thumbprint, computed independently, is the one recorded" \
  "$recorded" "$(thumbprint_of "$key")"

cp -p "$key" "$TEST_TMP/registered.key"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$TEST_TMP/other.key" 2>/dev/null
other="$(thumbprint_of "$TEST_TMP/other.key")"
check "the other key has another thumbprint" test -n "$other" -a "$other" != "$recorded"
# Swap it in the way an intruder would, keeping the key's mode and owner.
chmod u+w "$acct_dir"
rm -f "$key"
cp "$TEST_TMP/other.key" "$key"
chmod 0400 "$key"
chmod a-w "$acct_dir"

run_bh "$TEST_TMP/swapped" doctor
check_eq "doctor exits 1 when account.key was replaced" 1 "$RC"
check "... with a FAIL line naming the recorded and the found thumbprint" \
  grep -qF "FAIL  account thumbprint $label: the account key does not match the one registered (thumbprint $recorded recorded, $other found): someone replaced account.key; fix: restore it from account.key backups" \
  "$TEST_TMP/swapped.out"
[ "$RC" -eq 1 ] || cat "$TEST_TMP/swapped.out"
check "... while the key's mode alone passes" grep -qE "^PASS  account key $label: " "$TEST_TMP/swapped.out"
run_bh "$TEST_TMP/swappedjson" doctor --json
check_eq "doctor --json exits 1 too" 1 "$RC"
check "... with status FAIL for the thumbprint" python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))
hits = [o for o in a if o["check"] == "account thumbprint " + sys.argv[2]]
assert len(hits) == 1 and hits[0]["status"] == "FAIL", hits
assert sys.argv[3] in hits[0]["detail"] and sys.argv[4] in hits[0]["detail"], hits
' "$TEST_TMP/swappedjson.out" "$label" "$recorded" "$other"

chmod u+w "$acct_dir"
rm -f "$key"
cp -p "$TEST_TMP/registered.key" "$key"
chmod a-w "$acct_dir"
run_bh "$TEST_TMP/restored" doctor
check_eq "doctor exits 0 again with the registered key restored" 0 "$RC"

# --- directories every user may write ----------------------------------------
state="$LAB_DIR/state"
chmod 0777 "$state"
run_bh "$TEST_TMP/openstate" doctor
check_eq "doctor exits 1 when the state directory is 0777 (no --web-user)" 1 "$RC"
check "... naming it and the fix" \
  grep -qF "FAIL  state dir: $state is mode 0777: every user may write it" "$TEST_TMP/openstate.out"
check "... fix: chmod o-w" grep -qF "fix: chmod o-w $state" "$TEST_TMP/openstate.out"
chmod 0755 "$state"

cert="$(cert_dir doc)"
mode="$(file_mode "$cert")"
chmod 0777 "$cert"
run_bh "$TEST_TMP/opencert" doctor
check_eq "doctor exits 1 when a certificate directory is 0777 (no --web-user)" 1 "$RC"
check "... naming it" grep -qF "$cert is mode 0777: every user may write it" "$TEST_TMP/opencert.out"
chmod "$mode" "$cert"
run_bh "$TEST_TMP/closedagain" doctor
check_eq "doctor exits 0 again" 0 "$RC"

# Leave the directories writable for the clean-up of a non-root run.
chmod u+w "$accounts" "$ca_dir" "$acct_dir"
lab_finish
