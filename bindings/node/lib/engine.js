'use strict';
const fs = require('node:fs');
const native = require('./native');
const { InvalidHandleError, StaleClaimError, ValidationError } = require('./errors');
const { StepHandler, handlerFactory, toJson, resultJson, failureOf } = require('./handler');
const { Outcome, StepContext, Task, event, taskSummary, camelKeys } = require('./model');

// Memory-store calls never wait on I/O (they take microseconds), so they run synchronously: an async koffi call
// costs a hop to a worker thread and back (tens of microseconds). Template registration and requests larger than
// this still run on a worker thread, so they cannot hold up the event loop either.
const SYNC_LIMIT = 1 << 20;

// With synchronous calls and handlers that do not really wait, a long workflow would run from one microtask to
// the next without the event loop ever turning; handle() yields to it (setImmediate) at least this often.
const YIELD_MS = 5;
const yieldToEventLoop = () => new Promise((resolve) => setImmediate(resolve));

const snake = (key) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const isPlainObject = (v) => v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype;

/** Engine configuration in the library's snake_case (the config is ours, so nested keys are converted too). */
function snakeKeys(value) {
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [snake(k), snakeKeys(v)]));
}

/** Drops undefined fields and converts the binding's camelCase request fields (never the values). */
function request(fields) {
  const out = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) out[snake(key)] = value;
  return out;
}

/** Frees a subscription's native handle once; wakes an iterator waiting for events. */
function releaseSubscription(resource, owned) {
  const { handle } = resource;
  if (handle === undefined) return;
  resource.handle = undefined;
  owned.delete(resource);
  resource.wake?.();
  native.subscriptionFree(handle);
}

// The backstops for engines and subscriptions nobody closed: freed when the object is collected. The held values
// never reference the Engine or Subscription itself (that would keep it alive).
const engines = new FinalizationRegistry((resources) => {
  for (const subscription of [...resources.subscriptions]) {
    try { releaseSubscription(subscription, resources.subscriptions); } catch { /* already freed */ }
  }
  if (resources.handle) native.engineFreeAsync(resources.handle).catch(() => {});
});
const subscriptions = new FinalizationRegistry(({ resource, owned }) => {
  try { releaseSubscription(resource, owned); } catch { /* already freed */ }
});

/** A promise for a synchronous call's completion (its error as a rejection). */
function settled(fn) {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e);
  }
}

/** A JSON object's text with one more member whose value is already JSON text. */
const withMember = (objectText, key, valueJson) =>
  `${objectText.slice(0, -1)}${objectText === '{}' ? '' : ','}${JSON.stringify(key)}:${valueJson}}`;

/**
 * An embedded engine: `new Engine()` uses the memory store; `new Engine({ databaseUrl })` (or, to see connection
 * errors at once, `await Engine.open({ databaseUrl })`) uses PostgreSQL. Close it with `await engine.close()`
 * (or `await using`); a FinalizationRegistry frees an engine that was never closed.
 */
class Engine {
  #resources = { handle: undefined, subscriptions: new Set() };
  #opening;
  #closed = false;
  #closing;
  #sync;
  #handlers = new Map();
  #concurrency;
  #workerId;

