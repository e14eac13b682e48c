# frozen_string_literal: true

# Booted by the real Sidekiq process in sidekiq_spec.rb: the worker owns a memory-store engine and publishes each
# outcome to Redis so the spec (another process) can watch the workflow.
$LOAD_PATH.unshift File.expand_path("../../lib", __dir__)
require "tasker/sidekiq"
require "redis"
require "set"

# Debian's Sidekiq 6.4 on redis-rb 4.8 triggers redis-rb's deprecation notices on every fetch; they are not ours.
Redis.silence_deprecations = true

Sidekiq.configure_server do |config|
  config.redis = { url: ENV.fetch("TASKER_TEST_REDIS_URL") }
  # Look for due perform_in jobs every ~0.5 s; setting poll_interval_average also skips the poller's 10 s start-up
  # wait (it is left with a random 0-5 s).
  config.average_scheduled_poll_interval = 0.5
  config.options[:poll_interval_average] = 0.5
end

class Step < Tasker::StepHandler
  def process(context) = { "step" => context.step.name }
end

# Fails its first attempt asking for a retry in 2 s: the task must come back through perform_in. An order with
# "decline" is declined (permanently: the workflow ends in error) the first time, and paid after an operator's retry.
class FlakyPayment < Tasker::StepHandler
  DECLINED = Set.new

  def process(context)
    raise Tasker::PermanentError, "card declined" if context.task.context["decline"] && DECLINED.add?(context.task.uuid)
    return { "paid" => true } if context.task.context["decline"]

    raise Tasker::RetryableError.new("gateway timeout", retry_after: 2) if context.step.attempt == 1

    { "paid" => true }
  end
end

Tasker::Sidekiq.queue = ENV.fetch("TASKER_TEST_QUEUE")
Tasker::Sidekiq.fail_on_error = ENV["TASKER_TEST_FAIL_ON_ERROR"] != "0"
Tasker::Sidekiq.engine_factory = lambda do
  Tasker::Engine.new.tap do |engine|
    engine.register_template(ENV.fetch("TASKER_TEST_TEMPLATE"))
    %w[ValidateOrder ReserveInventory ShipOrder].each { |name| engine.register_handler(name, Step) }
    engine.register_handler("ProcessPayment", FlakyPayment)
  end
end

Tasker::Sidekiq.on_outcome = lambda do |task_uuid, outcome|
  Redis.new(url: ENV.fetch("TASKER_TEST_REDIS_URL"))
       .rpush("#{ENV.fetch('TASKER_TEST_QUEUE')}:outcomes", "#{task_uuid}:#{outcome.action}:#{outcome.delay_seconds}")
end

# Starts a workflow inside the worker (the memory store lives in this process).
class StartOrderJob
  include Sidekiq::Worker
  def perform(context)
    task = Tasker::Sidekiq.start_workflow("order_fulfillment", namespace: "fulfillment", context: context)
    Redis.new(url: ENV.fetch("TASKER_TEST_REDIS_URL")).set("#{ENV.fetch('TASKER_TEST_QUEUE')}:started", task.uuid)
  end
end

# Creates and handles a task in the worker, then drops its re-enqueue (as a lost job would): only the sweeper can
# bring it back.
class StartAndForgetJob
  include Sidekiq::Worker
  def perform(context)
    engine = Tasker::Sidekiq.engine
    task = engine.create_task("order_fulfillment", namespace: "fulfillment", context: context)
    Tasker::Sidekiq.on_outcome.call(task.uuid, engine.handle(task.uuid))
    Redis.new(url: ENV.fetch("TASKER_TEST_REDIS_URL")).set("#{ENV.fetch('TASKER_TEST_QUEUE')}:started", task.uuid)
  end
end

# An operator's retry, made in the worker (its memory store holds the task).
class RetryTaskJob
  include Sidekiq::Worker
  def perform(task_uuid) = Tasker::Sidekiq.retry(task_uuid, actor: "ops", reason: "card replaced")
end
