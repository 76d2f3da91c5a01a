#!/usr/bin/env bash
# Crash safety: forced renewals killed with SIGKILL at random moments must
# never leave the certificate without a complete, consistent live set, and
# the next uninterrupted run must succeed and clean up after the killed ones.
#
# Each renewal runs in its own session (setsid) and the whole process group
# is killed at once, since the sandboxed roles are child processes of the
# main one. Kill delays are drawn from bash's RANDOM, seeded from CRASH_SEED
# (printed, so a failing run can be repeated), and spread over 0 .. the
# duration of one renewal as measured at the start.
#
# Environment:
#   CRASH_RUNS    number of killed renewals (default: 100, fewer if one
#                 renewal is so slow that 100 would not fit CRASH_BUDGET)
#   CRASH_SEED    seed for the kill delays (default: from the clock)
#   CRASH_WINDOW_MS  kill window in ms (default: measured); with the seed
#                 it fixes every delay, for repeating a failing run
#   CRASH_BUDGET  seconds the killed runs may take in all (default 180)
#
# Challenge tokens: a killed run can leave its token file in the webroot,
# because the challenge role that would remove it is killed too, and a
# later run has no record of tokens it did not publish. So the test only
# bounds them: at most one new token file per killed run (the certificate
# has one name), and none added by an uninterrupted run (which does remove
# the token of a killed run whose pending order it resumes).
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_test_init
export PEBBLE_WFE_NONCEREJECT=0 PEBBLE_VA_NOSLEEP=1
lab_start_or_die "$TEST_TMP/lab"

NAME=crash
CDIR="$(cert_dir "$NAME")"
TOKENS="$LAB_WEBROOT/.well-known/acme-challenge"
LOGS="$TEST_TMP/logs"
mkdir -p "$LOGS"

now_ms() {
  echo $(($(date +%s%N) / 1000000))
}

token_count() {
  find "$TOKENS" -type f 2>/dev/null | wc -l
}

# live_problems: prints what is wrong with the live set (nothing if sound).
live_problems() {
  local live="$CDIR/live" f
  if [ ! -L "$live" ]; then
    echo "live is not a symlink"
    return
  fi
  if [ ! -d "$live/" ]; then
    echo "live -> $(readlink "$live") does not resolve to a directory"
    return
  fi
  for f in cert.pem fullchain.pem privkey.pem; do
    [ -s "$live/$f" ] || echo "live/$f is missing or empty"
  done
  [ -s "$live/cert.pem" ] && [ -s "$live/fullchain.pem" ] && [ -s "$live/privkey.pem" ] || return
  # Extracting the public keys also proves that cert.pem and privkey.pem parse.
  local cpub kpub
  cpub="$(cert_pubkey "$live/cert.pem")"
  kpub="$(key_pubkey "$live/privkey.pem")"
  [ -n "$cpub" ] || echo "live/cert.pem does not parse"
  [ -n "$kpub" ] || echo "live/privkey.pem does not parse"
  if [ -n "$cpub" ] && [ "$cpub" != "$kpub" ]; then
    echo "live/cert.pem does not match live/privkey.pem"
  fi
  # storeutl succeeds on files with no certificate at all, so compare the
  # count it parsed with the number of PEM blocks.
  local parsed blocks
  parsed="$(openssl storeutl -noout -certs "$live/fullchain.pem" 2>/dev/null |
    sed -n 's/^Total found: //p')"
  blocks="$(grep -c -- '-----BEGIN CERTIFICATE-----' "$live/fullchain.pem")"
  if [ "${parsed:-0}" -lt 2 ] || [ "$parsed" != "$blocks" ]; then
    echo "live/fullchain.pem does not parse as a chain ($blocks blocks, ${parsed:-0} parsed)"
  fi
  if ! head -c "$(stat -c %s "$live/cert.pem")" "$live/fullchain.pem" | cmp -s - "$live/cert.pem"; then
    echo "live/fullchain.pem does not start with live/cert.pem"
  fi
}

# group_alive PGID: true while a process of group PGID is alive (zombies
# do not count). One ps instead of lib.sh's per-process scan, since this
# runs after every kill.
group_alive() {
  ps -A -o pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'
}

# leftovers: the temporary entries an interrupted commit may leave.
leftovers() {
  find "$CDIR" \( -name '.new-*' -o -name '*.tmp-*' \) -printf '%P\n' 2>/dev/null
}

