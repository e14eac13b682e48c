# frozen_string_literal: true

require_relative "spec_helper"
require_relative "support/http_stub"

# Rails Tasker handlers (Tasker::StepHandler::Base / ::Api, process(task, sequence, step)) run unchanged.
module RailsTaskerSpec
  TEMPLATE = <<~YAML
    name: spec_task/cart_checkout
    namespace_name: spec
    version: 1.0.0
    default_dependent_system: shop
    named_steps: [fetch_cart, fetch_rates, price_cart, mark_done]
    schema:
      type: object
      required: [cart_id]
      properties:
        cart_id: { type: integer }
    step_templates:
      - name: fetch_cart
        handler_class: RailsTaskerSpec::FetchCart
        handler_config:
          url: http://127.0.0.1:1/unused
      - name: fetch_rates
        handler_class: RailsTaskerSpec::FetchRates
        handler_config: { currency: EUR }
      - name: price_cart
        handler_class: RailsTaskerSpec::PriceCart
        depends_on_steps: [fetch_cart, fetch_rates]
      - name: mark_done
        handler_class: RailsTaskerSpec::MarkDone
        depends_on_step: price_cart
        skippable: true
  YAML

  class FetchCart < Tasker::StepHandler::Api
    def process(task, _sequence, _step) = connection.get("carts", id: task.context["cart_id"])
  end

  class FetchRates < Tasker::StepHandler::Base
    def process(_task, _sequence, _step) = { "currency" => config["currency"], "rate" => 2 }
  end

  class PriceCart < Tasker::StepHandler::Base
    def process(task, sequence, step)
      cart = sequence.find_step_by_name("fetch_cart").results
      rate = sequence.find_step_by_name(:fetch_rates).results["rate"]
      { "total" => cart["items"].sum { |i| i["price"] } * rate, "cart_id" => task.context[:cart_id] || task.context["cart_id"],
        "inputs_cart" => step.inputs["cart_id"] }
    end

    # Rails Tasker's extension point: reshape what process returned before it is stored.
    def process_results(step, process_output, _initial_results)
      step.results = process_output.merge("priced" => true)
    end
  end

  # a -> b -> c: c reads its grandparent a through the sequence, as Rails Tasker's own CreateOrderStepHandler reads
  # fetch_cart. Only b comes with c's claim; a is fetched from the engine.
  CHAIN = <<~YAML
    name: spec_task/chain
    namespace_name: spec
    version: 1.0.0
    step_templates:
      - { name: a, handler_class: RailsTaskerSpec::ChainA }
      - { name: b, handler_class: RailsTaskerSpec::ChainB, depends_on_step: a }
      - { name: c, handler_class: RailsTaskerSpec::ChainC, depends_on_step: b }
  YAML

  class ChainA < Tasker::StepHandler::Base
    def process(_task, _sequence, _step) = { "cart" => [1, 2] }
  end

  class ChainB < Tasker::StepHandler::Base
    def process(_task, sequence, _step) = { "seen_by_b" => sequence.find_step_by_name("a").results["cart"].size }
  end

  class ChainC < Tasker::StepHandler::Base
    def process(_task, sequence, step)
      a = sequence.find_step_by_name("a")
      { "cart" => a.results["cart"], "a_status" => a.status, "b" => sequence.find_step_by_name("b").results["seen_by_b"],
        "names" => sequence.steps.map(&:name), "self" => sequence.find_step_by_name("c").equal?(step),
        "missing" => sequence.find_step_by_name("nope").nil? }
    end
  end

  class MarkDone < Tasker::StepHandler::Base
    def process(_task, _sequence, step)
      step.results = { "set_by_handler" => true } # respected: process_results keeps results the handler set
      "ignored"
    end
  end
end

