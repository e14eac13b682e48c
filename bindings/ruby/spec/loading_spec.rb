# frozen_string_literal: true

require_relative "spec_helper"
require "open3"
require "rbconfig"

# Finding and loading libtasker: clear errors for a library of another ABI, or one that is not libtasker. Each case
# runs in a fresh Ruby process (the binding loads the library once per process, at require).
RSpec.describe "loading libtasker" do
  let(:open_engine_script) do
    <<~RB
      require "tasker"
      begin
        Tasker::Engine.open { nil }
      rescue Tasker::Error => e
        puts "\#{e.class.name.split("::").last} | \#{e.message}"
      end
    RB
  end

  around do |example|
    Dir.mktmpdir("tasker-loading") do |dir|
      @dir = dir
      example.run
    end
  end

  # Runs open_engine_script with `lib` on the load path and `env` over this process's environment (nil unsets).
  def open_engine(lib, env)
    ruby_with(lib, env, code: open_engine_script)
  end

  def ruby_with(lib, env, code:)
    out, err, = Open3.capture3(ENV.to_h.merge(env), RbConfig.ruby, "-I", lib, "-rtasker", "-e", code, chdir: @dir)
    [out.strip, err]
  end

  def stub_library(source)
    skip "no C compiler (cc) to build a stub library" unless system("cc --version", out: File::NULL, err: File::NULL)
    File.write(File.join(@dir, "stub.c"), "#include <stdint.h>\n#{source}")
    lib = File.join(@dir, "libstub.so")
    system("cc", "-shared", "-fPIC", "-o", lib, File.join(@dir, "stub.c"), exception: true)
    lib
  end

  let(:checkout_lib) { File.expand_path("../lib", __dir__) }
  let(:version) { Tasker::VERSION }

  it "refuses a library of another ABI version, naming the gem of this release (and the build in a checkout)" do
    lib = stub_library("uint32_t tasker_abi_version(void) { return 99; }\n")
    out, err = open_engine(checkout_lib, "TASKER_LIBRARY_PATH" => lib)
    expect(out).to eq("AbiMismatchError | libtasker at #{lib} has ABI version 99; this binding needs 2: " \
                      "TASKER_LIBRARY_PATH names a libtasker of another release: unset it to use the library inside " \
                      "the gem (gem install tasker-native -v #{version}), or point it at the libtasker of release " \
                      "#{version} (in this checkout: ./build.sh native)"), err
  end

  it "names the gem to install, not a build step, when an installed gem's library is of another ABI" do
    # The gem as installed (lib/ with its VERSION and native/), away from the checkout.
    gem_lib = File.join(@dir, "gem", "lib")
    FileUtils.mkdir_p(gem_lib)
    FileUtils.cp_r(Dir[File.join(checkout_lib, "*")], gem_lib)
    FileUtils.rm_rf(File.join(gem_lib, "tasker", "native"))
    FileUtils.mkdir_p(File.join(gem_lib, "tasker", "native"))
    File.write(File.join(gem_lib, "tasker", "VERSION"), "7.8.9\n")
    library = File.join(gem_lib, "tasker", "native", "libtasker.so")
    FileUtils.cp(stub_library("uint32_t tasker_abi_version(void) { return 99; }\n"), library)
    out, err = open_engine(gem_lib, "TASKER_LIBRARY_PATH" => nil)
    expect(out).to eq("AbiMismatchError | libtasker at #{library} has ABI version 99; this binding needs 2: the " \
                      "library inside the gem is from another release: gem install tasker-native -v 7.8.9"), err
  end

  it "refuses a library of this ABI version that lacks a function the binding needs" do
    lib = stub_library("uint32_t tasker_abi_version(void) { return 2; }\n")
    out, err = open_engine(checkout_lib, "TASKER_LIBRARY_PATH" => lib)
    expect(out).to start_with("AbiMismatchError | libtasker at #{lib} has no tasker_version, tasker_error_code"), err
  end

  it "refuses a library that is not libtasker" do
    lib = stub_library("int something_else(void) { return 0; }\n")
    out, err = open_engine(checkout_lib, "TASKER_LIBRARY_PATH" => lib)
    expect(out).to start_with("AbiMismatchError | #{lib} is not libtasker: it has no tasker_abi_version: " \
                              "TASKER_LIBRARY_PATH names"), err
  end

  it "checks the library before Tasker.library_version answers" do
    lib = stub_library("uint32_t tasker_abi_version(void) { return 99; }\nconst char *tasker_version(void) { return \"9\"; }\n")
    out, err = ruby_with(checkout_lib, { "TASKER_LIBRARY_PATH" => lib },
                         code: "begin; Tasker.library_version; rescue Tasker::Error => e; puts e.class.name.split('::').last; end")
    expect(out).to eq("AbiMismatchError"), err
  end

  it "does not load net/http until an Api step handler makes its connection" do
    # Every Sidekiq process requires tasker; net/http (with socket, uri, zlib) is about 2 MB of each, for Api
    # handlers only. The connection class still resolves (autoload) on first use.
    out, err = ruby_with(checkout_lib, {}, code: <<~'RB')
      Tasker::Engine.open { nil }
      before = $LOADED_FEATURES.grep(%r{/net/http\.rb\z}).size
      Tasker::StepHandler::HttpConnection.new(url: "http://127.0.0.1:9")
      puts [before, $LOADED_FEATURES.grep(%r{/net/http\.rb\z}).size].join(" ")
    RB
    expect(out).to eq("0 1"), err
  end
end
