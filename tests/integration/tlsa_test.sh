#!/usr/bin/env bash
# TLSA records: `tlsa create` against ldns-dane over EC, RSA and chained
# certificates and every usage/selector/matching type; `tlsa verify`
# against a local TLS server (openssl s_server) and a Knot server that
# publishes the records.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_test_init

# run_bk OUT_PREFIX ARGS...: run_bh without a lab (these commands need no CA).
# shellcheck disable=SC2034  # RC is read below
run_bk() {
  local prefix="$1"
  shift
  RC=0
  "$BULKHEAD_BIN" "$@" >"$prefix.out" 2>"$prefix.err" || RC=$?
  check_no_sanitizer "$prefix.err" "$*"
}

SERVER_PIDS=()
cleanup() {
  local pid
  for pid in "${SERVER_PIDS[@]}"; do
    kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null
  done
  _lab_test_cleanup
}
trap cleanup EXIT

for tool in ldns-dane knotd kdig openssl; do
  if ! command -v "$tool" >/dev/null && [ ! -x "/usr/sbin/$tool" ]; then
    echo "not ok - $tool is installed"
    exit 1
  fi
done
KNOTD="$(command -v knotd || echo /usr/sbin/knotd)"

C="$TEST_TMP/certs"
mkdir -p "$C"
(
  cd "$C" || exit 1
  ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
  ec ec.key
  openssl req -x509 -key ec.key -out ec.pem -days 2 -subj /CN=ec.example.test 2>/dev/null
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key 2>/dev/null
  openssl req -x509 -key rsa.key -out rsa.pem -days 2 -subj /CN=rsa.example.test 2>/dev/null
  ec root.key
  openssl req -x509 -key root.key -out root.pem -days 2 -subj /CN=Test-Root \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
  ec int.key
  printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n' >ca.ext
  openssl req -new -key int.key -subj /CN=Test-Intermediate 2>/dev/null |
    openssl x509 -req -CA root.pem -CAkey root.key -set_serial 2 -days 2 -extfile ca.ext \
      -out int.pem 2>/dev/null
  ec leaf.key
  printf 'subjectAltName=DNS:leaf.example.test\n' >leaf.ext
  openssl req -new -key leaf.key -subj /CN=leaf.example.test 2>/dev/null |
    openssl x509 -req -CA int.pem -CAkey int.key -set_serial 3 -days 2 -extfile leaf.ext \
      -out leaf.pem 2>/dev/null
  cat leaf.pem int.pem root.pem >full.pem
  cat leaf.pem int.pem >chain.pem
)
check "test certificates were made" test -s "$C/full.pem" -a -s "$C/rsa.pem" -a -s "$C/ec.pem"

# spki_sha256 CERT: the 3 1 1 association data, computed by openssl.
spki_sha256() {
  openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der |
    openssl dgst -sha256 -r | cut -d' ' -f1
}

# --- create: equal to ldns-dane ------------------------------------------------
# -s: no PKIX validation (usages 0 and 1 otherwise need a CA store), -n: no
# name check. Usages 0 and 2 then describe the self-signed certificate at the
# end of the file, as ours do.
mismatches=""
compared=0
for f in ec rsa full; do
  for u in 0 1 2 3; do
    for s in 0 1; do
      for m in 0 1 2; do
        want="$(ldns-dane -s -n -c "$C/$f.pem" create leaf.example.test 443 "$u" "$s" "$m" 2>&1)"
        got="$("$BULKHEAD_BIN" tlsa create --cert "$C/$f.pem" --name leaf.example.test \
          --port 443 --usage "$u" --selector "$s" --mtype "$m" 2>&1)"
        compared=$((compared + 1))
        if [ "$want" != "$got" ]; then
          mismatches+="$f $u $s $m:
  ldns-dane: $want
  bulkhead:  $got
"
        fi
      done
    done
  done
done
if [ -z "$mismatches" ] && [ "$compared" -eq 72 ]; then
  ok "tlsa create equals ldns-dane create for EC, RSA and a chain, every usage/selector/type ($compared cases)"
else
  not_ok "tlsa create equals ldns-dane create" "$mismatches"
fi

