# frozen_string_literal: true

module Tasker
  # Code that must run around every handler run, on the thread that runs it: the Rails executor (so ActiveRecord
  # connections go back to the pool when the step ends), a request store reset, an APM transaction. Wrappers nest
  # in the order they were added (the first is outermost). The Railtie adds the Rails executor; add your own with
  #
  #   Tasker.wrap_handlers_with { |context, &run| MyApm.transaction(context.step.name) { run.call } }
  #
  # Wait wrappers surround the time `handle`'s calling thread blocks until a handler thread finishes (never a
  # handler run). The Railtie adds ActiveSupport's `permit_concurrent_loads` there: a request thread waiting on
  # handler threads must let them autoload, or in development both wait for each other.
  module HandlerWrapper
    @wrappers = []
    @wait_wrappers = []
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
        wrappers = @wrappers
        return yield if wrappers.empty? # the usual case, without building the chain

        wrappers.reverse.reduce(run) { |inner, wrapper| -> { wrapper.call(context, &inner) } }.call
      end

      def add_wait(&wrapper)
        raise ArgumentError, "a wait wrapper needs a block taking (&wait)" unless wrapper

        @lock.synchronize { @wait_wrappers = [*@wait_wrappers, wrapper].freeze }
        wrapper
      end

      def remove_wait(wrapper)
        @lock.synchronize { @wait_wrappers = (@wait_wrappers - [wrapper]).freeze }
      end

      # Runs the blocking wait inside every wait wrapper; returns the block's value.
      def wait(&block)
        @wait_wrappers.reverse.reduce(block) { |inner, wrapper| -> { wrapper.call(&inner) } }.call
      end
    end
  end

  def self.wrap_handlers_with(&wrapper) = HandlerWrapper.add(&wrapper)
  def self.wrap_waits_with(&wrapper) = HandlerWrapper.add_wait(&wrapper)
end
