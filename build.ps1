#!/usr/bin/env pwsh
# Tasker Native build entry point for Windows: the twin of build.sh (same commands, same output folders).
# `./build.ps1 help` lists the commands. Requires PowerShell 7, the .NET 10 SDK, and for ctest CMake + a C compiler.
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
$Suites = [System.Collections.Generic.List[string]]::new()

function Section([string] $Text) { Write-Host "`n==> $Text" }

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
  ctest     build the C examples and run the C ABI tests (CTest); needs `native`
  parity    check the header, the C# exports and the bindings agree (needs bash: scripts/abi-parity.sh)
  bench     run the C# benchmarks (extra args go to BenchmarkDotNet, e.g. --filter '*' --job short)
  deps      check the tools the tests need are installed
  clean     remove build outputs (artifacts/, build/, .tmp/)
'@ | Write-Host
}

function Invoke-Build {
    Section 'dotnet build'
    Invoke-Checked dotnet @('build', 'TaskerNative.sln', '-c', 'Release', '--nologo', '-v', 'quiet')
}

function Invoke-Native {
    # Skip the AOT publish when the library is newer than every C# source file.
    $upToDate = $false
    if ((Test-Path $Lib) -and $env:FORCE -ne '1') {
        $libTime = (Get-Item $Lib).LastWriteTime
        $newer = Get-ChildItem src -Recurse -File -Include *.cs, *.csproj, *.sql | Where-Object { $_.LastWriteTime -gt $libTime } | Select-Object -First 1
        $upToDate = $null -eq $newer
    }
    if ($upToDate) { Write-Host "tasker is up to date: $Lib" }
    else {
        Section "publish tasker ($Rid)"
        Invoke-Checked dotnet @('publish', 'src/Tasker.Native/Tasker.Native.csproj', '-c', 'Release', '-r', $Rid, '-o', $LibDir, '--nologo', '-v', 'quiet')
    }
    foreach ($dest in @('bindings/python/src/tasker/_native', 'bindings/ruby/lib/tasker/native', 'bindings/node/native')) {
        if (Test-Path (Split-Path $dest -Parent)) {
            New-Item -ItemType Directory -Force -Path $dest | Out-Null
            Copy-Item $Lib $dest -Force
        }
    }
}

function Invoke-CTest {
    if (-not (Test-Path CMakeLists.txt)) { Write-Host 'ctest: no CMakeLists.txt yet'; return }
    Invoke-Native
    Section 'C examples and ABI tests (CTest)'
    Invoke-Checked cmake @('-S', '.', '-B', 'build/cmake', '-DCMAKE_BUILD_TYPE=Release', "-DTASKER_RID=$Rid")
    Invoke-Checked cmake @('--build', 'build/cmake', '--config', 'Release', '-j', '2')
    Invoke-Checked ctest @('--test-dir', 'build/cmake', '-C', 'Release', '--output-on-failure')
    $Suites.Add('ctest')
}

function Invoke-Parity {
    if (-not (Test-Path scripts/abi-parity.sh)) { Write-Host 'parity: scripts/abi-parity.sh not present'; return }
    Section 'ABI parity'
    $env:TASKER_LIBRARY_PATH = (Resolve-Path $Lib).Path
    Invoke-Checked bash @('scripts/abi-parity.sh')
    $Suites.Add('parity')
}

function Invoke-Deps {
    # Windows has no apt: check what is needed and say what to install.
    $missing = @('dotnet', 'cmake', 'python', 'ruby', 'node') | Where-Object { -not (Get-Command $_ -ErrorAction SilentlyContinue) }
    if ($missing) { Write-Host "deps: missing on PATH: $($missing -join ', ') (install them; Ruby needs the ffi gem)" }
    else { Write-Host 'deps: all present' }
    if (-not $env:TASKER_TEST_DATABASE_URL) { Write-Host 'deps: set TASKER_TEST_DATABASE_URL to a PostgreSQL 15 database for the PostgreSQL tests' }
}

function Invoke-Test {
    Invoke-Deps
    Section 'dotnet tests'
    Invoke-Checked dotnet @('test', 'TaskerNative.sln', '-c', 'Release', '--nologo')
    $Suites.Add('dotnet')
    if (Test-Path src/Tasker.Native/Exports) {
        Invoke-Native
        Invoke-CTest
        Invoke-Parity
        $env:TASKER_LIBRARY_PATH = (Resolve-Path $Lib).Path
        foreach ($lang in @('python', 'ruby', 'node')) {
            if (Test-Path "bindings/$lang/run-tests.sh") {
                Section "$lang binding"
                Invoke-Checked bash @("bindings/$lang/run-tests.sh")
                $Suites.Add($lang)
            }
        }
    }
    Section "all passed: $($Suites -join ' ')"
}

function Invoke-Demo {
    Section 'C# (examples/dotnet)'
    Invoke-Checked dotnet @('run', '--project', 'examples/dotnet/OrderFulfillment', '-c', 'Release')
    if (Test-Path src/Tasker.Native/Exports) {
        Invoke-Native
        $env:TASKER_LIBRARY_PATH = (Resolve-Path $Lib).Path
        if ((Test-Path examples/python/order_fulfillment.py)) { Section 'Python'; Invoke-Checked python @('examples/python/order_fulfillment.py') }
        if ((Test-Path examples/ruby/order_fulfillment.rb) -and (Get-Command ruby -ErrorAction SilentlyContinue)) { Section 'Ruby'; Invoke-Checked ruby @('examples/ruby/order_fulfillment.rb') }
        if (Test-Path examples/node/order_fulfillment.js) {
            if (-not (Test-Path bindings/node/node_modules)) { Push-Location bindings/node; Invoke-Checked npm @('install', '--no-audit', '--no-fund', '--loglevel=error'); Pop-Location }
            Section 'Node'; Invoke-Checked node @('examples/node/order_fulfillment.js')
        }
    }
}

switch ($Command) {
    'demo' { Invoke-Demo }
    'test' { Invoke-Test }
    'build' { Invoke-Build }
    'native' { Invoke-Native }
    'ctest' { Invoke-CTest }
    'parity' { Invoke-Parity }
    'bench' { Invoke-Checked dotnet (@('run', '-c', 'Release', '--project', 'bench/Tasker.Benchmarks', '--') + $Rest) }
    'deps' { Invoke-Deps }
    'clean' { Remove-Item -Recurse -Force -ErrorAction SilentlyContinue artifacts, build, .tmp }
    { $_ -in 'help', '-h', '--help' } { Show-Usage }
    default { Show-Usage; exit 2 }
}
