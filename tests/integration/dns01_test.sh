#!/usr/bin/env bash
# dns-01: issuing through RFC 2136 (with a wildcard name), a drop directory
# and a hook, against a Knot server that is authoritative for example.test
# and that Pebble resolves with; CNAME delegation; a lagging server named in
# the error; records and drop files gone afterwards, also after failures.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/integration/lib_knot.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib_knot.sh"
lab_test_init

APPLIER_PID=""
cleanup() {
  if [ -n "$APPLIER_PID" ]; then
    kill "$APPLIER_PID" 2>/dev/null
    wait "$APPLIER_PID" 2>/dev/null
  fi
  lab_knot_cleanup
  _lab_test_cleanup
}
trap cleanup EXIT

K="$TEST_TMP/knot"
if ! knot_start "$K" example.test \
  "_acme-challenge.alias CNAME _acme-challenge.delegated"; then
  echo "not ok - knotd starts"
  exit 1
fi
KNOT="$(knot_addr "$K")"
export LAB_DNS_SERVER="$KNOT"
LAB_NO_WEB=1 lab_start_or_die "$TEST_TMP/lab"
run_bh "$TEST_TMP/reg" account register --email dns@example.org --agree-tos
check_eq "account register exits 0" 0 "$RC"

DNS=(--dns-resolver "$KNOT" --dns-timeout 20)

# empty_dir DIR: true if DIR has no entries at all.
empty_dir() {
  [ -z "$(ls -A "$1")" ]
}

# --- RFC 2136, with a wildcard ------------------------------------------------
run_bh "$TEST_TMP/rfc" issue -d example.test -d '*.example.test' --name rfc \
  --dns-rfc2136 "$KNOT" --tsig-key "$K/tsig.key" "${DNS[@]}"
check_eq "rfc2136: issue with a wildcard exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/rfc.err"
check_eq "rfc2136: the certificate has both names" "$(sorted_names '*.example.test' example.test)" \
  "$(cert_names "$(cert_dir rfc)/live/fullchain.pem")"
check_eq "rfc2136: the TXT records are deleted afterwards" "" \
  "$(knot_txt "$K" _acme-challenge.example.test)"
check "rfc2136: the settings record the method for renew" \
  grep -rqs '"dns-rfc2136"' "$(cert_dir rfc)"

# A wrong key is refused by the server, and the error says so.
printf 'acme-update:%s\n' "$(openssl rand -base64 32)" >"$TEST_TMP/wrong.key"
run_bh "$TEST_TMP/rfcbad" issue -d bad.example.test --name rfcbad \
  --dns-rfc2136 "$KNOT" --tsig-key "$TEST_TMP/wrong.key" "${DNS[@]}"
check_eq "rfc2136: a wrong TSIG key fails" 1 "$RC"
check "rfc2136: the error names the update and the server" \
  grep -q "RFC 2136 add of TXT _acme-challenge.bad.example.test. .*$KNOT" "$TEST_TMP/rfcbad.err"

# --- drop directory -----------------------------------------------------------
# The test plays the zone builder: a loop copies each dropped line into Knot
# (by a signed update), except for names containing "ignored".
DROP="$TEST_TMP/drop"
mkdir -p "$DROP" "$TEST_TMP/applied"
applier() {
  local f name ttl type value
  declare -A seen
  while :; do
    for f in "$DROP"/*; do
      [ -f "$f" ] || continue
      case "$f" in *.tmp-* | *ignored*) continue ;; esac
      [ -n "${seen[$f]:-}" ] && continue
      read -r name ttl _ type value <"$f" || continue
      if knot_update "$K" "update add $name $ttl $type $value" >/dev/null 2>&1; then
        seen[$f]=1
        cp "$f" "$TEST_TMP/applied/"
      fi
    done
    sleep 0.05
  done
}
applier &
APPLIER_PID=$!

run_bh "$TEST_TMP/drop" issue -d www.example.test --name drop --dns-drop "$DROP" "${DNS[@]}"
check_eq "drop: issue exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/drop.err"
check "drop: the drop file is removed afterwards" empty_dir "$DROP"
applied="$(cat "$TEST_TMP"/applied/* 2>/dev/null)"
if [[ "$applied" =~ ^_acme-challenge\.www\.example\.test\.\ 60\ IN\ TXT\ \"[A-Za-z0-9_-]{43}\"$ ]]; then
  ok "drop: the file held exactly one TXT line"
else
  not_ok "drop: the file held exactly one TXT line" "$applied"
fi

# Failed validation (nothing publishes the record; --dns-wait skips the
# check): the drop file is removed all the same.
run_bh "$TEST_TMP/dropfail" issue -d ignored.example.test --name dropfail --dns-drop "$DROP" \
  --dns-resolver "$KNOT" --dns-wait 1
check_eq "drop: a failed validation exits 1" 1 "$RC"
check "drop: the error is the CA's dns-01 failure" grep -q "dns-01" "$TEST_TMP/dropfail.err"
check "drop: the drop file is removed after the failure" empty_dir "$DROP"

# A lagging server: the propagation check names it and gives up in time.
dead_port="$(python3 "$LAB_LIB_DIR/freeport.py" 1)"
run_bh "$TEST_TMP/lag" issue -d lag.example.test --name lag --dns-drop "$DROP" \
  --dns-resolver "127.0.0.1:$dead_port" --dns-timeout 2
check_eq "propagation: a server that never answers fails the run" 1 "$RC"
check "propagation: the error names the lagging server" \
  grep -q "server 127.0.0.1:$dead_port does not serve the TXT record" "$TEST_TMP/lag.err"
check "propagation: the drop file is removed after the failure" empty_dir "$DROP"

# --- hook, and CNAME delegation -------------------------------------------------
HOOK="$TEST_TMP/hook.sh"
cat >"$HOOK" <<EOH
#!/bin/sh
# add|del NAME VALUE, through knsupdate.
[ "\$BULKHEAD_DNS_NAME" = "\$2" ] && [ "\$BULKHEAD_DNS_VALUE" = "\$3" ] || exit 9
case "\$1" in
  add) cmd="update add \$2. 60 TXT \"\$3\"" ;;
  del) cmd="update delete \$2. TXT \"\$3\"" ;;
  *) exit 2 ;;
esac
echo "\$1 \$2" >>"$TEST_TMP/hook.log"
printf 'server 127.0.0.1 %s\nzone example.test.\n%s\nsend\n' "$(knot_port "$K")" "\$cmd" |
  knsupdate -y "hmac-sha256:$KNOT_KEY_NAME:$(cat "$K/tsig.secret")"
EOH
chmod 0755 "$HOOK"

run_bh "$TEST_TMP/hook" issue -d hook.example.test -d alias.example.test --name hook \
  --dns-hook "$HOOK" "${DNS[@]}"
check_eq "hook: issue exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/hook.err"
check "hook: ran add for the name" grep -qx "add _acme-challenge.hook.example.test" "$TEST_TMP/hook.log"
check "hook: ran del for the name" grep -qx "del _acme-challenge.hook.example.test" "$TEST_TMP/hook.log"
check "cname: the record is written where the CNAME points" \
  grep -qx "add _acme-challenge.delegated.example.test" "$TEST_TMP/hook.log"
check "cname: and deleted there" \
  grep -qx "del _acme-challenge.delegated.example.test" "$TEST_TMP/hook.log"
check_eq "hook: nothing is left in the zone" "" \
  "$(knot_txt "$K" _acme-challenge.hook.example.test; knot_txt "$K" _acme-challenge.delegated.example.test)"

lab_finish
