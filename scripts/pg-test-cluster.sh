#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for tests: start | stop | url
# Runs as the `postgres` OS user, listens on 127.0.0.1 only, trust auth on loopback, fsync on (benchmarks measure
# durable commits). `start` is idempotent and prints the URL; `stop` also deletes the data directory.
set -euo pipefail

port=${TASKER_PG_PORT:-54329}
# Outside the checkout: the postgres user must reach the data directory, and a clone may live under a private
# home directory (0700).
root=${TASKER_PG_DIR:-/tmp/tasker-pg-$port}
data=$root/data
bin=${TASKER_PG_BIN:-/usr/lib/postgresql/15/bin}
url="postgres://postgres@127.0.0.1:$port/tasker_test"

as_postgres() {
  if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi
}

running() { as_postgres "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; }

start() {
  [ -x "$bin/postgres" ] || { echo "pg-test-cluster: $bin/postgres not found (install postgresql-15)" >&2; exit 1; }
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
  if ! running; then
    rm -rf "$root"
    mkdir -p "$root"
    chown postgres "$root"
    as_postgres "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --no-locale >"$root/initdb.log" 2>&1 \
      || { cat "$root/initdb.log" >&2; exit 1; }
    as_postgres "$bin/pg_ctl" -D "$data" -l "$root/server.log" -w -t 60 start \
      -o "-p $port -k $root -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on" >/dev/null \
      || { cat "$root/server.log" >&2; exit 1; }
    as_postgres "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -q -c "CREATE DATABASE tasker_test" postgres
  fi
  echo "$url"
}

stop() {
  if [ -d "$data" ] && running; then
    as_postgres "$bin/pg_ctl" -D "$data" -m immediate -w stop >/dev/null || true
  fi
  rm -rf "$root"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) echo "$url" ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
