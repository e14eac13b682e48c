# frozen_string_literal: true

require "json"
require "time"
require_relative "runner/reports"

module Tasker
  # One `Engine#handle` call: the step loop every binding runs (docs/c-abi.md), with no policy of its own. Claim
  # up to `concurrency` steps naming the registered handlers; run them; report them as they finish (those that
  # finished together in one call), claiming the task's next steps in the same call (as many as there are free
  # slots); return the last outcome once nothing is running and nothing is claimed. What the outcome means (requeue
  # or not) is the core's decision.
  class Runner
    include Reports
    # A report's handler run, `{"started_at":..., "finished_at":..., "attributes":{...}}`, with its times as Unix
    # seconds (the core takes a number or RFC 3339 text). They are written as integer microseconds with an exponent
    # (1796166943820593e-6, a JSON number): formatting two Floats (Float#to_s) cost more than a no-op handler, as
    # formatting RFC 3339 text did before. JSON.generate calls to_json for it.
    HandlerRun = Struct.new(:started_us, :finished_us, :attributes) do
      def to_json(*)
        attributes = self.attributes.empty? ? "{}" : JSON.generate(self.attributes)
        %({"started_at":#{started_us}e-6,"finished_at":#{finished_us}e-6,"attributes":#{attributes}})
      end
    end

    # `times`: the engine's HandlerTimes, which decides which steps run on this thread; nil for a worker slot, whose
    # steps all run on its own thread.
    def initialize(engine, task_uuid, handlers:, concurrency:, pool:, worker_id:, times:, wall_clock: true,
                   traceparent: nil)
      @engine = engine
      @times = times
      @wall_clock = wall_clock
      @task_uuid = task_uuid.to_s
      @handlers = handlers
      @concurrency = concurrency
      @pool = pool
      @traceparent = traceparent
      @claim_next = { handlers: handlers.keys, worker_id: worker_id }
      @claim_next_json = {} # by max_steps: a report's claim_next, generated once per count
      @finished = Queue.new
      @unstarted = Queue.new
      @failure = nil # the first error reporting a step (first_error_kept)
      @task = nil # the task as its first claim carries it: a report's claims (lean) leave out its names (`claimed`)
    end

    # Returns the task's Outcome; a handler's exception or refused result is the step's failure, never raised here.
    def run
      pending = claim(@concurrency)
      running = 0
      until pending.empty? && running.zero?
        if running.zero? && (pending.size == 1 || all_quick?(pending))
          # One step and nothing else, or only quick ones: run them on this thread, with no hand-off, and report
          # them together (one crossing for the wave). A step with a deadline is reported as soon as it is done,
          # and a handler that blocked (no longer quick) ends the wave: the steps after it are not run one by one.
          reports = []
          while !pending.empty? && (reports.empty? || @times.quick?(pending.first["step"]["handler"]))
            claim = pending.shift
            reports << perform(claim)
            break if claim["deadline_at"]
          end
        else
          # Steps of quick handlers stay here, the others go to the pool (while this thread runs a quick one).
          pending, slow = pending.partition { |claim| @times.quick?(claim["step"]["handler"]) }
          slow.each { |claim| start(claim) }
          running += slow.size
          # Pool steps that finished are reported before the next quick step runs (their leases run on meanwhile),
          # all of them in one call; with none finished, a quick step runs here, or this thread waits for one.
          reports = pending.empty? ? [wait] : []
          while (report = finished)
            reports << report
          end
          running -= reports.size
          reports << perform(pending.shift) if reports.empty?
        end
        alone = running.zero? && pending.empty?
        free = @failure ? 0 : @concurrency - running - pending.size
        pending.concat(first_error_kept { deliver_all(reports, free: free, alone: alone) })
      end
      raise @failure if @failure

      Outcome.from_json(@outcome)
    end

    private

    def all_quick?(claims) = claims.all? { |claim| @times.quick?(claim["step"]["handler"]) }

    def claim(max_steps)
      request = @claim_next.merge(task_uuid: @task_uuid, max_steps: max_steps)
      request[:traceparent] = @traceparent if @traceparent
      answer = call(:tasker_steps_claim, JSON.generate(request))
      @outcome = answer["outcome"]
      claims = answer["claims"]
      @task = claims.first["task"] unless claims.empty?
      claims
    end

    # A pool thread takes the claim, unless this thread took it first (see `wait`).
    def start(claim)
      @unstarted << claim
      @pool.post do
        claim = take(@unstarted)
        @finished << perform(claim) if claim
      rescue Exception => e # rubocop:disable Lint/RescueException -- the waiting `handle` re-raises it
        @finished << e
      end
    end

    # The next finished step's report. With none finished yet and a claim no pool thread has taken (they are still
    # waking up), this thread runs it: waking a thread costs more than a short handler.
    def wait
      report = take(@finished) || ((claim = take(@unstarted)) && perform(claim)) || HandlerWrapper.wait { @finished.pop }
      raise report if report.is_a?(Exception)

      report
    end

    # A pool step's report if one has finished, else nil; what a pool thread could not report is raised here.
    def finished
      report = take(@finished)
      raise report if report.is_a?(Exception)

      report
    end

    # The empty? check first: most looks find the queue empty, and pop(true) says so by raising (~1 µs). A pool
    # thread may still empty @unstarted in between, hence the rescue.
    def take(queue)
      queue.empty? ? nil : queue.pop(true)
    rescue ThreadError
      nil
    end

    # Runs the claim's handler; returns its report: [function, request JSON without claim_next, claim reference].
    def perform(claim)
      context = StepContext.from_claim(claim, heartbeat: heartbeat_for(claim), wall_clock: @wall_clock,
                                                task_loader: task_loader_for(claim))
      registered = @handlers.fetch(context.step.handler)
      handler = registered.is_a?(Class) ? registered.new : registered
      started = now
      started_monotonic = Process.clock_gettime(Process::CLOCK_MONOTONIC, :microsecond)
      begin
        output = run_handler(handler, context)
      ensure
        # when and how the handler ran: the report turns it into a tasker.handler span. Its length comes from the
        # monotonic clock: a wall clock stepped back meanwhile (NTP) would end it before it began.
        finished = started + Process.clock_gettime(Process::CLOCK_MONOTONIC, :microsecond) - started_monotonic
        run = HandlerRun.new(started, finished, context.attributes)
      end
      ref = reference(claim, run)
      [:tasker_step_complete, completion(ref, JsonValue.convert(output, "result")), ref]
    rescue JSON::GeneratorError, Encoding::UndefinedConversionError => e
      Thread.current[:tasker_json_state] = nil
      failure(claim, TypeError.new("step result is not JSON-serializable: #{e.message}"), run)
    rescue StandardError, SystemStackError => e
      failure(claim, e, run)
    end

    # Context#fetch_task: one engine call, made only if the handler asks (a Rails Tasker sequence looking past the
    # step's direct dependencies).
    def task_loader_for(claim)
      uuid = claim.fetch("task").fetch("task_uuid")
      -> { @engine.get_task(uuid) }
    end

    # The one place a handler runs, inside the handler wrappers (the Rails executor, APM: tasker/handler_wrapper.rb).
    def run_handler(handler, context)
      HandlerWrapper.call(context) do
        next handler.process_results(handler.process(context)) unless @times

        @times.time(context.step.handler) { handler.process_results(handler.process(context)) }
      end
    end

    def call(function, text) = JSON.parse(Native.call_json(function, @engine.handle_pointer, text), max_nesting: false)

    # What every report of this claim carries: the step, its token, the caller's traceparent and the handler run.
    def reference(claim, run = nil)
      ref = { task_uuid: claim["task"]["task_uuid"], step_uuid: claim["step"]["step_uuid"], claim_token: claim["claim_token"] }
      ref[:traceparent] = @traceparent if @traceparent
      ref[:handler] = run if run
      ref
    end

    def failure(claim, error, run)
      FailureLog.step_failed(claim, error) # the host's log sees it too (tasker/failure_log.rb)
      message = error.message.to_s
      body = { message: utf8(message.empty? ? error.class.to_s : message), error_type: error.class.to_s,
               permanent: error.is_a?(PermanentError), backtrace: (error.backtrace || []).map { |frame| utf8(frame) } }
      retry_after = error.retry_after if error.is_a?(RetryableError)
      body[:retry_after_seconds] = retry_after if retry_after.is_a?(Numeric) && retry_after.to_f.finite? && retry_after >= 0
      ref = reference(claim, run)
      [:tasker_step_fail, JSON.generate(ref.merge(error: body)), ref]
    end

    def heartbeat_for(claim)
      lambda do |lease_seconds|
        # built here, not per step: most steps never beat
        request = { task_uuid: claim["task"]["task_uuid"], step_uuid: claim["step"]["step_uuid"], claim_token: claim["claim_token"] }
        answer = call(:tasker_step_heartbeat, JSON.generate(lease_seconds ? request.merge(lease_seconds: lease_seconds) : request))
        Time.iso8601(answer["lease_expires_at"])
      end
    end

    # Failure text goes to the core whole (it cuts it); it only has to be UTF-8.
    def utf8(text)
      text = text.encode(Encoding::UTF_8, invalid: :replace, undef: :replace) unless [Encoding::UTF_8, Encoding::BINARY, Encoding::US_ASCII].include?(text.encoding)
      text = text.dup.force_encoding(Encoding::UTF_8)
      text.valid_encoding? ? text : text.scrub
    end

    # A completion request, written directly: generating the whole Hash (calling HandlerRun#to_json from C) took a
    # tenth of a no-op step. The uuids and token are the engine's own (ASCII, nothing to escape); the result and
    # the traceparent go through JSON.generate.
    def completion(ref, result)
      json = +%({"task_uuid":"#{ref[:task_uuid]}","step_uuid":"#{ref[:step_uuid]}","claim_token":"#{ref[:claim_token]}")
      json << %(,"traceparent":#{JSON.generate(ref[:traceparent])}) if ref[:traceparent]
      json << %(,"handler":#{ref[:handler].to_json},"result":)
      json << (result.nil? ? "null" : JSON.generate(result, generator)) << "}"
    end

    # This thread's JSON::State (max_nesting: false: the core judges a result's depth) for the completion requests:
    # JSON.generate(obj, options) builds and configures a State on every call, which took a third of generating the
    # request. Not shared between threads: a State keeps buffers (and its depth) while it generates, and a to_json
    # written in Ruby (HandlerRun's) lets another thread run meanwhile. A generate that raised may leave them
    # half-way: `perform` drops the State then.
    def generator = Thread.current[:tasker_json_state] ||= JSON::State.new(max_nesting: false)

    # Microseconds since the Unix epoch (a HandlerRun's times).
    def now = Process.clock_gettime(Process::CLOCK_REALTIME, :microsecond)
  end
end
