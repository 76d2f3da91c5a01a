# shellcheck shell=bash
# Test lab for bulkhead's integration tests, benchmarks and demo: a Pebble
# ACME CA, pebble-challtestsrv as its DNS server (every name resolves to
# 127.0.0.1) and an unprivileged nginx serving a webroot for http-01.
#
# Usage (from bash):
#   source tests/integration/lib.sh
#   dir=$(mktemp -d); trap 'lab_stop "$dir"; rm -rf "$dir"' EXIT
#   lab_start "$dir"
#   bh account register --email a@example.org --agree-tos
#
# lab_start must run in the shell that later calls lab_stop (not inside
# $(...)), since it exports the LAB_* variables. Everything lives in DIR;
# all ports are picked free on 127.0.0.1, so labs can run side by side.
#
# Environment read by lab_start:
#   PEBBLE_WFE_NONCEREJECT  percentage of good nonces Pebble rejects (default 0)
#   PEBBLE_ALTERNATE_ROOTS  number of alternate root chains (default none)
#   PEBBLE_AUTHZREUSE       percentage of authorizations reused (default 0, so
#                           every order is really validated)
#   LAB_EAB=1               require external account binding (kid-1)
#   LAB_NO_WEB=1            do not start nginx (for --standalone)
#   LAB_DNS_SERVER          ADDR:PORT Pebble resolves with instead of
#                           challtestsrv (e.g. a Knot server, for dns-01)
#   LAB_START_TIMEOUT       seconds to wait for each daemon (default 30)

LAB_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# The EAB key Pebble accepts for kid-1 when LAB_EAB=1.
LAB_EAB_KID_DEFAULT="kid-1"
LAB_EAB_KEY_DEFAULT="zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"

_lab_say() {
  echo "lab: $*" >&2
}

# _lab_alive PGID: true while any live (non-zombie) process is in the group.
_lab_alive() {
  local pgid="$1" stat rest
  kill -0 -- "-$pgid" 2>/dev/null || return 1
  for stat in /proc/[0-9]*/stat; do
    # Fields after the ")" that ends the command name: state ppid pgrp ...
    rest="$(cat "$stat" 2>/dev/null)" || continue
    rest="${rest##*) }"
    # shellcheck disable=SC2086
    set -- $rest
    if [ "${3:-}" = "$pgid" ] && [ "$1" != "Z" ]; then
      return 0
    fi
  done
  return 1
}

# _lab_spawn NAME CMD...: starts CMD in its own session, detached from this
# shell (so it is never left as a zombie of ours), stdin from /dev/null and
# output in $LAB_DIR/NAME.log. Its pid (= its process group) goes to
# $LAB_DIR/NAME.pid.
_lab_spawn() {
  local name="$1"
  shift
  local pidfile="$LAB_DIR/$name.pid"
  rm -f "$pidfile"
  (
    # shellcheck disable=SC2016  # $$ and $@ belong to the inner bash
    setsid bash -c 'echo $$ > "$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' \
      "$pidfile" "$@" </dev/null >"$LAB_DIR/$name.log" 2>&1 &
  )
  local deadline=$((SECONDS + 10))
  while [ ! -s "$pidfile" ]; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      _lab_say "$name did not start"
      return 1
    fi
    sleep 0.02
  done
}

# _lab_wait_up NAME CMD...: polls CMD until it succeeds, failing early if
# process NAME has died or after LAB_START_TIMEOUT seconds.
_lab_wait_up() {
  local name="$1"
  shift
  local pid
  pid="$(cat "$LAB_DIR/$name.pid")"
  local deadline=$((SECONDS + ${LAB_START_TIMEOUT:-30}))
  until "$@" >/dev/null 2>&1; do
    if ! _lab_alive "$pid"; then
      _lab_say "$name exited during startup; last lines of $LAB_DIR/$name.log:"
      tail -n 20 "$LAB_DIR/$name.log" >&2
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      _lab_say "$name not answering after ${LAB_START_TIMEOUT:-30}s; last lines of $LAB_DIR/$name.log:"
      tail -n 20 "$LAB_DIR/$name.log" >&2
      return 1
    fi
    sleep 0.05
  done
}

