#!/usr/bin/env bash
# Demo: starts a private test CA (Pebble) with nginx on loopback, registers
# an account, issues a certificate for demo.bulkhead.test over http-01 and
# shows where it landed. Stops everything it started on exit.
# Usage: scripts/demo.sh PATH/TO/bulkhead
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 PATH/TO/bulkhead" >&2
  exit 2
fi
bin="$1"
if [ ! -x "$bin" ]; then
  echo "demo: $bin is not an executable (build it first: make build)" >&2
  exit 2
fi
BULKHEAD_BIN="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
export BULKHEAD_BIN

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=tests/integration/lib.sh
source "$repo/tests/integration/lib.sh"

demo_dir="$(mktemp -d)"
cleanup() {
  lab_stop "$demo_dir"
  rm -rf "$demo_dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== starting a local test CA (Pebble) and nginx in $demo_dir"
lab_start "$demo_dir"
echo "   ACME directory: $LAB_URL"
echo "   webroot:        $LAB_WEBROOT (served on 127.0.0.1:$LAB_HTTP_PORT)"
echo

# Run as root, the roles switch to the system user "bulkhead" when it exists
# (a production machine creates it from the shipped sysusers.d file:
# systemd-sysusers, see docs/DEPLOY.md); without it they stay uid 0, with no
# capabilities. The demo creates no user: it says which case applies.
if [ "$(id -u)" -eq 0 ]; then
  if id bulkhead >/dev/null 2>&1; then
    echo "== running as root: the roles switch to the user 'bulkhead' and drop every capability"
  else
    echo "== running as root without a 'bulkhead' user: the roles stay uid 0 but drop every capability"
    echo "   (create the user with: systemd-sysusers <prefix>/lib/sysusers.d/bulkhead.conf)"
  fi
  echo
fi

echo "== bulkhead account register"
bh account register --email demo@bulkhead.test --agree-tos
echo

echo "== bulkhead issue -d demo.bulkhead.test --webroot $LAB_WEBROOT"
bh issue -d demo.bulkhead.test --webroot "$LAB_WEBROOT"
echo

cert="$LAB_DIR/state/certs/demo.bulkhead.test/live/cert.pem"
echo "== openssl x509 -noout -subject -ext subjectAltName -enddate -in $cert"
openssl x509 -in "$cert" -noout -subject -ext subjectAltName -enddate
echo
openssl verify -CAfile "$LAB_ROOT" \
  -untrusted "$LAB_DIR/state/certs/demo.bulkhead.test/live/fullchain.pem" "$cert"
echo
echo "demo finished: the files above are removed when this script exits;"
echo "run the same commands with --server and --state-dir of your own to keep them."
