#!/usr/bin/env bash
# bench/renew_noop.sh BULKHEAD_BIN [N]
#
# Times `bulkhead renew --cron` when nothing is due, over N managed
# certificates (default 1000): the cost a cron job or timer pays every day
# for nothing. It issues one real certificate from a local Pebble, clones
# its directory N times under new names (Pebble's certificates are valid
# for years, so none of them is due), then runs the no-op renewal 10 times
# (after one untimed warm-up run), checking every run exits 0 and prints
# nothing, as `renew --cron` must when nothing changed. With hyperfine
# installed it also gives hyperfine's figures for the same command.
#
# Everything runs on 127.0.0.1 and lives in a temporary directory that is
# removed on exit, together with the lab's daemons.
set -euo pipefail

BENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=bench/lib_bench.sh
source "$BENCH_ROOT/bench/lib_bench.sh"

usage() {
  echo "usage: bench/renew_noop.sh BULKHEAD_BIN [N]" >&2
  exit 2
}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  usage
fi
count="${2:-1000}"
[[ "$count" =~ ^[1-9][0-9]*$ ]] || usage
[ -x "$1" ] || bench_die "bulkhead binary $1 is not executable (build it first)"
BULKHEAD_BIN="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
export BULKHEAD_BIN
runs=10

bench_need_pkgs time || bench_die "could not install time"
# hyperfine is a nice-to-have: without it the script's own runs suffice.
bench_need_pkgs hyperfine || bench_say "hyperfine unavailable; using the script's own timing only"

work="$(mktemp -d "${TMPDIR:-/tmp}/bulkhead-bench-renew.XXXXXX")"
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  lab_stop "$work/lab" || true
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

lab_start "$work/lab" || bench_die "the lab did not start"
bh account register --email bench@example.org --agree-tos >"$work/register.log" 2>&1 ||
  { cat "$work/register.log" >&2; bench_die "account register failed"; }
seed="seed.bench.test"
bh issue -d "$seed" --webroot "$LAB_WEBROOT" --key-type ec256 >"$work/issue.log" 2>&1 ||
  { cat "$work/issue.log" >&2; bench_die "issuing $seed failed"; }

certs="$LAB_DIR/state/certs"
[ -f "$certs/$seed/settings.json" ] || bench_die "no $certs/$seed/settings.json after issue"

# Clone the seed certificate N times. copytree(symlinks=True) keeps the
# "live" link as the relative link it is and copies modes (privkey.pem
# stays 0600). Only settings.json's "name" changes: its list of names must
# keep matching the certificate, or the clone would look due.
python3 - "$certs" "$seed" "$count" <<'EOF'
import json
import os
import shutil
import sys

certs, seed, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
src = os.path.join(certs, seed)
for i in range(1, count + 1):
    name = "renew-%d.bench.test" % i
    dst = os.path.join(certs, name)
    shutil.copytree(src, dst, symlinks=True)
    path = os.path.join(dst, "settings.json")
    with open(path) as f:
        settings = json.load(f)
    if "name" in settings:
        settings["name"] = name
        with open(path, "w") as f:
            json.dump(settings, f, indent=2)
            f.write("\n")
EOF
total=$((count + 1))

# Sanity check, untimed: bulkhead sees every clone, and none is due.
if bh list --json >"$work/list.json" 2>"$work/list.err"; then
  read -r listed due < <(python3 -c '
import json, sys
certs = json.load(open(sys.argv[1]))
print(len(certs), sum(1 for c in certs if c.get("due")))' "$work/list.json")
  [ "$listed" -eq "$total" ] || bench_die "list shows $listed certificates, expected $total"
  [ "$due" -eq 0 ] || bench_die "list shows $due certificates due; the benchmark needs none due"
else
  bench_say "bulkhead list --json failed (not checking the clones): $(head -n 1 "$work/list.err")"
fi

# The same argv bh() builds; called directly so no shell sits in between.
cmd=("$BULKHEAD_BIN" --state-dir "$LAB_DIR/state" --server "$LAB_URL" --ca-bundle "$LAB_CA"
  renew --cron)

# pebble_requests: how many requests Pebble has served so far (it logs one
# "-> calling handler" line for each), to show whether a no-op renewal
# talks to the CA at all.
pebble_requests() {
  grep -c -- '-> calling handler' "$LAB_DIR/pebble.log" || true
}

requests_before="$(pebble_requests)"
for ((r = 0; r <= runs; r++)); do
  rc=0
  bench_measure "$work/run" "${cmd[@]}" || rc=$?
  if [ "$rc" -ne 0 ] || [ -s "$work/run.out" ] || [ -s "$work/run.err" ]; then
    bench_say "renew --cron run $r: exit $rc, expected 0 and no output; its output:"
    cat "$work/run.out" "$work/run.err" >&2
    exit 1
  fi
  # Run 0 is the warm-up (page cache); it is checked but not counted.
  [ "$r" -eq 0 ] || cat "$work/run.time" >>"$work/runs.times"
done
requests=$(($(pebble_requests) - requests_before))

wall="$(bench_column "$work/runs.times" 1 | bench_median)"
cpu="$(awk '{ print $2 + $3 }' "$work/runs.times" | bench_median)"
rss="$(bench_column "$work/runs.times" 4 | sort -n | tail -n 1)"
per_cert_us() {
  awk -v s="$1" -v n="$total" 'BEGIN { printf "%.1f", s * 1e6 / n }'
}

echo
echo "bulkhead renew --cron, nothing due, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores"
echo "$total certificates; $runs runs after one warm-up; every run exited 0 and printed nothing"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
printf 'wall median: %s ms (%s us per certificate)\n' "$(bench_ms "$wall")" "$(per_cert_us "$wall")"
printf 'CPU median:  %s ms (%s us per certificate)\n' "$(bench_ms "$cpu")" "$(per_cert_us "$cpu")"
printf 'peak RSS:    %s MB\n' "$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')"
echo "requests to the CA during the $((runs + 1)) runs: $requests"

if command -v hyperfine >/dev/null 2>&1; then
  # -N runs the command without a shell, like the runs above.
  hyperfine -N --style basic --warmup 1 --runs "$runs" \
    --export-json "$work/hyperfine.json" "${cmd[*]}" >"$work/hyperfine.log" 2>&1 ||
    { cat "$work/hyperfine.log" >&2; bench_die "hyperfine failed"; }
  python3 - "$work/hyperfine.json" "$total" <<'EOF'
import json
import sys

r = json.load(open(sys.argv[1]))["results"][0]
n = int(sys.argv[2])
print("hyperfine:   median %.1f ms, mean %.1f ms +- %.1f ms (%.1f us per certificate)"
      % (r["median"] * 1e3, r["mean"] * 1e3, r["stddev"] * 1e3, r["median"] * 1e6 / n))
EOF
fi

# Target from docs/PERFORMANCE.md: at most 1 ms of wall time per
# certificate, i.e. a no-op pass over 1000 certificates within a second.
if bench_le "$(per_cert_us "$wall")" 1000; then
  echo "target (<= 1000 us per certificate): met"
else
  echo "target (<= 1000 us per certificate): MISSED"
fi
