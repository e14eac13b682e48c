# frozen_string_literal: true

require "json"
require "time"

module Tasker
  # Handles from libtasker belong to the process that opened them: its .NET runtime does not survive fork.
  module ForkGuard
    private

    def check_process!(what)
      return if Process.pid == @pid

      raise Error, "this #{what} was opened in process #{@pid} and cannot be used after fork; " \
                   "open a new engine in each worker process"
    end
  end

  # Converts a handler's output (or a task context) to plain JSON values, refusing what JSON cannot represent
  # instead of writing its `to_s`. Symbols become strings; objects with `as_json` (ActiveSupport) are converted.
  module JsonValue
    MAX_DEPTH = 100 # as JSON.generate's max_nesting; also stops a cycle

    module_function

    def convert(value, path, depth = 0)
      raise TypeError, "#{path} nests deeper than #{MAX_DEPTH} levels (a cycle?)" if depth > MAX_DEPTH

      case value
      when nil, true, false, String, Integer then value
      when Float then value.finite? ? value : raise(TypeError, "#{path} is #{value}, which JSON cannot represent")
      when Symbol then value.to_s
      when Hash then value.to_h { |key, item| [key_text(key, path), convert(item, "#{path}.#{key}", depth + 1)] }
      when Array then value.each_with_index.map { |item, index| convert(item, "#{path}[#{index}]", depth + 1) }
      else
        raise TypeError, "#{path} is a #{value.class}, which is not JSON-serializable" unless value.respond_to?(:as_json)

        convert(value.as_json, path, depth + 1)
      end
    end

    def key_text(key, path)
      return key.to_s if key.is_a?(String) || key.is_a?(Symbol)

      raise TypeError, "#{path} has a #{key.class} key (#{key.inspect}); JSON object keys are strings"
    end
  end

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
  class Engine
    include ForkGuard

    def self.open(**options)
      engine = new(**options)
      return engine unless block_given?

      begin
        yield engine
      ensure
        engine.close
      end
    end

    def initialize(database_url: nil, threads: 8, worker_id: nil, **config)
      raise ValidationError, "threads must be at least 1" if threads < 1

      config[:database_url] = database_url if database_url
      @pointer = FFI::AutoPointer.new(Native.open_engine(JSON.generate(config)), Native::Releaser.new(:tasker_engine_free))
      @pid = Process.pid
      @threads = threads
      @worker_id = worker_id || "ruby-#{Process.pid}"
      @handlers = {}
    end

    def close
      return if @pointer.nil?

      pointer = @pointer
      @pointer = nil
      pointer.autorelease = false
      Native.check!(Native.tasker_engine_free(pointer)) if Process.pid == @pid
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
      answer = call(:tasker_task_create, request)
      Task.new(answer["task"]).tap { |task| task.created = answer["created"] }
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

    # Runs the task's ready steps (up to `threads` at once) until none are ready; returns the Outcome. Re-enqueue
    # the task after `delay_seconds` when `action == "reenqueue"`. `traceparent` (W3C, e.g. from the job) makes
    # this call's step spans children of the caller's span.
    def handle(uuid, traceparent: nil)
      outcome = evaluate(uuid)
      while outcome.action == "execute"
        request = { task_uuid: uuid, max_steps: @threads, worker_id: @worker_id }
        request[:traceparent] = traceparent if traceparent
        claims = call(:tasker_steps_claim, request)["claims"]
        claims.each { |claim| claim["_traceparent"] = traceparent } if traceparent
        run_wave(claims)
        outcome = evaluate(uuid)
      end
      outcome
    end

    # @api private
    def handle_pointer = native_handle

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

    def run_wave(claims)
      return report(run_step(claims.first)) if claims.size == 1

      queue = Queue.new
      claims.each { |claim| queue << claim }
      workers = Array.new([@threads, claims.size].min) do
        Thread.new do
          while (claim = begin
            queue.pop(true)
          rescue ThreadError
            nil
          end)
            report(run_step(claim))
          end
        end
      end
      workers.each(&:join)
    end

    def run_step(claim)
      context = StepContext.from_claim(claim)
      registered = @handlers[context.step.handler]
      return unknown_handler(claim, context) if registered.nil?

      handler = registered.is_a?(Class) ? registered.new : registered
      started = now
      begin
        output = HandlerWrapper.call(context) { handler.process_results(handler.process(context)) } # tasker/handler_wrapper.rb
      ensure
        # when and how the handler ran: the report turns it into a tasker.handler span
        claim["_handler_run"] = { started_at: started, finished_at: now, attributes: context.attributes }
      end
      output = JsonValue.convert(output, "result")
      [:tasker_step_complete, JSON.generate(claim_ref(claim).merge(result: output))]
    rescue JSON::GeneratorError, Encoding::UndefinedConversionError => e
      failure(claim, TypeError.new("step result is not JSON-serializable: #{e.message}"))
    rescue StandardError => e
      failure(claim, e)
    end

    def report((name, payload))
      Native.call_json(name, native_handle, payload)
    rescue StaleClaimError
      nil # the lease expired and another worker owns the step now
    end

    # What every report of this claim carries: the step, its token, and (when known) the caller's traceparent and
    # the handler run.
    def claim_ref(claim)
      ref = { task_uuid: claim["task"]["task_uuid"], step_uuid: claim["step"]["step_uuid"], claim_token: claim["claim_token"] }
      ref[:traceparent] = claim["_traceparent"] if claim["_traceparent"]
      ref[:handler] = claim["_handler_run"] if claim["_handler_run"]
      ref
    end

    def now = Time.now.utc.iso8601(6)

    def failure(claim, error)
      body = { message: error.message.to_s.empty? ? error.class.name : error.message, error_type: error.class.name,
               permanent: error.is_a?(PermanentError), backtrace: (error.backtrace || []).first(50) }
      body[:retry_after_seconds] = error.retry_after if error.is_a?(RetryableError) && error.retry_after
      [:tasker_step_fail, JSON.generate(claim_ref(claim).merge(error: body))]
    end

    def unknown_handler(claim, context)
      error = { message: "no handler registered for #{context.step.handler.inspect} (step #{context.step.name.inspect})",
                error_type: "UnknownHandler", permanent: true }
      [:tasker_step_fail, JSON.generate(claim_ref(claim).merge(error: error))]
    end
  end

  # Pulled batches of events (see docs/events.md). `each` yields what is buffered now; `dropped` counts overflow.
  class Subscription
    include Enumerable
    include ForkGuard
    attr_reader :dropped

    def initialize(engine, pattern, capacity)
      pointer = Native.open_subscription(engine.handle_pointer, pattern.to_s, capacity)
      @pointer = FFI::AutoPointer.new(pointer, Native::Releaser.new(:tasker_subscription_free))
      @pid = Process.pid
      @dropped = 0
    end

    def pull(max_events = 1000)
      raise InvalidHandleError, "the subscription is closed" if @pointer.nil?

      check_process!("subscription")
      batch = JSON.parse(Native.pull(@pointer, max_events))
      @dropped = batch["dropped"]
      batch["events"]
    end

    def each(&block)
      while (events = pull).any?
        events.each(&block)
      end
    end

    def close
      @pointer&.free
      @pointer = nil
    end
  end
end