# clean_run N: one uninterrupted forced renewal after killed run N and the
# checks on what it leaves behind.
clean_run() {
  local label="after run $1" before after out
  before="$(token_count)"
  run_bh "$LOGS/clean-$1" renew --name "$NAME" --force
  check_eq "$label: uninterrupted renew exits 0" 0 "$RC"
  [ "$RC" -eq 0 ] || sed 's/^/#   /' "$LOGS/clean-$1.err"
  out="$(live_problems)"
  check_eq "$label: live set sound after uninterrupted renew" "" "$out"
  check_eq "$label: no .new-*/*.tmp-* entries left" "" "$(leftovers)"
  check "$label: pending/ is gone" test ! -e "$CDIR/pending"
  local n
  n="$(version_dirs "$NAME" | wc -l)"
  if [ "$n" -le 5 ]; then
    ok "$label: at most 5 version dirs ($n)"
  else
    not_ok "$label: at most 5 version dirs" "found: $(version_dirs "$NAME" | paste -sd' ' -)"
  fi
  # Fewer is fine: resuming a killed run's order republishes, and then
  # removes, that order's token.
  after="$(token_count)"
  if [ "$after" -le "$before" ]; then
    ok "$label: uninterrupted renew leaves no token file of its own"
  else
    not_ok "$label: uninterrupted renew leaves no token file of its own" \
      "token files before $before, after $after"
  fi
}

run_bh "$LOGS/reg" account register --email crash@example.org --agree-tos
check_eq "account register exits 0" 0 "$RC"
run_bh "$LOGS/issue" issue --name "$NAME" -d crash.test --webroot "$LAB_WEBROOT"
check_eq "issue $NAME exits 0" 0 "$RC"
if [ "$RC" -ne 0 ]; then
  cat "$LOGS/issue.err"
  lab_finish
  exit 1
fi
check_eq "issued live set is sound" "" "$(live_problems)"

# Timed renewals give the window the kills are spread over: the median of
# three, since the first run after issue is often slower than the rest.
durations=()
for t in 1 2 3; do
  t0="$(now_ms)"
  run_bh "$LOGS/timed$t" renew --name "$NAME" --force
  durations+=($(($(now_ms) - t0)))
  check_eq "timed renew $t exits 0" 0 "$RC"
done
dur_ms="${CRASH_WINDOW_MS:-$(printf '%s\n' "${durations[@]}" | sort -n | sed -n 2p)}"
[ "$dur_ms" -ge 1 ] || dur_ms=1

# Each killed run costs about half a renewal plus the checks, and every
# tenth run adds an uninterrupted renewal and its checks.
t0="$(now_ms)"
live_problems >/dev/null
check_ms=$(($(now_ms) - t0))
budget_ms=$((${CRASH_BUDGET:-180} * 1000))
per_run_ms=$((dur_ms / 2 + check_ms + 100 + (dur_ms + 2 * check_ms) / 10))
runs="${CRASH_RUNS:-}"
if [ -z "$runs" ]; then
  runs=100
  if [ $((runs * per_run_ms)) -gt "$budget_ms" ]; then
    runs=$((budget_ms / per_run_ms))
    [ "$runs" -ge 10 ] || runs=10
    echo "# crash: at ~${per_run_ms} ms per run only $runs runs fit CRASH_BUDGET=${CRASH_BUDGET:-180}s"
  fi
fi
seed="${CRASH_SEED:-$(($(date +%s%N) % 1000000007))}"
echo "# crash: renewals took ${durations[*]} ms; kill window ${dur_ms} ms; $runs killed runs; seed $seed"
echo "# crash: to repeat: CRASH_SEED=$seed CRASH_RUNS=$runs CRASH_WINDOW_MS=$dur_ms"
RANDOM="$seed"

kills=0          # runs killed while still running
finished=0       # runs that completed before their kill time
live_changes=0   # killed runs after which live pointed at a new version
token_excess=0
live_failures=0
reap_failures=0
start_failures=0
start_all="$(now_ms)"

