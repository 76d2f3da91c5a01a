#!/usr/bin/env bash
# Compartments seen from outside: one issuance runs under strace, and the
# trace must show each secret and each write permission in its own process
# (the account key only in a signer that never connects, domain keys and
# tokens never in a process that talks to the CA). Then `bulkhead doctor`
# on a sane lab, on a broken account key and with a web user.
#
# A corrupted IPC frame cannot be injected cleanly from the command line
# (the channels are socketpairs between forked processes, with no hook to
# reach them); src/ipc's unit tests and fuzz target cover frame decoding.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_test_init
lab_start_or_die "$TEST_TMP/lab"

# analyze_trace TRACE CA_PORT CHALLENGE_DIR: reads an `strace -f` log and
# prints shell assignments, each a space-separated list of process ids
# (threads are folded into their process through the traced clone calls):
#   PARENT          the first process (bulkhead itself)
#   KEY_OPENERS     processes that opened account.key
#   SECRET_OPENERS  processes that opened any account.key or privkey.pem*
#   CONNECTORS      processes that called connect() at all
#   CA_CONNECTORS   processes that connected to CA_PORT
#   PENDING_KEY     processes that created a file pending/privkey.pem*
#   TOKEN_WRITERS   processes that created a file in CHALLENGE_DIR
#   EXECS           number of execve calls
analyze_trace() {
  python3 - "$@" <<'EOF'
import re
import sys

trace, ca_port, chal_dir = sys.argv[1], sys.argv[2], sys.argv[3].rstrip("/") + "/"
line_re = re.compile(r"^(\d+)\s+(.*)$")
resumed_re = re.compile(r"^<\.\.\. (\w+) resumed>(.*)$")
pending = {}
calls = []  # (tid, full call text)
first = None
with open(trace, errors="replace") as f:
    for raw in f:
        m = line_re.match(raw.rstrip("\n"))
        if not m:
            continue
        tid, rest = int(m.group(1)), m.group(2)
        if first is None:
            first = tid
        if rest.endswith("<unfinished ...>"):
            pending[tid] = rest[: -len("<unfinished ...>")]
            continue
        r = resumed_re.match(rest)
        if r:
            rest = pending.pop(tid, r.group(1) + "(") + r.group(2)
        calls.append((tid, rest))

# Fold threads into processes: clone(...CLONE_THREAD...) = child.
owner = {}
for tid, text in calls:
    m = re.match(r"^(clone3?|fork|vfork)\((.*)\)\s+=\s+(\d+)", text)
    if m and int(m.group(3)) > 0:
        child = int(m.group(3))
        owner[child] = tid if "CLONE_THREAD" in m.group(2) else child

def proc(tid):
    seen = set()
    while tid in owner and owner[tid] != tid and tid not in seen:
        seen.add(tid)
        tid = owner[tid]
    return tid

sets = {k: set() for k in ("KEY_OPENERS", "SECRET_OPENERS", "CONNECTORS", "CA_CONNECTORS",
                           "PENDING_KEY", "TOKEN_WRITERS")}
execs = 0
port_re = re.compile(r"sin6?_port=htons\((\d+)\)")
for tid, text in calls:
    p = proc(tid)
    name = text.split("(", 1)[0]
    if name in ("open", "openat", "openat2"):
        m = re.search(r'"((?:[^"\\]|\\.)*)"', text)
        if not m:
            continue
        path = m.group(1)
        # Relative to a directory descriptor (strace -y shows its path):
        # the challenge role writes through one (http01_dir.cc).
        d = re.match(r"openat2?\(\d+<([^>]*)>", text)
        if d and not path.startswith("/"):
            path = d.group(1) + "/" + path
        base = path.rsplit("/", 1)[-1]
        creates = "O_CREAT" in text
        if base == "account.key" or base.startswith("account.key."):
            if base == "account.key":
                sets["KEY_OPENERS"].add(p)
            sets["SECRET_OPENERS"].add(p)
        if base.startswith("privkey.pem"):
            sets["SECRET_OPENERS"].add(p)
            if creates and "/pending/" in path:
                sets["PENDING_KEY"].add(p)
        if creates and path.startswith(chal_dir):
            sets["TOKEN_WRITERS"].add(p)
    elif name == "connect":
        sets["CONNECTORS"].add(p)
        m = port_re.search(text)
        if m and m.group(1) == ca_port:
            sets["CA_CONNECTORS"].add(p)
    elif name == "execve":
        execs += 1

print(f"PARENT='{proc(first) if first is not None else ''}'")
for k, v in sets.items():
    print(f"{k}='{' '.join(str(x) for x in sorted(v))}'")
print(f"EXECS='{execs}'")
EOF
}

