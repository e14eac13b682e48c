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

# The job's one rule, in this process against the real Redis: re-enqueue after outcome.requeue_after_seconds when it is
# not nil, never otherwise.
RSpec.describe "Tasker::Sidekiq::HandleTaskJob's requeue rule" do
  let(:redis_url) { ENV["TASKER_TEST_REDIS_URL"] }
  let(:queue) { "tasker-rule-#{SecureRandom.hex(4)}" }
  let(:redis) { Redis.new(url: redis_url) }

  before do
    skip "TASKER_TEST_REDIS_URL is not set (./build.sh test starts Redis)" unless redis_url
    require "tasker/sidekiq"
    Sidekiq.configure_client { |config| config.redis = { url: redis_url } }
    Tasker::Sidekiq.queue = queue
    @engine = Tasker::Engine.new(clock: "manual", backoff: { jitter: 0 })
    Tasker::Sidekiq.reset!
    Tasker::Sidekiq.engine_factory = -> { @engine }
  end

  after do
    next unless redis_url

    Tasker::Sidekiq.reset!
    Tasker::Sidekiq.queue = nil
    @engine&.close
    redis.zrangebyscore("schedule", "-inf", "+inf").each { |job| redis.zrem("schedule", job) if JSON.parse(job)["queue"] == queue }
    redis.del("queue:#{queue}")
  end

  # [queue, args, seconds from now] of each job pushed to this spec's queue, now or scheduled.
  def pushed
    now = Time.now.to_f
    ready = redis.lrange("queue:#{queue}", 0, -1).map { |job| [JSON.parse(job)["args"], 0] }
    scheduled = redis.zrangebyscore("schedule", "-inf", "+inf", with_scores: true).filter_map do |job, at|
      parsed = JSON.parse(job)
      [parsed["args"], (at - now).round] if parsed["queue"] == queue
    end
    ready + scheduled
  end

  def perform(uuid) = Tasker::Sidekiq::HandleTaskJob.new.perform(uuid)

  it "re-enqueues a retry after its delay" do
    flaky = handler { |c| c.step.attempt == 1 ? raise(Tasker::RetryableError.new("busy", retry_after: 30)) : "paid" }
    register_order_handlers(@engine, payment: flaky)
    task = create_order(@engine)
    expect(perform(task.uuid)).to include("action" => "reenqueue", "requeue_after_seconds" => 30)
    expect(pushed).to eq([[[task.uuid], 30]])
  end

  it "re-enqueues a task waiting for a handler this worker lacks, after missing_handler_requeue_seconds" do
    @engine.register_template(ORDER_TEMPLATE)
    task = create_order(@engine)
    expect(perform(task.uuid)).to include("action" => "reenqueue", "requeue_after_seconds" => 5)
    expect(pushed).to eq([[[task.uuid], 5]])
  end

  it "re-enqueues at once when the outcome says execute (requeue_after_seconds 0)" do
    register_order_handlers(@engine)
    task = create_order(@engine)
    def @engine.handle(uuid, **) = evaluate(uuid) # a real "execute" outcome: the task has ready steps
    expect(perform(task.uuid)).to include("action" => "execute", "requeue_after_seconds" => 0)
    expect(pushed).to eq([[[task.uuid], 0]])
  end

  it "does not re-enqueue a finished task" do
    register_order_handlers(@engine)
    task = create_order(@engine)
    expect(perform(task.uuid)).to include("action" => "complete", "requeue_after_seconds" => nil)
    expect(pushed).to eq([])
  end

  it "does not re-enqueue a task whose steps are running elsewhere (wait)" do
    register_order_handlers(@engine)
    task = create_order(@engine)
    Tasker::Native.call_json(:tasker_steps_claim, @engine.handle_pointer, JSON.generate(task_uuid: task.uuid, max_steps: 1))
    expect(perform(task.uuid)).to include("action" => "wait", "requeue_after_seconds" => nil)
    expect(pushed).to eq([])
  end
end
