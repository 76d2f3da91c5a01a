#!/usr/bin/env bash
# ARI (RFC 9773) and profiles, against Pebble behind ari_front.py (Debian's
# Pebble has neither): the renewal window is fetched, a time inside it is
# chosen once and kept, Retry-After is honoured, a window that moved earlier
# renews at once with "replaces", a refused "replaces" is retried without it,
# a malformed window falls back to the lifetime rule; --profile is sent and
# an unknown one refused with the offered list.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_test_init
lab_start_or_die "$TEST_TMP/lab"

FR="$TEST_TMP/front"
mkdir -p "$FR"
CTL="$FR/control.json"
FLOG="$FR/front.log"
: >"$FLOG"
t0="$(date +%s)"
echo "{\"mode\": \"window\", \"start_at\": $((t0 + 864000)), \"end_at\": $((t0 + 950400)), \"retry_after\": 3600}" >"$CTL"
if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout "$FR/key.pem" -out "$FR/cert.pem" -days 2 -subj "/CN=ari-front" \
  -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1; then
  echo "not ok - openssl makes the front's certificate"
  exit 1
fi
front_stop() {
  local pgid
  [ -s "$LAB_DIR/arifront.pid" ] || return 0
  pgid="$(cat "$LAB_DIR/arifront.pid")"
  kill -TERM -- "-$pgid" 2>/dev/null || true
  local deadline=$((SECONDS + 10))
  while _lab_alive "$pgid" && [ "$SECONDS" -lt "$deadline" ]; do
    sleep 0.02
  done
  _lab_alive "$pgid" && kill -KILL -- "-$pgid" 2>/dev/null
  rm -f "$LAB_DIR/arifront.pid"
}
trap 'front_stop; _lab_test_cleanup' EXIT

_lab_spawn arifront python3 "$LAB_LIB_DIR/ari_front.py" --upstream "${LAB_URL%/dir}" \
  --upstream-ca "$LAB_CA" --cert "$FR/cert.pem" --key "$FR/key.pem" --control "$CTL" \
  --log "$FLOG" || exit 1
deadline=$((SECONDS + 20))
port=""
until [ -n "$port" ]; do
  port="$(head -n 1 "$LAB_DIR/arifront.log" 2>/dev/null | grep -E '^[0-9]+$')"
  if [ -z "$port" ] && { [ "$SECONDS" -ge "$deadline" ] || ! _lab_alive "$(cat "$LAB_DIR/arifront.pid")"; }; then
    echo "not ok - ari_front starts"
    sed 's/^/#   /' "$LAB_DIR/arifront.log"
    exit 1
  fi
  sleep 0.05
done
FRONT_URL="https://127.0.0.1:$port/dir"

# bha ARGS...: bulkhead through the front.
run_bha() {
  local prefix="$1"
  shift
  RC=0
  timeout 120 "$BULKHEAD_BIN" --state-dir "$LAB_DIR/state" --server "$FRONT_URL" \
    --ca-bundle "$FR/cert.pem" "$@" >"$prefix.out" 2>"$prefix.err" || RC=$?
  check_no_sanitizer "$prefix.err" "$*"
}
json_get() {
  python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1" 2>/dev/null
}
# expected_cert_id PEM: base64url(AKI) "." base64url(serial DER content).
expected_cert_id() {
  python3 - "$1" <<'PY'
import base64, subprocess, sys
pem = sys.argv[1]
def out(*a):
    return subprocess.run(["openssl", "x509", "-in", pem, "-noout", *a], capture_output=True, text=True).stdout
aki = [l.strip() for l in out("-ext", "authorityKeyIdentifier").splitlines()[1:] if l.strip()][0]
aki = aki.replace("keyid:", "").replace(":", "")
serial = out("-serial").strip().split("=")[1]
s = bytes.fromhex(serial if len(serial) % 2 == 0 else "0" + serial).lstrip(b"\0") or b"\0"
if s[0] & 0x80:
    s = b"\0" + s
b = lambda x: base64.urlsafe_b64encode(x).rstrip(b"=").decode()
print(b(bytes.fromhex(aki)) + "." + b(s))
PY
}
# expire_check NAME: pretend the stored answer's Retry-After has passed.
expire_check() {
  python3 - "$(cert_dir "$1")/ari.json" <<'PY'
import json, sys
p = sys.argv[1]
j = json.load(open(p)); j["next_check"] = 0
json.dump(j, open(p, "w"))
PY
}
count() { grep -c "$1" "$FLOG"; }

run_bha "$TEST_TMP/reg" account register --email admin@example.org --agree-tos
check_eq "account register through the front exits 0" 0 "$RC"
run_bha "$TEST_TMP/issue" issue -d ari.example.com --webroot "$LAB_WEBROOT"
check_eq "issue through the front exits 0" 0 "$RC"
check "the first order names nothing it replaces" grep -q "^NEWORDER replaces= profile=$" "$FLOG"
live="$(cert_dir ari.example.com)/live/cert.pem"
cid="$(expected_cert_id "$live")"

