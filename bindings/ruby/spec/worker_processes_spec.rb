# frozen_string_literal: true

require_relative "spec_helper"
require_relative "support/worker_app"
require_relative "support/worker_checks"
require "securerandom"
require "yaml"
require "rbconfig"

# `tasker-worker` processes (bin/tasker-worker, as `bundle exec tasker-worker` runs it) on a real PostgreSQL: they
# race over the same tasks, die, and stop on SIGTERM. Each example has its own schema.
RSpec.describe "tasker-worker processes" do
  include WorkerChecks

  BIN = File.expand_path("../bin/tasker-worker", __dir__)
  WORKER_APP_FILE = File.expand_path("support/worker_app.rb", __dir__)

  let(:url) { ENV["TASKER_TEST_DATABASE_URL"] }
  let(:schema) { "rbw_#{SecureRandom.hex(6)}" }

  before { skip "TASKER_TEST_DATABASE_URL is not set (./build.sh test starts PostgreSQL)" unless url }

  around do |example|
    Dir.mktmpdir do |dir|
      @dir = dir
      @pids = []
      example.run
    ensure
      @pids.each do |pid|
        Process.kill("KILL", pid)
        Process.wait(pid)
      rescue Errno::ESRCH, Errno::ECHILD
        nil
      end
    end
  end

  def log = File.join(@dir, "steps.log")
  def output(name) = File.read(File.join(@dir, "#{name}.out"))

  # Starts `ruby bin/tasker-worker --config <name>.yml` and waits for its start-up line; returns its pid.
  def start_worker(name, **settings) = started(spawn_worker(name, **settings), name)

  # `config:` an existing config file, run from `chdir` with `env`; else one written from the defaults and settings.
  def spawn_worker(name, config: nil, env: {}, chdir: Dir.pwd, **settings)
    unless config
      config = File.join(@dir, "#{name}.yml")
      File.write(config, YAML.dump({ "database_url" => url, "engine" => { "schema" => schema }, "require" => [WORKER_APP_FILE],
                                     "concurrency" => 4, "wait_seconds" => 1, "stats_seconds" => 1 }
                                   .merge(settings.transform_keys(&:to_s))))
    end
    pid = Process.spawn({ "WORKER_LOG" => log }.merge(env), RbConfig.ruby, BIN, "--config", config,
                        out: File.join(@dir, "#{name}.out"), err: %i[child out], chdir: chdir)
    @pids << pid
    pid
  end

  def started(pid, name)
    wait_until(30, "#{name} to start") do
      raise "#{name} exited: #{output(name)}" if Process.wait(pid, Process::WNOHANG)

      output(name).include?("started: concurrency")
    end
    pid
  end

  # Waits for the process to exit; its Process::Status, or nil after `seconds`.
  def exit_status(pid, seconds)
    finish = Time.now + seconds
    until Time.now > finish
      return $?.tap { @pids.delete(pid) } if Process.wait(pid, Process::WNOHANG)

      sleep 0.05
    end
    nil
  end

  def stop(pid, seconds: 10)
    Process.kill("TERM", pid)
    exit_status(pid, seconds)
  end

  def open_engine(&block)
    Tasker::Engine.open(database_url: url, schema: schema) do |engine|
      WorkerApp.register(engine)
      block.call(engine)
    end
  end

  def create(engine, count, context = {})
    Array.new(count) { engine.create_task("diamond", namespace: "rbworker", context: context).uuid }
  end

  def complete_count(engine) = engine.list_tasks(state: "complete", limit: 1_000).size

  it "several workers race over hundreds of tasks: every step once, every task finalized once, the audit contiguous" do
    open_engine do |engine|
      workers = %w[w1 w2 w3].map { |name| [spawn_worker(name), name] }.map { |pid, name| started(pid, name) }
      uuids = create(engine, 300)
      wait_until(90, "300 tasks to complete") { complete_count(engine) == 300 }
      workers.each { |pid| expect(stop(pid)&.exitstatus).to eq(0) }

      done = worker_log(log).select { |event, *| event == "done" }
      expect(done.size).to eq(1_200)
      expect(done.map { |_, step, attempt, _| [step, attempt] }.uniq.size).to eq(1_200) # no step ran twice
      expect(done.map(&:last).uniq.size).to be >= 2 # they raced
      uuids.each do |uuid|
        task = engine.get_task(uuid)
        expect(task.steps.map { |s| [s["state"], s["attempts"]] }).to eq([["complete", 1]] * 4)
        expect_contiguous_audit(task)
      end
      expect(output("w1")).to match(%r{tasker-worker ruby-\d+: \d+ steps in \d+\.\d s}) # the throughput line
    end
  end

  # The first worker's 4 hung handlers must not keep its other 2 slots idle: it once reserved slots for a step's
  # next claims before running the handler, so hung handlers starved it (this spec failed about 1 run in 4).
  it "loses nothing when a worker is SIGKILLed: its steps are claimed again once their leases expire" do
    open_engine do |engine|
      # A lease long enough that heartbeats (every third of it) keep it on a loaded machine: a lapse would let the
      # first worker's own next claim take a hung step over (attempt 2) and the wait below would never be met.
      settings = { lease_seconds: 3 }
      first = start_worker("first", concurrency: 6, **settings) # 4 slots hang, 2 run the rest
      hung = create(engine, 4, "hang" => { "step" => "b", "attempt" => 1, "seconds" => 60 })
      plain = create(engine, 8)
      in_progress = -> { hung.count { |uuid| engine.get_task(uuid).step("b")["state"] == "in_progress" } }
      wait_until(30, "the first worker to hold 4 hanging steps and finish the rest") do
        in_progress.call == 4 && plain.all? { |uuid| engine.get_task(uuid).state == "complete" }
      end
      second = start_worker("second", **settings)
      sleep 3.5 # longer than a lease: the first worker's heartbeats keep its steps
      expect(hung.map { |uuid| engine.get_task(uuid).step("b")["attempts"] }).to eq([1] * 4)

      Process.kill("KILL", first)
      expect(exit_status(first, 5)&.termsig).to eq(Signal.list["KILL"])
      wait_until(30, "the second worker to finish the hung tasks") { complete_count(engine) == 12 }
      expect(stop(second)&.exitstatus).to eq(0)

      (hung + plain).each do |uuid|
        task = engine.get_task(uuid)
        expect(task.steps.map { |s| [s["name"], s["attempts"]] })
          .to eq([["a", 1], ["b", hung.include?(uuid) ? 2 : 1], ["c", 1], ["d", 1]])
        expect_contiguous_audit(task)
      end
      rows = worker_log(log)
      expect(rows.count { |event, *| event == "done" }).to eq(48)
      expect(rows.select { |event, *| event == "done" }.map { |_, step, *| step }.uniq.size).to eq(48) # each once
      retried = rows.select { |_, _, attempt, _| attempt == "2" }
      expect(retried.map { |event, _, _, pid| [event, pid] }.tally).to eq(%w[start done].to_h { |e| [[e, second.to_s], 4] })
    end
  end

  it "runs the example in examples/ruby/worker (its config file, handlers and order script)" do
    example = File.join(REPO, "examples", "ruby", "worker")
    env = { "DATABASE_URL" => url, "TASKER_SCHEMA" => schema }
    worker = started(spawn_worker("example", config: "config/tasker_worker.yml", env: env, chdir: example), "example")
    script = IO.popen(env, [RbConfig.ruby, "create_orders.rb", "5"], chdir: example, err: %i[child out], &:read)
    expect($?.exitstatus).to eq(0), script
    expect(script).to include('done: {"complete"=>5}')
    expect(stop(worker)&.exitstatus).to eq(0)
    expect(output("example")).to include("handlers ProcessPayment, ReserveInventory, ShipOrder, ValidateOrder; namespaces fulfillment")
  end

  it "on SIGTERM finishes the running step, reports it and exits 0" do
    open_engine do |engine|
      worker = start_worker("graceful", grace_seconds: 10)
      task = create(engine, 1, "hang" => { "step" => "a", "attempt" => 1, "seconds" => 1 }).first
      wait_until(10, "step a to start") { File.exist?(log) }
      expect(stop(worker, seconds: 10)&.exitstatus).to eq(0)
      a = engine.get_task(task).step("a")
      expect([a["state"], a["attempts"]]).to eq(["complete", 1])
      expect(output("graceful")).to match(/stopping: 1 steps running, grace 10 s/).and match(/stopped: \d+ steps/)
    end
  end

  it "on SIGTERM reports a step still running after the grace period as a WorkerShutdown failure and exits 0" do
    open_engine do |engine|
      worker = start_worker("impatient", grace_seconds: 0.5)
      task = create(engine, 1, "hang" => { "step" => "a", "attempt" => 1, "seconds" => 60 }).first
      wait_until(10, "step a to start") { File.exist?(log) }
      expect(stop(worker, seconds: 8)&.exitstatus).to eq(0)
      a = engine.get_task(task).step("a")
      expect([a["state"], a["attempts"], a["error"]["error_type"]]).to eq(["waiting_for_retry", 1, "WorkerShutdown"])
    end
  end
end
