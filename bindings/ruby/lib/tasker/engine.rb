# frozen_string_literal: true

require "json"

module Tasker
  # An embedded engine: the memory store by default, `database_url:` for PostgreSQL.
  #
  #   Tasker::Engine.open do |engine|
  #     engine.register_template("config/tasker/order_fulfillment.yaml")
  #     engine.register_handler("ValidateOrder", ValidateOrder)
  #     task = engine.create_task("order_fulfillment", namespace: "fulfillment", context: { order: {...} })
  #     engine.handle(task.uuid)
  #   end
  #
  # Thread-safe. One engine per process: open it after fork (Sidekiq and Puma boot hooks, see the README).
  # `concurrency:` bounds how many handlers one `handle` call runs at once (threads kept between calls).
  class Engine
    include ForkGuard

    DEFAULT_CONCURRENCY = 8

    # Defaults a framework integration supplies for options an app leaves out: option => a callable, called as
    # each engine opens. The Railtie sets `concurrency` (the ActiveRecord pool size) and `environment` (Rails.env).
    # Set at boot; an explicit option always wins.
    OPTION_DEFAULTS = {} # rubocop:disable Style/MutableConstant

    def self.default_option(option, &value)
      raise ArgumentError, "default_option(#{option.inspect}) needs a block" unless value

      OPTION_DEFAULTS[option.to_sym] = value
    end

    # @api private: the default for `option`, or nil.
    def self.option_default(option) = OPTION_DEFAULTS[option]&.call

    def self.open(**options)
      engine = new(**options)
      return engine unless block_given?

      begin
        yield engine
      ensure
        engine.close
      end
    end

    def initialize(database_url: nil, concurrency: nil, threads: nil, worker_id: nil, **config)
      concurrency = Engine.option_default(:concurrency) if concurrency.nil? && threads.nil?
      @concurrency = self.class.concurrency_option(concurrency, threads)
      unless config.key?(:environment) || (environment = Engine.option_default(:environment)).nil?
        config[:environment] = environment
      end
      config[:database_url] = database_url if database_url
      @store = database_url ? "postgres" : "memory"
      @pointer = FFI::AutoPointer.new(Native.open_engine(JSON.generate(config)), Native::Releaser.new(:tasker_engine_free))
      @pid = Process.pid
      @worker_id = worker_id || "ruby-#{Process.pid}"
      @handlers = {}
      @wall_clock = config[:clock].to_s != "manual"
      @pool = ThreadPool.new(@concurrency)
      @handler_times = HandlerTimes.new # which handlers `handle` runs on the calling thread (tasker/handler_times.rb)
      ObjectSpace.define_finalizer(self, ThreadPool.closer(@pool))
    end

    attr_reader :concurrency

    # "postgres" or "memory": the store this engine runs on, decided by `database_url:` alone (no call, unlike health).
    attr_reader :store

    # `threads:` is the deprecated name of `concurrency:` (the other bindings' name); it warns once per process.
    def self.concurrency_option(concurrency, threads)
      unless threads.nil?
        raise ValidationError, "give concurrency: only (threads: is its deprecated name)" unless concurrency.nil?

        unless @threads_warned
          caller = caller_locations.find { |location| !location.path.start_with?(__dir__) }
          warn "#{caller}: warning: Tasker::Engine's threads: is deprecated and will be removed; use concurrency:"
          @threads_warned = true
        end
        concurrency = threads
      end
      concurrency = DEFAULT_CONCURRENCY if concurrency.nil?
      raise ValidationError, "concurrency must be an Integer of at least 1, not #{concurrency.inspect}" unless concurrency.is_a?(Integer) && concurrency >= 1

      concurrency
    end

    # Shuts the engine down (tasker_engine_close): raises when that fails (a store that fails to close, telemetry
    # that fails to flush); the handle is released either way, and a second close does nothing.
    def close
      return if @pointer.nil?

      pointer = @pointer
      @pointer = nil
      pointer.autorelease = false
      @pool.shutdown
      Native.check!(Native.tasker_engine_close(pointer)) if Process.pid == @pid
    end

    def closed? = @pointer.nil?

    def register_template(path_or_text)
      text = path_or_text.to_s
      text = File.read(text, encoding: "UTF-8") if !text.include?("\n") && File.file?(text)
      call(:tasker_template_register, text, raw: true)
    end

    # Every *.yml and *.yaml in `directory` (e.g. Rails' config/tasker), in name order; returns what each answered.
    def register_templates(directory)
      paths = Dir[File.join(directory.to_s, "*.{yml,yaml}")].sort
      raise NotFoundError, "no *.yml or *.yaml templates in #{directory}" if paths.empty?

      paths.map { |path| register_template(path) }
    end

    # Only registered names ever run; a class gets one instance per step attempt.
    def register_handler(name, handler)
      handler = RailsCompat.adapt(handler) # Rails Tasker StepHandler::Base / ::Api classes (tasker/rails_compat.rb)
      valid = handler.is_a?(StepHandler) || (handler.is_a?(Class) && handler <= StepHandler)
      raise ValidationError, "handler for #{name.inspect} must be a Tasker::StepHandler subclass or instance" unless valid

      @handlers[name.to_s] = handler
      @handler_times.forget(name.to_s)
    end

    # Registers each class under its own name, as templates name them (`handler: { callable: Orders::Ship }`).
    def register_handlers(*classes)
      classes.flatten.each do |klass|
        raise ValidationError, "#{klass.inspect} has no name: use register_handler(name, handler)" unless klass.is_a?(Module) && klass.name

        register_handler(klass.name, klass)
      end
    end

    def create_task(name, namespace:, version: nil, context: {}, **fields)
      request = { name: name, namespace: namespace, context: JsonValue.convert(context, "context"), **fields }
      request[:requested_at] = request[:requested_at].iso8601(6) if request[:requested_at].respond_to?(:iso8601)
      request[:version] = version if version
      Task.from_create_answer(Native.call_json(:tasker_task_create, native_handle, JSON.generate(request)))
    end

    def get_task(uuid) = Task.new(call(:tasker_task_get, uuid.to_s, raw: true))
    def evaluate(uuid) = Outcome.from_json(call(:tasker_task_evaluate, uuid.to_s, raw: true))

    def list_tasks(state: nil, namespace: nil, name: nil, limit: 100)
      call(:tasker_task_list, { state: state, namespace: namespace, name: name, limit: limit }.compact)["tasks"]
    end

    def retry_task(uuid, actor: nil, reason: nil)
      Outcome.from_json(call(:tasker_task_retry, { task_uuid: uuid, actor: actor, reason: reason }))
    end

    def cancel_task(uuid, actor: nil, reason: nil)
      Outcome.from_json(call(:tasker_task_cancel, { task_uuid: uuid, actor: actor, reason: reason }))
    end

    def resolve_step(uuid, step, result = nil, actor: nil, reason: nil)
      Outcome.from_json(call(:tasker_step_resolve,
                             { task_uuid: uuid, step_name: step, result: JsonValue.convert(result, "result"), actor: actor,
                               reason: reason }))
    end

    # Applies pending PostgreSQL migrations (engines open with "migrate": true by default); a no-op on memory.
    def migrate = Native.check!(Native.tasker_engine_migrate(native_handle))

    def stale_work(limit: 100) = call(:tasker_stale_work_list, { limit: limit })
    def health = JSON.parse(Native.health(native_handle))
    def advance_clock(seconds) = Native.check!(Native.tasker_engine_advance_clock(native_handle, (seconds * 1000).round))
    def subscribe(pattern = "*", capacity: 0) = Subscription.new(self, pattern, capacity)

    # Runs the task's ready steps whose handlers are registered, up to `concurrency` at once, reporting each as it
    # finishes and claiming the next in the same call, until none is running; returns the Outcome. A queue re-drives
    # the task after `outcome.requeue_after_seconds` when it is not nil (Tasker::Sidekiq does). Ready steps whose
    # handlers this engine lacks stay ready for another worker (`outcome.waiting_for_handlers` names them).
    # `traceparent` (W3C, e.g. from the job) makes this call's step spans children of the caller's span.
    def handle(uuid, traceparent: nil)
      Runner.new(self, uuid, handlers: @handlers, concurrency: @concurrency, pool: @pool, times: @handler_times,
                             worker_id: @worker_id, wall_clock: @wall_clock, traceparent: traceparent).run
    end

    # @api private
    def handle_pointer = native_handle

    # @api private: what a Tasker::Worker runs with (the registered handlers, this engine's worker id and clock).
    def worker_options = { handlers: @handlers.dup, worker_id: @worker_id, wall_clock: @wall_clock }

    private

    def native_handle
      raise InvalidHandleError, "the engine is closed" if @pointer.nil?

      check_process!("engine")
      @pointer
    end

    def call(name, payload, raw: false)
      text = raw ? payload : JSON.generate(payload)
      JSON.parse(Native.call_json(name, native_handle, text))
    end
  end
end
