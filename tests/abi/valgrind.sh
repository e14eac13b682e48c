#!/usr/bin/env bash
# Runs a C ABI test under valgrind memcheck and fails (exit 9) on any invalid read or write, use of uninitialized
# memory, bad free, or "definitely lost" block.
#
# What this can and cannot see, with the NativeAOT library:
# - Every tasker_bytes_t and error string is malloc'd by the library, so a buffer the test forgets to free, or one
#   the library loses, is "definitely lost" and fails the run.
# - Handles (engines, subscriptions, errors) are entries of the library's handle table, which lives in the .NET GC
#   heap; a handle the caller never frees stays reachable from there, so it shows as "still reachable", not lost.
# - "Possibly lost" blocks (under 1 KB) are the runtime's own thread-local and GC bookkeeping, alive until exit:
#   they are reported by valgrind but not counted, so no suppressions file is needed.
# - The library is loaded from a copy without its .dbg companion: valgrind 3.19 cannot read the DWARF 5 that the
#   NativeAOT toolchain writes into libtasker.so.dbg (stack frames inside the library then show as ???).
# Usage: valgrind.sh <libtasker.so> <scratch dir> <test executable> [args...]
set -euo pipefail
lib=$1 scratch=$2
shift 2
command -v valgrind >/dev/null || { echo "valgrind not installed"; exit 77; }
mkdir -p "$scratch"
# Under its SONAME too (libtasker.so.<ABI>): that is the name the test programs ask the loader for.
cp "$lib" "$scratch/"
soname=$(objdump -p "$lib" 2>/dev/null | awk '$1 == "SONAME" { print $2 }')
if [ -n "$soname" ] && [ "$soname" != "$(basename "$lib")" ]; then cp "$lib" "$scratch/$soname"; fi
LD_LIBRARY_PATH=$scratch exec valgrind --quiet --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite \
  --show-leak-kinds=definite "$@"
