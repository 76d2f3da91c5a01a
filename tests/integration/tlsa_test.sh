#!/usr/bin/env bash
# TLSA records: `tlsa create` against ldns-dane over EC, RSA and chained
# certificates and every usage/selector/matching type; `tlsa verify`
# against a local TLS server (openssl s_server), a STARTTLS SMTP server and
# a Knot server that publishes the records in a DNSSEC-signed zone, with and
# without a trust anchor (the zone's DNSKEY or DS, a key of another zone, a
# DS with a wrong digest, an unsigned zone).
#
# The SMTP endpoint is a tiny python3 server (smtp_starttls.py), as in
# monitor_test.sh: no Debian mail server speaks STARTTLS on a loopback port
# without a full mail-system configuration, and the dialogue is all that is
# being tested.
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
  local pid deadline=$((SECONDS + 10))
  for pid in "${SERVER_PIDS[@]}"; do
    kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null
  done
  # knotd still writes its databases after the signal: wait (bounded)
  # before the directory is removed under it.
  for pid in "${SERVER_PIDS[@]}"; do
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
      sleep 0.02
    done
  done
  _lab_test_cleanup
}
trap cleanup EXIT

for tool in ldns-dane ldns-keygen knotd knotc kdig keymgr openssl; do
  if ! command -v "$tool" >/dev/null && [ ! -x "/usr/sbin/$tool" ]; then
    echo "not ok - $tool is installed"
    exit 1
  fi
done
KNOTD="$(command -v knotd || echo /usr/sbin/knotd)"
KEYMGR="$(command -v keymgr || echo /usr/sbin/keymgr)"

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
read -r TLS_PORT DNS_PORT SMTP_PORT < <(python3 "$LAB_LIB_DIR/freeport.py" 3 | tr '\n' ' ')
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
_$SMTP_PORT._tcp.leaf IN TLSA 3 1 1 $leaf311
EOF
# The parent of example.test., signed too; the DS of example.test. is added
# once Knot has made its key, so a chain from an anchor for test. leads
# through a signed delegation.
cat >"$K/test.zone" <<EOF
\$ORIGIN test.
\$TTL 300
@ IN SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 300
@ IN NS ns.example.test.
example IN NS ns.example.test.
EOF
# A zone signed with NSEC3 instead of NSEC.
cat >"$K/nsec3.test.zone" <<EOF
\$ORIGIN nsec3.test.
\$TTL 300
@ IN SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 300
@ IN NS ns.example.test.
_$TLS_PORT._tcp.leaf IN TLSA 3 1 1 $leaf311
EOF
# An unsigned zone below the signed one: its answers carry no RRSIG, as a
# path that strips signatures would deliver them.
cat >"$K/plain.example.test.zone" <<EOF
\$ORIGIN plain.example.test.
\$TTL 300
@ IN SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 300
@ IN NS ns.example.test.
_$TLS_PORT._tcp.leaf IN TLSA 3 1 1 $leaf311
EOF
cat >"$K/knot.conf" <<EOF
server:
    rundir: "$K"
    listen: 127.0.0.1@$DNS_PORT
database:
    storage: "$K"
control:
    listen: "$K/knot.sock"
log:
  - target: stderr
    any: info
policy:
  - id: test
    algorithm: ecdsap256sha256
    single-type-signing: on
    nsec3: off
  - id: test3
    algorithm: ecdsap256sha256
    single-type-signing: on
    nsec3: on
    nsec3-iterations: 0
zone:
  - domain: test
    storage: "$K"
    file: "test.zone"
    zonefile-sync: -1
    dnssec-signing: on
    dnssec-policy: test
  - domain: example.test
    storage: "$K"
    file: "example.test.zone"
    zonefile-sync: -1
    dnssec-signing: on
    dnssec-policy: test
  - domain: nsec3.test
    storage: "$K"
    file: "nsec3.test.zone"
    zonefile-sync: -1
    dnssec-signing: on
    dnssec-policy: test3
  - domain: plain.example.test
    storage: "$K"
    file: "plain.example.test.zone"
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
spawn smtp python3 "$LAB_LIB_DIR/smtp_starttls.py" "$SMTP_PORT" "$C/chain.pem" "$C/leaf.key"
wait_for "knotd answers on 127.0.0.1:$DNS_PORT" \
  bash -c "kdig +short +timeout=1 +retry=0 @127.0.0.1 -p $DNS_PORT ns.example.test A | grep -q 127.0.0.1"
