'use strict';
// Worker mode: `new tasker.Worker(engine)` pulls ready steps of the engine's registered handlers from every task
// (tasker_work_claim, which waits for work: PostgreSQL LISTEN/NOTIFY, or an in-process wake on the memory store), runs
// them with handle()'s runner (runner.js: same context, deadline, AbortSignal and failure reports) and reports each,
// going on with the same task in the same call (claim_next) when a next step of it is ready. No queue needed.
//
// One event loop, so no locks: the claimer is one async loop; each claim in hand is a step running, a step claimed
// ahead waiting for a slot, or a report on its way. Claims in hand never exceed the capacity (`concurrency`, plus
// `prefetch` while steps are short): a claim or a report reserves what it may fill before it asks the engine.
// Handlers running never exceed `concurrency`: a step claimed ahead starts when a slot frees, in the order claimed.
// The waiting claim runs on a koffi worker thread (its async form): the event loop never blocks.
const { InvalidHandleError, StaleClaimError, ValidationError } = require('./errors');
const { Engine, WORKER_HOST } = require('./engine');
const { ABORT } = require('./model');
const { heartbeat, runStep, withTaskNames } = require('./runner');
const { report } = require('./report');
const { crowdingWarned, shortfall, threadPoolSize, threadsFor } = require('./thread-pool');

// The same defaults and option names (in each language's casing) in the Python, Ruby and Node workers.
const DEFAULT_CONCURRENCY = 8;
const MAX_CONCURRENCY = 10000; // tasker_work_claim's max_steps limit
// Prefetch: steps claimed beyond the free slots, held until a slot frees (graphile-worker's local queue, Celery's
// prefetch). A claim across tasks costs about as much for 16 steps as for 8, so an 8-slot worker's claims of 16 cost
// half as much a step (two C# workers of 8 slots: 1.56-1.60x graphile-worker's defaults without, 2.11-2.46x with;
// docs/performance.md, "Session 36"). Only while steps are short: a step claimed ahead has its lease and deadline
// running while it waits, and no other worker can take it before its lease runs out (after that, #confirmThenRun
// checks before it starts). While the handlers' mean run time is under this, it waits about prefetch / concurrency
// times that; until a step has run, the mean is unknown and nothing is claimed ahead.
const PREFETCH_STEP_MS = 10;
// A handler running this long stops the prefetch at once, not only once it returns and moves the mean: steps claimed
// ahead would wait behind it with their leases running, and once those ran out this worker's own claims would take them
// over, an attempt each, until the step failed without ever running. Well under any lease worth having (its heartbeats
// come a third of it apart, at least 1 s), and long next to a short step's stall (a garbage collection).
const PREFETCH_STOP_MS = 1000;
// The weight of each run in that mean (the same in the three workers): about the last 8 runs count, so steps that
// turn long stop the prefetch within a few runs.
const MEAN_RUN_WEIGHT = 1 / 8;
const DEFAULT_GRACE_SECONDS = 25; // Sidekiq's default; Kubernetes sends SIGKILL 30 s after SIGTERM
// How long one claim waits for work. A stop is noticed between claims, so this bounds how long a shutdown waits for
// the last claim's answer; work arriving meanwhile wakes the claim at once.
const DEFAULT_WAIT_SECONDS = 2;
const MAX_WAIT_SECONDS = 60; // tasker_work_claim's limit
const DEFAULT_STATS_SECONDS = 60;
// A running step's lease is extended every third of the lease it was claimed with (not of what is left of it): two
// heartbeats may be lost (a slow database) before the lease expires and another worker takes the step. At least 1 s
// apart, but at most half the lease (a lease under 2 s).
const HEARTBEAT_FRACTION = 1 / 3;
const MIN_HEARTBEAT_MS = 1000;
const heartbeatIntervalMs = (leaseMs) => Math.min(Math.max(leaseMs * HEARTBEAT_FRACTION, MIN_HEARTBEAT_MS), leaseMs / 2);
const HEARTBEAT_RETRY_MS = 1000;
// After a claim fails (database unreachable), wait this long, doubling up to the maximum, before claiming again.
const CLAIM_RETRY_MS = 500;
// How long the claimer gives busy slots to free up until all are free before claiming for a few: a claim across tasks
// costs about as much for 8 steps as for 1 (the Python and Ruby workers wait as long, for all too). All, as they do,
// not half: where steps end together (a claim's quick handlers all return in one turn of the event loop) every slot is
// free by the time the claimer looks, so it changes nothing (claims of 8 steps, the same transactions a step at 2 × 8);
// where they end one by one it makes fewer, fuller claims (the Ruby workers' went from 4.4 steps to 7.5, the Python
// workers' likewise: docs/performance.md, worker mode side by side, "Ruby and Node workers"). With every slot free a
// claim goes at once.
const BATCH_WAIT_MS = 10;
const MAX_CLAIM_RETRY_MS = 30000;
// The ticker that drives the throughput line and keeps the process alive while the worker runs. (Steps whose lease
// expired because their worker died need nothing from here: a claim across tasks takes them over.)
const TICK_MS = 200;
// How long a shutdown waits for reports already on their way (one statement each) once the grace period is over.
const REPORT_DRAIN_MS = 10000;
// With synchronous memory-store calls, reports and the steps they claim could chain in microtasks for a long time:
// yield to the event loop (timers, signals) at least this often.
const YIELD_MS = 2;

