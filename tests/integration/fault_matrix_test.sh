#!/usr/bin/env bash
# Fault matrix: a flaky or hostile CA. faultproxy.py sits between bulkhead
# and Pebble and injects exactly one fault per case into one step of a
# renewal (directory, newNonce, newOrder, authorization fetch, challenge
# answer, authorization poll, finalize, order poll, certificate download).
# A fault the client can safely retry must not fail the run; any other must
# fail it cleanly (exit 1, a "bulkhead: error:" line, the live certificate
# untouched, no challenge token left behind) and the next fault-free run
# must succeed, continuing the interrupted order where there is one.
#
# With FAULT_MATRIX_OUT=FILE the results are also written there as markdown;
# FAULT_MATRIX_ONLY=REGEX runs only the cases whose "step/fault" matches.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_test_init
started=$SECONDS
PEBBLE_WFE_NONCEREJECT=0 lab_start_or_die "$TEST_TMP/lab"

# --- the proxy -------------------------------------------------------------------
PX="$TEST_TMP/proxy"
mkdir -p "$PX"
PX_RULES="$PX/rules.json"
PX_LOG="$PX/requests.log"
echo '{}' >"$PX_RULES"
if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout "$PX/key.pem" -out "$PX/cert.pem" -days 2 -subj "/CN=faultproxy" \
  -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1; then
  echo "not ok - openssl makes the proxy's certificate"
  exit 1
fi

proxy_stop() {
  local pgid
  [ -s "$LAB_DIR/faultproxy.pid" ] || return 0
  pgid="$(cat "$LAB_DIR/faultproxy.pid")"
  kill -TERM -- "-$pgid" 2>/dev/null || true
  local deadline=$((SECONDS + 10))
  while _lab_alive "$pgid" && [ "$SECONDS" -lt "$deadline" ]; do
    sleep 0.02
  done
  _lab_alive "$pgid" && kill -KILL -- "-$pgid" 2>/dev/null
  rm -f "$LAB_DIR/faultproxy.pid"
}
trap 'proxy_stop; _lab_test_cleanup' EXIT

_lab_spawn faultproxy python3 "$LAB_LIB_DIR/faultproxy.py" --upstream "${LAB_URL%/dir}" \
  --upstream-ca "$LAB_CA" --cert "$PX/cert.pem" --key "$PX/key.pem" \
  --rules "$PX_RULES" --log "$PX_LOG" || exit 1
deadline=$((SECONDS + 20))
port=""
until [ -n "$port" ]; do
  port="$(head -n 1 "$LAB_DIR/faultproxy.log" 2>/dev/null | grep -E '^[0-9]+$')"
  if [ -z "$port" ] && { [ "$SECONDS" -ge "$deadline" ] ||
    ! _lab_alive "$(cat "$LAB_DIR/faultproxy.pid")"; }; then
    echo "not ok - faultproxy starts"
    sed 's/^/#   /' "$LAB_DIR/faultproxy.log"
    exit 1
  fi
  sleep 0.05
done
PX_URL="https://127.0.0.1:$port/dir"

# bhp ARGS...: bulkhead through the proxy, which is the only CA it trusts,
# killed after 120 s (exit 124: a hang).
bhp() {
  timeout 120 "$BULKHEAD_BIN" --state-dir "$LAB_DIR/state" --server "$PX_URL" --ca-bundle "$PX/cert.pem" "$@"
}

# set_rules TAG [RULE_JSON...]: replaces the proxy's rules (atomically).
set_rules() {
  local tag="$1" rules
  shift
  rules="$(IFS=,; echo "$*")"
  printf '{"tag": "%s", "rules": [%s]}\n' "$tag" "$rules" >"$PX_RULES.tmp"
  mv "$PX_RULES.tmp" "$PX_RULES"
}

NAME=fm
live() {
  echo "$(cert_dir $NAME)/live"
}

# key_matches: the live certificate belongs to the live key.
key_matches() {
  local c k
  c="$(cert_pubkey "$(live)/cert.pem")"
  k="$(key_pubkey "$(live)/privkey.pem")"
  [ -n "$c" ] && [ "$c" = "$k" ]
}

tokens_left() {
  find "$LAB_WEBROOT" -type f | head -n 5
}