wait_for "openssl s_server listens on 127.0.0.1:$TLS_PORT" \
  bash -c "exec 3<>/dev/tcp/127.0.0.1/$TLS_PORT"
wait_for "the SMTP test server listens on 127.0.0.1:$SMTP_PORT" \
  bash -c "exec 3<>/dev/tcp/127.0.0.1/$SMTP_PORT"
for z in test example.test nsec3.test; do
  wait_for "knotd serves $z signed" \
    bash -c "kdig +dnssec +timeout=1 +retry=0 @127.0.0.1 -p $DNS_PORT _$TLS_PORT._tcp.leaf.$z TLSA | grep -q RRSIG"
done

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

# --- verify with DNSSEC ----------------------------------------------------------
# Anchors: the zone's DNSKEY as kdig prints it, its DS as keymgr prints it,
# a DNSKEY of a key the zone does not use, and the DS with a wrong digest.
kdig +noall +answer +timeout=2 +retry=0 @127.0.0.1 -p "$DNS_PORT" example.test DNSKEY |
  grep -w DNSKEY >"$K/anchor.dnskey"
"$KEYMGR" -c "$K/knot.conf" example.test ds 2>"$K/keymgr.err" | grep -w DS >"$K/anchor.ds"
check "the zone's DNSKEY and DS were read" test -s "$K/anchor.dnskey" -a -s "$K/anchor.ds"
ds_tag="$(awk 'NR == 1 { for (i = 1; i < NF; i++) if ($i == "DS") { print $(i + 1); exit } }' "$K/anchor.ds")"
(cd "$K" && ldns-keygen -a ECDSAP256SHA256 -k example.test >/dev/null 2>&1)
cat "$K"/Kexample.test.+013+*.key >"$K/anchor.otherkey" 2>/dev/null
check "a DNSKEY the zone does not use was made" test -s "$K/anchor.otherkey"
# The last hex digit of the digest changes: still a well-formed DS.
head -n 1 "$K/anchor.ds" | sed -E 's/([0-9A-Fa-f])$/\1x/; s/[0-9]x$/a/; s/[A-Fa-f]x$/0/' \
  >"$K/anchor.baddigest"
printf '; a comment, then a line that is no record\nexample.test. IN DS 1 13 2 zz\n' \
  >"$K/anchor.junk"

verify "$TEST_TMP/v_sec" leaf.example.test --trust-anchor "$K/anchor.dnskey"
check_eq "verify --trust-anchor DNSKEY: a validated match gives exit 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/v_sec.out" "$TEST_TMP/v_sec.err"
check "verify --trust-anchor DNSKEY: says DNSSEC-validated with the anchor" \
  grep -qF "DNSSEC-validated (trust anchor $K/anchor.dnskey: example.test. DNSKEY id $ds_tag)" \
  "$TEST_TMP/v_sec.out"
check "verify --trust-anchor DNSKEY: ... and reports the match" \
  grep -qE "TLSA 3 1 1 $leaf311: match" "$TEST_TMP/v_sec.out"

verify "$TEST_TMP/v_ds" leaf.example.test --trust-anchor "$K/anchor.ds"
check_eq "verify --trust-anchor DS (from keymgr): exit 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/v_ds.out" "$TEST_TMP/v_ds.err"
check "verify --trust-anchor DS: says DNSSEC-validated with the DS" \
  grep -qF "DNSSEC-validated (trust anchor $K/anchor.ds: example.test. DS id $ds_tag)" \
  "$TEST_TMP/v_ds.out"

