# frozen_string_literal: true

# `engine.handle` on no-op steps, through whichever Ruby binding and libtasker are on the paths.
#
#   TASKER_LIBRARY_PATH=<tree>/.../libtasker.so ruby -I <tree>/bindings/ruby/lib handle.rb TASKS C...
#
# Prints `ruby handle c=<C> <us per step>` per concurrency (median of 3 after a warm-up). Works with the binding
# before protocol v2 too (`threads:` was the option's name then), for bench/bindings/run.sh.
require "tasker"

STEPS = 8
TEMPLATE = "name: noop\nnamespace_name: bench\nversion: 1.0.0\nsteps:\n" + (0...STEPS).map { |i|
  "  - name: s#{i}\n    handler: { callable: Noop }\n" + (i >= 3 ? "    dependencies: [s#{i % 3}]\n" : "")
}.join

class Noop < Tasker::StepHandler
  def process(_context) = nil
end

def per_step(engine, tasks)
  start = Process.clock_gettime(Process::CLOCK_MONOTONIC)
  tasks.times { engine.handle(engine.create_task("noop", namespace: "bench").uuid) }
  (Process.clock_gettime(Process::CLOCK_MONOTONIC) - start) / (tasks * STEPS)
end

option = Tasker::Engine.instance_method(:initialize).parameters.any? { |_, name| name == :concurrency } ? :concurrency : :threads
tasks = Integer(ARGV[0])
ARGV[1..].map { |c| Integer(c) }.each do |concurrency|
  Tasker::Engine.open(option => concurrency, retention: { max_finished_tasks: 1000 }) do |engine|
    engine.register_template(TEMPLATE)
    engine.register_handler("Noop", Noop)
    per_step(engine, [tasks / 10, 100].max)
    median = Array.new(3) { per_step(engine, tasks) }.sort[1]
    puts format("ruby handle c=%d %.2f", concurrency, median * 1e6)
  end
end
