#!/usr/bin/env bash
# zone compile: a drop directory full of hostile entries and a few good
# files; exactly the good records come out, sorted, the directory is left
# untouched, and the output loads into Knot as part of a zone. SSHFP records
# of host keys made by ssh-keygen match what ssh-keygen -r computes, and
# Knot serves them; a host outside --allow is refused with no output.
# The hostile files contain literal zone-file directives.
# shellcheck disable=SC2016
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/integration/lib_knot.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib_knot.sh"
lab_test_init
cleanup() {
  lab_knot_cleanup
  _lab_test_cleanup
}
trap cleanup EXIT

# run_bk OUT_PREFIX ARGS...: run_bh without a lab (zone compile needs no CA).
# shellcheck disable=SC2034  # RC is read below
run_bk() {
  local prefix="$1"
  shift
  RC=0
  "$BULKHEAD_BIN" "$@" >"$prefix.out" 2>"$prefix.err" || RC=$?
  check_no_sanitizer "$prefix.err" "$*"
}

D="$TEST_TMP/drop"
mkdir -p "$D"
V1="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"  # 43 base64url characters.
V2="abcdefghijklmnopqrstuvwxyz0123456789-_ABCDE"
V3="zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
V4="Q_Q-Q_Q-Q_Q-Q_Q-Q_Q-Q_Q-Q_Q-Q_Q-Q_Q-Q_Q-Q_Q"
line() { printf '_acme-challenge.%s. %s IN TXT "%s"\n' "$1" "$2" "$3"; }

# Good files, as the dns-01 drop method writes them.
line www.example.test 60 "$V2" >"$D/www.example.test"
line example.test 60 "$V1" >"$D/example.test"
line example.test 120 "$V3" >"$D/wildcard.example.test"  # *.example.test: same owner.
line mail.example.test 300 "$V4" >"$D/mail.example.test"

# Hostile files.
printf '_acme-challenge.example.test. 60 IN A 127.0.0.1\n' >"$D/type-a"
printf '_acme-challenge.example.test. 60 IN CNAME evil.test.\n' >"$D/type-cname"
printf '_acme-challenge.example.test. 60 IN NS evil.test.\n' >"$D/type-ns"
printf '$INCLUDE /etc/passwd\n' >"$D/include"
printf '$ORIGIN evil.test.\n_acme-challenge 60 IN TXT "%s"\n' "$V1" >"$D/origin"
printf '$TTL 1\n' >"$D/ttl-directive"
line evil.test 60 "$V1" >"$D/outside"
line sub.www.example.test 60 "$V1" >"$D/deeper"
printf 'www.example.test. 60 IN TXT "%s"\n' "$V1" >"$D/no-label"
line example.test 60 "${V1:0:42}" >"$D/short-value"
line example.test 60 "${V1}A" >"$D/long-value"
line example.test 60 "${V1:0:42}=" >"$D/padded-value"
line example.test 86401 "$V1" >"$D/ttl-high"
printf '_acme-challenge.example.test. 60 IN TXT "%s" "%s"\n' "$V1" "$V1" >"$D/two-strings"
printf '_acme-challenge.example.test. 60 IN TXT "ab\\"%s"\n' "${V1:0:40}" >"$D/embedded-quote"
printf '_acme-challenge.example.test. 60 IN TXT "ab"cd"%s"\n' "${V1:0:39}" >"$D/bare-quotes"
printf '_acme-challenge.example.test. 60 IN TXT "%s\\010"\n' "${V1:0:39}" >"$D/escape"
{ line example.test 60 "$V1"; line evil.test 60 "$V1"; } >"$D/two-lines"
printf '_acme-challenge.example.test. 60 IN TXT "%s\nevil.test. 60 IN A 1.2.3.4"\n' \
  "${V1:0:20}" >"$D/embedded-newline"