/** The error_type of steps a stopping worker gives up: retryable, retried at once by another worker. */
const SHUTDOWN_ERROR_TYPE = 'WorkerShutdown';

const yieldToEventLoop = () => new Promise((resolve) => setImmediate(resolve));
const stepName = (claim) => `'${claim.step.name}' of task ${claim.task.task_uuid}`;

function seconds(name, value, { min = 0, max = Infinity, exclusiveMin = false } = {}) {
  const ok = typeof value === 'number' && Number.isFinite(value) && (exclusiveMin ? value > min : value >= min) && value <= max;
  if (!ok) {
    const range = `${exclusiveMin ? 'more than' : 'at least'} ${min}${max === Infinity ? '' : ` and at most ${max}`}`;
    throw new ValidationError(`${name} must be a number of seconds, ${range}, not ${String(value)}`);
  }
  return value;
}

function checkLogger(logger) {
  const missing = ['info', 'warn', 'error'].filter((level) => typeof logger?.[level] !== 'function');
  if (missing.length > 0) {
    throw new ValidationError(`logger must have info, warn and error methods (console, pino, winston, ...); it lacks ${missing.join(', ')}`);
  }
  return logger;
}

/**
 * What a worker did: steps `completed`, `failed` (handler failures, refused results), `shutdown` (given up at
 * shutdown, reported as WorkerShutdown), `stale` (reports refused: the claim was no longer current; or a step claimed
 * ahead, not run: its lease ran out in hand and the engine refused it, taken over by another worker or past its
 * deadline) and `unreported` (the report itself failed, or the claim of such a step could not be confirmed: the step's
 * lease gives it to the next claim).
 */
class WorkerStats {
  completed = 0;
  failed = 0;
  shutdown = 0;
  stale = 0;
  unreported = 0;
  #started = performance.now();
  #mark = this.#started;
  #marked = 0;

  get steps() {
    return this.completed + this.failed;
  }

  /** @internal */
  start() {
    this.#started = performance.now();
    this.#mark = this.#started;
  }

