# frozen_string_literal: true

require_relative "spec_helper"
require_relative "support/worker_checks"
require "logger"
require "stringio"

# Worker behaviour stated once for every binding: the same scenarios, with the same names, templates and
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

  # Prefetch: quick steps teach the worker its steps are short; gated ones then hold their slot until the test opens
  # the gate, so what the worker claimed ahead shows in the steps' states.
  QUICK = <<~YAML
    name: quick
    namespace_name: conformance
    version: 1.0.0
    steps:
      - name: quick
        handler: { callable: Quick }
  YAML
  GATED = QUICK.gsub("quick", "gated").gsub("Quick", "Gated")
  PAIR = <<~YAML
    name: pair
    namespace_name: conformance
    version: 1.0.0
    steps:
      - name: first
        handler: { callable: Gated }
      - name: second
        handler: { callable: Quick }
        dependencies: [first]
  YAML

  # The Quick and Gated handlers; Gated waits until the gate is opened and counts the handlers that started. Both
  # note their task in `order`, as they start.
  class PrefetchGate
    def initialize(engine)
      @lock = Mutex.new
      @started = 0
      @order = []
      @opened = Queue.new # closed: open
      gate = self
      [QUICK, GATED, PAIR].each { |template| engine.register_template(template) }
      engine.register_handler("Quick", Class.new(Tasker::StepHandler) { define_method(:process) { |context| gate.quick(context) } })
      engine.register_handler("Gated", Class.new(Tasker::StepHandler) { define_method(:process) { |context| gate.pass(context) } })
    end

    def started = @lock.synchronize { @started }

    def order = @lock.synchronize { @order.dup }

    def open = @opened.close

    def quick(context)
      @lock.synchronize { @order << context.task.uuid }
      { "ok" => true }
    end

    def pass(context)
      @lock.synchronize do
        @started += 1
        @order << context.task.uuid
      end
      @opened.pop
      { "ok" => true }
    end
  end

  let(:logger) { Logger.new(StringIO.new) }

  def open_engine(&block) = Tasker::Engine.open(backoff: { base_seconds: 0.05, jitter: 0 }, &block)

  def gated_states(engine, uuids) = uuids.map { |uuid| engine.get_task(uuid).step("gated")["state"] }

  def complete?(engine, uuids) = uuids.all? { |uuid| engine.get_task(uuid).state == "complete" }

  # Runs 10 quick steps: the worker's handlers' mean run time is known, and short even after a slow first run (a cold
  # start on a busy machine).
  def learn_short_steps(engine, worker)
    10.times { engine.create_task("quick", namespace: "conformance") }
    wait_until(10, "10 quick steps") { worker.stats.completed == 10 }
  end

  # All 5 claimed, and one Gated handler started; a moment later still only that one (concurrency 1). The steps are in
  # progress once claimed, a moment before the first handler starts.
  def claimed_ahead(engine, gate, gated)
    wait_until(10, "5 gated steps claimed") { gated_states(engine, gated).count("in_progress") == 5 && gate.started.positive? }
    sleep 0.1
    expect(gate.started).to eq(1)
  end

  # A worker of concurrency 1, prefetch 4 on its thread for the block; then the gate is opened and the worker stopped
  # (returned).
  def with_prefetching_worker(engine, **options)
    gate = PrefetchGate.new(engine)
    worker = Tasker::Worker.new(engine, concurrency: 1, prefetch: 4, wait_seconds: 0.2, logger: logger, **options)
    thread = Thread.new { worker.run }
    yield gate, worker, thread
    worker
  ensure
    gate&.open
    worker&.stop
    expect(thread.join(15)).to be_truthy, "the worker did not stop"
  end

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

  it "a worker with short steps claims ahead up to its prefetch" do
    open_engine do |engine|
      worker = with_prefetching_worker(engine) do |gate, running|
        learn_short_steps(engine, running)
        gated = Array.new(5) { engine.create_task("gated", namespace: "conformance").uuid }
        claimed_ahead(engine, gate, gated)
        gate.open
        wait_until(10, "the gated tasks") { complete?(engine, gated) }
      end
      expect([worker.stats.completed, worker.stats.failed]).to eq([15, 0])
    end
  end

  it "a worker claims no more than its slots until its steps are known to be short" do
    open_engine do |engine|
      with_prefetching_worker(engine) do |gate|
        gated = Array.new(3) { engine.create_task("gated", namespace: "conformance").uuid }
        wait_until(10, "a gated step") { gate.started == 1 }
        sleep 0.3
        expect(gated_states(engine, gated).sort).to eq(%w[in_progress pending pending])
        gate.open
        wait_until(10, "the gated tasks") { complete?(engine, gated) }
      end
    end
  end

  it "a stopping worker runs the steps it claimed ahead" do
    open_engine do |engine|
      with_prefetching_worker(engine, grace_seconds: 10) do |gate, worker, thread|
        learn_short_steps(engine, worker)
        gated = Array.new(5) { engine.create_task("gated", namespace: "conformance").uuid }
        claimed_ahead(engine, gate, gated)
        worker.stop
        gate.open
        expect(thread.join(15)).to be_truthy
        expect(gated_states(engine, gated)).to eq(["complete"] * 5)
        expect([worker.stats.completed, worker.stats.shutdown, worker.stats.failed]).to eq([15, 0, 0])
      end
    end
  end

  it "a task's next step claimed by its report waits behind the steps claimed ahead" do
    open_engine do |engine|
      with_prefetching_worker(engine) do |gate, worker|
        learn_short_steps(engine, worker)
        pair = engine.create_task("pair", namespace: "conformance").uuid
        wait_until(10, "the pair's first step") { gate.started == 1 }
        gated = Array.new(3) { engine.create_task("gated", namespace: "conformance").uuid }
        wait_until(10, "3 gated steps claimed ahead") { gated_states(engine, gated).count("in_progress") == 3 }
        gate.open
        wait_until(10, "every task") { complete?(engine, [pair, *gated]) }
        expect(gate.order.last(5)).to eq([pair, *gated, pair]) # first, the three claimed ahead, then second
      end
    end
  end

  it "a worker claims nothing ahead while one of its steps runs long" do
    # Known to be short, steps are claimed ahead; one turning long stops that at once, not when it returns: the steps in
    # hand would wait behind it, and once their leases ran out the worker's own claims would take them over again.
    open_engine do |engine|
      gate = gated = later = nil # checked once the worker stopped, with its counts final
      worker = with_prefetching_worker(engine, lease_seconds: 2) do |prefetch_gate, running|
        gate = prefetch_gate
        learn_short_steps(engine, running)
        gated = Array.new(2) { engine.create_task("gated", namespace: "conformance").uuid }
        wait_until(10, "a gated step running, the other claimed ahead") do
          gate.started == 1 && gated_states(engine, gated) == ["in_progress"] * 2
        end
        sleep 2.5 # the lease of the step in hand ran out
        later = engine.create_task("gated", namespace: "conformance").uuid
        sleep 0.5 # two of the claimer's waits
        expect(gated_states(engine, [later])).to eq(["pending"])
        expect(gated.map { |uuid| engine.get_task(uuid).step("gated")["attempts"] }).to eq([1, 1])
        gate.open
        wait_until(10, "the gated tasks") { complete?(engine, [*gated, later]) }
      end
      expect([*gated, later].map { |uuid| gate.order.count(uuid) }).to eq([1] * 3)
      expect([worker.stats.completed, worker.stats.stale, worker.stats.failed]).to eq([13, 0, 0])
    end
  end

  it "a step claimed ahead whose lease ran out in hand runs once" do
    # A step in hand has no heartbeat: once its lease ran out another worker may take it over, and the worker then must
    # not run it too. The steps still its own it runs (a heartbeat confirms each first).
    open_engine do |engine|
      gate = gated = other = nil # checked once both workers stopped, with their counts final
      worker = with_prefetching_worker(engine, lease_seconds: 2) do |prefetch_gate, running|
        gate = prefetch_gate
        learn_short_steps(engine, running)
        gated = Array.new(5) { engine.create_task("gated", namespace: "conformance").uuid }
        claimed_ahead(engine, gate, gated)
        sleep 2.5 # the leases of the four in hand ran out
        other = Tasker::Worker.new(engine, concurrency: 1, prefetch: 0, wait_seconds: 0.2, logger: logger)
        other_thread = Thread.new { other.run }
        begin
          wait_until(10, "the other worker taking a step over") { gate.started == 2 }
        ensure
          other.stop # its one slot is busy: it claims nothing more
          gate.open
          other_thread.join(15)
        end
        wait_until(10, "the gated tasks") { complete?(engine, gated) }
      end
      expect(gated.map { |uuid| gate.order.count(uuid) }).to eq([1] * 5)
      expect([worker.stats.completed, worker.stats.stale, worker.stats.failed]).to eq([14, 1, 0])
      expect([other.stats.completed, other.stats.failed]).to eq([1, 0])
    end
  end
end