verify "$TEST_TMP/v_secwrong" wrong.example.test --trust-anchor "$K/anchor.ds"
check_eq "verify --trust-anchor: validated records that do not match give exit 1" 1 "$RC"
check "verify --trust-anchor: ... still reported as validated" \
  grep -q "DNSSEC-validated" "$TEST_TMP/v_secwrong.out"

verify "$TEST_TMP/v_secnone" none.example.test --trust-anchor "$K/anchor.ds"
check_eq "verify --trust-anchor: a validated NXDOMAIN gives exit 1" 1 "$RC"
check "verify --trust-anchor: ... saying the nonexistence was validated" \
  grep -q "no TLSA records (NXDOMAIN); nonexistence DNSSEC-validated" "$TEST_TMP/v_secnone.out"

# A chain through a delegation: the DS of example.test. goes into test.,
# then the anchor is test.'s DS.
"$KEYMGR" -c "$K/knot.conf" test ds 2>>"$K/keymgr.err" | grep -w DS >"$K/anchor_parent.ds"
child_ds="$(head -n 1 "$K/anchor.ds" | awk '{ sub(/^.* DS /, ""); print }')"
{
  knotc -c "$K/knot.conf" zone-begin test &&
    knotc -c "$K/knot.conf" zone-set test example 300 DS "$child_ds" &&
    knotc -c "$K/knot.conf" zone-commit test
} >"$K/knotc.log" 2>&1
wait_for "test. serves the signed DS of example.test." \
  bash -c "kdig +dnssec +timeout=1 +retry=0 @127.0.0.1 -p $DNS_PORT example.test DS | grep -q 'RRSIG.*DS 13'"
verify "$TEST_TMP/v_chain" leaf.example.test --trust-anchor "$K/anchor_parent.ds"
check_eq "verify --trust-anchor for the parent zone: a validated match gives exit 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/v_chain.out" "$TEST_TMP/v_chain.err" "$K/knotc.log"
check "verify --trust-anchor for the parent zone: ... DNSSEC-validated from test.'s DS" \
  grep -q "DNSSEC-validated (trust anchor $K/anchor_parent.ds: test. DS id" "$TEST_TMP/v_chain.out"
verify "$TEST_TMP/v_nochain" leaf.nsec3.test --trust-anchor "$K/anchor_parent.ds"
check_eq "verify: a zone without DS in the anchored parent is bogus (exit 2)" 2 "$RC"
check "verify: ... saying there is no chain of trust" \
  grep -q "bogus: no DS records for nsec3.test. in test.: no chain of trust" \
  "$TEST_TMP/v_nochain.err"

# NSEC3: the records and a denial, with the zone's DS as the anchor.
"$KEYMGR" -c "$K/knot.conf" nsec3.test ds 2>>"$K/keymgr.err" | grep -w DS >"$K/anchor3.ds"
verify "$TEST_TMP/v_n3" leaf.nsec3.test --trust-anchor "$K/anchor3.ds"
check_eq "verify --trust-anchor, NSEC3 zone: a validated match gives exit 0" 0 "$RC"
check "verify --trust-anchor, NSEC3 zone: ... DNSSEC-validated" \
  grep -q "DNSSEC-validated (trust anchor $K/anchor3.ds: nsec3.test. DS id" "$TEST_TMP/v_n3.out"
verify "$TEST_TMP/v_n3none" none.nsec3.test --trust-anchor "$K/anchor3.ds"
check_eq "verify --trust-anchor, NSEC3 zone: a validated NXDOMAIN gives exit 1" 1 "$RC"
check "verify --trust-anchor, NSEC3 zone: ... proven by NSEC3" \
  grep -q "no TLSA records (NXDOMAIN); nonexistence DNSSEC-validated" "$TEST_TMP/v_n3none.out"
verify "$TEST_TMP/v_n3cross" leaf.nsec3.test --trust-anchor "$K/anchor.ds"
check_eq "verify: an anchor for another zone is bogus (exit 2)" 2 "$RC"
check "verify: ... saying the anchor does not cover the name" \
  grep -q "bogus: the trust anchor is for example.test., which does not contain" \
  "$TEST_TMP/v_n3cross.err"

