#!/usr/bin/env bash
# The man pages (docs/man/*.scd) against the command table itself: every
# subcommand `bulkhead --help` lists has a page bulkhead-CMD.1.scd and every
# such page a subcommand; every option of a command's --help (and of its
# own subcommands' --help) is described in its page, the global options in
# bulkhead.1; pages cross-reference only pages that exist, as do the
# systemd units' Documentation= lines. With scdoc installed, every page
# converts.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_test_init

SRC="$(cd "$LAB_LIB_DIR/../.." && pwd)"
MAN="$SRC/docs/man"

# help_options ARGS...: the option names `bulkhead ARGS --help` lists, one a
# line, without -h/--help.
help_options() {
  "$BULKHEAD_BIN" "$@" --help | sed -n 's/^  \(-[^ ]*\).*/\1/p' | tr ',' '\n' |
    grep -vx -e '-h' -e '--help'
}

# help_subcommands ARGS...: the subcommands `bulkhead ARGS --help` lists.
help_subcommands() {
  "$BULKHEAD_BIN" "$@" --help | sed -n '/^Subcommands:/,$ s/^  \([a-z][-a-z]*\) .*/\1/p'
}

# check_options PAGE ARGS...: every option of `bulkhead ARGS` is written as
# a term (*--name*) in PAGE.
check_options() {
  local page="$1" missing="" opt
  shift
  for opt in $(help_options "$@"); do
    grep -qF -- "*$opt*" "$page" || missing="$missing $opt"
  done
  if [ -z "$missing" ]; then
    ok "$(basename "$page") describes every option of bulkhead $*"
  else
    not_ok "$(basename "$page") describes every option of bulkhead $*" "missing:$missing"
  fi
}

commands="$(help_subcommands)"
if [ -z "$commands" ]; then
  not_ok "bulkhead --help lists subcommands" "$("$BULKHEAD_BIN" --help 2>&1)"
fi
check "bulkhead.1.scd exists" test -s "$MAN/bulkhead.1.scd"
check_options "$MAN/bulkhead.1.scd"
for cmd in $commands; do
  page="$MAN/bulkhead-$cmd.1.scd"
  if [ ! -s "$page" ]; then
    not_ok "subcommand $cmd has a man page" "no $page"
    continue
  fi
  ok "subcommand $cmd has a man page"
  grep -qF "*bulkhead-$cmd*(1)" "$MAN/bulkhead.1.scd" || not_ok "bulkhead.1 refers to bulkhead-$cmd(1)"
  subs="$(help_subcommands "$cmd")"
  if [ -z "$subs" ]; then
    check_options "$page" "$cmd"
  fi
  for sub in $subs; do
    check "bulkhead-$cmd.1 describes $cmd $sub" grep -qF "*$cmd $sub*" "$page"
    check_options "$page" "$cmd" "$sub"
  done
done

# And no page for a subcommand that does not exist.
for page in "$MAN"/bulkhead-*.1.scd; do
  cmd="$(basename "$page" .1.scd)"
  cmd="${cmd#bulkhead-}"
  if printf '%s\n' "$commands" | grep -qx -- "$cmd"; then
    ok "page $(basename "$page") belongs to a subcommand"
  else
    not_ok "page $(basename "$page") belongs to a subcommand" "bulkhead --help lists: $commands"
  fi
done

# Every page has the sections a reader looks for, and names itself.
for page in "$MAN"/*.scd; do
  name="$(basename "$page" .scd)"
  missing=""
  sections=(NAME SYNOPSIS DESCRIPTION 'SEE ALSO')
  # Commands exit; a file format (section 5) does not.
  [ "${name##*.}" = 1 ] && sections+=('EXIT STATUS')
  for section in "${sections[@]}"; do
    grep -qx "# $section" "$page" || missing="$missing '$section'"
  done
  head -n 1 "$page" | grep -qx "${name%.*}(${name##*.})" || missing="$missing title"
  if [ -z "$missing" ]; then
    ok "$name has its title and sections"
  else
    not_ok "$name has its title and sections" "missing:$missing"
  fi
done

# References to bulkhead pages, from the pages and from the units, resolve.
refs="$(grep -ohE '\*bulkhead([.-][a-z-]+)?\*\([0-9]\)' "$MAN"/*.scd | tr -d '*' | sort -u)"
refs="$refs $(grep -ohE '^Documentation=.*' "$SRC"/dist/systemd/*.in | grep -oE 'man:[^ ]+' |
  sed 's/^man://' | sort -u)"
bad=""
for ref in $refs; do
  page="${ref%(*}"
  section="${ref#*(}"
  section="${section%)}"
  [ -s "$MAN/$page.$section.scd" ] || bad="$bad $ref"
done
if [ -z "$bad" ]; then
  ok "every bulkhead page referred to (pages, units' Documentation=) exists"
else
  not_ok "every bulkhead page referred to (pages, units' Documentation=) exists" "missing:$bad"
fi
for unit in "$SRC"/dist/systemd/*.service.in "$SRC"/dist/systemd/*.timer.in; do
  check "$(basename "$unit") names a bulkhead man page" grep -q '^Documentation=man:bulkhead' "$unit"
done

if command -v scdoc >/dev/null 2>&1; then
  bad=""
  for page in "$MAN"/*.scd; do
    scdoc <"$page" >"$TEST_TMP/page" 2>"$TEST_TMP/scdoc.err" && [ -s "$TEST_TMP/page" ] ||
      bad="$bad $(basename "$page"): $(cat "$TEST_TMP/scdoc.err")"
  done
  if [ -z "$bad" ]; then
    ok "scdoc converts every page"
  else
    not_ok "scdoc converts every page" "$bad"
  fi
else
  echo "# SKIP scdoc: not installed (Debian package scdoc)"
fi

lab_finish
