'use strict';
// The Engine: its lifetime (open, close, the finalizer backstop) and the API over the library's JSON calls. The step
// loop of `handle` is runner.js; subscriptions are subscription.js.
const fs = require('node:fs');
const native = require('./native');
const { InvalidHandleError, ValidationError } = require('./errors');
const { StepHandler, handlerFactory, toJson } = require('./handler');
const { Outcome, Task, taskSummary, camelKeys } = require('./model');
const { handleTask } = require('./runner');
const { loggerOption } = require('./failure-log');
const { watchCrowding } = require('./thread-pool');
const { Subscription, releaseSubscription } = require('./subscription');

// Memory-store calls never wait on I/O (they take microseconds), so they run synchronously: an async koffi call
// costs a hop to a worker thread and back (tens of microseconds). Template registration and requests larger than
// this still run on a worker thread, so they cannot hold up the event loop either.
const SYNC_LIMIT = 1 << 20;

/** How a Worker (worker.js) gets at an engine's calls and handlers; not part of the public API. */
const WORKER_HOST = Symbol('tasker.workerHost');

// Request field names are a small fixed set (ours and the options a caller passes): each converted once.
const snakeCache = new Map();
function snake(key) {
  let converted = snakeCache.get(key);
  if (converted === undefined) {
    converted = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    if (snakeCache.size < 1000) snakeCache.set(key, converted);
  }
  return converted;
}
const isPlainObject = (v) => v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype;

/** Engine configuration in the library's snake_case (the config is ours, so nested keys are converted too). */
function snakeKeys(value) {
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [snake(k), snakeKeys(v)]));
}

/**
 * Drops undefined fields and converts the binding's camelCase request fields (never the values); `more` (the
 * caller's other options, but for the keys in `taken`) is merged in this way too rather than spread into `fields`
 * (report.js's stepRequest says why). Own enumerable keys, walked with for-in rather than an Object.entries array of
 * pairs (createTask is on every task's path).
 */
function request(fields, more, taken) {
  const out = {};
  for (const key in fields) {
    if (!Object.hasOwn(fields, key)) continue;
    const value = fields[key];
    if (value !== undefined) out[snake(key)] = value;
  }
  if (more === undefined) return out;
  for (const key in more) {
    if (!Object.hasOwn(more, key) || taken?.has(key)) continue;
    const value = more[key];
    if (value !== undefined) out[snake(key)] = value;
  }
  return out;
}

/** createTask's Task from the engine's answer. */
/**
 * The warning, once a process, when calls into the library outnumber libuv's threads (thread-pool.js): typically
 * engine.handle under a job queue's concurrency above the pool's.
 */
const crowdedMessage = (threads) =>
  `more calls into libtasker are in flight than libuv's thread pool has threads (${threads}): on PostgreSQL a call ` +
  'holds a thread while the database answers, so the others wait for one. Start node with UV_THREADPOOL_SIZE set to ' +
  'at least the engine calls you run at once, plus 2 (10 for 8 at once; bindings/node/README.md, "Threads")';

const createdTask = (answer) => new Task(answer.task, answer.created);

/** What `handle` reads when it is given no options (a default `= {}` would be an object a task). */
const NO_OPTIONS = Object.freeze({});

/** The options of createTask that are not passed on as they are. */
const TASK_FIELDS = new Set(['namespace', 'version', 'context']);

// The backstop for engines nobody closed: freed (tasker_engine_free, which reports nothing) when the Engine is
// collected. The held value never references the Engine itself (that would keep it alive).
const engines = new FinalizationRegistry((resources) => {
  for (const subscription of [...resources.subscriptions]) releaseSubscription(subscription, resources.subscriptions);
  if (resources.handle) native.engineFreeAsync(resources.handle).catch(() => {});
});

