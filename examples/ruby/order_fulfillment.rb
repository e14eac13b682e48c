# frozen_string_literal: true

# The order-fulfillment workflow in Ruby on the embedded memory store: no set-up, prints each step.
#
#   ./build.sh native && TASKER_LIBRARY_PATH=artifacts/lib/linux-x64/libtasker.so ruby examples/ruby/order_fulfillment.rb
$LOAD_PATH.unshift File.expand_path("../../bindings/ruby/lib", __dir__)
require "tasker"

TEMPLATE = File.expand_path("../templates/order_fulfillment.yaml", __dir__)

class ValidateOrder < Tasker::StepHandler
  def process(context)
    order = context.task.context["order"]
    { "valid" => true, "total" => order["total"] }
  end
end

class ReserveInventory < Tasker::StepHandler
  def process(context)
    { "reservation" => "RSV-#{context.task.context['order']['id']}", "warehouse" => context.step.initialization["warehouse"] }
  end
end

class ProcessPayment < Tasker::StepHandler
  def process(context)
    raise Tasker::RetryableError.new("payment gateway timed out", retry_after: 1) if context.step.attempt == 1

    { "payment_id" => "PAY-1001", "charged" => context.dependency_results["validate_order"]["total"] }
  end
end

class ShipOrder < Tasker::StepHandler
  def process(_context) = { "tracking" => "TRK-1001" }
  def process_results(output) = output.merge("carrier" => "tasker-post")
end

status = Tasker::Engine.open do |engine|
  events = engine.subscribe("step.*")
  print_events = -> { events.each { |e| puts format("  %-22s %-18s attempt %d", e["name"], e["step_name"], e["attempt"]) } }
  engine.register_template(TEMPLATE)
  engine.register_handlers(ValidateOrder, ReserveInventory, ProcessPayment, ShipOrder)
  task = engine.create_task("order_fulfillment", namespace: "fulfillment", initiator: "examples/ruby",
                                                 context: { order: { id: 1001, total: 59.90, items: [{ sku: "TSK-1", quantity: 2 }] } })
  puts "created task #{task.uuid}"

  outcome = engine.handle(task.uuid)
  # The one rule: handle the task again after requeue_after_seconds when it is not nil. A Sidekiq host re-enqueues
  # instead: Tasker::Sidekiq::HandleTaskJob does perform_in(outcome.requeue_after_seconds).
  while (delay = outcome.requeue_after_seconds)
    print_events.call
    puts format("  waiting %.2fs before handling again (%s)", delay, outcome.action)
    sleep delay
    outcome = engine.handle(task.uuid)
  end
  print_events.call
  events.close

  done = engine.get_task(task.uuid)
  puts "task #{done.state}: " + done.steps.map { |s| "#{s['name']}=#{s['state']}/#{s['attempts']}" }.join(", ")
  puts "shipment: #{done.step('ship_order')['result']}"
  done.state == "complete" ? 0 : 1
end
exit status
