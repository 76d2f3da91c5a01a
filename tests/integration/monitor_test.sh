#!/usr/bin/env bash
# bulkhead monitor check against local TLS servers: one nginx presenting a
# valid chain (from a test CA passed with --ca-bundle) with strict security
# headers, the same with weak ones (judged with --http-headers), an expired
# leaf, a wrong name, a self-signed certificate, an incomplete chain and a
# leaf that expires in ten days; plus a STARTTLS SMTP endpoint. Each verdict is
# checked, the expiry is compared with `openssl x509 -enddate` and with
# prometheus-blackbox-exporter's probe_ssl_earliest_cert_expiry on the same
# endpoint. TLSA records published by a Knot server for the name checked
# must be compared with the served chain (one matching, one not).
#
# The SMTP endpoint is a tiny python3 server (smtp_starttls.py): no
# Debian mail server speaks STARTTLS on a loopback port without a full
# mail-system configuration, and the dialogue is all that is being tested.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/integration/lib_knot.sh
source "$LAB_LIB_DIR/lib_knot.sh"
lab_test_init

PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do
    kill "$p" 2>/dev/null
  done
  [ -f "$TEST_TMP/nginx/nginx.pid" ] && kill "$(cat "$TEST_TMP/nginx/nginx.pid")" 2>/dev/null
  knot_stop "$TEST_TMP/knot"
  _lab_test_cleanup
}
trap cleanup EXIT

D="$TEST_TMP/pki"
mkdir -p "$D"

