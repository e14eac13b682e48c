'use strict';
// JavaScript views of the engine's JSON answers: camelCase field names for the engine's own fields; your data
// (task context, tags, step results, metadata, initialization, event data) is passed through untouched.

const { TimeoutError } = require('./errors');

// The engine's field names are a small fixed set: convert each once.
const camelCache = new Map();
function camel(key) {
  let converted = camelCache.get(key);
  if (converted === undefined) {
    converted = key.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
    if (camelCache.size < 1000) camelCache.set(key, converted);
  }
  return converted;
}

// The views below walk the engine's objects with for-in and Object.hasOwn rather than Object.keys: the same own keys
// in the same order, without an array of them an object (for-in reads V8's cached key list); createTask builds about
// twenty of these views a task (docs/performance.md, "Node's allocation per step, second round").

/** A copy of a JSON object with its own (top-level) keys in camelCase; values are not touched. */
function camelKeys(object) {
  if (object === null || typeof object !== 'object' || Array.isArray(object)) return object;
  const copy = {};
  for (const key in object) if (Object.hasOwn(object, key)) copy[camel(key)] = object[key];
  return copy;
}

// One descriptor for every view's hidden `raw` (a new one each would be an object a view: createTask makes nine).
const RAW = { value: undefined, enumerable: false };
function hideRaw(target, raw) {
  RAW.value = raw;
  Object.defineProperty(target, 'raw', RAW);
  RAW.value = undefined;
}

/**
 * What the host should do next. `action`: 'execute' (ready steps now), 'reenqueue' (after `delaySeconds`),
 * 'wait' (steps in flight elsewhere), 'complete', 'error' or 'cancelled'. A queue needs one field:
 * `requeueAfterSeconds` (handle the task again after that many seconds; null: do not).
 */
class Outcome {
  constructor(o) {
    this.taskUuid = o.task_uuid;
    this.taskState = o.task_state;
    this.executionStatus = o.execution_status;
    this.action = o.action;
    this.delaySeconds = o.delay_seconds ?? null;
    this.requeueAfterSeconds = o.requeue_after_seconds ?? null;
    this.readySteps = o.ready_steps;
    this.inProgressSteps = o.in_progress_steps;
    this.finalized = o.finalized === true;
    /** Ready steps whose handler this caller does not have: [{ handler, steps: [step names] }]. */
    this.waitingForHandlers = o.waiting_for_handlers ?? [];
  }

  /** True when the task is finished (complete, error or cancelled). */
  get finished() {
    return this.action === 'complete' || this.action === 'error' || this.action === 'cancelled';
  }
}

/** One step of a task, as `getTask` returns it. */
// Step and Task set their fields one by one, in the order of the engine's JSON (the uuid last), rather than copying
// a camelKeys copy in and deleting its `*_uuid` key: the same fields in the same order, without the intermediate copy
// and without `delete`, which turns an object into a slower, larger dictionary. createTask builds one of each per
// task, so this is on every task's path (docs/performance.md, "Node: allocation per step").
class Step {
  constructor(s) {
    for (const key in s) {
      if (key === 'step_uuid' || !Object.hasOwn(s, key)) continue;
      const value = s[key];
      this[camel(key)] = key === 'error' || key === 'readiness' ? camelKeys(value ?? null) : value;
    }
    this.uuid = s.step_uuid;
    if (!('error' in s)) this.error = null;
    if (!('readiness' in s)) this.readiness = null;
    hideRaw(this, s);
  }
}

/** A task with its steps and audit trail. `created` is set by `createTask` (false: an idempotent repeat). */
class Task {
  constructor(t, created) {
    for (const key in t) {
      if (key === 'task_uuid' || !Object.hasOwn(t, key)) continue;
      const value = t[key];
      if (key === 'steps') this.steps = (value ?? []).map((s) => new Step(s));
      else if (key === 'transitions') this.transitions = (value ?? []).map(camelKeys);
      else this[camel(key)] = value;
    }
    this.uuid = t.task_uuid;
    if (!('steps' in t)) this.steps = [];
    if (!('transitions' in t)) this.transitions = [];
    if (created !== undefined) this.created = created;
    hideRaw(this, t);
  }

  /** The step with this name, or undefined. */
  step(name) {
    return this.steps.find((s) => s.name === name);
  }
}

/** A row of `listTasks`. */
function taskSummary(t) {
  const summary = camelKeys(t);
  delete summary.taskUuid;
  summary.uuid = t.task_uuid;
  return summary;
}

/** An event: {sequence, name, timestamp, taskUuid, taskName, namespace, stepUuid, stepName, fromState, ...}. */
function event(e) {
  const out = camelKeys(e);
  if (out.error) out.error = camelKeys(out.error);
  return out;
}

