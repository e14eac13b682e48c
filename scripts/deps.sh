#!/usr/bin/env bash
# Installs the Debian packages the tests and examples need, only those missing: when everything is present it
# only runs dpkg-query, so `./build.sh test` can call it every time. apt-get update runs only before an install.
set -euo pipefail

# All of these exist in Debian 12 (bookworm) main; checked with apt-cache policy. Any a future release drops is
# skipped with a warning below rather than failing the whole install.
packages=(
  redis-server                          # the queue adapters' Redis (redis-server, redis-cli)
  cmake libcjson-dev valgrind binutils  # C example and ABI tests (cJSON reads the conformance fixtures), nm for parity
  ruby ruby-ffi ruby-rspec ruby-sidekiq ruby-redis ruby-railties            # Ruby binding + Sidekiq adapter + Rails example
  python3-pytest python3-celery python3-redis python3-fastapi python3-httpx  # Python binding + Celery/FastAPI
)
# PostgreSQL 15 is needed as binaries only (scripts/pg-test-cluster.sh runs its own cluster); any package that
# provides them will do.
[ -x /usr/lib/postgresql/15/bin/postgres ] || packages+=(postgresql-15)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# Not Debian packages here (Debian 12 has no .NET SDK and only Node 18): say so instead of failing later.
for tool in dotnet node npm; do
  command -v "$tool" >/dev/null || echo "deps: warning: $tool is not on PATH (needs the .NET 10 SDK and Node 20 with npm)" >&2
done

missing=()
for p in "${packages[@]}"; do installed "$p" || missing+=("$p"); done
if [ ${#missing[@]} -eq 0 ]; then echo "deps: all present"; exit 0; fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps: missing ${missing[*]}; run as root or install sudo" >&2; exit 1; }
  sudo=(sudo)
fi
apt_get() { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "$@"; }

echo "deps: installing ${missing[*]}"
apt_get update -qq
available=()
for p in "${missing[@]}"; do
  if apt-cache policy "$p" 2>/dev/null | grep -q 'Candidate: [^(]'; then
    available+=("$p")
  else
    echo "deps: warning: $p is not available from apt; skipping it (tests that need it will fail)" >&2
  fi
done
if [ ${#available[@]} -gt 0 ]; then
  apt_get install -y -qq --no-install-recommends "${available[@]}" >/dev/null
fi

# The postgresql package creates and starts a system cluster on 5432; the tests use their own throwaway cluster,
# so stop that one rather than leave a second server competing for the 2 cores.
if command -v pg_lsclusters >/dev/null && pg_lsclusters -h 2>/dev/null | awk '$1 == 15 && $2 == "main" && $4 == "online" { f = 1 } END { exit !f }'; then
  "${sudo[@]}" pg_ctlcluster 15 main stop 2>/dev/null || true
fi
echo "deps: done"
