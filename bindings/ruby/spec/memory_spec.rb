# frozen_string_literal: true

require_relative "spec_helper"

RSpec.describe "memory" do
  def rss_mb = File.read("/proc/self/status")[/VmRSS:\s+(\d+)/, 1].to_i / 1024.0

  it "does not grow over 10,000 handled tasks" do
    Tasker::Engine.open(retention: { max_finished_tasks: 500 }) do |engine|
      register_order_handlers(engine)
      run = ->(count) { count.times { expect(engine.handle(create_order(engine).uuid).action).to eq("complete") } }
      run.call(2_000) # warm-up
      GC.start
      before = rss_mb
      run.call(10_000)
      GC.start
      expect(rss_mb - before).to be < 20
    end
  end
end
