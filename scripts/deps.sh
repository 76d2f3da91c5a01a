#!/usr/bin/env bash
# Installs the Debian 12 packages bulkhead needs, if any are missing. Uses
# sudo when not root. Prints nothing when all are present.
#
# Usage: scripts/deps.sh [build|test|deb|all]
#   build  what compiling needs: compiler, CMake, libraries, GoogleTest,
#          scdoc (man pages)
#   test   what the tests, the demo and the benchmarks run against besides
#          (Pebble, nginx, Knot, PostgreSQL, Chromium, ...; for the package
#          test, debhelper, lintian and man-db)
#   deb    what `make deb` needs besides the build packages: debhelper, lintian
#   all    all of them (the default)
set -euo pipefail
build_pkgs=(
  g++ cmake make pkg-config
  libssl-dev libcurl4-openssl-dev nlohmann-json3-dev libcli11-dev libfmt-dev
  libgtest-dev libasio-dev libseccomp-dev libldns-dev libsqlite3-dev libpq-dev
  libpsl-dev libtomlplusplus-dev libidn2-dev scdoc
)
test_pkgs=(
  openssl openssh-client curl python3 pebble nginx strace
  knot knot-dnsutils ldnsutils postgresql sqlite3 systemd
  prometheus-blackbox-exporter chromium aide
  debhelper lintian man-db certbot lego
)
deb_pkgs=(debhelper lintian)
if [ $# -gt 1 ]; then
  echo "usage: $0 [build|test|deb|all]" >&2
  exit 2
fi
case "${1:-all}" in
  build) pkgs=("${build_pkgs[@]}") ;;
  test) pkgs=("${test_pkgs[@]}") ;;
  deb) pkgs=("${deb_pkgs[@]}") ;;
  all) pkgs=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
  *)
    echo "usage: $0 [build|test|deb|all]" >&2
    exit 2
    ;;
esac
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
