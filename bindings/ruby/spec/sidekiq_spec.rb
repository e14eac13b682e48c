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

    env = { "TASKER_TEST_TEMPLATE" => ORDER_TEMPLATE, "TASKER_TEST_QUEUE" => queue }.merge(example.metadata[:sidekiq_env] || {})
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
    if redis_url
      redis = Redis.new(url: redis_url)
      redis.del("#{queue}:outcomes", "#{queue}:started", "queue:#{queue}")
      %w[dead retry].each do |set|
        redis.zrange(set, 0, -1).each { |job| redis.zrem(set, job) if JSON.parse(job)["queue"] == queue }
      end
    end
  end

  def push(klass, *args)
    Sidekiq.configure_client { |config| config.redis = { url: redis_url } }
    Sidekiq::Client.push("class" => klass, "queue" => queue, "args" => args)
  end

  # The outcomes the worker recorded ("uuid:action:delay"), once the last one includes `until` (or after 60 s).
  def outcomes_until(text)
    redis = Redis.new(url: redis_url)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 60
    loop do
      outcomes = redis.lrange("#{queue}:outcomes", 0, -1)
      return outcomes if outcomes.last&.include?(text) || Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

      sleep 0.2
    end
  end

  # This spec's jobs in Sidekiq's dead or retry set, parsed.
  def jobs_in(set) = Redis.new(url: redis_url).zrange(set, 0, -1).map { |job| JSON.parse(job) }.select { |job| job["queue"] == queue }

  let(:declined) { ORDER_CONTEXT.merge("decline" => true) }

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

  it "sends the job of a workflow that ends in error to the Dead set once, naming the failed step, without retries" do
    push("StartOrderJob", declined)
    outcomes = outcomes_until(":error:")
    uuid = Redis.new(url: redis_url).get("#{queue}:started")
    expect(outcomes).to eq(["#{uuid}:error:"])
    dead = nil
    20.times { (dead = jobs_in("dead")).empty? ? sleep(0.1) : break }
    expect(dead.size).to eq(1)
    expect(dead.first).to include("class" => "Tasker::Sidekiq::HandleTaskJob", "args" => [uuid],
                                  "error_class" => "Tasker::WorkflowFailedError")
    expect(dead.first["error_message"]).to eq(
      "task #{uuid} (fulfillment/order_fulfillment) ended in error: process_payment: Tasker::PermanentError: card declined"
    )
    sleep 1.5 # nothing comes back: not in the retry set, not handled again
    expect(jobs_in("retry")).to eq([])
    expect(Redis.new(url: redis_url).lrange("#{queue}:outcomes", 0, -1)).to eq(["#{uuid}:error:"])
  end

  it "keeps the job of an errored workflow successful with fail_on_error off", sidekiq_env: { "TASKER_TEST_FAIL_ON_ERROR" => "0" } do
    push("StartOrderJob", declined)
    uuid = nil
    outcomes = outcomes_until(":error:")
    uuid = Redis.new(url: redis_url).get("#{queue}:started")
    expect(outcomes).to eq(["#{uuid}:error:"])
    sleep 1
    expect([jobs_in("dead"), jobs_in("retry")]).to eq([[], []])
  end

  it "re-enqueues an operator's retry through Sidekiq, and the task completes" do
    push("StartOrderJob", declined)
    outcomes_until(":error:")
    uuid = Redis.new(url: redis_url).get("#{queue}:started")
    push("RetryTaskJob", uuid)
    expect(outcomes_until(":complete:")).to eq(["#{uuid}:error:", "#{uuid}:complete:"])
  end

  it "the sweeper job re-enqueues a due retry nobody was driving" do
    push("StartAndForgetJob", ORDER_CONTEXT)
    expect(outcomes_until(":reenqueue:").size).to eq(1)
    sleep 2.5 # the retry is due, and nobody enqueued it
    uuid = Redis.new(url: redis_url).get("#{queue}:started")
    expect(Redis.new(url: redis_url).lrange("#{queue}:outcomes", 0, -1)).to eq(["#{uuid}:reenqueue:2"])
    push("Tasker::Sidekiq::SweepStaleWorkJob")
    expect(outcomes_until(":complete:")).to eq(["#{uuid}:reenqueue:2", "#{uuid}:complete:"])
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

  it "raises WorkflowFailedError (not an engine error) naming the failed step when the task ends in error" do
    register_order_handlers(@engine, payment: handler { |_c| raise Tasker::PermanentError, "card declined" })
    task = create_order(@engine)
    expect { perform(task.uuid) }.to raise_error(Tasker::WorkflowFailedError) { |e|
      expect(e.message).to eq("task #{task.uuid} (fulfillment/order_fulfillment) ended in error: " \
                              "process_payment: Tasker::PermanentError: card declined")
      expect([e.task_uuid, e.failed_steps]).to eq([task.uuid, [["process_payment", "Tasker::PermanentError", "card declined"]]])
      expect(e).not_to be_a(Tasker::Error)
    }
    expect(pushed).to eq([])
  end

  it "returns the outcome of an errored task with fail_on_error off" do
    Tasker::Sidekiq.fail_on_error = false
    register_order_handlers(@engine, payment: handler { |_c| raise Tasker::PermanentError, "card declined" })
    task = create_order(@engine)
    expect(perform(task.uuid)).to include("action" => "error", "requeue_after_seconds" => nil)
  ensure
    Tasker::Sidekiq.fail_on_error = nil
  end

  it "retry re-enqueues a retried task at once" do
    Tasker::Sidekiq.fail_on_error = false
    register_order_handlers(@engine, payment: handler { |_c| raise Tasker::PermanentError, "card declined" })
    task = create_order(@engine)
    perform(task.uuid)
    outcome = Tasker::Sidekiq.retry(task.uuid, actor: "alice", reason: "card replaced")
    expect([outcome.action, outcome.requeue_after_seconds]).to eq(["execute", 0])
    expect(pushed).to eq([[[task.uuid], 0]])
    expect(@engine.get_task(task.uuid).transitions.last).to include("actor" => "alice")
  ensure
    Tasker::Sidekiq.fail_on_error = nil
  end

  it "does not re-enqueue a task whose steps are running elsewhere (wait)" do
    register_order_handlers(@engine)
    task = create_order(@engine)
    Tasker::Native.call_json(:tasker_steps_claim, @engine.handle_pointer, JSON.generate(task_uuid: task.uuid, max_steps: 1))
    expect(perform(task.uuid)).to include("action" => "wait", "requeue_after_seconds" => nil)
    expect(pushed).to eq([])
  end
end
