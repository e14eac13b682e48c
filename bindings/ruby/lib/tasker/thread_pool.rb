# frozen_string_literal: true

module Tasker
  # The threads an engine runs handlers on, kept between `handle` calls (starting a Ruby thread per step costs more
  # than a no-op step). A job never waits for a thread: an idle one takes it, or a new one starts, so each `handle`
  # call runs as many handlers at once as its claims (bounded by `concurrency:`). At most `keep` threads stay idle.
  class ThreadPool
    def initialize(keep)
      @keep = keep
      @jobs = Queue.new
      @mutex = Mutex.new
      @idle = 0
      @pid = Process.pid
    end

    def post(&job)
      @mutex.synchronize do
        if @idle.positive? && @pid == Process.pid
          @idle -= 1
        else
          start_thread
        end
      end
      @jobs << job
    end

    # Idle threads end; a running job finishes first (its `handle` is waiting for it).
    def shutdown = @jobs.close

    # For an engine garbage-collected without `close`: a finalizer must not capture the pool's owner.
    def self.closer(pool) = proc { pool.shutdown }

    private

    def start_thread
      if @pid != Process.pid # threads do not survive fork: forget the parent's
        @idle = 0
        @pid = Process.pid
      end
      Thread.new do
        Thread.current.name = "tasker-handler"
        Thread.current.report_on_exception = false
        while (job = @jobs.pop)
          job.call
          break unless @mutex.synchronize { @idle < @keep && (@idle += 1) }
        end
      end
    end
  end
end