# count LIST: the number of words in the space-separated LIST.
count() {
  local -a words
  read -ra words <<<"$1"
  echo "${#words[@]}"
}

# shares LIST1 LIST2: true if the two space-separated lists have a member
# in common.
shares() {
  local a b
  for a in $1; do
    for b in $2; do
      [ "$a" = "$b" ] && return 0
    done
  done
  return 1
}

run_bh "$TEST_TMP/reg" account register --email admin@example.org --agree-tos
check_eq "account register exits 0" 0 "$RC"
key="$(find "$LAB_DIR/state/accounts" -path '*/default/account.key' 2>/dev/null | head -n 1)"
check "account.key exists" test -s "$key"

# --- one issuance under strace ------------------------------------------------
ca_port="${LAB_URL#https://127.0.0.1:}"
ca_port="${ca_port%%/*}"
chal="$LAB_WEBROOT/.well-known/acme-challenge"
trace="$TEST_TMP/issue.trace"
# issue_untraced: the same issuance without strace, so the doctor checks
# below have a certificate to look at.
issue_untraced() {
  run_bh "$TEST_TMP/traced" issue --name traced -d traced.test -d www.traced.test \
    --webroot "$LAB_WEBROOT"
  check_eq "issue (untraced) exits 0" 0 "$RC"
}
if ! command -v strace >/dev/null 2>&1; then
  not_ok "strace is installed (scripts/deps.sh installs it)"
  issue_untraced
elif ! strace -f -qq -o /dev/null true 2>/dev/null; then
  # Some containers forbid ptrace; the rest of the file still runs.
  echo "ok - # SKIP strace cannot trace here (ptrace not permitted)"
  issue_untraced
else
  RC=0
  # LeakSanitizer cannot run under ptrace; sanitizer builds skip it here.
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
  strace -f -qq -y -s 4096 -o "$trace" \
    -e trace=open,openat,openat2,connect,execve,clone,clone3,fork,vfork \
    "$BULKHEAD_BIN" --state-dir "$LAB_DIR/state" --server "$LAB_URL" --ca-bundle "$LAB_CA" \
    issue --name traced -d traced.test -d www.traced.test --webroot "$LAB_WEBROOT" \
    >"$TEST_TMP/traced.out" 2>"$TEST_TMP/traced.err" || RC=$?
  check_eq "issue under strace exits 0" 0 "$RC"
  [ "$RC" -eq 0 ] || cat "$TEST_TMP/traced.err"
  check_no_sanitizer "$TEST_TMP/traced.err" "issue under strace"
  check "issue under strace made live/fullchain.pem" test -s "$(cert_dir traced)/live/fullchain.pem"

  PARENT="" KEY_OPENERS="" SECRET_OPENERS="" CONNECTORS="" CA_CONNECTORS=""
  PENDING_KEY="" TOKEN_WRITERS="" EXECS=""
  eval "$(analyze_trace "$trace" "$ca_port" "$chal")"
  facts="parent=$PARENT account.key=[$KEY_OPENERS] secrets=[$SECRET_OPENERS] connect=[$CONNECTORS] ca=[$CA_CONNECTORS] pending-key=[$PENDING_KEY] tokens=[$TOKEN_WRITERS] execve=$EXECS"
  echo "# trace: $facts"

  check_eq "trace: account.key is opened by exactly one process" 1 "$(count "$KEY_OPENERS")"
  check_fails "trace: the process that opens account.key makes no connect()" \
    shares "$KEY_OPENERS" "$CONNECTORS"
  check_fails "trace: the parent does not open account.key" shares "$PARENT" "$KEY_OPENERS"
  if [ "$(count "$CA_CONNECTORS")" -ge 1 ]; then
    ok "trace: some process connects to the CA's port $ca_port"
  else
    not_ok "trace: some process connects to the CA's port $ca_port" "$facts"
  fi
  check_fails "trace: no process that connects to the CA opens privkey.pem or account.key" \
    shares "$CA_CONNECTORS" "$SECRET_OPENERS"
  check_fails "trace: the parent does not connect to the CA" shares "$PARENT" "$CA_CONNECTORS"
  check_eq "trace: pending/privkey.pem is created by exactly one process (keys)" 1 \
    "$(count "$PENDING_KEY")"
  check_fails "trace: the keys process makes no connect()" shares "$PENDING_KEY" "$CONNECTORS"
  check_fails "trace: the keys process is not the signer" shares "$PENDING_KEY" "$KEY_OPENERS"
  check_eq "trace: token files are created by exactly one process (challenge)" 1 \
    "$(count "$TOKEN_WRITERS")"
  check_fails "trace: the token writer makes no connect()" shares "$TOKEN_WRITERS" "$CONNECTORS"
  check_fails "trace: the token writer holds no key" shares "$TOKEN_WRITERS" "$SECRET_OPENERS"
  check_eq "trace: nothing is executed besides bulkhead itself" 1 "$EXECS"
  check "no token files left in the webroot" test -z "$(find "$chal" -type f 2>/dev/null)"
