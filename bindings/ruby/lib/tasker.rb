# frozen_string_literal: true

# Tasker Native for Ruby: the embeddable DAG workflow engine. See bindings/ruby/README.md.
require_relative "tasker/version"
require_relative "tasker/errors"
require_relative "tasker/native"
require_relative "tasker/step_handler"
require_relative "tasker/outcome"
require_relative "tasker/engine"

module Tasker
  def self.library_version = Native.tasker_version
end
