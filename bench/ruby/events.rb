# frozen_string_literal: true

# Events delivered to a Ruby subscriber per second: fill a subscription by running tasks, then time draining it in
# batches of 10,000 (the ABI serializes each batch to JSON; Ruby parses it). Three rounds; prints each and the median.
#
#   TASKER_LIBRARY_PATH=artifacts/lib/linux-x64/libtasker.so ruby bench/ruby/events.rb
$LOAD_PATH.unshift File.expand_path("../../bindings/ruby/lib", __dir__)
require "tasker"

TEMPLATE = "name: noop\nnamespace_name: bench\nversion: 1.0.0\nsteps:\n" +
           (0...8).map { |i| "  - name: s#{i}\n    handler: { callable: Noop }\n" }.join

class Noop < Tasker::StepHandler
  def process(_context) = nil
end

rates = Tasker::Engine.open(concurrency: 1) do |engine|
  engine.register_template(TEMPLATE)
  engine.register_handler("Noop", Noop)
  Array.new(3) do |round|
    events = engine.subscribe("*", capacity: 2_000_000)
    4_000.times { engine.handle(engine.create_task("noop", namespace: "bench").uuid) }
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    count = 0
    while (batch = events.pull(10_000)).any?
      count += batch.size
    end
    elapsed = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
    puts format("round %d: %d events in %.2f s = %d events/s (dropped %d)", round + 1, count, elapsed, count / elapsed, events.dropped)
    events.close
    count / elapsed
  end
end
puts format("median: %d events/s", rates.sort[1])