fi

# --- doctor on a sane lab -------------------------------------------------------
# A sane deployment keeps the account directories closed to the user renew's
# roles run as (here the one running the test); doctor_test.sh checks that.
chmod a-w "$LAB_DIR/state/accounts" "$(dirname "$(dirname "$key")")" "$(dirname "$key")"
run_bh "$TEST_TMP/doc" doctor
check_eq "doctor exits 0 on a sane setup" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/doc.out" "$TEST_TMP/doc.err"
check "doctor prints the Landlock line" grep -qE '^(PASS|WARN)  landlock: ' "$TEST_TMP/doc.out"
check "doctor prints the seccomp line" grep -qE '^(PASS|WARN)  seccomp: ' "$TEST_TMP/doc.out"
for role in signer keys net challenge store; do
  check "doctor describes the $role role" grep -qE "^(PASS|WARN)  role $role: " "$TEST_TMP/doc.out"
done
check "doctor passes the account key" grep -qE '^PASS  account key .*/default: ' "$TEST_TMP/doc.out"
check "doctor checks the challenge dir of traced" grep -qE '^PASS  challenge dir traced: ' "$TEST_TMP/doc.out"
check "doctor checks the private keys of traced" grep -qE '^PASS  private keys traced: ' "$TEST_TMP/doc.out"
check "doctor lines are STATUS  check: detail" \
  test -z "$(grep -vE '^(PASS|INFO|WARN|FAIL)  [^:]+: ' "$TEST_TMP/doc.out")"

run_bh "$TEST_TMP/docjson" doctor --json
check_eq "doctor --json exits 0" 0 "$RC"
check "doctor --json is an array of {check,status,detail,fix}" python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))
assert isinstance(a, list) and a
for o in a:
    assert set(o) == {"check", "status", "detail", "fix"}, o
    assert o["status"] in ("PASS", "INFO", "WARN", "FAIL"), o
assert any(o["check"] == "landlock" for o in a)
' "$TEST_TMP/docjson.out"

# --- doctor on a writable account key ---------------------------------------
chmod 0666 "$key"
run_bh "$TEST_TMP/docbad" doctor
check_eq "doctor exits 1 when account.key is 0666" 1 "$RC"
check "... with a FAIL line for the account key naming the fix" \
  grep -qE "^FAIL  account key .*: .*; fix: chmod 0400 $key" "$TEST_TMP/docbad.out"
run_bh "$TEST_TMP/docbadjson" doctor --json
check_eq "doctor --json exits 1 too" 1 "$RC"
check "... and reports status FAIL" grep -q '"status": "FAIL"' "$TEST_TMP/docbadjson.out"
chmod 0400 "$key"
run_bh "$TEST_TMP/docfixed" doctor
check_eq "doctor exits 0 again after chmod 0400" 0 "$RC"

