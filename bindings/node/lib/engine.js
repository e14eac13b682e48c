'use strict';
const native = require('./native');
const { InvalidHandleError, PermanentError, RetryableError, TaskerError, ValidationError } = require('./errors');

/** Subclass and implement `async process(ctx)`; optionally `processResults(output)`. */
class StepHandler {
  // eslint-disable-next-line no-unused-vars
  async process(ctx) { throw new Error(`${this.constructor.name}.process is not implemented`); }
  processResults(output) { return output; }
}

const registry = new FinalizationRegistry((handle) => {
  try { native.engineFreeSync(handle); } catch { /* already freed */ }
});

function stepContext(claim) {
  const t = claim.task;
  const s = claim.step;
  return {
    task: { uuid: t.task_uuid, namespace: t.namespace, name: t.name, version: t.version, context: t.context, tags: t.tags },
    step: { uuid: s.step_uuid, name: s.name, handler: s.handler, attempt: s.attempt, maxAttempts: s.max_attempts,
      initialization: s.initialization ?? {} },
    dependencyResults: claim.dependency_results ?? {},
    claimToken: claim.claim_token,
  };
}

const outcomeOf = (o) => ({
  taskUuid: o.task_uuid, taskState: o.task_state, executionStatus: o.execution_status, action: o.action,
  delaySeconds: o.delay_seconds, readySteps: o.ready_steps, inProgressSteps: o.in_progress_steps, finalized: o.finalized,
});

/**
 * An embedded engine: the memory store by default, `{ databaseUrl }` for PostgreSQL. Call `close()` (or use
 * `using engine = new Engine()`); a FinalizationRegistry frees forgotten engines.
 */
class Engine {
  #handle;
  #handlers = new Map();
  #concurrency;
  #workerId;

