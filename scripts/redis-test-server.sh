#!/usr/bin/env bash
# A throwaway Redis for the queue-adapter tests: start | stop | status | url
#
#   start   starts redis-server daemonized (idempotent: if one answers on the port, only prints the URL); prints the URL
#   stop    shuts it down and deletes its directory
#   status  exit 0 when a Redis answers on the port
#   url     prints the URL (redis://127.0.0.1:$TASKER_REDIS_PORT/0)
#
# Loopback only, no persistence (no RDB snapshots, no AOF). Environment: TASKER_REDIS_PORT (63799), TASKER_TMP
# (<repo>/.tmp; the pid file and log go to $TASKER_TMP/redis).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
port=${TASKER_REDIS_PORT:-63799}
dir=${TASKER_TMP:-$repo/.tmp}/redis
url="redis://127.0.0.1:$port/0"

running() { redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; }

start() {
  command -v redis-server >/dev/null || { echo "redis-test-server: redis-server not installed (scripts/deps.sh)" >&2; exit 1; }
  if ! running; then
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)   # redis-server changes into --dir before it writes the pid file and log
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
      --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir"
    for _ in $(seq 50); do running && break; sleep 0.1; done
    running || { cat "$dir/redis.log" >&2; echo "redis-test-server: could not start on port $port" >&2; exit 1; }
  fi
  echo "$url"
}

stop() {
  redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 || true
  # Not answering (hung, or still starting): fall back to the pid file.
  if [ -f "$dir/redis.pid" ] && kill -0 "$(cat "$dir/redis.pid")" 2>/dev/null; then
    kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) running ;;
  url) echo "$url" ;;
  *) echo "usage: $0 start|stop|status|url" >&2; exit 2 ;;
esac
