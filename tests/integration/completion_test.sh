#!/usr/bin/env bash
# Shell completion: `bulkhead completion bash` yields a script that bash
# sources and that completes subcommands, options (global ones too) and,
# after an option that takes a value, leaves file names to bash's default;
# every subcommand and option --help lists is offered. The zsh script is
# checked with zsh -n when zsh is installed, else for its content.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_test_init

if "$BULKHEAD_BIN" completion bash >"$TEST_TMP/bulkhead.bash" 2>"$TEST_TMP/bash.err" &&
  [ -s "$TEST_TMP/bulkhead.bash" ]; then
  ok "bulkhead completion bash prints a script"
else
  not_ok "bulkhead completion bash prints a script" "$(cat "$TEST_TMP/bash.err")"
fi
check "bash parses the script" bash -n "$TEST_TMP/bulkhead.bash"
RC=0
"$BULKHEAD_BIN" completion fish >/dev/null 2>&1 || RC=$?
check_eq "completion for an unknown shell is a usage error" 2 "$RC"
check_fails "completion is not listed by --help" sh -c "\"\$0\" --help | grep -qw completion" \
  "$BULKHEAD_BIN"

# complete WORD...: what the script offers for the command line WORD...,
# the last word being the one completed; one candidate a line.
complete_line() {
  bash -c '
    source "$0"
    COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1))
    _bulkhead
    printf "%s\n" "${COMPREPLY[@]}"
  ' "$TEST_TMP/bulkhead.bash" "$@"
}

check_eq "bulkhead is<TAB> completes to issue" "issue" "$(complete_line bulkhead is)"
check_eq "bulkhead issue --we<TAB> completes to --webroot" "--webroot" \
  "$(complete_line bulkhead issue --we)"
check_eq "bulkhead account r<TAB> offers register and rollover" "register rollover" \
  "$(complete_line bulkhead account r | tr '\n' ' ' | sed 's/ $//')"
check_eq "a global option's value is skipped: bulkhead --state-dir ac ac<TAB>" "account" \
  "$(complete_line bulkhead --state-dir ac ac)"
check_eq "global options after the subcommand: bulkhead issue --require-s<TAB>" \
  "--require-sandbox" "$(complete_line bulkhead issue --require-s)"
check_eq "nested: bulkhead tlsa verify --trust<TAB>" "--trust-anchor" \
  "$(complete_line bulkhead tlsa verify --trust)"
check_eq "an option's value is left to file name completion" "" \
  "$(complete_line bulkhead issue --webroot '')"
check_eq "nothing is offered after --" "" \
  "$(complete_line bulkhead reload-watch --exec /bin/true -- -)"

# Everything --help lists is offered.
missing=""
offered="$(complete_line bulkhead '')"
top="$("$BULKHEAD_BIN" --help | sed -n '/^Subcommands:/,$ s/^  \([a-z][-a-z]*\) .*/\1/p')"
for cmd in $top; do
  printf '%s\n' "$offered" | grep -qx -- "$cmd" || missing="$missing $cmd"
  subs="$("$BULKHEAD_BIN" "$cmd" --help | sed -n '/^Subcommands:/,$ s/^  \([a-z][-a-z]*\) .*/\1/p')"
  offered_subs="$(complete_line bulkhead "$cmd" '')"
  for sub in $subs; do
    printf '%s\n' "$offered_subs" | grep -qx -- "$sub" || missing="$missing $cmd/$sub"
  done
  for path in "$cmd" $(for sub in $subs; do echo "$cmd:$sub"; done); do
    # shellcheck disable=SC2086  # path words split on purpose
    set -- ${path//:/ }
    opts="$("$BULKHEAD_BIN" "$@" --help | sed -n 's/^  \(-[^ ]*\).*/\1/p' | tr ',' '\n')"
    offered_opts="$(complete_line bulkhead "$@" -)"
    for opt in $opts; do
      printf '%s\n' "$offered_opts" | grep -qx -- "$opt" || missing="$missing $*:$opt"
    done
  done
done
if [ -z "$missing" ] && [ -n "$top" ]; then
  ok "every subcommand and option of --help is completed"
else
  not_ok "every subcommand and option of --help is completed" "missing:$missing"
fi

# The build's generated script is the binary's output.
BUILD_DIR="$(dirname "$BULKHEAD_BIN")"
if [ -f "$BUILD_DIR/completion/bulkhead.bash" ]; then
  check "the build's completion/bulkhead.bash is current" \
    cmp -s "$BUILD_DIR/completion/bulkhead.bash" "$TEST_TMP/bulkhead.bash"
fi

"$BULKHEAD_BIN" completion zsh >"$TEST_TMP/_bulkhead" 2>/dev/null
check "the zsh script starts with #compdef bulkhead" grep -qx '#compdef bulkhead' "$TEST_TMP/_bulkhead"
missing=""
for cmd in $top; do
  grep -q "^  \['bulkhead $cmd'\]=" "$TEST_TMP/_bulkhead" || missing="$missing $cmd"
done
if [ -z "$missing" ]; then
  ok "the zsh script knows every subcommand"
else
  not_ok "the zsh script knows every subcommand" "missing:$missing"
fi
if command -v zsh >/dev/null 2>&1; then
  check "zsh parses the script" zsh -n "$TEST_TMP/_bulkhead"
else
  echo "# SKIP zsh -n: zsh is not installed"
fi

lab_finish
