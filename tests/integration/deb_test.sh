#!/usr/bin/env bash
# The Debian package: scripts/deb.sh builds it (lintian reports no errors),
# and it is installed, checked and purged in a private copy of this system
# (an overlay of / in its own mount namespace), so that the package, its
# user and its directories never appear on the real system, where other
# tests run as root and would see a 'bulkhead' user. Checks: the binary is
# a release build, the man pages and completions are where man and the
# shells look, systemd-analyze verify accepts the installed units (and
# finds their Documentation= pages), the user bulkhead and /var/lib/bulkhead
# exist with the right owner and mode, the timer is not enabled, and purge
# leaves no file of the package behind, removes the state directory only
# when it is empty and never deletes a key.
#
# BULKHEAD_DEB=FILE tests that package instead of building one.
# Skips (ok # skip) when not root, without debhelper, when / cannot be
# overlaid, and for a sanitizer build (the package does not depend on the
# build under test; the plain build's run tests it).
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_test_init

SRC="$(cd "$LAB_LIB_DIR/../.." && pwd)"
BUILD_DIR="$(dirname "$BULKHEAD_BIN")"

skip() {
  echo "ok # skip $*"
  exit 0
}

[ "$(id -u)" -eq 0 ] || skip "installing a package needs root"
if grep -q '^BULKHEAD_SANITIZE:BOOL=ON' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null; then
  skip "sanitizer build: the package is tested with the plain build"
fi
for tool in dpkg-buildpackage dh unshare chroot; do
  command -v "$tool" >/dev/null 2>&1 ||
    skip "$tool is not installed (scripts/deps.sh deb; util-linux, coreutils)"
done
if ! unshare --mount --fork sh -c "mount -t tmpfs tmpfs '$TEST_TMP'" >/dev/null 2>&1; then
  skip "no private mount namespace here (needs CAP_SYS_ADMIN)"
fi

# --- build --------------------------------------------------------------------
if [ -n "${BULKHEAD_DEB:-}" ]; then
  deb="$BULKHEAD_DEB"
else
  # One build at a time per build directory; the package is built in it, so
  # that ccache sees the same paths each time.
  exec 9>"$BUILD_DIR/deb-test.lock"
  flock 9
  start=$SECONDS
  if JOBS=2 "$SRC/scripts/deb.sh" "$BUILD_DIR/deb-test" >"$TEST_TMP/build.out" 2>&1; then
    ok "scripts/deb.sh builds the package and lintian reports no errors ($((SECONDS - start)) s)"
  else
    not_ok "scripts/deb.sh builds the package and lintian reports no errors" \
      "$(tail -n 40 "$TEST_TMP/build.out")"
    lab_finish
    exit 1
  fi
  deb="$(tail -n 1 "$TEST_TMP/build.out")"
  grep -E '^[EWIPNX]: bulkhead' "$TEST_TMP/build.out" | sed 's/^/# lintian: /'
fi
version="$(sed -n 's/^project(bulkhead VERSION \([^ ]*\) .*/\1/p' "$SRC/CMakeLists.txt")"
check_eq "the package is bulkhead_<version>_<arch>.deb" \
  "bulkhead_${version}_$(dpkg-architecture -qDEB_HOST_ARCH).deb" "$(basename "$deb")"
check_eq "the package's version is the project's" "$version" "$(dpkg-deb -f "$deb" Version)"

# The subcommands, for the man pages to expect.
commands="$("$BULKHEAD_BIN" --help | sed -n '/^Subcommands:/,$ s/^  \([a-z][-a-z]*\) .*/\1/p' |
  tr '\n' ' ')"

