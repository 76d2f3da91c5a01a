# shellcheck shell=bash
# Knot DNS helpers for the integration tests: an unprivileged knotd,
# authoritative for one test zone on a free loopback port, that accepts
# RFC 2136 updates signed with a generated TSIG key (hmac-sha256).
#
# Usage (after sourcing lib.sh):
#   source tests/integration/lib_knot.sh
#   knot_start "$TEST_TMP/knot" example.test "www 60 A 127.0.0.1"
#   kdig @127.0.0.1 -p "$(knot_port "$TEST_TMP/knot")" example.test SOA
#   knot_stop "$TEST_TMP/knot"
#
# knot_start DIR ZONE [RECORD...]: writes everything into DIR (config, zone
# file, databases, control socket), starts knotd and waits until it answers
# for ZONE. RECORDs are zone-file lines relative to ZONE. Files left in DIR:
#   port            the DNS port (UDP and TCP, 127.0.0.1)
#   tsig.key        the key in BIND/Knot format: key "acme-update" {...};
#   tsig.secret     the base64 secret alone
#   knotd.log       knotd's log
# Everything started is stopped by knot_stop DIR (also safe if never
# started); lab_knot_cleanup stops every instance under TEST_TMP.

KNOT_KEY_NAME="acme-update"

_knot_say() {
  echo "knot: $*" >&2
}

# _knot_write DIR ZONE PORT RECORD...
_knot_write() {
  local dir="$1" zone="$2" port="$3"
  shift 3
  mkdir -p "$dir/db" "$dir/zones"
  local secret
  secret="$(openssl rand -base64 32)"
  printf '%s\n' "$secret" >"$dir/tsig.secret"
  cat >"$dir/tsig.key" <<EOK
key "$KNOT_KEY_NAME" {
	algorithm hmac-sha256;
	secret "$secret";
};
EOK
  cat >"$dir/knot.conf" <<EOC
server:
    rundir: "$dir"
    pidfile: "$dir/knotd.pid"
    listen: 127.0.0.1@$port
database:
    storage: "$dir/db"
control:
    listen: "$dir/knot.sock"
log:
  - target: stderr
    any: info
key:
  - id: $KNOT_KEY_NAME
    algorithm: hmac-sha256
    secret: $secret
acl:
  - id: update
    key: $KNOT_KEY_NAME
    action: update
template:
  - id: default
    storage: "$dir/zones"
    file: "%s.zone"
    zonefile-sync: -1
zone:
  - domain: $zone
    acl: update
EOC
  {
    echo "\$ORIGIN $zone."
    echo "\$TTL 60"
    echo "@ SOA ns1 hostmaster 1 3600 600 86400 60"
    echo "@ NS ns1"
    echo "ns1 A 127.0.0.1"
    echo "@ A 127.0.0.1"
    local r
    for r in "$@"; do
      echo "$r"
    done
  } >"$dir/zones/$zone.zone"
  echo "$zone" >"$dir/zone"
}

# knot_port DIR: the DNS port of the instance in DIR.
knot_port() {
  cat "$1/port"
}

# knot_addr DIR: 127.0.0.1:PORT of the instance in DIR.
knot_addr() {
  echo "127.0.0.1:$(knot_port "$1")"
}

knot_start() {
  local dir="${1:?knot_start DIR ZONE [RECORD...]}" zone="${2:?zone}"
  shift 2
  mkdir -p "$dir" || return 1
  dir="$(cd "$dir" && pwd)"
  local attempt port
  for attempt in 1 2 3; do
    port="$(python3 "$LAB_LIB_DIR/freeport.py" 1)" || return 1
    _knot_write "$dir" "$zone" "$port" "$@" || return 1
    echo "$port" >"$dir/port"
    rm -f "$dir/spawn.pid"
    (
      # shellcheck disable=SC2016  # $$ and $@ belong to the inner bash
      setsid bash -c 'echo $$ > "$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' \
        "$dir/spawn.pid" knotd -c "$dir/knot.conf" </dev/null >"$dir/knotd.log" 2>&1 &
    )
    local deadline=$((SECONDS + ${LAB_START_TIMEOUT:-30}))
    while [ ! -s "$dir/spawn.pid" ] && [ "$SECONDS" -lt "$deadline" ]; do
      sleep 0.02
    done
    local pid
    pid="$(cat "$dir/spawn.pid" 2>/dev/null)"
    while [ -n "$pid" ] && [ "$SECONDS" -lt "$deadline" ]; do
      if kdig +time=1 +retry=0 +short @127.0.0.1 -p "$port" "$zone" SOA 2>/dev/null | grep -q hostmaster; then
        return 0
      fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    _knot_say "knotd did not come up on port $port (attempt $attempt); last lines of $dir/knotd.log:"
    tail -n 10 "$dir/knotd.log" >&2
    knot_stop "$dir"
  done
  return 1
}

knot_stop() {
  local dir="${1:?knot_stop DIR}" pid deadline
  [ -s "$dir/spawn.pid" ] || return 0
  pid="$(cat "$dir/spawn.pid")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 10))
    while kill -0 "$pid" 2>/dev/null; do
      if [ "$SECONDS" -ge "$deadline" ]; then
        kill -KILL -- "-$pid" 2>/dev/null || true
        deadline=$((SECONDS + 10))
      fi
      sleep 0.02
    done
  fi
  rm -f "$dir/spawn.pid"
}

# knot_update DIR COMMAND...: sends one signed update to the instance in
# DIR; each COMMAND is a knsupdate line ("update add NAME TTL TXT \"v\"").
knot_update() {
  local dir="$1"
  shift
  {
    echo "server 127.0.0.1 $(knot_port "$dir")"
    echo "zone $(cat "$dir/zone")."
    printf '%s\n' "$@"
    echo "send"
  } | knsupdate -y "hmac-sha256:$KNOT_KEY_NAME:$(cat "$dir/tsig.secret")"
}

# knot_txt DIR NAME: the TXT strings the instance in DIR serves at NAME,
# one per line, sorted, without quotes.
knot_txt() {
  kdig +time=2 +retry=0 +short @127.0.0.1 -p "$(knot_port "$1")" "$2" TXT 2>/dev/null |
    tr -d '"' | sort
}

# lab_knot_cleanup: stops every Knot instance started under TEST_TMP.
lab_knot_cleanup() {
  local d
  for d in "$TEST_TMP"/*/; do
    [ -f "$d/knot.conf" ] && knot_stop "$d"
  done
  return 0
}
