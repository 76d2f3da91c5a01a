#!/usr/bin/env bash
# Renewal: due logic, --cron silence and output, versions and the live link,
# key reuse, repeated challenge settings and pruning to five versions.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_test_init
lab_start_or_die "$TEST_TMP/lab"

live_serial() {
  cert_serial "$(cert_dir "$1")/live/cert.pem"
}

live_pubkey() {
  cert_pubkey "$(cert_dir "$1")/live/cert.pem"
}

run_bh "$TEST_TMP/reg" account register --email admin@example.org --agree-tos
check_eq "account register exits 0" 0 "$RC"
run_bh "$TEST_TMP/i1" issue --name r1 -d r1.test -d www.r1.test --webroot "$LAB_WEBROOT"
check_eq "issue r1 exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/i1.err"

# --- nothing due -------------------------------------------------------------
run_bh "$TEST_TMP/cron0" renew --cron
check_eq "renew --cron with nothing due exits 0" 0 "$RC"
check_eq "renew --cron with nothing due prints nothing on stdout" "" "$(cat "$TEST_TMP/cron0.out")"
check_eq "renew --cron with nothing due prints nothing on stderr" "" "$(cat "$TEST_TMP/cron0.err")"
check_eq "... and leaves r1 at version 1" 1 "$(live_version r1)"

# --- forced renewal ------------------------------------------------------------
s1="$(live_serial r1)"
k1="$(live_pubkey r1)"
run_bh "$TEST_TMP/f" renew --name r1 --force
check_eq "renew --name r1 --force exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/f.err"
s2="$(live_serial r1)"
if [ -n "$s2" ] && [ "$s2" != "$s1" ]; then
  ok "forced renewal gives a new serial"
else
  not_ok "forced renewal gives a new serial" "before $s1 after $s2"
fi
check_eq "live switched to version 2" 2 "$(live_version r1)"
check "version 1 kept" test -s "$(cert_dir r1)/1/cert.pem"
check_eq "version 1 still holds the old certificate" "$s1" "$(cert_serial "$(cert_dir r1)/1/cert.pem")"
if [ -n "$k1" ] && [ "$(live_pubkey r1)" != "$k1" ]; then
  ok "renewal without --reuse-key uses a new key"
else
  not_ok "renewal without --reuse-key uses a new key"
fi
check_eq "renewed certificate keeps the names" "r1.test,www.r1.test" "$(cert_names "$(cert_dir r1)/live/cert.pem")"
v="$(openssl verify -CAfile "$LAB_ROOT" -untrusted "$(cert_dir r1)/live/fullchain.pem" "$(cert_dir r1)/live/cert.pem" 2>&1)"
check_eq "renewed fullchain verifies" "$(cert_dir r1)/live/cert.pem: OK" "$v"
if [ "$(cert_pubkey "$(cert_dir r1)/live/cert.pem")" = "$(key_pubkey "$(cert_dir r1)/live/privkey.pem")" ]; then
  ok "renewed certificate matches the live privkey.pem"
else
  not_ok "renewed certificate matches the live privkey.pem"
fi

# --- --days -----------------------------------------------------------------------
run_bh "$TEST_TMP/d1" renew --name r1 --days 1
check_eq "renew --days 1 exits 0" 0 "$RC"
check_eq "renew --days 1: not due, live stays at version 2" 2 "$(live_version r1)"
# Pebble's certificates last about 1826 days, so 3000 makes them due.
run_bh "$TEST_TMP/d3000" renew --name r1 --days 3000
check_eq "renew --days 3000 exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/d3000.err"
check_eq "renew --days 3000: due, live moves to version 3" 3 "$(live_version r1)"

# --- --reuse-key ---------------------------------------------------------------
run_bh "$TEST_TMP/rk" issue --name rk -d rk.test --webroot "$LAB_WEBROOT" --reuse-key
check_eq "issue --reuse-key exits 0" 0 "$RC"
rk1="$(live_pubkey rk)"
run_bh "$TEST_TMP/rkr" renew --name rk --force
check_eq "renew of a --reuse-key certificate exits 0" 0 "$RC"
check_eq "... moves to version 2" 2 "$(live_version rk)"
if [ -n "$rk1" ] && [ "$(live_pubkey rk)" = "$rk1" ]; then
  ok "--reuse-key: renewed certificate has the same public key"
