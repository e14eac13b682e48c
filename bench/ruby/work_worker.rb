# frozen_string_literal: true

# One Ruby worker process of the side-by-side bench (bench/worker/run.sh; issue 13): the public `Tasker::Worker` on
# the PostgreSQL store through libtasker, running no-op handlers for the bench templates
# (bench/Tasker.Postgres.Bench/BenchTemplates.cs). Driven by `Tasker.Postgres.Bench side-by-side` over stdin/stdout
# lines, exactly as its C# and Python twins (WorkMode/WorkModeWorker.cs, bench/python/work_worker.py):
#
# - warm-up on the tasks of `--warmup-namespace` until none is left (a burst run), then `READY`;
# - `GO`: work on `--namespace` until `STOP`, then `REPORT steps first_ns last_ns errors`.
#
#     export TASKER_LIBRARY_PATH=artifacts/lib/linux-x64/libtasker.so
#     ruby -I bindings/ruby/lib bench/ruby/work_worker.rb --database-url URL --schema S --worker-id rb0 \
#         [--concurrency 8] [--prefetch 8] [--warmup-namespace warmup_0] [--namespace bench]
#
# `steps` are the worker's completed reports (`Worker#stats`); `first_ns`/`last_ns` are when the first handler
# started and the last one returned, from CLOCK_MONOTONIC (the clock of the orchestrator's and the other children's
# timestamps), so the orchestrator compares them across processes. `errors` are the steps that failed, were refused
# as stale, could not be reported or were handed back at shutdown. The worker's log goes to stderr, warnings and up.
require "logger"
require "optparse"
require "tasker"

# The handlers of BenchTemplates.Mixed and BenchTemplates.Single (BenchTemplates.Handlers).
HANDLERS = %w[init_handler left_handler right_handler validate_handler transform_handler analyze_handler
              finalize_handler noop].freeze
# The C# child's claims wait 1 s for work: the same here (a stop is noticed between claims).
WAIT_SECONDS = 1.0
# The warm-up ends at its first empty claim; waiting long for one would only delay READY.
WARMUP_WAIT_SECONDS = 0.2
LEASE_SECONDS = 60.0

# Does nothing; records when the first step started and the last one ended (one shared instance).
class Noop < Tasker::StepHandler
  attr_reader :first, :last

  def initialize
    super
    @lock = Mutex.new
    @first = 0
    @last = 0
  end

  def process(_context)
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC, :nanosecond)
    @lock.synchronize do
      @first = started if @first.zero? || started < @first
      @last = [@last, Process.clock_gettime(Process::CLOCK_MONOTONIC, :nanosecond)].max
    end
    nil
  end
end

def parse(argv)
  options = { concurrency: Tasker::Worker::DEFAULT_CONCURRENCY, namespace: "bench" }
  OptionParser.new do |o|
    o.banner = "usage: work_worker.rb --database-url URL --schema S --worker-id W [--concurrency 8] " \
               "[--prefetch 8] [--warmup-namespace NS] [--namespace bench]"
    o.on("--database-url URL") { |v| options[:database_url] = v }
    o.on("--schema S") { |v| options[:schema] = v }
    o.on("--worker-id W") { |v| options[:worker_id] = v }
    o.on("--concurrency N", Integer) { |v| options[:concurrency] = v }
    o.on("--prefetch N", Integer) { |v| options[:prefetch] = v } # default: the worker's (its concurrency)
    o.on("--warmup-namespace NS") { |v| options[:warmup_namespace] = v }
    o.on("--namespace NS") { |v| options[:namespace] = v }
  end.parse!(argv)
  missing = %i[database_url schema worker_id].reject { |k| options[k] }
  abort "work_worker.rb: --#{missing.first.to_s.tr("_", "-")} is required" unless missing.empty?
  options
end

def worker(engine, options, namespace, wait_seconds, logger)
  Tasker::Worker.new(engine, concurrency: options[:concurrency], prefetch: options[:prefetch], namespaces: [namespace],
                             lease_seconds: LEASE_SECONDS, wait_seconds: wait_seconds, stats_seconds: 0, worker_id: options[:worker_id], logger: logger)
end

def main(argv)
  options = parse(argv)
  $stdout.sync = true
  logger = Logger.new($stderr, level: Logger::WARN, progname: "tasker")
  Tasker.logger = logger # the engine's failed step attempts too
  # The orchestrator installed the schema; the pool is the engine's default (20), more than concurrency + claimer.
  Tasker::Engine.open(database_url: options[:database_url], schema: options[:schema], migrate: false,
                      worker_id: options[:worker_id]) do |engine|
    if options[:warmup_namespace]
      # Not measured: requires, the pool, the prepared statements and the caches settle here.
      warm = Noop.new
      HANDLERS.each { |name| engine.register_handler(name, warm) }
      worker(engine, options, options[:warmup_namespace], WARMUP_WAIT_SECONDS, logger).run(burst: true, handle_signals: false)
    end
    puts "READY"
    return 3 unless $stdin.gets&.strip == "GO"

    noop = Noop.new
    HANDLERS.each { |name| engine.register_handler(name, noop) }
    measured = worker(engine, options, options[:namespace], WAIT_SECONDS, logger)
    line = nil
    Thread.new do
      line = $stdin.gets&.strip
      measured.stop
    end
    stats = measured.run(handle_signals: false)
    errors = stats.failed + stats.stale + stats.unreported + stats.shutdown
    puts "REPORT #{stats.completed} #{noop.first} #{noop.last} #{errors}"
    line == "STOP" ? 0 : 3
  end
end

exit main(ARGV) if $PROGRAM_NAME == __FILE__
