#!/usr/bin/env bash
# The ABI parity check: the functions declared in include/tasker.h, the C# [UnmanagedCallersOnly] entry points,
# the symbols libtasker actually exports, and each binding's declarations must name the same set; the error codes
# in the header and in TaskerErrorCode must have the same names and values. Any difference fails with a diff.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

lib=${TASKER_LIBRARY_PATH:-artifacts/lib/${TASKER_RID:-linux-x64}/libtasker.so}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

compare() { # name-a file-a name-b file-b
  if ! diff -u --label "$1" "$2" --label "$3" "$4" >"$tmp/diff"; then
    echo "parity: $1 and $3 disagree:"
    cat "$tmp/diff"
    status=1
  fi
}

grep -oE '\btasker_[a-z0-9_]+\(' include/tasker.h | tr -d '(' | sort -u >"$tmp/header"
grep -rhoE 'EntryPoint = "tasker_[a-z0-9_]+"' src/Tasker.Native | grep -oE 'tasker_[a-z0-9_]+' | sort -u >"$tmp/csharp"
compare include/tasker.h "$tmp/header" "C# entry points" "$tmp/csharp"

if [ -f "$lib" ]; then
  nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//' | grep -E '^tasker_' | sort -u >"$tmp/symbols"
  compare include/tasker.h "$tmp/header" "$lib exports" "$tmp/symbols"
else
  echo "parity: $lib not built; run ./build.sh native" >&2
  status=1
fi

# Error codes: NAME = value pairs from the header's enum and from the C# enum.
sed -n '/typedef enum tasker_error_code/,/} tasker_error_code_t/p' include/tasker.h |
  grep -oE 'TASKER_ERROR_[A-Z0-9_]+ = [0-9]+' | sed -E 's/TASKER_ERROR_//; s/_//g' | tr 'A-Z' 'a-z' | sort >"$tmp/codes_h"
grep -oE '^\s+[A-Za-z0-9]+ = [0-9]+,' src/Tasker.Core/Errors/TaskerErrorCode.cs | tr -d ' ,' | sed 's/=/ = /' |
  tr 'A-Z' 'a-z' | sort >"$tmp/codes_cs"
compare "header error codes" "$tmp/codes_h" "TaskerErrorCode" "$tmp/codes_cs"

# Bindings: every tasker_* function a binding declares must exist, and each must declare them all.
bindings=0
for binding in bindings/python/src/tasker/_ffi.py bindings/ruby/lib/tasker/native.rb bindings/node/lib/native.js; do
  [ -f "$binding" ] || continue
  bindings=$((bindings + 1))
  grep -oE '\btasker_[a-z0-9_]+\b' "$binding" | grep -vE '^tasker_(bytes|error|engine|subscription)_t$' | sort -u >"$tmp/binding"
  compare include/tasker.h "$tmp/header" "$binding" "$tmp/binding"
done

[ $status -eq 0 ] && echo "parity: header, C# entry points, $(basename "$lib") exports, error codes and $bindings binding(s) agree ($(wc -l <"$tmp/header") functions)"
exit $status
