#!/usr/bin/env bash
# A secret crosses no fork: with dns-01 over RFC 2136 the TSIG key is read
# by the challenge role itself, before its sandbox, so neither the parent
# nor any other role (above all net, which parses the CA's answers) ever
# holds it. While an order waits (--dns-wait keeps every role alive), the
# test reads the memory of every bulkhead process through /proc/PID/mem and
# looks for the key's secret, as text and as bytes. As a check that the
# scan can find it at all, the challenge role must hold it.
#
# Needs root (reading another process's memory), as CI runs.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/integration/lib_knot.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib_knot.sh"
lab_test_init

if [ "$(id -u)" -ne 0 ]; then
  echo "ok - skipped: reading other processes' memory needs root"
  lab_finish
  exit
fi

BH_PID=""
cleanup() {
  if [ -n "$BH_PID" ]; then
    kill "$BH_PID" 2>/dev/null
    wait "$BH_PID" 2>/dev/null
  fi
  lab_knot_cleanup
  _lab_test_cleanup
}
trap cleanup EXIT

K="$TEST_TMP/knot"
if ! knot_start "$K" example.test; then
  echo "not ok - knotd starts"
  exit 1
fi
KNOT="$(knot_addr "$K")"
export LAB_DNS_SERVER="$KNOT"
LAB_NO_WEB=1 lab_start_or_die "$TEST_TMP/lab"
run_bh "$TEST_TMP/reg" account register --email dns@example.org --agree-tos
check_eq "account register exits 0" 0 "$RC"

bh issue -d mem.example.test --name mem --dns-rfc2136 "$KNOT" --tsig-key "$K/tsig.key" \
  --dns-resolver "$KNOT" --dns-timeout 20 --dns-wait 20 \
  >"$TEST_TMP/issue.out" 2>"$TEST_TMP/issue.err" &
BH_PID=$!

# Wait (with a deadline) until the record is published: every role is up.
deadline=$((SECONDS + 60))
while [ $SECONDS -lt $deadline ] && [ -z "$(knot_txt "$K" _acme-challenge.mem.example.test)" ]; do
  kill -0 "$BH_PID" 2>/dev/null || break
  sleep 0.2
done
check "the challenge record is published while the order waits" \
  test -n "$(knot_txt "$K" _acme-challenge.mem.example.test)"

# scan_memory SECRET_TEXT PID...: prints "comm pid found|clean" per process.
scan_memory() {
  python3 - "$@" <<'PY'
import base64, re, sys
secret = sys.argv[1].strip().encode()
needles = [secret, base64.b64decode(secret)]
for pid in sys.argv[2:]:
    try:
        comm = open(f"/proc/{pid}/comm").read().strip()
        maps = open(f"/proc/{pid}/maps").read().splitlines()
        mem = open(f"/proc/{pid}/mem", "rb", 0)
    except OSError as e:
        print(f"unreadable {pid} {e}")
        continue
    found = False
    for line in maps:
        m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+)", line)
        if not m or m.group(3)[0] != "r" or "[vvar]" in line or "[vsyscall]" in line:
            continue
        start, end = int(m.group(1), 16), int(m.group(2), 16)
        # A sanitizer build reserves terabytes of shadow memory: no secret
        # lives there, and reading it would never end.
        if end - start > (1 << 34):
            continue
        # Read in overlapping chunks, so a needle across a boundary is seen.
        step, overlap = 1 << 24, 64
        pos = start
        while pos < end and not found:
            try:
                mem.seek(pos)
                chunk = mem.read(min(step + overlap, end - pos))
            except OSError:
                break
            found = any(n in chunk for n in needles)
            pos += step
        if found:
            break
    print(f"{comm} {pid} {'found' if found else 'clean'}")
PY
}

# descendants PID: PID and every process below it.
descendants() {
  local child
  echo "$1"
  for child in $(pgrep -P "$1"); do
    descendants "$child"
  done
}
mapfile -t pids < <(descendants "$BH_PID")
scan_memory "$(cat "$K/tsig.secret")" "${pids[@]}" >"$TEST_TMP/scan.txt"
sed 's/^/# /' "$TEST_TMP/scan.txt"
check "the scan saw the net role" grep -q '^bh-net ' "$TEST_TMP/scan.txt"
check "the scan finds the secret in the challenge role (the scan works)" \
  grep -q '^bh-challenge .* found$' "$TEST_TMP/scan.txt"
holders="$(grep ' found$' "$TEST_TMP/scan.txt" | grep -v '^bh-challenge ' | cut -d' ' -f1 | paste -sd, -)"
check_eq "no process but the challenge role holds the TSIG secret" "" "$holders"
check_fails "no process was unreadable" grep -q '^unreadable' "$TEST_TMP/scan.txt"

RC=0
wait "$BH_PID" || RC=$?
BH_PID=""
check_eq "the issue completes" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/issue.err"
check_no_sanitizer "$TEST_TMP/issue.err" issue
lab_finish
