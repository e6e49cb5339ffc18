# Sourced by .ci/run: install PostgreSQL from Debian if missing, start a private cluster on
# 127.0.0.1 and export MLISSUES_TEST_PG_URL for the tests.
PG_PORT=${PG_PORT:-54329}
PG_DIR=$(mktemp -d /tmp/mlissues-pg.XXXXXX)

pg_bin_dir() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

if [ -z "$(pg_bin_dir)" ]; then
  echo "installing PostgreSQL from Debian packages"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
PG_BIN=$(pg_bin_dir)

as_postgres() {
  # initdb refuses to run as root; CI runs as root.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

[ "$(id -u)" = 0 ] && chown postgres "$PG_DIR"
as_postgres "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 >/dev/null
as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w start \
  -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $PG_DIR -c fsync=off" >/dev/null
as_postgres "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres mlissues_test
export MLISSUES_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/mlissues_test"
echo "PostgreSQL running for the tests at $MLISSUES_TEST_PG_URL"

stop_postgres() {
  as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}
