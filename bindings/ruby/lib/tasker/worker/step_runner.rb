# frozen_string_literal: true

require "json"
require "time"

module Tasker
  class Worker
    # Raised into a handler's thread when the worker's grace period is over (Thread#raise): not a StandardError, so
    # the runner does not report it as the handler's own failure; the step runner reports it as WorkerShutdown.
    class Shutdown < Exception; end # rubocop:disable Lint/InheritException

    # One worker slot's runner: `Engine#handle`'s Runner (the same step context, deadline, handler call, failure
    # and refused-result reporting, stale-claim handling), fed claims of any task instead of one task's. Each slot
    # thread owns one, so its state is never shared.
    class StepRunner < Runner
      SHUTDOWN_TYPE = "WorkerShutdown"

      def initialize(engine, handlers:, worker_id:, wall_clock:, lease_seconds:, heartbeats:, stats:)
        super(engine, nil, handlers: handlers, concurrency: 1, pool: nil, times: nil, worker_id: worker_id,
                           wall_clock: wall_clock)
        @claim_next[:lease_seconds] = lease_seconds if lease_seconds
        @heartbeats = heartbeats
        @stats = stats
        @current = nil
        @in_handler = false
        @sent = nil
      end

      # The claim this slot thread holds (running, or being reported); nil between claims. Read by the worker when a
      # slot thread does not end after the grace period, to report the claim in its place.
      attr_reader :current

      # True while the claim's handler runs, not while its report is on its way: the steps the worker's log lines
      # count as running.
      def in_handler? = @in_handler

      # Runs the claim's handler, its lease (running out at `lease_expires_at`, a Time) kept meanwhile, and reports it,
      # claiming in that call as many next steps of the same task as the block returns (called once the handler is
      # done, with whether the report is a completion and the handler's run time in seconds, nil when it did not run:
      # the worker's 1 for the task's next step, 0 once it stops or for a task's completed last step).
      # Returns [next claims, :completed, :failed or :stale (the report was refused: the claim was no longer
      # current)]. Raises what the report raised (the database is down, say: the lease gives the step back).
      # Raises Shutdown (after reporting the step as a WorkerShutdown failure) when the worker ends the handler.
      def run_claim(claim, lease_expires_at)
        @current = claim
        @task = claim["task"] # the next claims of this report are of the same task: their names come from it
        @lease_expires_at = lease_expires_at # the context does not carry it: run_handler's heartbeats keep it
        @in_handler = true
        report = perform(claim)
        @in_handler = false
        @stale = false
        claims = deliver(report, free: yield(report.first == :tasker_step_complete, handler_seconds(report)), alone: false)
        # What the engine got, not what the handler returned: a result it refused went as the step's failure.
        [claims, @stale ? :stale : (@sent == :tasker_step_fail ? :failed : :completed)]
      rescue Shutdown => e
        abandon(claim, e)
        raise
      rescue StandardError
        raise # a report that failed: not the handler's doing (perform turns the handler's errors into its report)
      rescue Exception => e # rubocop:disable Lint/RescueException -- NoMemoryError, SystemExit...: the worker stops
        abandon(claim, e, type: e.class.name, message: "#{e.class}: #{e.message}")
        raise
      ensure
        @in_handler = false
        @current = nil
      end

      # Extends the claim's lease as its context's heartbeat does: returns the new expiry (a Time). Raises
      # StaleClaimError when the claim is no longer current.
      def heartbeat(claim, lease_seconds) = heartbeat_for(claim).call(lease_seconds)

      # Reports a claim whose handler did not finish or start (the grace period ended, or it raised an Exception that
      # stops the worker) as a retryable failure, with the handler's backtrace. A claim already reported (or taken
      # over) is STALE_CLAIM: nothing to do. Keeps no state: the worker reports claims still queued with any runner.
      def abandon(claim, error = nil, type: SHUTDOWN_TYPE,
                  message: "the worker shut down (its grace period ended) while this step ran")
        body = { message: message, error_type: type, permanent: false,
                 backtrace: (error&.backtrace || []).map { |frame| utf8(frame) } }
        call(:tasker_step_fail, JSON.generate(reference(claim).merge(error: body)))
        @stats.count(:shutdown)
      rescue StaleClaimError
        nil
      end

      private

      # From the report's handler run (none when the step's context could not be built): the handler, not the report.
      def handler_seconds((_function, _request, ref))
        run = ref[:handler]
        run && (run.finished_us - run.started_us) / 1e6
      end

      # nil when the claim was stale (Runner#send_report): counted as such. The function is the last one sent: a
      # completion the engine refused is sent again as a failure.
      def send_report(function, request, free)
        @sent = function
        answer = super
        @stale = true if answer.nil?
        answer
      end

      # Only a handler is ever interrupted by Shutdown; reporting runs with it deferred (Worker#start_slot). One raised
      # before the handler started (while the worker confirmed its claim: Worker#lease_if_ours) ends the step here: let
      # through, it would come at the handler's first interrupt check, after some of it ran. Shutdown is all the worker
      # raises in a slot thread (and pending_interrupt?(Shutdown) crashes Ruby 3.1: it takes the exception for a class).
      def run_handler(handler, context)
        @heartbeats.watch(context, @lease_expires_at) do
          Thread.handle_interrupt(Shutdown => :immediate) do
            raise Shutdown, "the grace period ended before this step ran" if Thread.pending_interrupt?

            super
          end
        end
      end
    end
  end
end
