#!/usr/bin/env bash
# The integrity checker's policy (`doctor --ids-policy`) run by the real
# AIDE over a state directory that Pebble filled: after `aide --init`, a
# forced renewal (new version directory, moved `live`, a pruned version,
# rewritten settings) is reported as nothing, while a replaced account key
# or a modified stored certificate is reported by name. The mtree form is
# checked for what it must contain.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_test_init
if ! command -v aide >/dev/null; then
  echo "not ok - aide is installed (scripts/deps.sh test installs it)"
  exit 1
fi
lab_start_or_die "$TEST_TMP/lab"
state="$(cd "$LAB_DIR/state" 2>/dev/null && pwd -P || echo "$LAB_DIR/state")"

run_bh "$TEST_TMP/reg" account register --email admin@example.org --agree-tos
check_eq "account register exits 0" 0 "$RC"
run_bh "$TEST_TMP/i1" issue --name ids -d ids.test --webroot "$LAB_WEBROOT"
check_eq "issue exits 0" 0 "$RC"
for n in 2 3 4 5 6; do
  run_bh "$TEST_TMP/f$n" renew --name ids --force
done
check_eq "six versions were made, five kept" "2 3 4 5 6" "$(version_dirs ids | tr '\n' ' ' | sed 's/ $//')"

run_bh "$TEST_TMP/pol" doctor --ids-policy aide
check_eq "doctor --ids-policy aide exits 0" 0 "$RC"
check "the rules name the account directory" grep -q "/accounts/ 0 BulkheadFixed" "$TEST_TMP/pol.out"

# aide.conf: the databases are the test's; the rules are doctor's output.
conf="$TEST_TMP/aide.conf"
{
  echo "database_in=file:$TEST_TMP/aide.db"
  echo "database_out=file:$TEST_TMP/aide.db.new"
  echo "database_new=file:$TEST_TMP/aide.db.new"
  echo "gzip_dbout=no"
  echo "report_url=stdout"
  cat "$TEST_TMP/pol.out"
} >"$conf"
aide_run() {
  aide --config="$conf" "$@" >"$TEST_TMP/aide.out" 2>&1
  echo $?
}
check_eq "aide --init with the rules succeeds" 0 "$(aide_run --init)"
[ -s "$TEST_TMP/aide.db.new" ] && mv "$TEST_TMP/aide.db.new" "$TEST_TMP/aide.db"
check_eq "aide --check right after --init reports nothing" 0 "$(aide_run --check)"

# --- a renewal is not an intrusion ----------------------------------------------
run_bh "$TEST_TMP/f7" renew --name ids --force
check_eq "forced renewal exits 0" 0 "$RC"
check_eq "... which pruned version 2 and added version 7" "3 4 5 6 7" \
  "$(version_dirs ids | tr '\n' ' ' | sed 's/ $//')"
rc="$(aide_run --check)"
check_eq "aide --check after a renewal reports nothing" 0 "$rc"
[ "$rc" = 0 ] || cat "$TEST_TMP/aide.out"

# --- a changed stored certificate is -------------------------------------------------
v3="$(cert_dir ids)/3/cert.pem"
chmod u+w "$v3"
echo "# appended" >>"$v3"
rc="$(aide_run --check)"
check "aide --check reports a changed stored certificate (exit has the 'changed' bit)" \
  test $((rc & 4)) -ne 0
check "... naming it" grep -qF "$v3" "$TEST_TMP/aide.out"
# Put it back: what follows is about the key alone.
sed -i '$d' "$v3"

# --- a replaced account key is ---------------------------------------------------------
key="$(find "$state/accounts" -path '*/default/account.key' | head -n 1)"
check "account.key exists" test -s "$key"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$TEST_TMP/other.key" 2>/dev/null
chmod u+w "$key"
cat "$TEST_TMP/other.key" >"$key"
chmod 0400 "$key"
rc="$(aide_run --check)"
check "aide --check reports the replaced account key" test $((rc & 4)) -ne 0
check "... naming account.key" grep -qF "$key" "$TEST_TMP/aide.out"
check_no_mention() {
  ! grep -qF "$(cert_dir ids)/7" "$TEST_TMP/aide.out"
}
check "... and not the renewal's new version" check_no_mention
run_bh "$TEST_TMP/doc" doctor
check "doctor names the thumbprint mismatch as a FAIL" \
  grep -qE '^FAIL +account thumbprint' "$TEST_TMP/doc.out"

# --- mtree -------------------------------------------------------------------------------
run_bh "$TEST_TMP/mt" doctor --ids-policy mtree
check_eq "doctor --ids-policy mtree exits 0" 0 "$RC"
digest="$(sha256sum "$key" | cut -d' ' -f1)"
check "the mtree specification has the account key's digest" \
  grep -qE "/account\.key type=file mode=0400 .* sha256digest=$digest" "$TEST_TMP/mt.out"
check "... and ignores the certificate's changing contents" \
  grep -qE '^\./certs/ids type=dir .* ignore$' "$TEST_TMP/mt.out"
run_bh "$TEST_TMP/bad" doctor --ids-policy tripwire
check_eq "an unknown format is a usage error" 2 "$RC"

lab_finish
