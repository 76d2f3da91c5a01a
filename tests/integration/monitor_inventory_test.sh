#!/usr/bin/env bash
# bulkhead monitor add|list|run|history|remove against both inventory
# backends: SQLite (the default file in the state directory) and a real
# PostgreSQL server started on a loopback port (lib_pg.sh). One nginx serves
# a certificate from a test CA; halfway through, the certificate it serves
# is swapped and nginx reloaded, and the history must record the new one.
# Removing an endpoint must remove its checks and changes too.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/integration/lib_pg.sh
source "$LAB_LIB_DIR/lib_pg.sh"
lab_test_init

cleanup() {
  [ -f "$TEST_TMP/nginx/nginx.pid" ] && kill "$(cat "$TEST_TMP/nginx/nginx.pid")" 2>/dev/null
  pg_stop
  _lab_test_cleanup
}
trap cleanup EXIT

D="$TEST_TMP/pki"
mkdir -p "$D"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/ca.key" \
  -subj "/CN=Inventory Test Root" -days 30 -out "$D/ca.pem" 2>/dev/null
printf 'subjectAltName=DNS:inv.test\nextendedKeyUsage=serverAuth\n' >"$D/ext"
for n in first second; do
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/$n.key" \
    -subj "/CN=inv.test" -out "$D/$n.csr" 2>/dev/null
  openssl x509 -req -in "$D/$n.csr" -CA "$D/ca.pem" -CAkey "$D/ca.key" -CAcreateserial \
    -days 60 -extfile "$D/ext" -out "$D/$n.pem" 2>/dev/null
done
fingerprint() {
  openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr A-F a-f
}
FP1="$(fingerprint "$D/first.pem")"
FP2="$(fingerprint "$D/second.pem")"
if [ -z "$FP1" ] || [ -z "$FP2" ] || [ "$FP1" = "$FP2" ]; then
  not_ok "test certificates made"
  lab_finish
  exit 1
fi

read -r -a PORTS <<<"$(python3 "$LAB_LIB_DIR/freeport.py" 2 | tr '\n' ' ')"
UP="${PORTS[0]}"
DOWN="${PORTS[1]}"  # Nobody listens there.
N="$TEST_TMP/nginx"
mkdir -p "$N/tmp" "$N/logs"
cp "$D/first.pem" "$N/cert.pem"
cp "$D/first.key" "$N/key.pem"
cat >"$N/nginx.conf" <<EOF
worker_processes 1;
pid $N/nginx.pid;
error_log $N/logs/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $N/tmp/cb;
  proxy_temp_path $N/tmp/p;
  fastcgi_temp_path $N/tmp/f;
  uwsgi_temp_path $N/tmp/u;
  scgi_temp_path $N/tmp/s;
  server {
    listen 127.0.0.1:$UP ssl;
    ssl_certificate $N/cert.pem;
    ssl_certificate_key $N/key.pem;
  }
}
EOF
if ! nginx -p "$N" -c "$N/nginx.conf" 2>"$N/start.err"; then
  not_ok "nginx starts" "$(cat "$N/start.err")"
  lab_finish
  exit 1
fi

# bhm ARGS...: bulkhead with the test CA and a fresh state directory per
# backend; output in $TEST_TMP/out, status in RC.
bhm() {
  RC=0
  "$BULKHEAD_BIN" --state-dir "$STATE" --ca-bundle "$D/ca.pem" monitor "$@" \
    >"$TEST_TMP/out" 2>"$TEST_TMP/err" || RC=$?
  check_no_sanitizer "$TEST_TMP/err" "monitor $*"
}

# py EXPR: evaluates a Python expression over the JSON output (bound to j).
py() {
  python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
    "$TEST_TMP/out" "$1" 2>&1
}

# served_fp: the leaf fingerprint nginx serves now.
served_fp() {
  "$BULKHEAD_BIN" --state-dir "$TEST_TMP/probe-state" --ca-bundle "$D/ca.pem" monitor check \
    "127.0.0.1:$UP" --sni inv.test --no-tlsa --json 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["leaf"]["sha256_fingerprint"])' 2>/dev/null
}

