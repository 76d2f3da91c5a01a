#!/usr/bin/env bash
# `bulkhead serve` and the inventory: the inventory unit tests against a
# real PostgreSQL, then the REST API (auth, enrol, list, remove, checks with
# their HTTP header verdicts), /metrics,
# /api/openapi.json, and the dashboard in headless Chromium, with the
# server on SQLite and on PostgreSQL.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/integration/lib_pg.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib_pg.sh"
lab_test_init

SERVE_PID=""
TLS_PID=""
_serve_cleanup() {
  [ -n "$TLS_PID" ] && kill "$TLS_PID" 2>/dev/null
  if [ -n "$SERVE_PID" ]; then
    kill -TERM "$SERVE_PID" 2>/dev/null
    wait "$SERVE_PID" 2>/dev/null
  fi
  pg_stop
  _lab_test_cleanup
}
trap '_serve_cleanup' EXIT

# Artifacts (the dashboard screenshot) outlive TEST_TMP.
OUT_DIR="${BULKHEAD_TEST_OUTPUT:-${TMPDIR:-/tmp}/bulkhead-test-output}"
mkdir -p "$OUT_DIR"

# A managed certificate (so the dashboard has a planned renewal), issued by
# the lab's Pebble.
lab_start_or_die "$TEST_TMP/lab"
STATE="$LAB_DIR/state"
run_bh "$TEST_TMP/reg" account register --email admin@example.org --agree-tos
check_eq "account register exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || sed "s/^/#   /" "$TEST_TMP/reg.err"
run_bh "$TEST_TMP/issue" issue -d serve.test --webroot "$LAB_WEBROOT"
check_eq "issue serve.test exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || sed "s/^/#   /" "$TEST_TMP/issue.err"
LIVE="$STATE/certs/serve.test/live"
MANAGED=1
if [ ! -s "$LIVE/cert.pem" ]; then
  # Without a managed certificate the rest still runs on a self-signed one;
  # the managed-certificate checks are left out (the failure is above).
  MANAGED=0
  LIVE="$TEST_TMP/fallback"
  mkdir -p "$LIVE"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj /CN=serve.test -addext subjectAltName=DNS:serve.test \
    -keyout "$LIVE/privkey.pem" -out "$LIVE/cert.pem" 2>/dev/null
  cp "$LIVE/cert.pem" "$LIVE/chain.pem"
fi
TLS_PORT="$(python3 "$(dirname "${BASH_SOURCE[0]}")/freeport.py" 1)"

