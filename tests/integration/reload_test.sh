#!/usr/bin/env bash
# reload-watch against a real nginx: issue through nginx's webroot, serve
# TLS from the live directory, force a renewal and check that nginx is told
# to reload and serves the new serial (and that --verify says so). Then a
# server that ignores SIGHUP must be reported, and a stale pid file naming
# an unrelated process must be refused without signalling it.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_test_init
lab_start_or_die "$TEST_TMP/lab"

WATCH_PID=""
PY_PID=""
SLEEP_PID=""
_reload_cleanup() {
  local p
  for p in "$WATCH_PID" "$PY_PID" "$SLEEP_PID"; do
    [ -n "$p" ] && kill -KILL "$p" 2>/dev/null
  done
  if [ -s "$TEST_TMP/tls/nginx.pid" ]; then
    kill -TERM "$(cat "$TEST_TMP/tls/nginx.pid")" 2>/dev/null
  fi
  wait 2>/dev/null
  _lab_test_cleanup
}
trap _reload_cleanup EXIT

# served_serial PORT: the serial of the leaf served on 127.0.0.1:PORT.
served_serial() {
  openssl s_client -connect "127.0.0.1:$1" -servername web.test </dev/null 2>/dev/null |
    openssl x509 -noout -serial 2>/dev/null | sed 's/^serial=//'
}

# serves_serial PORT SERIAL: the server on PORT serves SERIAL now (a
# function, so that wait_for asks again on every poll).
serves_serial() {
  test "$(served_serial "$1")" = "$2"
}

# wait_for DESCRIPTION SECONDS CMD...: polls CMD until it succeeds.
wait_for() {
  local desc="$1" secs="$2"
  shift 2
  local deadline=$((SECONDS + secs))
  until "$@"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      not_ok "$desc (within ${secs}s)"
      return 1
    fi
    sleep 0.1
  done
  ok "$desc"
}

run_bh "$TEST_TMP/reg" account register --email admin@example.org --agree-tos
check_eq "account register exits 0" 0 "$RC"
run_bh "$TEST_TMP/issue" issue --name web -d web.test --webroot "$LAB_WEBROOT"
check_eq "issue through the nginx webroot exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || { cat "$TEST_TMP/issue.err"; exit 1; }
LIVE="$(cert_dir web)/live"
s1="$(cert_serial "$LIVE/cert.pem")"

# --- nginx serving TLS from the live directory ----------------------------------
ports="$(python3 "$LAB_LIB_DIR/freeport.py" 2)"
# shellcheck disable=SC2086
set -- $ports
TLS_PORT="$1"
PY_PORT="$2"
mkdir -p "$TEST_TMP/tls/tmp" "$TEST_TMP/metrics"
cat >"$TEST_TMP/tls/nginx.conf" <<CONF
daemon off;
master_process on;
worker_processes 1;
pid $TEST_TMP/tls/nginx.pid;
error_log $TEST_TMP/tls/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $TEST_TMP/tls/tmp/client_body;
  proxy_temp_path $TEST_TMP/tls/tmp/proxy;
  fastcgi_temp_path $TEST_TMP/tls/tmp/fastcgi;
  uwsgi_temp_path $TEST_TMP/tls/tmp/uwsgi;
  scgi_temp_path $TEST_TMP/tls/tmp/scgi;
  server {
    listen 127.0.0.1:$TLS_PORT ssl;
    server_name web.test;
    ssl_certificate $LIVE/fullchain.pem;
    ssl_certificate_key $LIVE/privkey.pem;
    location /.well-known/acme-challenge/ { root $LAB_WEBROOT; }
  }
}
CONF
nginx -p "$TEST_TMP/tls" -c "$TEST_TMP/tls/nginx.conf" -e "$TEST_TMP/tls/error.log" \
  </dev/null >"$TEST_TMP/tls/nginx.out" 2>&1 &