const MAX_ATTRIBUTES = 64;

/** The engine's call to stop a context's deadline timer once its handler finished (not part of the public API). */
const RELEASE = Symbol('release');

/** A Worker's call to abort a context's signal when it gives the step up (shutdown; not part of the public API). */
const ABORT = Symbol('abort');

// setTimeout fires at once for delays above 2^31 - 1 ms (about 24.8 days): longer deadlines are waited for in steps.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What a handler's `process` receives: the task, the step, and the results of the steps it depends on. */
class StepContext {
  #heartbeat;
  #ref;
  #timed;
  #controller;
  #timer;

  /**
   * `heartbeat(ref, leaseSeconds)` resolves with the new lease expiry (`ref`: the claim's, as the runner reports it);
   * `timed` is false for engines on a manual clock, whose deadlines are not wall-clock times (their signal never aborts
   * by itself).
   */
  constructor(claim, heartbeat, timed = true, ref = undefined) {
    const t = claim.task;
    const s = claim.step;
    this.task = { uuid: t.task_uuid, namespace: t.namespace, name: t.name, version: t.version, context: t.context ?? {},
      tags: t.tags ?? [] };
    this.step = { uuid: s.step_uuid, name: s.name, handler: s.handler, attempt: s.attempt, maxAttempts: s.max_attempts,
      initialization: s.initialization ?? {} };
    this.dependencyResults = claim.dependency_results ?? {};
    this.claimToken = claim.claim_token;
    this.leaseExpiresAt = claim.lease_expires_at;
    /** When this attempt times out (the step's `timeout_seconds` after the claim), or null without a timeout. */
    this.deadline = claim.deadline_at ? new Date(claim.deadline_at) : null;
    /** Attributes of this run's `tasker.handler` trace span; set them with `setAttribute`. */
    this.attributes = {};
    this.#heartbeat = heartbeat;
    this.#ref = ref;
    this.#timed = timed;
  }

  /**
   * An AbortSignal aborted at `deadline` (its reason a tasker TimeoutError): pass it to fetch, timers and streams so
   * the work stops when the attempt times out. The engine fails a late attempt as Timeout whether or not the handler
   * listens. Never aborts for steps without `timeout_seconds`, except under a Worker whose grace period ended while
   * the step ran (reason: an Error named WorkerShutdown).
   */
  get signal() {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.deadline !== null && this.#timed) this.#arm();
    }
    return this.#controller.signal;
  }

  // Aborts once the clock is past the deadline (in whole milliseconds, so never before it: a report made on abort
  // is then always late, and the engine records the attempt as a Timeout).
  #arm() {
    const left = this.deadline.getTime() - Date.now();
    if (left < 0) {
      this.#controller.abort(new TimeoutError(`step '${this.step.name}' passed its deadline (${this.deadline.toISOString()})`));
      return;
    }
    this.#timer = setTimeout(() => this.#arm(), Math.min(left + 1, MAX_TIMER_MS));
    this.#timer.unref();
  }

  /** Stops the deadline timer once the handler has finished. */
  [RELEASE]() {
    clearTimeout(this.#timer);
  }

  /** Aborts `signal` with `reason` (a worker shutting down gave the step up: its result is no longer wanted). */
  [ABORT](reason) {
    clearTimeout(this.#timer);
    this.#controller ??= new AbortController();
    if (!this.#controller.signal.aborted) this.#controller.abort(reason);
  }

  /** Adds an attribute (string, finite number or boolean; at most 64) to the trace span of this handler run. */
  setAttribute(key, value) {
    if (typeof key !== 'string' || key.length === 0 || key.length > 256) throw new RangeError('attribute names are 1-256 characters');
    const ok = typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
    if (!ok) throw new TypeError(`attribute '${key}' must be a string, a finite number or a boolean`);
    if (!(key in this.attributes) && Object.keys(this.attributes).length >= MAX_ATTRIBUTES) {
      throw new RangeError(`at most ${MAX_ATTRIBUTES} attributes per handler run`);
    }
    this.attributes[key] = value;
  }

  /**
   * Extends this attempt's lease (for handlers that run longer than it), never past `deadline`; resolves with the
   * new expiry (RFC 3339). Rejects with StaleClaimError when the claim is no longer current (the lease expired and
   * the step was claimed again, the deadline passed, or the task was cancelled): stop working on it then.
   */
  async heartbeat(leaseSeconds) {
    this.leaseExpiresAt = await this.#heartbeat(this.#ref, leaseSeconds);
    return this.leaseExpiresAt;
  }
}

module.exports = { Outcome, Step, Task, StepContext, RELEASE, ABORT, taskSummary, event, camelKeys };