# --- certificates ------------------------------------------------------------
# ca_sign NAME ISSUER SAN START END [ca]: signs $D/NAME.csr with ISSUER
# (openssl ca, so that validity dates in the past are possible).
ca_sign() {
  local name="$1" issuer="$2" san="$3" start="$4" end="$5" ext="leaf"
  [ "${6:-}" = ca ] && ext="v3ca"
  local db="$D/db.$issuer"
  mkdir -p "$db"
  [ -f "$db/index" ] || : >"$db/index"
  [ -f "$db/serial" ] || echo 1000 >"$db/serial"
  cat >"$D/$name.cnf" <<EOF
[ca]
default_ca = this
[this]
database = $db/index
new_certs_dir = $db
serial = $db/serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
[leaf]
basicConstraints = critical,CA:FALSE
subjectAltName = $san
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[v3ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
  openssl ca -batch -notext -config "$D/$name.cnf" -cert "$D/$issuer.pem" -keyfile "$D/$issuer.key" \
    -in "$D/$name.csr" -out "$D/$name.pem" -extensions "$ext" \
    -startdate "$start" -enddate "$end" >/dev/null 2>"$D/$name.log"
}

new_csr() {
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/$1.key" \
    -subj "/CN=$2" -out "$D/$1.csr" 2>/dev/null
}

utc() {
  date -u -d "$1" +%Y%m%d%H%M%SZ
}

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/ca.key" \
  -subj "/CN=Monitor Test Root" -days 3650 -out "$D/ca.pem" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  2>/dev/null
new_csr inter "Monitor Test Intermediate"
ca_sign inter ca "DNS:unused" "$(utc '-1 day')" "$(utc '+3000 days')" ca
new_csr good good.test
ca_sign good inter "DNS:good.test" "$(utc '-1 day')" "$(utc '+60 days')"
new_csr expired good.test
ca_sign expired inter "DNS:good.test" 20200101000000Z 20200201000000Z
new_csr wrong other.test
ca_sign wrong inter "DNS:other.test" "$(utc '-1 day')" "$(utc '+60 days')"
new_csr soon good.test
ca_sign soon inter "DNS:good.test" "$(utc '-80 days')" "$(utc '+10 days')"
new_csr mail mail.test
ca_sign mail inter "DNS:mail.test" "$(utc '-1 day')" "$(utc '+45 days')"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/self.key" \
  -subj "/CN=good.test" -days 30 -out "$D/self.pem" -addext "subjectAltName=DNS:good.test" 2>/dev/null
for n in good expired wrong soon mail; do
  cat "$D/$n.pem" "$D/inter.pem" >"$D/$n.full.pem"
done
cp "$D/self.pem" "$D/self.full.pem"
cp "$D/good.pem" "$D/incomplete.full.pem"
cp "$D/good.key" "$D/incomplete.key"
cp "$D/good.full.pem" "$D/weak.full.pem"
cp "$D/good.key" "$D/weak.key"
for n in inter good expired wrong soon self incomplete mail; do
  if [ ! -s "$D/$n.full.pem" ] && [ ! -s "$D/$n.pem" ]; then
    not_ok "test certificate $n made" "$(cat "$D/$n.log" 2>/dev/null)"
    lab_finish
    exit 1
  fi
done
ok "test certificates made"

# --- servers -----------------------------------------------------------------
read -r -a PORTS <<<"$(python3 "$LAB_LIB_DIR/freeport.py" 10 | tr '\n' ' ')"
declare -A PORT=([good]=${PORTS[0]} [expired]=${PORTS[1]} [wrong]=${PORTS[2]} [self]=${PORTS[3]}
  [incomplete]=${PORTS[4]} [soon]=${PORTS[5]} [weak]=${PORTS[9]})
# Security headers: "good" sends strict ones, "weak" one weakness per
# header; the others send what most sites do (no CSP), never asked for.
declare -A HEADERS
for n in "${!PORT[@]}"; do
  HEADERS[$n]='add_header Strict-Transport-Security "max-age=63072000" always;
    add_header Referrer-Policy "no-referrer" always;'
done
HEADERS[good]='add_header Strict-Transport-Security "max-age=63072000; includeSubDomains; preload" always;
    add_header Content-Security-Policy "default-src '"'self'"'; object-src '"'none'"'; base-uri '"'none'"'" always;
    add_header Referrer-Policy "strict-origin-when-cross-origin" always;'
HEADERS[weak]='add_header Strict-Transport-Security "max-age=300" always;
    add_header Content-Security-Policy "default-src *; script-src '"'self' 'unsafe-inline'"'" always;
    add_header Referrer-Policy "unsafe-url" always;'

SMTP_PORT=${PORTS[6]}
BB_PORT=${PORTS[7]}

N="$TEST_TMP/nginx"
mkdir -p "$N/tmp" "$N/logs"
{
  cat <<EOF
worker_processes 1;
pid $N/nginx.pid;
error_log $N/logs/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $N/tmp/client_body;
  proxy_temp_path $N/tmp/proxy;
  fastcgi_temp_path $N/tmp/fastcgi;
  uwsgi_temp_path $N/tmp/uwsgi;
  scgi_temp_path $N/tmp/scgi;
EOF
  for n in "${!PORT[@]}"; do
    cat <<EOF
  server {
    listen 127.0.0.1:${PORT[$n]} ssl;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate $D/$n.full.pem;
    ssl_certificate_key $D/$n.key;
    ${HEADERS[$n]}
    location / { return 200 "hello\n"; }
  }
EOF
  done
  echo "}"
} >"$N/nginx.conf"
if ! nginx -p "$N" -c "$N/nginx.conf" 2>"$N/start.err"; then
  not_ok "nginx starts" "$(cat "$N/start.err" "$N/logs/error.log" 2>/dev/null)"
  lab_finish
  exit 1
fi

python3 "$LAB_LIB_DIR/smtp_starttls.py" "$SMTP_PORT" "$D/mail.full.pem" "$D/mail.key" 2>"$TEST_TMP/smtp.err" &
PIDS+=($!)

cat >"$TEST_TMP/bb.yml" <<EOF
modules:
  tls:
    prober: tcp
    timeout: 5s
    tcp:
      tls: true
      tls_config:
        ca_file: $D/ca.pem
        server_name: good.test
  tls_insecure:
    prober: tcp
    timeout: 5s
    tcp:
      tls: true
      tls_config:
        insecure_skip_verify: true
        server_name: good.test
EOF
prometheus-blackbox-exporter --config.file="$TEST_TMP/bb.yml" \
  --web.listen-address="127.0.0.1:$BB_PORT" >"$TEST_TMP/bb.log" 2>&1 &
PIDS+=($!)

# wait_port PORT: polls until something listens on 127.0.0.1:PORT (10 s).
wait_port() {
  local deadline=$((SECONDS + 10))
  while [ $SECONDS -lt $deadline ]; do
    if python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$1" 2>/dev/null; then
      return 0
    fi
    sleep 0.05
  done
  return 1
}
for p in "${PORT[@]}" "$SMTP_PORT" "$BB_PORT"; do
  wait_port "$p" || not_ok "server on port $p is up"
done

# --- checks ------------------------------------------------------------------
# TLSA look-ups go to the system resolver by default; the checks below that
# are not about TLSA skip them so that no test depends on outside DNS.
MON_TLSA=(--no-tlsa)
mon() {
  RC=0
  "$BULKHEAD_BIN" --state-dir "$TEST_TMP/state" --ca-bundle "$D/ca.pem" monitor check \
    "${MON_TLSA[@]}" "$@" \
    >"$TEST_TMP/out" 2>"$TEST_TMP/err" || RC=$?
  check_no_sanitizer "$TEST_TMP/err" "monitor check $*"
}

# jq_py EXPR: evaluates a Python expression over the JSON in $TEST_TMP/out
# (bound to `j`, the array's first element).
jq_py() {
  python3 -c 'import json,sys; j=json.load(open(sys.argv[1]))[0]; print(eval(sys.argv[2]))' \
    "$TEST_TMP/out" "$1" 2>&1
}

enddate_unix() {
  date -u -d "$(openssl x509 -in "$1" -noout -enddate | sed 's/^notAfter=//')" +%s
}

bb_expiry() {
  curl -s "http://127.0.0.1:$BB_PORT/probe?module=$1&target=127.0.0.1:$2" |
    awk '/^probe_ssl_earliest_cert_expiry / { printf "%d\n", $2 }'
}

# verdict NAME PORT STATE RC [extra args]
verdict() {
  local name="$1" port="$2" want="$3" want_rc="$4"
  shift 4
  mon "127.0.0.1:$port" --sni good.test --json "$@"
  check_eq "$name: exit status" "$want_rc" "$RC"
  check_eq "$name: state" "$want" "$(jq_py 'j["state"]')"
}

verdict "valid chain" "${PORT[good]}" OK 0 --http-headers
check_eq "valid: chain_valid" True "$(jq_py 'j["chain_valid"]')"
check_eq "valid: hostname_match" True "$(jq_py 'j["hostname_match"]')"
check_eq "valid: TLS version" TLSv1.3 "$(jq_py 'j["tls_version"]')"
check_eq "valid: issuer is the intermediate" "CN=Monitor Test Intermediate" "$(jq_py 'j["leaf"]["issuer"]')"
check_eq "valid: key" "EC 256" "$(jq_py 'j["leaf"]["key_type"] + " " + str(j["leaf"]["key_bits"])')"
check_eq "valid: serial as openssl prints it" \
  "$(openssl x509 -in "$D/good.pem" -noout -serial | sed 's/serial=//' | tr A-F a-f | sed 's/^0*//')" \
  "$(jq_py 'j["leaf"]["serial"]')"
# The header entries are objects since they are judged; "present" is what
# the booleans used to say. This server sends all three, strict.
check_eq "valid: HSTS seen" True "$(jq_py 'j["http"]["strict_transport_security"]["present"]')"
check_eq "valid: Referrer-Policy seen" True "$(jq_py 'j["http"]["referrer_policy"]["present"]')"
check_eq "valid: CSP seen" True "$(jq_py 'j["http"]["content_security_policy"]["present"]')"
check_eq "valid: headers ok" True "$(jq_py 'j["http"]["ok"]')"
check_eq "valid: headers count" True "$(jq_py 'j["http"]["affects_state"]')"
check_eq "valid: HSTS max-age" 63072000 "$(jq_py 'j["http"]["strict_transport_security"]["max_age"]')"
check_eq "valid: HSTS preload-eligible" True "$(jq_py 'j["http"]["strict_transport_security"]["preload_eligible"]')"
check_eq "valid: Referrer-Policy value" strict-origin-when-cross-origin "$(jq_py 'j["http"]["referrer_policy"]["value"]')"
check_eq "valid: no findings" 0 "$(jq_py 'sum(len(j["http"][h]["findings"]) for h in ("strict_transport_security", "content_security_policy", "referrer_policy"))')"
good_end="$(enddate_unix "$D/good.pem")"
check_eq "valid: not_after equals openssl x509 -enddate" "$good_end" "$(jq_py 'j["leaf"]["not_after_unix"]')"
days=$(( (good_end - $(date +%s)) / 86400 ))
check_eq "valid: days_left from openssl's date" "$days" "$(jq_py 'j["leaf"]["days_left"]')"
check_eq "valid: blackbox_exporter's probe_ssl_earliest_cert_expiry agrees" \
  "$good_end" "$(bb_expiry tls "${PORT[good]}")"

verdict "weak headers" "${PORT[weak]}" WARNING 1 --http-headers
check_eq "weak headers: not ok" False "$(jq_py 'j["http"]["ok"]')"
check_eq "weak headers: HSTS value" "max-age=300" "$(jq_py 'j["http"]["strict_transport_security"]["value"]')"
check_eq "weak headers: HSTS finding" "HSTS max-age=300 is below one year (31536000)" \
  "$(jq_py 'j["http"]["strict_transport_security"]["findings"][0]')"
check_eq "weak headers: CSP finding" "CSP script-src allows inline scripts ('unsafe-inline')" \
  "$(jq_py 'j["http"]["content_security_policy"]["findings"][0]')"
check_eq "weak headers: Referrer-Policy finding" \
  "Referrer-Policy unsafe-url is not strict (want no-referrer, same-origin, strict-origin or strict-origin-when-cross-origin)" \
  "$(jq_py 'j["http"]["referrer_policy"]["findings"][0]')"
check_eq "weak headers: the findings are the reasons" 3 "$(jq_py 'len(j["reasons"])')"
mon "127.0.0.1:${PORT[weak]}" --sni good.test --http-headers
check_eq "weak headers, table: exit status" 1 "$RC"
check "weak headers, table: WARNING row" grep -q "^WARNING  127.0.0.1:${PORT[weak]}" "$TEST_TMP/out"
check "weak headers, table: summary line" grep -qx "    HSTS max-age=300, CSP weak, Referrer-Policy weak" "$TEST_TMP/out"
check "weak headers, table: HSTS finding on its line" grep -qx "    HSTS max-age=300 is below one year (31536000)" "$TEST_TMP/out"
check "weak headers, table: CSP finding on its line" grep -qx "    CSP script-src allows inline scripts ('unsafe-inline')" "$TEST_TMP/out"
check "weak headers, table: Referrer-Policy finding on its line" grep -qx "    Referrer-Policy unsafe-url is not strict (want no-referrer, same-origin, strict-origin or strict-origin-when-cross-origin)" "$TEST_TMP/out"
# Off port 443 headers are read only when asked for.
verdict "weak headers not asked for" "${PORT[weak]}" OK 0
check_eq "weak headers not asked for: http null" None "$(jq_py 'j["http"]')"

verdict "expired" "${PORT[expired]}" ERROR 1
expired_end="$(enddate_unix "$D/expired.pem")"
check_eq "expired: still reported with its dates" "$expired_end" "$(jq_py 'j["leaf"]["not_after_unix"]')"
check_eq "expired: not_after text" "2020-02-01T00:00:00Z" "$(jq_py 'j["leaf"]["not_after"]')"
check "expired: reason says expired" grep -q "expired 2020-02-01" "$TEST_TMP/out"
days_ago=$(( ($(date +%s) - expired_end) / 86400 ))
check "expired: whole days elapsed since openssl's date ($days_ago)" \
  grep -q "expired 2020-02-01T00:00:00Z ($days_ago days ago)" "$TEST_TMP/out"
check_eq "expired: blackbox_exporter agrees on the expiry" \
  "$expired_end" "$(bb_expiry tls_insecure "${PORT[expired]}")"

verdict "wrong name" "${PORT[wrong]}" ERROR 1
check_eq "wrong name: chain itself valid" True "$(jq_py 'j["chain_valid"]')"
check_eq "wrong name: hostname_match false" False "$(jq_py 'j["hostname_match"]')"

verdict "self-signed" "${PORT[self]}" ERROR 1
check_eq "self-signed: chain invalid" False "$(jq_py 'j["chain_valid"]')"
check "self-signed: OpenSSL's reason" grep -q "self-signed" "$TEST_TMP/out"

verdict "incomplete chain" "${PORT[incomplete]}" ERROR 1
check_eq "incomplete chain: no intermediates served" 0 "$(jq_py 'len(j["intermediates"])')"
check "incomplete chain: issuer certificate missing" grep -q "unable to get local issuer" "$TEST_TMP/out"

verdict "expires in 10 days" "${PORT[soon]}" PLAN 0
check_eq "expires in 10 days: days_left" 9 "$(jq_py 'j["leaf"]["days_left"]')"
verdict "expires in 10 days, --warn-days 5" "${PORT[soon]}" OK 0 --warn-days 5 --crit-days 1
verdict "expires in 10 days, --crit-days 11" "${PORT[soon]}" WARNING 1 --warn-days 20 --crit-days 11

mon "127.0.0.1:$SMTP_PORT" --sni mail.test --starttls smtp --json
check_eq "STARTTLS SMTP: exit status" 0 "$RC"
check_eq "STARTTLS SMTP: state" OK "$(jq_py 'j["state"]')"
check_eq "STARTTLS SMTP: leaf" "mail.test" "$(jq_py 'j["leaf"]["subject_cn"]')"
mon "127.0.0.1:${PORT[good]}" --starttls smtp --timeout 1 --json
check_eq "STARTTLS against a TLS port fails" 1 "$RC"
check "STARTTLS against a TLS port: reason names the phase" grep -q "starttls" "$TEST_TMP/out"

# Unreachable: a port nobody listens on.
mon "127.0.0.1:${PORTS[8]}" --json
check_eq "unreachable: exit status" 1 "$RC"
check_eq "unreachable: state" ERROR "$(jq_py 'j["state"]')"
check_eq "unreachable: up" False "$(jq_py 'j["up"]')"

# All at once, as a table and as Prometheus text.
mon "127.0.0.1:${PORT[good]}" "127.0.0.1:${PORT[expired]}" "127.0.0.1:${PORT[soon]}" --sni good.test
check_eq "table: exit status with an ERROR row" 1 "$RC"
check "table: header" grep -q "^STATE *ENDPOINT *ADDRESS *DAYS *EXPIRES" "$TEST_TMP/out"
check "table: one row per endpoint" test "$(grep -cE '^(OK|PLAN|WARNING|ERROR) ' "$TEST_TMP/out")" -eq 3
mon "127.0.0.1:${PORT[good]}" "127.0.0.1:${PORT[expired]}" --sni good.test --prometheus
labels="{endpoint=\"127.0.0.1:${PORT[good]}\",address=\"127.0.0.1\",name=\"good.test\"}"
check "prometheus: not_after of the valid endpoint" \
  grep -qx "bulkhead_cert_not_after_seconds$labels $good_end" "$TEST_TMP/out"
check "prometheus: endpoint up" grep -qx "bulkhead_endpoint_up$labels 1" "$TEST_TMP/out"
check "prometheus: expired chain invalid" \
  grep -qx "bulkhead_cert_chain_valid{endpoint=\"127.0.0.1:${PORT[expired]}\",address=\"127.0.0.1\",name=\"good.test\"} 0" \
  "$TEST_TMP/out"
check "prometheus: TYPE lines" grep -q "^# TYPE bulkhead_cert_expires_in_seconds gauge" "$TEST_TMP/out"

# Managed certificate comparison: a store whose live leaf is good.pem.
mkdir -p "$TEST_TMP/state/certs/good.test/1"
cp "$D/good.pem" "$TEST_TMP/state/certs/good.test/1/cert.pem"
cp "$D/good.full.pem" "$TEST_TMP/state/certs/good.test/1/fullchain.pem"
echo '{"names":["good.test"]}' >"$TEST_TMP/state/certs/good.test/settings.json"
ln -s 1 "$TEST_TMP/state/certs/good.test/live"
mon "127.0.0.1:${PORT[good]}" --sni good.test --json
check_eq "managed: served leaf is the managed one" True "$(jq_py 'j["managed"]["match"] if j["managed"] else None')"
mon "127.0.0.1:${PORT[soon]}" --sni good.test --json
check_eq "managed: an older leaf is not the managed one" False "$(jq_py 'j["managed"]["match"] if j["managed"] else None')"
check_eq "managed: serving an older leaf than the managed one is a WARNING" WARNING "$(jq_py 'j["state"]')"
check "... naming both serials" grep -q \
  "serial $(jq_py 'j["leaf"]["serial"]') (expires .*) instead of serial $(openssl x509 -in "$D/good.pem" -noout -serial | sed 's/serial=//' | tr A-F a-f | sed 's/^0*//') (expires" \
  "$TEST_TMP/out"

# TLSA: Knot serves good.test with a 3 1 1 record of the good leaf's key at
# the good port and at the soon port (whose leaf has another key), none at
# the expired port.
spki_sha256() {
  openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1
}
GOOD_TLSA="3 1 1 $(spki_sha256 "$D/good.pem")"
if knot_start "$TEST_TMP/knot" good.test "_${PORT[good]}._tcp 60 TLSA $GOOD_TLSA" \
  "_${PORT[soon]}._tcp 60 TLSA $GOOD_TLSA"; then
  ok "knot serves the TLSA records"
  MON_TLSA=(--resolver "$(knot_addr "$TEST_TMP/knot")")
  mon "127.0.0.1:${PORT[good]}" --sni good.test --json
  check_eq "TLSA matching: state" OK "$(jq_py 'j["state"]')"
  check_eq "TLSA matching: tlsa_match" True "$(jq_py 'j["tlsa_match"]')"
  check_eq "TLSA matching: owner" "_${PORT[good]}._tcp.good.test." "$(jq_py 'j["tlsa"]["owner"]')"
  check_eq "TLSA matching: says not validated" False "$(jq_py 'j["tlsa"]["validated"]')"
  check "TLSA matching: detail says not DNSSEC-validated" grep -q "not DNSSEC-validated" "$TEST_TMP/out"
  mon "127.0.0.1:${PORT[soon]}" --sni good.test --json
  check_eq "TLSA mismatch: state ERROR (was PLAN)" ERROR "$(jq_py 'j["state"]')"
  check_eq "TLSA mismatch: exit status" 1 "$RC"
  check_eq "TLSA mismatch: tlsa_match" False "$(jq_py 'j["tlsa_match"]')"
  check "TLSA mismatch: reason" grep -q "TLSA mismatch: none of the 1 TLSA record" "$TEST_TMP/out"
  mon "127.0.0.1:${PORT[expired]}" --sni good.test --json
  check_eq "TLSA none published: tlsa_match null" None "$(jq_py 'j["tlsa_match"]')"
  check "TLSA none published: detail" grep -q "no TLSA record at _${PORT[expired]}._tcp.good.test." "$TEST_TMP/out"
  mon "127.0.0.1:${PORT[good]}" "127.0.0.1:${PORT[soon]}" --sni good.test --prometheus
  check "TLSA: metric 1 for the matching endpoint" grep -qx \
    "bulkhead_tlsa_match{endpoint=\"127.0.0.1:${PORT[good]}\",address=\"127.0.0.1\",name=\"good.test\"} 1" \
    "$TEST_TMP/out"
  check "TLSA: metric 0 for the other" grep -qx \
    "bulkhead_tlsa_match{endpoint=\"127.0.0.1:${PORT[soon]}\",address=\"127.0.0.1\",name=\"good.test\"} 0" \
    "$TEST_TMP/out"
  mon "127.0.0.1:${PORT[good]}" "127.0.0.1:${PORT[soon]}" --sni good.test
  check "TLSA: table notes the mismatch" grep -q "TLSA MISMATCH (not DNSSEC-validated)" "$TEST_TMP/out"
  knot_stop "$TEST_TMP/knot"
  # A resolver that does not answer leaves the TLSA result unknown, quickly.
  start=$SECONDS
  MON_TLSA=(--resolver "127.0.0.1:${PORTS[8]}")
  mon "127.0.0.1:${PORT[good]}" --sni good.test --json
  check_eq "TLSA resolver down: state unchanged" OK "$(jq_py 'j["state"]')"
  check_eq "TLSA resolver down: tlsa_match null" None "$(jq_py 'j["tlsa_match"]')"
  check "TLSA resolver down: detail names the failure" grep -q "TLSA look-up failed" "$TEST_TMP/out"
  check "TLSA resolver down: within the short timeout" test $((SECONDS - start)) -le 5
  MON_TLSA=(--no-tlsa)
else
  not_ok "knot serves the TLSA records"
fi

# The probe role, which parses what servers send, attacks for real (test
# builds only, see src/roles/hostile.h): signalling the monitor that started
# it and writing a file must both fail, and the monitor must survive to
# report the failed run.
hostile_probe() {
  BULKHEAD_TEST_HOSTILE="$1" mon "127.0.0.1:${PORT[good]}" --sni good.test --json
}
hostile_probe probe:kill:parent
if grep -q "hostile probe\|probe role: forbidden" "$TEST_TMP/err"; then
  check "hostile probe kill: blocked" \
    grep -q "hostile probe kill: blocked\|probe role: forbidden system call kill" "$TEST_TMP/err"
  check_fails "hostile probe kill: never succeeded" grep -q "SUCCEEDED" "$TEST_TMP/err"
  check_eq "hostile probe kill: the monitor survives and fails the run" 1 "$RC"
  check "hostile probe kill: the error names the probe role" grep -q "probe" "$TEST_TMP/err"
  target="$TEST_TMP/hostile-written"
  hostile_probe "probe:write-outside:$target"
  check "hostile probe write: blocked" \
    grep -q "hostile probe write-outside: blocked\|probe role: forbidden system call open" "$TEST_TMP/err"
  check_fails "hostile probe write: no file" test -e "$target"
  check_eq "hostile probe write: the run fails" 1 "$RC"
else
  ok "# SKIP hostile probe attacks: no test hooks in this build"
fi

# Usage errors exit 2.
mon --json
check_eq "no endpoint: usage" 2 "$RC"
mon "127.0.0.1:${PORT[good]}" --starttls ftp
check_eq "unknown STARTTLS: usage" 2 "$RC"
mon "127.0.0.1:${PORT[good]}" --warn-days 1 --crit-days 5
check_eq "crit above warn: usage" 2 "$RC"

# --targets-file: comments, blank lines and blanks around a line are skipped;
# a file over the 1 MiB cap is a usage error naming the file.
printf '# fleet\n\n  127.0.0.1:%s \r\n' "${PORT[good]}" >"$TEST_TMP/targets"
mon --targets-file "$TEST_TMP/targets" --sni good.test --json
check_eq "targets file: read" 0 "$RC"
check_eq "targets file: its endpoint checked" OK "$(jq_py 'j["state"]')"
head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' 'a' >"$TEST_TMP/targets-big"
mon --targets-file "$TEST_TMP/targets-big"
check_eq "oversized targets file: usage" 2 "$RC"
check "oversized targets file: the error names the file and the limit" \
  grep -q "cannot read targets file $TEST_TMP/targets-big: .*limit of 1048576" "$TEST_TMP/err"

lab_finish