  /**
   * options: `databaseUrl`, `schema`, `poolSize`, `migrate`, `maxAttempts`, `backoff` ({baseSeconds, maxSeconds,
   * jitter}), `leaseSeconds`, `retention` ({maxFinishedTasks}), `eventBuffer`, `clock` ('system' | 'manual'),
   * `randomSeed`, `telemetry`: the engine configuration (docs/c-abi.md); and for this binding: `concurrency`
   * (steps of one task run at once by `handle`, default 8), `workerId` (recorded as the actor of claims) and
   * `syncCalls` (run memory-store calls synchronously; default true, and always false for PostgreSQL).
   */
  constructor(options = {}) {
    if (!isPlainObject(options)) throw new ValidationError('Engine options must be an object');
    const { databaseUrl, concurrency = 8, workerId, syncCalls = true, ...config } = options;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 10000) {
      throw new ValidationError(`concurrency must be an integer from 1 to 10000, not ${concurrency}`);
    }
    if (databaseUrl != null && typeof databaseUrl !== 'string') throw new ValidationError('databaseUrl must be a string');
    this.#concurrency = concurrency;
    this.#workerId = JSON.stringify(String(workerId ?? `node-${process.pid}`));
    const wire = snakeKeys(config);
    if (databaseUrl) wire.database_url = databaseUrl;
    const text = JSON.stringify(wire);
    if (databaseUrl) {
      // Opening connects (and migrates): on a worker thread. Errors surface from `ready()` and every later call.
      this.#sync = false;
      this.#opening = native.engineOpenAsync(text).then((handle) => {
        if (this.#closed) return native.engineFreeAsync(handle).catch(() => {}); // closed while it was opening
        this.#resources.handle = handle;
        return undefined;
      });
      this.#opening.catch(() => {}); // not unhandled: the error is rethrown to whoever uses the engine
    } else {
      this.#sync = syncCalls !== false;
      this.#resources.handle = native.engineOpenSync(text);
    }
    engines.register(this, this.#resources, this);
  }

  /** Opens an engine and waits until it is usable (for PostgreSQL: connected and migrated). */
  static async open(options = {}) {
    const engine = new Engine(options);
    try {
      await engine.ready();
    } catch (e) {
      await engine.close();
      throw e;
    }
    return engine;
  }

  /** Resolves when the engine is open; rejects with the error that prevented it (e.g. a DatabaseError). */
  async ready() {
    await this.#handle();
  }

  get closed() {
    return this.#closed;
  }

  async #handle() {
    if (this.#closed) throw new InvalidHandleError('the engine is closed');
    if (this.#resources.handle === undefined) await this.#opening;
    if (this.#closed) throw new InvalidHandleError('the engine is closed');
    return this.#resources.handle;
  }

  /** One JSON call: synchronously for small memory-store requests, else on a worker thread. */
  async #call(name, input, { sync = true } = {}) {
    const handle = this.#resources.handle ?? (await this.#handle());
    if (this.#closed) throw new InvalidHandleError('the engine is closed');
    if (sync && this.#sync && input.length <= SYNC_LIMIT) return JSON.parse(native.jsonSync(name, handle, input));
    return JSON.parse(await native.jsonAsync(name, handle, input));
  }

  /** Frees the engine (and its subscriptions). Idempotent; calls still in flight end with InvalidHandleError. */
  close() {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    engines.unregister(this);
    this.#closeSubscriptions();
    const { handle } = this.#resources;
    this.#resources.handle = undefined;
    if (handle !== undefined) {
      this.#closing = this.#sync ? settled(() => native.engineFreeSync(handle)) : native.engineFreeAsync(handle);
    } else {
      this.#closing = this.#opening.catch(() => {}); // the open callback frees what it opened once it sees #closed
    }
    return this.#closing;
  }

  #closeSubscriptions() {
    const owned = this.#resources.subscriptions;
    for (const subscription of [...owned]) releaseSubscription(subscription, owned);
  }

  /** `using engine = new Engine()`: frees at once (for PostgreSQL, this waits for its connections to close). */
  [Symbol.dispose]() {
    if (this.#closing) return;
    const { handle } = this.#resources;
    if (handle === undefined) {
      this.close();
      return;
    }
    this.#closed = true;
    this.#resources.handle = undefined;
    engines.unregister(this);
    this.#closeSubscriptions();
    this.#closing = Promise.resolve();
    native.engineFreeSync(handle);
  }

  [Symbol.asyncDispose]() {
    return this.close();
  }

  // ---- templates and handlers ---------------------------------------------------------------------------------

  /**
   * Registers a task template: YAML or JSON text (a string or Buffer), or `{ path }` of a file. Resolves with
   * `{ namespace, name, version, steps }`. Rejects with ValidationError / InvalidDagError naming the problem.
   */
  async registerTemplate(source) {
    let text = source;
    if (isPlainObject(source) && typeof source.path === 'string') text = await fs.promises.readFile(source.path);
    if (typeof text !== 'string' && !(text instanceof Uint8Array)) {
      throw new ValidationError('registerTemplate takes YAML or JSON text (a string, Buffer or Uint8Array), or { path }');
    }
    if (typeof text === 'string' && !text.isWellFormed()) throw new ValidationError('the template text has a lone surrogate (it is not valid Unicode)');
    return this.#call('templateRegister', text, { sync: false });
  }

  /**
   * Registers the handler for steps whose template says `handler: { callable: name }`: a StepHandler subclass
   * (one instance per attempt), a StepHandler instance (shared), or a function `(ctx) => result`. Only registered
   * names ever run; a step whose handler is not registered fails permanently with error type UnknownHandler.
   */
  registerHandler(name, handler) {
    this.#handlers.set(name, handlerFactory(name, handler));
    return this;
  }

  /** registerHandler for each entry of `{ Name: Handler, ... }`. */
  registerHandlers(handlers) {
    for (const [name, handler] of Object.entries(handlers)) this.registerHandler(name, handler);
    return this;
  }

  // ---- tasks ------------------------------------------------------------------------------------------------

  /**
   * Creates a task. options: `namespace` (required), `version` (default: the newest), `context`, `initiator`,
   * `sourceSystem`, `reason`, `tags`, `priority`, `idempotencyKey`, `correlationId`. Resolves with the Task;
   * `task.created` is false when an idempotency key matched an existing task.
   */
  async createTask(name, options = {}) {
    const { namespace, version, context = {}, ...rest } = options;
    const answer = await this.#call('taskCreate', toJson(request({ name, namespace, version, context, ...rest }), 'the task request'));
    return new Task(answer.task, answer.created);
  }

  /** The task with its steps (state, attempts, result, error, readiness) and its audit trail. */
  async getTask(taskUuid) {
    return new Task(await this.#call('taskGet', String(taskUuid)));
  }

  /** Tasks, newest first: `{ state, namespace, name, limit = 100 }`. */
  async listTasks(query = {}) {
    const { state, namespace, name, limit = 100 } = query;
    return (await this.#call('taskList', toJson(request({ state, namespace, name, limit }), 'the query'))).tasks.map(taskSummary);
  }

  /** Evaluates the task (expiring stale leases first) and tells what to do next. */
  async evaluate(taskUuid) {
    return new Outcome(await this.#call('taskEvaluate', String(taskUuid)));
  }

  /** Failed and cancelled steps back to pending with fresh attempts; completed steps keep their results. */
  async retryTask(taskUuid, { actor, reason } = {}) {
    return new Outcome(await this.#call('taskRetry', toJson(request({ taskUuid, actor, reason }), 'the request')));
  }

  /** Cancels the task and its unfinished steps; claims in flight become stale. */
  async cancelTask(taskUuid, { actor, reason } = {}) {
    return new Outcome(await this.#call('taskCancel', toJson(request({ taskUuid, actor, reason }), 'the request')));
  }

  /** Marks a step (by name) as resolved by hand with `result`, which its dependents will see. */
  async resolveStep(taskUuid, stepName, result = null, { actor, reason } = {}) {
    const text = toJson(request({ taskUuid, stepName, actor, reason }), 'the request');
    return new Outcome(await this.#call('stepResolve', withMember(text, 'result', resultJson(result, stepName))));
  }

  /** Work nobody is driving (expired leases, retries due): `{ expiredLeases, retryDue, taskUuids }`. */
  async staleWork({ limit = 100 } = {}) {
    const answer = await this.#call('staleWorkList', JSON.stringify({ limit }));
    return { expiredLeases: answer.expired_leases.map(camelKeys), retryDue: answer.retry_due.map(camelKeys),
      taskUuids: answer.task_uuids };
  }

  /** `{ healthy, error, store, tasks, steps, expiredLeases, retriesDue, memory, ... }`, e.g. for a /health route. */
  async health() {
    const health = camelKeys(JSON.parse(await native.engineHealthAsync(await this.#handle())));
    if (health.memory) health.memory = camelKeys(health.memory); // the library's managed heap (docs/observability.md)
    return health;
  }

  /** Applies pending PostgreSQL migrations (engines opened with the default `migrate: true` already did). */
  async migrate() {
    await native.engineMigrateAsync(await this.#handle());
  }

  /** Moves the clock of an engine opened with `clock: 'manual'` forward by `seconds` (tests). */
  advanceClock(seconds) {
    if (!(Number.isFinite(seconds) && seconds >= 0)) throw new ValidationError(`cannot advance the clock by ${seconds} s`);
    const { handle } = this.#resources;
    if (this.#closed || handle === undefined) throw new InvalidHandleError('the engine is closed or not open yet');
    native.engineAdvanceClock(handle, Math.round(seconds * 1000));
  }

  /**
   * Events whose name matches `pattern` ('*', 'step.*', 'task.completed', ...), from now on: an async iterator
   * (`for await (const event of engine.subscribe('step.*'))`) or `pull()`. See docs/events.md.
   */
  subscribe(pattern = '*', { capacity = 0, pollInterval = 50 } = {}) {
    const { handle } = this.#resources;
    if (this.#closed || handle === undefined) throw new InvalidHandleError('the engine is closed or not open yet');
    if (typeof pattern !== 'string') throw new ValidationError('the pattern must be a string');
    if (!Number.isInteger(capacity) || capacity < 0) throw new ValidationError(`capacity must be an integer >= 0, not ${capacity}`);
    return new Subscription(this, this.#resources.subscriptions, native.subscriptionOpen(handle, pattern, capacity), pollInterval);
  }

  // ---- running steps ----------------------------------------------------------------------------------------

  /**
   * Runs the task's ready steps, up to `concurrency` at once (a new one starts as soon as a slot frees), until
   * none are ready; resolves with the last outcome. Re-enqueue the task after `outcome.delaySeconds` when
   * `outcome.action === 'reenqueue'`. Handler failures are reported to the engine, not thrown; `handle` rejects
   * only when the engine itself fails (e.g. NotFoundError for an unknown task, DatabaseError).
   * `options.traceparent` (W3C, e.g. from the job's data) makes this call's step spans children of the caller's span.
   */
  async handle(taskUuid, options = {}) {
    const uuid = String(taskUuid);
    const { traceparent } = options;
    if (traceparent !== undefined && typeof traceparent !== 'string') throw new ValidationError('traceparent must be a string');
    const trace = traceparent ? `,"traceparent":${JSON.stringify(traceparent)}` : '';
    const claimRequest = (max) => `{"task_uuid":${JSON.stringify(uuid)},"max_steps":${max},"worker_id":${this.#workerId}${trace}}`;
    const running = new Set();
    let latest; // the newest outcome (the engine serializes the reports of one task)
    let failure; // the first error reporting a step: stops claiming, rethrown once the others are reported
    let claimable = true;
    let confirmed = false;
    let yielded = performance.now();
    for (;;) {
      if (performance.now() - yielded > YIELD_MS) {
        await yieldToEventLoop();
        yielded = performance.now();
      }
      if (claimable && failure === undefined && running.size < this.#concurrency) {
        const answer = await this.#call('stepsClaim', claimRequest(this.#concurrency - running.size));
        latest = answer.outcome;
        for (const claim of answer.claims) {
          const run = this.#runStep(claim, trace).then(
            (outcome) => { if (outcome) latest = outcome; },
            (error) => { failure ??= error; },
          ).finally(() => running.delete(run));
          running.add(run);
        }
        if (answer.claims.length > 0) confirmed = false;
        claimable = answer.claims.length > 0 && latest.action === 'execute';
        if (claimable && running.size < this.#concurrency) continue;
      }
      if (running.size === 0) {
        if (failure !== undefined) throw failure;
        if (claimable) continue; // the last report made steps ready
        // 'wait' with nothing of ours in flight: steps run elsewhere, or the outcome we hold was computed while a
        // sibling of ours was still in progress. Evaluate once to know.
        if (latest.action === 'wait' && !confirmed) {
          confirmed = true;
          latest = await this.#call('taskEvaluate', uuid);
          claimable = latest.action === 'execute';
          if (claimable) continue;
        }
        return new Outcome(latest);
      }
      await Promise.race(running);
      claimable = latest.action === 'execute';
    }
  }

  /** Runs one claimed step and reports it; resolves with the engine's outcome (null when the claim went stale). */
  async #runStep(claim, trace) {
    const [name, text, ref] = await this.#execute(claim, trace);
    try {
      return await this.#call(name, text);
    } catch (e) {
      if (e instanceof StaleClaimError) return null; // the lease expired and someone else owns the step now
      // A result the library refuses (e.g. larger than its input limit) is a failure of the step, like any other.
      if (name === 'stepComplete' && e instanceof ValidationError) return this.#runStepFailure(ref, e);
      throw e;
    }
  }

  async #runStepFailure(ref, error) {
    try {
      return await this.#call('stepFail', `{${ref},"error":${JSON.stringify(failureOf(error))}}`);
    } catch (e) {
      if (e instanceof StaleClaimError) return null;
      throw e;
    }
  }

  /**
   * Never throws: the report for a claimed step, ['stepComplete' | 'stepFail', request text, claim reference]. The
   * reference carries the handle call's traceparent; a report after the handler ran also carries the handler run
   * (its times and attributes, which become a tasker.handler span).
   */
  async #execute(claim, trace) {
    const ref = `"task_uuid":${JSON.stringify(claim.task.task_uuid)},"step_uuid":${JSON.stringify(claim.step.step_uuid)},` +
      `"claim_token":${JSON.stringify(claim.claim_token)}${trace}`;
    let run = '';
    const fail = (error) => ['stepFail', `{${ref}${run},"error":${JSON.stringify(failureOf(error))}}`, ref];
    const ctx = new StepContext(claim, (c, leaseSeconds) => this.#heartbeat(ref, leaseSeconds));
    const factory = this.#handlers.get(ctx.step.handler);
    if (factory === undefined) {
      return ['stepFail', `{${ref},"error":${JSON.stringify({
        message: `no handler registered for '${ctx.step.handler}' (step '${ctx.step.name}'); registered: ` +
          `${[...this.#handlers.keys()].slice(0, 20).join(', ') || 'none'}`,
        error_type: 'UnknownHandler',
        permanent: true,
      })}}`, ref];
    }
    const startedAt = new Date().toISOString();
    try {
      const handler = factory();
      let output;
      try {
        output = await handler.processResults(await handler.process(ctx));
      } finally {
        run = `,"handler":${JSON.stringify({ started_at: startedAt, finished_at: new Date().toISOString(), attributes: ctx.attributes })}`;
      }
      return ['stepComplete', `{${ref}${run},"result":${resultJson(output, ctx.step.name)}}`, ref];
    } catch (e) {
      return fail(e);
    }
  }

  async #heartbeat(ref, leaseSeconds) {
    if (leaseSeconds !== undefined && !(Number.isFinite(leaseSeconds) && leaseSeconds > 0)) {
      throw new ValidationError(`leaseSeconds must be a number of seconds > 0, not ${leaseSeconds}`);
    }
    const lease = leaseSeconds === undefined ? '' : `,"lease_seconds":${leaseSeconds}`;
    return (await this.#call('stepHeartbeat', `{${ref}${lease}}`)).lease_expires_at;
  }
}

/**
 * Events of one engine, pulled in batches. Iterate it with `for await` (leaving the loop closes it), or call
 * `pull()`; `dropped` counts events lost to a full buffer. Closing the engine closes its subscriptions.
 */
class Subscription {
  #engine; // keeps the engine alive as long as the subscription
  #owned;
  #resource;
  #pollInterval;
  dropped = 0;

  constructor(engine, owned, handle, pollInterval) {
    this.#engine = engine;
    this.#owned = owned;
    this.#resource = { handle, wake: undefined };
    this.#pollInterval = pollInterval;
    owned.add(this.#resource);
    subscriptions.register(this, { resource: this.#resource, owned }, this);
  }

  get closed() {
    return this.#resource.handle === undefined;
  }

  /** The events buffered now, oldest first, at most `maxEvents` (never waits). */
  pull(maxEvents = 1000) {
    const { handle } = this.#resource;
    if (handle === undefined) throw new InvalidHandleError('the subscription is closed');
    const batch = JSON.parse(native.subscriptionPull(handle, maxEvents));
    this.dropped = batch.dropped;
    return batch.events.map(event);
  }

  async* [Symbol.asyncIterator]() {
    try {
      while (!this.closed) {
        const events = this.pull();
        for (const e of events) yield e;
        if (events.length === 0 && !this.closed) {
          await new Promise((resolve) => {
            const timer = setTimeout(resolve, this.#pollInterval);
            this.#resource.wake = () => { clearTimeout(timer); resolve(); };
          });
          this.#resource.wake = undefined;
        }
      }
    } finally {
      this.close();
    }
  }

  /** Ends the subscription and drops its buffered events. Idempotent. */
  close() {
    subscriptions.unregister(this);
    releaseSubscription(this.#resource, this.#owned);
    this.#engine = undefined;
  }

  [Symbol.dispose]() {
    this.close();
  }
}

module.exports = { Engine, StepHandler, Subscription };
