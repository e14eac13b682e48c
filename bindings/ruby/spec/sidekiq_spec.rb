# frozen_string_literal: true

require_relative "spec_helper"
require "redis"
require "sidekiq"
require "tempfile"
require "securerandom"

Redis.sadd_returns_boolean = false # Sidekiq 6.4 ignores the answer; this opts in to redis 5's Integer (no warning)

# A real Sidekiq process on a real Redis runs a workflow whose payment step fails once and comes back through
# HandleTaskJob.perform_in(delay).
RSpec.describe "Tasker::Sidekiq::HandleTaskJob" do
  let(:redis_url) { ENV["TASKER_TEST_REDIS_URL"] }
  # A queue (and key prefix) of this run only: other test runs may share the Redis.
  let(:queue) { "tasker-spec-#{SecureRandom.hex(4)}" }

  before { skip "TASKER_TEST_REDIS_URL is not set (./build.sh test starts Redis)" unless redis_url }

  around do |example|
    next example.run unless redis_url

    env = { "TASKER_TEST_TEMPLATE" => ORDER_TEMPLATE, "TASKER_TEST_QUEUE" => queue }
    boot = File.join(__dir__, "support", "sidekiq_boot.rb")
    @log = Tempfile.new(%w[sidekiq .log])
    @pid = spawn(env, "sidekiq", "-r", boot, "-q", queue, "-c", "2", out: @log.path, err: %i[child out])
    example.run
    warn "sidekiq log:\n#{File.read(@log.path)}" if example.exception
  ensure
    if @pid
      Process.kill("TERM", @pid)
      Process.wait(@pid)
    end
    @log&.close!
    Redis.new(url: redis_url).del("#{queue}:outcomes", "#{queue}:started", "queue:#{queue}") if redis_url
  end

  it "runs the workflow to completion, re-enqueuing the retry with the outcome's delay" do
    Sidekiq.configure_client { |config| config.redis = { url: redis_url } }
    Sidekiq::Client.push("class" => "StartOrderJob", "queue" => queue, "args" => [ORDER_CONTEXT])
    redis = Redis.new(url: redis_url)
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    outcomes = []
    loop do
      outcomes = redis.lrange("#{queue}:outcomes", 0, -1)
      break if outcomes.last&.include?(":complete:") || Process.clock_gettime(Process::CLOCK_MONOTONIC) - started > 60

      sleep 0.2
    end
    uuid = redis.get("#{queue}:started")
    expect(outcomes.map { |o| o.split(":")[0..1] }).to eq([[uuid, "reenqueue"], [uuid, "complete"]])
    expect(outcomes.first.split(":")[2].to_f).to be_within(0.1).of(2)
    expect(Process.clock_gettime(Process::CLOCK_MONOTONIC) - started).to be >= 1.9
  end
end