# --- install, check, purge in a private copy of / ----------------------------
# What the real system looks like before, to compare after.
real_state() {
  dpkg-query -W -f='${Status}\n' bulkhead 2>/dev/null
  getent passwd bulkhead
  ls -d /usr/bin/bulkhead /var/lib/bulkhead /lib/systemd/system/bulkhead-renew.service 2>/dev/null
}
before="$(real_state)"
# What runs inside: it prints TAP lines and exits 1 if any check failed.
mkdir -p "$TEST_TMP/in" "$TEST_TMP/ovl"
cp "$deb" "$TEST_TMP/in/bulkhead.deb"
cp "$LAB_LIB_DIR/lib.sh" "$TEST_TMP/in/lib.sh"
cat >"$TEST_TMP/in/inside.sh" <<'INSIDE'
set -uo pipefail
source /deb-test/lib.sh
LAB_CHECKS=0
LAB_FAILURES=0
version="$1"
commands="$2"
export DEBIAN_FRONTEND=noninteractive

install_deb() {
  if dpkg -i /deb-test/bulkhead.deb >/deb-test/install.out 2>&1; then
    ok "dpkg -i installs the package"
  elif grep -qi 'lock' /deb-test/install.out; then
    echo "ok # skip dpkg is locked by another process: $(tail -n 1 /deb-test/install.out)"
    exit 0
  else
    not_ok "dpkg -i installs the package" "$(cat /deb-test/install.out)"
    lab_finish
    exit 1
  fi
}

install_deb
check_eq "bulkhead --version: a release build of the project's version" "bulkhead $version" \
  "$(/usr/bin/bulkhead --version 2>&1)"
for page in bulkhead $(for c in $commands; do echo "bulkhead-$c"; done); do
  path="$(man -w "$page" 2>&1)"
  case "$path" in
    /usr/share/man/man1/"$page".1.gz) ok "man -w $page: $path" ;;
    *) not_ok "man -w $page" "$path" ;;
  esac
done
check "bash completion installed" test -s /usr/share/bash-completion/completions/bulkhead
check "zsh completion installed" test -s /usr/share/zsh/vendor-completions/_bulkhead
check "bash completion completes 'bulkhead is'" bash -c '
  source /usr/share/bash-completion/completions/bulkhead
  COMP_WORDS=(bulkhead is); COMP_CWORD=1; _bulkhead; [ "${COMPREPLY[*]}" = issue ]'
check "reload.env.example installed" test -s /usr/share/doc/bulkhead/examples/reload.env.example

units="bulkhead-renew.service bulkhead-renew.timer bulkhead-reload@.service"
for u in $units; do
  check "$u installed in /lib/systemd/system" test -s "/lib/systemd/system/$u"
done
check "the renew unit runs /usr/bin/bulkhead" \
  grep -q '^ExecStart=/usr/bin/bulkhead ' /lib/systemd/system/bulkhead-renew.service
check "the renew timer is not enabled at installation" \
  test ! -e /etc/systemd/system/timers.target.wants/bulkhead-renew.timer
if command -v systemd-analyze >/dev/null 2>&1; then
  # Documentation= is checked too (man finds the pages); a template is
  # verified through an instance.
  mkdir -p /run/verify && chmod 0700 /run/verify
  if XDG_RUNTIME_DIR=/run/verify SYSTEMD_LOG_LEVEL=notice systemd-analyze verify \
    bulkhead-renew.service bulkhead-renew.timer bulkhead-reload@nginx.service \
    >/deb-test/verify.out 2>&1 && ! grep -q bulkhead /deb-test/verify.out; then
    ok "systemd-analyze verify accepts the installed units and their man pages"
  else
    not_ok "systemd-analyze verify accepts the installed units and their man pages" \
      "$(cat /deb-test/verify.out)"
  fi
fi

entry="$(getent passwd bulkhead)"
case "$entry" in
  bulkhead:x:*:*:*:/var/lib/bulkhead:/usr/sbin/nologin) ok "the system user bulkhead exists: $entry" ;;
  *) not_ok "the system user bulkhead exists" "getent passwd bulkhead: '$entry'" ;;
