# frozen_string_literal: true

require_relative "lib/tasker/version"

# Two gems come from this file (./build.sh dist builds both, from a staged copy of this folder):
# - TASKER_GEM_PLATFORM=x86_64-linux: the platform gem, carrying the published lib/tasker/native/libtasker.so;
# - otherwise the plain (`ruby` platform) gem, which builds libtasker at install time from the C# source staged in
#   ext/tasker/source, where a .NET SDK is installed, and says plainly that it needs one where it is not.
Gem::Specification.new do |spec|
  spec.name = "tasker-native"
  spec.version = Tasker::VERSION
  spec.summary = "Tasker Native for Ruby: an embeddable DAG workflow engine (bindings to libtasker)"
  spec.authors = ["Tasker Native"]
  spec.license = "MIT"
  spec.required_ruby_version = ">= 3.0"
  spec.files = Dir["lib/**/*.rb", "lib/tasker/VERSION", "README.md", "bin/tasker-worker"]
  spec.require_paths = ["lib"]
  # `bundle exec tasker-worker`: worker mode from a config file (lib/tasker/worker_command.rb).
  spec.bindir = "bin"
  spec.executables = ["tasker-worker"]
  spec.add_dependency "ffi", "~> 1.15"
  # Sidekiq is optional: require "tasker/sidekiq" only where it is installed.

  platform = ENV.fetch("TASKER_GEM_PLATFORM", "")
  if platform.empty?
    spec.files += Dir["ext/**/*"].select { |path| File.file?(path) }
    spec.extensions = ["ext/tasker/extconf.rb"]
  else
    spec.platform = Gem::Platform.new(platform)
    spec.files += Dir["lib/tasker/native/*"]
  end
end
