#!/usr/bin/env pwsh
# Tasker Native build entry point for Windows: the twin of build.sh (same commands, same output folders).
# `./build.ps1 help` lists the commands. Requires PowerShell 7, the .NET 10 SDK, and for ctest CMake + a C compiler.
# Differences from build.sh: `deps` only checks and explains (no apt), and `test` starts no servers: the
# PostgreSQL and Redis tests use TASKER_TEST_DATABASE_URL and TASKER_TEST_REDIS_URL when they are set.
param(
    [Parameter(Position = 0)] [string] $Command = 'help',
    [Parameter(ValueFromRemainingArguments = $true)] [string[]] $Rest = @()
)
$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot

$Rid = if ($env:TASKER_RID) { $env:TASKER_RID } else { 'win-x64' }
$LibDir = "artifacts/lib/$Rid"
$LibName = if ($Rid -like 'osx-*') { 'libtasker.dylib' } elseif ($Rid -like 'win-*') { 'tasker.dll' } else { 'libtasker.so' }
$Lib = "$LibDir/$LibName"
$BinDir = "artifacts/bin/$Rid"
$Cli = if ($Rid -like 'win-*') { "$BinDir/tasker.exe" } else { "$BinDir/tasker" }

function Section([string] $Text) { Write-Host "`n==> $Text" }

