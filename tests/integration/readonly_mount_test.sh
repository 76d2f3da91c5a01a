#!/usr/bin/env bash
# The read-only bind mount of docs/DEPLOY.md, reproduced in a private mount
# namespace: a server given the certificate's directory read-only sees a
# renewal at once through `live`, and cannot write there; a mount of `live`
# itself keeps showing the version it pointed at when mounted, which is why
# the docs mount the directory, never `live`.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_test_init
if [ "$(id -u)" -ne 0 ] || ! unshare -m true 2>/dev/null; then
  echo "ok - # skip bind mounts need root and mount namespaces"
  exit 0
fi
lab_start_or_die "$TEST_TMP/lab"

run_bh "$TEST_TMP/reg" account register --email admin@example.org --agree-tos
check_eq "account register exits 0" 0 "$RC"
run_bh "$TEST_TMP/i" issue --name ro -d ro.test --webroot "$LAB_WEBROOT"
check_eq "issue exits 0" 0 "$RC"
dir="$(cert_dir ro)"
mkdir -p "$TEST_TMP/view_dir" "$TEST_TMP/view_live" "$TEST_TMP/out"
export BULKHEAD_BIN LAB_DIR LAB_URL LAB_CA
# Everything that needs the mounts runs inside the namespace; it writes
# what it saw to files the checks below read. The mounts vanish with it.
# shellcheck disable=SC2016 # the script expands its own arguments
unshare -m bash -c '
  set -u
  dir="$1" view_dir="$2" view_live="$3" out="$4"
  mount --make-rprivate / 2>/dev/null
  mount --bind "$dir" "$view_dir" && mount -o remount,bind,ro "$view_dir" || exit 3
  mount --bind "$dir/live" "$view_live" && mount -o remount,bind,ro "$view_live" || exit 3
  serial() { openssl x509 -noout -serial -in "$1" 2>/dev/null | sed "s/^serial=//"; }
  serial "$view_dir/live/cert.pem" >"$out/dir_before"
  serial "$view_live/cert.pem" >"$out/live_before"
  if touch "$view_dir/planted" 2>/dev/null; then echo writable; else echo refused; fi >"$out/write"
  "$BULKHEAD_BIN" --state-dir "$LAB_DIR/state" --server "$LAB_URL" --ca-bundle "$LAB_CA" \
    renew --name ro --force >"$out/renew.out" 2>&1
  echo $? >"$out/renew.rc"
  serial "$view_dir/live/cert.pem" >"$out/dir_after"
  serial "$view_live/cert.pem" >"$out/live_after"
  serial "$dir/live/cert.pem" >"$out/real_after"
' _ "$dir" "$TEST_TMP/view_dir" "$TEST_TMP/view_live" "$TEST_TMP/out"
check_eq "the mounts were made" 0 "$?"
o="$TEST_TMP/out"
check_eq "renewal with the mounts in place exits 0" 0 "$(cat "$o/renew.rc" 2>/dev/null)"
check "both views showed the first certificate" test -s "$o/dir_before" -a "$(cat "$o/dir_before")" = "$(cat "$o/live_before")"
check_eq "the directory mount shows the renewed certificate at once" "$(cat "$o/real_after")" "$(cat "$o/dir_after")"
check "the renewal gave a new serial" test "$(cat "$o/dir_after")" != "$(cat "$o/dir_before")"
check_eq "a mount of live still shows the old certificate" "$(cat "$o/live_before")" "$(cat "$o/live_after")"
check_eq "nothing can be written through the read-only mount" refused "$(cat "$o/write")"
check "... and nothing was" test ! -e "$dir/planted"

lab_finish