printf '_acme-challenge.example.test. 60 IN TXT ( "%s" )\n' "$V1" >"$D/parens"
printf '_acme-challenge.example.test. 60 IN TXT "%s" ; x\n' "$V1" >"$D/comment"
printf '_acme-challenge.example.test. 60 CH TXT "%s"\n' "$V1" >"$D/class-ch"
printf '_acme-challenge.example.test. 60 IN TXT "%s"\r\n' "$V1" >"$D/crlf"
: >"$D/empty"
head -c 5000 /dev/zero | tr '\0' 'x' >"$D/oversized"
{ line example.test 60 "$V1"; head -c 2000 /dev/zero | tr '\0' ' '; } >"$D/oversized-good-start"
ln -s "$D/example.test" "$D/symlink-to-good"
ln -s /etc/passwd "$D/symlink-out"
mkdir "$D/a-directory"
line example.test 60 "$V1" >"$D/a-directory/inside"
mkfifo "$D/a-fifo"
line example.test 60 "$V1" >"$D/.hidden-in-progress"
printf 'garbage\n' >"$D/$(printf 'bad\nname')"
HOSTILE=31  # every entry above except the good four and the hidden one.

before="$(cd "$D" && find . -printf '%p %s %T@\n' | sort)"
run_bk "$TEST_TMP/c1" zone compile --drop-dir "$D" --allow example.test --allow '*.example.test' \
  --allow www.example.test --allow mail.example.test --max-ttl 3600
check_eq "zone compile with rejected files exits 1" 1 "$RC"
expected="$(line example.test 60 "$V1"; line example.test 60 "$V3"; line mail.example.test 300 "$V4"; line www.example.test 60 "$V2")"
check_eq "exactly the good records come out, sorted, one TTL per RRset" "$expected" \
  "$(cat "$TEST_TMP/c1.out")"
rejected="$(grep -c '^bulkhead: rejected ' "$TEST_TMP/c1.err")"
check_eq "one stderr line per hostile entry" "$HOSTILE" "$rejected"
[ "$rejected" = "$HOSTILE" ] || cat "$TEST_TMP/c1.err"
check "a summary line counts them" grep -q "$HOSTILE file(s) rejected, 4 accepted" "$TEST_TMP/c1.err"
reason() { grep -F "$D/$1: " "$TEST_TMP/c1.err" | head -n 1; }
check "type A named" grep -q "type A is not allowed" <<<"$(reason type-a)"
check "\$INCLUDE named" grep -q 'directive $INCLUDE' <<<"$(reason include)"
check "\$ORIGIN refused" grep -q 'directive $ORIGIN' <<<"$(reason origin)"
check "outside name refused" grep -q "not _acme-challenge under an allowed name" <<<"$(reason outside)"
check "short value refused" grep -q "42 characters" <<<"$(reason short-value)"
check "TTL bound enforced" grep -q "TTL 86401" <<<"$(reason ttl-high)"
check "escaped quote refused" grep -q "backslash" <<<"$(reason embedded-quote)"
check "bare embedded quotes refused" grep -q "embedded quotes" <<<"$(reason bare-quotes)"
check "two lines refused" grep -q "more than one line" <<<"$(reason two-lines)"
check "embedded newline refused" grep -q "more than one line" <<<"$(reason embedded-newline)"
check "oversized file refused" grep -q "limit of 1024" <<<"$(reason oversized)"
check "symlink refused" grep -q "symbolic link" <<<"$(reason symlink-to-good)"
check "directory refused" grep -q "is a directory" <<<"$(reason a-directory)"
check "FIFO refused" grep -q "not a regular file" <<<"$(reason a-fifo)"
check "a file name with a newline is escaped on one line" grep -q 'bad\\x0aname: ' "$TEST_TMP/c1.err"
check "stderr has no line that is not a rejection or the summary" \
  bash -c "! grep -v -e '^bulkhead: rejected ' -e '^bulkhead: zone compile: ' '$TEST_TMP/c1.err'"
after="$(cd "$D" && find . -printf '%p %s %T@\n' | sort)"
check_eq "the drop directory is unchanged" "$before" "$after"

run_bk "$TEST_TMP/c2" zone compile --drop-dir "$D" --allow example.test --allow '*.example.test' \
  --allow www.example.test --allow mail.example.test --keep-going
check_eq "--keep-going exits 0 despite rejections" 0 "$RC"
check_eq "output is deterministic across runs" "$(cat "$TEST_TMP/c1.out")" "$(cat "$TEST_TMP/c2.out")"

