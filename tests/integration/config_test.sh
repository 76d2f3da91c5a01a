#!/usr/bin/env bash
# The configuration file against Pebble: `config check` says what renew
# would do; `renew --cron --config FILE` issues what is missing, is silent
# when the state matches, re-issues a certificate whose table changed
# (naming what differs, names dropped included), and leaves a certificate
# the file does not name as it is; every error names file, line and key.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_test_init
lab_start_or_die "$TEST_TMP/lab"

conf="$TEST_TMP/bulkhead.toml"
write_conf() {
  cat >"$conf" <<TOML
# what this host's certificates should be
email = "admin@example.org"
key-type = "ec256"

[certificate.a]
names = ["a.test"]
webroot = "$LAB_WEBROOT"

[certificate.b]
names = [$1]
webroot = "$LAB_WEBROOT"
key-type = "$2"
TOML
}
write_conf '"b.test", "www.b.test"' ec384

run_bh "$TEST_TMP/reg" account register --email admin@example.org --agree-tos
check_eq "account register exits 0" 0 "$RC"
run_bh "$TEST_TMP/x" issue --name x -d x.test --webroot "$LAB_WEBROOT"
check_eq "a certificate issued by hand exits 0" 0 "$RC"

# --- config check before anything is issued -----------------------------------------
run_bh "$TEST_TMP/c1" --config "$conf" config check
check_eq "config check exits 0" 0 "$RC"
check "it says the file is valid" grep -q "bulkhead.toml: valid, 2 certificates" "$TEST_TMP/c1.out"
check "a: to be issued" grep -q "^  a: issue: in the file, not managed yet" "$TEST_TMP/c1.out"
check "x: not in the file, left as it is" grep -q "^  x: not in the file: left as it is" "$TEST_TMP/c1.out"
check_eq "config check issued nothing" "x" "$(ls "$LAB_DIR/state/certs" | tr '\n' ' ' | sed 's/ $//')"

# --- renew --cron makes the state match ------------------------------------------------
run_bh "$TEST_TMP/r1" --config "$conf" renew --cron
check_eq "renew --cron with the file exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/r1.err"
check "it says it issued a" grep -q "^issued a from $conf" "$TEST_TMP/r1.out"
check "... and b" grep -q "^issued b from $conf" "$TEST_TMP/r1.out"
check_eq "b has the file's names" "b.test,www.b.test" "$(cert_names "$(cert_dir b)/live/cert.pem")"
check "b has the file's key type (P-384)" sh -c "openssl x509 -in '$(cert_dir b)/live/cert.pem' -noout -text | grep -q 'NIST CURVE: P-384'"
check_eq "the notice about x stays out of a --cron run's output" "" "$(cat "$TEST_TMP/r1.err")"

run_bh "$TEST_TMP/r2" --config "$conf" renew --cron
check_eq "a second renew --cron exits 0" 0 "$RC"
check_eq "... and prints nothing" "" "$(cat "$TEST_TMP/r2.out" "$TEST_TMP/r2.err")"
check_eq "... and changed nothing" 1 "$(live_version b)"

run_bh "$TEST_TMP/r3" --config "$conf" renew
check "without --cron the certificate not in the file gets a one-line notice" \
  grep -q "^x: not in $conf; renewed from its own settings, never deleted" "$TEST_TMP/r3.out"

# --- a changed table is re-issued, saying what differs ---------------------------------
write_conf '"b.test", "c.b.test"' ec256
run_bh "$TEST_TMP/c2" --config "$conf" config check
check "config check names the differences" \
  grep -q "^  b: re-issue: names added: c.b.test; names dropped: www.b.test; key type: ec384 -> ec256" \
  "$TEST_TMP/c2.out"
run_bh "$TEST_TMP/r4" --config "$conf" renew --cron
check_eq "renew --cron after the change exits 0" 0 "$RC"
check "it says what differs before re-issuing" \
  grep -q "^b: $conf (line [0-9]*) differs from what is stored: names added: c.b.test; names dropped: www.b.test" \
  "$TEST_TMP/r4.out"
