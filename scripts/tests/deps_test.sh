#!/usr/bin/env bash
# Tests scripts/deps.sh without a fresh machine: fake dpkg-query, apt-cache, apt-get and id on PATH record what the
# script asks for. The fake apt-cache prints its Candidate line first and a long tail after it, like the real one, so
# a `apt-cache policy | grep -q` under pipefail dies of SIGPIPE here exactly as it did on a fresh machine.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
deps=$here/../deps.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

failures=0
check() { # description command...
  local what=$1; shift
  if "$@"; then echo "ok   - $what"; else echo "FAIL - $what"; failures=$((failures + 1)); fi
}

# fake_machine INSTALLED... : a PATH whose package tools know only the given installed packages.
fake_machine() {
  rm -rf "$work/bin" "$work/state"; mkdir -p "$work/bin" "$work/state"
  : >"$work/state/installed"; : >"$work/state/apt-get.log"
  local p; for p in "$@"; do echo "$p" >>"$work/state/installed"; done
  cat >"$work/bin/dpkg-query" <<SH
#!/usr/bin/env bash
pkg=\${!#}
if grep -qx "\$pkg" "$work/state/installed"; then printf 'install ok installed'; else echo "dpkg-query: no packages found matching \$pkg" >&2; exit 1; fi
SH
  cat >"$work/bin/apt-cache" <<SH
#!/usr/bin/env bash
[ "\$1" = policy ] || exit 1
case "\$2" in gone-from-debian) printf '%s:\n  Installed: (none)\n  Candidate: (none)\n' "\$2"; exit 0 ;; esac
printf '%s:\n  Installed: (none)\n  Candidate: 1.0-1\n  Version table:\n' "\$2"
for i in \$(seq 1 20000); do echo "     1.0-\$i 500 http://deb.debian.org/debian bookworm/main amd64 Packages"; done
SH
  cat >"$work/bin/apt-get" <<SH
#!/usr/bin/env bash
echo "\$*" >>"$work/state/apt-get.log"
if [ "\$1" = install ]; then for a in "\$@"; do case "\$a" in -*|install) ;; *) echo "\$a" >>"$work/state/installed" ;; esac; done; fi
SH
  printf '#!/usr/bin/env bash\n[ "$1" = -u ] && echo 0 || /usr/bin/id "$@"\n' >"$work/bin/id"
  chmod +x "$work/bin"/*
}

run_deps() { # args...: runs deps.sh on the fake machine; output in $work/out
  PATH="$work/bin:$PATH" TASKER_PG_BIN="$work/no-postgres" bash "$deps" "$@" >"$work/out" 2>&1
}
logged() { grep -q -- "$1" "$work/state/apt-get.log"; }
said() { grep -q -- "$1" "$work/out"; }

# 1. A fresh machine: nothing installed. Every package is installed in one apt-get call.
fake_machine
run_deps
check "a fresh machine runs apt-get update" logged '^update'
check "a fresh machine installs redis-server, libcjson-dev, ruby-sidekiq and python3-celery" \
  logged 'install .*redis-server.*libcjson-dev.*ruby-sidekiq.*python3-celery'
check "postgresql-15 is installed when its binaries are absent" logged 'install .*postgresql-15'
check "no package is reported unavailable" bash -c "! grep -q 'not available' '$work/out'"
check "it says what it installs" said 'deps: installing redis-server'

# 2. Everything present: only dpkg-query runs.
fake_machine redis-server cmake libcjson-dev valgrind binutils ruby ruby-ffi ruby-rspec ruby-sidekiq ruby-redis \
  ruby-railties ruby-activerecord ruby-sqlite3 python3-pytest python3-celery python3-redis python3-fastapi python3-httpx \
  chromium postgresql-15 python3-venv python3-pip python3-setuptools ruby-bundler pkg-config
run_deps
check "nothing missing: apt-get is never called" test ! -s "$work/state/apt-get.log"
check "nothing missing: it says all are present" said 'all .* packages present'

# 3. Plan mode changes nothing and lists what is missing.
fake_machine cmake
run_deps --plan
check "--plan calls no apt-get" test ! -s "$work/state/apt-get.log"
check "--plan lists the missing packages" said 'missing .*redis-server'

# 4. A package the archive no longer has is skipped with a warning; the rest still install.
fake_machine
sed 's/^  redis-server  /  gone-from-debian redis-server  /' "$here/../deps.sh" >"$work/deps.sh"
grep -q gone-from-debian "$work/deps.sh" || { echo "FAIL - could not add a package to a copy of deps.sh"; exit 1; }
deps=$work/deps.sh run_deps
check "an unavailable package is named in a warning" said 'gone-from-debian is not available'
check "the available ones are still installed" logged 'install .*redis-server'

if [ "$failures" -ne 0 ]; then echo "deps_test: $failures failed"; exit 1; fi
echo "deps_test: all passed"