run_bk "$TEST_TMP/c3" zone compile --drop-dir "$D" --allow www.example.test --keep-going
check_eq "a narrower allow list lets only its name through" "$(line www.example.test 60 "$V2")" \
  "$(cat "$TEST_TMP/c3.out")"

G="$TEST_TMP/good"
mkdir -p "$G"
cp "$D/www.example.test" "$D/mail.example.test" "$G/"
run_bk "$TEST_TMP/c4" zone compile --drop-dir "$G" --allow www.example.test --allow mail.example.test
check_eq "a clean drop directory exits 0" 0 "$RC"
check_eq "... and prints nothing on stderr" "" "$(cat "$TEST_TMP/c4.err")"
run_bk "$TEST_TMP/c5" zone compile --drop-dir "$TEST_TMP/missing" --allow www.example.test
check_eq "a missing drop directory exits 1" 1 "$RC"
check_eq "... printing nothing on stdout" "" "$(cat "$TEST_TMP/c5.out")"
run_bk "$TEST_TMP/c6" zone compile --drop-dir "$G" --allow 'bad name'
check_eq "a bad --allow is a usage error (exit 2)" 2 "$RC"
run_bk "$TEST_TMP/c7" zone compile --drop-dir "$G"
check_eq "--allow is required (exit 2)" 2 "$RC"

# --tlsa-map appends the 3 1 1 records of mapped certificates.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout "$TEST_TMP/mail.key" -out "$TEST_TMP/mail.pem" -days 2 -subj /CN=mail.example.test \
  >/dev/null 2>&1
printf '# cert name port\n%s mail.example.test 25\n%s mail.example.test 465\n' \
  "$TEST_TMP/mail.pem" "$TEST_TMP/mail.pem" >"$TEST_TMP/tlsa.map"
run_bk "$TEST_TMP/c8" zone compile --drop-dir "$G" --allow www.example.test \
  --allow mail.example.test --tlsa-map "$TEST_TMP/tlsa.map"
check_eq "zone compile with --tlsa-map exits 0" 0 "$RC"
want_tlsa="$(ldns-dane -n -c "$TEST_TMP/mail.pem" create mail.example.test 25; ldns-dane -n -c "$TEST_TMP/mail.pem" create mail.example.test 465)"
check_eq "--tlsa-map appends the records ldns-dane would create" \
  "$(cat "$G/mail.example.test" "$G/www.example.test")
$want_tlsa" "$(cat "$TEST_TMP/c8.out")"
# A next key (DANE rollover) is mapped by its public key: its 3 1 1 record
# is published before any certificate for it exists.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$TEST_TMP/next.key" 2>/dev/null
openssl pkey -in "$TEST_TMP/next.key" -pubout -out "$TEST_TMP/next.pub" 2>/dev/null
next311="$(openssl pkey -pubin -in "$TEST_TMP/next.pub" -outform der | openssl dgst -sha256 -r | cut -d' ' -f1)"
printf '%s mail.example.test 25\n%s mail.example.test 25\n' "$TEST_TMP/mail.pem" \
  "$TEST_TMP/next.pub" >"$TEST_TMP/next.map"
run_bk "$TEST_TMP/c10" zone compile --drop-dir "$G" --allow www.example.test --allow mail.example.test \
  --tlsa-map "$TEST_TMP/next.map"
check_eq "--tlsa-map with a current certificate and a next public key exits 0" 0 "$RC"
check_eq "... and carries two 3 1 1 records for the name" 2 \
  "$(grep -c '^_25._tcp.mail.example.test.	3600	IN	TLSA	3 1 1 ' "$TEST_TMP/c10.out")"
check "... one of them the next key's" grep -q "3 1 1 $next311\$" "$TEST_TMP/c10.out"
printf '%s mail.example.test\n' "$TEST_TMP/mail.pem" >"$TEST_TMP/bad.map"
run_bk "$TEST_TMP/c9" zone compile --drop-dir "$G" --allow www.example.test \
  --tlsa-map "$TEST_TMP/bad.map"
check_eq "a malformed TLSA map fails with exit 2 and no output" "2:" "$RC:$(cat "$TEST_TMP/c9.out")"

