# frozen_string_literal: true

Gem::Specification.new do |spec|
  spec.name = "tasker-native"
  spec.version = "0.1.0"
  spec.summary = "Tasker Native for Ruby: an embeddable DAG workflow engine (bindings to libtasker)"
  spec.authors = ["Tasker Native"]
  spec.license = "MIT"
  spec.required_ruby_version = ">= 3.0"
  spec.files = Dir["lib/**/*.rb", "lib/tasker/native/*", "README.md"]
  spec.require_paths = ["lib"]
  spec.add_dependency "ffi", ">= 1.15"
  # Sidekiq is optional: require "tasker/sidekiq" only where it is installed.
end
