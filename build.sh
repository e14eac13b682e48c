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
SUITES=()

section() { printf '\n==> %s\n' "$*"; }

usage() {
  cat <<'TXT'
usage: ./build.sh <command> [args]

  demo      run the order-fulfillment example on the embedded memory store (every language available)
  test      install test dependencies, start throwaway PostgreSQL and Redis, run every test suite
  build     build the .NET solution (Release)
  native    publish libtasker (NativeAOT) to artifacts/lib/<rid>/ and copy it into the bindings
  ctest     build the C examples and run the C ABI tests (CTest); needs `native`
  parity    check the header, the C# exports, the library's symbols and the bindings agree
  bench     run the C# benchmarks (extra args go to BenchmarkDotNet, e.g. --filter '*' --job short)
  deps      install missing Debian packages the tests need
  clean     remove build outputs (artifacts/, build/, .tmp/)
TXT
}

cmd_build() {
  section "dotnet build"
  dotnet build TaskerNative.sln -c Release --nologo -v quiet
}

cmd_native() {
  # Skip the ~60 s AOT publish when the library is newer than every C# source file.
  if [ -f "$LIB" ] && [ "${FORCE:-0}" != 1 ] && [ -z "$(find src -newer "$LIB" -type f \( -name '*.cs' -o -name '*.csproj' -o -name '*.sql' \) | head -1)" ]; then
    echo "libtasker is up to date: $LIB"
  else
    section "publish libtasker ($RID)"
    dotnet publish src/Tasker.Native/Tasker.Native.csproj -c Release -r "$RID" -o "$LIB_DIR" --nologo -v quiet
  fi
  # Each binding can also load the library from inside its own package.
  for dest in bindings/python/src/tasker/_native bindings/ruby/lib/tasker/native bindings/node/native; do
    if [ -d "$(dirname "$dest")" ]; then
      mkdir -p "$dest"
      cp "$LIB" "$dest/"
    fi
  done
}

cmd_ctest() {
  [ -f CMakeLists.txt ] || { echo "ctest: no CMakeLists.txt yet"; return 0; }
  cmd_native
  section "C examples and ABI tests (CTest)"
  cmake -S . -B build/cmake -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build/cmake -j 2 >/dev/null
  ctest --test-dir build/cmake --output-on-failure
  SUITES+=("ctest")
}

cmd_parity() {
  [ -x scripts/abi-parity.sh ] || { echo "parity: scripts/abi-parity.sh not present yet"; return 0; }
  section "ABI parity"
  scripts/abi-parity.sh
  SUITES+=("parity")
}

# Only servers this run started are stopped: another run on the same machine may be using one it found running.
STARTED_PG=0
STARTED_REDIS=0
stop_servers() {
  [ "${TASKER_KEEP_SERVERS:-0}" = 1 ] && return 0
  [ "$STARTED_REDIS" = 1 ] && { scripts/redis-test-server.sh stop >/dev/null 2>&1 || true; }
  [ "$STARTED_PG" = 1 ] && { scripts/pg-test-cluster.sh stop >/dev/null 2>&1 || true; }
  return 0
}

cmd_test() {
  section "dependencies"
  scripts/deps.sh
  trap stop_servers EXIT
  if [ -z "${TASKER_TEST_DATABASE_URL:-}" ]; then
    section "PostgreSQL (throwaway cluster)"
    pg_isready -q -h 127.0.0.1 -p "${TASKER_PG_PORT:-54329}" 2>/dev/null || STARTED_PG=1
    TASKER_TEST_DATABASE_URL=$(scripts/pg-test-cluster.sh start)
    export TASKER_TEST_DATABASE_URL
  fi
  if [ -z "${TASKER_TEST_REDIS_URL:-}" ]; then
    section "Redis (throwaway server)"
    redis-cli -p "${TASKER_REDIS_PORT:-63799}" ping >/dev/null 2>&1 || STARTED_REDIS=1
    TASKER_TEST_REDIS_URL=$(scripts/redis-test-server.sh start)
    export TASKER_TEST_REDIS_URL
  fi

  section "dotnet tests"
  dotnet test TaskerNative.sln -c Release --nologo
  SUITES+=("dotnet")

  if [ -d src/Tasker.Native/Exports ]; then
    cmd_native
    cmd_ctest
    cmd_parity
    export TASKER_LIBRARY_PATH=$PWD/$LIB
    for lang in python ruby node; do
      if [ -f "bindings/$lang/run-tests.sh" ]; then
        section "$lang binding"
        bash "bindings/$lang/run-tests.sh"
        SUITES+=("$lang")
      fi
    done
  fi
  section "all passed: ${SUITES[*]}"
}

cmd_demo() {
  section "dependencies"
  scripts/deps.sh
  section "C# (examples/dotnet)"
  dotnet run --project examples/dotnet/OrderFulfillment -c Release
  if [ -d src/Tasker.Native/Exports ]; then
    cmd_native
    export TASKER_LIBRARY_PATH=$PWD/$LIB
    if [ -f CMakeLists.txt ] && [ -f examples/c/order_fulfillment.c ]; then
      section "C (examples/c)"
      cmake -S . -B build/cmake -DCMAKE_BUILD_TYPE=Release >/dev/null && cmake --build build/cmake -j 2 >/dev/null
      build/cmake/examples/c/order_fulfillment
    fi
    if [ -f examples/python/order_fulfillment.py ]; then section "Python"; /usr/bin/python3 examples/python/order_fulfillment.py; fi
    if [ -f examples/ruby/order_fulfillment.rb ] && command -v ruby >/dev/null; then section "Ruby"; ruby examples/ruby/order_fulfillment.rb; fi
    if [ -f examples/node/order_fulfillment.js ]; then
      [ -d bindings/node/node_modules/koffi ] || (cd bindings/node && npm install --no-audit --no-fund --loglevel=error)
      section "Node"; node examples/node/order_fulfillment.js
    fi
  fi
}

cmd_bench() {
  dotnet run -c Release --project bench/Tasker.Benchmarks -- "$@"
}

cmd_clean() { rm -rf artifacts build .tmp; }

command=${1:-help}
shift || true
case "$command" in
  demo) cmd_demo ;;
  test) cmd_test ;;
  build) cmd_build ;;
  native) cmd_native ;;
  ctest) cmd_ctest ;;
  parity) cmd_parity ;;
  bench) cmd_bench "$@" ;;
  deps) scripts/deps.sh ;;
  clean) cmd_clean ;;
  help|-h|--help) usage ;;
  *) usage >&2; exit 2 ;;
esac
