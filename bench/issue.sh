#!/usr/bin/env bash
# bench/issue.sh BULKHEAD_BIN [ROUNDS]
#
# Times issuing a one-name EC P-256 certificate by http-01 (webroot) with
# bulkhead, uacme and lego against one local Pebble, ROUNDS times each
# (default 15), and prints per client the median wall time, median CPU time
# (user+sys of the client and everything it waited for) and peak RSS, then
# bulkhead's ratios against the targets in docs/PERFORMANCE.md.
#
# Fairness:
# - the clients take turns round by round (bulkhead, uacme, lego, bulkhead,
#   ...), so drift in the machine's load hits all of them alike;
# - each client registers its account (EC P-256 key) and does one untimed
#   warm-up issuance first (lego has no register-only command, and the
#   warm-up also loads every binary and library into the page cache);
# - every timed round uses a name never used before, and Pebble reuses no
#   authorizations (PEBBLE_AUTHZREUSE=0 in the lab), so each round is a full
#   order: new order, authorization, challenge, validation, finalize and
#   download;
# - every client trusts exactly one certificate, the lab's: bulkhead via
#   --ca-bundle, lego via LEGO_CA_CERTIFICATES (which replaces its system
#   pool), and uacme, which has no option for it, through a private mount
#   namespace whose /etc/ssl/certs holds only that certificate (see below).
#
# What dominates wall time: Pebble validates asynchronously, so whether a
# challenge is already valid when a client first looks is a race. When it
# is not, uacme and lego wait about 5 s before looking again, so their wall
# times are bimodal (about 0.2 s or 5-6 s); the min..max column shows it and
# the median says which mode was the more common.
#
# Environment: BENCH_CLIENTS (default "bulkhead uacme lego") limits the run
# to some clients, e.g. to try the script before bulkhead builds;
# BENCH_KEEP=1 keeps the temporary directory (every run's output) for a look.
#
# Everything runs on 127.0.0.1 and lives in a temporary directory that is
# removed on exit, together with the lab's daemons.
set -euo pipefail

BENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=bench/lib_bench.sh
source "$BENCH_ROOT/bench/lib_bench.sh"

usage() {
  echo "usage: bench/issue.sh BULKHEAD_BIN [ROUNDS]" >&2
  exit 2
}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  usage
fi
rounds="${2:-15}"
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || usage
read -r -a clients <<<"${BENCH_CLIENTS:-bulkhead uacme lego}"

bulkhead_bin=""
for c in "${clients[@]}"; do
  case "$c" in
    bulkhead)
      [ -x "$1" ] || bench_die "bulkhead binary $1 is not executable (build it first)"
      bulkhead_bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
      ;;
    uacme | lego) ;;
    *) bench_die "unknown client $c in BENCH_CLIENTS" ;;
  esac
done

# The other clients and GNU time are only needed here, so they are installed
# by the benchmark and not by scripts/deps.sh. This must happen before we
# enter the namespace below, where a non-root user has no sudo.
if [ -z "${BENCH_IN_MOUNT_NS:-}" ]; then
  bench_need_pkgs uacme lego time || bench_die "could not install uacme, lego and time"
fi

# uacme (1.7, GnuTLS build) has no option or environment variable to trust
# another CA: libcurl reads the system store under /etc/ssl/certs. Rather
# than touching the machine's store we re-run this script in a private mount
# namespace and bind-mount a directory holding only the lab's certificate
# over /etc/ssl/certs there. Nothing outside the namespace sees it, and it
# vanishes with the namespace. Non-root users get the namespace through a
# user namespace (--map-root-user).
need_ns=0
for c in "${clients[@]}"; do
  [ "$c" != uacme ] || need_ns=1
done
if [ "$need_ns" = 1 ] && [ -z "${BENCH_IN_MOUNT_NS:-}" ]; then
  ns=(unshare --mount --propagation private)
  [ "$(id -u)" -eq 0 ] || ns=(unshare --map-root-user --mount --propagation private)
  "${ns[@]}" true 2>/dev/null ||
    bench_die "cannot make a private mount namespace (${ns[*]}), which uacme needs" \
      "to trust the lab's CA; run as root, or leave uacme out of BENCH_CLIENTS"
  export BENCH_PARENT_MNT_NS
  BENCH_PARENT_MNT_NS="$(readlink /proc/self/ns/mnt)"
  BENCH_IN_MOUNT_NS=1 exec "${ns[@]}" bash "$0" "$@"
fi
# Refuse to bind-mount anything unless we really are in a new namespace.
if [ "$need_ns" = 1 ] && [ "$(readlink /proc/self/ns/mnt)" = "${BENCH_PARENT_MNT_NS:-}" ]; then
  bench_die "not in a private mount namespace; refusing to mount over /etc/ssl/certs"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/bulkhead-bench-issue.XXXXXX")"
