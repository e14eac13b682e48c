# frozen_string_literal: true

require_relative "spec_helper"
require "tasker/worker_command"
require "stringio"

# The tasker-worker command's answers to bad input (the running worker is in worker_processes_spec.rb).
RSpec.describe Tasker::WorkerCommand do
  around do |example|
    Dir.mktmpdir { |dir| Dir.chdir(dir) { example.run } }
  end

  # [exit status, stdout, stderr]
  def command(*argv, env: {})
    out = StringIO.new
    err = StringIO.new
    status = described_class.new(argv, out: out, err: err, env: env).run
    [status, out.string, err.string]
  end

  def config(text) = File.write("worker.yml", text).then { "worker.yml" }

  it "prints its help with the config file's settings" do
    status, out, = command("--help")
    expect(status).to eq(0)
    expect(out).to include("Usage: tasker-worker [--config PATH]", "--concurrency N", "--prefetch N", "prefetch:", "database_url:", "require:",
                           "Tasker::Worker.configure do |engine|")
  end

  it "says where it looked when there is no config file" do
    status, _, err = command
    expect(status).to eq(64)
    expect(err).to include("no config file: config/tasker_worker.yml does not exist here", "give --config PATH",
                           "tasker-worker --help")
    expect(command("--config", "missing.yml")[2]).to include("config file missing.yml does not exist")
  end

  it "names an unknown setting with the closest known one, and a setting of the wrong type" do
    expect(command("-C", config("concurency: 3\n"))[2]).to include('unknown setting "concurency" (did you mean "concurrency"?)')
    expect(command("-C", config("concurrency: many\n"))[2]).to include('concurrency must be an integer, not "many"')
    expect(command("-C", config("- a\n- b\n"))[2]).to include("the config must be a mapping of settings, not Array")
    expect(command("-C", config("a: [\n"))[2]).to include("not valid YAML")
    expect(command("--concurrency", "x")[2]).to include("invalid argument: --concurrency x")
    expect(command("-C", config("prefetch: [8]\n"))[2]).to include("prefetch must be an integer, not [8]")
    expect(command("--prefetch", "x")[2]).to include("invalid argument: --prefetch x")
  end

  it "gives the worker the config's concurrency and prefetch, the command line's winning" do
    Tasker::Engine.open do |engine|
      engine.register_handler("Work", Class.new(Tasker::StepHandler) { def process(_context) = nil })
      allow(engine).to receive(:close)
      allow(Tasker::Engine).to receive(:new).and_return(engine)
      worker = instance_double(Tasker::Worker, run: nil)
      expect(Tasker::Worker).to receive(:new).with(engine, hash_including(concurrency: 3, prefetch: 0)).and_return(worker)
      status, = command("-C", config("database_url: postgres://nowhere\nconcurrency: 3\nprefetch: 6\n"), "--prefetch", "0")
      expect(status).to eq(0)
    end
  end

  it "needs a database URL, from the config or the environment" do
    status, _, err = command("-C", config("concurrency: 2\n"))
    expect(status).to eq(64)
    expect(err).to include("no database_url: set it in the config file (or TASKER_DATABASE_URL / DATABASE_URL)")
  end

  it "fails to start, saying why, when a required file is missing, the database is down or no handler is registered" do
    expect(command("-C", config("require: [./nothing_here]\n"))).to match([1, "", /cannot require \.\/nothing_here/])
    down = command("-C", config("database_url: postgres://postgres@127.0.0.1:1/nowhere\n"))
    expect(down).to match([1, "", /cannot start: DatabaseError: .*database unavailable/])

    url = ENV["TASKER_TEST_DATABASE_URL"]
    next unless url

    allow(Tasker::Worker).to receive(:configurations).and_return([])
    expect(command("-C", config("database_url: <%= ENV['TASKER_TEST_DATABASE_URL'] %>\n"))) # ERB, as in database.yml
      .to match([1, "", /no handlers registered: a file in `require:` must register them/])
  end
end
