# Sourced by .ci/run: install PostgreSQL from Debian if missing, start a private cluster on
# 127.0.0.1 and export MLISSUES_TEST_PG_URL for the tests. If that fails, say so loudly and go on:
# the PostgreSQL tests then show as skipped, and the SQLite tests still run.
PG_PORT=${PG_PORT:-54329}
PG_DIR=$(mktemp -d /tmp/mlissues-pg.XXXXXX)

pg_bin_dir() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

as_postgres() {
  # initdb refuses to run as root; CI runs as root.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
  if [ -z "$(pg_bin_dir)" ]; then
    echo "installing PostgreSQL from Debian packages"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null \
      || return 1
  fi
  PG_BIN=$(pg_bin_dir)
  if [ "$(id -u)" = 0 ]; then chown postgres "$PG_DIR" || return 1; fi
  as_postgres "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 >/dev/null || return 1
  as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w start \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $PG_DIR -c fsync=off" >/dev/null || return 1
  as_postgres "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres mlissues_test || return 1
  export MLISSUES_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/mlissues_test"
  echo "PostgreSQL running for the tests at $MLISSUES_TEST_PG_URL"
}

stop_postgres() {
  if [ -n "${PG_BIN:-}" ]; then
    as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null 2>&1 || true
  fi
  rm -rf "$PG_DIR"
}

if ! start_postgres; then
  echo "WARNING: PostgreSQL could not be installed or started; its tests will be skipped" >&2
  [ -f "$PG_DIR/log" ] && tail -n 20 "$PG_DIR/log" >&2
fi