# _lab_write_tls: a self-signed EC certificate for Pebble's own listeners.
_lab_write_tls() {
  mkdir -p "$LAB_DIR/tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$LAB_DIR/tls/key.pem" -out "$LAB_DIR/tls/cert.pem" -days 30 \
    -subj "/CN=localhost" \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,digitalSignature,keyCertSign" \
    -addext "extendedKeyUsage=serverAuth" >/dev/null 2>&1
}

_lab_write_pebble_config() {
  local acme_port="$1" mgmt_port="$2" http_port="$3" tls_port="$4"
  local eab_required="false" eab_keys=""
  if [ "${LAB_EAB:-0}" = "1" ]; then
    eab_required="true"
    eab_keys=",
    \"externalAccountMACKeys\": {\"$LAB_EAB_KID_DEFAULT\": \"$LAB_EAB_KEY_DEFAULT\"}"
  fi
  cat >"$LAB_DIR/pebble.json" <<EOF
{
  "pebble": {
    "listenAddress": "127.0.0.1:$acme_port",
    "managementListenAddress": "127.0.0.1:$mgmt_port",
    "certificate": "$LAB_DIR/tls/cert.pem",
    "privateKey": "$LAB_DIR/tls/key.pem",
    "httpPort": $http_port,
    "tlsPort": $tls_port,
    "ocspResponderURL": "",
    "externalAccountBindingRequired": $eab_required$eab_keys
  }
}
EOF
}

_lab_write_nginx_config() {
  local port="$1" n="$LAB_DIR/nginx"
  mkdir -p "$n/tmp" "$n/logs"
  cat >"$n/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $n/nginx.pid;
error_log $n/logs/error.log warn;
events {
  worker_connections 128;
}
http {
  access_log off;
  client_body_temp_path $n/tmp/client_body;
  proxy_temp_path $n/tmp/proxy;
  fastcgi_temp_path $n/tmp/fastcgi;
  uwsgi_temp_path $n/tmp/uwsgi;
  scgi_temp_path $n/tmp/scgi;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$port;
    server_name _;
    root $LAB_WEBROOT;
    location / {
      try_files \$uri =404;
    }
  }
}
EOF
}