verify "$TEST_TMP/v_otherkey" leaf.example.test --trust-anchor "$K/anchor.otherkey"
check_eq "verify: an anchor for another key is bogus (exit 2)" 2 "$RC"
check "verify: ... saying there is no chain to it" \
  grep -q "bogus: no DNSKEY of example.test. matches the trust anchor.*no chain of trust" \
  "$TEST_TMP/v_otherkey.err"
check "verify: ... and printing no result" bash -c "! grep -q result: '$TEST_TMP/v_otherkey.out'"

verify "$TEST_TMP/v_baddigest" leaf.example.test --trust-anchor "$K/anchor.baddigest"
check_eq "verify: a DS anchor with a wrong digest is bogus (exit 2)" 2 "$RC"
check "verify: ... saying so" grep -q "bogus: no DNSKEY of example.test. matches" \
  "$TEST_TMP/v_baddigest.err"

verify "$TEST_TMP/v_stripped" leaf.plain.example.test --trust-anchor "$K/anchor.ds"
check_eq "verify: an answer without signatures is bogus (exit 2)" 2 "$RC"
check "verify: ... naming the missing RRSIG" \
  grep -qF "bogus: no RRSIG over _$TLS_PORT._tcp.leaf.plain.example.test. TLSA" \
  "$TEST_TMP/v_stripped.err"
verify "$TEST_TMP/v_plain" leaf.plain.example.test
check_eq "verify: the same records without --trust-anchor match (exit 0)" 0 "$RC"

verify "$TEST_TMP/v_junk" leaf.example.test --trust-anchor "$K/anchor.junk"
check_eq "verify: a malformed anchor file is a usage error (exit 2)" 2 "$RC"
check "verify: ... naming the file and line" grep -qF "$K/anchor.junk:2:" "$TEST_TMP/v_junk.err"
verify "$TEST_TMP/v_noanchor" leaf.example.test --trust-anchor "$K/missing"
check_eq "verify: a missing anchor file is a usage error (exit 2)" 2 "$RC"

# --- verify over STARTTLS ---------------------------------------------------------
run_bk "$TEST_TMP/v_smtp" tlsa verify leaf.example.test "$SMTP_PORT" --starttls smtp \
  --resolver "127.0.0.1:$DNS_PORT" --connect 127.0.0.1 --timeout 5 --trust-anchor "$K/anchor.ds"
check_eq "verify --starttls smtp: a validated match on the SMTP server gives exit 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/v_smtp.out" "$TEST_TMP/v_smtp.err"
check "verify --starttls smtp: the leaf's record matches" \
  grep -qE "TLSA 3 1 1 $leaf311: match" "$TEST_TMP/v_smtp.out"
check "verify --starttls smtp: the served chain has both certificates" \
  grep -q "2 certificate(s), leaf CN=leaf.example.test" "$TEST_TMP/v_smtp.out"
run_bk "$TEST_TMP/v_smtp_plain" tlsa verify leaf.example.test "$SMTP_PORT" \
  --resolver "127.0.0.1:$DNS_PORT" --connect 127.0.0.1 --timeout 3
check_eq "verify without --starttls against the SMTP server fails (exit 2)" 2 "$RC"

read -r CLOSED_PORT < <(python3 "$LAB_LIB_DIR/freeport.py" 1)
run_bk "$TEST_TMP/v_nodns" tlsa verify leaf.example.test "$TLS_PORT" \
  --resolver "127.0.0.1:$CLOSED_PORT" --connect 127.0.0.1 --timeout 1
check_eq "verify: an unreachable resolver is an error (exit 2)" 2 "$RC"

kill -- "-${SERVER_PIDS[1]}" 2>/dev/null
wait_for "s_server stopped" bash -c "! exec 3<>/dev/tcp/127.0.0.1/$TLS_PORT"
verify "$TEST_TMP/v_down" leaf.example.test
check_eq "verify: a TLS server that is down is an error (exit 2)" 2 "$RC"

lab_finish