else
  not_ok "--reuse-key: renewed certificate has the same public key"
fi

# --- renew repeats the challenge settings ----------------------------------------
# Renew gets no challenge flags, so it can only pass http-01 if it writes
# tokens where issue was told to (the challenge dir) again.
chal="$LAB_WEBROOT/.well-known/acme-challenge"
mkdir -p "$chal"
run_bh "$TEST_TMP/cd" issue --name cd -d cd.test --challenge-dir "$chal" --key-type ec384
check_eq "issue --challenge-dir --key-type ec384 exits 0" 0 "$RC"
run_bh "$TEST_TMP/cdr" renew --name cd --force
check_eq "renew without challenge flags exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/cdr.err"
check_eq "... and moves to version 2" 2 "$(live_version cd)"
if openssl pkey -in "$(cert_dir cd)/live/privkey.pem" -noout -text 2>/dev/null | grep -q secp384r1; then
  ok "renew repeats the key type (ec384)"
else
  not_ok "renew repeats the key type (ec384)"
fi
check "no token files left after renewals" test -z "$(find "$LAB_WEBROOT" -type f)"

# --- pruning to five versions -------------------------------------------------------
run_bh "$TEST_TMP/p0" issue --name prune -d prune.test --webroot "$LAB_WEBROOT"
check_eq "issue prune exits 0" 0 "$RC"
fails=0
for i in 1 2 3 4 5 6 7; do
  run_bh "$TEST_TMP/p$i" renew --name prune --force
  if [ "$RC" -ne 0 ]; then
    fails=$((fails + 1))
    cat "$TEST_TMP/p$i.err"
  fi
done
check_eq "7 forced renewals all exit 0" 0 "$fails"
check_eq "only the 5 newest versions remain" "4 5 6 7 8" "$(version_dirs prune | paste -sd' ' -)"
check_eq "live points at version 8" 8 "$(live_version prune)"
check "live is usable" test -s "$(cert_dir prune)/live/fullchain.pem"

# --- renew --cron output: one line per renewed certificate ----------------------------
run_bh "$TEST_TMP/cron" renew --cron --days 3000
check_eq "renew --cron --days 3000 exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/cron.err"
check_eq "renew --cron prints one line per certificate" 4 "$(wc -l <"$TEST_TMP/cron.out")"
check_eq "renew --cron lines name each certificate once" "cd,prune,r1,rk" \
  "$(sed -n 's/^renewed \([^ ]*\) (expires .*)$/\1/p' "$TEST_TMP/cron.out" | sort | paste -sd, -)"
check_eq "renew --cron writes nothing to stderr on success" "" "$(cat "$TEST_TMP/cron.err")"
check_eq "r1 moved to version 4" 4 "$(live_version r1)"

# --- list --json agrees with the files -----------------------------------------------
run_bh "$TEST_TMP/list" list --json
check_eq "list --json exits 0" 0 "$RC"
listed="$(python3 -c '
import json, sys
for c in sorted(json.load(open(sys.argv[1])), key=lambda c: c["name"]):
    print(c["name"], c["version"], ",".join(sorted(c["names"])), c["serial"].lower(),
          c["not_after"], str(c["due"]).lower(), c["key_type"])' "$TEST_TMP/list.out" 2>&1)"
expected=""
for n in cd prune r1 rk; do
  live="$(cert_dir "$n")/live"
  end="$(date -u -d "$(openssl x509 -in "$live/cert.pem" -noout -enddate | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ)"
  kt=ec256
  [ "$n" = cd ] && kt=ec384
  expected="$expected$n $(live_version "$n") $(cert_names "$live/cert.pem") $(cert_serial "$live/cert.pem" | tr 'A-F' 'a-f' | sed 's/^0*//') $end false $kt
"
done
listed="$(echo "$listed" | awk '{ sub(/^0+/, "", $4); print }')"
check_eq "list --json: name version names serial not_after due key_type match the live files" \
  "${expected%$'\n'}" "$listed"

lab_finish
