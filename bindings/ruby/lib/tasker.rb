# frozen_string_literal: true

# Tasker Native for Ruby: the embeddable DAG workflow engine. See bindings/ruby/README.md.
require_relative "tasker/version"
require_relative "tasker/errors"
require_relative "tasker/native"
require_relative "tasker/fork_guard"
require_relative "tasker/json_value"
require_relative "tasker/step_context"
require_relative "tasker/step_handler"
require_relative "tasker/outcome"
require_relative "tasker/thread_pool"
require_relative "tasker/handler_times"
require_relative "tasker/runner"
require_relative "tasker/subscription"
require_relative "tasker/engine"
require_relative "tasker/logger"
require_relative "tasker/failure_log"
require_relative "tasker/worker"
require_relative "tasker/handler_wrapper"
require_relative "tasker/rails_compat"
require_relative "tasker/railtie" if defined?(Rails::Railtie)

module Tasker
  # The loaded library's version; refuses a library of another ABI (or one that is not libtasker) first.
  def self.library_version
    Native.ensure_abi!
    Native.tasker_version
  end
end