# start_tls CERT KEY [CHAIN]: an openssl s_server on TLS_PORT presenting
# CERT (and CHAIN).
start_tls() {
  [ -n "$TLS_PID" ] && { kill "$TLS_PID" 2>/dev/null; wait "$TLS_PID" 2>/dev/null; }
  local chain=()
  [ -n "${3:-}" ] && chain=(-cert_chain "$3")
  openssl s_server -quiet -accept "127.0.0.1:$TLS_PORT" -cert "$1" -key "$2" "${chain[@]}" -www \
    >/dev/null 2>"$TEST_TMP/s_server.err" &
  TLS_PID=$!
  local deadline=$((SECONDS + 10))
  while [ $SECONDS -lt $deadline ]; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$TLS_PORT") 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}
TOKEN_FILE="$TEST_TMP/token"
printf 'tok-%s\n' "$RANDOM$RANDOM" >"$TOKEN_FILE"
chmod 600 "$TOKEN_FILE"
TOKEN="$(head -n 1 "$TOKEN_FILE")"

# --- PostgreSQL -------------------------------------------------------------
PG_OK=0
if pg_start "$TEST_TMP/pg"; then
  PG_OK=1
  ok "postgres starts on 127.0.0.1:$PG_PORT"
else
  not_ok "postgres starts"
fi

UNIT="$(dirname "$BULKHEAD_BIN")/bulkhead_unit_tests"
if [ "$PG_OK" = 1 ] && [ -x "$UNIT" ]; then
  unit_db="$(pg_createdb bulkhead_unit)"
  if BULKHEAD_TEST_PG="$unit_db" "$UNIT" --gtest_filter='Backends/InventoryTest.*' \
      >"$TEST_TMP/unit.out" 2>&1; then
    check "inventory unit tests ran on PostgreSQL" grep -q 'OK \] Backends/InventoryTest.*Postgres' "$TEST_TMP/unit.out"
    check_fails "no PostgreSQL inventory test skipped" grep -q 'SKIPPED' "$TEST_TMP/unit.out"
  else
    not_ok "inventory unit tests pass on SQLite and PostgreSQL" "$(grep -E 'FAILED|Failure|error' "$TEST_TMP/unit.out" | head -20)"
  fi
else
  echo "# bulkhead_unit_tests not beside BULKHEAD_BIN: PostgreSQL unit tests skipped"
fi

# --- helpers ----------------------------------------------------------------
# api METHOD PATH [BODY] [TOKEN]: prints the HTTP status; body in $TEST_TMP/body.
api() {
  local args=(-s -o "$TEST_TMP/body" -w '%{http_code}' -X "$1" --max-time 10)
  [ -n "${3:-}" ] && args+=(-H 'Content-Type: application/json' --data "$3")
  [ -n "${4:-}" ] && args+=(-H "Authorization: Bearer $4")
  curl "${args[@]}" "$BASE$2"
}

json_ok() { python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$1" 2>/dev/null; }

# start_serve DB: starts serve on a free port with DB; sets BASE.
start_serve() {
  local port
  port="$(python3 "$(dirname "${BASH_SOURCE[0]}")/freeport.py" 1)"
  "$BULKHEAD_BIN" --state-dir "$STATE" --ca-bundle "$LAB_ROOT" serve --listen "127.0.0.1:$port" \
    --token-file "$TOKEN_FILE" --db "$1" >"$TEST_TMP/serve.out" 2>"$TEST_TMP/serve.err" &
  SERVE_PID=$!
  BASE="http://127.0.0.1:$port"
  local deadline=$((SECONDS + 15))
  while [ $SECONDS -lt $deadline ]; do
    if curl -s --max-time 1 -o /dev/null "$BASE/healthz"; then
      return 0
    fi
    kill -0 "$SERVE_PID" 2>/dev/null || break
    sleep 0.1
  done
  cat "$TEST_TMP/serve.err" >&2
  return 1
}

stop_serve() {
  kill -TERM "$SERVE_PID" 2>/dev/null
  local rc=0
  wait "$SERVE_PID" || rc=$?
  SERVE_PID=""
  check_eq "serve exits 0 on SIGTERM" 0 "$rc"
  check_no_sanitizer "$TEST_TMP/serve.err" "serve"
}

# exercise LABEL: the API walk-through against the running server.
exercise() {
  local L="$1"
  check_eq "$L: POST without token is 401" 401 "$(api POST /api/endpoints '{"endpoint":"127.0.0.1:1"}')"
  check_eq "$L: POST with wrong token is 401" 401 "$(api POST /api/endpoints '{"endpoint":"127.0.0.1:1"}' wrong)"
  check_eq "$L: DELETE without token is 401" 401 "$(api DELETE /api/endpoints/127.0.0.1:1)"
  check_eq "$L: enrol endpoint" 201 "$(api POST /api/endpoints '{"endpoint":"127.0.0.1:1"}' "$TOKEN")"
  check_eq "$L: enrol again is 200" 200 "$(api POST /api/endpoints '{"endpoint":"127.0.0.1:1"}' "$TOKEN")"
  check_eq "$L: enrol second endpoint" 201 "$(api POST /api/endpoints '{"endpoint":"localhost:2","starttls":"smtp"}' "$TOKEN")"
  check_eq "$L: bad endpoint is 400" 400 "$(api POST /api/endpoints '{"endpoint":"a b"}' "$TOKEN")"
  check_eq "$L: follow domain" 201 "$(api POST /api/domains '{"name":"www.example.test"}' "$TOKEN")"
  check_eq "$L: list endpoints" 200 "$(api GET /api/endpoints)"
  check_eq "$L: two endpoints listed" 2 "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$TEST_TMP/body")"
  check_eq "$L: domain expiry" 200 "$(api GET /api/domains/www.example.test)"
  check_eq "$L: certificates" 200 "$(api GET /api/certificates)"
  local st
  st="$(api POST /api/checks '{"endpoint":"127.0.0.1:1"}' "$TOKEN")"
  if [ "$st" = 200 ]; then
    check "$L: check of a closed port recorded as ERROR" grep -q '"ERROR"' "$TEST_TMP/body"
    api GET /api/endpoints/127.0.0.1:1 >/dev/null
    check "$L: endpoint shows the recorded check" grep -q '"history"' "$TEST_TMP/body"
  else
    check_eq "$L: trigger check answers 200 (or 503 without engine)" 503 "$st"
  fi
  check_eq "$L: metrics" 200 "$(api GET /metrics)"
  cp "$TEST_TMP/body" "$TEST_TMP/metrics.txt"
  check_eq "$L: openapi" 200 "$(api GET /api/openapi.json)"
  check "$L: openapi parses as OpenAPI 3" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["openapi"].startswith("3."), d["openapi"]
assert "/api/endpoints" in d["paths"]' "$TEST_TMP/body"
  check "$L: metrics parse as Prometheus text" python3 -c '
import re, sys
ok = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\.)*\",?)*\})? -?[0-9.eE+-]+$|^[+-]Inf$|^NaN$")
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if not line or line.startswith("#"):
        continue
    assert ok.match(line), line' "$TEST_TMP/metrics.txt"
  check_eq "$L: remove endpoint" 204 "$(api DELETE /api/endpoints/localhost:2 "" "$TOKEN")"
  check_eq "$L: removed endpoint is 404" 404 "$(api GET /api/endpoints/localhost:2)"
}

