#!/usr/bin/env bash
# The Python suite on SQLite and on PostgreSQL side by side (`make test`): most of each run waits
# on real peers (SIP, Kannel, SMTP, timers), so two runs share two cores well and the suite takes
# about half the time. Each run has its own Redis database and log; both logs are printed whole,
# and the exit status is non-zero if either run failed. Tests that use no database run in one of
# the two only (HOTLINE_TEST_SPLIT, tests/conftest.py).
set -uo pipefail

: "${HOTLINE_TEST_DATABASE_URL:?HOTLINE_TEST_DATABASE_URL is not set (make test starts PostgreSQL)}"
: "${HOTLINE_TEST_REDIS_URL:?HOTLINE_TEST_REDIS_URL is not set (make test starts Redis)}"
logs="$(mktemp -d)"
redis_base="${HOTLINE_TEST_REDIS_URL%/*}"

HOTLINE_TEST_SPLIT=sqlite HOTLINE_TEST_REDIS_URL="$redis_base/1" make --no-print-directory test-sqlite >"$logs/sqlite.log" 2>&1 &
sqlite=$!
HOTLINE_TEST_SPLIT=postgres HOTLINE_TEST_REDIS_URL="$redis_base/2" make --no-print-directory test-postgres >"$logs/postgres.log" 2>&1 &
postgres=$!

wait "$sqlite"; sqlite_status=$?
wait "$postgres"; postgres_status=$?
for run in sqlite postgres; do
  echo "=================================================================== pytest on $run"
  cat "$logs/$run.log"
done
# What failed, last and on one line each (a CI report may show only the end of a long log).
for run in sqlite postgres; do
  grep -E '^(FAILED|ERROR) tests/' "$logs/$run.log" | cut -c1-240 | sed "s/^/$run: /"
done
echo "SQLite: exit $sqlite_status; PostgreSQL: exit $postgres_status"
rm -rf "$logs"
[ "$sqlite_status" = 0 ] && [ "$postgres_status" = 0 ]
