# frozen_string_literal: true

require_relative "spec_helper"

# The shared, language-neutral fixtures in tests/conformance, run through the Ruby binding.
RSpec.describe "conformance fixtures" do
  def scripted(script)
    Class.new(Tasker::StepHandler) do
      define_method(:process) do |context|
        next({ "ok" => true }) if script.nil?

        behaviour = script[[context.step.attempt, script.size].min - 1]
        if (fail = behaviour["fail"])
          raise Tasker::PermanentError, fail["message"] if fail["permanent"]

          raise Tasker::RetryableError.new(fail["message"], retry_after: fail["retry_after_seconds"])
        end
        behaviour["return"]
      end
    end
  end

  CATALOG = JSON.parse(File.read(File.join(CONFORMANCE, "events.json")))

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

  Dir[File.join(CONFORMANCE, "fixtures", "*.json")].sort.each do |path|
    fixture = JSON.parse(File.read(path))
    it fixture["name"] do
      config = fixture["engine_config"].transform_keys(&:to_sym)
      Tasker::Engine.open(**config) do |engine|
        subscription = engine.subscribe("*")
        template = engine.register_template(File.read(File.join(CONFORMANCE, "templates", fixture["template"])))
        task = engine.create_task(template["name"], namespace: template["namespace"], context: fixture["context"])
        engine.get_task(task.uuid).steps.each do |step|
          engine.register_handler(step["handler"], scripted(fixture["handlers"][step["name"]]))
        end
        delays = []
        outcome = engine.handle(task.uuid)
        while outcome.action == "reenqueue"
          delays << outcome.delay_seconds
          engine.advance_clock(outcome.delay_seconds)
          outcome = engine.handle(task.uuid)
        end
        done = engine.get_task(task.uuid)
        expect(done.state).to eq(fixture["expect"]["task_state"])
        fixture["expect"]["steps"].each do |name, want|
          step = done.step(name)
          expect([name, step["state"], step["attempts"]]).to eq([name, want["state"], want["attempts"]])
          expect(step["result"]).to eq(want["result"]) if want.key?("result")
        end
        expect(delays).to eq(fixture["expect"]["reenqueue_delays"])
        events = subscription.to_a
        expect(subscription.dropped).to eq(0)
        expect(check_events(events)).to eq(fixture["expect"]["events"])
      end
    end
  end
end
