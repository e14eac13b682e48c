# frozen_string_literal: true

require_relative "spec_helper"
require "logger"
require "stringio"

# Step failures go to the host's logger (Tasker.logger: Rails.logger under Rails) as one warning per failed attempt.
RSpec.describe "step failure logging", :engine do
  let(:io) { StringIO.new }

  around do |example|
    Tasker.logger = Logger.new(io)
    Tasker.log_step_failures = true # the default; spec_helper turns it off for the other specs
    example.run
  ensure
    Tasker.logger = nil
    Tasker.log_step_failures = false
  end

  it "is on by default" do
    Tasker.log_step_failures = nil
    expect(Tasker.log_step_failures?).to be(true)
  end

  it "logs each failed attempt as a warning with the task, step, attempt and error, never the context or results" do
    flaky = handler { |c| c.step.attempt == 1 ? raise(IOError, "gateway reset") : { "paid" => true } }
    register_order_handlers(@engine, payment: flaky)
    task = create_order(@engine)
    expect(@engine.handle(task.uuid).action).to eq("reenqueue")
    @engine.advance_clock(5)
    expect(@engine.handle(task.uuid).action).to eq("complete")
    lines = io.string.lines
    expect(lines.size).to eq(1)
    expect(lines.first).to start_with("W, [")
    expect(lines.first).to include("WARN -- tasker: step process_payment of task #{task.uuid} " \
                                   "(fulfillment/order_fulfillment) failed, attempt 1 of 3: IOError: gateway reset")
    message = lines.first.split(" -- tasker: ", 2).last # past the logger's timestamp, which may contain "12.5"
    expect(message).not_to include("12.5")
    expect(message).not_to include("paid")
  end

  it "logs nothing with Tasker.log_step_failures = false" do
    Tasker.log_step_failures = false
    register_order_handlers(@engine, payment: handler { |_c| raise Tasker::PermanentError, "declined" })
    expect(@engine.handle(create_order(@engine).uuid).action).to eq("error")
    expect(io.string).to eq("")
  end
end
