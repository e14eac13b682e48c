#!/usr/bin/env bash
# Installs each package of dist/ (./build.sh dist) the way a team would, away from the checkout, and runs a small
# workflow with it: nothing but the package can provide libtasker here (no TASKER_LIBRARY_PATH, no checkout on any
# search path, a fresh venv / GEM_HOME / node_modules / prefix), so each check fails if its package lacks the library.
#
#   Python  a fresh venv; pip installs the wheel offline; a workflow; the sdist (no library) names the wheel to install
#   Ruby    the platform gem in a fresh GEM_HOME; an app with a Gemfile, `bundle install --local`, Bundler.require;
#           the plain gem without a .NET SDK stops with a message naming the platform gem
#   Node    the npm tarballs in a fresh folder, `require('tasker')` (npm alias) and `import`; without the platform
#           package, the error names it
#   C       the bundle: a program built with CMake (find_package(Tasker) and find_package(tasker)) and with pkg-config;
#           bin/tasker reports this version
#
# Usage: scripts/tests/dist_test.sh [dist dir]   (default dist/; koffi comes from the npm registry)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
dist=$(cd "${1:-$repo/dist}" && pwd)
version=$(tr -d '[:space:]' <"$repo/VERSION")
abi=$(sed -nE 's/^#define TASKER_ABI_VERSION ([0-9]+).*/\1/p' "$repo/include/tasker.h")
consumer_c=$repo/tests/abi/install/consumer/main.c
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Only the packages may provide the library or the bindings.
unset TASKER_LIBRARY_PATH PYTHONPATH PYTHONHOME RUBYLIB RUBYOPT NODE_PATH NODE_OPTIONS GEM_HOME GEM_PATH \
  BUNDLE_GEMFILE LD_LIBRARY_PATH PKG_CONFIG_PATH CMAKE_PREFIX_PATH
cd "$work"

failures=0
# check DESCRIPTION COMMAND...: runs the command in a subshell with errexit on, so any failing step fails the check. (Run
# from an `if` or `||`, a function's errexit is silently off, and only its last command would count.)
check() {
  local what=$1 rc; shift
  set +e
  (set -e; "$@") >"$work/out" 2>&1
  rc=$?
  set -e
  if [ "$rc" -eq 0 ]; then
    echo "ok   - $what"
    [ ! -s "$work/out" ] || tail -n 1 "$work/out" | sed 's/^/       /'
  else
    echo "FAIL - $what"
    sed 's/^/       /' "$work/out" | tail -n 30
    failures=$((failures + 1))
  fi
}
has() { [ -f "$1" ] || { echo "missing: $1 (./build.sh dist builds it)"; return 1; }; }
# Whether a listing holds a line. No `producer | grep -q` under pipefail: grep exits at its first match and the
# producer, killed by SIGPIPE, fails the pipeline.
lists() { # listing line
  grep -qx -- "$2" <<<"$1" || { echo "not in the package: $2"; return 1; }
}
# libtasker as mapped into a running process: the one the package carried, not another copy.
MAPS_NOTE="the library loaded must be the package's own"

check "SHA256SUMS matches every file of dist/" bash -c "cd '$dist' && sha256sum --check --strict --quiet SHA256SUMS"

# --- Python -------------------------------------------------------------------------------------------------------
python=/usr/bin/python3
glibc=$($python -c 'import platform; print(platform.libc_ver()[1].replace(".", "_"))')
wheel=$dist/tasker_native-$version-py3-none-manylinux_${glibc}_x86_64.whl
sdist=$dist/tasker_native-$version.tar.gz

