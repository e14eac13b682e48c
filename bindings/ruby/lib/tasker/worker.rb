# frozen_string_literal: true

require "json"
require_relative "worker/step_runner"
require_relative "worker/heartbeats"
require_relative "worker/stats"

module Tasker
  # Worker mode: runs the engine's registered handlers on steps of any task, claimed from the store (PostgreSQL
  # shared by many worker processes, or the memory store in this process), without a queue.
  #
  #   engine = Tasker::Engine.new(database_url: ENV.fetch("DATABASE_URL"))
  #   engine.register_templates("config/tasker")
  #   engine.register_handlers(ValidateOrder, ReserveInventory, ProcessPayment, ShipOrder)
  #   Tasker::Worker.new(engine, concurrency: 8).run    # until SIGTERM/SIGINT or worker.stop; returns its Stats
  #
  # One claimer thread waits for work (tasker_work_claim, up to `wait_seconds` per call, so it notices a stop) for
  # as many steps as there are free slots (and, while steps are short, `prefetch` more, queued until a slot frees);
  # 2 × `concurrency` slot threads run them (at most `concurrency` at once, oldest claim first) with the runner
  # `Engine#handle` uses and report each, claiming the same task's next step in that call (queued behind the steps
  # claimed before it); a step's slot is free for another as soon as its handler returns, while its report is on its
  # way. Long steps are heartbeaten about every third of their lease. On stop it claims no more, lets the steps in
  # hand finish for `grace_seconds`, then ends the handlers still running and reports each (and each step still
  # queued) as a retryable WorkerShutdown failure: nothing stays claimed unreported.
  class Worker
    # The same defaults and option names (in each language's casing) in the Python, Ruby and Node workers.
    DEFAULT_CONCURRENCY = 8
    # Prefetch (by default as many as `concurrency`): steps claimed beyond the free slots, queued until a slot frees
    # (graphile-worker's local queue, Celery's prefetch multiplier). A claim across tasks costs about as much for 16
    # steps as for 8, so an 8-slot worker's claims of 16 cost half as much a step (two C# bench workers of 8 slots
    # against graphile-worker's defaults: 1.56–1.60× without, 2.11–2.46× with prefetch 8; docs/performance.md,
    # "Session 36"). Only while the handlers' mean run time is under this: a queued step's lease and deadline run
    # while it waits, and no other worker can take it before its lease runs out (after that, lease_if_ours checks
    # before it starts); under 10 ms a step waits about prefetch / concurrency × 10 ms. Until a step has finished, the
    # mean is unknown: none.
    PREFETCH_STEP_SECONDS = 0.01
    # A handler running this long stops the prefetch at once, not only once it returns and moves the mean: steps
    # claimed ahead would wait behind it with their leases running, and once those ran out this worker's own claims
    # would take them over, an attempt each, until the step failed without ever running. Well under any lease worth
    # having (its heartbeats come a third of it apart, at least 1 s), and long next to a short step's stall (a GC).
    PREFETCH_STOP_SECONDS = 1.0
    # How long one claim waits for work: a stop is noticed between claims, so this bounds how long an idle worker
    # takes to stop; work arriving meanwhile wakes the claim at once.
    DEFAULT_WAIT_SECONDS = 2
    MAX_WAIT_SECONDS = 60 # tasker_work_claim's limit
    MAX_CLAIM_STEPS = 10_000 # tasker_work_claim's limit on max_steps: claims in hand never exceed it
    DEFAULT_GRACE_SECONDS = 25 # Sidekiq's default; Kubernetes sends SIGKILL 30 s after SIGTERM
    DEFAULT_STATS_SECONDS = 60
    # How long a slot ended after the grace period gets to report its step before the worker reports it instead.
    REPORT_SECONDS = 5
    # How long the claimer gives busy slots to free up until all are free before claiming for a few: a claim across
    # tasks costs about as much for 8 steps as for 1 (the Python and Node workers wait as long, for all too). All, not
    # half: the slot threads take the GVL in turn, so slots free one by one, and claiming at half made claims of 4.4
    # steps where they now carry 7.5; at 2 × 8 that was a third more transactions a step (0.56 against 0.41 on the
    # 1-step template), and more of the server's CPU, for the same throughput (docs/performance.md, worker mode side
    # by side, "Ruby and Node workers"). With every slot free a claim goes at once.
    BATCH_WAIT_SECONDS = 0.01
    # Slot threads per slot. A thread gives its slot back when its handler returns, while its report is on its way, so
    # that another thread runs a step in hand in it meanwhile; with one thread a slot there seldom was one idle under
    # load (every other thread running a handler or reporting). With two there is one for every free slot while no
    # more reports than slots are on their way (docs/performance.md, "Session 32").
    THREADS_PER_SLOT = 2
    # After a failed claim (the database restarting, say), wait this long, doubling up to the maximum, before trying again.
    CLAIM_RETRY_SECONDS = 0.5
    MAX_CLAIM_RETRY_SECONDS = 30
    SIGNALS = %w[TERM INT].freeze

    # Blocks registered by files a `tasker-worker` config requires: called with the engine the command opens.
    def self.configure(&block)
      raise ArgumentError, "Tasker::Worker.configure needs a block: { |engine| engine.register_handler(...) }" unless block

      configurations << block
    end

    def self.configurations = (@configurations ||= [])

    attr_reader :concurrency, :prefetch, :worker_id, :stats

    def initialize(engine, concurrency: DEFAULT_CONCURRENCY, prefetch: nil, namespaces: nil,
                   wait_seconds: DEFAULT_WAIT_SECONDS, lease_seconds: nil, grace_seconds: DEFAULT_GRACE_SECONDS,
                   stats_seconds: DEFAULT_STATS_SECONDS, worker_id: nil, logger: nil)
      raise ValidationError, "concurrency must be an Integer of at least 1, not #{concurrency.inspect}" unless concurrency.is_a?(Integer) && concurrency >= 1
      unless prefetch.nil? || (prefetch.is_a?(Integer) && prefetch >= 0)
        raise ValidationError, "prefetch must be nil (as many as concurrency) or an Integer of at least 0, not #{prefetch.inspect}"
      end
      unless namespaces.nil? || (namespaces.is_a?(Array) && !namespaces.empty? && namespaces.all? { |n| (n.is_a?(String) || n.is_a?(Symbol)) && !n.empty? })
        raise ValidationError, "namespaces must be nil (every namespace) or a non-empty list of names, not #{namespaces.inspect}"
      end
      check_seconds(:wait_seconds, wait_seconds, positive: true, max: MAX_WAIT_SECONDS)
      check_seconds(:lease_seconds, lease_seconds, positive: true) unless lease_seconds.nil?
      check_seconds(:grace_seconds, grace_seconds)
      check_seconds(:stats_seconds, stats_seconds)

      options = engine.worker_options
      raise ValidationError, "the engine has no handlers: register_handler before starting a worker" if options[:handlers].empty?

      @engine = engine
      @handlers = options[:handlers]
      @wall_clock = options[:wall_clock]
      @worker_id = (worker_id || options[:worker_id]).to_s
      @concurrency = concurrency
      @prefetch = prefetch || concurrency
      @namespaces = namespaces&.map(&:to_s)
      @wait_seconds = wait_seconds
      @lease_seconds = lease_seconds
      @grace_seconds = grace_seconds
      @stats_seconds = stats_seconds
      @logger = logger
      @lock = Mutex.new
      @changed = ConditionVariable.new # for the claimer: claims given back, steps turned short, stopping
      @startable = ConditionVariable.new # for idle slot threads: a claim queued, a slot freed, the claimer gone
      # Claims in hand: queued, running in a slot, or reserved: for the claim on its way, or for the next step a report
      # on its way claims. Never more than `capacity` when the claim was sized.
      @held = 0
      @busy = 0                        # slots running a handler: never more than concurrency
      @since = {}                      # claim token => when its slot took it (monotonic), oldest first
      @reporting = 0                   # reports on their way (a burst worker is not idle while one is)
      @queue = []                      # claims waiting for a slot, oldest first
      @claiming = true                 # the claimer may still queue claims
      @mean_seconds = nil              # the handlers' mean run time, exponentially weighted (nil: none finished yet)
      @stopping = false
      @forced = false                  # no grace period: a second signal, stop(force: true), a closed engine
      @closing = false                 # the grace period is over: the queue was given up, late claims are too
      @signalled = false               # a signal came: the next one forces the stop
      @fatal = nil                     # the engine was closed under the worker: run raises it
      @stats = Stats.new
      @wake_reader, @wake_writer = IO.pipe
    end

    def logger = @logger || Tasker.logger

    # Runs until `stop` or SIGTERM/SIGINT (handled when `handle_signals`, by default when called on the main thread,
    # the only one Ruby delivers signals to; the previous handlers are restored after); returns the Stats once every
    # claimed step is reported. A second signal cuts the grace period short. `burst: true` stops as soon as no step
    # is ready and none runs (tests, batch jobs). Raises InvalidHandleError once down when the engine was closed under
    # it (it stops at once then, as the Python and Node workers do: a closed engine does not come back).
    def run(burst: false, handle_signals: Thread.current == Thread.main)
      if handle_signals && Thread.current != Thread.main
        raise ValidationError, "handle_signals: Ruby runs signal handlers on the main thread only: run the worker there, or pass handle_signals: false and call stop"
      end

      @lock.synchronize do
        raise InvalidStateError, "this worker has already run: make a new Tasker::Worker" if @started

        @started = true
      end
      @burst = burst
      previous = install_traps if handle_signals
      @heartbeats = Heartbeats.new(lease_seconds: @lease_seconds, logger: logger)
      @runners = Array.new(THREADS_PER_SLOT * @concurrency) do
        StepRunner.new(@engine, handlers: @handlers, worker_id: @worker_id, wall_clock: @wall_clock, lease_seconds: @lease_seconds,
                                heartbeats: @heartbeats, stats: @stats)
      end
      @slots = @runners.each_with_index.map { |runner, i| start_slot(runner, i) }
      @claimer = Thread.new { claim_loop }.tap { |thread| thread.name = "tasker-claimer" }
      logger.info(start_line)
      @stats.start
      watch
      shut_down
      logger.info("tasker-worker #{@worker_id} stopped: #{@stats.summary}")
      raise @fatal if @fatal

      @stats
    ensure
      @heartbeats&.stop
      previous&.each { |signal, handler| trap(signal, handler) }
      [@wake_reader, @wake_writer].each(&:close) if @started
    end

    # Asks a running worker to stop (any thread, or a signal handler: it only sets a flag and writes a byte to a pipe);
    # `force: true` gives running steps no grace period.
    def stop(force: false)
      @forced = true if force
      @wake_writer.write_nonblock(".", exception: false)
      nil
    rescue IOError # the worker has finished
      nil
    end

    def stopping? = @stopping

    private

    def install_traps = SIGNALS.to_h { |signal| [signal, trap(signal) { on_signal }] }

    # Only a signal sent before makes this one force the stop, not the worker's own stop (burst: no work left, a
    # handler's Exception).
    def on_signal
      stop(force: @signalled)
      @signalled = true
    end

    def start_line
      "tasker-worker #{@worker_id} started: concurrency #{@concurrency}, prefetch #{@prefetch}, " \
        "handlers #{@handlers.keys.sort.join(", ")}; namespaces #{@namespaces ? @namespaces.join(", ") : "all"}; " \
        "store #{store}; libtasker #{Tasker.library_version}; pid #{Process.pid}"
    end

    # From the engine's configuration, not Engine#health: health lists every unclaimed ready step, a query over the
    # whole queue (seconds of the database's CPU at each worker's start against a backlog).
    def store = @engine.store

    # The main thread: a throughput line every stats_seconds (0: none), until stop is asked for.
    def watch
      due = monotonic + @stats_seconds
      loop do
        return if wakes(@stats_seconds.zero? ? nil : due - monotonic)
        next if monotonic < due

        logger.info("tasker-worker #{@worker_id}: #{@stats.interval_line(running, @lock.synchronize { @queue.size })}")
        due = monotonic + @stats_seconds
      end
    end

    # True when `stop` was called (or a signal came) within `seconds` (nil: however long it takes).
    def wakes(seconds)
      return false unless IO.select([@wake_reader], nil, nil, seconds && [seconds, 0].max)

      @wake_reader.read_nonblock(64, exception: false)
      true
    end

    def running = @runners.count(&:in_handler?)

    # Stop claiming; let running steps finish within the grace period; then end the handlers still running (each
    # reports its step as a WorkerShutdown failure) and report in their place the steps of handlers that do not end.
    def shut_down
      @lock.synchronize do
        @stopping = true
        @changed.broadcast
      end
      logger.info("tasker-worker #{@worker_id} stopping: #{running} steps running, grace #{@grace_seconds} s")
      deadline = monotonic + @grace_seconds
      # The claimer always ends first (within wait_seconds): claims it gets while stopping still run or get reported.
      @claimer.join(@grace_seconds + @wait_seconds + REPORT_SECONDS)
      @slots.each do |thread|
        thread.join(0.05) until !thread.alive? || monotonic >= deadline || @forced
      end
      forced = @forced
      queued = take_queued
      busy = @slots.each_index.select { |i| @slots[i].alive? }
      return if busy.empty? && queued.empty?

      why = forced ? "forced stop" : "grace period over" # a forced stop gave no grace period
      # Counted by handler: a slot still alive may be idle, on its way out (a forced stop joins none), or reporting.
      logger.warn("tasker-worker #{@worker_id}: #{why}: ending #{running} running steps" \
                  "#{queued.empty? ? "" : " and #{queued.size} queued"} (retryable WorkerShutdown)")
      busy.each { |i| @slots[i].raise(Shutdown, "the worker is shutting down") }
      give_up(queued)
      reported_by = monotonic + REPORT_SECONDS
      busy.each do |i|
        next if @slots[i].join([reported_by - monotonic, 0].max)

        # A handler stuck where it cannot be interrupted (a native call): report its step from here. A report stuck on
        # its way is left alone: it may still land (a WorkerShutdown sent first would have the step run again), and
        # if it does not, the lease gives the step back.
        claim = @runners[i].current
        @runners[i].abandon(claim) if claim && @runners[i].in_handler?
      end
    end

    # Shutdown interrupts only a handler (StepRunner#run_handler): never a claim being reported. The thread is created
    # with Shutdown deferred, as it inherits the mask: one raised before its block began (a worker stopped at once,
    # its engine closed by its first claim) would otherwise end it unrescued, and re-raise in the join of shut_down.
    def start_slot(runner, index)
      Thread.handle_interrupt(Shutdown => :never) do
        Thread.new do
          Thread.current.name = "tasker-worker-#{index}"
          Thread.current.report_on_exception = false
          while (claim = next_claim)
            run_step(runner, claim)
          end
        rescue Shutdown
          nil
        rescue Exception => e # rubocop:disable Lint/RescueException -- its step is reported; stop rather than run short
          logger.fatal("tasker-worker #{@worker_id}: a handler raised #{e.class} (#{e.message}): stopping")
          stop
        end
      end
    end

    # Runs a claim in the slot next_claim took for it, and reports it. The slot is free again as soon as the handler
    # returns, before the report goes out: a step in hand starts in it meanwhile, on another thread, rather than the
    # slot idling through the report's commit (1-2 ms). The report claims the task's next step, one, in a place in
    # hand kept for it (but no slot). The other steps it makes ready go to the next work claim, which writes them with
    # other tasks' claims at once (one task's writes take turns, so follow-ups claimed by its reports cost a write
    # each; docs/performance.md). A completed last step ("steps_left" 0) has no next step: its report claims none.
    def run_step(runner, claim)
      in_slot = true # this thread's slot and place in hand, until the handler returns
      reserved = false # the place in hand kept for the step the report claims
      lease = lease_if_ours(runner, claim)
      return unless lease # the ensure frees its slot and place, as if it had never been taken

      claims, outcome = runner.run_claim(claim, lease) do |completed, seconds|
        handler_finished(seconds) if seconds
        @lock.synchronize do
          reserved = !@stopping && !(completed && claim["steps_left"] == 0)
          in_slot = false
          free_slot(claim)
          @reporting += 1
          free_place unless reserved
        end
        reserved ? 1 : 0
      end
      late = @lock.synchronize do
        # Past the grace period the queue was given up (take_queued): a step a late report claims is given up too, and
        # its place in hand freed below.
        next claims if @closing

        reserved = false unless claims.empty?
        # The claimed step takes the place kept for it, behind the queued claims: this thread goes on to next_claim,
        # which starts the oldest at once if a slot is free, so no other thread is woken for it.
        @queue.concat(claims)
        []
      end
      give_up(late)
      @stats.count(outcome)
      return unless outcome == :stale

      logger.warn("tasker-worker #{@worker_id}: the report of step #{step_name(claim)} was refused: its claim was no " \
                  "longer current (deadline passed, lease lost or task ended)")
      evaluate(claim)
    rescue StandardError => e
      # a report the engine did not take (database down...): the lease expires and a later claim retries the step
      @stats.count(:unreported)
      logger.error("tasker-worker #{@worker_id}: reporting step #{step_name(claim)} failed (#{e.class}: #{e.message}); " \
                   "it runs again once its lease expires")
    ensure
      @lock.synchronize do
        if in_slot # the handler did not return (Shutdown, an Exception), or did not start
          free_slot(claim)
        else
          @reporting -= 1
        end
        free_place if in_slot || reserved
      end
    end

    # When the lease of a step about to start runs out (a Time), or nil when the step may not start. A step claimed
    # ahead waits in hand with no heartbeat; once its lease runs out, another worker's claim may take it over. Then a
    # heartbeat asks the engine first: refused, the step is not run (stale) and its task is evaluated; failed (the
    # database), it is not run either (unreported), and the next claim of a worker with its handler takes it over. Not
    # with a manual clock, whose lease times mean nothing in real time. A refusal is never the shutdown's: it gives up
    # claims queued or in a running handler, not one in this check; the Shutdown it raises in the slot waits (deferred)
    # until the step's handler would start, and ends the step there: WorkerShutdown, not run (StepRunner#run_handler).
    def lease_if_ours(runner, claim)
      lease = Time.iso8601(claim["lease_expires_at"])
      # Ran out, not about to (the engine caps a lease at the step's deadline, so that is covered too): a fresh claim
      # with a short lease needs no round trip, and one that runs out after it started is heartbeaten in time (the
      # first beat comes at half what is left).
      return lease if !@wall_clock || lease > Time.now

      runner.heartbeat(claim, @lease_seconds) # its heartbeats go on from the new lease
    rescue StaleClaimError => e
      @stats.count(:stale)
      logger.warn("tasker-worker #{@worker_id}: step #{step_name(claim)} waited in hand past its lease or deadline and " \
                  "is no longer this worker's (#{e.message}); not run")
      evaluate(claim)
      nil
    rescue StandardError => e # unconfirmed, it may be another worker's
      @stats.count(:unreported)
      logger.error("tasker-worker #{@worker_id}: could not confirm the claim of step #{step_name(claim)}, which waited " \
                   "in hand past its lease (#{e.class}: #{e.message}); not run: its lease gives it back")
      nil
    end

    # The oldest queued claim, once a slot is free for it (handlers run `concurrency` at once, however many claims are
    # in hand); nil once the claimer has stopped and none is left.
    def next_claim
      @lock.synchronize do
        until !@queue.empty? && @busy < @concurrency
          return nil if @queue.empty? && !@claiming

          @startable.wait(@lock)
        end
        @busy += 1
        claim = @queue.shift
        @since[claim["claim_token"]] = monotonic
        @startable.broadcast if @queue.empty? && !@claiming # the other idle threads end
        claim
      end
    end

    # The claim's slot is free (lock held): the oldest queued claim may start in it. A step that held it long held the
    # prefetch back: the claimer may claim more now.
    def free_slot(claim)
      @busy -= 1
      @startable.signal
      @changed.broadcast if monotonic - @since.delete(claim["claim_token"]) >= PREFETCH_STOP_SECONDS && prefetching?
    end

    # A place in hand is free (lock held): the claimer may claim for it.
    def free_place
      @held -= 1
      @changed.broadcast
    end

    # Keeps the handlers' mean run time, which decides whether to prefetch; recent runs weigh most (1/8 each).
    def handler_finished(seconds)
      @lock.synchronize do
        short = short_steps?
        @mean_seconds = @mean_seconds ? @mean_seconds + (seconds - @mean_seconds) / 8 : seconds
        @changed.broadcast if short_steps? && !short # the claimer may claim more now
      end
    end

    def short_steps? = !@mean_seconds.nil? && @mean_seconds < PREFETCH_STEP_SECONDS

    # How many claims the worker may hold (lock held): its slots, and its prefetch while steps are short and none has
    # held its slot PREFETCH_STOP_SECONDS (the oldest is first in @since: slots take claims under the lock).
    def capacity = [@concurrency + (prefetching? ? @prefetch : 0), MAX_CLAIM_STEPS].min

    def prefetching? = short_steps? && (@since.empty? || monotonic - @since.first[1] < PREFETCH_STOP_SECONDS)

    # Once the grace period is over: the claims still queued, which no slot starts now.
    def take_queued
      @lock.synchronize do
        @closing = true
        queued = @queue.shift(@queue.size)
        @startable.broadcast # the idle threads end
        queued
      end
    end

    # Reports queued claims as retryable WorkerShutdown failures, as the slots report the steps they end.
    def give_up(claims)
      claims.each do |claim|
        @runners.first.abandon(claim, message: "the worker shut down (its grace period ended) before this step ran")
      rescue Error => e
        @stats.count(:unreported)
        logger.error("tasker-worker #{@worker_id}: reporting queued step #{step_name(claim)} as WorkerShutdown failed " \
                     "(#{e.class}: #{e.message}); it runs again once its lease expires")
      end
    end

    def step_name(claim) = "'#{claim.dig("step", "name")}' of task #{claim.dig("task", "task_uuid")}"

    # As `handle` claims once more then: evaluating the task records what happened to the stale claim (the attempt's
    # Timeout) now, and makes the step ready for its next attempt.
    def evaluate(claim)
      @engine.evaluate(claim.dig("task", "task_uuid"))
    rescue Error => e
      logger.warn("tasker-worker #{@worker_id}: evaluating task #{claim.dig("task", "task_uuid")} failed: #{e.class}: #{e.message}")
    end

    def check_seconds(name, value, positive: false, max: nil)
      ok = value.is_a?(Numeric) && value.to_f.finite? && (positive ? value.positive? : value >= 0) && (max.nil? || value <= max)
      return if ok

      range = "#{positive ? "more than 0" : "at least 0"}#{max ? " and at most #{max}" : ""}"
      raise ValidationError, "#{name} must be a number of seconds, #{range}, not #{value.inspect}"
    end

    # tasker_work_claim also takes over steps whose lease expired (a worker died holding them).
    def claim_loop
      retry_seconds = CLAIM_RETRY_SECONDS
      until (taken = take_free).nil?
        slots, idle = taken
        begin
          claims = work_claim(slots)
          retry_seconds = CLAIM_RETRY_SECONDS
        rescue Error => e
          # Closed, the engine never comes back: stop at once (as in Python and Node). Whatever the error: a claim in
          # flight when the engine closed may fail otherwise (its wait cancelled), and a retry would log a second error.
          if @engine.closed?
            @fatal = InvalidHandleError.new("the engine was closed while worker #{@worker_id} ran: stop the worker first")
            logger.error("tasker-worker #{@worker_id}: #{@fatal.message}")
            stop(force: true)
            break
          end
          logger.error("tasker-worker #{@worker_id}: claiming work failed (#{e.class}: #{e.message}); trying again in #{retry_seconds} s")
          give_back(slots)
          @lock.synchronize { @changed.wait(@lock, retry_seconds) unless @stopping }
          retry_seconds = [retry_seconds * 2, MAX_CLAIM_RETRY_SECONDS].min
          next
        end
        give_back(slots - claims.size)
        hand_out(claims)
        next unless @burst && idle && claims.empty?

        logger.info("tasker-worker #{@worker_id}: no work left (burst)")
        stop
        @lock.synchronize { @changed.wait(@lock) until @stopping } # the main thread sets it
      end
    rescue Exception => e # rubocop:disable Lint/RescueException -- a worker that cannot claim must stop, not hang
      logger.fatal("tasker-worker #{@worker_id}: the claimer stopped: #{e.class}: #{e.message}")
      stop
    ensure
      @lock.synchronize do
        @claiming = false
        @startable.broadcast # idle threads end once nothing is queued
      end
    end

    def work_claim(max_steps)
      request = { handlers: @handlers.keys, max_steps: max_steps, wait_seconds: @wait_seconds, worker_id: @worker_id }
      request[:namespaces] = @namespaces if @namespaces
      request[:lease_seconds] = @lease_seconds if @lease_seconds
      JSON.parse(Native.call_json(:tasker_work_claim, @engine.handle_pointer, JSON.generate(request)), max_nesting: false)["claims"]
    end

    # Reserves what the worker may still claim (all of it: up to its capacity) for the claimer, waiting for some;
    # nil once stopping. Also whether the worker was idle: nothing running, queued or on its way (a burst worker
    # stops if nothing comes). It gives claims in hand up to BATCH_WAIT_SECONDS to be done until none are: a claim
    # across tasks costs about as much for 8 steps as for 1, so claiming for one slot at a time wastes it. A step that
    # runs on holds a free slot back no longer.
    def take_free
      @lock.synchronize do
        loop do
          @changed.wait(@lock) while @held >= capacity && !@stopping
          batch_until = monotonic + BATCH_WAIT_SECONDS
          while @held.positive? && !@stopping && (left = batch_until - monotonic).positive?
            @changed.wait(@lock, left)
          end
          return nil if @stopping

          free = capacity - @held
          next unless free.positive? # the steps turned long meanwhile: fewer may be in hand

          idle = @held.zero? && @reporting.zero?
          @held += free
          return [free, idle]
        end
      end
    end

    def give_back(slots)
      return if slots.zero?

      @lock.synchronize do
        @held -= slots
        @changed.broadcast
      end
    end

    # Queues the claimer's claims for the slots, which start them as they free.
    def hand_out(claims)
      @lock.synchronize do
        @queue.concat(claims)
        claims.size.times { @startable.signal }
      end
    end

    def monotonic = Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end
end