# _lab_try_start: one attempt at bringing the lab up on fresh ports.
_lab_try_start() {
  local ports
  ports="$(python3 "$LAB_LIB_DIR/freeport.py" 6)" || return 1
  # shellcheck disable=SC2086
  set -- $ports
  local acme_port="$1" mgmt_port="$2" http_port="$3" tls_port="$4"
  local dns_port="$5" chall_mgmt_port="$6"

  export LAB_URL="https://127.0.0.1:$acme_port/dir"
  export LAB_MGMT="https://127.0.0.1:$mgmt_port"
  export LAB_HTTP_PORT="$http_port"
  export LAB_DNS="127.0.0.1:$dns_port"
  export LAB_CHALL_MGMT="http://127.0.0.1:$chall_mgmt_port"

  _lab_spawn challtestsrv pebble-challtestsrv -http01 "" -https01 "" \
    -tlsalpn01 "" -dns01 "$LAB_DNS" -management "127.0.0.1:$chall_mgmt_port" \
    -defaultIPv4 127.0.0.1 -defaultIPv6 "" || return 1
  # Any HTTP answer (even 404) means the management listener is up.
  _lab_wait_up challtestsrv curl -s -o /dev/null --max-time 2 "$LAB_CHALL_MGMT/" || return 1

  _lab_write_pebble_config "$acme_port" "$mgmt_port" "$http_port" "$tls_port"
  local -a penv=(
    "PEBBLE_VA_NOSLEEP=1"
    "PEBBLE_WFE_NONCEREJECT=${PEBBLE_WFE_NONCEREJECT:-0}"
    "PEBBLE_AUTHZREUSE=${PEBBLE_AUTHZREUSE:-0}"
  )
  if [ -n "${PEBBLE_ALTERNATE_ROOTS:-}" ]; then
    penv+=("PEBBLE_ALTERNATE_ROOTS=$PEBBLE_ALTERNATE_ROOTS")
  fi
  if [ -n "${PEBBLE_CHAIN_LENGTH:-}" ]; then
    penv+=("PEBBLE_CHAIN_LENGTH=$PEBBLE_CHAIN_LENGTH")
  fi
  _lab_spawn pebble env "${penv[@]}" pebble -config "$LAB_DIR/pebble.json" \
    -dnsserver "${LAB_DNS_SERVER:-$LAB_DNS}" || return 1
  _lab_wait_up pebble curl -fsS --max-time 2 --cacert "$LAB_CA" "$LAB_URL" || return 1

  if [ "${LAB_NO_WEB:-0}" != "1" ]; then
    _lab_write_nginx_config "$http_port"
    _lab_spawn nginx nginx -p "$LAB_DIR/nginx" -c "$LAB_DIR/nginx/nginx.conf" \
      -e "$LAB_DIR/nginx/logs/error.log" || return 1
    echo "lab" >"$LAB_WEBROOT/lab-probe.txt"
    _lab_wait_up nginx curl -fsS --max-time 2 "http://127.0.0.1:$http_port/lab-probe.txt" || return 1
    rm -f "$LAB_WEBROOT/lab-probe.txt"
  fi

  # Roots and intermediates of the chains Pebble issues under.
  curl -fsS --max-time 10 --cacert "$LAB_CA" -o "$LAB_DIR/root0.pem" "$LAB_MGMT/roots/0" || return 1
  curl -fsS --max-time 10 --cacert "$LAB_CA" -o "$LAB_DIR/intermediate0.pem" "$LAB_MGMT/intermediates/0" || return 1
  local i
  for ((i = 1; i <= ${PEBBLE_ALTERNATE_ROOTS:-0}; i++)); do
    curl -fsS --max-time 10 --cacert "$LAB_CA" -o "$LAB_DIR/root$i.pem" "$LAB_MGMT/roots/$i" || return 1
    curl -fsS --max-time 10 --cacert "$LAB_CA" -o "$LAB_DIR/intermediate$i.pem" "$LAB_MGMT/intermediates/$i" || return 1
  done
  export LAB_ROOT="$LAB_DIR/root0.pem"
  export LAB_INTERMEDIATE="$LAB_DIR/intermediate0.pem"
}

# lab_start DIR: starts the lab in DIR (created if missing) and exports
# LAB_DIR LAB_URL LAB_CA LAB_ROOT LAB_INTERMEDIATE LAB_MGMT LAB_HTTP_PORT
# LAB_WEBROOT LAB_DNS LAB_CHALL_MGMT (and LAB_EAB_KID LAB_EAB_KEY with
# LAB_EAB=1), and BULKHEAD_NO_PREFLIGHT=1. Returns non-zero, with the
# daemon's log on stderr, on failure.
lab_start() {
  local dir="${1:?lab_start DIR}"
  mkdir -p "$dir" || return 1
  dir="$(cd "$dir" && pwd)"
  export LAB_DIR="$dir"
  export LAB_CA="$dir/tls/cert.pem"
  export LAB_WEBROOT="$dir/www"
  mkdir -p "$LAB_WEBROOT" "$dir/state"
  # The lab's names resolve only at challtestsrv and Pebble validates on
  # LAB_HTTP_PORT, so the http-01 pre-flight check (port 80, system
  # resolver) is off by default here; preflight_test.sh turns it on with
  # --preflight-port "$LAB_HTTP_PORT" --dns-resolver "$LAB_DNS".
  export BULKHEAD_NO_PREFLIGHT=1
  # nginx may drop privileges when run as root; let anyone traverse to the
  # webroot (the lab dir is usually a 0700 mktemp dir).
  chmod 0755 "$dir" "$LAB_WEBROOT"
  if [ "${LAB_EAB:-0}" = "1" ]; then
    export LAB_EAB_KID="$LAB_EAB_KID_DEFAULT"
    export LAB_EAB_KEY="$LAB_EAB_KEY_DEFAULT"
  else
    unset LAB_EAB_KID LAB_EAB_KEY
  fi
  _lab_write_tls || {
    _lab_say "openssl could not make the lab's TLS certificate"
    return 1
  }
  # A port picked free can be taken by someone else before we bind it;
  # start again on new ports a couple of times before giving up.
  local attempt
  for attempt in 1 2 3; do
    if _lab_try_start; then
      return 0
    fi
    _lab_say "start attempt $attempt failed"
    lab_stop "$dir"
  done
  return 1
}

