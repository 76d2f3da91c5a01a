#!/usr/bin/env bash
# bench/monitor.sh BULKHEAD_BIN
#
# `bulkhead monitor check` side by side with prometheus-blackbox-exporter
# (tcp prober with TLS), both on the same endpoints in the same run:
#
# (a) N loopback TLS endpoints (one nginx listening on N ports, EC P-256
#     leaf from a test CA that both trust): checks per second and CPU time
#     per check of the checking process alone. bulkhead's CPU is the rusage
#     of its process; blackbox_exporter's is utime+stime from
#     /proc/PID/stat before and after the run (the driver that sends it
#     /probe requests is not counted). Both at concurrency A_CONC.
# (b) SLOW_N slow endpoints (bench/monitor_slowtls.cc, compiled here with
#     g++: every connection waits 100 ms before the server takes part in the
#     TLS handshake) at concurrency SLOW_CONC: total time and peak RSS
#     (bulkhead: its maximum resident set; blackbox_exporter: VmHWM from
#     /proc/PID/status after the run).
#
# bulkhead runs with --no-tlsa: blackbox_exporter does no DNS, and the
# endpoints are IP literals whose TLSA names would go to the system resolver.
#
# Environment: N (default 2000), SLOW_N (10000), A_CONC (64), SLOW_CONC
# (1000), SLOW_THREADS (threads of the slow server, default 2),
# BENCH_KEEP=1 keeps the temporary directory.
# Smaller trial: N=200 SLOW_N=1000 SLOW_CONC=100 bench/monitor.sh build/bulkhead
set -euo pipefail

BENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=bench/lib_bench.sh
source "$BENCH_ROOT/bench/lib_bench.sh"

[ $# -eq 1 ] || { echo "usage: bench/monitor.sh BULKHEAD_BIN" >&2; exit 2; }
[ -x "$1" ] || bench_die "bulkhead binary $1 is not executable (build it first)"
BH="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
N="${N:-2000}"
SLOW_N="${SLOW_N:-10000}"
A_CONC="${A_CONC:-64}"
SLOW_CONC="${SLOW_CONC:-1000}"
SLOW_THREADS="${SLOW_THREADS:-2}"
bench_need_pkgs time || bench_die "could not install time"

T="$(mktemp -d)"
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do
    kill "$p" 2>/dev/null || true
  done
  [ -f "$T/nginx/nginx.pid" ] && kill "$(cat "$T/nginx/nginx.pid")" 2>/dev/null || true
  if [ -n "${BENCH_KEEP:-}" ]; then
    bench_say "kept $T"
  else
    rm -rf "$T"
  fi
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)"

# --- certificates and nginx ---------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/ca.key" \
  -subj "/CN=Bench Root" -days 30 -out "$T/ca.pem" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/leaf.key" \
  -subj "/CN=bench.test" -out "$T/leaf.csr" 2>/dev/null
printf 'subjectAltName=DNS:bench.test\nextendedKeyUsage=serverAuth\n' >"$T/ext"
openssl x509 -req -in "$T/leaf.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
  -days 20 -extfile "$T/ext" -out "$T/leaf.pem" 2>/dev/null

python3 "$BENCH_ROOT/tests/integration/freeport.py" $((N + 2)) >"$T/ports"
mapfile -t PORTS <"$T/ports"
BB_PORT="${PORTS[$N]}"
SLOW_BACKEND="${PORTS[$((N + 1))]}"
printf '127.0.0.1:%s\n' "${PORTS[@]:0:$N}" >"$T/targets_a"

mkdir -p "$T/nginx/tmp" "$T/nginx/logs"
{
  cat <<EOF
worker_processes 2;
worker_rlimit_nofile 65536;
pid $T/nginx/nginx.pid;
error_log $T/nginx/logs/error.log crit;
events { worker_connections 16384; }
http {
  access_log off;
  client_body_temp_path $T/nginx/tmp/cb;
  proxy_temp_path $T/nginx/tmp/p;
  fastcgi_temp_path $T/nginx/tmp/f;
  uwsgi_temp_path $T/nginx/tmp/u;
  scgi_temp_path $T/nginx/tmp/s;
  ssl_protocols TLSv1.3;
  ssl_certificate $T/leaf.pem;
  ssl_certificate_key $T/leaf.key;
  ssl_session_tickets off;
  server {
    listen 127.0.0.1:$SLOW_BACKEND ssl backlog=4096;
EOF
  for p in "${PORTS[@]:0:$N}"; do
    echo "    listen 127.0.0.1:$p ssl;"
  done
  echo "  }"
  echo "}"
} >"$T/nginx/nginx.conf"
nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" || bench_die "nginx did not start"

cat >"$T/bb.yml" <<EOF
modules:
  tls:
    prober: tcp
    timeout: 30s
    tcp:
      tls: true
      tls_config:
        ca_file: $T/ca.pem
        server_name: bench.test
EOF
prometheus-blackbox-exporter --config.file="$T/bb.yml" --web.listen-address="127.0.0.1:$BB_PORT" \
  --log.level=error >"$T/bb.log" 2>&1 &
BB_PID=$!
PIDS+=("$BB_PID")

wait_port() {
  local deadline=$((SECONDS + 60))
  until python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$1" 2>/dev/null; do
    [ $SECONDS -lt "$deadline" ] || bench_die "nothing listens on $1"
    sleep 0.1
  done
}
wait_port "$BB_PORT"
wait_port "${PORTS[0]}"

# cpu_ticks PID: utime+stime of PID in seconds.
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($12 + $13) / hz }' "/proc/$1/stat"
}

