#!/usr/bin/env bash
# Runs a C ABI test under valgrind memcheck: no invalid reads/writes, no definite leaks through the API (bytes,
# errors and handles freed). The library is loaded from a copy without its .dbg companion: valgrind 3.19 cannot
# read the DWARF 5 the NativeAOT toolchain emits into libtasker.so.dbg. "Possibly lost" blocks are the .NET
# runtime's own thread and GC bookkeeping, alive until exit, and are not counted.
# Usage: valgrind.sh <libtasker.so> <scratch dir> <test executable> [args...]
set -euo pipefail
lib=$1 scratch=$2
shift 2
command -v valgrind >/dev/null || { echo "valgrind not installed"; exit 77; }
mkdir -p "$scratch"
cp "$lib" "$scratch/"
LD_LIBRARY_PATH=$scratch exec valgrind --quiet --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite \
  --show-leak-kinds=definite "$@"
