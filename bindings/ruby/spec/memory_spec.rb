# frozen_string_literal: true

require_relative "spec_helper"
require "open3"

# Memory tests that catch leaks and nothing else, on any machine. The probe runs in a process of its own: it handles
# batches of tasks until RSS has settled (no warm-up count is assumed: how long the heaps take to reach their working
# size depends on the machine), then enough tasks that a leak of 1 KB per task would exceed the limit.
RSpec.describe "memory" do
  batch = 1_000 # tasks between two RSS samples
  window = 5 # batches: settled when their highest RSS is within 1 MB of the highest before them
  max_warmup_batches = 40 # a heap still growing after 40,000 tasks is a leak, not sizing
  measured_tasks = 30_000
  limit_mb = 10.0
  raise "a 1 KB/task leak must fail the limit" unless measured_tasks * 1024 / 2.0**20 > 2 * limit_mb

  it "does not grow once settled, and the library's heap is bounded by its own GC settings" do
    out, err, status = Open3.capture3(RbConfig.ruby, File.join(__dir__, "support", "memory_probe.rb"),
                                      *[batch, window, max_warmup_batches, measured_tasks].map(&:to_s))
    expect(status).to be_success, err
    probe = JSON.parse(out)
    puts format("\nmemory: settled at %.1f MB after %s tasks; %.1f MB after %d more; library heap %s",
                probe["settled"], probe["settled_after"].inspect, probe["after"], probe["measured_tasks"], probe["memory"])
    expect(probe["settled_after"]).not_to be_nil, "RSS never settled (a leak): #{probe['warmup']}"
    growth = probe["after"] - probe["settled"]
    expect(growth).to be < limit_mb, "RSS grew by #{growth.round(1)} MB: #{probe['measure']}"

    # GCgen0size is baked into libtasker: the same budget on every machine (bindings/python/tests/test_memory.py).
    memory = probe["memory"]
    expect(memory["total_allocated_bytes"] / [memory["gc_counts"]["gen0"], 1].max).to be <= 16 * 2**20
    expect(memory["committed_bytes"]).to be <= 64 * 2**20
  end
end