# tls_section: a real TLS endpoint checked twice across a certificate
# change; its expiry must match openssl's reading of the same certificate.
tls_section() {
  if ! start_tls "$LIVE/cert.pem" "$LIVE/privkey.pem" "$LIVE/chain.pem"; then
    not_ok "s_server starts" "$(cat "$TEST_TMP/s_server.err")"
    return
  fi
  local ep="127.0.0.1:$TLS_PORT"
  check_eq "enrol TLS endpoint with SNI" 201 "$(api POST /api/endpoints "{\"endpoint\":\"$ep\",\"sni\":\"serve.test\"}" "$TOKEN")"
  local st
  st="$(api POST /api/checks "{\"endpoint\":\"$ep\"}" "$TOKEN")"
  [ "$st" = 200 ] || { check_eq "check of the TLS endpoint" 200 "$st"; return; }
  [ "$MANAGED" = 1 ] && check "the managed certificate is served: state OK" grep -q '"OK"' "$TEST_TMP/body"
  api GET /metrics >/dev/null
  [ "$MANAGED" = 1 ] && check "metrics: chain valid" grep -q "^bulkhead_cert_chain_valid{.*endpoint=\"$ep\".* 1$" "$TEST_TMP/body"
  local want got
  want="$(date -u -d "$(openssl x509 -in "$LIVE/cert.pem" -noout -enddate | cut -d= -f2)" +%s)"
  got="$(grep "^bulkhead_cert_not_after_seconds{.*endpoint=\"$ep\"" "$TEST_TMP/body" | awk '{printf "%d", $2}')"
  check_eq "metrics: not_after equals openssl x509 -enddate" "$want" "$got"
  [ "$MANAGED" = 1 ] && check "metrics: renewal planned for the managed certificate" grep -q '^bulkhead_renewal_planned_seconds{.*serve.test' "$TEST_TMP/body"
  # Replace the served certificate: a self-signed one from another issuer.
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 90 \
    -subj "/CN=Another Issuer" -addext subjectAltName=DNS:serve.test \
    -keyout "$TEST_TMP/other.key" -out "$TEST_TMP/other.pem" 2>/dev/null
  if start_tls "$TEST_TMP/other.pem" "$TEST_TMP/other.key"; then
    check_eq "second check" 200 "$(api POST /api/checks "{\"endpoint\":\"$ep\"}" "$TOKEN")"
    api GET /api/changes >/dev/null
    check "changes: new certificate seen" grep -q '"new_certificate"' "$TEST_TMP/body"
    check "changes: issuer changed" grep -q '"issuer_changed"' "$TEST_TMP/body"
  else
    not_ok "s_server restarts with another certificate"
  fi
  headers_section
  # Back to the managed certificate for the dashboard.
  start_tls "$LIVE/cert.pem" "$LIVE/privkey.pem" "$LIVE/chain.pem" &&
    api POST /api/checks "{\"endpoint\":\"$ep\"}" "$TOKEN" >/dev/null
  dashboard
}