run_bk "$TEST_TMP/default" tlsa create --cert "$C/ec.pem" --name ec.example.test --port 25
check_eq "tlsa create defaults to 3 1 1 (exit 0)" 0 "$RC"
check_eq "tlsa create default output" \
  "$(ldns-dane -n -c "$C/ec.pem" create ec.example.test 25)" "$(cat "$TEST_TMP/default.out")"
run_bk "$TEST_TMP/mnemonic" tlsa create --cert "$C/ec.pem" --name ec.example.test --port 25 \
  --usage DANE-EE --selector SPKI --mtype SHA2-256
check_eq "tlsa create accepts RFC 7218 mnemonics" "$(cat "$TEST_TMP/default.out")" \
  "$(cat "$TEST_TMP/mnemonic.out")"

# A fullchain without the root (what an ACME CA sends): the leaf for 3 and 1,
# the last certificate given (the intermediate) for 2 and 0.
run_bk "$TEST_TMP/chain3" tlsa create --cert "$C/chain.pem" --name leaf.example.test --port 443
check "chain file, usage 3: the leaf's SPKI" grep -qF "3 1 1 $(spki_sha256 "$C/leaf.pem")" \
  "$TEST_TMP/chain3.out"
run_bk "$TEST_TMP/chain2" tlsa create --cert "$C/chain.pem" --name leaf.example.test \
  --port 443 --usage 2
check "chain file, usage 2: the intermediate's SPKI" \
  grep -qF "2 1 1 $(spki_sha256 "$C/int.pem")" "$TEST_TMP/chain2.out"

run_bk "$TEST_TMP/leaf2" tlsa create --cert "$C/leaf.pem" --name leaf.example.test \
  --port 443 --usage 2
check_eq "usage 2 with only a leaf certificate fails (exit 1)" 1 "$RC"
check "... saying a CA certificate is needed" grep -q "CA certificate" "$TEST_TMP/leaf2.err"
run_bk "$TEST_TMP/badu" tlsa create --cert "$C/ec.pem" --name ec.example.test --port 25 --usage 4
check_eq "usage 4 is a usage error (exit 2)" 2 "$RC"
run_bk "$TEST_TMP/badm" tlsa create --cert "$C/ec.pem" --name ec.example.test --port 25 --mtype 3
check_eq "matching type 3 is a usage error (exit 2)" 2 "$RC"
run_bk "$TEST_TMP/badname" tlsa create --cert "$C/ec.pem" --name 'a b' --port 25
check_eq "a bad host name is a usage error (exit 2)" 2 "$RC"
run_bk "$TEST_TMP/nofile" tlsa create --cert "$C/missing.pem" --name ec.example.test --port 25
check_eq "a missing certificate file fails (exit 1)" 1 "$RC"
printf 'not a certificate\n' >"$TEST_TMP/junk.pem"
run_bk "$TEST_TMP/junk" tlsa create --cert "$TEST_TMP/junk.pem" --name ec.example.test --port 25
check_eq "a file without certificates fails (exit 1)" 1 "$RC"

# --- verify: a TLS server and a Knot server on loopback -------------------------
read -r TLS_PORT DNS_PORT < <(python3 "$LAB_LIB_DIR/freeport.py" 2 | tr '\n' ' ')
K="$TEST_TMP/knot"
mkdir -p "$K"
leaf311="$(spki_sha256 "$C/leaf.pem")"
int211="$(spki_sha256 "$C/int.pem")"
wrong311="$(spki_sha256 "$C/ec.pem")"
cat >"$K/example.test.zone" <<EOF
\$ORIGIN example.test.
\$TTL 300
@ IN SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 300
@ IN NS ns.example.test.
ns IN A 127.0.0.1
_$TLS_PORT._tcp.leaf IN TLSA 3 1 1 $leaf311
_$TLS_PORT._tcp.leaf IN TLSA 3 1 1 $wrong311
_$TLS_PORT._tcp.ta IN TLSA 2 1 1 $int211
_$TLS_PORT._tcp.wrong IN TLSA 3 1 1 $wrong311
_$TLS_PORT._tcp.wrong IN TLSA 3 0 2 00112233
EOF
cat >"$K/knot.conf" <<EOF
server:
    rundir: "$K"
    listen: 127.0.0.1@$DNS_PORT
