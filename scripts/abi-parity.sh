#!/usr/bin/env bash
# The ABI parity check (DESIGN.md section 4). DNNE is not available to generate the header from the C# exports, so
# this script proves that the hand-written header and the library agree. It fails, printing what differs, when:
#   1. the functions declared in include/tasker.h, the C# [UnmanagedCallersOnly] entry points, and the tasker_*
#      symbols libtasker exports (nm -D) are not the same set, or the header, docs/*.md, README.md or examples/c
#      mention a function the header never declares;
#   2. a function's signature in the header and in C# differ (parameter count or types, return type);
#   3. the error codes (names and values) in the header and in TaskerErrorCode differ;
#   4. the versions differ: VERSION, TASKER_VERSION / _MAJOR / _MINOR / _PATCH, the library's tasker_version(),
#      tasker.__version__, Tasker::VERSION, package.json and package-lock.json; TASKER_ABI_VERSION and the C# AbiVersion (and the
#      library's SONAME, libtasker.so.<ABI>); the input size limit;
#   5. a binding declares a different set of functions, or expects another ABI version (bindings hook below);
#   6. a binding's error table (code -> class) differs from the header's codes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

header=include/tasker.h
native=src/Tasker.Native
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

same() { # what value-a where-a value-b where-b
  if [ "$2" != "$4" ]; then
    echo "parity: $1 differs: $2 ($3) vs $4 ($5)"
    status=1
  fi
}

# --- 1. function names -------------------------------------------------------------------------------------------
# Declarations are the TASKER_API lines; any other tasker_*( in the header is a mention in the documentation.
grep -E '^TASKER_API ' "$header" | grep -oE '\btasker_[a-z0-9_]+\(' | tr -d '(' | sort -u >"$tmp/header"
grep -oE '\btasker_[a-z0-9_]+\(' "$header" | tr -d '(' | sort -u >"$tmp/mentioned"
compare "functions declared in $header" "$tmp/header" "functions mentioned in $header" "$tmp/mentioned"

