# frozen_string_literal: true

require_relative "spec_helper"

# Step protocol v2 through Engine#handle: refused results, deadlines, heartbeats, the concurrency option.
RSpec.describe "Engine#handle (step protocol v2)", :engine do
  let(:engine) { @engine }

  TIMED = "name: timed\nnamespace_name: rb\nversion: 1.0.0\nsteps:\n" \
          "  - name: slow\n    handler: { callable: Slow }\n    timeout_seconds: 10\n" \
          "    retry: { retryable: true, max_attempts: 2, backoff_base_seconds: 1 }\n"

  def timed_task(slow)
    engine.register_template(TIMED)
    engine.register_handler("Slow", slow)
    engine.create_task("timed", namespace: "rb")
  end

  # An Array nested `depth` levels: [[[...]]]. (Handler blocks run as the handler: they see locals, not helpers.)
  NESTED = ->(depth) { (1...depth).reduce([]) { |inner, _| [inner] } }

  it "reports a result nested 80 levels as the step's InvalidResult failure, without raising" do
    register_order_handlers(engine, payment: handler { |_c| NESTED.(80) })
    task = create_order(engine)
    outcome = nil
    expect { outcome = engine.handle(task.uuid) }.not_to raise_error
    expect([outcome.action, outcome.task_state]).to eq(%w[reenqueue waiting_for_retry])
    payment = engine.get_task(task.uuid).step("process_payment")
    expect(payment.slice("state", "attempts")).to eq("state" => "waiting_for_retry", "attempts" => 1)
    expect(payment["error"]).to include("error_type" => "InvalidResult", "permanent" => false)
    expect(payment["error"]["message"]).to start_with("the engine refused the step's result: ").and include("64")
  end

  it "sends a result nested 63 levels, which the engine accepts (64 with the request around it)" do
    register_order_handlers(engine, payment: handler { |_c| NESTED.(63) })
    task = create_order(engine)
    expect(engine.handle(task.uuid).action).to eq("complete")
    expect(engine.get_task(task.uuid).step("process_payment")["result"]).to eq(NESTED.(63))
  end

  it "sends a failure's whole message and backtrace; the core cuts them" do
    deep = handler { |_c| (f = ->(n) { n.zero? ? raise("x" * 20_000) : f.(n - 1) }).call(300) }
    register_order_handlers(engine, payment: deep)
    task = create_order(engine)
    engine.handle(task.uuid)
    error = engine.get_task(task.uuid).step("process_payment")["error"]
    expect(error["message"].size).to be_between(8_000, 8_300) # the core's 8,192, with its marker
    expect(error["backtrace"].size).to be_between(195, 205) # the core's 200 frames (outermost and innermost kept)
    expect(error["backtrace"].first).to include("protocol_spec.rb")
  end

  it "gives the handler its deadline; heartbeat extends the lease, never past the deadline" do
    seen = {}
    clock = engine
    slow = handler do |context|
      seen[:deadline] = context.deadline
      seen[:first] = context.heartbeat(2)
      clock.advance_clock(3)
      seen[:second] = context.heartbeat(2)
      seen[:capped] = context.heartbeat(3600)
      seen[:cancelled] = context.cancelled?
      "done"
    end
    task = timed_task(slow)
    expect(engine.handle(task.uuid).action).to eq("complete")
    expect(seen[:deadline]).to be_a(Time)
    expect(seen[:second] - seen[:first]).to be_within(0.01).of(3) # 2 s from each heartbeat's now
    expect(seen[:capped]).to eq(seen[:deadline])
    expect(seen[:cancelled]).to be(false) # a manual clock's deadline is not the wall clock's
  end

  it "after the deadline, heartbeat raises StaleClaimError, cancelled? turns true, and the attempt is a Timeout" do
    seen = {}
    clock = engine
    slow = handler do |context|
      if context.step.attempt == 1
        clock.advance_clock(11)
        seen[:error] = begin
          context.heartbeat
        rescue Tasker::StaleClaimError => e
          e
        end
        seen[:cancelled] = context.cancelled?
      end
      "attempt #{context.step.attempt}"
    end
    task = timed_task(slow)
    outcome = engine.handle(task.uuid)
    expect(seen[:error]).to be_a(Tasker::StaleClaimError)
    expect(seen[:cancelled]).to be(true)
    expect([outcome.action, outcome.delay_seconds]).to eq(["reenqueue", 1])
    step = engine.get_task(task.uuid).step("slow")
    expect([step["state"], step["error"]["error_type"]]).to eq(%w[waiting_for_retry Timeout])
    engine.advance_clock(1)
    expect(engine.handle(task.uuid).action).to eq("complete")
    expect(engine.get_task(task.uuid).step("slow")["result"]).to eq("attempt 2")
  end

  it "on the wall clock, cancelled? turns true at the deadline, and the late attempt is a Timeout, not a completion" do
    yaml = "name: wall\nnamespace_name: rb\nversion: 1.0.0\nsteps:\n  - name: slow\n    handler: { callable: Slow }\n" \
           "    timeout_seconds: 1\n    retry: { retryable: true, max_attempts: 2, backoff_base_seconds: 60 }\n"
    waited = nil
    Tasker::Engine.open do |wall|
      wall.register_template(yaml)
      wall.register_handler("Slow", handler { |c|
        started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
        sleep 0.02 until c.cancelled? || Process.clock_gettime(Process::CLOCK_MONOTONIC) - started > 5
        waited = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
        "late"
      })
      task = wall.create_task("wall", namespace: "rb")
      expect(wall.handle(task.uuid).action).to eq("reenqueue")
      step = wall.get_task(task.uuid).step("slow")
      expect([step["state"], step["result"], step["error"]["error_type"]]).to eq(["waiting_for_retry", nil, "Timeout"])
    end
    expect(waited).to be_between(0.5, 1.5)
  end

  it "has no deadline without timeout_seconds, and heartbeat needs a claim" do
    seen = nil
    register_order_handlers(engine, payment: handler { |c| seen = [c.deadline, c.cancelled?] })
    engine.handle(create_order(engine).uuid)
    expect(seen).to eq([nil, false])
    expect { Tasker::StepContext.new(attributes: {}).heartbeat }.to raise_error(Tasker::InvalidStateError, /not made from a claim/)
  end

  it "takes concurrency:, refusing anything but a positive Integer" do
    Tasker::Engine.open(concurrency: 3) { |e| expect(e.concurrency).to eq(3) }
    expect(Tasker::Engine.open(&:concurrency)).to eq(8)
    [0, -1, 1.5, "2"].each do |bad|
      expect { Tasker::Engine.new(concurrency: bad) }.to raise_error(Tasker::ValidationError, /concurrency must be an Integer/)
    end
  end

  it "accepts threads: as concurrency's deprecated alias, warning once per process, naming the caller" do
    Tasker::Engine.instance_variable_set(:@threads_warned, nil)
    expect { Tasker::Engine.open(threads: 2) { |e| expect(e.concurrency).to eq(2) } }
      .to output(/protocol_spec\.rb:\d+.*threads: is deprecated.*use concurrency:/).to_stderr
    expect { Tasker::Engine.open(threads: 2) { nil } }.not_to output.to_stderr
    expect { Tasker::Engine.new(threads: 2, concurrency: 2) }.to raise_error(Tasker::ValidationError, /concurrency: only/)
  end

  it "raises a handler's non-StandardError exception out of handle, from a worker thread too" do
    yaml = "name: pair\nnamespace_name: rb\nversion: 1.0.0\nsteps:\n" \
           "  - name: a\n    handler: { callable: Stop }\n  - name: b\n    handler: { callable: Stop }\n"
    engine.register_template(yaml)
    engine.register_handler("Stop", handler { |_c| raise NoMemoryError, "out" })
    expect { engine.handle(engine.create_task("pair", namespace: "rb").uuid) }.to raise_error(NoMemoryError, "out")
  end
end
