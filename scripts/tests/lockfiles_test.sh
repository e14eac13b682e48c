#!/usr/bin/env bash
# Each committed package-lock.json is exactly what `npm install` writes for its package.json, so a user who follows
# a README's `npm install` does not find the checkout changed. (A package.json edited without its lock, as when a
# `bin` entry was added, fails here.) npm works on copies: the checkout is never touched.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

failures=0
checked=0
while IFS= read -r lock; do
  dir=$(dirname "$lock")
  copy=$work/$dir
  mkdir -p "$copy"
  cp "$root/$dir/package.json" "$root/$lock" "$copy/"
  # A bin entry must point at a file for npm to record it.
  [ -d "$root/$dir/bin" ] && cp -r "$root/$dir/bin" "$copy/"
  (cd "$copy" && npm install --package-lock-only --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
  checked=$((checked + 1))
  if diff -u "$root/$lock" "$copy/package-lock.json" >"$work/diff"; then
    echo "ok   - $lock is what npm install writes"
  else
    echo "FAIL - $lock differs from what npm install writes (run: cd $dir && npm install --package-lock-only):"
    head -40 "$work/diff"
    failures=$((failures + 1))
  fi
done < <(cd "$root" && git ls-files '*package-lock.json')

[ "$checked" -gt 0 ] || { echo "FAIL - no committed package-lock.json found"; exit 1; }
echo "$checked lock files checked, $failures failed"
[ "$failures" -eq 0 ]