disown $!
wait_for "nginx serves the issued certificate from live/" 15 \
  serves_serial "$TLS_PORT" "$s1"

# A TLS server that ignores SIGHUP, as servers that read their certificate
# only at start do. nginx cannot play this part (it reloads), and
# `openssl s_server` dies on SIGHUP instead of ignoring it, so a few lines
# of Python serve the first certificate for good.
cp "$LIVE/fullchain.pem" "$TEST_TMP/py-cert.pem"
cp "$LIVE/privkey.pem" "$TEST_TMP/py-key.pem"
mkdir -p "$TEST_TMP/py"
# Debian's /usr/bin/python3 is a symlink to python3.X: the server's
# /proc/PID/exe names the target, its comm the link.
PY_BIN=/usr/bin/python3
[ -x "$PY_BIN" ] || PY_BIN="$(command -v python3)"
"$PY_BIN" - "$PY_PORT" "$TEST_TMP/py-cert.pem" "$TEST_TMP/py-key.pem" "$TEST_TMP/py/python3.pid" \
  >"$TEST_TMP/py.log" 2>&1 <<'PY' &
import os, signal, socket, ssl, sys
port, cert, key, pidfile = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
signal.signal(signal.SIGHUP, lambda *_: open(pidfile + ".hup", "w").close())
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv = socket.create_server(("127.0.0.1", port))
with open(pidfile + ".tmp", "w") as f:
    f.write("%d\n" % os.getpid())
os.rename(pidfile + ".tmp", pidfile)
while True:
    conn, _ = srv.accept()
    try:
        with ctx.wrap_socket(conn, server_side=True) as tls:
            tls.settimeout(2)
            tls.recv(1)
    except (OSError, ssl.SSLError):
        pass
PY
PY_PID=$!
disown "$PY_PID"
wait_for "the HUP-ignoring test server is up" 15 test -s "$TEST_TMP/py/python3.pid"

# An unrelated process whose pid ends up in a stale nginx pid file.
sleep 300 &
SLEEP_PID=$!
disown "$SLEEP_PID"
mkdir -p "$TEST_TMP/stale"
echo "$SLEEP_PID" >"$TEST_TMP/stale/nginx.pid"

# --- reload-watch against nginx ---------------------------------------------------
"$BULKHEAD_BIN" -v reload-watch --pidfile "$TEST_TMP/tls/nginx.pid" \
  --watch "$LIVE/fullchain.pem" --watch "$LIVE/privkey.pem" \
  --verify "127.0.0.1:$TLS_PORT" --sni web.test --verify-wait 20s \
  --debounce 300ms --min-interval 1s --recheck 2s \
  --metrics-file "$TEST_TMP/metrics/nginx.prom" >"$TEST_TMP/watch.out" 2>"$TEST_TMP/watch.err" &
WATCH_PID=$!
wait_for "reload-watch writes its metrics file at start" 15 test -s "$TEST_TMP/metrics/nginx.prom"
check "reload-watch is running" kill -0 "$WATCH_PID"

run_bh "$TEST_TMP/renew" renew --force --name web
check_eq "forced renewal exits 0" 0 "$RC"
s2="$(cert_serial "$LIVE/cert.pem")"
if [ -n "$s2" ] && [ "$s2" != "$s1" ]; then
  ok "renewal gives a new serial"
else
  not_ok "renewal gives a new serial" "before $s1 after $s2"
fi
wait_for "nginx serves the renewed serial after reload-watch signals it" 30 \
  serves_serial "$TLS_PORT" "$s2"
verify_ok() {
  grep -q '^bulkhead_verify_last_success{.*} 1$' "$TEST_TMP/metrics/nginx.prom"
}
wait_for "--verify reports success in the metrics file" 30 verify_ok
check "metrics record a reload time" \
  grep -qE '^bulkhead_reload_last_timestamp_seconds\{pidfile=".*nginx.pid"\} [1-9][0-9]+$' \
  "$TEST_TMP/metrics/nginx.prom"