python_wheel_carries_library() {
  has "$wheel"
  lists "$($python -c 'import sys, zipfile; print("\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))' "$wheel")" \
    tasker/_native/libtasker.so
}
python_workflow() {
  rm -rf "$work/venv"
  $python -m venv --system-site-packages --without-pip "$work/venv"
  "$work/venv/bin/python" -m pip install --quiet --no-index --no-deps --disable-pip-version-check "$wheel"
  cat >"$work/workflow.py" <<PY
import os, sys
import tasker

assert "TASKER_LIBRARY_PATH" not in os.environ
assert tasker.__file__.startswith(sys.prefix), f"tasker imported from {tasker.__file__}, not the venv"
assert tasker.__version__ == "$version", tasker.__version__

class Greet(tasker.StepHandler):
    def process(self, context):
        return {"greeting": "hello " + context.task.context["name"]}

class Shout(tasker.StepHandler):
    def process(self, context):
        return context.dependency_results["greet"]["greeting"].upper()

TEMPLATE = """{"name": "hello", "namespace_name": "dist", "version": "1.0.0", "steps": [
  {"name": "greet", "handler": {"callable": "Greet"}},
  {"name": "shout", "handler": {"callable": "Shout"}, "dependencies": ["greet"]}]}"""

with tasker.Engine() as engine:
    engine.register_template(TEMPLATE)
    engine.register_handlers(Greet, Shout)
    task = engine.create_task("hello", namespace="dist", context={"name": "wheel"})
    outcome = engine.handle(task.uuid)
    done = engine.get_task(task.uuid)
    assert outcome.action == "complete" and done.state == "complete", (outcome, done.state)
    assert done.step("shout").result == "HELLO WHEEL", done.step("shout").result
    assert tasker.version() == "$version", tasker.version()
loaded = [line.split()[-1] for line in open("/proc/self/maps") if "libtasker" in line]
assert loaded and all(path.startswith(sys.prefix) for path in loaded), f"$MAPS_NOTE: {loaded}"
print("python: task complete with", loaded[0])
PY
  "$work/venv/bin/python" "$work/workflow.py"
}
python_sdist_names_the_wheel() {
  has "$sdist"
  rm -rf "$work/venv-sdist"
  $python -m venv --system-site-packages --without-pip "$work/venv-sdist"
  # Debian's setuptools builds it (no index to fetch build requirements from).
  "$work/venv-sdist/bin/python" -m pip install --quiet --no-index --no-deps --no-build-isolation \
    --disable-pip-version-check "$sdist"
  "$work/venv-sdist/bin/python" - <<PY
import tasker
assert tasker.__version__ == "$version", tasker.__version__
try:
    tasker.Engine()
except tasker.TaskerError as e:
    print(e)
    assert "pip install" in str(e) and "tasker-native" in str(e), str(e)
    assert "build.sh" not in str(e), str(e)
else:
    raise SystemExit("an engine opened from the sdist, which carries no library")
PY
}
check "python: the wheel is tagged manylinux_${glibc}_x86_64 (this machine's glibc) and carries libtasker.so" python_wheel_carries_library
check "python: the wheel in a fresh venv runs a workflow" python_workflow
check "python: the sdist installs, and without a library names the wheel to install" python_sdist_names_the_wheel

# --- Ruby ---------------------------------------------------------------------------------------------------------
platform_gem=$dist/tasker-native-$version-x86_64-linux.gem
plain_gem=$dist/tasker-native-$version.gem

