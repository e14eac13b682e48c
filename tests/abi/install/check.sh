#!/usr/bin/env bash
# Installs the build tree into a scratch prefix, then builds and runs a small C program against that prefix twice:
# through find_package(tasker) (CMake) and through `pkg-config tasker`. Proves the installed header, library and
# package files work on their own, away from the source tree.
# Usage: check.sh <cmake> <build dir> <scratch dir> <c compiler>
set -euo pipefail
cmake=$1 build=$2 scratch=$3 cc=$4
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
prefix=$scratch/prefix

rm -rf "$scratch"
"$cmake" --install "$build" --prefix "$prefix" >/dev/null
# The installed tree is relocatable: move it and use it from there.
mv "$prefix" "$scratch/moved"
prefix=$scratch/moved
libdir=$(dirname "$(find "$prefix" -name 'libtasker.*' -print -quit)")

echo "== find_package(tasker)"
"$cmake" -S "$here/consumer" -B "$scratch/consumer" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
"$cmake" --build "$scratch/consumer" >/dev/null
"$scratch/consumer/tasker_consumer"

echo "== pkg-config tasker"
if command -v pkg-config >/dev/null; then
  export PKG_CONFIG_PATH=$libdir/pkgconfig
  # shellcheck disable=SC2046 # word splitting of the flags is the point
  "$cc" -std=c11 -Wall -Wextra -Wpedantic -Werror "$here/consumer/main.c" -o "$scratch/pkgconfig_consumer" \
    $(pkg-config --cflags --libs tasker)
  LD_LIBRARY_PATH=$libdir "$scratch/pkgconfig_consumer"
else
  echo "pkg-config not installed: skipped"
fi
