#!/usr/bin/env bash
# The command line itself, no CA needed: unknown commands get a suggestion
# (a typo's nearest command, or bulkhead's name for a certbot command),
# `help` is --help, --version works.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_test_init

# cli OUT_PREFIX ARGS...: runs bulkhead with a scratch state dir.
cli() {
  local prefix="$1"
  shift
  RC=0
  "$BULKHEAD_BIN" --state-dir "$TEST_TMP/state" "$@" >"$prefix.out" 2>"$prefix.err" </dev/null || RC=$?
  check_no_sanitizer "$prefix.err" "$*"
}

# suggests WORD EXPECTED: the error for WORD names EXPECTED, exit 2.
suggests() {
  cli "$TEST_TMP/u-$1" "$1"
  check_eq "'$1' exits 2" 2 "$RC"
  check "... and suggests '$2'" grep -qF "unknown command '$1'; did you mean '$2'?" "$TEST_TMP/u-$1.err"
}

suggests lst list
suggests isue issue
suggests renwe renew
suggests revok revoke
suggests certificates list
suggests certonly issue
suggests update_account account
suggests register "account register"
suggests show_account "account show"
cli "$TEST_TMP/far" frobnicate
check_eq "a word far from every command exits 2" 2 "$RC"
check "... pointing to --help" grep -qF 'bulkhead --help' "$TEST_TMP/far.err"

# Global options before the word do not hide it.
cli "$TEST_TMP/opts" -v --http-timeout 5 lst
check_eq "global options, then 'lst', exits 2" 2 "$RC"
check "... suggesting list" grep -qF "did you mean 'list'?" "$TEST_TMP/opts.err"

# certbot's commands that bulkhead has under the same name are commands.
for c in renew revoke delete; do
  cli "$TEST_TMP/same-$c" help "$c"
  check_eq "help $c exits 0" 0 "$RC"
done

cli "$TEST_TMP/help" help
check_eq "help exits 0" 0 "$RC"
"$BULKHEAD_BIN" --help >"$TEST_TMP/dashhelp.out" 2>&1
check "help prints what --help prints" cmp -s "$TEST_TMP/help.out" "$TEST_TMP/dashhelp.out"
check "... listing the commands" grep -q 'delete' "$TEST_TMP/help.out"
cli "$TEST_TMP/helpissue" help issue
check_eq "help issue exits 0" 0 "$RC"
check "... showing issue's options" grep -q -- '--webroot' "$TEST_TMP/helpissue.out"
cli "$TEST_TMP/helpnope" help lst
check_eq "help lst exits 2" 2 "$RC"
check "... suggesting list" grep -qF "did you mean 'list'?" "$TEST_TMP/helpnope.err"
cli "$TEST_TMP/version" --version
check_eq "--version exits 0" 0 "$RC"
check "... printing the version" grep -qE '^bulkhead [0-9]+\.[0-9]+' "$TEST_TMP/version.out"

# limits says so when no limit is set (a CA other than Let's Encrypt,
# without limits.json), also before anything was ever ordered.
cli "$TEST_TMP/limits" --server https://127.0.0.1:1/dir limits
check_eq "limits on a fresh state directory exits 0" 0 "$RC"
check_eq "... every limit says 'no limit set'" 4 "$(grep -c ': no limit set$' "$TEST_TMP/limits.out")"
cli "$TEST_TMP/lelimits" limits
check "Let's Encrypt's limits are shown with their numbers" \
  grep -q 'certificates per registered domain: 50 per 7 day' "$TEST_TMP/lelimits.out"

lab_finish