/** A promise for a synchronous call's completion (its error as a rejection). */
function settled(fn) {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e);
  }
}

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
  #host; // handle's snapshot of the handlers (#handleHost)
  #concurrency;
  #workerId;
  #timed;
  #store; // 'postgres' or 'memory': decided by databaseUrl alone
  #logger;

  /**
   * options: `databaseUrl`, `schema`, `poolSize`, `migrate`, `maxAttempts`, `backoff` ({baseSeconds, maxSeconds,
   * jitter}), `leaseSeconds`, `retention` ({maxFinishedTasks}), `eventBuffer`, `clock` ('system' | 'manual'),
   * `randomSeed`, `telemetry`, `missingHandlerRequeueSeconds`: the engine configuration (docs/c-abi.md); and for
   * this binding: `concurrency`
   * (steps of one task run at once by `handle`, default 8), `workerId` (recorded as the actor of claims),
   * `syncCalls` (run calls on the event loop's thread: default true for the memory store, false for PostgreSQL,
   * where true blocks the loop for every database round trip) and `logger`
   * (where each failed step attempt is logged as a warning: `console` by default, any object with `warn`, or false).
   */
  constructor(options = {}) {
    if (!isPlainObject(options)) throw new ValidationError('Engine options must be an object');
    const { databaseUrl, concurrency = 8, workerId, syncCalls = !databaseUrl, logger, ...config } = options;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 10000) {
      throw new ValidationError(`concurrency must be an integer from 1 to 10000, not ${concurrency}`);
    }
    if (databaseUrl != null && typeof databaseUrl !== 'string') throw new ValidationError('databaseUrl must be a string');
    try {
      this.#logger = loggerOption(logger);
    } catch (e) {
      throw new ValidationError(e.message);
    }
    this.#concurrency = concurrency;
    this.#workerId = String(workerId ?? `node-${process.pid}`);
    this.#timed = config.clock !== 'manual'; // a manual clock's deadlines are not wall-clock times
    const wire = snakeKeys(config);
    if (databaseUrl) wire.database_url = databaseUrl;
    this.#store = wire.database_url ? 'postgres' : 'memory'; // as the library decides it (a snake-case key included)
    const text = JSON.stringify(wire);
    if (databaseUrl) {
      // Opening connects (and migrates): on a worker thread. Errors surface from `ready()` and every later call.
      // Later calls go to a worker thread too unless the host asked for them on its own thread (scripts, benches).
      this.#sync = syncCalls === true;
      if (!this.#sync && this.#logger) watchCrowding((threads) => this.#logger.warn(crowdedMessage(threads)));
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

  /**
   * One JSON call, resolving with the parsed answer: synchronously for small memory-store requests (`options.sync`
   * false: never), else on a worker thread. Not an async function: on the synchronous path an async function's frame
   * and promise are allocation for nothing; a throw becomes a rejection here, as it would there.
   */
  #call(name, input, options) {
    if (options?.sync !== false) {
      try {
        const answer = this.#callNow(name, input);
        if (answer !== undefined) return Promise.resolve(answer);
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return this.#callAsync(name, input, options?.sync !== false);
  }

  /**
   * The parsed answer of a call made at once, on this thread (throwing what the engine threw), or undefined when the
   * call cannot be made so (PostgreSQL, a large request, an engine not open yet or closed): #call's promise then.
   * `input` is the request's text, or with `length` the buffer holding its bytes (request-bytes.js).
   * The step loop reports through this when it can (report.js's reportOne), so the memory store's step path has no
   * promise per report.
   */
  #callNow(name, input, length = undefined) {
    const { handle } = this.#resources;
    if (handle === undefined || this.#closed || !this.#sync || (length ?? input.length) > SYNC_LIMIT) return undefined;
    return JSON.parse(native.jsonSync(name, handle, input, length)); // a JSON answer is never undefined
  }

  async #callAsync(name, input, sync) {
    const handle = this.#resources.handle ?? (await this.#handle());
    if (this.#closed) throw new InvalidHandleError('the engine is closed');
    if (sync && this.#sync && input.length <= SYNC_LIMIT) return JSON.parse(native.jsonSync(name, handle, input));
    return JSON.parse(await native.jsonAsync(name, handle, input));
  }

  /**
   * Shuts the engine down (and its subscriptions); rejects with what failed on the way out (a store that fails to
   * close, telemetry that fails to flush), the handle being released even then. Idempotent; calls still in flight
   * end with InvalidHandleError.
   */
  close() {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    engines.unregister(this);
    this.#closeSubscriptions();
    const { handle } = this.#resources;
    this.#resources.handle = undefined;
    if (handle !== undefined) {
      this.#closing = this.#sync ? settled(() => native.engineCloseSync(handle)) : native.engineCloseAsync(handle);
    } else {
      this.#closing = this.#opening.catch(() => {}); // the open callback frees what it opened once it sees #closed
    }
    return this.#closing;
  }

  #closeSubscriptions() {
    const owned = this.#resources.subscriptions;
    for (const subscription of [...owned]) releaseSubscription(subscription, owned);
  }

  /**
   * `using engine = new Engine()`: closes at once (for PostgreSQL, this waits for its connections to close) and
   * throws what failed on the way out.
   */
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
    native.engineCloseSync(handle);
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
   * (one instance per attempt), a StepHandler instance (shared), or a function `(ctx) => result`. `handle` claims
   * only steps whose handler is registered: the others stay ready for a worker that has theirs, and the outcome
   * lists them in `waitingForHandlers`.
   */
  registerHandler(name, handler) {
    this.#handlers.set(name, handlerFactory(name, handler));
    this.#host = undefined; // the next handle takes a new snapshot
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
  createTask(name, options = {}) {
    // Not an async function (its frame, promise and await are allocation a task): a throw becomes a rejection here.
    try {
      const { namespace, version, context = {} } = options;
      const text = toJson(request({ name, namespace, version, context }, options, TASK_FIELDS), 'the task request');
      const answer = this.#callNow('taskCreate', text);
      return answer === undefined ? this.#callAsync('taskCreate', text, true).then(createdTask)
        : Promise.resolve(createdTask(answer));
    } catch (e) {
      return Promise.reject(e);
    }
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
    const text = toJson(request({ taskUuid, stepName, actor, reason, result }), `the result of step '${stepName}'`);
    return new Outcome(await this.#call('stepResolve', text));
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
   * Runs the task's ready steps whose handler is registered, up to `concurrency` at once (a new one starts as soon
   * as a slot frees), until none are left for this engine; resolves with the last outcome. Follow
   * `outcome.requeueAfterSeconds`: handle the task again after that many seconds when it is not null. Handler
   * failures (and results the engine refuses) are reported to the engine, not thrown; `handle` rejects only when
   * the engine itself fails (e.g. NotFoundError for an unknown task, DatabaseError).
   * `options.traceparent` (W3C, e.g. from the job's data) makes this call's step spans children of the caller's span.
   */
  handle(taskUuid, options = undefined) {
    // Not an async function: the task's whole run would otherwise hold its frame, its promise and the await of
    // handleTask's (and its default options object), all of which young-generation collections copy while the task
    // runs (docs/performance.md, "Node: what survives a scavenge"). A throw becomes a rejection here.
    try {
      const { traceparent } = options === undefined ? NO_OPTIONS : options;
      if (traceparent !== undefined && typeof traceparent !== 'string') throw new ValidationError('traceparent must be a string');
      return handleTask(this.#handleHost(), String(taskUuid), traceparent || undefined);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * What `handle` runs with: the engine's calls and a snapshot of the registered handlers, which a handle in flight
   * keeps while registerHandler makes the next one. Made once per registration rather than once a task: handleTask
   * only reads it.
   */
  #handleHost() {
    if (this.#host === undefined) {
      const handlers = new Map(this.#handlers);
      this.#host = {
        call: (name, text) => this.#call(name, text),
        // Absent where calls never run on this thread (PostgreSQL by default): the step loop then encodes for #call.
        callNow: this.#sync ? (name, input, length) => this.#callNow(name, input, length) : undefined,
        handlers,
        names: [...handlers.keys()],
        concurrency: this.#concurrency,
        workerId: this.#workerId,
        timed: this.#timed,
        logger: this.#logger,
      };
    }
    return this.#host;
  }

  // ---- worker mode (worker.js) ----------------------------------------------------------------------------------

  /**
   * What a Worker runs with: the engine's calls (`{ sync: false }` for the waiting work claim) and a snapshot of
   * the registered handlers, taken when the worker starts.
   */
  [WORKER_HOST]() {
    return {
      call: (name, text, options) => this.#call(name, text, options),
      handlers: new Map(this.#handlers),
      workerId: this.#workerId,
      timed: this.#timed,
      logger: this.#logger,
      store: this.#store,
      pooled: !this.#sync, // calls run on libuv's pool (PostgreSQL, unless syncCalls)
    };
  }
}

module.exports = { Engine, StepHandler, Subscription, WORKER_HOST };
