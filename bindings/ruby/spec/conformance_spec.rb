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

  Dir[File.join(CONFORMANCE, "fixtures", "*.json")].sort.each do |path|
    fixture = JSON.parse(File.read(path))
    it fixture["name"] do
      config = fixture["engine_config"].transform_keys(&:to_sym)
      Tasker::Engine.open(**config) do |engine|
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
      end
    end
  end
end
