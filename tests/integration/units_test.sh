#!/usr/bin/env bash
# The shipped systemd units: `systemd-analyze verify` accepts them, and
# `cmake --install` puts them, pointing at the installed binary, in place.
# systemd-analyze verify checks that ExecStart binaries exist, so the units
# are verified as copies whose ExecStart names the binary under test.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_test_init

SRC="$(cd "$LAB_LIB_DIR/../.." && pwd)"
UNITS=(bulkhead-renew.service bulkhead-renew.timer bulkhead-reload@.service)

for u in "${UNITS[@]}"; do
  check "dist/systemd/$u.in exists" test -s "$SRC/dist/systemd/$u.in"
done

mkdir -p "$TEST_TMP/units"
for u in "${UNITS[@]}"; do
  sed "s|@BULKHEAD_BINDIR@/bulkhead|$BULKHEAD_BIN|g" "$SRC/dist/systemd/$u.in" >"$TEST_TMP/units/$u"
done
# A template is verified through an instance; its EnvironmentFile is
# read only when the unit starts.
cp "$TEST_TMP/units/bulkhead-reload@.service" "$TEST_TMP/units/bulkhead-reload@nginx.service"

check "renew service runs renew --cron" grep -q '^ExecStart=.* renew --cron$' "$TEST_TMP/units/bulkhead-renew.service"
for key in 'ProtectSystem=strict' 'NoNewPrivileges=yes' 'PrivateTmp=yes' 'ProtectHome=yes' \
  'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' 'User=bulkhead'; do
  check "renew service sets $key" grep -qx "$key" "$TEST_TMP/units/bulkhead-renew.service"
done
check "renew service limits SystemCallFilter to @system-service (+ sandbox calls)" \
  grep -q '^SystemCallFilter=@system-service ' "$TEST_TMP/units/bulkhead-renew.service"
check "renew service writes only state and challenge directories" \
  grep -qx 'ReadWritePaths=/var/lib/bulkhead -/var/lib/bulkhead-challenge' "$TEST_TMP/units/bulkhead-renew.service"
check "renew service keeps the account directory read-only" \
  grep -qx 'ReadOnlyPaths=-/var/lib/bulkhead/accounts' "$TEST_TMP/units/bulkhead-renew.service"
# The read-only path must lie inside the state directory that --state-dir
# names, or it would protect nothing.
state_dir="$(sed -n 's/^ExecStart=.* --state-dir \([^ ]*\) .*/\1/p' "$TEST_TMP/units/bulkhead-renew.service")"
check_eq "the read-only path is the accounts/ of --state-dir" "-$state_dir/accounts" \
  "$(sed -n 's/^ReadOnlyPaths=//p' "$TEST_TMP/units/bulkhead-renew.service")"
check "timer is hourly with a randomized delay" \
  grep -q '^RandomizedDelaySec=' "$TEST_TMP/units/bulkhead-renew.timer"
check "reload unit keeps only CAP_KILL" \
  grep -qx 'CapabilityBoundingSet=CAP_KILL' "$TEST_TMP/units/bulkhead-reload@.service"

# The sysusers.d file creates the user the roles and the renew unit run as.
check "dist/systemd/bulkhead.sysusers declares the system user bulkhead" \
  grep -qE '^u[[:space:]]+bulkhead[[:space:]]+-[[:space:]]' "$SRC/dist/systemd/bulkhead.sysusers"
if command -v systemd-sysusers >/dev/null 2>&1; then
  # --root: into an empty tree, never the host's /etc/passwd (the file
  # comes on stdin: a path would be taken inside the root).
  mkdir -p "$TEST_TMP/sysroot/etc"
  if systemd-sysusers --root="$TEST_TMP/sysroot" - <"$SRC/dist/systemd/bulkhead.sysusers" \
    >"$TEST_TMP/sysusers.out" 2>&1 &&
    grep -q '^bulkhead:x:[0-9]*:[0-9]*:.*:/var/lib/bulkhead:/usr/sbin/nologin$' \
      "$TEST_TMP/sysroot/etc/passwd"; then
    ok "systemd-sysusers creates the bulkhead system user from the shipped file"
  else
    not_ok "systemd-sysusers creates the bulkhead system user from the shipped file" \
      "$(cat "$TEST_TMP/sysusers.out" "$TEST_TMP/sysroot/etc/passwd" 2>/dev/null)"
  fi
else
  echo "# SKIP systemd-sysusers: not installed (Debian package systemd)"
fi

if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "# SKIP systemd-analyze verify: systemd-analyze is not installed (Debian package systemd)"
else
  # Without a running systemd, verify still parses and checks the files;
  # it needs a writable runtime directory for its transient manager.
  export XDG_RUNTIME_DIR="$TEST_TMP/run"
  mkdir -p "$XDG_RUNTIME_DIR"
  chmod 0700 "$XDG_RUNTIME_DIR"
  (
    cd "$TEST_TMP/units" &&
      SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no \
        bulkhead-renew.service bulkhead-renew.timer bulkhead-reload@nginx.service
  ) >"$TEST_TMP/verify.out" 2>&1
  vrc=$?
  # Lines about the host's own units are not ours.
  ours="$(grep -E 'bulkhead' "$TEST_TMP/verify.out" || true)"
  if [ "$vrc" -eq 0 ] && [ -z "$ours" ]; then
    ok "systemd-analyze verify accepts the units"
  else
    not_ok "systemd-analyze verify accepts the units" "$(cat "$TEST_TMP/verify.out")"
  fi
fi

# cmake --install from the build directory of the binary under test.
BUILD_DIR="$(dirname "$BULKHEAD_BIN")"
if [ -f "$BUILD_DIR/CMakeCache.txt" ] && command -v cmake >/dev/null 2>&1; then
  if DESTDIR="$TEST_TMP/dest" cmake --install "$BUILD_DIR" >"$TEST_TMP/install.out" 2>&1; then
    ok "cmake --install succeeds"
    prefix="$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$BUILD_DIR/CMakeCache.txt")"
    for u in "${UNITS[@]}"; do
      f="$(find "$TEST_TMP/dest" -name "$u" -path '*systemd/system*' | head -n 1)"
      if [ "$u" = bulkhead-renew.timer ]; then
        check "$u installed" test -s "$f"
      elif [ -n "$f" ] && grep -q "^ExecStart=$prefix/bin/bulkhead " "$f"; then
        ok "$u installed with ExecStart=$prefix/bin/bulkhead"
      else
        not_ok "$u installed with ExecStart=$prefix/bin/bulkhead" "$(cat "$TEST_TMP/install.out")"
      fi
    done
    f="$(find "$TEST_TMP/dest" -path '*sysusers.d/bulkhead.conf' | head -n 1)"
    check "sysusers.d/bulkhead.conf installed" test -s "$f"
  else
    not_ok "cmake --install succeeds" "$(cat "$TEST_TMP/install.out")"
  fi
else
  echo "# SKIP cmake --install: $BUILD_DIR is not a CMake build directory"
fi

lab_finish
