#!/usr/bin/env bash
# Tasker Native build entry point. `./build.sh help` lists the commands.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

RID=${TASKER_RID:-linux-x64}
LIB_DIR=artifacts/lib/$RID
case "$RID" in
  osx-*) LIB_NAME=libtasker.dylib ;;
  win-*) LIB_NAME=tasker.dll ;;
  *) LIB_NAME=libtasker.so ;;
esac
LIB=$LIB_DIR/$LIB_NAME
BIN_DIR=artifacts/bin/$RID
case "$RID" in win-*) CLI=$BIN_DIR/tasker.exe ;; *) CLI=$BIN_DIR/tasker ;; esac

section() { printf '\n==> %s\n' "$*"; }

usage() {
  cat <<'TXT'
usage: ./build.sh <command> [args]

  demo      run the order-fulfillment example on the embedded memory store (every language available)
  test      install test dependencies, start throwaway PostgreSQL and Redis, run every test suite
  build     build the .NET solution (Release)
  native    publish libtasker (NativeAOT) to artifacts/lib/<rid>/ and copy it into the bindings
  cli       publish the `tasker` operator command (NativeAOT) to artifacts/bin/<rid>/tasker
  ctest     build the C examples and run the C ABI tests (CTest); publishes libtasker first if needed
  parity    check the header, the C# exports, the library's symbols and the bindings agree
  dist      build the packages (Python wheel + sdist, gems, npm packages, C bundle with bin/tasker) into dist/, with SHA256SUMS
  bench     run the C# benchmarks (extra args go to BenchmarkDotNet, e.g. --filter '*' --job short)
  migrate   apply the PostgreSQL migrations to TASKER_DATABASE_URL or DATABASE_URL (extra args, e.g. --schema S)
  deps      install missing Debian packages the tests need
  clean     remove build outputs (artifacts/, build/, .tmp/, dist/)

environment:
  TASKER_RID            runtime identifier for native (default linux-x64; osx-* gives libtasker.dylib)
  FORCE=1               native, cli: publish even when up to date
  TASKER_TEST_DATABASE_URL, TASKER_TEST_REDIS_URL
                        test: use these servers instead of starting throwaway ones
  TASKER_PG_PORT, TASKER_REDIS_PORT
                        test: ports of the throwaway servers (default 54329, 63799)
  TASKER_KEEP_SERVERS=1 test: leave the throwaway servers running afterwards
TXT
}

cmd_build() {
  section "dotnet build"
  dotnet build TaskerNative.sln -c Release --nologo -v quiet
}

# True when some input of $1 (anything under src/ but build outputs, or the shared props) is newer than it.
native_stale() {
  local LIB=${1:-$LIB}
  [ -f "$LIB" ] || return 0
  local inputs=(src include/tasker.h VERSION)  # the header gives the SONAME's ABI version, VERSION tasker_version()
  for f in Directory.Build.props Directory.Packages.props global.json; do [ -f "$f" ] && inputs+=("$f"); done
  [ -n "$(find "${inputs[@]}" \( -name bin -o -name obj \) -prune -o -type f -newer "$LIB" -print | head -n 1)" ]
}

cmd_native() {
  # The AOT publish takes about a minute: skip it when nothing changed.
  if [ "${FORCE:-0}" = 1 ] || native_stale; then
    section "publish libtasker ($RID)"
    dotnet publish src/Tasker.Native/Tasker.Native.csproj -c Release -r "$RID" -o "$LIB_DIR" --nologo -v quiet
  else
    echo "libtasker is up to date: $LIB"
  fi
  # Each binding can also load the library from inside its own package.
  local dest
  for dest in bindings/python/src/tasker/_native bindings/ruby/lib/tasker/native bindings/node/native; do
    if [ -d "$(dirname "$dest")" ]; then
      mkdir -p "$dest"
      cp "$LIB" "$dest/"
    fi
  done
}

# The operator command: one self-contained executable next to libtasker's folder (the CMake install copies it to bin/).
cmd_cli() {
  if [ "${FORCE:-0}" = 1 ] || native_stale "$CLI"; then
    section "publish tasker ($RID)"
    # Published into obj/ first: only the executable belongs in artifacts/bin (not its .dbg, .pdb or .xml files).
    dotnet publish src/Tasker.Cli/Tasker.Cli.csproj -c Release -r "$RID" -o "artifacts/obj/cli-$RID" --nologo -v quiet
    mkdir -p "$BIN_DIR"
    cp "artifacts/obj/cli-$RID/$(basename "$CLI")" "$CLI"
  else
    echo "tasker is up to date: $CLI"
  fi
}

cmake_build() {
  cmake -S . -B build/cmake -DCMAKE_BUILD_TYPE=Release -DTASKER_RID="$RID" >/dev/null
  cmake --build build/cmake -j 2 >/dev/null
}

