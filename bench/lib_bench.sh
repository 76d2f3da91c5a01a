# shellcheck shell=bash
# Helpers shared by the benchmark scripts in bench/. Source it from bash after
# setting BENCH_ROOT to the repository root.
#
# The lab itself (Pebble, challtestsrv, nginx) comes from
# tests/integration/lib.sh so the benchmarks and the integration tests run
# against exactly the same setup.

: "${BENCH_ROOT:?set BENCH_ROOT before sourcing bench/lib_bench.sh}"
# shellcheck source=tests/integration/lib.sh
source "$BENCH_ROOT/tests/integration/lib.sh"

bench_say() {
  echo "bench: $*" >&2
}

bench_die() {
  echo "bench: error: $*" >&2
  exit 1
}

# bench_need_pkgs PKG...: installs the Debian packages only the benchmarks
# need (other ACME clients, hyperfine). They are deliberately not part of
# scripts/deps.sh: building and testing bulkhead does not need them.
bench_need_pkgs() {
  local p missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  bench_say "installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  local log
  log="$(mktemp)"
  if $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$log" 2>&1 &&
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
    rm -f "$log"
    return 0
  fi
  tail -n 20 "$log" >&2
  rm -f "$log"
  return 1
}

# bench_measure OUT_PREFIX CMD...: runs CMD with stdout in OUT_PREFIX.out and
# stderr in OUT_PREFIX.err, and writes "WALL USER SYS MAXRSS_KB STATUS" to
# OUT_PREFIX.time (seconds with microsecond resolution; STATUS is CMD's exit
# code, or 128+signal). Returns CMD's exit status.
#
# Why not /usr/bin/time alone: it prints times with 10 ms resolution, while
# a whole issuance against a local Pebble takes tens of milliseconds of CPU,
# too coarse to compare clients. The times here come from the same source
# (the rusage the kernel returns from wait4), so they cover CMD and every
# descendant it waited for (hook scripts, helpers), at full resolution. The
# wall clock covers fork to reap only, so Python's start-up is not counted.
#
# Peak RSS still comes from /usr/bin/time's %M, which sits between Python
# and CMD: Linux carries a process's peak RSS across exec, so a child forked
# straight from Python would report Python's own ~10 MB as its floor, while
# one forked from the small time program starts near nothing. The time
# program's own CPU (well under a millisecond) is counted for every client
# alike.
bench_measure() {
  local prefix="$1"
  shift
  python3 - "$prefix" "$@" <<'EOF'
import os
import sys
import time

prefix, argv = sys.argv[1], sys.argv[2:]
rss_file = prefix + ".rss"
argv = ["/usr/bin/time", "-q", "-f", "%M", "-o", rss_file] + argv
with open(prefix + ".out", "wb") as out, open(prefix + ".err", "wb") as err:
    start = time.perf_counter()
    # posix_spawn (vfork underneath) rather than fork: the child never
    # copies Python's memory, so tearing that copy down at exec is not
    # charged to the command's system time.
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=[
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_DUP2, out.fileno(), 1),
        (os.POSIX_SPAWN_DUP2, err.fileno(), 2),
    ])
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - start
rc = os.waitstatus_to_exitcode(status)
if rc < 0:
    rc = 128 - rc
try:
    with open(rss_file) as f:
        rss = int(f.read().split()[-1])
except (OSError, ValueError, IndexError):
    rss = 0
with open(prefix + ".time", "w") as f:
    f.write("%.6f %.6f %.6f %d %d\n" % (wall, ru.ru_utime, ru.ru_stime, rss, rc))
sys.exit(min(rc, 255))
EOF
}

# bench_median: prints the median of the numbers on stdin, one a line
# (mean of the middle two for an even count). Prints nothing for no input.
bench_median() {
  sort -g | awk '{ v[NR] = $1 }
    END {
      if (NR == 0) { exit }
      if (NR % 2) { printf "%.6f\n", v[(NR + 1) / 2] }
      else { printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }
    }'
}

# bench_column FILE N: prints column N of every line of FILE.
bench_column() {
  awk -v n="$2" '{ print $n }' "$1"
}

# bench_ms SECONDS: seconds as milliseconds with one decimal.
bench_ms() {
  awk -v s="$1" 'BEGIN { printf "%.1f", s * 1000 }'
}

# bench_ratio A B: A/B with two decimals, or "n/a" when B is zero or empty.
bench_ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    if (b == "" || b + 0 == 0 || a == "") { print "n/a" } else { printf "%.2f", a / b } }'
}

# bench_le A B: true if A <= B (as numbers).
bench_le() {
  awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && b != "" && a + 0 <= b + 0) }'
}
