#!/usr/bin/env bash
# ./build.sh dist: the packages a team installs, written under dist/ with SHA256SUMS, from the published libtasker
# (./build.sh native, which build.sh runs first). Everything is staged under build/dist, away from the source folders,
# so no build leftovers (egg-info, node_modules, copies of the library) appear in the tree.
#
#   tasker_native-<v>-py3-none-manylinux_<glibc>_x86_64.whl   Python wheel carrying libtasker (pip install)
#   tasker_native-<v>.tar.gz                                   Python sdist (source only: no library)
#   tasker-native-<v>-x86_64-linux.gem                         platform gem carrying libtasker
#   tasker-native-<v>.gem                                      plain gem: builds libtasker at install (.NET SDK)
#   tasker-native-<v>.tgz                                      npm main package (optionalDependencies: below)
#   tasker-native-linux-x64-<v>.tgz                            npm @tasker-native/linux-x64 carrying libtasker
#   tasker-<v>-linux-x64.tar.gz                                C bundle: include/, lib/ (libtasker.so.<ABI>,
#                                                              libtasker.so, cmake/, pkgconfig/), bin/tasker
#
# scripts/tests/dist_test.sh installs each of them away from the checkout and runs a workflow.
#
# Portable to macOS (BSD find, tar and sha256) and Git Bash on Windows: GNU-only options are used only where the tool
# is GNU's (tar's reproducibility flags). PYTHON names the Python 3 to run (default python3).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

rid=${TASKER_RID:-linux-x64}
case "$rid" in
  osx-*) lib_name=libtasker.dylib ;;
  win-*) lib_name=tasker.dll ;;
  *) lib_name=libtasker.so ;;
esac
lib=$PWD/artifacts/lib/$rid/$lib_name
[ -f "$lib" ] || { echo "dist: $lib does not exist: run ./build.sh native first" >&2; exit 1; }
case "$rid" in win-*) cli_name=tasker.exe ;; *) cli_name=tasker ;; esac
cli=$PWD/artifacts/bin/$rid/$cli_name  # the operator command, for the C bundle's bin/
[ -f "$cli" ] || { echo "dist: $cli does not exist: run ./build.sh cli first (./build.sh dist does)" >&2; exit 1; }
version=$(tr -d '[:space:]' <VERSION)
abi=$(sed -nE 's/^#define TASKER_ABI_VERSION ([0-9]+).*/\1/p' include/tasker.h)
out=$PWD/${TASKER_DIST_DIR:-dist}
stage=$PWD/build/dist
rm -rf "$out" "$stage"
mkdir -p "$out" "$stage"

# Each ecosystem's name for the platform of $rid.
case "$rid" in
  linux-x64) gem_platform=x86_64-linux npm_os=linux npm_cpu=x64 ;;
  linux-arm64) gem_platform=aarch64-linux npm_os=linux npm_cpu=arm64 ;;
  osx-x64) gem_platform=x86_64-darwin npm_os=darwin npm_cpu=x64 ;;
  osx-arm64) gem_platform=arm64-darwin npm_os=darwin npm_cpu=arm64 ;;
  win-x64) gem_platform=x64-mingw-ucrt npm_os=win32 npm_cpu=x64 ;;
  *) echo "dist: no package platform names for $rid" >&2; exit 1 ;;
esac
npm_platform=$npm_os-$npm_cpu

# rsync-free copy of a folder without build outputs.
copy_tree() { # from to
  mkdir -p "$2"
  tar -C "$1" --exclude=bin --exclude=obj --exclude=node_modules --exclude=__pycache__ --exclude='*.egg-info' \
    --exclude=native --exclude=_native -cf - . | tar -C "$2" -xf -
}

echo "dist: version $version, ABI $abi, $rid, from $lib"

# --- Python ------------------------------------------------------------------------------------------------------
"${PYTHON:-python3}" scripts/dist/python_dist.py --version "$version" --library "$lib" --rid "$rid" --source bindings/python --out "$out"

# --- Ruby --------------------------------------------------------------------------------------------------------
if command -v gem >/dev/null; then
  gem_stage=$stage/gem
  copy_tree bindings/ruby "$gem_stage"
  cp -r bindings/ruby/bin "$gem_stage/"  # the tasker-worker command (copy_tree leaves out every bin/: .NET outputs)
  rm -rf "$gem_stage/spec" "$gem_stage/run-tests.sh"
  echo "$version" >"$gem_stage/lib/tasker/VERSION"
  # The platform gem: the library inside.
  mkdir -p "$gem_stage/lib/tasker/native"
  cp "$lib" "$gem_stage/lib/tasker/native/"
  (cd "$gem_stage" && TASKER_GEM_PLATFORM=$gem_platform gem build tasker.gemspec --output "$out/tasker-native-$version-$gem_platform.gem" --silent)
  # The plain gem: no library; the C# source that builds it at install time.
  rm -rf "$gem_stage/lib/tasker/native"
  source_dir=$gem_stage/ext/tasker/source
  for d in src/Tasker.Core src/Tasker.Postgres src/Tasker.Native; do copy_tree "$d" "$source_dir/$d"; done
  mkdir -p "$source_dir/include"
  cp include/tasker.h "$source_dir/include/"
  cp VERSION global.json Directory.Build.props Directory.Packages.props "$source_dir/"
  (cd "$gem_stage" && gem build tasker.gemspec --output "$out/tasker-native-$version.gem" --silent)
  echo "$out/tasker-native-$version-$gem_platform.gem"
  echo "$out/tasker-native-$version.gem"