# run_bh NAME TARGETS CONC: bulkhead over TARGETS; sets BH_WALL BH_CPU BH_RSS BH_OK.
run_bh() {
  bench_measure "$T/$1" "$BH" --state-dir "$T/state" --ca-bundle "$T/ca.pem" monitor check \
    --targets-file "$2" --sni bench.test --concurrency "$3" --timeout 30 --no-tlsa --json || true
  read -r BH_WALL u s BH_RSS _ <"$T/$1.time"
  BH_CPU="$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')"
  BH_OK="$(grep -c '"state": "PLAN"' "$T/$1.out" || true)"
}

# run_bb TARGETS CONC: blackbox over TARGETS; sets BB_WALL BB_CPU BB_RSS BB_OK.
run_bb() {
  local before after out
  before="$(cpu_seconds "$BB_PID")"
  out="$(python3 "$BENCH_ROOT/bench/monitor_drive_bb.py" "$BB_PORT" tls "$2" "$1")"
  after="$(cpu_seconds "$BB_PID")"
  read -r _ BB_OK _ BB_WALL <<<"$out"
  BB_CPU="$(awk -v a="$after" -v b="$before" 'BEGIN { print a - b }')"
  BB_RSS="$(awk '/^VmHWM:/ { print $2 }' "/proc/$BB_PID/status")"
}

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
# Warm-up: page cache, and blackbox_exporter's first requests.
head -n 20 "$T/targets_a" >"$T/warm"
run_bh warm "$T/warm" 4
run_bb "$T/warm" 4

bench_say "(a) $N loopback endpoints, concurrency $A_CONC"
run_bh a "$T/targets_a" "$A_CONC"
run_bb "$T/targets_a" "$A_CONC"
a_bh_rate="$(awk -v n="$N" -v w="$BH_WALL" 'BEGIN { printf "%.0f", n / w }')"
a_bb_rate="$(awk -v n="$N" -v w="$BB_WALL" 'BEGIN { printf "%.0f", n / w }')"
a_bh_cpu="$(awk -v n="$N" -v c="$BH_CPU" 'BEGIN { printf "%.3f", c * 1000 / n }')"
a_bb_cpu="$(awk -v n="$N" -v c="$BB_CPU" 'BEGIN { printf "%.3f", c * 1000 / n }')"
a_bh_ok="$BH_OK"
a_bb_ok="$BB_OK"

bench_say "(b) $SLOW_N slow endpoints, concurrency $SLOW_CONC"
g++ -O2 -std=c++20 -DASIO_STANDALONE -o "$T/slowtls" "$BENCH_ROOT/bench/monitor_slowtls.cc" \
  -lssl -lcrypto -pthread || bench_die "cannot build bench/monitor_slowtls.cc"
"$T/slowtls" "$SLOW_N" "$T/leaf.pem" "$T/leaf.key" "$T/slow_ports" "$SLOW_THREADS" 100 \
  2>"$T/slow.err" &
PIDS+=($!)
deadline=$((SECONDS + 120))
until [ -s "$T/slow_ports" ]; do
  [ $SECONDS -lt $deadline ] || bench_die "slow server did not start: $(cat "$T/slow.err")"
  sleep 0.2
done
sed 's/^/127.0.0.1:/' "$T/slow_ports" >"$T/targets_b"
run_bh b "$T/targets_b" "$SLOW_CONC"
b_bh=("$BH_WALL" "$BH_RSS" "$BH_OK")
# blackbox_exporter's peak RSS so far is from (a) at concurrency A_CONC, which
# is lower; VmHWM only grows, so the figure after (b) is (b)'s peak.
run_bb "$T/targets_b" "$SLOW_CONC"
b_bb=("$BB_WALL" "$BB_RSS" "$BB_OK")

echo
echo "machine: $(nproc) cores, load average before/after: $LOAD_BEFORE / $(cut -d' ' -f1-3 /proc/loadavg)"
bound="$(awk -v n="$SLOW_N" -v c="$SLOW_CONC" 'BEGIN { printf "%.2f", n * 0.1 / c }')"
echo
echo "(a) $N loopback TLS endpoints, concurrency $A_CONC"
printf '%-22s %12s %14s %8s\n' "" "checks/s" "CPU ms/check" "ok"
printf '%-22s %12s %14s %8s\n' bulkhead "$a_bh_rate" "$a_bh_cpu" "$a_bh_ok"
printf '%-22s %12s %14s %8s\n' blackbox_exporter "$a_bb_rate" "$a_bb_cpu" "$a_bb_ok"
echo "ratios bulkhead/blackbox: rate $(bench_ratio "$a_bh_rate" "$a_bb_rate") (target >= 1)," \
  "CPU/check $(bench_ratio "$a_bh_cpu" "$a_bb_cpu") (target <= 0.25)"
echo
echo "(b) $SLOW_N endpoints delayed 100 ms, concurrency $SLOW_CONC (bound ${bound} s)"
printf '%-22s %12s %14s %8s\n' "" "total s" "peak RSS MB" "ok"
printf '%-22s %12.2f %14.1f %8s\n' bulkhead "${b_bh[0]}" "$(awk -v k="${b_bh[1]}" 'BEGIN{print k/1024}')" "${b_bh[2]}"
printf '%-22s %12.2f %14.1f %8s\n' blackbox_exporter "${b_bb[0]}" "$(awk -v k="${b_bb[1]}" 'BEGIN{print k/1024}')" "${b_bb[2]}"
echo "ratios bulkhead/blackbox: time $(bench_ratio "${b_bh[0]}" "${b_bb[0]}")," \
  "peak RSS $(bench_ratio "${b_bh[1]}" "${b_bb[1]}") (target <= 1)"
