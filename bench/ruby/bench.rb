# frozen_string_literal: true

# No-op steps per second through the Ruby binding on the memory store.
#
#   TASKER_LIBRARY_PATH=artifacts/lib/linux-x64/libtasker.so ruby bench/ruby/bench.rb [tasks]
#
# `engine.handle` (claim by handler, run handlers, report each claiming the next) at concurrency 1 and at the default
# (8), and the bare claim + complete loop that bench/abi runs in C, to read Ruby's per-step overhead over C. Each
# figure is the median of 5 rounds, measured in one run with the modes' rounds alternating.
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
ROUNDS = 5

def open_engine(**options)
  Tasker::Engine.new(retention: { max_finished_tasks: 1000 }, **options).tap do |engine|
    engine.register_template(TEMPLATE)
    engine.register_handler("Noop", Noop)
  end
end

def handling(engine) = ->(n) { n.times { engine.handle(engine.create_task("noop", namespace: "bench").uuid) } }

# Each mode has its own engine; the rounds alternate between modes so that a busy machine slows them alike.
modes = [1, Tasker::Engine::DEFAULT_CONCURRENCY].to_h do |concurrency|
  ["engine.handle, concurrency #{concurrency}", handling(open_engine(concurrency: concurrency))]
end
bare_engine = open_engine
modes["bare claim+complete loop"] = ->(n) { bare(bare_engine, n) }
modes.each_value { |run| run.call(200) } # warm-up
samples = modes.transform_values { [] }
ROUNDS.times { modes.each { |name, run| samples[name] << per_step(tasks, &run) } }
results = samples.transform_values { |times| times.sort[ROUNDS / 2] }
bare_loop = results["bare claim+complete loop"]
results.each do |name, seconds|
  extra = name.start_with?("engine.handle") ? format(" (+%.1f us over the bare loop)", (seconds - bare_loop) * 1e6) : ""
  puts format("%-30s %6.1f us/step = %6d no-op steps/s%s (median of %d x %d tasks)", "#{name}:", seconds * 1e6, 1 / seconds,
              extra, ROUNDS, tasks)
end