  /** The throughput since the last call: `N steps in S s (R steps/s), F failed in all, K running, Q claimed ahead`. */
  intervalLine(running, ahead = 0) {
    const now = performance.now();
    const steps = this.steps - this.#marked;
    const elapsed = (now - this.#mark) / 1000;
    this.#marked = this.steps;
    this.#mark = now;
    return `${steps} steps in ${elapsed.toFixed(1)} s (${rate(steps, elapsed)} steps/s), ${this.failed} failed in all, ${running} running, ` +
      `${ahead} claimed ahead`;
  }

  summary() {
    const elapsed = (performance.now() - this.#started) / 1000;
    return `${this.steps} steps in ${elapsed.toFixed(1)} s (${rate(this.steps, elapsed)} steps/s): ${this.completed} completed, ` +
      `${this.failed} failed, ${this.shutdown} reported as ${SHUTDOWN_ERROR_TYPE}, ${this.stale} stale, ${this.unreported} unreported`;
  }

  toJSON() {
    const { completed, failed, shutdown, stale, unreported } = this;
    return { steps: this.steps, completed, failed, shutdown, stale, unreported };
  }
}

const rate = (steps, elapsed) => (elapsed > 0 ? steps / elapsed : 0).toFixed(1);

/**
 * Runs the ready steps of an engine's registered handlers, from any task, `concurrency` at a time, until `stop()` or
 * SIGTERM/SIGINT. See the README ("Worker mode") and index.d.ts for the options.
 */
class Worker {
  #engine;
  #host; // the engine's calls and handler snapshot (engine.js WORKER_HOST), once run() starts
  #claimRequest;
  #logger;
  #started = false;
  #stopping = false;
  #forced = false;
  #signalled = false; // a signal came: the next one forces the stop (not after the worker's own stop)
  #closing = false; // the grace period is over: claims still in hand are reported as WorkerShutdown
  #stopRequested; // resolves when stop() is first called
  #requestStop;
  #done; // settles when run() is over
  #finished;
  #running = new Map(); // claim token -> { claim, since, ctx, timer, abandoned }, in the order the slots took them
  #queued = []; // claims taken ahead (prefetch), first claimed first: each starts when a slot frees
  #reserved = 0; // claims promised to a claim or a report's claim_next on its way to the engine
  #meanRunMs; // the handlers' mean run time, exponentially weighted (undefined: none ran yet)
  #reporting = 0; // reports on their way to the engine
  #claiming = false;
  #changed = []; // resolvers waiting for the next change (a step finished, a report returned, a stop)
  #fatal; // an error that ended the worker (the engine was closed under it): run() rejects with it
  #lastYield = performance.now();
  /** What this worker did so far (a WorkerStats). */
  stats = new WorkerStats();

  /**
   * `engine`: a tasker.Engine whose handlers are registered (or pass them as `handlers`). options: `concurrency`
   * (steps at once, default 8), `prefetch` (steps claimed beyond the free slots while steps are short, held until a
   * slot frees; default `concurrency`, 0: never), `namespaces` (only tasks of these namespaces; default all), `handlers`
   * ({ Name: Handler } to register on the engine first), `leaseSeconds` (the claims' lease; default the engine's),
   * `graceSeconds` (on stop, how long running steps may take to finish; default 25), `waitSeconds` (how long one
   * claim waits for work, 1-5 is right; default 2), `statsSeconds` (the throughput line's period; 0: never; default
   * 60), `workerId` (default the engine's), `logger` (info/warn/error; default console).
   */
  constructor(engine, options = {}) {
    if (!(engine instanceof Engine)) throw new ValidationError(`a Worker needs a tasker.Engine, not ${describe(engine)}`);
    if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new ValidationError('Worker options must be an object');
    const {
      concurrency = DEFAULT_CONCURRENCY, prefetch = concurrency, namespaces, handlers, leaseSeconds,
      graceSeconds = DEFAULT_GRACE_SECONDS, waitSeconds = DEFAULT_WAIT_SECONDS, statsSeconds = DEFAULT_STATS_SECONDS,
      workerId, logger = console, ...unknown
    } = options;
    const extra = Object.keys(unknown);
    if (extra.length > 0) {
      throw new ValidationError(`unknown Worker option ${extra.map((k) => `'${k}'`).join(', ')} (known: concurrency, prefetch, ` +
        'namespaces, handlers, leaseSeconds, graceSeconds, waitSeconds, statsSeconds, workerId, logger)');
    }
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
      throw new ValidationError(`concurrency must be an integer from 1 to ${MAX_CONCURRENCY}, not ${String(concurrency)}`);
    }
    if (!Number.isInteger(prefetch) || prefetch < 0 || prefetch > MAX_CONCURRENCY) {
      throw new ValidationError(`prefetch must be an integer from 0 to ${MAX_CONCURRENCY}, not ${String(prefetch)}`);
    }
    if (namespaces !== undefined && !(Array.isArray(namespaces) && namespaces.length > 0
      && namespaces.every((n) => typeof n === 'string' && n !== ''))) {
      throw new ValidationError(`namespaces must be a non-empty array of namespace names, not ${describe(namespaces)}`);
    }
    if (leaseSeconds !== undefined) seconds('leaseSeconds', leaseSeconds, { exclusiveMin: true, max: 7 * 24 * 3600 });
    seconds('graceSeconds', graceSeconds);
    seconds('waitSeconds', waitSeconds, { exclusiveMin: true, max: MAX_WAIT_SECONDS });
    seconds('statsSeconds', statsSeconds);
    if (workerId !== undefined && (typeof workerId !== 'string' || workerId === '')) {
      throw new ValidationError('workerId must be a non-empty string');
    }
    this.#logger = checkLogger(logger);
    if (handlers !== undefined) engine.registerHandlers(handlers);
    this.#engine = engine;
    this.concurrency = concurrency;
    this.prefetch = prefetch;
    this.namespaces = namespaces === undefined ? null : [...namespaces];
    this.leaseSeconds = leaseSeconds ?? null;
    this.graceSeconds = graceSeconds;
    this.waitSeconds = waitSeconds;
    this.statsSeconds = statsSeconds;
    this.workerId = workerId ?? engine[WORKER_HOST]().workerId;
    this.#stopRequested = new Promise((resolve) => { this.#requestStop = resolve; });
    this.#done = new Promise((resolve) => { this.#finished = resolve; });
  }

  get engine() {
    return this.#engine;
  }

  /** Steps whose handler runs now. */
  get running() {
    return this.#running.size;
  }

  /**
   * Runs until `stop()` or SIGTERM/SIGINT (a second signal ends the grace period at once), then shuts down
   * gracefully and resolves with the stats. `burst: true` stops as soon as no work is ready and nothing runs (tests,
   * batch jobs). `handleSignals: false` leaves SIGTERM/SIGINT alone (the host calls stop()). A worker runs once.
   */
  async run({ burst = false, handleSignals = true } = {}) {
    if (this.#started) throw new Error('a Worker runs once: create a new one');
    this.#started = true;
    const signals = handleSignals ? this.#installSignals() : () => {};
    let ticker;
    try {
      if (this.#stopping) return this.stats; // stopped before it ran
      await this.#engine.ready();
      this.#host = { ...this.#engine[WORKER_HOST](), started: (ctx, ref) => this.#track(ctx, ref) };
      const names = [...this.#host.handlers.keys()];
      if (names.length === 0) {
        throw new ValidationError('the worker has no handlers: register them on the engine (engine.registerHandlers) or ' +
          'pass them as new tasker.Worker(engine, { handlers: { ValidateOrder, ... } })');
      }
      this.#claimRequest = { handlers: names, worker_id: this.workerId, wait_seconds: this.waitSeconds,
        namespaces: this.namespaces ?? undefined, lease_seconds: this.leaseSeconds ?? undefined };
      this.#logStart(names);
      this.stats.start();
      ticker = this.#startTicker();
      const claimer = this.#claimLoop(burst);
      await this.#stopRequested;
      await this.#shutDown(claimer);
      this.#logger.info(`worker ${this.workerId} stopped: ${this.stats.summary()}`);
      if (this.#fatal) throw this.#fatal;
      return this.stats;
    } finally {
      clearInterval(ticker);
      signals();
      this.#stopping = true;
      this.#finished(this.stats);
    }
  }

  /**
   * Stops claiming work; steps in flight get `graceSeconds` to finish (`force: true`: none), then those still running
   * are reported as a retryable WorkerShutdown failure. Resolves with the stats once the worker is down (at once if
   * it never ran).
   */
  stop({ force = false } = {}) {
    this.#stopping = true;
    this.#forced ||= force;
    this.#requestStop();
    this.#notify();
    return this.#started ? this.#done : Promise.resolve();
  }

  #installSignals() {
    const onSignal = (signal) => {
      // Only a signal sent before makes this one force the stop, not the worker's own stop (burst: no work left).
      const signalled = this.#signalled;
      this.#signalled = true;
      if (signalled) {
        this.#logger.warn(`worker ${this.workerId}: ${signal} again: stopping now; steps still running are reported as ${SHUTDOWN_ERROR_TYPE}`);
        this.stop({ force: true });
      } else {
        this.#logger.info(`worker ${this.workerId}: ${signal}: no new work; waiting up to ${this.graceSeconds} s for ` +
          `${this.#running.size} running steps (send it again to stop now)`);
        this.stop();
      }
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    return () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    };
  }

  // The store comes from the engine's configuration, not from engine.health(): health lists every unclaimed ready
  // step, a query over the whole queue (seconds of the database's CPU at each worker's start against a backlog).
  #logStart(names) {
    const { store } = this.#host;
    this.#logger.info(`worker ${this.workerId} started (pid ${process.pid}): concurrency ${this.concurrency}, prefetch ` +
      `${this.prefetch}, handlers ${[...names].sort().join(', ')}, namespaces ${this.namespaces?.join(', ') ?? 'all'}, ` +
      `${store} store, lease ${this.leaseSeconds === null ? "the engine's" : `${this.leaseSeconds} s`}, grace ${this.graceSeconds} s`);
    // On PostgreSQL each call in flight holds one of libuv's threads until the database answers (lib/thread-pool.js).
    if (store === 'postgres' && this.#host.pooled && shortfall(this.concurrency, this.prefetch) > 0) {
      crowdingWarned(); // this says it for the process
      this.#logger.warn(`worker ${this.workerId}: libuv's thread pool has ${threadPoolSize()} threads, too few for ` +
        `${this.concurrency} slots and prefetch ${this.prefetch}: a call into the library holds a thread while the database answers, so reports ` +
        `wait for one; start node with UV_THREADPOOL_SIZE=${threadsFor(this.concurrency, this.prefetch)} (tasker-worker does)`);
    }
  }

  // ---- claiming ------------------------------------------------------------------------------------------------

  /** Claims the worker may still take in hand (0 when steps turned long with more than `concurrency` in hand). */
  #free() {
    return Math.max(0, this.#capacity() - this.#running.size - this.#queued.length - this.#reserved);
  }

  #capacity() {
    let short = this.#meanRunMs !== undefined && this.#meanRunMs < PREFETCH_STEP_MS;
    // The slot taken first holds its step longest (a Map keeps its order). Shrinking with time, this needs no wake-up:
    // the claimer looks again before each claim, and the long step's slot, once free, notifies.
    const oldest = short ? this.#running.values().next().value : undefined;
    if (oldest !== undefined) short = performance.now() - oldest.since < PREFETCH_STOP_MS;
    return Math.min(this.concurrency + (short ? this.prefetch : 0), MAX_CONCURRENCY); // a claim's max_steps limit
  }

  /** Resolves at the next change: a step finished, a report returned, or a stop. */
  #nextChange(timeoutMs) {
    return new Promise((resolve) => {
      this.#changed.push(resolve);
      if (timeoutMs !== undefined) setTimeout(resolve, Math.max(0, timeoutMs)).unref();
    });
  }

  #notify() {
    const waiting = this.#changed;
    this.#changed = [];
    for (const resolve of waiting) resolve();
  }

  /** The work claim's request for `free` steps (written out, not spread: report.js's stepRequest says why). */
  #claimText(free) {
    const { handlers, worker_id, wait_seconds, namespaces, lease_seconds } = this.#claimRequest;
    return JSON.stringify({ handlers, worker_id, wait_seconds, namespaces, lease_seconds, max_steps: free });
  }

  async #claimLoop(burst) {
    this.#claiming = true;
    let retryMs = CLAIM_RETRY_MS;
    try {
      while (!this.#stopping) {
        if (this.#free() <= 0) {
          await this.#nextChange();
          continue;
        }
        for (const until = performance.now() + BATCH_WAIT_MS; this.#free() < this.#capacity() && !this.#stopping && performance.now() < until;) {
          await this.#nextChange(until - performance.now());
        }
        if (this.#stopping) break;
        const free = this.#free();
        if (free <= 0) continue;
        const idle = this.#running.size === 0 && this.#queued.length === 0 && this.#reserved === 0 && this.#reporting === 0;
        this.#reserved += free;
        let claims = [];
        try {
          const text = this.#claimText(free);
          claims = (await this.#host.call('workClaim', text, { sync: false })).claims;
          retryMs = CLAIM_RETRY_MS;
        } catch (e) {
          // Closed, the engine never comes back: stop (as in Python and Ruby). Whatever the error: a claim in flight
          // when the engine closed may fail otherwise (its wait cancelled), and a retry would log a second error.
          if (this.#engine.closed) {
            this.#fatal ??= new InvalidHandleError(`the engine was closed while worker ${this.workerId} ran: stop the worker first`);
            this.#logger.error(`worker ${this.workerId}: ${this.#fatal.message}`);
            this.stop({ force: true });
            return;
          }
          this.#logger.error(`worker ${this.workerId}: claiming work failed (${e.name}: ${e.message}); trying again in ${retryMs / 1000} s`);
          await Promise.race([this.#stopRequested, new Promise((resolve) => setTimeout(resolve, retryMs).unref())]);
          retryMs = Math.min(retryMs * 2, MAX_CLAIM_RETRY_MS);
        } finally {
          this.#reserved -= free;
        }
        const released = this.#adopt(claims);
        if (released !== undefined) await released; // past the grace period, as WorkerShutdown: #claiming until they land
        if (burst && idle && claims.length === 0 && this.#running.size === 0 && this.#queued.length === 0 && this.#reporting === 0) {
          this.#logger.info(`worker ${this.workerId}: no work left (burst)`);
          this.stop();
        }
      }
    } finally {
      this.#claiming = false;
      this.#notify();
    }
  }

  /**
   * Takes claims in hand: each starts in a free slot, or waits for one behind those claimed before it. Once the grace
   * period is over, reports them as WorkerShutdown instead, and returns the promise of those reports: the shutdown
   * waits for them (a claim or report on its way), so that run() resolves only once they landed (a host closes the
   * engine then, and a call still in flight would fail: the step would stay claimed until its lease expired).
   */
  #adopt(claims) {
    if (claims.length === 0) return undefined;
    if (this.#closing) return Promise.all(claims.map((claim) => this.#release(claim)));
    for (const claim of claims) this.#queued.push(claim);
    this.#startQueued();
  }

  /** Starts the claims in hand, first claimed first, while fewer than `concurrency` handlers run. */
  #startQueued() {
    while (this.#queued.length > 0 && this.#running.size < this.concurrency) {
      const claim = this.#queued.shift();
      const entry = { claim, since: performance.now(), ctx: undefined, timer: undefined, intervalMs: 0, abandoned: false };
      this.#running.set(claim.claim_token, entry); // its slot, taken while a confirmation is on its way too
      (this.#leaseRanOut(claim) ? this.#confirmThenRun(entry) : this.#run(entry)).catch((e) => {
        this.#logger.error(`worker ${this.workerId}: step ${stepName(claim)}: ${e.stack ?? e}`); // a bug in this file
      });
    }
  }

  #run(entry) {
    return runStep(this.#host, entry.claim).then((done) => this.#finish(entry, done));
  }

  /**
   * Whether a step must be confirmed before it runs. A step claimed ahead waits in hand with no heartbeat: once its
   * lease runs out, another worker's claim may take it over. Not with a manual clock, whose lease times mean nothing in
   * real time.
   */
  #leaseRanOut(claim) {
    // Ran out, not about to (the engine caps a lease at the step's deadline, so that is covered too): a fresh claim
    // with a short lease needs no round trip, and one that runs out after it started is heartbeaten in time (the first
    // beat comes at half what is left).
    return this.#host.timed && Date.parse(claim.lease_expires_at) <= Date.now();
  }

  /**
   * A heartbeat asks the engine first: confirmed, the step runs; refused, it is not run (`stale`) and its task is
   * evaluated; failed (the database), it is not run either (`unreported`), and the next claim of a worker with its
   * handler takes it over. Its slot stays taken until then, as the handler would take it.
   */
  async #confirmThenRun(entry) {
    const { claim } = entry;
    let ours = false;
    try {
      const ref = { task_uuid: claim.task.task_uuid, step_uuid: claim.step.step_uuid, claim_token: claim.claim_token };
      // Its heartbeats, once it runs, go on from the new lease.
      claim.lease_expires_at = await heartbeat(this.#host, ref, this.leaseSeconds ?? undefined);
      ours = true;
    } catch (e) {
      if (e instanceof StaleClaimError) {
        if (entry.abandoned) return; // refused because the shutdown gave it up meanwhile, not taken over
        this.stats.stale += 1;
        this.#logger.warn(`worker ${this.workerId}: step ${stepName(claim)} waited in hand past its lease or deadline and ` +
          `is no longer this worker's (${e.message}); not run`);
        await this.#evaluate(claim.task.task_uuid);
      } else {
        this.stats.unreported += 1;
        this.#logger.error(`worker ${this.workerId}: could not confirm the claim of step ${stepName(claim)}, which waited ` +
          `in hand past its lease (${e.name}: ${e.message}); not run: its lease gives it back`);
      }
    }
    if (entry.abandoned) return; // the grace period ended meanwhile: given up as WorkerShutdown already
    if (ours) {
      await this.#run(entry);
      return;
    }
    // Not run: its slot and its place in hand are free, as if it had never been taken.
    this.#running.delete(claim.claim_token);
    this.#startQueued();
    this.#notify();
  }

  async #finish(entry, done) {
    this.#untrack(entry);
    const ranMs = (done.run.finished_at - done.run.started_at) * 1000; // the handler's run, not the report
    this.#meanRunMs = this.#meanRunMs === undefined ? ranMs : this.#meanRunMs + (ranMs - this.#meanRunMs) * MEAN_RUN_WEIGHT;
    if (entry.abandoned) return; // the grace period ended while it ran: reported as WorkerShutdown already
    this.#running.delete(entry.claim.claim_token);
    // Its slot is free now, while its report is on its way: a step in hand starts in it (the report's commit does not
    // idle the slot). The report may claim its task's next step (claim_next), one, for which it keeps a place in hand
    // but no slot: that step waits behind the steps in hand. The other steps the report makes ready go to the next work
    // claim, which writes them with other tasks' claims at once (one task's writes take turns; docs/performance.md). A
    // completed last step of its task leaves nothing to claim next: its place goes to the claimer now.
    this.#startQueued();
    const last = entry.claim.steps_left === 0 && !done.failed;
    const free = this.#stopping || last ? 0 : Math.min(1, this.#free());
    this.#reserved += free;
    this.#reporting += 1;
    if (last) this.#notify();
    let claims = [];
    try {
      // Lean: the claims of claim_next are of this step's task, whose names this worker holds.
      const next = free > 0 ? { max_steps: free, handlers: this.#claimRequest.handlers, worker_id: this.workerId,
        lease_seconds: this.#claimRequest.lease_seconds, lean: true } : undefined;
      claims = (await report(this.#host, done, next)).claims;
      for (const claim of claims) withTaskNames(claim, entry.claim.task);
      if (done.failed) this.stats.failed += 1;
      else this.stats.completed += 1;
    } catch (e) {
      if (e instanceof StaleClaimError) {
        this.stats.stale += 1;
        this.#logger.warn(`worker ${this.workerId}: the report of step ${stepName(entry.claim)} was refused: its claim was ` +
          'no longer current (deadline passed, lease lost or task ended)');
        // As handle claims once more then: evaluating the task records what happened (the attempt's Timeout) now,
        // and makes the step ready for its next attempt.
        await this.#evaluate(entry.claim.task.task_uuid);
      } else {
        this.stats.unreported += 1;
        this.#logger.error(`worker ${this.workerId}: reporting step ${stepName(entry.claim)} failed (${e.name}: ${e.message}); ` +
          'it runs again once its lease expires');
      }
    } finally {
      this.#reserved -= free;
    }
    // Past the grace period, the claims it brought back are reported as WorkerShutdown: still on its way until then.
    // (No await otherwise: a promise and a microtask a step for nothing.)
    const released = this.#adopt(claims);
    if (released !== undefined) await released;
    this.#reporting -= 1;
    this.#notify();
    if (performance.now() - this.#lastYield > YIELD_MS) {
      this.#lastYield = performance.now();
      await yieldToEventLoop();
    }
  }

  async #evaluate(taskUuid) {
    try {
      await this.#engine.evaluate(taskUuid);
    } catch (e) {
      this.#logger.warn(`worker ${this.workerId}: evaluating task ${taskUuid} failed (${e.name}: ${e.message})`);
    }
  }

  // ---- shutdown --------------------------------------------------------------------------------------------------

  async #shutDown(claimer) {
    const graceEnd = performance.now() + this.graceSeconds * 1000;
    // The claim on its way comes back within waitSeconds; what it brings, and the steps claimed ahead, run within the
    // grace period too.
    while ((this.#running.size > 0 || this.#queued.length > 0 || this.#reporting > 0 || this.#claiming) && !this.#forced) {
      const left = graceEnd - performance.now();
      if (left <= 0) break;
      await this.#nextChange(left);
    }
    this.#closing = true;
    const forced = this.#forced;
    const left = [...this.#running.values()];
    this.#running.clear();
    const ahead = this.#queued.splice(0); // claimed ahead, never started: given up with the running ones
    const reason = shutdownError(this.workerId);
    for (const entry of left) {
      entry.abandoned = true;
      this.#untrack(entry);
      entry.ctx?.[ABORT](reason);
    }
    // A claim or a report still on its way reports what it brings back itself (#adopt, now closing). Wait for it
    // before giving steps up: a step given up is ready at once, and a claim of ours still waiting would take it again.
    const drainEnd = performance.now() + this.waitSeconds * 1000 + REPORT_DRAIN_MS;
    while ((this.#claiming || this.#reporting > 0) && performance.now() < drainEnd) {
      await this.#nextChange(drainEnd - performance.now());
    }
    // Bounded as the drain is: a claim that never answers (a database that hangs) must not hold the shutdown forever.
    const drained = new Promise((resolve) => setTimeout(resolve, Math.max(0, drainEnd - performance.now())).unref());
    await Promise.race([claimer, drained]);
    const unfinished = left.length + ahead.length;
    if (unfinished > 0 && forced) { // no grace period was given
      const waiting = ahead.length > 0 ? ` and ${ahead.length} claimed ahead` : '';
      this.#logger.warn(`worker ${this.workerId}: ${left.length} steps still running${waiting} at a forced stop: reported ` +
        `as ${SHUTDOWN_ERROR_TYPE}`);
    } else if (unfinished > 0) {
      this.#logger.warn(`worker ${this.workerId}: ${unfinished} steps did not finish within the grace period ` +
        `(${this.graceSeconds} s): reported as ${SHUTDOWN_ERROR_TYPE}`);
    }
    await Promise.all([...left.map((entry) => entry.claim), ...ahead].map((claim) => this.#release(claim)));
  }

  /**
   * Reports a claim this worker will not finish as a retryable failure, retried at once elsewhere (the attempt was
   * counted when the step was claimed), so nothing stays claimed unreported.
   */
  async #release(claim) {
    const error = { message: `worker ${this.workerId} shut down before the step finished (grace period ${this.graceSeconds} s)`,
      error_type: SHUTDOWN_ERROR_TYPE, permanent: false, retry_after_seconds: 0 };
    const { task_uuid } = claim.task;
    try {
      await this.#host.call('stepFail', JSON.stringify({ task_uuid, step_uuid: claim.step.step_uuid, claim_token: claim.claim_token, error }));
      this.stats.shutdown += 1;
    } catch (e) {
      // Its claim is gone already (its report landed, or its lease was taken over): nothing left to give up, as in the
      // Python and Ruby workers.
      if (e instanceof StaleClaimError) return;
      this.#logger.error(`worker ${this.workerId}: reporting step ${stepName(claim)} as ${SHUTDOWN_ERROR_TYPE} failed ` +
        `(${e.name}: ${e.message}); it runs again once its lease expires`);
    }
  }

  // ---- heartbeats and the throughput line -----------------------------------------------------------------------

  /** Told by the runner as a step's handler starts: heartbeat it every third of its lease, until its deadline. */
  #track(ctx, ref) {
    const entry = this.#running.get(ref.claim_token);
    if (entry === undefined) return;
    entry.ctx = ctx;
    if (!this.#host.timed) return; // a manual clock's lease times mean nothing in real time
    entry.intervalMs = heartbeatIntervalMs(Date.parse(ctx.leaseExpiresAt) - Date.now());
    this.#scheduleBeat(entry, entry.intervalMs);
  }

  #scheduleBeat(entry, delayMs) {
    const { ctx } = entry;
    // The engine never extends a lease past the deadline (it fails the attempt there): once the lease reaches it,
    // no beat is worth sending.
    if (ctx.deadline !== null && Date.parse(ctx.leaseExpiresAt) >= ctx.deadline.getTime()) return;
    entry.timer = setTimeout(() => this.#beat(entry), delayMs);
  }

  async #beat(entry) {
    entry.timer = undefined;
    try {
      if (entry.ctx.deadline !== null && Date.now() >= entry.ctx.deadline.getTime()) return;
      await entry.ctx.heartbeat(this.leaseSeconds ?? undefined);
    } catch (e) {
      if (entry.abandoned || !this.#running.has(entry.claim.claim_token)) return;
      if (e instanceof StaleClaimError) {
        this.#logger.warn(`worker ${this.workerId}: step ${stepName(entry.claim)} lost its claim while running ` +
          `(${e.message}); its signal is aborted and its report will be refused`);
        entry.ctx[ABORT](e);
        return;
      }
      this.#logger.warn(`worker ${this.workerId}: heartbeat of step ${stepName(entry.claim)} failed (${e.name}: ${e.message})`);
      if (this.#running.has(entry.claim.claim_token)) this.#scheduleBeat(entry, HEARTBEAT_RETRY_MS);
      return;
    }
    if (!entry.abandoned && this.#running.has(entry.claim.claim_token)) this.#scheduleBeat(entry, entry.intervalMs);
  }

  #untrack(entry) {
    clearTimeout(entry.timer);
    entry.timer = undefined;
  }

  /** One timer drives the throughput line; it also keeps the process alive while the worker runs. */
  #startTicker() {
    const statsMs = this.statsSeconds * 1000;
    let nextStats = statsMs > 0 ? performance.now() + statsMs : Infinity;
    return setInterval(() => {
      const now = performance.now();
      if (now >= nextStats) {
        this.#logger.info(`worker ${this.workerId}: ${this.stats.intervalLine(this.#running.size, this.#queued.length)}`);
        nextStats = now + statsMs;
      }
    }, TICK_MS);
  }

}

function shutdownError(workerId) {
  const error = new Error(`worker ${workerId} shut down: the step was given up`);
  error.name = SHUTDOWN_ERROR_TYPE;
  return error;
}

function describe(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array (${JSON.stringify(value)?.slice(0, 60)})`;
  if (typeof value === 'object') return `an object of class ${value.constructor?.name ?? 'null-prototype'}`;
  return `${typeof value} ${String(value).slice(0, 60)}`;
}

module.exports = { Worker, WorkerStats, SHUTDOWN_ERROR_TYPE, DEFAULT_CONCURRENCY, heartbeatIntervalMs };
