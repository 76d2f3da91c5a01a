#!/usr/bin/env bash
# http-01 pre-flight self-check: every token is fetched the way the CA will
# (here on LAB_HTTP_PORT, names resolved at the lab's DNS server) before any
# challenge is answered. A web root the server does not serve fails before
# the CA is asked (no failed authorization in the ledger); --no-preflight
# lets the CA fail instead; settings.json records the choice and renew
# repeats it; --standalone checks its own listener; IP identifiers are
# fetched at the IP.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_test_init
lab_start_or_die "$TEST_TMP/lab"
# lib.sh turns the check off for every other test; this one is about it.
unset BULKHEAD_NO_PREFLIGHT

json_get() {  # json_get FILE PYTHON-EXPR (over j)
  python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1" 2>/dev/null
}

# failed_authz NAME: failed authorizations the ledger holds for NAME.
failed_authz() {
  run_bh "$TEST_TMP/limits" limits --json
  json_get "$TEST_TMP/limits.out" \
    "sum(a['failed_authorizations'].get('$1', 0) for a in j['accounts'])"
}

PF=(--preflight-port "$LAB_HTTP_PORT" --dns-resolver "$LAB_DNS")

echo '{}' >"$LAB_DIR/state/limits.json"
run_bh "$TEST_TMP/reg" account register --email admin@example.org --agree-tos
check_eq "account register exits 0" 0 "$RC"

# --- (1) a served web root passes -------------------------------------------
# Through a symlink, so that (4) can point it somewhere unserved later.
ln -s "$LAB_WEBROOT" "$TEST_TMP/site"
run_bh "$TEST_TMP/good" -v issue -d pf.example.com --webroot "$TEST_TMP/site" "${PF[@]}"
check_eq "issue with the pre-flight check exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/good.err"
check "the check fetched the token" \
  grep -q "pre-flight: http://pf.example.com:$LAB_HTTP_PORT/.well-known/acme-challenge/.* serves the key authorization" \
  "$TEST_TMP/good.err"
settings="$(cert_dir pf.example.com)/settings.json"
check_eq "settings.json records the check" "True $LAB_HTTP_PORT $LAB_DNS" \
  "$(json_get "$settings" "' '.join(str(j['challenge']['preflight'][k]) for k in ('enabled', 'port', 'resolver'))")"

# --- (2) an unserved web root fails before the CA is asked -----------------
mkdir -p "$TEST_TMP/unserved"
run_bh "$TEST_TMP/bad" issue -d broken.example.com --webroot "$TEST_TMP/unserved" "${PF[@]}"
check_eq "issue with an unserved web root exits 1" 1 "$RC"
check "the error comes from the pre-flight check" \
  grep -q "^bulkhead: error: .*pre-flight check for broken.example.com failed" "$TEST_TMP/bad.err"
check "the error shows the status and body served" \
  grep -q "answered 404 with \".*404 Not Found" "$TEST_TMP/bad.err"
check "the error says nothing was answered" grep -q "no challenge was answered" "$TEST_TMP/bad.err"
if grep -q "validation failed" "$TEST_TMP/bad.err"; then
  not_ok "the CA was not asked to validate" "$(cat "$TEST_TMP/bad.err")"
else
  ok "the CA was not asked to validate"
fi
check_eq "no failed authorization in the ledger" 0 "$(failed_authz broken.example.com)"
check "no token is left behind" test -z "$(ls -A "$TEST_TMP/unserved/.well-known/acme-challenge" 2>/dev/null)"

# --- (3) --no-preflight lets the CA fail instead ----------------------------
run_bh "$TEST_TMP/nopf" issue -d broken.example.com --webroot "$TEST_TMP/unserved" --no-preflight
check_eq "--no-preflight with an unserved web root exits 1" 1 "$RC"
if grep -q "pre-flight" "$TEST_TMP/nopf.err"; then
  not_ok "--no-preflight: no pre-flight check" "$(cat "$TEST_TMP/nopf.err")"
else
  ok "--no-preflight: no pre-flight check"
fi
check "--no-preflight: the CA reports the failure" grep -q "http-01 validation failed" "$TEST_TMP/nopf.err"
check_eq "--no-preflight: the failed authorization is in the ledger" 1 "$(failed_authz broken.example.com)"

run_bh "$TEST_TMP/usage" issue -d x.example.com --webroot "$LAB_WEBROOT" --no-preflight --preflight-port 80
check_eq "--no-preflight with --preflight-port is a usage error" 2 "$RC"

# --- (4) renew repeats the recorded check -----------------------------------
rm "$TEST_TMP/site" && ln -s "$TEST_TMP/unserved" "$TEST_TMP/site"
run_bh "$TEST_TMP/renew" -v renew --force --name pf.example.com
# Pebble reuses a valid authorization now and then even with
# PEBBLE_AUTHZREUSE=0 (its test is "random 0..99 > percent", so 1 time in
# 100): then the new order is ready at once, no challenge is published and
# there is nothing to check. The step is skipped in that case.
if grep -q "order .* is ready" "$TEST_TMP/renew.err"; then
  ok "# skip: Pebble reused the authorization (1 in 100), no challenge to check"
  expected_version=3
