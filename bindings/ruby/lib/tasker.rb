# frozen_string_literal: true

# Tasker Native for Ruby: the embeddable DAG workflow engine. See bindings/ruby/README.md.
require_relative "tasker/errors"
require_relative "tasker/native"
require_relative "tasker/step_handler"
require_relative "tasker/outcome"
require_relative "tasker/engine"
require_relative "tasker/handler_wrapper"
require_relative "tasker/rails_compat"
require_relative "tasker/railtie" if defined?(Rails::Railtie)

module Tasker
  VERSION = "0.1.0"

  def self.library_version = Native.tasker_version
end