check "metrics record the served expiry" \
  grep -qE '^bulkhead_served_cert_expiry_timestamp_seconds\{.*\} [1-9][0-9]+$' \
  "$TEST_TMP/metrics/nginx.prom"
check "reload-watch logged the signal" grep -q "sent signal" "$TEST_TMP/watch.err"
check "nginx is still running" kill -0 "$(cat "$TEST_TMP/tls/nginx.pid")"
check_no_sanitizer "$TEST_TMP/watch.err" "reload-watch"
if grep -q "forbidden system call" "$TEST_TMP/watch.err"; then
  not_ok "reload-watch stays within its seccomp allowlist" "$(cat "$TEST_TMP/watch.err")"
fi
kill -TERM "$WATCH_PID"
wait "$WATCH_PID"
check_eq "reload-watch exits 0 on SIGTERM" 0 "$?"
WATCH_PID=""

# --- --once: nothing to do --------------------------------------------------------
RC=0
"$BULKHEAD_BIN" reload-watch --once --pidfile "$TEST_TMP/tls/nginx.pid" \
  --watch "$LIVE/fullchain.pem" --verify "127.0.0.1:$TLS_PORT" --sni web.test \
  --metrics-file "$TEST_TMP/metrics/nginx.prom" >"$TEST_TMP/once.out" 2>"$TEST_TMP/once.err" || RC=$?
check_eq "--once against an up-to-date nginx exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/once.err"

# --- a server that ignores SIGHUP ------------------------------------------------
RC=0
"$BULKHEAD_BIN" reload-watch --once --pidfile "$TEST_TMP/py/python3.pid" \
  --exe "$PY_BIN" --watch "$LIVE/fullchain.pem" \
  --verify "127.0.0.1:$PY_PORT" --verify-wait 2s --debounce 0s \
  --metrics-file "$TEST_TMP/metrics/py.prom" >"$TEST_TMP/py-once.out" 2>"$TEST_TMP/py-once.err" || RC=$?
check_eq "--once exits 1 when the old certificate is still served" 1 "$RC"
check "... and says which serial is served" grep -q "serving serial" "$TEST_TMP/py-once.err"
check "... and records the failure in the metrics file" \
  grep -qE '^bulkhead_verify_last_success\{.*target="127.0.0.1:'"$PY_PORT"'"\} 0$' "$TEST_TMP/metrics/py.prom"
# Started as python3, a symlink: /proc/PID/exe names python3.11, which the
# sandboxed watcher could not read (Landlock); its helper checks it.
check "the server started through a symlinked interpreter got the signal" \
  test -e "$TEST_TMP/py/python3.pid.hup"
check "... and kept running" kill -0 "$PY_PID"
check_no_sanitizer "$TEST_TMP/py-once.err" "reload-watch --once"

# --- the --verify probe attacks (test builds, src/roles/hostile.h) ------------------
# The process that parses the server's handshake must not be able to signal
# anything: neither the watcher that started it nor the server itself (which
# only the watcher may signal, after its pid-file check).
NGINX_PID="$(cat "$TEST_TMP/tls/nginx.pid")"
for target in parent "$NGINX_PID"; do
  RC=0
  BULKHEAD_TEST_HOSTILE="probe:kill:$target" "$BULKHEAD_BIN" reload-watch --once \
    --pidfile "$TEST_TMP/tls/nginx.pid" --watch "$LIVE/fullchain.pem" \
    --verify "127.0.0.1:$TLS_PORT" --sni web.test --verify-wait 1s \
    >"$TEST_TMP/hostile.out" 2>"$TEST_TMP/hostile.err" || RC=$?
  if ! grep -q "hostile probe\|probe role: forbidden" "$TEST_TMP/hostile.err"; then
    ok "# SKIP hostile probe kill:$target: no test hooks in this build"
    continue
  fi
  check "hostile probe kill:$target: blocked" \
    grep -q "hostile probe kill: blocked\|probe role: forbidden system call kill" "$TEST_TMP/hostile.err"
  check_fails "hostile probe kill:$target: never succeeded" grep -q "SUCCEEDED" "$TEST_TMP/hostile.err"
  check_eq "hostile probe kill:$target: the watcher survives and reports the failed check" 1 "$RC"
  check "hostile probe kill:$target: nginx is still running its old master" kill -0 "$NGINX_PID"