RSpec.describe "Rails Tasker handlers" do
  let(:stub) { HttpStub.new(routes) }
  let(:routes) { { "/api/carts" => [[200, { "Content-Type" => "application/json" }, { "items" => [{ "price" => 3 }, { "price" => 4 }] }]] } }

  after { stub.close }

  def template = RailsTaskerSpec::TEMPLATE.sub("http://127.0.0.1:1/unused", stub.url("/api/"))

  def open_engine(&block) = Tasker::Engine.open(clock: "manual", backoff: { jitter: 0 }, &block)

  def register(engine)
    engine.register_template(template)
    engine.register_handlers(RailsTaskerSpec::FetchCart, RailsTaskerSpec::FetchRates, RailsTaskerSpec::PriceCart, RailsTaskerSpec::MarkDone)
  end

  it "runs Base and Api handlers with Rails Tasker's task, sequence, step and config" do
    open_engine do |engine|
      register(engine)
      task = engine.create_task("spec_task/cart_checkout", namespace: "spec", context: { cart_id: 12 })
      expect(engine.handle(task.uuid).action).to eq("complete")

      steps = engine.get_task(task.uuid).steps.to_h { |s| [s["name"], s] }
      expect(steps["fetch_cart"]["result"]).to eq("items" => [{ "price" => 3 }, { "price" => 4 }])
      expect(steps["fetch_rates"]["result"]).to eq("currency" => "EUR", "rate" => 2)
      expect(steps["price_cart"]["result"]).to eq("total" => 14, "cart_id" => 12, "inputs_cart" => 12, "priced" => true)
      expect(steps["mark_done"]["result"]).to eq("set_by_handler" => true)
      request = stub.recorded.first
      expect([request[:method], request[:path], request[:query]]).to eq(["GET", "/api/carts", { "id" => "12" }])
    end
  end

  it "bypasses a skippable step named in bypass_steps and records requested_at" do
    open_engine do |engine|
      register(engine)
      task = engine.create_task("spec_task/cart_checkout", namespace: "spec", context: { cart_id: 1 },
                                                            bypass_steps: ["mark_done"], requested_at: Time.utc(2026, 1, 31, 10))
      expect(engine.handle(task.uuid).action).to eq("complete")
      view = engine.get_task(task.uuid)
      done = view.steps.find { |s| s["name"] == "mark_done" }
      expect([done["state"], done["attempts"], done["metadata"]]).to eq(["complete", 0, { "bypassed" => true }])
      expect(Time.iso8601(view.raw["requested_at"])).to eq(Time.utc(2026, 1, 31, 10))
    end
  end

  it "rejects a context that fails the template's schema" do
    open_engine do |engine|
      register(engine)
      expect { engine.create_task("spec_task/cart_checkout", namespace: "spec", context: { cart_id: "x" }) }
        .to raise_error(Tasker::ValidationError, /\$\.cart_id/)
    end
  end

  context "when the API answers 429 with Retry-After" do
    let(:routes) { { "/api/carts" => [[429, { "Retry-After" => "7" }, "slow down"], [200, {}, { "items" => [] }]] } }

    it "is a retryable failure after that delay" do
      open_engine do |engine|
        register(engine)
        task = engine.create_task("spec_task/cart_checkout", namespace: "spec", context: { cart_id: 1 })
        outcome = engine.handle(task.uuid)
        expect([outcome.action, outcome.delay_seconds]).to eq(["reenqueue", 7.0])
        step = engine.get_task(task.uuid).steps.find { |s| s["name"] == "fetch_cart" }
        expect(step["state"]).to eq("waiting_for_retry")
        expect(step["error"]["message"]).to eq("HTTP 429 from GET http://127.0.0.1:#{stub.port}/api/carts: backing off")
        engine.advance_clock(7)
        expect(engine.handle(task.uuid).action).to eq("complete")
      end
    end
  end

  context "when the API answers 404" do
    let(:routes) { { "/api/carts" => [[404, {}, "no such cart"]] } }

    it "is a permanent failure that names the status and never the query" do
      open_engine do |engine|
        register(engine)
        task = engine.create_task("spec_task/cart_checkout", namespace: "spec", context: { cart_id: 99 })
        engine.handle(task.uuid)
        step = engine.get_task(task.uuid).steps.find { |s| s["name"] == "fetch_cart" }
        expect([step["state"], step["attempts"]]).to eq(["error", 1])
        expect(step["error"]["message"]).to include("HTTP 404 from GET")
        expect(step["error"]["message"]).not_to include("?") # no query string: it may carry keys
      end
    end
  end

  context "when the API answers 503 without Retry-After" do
    let(:routes) { { "/api/carts" => [[503, {}, "down"]] } }

    it "is retryable with the engine's backoff" do
      open_engine do |engine|
        register(engine)
        task = engine.create_task("spec_task/cart_checkout", namespace: "spec", context: { cart_id: 1 })
        outcome = engine.handle(task.uuid)
        expect([outcome.action, outcome.delay_seconds]).to eq(["reenqueue", 1.0])
      end
    end
  end

  it "loads the whole binding through the gem's own name, as Bundler.require does" do
    out = IO.popen([RbConfig.ruby, "-I", File.expand_path("../lib", __dir__), "-e",
                    'require "tasker-native"; puts [defined?(Tasker::Engine), defined?(Tasker::StepHandler::Api)].inspect'],
                   err: %i[child out], &:read)
    expect(out).to include('["constant", "constant"]')
  end

  it "lets a handler read a step that is not its direct dependency, fetching the task only then" do
    open_engine do |engine|
      engine.register_template(RailsTaskerSpec::CHAIN)
      engine.register_handlers(RailsTaskerSpec::ChainA, RailsTaskerSpec::ChainB, RailsTaskerSpec::ChainC)
      task = engine.create_task("spec_task/chain", namespace: "spec")
      fetched = []
      engine.define_singleton_method(:get_task) { |uuid| super(uuid).tap { fetched << uuid } }
      expect(engine.handle(task.uuid).action).to eq("complete")

      c = engine.get_task(task.uuid).steps.find { |s| s["name"] == "c" }["result"]
      expect(c).to eq("cart" => [1, 2], "a_status" => "complete", "b" => 2, "names" => %w[a b c], "self" => true,
                      "missing" => true)
      # b found its direct dependency a in the claim; only c asked the engine, once (the last fetch is ours).
      expect(fetched).to eq([task.uuid, task.uuid])
    end
  end

  it "gives a handler run from a hand-made context (a unit test) a sequence of what it was given" do
    context = Tasker::StepContext.new(
      task: Tasker::TaskInfo.new(uuid: "t-1", namespace: "spec", name: "chain", version: "1.0.0", context: { "cart" => [1] }, tags: []),
      step: Tasker::StepInfo.new(uuid: "s-b", name: "b", handler: "B", attempt: 1, max_attempts: 3, initialization: {}),
      dependency_results: { "a" => { "cart" => [1] } }, claim_token: "token", attributes: {}, deadline: nil
    )
    expect(context.task_fetchable?).to be(false)
    sequence = nil
    handler = Class.new(Tasker::StepHandler::Base) do
      define_method(:process) do |_task, seq, _step|
        sequence = seq
        { "found" => seq.find_step_by_name("a").results["cart"], "missing" => seq.find_step_by_name("z").nil? }
      end
    end
    expect(Tasker::RailsCompat::HandlerAdapter.new(handler).process(context)).to eq("found" => [1], "missing" => true)
    expect(sequence.steps.map(&:name)).to eq(%w[a b])
  end

  it "spells a step read from the engine with Rails Tasker's status names" do
    step = lambda do |state|
      loaded = Tasker::RailsCompat::Sequence.new([], loader: -> { Struct.new(:steps).new([{ "name" => "x", "state" => state }]) })
      loaded.find_step_by_name("x")
    end
    expect(step.call("waiting_for_retry").status).to eq("error")
    expect(step.call("resolved_manually")).to have_attributes(status: "resolved_manually", processed?: true)
    expect(step.call("complete")).to have_attributes(status: "complete", processed?: true)
    expect(step.call("in_progress").processed?).to be(false)
  end
end