# headers_section: POST /api/checks judges HTTP headers. Off port 443 they
# are read only when the request asks ("http_headers": true), as with
# `monitor check --http-headers`; then weak ones make the state WARNING.
headers_section() {
  local port pid ep
  port="$(python3 "$(dirname "${BASH_SOURCE[0]}")/freeport.py" 1)"
  cat "$LIVE/cert.pem" "$LIVE/chain.pem" >"$TEST_TMP/hdr-chain.pem"
  python3 "$(dirname "${BASH_SOURCE[0]}")/https_headers.py" "$port" "$TEST_TMP/hdr-chain.pem" \
    "$LIVE/privkey.pem" "Strict-Transport-Security: max-age=300" \
    "Content-Security-Policy: default-src *; script-src 'self' 'unsafe-inline'" \
    "Referrer-Policy: unsafe-url" 2>"$TEST_TMP/hdr.err" &
  pid=$!
  ep="127.0.0.1:$port"
  local deadline=$((SECONDS + 10))
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || [ $SECONDS -ge $deadline ]; do
    sleep 0.1
  done
  check_eq "headers: enrol the HTTPS endpoint" 201 \
    "$(api POST /api/endpoints "{\"endpoint\":\"$ep\",\"sni\":\"serve.test\"}" "$TOKEN")"
  check_eq "headers: check without http_headers" 200 "$(api POST /api/checks "{\"endpoint\":\"$ep\"}" "$TOKEN")"
  check_eq "headers: off port 443 not read unless asked" None \
    "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["checks"][0]["http"])' "$TEST_TMP/body")"
  [ "$MANAGED" = 1 ] && check "headers: state OK without http_headers" grep -q '"OK"' "$TEST_TMP/body"
  check_eq "headers: check with http_headers" 200 \
    "$(api POST /api/checks "{\"endpoint\":\"$ep\",\"http_headers\":true}" "$TOKEN")"
  cp "$TEST_TMP/body" "$TEST_TMP/hdr.json"
  hdr() {
    python3 -c 'import json,sys; j=json.load(open(sys.argv[1]))["checks"][0]; print(eval(sys.argv[2]))' \
      "$TEST_TMP/hdr.json" "$1" 2>&1
  }
  check_eq "headers: HSTS value reported" "max-age=300" "$(hdr 'j["http"]["strict_transport_security"]["value"]')"
  check_eq "headers: HSTS max_age" 300 "$(hdr 'j["http"]["strict_transport_security"]["max_age"]')"
  check_eq "headers: Referrer-Policy value reported" "unsafe-url" "$(hdr 'j["http"]["referrer_policy"]["value"]')"
  check_eq "headers: affect the state" True "$(hdr 'j["http"]["affects_state"]')"
  check_eq "headers: three findings" 3 "$(hdr 'len(j["http"]["strict_transport_security"]["findings"] + j["http"]["content_security_policy"]["findings"] + j["http"]["referrer_policy"]["findings"])')"
  check "headers: HSTS finding among the reasons" grep -q "HSTS max-age=300 is below one year" "$TEST_TMP/hdr.json"
  check "headers: CSP finding among the reasons" grep -q "CSP script-src allows inline scripts" "$TEST_TMP/hdr.json"
  check "headers: Referrer-Policy finding among the reasons" grep -q "Referrer-Policy unsafe-url is not strict" "$TEST_TMP/hdr.json"
  [ "$MANAGED" = 1 ] && check_eq "headers: weak headers make a WARNING" WARNING "$(hdr 'j["state"]')"
  check_eq "headers: bad http_headers is 400" 400 \
    "$(api POST /api/checks "{\"endpoint\":\"$ep\",\"http_headers\":1}" "$TOKEN")"
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  check_eq "headers: remove the HTTPS endpoint" 204 "$(api DELETE "/api/endpoints/$ep" "" "$TOKEN")"
}

