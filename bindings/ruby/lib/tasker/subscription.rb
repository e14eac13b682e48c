# frozen_string_literal: true

require "json"

module Tasker
  # Pulled batches of events (see docs/events.md). `each` yields what is buffered now; `dropped` counts overflow.
  class Subscription
    include Enumerable
    include ForkGuard
    attr_reader :dropped

    def initialize(engine, pattern, capacity)
      pointer = Native.open_subscription(engine.handle_pointer, pattern.to_s, capacity)
      @pointer = FFI::AutoPointer.new(pointer, Native::Releaser.new(:tasker_subscription_free))
      @pid = Process.pid
      @dropped = 0
    end

    def pull(max_events = 1000)
      raise InvalidHandleError, "the subscription is closed" if @pointer.nil?

      check_process!("subscription")
      batch = JSON.parse(Native.pull(@pointer, max_events))
      @dropped = batch["dropped"]
      batch["events"]
    end

    def each(&block)
      while (events = pull).any?
        events.each(&block)
      end
    end

    def close
      @pointer&.free
      @pointer = nil
    end
  end
end