else
  echo "dist: gem is not installed: no Ruby gems" >&2
fi

# --- npm ---------------------------------------------------------------------------------------------------------
if command -v npm >/dev/null; then
  npm_stage=$stage/npm
  mkdir -p "$npm_stage/main" "$npm_stage/$npm_platform"
  (cd bindings/node && cp -r bin lib index.mjs index.d.ts index.d.mts bullmq.d.ts bull.d.ts README.md package.json "$npm_stage/main/")
  # The main package: the version stamped, the platform package as an optional dependency, no library of its own.
  node - "$npm_stage/main/package.json" "$version" "@tasker-native/$npm_platform" <<'JS'
const fs = require('node:fs');
const [file, version, platformPackage] = process.argv.slice(2);
const pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
pkg.version = version;
pkg.files = pkg.files.filter((f) => f !== 'native');
pkg.optionalDependencies = { [platformPackage]: version };
delete pkg.devDependencies;
delete pkg.allowScripts; // read from the root project only: this checkout's own
delete pkg.scripts;
fs.writeFileSync(file, `${JSON.stringify(pkg, null, 2)}\n`);
JS
  # The platform package: the library only; npm installs it where os, cpu and libc match.
  cp "$lib" "$npm_stage/$npm_platform/"
  libc=""
  [ "$npm_os" = linux ] && libc='"libc": ["glibc"],'
  cat >"$npm_stage/$npm_platform/package.json" <<JSON
{
  "name": "@tasker-native/$npm_platform",
  "version": "$version",
  "description": "libtasker for $npm_platform: the native part of tasker-native (installed by it as an optional dependency)",
  "license": "MIT",
  "os": ["$npm_os"],
  "cpu": ["$npm_cpu"],
  $libc
  "files": ["$lib_name"],
  "preferUnplugged": true
}
JSON
  cat >"$npm_stage/$npm_platform/README.md" <<MD
# @tasker-native/$npm_platform

The libtasker library of \`tasker-native\` for $npm_platform. Install
\`tasker-native\`, not this package: npm picks this one as an optional dependency on matching machines.
MD
  (cd "$npm_stage/main" && npm pack --pack-destination "$out" --silent >/dev/null)
  (cd "$npm_stage/$npm_platform" && npm pack --pack-destination "$out" --silent >/dev/null)
  echo "$out/tasker-native-$version.tgz"
  echo "$out/tasker-native-$npm_platform-$version.tgz"
else
  echo "dist: npm is not installed: no npm packages" >&2
fi

# --- C bundle ----------------------------------------------------------------------------------------------------
if command -v cmake >/dev/null; then
  bundle=tasker-$version-$rid
  # The install puts the header, the library, the CMake and pkg-config files and the command (bin/) in the bundle.
  cmake -S . -B "$stage/cmake" -DCMAKE_BUILD_TYPE=Release -DTASKER_RID="$rid" -DTASKER_LIBRARY_DIR="$(dirname "$lib")" \
    -DTASKER_CLI_DIR="$(dirname "$cli")" -DTASKER_BUILD_EXAMPLES=OFF -DTASKER_BUILD_TESTS=OFF -DTASKER_BUILD_BENCH=OFF \
    -DCMAKE_INSTALL_LIBDIR=lib >/dev/null
  cmake --install "$stage/cmake" --prefix "$stage/c/$bundle" >/dev/null
  [ -f "$stage/c/$bundle/bin/$cli_name" ] || { echo "dist: the CMake install left out bin/$cli_name" >&2; exit 1; }
  # (Captured first: `tar --version | grep -q` under pipefail fails when grep exits before tar has written all.)
  if [[ "$(tar --version 2>/dev/null || true)" == *"GNU tar"* ]]; then
    # Reproducible: the same inputs give the same bytes (member order, owners and times fixed).
    tar -C "$stage/c" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@315532800 -czf "$out/$bundle.tar.gz" "$bundle"
  else
    tar -C "$stage/c" -czf "$out/$bundle.tar.gz" "$bundle"  # bsdtar (macOS): the same files, times as built
  fi
  echo "$out/$bundle.tar.gz"
else
  echo "dist: cmake is not installed: no C bundle" >&2
fi

sha256() { if command -v sha256sum >/dev/null; then sha256sum "$@"; else shasum -a 256 "$@"; fi; }  # macOS: shasum
(
  cd "$out"
  for f in *; do if [ -f "$f" ] && [ "$f" != SHA256SUMS ]; then echo "$f"; fi; done | sort >"$stage/sums.list"
  [ -s "$stage/sums.list" ] || { echo "dist: nothing was written to $out" >&2; exit 1; }
  # shellcheck disable=SC2046 # file names without spaces (written above)
  sha256 $(cat "$stage/sums.list") >SHA256SUMS
)
echo "dist: $(($(wc -l <"$out/SHA256SUMS"))) files in ${out#"$PWD"/} (SHA256SUMS)"