# --- baseline ----------------------------------------------------------------------
RC=0
bhp account register --email admin@example.org --agree-tos \
  >"$TEST_TMP/reg.out" 2>"$TEST_TMP/reg.err" || RC=$?
check_eq "account register through the proxy exits 0" 0 "$RC"
RC=0
bhp issue --name $NAME -d fm.test -d www.fm.test --webroot "$LAB_WEBROOT" \
  >"$TEST_TMP/base.out" 2>"$TEST_TMP/base.err" || RC=$?
check_eq "baseline issue through the proxy exits 0" 0 "$RC"
if [ "$RC" -ne 0 ]; then
  sed 's/^/#   /' "$TEST_TMP/base.err"
  lab_finish
  exit 1
fi
check "baseline certificate matches its key" key_matches
check "the proxy saw the baseline requests" grep -q 'POST /finalize-order/' "$PX_LOG"

# --- the matrix ----------------------------------------------------------------------
STEPS=(directory newNonce newOrder authz-fetch challenge authz-poll finalize order-poll cert-download)
KINDS=(status500 status503_retry_after close_before_response close_after_forward truncated_body
  malformed_json half_body html_body html_200 status429 slow oversized_body no_replay_nonce
  foreign_location)
declare -A CELL DETAIL_ROWS
CASE_NO=0
CASE_FAILS=0

# selected TAG: whether FAULT_MATRIX_ONLY (if set) selects case TAG.
selected() {
  [ -z "${FAULT_MATRIX_ONLY:-}" ] || grep -qE -- "$FAULT_MATRIX_ONLY" <<<"$1"
}

# step_rule STEP: the JSON rule fields matching STEP's request in a renewal
# of two names: GET /dir, HEAD /nonce-plz, POST /order-plz, two /authZ/
# fetches, two /chalZ/ answers, two /authZ/ polls, /finalize-order/ (as soon
# as both authorizations are valid, without reading the order first),
# /my-order/ (waiting for "valid"), /certZ/.
step_rule() {
  case "$1" in
    directory) echo '"path": "/dir", "method": "GET", "nth": 1' ;;
    newNonce) echo '"path": "/nonce-plz", "method": "HEAD", "nth": 1' ;;
    newOrder) echo '"path": "/order-plz", "nth": 1' ;;
    authz-fetch) echo '"path": "/authZ/", "nth": 1' ;;
    challenge) echo '"path": "/chalZ/", "nth": 1' ;;
    authz-poll) echo '"path": "/authZ/", "nth": 3' ;;
    finalize) echo '"path": "/finalize-order/", "nth": 1' ;;
    order-poll) echo '"path": "/my-order/", "nth": 1' ;;
    cert-download) echo '"path": "/certZ/", "nth": 1' ;;
  esac
}

