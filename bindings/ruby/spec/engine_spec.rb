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

  it "runs the ready steps of a wave on a thread pool" do
    barrier = Queue.new
    meets = handler do |context|
      barrier << context.step.name
      Timeout.timeout(10) { sleep 0.01 until barrier.size >= 2 } # both must be running at once
      context.step.name
    end
    yaml = "name: pair\nnamespace_name: rb\nversion: 1.0.0\nsteps:\n" \
           "  - name: a\n    handler: { callable: Meets }\n  - name: b\n    handler: { callable: Meets }\n"
    Tasker::Engine.open(threads: 2) do |e|
      e.register_template(yaml)
      e.register_handler("Meets", meets)
      expect(e.handle(e.create_task("pair", namespace: "rb").uuid).action).to eq("complete")
    end
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

  it "fails a step whose handler is not registered, permanently" do
    engine.register_template(ORDER_TEMPLATE)
    task = create_order(engine)
    expect(engine.handle(task.uuid).action).to eq("error")
    expect(engine.get_task(task.uuid).step("validate_order")["error"]["error_type"]).to eq("UnknownHandler")
  end

  it "treats an exception in process_results as a step failure" do
    register_order_handlers(engine)
    bad = Class.new(Returns) { def process_results(_output) = raise(KeyError, "cannot summarize") }
    engine.register_handler("ValidateOrder", bad)
    task = create_order(engine)
    engine.handle(task.uuid)
    expect(engine.get_task(task.uuid).step("validate_order")["error"]["message"]).to eq("cannot summarize")
  end

  it "retries a failed task, cancels, and resolves steps by hand" do
    calls = []
    fails_once = handler do |context|
      calls << context.step.name
      raise Tasker::PermanentError, "down" if calls.size == 1

      "ok"
    end
    register_order_handlers(engine, payment: fails_once)
    task = create_order(engine)
    expect(engine.handle(task.uuid).action).to eq("error")
    expect(engine.retry_task(task.uuid, actor: "ops").task_state).to eq("pending")
    expect(engine.handle(task.uuid).action).to eq("complete")

    other = create_order(engine)
    expect(engine.resolve_step(other.uuid, "validate_order", { "by" => "hand" }).action).to eq("execute")
    expect(engine.cancel_task(other.uuid).action).to eq("cancelled")
    expect { engine.retry_task(other.uuid) }.to raise_error(Tasker::InvalidStateError) { |e|
      expect(e.details).to eq("from" => "cancelled", "to" => "pending")
    }
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
