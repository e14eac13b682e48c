# frozen_string_literal: true

require "sidekiq"
require "tasker"

module Tasker
  # Sidekiq integration: `require "tasker/sidekiq"` (plain `require "tasker"` never needs Sidekiq).
  #
  #   Tasker::Sidekiq.engine_factory = lambda do            # config/initializers/tasker.rb
  #     Tasker::Engine.new(database_url: ENV.fetch("DATABASE_URL")).tap do |engine|
  #       Dir["config/tasker/*.yml"].each { |path| engine.register_template(path) }
  #       engine.register_handler("ValidateOrder", ValidateOrder)
  #     end
  #   end
  #   Tasker::Sidekiq.start_workflow("order_fulfillment", namespace: "fulfillment", context: { order: order })
  #   Tasker::Sidekiq.retry(task_uuid, actor: "alice", reason: "card replaced")   # an operator's retry, enqueued
  #
  # A task that ends in "error" fails its job (Tasker::WorkflowFailedError, naming the failed steps): the job goes
  # to Sidekiq's Dead set at once, without Sidekiq's retries (running a finished task again changes nothing). Set
  # `Tasker::Sidekiq.fail_on_error = false` to keep such jobs successful. Schedule SweepStaleWorkJob (sidekiq-cron,
  # sidekiq-scheduler, Enterprise periodic jobs) to re-enqueue work nobody drives.
  module Sidekiq
    class << self
      # Called once per process (lazily, after any fork) to build that process's engine.
      attr_accessor :engine_factory
      # Called after every handling with (task_uuid, outcome): metrics, notifications.
      attr_accessor :on_outcome
      # The Sidekiq queue HandleTaskJob is pushed to (default "tasker"); run Sidekiq with `-q` for it.
      attr_writer :queue

      def queue = @queue || "tasker"

      # Whether HandleTaskJob fails when its task ended in "error" (default true).
      attr_writer :fail_on_error

      def fail_on_error = @fail_on_error != false

      def engine
        @mutex.synchronize do
          if @engine.nil? || @pid != Process.pid
            raise Tasker::Error, "set Tasker::Sidekiq.engine_factory first" unless engine_factory

            @engine = engine_factory.call
            @pid = Process.pid
          end
          @engine
        end
      end

      # Creates a task and enqueues its first handling; returns the task.
      def start_workflow(name, namespace:, context: {}, **fields)
        task = engine.create_task(name, namespace: namespace, context: context, **fields)
        HandleTaskJob.set(queue: queue).perform_async(task.uuid)
        task
      end

      # An operator's retry that also drives the task: `engine.retry_task` (failed steps get fresh attempts,
      # completed steps keep their results; actor and reason go to the audit trail), then HandleTaskJob after
      # `outcome.requeue_after_seconds` when that is not nil (0 when steps are ready: "execute"). Returns the outcome.
      def retry(task_uuid, actor: nil, reason: nil)
        outcome = engine.retry_task(task_uuid.to_s, actor: actor, reason: reason)
        HandleTaskJob.set(queue: queue).perform_in(outcome.requeue_after_seconds, task_uuid.to_s) unless outcome.requeue_after_seconds.nil?
        outcome
      end

      # Enqueues HandleTaskJob for every task nobody is driving, as `engine.stale_work` lists them (expired leases,
      # due retries, ready steps nobody claimed, pending tasks nobody drove); returns their uuids. With the memory
      # store it only sees this process's tasks; with PostgreSQL, all of them.
      def sweep_stale_work(limit: 1000)
        uuids = engine.stale_work(limit: limit)["task_uuids"]
        uuids.each { |uuid| HandleTaskJob.set(queue: queue).perform_async(uuid) }
        uuids
      end

      def reset!
        @mutex.synchronize { @engine = nil }
      end
    end
    @mutex = Mutex.new

    # Handles a task and follows the outcome's one rule: re-enqueue itself with
    # `perform_in(outcome.requeue_after_seconds)` when that is not nil, never otherwise.
    class HandleTaskJob
      include ::Sidekiq::Worker
      sidekiq_options queue: "tasker"

      # `traceparent` (W3C, optional): the enqueuer's span; the job's step spans join its trace, and it travels on.
      def perform(task_uuid, traceparent = nil)
        engine = Tasker::Sidekiq.engine
        outcome = traceparent ? engine.handle(task_uuid, traceparent: traceparent) : engine.handle(task_uuid)
        unless outcome.requeue_after_seconds.nil?
          args = traceparent ? [task_uuid, traceparent] : [task_uuid]
          self.class.set(queue: Tasker::Sidekiq.queue).perform_in(outcome.requeue_after_seconds, *args)
        end
        Tasker::Sidekiq.on_outcome&.call(task_uuid, outcome)
        if outcome.action == "error" && Tasker::Sidekiq.fail_on_error
          raise Tasker::WorkflowFailedError.for_task(engine.get_task(task_uuid))
        end

        outcome.to_h.transform_keys(&:to_s)
      end
    end

    # The sweeper: schedule it every minute or so (sidekiq-cron, sidekiq-scheduler, Sidekiq Enterprise's periodic
    # jobs, or cron calling `Tasker::Sidekiq.sweep_stale_work`). Returns the uuids it enqueued.
    class SweepStaleWorkJob
      include ::Sidekiq::Worker
      sidekiq_options queue: "tasker", retry: false # the next run sweeps again

      def perform(limit = 1000) = Tasker::Sidekiq.sweep_stale_work(limit: limit)
    end

    # Server middleware (installed below): a job that raised Tasker::WorkflowFailedError goes to the Dead set at
    # once, as Sidekiq files a job whose retries are exhausted (error class and message, death handlers told), and
    # is never retried: its task is finished. Other errors (a database outage) keep the job's retries. Sidekiq 6.4
    # (Debian's) cannot choose per error class (`sidekiq_retry_in` answering :kill came in 6.5), hence this.
    class FailedWorkflowMiddleware
      def call(_worker, job, _queue)
        yield
      rescue Tasker::WorkflowFailedError => e
        dead = job.merge("error_class" => e.class.name, "error_message" => e.message, "failed_at" => Time.now.to_f,
                         "retry_count" => job["retry_count"] || 0)
        ::Sidekiq::DeadSet.new.kill(::Sidekiq.dump_json(dead), notify_failure: false)
        death_handlers.each do |handler|
          handler.call(dead, e)
        rescue StandardError
          nil # as Sidekiq does: a failing death handler does not stop the others
        end
        raise ::Sidekiq::JobRetry::Skip # handled: the job is acknowledged, the failure counted and logged with `e`
      end

      private

      def death_handlers = ::Sidekiq.respond_to?(:death_handlers) ? ::Sidekiq.death_handlers : []
    end
  end
end

Sidekiq.configure_server do |config|
  config.server_middleware { |chain| chain.prepend Tasker::Sidekiq::FailedWorkflowMiddleware }
end
