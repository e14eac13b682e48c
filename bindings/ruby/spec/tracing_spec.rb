# frozen_string_literal: true

require_relative "spec_helper"

# Trace context through the binding: W3C traceparent on create_task and handle, handler span attributes.
RSpec.describe "tracing" do
  TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

  def order_engine
    Tasker::Engine.open do |engine|
      register_order_handlers(engine)
      yield engine
    end
  end

  it "runs a task created with a traceparent to completion with one given to handle" do
    order_engine do |engine|
      task = engine.create_task("order_fulfillment", namespace: "fulfillment", context: ORDER_CONTEXT, traceparent: TRACEPARENT)
      expect(engine.handle(task.uuid, traceparent: TRACEPARENT).action).to eq("complete")
    end
  end

  it "refuses a malformed traceparent and creates nothing" do
    order_engine do |engine|
      expect do
        engine.create_task("order_fulfillment", namespace: "fulfillment", context: ORDER_CONTEXT, traceparent: "00-nope")
      end.to raise_error(Tasker::ValidationError, /traceparent/)
      expect(engine.list_tasks).to be_empty
    end
  end

  it "refuses a malformed traceparent in handle before running anything" do
    order_engine do |engine|
      task = engine.create_task("order_fulfillment", namespace: "fulfillment", context: ORDER_CONTEXT)
      expect { engine.handle(task.uuid, traceparent: "garbage") }.to raise_error(Tasker::ValidationError, /traceparent/)
      expect(engine.get_task(task.uuid).steps.map { |s| s["attempts"] }).to all(eq(0))
    end
  end

  it "sends the attributes a handler sets with its report, and the engine accepts them" do
    seen = {}
    tagging = Class.new(Tasker::StepHandler) do
      define_method(:process) do |context|
        context.set_attribute("order.id", "o-17")
        context.set_attribute(:items, 3)
        context.set_attribute("express", true)
        seen.merge!(context.attributes)
        { "ok" => true }
      end
    end
    order_engine do |engine|
      engine.register_handler("ShipOrder", tagging)
      task = engine.create_task("order_fulfillment", namespace: "fulfillment", context: ORDER_CONTEXT)
      expect(engine.handle(task.uuid).action).to eq("complete")
    end
    expect(seen).to eq("order.id" => "o-17", "items" => 3, "express" => true)
  end

  [["", "x", ArgumentError], ["k" * 257, "x", ArgumentError], ["obj", { a: 1 }, TypeError], ["nil", nil, TypeError],
   ["nan", Float::NAN, ArgumentError]].each do |key, value, error|
    it "refuses the attribute #{key[0, 8].inspect} => #{value.inspect}" do
      context = Tasker::StepContext.new(attributes: {})
      expect { context.set_attribute(key, value) }.to raise_error(error)
      expect(context.attributes).to be_empty
    end
  end
end