# --- doctor with a web user --------------------------------------------------------
run_bh "$TEST_TMP/docnouser" doctor --web-user no-such-user-bulkhead
check_eq "doctor --web-user with an unknown user exits 2" 2 "$RC"
run_bh "$TEST_TMP/docnocert" doctor --cert-name not-managed
check_eq "doctor --cert-name with an unmanaged name exits 2" 2 "$RC"
if id nobody >/dev/null 2>&1 && [ -d "$chal" ]; then
  # The web user must be able to reach the lab's webroot.
  chmod 0711 "$TEST_TMP"
  run_bh "$TEST_TMP/docweb" doctor --web-user nobody --cert-name traced
  check_eq "doctor --web-user nobody exits 0 on the lab" 0 "$RC"
  [ "$RC" -eq 0 ] || cat "$TEST_TMP/docweb.out"
  check "... and passes the certificate dir" grep -qE '^PASS  certificate dir: ' "$TEST_TMP/docweb.out"
  chmod 0777 "$chal"
  run_bh "$TEST_TMP/docwebbad" doctor --web-user nobody --cert-name traced
  check_eq "doctor exits 1 when the web user may write the challenge dir" 1 "$RC"
  check "... naming the directory" \
    grep -qF "FAIL  challenge dir traced: $chal is writable by nobody" "$TEST_TMP/docwebbad.out"
  chmod 0755 "$chal"
  chmod 0700 "$TEST_TMP"
else
  echo "ok - # SKIP no user nobody or no challenge dir"
fi
# Writable again, so that a non-root run can clean up.
chmod u+w "$LAB_DIR/state/accounts" "$(dirname "$(dirname "$key")")" "$(dirname "$key")"


