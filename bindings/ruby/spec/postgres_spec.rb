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
end