# lab_stop DIR: stops every daemon lab_start started in DIR and waits until
# they are gone. Safe to call twice or on a lab that never started.
lab_stop() {
  local dir="${1:?lab_stop DIR}" pidfile pgid name deadline
  [ -d "$dir" ] || return 0
  for pidfile in "$dir"/nginx.pid "$dir"/pebble.pid "$dir"/challtestsrv.pid; do
    [ -s "$pidfile" ] || continue
    pgid="$(cat "$pidfile")"
    name="$(basename "$pidfile" .pid)"
    if _lab_alive "$pgid"; then
      kill -TERM -- "-$pgid" 2>/dev/null || true
      deadline=$((SECONDS + 10))
      while _lab_alive "$pgid"; do
        if [ "$SECONDS" -ge "$deadline" ]; then
          _lab_say "$name ignored SIGTERM; killing"
          kill -KILL -- "-$pgid" 2>/dev/null || true
          deadline=$((SECONDS + 10))
        fi
        sleep 0.02
      done
    fi
    rm -f "$pidfile"
  done
  return 0
}

# bh ARGS...: runs bulkhead against the lab's CA with the lab's state dir.
bh() {
  "${BULKHEAD_BIN:?BULKHEAD_BIN is not set}" --state-dir "$LAB_DIR/state" \
    --server "$LAB_URL" --ca-bundle "$LAB_CA" "$@"
}

# lab_cert_status SERIALHEX: prints Pebble's status JSON for a certificate
# serial (as printed by `openssl x509 -serial`, with or without "serial=",
# any case, with or without leading zeros). Fails if Pebble does not know it.
lab_cert_status() {
  local serial="${1:?lab_cert_status SERIALHEX}"
  serial="${serial#serial=}"
  serial="$(echo "$serial" | tr -d ':' | tr 'A-F' 'a-f')"
  local stripped="$serial"
  while [ "${stripped#0}" != "$stripped" ]; do
    stripped="${stripped#0}"
  done
  local s
  for s in "$stripped" "$serial" "$(echo "$serial" | tr 'a-f' 'A-F')"; do
    [ -n "$s" ] || continue
    if curl -fsS --max-time 10 --cacert "$LAB_CA" "$LAB_MGMT/cert-status-by-serial/$s" 2>/dev/null; then
      return 0
    fi
  done
  _lab_say "Pebble does not know serial $1"
  return 1
}

# ---- helpers for the *_test.sh scripts -------------------------------------

# lab_test_init: checks BULKHEAD_BIN, makes TEST_TMP (a fresh temporary
# directory) and installs an EXIT trap that stops every lab started under
# TEST_TMP and removes it. Start labs in "$TEST_TMP/<something>".
lab_test_init() {
  if [ -z "${BULKHEAD_BIN:-}" ]; then
    echo "BULKHEAD_BIN is not set (path of the built bulkhead binary)" >&2
    exit 2
  fi
  BULKHEAD_BIN="$(cd "$(dirname "$BULKHEAD_BIN")" && pwd)/$(basename "$BULKHEAD_BIN")"
  if [ ! -x "$BULKHEAD_BIN" ]; then
    echo "BULKHEAD_BIN=$BULKHEAD_BIN is not executable" >&2
    exit 2
  fi
  export BULKHEAD_BIN
  TEST_TMP="$(mktemp -d)"
  trap '_lab_test_cleanup' EXIT
  trap 'exit 130' INT TERM
}

