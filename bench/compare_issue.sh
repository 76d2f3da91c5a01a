#!/usr/bin/env bash
# bench/compare_issue.sh OLD_BIN NEW_BIN [ROUNDS]
#
# Times one issuance (one name, EC P-256, http-01 by webroot) with two
# bulkhead builds against one local Pebble, taking turns round by round
# (old, new, old, ...) so that the machine's load hits both alike, and
# prints each build's median wall time and median CPU time (user+sys of
# the command and every process it started) and the difference. Use it to
# see what a change costs per issuance: build the commit before it into a
# second directory and compare.
#
# Everything runs on 127.0.0.1 in a temporary directory removed on exit.
set -euo pipefail
BENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ $# -lt 2 ] || [ $# -gt 3 ]; then
  echo "usage: bench/compare_issue.sh OLD_BIN NEW_BIN [ROUNDS]" >&2
  exit 2
fi
old="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
new="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
rounds="${3:-31}"
export BULKHEAD_BIN="$new"
# shellcheck source=tests/integration/lib.sh
source "$BENCH_ROOT/tests/integration/lib.sh"
lab_test_init
lab_start_or_die "$TEST_TMP/lab"

python3 - "$old" "$new" "$rounds" "$TEST_TMP" <<'PY'
import os, resource, statistics, subprocess, sys, time
old, new, rounds, tmp = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
lab = ["--server", os.environ["LAB_URL"], "--ca-bundle", os.environ["LAB_CA"]]
webroot = os.environ["LAB_WEBROOT"]

def run(binary, state, *args):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    rc = subprocess.run([binary, "--state-dir", state, *lab, *args],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if rc != 0:
        sys.exit(f"compare_issue: {binary} {' '.join(args)} exited {rc}")
    return wall * 1000, cpu * 1000

builds = {"old": old, "new": new}
times = {k: ([], []) for k in builds}
for k, b in builds.items():
    state = f"{tmp}/state-{k}"
    run(b, state, "account", "register", "--email", "bench@example.org", "--agree-tos")
    run(b, state, "issue", "-d", f"warm-{k}.test", "--webroot", webroot)  # untimed warm-up
for i in range(rounds):
    for k, b in builds.items():
        w, c = run(b, f"{tmp}/state-{k}", "issue", "-d", f"r{i}-{k}.test", "--webroot", webroot)
        times[k][0].append(w)
        times[k][1].append(c)
med = {k: (statistics.median(w), statistics.median(c)) for k, (w, c) in times.items()}
print(f"{rounds} interleaved rounds, load average {os.getloadavg()[0]:.2f}")
for k in builds:
    print(f"{k:4} {builds[k]}: wall median {med[k][0]:6.1f} ms, CPU median {med[k][1]:6.1f} ms")
print(f"new - old: wall {med['new'][0] - med['old'][0]:+.1f} ms, CPU {med['new'][1] - med['old'][1]:+.1f} ms")
PY