# Native programs do not throw on failure: check the exit code.
function Invoke-Checked([string] $Exe, [string[]] $Arguments) {
    & $Exe @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Exe $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

function Show-Usage {
    @'
usage: ./build.ps1 <command> [args]

  demo      run the order-fulfillment example on the embedded memory store (every language available)
  test      run every test suite (PostgreSQL tests need TASKER_TEST_DATABASE_URL; Redis tests TASKER_TEST_REDIS_URL)
  build     build the .NET solution (Release)
  native    publish tasker.dll (NativeAOT) to artifacts/lib/<rid>/ and copy it into the bindings
  cli       publish the `tasker` operator command (NativeAOT) to artifacts/bin/<rid>/tasker.exe
  ctest     build the C examples and run the C ABI tests (CTest); publishes the library first if needed
  parity    check the header, the C# exports and the bindings agree (needs bash: scripts/abi-parity.sh)
  dist      build the packages (Python wheel + sdist, gems, npm packages, C bundle with bin/tasker) into dist/ (needs bash: scripts/dist.sh)
  bench     run the C# benchmarks (extra args go to BenchmarkDotNet, e.g. --filter '*' --job short)
  migrate   apply the PostgreSQL migrations to TASKER_DATABASE_URL or DATABASE_URL (extra args, e.g. --schema S)
  deps      check the tools the tests need are installed
  clean     remove build outputs (artifacts/, build/, .tmp/, dist/)

environment: TASKER_RID (default win-x64), FORCE=1 (native: publish even when up to date)
'@ | Write-Host
}

function Invoke-Build {
    Section 'dotnet build'
    Invoke-Checked dotnet @('build', 'TaskerNative.sln', '-c', 'Release', '--nologo', '-v', 'quiet')
}

# True when some input of $Target (anything under src/ but build outputs, or the shared props) is newer than it.
function Test-NativeStale([string] $Target = $Lib) {
    if (-not (Test-Path $Target)) { return $true }
    $libTime = (Get-Item $Target).LastWriteTime
    $inputs = @(Get-ChildItem src -Recurse -File | Where-Object { $_.FullName -notmatch '[\\/](bin|obj)[\\/]' })
    # The header gives the SONAME's ABI version, VERSION tasker_version().
    $inputs += @(Get-ChildItem -File -ErrorAction SilentlyContinue Directory.Build.props, Directory.Packages.props, global.json, include/tasker.h, VERSION)
    return $null -ne ($inputs | Where-Object { $_.LastWriteTime -gt $libTime } | Select-Object -First 1)
}

function Invoke-Native {
    # The AOT publish takes about a minute: skip it when nothing changed.
    if ($env:FORCE -eq '1' -or (Test-NativeStale)) {
        Section "publish tasker ($Rid)"
        Invoke-Checked dotnet @('publish', 'src/Tasker.Native/Tasker.Native.csproj', '-c', 'Release', '-r', $Rid, '-o', $LibDir, '--nologo', '-v', 'quiet')
    }
    else { Write-Host "tasker is up to date: $Lib" }
    # Each binding can also load the library from inside its own package.
    foreach ($dest in @('bindings/python/src/tasker/_native', 'bindings/ruby/lib/tasker/native', 'bindings/node/native')) {
        if (Test-Path (Split-Path $dest -Parent)) {
            New-Item -ItemType Directory -Force -Path $dest | Out-Null
            Copy-Item $Lib $dest -Force
        }
    }
}

# The operator command: one self-contained executable (the CMake install copies it to bin/).
function Invoke-Cli {
    if ($env:FORCE -eq '1' -or (Test-NativeStale $Cli)) {
        Section "publish the tasker command ($Rid)"
        # Published into obj/ first: only the executable belongs in artifacts/bin (not its .pdb or .xml files).
        Invoke-Checked dotnet @('publish', 'src/Tasker.Cli/Tasker.Cli.csproj', '-c', 'Release', '-r', $Rid, '-o', "artifacts/obj/cli-$Rid", '--nologo', '-v', 'quiet')
        New-Item -ItemType Directory -Force -Path $BinDir | Out-Null
        Copy-Item "artifacts/obj/cli-$Rid/$(Split-Path $Cli -Leaf)" $Cli -Force
    }
    else { Write-Host "the tasker command is up to date: $Cli" }
}

function Invoke-CMakeBuild {
    Invoke-Checked cmake @('-S', '.', '-B', 'build/cmake', '-DCMAKE_BUILD_TYPE=Release', "-DTASKER_RID=$Rid")
    Invoke-Checked cmake @('--build', 'build/cmake', '--config', 'Release', '-j', '2')
}

function Invoke-CTest {
    if (-not (Test-Path CMakeLists.txt)) { Write-Host 'ctest: no CMakeLists.txt yet'; return }
    Invoke-Native
    Section 'C examples and ABI tests (CTest)'
    Invoke-CMakeBuild
    Invoke-Checked ctest @('--test-dir', 'build/cmake', '-C', 'Release', '--output-on-failure')
}

function Invoke-Parity {
    if (-not (Test-Path scripts/abi-parity.sh)) { Write-Host 'parity: scripts/abi-parity.sh not present yet'; return }
    Section 'ABI parity'
    $env:TASKER_LIBRARY_PATH = (Resolve-Path $Lib).Path
    Invoke-Checked bash @('scripts/abi-parity.sh')
}

function Invoke-Dist {
    Invoke-Native
    Invoke-Cli  # the C bundle's bin/tasker
    Section 'packages (dist/)'
    $env:TASKER_RID = $Rid
    Invoke-Checked bash @('scripts/dist.sh')
}

# The packages, built and then installed and used from dist/ alone (scripts/tests/dist_test.sh checks the linux-x64 ones).
function Invoke-DistTest {
    Invoke-Dist
    Invoke-Checked bash @('scripts/tests/dist_test.sh')
}

function Invoke-Deps {
    # Windows has no apt: check what is needed and say what to install.
    $missing = @('dotnet', 'cmake', 'python', 'ruby', 'node', 'npm', 'bash') | Where-Object { -not (Get-Command $_ -ErrorAction SilentlyContinue) }
    if ($missing) {
        Write-Host "deps: missing on PATH: $($missing -join ', ')"
        Write-Host '      install the .NET 10 SDK, CMake + Visual Studio C tools, Python 3 (pytest, celery, redis, fastapi, httpx),'
        Write-Host '      Ruby (gems ffi, rspec, sidekiq, redis), Node 20 with npm, and Git for Windows (bash)'
    }
    else { Write-Host 'deps: all present' }
    if (-not $env:TASKER_TEST_DATABASE_URL) {
        Write-Host 'deps: set TASKER_TEST_DATABASE_URL to an empty PostgreSQL 15 database (e.g. postgres://postgres@127.0.0.1:5432/tasker_test) for the PostgreSQL tests'
    }
    if (-not $env:TASKER_TEST_REDIS_URL) {
        Write-Host 'deps: set TASKER_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/0) for the queue adapter tests'
    }
}

# Like build.sh: every suite runs even when an earlier one failed; one summary line at the end.
$Passed = [System.Collections.Generic.List[string]]::new()
$Failed = [System.Collections.Generic.List[string]]::new()
$Skipped = [System.Collections.Generic.List[string]]::new()

# The body runs in a child scope of this function, so it sees the caller's variables (e.g. $name in Invoke-Test):
# these parameter names must not shadow them.
function Invoke-Suite([string] $SuiteName, [string] $SuiteTitle, [scriptblock] $SuiteBody) {
    Section $SuiteTitle
    try { & $SuiteBody; $Passed.Add($SuiteName) }
    catch { Write-Host "!! $SuiteName failed: $_"; $Failed.Add($SuiteName) }
}

# True in a git checkout with no change and no untracked file (a source archive has no .git).
function Test-TreeClean {
    $inside = git rev-parse --is-inside-work-tree 2>$null
    return ($LASTEXITCODE -eq 0 -and $inside -eq 'true' -and -not (git status --porcelain))
}

function Invoke-Test {
    $cleanAtStart = Test-TreeClean
    Section 'dependencies'
    Invoke-Deps
    Invoke-Suite 'lockfiles' 'npm lock files' { Invoke-Checked bash @('scripts/tests/lockfiles_test.sh') }
    Invoke-Suite 'dotnet' 'dotnet tests' { Invoke-Checked dotnet @('test', 'TaskerNative.sln', '-c', 'Release', '--nologo') }
    Invoke-Suite 'native' 'tasker (NativeAOT)' { Invoke-Native }
    Invoke-Suite 'cli' 'tasker command (NativeAOT)' { Invoke-Cli }

    # Everything below loads the published library.
    $later = @()
    if (Test-Path CMakeLists.txt) { $later += 'ctest' }
    if (Test-Path scripts/abi-parity.sh) { $later += 'parity' }
    foreach ($lang in @('python', 'ruby', 'node')) { if (Test-Path "bindings/$lang/run-tests.sh") { $later += $lang } }
    if ($IsLinux) { $later += 'dist' }
    $later += 'cross_language'
    if ($Passed.Contains('native')) {
        $env:TASKER_LIBRARY_PATH = (Resolve-Path $Lib).Path
        foreach ($name in $later) {
            switch ($name) {
                'ctest' { Invoke-Suite 'ctest' 'C ABI tests (CTest)' { Invoke-CTest } }
                'parity' { Invoke-Suite 'parity' 'ABI parity' { Invoke-Parity } }
                'dist' { Invoke-Suite 'dist' 'packages (dist/)' { Invoke-DistTest } }
                'cross_language' { Invoke-Suite 'cross_language' 'Python and Ruby processes on one task (PostgreSQL)' { Invoke-Checked bash @('tests/cross_language/run.sh') } }
                default { Invoke-Suite $name "$name binding" { Invoke-Checked bash @("bindings/$name/run-tests.sh") } }
            }
        }
    }
    else { foreach ($name in $later) { $Skipped.Add($name) } }
    # The dashboard in headless Chromium (needs bash, Python and Chromium, as tests/browser/run.sh says).
    if ($Passed.Contains('native') -and $Passed.Contains('cli')) {
        $env:TASKER_CLI = (Resolve-Path $Cli).Path
        Invoke-Suite 'browser' 'dashboard in Chromium (tests/browser)' { Invoke-Checked bash @('tests/browser/run.sh') }
    }
    else { $Skipped.Add('browser') }
    # A test run writes only to ignored places: checked when it began clean.
    if ($cleanAtStart) {
        Invoke-Suite 'clean_tree' 'the checkout is unchanged by the tests' {
            if (-not (Test-TreeClean)) { git status --porcelain; throw 'the checkout changed during the test run (a test wrote outside the ignored places, or a file was edited)' }
        }
    }
    else { $Skipped.Add('clean_tree') }

    $list = "passed: $(if ($Passed.Count) { $Passed -join ' ' } else { 'none' }); " +
        "failed: $(if ($Failed.Count) { $Failed -join ' ' } else { 'none' }); " +
        "skipped: $(if ($Skipped.Count) { $Skipped -join ' ' } else { 'none' })"
    if ($Failed.Count -eq 0) { Section "test: all passed ($list)" }
    else { Section "test: FAILED ($list)"; exit 1 }
}

# The same order-fulfillment workflow in every language present; each one only when its files exist.
function Invoke-Demos {
    Section 'C# (examples/dotnet)'
    Invoke-Checked dotnet @('run', '--project', 'examples/dotnet/OrderFulfillment', '-c', 'Release')

    Invoke-Native
    $env:TASKER_LIBRARY_PATH = (Resolve-Path $Lib).Path
    if ((Test-Path CMakeLists.txt) -and (Test-Path examples/c)) {
        Section 'C (examples/c)'
        Invoke-CMakeBuild
        # Multi-config generators (Visual Studio) put the program in a Release/ subfolder.
        $exe = Get-ChildItem build/cmake/examples/c -Recurse -File -Include 'order_fulfillment', 'order_fulfillment.exe' | Select-Object -First 1
        if (-not $exe) { throw 'C example: build/cmake/examples/c/order_fulfillment not built' }
        # Windows finds DLLs next to the program or on PATH, not through an rpath.
        $env:PATH = "$((Resolve-Path $LibDir).Path)$([IO.Path]::PathSeparator)$env:PATH"
        Invoke-Checked $exe.FullName @()
    }
    if (Test-Path examples/python/order_fulfillment.py) { Section 'Python (examples/python)'; Invoke-Checked python @('examples/python/order_fulfillment.py') }
    if (Test-Path examples/ruby/order_fulfillment.rb) { Section 'Ruby (examples/ruby)'; Invoke-Checked ruby @('examples/ruby/order_fulfillment.rb') }
    if (Test-Path examples/node/order_fulfillment.js) {
        Section 'Node (examples/node)'
        if (-not (Test-Path bindings/node/node_modules/koffi)) {
            Push-Location bindings/node
            try { Invoke-Checked npm @('install', '--no-audit', '--no-fund', '--loglevel=error') } finally { Pop-Location }
        }
        Invoke-Checked node @('examples/node/order_fulfillment.js')
    }
}

function Invoke-Demo {
    Section 'dependencies'
    Invoke-Deps
    Invoke-Demos
}

function Invoke-Migrate {
    $url = if ($env:TASKER_DATABASE_URL) { $env:TASKER_DATABASE_URL } else { $env:DATABASE_URL }
    if (-not $url) { Write-Host 'migrate: set DATABASE_URL (or TASKER_DATABASE_URL) to the PostgreSQL database'; exit 2 }
    if (Test-Path src/Tasker.Postgres.Migrator) {
        $env:DATABASE_URL = $url
        Invoke-Checked dotnet (@('run', '-c', 'Release', '--project', 'src/Tasker.Postgres.Migrator', '--') + $Rest)
    }
    elseif (Test-Path bench/Tasker.Postgres.Bench) {
        # Until a dedicated migrator exists, the PostgreSQL bench tool's `migrate` command (docs/operations.md) does it.
        Invoke-Checked dotnet (@('run', '-c', 'Release', '--project', 'bench/Tasker.Postgres.Bench', '--', 'migrate', '--database-url', $url) + $Rest)
    }
    else { Write-Host 'migrate: not available yet'; exit 2 }
}

switch ($Command) {
    'demo' { Invoke-Demo }
    'test' { Invoke-Test }
    'build' { Invoke-Build }
    'native' { Invoke-Native }
    'cli' { Invoke-Cli }
    'ctest' { Invoke-CTest }
    'parity' { Invoke-Parity }
    'dist' { Invoke-Dist }
    'bench' { Invoke-Checked dotnet (@('run', '-c', 'Release', '--project', 'bench/Tasker.Benchmarks', '--') + $Rest) }
    'migrate' { Invoke-Migrate }
    'deps' { Invoke-Deps }
    'clean' { Remove-Item -Recurse -Force -ErrorAction SilentlyContinue artifacts, build, .tmp, dist }
    { $_ -in 'help', '-h', '--help' } { Show-Usage }
    default { Show-Usage; exit 2 }
}
