#!/usr/bin/env bash
# `issue` for a certificate that exists: with the same settings it says
# "exists and is not due"; with different names, key type or CA it says what
# differs and re-issues (the staging-then-production flow is the CA case);
# leaving names out needs --force and is refused without it, changing
# nothing.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_test_init
lab_start_or_die "$TEST_TMP/lab"

run_bh "$TEST_TMP/reg" account register --email admin@example.org --agree-tos
check_eq "account register exits 0" 0 "$RC"
run_bh "$TEST_TMP/i1" issue --name ch -d ch.test --webroot "$LAB_WEBROOT"
check_eq "issue exits 0" 0 "$RC"
run_bh "$TEST_TMP/i2" issue --name ch -d ch.test --webroot "$LAB_WEBROOT"
check_eq "the same issue again exits 0" 0 "$RC"
check "... saying it exists and is not due" grep -q "exists and is not due" "$TEST_TMP/i2.out"
check_eq "... and changing nothing" 1 "$(live_version ch)"

run_bh "$TEST_TMP/i3" issue --name ch -d ch.test -d www.ch.test --webroot "$LAB_WEBROOT"
check_eq "issue with a name more exits 0" 0 "$RC"
check "... saying what differs" grep -q "differs from what is stored (names added: www.ch.test); re-issuing" "$TEST_TMP/i3.out"
check_eq "... and re-issues" "ch.test,www.ch.test" "$(cert_names "$(cert_dir ch)/live/cert.pem")"

run_bh "$TEST_TMP/i4" issue --name ch -d ch.test --webroot "$LAB_WEBROOT"
check_eq "leaving a name out without --force is a usage error" 2 "$RC"
check "... naming the name and --force" grep -q "also covers www.ch.test.*--force" "$TEST_TMP/i4.err"
check_eq "... and changes nothing" 2 "$(live_version ch)"
run_bh "$TEST_TMP/i5" issue --name ch -d ch.test --webroot "$LAB_WEBROOT" --force
check_eq "with --force it re-issues" 0 "$RC"
check "... naming the dropped name" grep -q "names dropped: www.ch.test" "$TEST_TMP/i5.out"
check_eq "... for the remaining name" "ch.test" "$(cert_names "$(cert_dir ch)/live/cert.pem")"

run_bh "$TEST_TMP/i6" issue --name ch -d ch.test --webroot "$LAB_WEBROOT" --key-type ec384
check_eq "a new key type re-issues" 0 "$RC"
check "... saying so" grep -q "key type: ec256 -> ec384" "$TEST_TMP/i6.out"
check_eq "... as version 4" 4 "$(live_version ch)"

# Staging first, then production: the second command names another CA
# (here the same Pebble under another name) and must re-issue there.
other="${LAB_URL/127.0.0.1/localhost}"
"$BULKHEAD_BIN" --state-dir "$LAB_DIR/state" --server "$other" --ca-bundle "$LAB_CA" \
  account register --email admin@example.org --agree-tos >"$TEST_TMP/reg2.out" 2>&1
check_eq "an account with the second CA" 0 "$?"
"$BULKHEAD_BIN" --state-dir "$LAB_DIR/state" --server "$other" --ca-bundle "$LAB_CA" \
  issue --name ch -d ch.test --webroot "$LAB_WEBROOT" --key-type ec384 >"$TEST_TMP/i7.out" 2>"$TEST_TMP/i7.err"
check_eq "issue against the other CA exits 0" 0 "$?"
check "... saying the CA differs" grep -qF "CA: $LAB_URL -> $other" "$TEST_TMP/i7.out"
check_eq "... and re-issues from it" 5 "$(live_version ch)"
check "renew now uses the new CA" grep -qF "\"server\": \"$other\"" "$(cert_dir ch)/settings.json"

# An internationalized name goes to the CA as punycode and is shown both ways.
run_bh "$TEST_TMP/idn" issue --name idn -d 'bücher.test' --webroot "$LAB_WEBROOT"
check_eq "issue for an IDN exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/idn.err"
check_eq "the certificate names the A-label" "xn--bcher-kva.test" "$(cert_names "$(cert_dir idn)/live/cert.pem")"
check "issue shows both forms" grep -q "names: *xn--bcher-kva.test (bücher.test)" "$TEST_TMP/idn.out"
run_bh "$TEST_TMP/idnl" list
check "list shows both forms" grep -q "xn--bcher-kva.test (bücher.test)" "$TEST_TMP/idnl.out"
run_bh "$TEST_TMP/idnbad" issue --name bad -d $'b\xffd.test' --webroot "$LAB_WEBROOT"
check_eq "a name that is not valid UTF-8 is a usage error" 2 "$RC"

lab_finish