database:
    storage: "$K"
log:
  - target: stderr
    any: info
zone:
  - domain: example.test
    storage: "$K"
    file: "example.test.zone"
EOF

# spawn NAME CMD...: start CMD in its own process group, remember it.
spawn() {
  local name="$1"
  shift
  setsid "$@" </dev/null >"$TEST_TMP/$name.log" 2>&1 &
  SERVER_PIDS+=("$!")
}
# wait_for DESC CMD...: poll CMD for up to 20 s.
wait_for() {
  local desc="$1" deadline=$((SECONDS + 20))
  shift
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      not_ok "$desc"
      return 1
    fi
    sleep 0.05
  done
  ok "$desc"
}
spawn knotd "$KNOTD" -c "$K/knot.conf"
spawn s_server openssl s_server -accept "127.0.0.1:$TLS_PORT" -cert "$C/leaf.pem" \
  -key "$C/leaf.key" -cert_chain "$C/int.pem" -quiet
wait_for "knotd answers on 127.0.0.1:$DNS_PORT" \
  bash -c "kdig +short +timeout=1 +retry=0 @127.0.0.1 -p $DNS_PORT ns.example.test A | grep -q 127.0.0.1"
wait_for "openssl s_server listens on 127.0.0.1:$TLS_PORT" \
  bash -c "exec 3<>/dev/tcp/127.0.0.1/$TLS_PORT"

verify() {
  run_bk "$1" tlsa verify "$2" "$TLS_PORT" --resolver "127.0.0.1:$DNS_PORT" \
    --connect 127.0.0.1 --timeout 5 "${@:3}"
}

verify "$TEST_TMP/v_leaf" leaf.example.test
check_eq "verify: a matching 3 1 1 record gives exit 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/v_leaf.out" "$TEST_TMP/v_leaf.err"
check "verify: the matching record is reported as match" \
  grep -qE "TLSA 3 1 1 $leaf311: match" "$TEST_TMP/v_leaf.out"
check "verify: the other record is reported as mismatch" \
  grep -qE "TLSA 3 1 1 $wrong311: mismatch" "$TEST_TMP/v_leaf.out"
check "verify: says the answer was not DNSSEC-validated" \
  grep -q "NOT DNSSEC-validated" "$TEST_TMP/v_leaf.out"

verify "$TEST_TMP/v_ta" ta.example.test
check_eq "verify: a 2 1 1 record for the served intermediate gives exit 0" 0 "$RC"
check "verify: ... matched at depth 1" grep -q "depth 1" "$TEST_TMP/v_ta.out"

verify "$TEST_TMP/v_wrong" wrong.example.test
check_eq "verify: only non-matching records give exit 1" 1 "$RC"
check "verify: ... reported as mismatch" grep -q "result: mismatch" "$TEST_TMP/v_wrong.out"

verify "$TEST_TMP/v_none" none.example.test
check_eq "verify: no TLSA records gives exit 1" 1 "$RC"
check "verify: ... saying none is published" grep -q "no TLSA records" "$TEST_TMP/v_none.out"

verify "$TEST_TMP/v_anchor" leaf.example.test --trust-anchor "$C/root.pem"
check_eq "verify: --trust-anchor is refused (not implemented), exit 2" 2 "$RC"
check "verify: ... with a clear message" grep -q "not implemented" "$TEST_TMP/v_anchor.err"

read -r CLOSED_PORT < <(python3 "$LAB_LIB_DIR/freeport.py" 1)
run_bk "$TEST_TMP/v_nodns" tlsa verify leaf.example.test "$TLS_PORT" \
  --resolver "127.0.0.1:$CLOSED_PORT" --connect 127.0.0.1 --timeout 1
check_eq "verify: an unreachable resolver is an error (exit 2)" 2 "$RC"

kill -- "-${SERVER_PIDS[1]}" 2>/dev/null
wait_for "s_server stopped" bash -c "! exec 3<>/dev/tcp/127.0.0.1/$TLS_PORT"
verify "$TEST_TMP/v_down" leaf.example.test
check_eq "verify: a TLS server that is down is an error (exit 2)" 2 "$RC"

lab_finish
