# frozen_string_literal: true

module Tasker
  class Worker
    # Keeps the leases of long-running steps: one thread heartbeats every watched step every third of its lease (the
    # whole lease it was claimed with, not what is left of it), through the step's own `context.heartbeat` (so a stale
    # claim makes `context.cancelled?` true for the handler). Heartbeating stops once the lease reaches the step's
    # deadline: the core never extends a lease beyond it, and fails the attempt there. The same rule in the Python
    # and Node workers.
    class Heartbeats
      Entry = Struct.new(:context, :interval, :due)
      MIN_INTERVAL_SECONDS = 1.0
      # The thread looks at least this often, so that a step whose first heartbeat is further off (a lease of 3 s or
      # more) need not wake it: woken by every step started while none was watched, it took a switch of threads (and
      # of the GVL) a step to learn of a heartbeat minutes away (docs/performance.md, "Session 33").
      TICK_SECONDS = 1.0

      # Every third of the lease, at least 1 s apart, but at most half the lease (a lease under 2 s): two beats may be
      # lost (a slow database) before the lease runs out, and a lease near its deadline is not beaten ever faster.
      def self.interval(lease_seconds) = [[lease_seconds / 3.0, MIN_INTERVAL_SECONDS].max, lease_seconds / 2.0].min

      def initialize(lease_seconds:, logger:)
        @lease_seconds = lease_seconds
        @logger = logger
        @entries = {}.compare_by_identity
        @lock = Mutex.new
        @changed = ConditionVariable.new
        @stopped = false
        @thread = nil
        @wakes_at = -Float::INFINITY # when the thread looks next (monotonic); until it first runs: now
      end

      # Runs the block while `context`'s lease (expiring at `lease_expires_at`) is kept.
      def watch(context, lease_expires_at)
        lease = lease_expires_at - Time.now
        deadline = context.deadline
        return yield if lease <= 0 || (deadline && lease_expires_at >= deadline) # nothing a heartbeat could extend

        interval = self.class.interval(lease)
        add(Entry.new(context, interval, monotonic + interval))
        begin
          yield
        ensure
          @lock.synchronize { @entries.delete(context) }
        end
      end

      def stop
        @lock.synchronize do
          @stopped = true
          @changed.broadcast
        end
        @thread&.join
      end

      private

      def add(entry)
        @lock.synchronize do
          @entries[entry.context] = entry
          @thread ||= Thread.new { beat_loop }.tap { |thread| thread.name = "tasker-heartbeat" }
          @changed.broadcast if entry.due < @wakes_at
        end
      end

      def beat_loop
        until (due = next_due).nil?
          due.each { |entry| beat(entry) }
        end
      end

      # The entries due now (waiting until one is); nil once stopped.
      def next_due
        @lock.synchronize do
          loop do
            return nil if @stopped

            now = monotonic
            due = @entries.each_value.select { |entry| entry.due <= now }
            return due unless due.empty?

            @wakes_at = [@entries.each_value.map(&:due).min, now + TICK_SECONDS].compact.min
            @changed.wait(@lock, @wakes_at - now)
          end
        end
      end

      def beat(entry)
        context = entry.context
        expires = context.heartbeat(@lease_seconds) unless context.deadline && Time.now >= context.deadline
        if expires.nil? || (context.deadline && expires >= context.deadline)
          forget(entry) # at the deadline: the core ends the attempt there whatever happens
        else
          entry.due = monotonic + entry.interval
        end
      rescue StaleClaimError
        forget(entry) # the claim is gone (reported, timed out, taken over); the handler sees context.cancelled?
      rescue Error => e
        @logger.warn("tasker-worker: heartbeat of step #{context.step.name} failed (will retry): #{e.class}: #{e.message}")
        entry.due = monotonic + entry.interval
      end

      def forget(entry)
        @lock.synchronize { @entries.delete(entry.context) if @entries[entry.context].equal?(entry) }
      end

      def monotonic = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    end
  end
end