check "... and that it re-issued b" grep -q "^re-issued b from $conf (version 2" "$TEST_TMP/r4.out"
check_eq "b now has the new names" "b.test,c.b.test" "$(cert_names "$(cert_dir b)/live/cert.pem")"
check_eq "a was left alone" 1 "$(live_version a)"
check_eq "x was never deleted" 1 "$(live_version x)"

# --- the file's email is the contact of a new account -------------------------------
other="${LAB_URL/127.0.0.1/localhost}"
"$BULKHEAD_BIN" --state-dir "$LAB_DIR/state" --server "$other" --ca-bundle "$LAB_CA" \
  --config "$conf" account register --agree-tos >"$TEST_TMP/reg2.out" 2>&1
check_eq "account register without --email, with the file, exits 0" 0 "$?"
"$BULKHEAD_BIN" --state-dir "$LAB_DIR/state" --server "$other" --ca-bundle "$LAB_CA" \
  account show --json >"$TEST_TMP/show2.out" 2>&1
check "... and the account has the file's address" grep -q "mailto:admin@example.org" "$TEST_TMP/show2.out"

# --- errors name file, line and key ----------------------------------------------------
bad="$TEST_TMP/bad.toml"
printf '[certificate.a]\nnames = ["a.test"]\nwebrot = "/srv"\n' >"$bad"
run_bh "$TEST_TMP/e1" --config "$bad" config check
check_eq "an unknown key exits 2" 2 "$RC"
check "... naming file, line and key" grep -qF "$bad:3: certificate.a.webrot: unknown key" "$TEST_TMP/e1.err"
printf '[certificate.a]\nnames = ["a.test"]\nwebroot = "srv/www"\n' >"$bad"
run_bh "$TEST_TMP/e2" --config "$bad" renew
check_eq "a relative path exits 2" 2 "$RC"
check "... naming it" grep -qF "$bad:3: certificate.a.webroot: \"srv/www\" is not an absolute path" "$TEST_TMP/e2.err"
printf 'email = "a@b"\n[certificate.a\n' >"$bad"
run_bh "$TEST_TMP/e3" --config "$bad" config check
check_eq "a syntax error exits 2" 2 "$RC"
check "... naming file and line" grep -qF "$bad:2:" "$TEST_TMP/e3.err"
printf '[certificate.a]\nnames = ["*.a.test"]\nwebroot = "/srv"\n' >"$bad"
run_bh "$TEST_TMP/e4" --config "$bad" config check
check_eq "settings issue would refuse are refused (a wildcard over http-01)" 2 "$RC"
check "... naming the table" grep -qF "$bad:1: certificate.a:" "$TEST_TMP/e4.err"
printf '[certificate.a]\nnames = ["a.test"]\nwebroot = "/srv"\ndns-hook = "/bin/true"\n' >"$bad"
run_bh "$TEST_TMP/e5" --config "$bad" config check
check_eq "two challenge methods are refused" 2 "$RC"
run_bh "$TEST_TMP/e6" --config "$TEST_TMP/missing.toml" config check
check_eq "an explicit --config that does not exist exits 2" 2 "$RC"
if [ "$(id -u)" -eq 0 ]; then
  cp "$conf" "$TEST_TMP/open.toml"
  chmod 0666 "$TEST_TMP/open.toml"
  run_bh "$TEST_TMP/e7" --config "$TEST_TMP/open.toml" renew
  check_eq "root refuses a file that others may write" 2 "$RC"
  check "... saying why" grep -q "others may write" "$TEST_TMP/e7.err"
fi
# (a copy: as root the file must be root's, whoever owns the checkout)
cp "$(dirname "${BASH_SOURCE[0]}")/../../dist/bulkhead.toml.example" "$TEST_TMP/example.toml"
run_bh "$TEST_TMP/ex" --config "$TEST_TMP/example.toml" config check
check_eq "the shipped example configuration is valid" 0 "$RC"
check_eq "no error run issued anything" 1 "$(live_version a)"

lab_finish