_lab_test_cleanup() {
  local d
  for d in "$TEST_TMP"/*/; do
    [ -f "$d/pebble.json" ] && lab_stop "$d"
  done
  rm -rf "$TEST_TMP"
}

# lab_start_or_die DIR: lab_start, or a "not ok" line and exit 1.
lab_start_or_die() {
  if ! lab_start "$1"; then
    echo "not ok - lab starts in $1"
    exit 1
  fi
}

# cert_serial PEM: the certificate's serial in hex, as openssl prints it.
cert_serial() {
  openssl x509 -in "$1" -noout -serial 2>/dev/null | sed 's/^serial=//'
}

# cert_pubkey PEM / key_pubkey PEM / csr_pubkey PEM: the public key as PEM.
cert_pubkey() {
  openssl x509 -in "$1" -noout -pubkey 2>/dev/null
}

key_pubkey() {
  openssl pkey -in "$1" -pubout 2>/dev/null
}

csr_pubkey() {
  openssl req -in "$1" -noout -pubkey 2>/dev/null
}

# cert_names PEM: the certificate's DNS names, sorted, comma-separated.
cert_names() {
  openssl x509 -in "$1" -noout -ext subjectAltName 2>/dev/null |
    tr ',' '\n' | sed -n 's/^ *DNS://p' | sort | paste -sd, -
}

# sorted_names NAME...: the names sorted and comma-separated.
sorted_names() {
  printf '%s\n' "$@" | sort | paste -sd, -
}

# file_mode FILE: octal permission bits, e.g. 600.
file_mode() {
  stat -c %a "$1" 2>/dev/null
}

# cert_dir NAME: the state directory of certificate NAME in the current lab.
cert_dir() {
  echo "$LAB_DIR/state/certs/$1"
}

# live_version NAME: the version the live link of certificate NAME points to.
live_version() {
  basename "$(readlink "$(cert_dir "$1")/live" 2>/dev/null)" 2>/dev/null
}

# version_dirs NAME: the numeric version directories of NAME, sorted.
version_dirs() {
  local d
  for d in "$(cert_dir "$1")"/*/; do
    d="$(basename "$d")"
    case "$d" in
      *[!0-9]*) ;;
      *) echo "$d" ;;
    esac
  done | sort -n
}

LAB_FAILURES=0
LAB_CHECKS=0

# ok DESCRIPTION / not_ok DESCRIPTION [DETAIL]: TAP-style result lines.
ok() {
  LAB_CHECKS=$((LAB_CHECKS + 1))
  echo "ok - $1"
}

not_ok() {
  LAB_CHECKS=$((LAB_CHECKS + 1))
  LAB_FAILURES=$((LAB_FAILURES + 1))
  echo "not ok - $1"
  if [ -n "${2:-}" ]; then
    printf '%s\n' "$2" | sed 's/^/#   /'
  fi
}

# check DESCRIPTION CMD...: ok if CMD succeeds, not ok otherwise.
check() {
  local desc="$1"
  shift
  if "$@"; then
    ok "$desc"
  else
    not_ok "$desc" "command failed: $*"
  fi
}

# check_fails DESCRIPTION CMD...: ok if CMD fails.
check_fails() {
  local desc="$1"
  shift
  if "$@"; then
    not_ok "$desc" "command succeeded: $*"
  else
    ok "$desc"
  fi
}

# check_eq DESCRIPTION EXPECTED ACTUAL
check_eq() {
  if [ "$2" = "$3" ]; then
    ok "$1"
  else
    not_ok "$1" "expected: $2
actual:   $3"
  fi
}

# run_bh OUT_PREFIX ARGS...: runs bh, leaving stdout in $OUT_PREFIX.out,
# stderr in $OUT_PREFIX.err and the exit status in RC. A sanitizer report
# on stderr is a failed check of its own (ASan exits 1, like a normal error).
# shellcheck disable=SC2034  # RC is read by the calling test
run_bh() {
  local prefix="$1"
  shift
  RC=0
  bh "$@" >"$prefix.out" 2>"$prefix.err" || RC=$?
  check_no_sanitizer "$prefix.err" "$*"
}

# check_no_sanitizer ERRFILE WHAT: not ok if ERRFILE holds an ASan, LSan or
# UBSan report.
check_no_sanitizer() {
  if grep -qE 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error: ' "$1" 2>/dev/null; then
    not_ok "no sanitizer report from bulkhead $2" "$(grep -m 20 -E 'Sanitizer|runtime error|#[0-9]+ ' "$1")"
  fi
}

# lab_finish: prints a summary; returns 1 if any check failed.
lab_finish() {
  if [ "$LAB_FAILURES" -ne 0 ]; then
    echo "# $LAB_FAILURES of $LAB_CHECKS checks failed"
    return 1
  fi
  echo "# all $LAB_CHECKS checks passed"
  return 0
}