else
  check_eq "renew --force with the web root now unserved fails" 1 "$RC"
  check "renew ran the pre-flight check" grep -q "pre-flight check for pf.example.com failed" "$TEST_TMP/renew.err"
  check_eq "renew: no failed authorization in the ledger" 0 "$(failed_authz pf.example.com)"
  expected_version=2
fi
# The fix the error names works for renew too: --no-preflight (or
# BULKHEAD_NO_PREFLIGHT) skips the check on this run only.
if [ "$expected_version" = 2 ]; then
  check "the error names --no-preflight" grep -q -- "--no-preflight" "$TEST_TMP/renew.err"
fi
run_bh "$TEST_TMP/renewnopf" -v renew --force --name pf.example.com --no-preflight
check_fails "renew --no-preflight runs no pre-flight check" grep -q "pre-flight" "$TEST_TMP/renewnopf.err"
BULKHEAD_NO_PREFLIGHT=1 run_bh "$TEST_TMP/renewenv" -v renew --force --name pf.example.com
check_fails "BULKHEAD_NO_PREFLIGHT=1 renew runs no pre-flight check" grep -q "pre-flight" "$TEST_TMP/renewenv.err"
check_eq "settings.json still records the check" "True" \
  "$(json_get "$settings" "j['challenge']['preflight']['enabled']")"
rm "$TEST_TMP/site" && ln -s "$LAB_WEBROOT" "$TEST_TMP/site"
# (Pebble may reuse an authorization, 1 in 100, and let a renewal above pass.)
expected_version=$(($(live_version pf.example.com) + 1))
run_bh "$TEST_TMP/renew2" renew --force --name pf.example.com
check_eq "renew --force passes once the web root is served again" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/renew2.err"
check_eq "renew made a new version" "$expected_version" "$(live_version pf.example.com)"

# The --no-preflight choice is recorded too.
run_bh "$TEST_TMP/off" issue -d off.example.com --webroot "$LAB_WEBROOT" --no-preflight
check_eq "issue --no-preflight with a served web root exits 0" 0 "$RC"
check_eq "settings.json records --no-preflight" "False" \
  "$(json_get "$(cert_dir off.example.com)/settings.json" "j['challenge']['preflight']['enabled']")"

# --- a check that gets no answer is skipped: a warning, silent with --cron -------
# The resolver recorded for the check is a local port nobody answers on, so
# the name does not resolve here (the CA resolves it through the lab's DNS).
DEAD_DNS_PORT="$(python3 "$LAB_LIB_DIR/freeport.py" 1)"
run_bh "$TEST_TMP/skip" issue -d skip.example.com --webroot "$LAB_WEBROOT" \
  --preflight-port "$LAB_HTTP_PORT" --dns-resolver "127.0.0.1:$DEAD_DNS_PORT"
check_eq "issue with an unanswerable pre-flight check exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/skip.err"
check "issue warns that the check was skipped" \
  grep -q "warning: pre-flight check for skip.example.com skipped" "$TEST_TMP/skip.err"
run_bh "$TEST_TMP/skipcron" renew --cron --force --name skip.example.com
check_eq "renew --cron with the check skipped exits 0" 0 "$RC"
check_eq "renew --cron with the check skipped writes nothing to stderr" "" \
  "$(cat "$TEST_TMP/skipcron.err")"
check "... and prints the renewal" grep -q "^renewed skip.example.com" "$TEST_TMP/skipcron.out"
run_bh "$TEST_TMP/skipcronv" -v renew --cron --force --name skip.example.com
check_eq "renew -v --cron exits 0" 0 "$RC"
check "renew -v --cron logs the skipped check at info level" \
  grep -q "info: pre-flight check for skip.example.com skipped" "$TEST_TMP/skipcronv.err"

# --- IP identifiers are fetched at the IP ----------------------------------
run_bh "$TEST_TMP/ip" -v issue --name ip -d 127.0.0.1 --webroot "$LAB_WEBROOT" --preflight-port "$LAB_HTTP_PORT"
check_eq "issue for an IP identifier with the check exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/ip.err"
check "the IP was fetched at the IP" \
  grep -q "pre-flight: http://127.0.0.1:$LAB_HTTP_PORT/.well-known/acme-challenge/" "$TEST_TMP/ip.err"

# --- --standalone: the check reaches the role's own listener ---------------
LAB_NO_WEB=1 lab_start_or_die "$TEST_TMP/standalone"
unset BULKHEAD_NO_PREFLIGHT
PF=(--preflight-port "$LAB_HTTP_PORT" --dns-resolver "$LAB_DNS")
run_bh "$TEST_TMP/sareg" account register --email admin@example.org --agree-tos
check_eq "standalone lab: account register exits 0" 0 "$RC"
run_bh "$TEST_TMP/sa" -v issue -d alone.example.com --standalone "127.0.0.1:$LAB_HTTP_PORT" "${PF[@]}"
check_eq "issue --standalone with the check exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/sa.err"
check "--standalone: the check fetched the token" \
  grep -q "pre-flight: http://alone.example.com:$LAB_HTTP_PORT/.* serves the key authorization" \
  "$TEST_TMP/sa.err"

lab_finish
