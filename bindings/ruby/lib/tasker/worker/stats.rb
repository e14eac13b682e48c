# frozen_string_literal: true

module Tasker
  class Worker
    # What a worker did (Worker#stats, and what Worker#run returns): steps `completed`, `failed` (handler failures,
    # refused results), `shutdown` (given up at shutdown, reported as WorkerShutdown), `stale` (reports refused: the
    # claim was no longer current; or a step claimed ahead, not run: its lease ran out in hand and the engine refused
    # it, taken over by another worker or past its deadline) and `unreported` (the report itself failed, or the claim
    # of such a step could not be confirmed: the step's lease gives it to the next claim). The same counts as the
    # Python and Node workers'.
    class Stats
      COUNTS = %i[completed failed shutdown stale unreported].freeze

      attr_reader(*COUNTS)

      def initialize
        @lock = Mutex.new
        COUNTS.each { |name| instance_variable_set(:"@#{name}", 0) }
        start
      end

      def steps = completed + failed

      # Called by the worker.
      def start
        @started = @mark = monotonic
        @marked = 0
      end

      def count(what)
        raise ArgumentError, "unknown count #{what.inspect}" unless COUNTS.include?(what)

        @lock.synchronize { instance_variable_set(:"@#{what}", instance_variable_get(:"@#{what}") + 1) }
      end

      # The throughput since the last call: `N steps in S s (R steps/s), F failed in all, K running, Q claimed ahead`.
      def interval_line(running, ahead = 0)
        now = monotonic
        steps, elapsed = @lock.synchronize do
          [self.steps - @marked, now - @mark].tap do
            @marked = self.steps
            @mark = now
          end
        end
        "#{steps} steps in #{format("%.1f", elapsed)} s (#{rate(steps, elapsed)} steps/s), #{failed} failed in all, #{running} running, " \
          "#{ahead} claimed ahead"
      end

      def summary
        elapsed = monotonic - @started
        "#{steps} steps in #{format("%.1f", elapsed)} s (#{rate(steps, elapsed)} steps/s): #{completed} completed, #{failed} failed, " \
          "#{shutdown} reported as WorkerShutdown, #{stale} stale, #{unreported} unreported"
      end

      def to_h = COUNTS.to_h { |name| [name, public_send(name)] }.merge(steps: steps)

      def inspect = "#<Tasker::Worker::Stats #{summary}>"

      private

      def rate(steps, elapsed) = format("%.1f", elapsed.positive? ? steps / elapsed : 0)

      def monotonic = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    end
  end
end
