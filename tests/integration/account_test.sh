#!/usr/bin/env bash
# Accounts: idempotent registration, show --json, key rollover,
# deactivation and external account binding.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_test_init
lab_start_or_die "$TEST_TMP/lab"

# A CA whose root is not trusted here: the error says how to trust it.
RC=0
"$BULKHEAD_BIN" --state-dir "$LAB_DIR/state" --server "$LAB_URL" account register --agree-tos \
  >"$TEST_TMP/untrusted.out" 2>"$TEST_TMP/untrusted.err" || RC=$?
check_eq "register with a CA whose root is unknown exits 1" 1 "$RC"
check "... suggesting --ca-bundle" grep -q -- '--ca-bundle PEM' "$TEST_TMP/untrusted.err"

# json_field FILE KEY: a top-level field of a JSON object (lists joined by ",").
json_field() {
  python3 -c '
import json, sys
v = json.load(open(sys.argv[1])).get(sys.argv[2], "")
print(",".join(v) if isinstance(v, list) else v)' "$1" "$2" 2>/dev/null
}

account_key() {
  ls "$LAB_DIR"/state/accounts/*/default/account.key 2>/dev/null | head -n 1
}

# --- register, twice ---------------------------------------------------------
run_bh "$TEST_TMP/reg1" account register --email admin@example.org --agree-tos
check_eq "account register exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/reg1.err"
run_bh "$TEST_TMP/show1" account show --json
check_eq "account show --json exits 0" 0 "$RC"
if python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$TEST_TMP/show1.out" 2>/dev/null; then
  ok "account show --json prints JSON"
else
  not_ok "account show --json prints JSON" "$(cat "$TEST_TMP/show1.out" "$TEST_TMP/show1.err")"
fi
url1="$(json_field "$TEST_TMP/show1.out" url)"
check "account show: url is on the CA" grep -q "^https://127.0.0.1:" <<<"$url1"
check_eq "account show: status valid" valid "$(json_field "$TEST_TMP/show1.out" status)"
check_eq "account show: contact" "mailto:admin@example.org" "$(json_field "$TEST_TMP/show1.out" contact)"
check_eq "account show: key_type (default ec256)" ec256 "$(json_field "$TEST_TMP/show1.out" key_type)"
thumb1="$(json_field "$TEST_TMP/show1.out" thumbprint)"
check "account show: thumbprint is base64url of 32 bytes" grep -qE '^[A-Za-z0-9_-]{43}$' <<<"$thumb1"
check_eq "account show: server" "$LAB_URL" "$(json_field "$TEST_TMP/show1.out" server)"
run_bh "$TEST_TMP/showtext" account show
check_eq "account show (text) exits 0" 0 "$RC"
check "account show (text) mentions the account URL" grep -qF "$url1" "$TEST_TMP/showtext.out"

key="$(account_key)"
key_before="$(sha256sum <"$key")"
run_bh "$TEST_TMP/reg2" account register --email admin@example.org --agree-tos
check_eq "second account register exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/reg2.err"
run_bh "$TEST_TMP/show2" account show --json
check_eq "second register finds the same account URL" "$url1" "$(json_field "$TEST_TMP/show2.out" url)"
check_eq "second register keeps account.key" "$key_before" "$(sha256sum <"$key")"

# --- rollover -------------------------------------------------------------------
old_pub="$(key_pubkey "$key")"
run_bh "$TEST_TMP/roll" account rollover
check_eq "account rollover exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/roll.err"
new_pub="$(key_pubkey "$key")"
if [ -n "$new_pub" ] && [ "$new_pub" != "$old_pub" ]; then
  ok "rollover puts a new key in account.key"
else
  not_ok "rollover puts a new key in account.key"
fi
check_eq "account.key is still 0400" 400 "$(file_mode "$key")"
kept=""
for f in "$(dirname "$key")"/*; do
  [ "$f" = "$key" ] && continue
  [ -f "$f" ] || continue
  if [ "$(key_pubkey "$f")" = "$old_pub" ]; then
    kept="$f"
  fi
done
check "old account key kept in a file beside account.key" test -n "$kept"
run_bh "$TEST_TMP/show3" account show --json
check_eq "rollover keeps the account URL" "$url1" "$(json_field "$TEST_TMP/show3.out" url)"
thumb3="$(json_field "$TEST_TMP/show3.out" thumbprint)"
if [ -n "$thumb3" ] && [ "$thumb3" != "$thumb1" ]; then
  ok "rollover changes the thumbprint"
else
  not_ok "rollover changes the thumbprint"
fi
run_bh "$TEST_TMP/iss" issue --name after-roll -d after-roll.test --webroot "$LAB_WEBROOT"
check_eq "issue after rollover works" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/iss.err"

run_bh "$TEST_TMP/roll2" account rollover --key-type rsa2048
check_eq "account rollover --key-type rsa2048 exits 0" 0 "$RC"
if openssl pkey -in "$key" -noout -text 2>/dev/null | grep -q '^Private-Key: (2048 bit'; then
  ok "rollover --key-type rsa2048 writes an RSA key"
else
  not_ok "rollover --key-type rsa2048 writes an RSA key"
fi
run_bh "$TEST_TMP/iss2" issue --name after-roll2 -d after-roll2.test --webroot "$LAB_WEBROOT"
check_eq "issue with an RSA account key works" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/iss2.err"

# --- deactivate --------------------------------------------------------------------
run_bh "$TEST_TMP/deact0" account deactivate </dev/null
check_eq "account deactivate without a terminal and without --yes exits 2" 2 "$RC"
check "... naming --yes" grep -q -- '--yes' "$TEST_TMP/deact0.err"
"$LAB_LIB_DIR/on_tty.py" n "$BULKHEAD_BIN" --state-dir "$LAB_DIR/state" --server "$LAB_URL" \
  --ca-bundle "$LAB_CA" account deactivate >"$TEST_TMP/deact-n.out" 2>&1
check_eq "account deactivate on a terminal, answered n, exits 1" 1 "$?"
check "... after asking" grep -q 'cannot be undone' "$TEST_TMP/deact-n.out"
run_bh "$TEST_TMP/shown" account show
check "... and the account stays valid" grep -qE '^status: +valid' "$TEST_TMP/shown.out"
run_bh "$TEST_TMP/deact" account deactivate --yes
check_eq "account deactivate --yes exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/deact.err"
check "... and says what to do next" grep -q 'account register' "$TEST_TMP/deact.out"
run_bh "$TEST_TMP/iss3" issue --name after-deact -d after-deact.test --webroot "$LAB_WEBROOT"
check_eq "issue with a deactivated account exits 1" 1 "$RC"
check "... with a 'bulkhead: error:' line" grep -q '^bulkhead: error: ' "$TEST_TMP/iss3.err"
check "... that says the account is deactivated/unauthorized" grep -qiE 'deactivated|unauthorized' "$TEST_TMP/iss3.err"
check "... and no certificate" test ! -e "$(cert_dir after-deact)/live"
# The next steps deactivate printed work as printed.
mv_line="$(grep -E '^  mv ' "$TEST_TMP/deact.out")"
check "deactivate printed the mv to run" test -n "$mv_line"
eval "$mv_line"
run_bh "$TEST_TMP/rereg" account register --agree-tos
check_eq "then account register exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/rereg.err"
check "... with a new account" grep -q '^registered account' "$TEST_TMP/rereg.out"
run_bh "$TEST_TMP/iss4" issue --name after-rereg -d after-rereg.test --webroot "$LAB_WEBROOT"
check_eq "... and issue works again" 0 "$RC"

# --- external account binding -----------------------------------------------------
lab_stop "$LAB_DIR"
LAB_EAB=1 lab_start_or_die "$TEST_TMP/eab"
run_bh "$TEST_TMP/noeab" account register --email admin@example.org --agree-tos
if [ "$RC" -eq 1 ] || [ "$RC" -eq 2 ]; then
  ok "EAB required: register without EAB fails (exit $RC)"
else
  not_ok "EAB required: register without EAB fails" "exit $RC"
fi
check "... with a 'bulkhead: error:' line" grep -q '^bulkhead: error: ' "$TEST_TMP/noeab.err"
check "... that mentions external account binding" grep -qiE 'external ?account|eab' "$TEST_TMP/noeab.err"
run_bh "$TEST_TMP/eabok" account register --email admin@example.org --agree-tos \
  --eab-kid "$LAB_EAB_KID" --eab-hmac-key "$LAB_EAB_KEY"
check_eq "register with --eab-kid/--eab-hmac-key exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/eabok.err"
run_bh "$TEST_TMP/eabshow" account show --json
check_eq "EAB account is valid" valid "$(json_field "$TEST_TMP/eabshow.out" status)"
run_bh "$TEST_TMP/eabiss" issue --name eab -d eab.test --webroot "$LAB_WEBROOT"
check_eq "issue with the EAB account works" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/eabiss.err"
RC=0
"$BULKHEAD_BIN" --state-dir "$TEST_TMP/other-state" --server "$LAB_URL" --ca-bundle "$LAB_CA" \
  account register --email a@example.org --agree-tos --eab-kid "$LAB_EAB_KID" \
  --eab-hmac-key "AAAA$LAB_EAB_KEY" >"$TEST_TMP/badeab.out" 2>"$TEST_TMP/badeab.err" || RC=$?
check_no_sanitizer "$TEST_TMP/badeab.err" "account register (wrong EAB key)"
if [ "$RC" -ne 0 ]; then
  ok "register with a wrong EAB key fails (exit $RC)"
else
  not_ok "register with a wrong EAB key fails"
fi

lab_finish
