# frozen_string_literal: true

# The Ruby process of the cross-language test: it has only the Rb* handlers and drives the task with `handle` until
# the task is finished, exactly as a Sidekiq job would when re-enqueued.
#   ruby ruby_side.rb DATABASE_URL SCHEMA TASK_UUID
require "tasker"

class RbStep < Tasker::StepHandler
  def process(context)
    { "by" => "ruby", "step" => context.step.name, "saw" => context.dependency_results.keys.sort }
  end
end

database_url, schema, task_uuid = ARGV
Tasker::Engine.open(database_url: database_url, schema: schema, worker_id: "ruby-side") do |engine|
  engine.register_handler("RbCharge", RbStep)
  engine.register_handler("RbNotify", RbStep)
  deadline = Time.now + 60
  loop do
    outcome = engine.handle(task_uuid)
    break if %w[complete error cancelled].include?(outcome.action)
    raise "the task did not finish in 60 s (last outcome #{outcome.action})" if Time.now > deadline

    sleep 0.05
  end
end
