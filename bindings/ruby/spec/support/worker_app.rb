# frozen_string_literal: true

# What the worker specs' `tasker-worker` processes require (and what the in-process specs use): a diamond template
# (a -> b, c -> d) whose steps all run Echo. Echo appends "<event> <step uuid> <attempt> <pid>" lines to
# $WORKER_LOG (one write each, O_APPEND: lines from racing processes never mix), and hangs when the task's context
# says so: {"hang" => {"step" => "b", "attempt" => 1, "seconds" => 30}}.
require "tasker"

module WorkerApp
  TEMPLATE = <<~YAML
    name: diamond
    namespace_name: rbworker
    version: 1.0.0
    steps:
      - name: a
        handler: { callable: Echo }
      - name: b
        handler: { callable: Echo }
        dependencies: [a]
      - name: c
        handler: { callable: Echo }
        dependencies: [a]
      - name: d
        handler: { callable: Echo }
        dependencies: [b, c]
  YAML

  def self.log(event, context)
    path = ENV["WORKER_LOG"]
    File.write(path, "#{event} #{context.step.uuid} #{context.step.attempt} #{Process.pid}\n", mode: "a") if path
  end

  class Echo < Tasker::StepHandler
    def process(context)
      WorkerApp.log("start", context)
      hang = context.task.context["hang"]
      if hang && hang["step"] == context.step.name && hang["attempt"] == context.step.attempt
        finish = Time.now + hang["seconds"]
        sleep 0.02 until Time.now >= finish
      end
      WorkerApp.log("done", context)
      { "step" => context.step.name, "after" => context.dependency_results.keys.sort }
    end
  end

  def self.register(engine)
    engine.register_template(TEMPLATE)
    engine.register_handler("Echo", Echo)
  end
end

Tasker::Worker.configure { |engine| WorkerApp.register(engine) }
