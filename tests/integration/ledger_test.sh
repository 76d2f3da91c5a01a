#!/usr/bin/env bash
# Rate-limit ledger: every order, issuance and failed authorization lands in
# <state>/ledger.sqlite; an order the CA would refuse is refused before any
# request (naming the limit and when it frees up); --ignore-ledger overrides;
# `bulkhead limits` shows the budget.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_test_init
lab_start_or_die "$TEST_TMP/lab"

json_get() {  # json_get FILE PYTHON-EXPR (over j)
  python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1" 2>/dev/null
}

# Pebble publishes no limits, so the lab gets Let's Encrypt's: an empty
# limits.json means "the defaults, for every CA".
echo '{}' >"$LAB_DIR/state/limits.json"
run_bh "$TEST_TMP/reg" account register --email admin@example.org --agree-tos
check_eq "account register exits 0" 0 "$RC"

run_bh "$TEST_TMP/one" issue -d www.ledger.example.com -d ledger.example.com --webroot "$LAB_WEBROOT"
check_eq "issue exits 0" 0 "$RC"
check "ledger.sqlite exists" test -s "$LAB_DIR/state/ledger.sqlite"
check_eq "ledger.sqlite is 0600" 600 "$(file_mode "$LAB_DIR/state/ledger.sqlite")"

run_bh "$TEST_TMP/limits1" limits --json
check_eq "limits --json exits 0" 0 "$RC"
check_eq "one certificate counted for the registered domain" "example.com 1 49" \
  "$(json_get "$TEST_TMP/limits1.out" "' '.join(str(x) for d in j['domains'] for x in (d['domain'], d['issued'], d['remaining']))")"
check_eq "one order counted for the account" "1 299" \
  "$(json_get "$TEST_TMP/limits1.out" "' '.join(str(a[k]) for a in j['accounts'] for k in ('orders', 'orders_remaining'))")"
run_bh "$TEST_TMP/limits_text" limits
check "limits prints the domain table" grep -q "example.com" "$TEST_TMP/limits_text.out"

# A stricter duplicate limit: the same identifier set again must be refused
# before the CA sees an order.
echo '{"duplicate_certificates": {"max": 1, "window_seconds": 3600}}' >"$LAB_DIR/state/limits.json"
run_bh "$TEST_TMP/dup" issue -d www.ledger.example.com -d ledger.example.com --webroot "$LAB_WEBROOT" --force
check_eq "a duplicate over the limit exits 1" 1 "$RC"
check "the refusal names the limit" grep -q "duplicate certificates" "$TEST_TMP/dup.err"
check "the refusal says when it frees up" grep -q "frees up at" "$TEST_TMP/dup.err"
run_bh "$TEST_TMP/limits2" limits --json
check_eq "the refused order never reached the CA (still one order)" "1" \
  "$(json_get "$TEST_TMP/limits2.out" "j['accounts'][0]['orders']")"
check_eq "live version unchanged after the refusal" "1" "$(live_version www.ledger.example.com)"

run_bh "$TEST_TMP/ign" issue -d www.ledger.example.com -d ledger.example.com --webroot "$LAB_WEBROOT" --force --ignore-ledger
check_eq "--ignore-ledger issues anyway" 0 "$RC"
check "--ignore-ledger warns" grep -q "ignore-ledger" "$TEST_TMP/ign.err"
check_eq "live version 2 after --ignore-ledger" "2" "$(live_version www.ledger.example.com)"

# A failed authorization is recorded per identifier.
mkdir -p "$TEST_TMP/nowhere"
run_bh "$TEST_TMP/fail" issue -d broken.example.net --challenge-dir "$TEST_TMP/nowhere"
check_eq "an unservable challenge fails" 1 "$RC"
run_bh "$TEST_TMP/limits3" limits --json
check_eq "the failed authorization is counted" "1" \
  "$(json_get "$TEST_TMP/limits3.out" "j['accounts'][0]['failed_authorizations'].get('broken.example.net', 0)")"

# With a failed-authorization limit of 1, the next try is refused offline.
echo '{"failed_authorizations_per_identifier": {"max": 1, "window_seconds": 3600}}' >"$LAB_DIR/state/limits.json"
run_bh "$TEST_TMP/fail2" issue -d broken.example.net --challenge-dir "$TEST_TMP/nowhere"
check_eq "a retry over the failed-authorization limit exits 1" 1 "$RC"
check "the refusal names failed authorizations" grep -q "failed authorizations per identifier" "$TEST_TMP/fail2.err"

echo '{"no_such_limit": {"max": 1, "window_seconds": 1}}' >"$LAB_DIR/state/limits.json"
run_bh "$TEST_TMP/badlimits" limits
check_eq "a typo in limits.json is a usage error" 2 "$RC"
rm -f "$LAB_DIR/state/limits.json"

lab_finish
