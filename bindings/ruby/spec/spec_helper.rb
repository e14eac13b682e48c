# frozen_string_literal: true

$LOAD_PATH.unshift File.expand_path("../lib", __dir__)
require "tasker"
require "json"
require "timeout"
require "tmpdir"
require "fileutils"

REPO = File.expand_path("../../..", __dir__)
CONFORMANCE = File.join(REPO, "tests", "conformance")
ORDER_TEMPLATE = File.join(REPO, "examples", "templates", "order_fulfillment.yaml")
ORDER_CONTEXT = { "order" => { "id" => 7, "total" => 12.5, "items" => [{ "sku" => "A", "quantity" => 1 }] } }.freeze

class Returns < Tasker::StepHandler
  def process(context) = { "step" => context.step.name, "saw" => context.dependency_results.keys.sort }
end

module Helpers
  def register_order_handlers(engine, payment: Returns)
    engine.register_template(ORDER_TEMPLATE)
    %w[ValidateOrder ReserveInventory ShipOrder].each { |name| engine.register_handler(name, Returns) }
    engine.register_handler("ProcessPayment", payment)
  end

  def create_order(engine, **fields)
    engine.create_task("order_fulfillment", namespace: "fulfillment", context: ORDER_CONTEXT, **fields)
  end

  def handler(&block)
    Class.new(Tasker::StepHandler) { define_method(:process, &block) }
  end

  # An object JSON cannot represent, also where ActiveSupport (loaded by the Rails specs) gives every Object `as_json`.
  def opaque_object
    Object.new.tap { |object| object.singleton_class.send(:undef_method, :as_json) if object.respond_to?(:as_json) }
  end
end

# Failed step attempts are warnings on Tasker.logger ($stdout here): off, so the specs' output stays readable;
# failure_log_spec.rb turns them on.
Tasker.log_step_failures = false

RSpec.configure do |config|
  config.include Helpers
  config.around(:each, :engine) do |example|
    Tasker::Engine.open(clock: "manual", backoff: { jitter: 0 }) do |engine|
      @engine = engine
      example.run
    end
  end
end
