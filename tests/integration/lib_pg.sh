# shellcheck shell=bash
# PostgreSQL for tests: a throw-away server in a temporary directory, on a
# free loopback port, with its unix socket beside its data. initdb and
# postgres refuse to run as root, so as root they run as an unprivileged
# user (PG_TEST_USER, default nobody).
#
#   source lib_pg.sh
#   pg_start "$TEST_TMP/pg" || skip...   # sets PG_URI, PG_PORT, PG_DIR
#   ... PG_URI is postgresql://bulkhead@127.0.0.1:PORT/postgres
#   pg_createdb NAME                     # prints the URI of a new database
#   pg_stop                              # also safe when nothing runs

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_DIR=""
PG_PORT=""
PG_URI=""
PG_PID=""
_PG_AS=()

# _pg_run CMD...: runs CMD as the server's user.
_pg_run() {
  "${_PG_AS[@]}" "$@"
}

# pg_start DIR: initdb + postgres under DIR; 0 when it accepts connections
# (within 30 s), 1 otherwise (with the server log on stderr).
pg_start() {
  PG_DIR="$1"
  if [ ! -x "$PG_BIN/initdb" ] || [ ! -x "$PG_BIN/postgres" ]; then
    echo "# PostgreSQL binaries not found in $PG_BIN" >&2
    return 1
  fi
  mkdir -p "$PG_DIR"
  _PG_AS=()
  if [ "$(id -u)" = 0 ]; then
    local user="${PG_TEST_USER:-nobody}"
    if ! id "$user" >/dev/null 2>&1; then
      useradd --system --no-create-home --shell /usr/sbin/nologin "$user" || return 1
    fi
    _PG_AS=(runuser -u "$user" --)
    chown -R "$user" "$PG_DIR"
    # The user must be able to reach PG_DIR through its parents (mktemp -d
    # makes 0700 directories): grant search, not read, but only inside the
    # test's own TEST_TMP, never on directories the test did not create.
    local d top="${TEST_TMP:-$(dirname "$PG_DIR")}"
    d="$(dirname "$PG_DIR")"
    while :; do
      chmod o+x "$d" 2>/dev/null
      [ "$d" = "$top" ] || [ "$d" = "/" ] || [ "${d#"$top"/}" = "$d" ] && break
      d="$(dirname "$d")"
    done
  fi
  if ! _pg_run "$PG_BIN/initdb" -D "$PG_DIR/data" -U bulkhead --auth=trust -E UTF8 \
      --no-sync >"$PG_DIR/initdb.log" 2>&1; then
    echo "# initdb failed:" >&2
    sed 's/^/#   /' "$PG_DIR/initdb.log" >&2
    return 1
  fi
  mkdir -p "$PG_DIR/sock"
  [ ${#_PG_AS[@]} -eq 0 ] || chown "${PG_TEST_USER:-nobody}" "$PG_DIR/sock"
  for _ in 1 2 3; do
    PG_PORT="$(python3 "$(dirname "${BASH_SOURCE[0]}")/freeport.py" 1)"
    _pg_run "$PG_BIN/postgres" -D "$PG_DIR/data" -h 127.0.0.1 -p "$PG_PORT" \
      -k "$PG_DIR/sock" -c fsync=off -c full_page_writes=off \
      -c synchronous_commit=off >"$PG_DIR/server.log" 2>&1 &
    PG_PID=$!
    local deadline=$((SECONDS + 30))
    while [ $SECONDS -lt $deadline ]; do
      if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U bulkhead -d postgres; then
        PG_URI="postgresql://bulkhead@127.0.0.1:$PG_PORT/postgres"
        export PG_URI PG_PORT PG_DIR
        return 0
      fi
      if ! kill -0 "$PG_PID" 2>/dev/null; then
        break  # Died (port taken?): try another port.
      fi
      sleep 0.1
    done
    kill -INT "$PG_PID" 2>/dev/null
    wait "$PG_PID" 2>/dev/null
    PG_PID=""
  done
  echo "# postgres did not start:" >&2
  sed 's/^/#   /' "$PG_DIR/server.log" >&2
  return 1
}

# pg_createdb NAME: creates database NAME and prints its URI.
pg_createdb() {
  "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U bulkhead "$1" || return 1
  echo "postgresql://bulkhead@127.0.0.1:$PG_PORT/$1"
}

# pg_stop: fast shutdown, waiting at most 20 s, then SIGKILL.
pg_stop() {
  [ -n "$PG_PID" ] || return 0
  # PG_PID may be runuser's; signal the postmaster itself.
  local pm
  pm="$(head -n 1 "$PG_DIR/data/postmaster.pid" 2>/dev/null)"
  [ -n "$pm" ] || pm="$PG_PID"
  kill -INT "$pm" 2>/dev/null
  local deadline=$((SECONDS + 20))
  while kill -0 "$PG_PID" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
    sleep 0.1
  done
  kill -KILL "$pm" "$PG_PID" 2>/dev/null
  wait "$PG_PID" 2>/dev/null
  PG_PID=""
}