# The documentation may only call functions that exist (a renamed function leaves stale docs behind otherwise).
grep -ohE '\btasker_[a-z0-9_]+\(' docs/*.md README.md examples/c/*.c 2>/dev/null | tr -d '(' | sort -u |
  comm -23 - "$tmp/header" >"$tmp/undeclared" || true
if [ -s "$tmp/undeclared" ]; then
  echo "parity: the docs or examples call functions $header does not declare:"
  sed 's/^/  /' "$tmp/undeclared"
  status=1
fi

grep -rhoE 'EntryPoint = "tasker_[a-z0-9_]+"' "$native" | grep -oE 'tasker_[a-z0-9_]+' | sort -u >"$tmp/csharp"
compare "$header" "$tmp/header" "C# entry points" "$tmp/csharp"

if [ -f "$lib" ]; then
  nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//' | grep -E '^tasker_' | sort -u >"$tmp/symbols"
  compare "$header" "$tmp/header" "$lib exports" "$tmp/symbols"
else
  echo "parity: $lib not built; run ./build.sh native" >&2
  status=1
fi

# --- 2. signatures -----------------------------------------------------------------------------------------------
# Each C parameter type has exactly one blittable C# spelling; handles are nint on the C# side.
python3 - "$header" "$native" >"$tmp/signatures" <<'PY' || status=1
import pathlib, re, sys

header, native = pathlib.Path(sys.argv[1]).read_text(), pathlib.Path(sys.argv[2])
C_TO_CS = {
    "void": "void", "int32_t": "int", "uint32_t": "uint", "int64_t": "long", "size_t": "nuint",
    "uint8_t*": "byte*", "char*": "byte*", "tasker_bytes_t*": "TaskerBytes*",
    "tasker_engine_t*": "nint", "tasker_subscription_t*": "nint", "tasker_error_t*": "nint",
    "tasker_engine_t**": "nint*", "tasker_subscription_t**": "nint*",
}

def c_type(decl: str, has_name: bool) -> str:
    decl = re.sub(r"\bconst\b", "", decl).strip()
    if has_name:
        decl = re.sub(r"\w+$", "", decl).strip()
    return decl.replace(" ", "")

c_sigs = {}
for m in re.finditer(r"^TASKER_API\s+([^;]*?)\b(tasker_\w+)\s*\(([^)]*)\)\s*;", header, re.M | re.S):
    ret, name, params = m.group(1), m.group(2), " ".join(m.group(3).split())
    args = [] if params in ("", "void") else [c_type(p, True) for p in params.split(",")]
    c_sigs[name] = [c_type(ret, False)] + args

cs_sigs = {}
pattern = re.compile(r'EntryPoint\s*=\s*"(tasker_\w+)"\)\]\s*public\s+static\s+([\w*]+)\s+\w+\(([^)]*)\)', re.S)
for path in sorted(native.rglob("*.cs")):
    for m in pattern.finditer(path.read_text()):
        params = " ".join(m.group(3).split())
        cs_sigs[m.group(1)] = [m.group(2)] + ([] if not params else [p.strip().rsplit(" ", 1)[0] for p in params.split(",")])

failed = False
for name in sorted(set(c_sigs) & set(cs_sigs)):
    expected = [C_TO_CS.get(t, f"<no C# mapping for {t}>") for t in c_sigs[name]]
    if expected != cs_sigs[name]:
        print(f"parity: {name}: the header says ({', '.join(c_sigs[name][1:])}) -> {c_sigs[name][0]}, "
              f"which is C# ({', '.join(expected[1:])}) -> {expected[0]}; "
              f"C# has ({', '.join(cs_sigs[name][1:])}) -> {cs_sigs[name][0]}")
        failed = True
for name in sorted(set(c_sigs) ^ set(cs_sigs)):
    print(f"parity: {name}: cannot compare signatures (declared on one side only, or not parsed)")
    failed = True
print(len(c_sigs))
sys.exit(1 if failed else 0)
PY
signatures=$(tail -1 "$tmp/signatures")
grep -v '^[0-9]*$' "$tmp/signatures" || true

# --- 3. error codes ----------------------------------------------------------------------------------------------
sed -n '/typedef enum tasker_error_code/,/} tasker_error_code_t/p' "$header" |
  grep -oE 'TASKER_ERROR_[A-Z0-9_]+ = [0-9]+' | sed -E 's/TASKER_ERROR_//; s/_//g' | tr 'A-Z' 'a-z' | sort >"$tmp/codes_h"
grep -oE '^\s+[A-Za-z0-9]+ = [0-9]+,' src/Tasker.Core/Errors/TaskerErrorCode.cs | tr -d ' ,' | sed 's/=/ = /' |
  tr 'A-Z' 'a-z' | sort >"$tmp/codes_cs"
compare "header error codes" "$tmp/codes_h" "TaskerErrorCode" "$tmp/codes_cs"

# --- 4. versions and limits --------------------------------------------------------------------------------------
define() { sed -nE "s/^#define $1 (.*)$/\1/p" "$header" | tr -d '"'; }
# VERSION is the one place the release version is written: the .NET build (tasker_version()), CMake, the Python
# package and the gem read it, the dist step stamps package.json. The header's macros and the Node binding's
# package.json and package-lock.json (its own version, twice) are written by hand, so they are compared; the
# bindings are asked for the version they report.
version=$(tr -d '[:space:]' <VERSION)
h_version=$(define TASKER_VERSION)
same "the version" "$version" "VERSION" "$h_version" "TASKER_VERSION in $header"
same "the version" "$h_version" "TASKER_VERSION" "$(define TASKER_VERSION_MAJOR).$(define TASKER_VERSION_MINOR).$(define TASKER_VERSION_PATCH)" "TASKER_VERSION_MAJOR/MINOR/PATCH"
if [ -f "$lib" ]; then
  same "the version" "$version" "VERSION" "$(python3 -c 'import ctypes, sys; f = ctypes.CDLL(sys.argv[1]).tasker_version; f.restype = ctypes.c_char_p; print(f().decode())' "$lib")" "tasker_version() of $lib"
fi
same "the version" "$version" "VERSION" "$(python3 -c 'import sys; sys.path.insert(0, "bindings/python/src"); import tasker._version as v; print(v.__version__)')" "tasker.__version__"
if command -v ruby >/dev/null; then
  same "the version" "$version" "VERSION" "$(ruby -Ibindings/ruby/lib -e 'require "tasker/version"; puts Tasker::VERSION')" "Tasker::VERSION"
fi
same "the version" "$version" "VERSION" "$(sed -nE 's/^  "version": "([^"]+)",$/\1/p' bindings/node/package.json)" "bindings/node/package.json"
lock=bindings/node/package-lock.json
lock_versions=$(python3 -c 'import json, sys; lock = json.load(open(sys.argv[1])); print(lock.get("version"), lock.get("packages", {}).get("", {}).get("version"))' "$lock")
same "the version" "$version" "VERSION" "${lock_versions% *}" "\"version\" in $lock"
same "the version" "$version" "VERSION" "${lock_versions#* }" "packages[\"\"].version in $lock"
h_abi=$(define TASKER_ABI_VERSION)
same "the ABI version" "$h_abi" "TASKER_ABI_VERSION" "$(sed -nE 's/.*const uint AbiVersion = ([0-9]+);.*/\1/p' "$native/Exports/VersionExports.cs")" "AbiVersion in VersionExports.cs"
if [ -f "$lib" ] && [ "$(basename "$lib")" = libtasker.so ]; then
  same "the ABI version" "libtasker.so.$h_abi" "TASKER_ABI_VERSION" "$(objdump -p "$lib" | awk '$1 == "SONAME" { print $2 }')" "the SONAME of $lib"
