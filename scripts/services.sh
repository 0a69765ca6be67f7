#!/usr/bin/env bash
# Throwaway PostgreSQL and Redis on loopback for the test suite.
#   scripts/services.sh start   -> prints the env vars to export
#   scripts/services.sh stop
set -euo pipefail

BASE="${HOTLINE_SERVICES_DIR:-/tmp/hotline-test-services}"
PG_PORT="${HOTLINE_TEST_PG_PORT:-55432}"
REDIS_PORT="${HOTLINE_TEST_REDIS_PORT:-56379}"
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"

as_pg() {
  # PostgreSQL refuses to run as root.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  mkdir -p "$BASE"
  chmod 777 "$BASE"
  if ! as_pg "$PG_BIN/pg_ctl" -D "$BASE/pg" status >/dev/null 2>&1; then
    rm -rf "$BASE/pg"
    as_pg "$PG_BIN/initdb" -D "$BASE/pg" -A trust -U hotline -E UTF8 --no-locale >/dev/null
    as_pg "$PG_BIN/pg_ctl" -D "$BASE/pg" -l "$BASE/pg.log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $BASE -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null
    as_pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U hotline hotline_test
  fi
  if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
      --daemonize yes --logfile "$BASE/redis.log" --dir "$BASE"
    for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  fi
  echo "export HOTLINE_TEST_DATABASE_URL=postgresql+asyncpg://hotline@127.0.0.1:$PG_PORT/hotline_test"
  echo "export HOTLINE_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
}

stop() {
  as_pg "$PG_BIN/pg_ctl" -D "$BASE/pg" -m fast stop >/dev/null 2>&1 || true
  redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