cmd_ctest() {
  [ -f CMakeLists.txt ] || { echo "ctest: no CMakeLists.txt yet"; return 0; }
  cmd_native
  section "C examples and ABI tests (CTest)"
  cmake_build
  ctest --test-dir build/cmake --output-on-failure
}

cmd_parity() {
  [ -f scripts/abi-parity.sh ] || { echo "parity: scripts/abi-parity.sh not present yet"; return 0; }
  section "ABI parity"
  TASKER_LIBRARY_PATH=$PWD/$LIB bash scripts/abi-parity.sh
}

cmd_dist() {
  cmd_native
  cmd_cli  # the C bundle's bin/tasker
  section "packages (dist/)"
  bash scripts/dist.sh
}

# The packages, built and then installed and used from dist/ alone (scripts/tests/dist_test.sh).
cmd_dist_test() {
  cmd_dist
  bash scripts/tests/dist_test.sh
}

# --- test -----------------------------------------------------------------------------------------------------

PASSED=()
FAILED=()
SKIPPED=()
SUMMARY_PRINTED=0

# suite NAME TITLE COMMAND...: runs one suite and records the result without stopping, so one failure does not
# hide the other suites' results. An empty TITLE prints no header (the command prints its own). The subshell re-enables errexit: a function called from `if` or `||` would run
# with errexit silently off. Never call `suite` itself from a condition, for the same reason.
suite() {
  local name=$1 title=$2 rc
  shift 2
  [ -z "$title" ] || section "$title"
  set +e
  (set -e; "$@")
  rc=$?
  set -e
  if [ "$rc" -eq 0 ]; then PASSED+=("$name"); else FAILED+=("$name"); echo "!! $name failed (exit $rc)" >&2; fi
}
passed() { [[ " ${PASSED[*]} " == *" $1 "* ]]; }

