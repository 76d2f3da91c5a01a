#!/usr/bin/env bash
# Privilege separation by user: started as root with --user, every role
# process switches to that user after opening what it needs (the signer
# after reading the account key) and before talking to any other role; the
# certificate directory and the webroot's acme-challenge directory are given
# to that user, and a directory the user cannot write is refused up front.
# Run as non-root, --user for another user is a usage error.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_test_init

if ! getent passwd nobody >/dev/null; then
  echo "ok - skipped: no user 'nobody' on this system"
  lab_finish
  exit
fi

if [ "$(id -u)" -ne 0 ]; then
  RC=0
  "$BULKHEAD_BIN" --state-dir "$TEST_TMP/state" --user nobody issue -d a.example.test \
    --webroot "$TEST_TMP/www" >"$TEST_TMP/nr.out" 2>"$TEST_TMP/nr.err" || RC=$?
  check_eq "--user for another user without root is a usage error" 2 "$RC"
  check "... saying it needs root" grep -q "needs root" "$TEST_TMP/nr.err"
  echo "# the remaining checks need root"
  lab_finish
  exit
fi

# The roles must reach the state, webroot and CA bundle as nobody.
chmod 0755 "$TEST_TMP"
lab_start_or_die "$TEST_TMP/lab"
chmod 0755 "$LAB_DIR/tls"
chmod 0644 "$LAB_CA"
nobody_uid="$(id -u nobody)"

run_bh "$TEST_TMP/reg" account register --email admin@example.org --agree-tos
check_eq "account register exits 0" 0 "$RC"
key="$(ls "$LAB_DIR"/state/accounts/*/default/account.key)"

# --- issue with --user nobody, traced ----------------------------------------
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
RC=0
strace -f -qq -o "$TEST_TMP/trace" -e trace=openat,connect,setresuid \
  "$BULKHEAD_BIN" --state-dir "$LAB_DIR/state" --server "$LAB_URL" --ca-bundle "$LAB_CA" \
  --user nobody issue -d user.example.test --webroot "$LAB_WEBROOT" \
  >"$TEST_TMP/issue.out" 2>"$TEST_TMP/issue.err" || RC=$?
check_eq "issue --user nobody exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/issue.err"
check_no_sanitizer "$TEST_TMP/issue.err" "issue --user nobody"
live="$LAB_DIR/state/certs/user.example.test/live"
check "the certificate is live" test -s "$live/fullchain.pem"
check_eq "the live key belongs to nobody" nobody "$(stat -L -c %U "$live/privkey.pem")"
check_eq "the live key stays 0600" 600 "$(stat -L -c %a "$live/privkey.pem")"
check_eq "the certificate directory belongs to nobody" nobody \
  "$(stat -c %U "$LAB_DIR/state/certs/user.example.test")"
check_eq "the account key stays root's" "root 400" "$(stat -c '%U %a' "$key")"
check_eq "the acme-challenge directory belongs to nobody" nobody \
  "$(stat -c %U "$LAB_WEBROOT/.well-known/acme-challenge")"
check_eq "no token file is left" "" "$(ls -A "$LAB_WEBROOT/.well-known/acme-challenge")"

# Per process, in order: which process opened the account key, switched
# user, connected. Every process that connected switched first; the key's
# opener opened it before switching; the parent (first pid) never switches.
verdict="$(python3 - "$TEST_TMP/trace" "$nobody_uid" <<'PY'
import re, sys
trace, uid = sys.argv[1], sys.argv[2]
events = {}
first = None
pending = {}  # Calls strace split into "<unfinished ...>" and "<... resumed>".
for line in open(trace, errors="replace"):
    m = re.match(r"^(\d+)\s+(.*)$", line.rstrip("\n"))
    if not m:
        continue
    pid, call = int(m.group(1)), m.group(2)
    first = pid if first is None else first
    if call.endswith("<unfinished ...>"):
        pending[pid] = call[: -len("<unfinished ...>")].rstrip()
        continue
    r = re.match(r"^<\.\.\. (\w+) resumed>(.*)$", call)
    if r:
        call = pending.pop(pid, r.group(1) + "(") + r.group(2)
    ev = events.setdefault(pid, [])
    if call.startswith("setresuid(") and call.rstrip().endswith("= 0") and re.search(rf"\(\s*{uid},\s*{uid},\s*{uid}\s*\)", call):
        ev.append("switch")
    elif call.startswith("openat(") and "account.key" in call and not re.search(r"= -1", call):
        ev.append("key")
    elif call.startswith("connect(") and "AF_INET" in call:
        ev.append("connect")
problems = []
switched = [p for p, ev in events.items() if "switch" in ev]
if len(switched) < 5:
    problems.append(f"only {len(switched)} processes switched user (want 5 roles)")
if "switch" in events.get(first, []):
    problems.append("the parent switched user")
for p, ev in events.items():
    if "connect" in ev and ("switch" not in ev or ev.index("connect") < ev.index("switch")):
        problems.append(f"pid {p} connected as root")
    if "key" in ev and ("switch" not in ev or ev.index("key") > ev.index("switch")):
        problems.append(f"pid {p} opened the account key without switching after")
openers = [p for p, ev in events.items() if "key" in ev]
if len(openers) != 1:
    problems.append(f"account key opened by {len(openers)} processes")
print("; ".join(problems) or "ok")
PY
)"
check_eq "trace: roles switch to nobody after opening, before connecting" ok "$verdict"

# --- renewal as nobody prunes and replaces -----------------------------------
run_bh "$TEST_TMP/renew" --user nobody renew --name user.example.test --force
check_eq "renew --force --user nobody exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/renew.err"
check_eq "renewal made version 2" 2 "$(live_version user.example.test)"

# --- BULKHEAD_USER, and a challenge directory nobody cannot write -----------
mkdir -p "$TEST_TMP/rootonly"
chmod 0755 "$TEST_TMP/rootonly"
RC=0
BULKHEAD_USER=nobody bh issue -d ro.example.test --challenge-dir "$TEST_TMP/rootonly" \
  >"$TEST_TMP/ro.out" 2>"$TEST_TMP/ro.err" || RC=$?
check_eq "an unwritable challenge directory fails" 1 "$RC"
check "... naming the directory, the user and the fix" \
  grep -q "challenge directory $TEST_TMP/rootonly is not writable by user nobody.*chown" "$TEST_TMP/ro.err"
check_fails "... and nothing went live" test -e "$LAB_DIR/state/certs/ro.example.test/live"

run_bh "$TEST_TMP/unknown" --user no-such-user-bh issue -d x.example.test --webroot "$LAB_WEBROOT"
check_eq "an unknown --user is a usage error" 2 "$RC"
check "... naming it" grep -q "no-such-user-bh" "$TEST_TMP/unknown.err"

lab_finish