# --- account register and revoke --with-cert-key under strace -------------------
# The account commands run in compartments too: a new account key is created
# only by the account role, which never connects, and revocation by the
# certificate's key reads that key only in a signer that never connects.
# creators TRACE NAME: processes whose open of a file named NAME created it.
creators() {
  grep -E "open(at2?)?\(.*/${2//./\\.}\".*O_CREAT" "$1" | awk '{print $1}' | sort -u | tr '\n' ' '
}
if command -v strace >/dev/null 2>&1 && strace -f -qq -o /dev/null true 2>/dev/null; then
  reg_state="$TEST_TMP/reg-state"
  reg_trace="$TEST_TMP/register.trace"
  RC=0
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
  strace -f -qq -s 4096 -o "$reg_trace" \
    -e trace=open,openat,openat2,connect,execve,clone,clone3,fork,vfork \
    "$BULKHEAD_BIN" --state-dir "$reg_state" --server "$LAB_URL" --ca-bundle "$LAB_CA" \
    account register --email admin@example.org --agree-tos \
    >"$TEST_TMP/regtraced.out" 2>"$TEST_TMP/regtraced.err" || RC=$?
  check_eq "account register under strace exits 0" 0 "$RC"
  [ "$RC" -eq 0 ] || cat "$TEST_TMP/regtraced.err"
  check_no_sanitizer "$TEST_TMP/regtraced.err" "account register under strace"
  check "account register under strace printed the account" \
    grep -q '^registered account https://' "$TEST_TMP/regtraced.out"
  PARENT="" KEY_OPENERS="" SECRET_OPENERS="" CONNECTORS="" CA_CONNECTORS=""
  PENDING_KEY="" TOKEN_WRITERS="" EXECS=""
  eval "$(analyze_trace "$reg_trace" "$ca_port" "$chal")"
  key_creators="$(creators "$reg_trace" account.key)"
  facts="parent=$PARENT account.key=[$KEY_OPENERS] created-by=[$key_creators] secrets=[$SECRET_OPENERS] connect=[$CONNECTORS] ca=[$CA_CONNECTORS] execve=$EXECS"
  echo "# register trace: $facts"
  check_eq "register trace: account.key is created by exactly one process" 1 \
    "$(count "$key_creators")"
  check_eq "register trace: account.key is opened by exactly one process" 1 \
    "$(count "$KEY_OPENERS")"
  check "register trace: the process that creates account.key is the one that opens it" \
    shares "$key_creators" "$KEY_OPENERS"
  check_fails "register trace: the process that creates account.key makes no connect()" \
    shares "$key_creators" "$CONNECTORS"
  check_fails "register trace: the parent does not open account.key" \
    shares "$PARENT" "$SECRET_OPENERS"
  if [ "$(count "$CA_CONNECTORS")" -ge 1 ]; then
    ok "register trace: some process connects to the CA's port $ca_port"
  else
    not_ok "register trace: some process connects to the CA's port $ca_port" "$facts"
  fi
  check_fails "register trace: no process that connects opens a private key" \
    shares "$CONNECTORS" "$SECRET_OPENERS"
  check_fails "register trace: the parent does not connect to the CA" \
    shares "$PARENT" "$CA_CONNECTORS"
  check_eq "register trace: nothing is executed besides bulkhead itself" 1 "$EXECS"
  reg_key="$(find "$reg_state/accounts" -name account.key 2>/dev/null | head -n 1)"
  check_eq "register under strace: account.key is 0400" 400 "$(file_mode "$reg_key")"

  # An unreachable CA leaves no key behind: it is stored only after the CA answered.
  dead_port="$(python3 "$(dirname "${BASH_SOURCE[0]}")/freeport.py" 1)"
  RC=0
  "$BULKHEAD_BIN" --state-dir "$TEST_TMP/dead-state" --server "https://127.0.0.1:$dead_port/dir" \
    --ca-bundle "$LAB_CA" --http-timeout 5 account register --email admin@example.org \
    --agree-tos >"$TEST_TMP/regdead.out" 2>"$TEST_TMP/regdead.err" || RC=$?
  check_no_sanitizer "$TEST_TMP/regdead.err" "account register (unreachable CA)"
  check_eq "account register with an unreachable CA exits 1" 1 "$RC"
  check "... and stores no account key" \
    test -z "$(find "$TEST_TMP/dead-state" -name 'account.key*' 2>/dev/null)"

  rv_trace="$TEST_TMP/revoke.trace"
  RC=0
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
  strace -f -qq -s 4096 -o "$rv_trace" \
    -e trace=open,openat,openat2,connect,execve,clone,clone3,fork,vfork \
    "$BULKHEAD_BIN" --state-dir "$LAB_DIR/state" --server "$LAB_URL" --ca-bundle "$LAB_CA" \
    revoke --name traced --with-cert-key --reason superseded \
    >"$TEST_TMP/rvtraced.out" 2>"$TEST_TMP/rvtraced.err" || RC=$?
  check_eq "revoke --with-cert-key under strace exits 0" 0 "$RC"
  [ "$RC" -eq 0 ] || cat "$TEST_TMP/rvtraced.err"
  check_no_sanitizer "$TEST_TMP/rvtraced.err" "revoke under strace"
  PARENT="" KEY_OPENERS="" SECRET_OPENERS="" CONNECTORS="" CA_CONNECTORS=""
  PENDING_KEY="" TOKEN_WRITERS="" EXECS=""
  eval "$(analyze_trace "$rv_trace" "$ca_port" "$chal")"
  facts="parent=$PARENT account.key=[$KEY_OPENERS] secrets=[$SECRET_OPENERS] connect=[$CONNECTORS] ca=[$CA_CONNECTORS] execve=$EXECS"
  echo "# revoke trace: $facts"
  check_eq "revoke trace: the certificate's key is opened by exactly one process" 1 \
    "$(count "$SECRET_OPENERS")"
  check_eq "revoke trace: no process opens account.key" 0 "$(count "$KEY_OPENERS")"
  check_fails "revoke trace: the process that opens the key makes no connect()" \
    shares "$SECRET_OPENERS" "$CONNECTORS"
  check_fails "revoke trace: the parent does not open the key" shares "$PARENT" "$SECRET_OPENERS"
  if [ "$(count "$CA_CONNECTORS")" -ge 1 ]; then
    ok "revoke trace: some process connects to the CA's port $ca_port"
  else
    not_ok "revoke trace: some process connects to the CA's port $ca_port" "$facts"
  fi
  check_fails "revoke trace: the parent does not connect to the CA" \
    shares "$PARENT" "$CA_CONNECTORS"
  check_eq "revoke trace: nothing is executed besides bulkhead itself" 1 "$EXECS"
else
  echo "ok - # SKIP strace cannot trace here (account register, revoke)"
fi

lab_finish
