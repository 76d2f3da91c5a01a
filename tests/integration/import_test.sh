#!/usr/bin/env bash
# import certbot / import lego against state the real clients made with
# Pebble: the account key and URL work for a renewal, every certbot version
# is kept with live where certbot's live link points, the renewal settings
# are mapped, what cannot be mapped is refused with the reason, and the
# source directory is never modified.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_test_init
lab_start_or_die "$TEST_TMP/lab"

# tree_sum DIR: one checksum over every path, mode, link target and content.
tree_sum() {
  (cd "$1" && find . -printf '%p %m %y %l\n' | sort && find . -type f -print0 | sort -z |
    xargs -0 sha256sum) | sha256sum
}

D="$TEST_TMP/certbot"
certbot_run() {
  REQUESTS_CA_BUNDLE="$LAB_CA" certbot "$@" --non-interactive --server "$LAB_URL" \
    --config-dir "$D/etc" --work-dir "$D/work" --logs-dir "$D/logs" >"$D/certbot.log" 2>&1
}
mkdir -p "$D"
if ! certbot_run certonly --agree-tos --register-unsafely-without-email \
  --webroot -w "$LAB_WEBROOT" -d imp.test -d www.imp.test; then
  not_ok "certbot certonly against Pebble" "$(tail -n 20 "$D/certbot.log")"
  exit 1
fi
if ! certbot_run renew --force-renewal --no-random-sleep-on-renew; then
  not_ok "certbot renew against Pebble" "$(tail -n 20 "$D/certbot.log")"
  exit 1
fi
ok "certbot issued imp.test and renewed it"
# A certificate whose renewal uses a DNS plugin is refused with the reason.
cp -a "$D/etc/renewal/imp.test.conf" "$D/etc/renewal/dnsimp.test.conf"
sed -i 's/^authenticator = webroot/authenticator = dns-cloudflare/' "$D/etc/renewal/dnsimp.test.conf"
cp -a "$D/etc/archive/imp.test" "$D/etc/archive/dnsimp.test"
mkdir -p "$D/etc/live/dnsimp.test"
ln -s ../../archive/dnsimp.test/cert2.pem "$D/etc/live/dnsimp.test/cert.pem"

# A version whose key is not its certificate's is refused, naming the files.
cp -a "$D/etc/renewal/imp.test.conf" "$D/etc/renewal/badkey.test.conf"
cp -a "$D/etc/archive/imp.test" "$D/etc/archive/badkey.test"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
  -out "$D/etc/archive/badkey.test/privkey1.pem" 2>/dev/null
mkdir -p "$D/etc/live/badkey.test"
ln -s ../../archive/badkey.test/cert2.pem "$D/etc/live/badkey.test/cert.pem"

before="$(tree_sum "$D/etc")"
run_bh "$TEST_TMP/imp" import certbot "$D/etc"
check_eq "import certbot exits 1 when something was refused" 1 "$RC"
check "the account is imported" grep -q "^account .*: imported" "$TEST_TMP/imp.out"
check "imp.test is imported with both versions, live at 2" \
  grep -q "^certificate imp.test: imported 2 versions (live: 2)" "$TEST_TMP/imp.out"
check "the DNS-plugin certificate is refused, saying why and what to use instead" \
  grep -q "certificate dnsimp.test: refused: .*cannot run certbot's DNS plugins.*--dns-hook" \
  "$TEST_TMP/imp.err"
check "a version whose key does not match is refused, naming it" \
  grep -q "certificate badkey.test: refused: archive/badkey.test/\*1.pem: the private key is not the key of the certificate" \
  "$TEST_TMP/imp.err"
check "... and nothing of it is stored" test ! -e "$(cert_dir badkey.test)"
check_eq "the certbot directory is unchanged" "$before" "$(tree_sum "$D/etc")"

# --- the account -------------------------------------------------------------
url="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["uri"])' \
  <"$(ls "$D"/etc/accounts/*/*/*/regr.json)")"
run_bh "$TEST_TMP/show" account show --json
check_eq "account show works with the imported account" 0 "$RC"
check_eq "... and shows certbot's account URL" "$url" \
  "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])' <"$TEST_TMP/show.out")"
acct="$(ls -d "$LAB_DIR"/state/accounts/*/default)"
check_eq "the imported key is private (0400)" 400 "$(file_mode "$acct/account.key")"

# --- the certificate ------------------------------------------------------------
dir="$(cert_dir imp.test)"
check_eq "two versions kept, live at 2" "1 2 2" "$(version_dirs imp.test | paste -sd' ') $(live_version imp.test)"
check_eq "version 1 is certbot's cert1.pem" "$(cert_serial "$D/etc/archive/imp.test/cert1.pem")" \
  "$(cert_serial "$dir/1/cert.pem")"