trust_mounted=0
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  lab_stop "$work/lab" || true
  if [ "$trust_mounted" = 1 ]; then
    umount /etc/ssl/certs 2>/dev/null || true
  fi
  if [ -n "${BENCH_KEEP:-}" ]; then
    echo "bench: kept $work" >&2
  else
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

export PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0
lab_start "$work/lab" || bench_die "the lab did not start"

if [ "$need_ns" = 1 ]; then
  mkdir "$work/trust"
  cp "$LAB_CA" "$work/trust/ca-certificates.crt"
  # The hash link makes the same directory usable as an OpenSSL CA path too.
  ln -s ca-certificates.crt "$work/trust/$(openssl x509 -noout -hash -in "$LAB_CA").0"
  mount --bind "$work/trust" /etc/ssl/certs
  trust_mounted=1
fi

export LEGO_CA_CERTIFICATES="$LAB_CA"
email="bench@example.org"

# The uacme challenge hook (its man page describes the arguments: METHOD
# TYPE IDENT TOKEN AUTH). It accepts only http-01 and publishes the key
# authorization in the lab's webroot, which nginx serves to Pebble.
cat >"$work/uacme-hook.sh" <<EOF
#!/bin/sh
[ "\$2" = http-01 ] || exit 1
f="$LAB_WEBROOT/.well-known/acme-challenge/\$4"
case "\$1" in
  begin) mkdir -p "\${f%/*}" && printf '%s' "\$5" >"\$f" ;;
  done | failed) rm -f "\$f" ;;
  *) exit 1 ;;
esac
EOF
chmod 0755 "$work/uacme-hook.sh"

# client_cmd CLIENT NAME: sets CMD to the argv issuing NAME with CLIENT.
# bulkhead's flags are the ones lib.sh's bh() passes; the function itself
# is not used for timing since a shell function cannot be exec'd.
client_cmd() {
  local name="$2"
  case "$1" in
    bulkhead)
      CMD=("$bulkhead_bin" --state-dir "$LAB_DIR/state" --server "$LAB_URL"
        --ca-bundle "$LAB_CA" issue -d "$name" --webroot "$LAB_WEBROOT" --key-type ec256
        "${bulkhead_extra[@]}")
      ;;
    uacme)
      CMD=(uacme -c "$work/uacme" -a "$LAB_URL" -t EC -b 256 -h "$work/uacme-hook.sh"
        issue "$name")
      ;;
    lego)
      # lego 4.9's --no-random-sleep belongs to `renew` only; `run` never
      # sleeps before starting. lego's `run` registers the account on first
      # use and reuses it afterwards (the warm-up does the registering).
      CMD=(lego --path "$work/lego" --server "$LAB_URL" --accept-tos --email "$email"
        --key-type ec256 --http --http.webroot "$LAB_WEBROOT" -d "$name" run)
      ;;
  esac
}

# The lab's names resolve only inside Pebble's DNS, so bulkhead's http-01
# pre-flight self-check (where this build has it) could not reach them; the
# other clients have no such check either, so it is left out for all.
bulkhead_extra=()
if [ -n "$bulkhead_bin" ] && "$bulkhead_bin" issue --help 2>/dev/null | grep -q -- --no-preflight; then
  bulkhead_extra=(--no-preflight)
fi

# client_cert CLIENT NAME: the certificate file CLIENT writes for NAME.
client_cert() {
  case "$1" in
    bulkhead) echo "$LAB_DIR/state/certs/$2/live/fullchain.pem" ;;
    uacme) echo "$work/uacme/$2/cert.pem" ;;
    lego) echo "$work/lego/certificates/$2.crt" ;;
  esac
}

# issue_once CLIENT NAME PREFIX: issues NAME with CLIENT under bench_measure,
# checks that a certificate for NAME came out, and on failure shows why.
issue_once() {
  local client="$1" name="$2" prefix="$3" rc=0 cert
  client_cmd "$client" "$name"
  bench_measure "$prefix" "${CMD[@]}" || rc=$?
  cert="$(client_cert "$client" "$name")"
  if [ "$rc" -ne 0 ] ||
    ! openssl x509 -noout -checkhost "$name" -in "$cert" 2>/dev/null | grep -q 'does match'; then
    bench_say "$client failed to issue $name (exit $rc); last lines of its output:"
    tail -n 15 "$prefix.out" "$prefix.err" >&2 || true
    return 1
  fi
}

mkdir "$work/res"
failures=0

