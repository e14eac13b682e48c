# frozen_string_literal: true

module Tasker
  # Which handlers finish too soon to be worth a pool thread.
  #
  # Handing a step to a pool thread and getting its report back costs about 90 µs here (waking the thread, the GVL
  # going back and forth; docs/performance.md). A handler that runs in less than that is done sooner on the calling
  # thread, one after the other: for such a handler the pool buys no overlap, only the hand-off. So `handle` keeps, per
  # handler name, how long its last runs took, and runs the steps of a handler whose median run is under QUICK_SECONDS
  # on the calling thread. The median, not the mean: one run stretched by the scheduler or a garbage collection does
  # not send a quick handler back to the pool, while one that turns slow goes back within three runs, and one run
  # that blocks (over BLOCKED_SECONDS: a cache miss that became an HTTP call) sends it back at once, so the rest of
  # its wave runs on the pool instead of one after the other. A handler never seen yet, or one that waits on I/O,
  # goes to the pool as before.
  class HandlerTimes
    QUICK_SECONDS = 50e-6
    BLOCKED_SECONDS = 5e-3
    RUNS = 5 # the runs whose median decides

    def initialize
      @runs = Hash.new { |hash, handler| hash[handler] = [] }
      @quick = {}
      @lock = Mutex.new # pool threads record too
    end

    def record(handler, seconds)
      @lock.synchronize do
        runs = @runs[handler]
        runs.clear if seconds > BLOCKED_SECONDS
        runs.shift if runs.size == RUNS
        runs << seconds
        # A quick run of a quick handler keeps it quick (the runs under the line can only have grown in number):
        # the median is looked at only when that could change.
        @quick[handler] = runs.sort[runs.size / 2] < QUICK_SECONDS unless seconds < QUICK_SECONDS && @quick[handler]
      end
    end

    def quick?(handler) = @quick.fetch(handler, false)

    # A handler registered again under this name is another handler: its times start over.
    def forget(handler)
      @lock.synchronize do
        @runs.delete(handler)
        @quick.delete(handler)
      end
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
