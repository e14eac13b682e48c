#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for tests: start | stop | status | url
#
#   start   initdb + start (idempotent: if it already runs, only prints the URL); prints the URL
#   stop    stops it and deletes its directory
#   status  exit 0 when this cluster is running
#   url     prints the URL (postgres://postgres@127.0.0.1:$TASKER_PG_PORT/tasker_test)
#
# Runs as the `postgres` OS user, listens on 127.0.0.1 only, trust auth (loopback only, so nothing else can
# reach it), fsync on (benchmarks measure durable commits). Environment: TASKER_PG_PORT (54329), TASKER_PG_DIR,
# TASKER_PG_BIN (/usr/lib/postgresql/15/bin). Run it as root (it switches to postgres) or as postgres.
set -euo pipefail

port=${TASKER_PG_PORT:-54329}
# Outside the checkout, in /tmp: the postgres user must be able to reach the data directory, and a clone may live
# under a private (0700) home directory, where no chmod of .tmp/ would help.
root=${TASKER_PG_DIR:-/tmp/tasker-pg-$port}
data=$root/data
bin=${TASKER_PG_BIN:-/usr/lib/postgresql/15/bin}
url="postgres://postgres@127.0.0.1:$port/tasker_test"
case "$root" in /?*) ;; *) echo "pg-test-cluster: TASKER_PG_DIR must be an absolute path" >&2; exit 2 ;; esac
# The postgres user may not be allowed into the caller's working directory (initdb and psql complain).
cd /

as_postgres() {
  if [ "$(id -un)" = postgres ]; then "$@"
  else runuser -u postgres -- "$@"
  fi
}

running() { [ -f "$data/PG_VERSION" ] && as_postgres "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; }

start() {
  [ -x "$bin/postgres" ] || { echo "pg-test-cluster: $bin/postgres not found (scripts/deps.sh installs postgresql-15)" >&2; exit 1; }
  # The postgresql package creates this user; a machine with only the binaries copied in may not have it.
  id postgres >/dev/null 2>&1 || useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres
  if ! running; then
    rm -rf "$root"   # a stale directory from a killed run
    mkdir -p "$root"
    chown postgres: "$root"
    chmod 700 "$root"
    as_postgres "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --no-locale >"$root/initdb.log" 2>&1 \
      || { cat "$root/initdb.log" >&2; exit 1; }
    # -w waits until the server accepts connections (or fails, e.g. when the port is taken).
    if ! as_postgres "$bin/pg_ctl" -D "$data" -l "$root/server.log" -w -t 60 start \
      -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on" >/dev/null; then
      cat "$root/server.log" >&2
      echo "pg-test-cluster: could not start on port $port (taken? set TASKER_PG_PORT)" >&2
      exit 1
    fi
    as_postgres "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -X -q -c "CREATE DATABASE tasker_test" postgres
  fi
  echo "$url"
}

stop() {
  if running; then
    # Immediate: the data is thrown away next, so there is nothing to flush.
    as_postgres "$bin/pg_ctl" -D "$data" -m immediate -w stop >/dev/null || true
  fi
  rm -rf "$root"
}

case "${1:-}" in
  start | stop | status) case "$(id -un)" in root | postgres) ;; *) echo "pg-test-cluster: run as root (or as postgres)" >&2; exit 1 ;; esac ;;
esac
case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) running ;;
  url) echo "$url" ;;
  *) echo "usage: $0 start|stop|status|url" >&2; exit 2 ;;
esac
