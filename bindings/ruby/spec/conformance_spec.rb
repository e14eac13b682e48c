# frozen_string_literal: true

require_relative "spec_helper"

# The shared, language-neutral fixtures in tests/conformance, run through the Ruby binding twice: by the v2 runner of
# tests/conformance/README.md (claim by handler, report with claim_next, calls through Tasker::Native), and through
# Engine#handle (the binding's own loop, handlers, context.heartbeat and refused-result path).
RSpec.describe "conformance fixtures" do
  CATALOG = JSON.parse(File.read(File.join(CONFORMANCE, "events.json")))
  REFUSED = [Tasker::InvalidJsonError::CODE, Tasker::ValidationError::CODE, Tasker::InvalidUtf8Error::CODE].freeze
  OK_RESULT = { "return" => { "ok" => true } }.freeze

  def behaviour(fixture, step_name, attempt)
    script = fixture["handlers"][step_name]
    script.nil? ? OK_RESULT : script[[attempt, script.size].min - 1]
  end

  def nested(depth) = ("[" * depth) + ("]" * depth)

  def open_fixture(fixture, **options)
    Tasker::Engine.open(**fixture["engine_config"].transform_keys(&:to_sym), **options) do |engine|
      subscription = engine.subscribe("*")
      template = engine.register_template(File.read(File.join(CONFORMANCE, "templates", fixture["template"])))
      task = engine.create_task(template["name"], namespace: "conformance", context: fixture["context"])
      yield engine, task.uuid, subscription
    end
  end

  # Every event carries what tests/conformance/events.json lists for it; returns the task.*/step.* counts.
  def check_events(events)
    events.each do |event|
      entry = CATALOG["events"][event["name"]]
      expect(entry).not_to be_nil, "#{event["name"]} is not in the catalog"
      (CATALOG["common"] + entry["fields"]).each do |field|
        expect(event[field]).not_to be_nil, "#{event["name"]} has no #{field}"
      end
      (entry["data"] || []).each do |key|
        expect((event["data"] || {})[key]).not_to be_nil, "#{event["name"]} has no data.#{key}"
      end
      next if event["error"].nil?

      CATALOG["error_fields"].each do |field|
        expect(event["error"][field]).not_to be_nil, "#{event["name"]} has no error.#{field}"
      end
    end
    events.map { |e| e["name"] }.grep(/\A(task|step)\./).tally
  end

  # Step 3 and 4 of the runner: compare with `expect`.
  def verify(fixture, engine, task_uuid, subscription, outcome:, delays:, claim_calls:)
    want = fixture["expect"]
    done = engine.get_task(task_uuid)
    expect(done.state).to eq(want["task_state"])
    want["steps"].each do |name, step_want|
      step = done.step(name)
      expect([name, step["state"], step["attempts"]]).to eq([name, step_want["state"], step_want["attempts"]])
      expect(step["result"]).to eq(step_want["result"]) if step_want.key?("result")
      expect([name, step.dig("error", "error_type")]).to eq([name, step_want["error_type"]]) if step_want.key?("error_type")
    end
    expect(delays).to eq(want["reenqueue_delays"])
    if want.key?("waiting_for_handlers")
      expect(outcome["waiting_for_handlers"].to_h { |w| [w["handler"], w["steps"]] }).to eq(want["waiting_for_handlers"])
    end
    expect(claim_calls).to eq(want["claim_calls"]) if want.key?("claim_calls")
    events = subscription.to_a
    expect(subscription.dropped).to eq(0)
    expect(check_events(events)).to eq(want["events"])
  end

  # The v2 runner of tests/conformance/README.md, step 2, on the raw protocol.
  class ProtocolRunner
    attr_reader :claim_calls, :delays, :outcome

    def initialize(spec, engine, task_uuid, fixture)
      @spec = spec
      @engine = engine
      @task_uuid = task_uuid
      @fixture = fixture
      @options = { max_steps: 1000 }
      @options[:handlers] = fixture["handlers_present"] if fixture.key?("handlers_present")
      @claim_calls = 0
      @delays = []
    end

    def run
      claims = claim
      100.times do
        if claims.any?
          answer = nil
          claims.each_with_index { |c, n| answer = run_claim(c, n == claims.size - 1 ? @options : nil) }
          if answer && (answer["claims"].any? || answer["outcome"]["action"] != "execute")
            claims = answer["claims"]
            @outcome = answer["outcome"]
            next
          end
        elsif @outcome["action"] == "reenqueue" && @outcome["waiting_for_handlers"].any?
          break # only workers with other handlers can go on
        elsif @outcome["action"] == "reenqueue"
          @delays << @outcome["delay_seconds"]
          @engine.advance_clock(@outcome["delay_seconds"])
        elsif @outcome["action"] != "execute"
          break
        end
        claims = claim
      end
      self
    end

    private

    def call(function, request)
      text = request.is_a?(String) ? request : JSON.generate(request)
      JSON.parse(Tasker::Native.call_json(function, @engine.handle_pointer, text), max_nesting: false)
    end

    def claim
      @claim_calls += 1
      answer = call(:tasker_steps_claim, @options.merge(task_uuid: @task_uuid))
      @outcome = answer["outcome"]
      answer["claims"]
    end

    # Runs the claim's script and reports it; returns the report's answer (nil for a stale claim).
    def run_claim(claim, claim_next)
      script = @spec.behaviour(@fixture, claim["step"]["name"], claim["step"]["attempt"])
      @engine.advance_clock(script["advance_seconds"]) if script["advance_seconds"]
      ref = { task_uuid: @task_uuid, step_uuid: claim["step"]["step_uuid"], claim_token: claim["claim_token"] }
      heartbeat(ref, claim["deadline_at"]) if script["heartbeat"]
      ref[:claim_next] = claim_next if claim_next
      report(ref, script)
    rescue Tasker::StaleClaimError
      nil # the attempt's deadline passed (or the task timed out): the next claim records it
    end

    def heartbeat(ref, deadline_at)
      lease = Time.iso8601(call(:tasker_step_heartbeat, ref.merge(lease_seconds: 3600))["lease_expires_at"])
      @spec.expect(lease).to @spec.be <= Time.iso8601(deadline_at) if deadline_at
    end

    def report(ref, script)
      if (failure = script["fail"])
        error = { message: failure["message"], error_type: "Scripted", permanent: failure["permanent"] || false }
        error[:retry_after_seconds] = failure["retry_after_seconds"] if failure["retry_after_seconds"]
        return call(:tasker_step_fail, ref.merge(error: error))
      end
      result = script.key?("return_nested") ? @spec.nested(script["return_nested"]) : JSON.generate(script["return"])
      begin
        call(:tasker_step_complete, JSON.generate(ref)[0...-1] + %(,"result":#{result}}))
      rescue Tasker::Error => e
        raise unless REFUSED.include?(e.code)

        call(:tasker_step_fail, ref.merge(error: { message: "the engine refused the step's result: #{e.message}", error_type: "InvalidResult" }))
      end
    end
  end

  # The fixture's scripts as Tasker::StepHandler classes, for Engine#handle.
  def scripted(engine, fixture)
    spec = self
    Class.new(Tasker::StepHandler) do
      define_method(:process) do |context|
        script = spec.behaviour(fixture, context.step.name, context.step.attempt)
        engine.advance_clock(script["advance_seconds"]) if script["advance_seconds"]
        if script["heartbeat"]
          lease = context.heartbeat(3600)
          spec.expect(lease).to spec.be <= context.deadline if context.deadline
        end
        if (failure = script["fail"])
          raise Tasker::PermanentError, failure["message"] if failure["permanent"]

          raise Tasker::RetryableError.new(failure["message"], retry_after: failure["retry_after_seconds"])
        end
        script.key?("return_nested") ? JSON.parse(spec.nested(script["return_nested"]), max_nesting: false) : script["return"]
      end
    end
  end

  def through_handle(fixture, engine, task_uuid)
    names = fixture["handlers_present"] || engine.get_task(task_uuid).steps.map { |s| s["handler"] }
    names.each { |name| engine.register_handler(name, scripted(engine, fixture)) }
    claim_calls = 0
    allow(Tasker::Native).to receive(:call_json).and_wrap_original do |original, function, *args|
      claim_calls += 1 if function == :tasker_steps_claim
      original.call(function, *args)
    end
    delays = []
    outcome = engine.handle(task_uuid)
    while outcome.action == "execute" || (outcome.action == "reenqueue" && outcome.waiting_for_handlers.empty?)
      if outcome.action == "reenqueue"
        delays << outcome.delay_seconds
        engine.advance_clock(outcome.delay_seconds)
      end
      outcome = engine.handle(task_uuid)
    end
    { outcome: outcome.to_h.transform_keys(&:to_s), delays: delays, claim_calls: claim_calls }
  end

  Dir[File.join(CONFORMANCE, "fixtures", "*.json")].sort.each do |path|
    fixture = JSON.parse(File.read(path))

    it "#{fixture["name"]} (v2 runner)" do
      open_fixture(fixture) do |engine, task_uuid, subscription|
        runner = ProtocolRunner.new(self, engine, task_uuid, fixture).run
        verify(fixture, engine, task_uuid, subscription, outcome: runner.outcome, delays: runner.delays, claim_calls: runner.claim_calls)
      end
    end

    it "#{fixture["name"]} (Engine#handle)" do
      open_fixture(fixture) do |engine, task_uuid, subscription|
        verify(fixture, engine, task_uuid, subscription, **through_handle(fixture, engine, task_uuid))
      end
    end
  end
end