for ((i = 1; i <= runs; i++)); do
  delay_ms=$(((RANDOM * 32768 + RANDOM) % (dur_ms + 1)))
  tokens_before="$(token_count)"
  version_before="$(live_version "$NAME")"
  log="$LOGS/kill-$i"
  setsid "$BULKHEAD_BIN" --state-dir "$LAB_DIR/state" --server "$LAB_URL" \
    --ca-bundle "$LAB_CA" renew --name "$NAME" --force >"$log.out" 2>"$log.err" </dev/null &
  pid=$!
  t_start="$(now_ms)"
  # From a non-interactive shell the background child is never a group
  # leader, so setsid makes it one in place: its pid is the group id. Wait
  # for that, or a kill sent before setsid ran would miss the group.
  deadline=$((SECONDS + 5))
  while :; do
    stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || break  # Already gone.
    rest="${stat##*) }"
    # shellcheck disable=SC2086
    set -- $rest
    [ "${3:-}" = "$pid" ] && break
    if [ "$SECONDS" -ge "$deadline" ]; then
      start_failures=$((start_failures + 1))
      not_ok "run $i: bulkhead did not become its own process group"
      break
    fi
  done
  remaining_ms=$((delay_ms - ($(now_ms) - t_start)))
  if [ "$remaining_ms" -gt 0 ]; then
    sleep "$(printf '%d.%03d' $((remaining_ms / 1000)) $((remaining_ms % 1000)))"
  fi
  # The pid is not reaped before `wait`, so the group id cannot have been
  # reused: killing a group whose run already finished is harmless.
  kill -KILL -- "-$pid" 2>/dev/null
  rc=0
  # (stderr: bash would report each "Killed" job there.)
  wait "$pid" 2>/dev/null || rc=$?
  t_reaped="$(now_ms)"
  deadline=$((SECONDS + 10))
  while group_alive "$pid"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      reap_failures=$((reap_failures + 1))
      not_ok "run $i: processes of group $pid still alive 10s after SIGKILL" \
        "$(ps -o pid,stat,args -g "$pid" 2>/dev/null)"
      break
    fi
    sleep 0.02
  done
  if [ "$rc" -eq 137 ]; then
    kills=$((kills + 1))
  else
    finished=$((finished + 1))
    if [ "$rc" -ne 0 ]; then
      not_ok "run $i: renew that finished before its kill (delay ${delay_ms} ms) exits 0" \
        "exit status $rc; stderr: $(head -n 5 "$log.err")"
    fi
  fi
  check_no_sanitizer "$log.err" "run $i"
  t_gone="$(now_ms)"

  problems="$(live_problems)"
  if [ -n "$problems" ]; then
    live_failures=$((live_failures + 1))
    not_ok "run $i (killed after ${delay_ms} ms): live set sound" \
      "$problems
live -> $(readlink "$CDIR/live" 2>/dev/null); entries: $(find "$CDIR" -mindepth 1 -maxdepth 1 -printf "%f " | sort)"
  fi
  [ "$(live_version "$NAME")" = "$version_before" ] || live_changes=$((live_changes + 1))
  tokens_after="$(token_count)"
  if [ $((tokens_after - tokens_before)) -gt 1 ]; then
    token_excess=$((token_excess + 1))
    not_ok "run $i: at most one token file left by a killed run" \
      "before $tokens_before after $tokens_after"
  fi

  echo "# run $i: delay ${delay_ms} ms, exit $rc, live $version_before -> $(live_version "$NAME"), group gone after $((t_gone - t_reaped)) ms, checks $(($(now_ms) - t_gone)) ms"
  if [ $((i % 10)) -eq 0 ] || [ "$i" -eq "$runs" ]; then
    clean_run "$i"
  fi
done
elapsed_ms=$(($(now_ms) - start_all))

echo "# crash: $runs runs in $((elapsed_ms / 1000)) s: $kills killed, $finished finished first," \
  "$live_changes moved live; $(token_count) token files left in the webroot"
check_eq "every run became its own process group" 0 "$start_failures"
check_eq "every killed run's processes were gone within 10s" 0 "$reap_failures"
check_eq "live set sound after every one of $runs killed runs (seed $seed)" 0 "$live_failures"
check_eq "no killed run left more than one token file" 0 "$token_excess"
tokens_left="$(token_count)"
if [ "$tokens_left" -le "$kills" ]; then
  ok "token files in the webroot ($tokens_left) at most one per killed run ($kills)"
else
  not_ok "token files in the webroot ($tokens_left) at most one per killed run ($kills)"
fi
if [ "$kills" -gt 0 ]; then
  ok "at least one renewal was really killed mid-run ($kills)"
else
  not_ok "at least one renewal was really killed mid-run" "all $runs finished before their kill"
fi

lab_finish
