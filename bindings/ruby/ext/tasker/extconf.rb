# frozen_string_literal: true

# The plain tasker-native gem builds libtasker when it is installed: `dotnet publish` (NativeAOT) of the C# source
# that ./build.sh dist staged in ext/tasker/source, into lib/tasker/native/. RubyGems runs this file, then `make`
# and `make install` on the Makefile it writes. Where no .NET SDK is installed it stops here and says what to
# install instead.
require "rbconfig"

source = File.join(__dir__, "source")
native = File.expand_path("../../lib/tasker/native", __dir__)
rid = case [RbConfig::CONFIG["host_os"], RbConfig::CONFIG["host_cpu"]]
      in [/linux/, /x86_64|amd64/] then "linux-x64"
      in [/linux/, /aarch64|arm64/] then "linux-arm64"
      in [/darwin/, /arm64|aarch64/] then "osx-arm64"
      in [/darwin/, _] then "osx-x64"
      in [/mingw|mswin/, _] then "win-x64"
      else abort "tasker-native: no .NET runtime identifier for #{RbConfig::CONFIG["host_os"]} #{RbConfig::CONFIG["host_cpu"]}"
      end
library = { "osx" => "libtasker.dylib", "win" => "tasker.dll" }.fetch(rid.split("-").first, "libtasker.so")
# The platform gem for this machine: RubyGems' name for $rid, as scripts/dist.sh names the gem it builds there. Only
# x86_64-linux (glibc) is built and tested here; the others exist where someone ran ./build.sh dist on that platform.
gem_platform = { "linux-x64" => "x86_64-linux", "linux-arm64" => "aarch64-linux", "osx-x64" => "x86_64-darwin",
                 "osx-arm64" => "arm64-darwin", "win-x64" => "x64-mingw-ucrt" }.fetch(rid)
platform_gem = "gem install tasker-native --platform #{gem_platform} " \
               "(with Bundler: bundle lock --add-platform #{gem_platform})"

unless File.file?(File.join(source, "src", "Tasker.Native", "Tasker.Native.csproj"))
  abort "tasker-native: this gem carries no libtasker source (it was built outside ./build.sh dist): install the " \
        "platform gem instead: #{platform_gem}; or set TASKER_LIBRARY_PATH"
end
dotnet = ENV.fetch("DOTNET", "dotnet")
unless system(dotnet, "--version", out: File::NULL, err: File::NULL)
  abort "tasker-native: building libtasker from source needs the .NET 10 SDK (`dotnet` on PATH). " \
        "Without it, install the prebuilt platform gem: #{platform_gem}, or set TASKER_LIBRARY_PATH to a " \
        "libtasker you built"
end

publish = [dotnet, "publish", File.join(source, "src", "Tasker.Native", "Tasker.Native.csproj"), "-c", "Release",
           "-r", rid, "-o", File.join(source, "publish"), "--nologo", "-v", "quiet"]
quote = ->(word) { "'#{word.gsub("'") { "'\\''" }}'" } # a word for sh: it's -> 'it'\''s'
File.write("Makefile", <<~MAKE)
  # Written by extconf.rb: publishes libtasker (about a minute) and puts it where the gem loads it from.
  all:
  \t#{publish.map(&quote).join(" ")}
  \tmkdir -p #{quote.(native)}
  \tcp #{quote.(File.join(source, "publish", library))} #{quote.(native)}/
  install: all
  clean:
MAKE
