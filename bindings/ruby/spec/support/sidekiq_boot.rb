# frozen_string_literal: true

# Booted by the real Sidekiq process in sidekiq_spec.rb: the worker owns a memory-store engine and publishes each
# outcome to Redis so the spec (another process) can watch the workflow.
$LOAD_PATH.unshift File.expand_path("../../lib", __dir__)
require "tasker/sidekiq"
require "redis"

Sidekiq.configure_server do |config|
  config.redis = { url: ENV.fetch("TASKER_TEST_REDIS_URL") }
  config.options[:average_scheduled_poll_interval] = 0.5 # check for due perform_in jobs every ~0.5 s
end

class Step < Tasker::StepHandler
  def process(context) = { "step" => context.step.name }
end

# Fails its first attempt asking for a retry in 2 s: the task must come back through perform_in.
class FlakyPayment < Tasker::StepHandler
  def process(context)
    raise Tasker::RetryableError.new("gateway timeout", retry_after: 2) if context.step.attempt == 1

    { "paid" => true }
  end
end

Tasker::Sidekiq.engine_factory = lambda do
  Tasker::Engine.new.tap do |engine|
    engine.register_template(ENV.fetch("TASKER_TEST_TEMPLATE"))
    %w[ValidateOrder ReserveInventory ShipOrder].each { |name| engine.register_handler(name, Step) }
    engine.register_handler("ProcessPayment", FlakyPayment)
  end
end

Tasker::Sidekiq.on_outcome = lambda do |task_uuid, outcome|
  Redis.new(url: ENV.fetch("TASKER_TEST_REDIS_URL")).rpush("tasker-test:outcomes", "#{task_uuid}:#{outcome.action}:#{outcome.delay_seconds}")
end

# Starts a workflow inside the worker (the memory store lives in this process).
class StartOrderJob
  include Sidekiq::Worker
  sidekiq_options queue: "tasker"

  def perform(context)
    task = Tasker::Sidekiq.start_workflow("order_fulfillment", namespace: "fulfillment", context: context)
    Redis.new(url: ENV.fetch("TASKER_TEST_REDIS_URL")).set("tasker-test:started", task.uuid)
  end
end
