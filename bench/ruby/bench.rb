# frozen_string_literal: true

# No-op steps per second through the Ruby binding on the memory store.
#
#   TASKER_LIBRARY_PATH=artifacts/lib/linux-x64/libtasker.so ruby bench/ruby/bench.rb [tasks]
#
# `engine.handle` (claim by handler, run handlers, report each claiming the next) at concurrency 1 and at the default
# (8), and the bare claim + complete loop that bench/abi runs in C, to read Ruby's per-step overhead over C. Each
# figure is the median of 3 rounds, measured in one run.
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
def measure(tasks, **options)
  Tasker::Engine.open(retention: { max_finished_tasks: 1000 }, **options) do |engine|
    engine.register_template(TEMPLATE)
    engine.register_handler("Noop", Noop)
    run = ->(n) { n.times { engine.handle(engine.create_task("noop", namespace: "bench").uuid) } }
    run.call(200) # warm-up
    yield engine, run
  end
end

results = {}
[1, Tasker::Engine::DEFAULT_CONCURRENCY].each do |concurrency|
  measure(tasks, concurrency: concurrency) do |_engine, run|
    results["engine.handle, concurrency #{concurrency}"] = Array.new(3) { per_step(tasks, &run) }.sort[1]
  end
end
measure(tasks) do |engine, _run|
  results["bare claim+complete loop"] = Array.new(3) { per_step(tasks) { |n| bare(engine, n) } }.sort[1]
end
bare_loop = results["bare claim+complete loop"]
results.each do |name, seconds|
  extra = name.start_with?("engine.handle") ? format(" (+%.1f us over the bare loop)", (seconds - bare_loop) * 1e6) : ""
  puts format("%-30s %6.1f us/step = %6d no-op steps/s%s (median of 3 x %d tasks)", name + ":", seconds * 1e6, 1 / seconds, extra, tasks)
end
