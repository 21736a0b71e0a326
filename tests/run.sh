#!/usr/bin/env bash
# The whole suite, twice: on SQLite, then on a throwaway PostgreSQL 15.
# The server is stopped however the run ends. Exit 5 (no tests) is a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
PGDIR=$(mktemp -d /tmp/fuwu-pg.XXXXXX)
trap 'tests/postgres.sh stop "$PGDIR"' EXIT

workers=${FUWU_TEST_WORKERS:-auto}
status=0
echo "=== SQLite ==="
"$PY" -m pytest -n "$workers" "$@" || status=$?
[ $status -eq 5 ] && { echo "no tests ran on SQLite" >&2; exit 1; }

echo "=== PostgreSQL 15 ==="
if ! url=$(tests/postgres.sh start "$PGDIR"); then
    echo "could not start PostgreSQL: the PostgreSQL run is required" >&2
    exit 1
fi
pg_status=0
FUWU_TEST_DATABASE_URL=$url "$PY" -m pytest -n "$workers" "$@" || pg_status=$?
[ $pg_status -eq 5 ] && { echo "no tests ran on PostgreSQL" >&2; exit 1; }
[ $status -ne 0 ] && exit $status
exit $pg_status