# exercise BACKEND DBARGS...: the whole scenario against one inventory.
exercise() {
  local b="$1"
  shift
  local db=("$@")
  STATE="$TEST_TMP/state-$b"
  cp "$D/first.pem" "$N/cert.pem"
  cp "$D/first.key" "$N/key.pem"
  nginx -p "$N" -c "$N/nginx.conf" -s reload 2>/dev/null
  local deadline=$((SECONDS + 10))
  until [ "$(served_fp)" = "$FP1" ] || [ $SECONDS -ge $deadline ]; do
    sleep 0.1
  done

  bhm add "127.0.0.1:$UP" "127.0.0.1:$DOWN" --sni inv.test "${db[@]}"
  check_eq "$b: add exits 0" 0 "$RC"
  check_eq "$b: both added" 2 "$(grep -c '^added ' "$TEST_TMP/out")"
  bhm add "127.0.0.1:$UP" "${db[@]}"
  check "$b: adding again says exists" grep -qx "exists 127.0.0.1:$UP" "$TEST_TMP/out"
  bhm list "${db[@]}"
  check "$b: list before any run says never checked" grep -q "127.0.0.1:$UP .*never checked" "$TEST_TMP/out"

  bhm run --no-tlsa --json "${db[@]}"
  check_eq "$b: run exits 1 (one endpoint unreachable)" 1 "$RC"
  check_eq "$b: run checked both" 2 "$(py 'len(j)')"
  bhm list --json "${db[@]}"
  check_eq "$b: list shows OK for the served endpoint" OK \
    "$(py "[e for e in j if e['endpoint']=='127.0.0.1:$UP'][0]['checks'][0]['state']")"
  check_eq "$b: list shows ERROR for the unreachable one" ERROR \
    "$(py "[e for e in j if e['endpoint']=='127.0.0.1:$DOWN'][0]['checks'][0]['state']")"
  check_eq "$b: list keeps the SNI" inv.test \
    "$(py "[e for e in j if e['endpoint']=='127.0.0.1:$UP'][0]['sni']")"
  bhm history "127.0.0.1:$UP" --json "${db[@]}"
  check_eq "$b: first run: one check" 1 "$(py 'len(j["checks"])')"
  check_eq "$b: first run: fingerprint of the first certificate" "$FP1" \
    "$(py 'j["checks"][0]["sha256_fingerprint"]')"
  check_eq "$b: first run: first_seen recorded" first_seen "$(py 'j["changes"][0]["kind"]')"

  # The operator installs a new certificate and reloads the server.
  cp "$D/second.pem" "$N/cert.pem"
  cp "$D/second.key" "$N/key.pem"
  nginx -p "$N" -c "$N/nginx.conf" -s reload 2>/dev/null
  deadline=$((SECONDS + 10))
  until [ "$(served_fp)" = "$FP2" ] || [ $SECONDS -ge $deadline ]; do
    sleep 0.1
  done
  check_eq "$b: nginx serves the second certificate" "$FP2" "$(served_fp)"

  bhm run --no-tlsa "${db[@]}"
  check_eq "$b: second run exits 1" 1 "$RC"
  check "$b: second run prints a table" grep -q "^OK  *127.0.0.1:$UP" "$TEST_TMP/out"
  bhm history "127.0.0.1:$UP" --json "${db[@]}"
  check_eq "$b: second run: two checks" 2 "$(py 'len(j["checks"])')"
  check_eq "$b: newest check first" "$FP2" "$(py 'j["checks"][0]["sha256_fingerprint"]')"
  check_eq "$b: new_certificate recorded" "new_certificate $FP1 $FP2" \
    "$(py '" ".join([(c["kind"]+" "+c["old"]+" "+c["new"]) for c in j["changes"] if c["kind"]=="new_certificate"])')"
  bhm history "127.0.0.1:$UP" "${db[@]}"
  check "$b: history as text names the change" grep -q "new_certificate $FP1 -> $FP2" "$TEST_TMP/out"

  bhm remove "127.0.0.1:$UP" "${db[@]}"
  check_eq "$b: remove exits 0" 0 "$RC"
  check "$b: remove says so" grep -qx "removed 127.0.0.1:$UP" "$TEST_TMP/out"
  bhm list --json "${db[@]}"
  check_eq "$b: list after remove" "['127.0.0.1:$DOWN']" "$(py '[e["endpoint"] for e in j]')"
  bhm history "127.0.0.1:$UP" "${db[@]}"
  check_eq "$b: history of a removed endpoint is not found" 1 "$RC"
  bhm remove "127.0.0.1:$UP" "${db[@]}"
  check_eq "$b: removing it again fails" 1 "$RC"
}

exercise sqlite
for t in checks cert_changes; do
  check_eq "sqlite: remove cascaded: $t rows only of the remaining endpoint" 0 \
    "$(sqlite3 "$TEST_TMP/state-sqlite/inventory.sqlite" \
      "SELECT count(*) FROM $t WHERE endpoint_id NOT IN (SELECT id FROM endpoints)")"
done
check_eq "sqlite: the unreachable endpoint kept its two checks" 2 \
  "$(sqlite3 "$TEST_TMP/state-sqlite/inventory.sqlite" "SELECT count(*) FROM checks")"
check "sqlite: inventory file is private" \
  test "$(stat -c %a "$TEST_TMP/state-sqlite/inventory.sqlite")" = 600

if pg_start "$TEST_TMP/pg"; then
  ok "postgres started"
  PGDB="$(pg_createdb monitor_inv)"
  exercise postgresql --db "$PGDB"
  psql_n() {
    psql -At -h 127.0.0.1 -p "$PG_PORT" -U bulkhead -d monitor_inv -c "$1" 2>&1
  }
  for t in checks cert_changes; do
    check_eq "postgresql: remove cascaded: $t" 0 \
      "$(psql_n "SELECT count(*) FROM $t WHERE endpoint_id NOT IN (SELECT id FROM endpoints)")"
  done
  check_eq "postgresql: the unreachable endpoint kept its two checks" 2 \
    "$(psql_n "SELECT count(*) FROM checks")"
  check "postgresql: nothing written to the SQLite default" \
    test ! -e "$TEST_TMP/state-postgresql/inventory.sqlite"
else
  not_ok "postgres started"
fi

lab_finish