summary() {
  SUMMARY_PRINTED=1
  local list="passed: ${PASSED[*]:-none}; failed: ${FAILED[*]:-none}; skipped: ${SKIPPED[*]:-none}"
  if [ ${#FAILED[@]} -eq 0 ]; then section "test: all passed ($list)"; else section "test: FAILED ($list)"; fi
}

# Only servers this run started are stopped: another run on the same machine may be using one it found running.
STARTED_PG=0
STARTED_REDIS=0
stop_servers() {
  [ "${TASKER_KEEP_SERVERS:-0}" = 1 ] && return 0
  if [ "$STARTED_REDIS" = 1 ]; then scripts/redis-test-server.sh stop >/dev/null 2>&1 || true; fi
  if [ "$STARTED_PG" = 1 ]; then scripts/pg-test-cluster.sh stop >/dev/null 2>&1 || true; fi
  return 0
}

on_test_exit() {
  local rc=$?
  stop_servers
  # Reached only when a step outside the suites (dependencies, server start) failed: still say where it stopped.
  if [ "$SUMMARY_PRINTED" = 0 ]; then
    section "test: ABORTED (exit $rc) before all suites ran (passed: ${PASSED[*]:-none}; failed: ${FAILED[*]:-none})"
  fi
}

start_servers() {
  if [ -z "${TASKER_TEST_DATABASE_URL:-}" ]; then
    section "PostgreSQL (throwaway cluster)"
    scripts/pg-test-cluster.sh status || STARTED_PG=1
    TASKER_TEST_DATABASE_URL=$(scripts/pg-test-cluster.sh start)
    export TASKER_TEST_DATABASE_URL
  fi
  echo "TASKER_TEST_DATABASE_URL=$TASKER_TEST_DATABASE_URL"
  if [ -z "${TASKER_TEST_REDIS_URL:-}" ]; then
    section "Redis (throwaway server)"
    scripts/redis-test-server.sh status || STARTED_REDIS=1
    TASKER_TEST_REDIS_URL=$(scripts/redis-test-server.sh start)
    export TASKER_TEST_REDIS_URL
  fi
  echo "TASKER_TEST_REDIS_URL=$TASKER_TEST_REDIS_URL"
}

# True in a git checkout with no change and no untracked file; false elsewhere (a source archive has no .git).
tree_is_clean() {
  git rev-parse --is-inside-work-tree >/dev/null 2>&1 && [ -z "$(git status --porcelain 2>/dev/null)" ]
}
check_tree_unchanged() {
  if tree_is_clean; then echo "git status: clean"; return 0; fi
  echo "the checkout changed during the test run (a test wrote outside the ignored places, or a file was edited):" >&2
  git status --porcelain >&2
  return 1
}

cmd_test() {
  trap on_test_exit EXIT
  local clean_at_start=0
  tree_is_clean && clean_at_start=1
  section "dependencies"
  scripts/deps.sh
  start_servers

  suite scripts "build scripts" bash scripts/tests/deps_test.sh
  suite lockfiles "npm lock files" bash scripts/tests/lockfiles_test.sh
  suite dotnet "dotnet tests" dotnet test TaskerNative.sln -c Release --nologo
  suite native "libtasker (NativeAOT)" cmd_native
  suite cli "tasker command (NativeAOT)" cmd_cli

  # Everything below loads the published library.
  local later=() lang name
  [ -f CMakeLists.txt ] && later+=(ctest)
  [ -f scripts/abi-parity.sh ] && later+=(parity)
  for lang in python ruby node; do [ -f "bindings/$lang/run-tests.sh" ] && later+=("$lang"); done
  later+=(cross_language)
  [ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] && later+=(dist)  # dist_test checks the linux-x64 packages
  if passed native; then
    export TASKER_LIBRARY_PATH=$PWD/$LIB
    for name in "${later[@]}"; do
      case "$name" in
        ctest) suite ctest "" cmd_ctest ;;
        parity) suite parity "" cmd_parity ;;
        dist) suite dist "" cmd_dist_test ;;
        cross_language) suite cross_language "Python and Ruby processes on one task (PostgreSQL)" bash tests/cross_language/run.sh ;;
        *) suite "$name" "$name binding" bash "bindings/$name/run-tests.sh" ;;
      esac
    done
  else
    SKIPPED+=("${later[@]}")
  fi
  # The dashboard in headless Chromium: the published command serves a task the Python binding failed.
  if passed native && passed cli; then
    suite browser "dashboard in Chromium (tests/browser)" bash tests/browser/run.sh
  else
    SKIPPED+=(browser)
  fi
  # A test run writes only to ignored places (build/, artifacts/, node_modules/, /tmp): checked when it began clean.
  if [ "$clean_at_start" = 1 ]; then
    suite clean_tree "the checkout is unchanged by the tests" check_tree_unchanged
  else
    SKIPPED+=(clean_tree)
  fi

  summary
  [ ${#FAILED[@]} -eq 0 ]
}

# --- demo -----------------------------------------------------------------------------------------------------

# The same order-fulfillment workflow in every language present; each one only when its files exist.
run_demos() {
  section "C# (examples/dotnet)"
  dotnet run --project examples/dotnet/OrderFulfillment -c Release

  cmd_native
  export TASKER_LIBRARY_PATH=$PWD/$LIB
  if [ -f CMakeLists.txt ] && [ -d examples/c ]; then
    section "C (examples/c)"
    cmake_build
    build/cmake/examples/c/order_fulfillment
  fi
  if [ -f examples/python/order_fulfillment.py ]; then
    section "Python (examples/python)"
    /usr/bin/python3 examples/python/order_fulfillment.py
  fi
  if [ -f examples/ruby/order_fulfillment.rb ]; then
    section "Ruby (examples/ruby)"
    ruby examples/ruby/order_fulfillment.rb
  fi
  if [ -f examples/node/order_fulfillment.js ]; then
    section "Node (examples/node)"
    # node_modules is not committed; `npm ci` installs what package-lock.json pins and never rewrites it.
    [ -d bindings/node/node_modules/koffi ] || (cd bindings/node && npm ci --no-audit --no-fund --loglevel=error)
    node examples/node/order_fulfillment.js
  fi
}

cmd_demo() {
  section "dependencies"
  scripts/deps.sh   # ruby + ruby-ffi for the Ruby example, cmake + cJSON for the C one
  run_demos
}

# --- other commands -------------------------------------------------------------------------------------------

cmd_bench() {
  dotnet run -c Release --project bench/Tasker.Benchmarks -- "$@"
}

cmd_migrate() {
  local url=${TASKER_DATABASE_URL:-${DATABASE_URL:-}}
  [ -n "$url" ] || { echo "migrate: set DATABASE_URL (or TASKER_DATABASE_URL) to the PostgreSQL database" >&2; exit 2; }
  if [ -d src/Tasker.Postgres.Migrator ]; then
    DATABASE_URL=$url dotnet run -c Release --project src/Tasker.Postgres.Migrator -- "$@"
  elif [ -d bench/Tasker.Postgres.Bench ]; then
    # Until a dedicated migrator exists, the PostgreSQL bench tool's `migrate` command (docs/operations.md) does it.
    dotnet run -c Release --project bench/Tasker.Postgres.Bench -- migrate --database-url "$url" "$@"
  else
    echo "migrate: not available yet" >&2
    exit 2
  fi
}

cmd_clean() { rm -rf artifacts build .tmp dist; }

command=${1:-help}
shift || true
case "$command" in
  demo) cmd_demo ;;
  test) cmd_test ;;
  build) cmd_build ;;
  native) cmd_native ;;
  cli) cmd_cli ;;
  ctest) cmd_ctest ;;
  parity) cmd_parity ;;
  dist) cmd_dist ;;
  bench) cmd_bench "$@" ;;
  migrate) cmd_migrate "$@" ;;
  deps) scripts/deps.sh ;;
  clean) cmd_clean ;;
  help | -h | --help) usage ;;
  *) usage >&2; exit 2 ;;
esac
