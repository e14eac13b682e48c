# frozen_string_literal: true

require_relative "rails_compat/objects"
require_relative "rails_compat/handler_adapter"
require_relative "step_handler/base"
require_relative "step_handler/api"

module Tasker
  # Runs Rails Tasker step handlers (`Tasker::StepHandler::Base` / `::Api` subclasses with
  # `process(task, sequence, step)`) unchanged: registering one wraps it in a HandlerAdapter, which turns this
  # binding's step context into Rails Tasker's task, sequence and step objects and back.
  module RailsCompat
    module_function

    # What Engine#register_handler stores: Rails Tasker handlers adapted, anything else as given.
    def adapt(handler)
      rails_class = handler.is_a?(Class) && handler <= Tasker::StepHandler::Base
      return HandlerAdapter.new(handler) if rails_class || handler.is_a?(Tasker::StepHandler::Base)

      handler
    end
  end
end
