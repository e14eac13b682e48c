# frozen_string_literal: true

module Tasker
  # Which handlers finish too soon to be worth a pool thread.
  #
  # Handing a step to a pool thread and getting its report back costs about 90 µs here (waking the thread, the GVL
  # going back and forth; docs/performance.md). A handler that runs in less than that is done sooner on the calling
  # thread, one after the other: for such a handler the pool buys no overlap, only the hand-off. So `handle` keeps, per
  # handler name, a moving average of how long its runs took, and runs the steps of a handler under QUICK_SECONDS on
  # the calling thread. A handler never seen yet, or one that waits on I/O, goes to the pool as before; one that turns
  # slow goes back to the pool after a run or two (the average moves a quarter of the way to each new run).
  class HandlerTimes
    QUICK_SECONDS = 50e-6
    WEIGHT = 0.25

    def initialize
      @average = {}
      @lock = Mutex.new # pool threads record too; a Hash is not safe to write from several threads on every Ruby
    end

    def record(handler, seconds)
      @lock.synchronize do
        previous = @average[handler]
        @average[handler] = previous.nil? ? seconds : previous + ((seconds - previous) * WEIGHT)
      end
    end

    def quick?(handler)
      average = @average[handler]
      !average.nil? && average < QUICK_SECONDS
    end

    # Times the block as a run of `handler`; returns the block's value.
    def time(handler)
      started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      yield
    ensure
      record(handler, Process.clock_gettime(Process::CLOCK_MONOTONIC) - started)
    end
  end
end
