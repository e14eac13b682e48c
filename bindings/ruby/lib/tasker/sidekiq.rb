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
  module Sidekiq
    class << self
      # Called once per process (lazily, after any fork) to build that process's engine.
      attr_accessor :engine_factory
      # Called after every handling with (task_uuid, outcome): metrics, notifications.
      attr_accessor :on_outcome
      # The Sidekiq queue HandleTaskJob is pushed to (default "tasker"); run Sidekiq with `-q` for it.
      attr_writer :queue

      def queue = @queue || "tasker"

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
        outcome.to_h.transform_keys(&:to_s)
      end
    end
  end
end
