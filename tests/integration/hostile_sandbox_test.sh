#!/usr/bin/env bash
# Compartments against a compromised role, for real: with test hooks
# (cmake -DBULKHEAD_TEST_HOOKS=ON, src/roles/hostile.h), BULKHEAD_TEST_HOSTILE
# makes one role attack right after it entered its sandbox: reach the
# network past its port rule (MPTCP, UDP, raw, SCTP and packet sockets,
# TCP to another port), read the account key, read or trace or signal its
# parent, write outside its directory. Each attack must be blocked (the
# role's "blocked" line, or seccomp's "forbidden system call" report), the
# run must fail with a clear error, and nothing lasting may happen: the live
# certificate keeps its bytes, the account still works with its own key,
# and the next normal issuance succeeds.
#
# Without test hooks the test says "ok - skipped ..." and passes: the
# binary is asked for the hook action `report`, which a build with hooks
# answers with "bulkhead: hostile net report: SUCCEEDED: test hooks are
# built in ..." and a build without ignores.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_test_init
lab_start_or_die "$TEST_TMP/lab"

check "account register" bh account register --email hostile@example.org --agree-tos

# Do the roles of this binary have test hooks?
BULKHEAD_TEST_HOSTILE=net:report bh account show >"$TEST_TMP/report.out" 2>&1
if ! grep -q '^bulkhead: hostile net report: SUCCEEDED: test hooks are built in' "$TEST_TMP/report.out"; then
  echo "ok - skipped: $BULKHEAD_BIN was built without test hooks (cmake -DBULKHEAD_TEST_HOOKS=ON)"
  lab_finish
  exit $?
fi
ok "the binary has test hooks (the net role reports from inside its sandbox)"

issue() {
  bh issue --name hostile -d hostile.example --webroot "$LAB_WEBROOT" "$@"
}

check "a first certificate is issued normally" issue
LIVE="$(cert_dir hostile)/live"
keys=("$LAB_DIR"/state/accounts/*/default/account.key)
KEY="${keys[0]}"
check "the account key exists" test -s "$KEY"

# fingerprint: what must not change: the live version, the bytes of every
# live file, and the account key.
fingerprint() {
  {
    readlink "$LIVE"
    cat "$LIVE/cert.pem" "$LIVE/chain.pem" "$LIVE/fullchain.pem" "$LIVE/privkey.pem" "$KEY"
  } 2>&1 | sha256sum
}
BEFORE="$(fingerprint)"
THUMB_BEFORE="$(bh account show 2>/dev/null | sed -n 's/^thumbprint: *//p')"

MGMT_PORT="${LAB_MGMT##*:}"  # Pebble's management port: listening, not the CA's.
OUTSIDE="$TEST_TMP/outside"
mkdir -p "$OUTSIDE"

# attack ROLE ACTION [ARG]: one issuance in which ROLE performs ACTION.
attack() {
  local role="$1" action="$2" arg="${3:-}" spec out rc
  spec="$role:$action${arg:+:$arg}"
  out="$TEST_TMP/attack-$role-$action.out"
  BULKHEAD_TEST_HOSTILE="$spec" issue --force >"$out" 2>&1
  rc=$?
  if grep -q "^bulkhead: hostile $role $action: blocked: " "$out" ||
    grep -q "^bulkhead: $role role: forbidden system call " "$out"; then
    ok "$spec: blocked ($(grep -m1 -E "hostile $role $action|$role role: forbidden" "$out"))"
  else
    not_ok "$spec: blocked" "$(cat "$out")"
  fi
  if grep -q "SUCCEEDED" "$out"; then
    not_ok "$spec: no attack succeeded" "$(cat "$out")"
  fi
  if [ "$rc" -ne 0 ] && grep -q '^bulkhead: error: ' "$out"; then
    ok "$spec: the run fails (exit $rc) with an error"
  else
    not_ok "$spec: the run fails with an error" "exit $rc; $(cat "$out")"
  fi
  check_eq "$spec: the live certificate and the account key are unchanged" "$BEFORE" "$(fingerprint)"
}

# The net role: only TCP to the CA's port.
attack net mptcp-connect "127.0.0.1:$MGMT_PORT"
attack net udp-send "$LAB_DNS"
attack net raw-socket
attack net sctp-socket
attack net packet-socket
attack net tcp-connect "127.0.0.1:$MGMT_PORT"
attack net open-account-key "$KEY"
attack net read-proc-mem parent
attack net ptrace parent
attack net kill parent
attack net write-outside "$OUTSIDE/net"
# The signer holds the account key and nothing else.
attack signer write-outside "$OUTSIDE/signer"
attack signer udp-send "$LAB_DNS"
attack signer read-proc-mem parent
# The store writes only its certificate directory.
attack store write-outside "$LAB_DIR/state/store-outside"
attack store open-account-key "$KEY"
attack store tcp-connect "127.0.0.1:$MGMT_PORT"
# The challenge role writes only the token directory.
attack challenge open-account-key "$KEY"
attack challenge write-outside "$OUTSIDE/challenge"
attack challenge mptcp-connect "127.0.0.1:$MGMT_PORT"
# The keys role writes only pending/.
attack keys open-account-key "$KEY"
attack keys write-outside "$OUTSIDE/keys"
attack keys kill parent

for f in "$OUTSIDE/net" "$OUTSIDE/signer" "$LAB_DIR/state/store-outside" "$OUTSIDE/challenge" \
  "$OUTSIDE/keys"; do
  check "no role created $f" test ! -e "$f"
done

# A CA host that does not resolve stops the run before any role starts,
# naming the host (the net role could not look it up itself).
"$BULKHEAD_BIN" --state-dir "$TEST_TMP/nostate" --server https://acme.bulkhead.invalid/dir \
  account show >"$TEST_TMP/noresolve.out" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && grep -q "cannot resolve the CA's host acme.bulkhead.invalid" "$TEST_TMP/noresolve.out"; then
  ok "an unresolvable CA host is an error naming it (exit $rc)"
else
  not_ok "an unresolvable CA host is an error naming it" "exit $rc; $(cat "$TEST_TMP/noresolve.out")"
fi

# --require-sandbox wants roles that are not root.
if [ "$(id -u)" -eq 0 ] && ! id bulkhead >/dev/null 2>&1; then
  bh --require-sandbox issue --name hostile -d hostile.example --webroot "$LAB_WEBROOT" --force \
    >"$TEST_TMP/require.out" 2>&1
  rc=$?
  if [ "$rc" -eq 2 ] && grep -q -- "--require-sandbox: the roles would run as root" "$TEST_TMP/require.out"; then
    ok "--require-sandbox refuses roles that would run as root (exit 2)"
  else
    not_ok "--require-sandbox refuses roles that would run as root" "exit $rc; $(cat "$TEST_TMP/require.out")"
  fi
  check_eq "--require-sandbox: the live certificate is unchanged" "$BEFORE" "$(fingerprint)"
fi

# Nothing lasting: the account still answers with its own key, and the next
# normal issuance replaces the live certificate.
check_eq "account show works with the account's own key" "$THUMB_BEFORE" \
  "$(bh account show 2>/dev/null | sed -n 's/^thumbprint: *//p')"
version_before="$(live_version hostile)"
check "a normal issue --force succeeds afterwards" issue --force
if [ "$(live_version hostile)" != "$version_before" ]; then
  ok "the new certificate is live"
else
  not_ok "the new certificate is live" "live is still $version_before"
fi

lab_finish
