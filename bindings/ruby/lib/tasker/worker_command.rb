# frozen_string_literal: true

require "optparse"
require "yaml"
require "erb"
require "tasker"

module Tasker
  # `tasker-worker`: starts a Tasker::Worker from a config file. `run` returns the exit status (0 after a graceful
  # stop, 1 when the worker cannot start, 64 for a bad command line or config) and never raises for bad input.
  class WorkerCommand
    DEFAULT_CONFIG = "config/tasker_worker.yml"
    # Config keys, with what each must be; `engine:` is the engine's JSON config (schema:, pool_size:, ...).
    KEYS = {
      "database_url" => String, "concurrency" => Integer, "prefetch" => Integer, "namespaces" => Array,
      "require" => Array, "templates" => Array, "wait_seconds" => Numeric, "lease_seconds" => Numeric,
      "grace_seconds" => Numeric, "stats_seconds" => Numeric, "worker_id" => String, "engine" => Hash
    }.freeze
    USAGE_ERROR = 64 # EX_USAGE

    class Failure < StandardError
      attr_reader :status

      def initialize(message, status = USAGE_ERROR)
        super(message)
        @status = status
      end
    end

    HELP = <<~TEXT
      Runs a Tasker worker: claims ready steps of its registered handlers from PostgreSQL (across tasks, no queue),
      runs them, reports them. SIGTERM or SIGINT stops it gracefully (a second one cuts the grace period short).

      The config file is YAML (ERB allowed):
        database_url: <%= ENV["DATABASE_URL"] %>   # default: $TASKER_DATABASE_URL, then $DATABASE_URL
        require: [./config/environment, ./app/tasker_worker.rb]   # files that register handlers (below)
        templates: [config/tasker]                 # template files or directories of *.yml/*.yaml (optional)
        concurrency: 8                             # handlers run at once
        prefetch: 8                                # steps claimed ahead while steps are short (0: none)
        namespaces: [fulfillment]                  # only these namespaces' tasks (default: all)
        grace_seconds: 25                          # on stop, how long running steps may finish
        wait_seconds: 2                            # how long one claim waits for work
        lease_seconds: 300                         # the claims' lease (default: the engine's)
        stats_seconds: 60                          # the throughput line (0: none)
        worker_id: orders-1                        # default: ruby-<pid>
        engine: { schema: tasker, pool_size: 10 }  # more engine config (Tasker::Engine.new's options)

      A required file registers the handlers (and templates) on the engine the command opens:
        Tasker::Worker.configure do |engine|
          engine.register_templates("config/tasker")
          engine.register_handlers(Orders::ValidateOrder, Orders::ShipOrder)
        end
    TEXT

    def initialize(argv, out: $stdout, err: $stderr, env: ENV)
      @argv = argv.dup
      @out = out
      @err = err
      @env = env
    end

    def run
      options = parse_arguments
      return 0 if options.nil?

      config = load_config(options)
      worker = boot(config)
      begin
        worker.run
      ensure
        worker_engine = @engine
        @engine = nil
        worker_engine&.close
      end
      0
    rescue Failure => e
      @err.puts("tasker-worker: #{e.message}")
      @err.puts("Run tasker-worker --help for the config file and options.") if e.status == USAGE_ERROR
      e.status
    end

    private

    def parse_arguments
      options = { "require" => [], "namespaces" => [] }
      parser = OptionParser.new do |o|
        o.banner = "Usage: tasker-worker [--config PATH] [options]"
        o.separator("")
        o.on("-C", "--config PATH", "config file (default: #{DEFAULT_CONFIG})") { |path| options["config"] = path }
        o.on("-c", "--concurrency N", Integer, "handlers run at once (default 8)") { |n| options["concurrency"] = n }
        o.on("--prefetch N", Integer, "steps claimed ahead while steps are short (default: concurrency)") { |n| options["prefetch"] = n }
        o.on("-n", "--namespace NAME", "only tasks of this namespace (repeatable)") { |name| options["namespaces"] << name }
        o.on("-r", "--require FILE", "require this file too (repeatable)") { |file| options["require"] << file }
        o.on("-v", "--version", "print the version") do
          @out.puts("tasker-worker #{Tasker::VERSION}")
          return nil
        end
        o.on("-h", "--help", "this text") do
          @out.puts(o.help, "", HELP)
          return nil
        end
      end
      rest = parser.parse(@argv)
      raise Failure, "unexpected argument #{rest.first.inspect}" unless rest.empty?

      options
    rescue OptionParser::ParseError => e
      raise Failure, e.message
    end

    # The file's settings, with the command line's on top.
    def load_config(options)
      path = options["config"] || (DEFAULT_CONFIG if File.exist?(DEFAULT_CONFIG))
      if path.nil? && options["require"].empty?
        raise Failure, "no config file: #{DEFAULT_CONFIG} does not exist here (#{Dir.pwd}); give --config PATH"
      end

      config = path ? read_config(path) : {}
      config["concurrency"] = options["concurrency"] if options["concurrency"]
      config["prefetch"] = options["prefetch"] if options["prefetch"]
      config["namespaces"] = options["namespaces"] unless options["namespaces"].empty?
      config["require"] = Array(config["require"]) + options["require"]
      config
    end

    def read_config(path)
      raise Failure, "config file #{path} does not exist" unless File.file?(path)

      text = ERB.new(File.read(path, encoding: "UTF-8")).result
      config = YAML.safe_load(text, aliases: true, filename: path) || {}
      raise Failure, "#{path}: the config must be a mapping of settings, not #{config.class}" unless config.is_a?(Hash)

      config.each do |key, value|
        type = KEYS[key.to_s] or raise Failure, "#{path}: unknown setting #{key.inspect}#{suggestion(key.to_s)}"
        raise Failure, "#{path}: #{key} must be #{article(type)}, not #{value.inspect}" unless value.is_a?(type) || value.nil?
      end
      config.transform_keys(&:to_s).compact
    rescue Psych::SyntaxError => e
      raise Failure, "#{path}: not valid YAML: #{e.message}"
    rescue StandardError, ScriptError => e
      raise if e.is_a?(Failure)

      raise Failure, "#{path}: cannot read it: #{e.class}: #{e.message}"
    end

    def suggestion(key)
      near = DidYouMean::SpellChecker.new(dictionary: KEYS.keys).correct(key).first if defined?(DidYouMean::SpellChecker)
      near ? " (did you mean #{near.inspect}?)" : " (known: #{KEYS.keys.join(", ")})"
    end

    def article(type) = { Array => "a list", Hash => "a mapping", Integer => "an integer", Numeric => "a number", String => "a string" }[type]

    def boot(config)
      config["require"].each { |file| require_file(file) }
      url = config["database_url"] || @env["TASKER_DATABASE_URL"] || @env["DATABASE_URL"]
      if url.nil? || url.empty?
        raise Failure, "no database_url: set it in the config file (or TASKER_DATABASE_URL / DATABASE_URL); " \
                       "a worker shares its tasks with other processes through PostgreSQL"
      end

      engine_config = (config["engine"] || {}).transform_keys(&:to_sym)
      @engine = Engine.new(database_url: url, **engine_config)
      Array(config["templates"]).each { |path| register_templates(path) }
      Worker.configurations.each { |block| block.call(@engine) }
      if @engine.worker_options[:handlers].empty?
        raise Failure.new("no handlers registered: a file in `require:` must register them, in " \
                          "Tasker::Worker.configure { |engine| engine.register_handler(...) }", 1)
      end
      Worker.new(@engine, **worker_options(config))
    rescue Tasker::Error, Failure => e
      @engine&.close
      raise if e.is_a?(Failure)

      raise Failure.new("cannot start: #{e.class.name.split("::").last}: #{e.message}", 1)
    end

    def worker_options(config)
      { concurrency: config["concurrency"], prefetch: config["prefetch"], namespaces: config["namespaces"],
        wait_seconds: config["wait_seconds"], lease_seconds: config["lease_seconds"],
        grace_seconds: config["grace_seconds"], stats_seconds: config["stats_seconds"],
        worker_id: config["worker_id"] }.compact
    end

    # `./x` and paths that exist are files (relative to the current directory); other names are libraries.
    def require_file(file)
      path = File.expand_path(file)
      local = file.start_with?(".", "/") || File.exist?(path) || File.exist?("#{path}.rb")
      require(local ? path : file)
    rescue LoadError => e
      raise Failure.new("cannot require #{file}: #{e.message}", 1)
    end

    def register_templates(path)
      raise Failure.new("template #{path} does not exist", 1) unless File.exist?(path)

      File.directory?(path) ? @engine.register_templates(path) : @engine.register_template(File.read(path, encoding: "UTF-8"))
    end
  end
end