# The output loads as part of a zone.
check "ldns-read-zone parses the output" bash -c "ldns-read-zone '$TEST_TMP/c8.out' >/dev/null"
K="$TEST_TMP/knot"
mkdir -p "$K"
cp "$TEST_TMP/c1.out" "$K/extra.zone"
cat "$TEST_TMP/c10.out" >>"$K/extra.zone"
cat >"$K/example.test.zone" <<EOF
\$ORIGIN example.test.
\$TTL 300
@ IN SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 300
@ IN NS ns.example.test.
ns IN A 127.0.0.1
\$INCLUDE "$K/extra.zone"
EOF
cat >"$K/knot.conf" <<EOF
server:
    rundir: "$K"
database:
    storage: "$K"
zone:
  - domain: example.test
    storage: "$K"
    file: "example.test.zone"
EOF
KNOTC="$(command -v knotc || echo /usr/sbin/knotc)"
if "$KNOTC" -c "$K/knot.conf" zone-check example.test >"$K/check.log" 2>&1; then
  ok "knotc zone-check accepts a zone that includes the output"
else
  not_ok "knotc zone-check accepts a zone that includes the output" "$(cat "$K/check.log")"
fi

# --sshfp-map appends the SSHFP records of OpenSSH host keys: the same
# fingerprints as ssh-keygen -r, for owners given to --allow only.
S="$TEST_TMP/sshfp"
mkdir -p "$S"
for t in rsa ecdsa ed25519; do
  ssh-keygen -q -t "$t" -N '' -C "root@host-$t" -f "$S/ssh_host_${t}_key" </dev/null
done
printf '# host key file, owner\n%s host.example.test\n%s host.example.test\n%s Host.Example.Test.\n' \
  "$S/ssh_host_rsa_key.pub" "$S/ssh_host_ecdsa_key.pub" "$S/ssh_host_ed25519_key.pub" >"$S/sshfp.map"
# want_sshfp TYPES: "alg type hex" of the three keys as ssh-keygen -r prints
# them, for the fingerprint types matching TYPES (a regex), sorted.
want_sshfp() {
  local k
  for k in rsa ecdsa ed25519; do
    ssh-keygen -r host.example.test -f "$S/ssh_host_${k}_key.pub"
  done | awk -v t="$1" '$2 == "IN" && $3 == "SSHFP" && $5 ~ ("^(" t ")$") { print $4, $5, tolower($6) }' |
    sort
}
# got_sshfp FILE TTL: "alg type hex" of the SSHFP lines in FILE for
# host.example.test with TTL, sorted.
got_sshfp() {
  awk -v ttl="$2" '$1 == "host.example.test." && $2 == ttl && $3 == "IN" && $4 == "SSHFP" { print $5, $6, $7 }' "$1" | sort
}
sshfp_allow=(--allow www.example.test --allow mail.example.test --allow host.example.test)
run_bk "$TEST_TMP/s1" zone compile --drop-dir "$G" "${sshfp_allow[@]}" --sshfp-map "$S/sshfp.map"
check_eq "zone compile with --sshfp-map exits 0" "0:" "$RC:$(cat "$TEST_TMP/s1.err")"
check_eq "... by default one SHA-256 SSHFP record per key, as ssh-keygen -r computes" \
  "$(want_sshfp 2)" "$(got_sshfp "$TEST_TMP/s1.out" 3600)"
check_eq "... after the challenge records, nothing else" \
  "$(cat "$G/mail.example.test" "$G/www.example.test"; grep ' SSHFP ' "$TEST_TMP/s1.out")" \
  "$(cat "$TEST_TMP/s1.out")"
check_eq "... 3 SSHFP lines" 3 "$(grep -c ' IN SSHFP ' "$TEST_TMP/s1.out")"
run_bk "$TEST_TMP/s2" zone compile --drop-dir "$G" "${sshfp_allow[@]}" --sshfp-map "$S/sshfp.map" \
  --sshfp-hash both --sshfp-ttl 300
check_eq "--sshfp-hash both --sshfp-ttl 300 exits 0" 0 "$RC"
check_eq "... SHA-1 and SHA-256 records, as ssh-keygen -r computes, with TTL 300" \
  "$(want_sshfp '1|2')" "$(got_sshfp "$TEST_TMP/s2.out" 300)"