check_eq "live is certbot's current certificate" "$(cert_serial "$D/etc/live/imp.test/cert.pem")" \
  "$(cert_serial "$dir/live/cert.pem")"
setting() {
  python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[k]
print(",".join(v) if isinstance(v, list) else v)' "$1" <"$dir/settings.json"
}
check_eq "settings: the names" "imp.test,www.imp.test" "$(setting names)"
check_eq "settings: the method" "webroot" "$(setting challenge.method)"
check_eq "settings: the webroot" "$LAB_WEBROOT" "$(setting challenge.target)"
check_eq "settings: the CA" "$LAB_URL" "$(setting server)"
check_eq "settings: the key type (certbot's ecdsa default)" "ec256" "$(setting key_type)"

run_bh "$TEST_TMP/again" import certbot "$D/etc"
check_eq "importing again refuses the certificate already managed" 1 "$RC"
check "... saying so" grep -q "already has a certificate named imp.test" "$TEST_TMP/again.err"
check "... and accepts the same account as already imported" \
  grep -q "already imported" "$TEST_TMP/again.out"

run_bh "$TEST_TMP/renew" renew --force --name imp.test
check_eq "renew --force of the imported certificate succeeds against Pebble" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/renew.err"
check_eq "... making version 3" 3 "$(live_version imp.test)"
check_eq "the certbot directory is still unchanged" "$before" "$(tree_sum "$D/etc")"

# --- lego ---------------------------------------------------------------------
L="$TEST_TMP/lego"
if ! LEGO_CA_CERTIFICATES="$LAB_CA" lego --server "$LAB_URL" --accept-tos --email a@b.example \
  --path "$L" --domains imp2.test --http --http.webroot "$LAB_WEBROOT" run \
  >"$TEST_TMP/lego.log" 2>&1; then
  not_ok "lego run against Pebble" "$(tail -n 20 "$TEST_TMP/lego.log")"
  exit 1
fi
ok "lego issued imp2.test"
lbefore="$(tree_sum "$L")"
S2="$TEST_TMP/state2"
bh2() {
  RC=0
  "$BULKHEAD_BIN" --state-dir "$S2" --server "$LAB_URL" --ca-bundle "$LAB_CA" "$@" \
    >"$TEST_TMP/l.out" 2>"$TEST_TMP/l.err" || RC=$?
}
bh2 import lego "$L"
check_eq "import lego without a method exits 1" 1 "$RC"
check "... importing the account" grep -q "^account a@b.example .*: imported" "$TEST_TMP/l.out"
check "... and refusing the certificate, saying renew needs a method" \
  grep -q "certificate imp2.test: refused: lego keeps no renewal settings.*--webroot" "$TEST_TMP/l.err"
bh2 import lego --webroot "$LAB_WEBROOT" "$L"
check_eq "import lego --webroot exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/l.err"
check "... importing the certificate" grep -q "^certificate imp2.test: imported names imp2.test, webroot" \
  "$TEST_TMP/l.out"
check_eq "the live certificate is lego's" "$(cert_serial "$L/certificates/imp2.test.crt")" \
  "$(cert_serial "$S2/certs/imp2.test/live/cert.pem")"
bh2 account show --json
check_eq "account show works with lego's account" \
  "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["registration"]["uri"])' <"$L"/accounts/*/a@b.example/account.json)" \
  "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])' <"$TEST_TMP/l.out")"
bh2 renew --force --name imp2.test
check_eq "renew --force of lego's certificate succeeds against Pebble" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/l.err"
RC=0
"$BULKHEAD_BIN" --state-dir "$TEST_TMP/state3" --server https://other.example/dir import lego \
  --webroot "$LAB_WEBROOT" "$L" >"$TEST_TMP/l.out" 2>"$TEST_TMP/l.err" || RC=$?
check_eq "lego accounts of another CA are refused" 1 "$RC"
check "... naming the CA they belong to" grep -q "belongs to the CA at 127.0.0.1_" "$TEST_TMP/l.err"
check_eq "the lego directory is unchanged" "$lbefore" "$(tree_sum "$L")"

# --- a different account for the same CA is refused ------------------------------
# state2 holds lego's account for the lab's CA; certbot's is another key.
bh2 import certbot "$D/etc"
check_eq "importing another account for the same CA exits 1" 1 "$RC"
check "... naming the reason" grep -q "already has an account for .* with another key" \
  "$TEST_TMP/l.err"
check "... while the certificates are still imported" \
  grep -q "^certificate imp.test: imported" "$TEST_TMP/l.out"

lab_finish
