#!/usr/bin/env bash
# A throwaway Redis for the queue-adapter tests: start | stop | url. No persistence, loopback only.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
port=${TASKER_REDIS_PORT:-63799}
dir=${TASKER_TMP:-$repo/.tmp}/redis
url="redis://127.0.0.1:$port/0"

case "${1:-}" in
  start)
    command -v redis-server >/dev/null || { echo "redis-test-server: redis-server not installed" >&2; exit 1; }
    if ! redis-cli -p "$port" ping >/dev/null 2>&1; then
      mkdir -p "$dir"
      redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
        --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir"
      for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
      redis-cli -p "$port" ping >/dev/null || { cat "$dir/redis.log" >&2; exit 1; }
    fi
    echo "$url" ;;
  stop)
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
    rm -rf "$dir" ;;
  url) echo "$url" ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