# fault_case STEP KIND EXPECT [HTTP_TIMEOUT] [EXTRA_RULE_FIELDS] [ERR_RE]:
# one case. EXPECT: retry (the run must succeed), refuse (it must fail
# cleanly, with an error line matching ERR_RE if given) or either (a clean
# failure and a success are both acceptable).
fault_case() {
  local step="$1" kind="$2" expect="$3" http_timeout="${4:-3}" extra="${5:-}" err_re="${6:-}"
  local also_kind
  also_kind="$(sed -n 's/.*"kind": "\([a-z_]*\)".*/\1/p' <<<"${FAULT_ALSO:-}")"
  local tag="$step/$kind${also_kind:++$also_kind}" p="$TEST_TMP/case$CASE_NO"
  selected "$tag" || return 0
  CASE_NO=$((CASE_NO + 1))
  local problems=() outcome="" serial version mark rc t0 elapsed
  serial="$(cert_serial "$(live)/cert.pem")"
  version="$(live_version $NAME)"
  # FAULT_ALSO (optional): a second rule, e.g. for what the next request sees.
  set_rules "$tag" "{$(step_rule "$step"), \"kind\": \"$kind\"$extra}" ${FAULT_ALSO:+"$FAULT_ALSO"}
  mark=$(($(wc -l <"$PX_LOG") + 1))
  t0=$EPOCHREALTIME
  rc=0
  bhp -v --http-timeout "$http_timeout" renew --name $NAME --force \
    >"$p.out" 2>"$p.err" || rc=$?
  elapsed="$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')"
  set_rules none
  check_no_sanitizer "$p.err" "$tag"
  tail -n "+$mark" "$PX_LOG" >"$p.log"
  local err_line
  err_line="$(grep -m 1 '^bulkhead: error: ' "$p.err" | cut -c 1-300)"

  if ! grep -q "FAULT $kind .*\[$tag\]" "$p.log"; then
    problems+=("the fault was never injected: the step's request did not happen")
  fi
  if [ -n "$also_kind" ] && ! grep -q "FAULT $also_kind .*\[$tag\]" "$p.log"; then
    problems+=("the second fault ($also_kind) was never injected")
  fi
  if [ "$kind" = foreign_location ] && grep -qE '(GET|HEAD|POST) https://127\.0\.0\.9' "$p.err"; then
    problems+=("sent a request to the foreign origin https://127.0.0.9:1")
  fi
  if [ -n "$(tokens_left)" ]; then
    problems+=("token files left in the webroot: $(tokens_left | tr '\n' ' ')")
    find "$LAB_WEBROOT" -type f -delete
  fi
  case "$rc" in
    0)
      outcome="recovered, exit 0"
      [ "$(live_version $NAME)" != "$version" ] || problems+=("exit 0 but live still version $version")
      [ "$(cert_serial "$(live)/cert.pem")" != "$serial" ] || problems+=("exit 0 but the serial is unchanged")
      if [ "$expect" = refuse ]; then
        problems+=("the run succeeded although it had to refuse the CA's answer")
      fi
      ;;
    1)
      outcome="refused, exit 1"
      [ -n "$err_line" ] || problems+=("no 'bulkhead: error:' line on stderr")
      [ "$(cert_serial "$(live)/cert.pem")" = "$serial" ] || problems+=("the live certificate changed")
      [ "$(live_version $NAME)" = "$version" ] || problems+=("the live link moved")
      if [ "$expect" = retry ]; then
        problems+=("exit 1 where the step is safe to retry (${err_line##*: })")
      fi
      if [ -n "$err_re" ] && ! grep -qE "$err_re" <<<"$err_line"; then
        problems+=("the error does not say /$err_re/")
      fi
      # The next fault-free run must succeed, continuing the order if one
      # was left pending.
      local pending=no rmark rrc=0
      [ -s "$(cert_dir $NAME)/pending/order.json" ] && pending=yes
      rmark=$(($(wc -l <"$PX_LOG") + 1))
      bhp -v --http-timeout "$http_timeout" renew --name $NAME --force \
        >"$p.r.out" 2>"$p.r.err" || rrc=$?
      check_no_sanitizer "$p.r.err" "$tag (next run)"
      if [ "$rrc" -ne 0 ]; then
        problems+=("the next fault-free run exits $rrc: $(grep -m 1 '^bulkhead: error: ' "$p.r.err" | cut -c 1-300)")
      elif [ "$pending" = yes ]; then
        if tail -n "+$rmark" "$PX_LOG" | grep -q 'POST /order-plz'; then
          problems+=("an order was left pending but the next run created a new one")
        else
          outcome="$outcome; next run resumed the order"
        fi
      else
        outcome="$outcome; next run ok"
      fi
      [ -z "$(tokens_left)" ] || problems+=("token files left after the next run")
      ;;
    124) outcome="hang"; problems+=("no exit within 120 s") ;;
    *) outcome="exit $rc"; problems+=("unexpected exit status $rc: $err_line") ;;
  esac
  key_matches || problems+=("the live certificate does not match the live key")

  local line="$tag: $outcome (${elapsed} s)"
  local cell detail_outcome="$outcome"
  if [ "${#problems[@]}" -eq 0 ]; then
    ok "$line"
    case "$outcome" in
      recovered*) cell="recovered" ;;
      *resumed*) cell="refused, resumed" ;;
      *) cell="refused, next ok" ;;
    esac
  else
    CASE_FAILS=$((CASE_FAILS + 1))
    not_ok "$line" "$(printf '%s\n' "${problems[@]}"; echo "stderr:"; tail -n 8 "$p.err")"
    cell="**fails**: ${problems[0]}"
    detail_outcome="fails: $(IFS=';'; echo "${problems[*]}")"
  fi
  CELL["$step,$kind"]="$cell"
  DETAIL_ROWS["$CASE_NO"]="| $step | $kind${also_kind:+, then $also_kind} | $expect | $detail_outcome | ${err_line:+\`${err_line//|/\\|}\`} | $elapsed |"
}