# dashboard: the page in headless Chromium (DOM and screenshot).
dashboard() {
  CHROMIUM="$(command -v chromium || command -v chromium-browser || true)"
  if [ -z "$CHROMIUM" ]; then
    not_ok "chromium installed"
    return
  fi
  local shot="$TEST_TMP/dashboard.png"
  local ch_args=(--headless --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars
                 --user-data-dir="$TEST_TMP/chromium" --timeout=10000)
  timeout 40 "$CHROMIUM" "${ch_args[@]}" --dump-dom "$BASE/" >"$TEST_TMP/dom.html" 2>"$TEST_TMP/chromium.err"
  check "dashboard DOM has endpoint rows" grep -q '<tr class="endpoint">' "$TEST_TMP/dom.html"
  [ "$MANAGED" = 1 ] && check "dashboard DOM has the managed certificate row" grep -q '<tr class="managed">' "$TEST_TMP/dom.html"
  check "dashboard DOM has the SVG timeline" grep -q '<svg id="timeline"' "$TEST_TMP/dom.html"
  check "timeline shows an expiry" grep -q 'class="expiry' "$TEST_TMP/dom.html"
  [ "$MANAGED" = 1 ] && check "timeline shows a planned renewal" grep -q 'class="renewal"' "$TEST_TMP/dom.html"
  check "dashboard lists the certificate change" grep -q '<tr class="change">' "$TEST_TMP/dom.html"
  timeout 40 "$CHROMIUM" "${ch_args[@]}" --screenshot="$shot" --window-size=1280,1000 "$BASE/" \
    >/dev/null 2>>"$TEST_TMP/chromium.err"
  if [ -s "$shot" ]; then
    cp "$shot" "$OUT_DIR/serve-dashboard.png" 2>/dev/null || true
    ok "dashboard screenshot saved: $OUT_DIR/serve-dashboard.png"
  else
    not_ok "dashboard screenshot" "$(tail -5 "$TEST_TMP/chromium.err")"
  fi
}

# limits_section: the Host check (DNS rebinding), the per-client connection
# limit and the idle timeout, from outside.
limits_section() {
  local port="${BASE##*:}" code
  code="$(curl -s -o "$TEST_TMP/body" -w '%{http_code}' --max-time 10 \
    -H "Host: rebound.example:$port" "$BASE/api/endpoints")"
  check_eq "a foreign Host header gets 421" 421 "$code"
  check "... with a body naming the Host" grep -q "does not answer to Host 'rebound.example:$port'" "$TEST_TMP/body"
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Host: localhost:$port" "$BASE/healthz")"
  check_eq "localhost with the port is answered" 200 "$code"
  # 16 idle connections from 127.0.0.1 are held; the 17th is closed at
  # once; an idle connection is closed by the 10 s request deadline.
  python3 - "$port" >"$TEST_TMP/limits.out" 2>&1 <<'PY'
import socket, sys, time
port = int(sys.argv[1])
held = [socket.create_connection(("127.0.0.1", port), 5) for _ in range(16)]
extra = socket.create_connection(("127.0.0.1", port), 5)
extra.settimeout(5)
start = time.monotonic()
try:
    data = extra.recv(1)
    print("extra closed" if data == b"" else "extra answered", round(time.monotonic() - start, 1))
except socket.timeout:
    print("extra held")
except ConnectionResetError:
    print("extra closed", round(time.monotonic() - start, 1))
first = held[0]
first.settimeout(15)
try:
    data = first.recv(1)
    print("idle closed" if data == b"" else "idle answered", round(time.monotonic() - start, 1))
except socket.timeout:
    print("idle held")
except ConnectionResetError:
    print("idle closed", round(time.monotonic() - start, 1))
PY
  check "the 17th connection from one address is closed at once" \
    grep -qE '^extra closed (0|1|2)\.' "$TEST_TMP/limits.out"
  check "an idle connection is closed within the 10 s deadline (+2 s)" \
    grep -qE '^idle closed ([0-9]|1[0-2])\.' "$TEST_TMP/limits.out"
  [ -s "$TEST_TMP/limits.out" ] && sed 's/^/# /' "$TEST_TMP/limits.out"
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$BASE/healthz")"
  check_eq "served again once the idle connections are gone" 200 "$code"
}

# --- SQLite -----------------------------------------------------------------
if start_serve "$TEST_TMP/inventory.sqlite"; then
  ok "serve starts (SQLite)"
  exercise sqlite
  tls_section
  limits_section
  stop_serve
else
  not_ok "serve starts (SQLite)"
fi

# --- PostgreSQL -------------------------------------------------------------
if [ "$PG_OK" = 1 ]; then
  serve_db="$(pg_createdb bulkhead_serve)"
  if start_serve "$serve_db"; then
    ok "serve starts (PostgreSQL)"
    check "serve reports the postgresql backend" grep -q 'inventory: postgresql' "$TEST_TMP/serve.out"
    exercise postgresql
    stop_serve
  else
    not_ok "serve starts (PostgreSQL)"
  fi
fi

lab_finish