# Accounts, registered before any timing.
for c in "${clients[@]}"; do
  case "$c" in
    bulkhead)
      BULKHEAD_BIN="$bulkhead_bin" bh account register --email "$email" --agree-tos \
        --key-type ec256 >"$work/res/register-bulkhead.log" 2>&1 ||
        { cat "$work/res/register-bulkhead.log" >&2; bench_die "bulkhead account register failed"; }
      ;;
    uacme)
      uacme -c "$work/uacme" -a "$LAB_URL" -t EC -b 256 -y new "$email" \
        >"$work/res/register-uacme.log" 2>&1 ||
        { cat "$work/res/register-uacme.log" >&2; bench_die "uacme new failed"; }
      ;;
    lego) ;; # registers during the warm-up issuance
  esac
done

for c in "${clients[@]}"; do
  issue_once "$c" "$c-warmup.bench.test" "$work/res/$c.warmup" ||
    bench_die "$c could not issue the warm-up certificate"
done

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
bench_say "timing ${clients[*]}: $rounds rounds, one fresh name per client and round"
for ((r = 1; r <= rounds; r++)); do
  for c in "${clients[@]}"; do
    if issue_once "$c" "$c-$r.bench.test" "$work/res/$c.$r"; then
      cat "$work/res/$c.$r.time" >>"$work/res/$c.times"
    else
      failures=$((failures + 1))
    fi
  done
done

# What the measuring itself costs: /usr/bin/true run the same way.
for ((r = 1; r <= 10; r++)); do
  bench_measure "$work/res/floor" /bin/true
  cat "$work/res/floor.time" >>"$work/res/floor.times"
done

# ---- report ---------------------------------------------------------------

declare -A wall wmin wmax cpu rss runs
for c in "${clients[@]}" floor; do
  f="$work/res/$c.times"
  if [ ! -s "$f" ]; then
    runs[$c]=0
    continue
  fi
  runs[$c]="$(wc -l <"$f")"
  wall[$c]="$(bench_column "$f" 1 | bench_median)"
  wmin[$c]="$(bench_column "$f" 1 | sort -g | head -n 1)"
  wmax[$c]="$(bench_column "$f" 1 | sort -g | tail -n 1)"
  cpu[$c]="$(awk '{ print $2 + $3 }' "$f" | bench_median)"
  rss[$c]="$(bench_column "$f" 4 | sort -n | tail -n 1)"
done

version_of() {
  dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"
}
echo
echo "bulkhead issue benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores"
echo "pebble $(version_of pebble), uacme $(version_of uacme), lego $(version_of lego);" \
  "$rounds rounds, EC P-256, http-01 by webroot"
echo "load average before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
printf '%-10s %5s %12s %20s %12s %10s\n' client runs "wall median" "wall min..max" \
  "CPU median" "peak RSS"
for c in "${clients[@]}"; do
  if [ "${runs[$c]}" -eq 0 ]; then
    printf '%-10s %5s %12s %20s %12s %10s\n' "$c" 0 - - - -
    continue
  fi
  printf '%-10s %5s %9s ms %17s ms %9s ms %7s MB\n' "$c" "${runs[$c]}" \
    "$(bench_ms "${wall[$c]}")" \
    "$(bench_ms "${wmin[$c]}")..$(bench_ms "${wmax[$c]}")" "$(bench_ms "${cpu[$c]}")" \
    "$(awk -v k="${rss[$c]}" 'BEGIN { printf "%.1f", k / 1024 }')"
done
printf '(measuring floor: /bin/true takes %s ms wall, %s ms CPU the same way)\n' \
  "$(bench_ms "${wall[floor]}")" "$(bench_ms "${cpu[floor]}")"

# bulkhead's ratios: wall against the fastest other client, CPU against
# uacme (the lightest of the others). Targets from docs/PERFORMANCE.md.
if [ "${runs[bulkhead]:-0}" -gt 0 ]; then
  fastest="" fastest_wall=""
  for c in "${clients[@]}"; do
    if [ "$c" = bulkhead ] || [ "${runs[$c]}" -eq 0 ]; then
      continue
    fi
    if [ -z "$fastest" ] || ! bench_le "$fastest_wall" "${wall[$c]}"; then
      fastest="$c" fastest_wall="${wall[$c]}"
    fi
  done
  echo
  if [ -n "$fastest" ]; then
    ratio="$(bench_ratio "${wall[bulkhead]}" "$fastest_wall")"
    verdict="met"
    bench_le "$ratio" 0.5 || verdict="MISSED"
    echo "wall: bulkhead / $fastest (fastest other) = $ratio  (target <= 0.50: $verdict)"
  fi
  if [ "${runs[uacme]:-0}" -gt 0 ]; then
    ratio="$(bench_ratio "${cpu[bulkhead]}" "${cpu[uacme]}")"
    verdict="met"
    bench_le "$ratio" 0.1 || verdict="MISSED"
    echo "CPU:  bulkhead / uacme = $ratio  (target <= 0.10: $verdict)"
  fi
fi

if [ "$failures" -ne 0 ]; then
  bench_say "$failures issuance(s) failed; the figures above leave them out"
  exit 1
fi
