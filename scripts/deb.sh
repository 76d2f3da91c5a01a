#!/usr/bin/env bash
# Builds the Debian package bulkhead_<version>_<arch>.deb with Debian's own
# tools (dpkg-buildpackage, debhelper; packaging in debian/) from a copy of
# the source tree, so that neither the tree nor a build directory in it is
# touched. Needs no network; the build packages must be installed
# (scripts/deps.sh build). Runs lintian on the result when it is installed,
# and fails on lintian errors.
#
# Usage: scripts/deb.sh [OUTDIR]   (default: build-deb in the source tree)
# Prints the path of the .deb as its last line.
# Environment: JOBS (parallel compile jobs, default 2).
set -euo pipefail
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$src/build-deb}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
# dpkg-buildpackage writes the package into the parent of the tree it
# builds: OUTDIR.
work="$out/bulkhead"
rm -rf "$work"
mkdir -p "$work"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  # The files of the checkout as they are now, committed or not, without
  # what .gitignore names (build directories).
  (cd "$src" && git ls-files -z --cached --others --exclude-standard |
    tar --null --ignore-failed-read -T - -cf -) | tar -xf - -C "$work"
else
  tar -C "$src" --exclude=./.git --exclude=./build --exclude='./build-*' -cf - . |
    tar -xf - -C "$work"
fi

version="$(dpkg-parsechangelog -l "$work/debian/changelog" -S Version)"
cmake_version="$(sed -n 's/^project(bulkhead VERSION \([^ ]*\) .*/\1/p' "$work/CMakeLists.txt")"
if [ "$version" != "$cmake_version" ]; then
  echo "deb: debian/changelog says $version, CMakeLists.txt project() says $cmake_version" >&2
  exit 1
fi
arch="$(dpkg-architecture -qDEB_HOST_ARCH)"
deb="$out/bulkhead_${version}_${arch}.deb"
rm -f "$deb"

(
  cd "$work"
  DEB_BUILD_OPTIONS="parallel=${JOBS:-2} ${DEB_BUILD_OPTIONS:-}" \
    dpkg-buildpackage --build=binary --no-sign
)
rm -rf "$work"
if command -v lintian >/dev/null 2>&1; then
  # Errors fail the build; warnings and notes are shown.
  lintian --fail-on error --display-info "$deb" >&2
fi
echo "$deb"