for step in "${STEPS[@]}"; do
  fault_case "$step" status500 retry
  fault_case "$step" status503_retry_after retry
  # Twice in a row: libcurl itself resends once when a reused connection
  # closes without an answer, and bulkhead's own retry is what is tested.
  fault_case "$step" close_before_response retry 3 ', "times": 2'
  fault_case "$step" html_body retry
  if [ "$step" != newNonce ]; then
    # HEAD answers have no body to cut or garble.
    fault_case "$step" truncated_body retry
  fi
done
# A 200 whose body cannot be used: cut in half (complete framing), an HTML
# page, more than the 1 MiB cap. A read is safe to repeat and must recover;
# a request that changed state is not sent again blindly (the run either
# recovers by reading the state or fails cleanly and resumes).
for step in directory authz-fetch authz-poll order-poll cert-download; do
  fault_case "$step" malformed_json retry
  fault_case "$step" half_body retry
  fault_case "$step" html_200 retry
  fault_case "$step" oversized_body retry
done
for step in newOrder challenge finalize; do
  fault_case "$step" malformed_json either
  fault_case "$step" half_body either
  fault_case "$step" html_200 either
  fault_case "$step" oversized_body either
done
# Lost answers to requests that changed state at the CA.
fault_case newOrder close_after_forward retry
fault_case finalize close_after_forward retry
fault_case challenge close_after_forward retry
# Finalizing without reading the order first: a CA that is not ready yet
# says orderNotReady; bulkhead reads the order and finalizes again, at once
# if it is ready by then, after waiting while it still shows "pending".
fault_case finalize order_not_ready retry
FAULT_ALSO='{"path": "/my-order/", "nth": 1, "kind": "order_pending"}' \
  fault_case finalize order_not_ready retry
# Once each.
fault_case newOrder status429 retry
fault_case directory slow retry 2 ', "seconds": 4'
fault_case finalize slow retry 2 ', "seconds": 4'
fault_case newNonce no_replay_nonce retry
fault_case newOrder no_replay_nonce retry
# URLs that lead away from the CA: refused before anything is sent there.
origin_re='outside its own origin'
fault_case directory foreign_location refuse 3 '' "$origin_re"
fault_case newOrder foreign_location refuse 3 '' "$origin_re"
fault_case authz-fetch foreign_location refuse 3 '' "$origin_re"
fault_case order-poll foreign_location refuse 3 '' "$origin_re"

