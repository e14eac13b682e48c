# frozen_string_literal: true

require_relative "spec_helper"

RSpec.describe Tasker::Engine, :engine do
  let(:engine) { @engine }

  it "runs every step and passes dependency results" do
    register_order_handlers(engine)
    task = create_order(engine)
    outcome = engine.handle(task.uuid)
    expect([outcome.action, outcome.task_state]).to eq(%w[complete complete])
    done = engine.get_task(task.uuid)
    expect(done.steps.map { |s| s["state"] }).to eq(["complete"] * 4)
    expect(done.step("ship_order")["result"]).to eq(
      "step" => "ship_order", "saw" => %w[process_payment reserve_inventory validate_order])
  end

  it "runs ready steps at once on threads" do
    barrier = Queue.new
    meets = handler do |context|
      barrier << context.step.name
      Timeout.timeout(10) { sleep 0.01 until barrier.size >= 2 } # both must be running at once
      context.step.name
    end
    yaml = "name: pair\nnamespace_name: rb\nversion: 1.0.0\nsteps:\n" \
           "  - name: a\n    handler: { callable: Meets }\n  - name: b\n    handler: { callable: Meets }\n"
    Tasker::Engine.open(concurrency: 2) do |e|
      e.register_template(yaml)
      e.register_handler("Meets", meets)
      expect(e.handle(e.create_task("pair", namespace: "rb").uuid).action).to eq("complete")
    end
  end

  it "never runs more handlers at once than its concurrency" do
    running = Queue.new
    peak = 0
    lock = Mutex.new
    counts = handler do |context|
      lock.synchronize { running << 1; peak = [peak, running.size].max }
      sleep 0.05
      lock.synchronize { running.pop }
      context.step.name
    end
    yaml = "name: fan\nnamespace_name: rb\nversion: 1.0.0\nsteps:\n" +
           (1..6).map { |i| "  - name: s#{i}\n    handler: { callable: Counts }\n" }.join
    Tasker::Engine.open(concurrency: 2) do |e|
      e.register_template(yaml)
      e.register_handler("Counts", counts)
      expect(e.handle(e.create_task("fan", namespace: "rb").uuid).action).to eq("complete")
    end
    expect(peak).to eq(2)
  end

  # An engine with six independent steps of handler `work` registered; yields it and a block that runs one task.
  def with_six_steps(work, concurrency:)
    template = "name: fan\nnamespace_name: rb\nversion: 1.0.0\nsteps:\n" +
               (1..6).map { |i| "  - name: s#{i}\n    handler: { callable: Work }\n" }.join
    Tasker::Engine.open(concurrency: concurrency) do |e|
      e.register_template(template)
      e.register_handler("Work", work)
      yield e, -> { e.handle(e.create_task("fan", namespace: "rb").uuid).action }
    end
  end

  # The threads a fan-out of six steps ran on, task after task (one list per task).
  def threads_of_fan_out(pause)
    seen = []
    work = handler do |_context|
      seen.last << Thread.current
      sleep pause if pause.positive?
      nil
    end
    with_six_steps(work, concurrency: 4) do |_e, run_task|
      3.times do
        seen << []
        expect(run_task.call).to eq("complete")
      end
    end
    seen.map(&:uniq)
  end

  it "runs the steps of a handler that finishes quickly on the calling thread" do
    stub_const("Tasker::HandlerTimes::QUICK_SECONDS", 0.002) # "quick" whatever this machine's speed
    _first, *later = threads_of_fan_out(0) # the first task's steps may use the pool: the handler was never seen
    expect(later).to all(eq([Thread.current]))
  end

  it "sends the rest of a wave to the pool once a quick handler blocks" do
    stub_const("Tasker::HandlerTimes::QUICK_SECONDS", 0.002)
    blocking = false
    work = handler do |_context|
      if blocking
        blocking = false
        sleep 0.05 # past BLOCKED_SECONDS: a cache miss that became a network call
      end
      nil
    end
    with_six_steps(work, concurrency: 4) do |e, run_task|
      2.times { run_task.call }
      # Which thread runs a posted step is a race (the calling thread takes back steps no pool thread has picked up
      # yet), so this counts what is handed to the pool.
      posted = 0
      e.instance_variable_get(:@pool).singleton_class.prepend(Module.new { define_method(:post) { |&job| posted += 1; super(&job) } })
      blocking = true
      expect(run_task.call).to eq("complete")
      # Concurrency 4: three steps are in hand when the blocked one returns. The steps claimed after them may run here
      # again, once pool runs have made the handler quick again.
      expect(posted).to be >= 3
    end
  end

  it "never runs more than its concurrency when quick and waiting handlers share a wave" do
    stub_const("Tasker::HandlerTimes::QUICK_SECONDS", 0.002)
    running = 0
    peak = 0
    lock = Mutex.new
    work = handler do |context|
      lock.synchronize { running += 1; peak = [peak, running].max }
      sleep 0.005 if %w[s1 s2 s3].include?(context.step.name)
      lock.synchronize { running -= 1 }
      nil
    end
    with_six_steps(work, concurrency: 3) do |_e, run_task|
      4.times { expect(run_task.call).to eq("complete") }
    end
    expect(peak).to be <= 3
  end

  it "runs the steps of a handler that waits on the pool every time" do
    expect(threads_of_fan_out(0.005)).to all(satisfy { |threads| threads.size > 1 })
  end

  # The native functions an engine calls while the block runs.
  def native_calls
    names = []
    allow(Tasker::Native).to receive(:call_json).and_wrap_original do |original, function, *args|
      names << function
      original.call(function, *args)
    end
    yield
    names
  end

  it "reports a wave of quick steps in one call" do
    stub_const("Tasker::HandlerTimes::QUICK_SECONDS", 0.002)
    work = handler { |context| context.step.name }
    with_six_steps(work, concurrency: 8) do |e, run_task|
      run_task.call # the handler is known to be quick from now on
      task = nil
      calls = native_calls { task = e.create_task("fan", namespace: "rb"); e.handle(task.uuid) }
      expect(calls).to eq(%i[tasker_task_create tasker_steps_claim tasker_steps_report])
      expect(e.get_task(task.uuid).steps.map { |step| step["result"] }).to eq(%w[s1 s2 s3 s4 s5 s6])
    end
  end

  [["a result holding a NUL", "a\u0000b", "NUL"], ["a result nested too deep", :deep, "nest"]].each do |what, bad, why|
    it "fails only its own step for #{what} in a wave" do
      stub_const("Tasker::HandlerTimes::QUICK_SECONDS", 0.002)
      deep = (1..80).reduce({}) { |inner, _| { "d" => inner } }
      refuse = false # the first task makes the handler known as quick; the second one's s3 returns the bad result
      work = handler do |context|
        next context.step.name unless refuse && context.step.name == "s3"

        bad == :deep ? deep : bad
      end
      with_six_steps(work, concurrency: 8) do |e, run_task|
        run_task.call
        refuse = true
        task = e.create_task("fan", namespace: "rb")
        calls = native_calls { e.handle(task.uuid) }
        expect(calls).to include(:tasker_steps_report)
        steps = e.get_task(task.uuid).steps.to_h { |step| [step["name"], step] }
        expect(steps["s3"]["error"]["error_type"]).to eq("InvalidResult")
        expect(steps["s3"]["error"]["message"]).to include(why)
        expect(%w[s1 s2 s4 s5 s6].map { |name| steps[name]["result"] }).to eq(%w[s1 s2 s4 s5 s6])
      end
    end
  end

  it "ends a wave whose task was cancelled meanwhile with the cancelled outcome" do
    stub_const("Tasker::HandlerTimes::QUICK_SECONDS", 0.002)
    cancel = false
    engine = nil
    work = handler do |context|
      engine.cancel_task(context.task.uuid, reason: "operator") if cancel && context.step.name == "s1" # the wave's reports go stale
      context.step.name
    end
    with_six_steps(work, concurrency: 8) do |e, run_task|
      engine = e
      run_task.call
      cancel = true
      task = e.create_task("fan", namespace: "rb")
      outcome = nil
      calls = native_calls { outcome = e.handle(task.uuid) }
      expect(calls).to include(:tasker_steps_report)
      expect([outcome.action, outcome.task_state]).to eq(%w[cancelled cancelled])
      expect(e.get_task(task.uuid).steps.map { |step| step["state"] }).not_to include("in_progress")
    end
  end

  # An engine with one step of handler `work`; returns the task's step after `handle`.
  def run_one_step(work)
    Tasker::Engine.open do |e|
      e.register_template("name: one\nnamespace_name: rb\nversion: 1.0.0\nsteps:\n  - name: a\n    handler: { callable: Work }\n")
      e.register_handler("Work", work)
      task = e.create_task("one", namespace: "rb")
      e.handle(task.uuid)
      e.get_task(task.uuid).step("a")
    end
  end

  [nil, { "ok" => true, "name" => "Zoë", "n" => [1, 2.5] }, %(text with "quotes" and \\ a backslash)].each do |result|
    it "stores the result #{result.inspect} as the handler returned it" do
      Tasker::Engine.open do |e|
        e.register_template("name: one\nnamespace_name: rb\nversion: 1.0.0\nsteps:\n  - name: a\n    handler: { callable: Work }\n")
        e.register_handler("Work", handler { |context| context.set_attribute("order.id", "o-1") && result })
        task = e.create_task("one", namespace: "rb")
        expect(e.handle(task.uuid, traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01").action).to eq("complete")
        expect(e.get_task(task.uuid).step("a")["result"]).to eq(result)
      end
    end
  end

  it "reports a handler run whose wall clock stepped back meanwhile" do
    wall = 2_000_000_000_000_000
    allow(Process).to receive(:clock_gettime).and_call_original
    allow(Process).to receive(:clock_gettime).with(Process::CLOCK_REALTIME, :microsecond) { wall -= 60_000_000 } # NTP
    step = run_one_step(handler { |_context| sleep 0.001; "done" })
    expect([step["state"], step["result"]]).to eq(%w[complete done])
  end

  it "ignores a negative retry_after (the backoff decides) rather than losing the step" do
    step = run_one_step(handler { |_context| raise Tasker::RetryableError.new("busy", retry_after: -1) })
    expect([step["state"], step["error"]["message"]]).to eq(%w[waiting_for_retry busy])
  end

  it "refuses an attribute that is not UTF-8 text when it is set" do
    refused = nil
    step = run_one_step(handler do |context|
      context.set_attribute("k", "\xff".b)
    rescue ArgumentError => e
      refused = e.message
      "ok"
    end)
    expect([refused, step["state"]]).to eq(['attribute "k" must be UTF-8 text', "complete"])
  end

  it "keeps a quick handler quick through one slow run and sends it back to the pool after three" do
    times = Tasker::HandlerTimes.new
    quick = Tasker::HandlerTimes::QUICK_SECONDS
    expect(times.quick?("Work")).to be(false) # never seen
    5.times { times.record("Work", quick / 10) }
    expect(times.quick?("Work")).to be(true)
    times.record("Work", quick * 2) # stretched once by the scheduler
    expect(times.quick?("Work")).to be(true)
    2.times { times.record("Work", quick * 2) }
    expect(times.quick?("Work")).to be(false)
  end

  it "sends a quick handler to the pool at once after one blocked run" do
    times = Tasker::HandlerTimes.new
    5.times { times.record("Work", Tasker::HandlerTimes::QUICK_SECONDS / 10) }
    times.record("Work", Tasker::HandlerTimes::BLOCKED_SECONDS * 2)
    expect(times.quick?("Work")).to be(false)
  end

  it "forgets a handler's times when a handler is registered again under its name" do
    times = engine.instance_variable_get(:@handler_times)
    engine.register_handler("Work", Returns)
    5.times { times.record("Work", 0) }
    engine.register_handler("Work", Returns)
    expect(times.quick?("Work")).to be(false)
  end

  it "applies process_results to the output" do
    register_order_handlers(engine)
    doubles = Class.new(Tasker::StepHandler) do
      def process(_context) = 21
      def process_results(output) = output * 2
    end
    engine.register_handler("ShipOrder", doubles)
    task = create_order(engine)
    engine.handle(task.uuid)
    expect(engine.get_task(task.uuid).step("ship_order")["result"]).to eq(42)
  end

  it "re-enqueues a RetryableError after its retry_after" do
    flaky = handler do |context|
      raise Tasker::RetryableError.new("gateway busy", retry_after: 30) if context.step.attempt == 1

      "paid"
    end
    register_order_handlers(engine, payment: flaky)
    task = create_order(engine)
    outcome = engine.handle(task.uuid)
    expect([outcome.action, outcome.delay_seconds, outcome.task_state]).to eq(["reenqueue", 30, "waiting_for_retry"])
    engine.advance_clock(30)
    expect(engine.handle(task.uuid).action).to eq("complete")
    expect(engine.get_task(task.uuid).step("process_payment")["attempts"]).to eq(2)
  end

  it "records any other exception as a retryable failure with class, message and backtrace" do
    register_order_handlers(engine, payment: handler { |_c| raise ArgumentError, "bad sku" })
    task = create_order(engine)
    expect(engine.handle(task.uuid).action).to eq("reenqueue")
    error = engine.get_task(task.uuid).step("process_payment")["error"]
    expect(error).to include("error_type" => "ArgumentError", "message" => "bad sku", "permanent" => false)
    expect(error["backtrace"].join).to include("engine_spec.rb")
  end

  it "fails the step and the task at once on a PermanentError" do
    register_order_handlers(engine, payment: handler { |_c| raise Tasker::PermanentError, "card declined" })
    task = create_order(engine)
    expect(engine.handle(task.uuid).action).to eq("error")
    expect(engine.get_task(task.uuid).step("process_payment").slice("state", "attempts"))
      .to eq("state" => "error", "attempts" => 1)
  end

  it "leaves a step whose handler is not registered ready, and handle says it waits for that handler" do
    engine.register_template(ORDER_TEMPLATE)
    %w[ValidateOrder ReserveInventory ShipOrder].each { |name| engine.register_handler(name, Returns) }
    task = create_order(engine)
    outcome = engine.handle(task.uuid)
    expect(outcome.to_h.slice(:action, :delay_seconds, :requeue_after_seconds, :waiting_for_handlers)).to eq(
      action: "reenqueue", delay_seconds: 5, requeue_after_seconds: 5,
      waiting_for_handlers: [{ "handler" => "ProcessPayment", "steps" => ["process_payment"] }])
    done = engine.get_task(task.uuid)
    expect(done.step("process_payment").values_at("state", "attempts", "error")).to eq(["pending", 0, nil])
    expect(done.waiting_for_handlers).to eq([{ "handler" => "ProcessPayment", "steps" => ["process_payment"] }])
  end

  it "treats an exception in process_results as a step failure" do
    register_order_handlers(engine)
    bad = Class.new(Returns) { def process_results(_output) = raise(KeyError, "cannot summarize") }
    engine.register_handler("ValidateOrder", bad)
    task = create_order(engine)
    engine.handle(task.uuid)
    expect(engine.get_task(task.uuid).step("validate_order")["error"]["message"]).to eq("cannot summarize")
  end

  it "fails a step whose result is not JSON-serializable, naming the value" do
    receipt = opaque_object
    register_order_handlers(engine, payment: handler { |_c| { "receipt" => receipt } })
    task = create_order(engine)
    expect(engine.handle(task.uuid).action).to eq("reenqueue")
    error = engine.get_task(task.uuid).step("process_payment")["error"]
    expect(error).to include("error_type" => "TypeError", "message" => "result.receipt is a Object, which is not JSON-serializable")
  end

  it "fails a step whose result is not UTF-8, and reports the next steps on that thread" do
    register_order_handlers(engine, payment: handler { |_c| { "receipt" => "\xFF".b } })
    task = create_order(engine)
    expect(engine.handle(task.uuid).action).to eq("reenqueue")
    error = engine.get_task(task.uuid).step("process_payment")["error"]
    expect(error).to include("error_type" => "TypeError")
    expect(error["message"]).to start_with("step result is not JSON-serializable")
    engine.register_handler("ProcessPayment", Returns)
    engine.advance_clock(3600)
    expect(engine.handle(task.uuid).action).to eq("complete")
    expect(engine.get_task(task.uuid).step("ship_order")["result"]).to include("step" => "ship_order")
  end

  it "fails a step whose result holds a BasicObject, naming its class" do
    register_order_handlers(engine, payment: handler { |_c| { "receipt" => BasicObject.new } })
    task = create_order(engine)
    engine.handle(task.uuid)
    expect(engine.get_task(task.uuid).step("process_payment")["error"]).to include(
      "error_type" => "TypeError", "message" => "result.receipt is a BasicObject, which is not JSON-serializable")
  end

  it "fails a step whose result holds a float JSON cannot represent" do
    register_order_handlers(engine, payment: handler { |_c| [1.0, Float::NAN] })
    task = create_order(engine)
    engine.handle(task.uuid)
    expect(engine.get_task(task.uuid).step("process_payment")["error"]["message"]).to eq("result[1] is NaN, which JSON cannot represent")
  end

  it "fails a step whose result contains itself" do
    register_order_handlers(engine, payment: handler { |_c| [].tap { |cycle| cycle << cycle } })
    task = create_order(engine)
    engine.handle(task.uuid)
    expect(engine.get_task(task.uuid).step("process_payment")["error"]).to include(
      "error_type" => "TypeError", "message" => "result[0] contains itself (a cycle), which JSON cannot represent")
  end

  it "reports symbols in a result as strings" do
    register_order_handlers(engine, payment: handler { |_c| { status: :paid } })
    task = create_order(engine)
    engine.handle(task.uuid)
    expect(engine.get_task(task.uuid).step("process_payment")["result"]).to eq("status" => "paid")
  end

  it "refuses a task context that is not JSON-serializable before creating the task" do
    engine.register_template(ORDER_TEMPLATE)
    expect { create_order(engine, context: { "order" => { "placed_at" => opaque_object } }) }
      .to raise_error(TypeError, "context.order.placed_at is a Object, which is not JSON-serializable")
    expect(engine.list_tasks).to be_empty
  end

  it "retries a failed task from pending, and the retried steps run again" do
    calls = 0
    fails_once = handler do |_context|
      calls += 1
      raise Tasker::PermanentError, "down" if calls == 1

      "ok"
    end
    register_order_handlers(engine, payment: fails_once)
    task = create_order(engine)
    expect(engine.handle(task.uuid).action).to eq("error")
    expect(engine.retry_task(task.uuid, actor: "ops").task_state).to eq("pending")
    expect(engine.handle(task.uuid).action).to eq("complete")
  end

  it "resolves a step by hand with a result its dependents receive" do
    register_order_handlers(engine)
    task = create_order(engine)
    expect(engine.resolve_step(task.uuid, "validate_order", { "by" => "hand" }, actor: "ops").action).to eq("execute")
    engine.handle(task.uuid)
    done = engine.get_task(task.uuid)
    expect(done.step("validate_order").slice("state", "result"))
      .to eq("state" => "resolved_manually", "result" => { "by" => "hand" })
  end

  it "cancels a task, which then cannot be retried" do
    register_order_handlers(engine)
    task = create_order(engine)
    expect(engine.cancel_task(task.uuid, reason: "customer left").action).to eq("cancelled")
    expect { engine.retry_task(task.uuid) }.to raise_error(Tasker::InvalidStateError) { |e|
      expect(e.details).to eq("from" => "cancelled", "to" => "pending")
    }
  end

  it "registers every template in a directory, as a Rails app keeps them in config/tasker" do
    Dir.mktmpdir do |dir|
      FileUtils.cp(ORDER_TEMPLATE, File.join(dir, "order_fulfillment.yml"))
      File.write(File.join(dir, "refund.yaml"), "name: refund\nnamespace_name: payments\nversion: 1.0.0\n" \
                                                "steps:\n  - name: refund\n    handler: { callable: Refund }\n")
      File.write(File.join(dir, "notes.txt"), "not a template")
      expect(engine.register_templates(dir).map { |t| t["name"] }).to eq(%w[order_fulfillment refund])
    end
  end

  it "registers handler classes under their own names" do
    engine.register_template(ORDER_TEMPLATE)
    named = %w[ValidateOrder ReserveInventory ProcessPayment ShipOrder].map do |name|
      stub_const(name, Class.new(Returns))
    end
    engine.register_handlers(named)
    expect(engine.handle(create_order(engine).uuid).action).to eq("complete")
  end

  it "refuses to register an anonymous handler class by name" do
    expect { engine.register_handlers(Class.new(Returns)) }.to raise_error(Tasker::ValidationError, /has no name/)
  end

  it "returns the existing task for a repeated idempotency key" do
    register_order_handlers(engine)
    first = create_order(engine, idempotency_key: "order-7")
    second = create_order(engine, idempotency_key: "order-7")
    expect([first.created, second.created, second.uuid]).to eq([true, false, first.uuid])
  end

  it "lists tasks and reports health" do
    register_order_handlers(engine)
    done = create_order(engine)
    engine.handle(done.uuid)
    create_order(engine)
    expect(engine.list_tasks(state: "complete").map { |t| t["task_uuid"] }).to eq([done.uuid])
    expect(engine.health["tasks"]["complete"]).to eq(1)
  end

  it "streams events to a subscriber" do
    register_order_handlers(engine)
    subscription = engine.subscribe("step.completed")
    engine.handle(create_order(engine).uuid)
    expect(subscription.map { |e| e["step_name"] }).to eq(%w[validate_order reserve_inventory process_payment ship_order])
    subscription.close
  end

  it "maps core errors to exception classes" do
    expect { engine.create_task("missing", namespace: "nowhere") }.to raise_error(Tasker::NotFoundError, /template not found/)
    expect { engine.get_task("nope") }.to raise_error(Tasker::ValidationError, /not a uuid/)
    cyclic = "name: x\nnamespace_name: n\nversion: 1.0.0\nsteps:\n  - name: a\n    handler: { callable: A }\n    dependencies: [a]\n"
    expect { engine.register_template(cyclic) }.to raise_error(Tasker::InvalidDagError, /a -> a/)
    expect { engine.register_template("name: [unclosed\n") }.to raise_error(Tasker::ValidationError, /YAML/)
    expect { engine.register_handler("X", Object) }.to raise_error(Tasker::ValidationError)
  end

  it "raises on a closed engine instead of crashing" do
    e = Tasker::Engine.new
    e.close
    e.close
    expect { e.list_tasks }.to raise_error(Tasker::InvalidHandleError)
  end

  it "raises a clear error when an engine is used after fork" do
    reader, writer = IO.pipe
    pid = fork do
      engine.list_tasks
      writer.write("no error")
    rescue Tasker::Error => e
      writer.write(e.message)
    ensure
      exit!(0)
    end
    Process.wait(pid)
    writer.close
    expect(reader.read).to include("after fork")
  end

  it "raises a clear error when a subscription is used after fork" do
    subscription = engine.subscribe
    reader, writer = IO.pipe
    pid = fork do
      subscription.pull
      writer.write("no error")
    rescue Tasker::Error => e
      writer.write(e.message)
    ensure
      exit!(0)
    end
    Process.wait(pid)
    writer.close
    expect(reader.read).to include("subscription was opened in process #{Process.pid} and cannot be used after fork")
  end

  it "does not free the parent's engine from a forked child's finalizers" do
    Tasker::Engine.new # left for the finalizers
    reader, writer = IO.pipe
    pid = fork do
      reader.close
      Tasker::Native.define_singleton_method(:tasker_engine_free) do |_pointer|
        writer.write("freed in the child")
        FFI::Pointer::NULL
      end
      exit(0) # a normal exit runs every finalizer
    end
    writer.close
    Process.wait(pid)
    expect(reader.read).to eq("")
  end

  it "migrates as a no-op on the memory store" do
    expect(engine.migrate).to be_nil
    expect(engine.list_tasks).to eq([])
  end

  it "round-trips multi-byte UTF-8 exactly" do
    text = "größe ✓ 🚚 日本語" * 1000
    yaml = "name: echo\nnamespace_name: rb\nversion: 1.0.0\nsteps:\n  - name: e\n    handler: { callable: Echo }\n"
    engine.register_template(yaml)
    engine.register_handler("Echo", handler { |c| c.task.context["text"] })
    task = engine.create_task("echo", namespace: "rb", context: { text: text })
    engine.handle(task.uuid)
    expect(engine.get_task(task.uuid).step("e")["result"]).to eq(text)
  end
end

RSpec.describe "require before fork" do
  it "lets a master require tasker and fork workers that open their own engines" do
    script = <<~RUBY
      $LOAD_PATH.unshift #{File.expand_path('../lib', __dir__).inspect}
      require "tasker"
      pid = fork do
        Tasker::Engine.open { |e| e.register_template(#{ORDER_TEMPLATE.inspect}); exit!(e.list_tasks.empty? ? 0 : 3) }
      end
      Process.wait(pid)
      exit($?.exitstatus)
    RUBY
    expect(system(RbConfig.ruby, "-e", script)).to be(true)
  end
end
