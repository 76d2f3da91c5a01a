#!/usr/bin/env bash
# Dry runs against Pebble: issue --dry-run, renew --dry-run and drill order
# for real into scratch storage and check the result, while the live
# certificates, the settings and the state directory stay exactly as they
# were; a certificate that cannot be renewed makes drill exit 1 naming it.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_test_init
lab_start_or_die "$TEST_TMP/lab"
state="$LAB_DIR/state"

snapshot() {  # every file under certs/ and root-settings/ with its content hash
  (cd "$state" && find certs root-settings -type f -o -type l 2>/dev/null | sort |
    while read -r f; do
      if [ -L "$f" ]; then echo "$f -> $(readlink "$f")"; else echo "$f $(sha256sum <"$f")"; fi
    done)
}

run_bh "$TEST_TMP/reg" account register --email admin@example.org --agree-tos
check_eq "account register exits 0" 0 "$RC"
run_bh "$TEST_TMP/i" issue --name dr -d dr.test --webroot "$LAB_WEBROOT"
check_eq "issue exits 0" 0 "$RC"
# A first renew adopts root's record of the settings (as any renew would);
# the state it leaves is what the dry runs must not change.
run_bh "$TEST_TMP/r0" renew --cron
before="$(snapshot)"

run_bh "$TEST_TMP/d1" issue --name dr -d dr.test -d www.dr.test --webroot "$LAB_WEBROOT" --dry-run
check_eq "issue --dry-run exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/d1.err"
check "it says what was issued and that nothing live changed" \
  grep -q "^dry run: dr issued by .*; nothing live changed" "$TEST_TMP/d1.out"
check_eq "the state is exactly as before" "$before" "$(snapshot)"
check "no scratch directory is left" test -z "$(find "$state" -maxdepth 1 -name 'dry-run-*')"
run_bh "$TEST_TMP/d2" issue --name fresh -d fresh.test --webroot "$LAB_WEBROOT" --dry-run
check_eq "issue --dry-run of a new certificate exits 0" 0 "$RC"
check "... and does not start managing it" test ! -e "$state/certs/fresh"

run_bh "$TEST_TMP/d3" renew --dry-run
check_eq "renew --dry-run exits 0" 0 "$RC"
check "... for the managed certificate" grep -q "^dry run: dr issued by" "$TEST_TMP/d3.out"
check_eq "... changing nothing" "$before" "$(snapshot)"

run_bh "$TEST_TMP/dr1" drill
check_eq "drill exits 0" 0 "$RC"
check "drill sums up" grep -q "^drill: 1 of 1 certificate renewed and checked in scratch storage; nothing live changed" "$TEST_TMP/dr1.out"

# A certificate whose challenge directory is not served cannot be renewed.
run_bh "$TEST_TMP/i2" issue --name broken -d broken.test --webroot "$LAB_WEBROOT"
check_eq "issue broken exits 0" 0 "$RC"
mkdir -p "$TEST_TMP/unserved"
python3 - "$state/certs/broken/settings.json" "$TEST_TMP/unserved" <<'PY'
import json, sys
p, target = sys.argv[1], sys.argv[2]
s = json.load(open(p))
s["challenge"]["method"] = "challenge-dir"
s["challenge"]["target"] = target
json.dump(s, open(p, "w"))
PY
run_bh "$TEST_TMP/r1" renew --cron
before="$(snapshot)"
run_bh "$TEST_TMP/dr2" drill
check_eq "drill with a certificate that cannot renew exits 1" 1 "$RC"
check "... naming it" grep -q "dry run for broken" "$TEST_TMP/dr2.err"
check "... while the other passes" grep -q "^dry run: dr issued by" "$TEST_TMP/dr2.out"
check "... and the summary counts it" grep -q "^drill: 1 of 2 certificates" "$TEST_TMP/dr2.out"
check_eq "... changing nothing" "$before" "$(snapshot)"

lab_finish
