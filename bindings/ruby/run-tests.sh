#!/usr/bin/env bash
# The Ruby binding's specs, as ./build.sh test runs them: Debian's ruby, ruby-ffi, rspec and sidekiq.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
: "${TASKER_LIBRARY_PATH:?set TASKER_LIBRARY_PATH to libtasker.so (./build.sh native)}"
exec rspec --format progress "${@:-spec}"