fi
same "the input size limit" "$(( $(define TASKER_MAX_INPUT_BYTES | tr -d 'u') ))" "TASKER_MAX_INPUT_BYTES" \
  "$(( $(sed -nE 's/.*const int MaxDocumentBytes = ([0-9* ]+);.*/\1/p' src/Tasker.Core/Json/JsonValues.cs) ))" "JsonValues.MaxDocumentBytes"

# --- 5. bindings hook --------------------------------------------------------------------------------------------
# Each binding that exists must declare exactly the header's functions and expect the header's ABI version. A new
# binding is one more line here: its declaration file (any text naming tasker_* functions) and its ABI constant.
bindings=0
for binding in bindings/python/src/tasker/_ffi.py bindings/ruby/lib/tasker/native.rb bindings/node/lib/native.js; do
  [ -f "$binding" ] || continue
  bindings=$((bindings + 1))
  grep -oE '\btasker_[a-z0-9_]+\b' "$binding" | grep -vE '^tasker_(bytes|error|engine|subscription)_t$' | sort -u >"$tmp/binding"
  compare "$header" "$tmp/header" "$binding" "$tmp/binding"
  same "the ABI version" "$h_abi" "TASKER_ABI_VERSION" "$(sed -nE 's/^\s*(const )?ABI_VERSION = ([0-9]+);?\s*$/\2/p' "$binding" | head -1)" "ABI_VERSION in $binding"
done

# --- 6. each binding's error table --------------------------------------------------------------------------------
# Every binding maps each header code to a class of the same name: INVALID_ARGUMENT -> ValidationError (its name since
# the first release), every other TASKER_ERROR_X_Y -> XYError (INVALID_UTF8 -> InvalidUtf8Error). Each binding prints
# its table as "code ClassName" lines.
sed -n '/typedef enum tasker_error_code/,/} tasker_error_code_t/p' "$header" | grep -oE 'TASKER_ERROR_[A-Z0-9_]+ = [0-9]+' |
  python3 -c '
import sys
for line in sys.stdin:
    name, code = line.split(" = ")
    words = name.removeprefix("TASKER_ERROR_").split("_")
    cls = "ValidationError" if words == ["INVALID", "ARGUMENT"] else "".join(w.capitalize() for w in words) + "Error"
    print(int(code), cls)' | sort -n >"$tmp/errors_expected"
error_table() { # binding: prints its "code ClassName" lines
  case "$1" in
    python) PYTHONPATH=bindings/python/src python3 -c 'import tasker.errors as e; [print(c, k.__name__) for c, k in sorted(e.ERROR_CLASSES.items())]' ;;
    ruby) ruby -I bindings/ruby/lib -e 'require "tasker/errors"; Tasker::Error::CODES.sort.each { |c, k| puts "#{c} #{k.name.split("::").last}" }' ;;
    node) node -e 'const e = require("./bindings/node/lib/errors"); for (const [c, k] of [...e.ERROR_CLASSES].sort((a, b) => a[0] - b[0])) console.log(c, k.name)' ;;
  esac
}
tables=0
for binding in python ruby node; do
  [ -d "bindings/$binding" ] || continue
  if ! error_table "$binding" 2>"$tmp/err" | sort -n >"$tmp/errors_$binding" || [ ! -s "$tmp/errors_$binding" ]; then
    echo "parity: could not read the $binding binding's error table:"; sed 's/^/  /' "$tmp/err"; status=1; continue
  fi
  compare "the header's error codes (as class names)" "$tmp/errors_expected" "the $binding binding's error classes" "$tmp/errors_$binding"
  tables=$((tables + 1))
done

if [ $status -eq 0 ]; then
  echo "parity: $(wc -l <"$tmp/header") functions agree in the header, C# ($signatures signatures), $(basename "$lib")'s exports" \
    "and $bindings binding(s); error codes (and $tables bindings' error tables), version $h_version, ABI $h_abi and the input limit agree"
fi
exit $status
