# frozen_string_literal: true

# Creates orders for the workers to run (any process with the database URL can: a web request, a rake task, this).
#
#   cd examples/ruby/worker
#   DATABASE_URL=postgres://... ruby ../../../bindings/ruby/bin/tasker-worker &   # or: bundle exec tasker-worker
#   DATABASE_URL=postgres://... ruby create_orders.rb 20
$LOAD_PATH.unshift File.expand_path("../../../bindings/ruby/lib", __dir__)
require "tasker"

count = Integer(ARGV.fetch(0, "10"))
Tasker::Engine.open(database_url: ENV.fetch("DATABASE_URL"), schema: ENV.fetch("TASKER_SCHEMA", "public")) do |engine|
  engine.register_template(File.expand_path("../../templates/order_fulfillment.yaml", __dir__))
  uuids = Array.new(count) do |i|
    engine.create_task("order_fulfillment", namespace: "fulfillment", initiator: "examples/ruby/worker",
                                            context: { order: { id: 2000 + i, total: 10.0 + i, items: [{ sku: "TSK-1", quantity: 1 }] } }).uuid
  end
  puts "created #{count} orders; waiting for the workers"
  sleep 0.2 until uuids.all? { |uuid| %w[complete error].include?(engine.get_task(uuid).state) }
  states = uuids.map { |uuid| engine.get_task(uuid).state }.tally
  puts "done: #{states}"
  exit(states.keys == ["complete"] ? 0 : 1)
end
