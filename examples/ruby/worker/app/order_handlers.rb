# frozen_string_literal: true

# The order-fulfillment handlers, registered on the engine tasker-worker opens (see config/tasker_worker.yml).
require "tasker"

module Orders
  class ValidateOrder < Tasker::StepHandler
    def process(context) = { "valid" => true, "total" => context.task.context["order"]["total"] }
  end

  class ReserveInventory < Tasker::StepHandler
    def process(context) = { "reservation" => "RSV-#{context.task.context["order"]["id"]}" }
  end

  class ProcessPayment < Tasker::StepHandler
    def process(context)
      raise Tasker::RetryableError.new("payment gateway timed out", retry_after: 1) if context.step.attempt == 1

      { "payment_id" => "PAY-#{context.task.context["order"]["id"]}", "charged" => context.dependency_results["validate_order"]["total"] }
    end
  end

  class ShipOrder < Tasker::StepHandler
    def process(context) = { "tracking" => "TRK-#{context.task.context["order"]["id"]}" }
  end
end

# The template names its handlers ValidateOrder, ...: register the classes under those names.
Tasker::Worker.configure do |engine|
  %w[ValidateOrder ReserveInventory ProcessPayment ShipOrder].each do |name|
    engine.register_handler(name, Orders.const_get(name))
  end
end