# --- the window is fetched, a time chosen inside it and kept ----------------
run_bha "$TEST_TMP/r1" renew --name ari.example.com
check_eq "renew (window in 10 days) exits 0" 0 "$RC"
check "renew says it is not due, inside the CA's window" grep -q "renewal window" "$TEST_TMP/r1.out"
check_eq "renewalInfo asked with the RFC 9773 certID" "RENEWALINFO $cid" "$(grep RENEWALINFO "$FLOG" | tail -n 1)"
ari="$(cert_dir ari.example.com)/ari.json"
check "ari.json stored with the certificate" test -s "$ari"
in_window="$(json_get "$ari" "j['window_start'] <= j['renew_at'] < j['window_end']")"
check_eq "the chosen time lies inside the window" "True" "$in_window"
chosen="$(json_get "$ari" "j['renew_at']")"
asked="$(count RENEWALINFO)"
run_bha "$TEST_TMP/r2" renew --name ari.example.com
check_eq "a second renew within Retry-After does not ask again" "$asked" "$(count RENEWALINFO)"
expire_check ari.example.com
run_bha "$TEST_TMP/r3" renew --name ari.example.com
check_eq "after Retry-After the CA is asked again" "$((asked + 1))" "$(count RENEWALINFO)"
check_eq "an unchanged window keeps the chosen time" "$chosen" "$(json_get "$ari" "j['renew_at']")"
run_bha "$TEST_TMP/plan" plan --json
check_eq "plan names the ARI window as the basis" "ARI window" "$(json_get "$TEST_TMP/plan.out" "j[0]['basis']")"
check_eq "plan does not flag it" "False" "$(json_get "$TEST_TMP/plan.out" "j[0]['at_risk']")"

# --- the window moves earlier: renew at once, with replaces -----------------
echo '{"mode": "window", "start": -3600, "end": 3600, "retry_after": 60}' >"$CTL"
expire_check ari.example.com
run_bha "$TEST_TMP/r4" renew --name ari.example.com
check_eq "a window moved into the past renews at once" 0 "$RC"
check_eq "live version 2" "2" "$(live_version ari.example.com)"
check_eq "the renewal's newOrder names the replaced certificate" "NEWORDER replaces=$cid profile=" \
  "$(grep NEWORDER "$FLOG" | tail -n 1)"

# --- the CA refuses replaces: retried once without it ------------------------
echo '{"mode": "window", "start": -3600, "end": 3600, "retry_after": 60, "reject_replaces": true}' >"$CTL"
cid2="$(expected_cert_id "$(cert_dir ari.example.com)/live/cert.pem")"
run_bha "$TEST_TMP/r5" renew --name ari.example.com
check_eq "renew after alreadyReplaced exits 0" 0 "$RC"
check_eq "live version 3" "3" "$(live_version ari.example.com)"
check_eq "first with replaces, then without" "NEWORDER replaces=$cid2 profile=|NEWORDER replaces= profile=" \
  "$(grep NEWORDER "$FLOG" | tail -n 2 | paste -sd'|' -)"
check "the retry is explained" grep -q "without \"replaces\"" "$TEST_TMP/r5.err"

# --- a malformed window: the lifetime rule stays ------------------------------
echo '{"mode": "malformed"}' >"$CTL"
run_bha "$TEST_TMP/r6" renew --name ari.example.com
check_eq "renew with a malformed window exits 0" 0 "$RC"
check_eq "nothing renewed on a malformed window" "3" "$(live_version ari.example.com)"
check "the malformed window is reported" grep -q "suggestedWindow" "$TEST_TMP/r6.err"
check "the error is stored for the next check" grep -q "last_error" "$ari"
check_eq "the lifetime rule decides" "lifetime rule" \
  "$(run_bha "$TEST_TMP/plan2" plan --json; json_get "$TEST_TMP/plan2.out" "j[0]['basis']")"

# --- profiles -------------------------------------------------------------------
echo '{"mode": "window", "start": 864000, "end": 950400}' >"$CTL"
run_bha "$TEST_TMP/p1" issue -d prof.example.com --webroot "$LAB_WEBROOT" --profile shortlived
check_eq "issue --profile shortlived exits 0" 0 "$RC"
check_eq "newOrder carries the profile" "NEWORDER replaces= profile=shortlived" "$(grep NEWORDER "$FLOG" | tail -n 1)"
check_eq "the profile is kept in settings.json" "shortlived" \
  "$(json_get "$(cert_dir prof.example.com)/settings.json" "j['profile']")"
run_bha "$TEST_TMP/p2" issue -d bogus.example.com --webroot "$LAB_WEBROOT" --profile nosuch
check_eq "an unknown profile is a usage error" 2 "$RC"
[ "$RC" -eq 2 ] || cat "$TEST_TMP/p2.err"
check "the refusal lists the offered profiles" grep -q "offers: classic, shortlived" "$TEST_TMP/p2.err"

lab_finish