  constructor({ databaseUrl, concurrency = 8, workerId, ...config } = {}) {
    if (!(concurrency >= 1)) throw new ValidationError('concurrency must be at least 1');
    const wire = Object.fromEntries(Object.entries(config).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]));
    if (databaseUrl) wire.database_url = databaseUrl;
    this.#handle = native.engineOpenSync(JSON.stringify(wire));
    this.#concurrency = concurrency;
    this.#workerId = workerId ?? `node-${process.pid}`;
    registry.register(this, this.#handle, this);
  }

  get #h() {
    if (!this.#handle) throw new InvalidHandleError('the engine is closed');
    return this.#handle;
  }

  async #call(name, payload) {
    return JSON.parse(await native.callJson(name, this.#h, typeof payload === 'string' ? payload : JSON.stringify(payload)));
  }

  close() {
    if (!this.#handle) return;
    const handle = this.#handle;
    this.#handle = undefined;
    registry.unregister(this);
    native.engineFreeSync(handle);
  }

  [Symbol.dispose]() { this.close(); }

  /** Registers a template from YAML/JSON text (read files yourself or pass `{ path }`). */
  async registerTemplate(source) {
    const text = typeof source === 'object' && source.path ? require('node:fs').readFileSync(source.path, 'utf8') : String(source);
    return this.#call('tasker_template_register', text);
  }

  /** Only registered names ever run: a StepHandler subclass (one instance per attempt) or an instance. */
  registerHandler(name, handler) {
    const ok = handler instanceof StepHandler || (typeof handler === 'function' && handler.prototype instanceof StepHandler);
    if (!ok) throw new ValidationError(`handler for '${name}' must be a tasker.StepHandler subclass or instance`);
    this.#handlers.set(name, handler);
  }

  async createTask(name, { namespace, version, context = {}, ...fields } = {}) {
    const wire = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]));
    const answer = await this.#call('tasker_task_create', { name, namespace, version, context, ...wire });
    return { ...answer.task, uuid: answer.task.task_uuid, created: answer.created };
  }

  async getTask(uuid) {
    const task = JSON.parse(await native.callJson('tasker_task_get', this.#h, String(uuid)));
    return { ...task, uuid: task.task_uuid, step: (n) => task.steps.find((s) => s.name === n) };
  }

  async evaluate(uuid) { return outcomeOf(JSON.parse(await native.callJson('tasker_task_evaluate', this.#h, String(uuid)))); }
  async listTasks({ state, namespace, name, limit = 100 } = {}) {
    return (await this.#call('tasker_task_list', { state, namespace, name, limit })).tasks;
  }
  async retryTask(uuid, { actor, reason } = {}) { return outcomeOf(await this.#call('tasker_task_retry', { task_uuid: uuid, actor, reason })); }
  async cancelTask(uuid, { actor, reason } = {}) { return outcomeOf(await this.#call('tasker_task_cancel', { task_uuid: uuid, actor, reason })); }
  async resolveStep(uuid, step, result = null, { actor, reason } = {}) {
    return outcomeOf(await this.#call('tasker_step_resolve', { task_uuid: uuid, step_name: step, result, actor, reason }));
  }
  async staleWork({ limit = 100 } = {}) { return this.#call('tasker_stale_work_list', { limit }); }
  async health() { return JSON.parse(await native.engineHealth(this.#h)); }
  async migrate() { await native.engineMigrate(this.#h); }
  /** Moves a `clock: 'manual'` engine's clock forward (tests). */
  advanceClock(seconds) { native.engineAdvanceClock(this.#h, Math.round(seconds * 1000)); }
  subscribe(pattern = '*', { capacity = 0, pollMs = 50 } = {}) { return new Subscription(this.#h, pattern, capacity, pollMs); }

  /**
   * Runs the task's ready steps (up to `concurrency` at once) until none are ready; resolves with the outcome.
   * Re-enqueue the task after `delaySeconds` when `action === 'reenqueue'`.
   */
  async handle(uuid) {
    let outcome = await this.evaluate(uuid);
    while (outcome.action === 'execute') {
      const { claims } = await this.#call('tasker_steps_claim',
        { task_uuid: uuid, max_steps: this.#concurrency, worker_id: this.#workerId });
      await Promise.all(claims.map(async (claim) => this.#report(await this.#run(claim))));
      outcome = await this.evaluate(uuid);
    }
    return outcome;
  }

  async #run(claim) {
    const ref = { task_uuid: claim.task.task_uuid, step_uuid: claim.step.step_uuid, claim_token: claim.claim_token };
    const ctx = stepContext(claim);
    const registered = this.#handlers.get(ctx.step.handler);
    if (!registered) {
      return ['tasker_step_fail', { ...ref, error: {
        message: `no handler registered for '${ctx.step.handler}' (step '${ctx.step.name}')`, error_type: 'UnknownHandler', permanent: true } }];
    }
    try {
      const handler = typeof registered === 'function' ? new registered() : registered;
      const output = await handler.processResults(await handler.process(ctx));
      const payload = JSON.stringify({ ...ref, result: output === undefined ? null : output });
      return ['tasker_step_complete', payload];
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      const body = { message: error.message || error.name, error_type: error.name, permanent: error instanceof PermanentError,
        backtrace: (error.stack ?? '').split('\n').slice(0, 50) };
      if (error instanceof RetryableError && error.retryAfter != null) body.retry_after_seconds = error.retryAfter;
      return ['tasker_step_fail', { ...ref, error: body }];
    }
  }

  async #report([name, payload]) {
    try {
      await native.callJson(name, this.#h, typeof payload === 'string' ? payload : JSON.stringify(payload));
    } catch (e) {
      if (!(e instanceof TaskerError && e.code === 9)) throw e; // stale claim: someone else owns the step now
    }
  }
}

/** Events as an async iterator (pulled in batches; `dropped` counts overflow). See docs/events.md. */
class Subscription {
  #handle;
  #pollMs;
  dropped = 0;

  constructor(engineHandle, pattern, capacity, pollMs) {
    this.#handle = native.subscriptionOpen(engineHandle, pattern, capacity);
    this.#pollMs = pollMs;
  }

  /** The events buffered now (never waits). */
  pull(max = 1000) {
    if (!this.#handle) throw new InvalidHandleError('the subscription is closed');
    const batch = JSON.parse(native.subscriptionPull(this.#handle, max));
    this.dropped = batch.dropped;
    return batch.events;
  }

  async *[Symbol.asyncIterator]() {
    while (this.#handle) {
      const events = this.pull();
      if (events.length === 0) await new Promise((r) => setTimeout(r, this.#pollMs));
      for (const e of events) yield e;
    }
  }

  close() {
    if (!this.#handle) return;
    const handle = this.#handle;
    this.#handle = undefined;
    native.subscriptionFree(handle);
  }

  [Symbol.dispose]() { this.close(); }
}

module.exports = { Engine, StepHandler, Subscription };
