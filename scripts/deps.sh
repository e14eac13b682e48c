#!/usr/bin/env bash
# Installs the Debian packages the tests and examples need, only those missing (fast when all are present).
set -euo pipefail

packages=(
  postgresql-15 redis-server          # the PostgreSQL store tests; the queue adapters' Redis
  cmake libcjson-dev valgrind binutils # C examples and ABI tests (cJSON reads the conformance fixtures), nm
  ruby ruby-ffi ruby-rspec ruby-sidekiq ruby-redis            # Ruby binding + Sidekiq adapter
  python3-pytest python3-celery python3-redis python3-fastapi python3-httpx  # Python binding + Celery adapter
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && { echo "deps: all present"; exit 0; }

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "deps: installing ${missing[*]}"
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The postgresql package starts a system cluster on 5432; tests use their own throwaway cluster instead.
if command -v pg_lsclusters >/dev/null && pg_lsclusters -h 2>/dev/null | grep -q online; then
  $sudo pg_ctlcluster 15 main stop 2>/dev/null || true
fi
echo "deps: done"
