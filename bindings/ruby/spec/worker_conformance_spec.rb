# frozen_string_literal: true

require_relative "spec_helper"
require_relative "support/worker_checks"
require "logger"
require "stringio"

# Worker behaviour stated once for every binding: the same three scenarios, with the same names, templates and
# numbers, are in bindings/python/tests/test_worker_conformance.py and bindings/node/test/worker-conformance.test.js
# (the README's "The same worker in Python, Ruby and Node"). Memory store, real clock.
RSpec.describe "Tasker::Worker conformance" do
  include WorkerChecks

  DIAMOND = File.read(File.join(CONFORMANCE, "templates", "diamond.yaml"))
  DEADLINE = <<~YAML
    name: deadline
    namespace_name: conformance
    version: 1.0.0
    steps:
      - name: slow
        handler: { callable: Slow }
        timeout_seconds: 1
        retry: { retryable: true, max_attempts: 2 }
  YAML

  let(:logger) { Logger.new(StringIO.new) }

  def open_engine(&block) = Tasker::Engine.open(backoff: { base_seconds: 0.05, jitter: 0 }, &block)

  it "graceful shutdown leaves nothing claimed" do
    open_engine do |engine|
      engine.register_template(DIAMOND)
      %w[Start B C End].each { |name| engine.register_handler(name, handler { |_| sleep 0.1; { "ok" => true } }) }
      uuids = Array.new(6) { engine.create_task("diamond", namespace: "conformance").uuid }
      worker = Tasker::Worker.new(engine, concurrency: 3, wait_seconds: 0.2, grace_seconds: 10, logger: logger)
      thread = Thread.new { worker.run }
      wait_until(10, "a first step") { worker.stats.completed.positive? }
      worker.stop
      expect(thread.join(15)).to be_truthy
      states = uuids.flat_map { |uuid| engine.get_task(uuid).steps.map { |s| s["state"] } }
      expect(states).not_to include("in_progress")
      expect(states.uniq - %w[complete pending]).to be_empty
      expect([worker.stats.shutdown, worker.stats.failed, worker.stats.unreported]).to eq([0, 0, 0])
      expect(worker.stats.completed).to eq(states.count("complete"))
    end
  end

  it "a step past its deadline is failed with a timeout" do
    open_engine do |engine|
      engine.register_template(DEADLINE)
      # The first attempt ignores its deadline (1 s) and returns after 2 s; the second returns at once.
      engine.register_handler("Slow", handler { |context| context.step.attempt == 1 ? (sleep 2; "late") : "on time" })
      uuid = engine.create_task("deadline", namespace: "conformance").uuid
      worker = Tasker::Worker.new(engine, concurrency: 2, wait_seconds: 0.2, logger: logger)
      thread = Thread.new { worker.run }
      begin
        wait_until(15, "the task") { engine.get_task(uuid).state == "complete" }
      ensure
        worker.stop
        thread.join(15)
      end
      slow = engine.get_task(uuid).step("slow")
      expect([slow["state"], slow["attempts"], slow["result"], slow["error"]["error_type"]]).to eq(["complete", 2, "on time", "Timeout"])
      expect([worker.stats.stale, worker.stats.completed]).to eq([1, 1])
    end
  end

  it "a worker without a handler leaves its steps ready" do
    open_engine do |engine|
      engine.register_template(DIAMOND)
      %w[Start B End].each { |name| engine.register_handler(name, handler { |_| { "ok" => true } }) } # no C
      uuids = Array.new(2) { engine.create_task("diamond", namespace: "conformance").uuid }
      stats = Thread.new { Tasker::Worker.new(engine, wait_seconds: 0.2, logger: logger).run(burst: true) }.value
      uuids.each do |uuid|
        task = engine.get_task(uuid)
        expect(task.state).to eq("in_progress")
        expect(task.steps.map { |s| [s["name"], s["state"], s["attempts"]] })
          .to eq([["start", "complete", 1], ["b", "complete", 1], ["c", "pending", 0], ["end", "pending", 0]])
      end
      expect([stats.completed, stats.failed]).to eq([4, 0])
    end
  end
end