done

# --- --exec in the documented form: arguments for the program after -- ------------
run_bh "$TEST_TMP/renew3" renew --force --name web
check_eq "a second forced renewal exits 0" 0 "$RC"
s3="$(cert_serial "$LIVE/cert.pem")"
# nginx still serves the previous renewal: a failed deployment.
RC=0
"$BULKHEAD_BIN" --state-dir "$LAB_DIR/state" --ca-bundle "$LAB_ROOT" monitor check \
  "127.0.0.1:$TLS_PORT" --sni web.test >"$TEST_TMP/stale-deploy.out" 2>&1 || RC=$?
check_eq "monitor: nginx serving the previous certificate exits 1" 1 "$RC"
check "... rated WARNING, not PLAN" grep -q "^WARNING " "$TEST_TMP/stale-deploy.out"
hex_norm() { printf '%s' "$1" | tr A-F a-f | sed 's/^0*//'; }
check "... naming the served and the managed serial" \
  grep -q "serial $(hex_norm "$s2") .* instead of serial $(hex_norm "$s3") " "$TEST_TMP/stale-deploy.out"
RC=0
"$BULKHEAD_BIN" reload-watch --once --pidfile "$TEST_TMP/tls/nginx.pid" \
  --watch "$LIVE/fullchain.pem" --verify "127.0.0.1:$TLS_PORT" --sni web.test \
  --verify-wait 20s --debounce 0s \
  --exec "$(command -v nginx)" -- -p "$TEST_TMP/tls" -c "$TEST_TMP/tls/nginx.conf" \
  -e "$TEST_TMP/tls/error.log" -s reload \
  >"$TEST_TMP/exec.out" 2>"$TEST_TMP/exec.err" || RC=$?
check_eq "reload-watch --exec nginx -- -s reload exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/exec.err"
check "... and nginx serves the renewed serial" serves_serial "$TLS_PORT" "$s3"
check_no_sanitizer "$TEST_TMP/exec.err" "reload-watch --exec"
RC=0
"$BULKHEAD_BIN" list -- -s reload >/dev/null 2>"$TEST_TMP/dashes.err" || RC=$?
check_eq "arguments after -- for another command are a usage error" 2 "$RC"
check "... naming where they belong" grep -q "only for reload-watch --exec" "$TEST_TMP/dashes.err"

# --- stale pid file ---------------------------------------------------------------
RC=0
"$BULKHEAD_BIN" reload-watch --once --pidfile "$TEST_TMP/stale/nginx.pid" \
  --watch "$LIVE/fullchain.pem" --debounce 0s \
  >"$TEST_TMP/stale.out" 2>"$TEST_TMP/stale.err" || RC=$?
check_eq "a stale pid file naming another program fails" 1 "$RC"
check "... with a refusal naming the pid" grep -q "refusing to signal" "$TEST_TMP/stale.err"
check "... and the unrelated process was not signalled" kill -0 "$SLEEP_PID"
[ "$RC" -eq 1 ] || cat "$TEST_TMP/stale.err"

RC=0
"$BULKHEAD_BIN" reload-watch --once --pidfile "$TEST_TMP/stale/nginx.pid" \
  --watch "$LIVE/fullchain.pem" --signal KILL >/dev/null 2>"$TEST_TMP/kill.err" || RC=$?
check_eq "--signal KILL is a usage error" 2 "$RC"

lab_finish
