#!/usr/bin/env bash
# Installs the build tree into a scratch prefix, then builds and runs a small C program against that prefix twice:
# through find_package(tasker) and find_package(Tasker) (CMake) and through `pkg-config tasker`. Proves the installed header, library and
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

# On Linux: the library under its SONAME (libtasker.so.<ABI>) and the unversioned development link to it.
if [ "$(uname -s)" = Linux ]; then
  echo "== $libdir"
  abi=$(sed -nE 's/^#define TASKER_ABI_VERSION ([0-9]+).*/\1/p' "$prefix/include/tasker.h")
  [ -f "$libdir/libtasker.so.$abi" ] && [ ! -L "$libdir/libtasker.so.$abi" ] || { echo "no libtasker.so.$abi file"; exit 1; }
  [ "$(readlink "$libdir/libtasker.so")" = "libtasker.so.$abi" ] || { echo "libtasker.so is not a link to libtasker.so.$abi"; exit 1; }
  soname=$(objdump -p "$libdir/libtasker.so.$abi" | awk '$1 == "SONAME" { print $2 }')
  [ "$soname" = "libtasker.so.$abi" ] || { echo "SONAME is '$soname', expected libtasker.so.$abi"; exit 1; }
  echo "libtasker.so -> libtasker.so.$abi (SONAME $soname)"
fi

for package in tasker Tasker; do
  echo "== find_package($package)"
  "$cmake" -S "$here/consumer" -B "$scratch/consumer-$package" -DCMAKE_PREFIX_PATH="$prefix" -DTASKER_PACKAGE=$package >/dev/null
  "$cmake" --build "$scratch/consumer-$package" >/dev/null
  "$scratch/consumer-$package/tasker_consumer"
done

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
