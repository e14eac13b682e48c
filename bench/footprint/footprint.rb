# frozen_string_literal: true

# What libtasker costs a Ruby process: RSS bare, after require + open, after N tasks; us per step.
#
#   TASKER_LIBRARY_PATH=artifacts/lib/linux-x64/libtasker.so ruby bench/footprint/footprint.rb [10000,100000]
#
# Prints one JSON object (bench/footprint/run.sh makes the table). Same template and engine as footprint.py.
def rss_mb = File.read("/proc/self/status")[/VmRSS:\s+(\d+)/, 1].to_i / 1024.0

# Dirty pages only this process holds (Private_Dirty); clean file pages (the library's code) are shared.
def private_mb = File.read("/proc/self/smaps_rollup").scan(/^Private_Dirty:\s+(\d+)/).sum { |(kb)| kb.to_i } / 1024.0

BARE = rss_mb # before anything else is loaded: the bare interpreter
BARE_PRIVATE = private_mb

$LOAD_PATH.unshift File.expand_path("../../bindings/ruby/lib", __dir__)
require "json"
require "tasker"

class Noop < Tasker::StepHandler
  def process(_context) = nil
end

checkpoints = (ARGV[0] || "10000,100000").split(",").map(&:to_i)
out = { language: "Ruby #{RUBY_VERSION}", bare: BARE, bare_private: BARE_PRIVATE }
Tasker::Engine.open(concurrency: 1, retention: { max_finished_tasks: 500 }) do |engine|
  engine.register_template(File.join(__dir__, "noop.yaml"))
  engine.register_handler("Noop", Noop)
  GC.start
  out[:open] = rss_mb
  out[:open_private] = private_mb
  done = 0
  out[:checkpoints] = checkpoints.map do |target|
    start = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    (target - done).times do
      action = engine.handle(engine.create_task("noop", namespace: "bench").uuid).action
      abort "task ended with #{action}" unless action == "complete"
    end
    seconds = Process.clock_gettime(Process::CLOCK_MONOTONIC) - start
    GC.start
    row = { tasks: target, rss: rss_mb, private: private_mb, us_per_step: seconds * 1e6 / ((target - done) * 8) }
    done = target
    row
  end
  out[:memory] = engine.health["memory"]
end
puts JSON.generate(out)
