# frozen_string_literal: true

# Run by spec/memory_spec.rb in a process of its own: handles tasks until RSS settles, then measures growth.
#
#   ruby spec/support/memory_probe.rb <batch> <window> <max_warmup_batches> <measured_tasks>
#
# Prints one JSON object: the RSS samples (MB, one per batch, each after GC.start), the tasks it took to settle
# (null when it never did within max_warmup_batches), the settled level and the level after measured_tasks more, and
# the engine's health["memory"] at the end. Settled: the highest RSS of the last `window` batches is within
# SETTLE_MB of the highest before them (the highest, because the library's GC makes RSS a saw-tooth of a few MB;
# a leak lifts the top of it).
$LOAD_PATH.unshift File.expand_path("../../lib", __dir__)
require "tasker"
require "json"

SETTLE_MB = 1.0
ORDER_TEMPLATE = File.expand_path("../../../../examples/templates/order_fulfillment.yaml", __dir__)
ORDER_CONTEXT = { "order" => { "id" => 7, "total" => 12.5, "items" => [{ "sku" => "A", "quantity" => 1 }] } }.freeze

class Returns < Tasker::StepHandler
  def process(context) = { "step" => context.step.name, "saw" => context.dependency_results.keys.sort }
end

def rss_mb = File.read("/proc/self/status")[/VmRSS:\s+(\d+)/, 1].to_i / 1024.0

batch, window, max_warmup, measured = ARGV.map(&:to_i)
Tasker::Engine.open(retention: { max_finished_tasks: 500 }) do |engine|
  engine.register_template(ORDER_TEMPLATE)
  %w[ValidateOrder ReserveInventory ProcessPayment ShipOrder].each { |name| engine.register_handler(name, Returns) }
  run_batch = lambda do
    batch.times do
      task = engine.create_task("order_fulfillment", namespace: "fulfillment", context: ORDER_CONTEXT)
      action = engine.handle(task.uuid).action
      raise "task ended with #{action}" unless action == "complete"
    end
    GC.start
    rss_mb
  end
  warmup = []
  settled_after = nil
  while warmup.size < max_warmup
    warmup << run_batch.call
    if warmup.size > window && warmup.last(window).max - warmup[0...-window].max <= SETTLE_MB
      settled_after = warmup.size * batch
      break
    end
  end
  measure = Array.new([measured / batch, window].max) { run_batch.call }
  puts JSON.generate(warmup: warmup, measure: measure, settled_after: settled_after, settled: warmup.last(window).max,
                     after: measure.last(window).max, measured_tasks: measure.size * batch,
                     memory: engine.health["memory"])
end