esac
uid="$(id -u bulkhead 2>/dev/null || echo 65534)"
check "bulkhead is a system user (uid $uid < 1000)" test "$uid" -lt 1000
check_eq "/var/lib/bulkhead: bulkhead:bulkhead 0700" "bulkhead:bulkhead 700" \
  "$(stat -c '%U:%G %a' /var/lib/bulkhead 2>&1)"
check_eq "/var/lib/bulkhead-challenge: bulkhead:bulkhead 0755" "bulkhead:bulkhead 755" \
  "$(stat -c '%U:%G %a' /var/lib/bulkhead-challenge 2>&1)"
dpkg -L bulkhead | sort >/deb-test/files

# Purge with an empty state directory: nothing of the package is left.
if dpkg --purge bulkhead >/deb-test/purge.out 2>&1; then
  ok "dpkg --purge bulkhead"
else
  not_ok "dpkg --purge bulkhead" "$(cat /deb-test/purge.out)"
fi
left=""
while read -r f; do
  # Directories (and /lib, a link to one) may stay: they are shared.
  [ -d "$f" ] && continue
  if [ -e "$f" ] || [ -L "$f" ]; then
    left="$left $f"
  fi
done </deb-test/files
check_eq "no file of the package is left after purge" "" "$left"
check "no binary" test ! -e /usr/bin/bulkhead
check "no units" test ! -e /lib/systemd/system/bulkhead-renew.service
check "no man page" test ! -e /usr/share/man/man1/bulkhead.1.gz
check "the empty state directory is removed" test ! -e /var/lib/bulkhead
check "the empty challenge directory is removed" test ! -e /var/lib/bulkhead-challenge
check_fails "dpkg no longer knows the package" sh -c 'dpkg -s bulkhead >/dev/null 2>&1'
check "the user bulkhead is kept (Debian keeps system users)" \
  sh -c 'getent passwd bulkhead >/dev/null'

# Purge with an account key in the state directory: the key stays.
install_deb
mkdir -p /var/lib/bulkhead/accounts/ca/default
echo key >/var/lib/bulkhead/accounts/ca/default/account.key
dpkg --purge bulkhead >/deb-test/purge2.out 2>&1
check "purge keeps a state directory that holds a key" \
  test -s /var/lib/bulkhead/accounts/ca/default/account.key
check "... and removes the package's files" test ! -e /usr/bin/bulkhead
lab_finish
INSIDE

# Inside a new mount namespace: a tmpfs holds the overlay's upper layer,
# the overlay of / becomes the root of a chroot with its own /proc, /dev,
# /run and /tmp. Everything disappears with the namespace, even when this
# test is killed.
start=$SECONDS
# shellcheck disable=SC2016  # expanded by the inner shell
unshare --mount --propagation private --fork bash -c '
  set -e
  t="$1"
  mount -t tmpfs tmpfs "$t/ovl"
  mkdir -p "$t/ovl/upper" "$t/ovl/work" "$t/ovl/root"
  mount -t overlay overlay -o "lowerdir=/,upperdir=$t/ovl/upper,workdir=$t/ovl/work" "$t/ovl/root"
  r="$t/ovl/root"
  mount -t proc proc "$r/proc"
  mount --rbind /dev "$r/dev"
  mount -t tmpfs tmpfs "$r/run"
  mount -t tmpfs tmpfs "$r/tmp"
  mkdir -p "$r/deb-test"
  cp -a "$t/in/." "$r/deb-test/"
  exec chroot "$r" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    bash /deb-test/inside.sh "$2" "$3"
' bash "$TEST_TMP" "$version" "$commands" >"$TEST_TMP/inside.out" 2>&1
rc=$?
cat "$TEST_TMP/inside.out"
if [ "$rc" -eq 0 ]; then
  ok "install, checks and purge in a private copy of the system ($((SECONDS - start)) s)"
else
  not_ok "install, checks and purge in a private copy of the system" "exit $rc"
fi
check_eq "the real system is as before (package, user, files)" "$before" "$(real_state)"

lab_finish
