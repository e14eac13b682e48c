# frozen_string_literal: true

require_relative "spec_helper"
require "redis"
require "sidekiq"

# A real Sidekiq process on a real Redis runs a workflow whose payment step fails once and comes back through
# HandleTaskJob.perform_in(delay).
RSpec.describe "Tasker::Sidekiq::HandleTaskJob" do
  let(:redis_url) { ENV["TASKER_TEST_REDIS_URL"] }

  before { skip "TASKER_TEST_REDIS_URL is not set (./build.sh test starts Redis)" unless redis_url }

  around do |example|
    next example.run unless redis_url

    Redis.new(url: redis_url).flushdb
    env = { "TASKER_TEST_TEMPLATE" => ORDER_TEMPLATE }
    boot = File.join(__dir__, "support", "sidekiq_boot.rb")
    @pid = spawn(env, "sidekiq", "-r", boot, "-q", "tasker", "-c", "2", out: File::NULL, err: File::NULL)
    example.run
  ensure
    if @pid
      Process.kill("TERM", @pid)
      Process.wait(@pid)
    end
  end

  it "runs the workflow to completion, re-enqueuing the retry with the outcome's delay" do
    Sidekiq.configure_client { |config| config.redis = { url: redis_url } }
    Sidekiq::Client.push("class" => "StartOrderJob", "queue" => "tasker", "args" => [ORDER_CONTEXT])
    redis = Redis.new(url: redis_url)
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    outcomes = []
    loop do
      outcomes = redis.lrange("tasker-test:outcomes", 0, -1)
      break if outcomes.last&.include?(":complete:") || Process.clock_gettime(Process::CLOCK_MONOTONIC) - started > 60

      sleep 0.2
    end
    uuid = redis.get("tasker-test:started")
    expect(outcomes.map { |o| o.split(":")[0..1] }).to eq([[uuid, "reenqueue"], [uuid, "complete"]])
    expect(outcomes.first.split(":")[2].to_f).to be_within(0.1).of(2)
    expect(Process.clock_gettime(Process::CLOCK_MONOTONIC) - started).to be >= 1.9
  end
end
