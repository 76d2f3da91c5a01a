#!/usr/bin/env bash
# Rollback against real certificates from Pebble: list --versions, the
# settings.json kept with each version, rollback to the previous good
# version, refusal of a damaged one with nothing changed, and renewal after
# a rollback continuing the version numbers.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_test_init
lab_start_or_die "$TEST_TMP/lab"

live_serial() {
  cert_serial "$(cert_dir "$1")/live/cert.pem"
}

run_bh "$TEST_TMP/reg" account register --email admin@example.org --agree-tos
check_eq "account register exits 0" 0 "$RC"
run_bh "$TEST_TMP/i1" issue --name rb -d rb.test --webroot "$LAB_WEBROOT"
check_eq "issue rb exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/i1.err"
for n in 2 3; do
  run_bh "$TEST_TMP/f$n" renew --name rb --force
  check_eq "forced renewal $n exits 0" 0 "$RC"
done
check_eq "three versions, live at 3" 3 "$(live_version rb)"
dir="$(cert_dir rb)"
check "each version keeps the settings it was issued with" test -s "$dir/2/settings.json"
check_eq "the kept settings are private" 600 "$(file_mode "$dir/2/settings.json")"
s2="$(cert_serial "$dir/2/cert.pem")"
s3="$(live_serial rb)"

# --- list --versions ------------------------------------------------------------
run_bh "$TEST_TMP/lv" list --versions --json
check_eq "list --versions exits 0" 0 "$RC"
check_eq "list --versions shows the three versions, newest first" "3 2 1" \
  "$(python3 -c 'import json,sys; print(*[v["version"] for v in json.load(sys.stdin)[0]["versions"]])' <"$TEST_TMP/lv.out")"
check_eq "... the live one marked" "True" \
  "$(python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["versions"][0]["live"])' <"$TEST_TMP/lv.out")"
# (openssl shows a leading zero byte's digits, list leaves leading zeros out)
s2_short="$s2"
while [ "${s2_short#0}" != "$s2_short" ]; do s2_short="${s2_short#0}"; done
check_eq "... with each version's serial" "$s2_short" \
  "$(python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["versions"][1]["serial"].upper())' <"$TEST_TMP/lv.out" | tr -d '\n')"
run_bh "$TEST_TMP/lvh" list --versions
check "the human form has a row per version" grep -qE '^  2 +  +[0-9T:-]+Z +yes +[0-9a-f]+ +ok$' "$TEST_TMP/lvh.out"

# --- rollback to the previous version --------------------------------------------
run_bh "$TEST_TMP/rb" rollback --name rb
check_eq "rollback exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/rb.err"
check_eq "live points at version 2" 2 "$(live_version rb)"
check_eq "the live certificate is version 2's" "$s2" "$(live_serial rb)"
if [ "$(cert_pubkey "$dir/live/cert.pem")" = "$(key_pubkey "$dir/live/privkey.pem")" ]; then
  ok "the live key matches the live certificate"
else
  not_ok "the live key matches the live certificate"
fi
check "version 3 is kept" test -s "$dir/3/cert.pem"
check "the output says what changed and how to undo it" grep -q "rollback --name rb --to 3" "$TEST_TMP/rb.out"

# --- a damaged version is refused and nothing changes --------------------------------
chmod u+w "$dir/1" "$dir/1/privkey.pem" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$TEST_TMP/other.pem" 2>/dev/null
cp "$TEST_TMP/other.pem" "$dir/1/privkey.pem"
run_bh "$TEST_TMP/bad" rollback --name rb --to 1
check_eq "rollback to a version whose key does not match exits 1" 1 "$RC"
check "... naming the reason" grep -q "privkey.pem is not the key of cert.pem" "$TEST_TMP/bad.err"
check_eq "... and live stays at version 2" 2 "$(live_version rb)"
run_bh "$TEST_TMP/none" rollback --name rb --to 9
check_eq "rollback to a version not kept is a usage error" 2 "$RC"
run_bh "$TEST_TMP/same" rollback --name rb --to 2
check_eq "rollback to the live version is a usage error" 2 "$RC"
run_bh "$TEST_TMP/fwd" rollback --name rb --to 3
check_eq "rolling forward again to version 3 works" 0 "$RC"
check_eq "... live is the newest certificate again" "$s3" "$(live_serial rb)"
run_bh "$TEST_TMP/back" rollback --name rb --to 2
check_eq "and back to 2" 2 "$(live_version rb)"

# --- renewal after a rollback ------------------------------------------------------------
run_bh "$TEST_TMP/f4" renew --name rb --force
check_eq "renewal after a rollback exits 0" 0 "$RC"
check_eq "... and makes version 4, after the highest number" 4 "$(live_version rb)"
check "rollback leaves no temporary link behind" test -z "$(find "$dir" -maxdepth 1 -name '*.tmp-*')"

# --- damaged live files: shown, then repaired by renew ----------------------------------
chmod u+w "$dir/4" "$dir/4/fullchain.pem"
head -c 100 "$dir/4/cert.pem" >"$dir/4/fullchain.pem"
run_bh "$TEST_TMP/ld" list
check "list shows the damaged live files" grep -q "! rb: the live files are damaged: fullchain.pem does not parse" "$TEST_TMP/ld.out"
run_bh "$TEST_TMP/dd" doctor --cert-name rb
check "doctor fails them, naming the repair" grep -qE "^FAIL +live files rb: version 4: fullchain.pem does not parse.*bulkhead renew --name rb" "$TEST_TMP/dd.out"
run_bh "$TEST_TMP/rep" renew --cron
check_eq "renew --cron with damaged live files exits 0" 0 "$RC"
check "... saying what it repaired, even under --cron" grep -q "live version 4 is damaged.*live is now version 3, the newest good one" "$TEST_TMP/rep.err"
check_eq "... live is version 3" 3 "$(live_version rb)"
run_bh "$TEST_TMP/ld2" list
check "list no longer shows damage" test -z "$(grep '!' "$TEST_TMP/ld2.out")"

# With no good version to go back to, renew re-issues.
run_bh "$TEST_TMP/solo" issue --name solo -d solo.test --webroot "$LAB_WEBROOT"
check_eq "issue solo exits 0" 0 "$RC"
sdir="$(cert_dir solo)"
chmod u+w "$sdir/1" "$sdir/1/privkey.pem"
cp "$TEST_TMP/other.pem" "$sdir/1/privkey.pem"
run_bh "$TEST_TMP/rep2" renew --cron --name solo
check_eq "renew with a damaged only version exits 0" 0 "$RC"
check "... saying it re-issues" grep -q "live version 1 is damaged (privkey.pem is not the key of cert.pem); no kept version is good, re-issuing" "$TEST_TMP/rep2.err"
check_eq "... and re-issued" 2 "$(live_version solo)"

lab_finish