# --- a run killed mid-order --------------------------------------------------------
# bulkhead is SIGKILLed while it waits for the certificate (the CA answers
# 8 s later): nothing may change in the store, no process may stay behind,
# and the next run must pick the order up where it stopped. MODE "group"
# kills every process of the run (a crash, or systemd stopping the unit);
# "main" kills only the process that was started (kill -9 PID), whose role
# processes must then give up on their own.
crash_case() {
  local mode="$1" kind="killed_$1" tag="cert-download/killed_$1"
  local p="$TEST_TMP/case$CASE_NO" problems=() outcome
  selected "$tag" || return 0
  CASE_NO=$((CASE_NO + 1))
  local serial version mark pid deadline t0 elapsed left
  serial="$(cert_serial "$(live)/cert.pem")"
  version="$(live_version $NAME)"
  set_rules "$tag" "{$(step_rule cert-download), \"kind\": \"slow\", \"seconds\": 8}"
  mark=$(($(wc -l <"$PX_LOG") + 1))
  t0=$EPOCHREALTIME
  # setsid: its own process group (the script runs without job control).
  setsid "$BULKHEAD_BIN" --state-dir "$LAB_DIR/state" -v --http-timeout 30 renew --name $NAME \
    --force >"$p.out" 2>"$p.err" &
  pid=$!
  deadline=$((SECONDS + 60))
  until tail -n "+$mark" "$PX_LOG" | grep -q "FAULT slow .*\[$tag\]"; do
    [ "$SECONDS" -lt "$deadline" ] || break
    sleep 0.05
  done
  if [ "$mode" = group ]; then
    kill -KILL -- "-$pid" 2>/dev/null
  else
    kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null
  set_rules none
  tail -n "+$mark" "$PX_LOG" | grep -q "FAULT slow" || problems+=("the certificate download was never reached")
  # Role processes are forks of the killed one: they must notice and exit
  # well before the CA's late answer arrives.
  deadline=$((SECONDS + 3))
  while left="$(pgrep -f -- "--state-dir $LAB_DIR/state")" && [ "$SECONDS" -lt "$deadline" ]; do
    sleep 0.1
  done
  if [ -n "$left" ]; then
    problems+=("$(echo "$left" | wc -l) role processes still running 3 s after the kill, the certificate's lock $(flock -n "$(cert_dir $NAME)/lock" true && echo free || echo held)")
    deadline=$((SECONDS + 15))
    while left="$(pgrep -f -- "--state-dir $LAB_DIR/state")" && [ "$SECONDS" -lt "$deadline" ]; do
      sleep 0.1
    done
    # shellcheck disable=SC2086  # one pid per word
    [ -z "$left" ] || kill -KILL $left 2>/dev/null
  fi
  [ "$(cert_serial "$(live)/cert.pem")" = "$serial" ] || problems+=("the live certificate changed after the kill")
  [ "$(live_version $NAME)" = "$version" ] || problems+=("the live link moved after the kill")
  key_matches || problems+=("the live certificate does not match the live key")
  [ -s "$(cert_dir $NAME)/pending/order.json" ] || problems+=("no pending order recorded")
  mark=$(($(wc -l <"$PX_LOG") + 1))
  local rrc=0
  outcome="killed; next run resumed the order"
  bhp -v --http-timeout 3 renew --name $NAME --force >"$p.r.out" 2>"$p.r.err" || rrc=$?
  elapsed="$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')"
  if [ "$rrc" -ne 0 ]; then
    problems+=("the next run exits $rrc: $(grep -m 1 '^bulkhead: error: ' "$p.r.err")")
  elif tail -n "+$mark" "$PX_LOG" | grep -q 'POST /order-plz'; then
    problems+=("the next run created a new order instead of resuming")
    outcome="killed; next run made a new order"
  fi
  key_matches || problems+=("after the next run, the live certificate does not match the key")
  if [ "${#problems[@]}" -eq 0 ]; then
    ok "$tag: $outcome (${elapsed} s)"
    CELL["cert-download,$kind"]="refused, resumed"
  else
    CASE_FAILS=$((CASE_FAILS + 1))
    not_ok "$tag: $outcome (${elapsed} s)" "$(printf '%s\n' "${problems[@]}"; tail -n 5 "$p.r.err")"
    CELL["cert-download,$kind"]="**fails**: ${problems[0]}"
    outcome="fails: $(IFS=';'; echo "${problems[*]}")"
  fi
  DETAIL_ROWS["$CASE_NO"]="| cert-download | $kind | resume | $outcome |  | $elapsed |"
}
crash_case group
crash_case main
KINDS+=(killed_group killed_main)

total=$((SECONDS - started))
echo "# $CASE_NO cases, $CASE_FAILS failed, ${total} s in all"

# --- markdown ------------------------------------------------------------------------
if [ -n "${FAULT_MATRIX_OUT:-}" ]; then
  {
    echo "Run $(date -u +%Y-%m-%dT%H:%MZ): $CASE_NO cases, $CASE_FAILS failed, ${total} s."
    echo
    printf '| step |'
    for kind in "${KINDS[@]}"; do printf ' %s |' "$kind"; done
    echo
    printf '|---|'
    for _ in "${KINDS[@]}"; do printf -- '---|'; done
    echo
    for step in "${STEPS[@]}"; do
      printf '| %s |' "$step"
      for kind in "${KINDS[@]}"; do printf ' %s |' "${CELL["$step,$kind"]:-·}"; done
      echo
    done
    echo
    echo "| step | fault | expected | outcome | error line | seconds |"
    echo "|---|---|---|---|---|---|"
    for i in $(seq 1 "$CASE_NO"); do
      echo "${DETAIL_ROWS[$i]}"
    done
  } | sed "s#https://127.0.0.1:$port#https://CA#g" >"$FAULT_MATRIX_OUT"
fi

lab_finish
