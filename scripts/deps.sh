#!/usr/bin/env bash
# Installs the Debian packages the tests and examples need, only those missing: when everything is present it
# only runs dpkg-query, so `./build.sh test` can call it every time. apt-get update runs only before an install.
#
#   scripts/deps.sh          install what is missing
#   scripts/deps.sh --plan   print what is missing and what would be installed; change nothing
#
# scripts/tests/deps_test.sh runs it against fake dpkg-query, apt-cache and apt-get on PATH.
set -euo pipefail

plan=0
case "${1:-}" in
  --plan) plan=1 ;;
  "") ;;
  *) echo "usage: scripts/deps.sh [--plan]" >&2; exit 2 ;;
esac

# All of these exist in Debian 12 (bookworm) main. One a future release drops is skipped with a warning below
# rather than failing the whole install.
packages=(
  redis-server                          # the queue adapters' Redis (redis-server, redis-cli)
  cmake libcjson-dev valgrind binutils  # C example and ABI tests (cJSON reads the conformance fixtures), nm for parity
  ruby ruby-ffi ruby-rspec ruby-sidekiq ruby-redis ruby-railties            # Ruby binding + Sidekiq adapter + Rails example
  ruby-activerecord ruby-sqlite3        # the Rails app test: ActiveRecord queries in handlers, a small pool
  python3-pytest python3-celery python3-redis python3-fastapi python3-httpx  # Python binding + Celery/FastAPI
  python3-venv python3-pip python3-setuptools ruby-bundler pkg-config  # dist_test: venv + pip (wheel, sdist), Bundler, the C bundle's .pc
  chromium                              # the dashboard's browser test (headless; tests/browser)
)
# PostgreSQL 15 is needed as binaries only (scripts/pg-test-cluster.sh runs its own cluster); any package that
# provides them will do.
pg_bin=${TASKER_PG_BIN:-/usr/lib/postgresql/15/bin}
[ -x "$pg_bin/postgres" ] || packages+=(postgresql-15)

# No pipes into `grep -q` here: under pipefail, grep exiting at its first match kills the writer with SIGPIPE
# (exit 141) and the whole test reads as false. Capture the output, then match it.
installed() {
  local status
  status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
  [ "$status" = "install ok installed" ]
}
available() {
  local policy
  policy=$(apt-cache policy "$1" 2>/dev/null) || return 1
  [[ $policy =~ Candidate:\ ([^[:space:]]+) ]] && [ "${BASH_REMATCH[1]}" != "(none)" ]
}

# Not Debian packages here (Debian 12 has no .NET SDK and only Node 18): say so instead of failing later.
for tool in dotnet node npm; do
  command -v "$tool" >/dev/null || echo "deps: warning: $tool is not on PATH (needs the .NET 10 SDK and Node 20 with npm)" >&2
done

missing=()
for p in "${packages[@]}"; do installed "$p" || missing+=("$p"); done
if [ ${#missing[@]} -eq 0 ]; then echo "deps: all ${#packages[@]} packages present"; exit 0; fi
echo "deps: missing ${#missing[@]} of ${#packages[@]} packages: ${missing[*]}"
if [ "$plan" = 1 ]; then
  echo "deps: plan: apt-get update, then apt-get install --no-install-recommends ${missing[*]}"
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps: run as root or install sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
apt_get() { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "$@"; }

echo "deps: apt-get update"
apt_get update -qq
to_install=()
for p in "${missing[@]}"; do
  if available "$p"; then
    to_install+=("$p")
  else
    echo "deps: warning: $p is not available from apt; skipping it (tests that need it will fail)" >&2
  fi
done
if [ ${#to_install[@]} -gt 0 ]; then
  echo "deps: installing ${to_install[*]} (and their dependencies)"
  apt_get install -y -qq --no-install-recommends "${to_install[@]}" >/dev/null
fi

# Say plainly what is still absent after the install, rather than let a test fail later for an unclear reason.
still_missing=()
for p in "${missing[@]}"; do installed "$p" || still_missing+=("$p"); done
if [ ${#still_missing[@]} -gt 0 ]; then
  echo "deps: warning: still missing after the install: ${still_missing[*]}" >&2
fi

# The postgresql package creates and starts a system cluster on 5432; the tests use their own throwaway cluster,
# so stop that one rather than leave a second server competing for the 2 cores.
if command -v pg_lsclusters >/dev/null; then
  clusters=$(pg_lsclusters -h 2>/dev/null || true)
  if awk '$1 == 15 && $2 == "main" && $4 == "online" { f = 1 } END { exit !f }' <<<"$clusters"; then
    "${sudo[@]}" pg_ctlcluster 15 main stop 2>/dev/null || true
  fi
fi
echo "deps: installed $((${#missing[@]} - ${#still_missing[@]})) of ${#missing[@]} missing packages"