ruby_gem_carries_library() {
  has "$platform_gem"
  lists "$(tar -xOf "$platform_gem" data.tar.gz | tar -tzf -)" lib/tasker/native/libtasker.so
}
ruby_bundler_workflow() {
  local gems=$work/gems app=$work/app
  rm -rf "$gems" "$app"
  mkdir -p "$app"
  # ffi comes from Debian's ruby-ffi (on the default gem path); the gem itself from dist/ only.
  GEM_HOME=$gems gem install --local --no-document --silent "$platform_gem"
  cat >"$app/Gemfile" <<'RB'
source "https://rubygems.org"
gem "tasker-native"
RB
  cat >"$app/app.rb" <<RB
require "bundler/setup"
Bundler.require # requires "tasker-native", which loads the engine

abort "TASKER_LIBRARY_PATH is set" if ENV.key?("TASKER_LIBRARY_PATH")
abort "Tasker::VERSION is #{Tasker::VERSION}" unless Tasker::VERSION == "$version"

class Greet < Tasker::StepHandler
  def process(context) = { "greeting" => "hello #{context.task.context["name"]}" }
end

class Shout < Tasker::StepHandler
  def process(context) = context.dependency_results["greet"]["greeting"].upcase
end

TEMPLATE = <<~JSON
  {"name": "hello", "namespace_name": "dist", "version": "1.0.0", "steps": [
    {"name": "greet", "handler": {"callable": "Greet"}},
    {"name": "shout", "handler": {"callable": "Shout"}, "dependencies": ["greet"]}]}
JSON

Tasker::Engine.open do |engine|
  engine.register_template(TEMPLATE)
  engine.register_handlers(Greet, Shout)
  task = engine.create_task("hello", namespace: "dist", context: { "name" => "gem" })
  outcome = engine.handle(task.uuid)
  done = engine.get_task(task.uuid)
  abort "outcome #{outcome.action}, task #{done.state}" unless outcome.action == "complete" && done.state == "complete"
  result = done.step("shout")["result"]
  abort "shout returned #{result.inspect}" unless result == "HELLO GEM"
end
loaded = File.readlines("/proc/self/maps").grep(/libtasker/).map { |line| line.split.last }.uniq
abort "$MAPS_NOTE: #{loaded}" unless !loaded.empty? && loaded.all? { |path| path.start_with?("$gems/") }
puts "ruby: task complete with #{loaded.first}"
RB
  (
    cd "$app"
    export GEM_HOME=$gems BUNDLE_APP_CONFIG=$app/.bundle BUNDLE_USER_HOME=$work/bundle-home
    bundle install --local --quiet
    bundle exec ruby app.rb
  )
}
ruby_plain_gem_needs_dotnet() {
  has "$plain_gem"
  lists "$(tar -xOf "$plain_gem" data.tar.gz | tar -tzf -)" ext/tasker/source/src/Tasker.Native/Tasker.Native.csproj
  # Where no .NET SDK is installed (DOTNET names a missing one), the install stops and says what to do instead.
  if DOTNET=$work/no-dotnet GEM_HOME=$work/gems-plain gem install --local --no-document "$plain_gem" >"$work/plain.log" 2>&1; then
    echo "the plain gem installed without a .NET SDK"; return 1
  fi
  grep -q 'needs the .NET 10 SDK' "$work/plain.log" && grep -q 'gem install tasker-native --platform x86_64-linux' "$work/plain.log" ||
    { cat "$work/plain.log"; return 1; }
}
if command -v gem >/dev/null && command -v bundle >/dev/null; then
  check "ruby: the x86_64-linux gem carries libtasker.so" ruby_gem_carries_library
  check "ruby: the platform gem in a fresh GEM_HOME runs a workflow through a Gemfile and Bundler.require" ruby_bundler_workflow
  check "ruby: the plain gem carries the C# source and, without a .NET SDK, names the platform gem" ruby_plain_gem_needs_dotnet
else
  check "ruby: gem and bundle are installed (scripts/deps.sh: ruby, ruby-bundler)" false
fi

# --- Node ---------------------------------------------------------------------------------------------------------
npm_main=$dist/tasker-native-$version.tgz
npm_platform=$dist/tasker-native-linux-x64-$version.tgz

