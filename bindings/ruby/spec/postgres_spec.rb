# frozen_string_literal: true

require_relative "spec_helper"
require "securerandom"

RSpec.describe "PostgreSQL mode" do
  let(:url) { ENV["TASKER_TEST_DATABASE_URL"] }

  before { skip "TASKER_TEST_DATABASE_URL is not set (./build.sh test starts PostgreSQL)" unless url }

  it "completes a workflow that another engine (a new connection pool) then sees" do
    schema = "rb_#{SecureRandom.hex(6)}"
    uuid = Tasker::Engine.open(database_url: url, schema: schema) do |engine|
      register_order_handlers(engine)
      task = create_order(engine)
      expect(engine.handle(task.uuid).action).to eq("complete")
      task.uuid
    end
    Tasker::Engine.open(database_url: url, schema: schema) do |other|
      seen = other.get_task(uuid)
      expect(seen.state).to eq("complete")
      expect(seen.steps.map { |s| s["attempts"] }).to eq([1, 1, 1, 1])
    end
  end

  it "re-enqueues a retrying step and completes it after the delay" do
    flaky = handler do |context|
      raise Tasker::RetryableError.new("gateway busy", retry_after: 0.2) if context.step.attempt == 1

      "paid"
    end
    Tasker::Engine.open(database_url: url, schema: "rb_#{SecureRandom.hex(6)}") do |engine|
      register_order_handlers(engine, payment: flaky)
      task = create_order(engine)
      outcome = engine.handle(task.uuid)
      expect([outcome.action, outcome.task_state]).to eq(%w[reenqueue waiting_for_retry])
      sleep outcome.delay_seconds
      expect(engine.handle(task.uuid).action).to eq("complete")
      expect(engine.get_task(task.uuid).step("process_payment")["attempts"]).to eq(2)
    end
  end

  it "raises DatabaseError when PostgreSQL cannot be reached" do
    expect { Tasker::Engine.open(database_url: "postgres://postgres@127.0.0.1:1/nowhere") { nil } }
      .to raise_error(Tasker::DatabaseError, /database unavailable/)
  end
end
