# frozen_string_literal: true

# No-op steps per second through the Ruby binding on the memory store.
#
#   TASKER_LIBRARY_PATH=artifacts/lib/linux-x64/libtasker.so ruby bench/ruby/bench.rb [tasks]
#
# `engine.handle` (claim a wave, run handlers, report, evaluate) with threads: 1, and the bare claim + complete
# loop that bench/abi runs in C, to read Ruby's per-step overhead over C.
$LOAD_PATH.unshift File.expand_path("../../bindings/ruby/lib", __dir__)
require "tasker"

TEMPLATE = "name: noop\nnamespace_name: bench\nversion: 1.0.0\nsteps:\n" + (0...8).map { |i|
  "  - name: s#{i}\n    handler: { callable: Noop }\n" + (i >= 3 ? "    dependencies: [s#{i % 3}]\n" : "")
}.join

class Noop < Tasker::StepHandler
  def process(_context) = nil
end

def per_step(tasks)
  start = Process.clock_gettime(Process::CLOCK_MONOTONIC)
  yield tasks
  (Process.clock_gettime(Process::CLOCK_MONOTONIC) - start) / (tasks * 8)
end

def bare(engine, tasks)
  handle = engine.handle_pointer
  tasks.times do
    uuid = engine.create_task("noop", namespace: "bench").uuid
    request = JSON.generate(task_uuid: uuid, max_steps: 1)
    loop do
      claim = JSON.parse(Tasker::Native.call_json(:tasker_steps_claim, handle, request))["claims"].first
      break unless claim

      Tasker::Native.call_json(:tasker_step_complete, handle, JSON.generate(
        task_uuid: uuid, step_uuid: claim["step"]["step_uuid"], claim_token: claim["claim_token"], result: nil))
    end
  end
end

tasks = (ARGV[0] || 2000).to_i
Tasker::Engine.open(threads: 1, retention: { max_finished_tasks: 1000 }) do |engine|
  engine.register_template(TEMPLATE)
  engine.register_handler("Noop", Noop)
  run = ->(n) { n.times { engine.handle(engine.create_task("noop", namespace: "bench").uuid) } }
  run.call(200)
  handle = Array.new(3) { per_step(tasks, &run) }.sort[1]
  loop_only = Array.new(3) { per_step(tasks) { |n| bare(engine, n) } }.sort[1]
  puts format("engine.handle: %.1f us/step = %d no-op steps/s (median of 3 x %d tasks)", handle * 1e6, 1 / handle, tasks)
  puts format("bare claim+complete loop: %.1f us/step = %d steps/s", loop_only * 1e6, 1 / loop_only)
end