node_package_carries_library() {
  has "$npm_main"
  has "$npm_platform"
  lists "$(tar -tzf "$npm_platform")" package/libtasker.so
  if grep -q libtasker <<<"$(tar -tzf "$npm_main")"; then echo "the main package carries a library"; return 1; fi
  tar -xOzf "$npm_main" package/package.json | node -e "
    const pkg = JSON.parse(require('fs').readFileSync(0, 'utf8'));
    if (pkg.name !== 'tasker-native' || pkg.version !== '$version' ||
        pkg.optionalDependencies?.['@tasker-native/linux-x64'] !== '$version') { console.log(pkg); process.exit(1); }"
}
node_workflow() {
  local app=$work/node-app
  rm -rf "$app"; mkdir -p "$app"
  # "tasker": the npm alias a team writes as `npm install tasker@npm:tasker-native`, here from the tarball.
  cat >"$app/package.json" <<JSON
{ "name": "app", "private": true, "allowScripts": { "koffi": true },
  "dependencies": { "tasker": "file:$npm_main", "@tasker-native/linux-x64": "file:$npm_platform" } }
JSON
  cat >"$app/workflow.js" <<'JS'
module.exports = async function run(tasker, label) {
  if (process.env.TASKER_LIBRARY_PATH) throw new Error('TASKER_LIBRARY_PATH is set');
  class Greet extends tasker.StepHandler {
    async process(ctx) { return { greeting: `hello ${ctx.task.context.name}` }; }
  }
  class Shout extends tasker.StepHandler {
    async process(ctx) { return ctx.dependencyResults.greet.greeting.toUpperCase(); }
  }
  const engine = new tasker.Engine();
  try {
    await engine.registerTemplate(JSON.stringify({ name: 'hello', namespace_name: 'dist', version: '1.0.0', steps: [
      { name: 'greet', handler: { callable: 'Greet' } },
      { name: 'shout', handler: { callable: 'Shout' }, dependencies: ['greet'] }] }));
    engine.registerHandlers({ Greet, Shout });
    const task = await engine.createTask('hello', { namespace: 'dist', context: { name: label } });
    const outcome = await engine.handle(task.uuid);
    const done = await engine.getTask(task.uuid);
    const result = done.step('shout').result;
    if (outcome.action !== 'complete' || done.state !== 'complete' || result !== `HELLO ${label.toUpperCase()}`) {
      throw new Error(`outcome ${outcome.action}, task ${done.state}, result ${JSON.stringify(result)}`);
    }
  } finally {
    await engine.close();
  }
  const loaded = [...new Set(require('fs').readFileSync('/proc/self/maps', 'utf8').split('\n')
    .filter((l) => l.includes('libtasker')).map((l) => l.trim().split(/\s+/).pop()))];
  const own = require('path').join(__dirname, 'node_modules', '@tasker-native', 'linux-x64') + '/';
  if (!loaded.length || !loaded.every((p) => p.startsWith(own))) throw new Error(`the library loaded must be the package's own: ${loaded}`);
  console.log(`node (${label}): task complete with ${loaded[0]}; version ${tasker.version()}`);
};
JS
  printf '%s\n' "require('./workflow.js')(require('tasker'), 'require').catch((e) => { console.error(e); process.exit(1); });" >"$app/cjs.js"
  printf '%s\n' "import tasker, { Engine } from 'tasker';" "import { createRequire } from 'node:module';" \
    "if (Engine !== tasker.Engine) throw new Error('named and default imports differ');" \
    "await createRequire(import.meta.url)('./workflow.js')(tasker, 'import');" >"$app/esm.mjs"
  (
    cd "$app"
    npm install --no-audit --no-fund --loglevel=error
    node cjs.js
    node esm.mjs
    [ "$(node -p "require('tasker/package.json').version")" = "$version" ]
  )
}
node_without_platform_package() {
  local app=$work/node-bare
  rm -rf "$app"; mkdir -p "$app"
  printf '{ "name": "bare", "private": true, "dependencies": { "tasker-native": "file:%s" } }\n' "$npm_main" >"$app/package.json"
  (
    cd "$app"
    npm install --no-audit --no-fund --loglevel=error --omit=optional
    node -e "
      const tasker = require('tasker-native');
      try { new tasker.Engine(); } catch (e) {
        console.log(e.message);
        if (!e.message.includes('npm install @tasker-native/linux-x64') || e.message.includes('build.sh')) process.exit(1);
        process.exit(0);
      }
      console.log('an engine opened without the platform package'); process.exit(1);"
  )
}
if command -v node >/dev/null && command -v npm >/dev/null; then
  check "node: @tasker-native/linux-x64 carries libtasker.so; tasker-native lists it as an optional dependency" node_package_carries_library
  check "node: the tarballs in a fresh folder run a workflow with require('tasker') and import (npm alias)" node_workflow
  check "node: without the platform package, the error names it" node_without_platform_package
