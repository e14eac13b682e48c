# frozen_string_literal: true

require_relative "spec_helper"
require_relative "support/worker_app"
require_relative "support/worker_checks"
require "stringio"
require "logger"

# Runs `hook` (when set) with a slot's claim just before the slot reports it: a test holds a report there.
module BeforeReport
  class << self
    attr_accessor :hook
  end

  private

  def deliver(report, **options)
    BeforeReport.hook&.call(current)
    super
  end
end
Tasker::Worker::StepRunner.prepend(BeforeReport)

# Tasker::Worker in this process, on the memory store (wall clock): work created here wakes it at once.
RSpec.describe Tasker::Worker do
  include WorkerChecks

  let(:output) { StringIO.new }
  let(:logger) { Logger.new(output) }

  def create_diamond(engine, context = {}) = engine.create_task("diamond", namespace: "rbworker", context: context)

  # Runs a worker on a thread for the block, then stops it; returns what run returned (or raised).
  def with_worker(engine, **options)
    worker = described_class.new(engine, logger: logger, wait_seconds: 0.2, **options)
    thread = Thread.new { worker.run }
    yield worker
  ensure
    worker&.stop
    expect(thread.join(10)).to be_truthy, "the worker did not stop"
    thread.value
  end

  # For a worker run on this (the main) thread with its signal handlers: a signal that comes once it has stopped meets
  # a handler that does nothing, not the default one (which would end rspec).
  def with_signals_caught
    previous = %w[TERM INT].to_h { |signal| [signal, trap(signal) {}] }
    yield
  ensure
    previous&.each { |signal, handler| trap(signal, handler) }
  end

  it "runs every step of many tasks once, in dependency order, and logs a start-up and a throughput line" do
    Tasker::Engine.open do |engine|
      WorkerApp.register(engine)
      with_worker(engine, concurrency: 4, stats_seconds: 0.2) do
        uuids = Array.new(60) { create_diamond(engine).uuid }
        wait_until(20, "60 tasks") { engine.list_tasks(state: "complete", limit: 100).size == 60 }
        sleep 0.3 # one more throughput line
        uuids.each do |uuid|
          task = engine.get_task(uuid)
          expect(task.steps.map { |s| [s["state"], s["attempts"]] }).to eq([["complete", 1]] * 4)
          expect(task.step("d")["result"]).to eq("step" => "d", "after" => %w[b c])
          expect_contiguous_audit(task)
        end
      end
    end
    expect(output.string).to match(/started: concurrency 4, prefetch 4, handlers Echo; namespaces all; store memory/)
    expect(output.string).to match(%r{\d+ steps in \d+\.\d s \(\d+\.\d steps/s\), 0 failed in all, \d running, \d+ claimed ahead})
    expect(output.string).to match(/stopped: 240 steps in/)
  end

  # Two slots, one diamond: each report keeps a place in hand for the next step it claims through claim_next; the last
  # step ("steps_left" 0) completed has no next step, so while its report is on its way the claimer claims for both.
  it "claims for the slot of a task's completed last step while the step's report is on its way" do
    asked = []
    seen_during_last_report = []
    allow_any_instance_of(described_class).to receive(:work_claim).and_wrap_original do |original, max_steps|
      asked << max_steps
      original.call(max_steps)
    end
    BeforeReport.hook = lambda do |claim|
      next unless claim&.dig("step", "name") == "d"

      deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 5
      sleep 0.01 until asked.drop(1).include?(2) || Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
      seen_during_last_report << asked.drop(1).include?(2)
    end
    Tasker::Engine.open do |engine|
      WorkerApp.register(engine)
      with_worker(engine, concurrency: 2) do
        # d runs a while: the slot of b or c, whichever went first, is idle again before d reports
        uuid = create_diamond(engine, "hang" => { "step" => "d", "attempt" => 1, "seconds" => 0.3 }).uuid
        wait_until(20, "the diamond") { engine.get_task(uuid).state == "complete" }
      end
    end
    expect(seen_during_last_report).to eq([true])
    expect(asked.first).to eq(2) # the first claim for both slots
  ensure
    BeforeReport.hook = nil
  end

  # One slot, two one-step tasks. The first step's report is held until the second step has started: the slot went
  # back to the claimer when the first handler returned, and a second thread of the slot runs what it claimed.
  it "runs the next step in its only slot while the last step's report is on its way" do
    started = Queue.new
    held = []
    BeforeReport.hook = lambda do |_claim|
      next unless held.empty?

      held << :waiting
      deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 5
      sleep 0.005 until started.size >= 2 || Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
      held[0] = started.size >= 2
    end
    Tasker::Engine.open do |engine|
      work = Class.new(Tasker::StepHandler) do
        define_method(:process) do |context|
          started << context.task.uuid
          sleep 0.2 if started.size == 1 # the worker's other thread is waiting for a claim by the time this returns
          nil
        end
      end
      engine.register_template("name: one_step\nnamespace_name: slots\nversion: 1.0.0\n" \
                               "steps:\n  - name: work\n    handler: { callable: Work }\n")
      engine.register_handler("Work", work)
      with_worker(engine, concurrency: 1) do
        uuids = Array.new(2) { engine.create_task("one_step", namespace: "slots").uuid }
        wait_until(20, "both tasks") { uuids.all? { |uuid| engine.get_task(uuid).state == "complete" } }
      end
    end
    expect(held).to eq([true])
  ensure
    BeforeReport.hook = nil
  end

  # One slot, prefetch 1, short steps. A two-step task's first step waits until a one-step task's step is claimed
  # ahead; its report (which claims the second step) is held until that step has started: the slot was free once
  # the first handler returned, not kept for the next step. The second step then waits behind it.
  it "a step's slot runs a step claimed ahead while the step's report is on its way" do
    short = 10
    started = Queue.new # the steps' names as they start: the short ones, first, the one claimed ahead, second
    held = []
    BeforeReport.hook = lambda do |claim|
      next unless claim&.dig("step", "name") == "first"

      deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 5
      sleep 0.005 until started.size == short + 2 || Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
      held << (started.size == short + 2)
    end
    claimed_ahead = []
    Tasker::Engine.open do |engine|
      ahead = nil
      work = Class.new(Tasker::StepHandler) do
        define_method(:process) do |context|
          started << context.step.name
          if context.step.name == "first"
            ahead = engine.create_task("one_step", namespace: "slots").uuid
            deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 5
            claimed = -> { engine.get_task(ahead).step("work")["state"] == "in_progress" }
            sleep 0.005 until claimed.call || Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
            claimed_ahead << claimed.call
          end
          nil
        end
      end
      engine.register_template("name: one_step\nnamespace_name: slots\nversion: 1.0.0\n" \
                               "steps:\n  - name: work\n    handler: { callable: Work }\n")
      engine.register_template("name: two_steps\nnamespace_name: slots\nversion: 1.0.0\nsteps:\n" \
                               "  - name: first\n    handler: { callable: Work }\n" \
                               "  - name: second\n    handler: { callable: Work }\n    dependencies: [first]\n")
      engine.register_handler("Work", work)
      with_worker(engine, concurrency: 1, prefetch: 1) do |worker|
        short.times { engine.create_task("one_step", namespace: "slots") } # the steps are short: it prefetches
        wait_until(10, "the short steps") { worker.stats.completed == short }
        pair = engine.create_task("two_steps", namespace: "slots").uuid
        wait_until(20, "the tasks") { ahead && [pair, ahead].all? { |uuid| engine.get_task(uuid).state == "complete" } }
      end
    end
    expect([claimed_ahead, held]).to eq([[true], [true]])
    expect(Array.new(started.size) { started.pop }.last(3)).to eq(%w[first work second])
  ensure
    BeforeReport.hook = nil
  end

  # The claimer gives busy slots BATCH_WAIT_SECONDS to free up, so that one claim fills them all; a step that runs on
  # must not keep the free slot idle meanwhile. The long step creates a task and waits for its step to run.
  it "waits for busy slots only briefly before claiming, so a long step does not hold back new work" do
    ran = Queue.new
    waited = []
    Tasker::Engine.open do |engine|
      long = Class.new(Tasker::StepHandler) do
        define_method(:process) do |_context|
          engine.create_task("short_one", namespace: "slots")
          deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 5
          sleep 0.005 until !ran.empty? || Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
          waited << !ran.empty?
          nil
        end
      end
      short = Class.new(Tasker::StepHandler) do
        define_method(:process) do |_context|
          ran << true
          nil
        end
      end
      { "long_one" => ["Long", long], "short_one" => ["Short", short] }.each do |name, (callable, klass)|
        engine.register_template("name: #{name}\nnamespace_name: slots\nversion: 1.0.0\n" \
                                 "steps:\n  - name: work\n    handler: { callable: #{callable} }\n")
        engine.register_handler(callable, klass)
      end
      engine.create_task("long_one", namespace: "slots")
      stats = described_class.new(engine, concurrency: 2, wait_seconds: 0.2, logger: logger).run(burst: true, handle_signals: false)
      expect(waited).to eq([true]) # the short step ran in the free slot while the long one still ran
      expect(stats.completed).to eq(2)
    end
  end

  # Engine#health lists every unclaimed ready step: on PostgreSQL a query over the whole queue, seconds of the
  # database's CPU for each worker started against a backlog. The start line's store comes from the configuration.
  it "names its store at its start without asking for the engine's health" do
    Tasker::Engine.open do |engine|
      WorkerApp.register(engine)
      engine.define_singleton_method(:health) { raise "the worker asked for health" }
      create_diamond(engine)
      stats = described_class.new(engine, concurrency: 2, wait_seconds: 0.1, logger: logger).run(burst: true, handle_signals: false)
      expect(stats.completed).to eq(4)
    end
    expect(output.string).to match(/started: .*; store memory;/)
  end

  it "counts a step whose result the engine refuses as failed, not completed" do
    Tasker::Engine.open do |engine|
      refused = Class.new(Tasker::StepHandler) { def process(_context) = "a\u0000b" } # NUL: refused as InvalidResult
      engine.register_template("name: refused\nnamespace_name: results\nversion: 1.0.0\nsteps:\n  - name: work\n" \
                               "    handler: { callable: Refused }\n    retry: { retryable: false }\n")
      engine.register_handler("Refused", refused)
      task = engine.create_task("refused", namespace: "results")
      stats = described_class.new(engine, concurrency: 1, wait_seconds: 0.1, logger: logger).run(burst: true, handle_signals: false)
      expect(engine.get_task(task.uuid).step("work")["error"]["error_type"]).to eq("InvalidResult")
      expect([stats.completed, stats.failed]).to eq([0, 1])
    end
  end

  it "claims only the tasks of its namespaces" do
    Tasker::Engine.open do |engine|
      WorkerApp.register(engine)
      engine.register_template(WorkerApp::TEMPLATE.sub("namespace_name: rbworker", "namespace_name: elsewhere"))
      with_worker(engine, concurrency: 2, namespaces: ["elsewhere"]) do
        ours = engine.create_task("diamond", namespace: "elsewhere")
        theirs = create_diamond(engine)
        wait_until(10, "the elsewhere task") { engine.get_task(ours.uuid).state == "complete" }
        expect(engine.get_task(theirs.uuid).steps.map { |s| s["state"] }).to eq(["pending"] * 4)
      end
    end
  end

  it "heartbeats a step that runs longer than its lease, so no other slot claims it again" do
    Tasker::Engine.open(lease_seconds: 1) do |engine|
      WorkerApp.register(engine)
      Dir.mktmpdir do |dir|
        ENV["WORKER_LOG"] = log = File.join(dir, "log")
        with_worker(engine, concurrency: 3) do # (a work claim would take an expired lease back)
          task = create_diamond(engine, "hang" => { "step" => "a", "attempt" => 1, "seconds" => 2.5 })
          wait_until(15, "the task") { engine.get_task(task.uuid).state == "complete" }
          expect(engine.get_task(task.uuid).step("a")["attempts"]).to eq(1)
          expect(worker_log(log).count { |event, *| event == "start" }).to eq(4)
        end
      ensure
        ENV.delete("WORKER_LOG")
      end
    end
  end

  # As the SIGKILL process spec found: slots reserved for a step's next claims before its handler ran stayed idle
  # as long as it hung, so a few hung handlers could starve the worker (a race: this failed 1 run in 6 with it).
  it "keeps its other slots working while handlers hang (they are not held for the hung steps' next claims)" do
    Tasker::Engine.open do |engine|
      WorkerApp.register(engine)
      hung = Array.new(6) { create_diamond(engine, "hang" => { "step" => "b", "attempt" => 1, "seconds" => 15 }).uuid }
      plain = Array.new(8) { create_diamond(engine).uuid }
      with_worker(engine, concurrency: 8, grace_seconds: 0) do # 6 slots hang, 2 run the rest
        wait_until(10, "the other tasks, on the other slots") { plain.all? { |uuid| engine.get_task(uuid).state == "complete" } }
        expect(hung.map { |uuid| engine.get_task(uuid).step("b")["state"] }).to eq(["in_progress"] * 6)
      end
    end
  end

  it "on stop lets a running step finish within the grace period and reports it" do
    Tasker::Engine.open do |engine|
      WorkerApp.register(engine)
      task = create_diamond(engine, "hang" => { "step" => "a", "attempt" => 1, "seconds" => 0.5 })
      with_worker(engine, concurrency: 2, grace_seconds: 10) do
        wait_until(5, "step a to start") { engine.get_task(task.uuid).step("a")["state"] == "in_progress" }
      end
      a = engine.get_task(task.uuid).step("a")
      expect([a["state"], a["attempts"]]).to eq(["complete", 1])
      # b and c may come in through the claim that was waiting when stop came (they run too); nothing after them
      expect(engine.get_task(task.uuid).step("d")["state"]).to eq("pending")
      expect(engine.get_task(task.uuid).steps.map { |s| s["state"] }).not_to include("in_progress")
    end
  end

  it "after the grace period ends a running handler and reports its step as a retryable WorkerShutdown failure" do
    Tasker::Engine.open do |engine|
      WorkerApp.register(engine)
      task = create_diamond(engine, "hang" => { "step" => "a", "attempt" => 1, "seconds" => 60 })
      started = nil
      with_worker(engine, concurrency: 2, grace_seconds: 0.3) do
        wait_until(5, "step a to start") { engine.get_task(task.uuid).step("a")["state"] == "in_progress" }
        started = Time.now
      end
      expect(Time.now - started).to be < 5
      a = engine.get_task(task.uuid).step("a")
      expect(a["state"]).to eq("waiting_for_retry")
      expect(a["error"]).to include("error_type" => "WorkerShutdown")
      expect(a["error"]["backtrace"].join("\n")).to include("worker_app.rb") # where the handler was
      expect(output.string).to match(/grace period over: ending 1 running steps/)
    end
  end

  # Steps claimed ahead (prefetch) wait in hand: once the grace period is over, no slot starts them; they are reported
  # as the running step is.
  it "after the grace period reports the steps it claimed ahead as retryable WorkerShutdown failures" do
    Tasker::Engine.open do |engine|
      work = Class.new(Tasker::StepHandler) do
        def process(context) = context.task.context["hang"] ? sleep(60) : nil
      end
      engine.register_template("name: one_step\nnamespace_name: slots\nversion: 1.0.0\n" \
                               "steps:\n  - name: work\n    handler: { callable: Work }\n")
      engine.register_handler("Work", work)
      stopped = nil
      with_worker(engine, concurrency: 1, prefetch: 2, grace_seconds: 0.3) do |worker|
        stopped = worker
        10.times { engine.create_task("one_step", namespace: "slots") } # the steps are short: it prefetches
        wait_until(10, "10 short steps") { worker.stats.completed == 10 }
        hung = Array.new(3) { engine.create_task("one_step", namespace: "slots", context: { "hang" => true }).uuid }
        wait_until(10, "3 steps in hand") { hung.all? { |uuid| engine.get_task(uuid).step("work")["state"] == "in_progress" } }
        worker.stop
        wait_until(10, "the steps reported") { hung.none? { |uuid| engine.get_task(uuid).step("work")["state"] == "in_progress" } }
        errors = hung.map { |uuid| engine.get_task(uuid).step("work")["error"] }
        expect(errors.map { |error| error["error_type"] }).to eq(["WorkerShutdown"] * 3)
        expect(errors.count { |error| error["message"].include?("before this step ran") }).to eq(2)
      end
      expect(stopped.stats.shutdown).to eq(3)
      expect(output.string).to include("grace period over: ending 1 running steps and 2 queued (retryable WorkerShutdown)")
    end
  end

  # A forced stop gives no grace period: "grace period over" would be wrong.
  it "says a forced stop was forced rather than that the grace period was over" do
    Tasker::Engine.open do |engine|
      WorkerApp.register(engine)
      task = create_diamond(engine, "hang" => { "step" => "a", "attempt" => 1, "seconds" => 60 })
      with_signals_caught do
        signaller = Thread.new do
          wait_until(10, "step a to start") { engine.get_task(task.uuid).step("a")["state"] == "in_progress" }
          Process.kill("TERM", Process.pid)
          wait_until(10, "the stop") { output.string.include?("stopping:") }
          Process.kill("TERM", Process.pid) # the second: no grace period
        end
        described_class.new(engine, concurrency: 1, wait_seconds: 0.2, logger: logger).run(handle_signals: true)
        signaller.join
      end
      expect(engine.get_task(task.uuid).step("a")["error"]).to include("error_type" => "WorkerShutdown")
      expect(output.string).to include("forced stop: ending 1 running steps (retryable WorkerShutdown)") # step a, no idle slot
      expect(output.string).not_to include("grace period over")
    end
  end

  # Only a signal sent before makes the next one force the stop: the worker's own stop (a handler's Exception here; in
  # burst mode, no work left) is not one.
  it "takes the first signal after it stopped by itself for a first one: running steps keep their grace period" do
    Tasker::Engine.open do |engine|
      started = []
      engine.register_template("name: two\nnamespace_name: signals\nversion: 1.0.0\n" \
                               "steps:\n  - name: work\n    handler: { callable: Work }\n")
      engine.register_handler("Work", handler { |context|
        if context.task.context["fatal"]
          finish = Time.now + 5
          sleep 0.01 until started.any? || Time.now > finish
          raise NoMemoryError, "out of memory" # the worker stops by itself
        end
        started << true
        sleep 3 # still running when the signal comes
        "done"
      })
      fatal = engine.create_task("two", namespace: "signals", context: { "fatal" => true })
      other = engine.create_task("two", namespace: "signals", context: { "fatal" => false })
      with_signals_caught do
        signaller = Thread.new do
          wait_until(10, "the worker to stop by itself") { output.string.include?("stopping:") }
          Process.kill("TERM", Process.pid)
        end
        described_class.new(engine, concurrency: 2, wait_seconds: 0.2, logger: logger).run(handle_signals: true)
        signaller.join
      end
      expect(engine.get_task(fatal.uuid).step("work")["error"]["error_type"]).to eq("NoMemoryError")
      work = engine.get_task(other.uuid).step("work")
      expect([work["state"], work["attempts"], work["result"]]).to eq(["complete", 1, "done"])
    end
  end

  # A closed engine does not come back: its claims are not retried (as those of a database that went away are), as in
  # the Python and Node workers.
  it "stops with one error line when its engine is closed under it, and run raises InvalidHandleError" do
    engine = Tasker::Engine.new
    WorkerApp.register(engine)
    worker = described_class.new(engine, wait_seconds: 0.2, logger: logger)
    raised = nil
    thread = Thread.new do
      worker.run
    rescue Tasker::InvalidHandleError => e
      raised = e
    end
    wait_until(5, "the worker to start") { output.string.include?("started:") }
    engine.close
    begin
      expect(thread.join(10)).to be_truthy, "the worker went on claiming on a closed engine"
    ensure
      worker.stop
      thread.join(10)
    end
    expect(raised&.message).to match(/the engine was closed while worker \S+ ran/)
    expect(output.string.lines.grep(/ERROR|FATAL/).size).to eq(1), output.string
  end

  # A claim in flight when the engine closes may fail with another error (its wait cancelled, say): the engine is
  # closed all the same, so the worker stops at once rather than retry and log the closed engine a second time.
  it "stops with one error line when a claim fails otherwise as its engine closes" do
    engine = Tasker::Engine.new
    WorkerApp.register(engine)
    allow(Tasker::Native).to receive(:call_json).and_wrap_original do |original, function, *args|
      next original.call(function, *args) unless function == :tasker_work_claim && !engine.closed?

      engine.close
      raise Tasker::TimeoutError, "the operation timed out"
    end
    worker = described_class.new(engine, wait_seconds: 0.2, logger: logger)
    expect { worker.run }.to raise_error(Tasker::InvalidHandleError, /the engine was closed while worker \S+ ran/)
    expect(output.string.lines.grep(/ERROR|FATAL/).size).to eq(1), output.string
  end

  # Past the grace period a slot that does not end has its step reported from outside, but only while its handler
  # runs: a completion still on its way may land, and a WorkerShutdown sent before it would have the step run again.
  it "after the grace period leaves a report still on its way to land" do
    reporting = Queue.new
    BeforeReport.hook = lambda do |claim|
      next unless claim&.dig("step", "name") == "a"

      reporting << true
      sleep(Tasker::Worker::REPORT_SECONDS + 2) # longer than the worker waits for a slot past the grace period
    end
    Tasker::Engine.open do |engine|
      WorkerApp.register(engine)
      task = create_diamond(engine)
      with_worker(engine, concurrency: 1, grace_seconds: 0) do
        wait_until(5, "step a's report to be on its way") { !reporting.empty? }
      end
      wait_until(5, "step a's report to land") { engine.get_task(task.uuid).step("a")["state"] != "in_progress" }
      a = engine.get_task(task.uuid).step("a")
      expect([a["state"], a["attempts"], a["error"]]).to eq(["complete", 1, nil])
    end
  ensure
    BeforeReport.hook = nil
  end

  it "claims again a step whose lease expired (a worker died holding it)" do
    Tasker::Engine.open(lease_seconds: 1) do |engine|
      WorkerApp.register(engine)
      task = create_diamond(engine)
      request = JSON.generate(handlers: ["Echo"], max_steps: 1)
      claimed = JSON.parse(Tasker::Native.call_json(:tasker_work_claim, engine.handle_pointer, request))["claims"]
      expect(claimed.map { |c| c["step"]["name"] }).to eq(["a"]) # and never reported: its holder is gone
      with_worker(engine, concurrency: 2) do
        wait_until(10, "the task") { engine.get_task(task.uuid).state == "complete" }
      end
      expect(engine.get_task(task.uuid).steps.map { |s| s["attempts"] }).to eq([2, 1, 1, 1])
      expect_contiguous_audit(engine.get_task(task.uuid))
    end
  end

  it "stops when a handler raises an Exception that is not a StandardError, reporting its step first" do
    Tasker::Engine.open do |engine|
      WorkerApp.register(engine)
      engine.register_handler("Echo", handler { |_context| raise NoMemoryError, "out of memory" })
      task = create_diamond(engine)
      worker = described_class.new(engine, logger: logger, wait_seconds: 0.2)
      expect(Thread.new { worker.run }.join(10)).to be_truthy # it stopped by itself
      a = engine.get_task(task.uuid).step("a")
      expect([a["state"], a["error"]["error_type"], a["error"]["message"]]).to eq(%w[waiting_for_retry NoMemoryError] + ["NoMemoryError: out of memory"])
      expect(output.string).to include("a handler raised NoMemoryError (out of memory): stopping")
    end
  end

  it "refuses bad options and an engine without handlers" do
    Tasker::Engine.open do |engine|
      expect { described_class.new(engine) }.to raise_error(Tasker::ValidationError, /no handlers/)
      WorkerApp.register(engine)
      expect { described_class.new(engine, concurrency: 0) }.to raise_error(Tasker::ValidationError, /concurrency/)
      expect { described_class.new(engine, prefetch: -1) }.to raise_error(Tasker::ValidationError, /prefetch must be .*, not -1/)
      expect { described_class.new(engine, prefetch: 2.0) }.to raise_error(Tasker::ValidationError, /prefetch must be .*, not 2.0/)
      expect { described_class.new(engine, prefetch: "8") }.to raise_error(Tasker::ValidationError, /prefetch/)
      expect { described_class.new(engine, wait_seconds: 61) }.to raise_error(Tasker::ValidationError, /wait_seconds/)
      expect { described_class.new(engine, namespaces: "x") }.to raise_error(Tasker::ValidationError, /namespaces/)
      expect { described_class.new(engine, grace_seconds: -1) }.to raise_error(Tasker::ValidationError, /grace_seconds/)
      expect { described_class.new(engine, wait_seconds: 0) }.to raise_error(Tasker::ValidationError, /wait_seconds must be a number of seconds, more than 0 and at most 60/)
      expect { described_class.new(engine, stats_seconds: -1) }.to raise_error(Tasker::ValidationError, /stats_seconds/)
      expect { described_class.new(engine, log_interval_seconds: 1) }.to raise_error(ArgumentError, /log_interval_seconds/)
      worker = described_class.new(engine)
      expect { Thread.new { Thread.current.report_on_exception = false; worker.run(handle_signals: true) }.value }.to raise_error(Tasker::ValidationError, /main thread/)
    end
  end

  it "never holds more claims than tasker_work_claim's limit, whatever concurrency and prefetch come to" do
    Tasker::Engine.open do |engine|
      WorkerApp.register(engine)
      worker = described_class.new(engine, concurrency: 6000, prefetch: 6000, logger: logger)
      expect(worker.send(:capacity)).to eq(6000) # no step ran yet: no prefetch
      worker.send(:handler_finished, 0.001)
      expect(worker.send(:capacity)).to eq(described_class::MAX_CLAIM_STEPS).and eq(10_000)
    end
  end

  it "has the defaults the Python and Node workers have" do
    Tasker::Engine.open do |engine|
      WorkerApp.register(engine)
      worker = described_class.new(engine)
      expect([worker.concurrency, worker.prefetch]).to eq([8, 8])
      expect([described_class.new(engine, concurrency: 3).prefetch, described_class.new(engine, prefetch: 0).prefetch]).to eq([3, 0])
      expect(%i[@wait_seconds @grace_seconds @stats_seconds].map { |name| worker.instance_variable_get(name) }).to eq([2, 25, 60])
    end
  end

  it "in burst mode runs what is ready, stops once nothing is, and returns its stats" do
    Tasker::Engine.open do |engine|
      WorkerApp.register(engine)
      engine.register_handler("Echo", handler { |context| raise Tasker::PermanentError, "no" if context.step.name == "c" })
      uuids = Array.new(5) { create_diamond(engine).uuid }
      stats = nil
      expect(Thread.new { stats = described_class.new(engine, logger: logger, wait_seconds: 0.2).run(burst: true) }.join(20)).to be_truthy
      expect(stats.to_h).to eq(completed: 10, failed: 5, shutdown: 0, stale: 0, unreported: 0, steps: 15)
      expect(uuids.map { |uuid| engine.get_task(uuid).state }.uniq).to eq(["error"])
      expect(output.string).to include("no work left (burst)")
    end
  end
end