check_eq "... 6 SSHFP lines" 6 "$(grep -c ' IN SSHFP ' "$TEST_TMP/s2.out")"
run_bk "$TEST_TMP/s3" zone compile --drop-dir "$G" "${sshfp_allow[@]}" --sshfp-map "$S/sshfp.map" \
  --sshfp-hash sha1
check_eq "--sshfp-hash sha1: the SHA-1 records only" "0:$(want_sshfp 1)" \
  "$RC:$(got_sshfp "$TEST_TMP/s3.out" 3600)"
run_bk "$TEST_TMP/s4" zone compile --drop-dir "$G" "${sshfp_allow[@]}" --sshfp-map "$S/sshfp.map" \
  --sshfp-hash md5
check_eq "an unknown --sshfp-hash is a usage error with no output" "2:" \
  "$RC:$(cat "$TEST_TMP/s4.out")"

# A host outside --allow: refused, naming the key file and the owner, and
# the zone built the usual way (output to a new file, renamed on success)
# stays as it was.
printf '%s host.example.test\n%s evil.example.test\n' "$S/ssh_host_rsa_key.pub" \
  "$S/ssh_host_ed25519_key.pub" >"$S/evil.map"
cp "$TEST_TMP/s1.out" "$S/zone"
zone_before="$(cat "$S/zone")"
if "$BULKHEAD_BIN" zone compile --drop-dir "$G" "${sshfp_allow[@]}" --sshfp-map "$S/evil.map" \
  >"$S/zone.new" 2>"$S/evil.err"; then
  mv "$S/zone.new" "$S/zone"
  not_ok "an SSHFP owner outside --allow is refused"
else
  check_eq "an SSHFP owner outside --allow is refused with exit 2" 2 "$?"
fi
check_no_sanitizer "$S/evil.err" "zone compile --sshfp-map evil.map"
check "... naming the key file and the owner" grep -qF \
  "$S/ssh_host_ed25519_key.pub: owner evil.example.test. is not an allowed name" "$S/evil.err"
check_eq "... printing nothing" "" "$(cat "$S/zone.new")"
check_eq "... so the zone is unchanged" "$zone_before" "$(cat "$S/zone")"
# A private key mapped by mistake, and a symlinked key file: refused, no output.
printf '%s host.example.test\n' "$S/ssh_host_ed25519_key" >"$S/private.map"
run_bk "$TEST_TMP/s5" zone compile --drop-dir "$G" "${sshfp_allow[@]}" --sshfp-map "$S/private.map"
check_eq "a private key in the SSHFP map fails with exit 1 and no output" "1:" \
  "$RC:$(cat "$TEST_TMP/s5.out")"
check "... naming the file" grep -qF "$S/ssh_host_ed25519_key: a PEM file" "$TEST_TMP/s5.err"
ln -s "$S/ssh_host_ed25519_key.pub" "$S/link.pub"
printf '%s host.example.test\n' "$S/link.pub" >"$S/link.map"
run_bk "$TEST_TMP/s6" zone compile --drop-dir "$G" "${sshfp_allow[@]}" --sshfp-map "$S/link.map"
check_eq "a symlinked key file fails with exit 1 and no output" "1:" "$RC:$(cat "$TEST_TMP/s6.out")"

# Knot loads the SSHFP records and serves them.
check "ldns-read-zone parses the SSHFP output" bash -c "ldns-read-zone '$TEST_TMP/s2.out' >/dev/null"
mapfile -t sshfp_lines < <(grep ' IN SSHFP ' "$TEST_TMP/s2.out")
if knot_start "$TEST_TMP/knot-sshfp" example.test "${sshfp_lines[@]}"; then
  served="$(kdig +time=2 +retry=0 +short @127.0.0.1 -p "$(knot_port "$TEST_TMP/knot-sshfp")" \
    host.example.test SSHFP 2>/dev/null | awk '{ h = ""; for (i = 3; i <= NF; i++) h = h $i; print $1, $2, tolower(h) }' | sort)"
  check_eq "Knot serves the SSHFP records ssh-keygen -r computes" "$(want_sshfp '1|2')" "$served"
  knot_stop "$TEST_TMP/knot-sshfp"
else
  not_ok "knotd starts with the SSHFP records" "$(tail -n 5 "$TEST_TMP/knot-sshfp/knotd.log")"
fi

lab_finish
