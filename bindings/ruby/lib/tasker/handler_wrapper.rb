# frozen_string_literal: true

module Tasker
  # Code that must run around every handler run, on the thread that runs it: the Rails executor (so ActiveRecord
  # connections go back to the pool when the step ends), a request store reset, an APM transaction. Wrappers nest
  # in the order they were added (the first is outermost). The Railtie adds the Rails executor; add your own with
  #
  #   Tasker.wrap_handlers_with { |context, &run| MyApm.transaction(context.step.name) { run.call } }
  module HandlerWrapper
    @wrappers = []
    @lock = Mutex.new

    class << self
      def add(&wrapper)
        raise ArgumentError, "a handler wrapper needs a block taking (context, &run)" unless wrapper

        @lock.synchronize { @wrappers = [*@wrappers, wrapper].freeze }
        wrapper
      end

      def remove(wrapper)
        @lock.synchronize { @wrappers = (@wrappers - [wrapper]).freeze }
      end

      # Runs the block inside every wrapper; returns the block's value.
      def call(context, &run)
        @wrappers.reverse.reduce(run) { |inner, wrapper| -> { wrapper.call(context, &inner) } }.call
      end
    end
  end

  def self.wrap_handlers_with(&wrapper) = HandlerWrapper.add(&wrapper)
end
