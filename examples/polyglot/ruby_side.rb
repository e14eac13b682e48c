# frozen_string_literal: true

# The Ruby worker of the polyglot example: the payment. ruby_worker.yml requires this file.
class ProcessPayment < Tasker::StepHandler
  def process(context)
    order = context.task.context["order"]
    { "by" => "ruby", "payment_id" => "PAY-#{order["id"]}", "charged" => order["total"] }
  end
end

Tasker::Worker.configure { |engine| engine.register_handler("ProcessPayment", ProcessPayment) }
