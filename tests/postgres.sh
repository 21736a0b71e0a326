#!/usr/bin/env bash
# Start or stop a throwaway PostgreSQL 15 for the test suite.
#   tests/postgres.sh start DIR   -> prints the SQLAlchemy URL on stdout
#   tests/postgres.sh stop DIR
# PostgreSQL refuses to run as root, so as root the server runs as `postgres`.
set -euo pipefail
cmd=$1 dir=$2
BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case $cmd in
start)
    if [ ! -x "$BIN/initdb" ]; then
        if [ "$(id -u)" = 0 ]; then
            echo "installing postgresql-15 ..." >&2
            (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15) >&2
        else
            echo "PostgreSQL 15 is missing: install postgresql-15 (apt) or set PG_BIN" >&2; exit 1
        fi
    fi
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_pg "$BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    # durability off: a test server loses nothing worth keeping, and is faster
    as_pg "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start -o \
        "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
         -c full_page_writes=off -c max_connections=300" >&2 || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
    ;;
stop)
    if [ -d "$dir/data" ]; then as_pg "$BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >&2 || true; fi
    rm -rf "$dir"
    ;;
esac