else
  check "node: node and npm are installed" false
fi

# --- C ------------------------------------------------------------------------------------------------------------
bundle_tar=$dist/tasker-$version-linux-x64.tar.gz
prefix=$work/c/tasker-$version-linux-x64

c_bundle_layout() {
  has "$bundle_tar"
  rm -rf "$work/c"; mkdir -p "$work/c"
  tar -C "$work/c" -xzf "$bundle_tar"
  [ -f "$prefix/include/tasker.h" ]
  [ -f "$prefix/lib/libtasker.so.$abi" ]
  [ ! -L "$prefix/lib/libtasker.so.$abi" ]
  [ "$(readlink "$prefix/lib/libtasker.so")" = "libtasker.so.$abi" ]
  [ "$(objdump -p "$prefix/lib/libtasker.so.$abi" | awk '$1 == "SONAME" { print $2 }')" = "libtasker.so.$abi" ]
  [ -f "$prefix/lib/cmake/tasker/tasker-config.cmake" ]
  [ -f "$prefix/lib/pkgconfig/tasker.pc" ]
}
# The operator command is in the bundle (./build.sh dist publishes it) and is this release's: one published from
# another release's sources reports that release's version.
c_bundle_command() {
  local reported
  [ -x "$prefix/bin/tasker" ] || { echo "missing or not executable: bin/tasker"; return 1; }
  reported=$("$prefix/bin/tasker" --version)
  # The informational version: <VERSION>, with +<commit> when built from a git checkout.
  case "$reported" in "$version" | "$version+"*) ;; *) echo "bin/tasker --version reports '$reported', not $version"; return 1 ;; esac
  echo "bin/tasker --version: $reported"
}
# Runs a program built against the bundle and checks the libtasker it loaded is the bundle's.
run_c() { # program
  local loaded
  loaded=$(readlink -f "$(ldd "$1" | awk '/libtasker/ { print $3 }')")
  [ "$loaded" = "$prefix/lib/libtasker.so.$abi" ] || { echo "$1 resolves libtasker to '$loaded'"; return 1; }
  "$1"
}
c_cmake() {
  local package
  mkdir -p "$work/cmake-src"
  cp "$consumer_c" "$work/cmake-src/main.c"
  for package in Tasker tasker; do
    cat >"$work/cmake-src/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.16)
project(consumer LANGUAGES C)
find_package($package $version REQUIRED)
add_executable(consumer main.c)
target_link_libraries(consumer PRIVATE tasker::tasker)
CMAKE
    rm -rf "$work/cmake-build"
    cmake -S "$work/cmake-src" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
    cmake --build "$work/cmake-build" >/dev/null
    echo "find_package($package):"
    run_c "$work/cmake-build/consumer"
  done
}
c_pkg_config() {
  export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
  [ "$(pkg-config --modversion tasker)" = "$version" ]
  # shellcheck disable=SC2046 # the flags are words
  cc -std=c11 -Wall -Wextra -Werror "$consumer_c" -o "$work/pc-consumer" $(pkg-config --cflags --libs tasker) \
    -Wl,-rpath,"$(pkg-config --variable=libdir tasker)"
  run_c "$work/pc-consumer"
}
check "c: the bundle holds include/, lib/libtasker.so.$abi (its SONAME) with the libtasker.so link, cmake/, pkgconfig/" c_bundle_layout
check "c: the bundle's bin/tasker reports version $version" c_bundle_command
check "c: a program built with CMake (find_package(Tasker) and find_package(tasker)) runs against the bundle" c_cmake
check "c: a program built with pkg-config runs against the bundle" c_pkg_config

if [ "$failures" -gt 0 ]; then echo "dist_test: $failures check(s) failed"; exit 1; fi
echo "dist_test: every package installs and runs a workflow from $dist alone"
