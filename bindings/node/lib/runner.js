'use strict';
// engine.handle(taskUuid): the one step loop every binding runs (step protocol v2). Claims name the registered
// handlers (other steps stay ready for workers that have theirs); at most `concurrency` steps run at once; the
// steps that finished together are reported in one call (report.js) with `claim_next` for the slots they free, so
// the report also claims what became ready.
// What to claim, when to come back, how failure text is cut: the engine decides all of it, not this loop.
const { ValidationError } = require('./errors');
const { stepFailed } = require('./failure-log');
const { failureOf } = require('./handler');
const { Outcome, StepContext, RELEASE } = require('./model');
const { reportOne, reportSteps, MAX_REPORTS } = require('./report');

// With synchronous calls and handlers that do not really wait, a long workflow would run from one microtask to
// the next without the event loop ever turning; handle() yields to it (setImmediate) at least this often.
const YIELD_MS = 2;
const yieldToEventLoop = () => new Promise((resolve) => setImmediate(resolve));

/**
 * Runs a task's steps and resolves with the last outcome. `host`: { call(name, text) -> answer, handlers (a Map of
 * name -> factory, fixed for this call), names (optionally: its keys, as an array), concurrency, workerId, timed (false on a manual clock), logger (where step
 * failures are logged; null for nowhere), and optionally started(ctx, ref), told of each step as its handler starts
 * (worker.js) }.
 */
async function handleTask(host, taskUuid, traceparent) {
  const names = host.names ?? [...host.handlers.keys()];
  let { claims, outcome } = await claimSteps(host, taskUuid, traceparent, names);
  // The task as the first claim carries it: the reports' claims (lean) leave out its names (withTaskNames).
  const task = claims.length > 0 ? claims[0].task : undefined;
  let running = 0; // steps whose handler runs
  let inFlight; // the runs in flight alongside others (InFlight), made when a second one starts
  let failure; // the first error reporting a step: nothing more is claimed, it is rethrown once the others are reported
  // What the last report answered ({ answer, error }, or its promise) and the runs it reported. Cleared once read:
  // they would otherwise stay in this frame while the next step runs, and a young-generation collection then would
  // copy them (docs/performance.md, "Node: what survives a scavenge").
  let reported;
  let dones;
  let done; // a lone run's result, once it has ended
  let yielded = performance.now();
  for (;;) {
    // The run just started when no other is in flight (every step of a task handled with concurrency 1, the last
    // steps of most): the loop waits for it directly, without an entry, two callbacks, a derived promise and a
    // wake-up promise a step (docs/performance.md, "Node's allocation per step, second round").
    let lone;
    while (claims.length > 0 && running < host.concurrency) {
      const run = runStep(host, claims.shift(), traceparent);
      running += 1;
      if (lone !== undefined) {
        (inFlight ??= new InFlight()).track(lone); // started first, so tracked first: claim order
        lone = undefined;
      }
      if (running === 1) lone = run;
      else (inFlight ??= new InFlight()).track(run);
    }
    if (running === 0) {
      if (failure !== undefined) throw failure;
      return new Outcome(outcome);
    }
    if (lone !== undefined) {
      running = 0;
      try {
        done = await lone;
      } catch (e) {
        failure ??= e;
        continue;
      }
      lone = undefined;
      reported = reportOne(host, done, nextClaim(host, names, failure, running, claims));
    } else {
      dones = await inFlight.next(running);
      running -= inFlight.ended;
      if (inFlight.yielded) {
        inFlight.yielded = false;
        yielded = performance.now();
      }
      if (inFlight.bug !== undefined) {
        failure ??= inFlight.bug;
        inFlight.bug = undefined;
      }
      if (dones.length === 0) continue;
      reported = reportSteps(host, taskUuid, traceparent, dones, nextClaim(host, names, failure, running, claims));
      dones = undefined;
    }
    if (reported instanceof Promise) reported = await reported;
    const { error } = reported;
    const applied = reported.answer !== undefined;
    if (applied) {
      outcome = reported.answer.outcome ?? outcome; // lean: null when steps are claimed
      const next = reported.answer.claims;
      for (let i = 0; i < next.length; i++) claims.push(withTaskNames(next[i], task));
    }
    reported = undefined;
    if (done !== undefined) {
      // Reported: what it holds is garbage now. This frame's generator keeps the value of its last await (this run's
      // result) until it resumes again, that is while the next step runs; emptied, that is one small object.
      forget(done);
      done = undefined;
    }
    if (error !== undefined) failure ??= error;
    // Only stale claims (deadline passed, lease lost, task cancelled or timed out) changed nothing: with nothing
    // else in hand, claim once more, which records the Timeout or sees the task's new state.
    else if (!applied && failure === undefined && running === 0 && claims.length === 0) {
      ({ claims, outcome } = await claimSteps(host, taskUuid, traceparent, names));
    }
    if (performance.now() - yielded > YIELD_MS) {
      await yieldToEventLoop();
      yielded = performance.now();
    }
  }
}

/**
 * A lean claim (a report's claim_next) with its task's namespace, name and version from `task`, which the caller holds;
 * its context and tags are its own, as every claim's are (a handler may change its copy, no other step sees it).
 */
function withTaskNames(claim, task) {
  const t = claim.task;
  t.namespace = task.namespace;
  t.name = task.name;
  t.version = task.version;
  return claim;
}

/** Empties a reported run's result (runStep's `done`) of everything but `failed`. */
function forget(done) {
  done.ref = undefined;
  done.run = undefined;
  done.output = undefined;
  done.error = undefined;
}

/** Claims up to `host.concurrency` ready steps of the task: the engine's { claims, outcome } (a promise of it). */
function claimSteps(host, taskUuid, traceparent, names) {
  // Written out field by field, not with object spread (report.js's stepRequest says why).
  return host.call('stepsClaim', JSON.stringify({ task_uuid: taskUuid, traceparent, max_steps: host.concurrency,
    handlers: names, worker_id: host.workerId }));
}

/**
 * The `claim_next` of a report: as many steps as slots are free once the runs in flight and the claims in hand have
 * theirs; none after a failure. Lean: the answer's claims leave out the task's names (handleTask holds them) and its
 * outcome is null when steps are claimed, half the bytes of a step's answer (docs/performance.md, "Lean answers").
 * One object per count, kept on the host (`host.claimNexts`, when it has one: its names never change) or made for
 * this call: a report is written from it, never changes it.
 */
function nextClaim(host, names, failure, running, claims) {
  const free = host.concurrency - running - claims.length;
  if (failure !== undefined || free <= 0) return undefined;
  const cache = host.names === names ? (host.claimNexts ??= []) : [];
  return (cache[free] ??= { max_steps: free, handlers: names, worker_id: host.workerId, lean: true });
}

/**
 * The runs in flight alongside others (handle with concurrency above 1): each ends into `finished` as
 * { order, done, bug, crashed } (a run rejects only should runStep have a bug: handle rejects with that once the
 * others are reported) and wakes the loop's wait. Made only when a second run starts while one is in flight.
 */
class InFlight {
  finished = [];
  order = 0; // claim order, so that steps finished together are reported in it
  wake = undefined; // resolves the loop's wait for the next run to end
  ended = 0; // how many runs the last `next` took (reported, or crashed)
  bug = undefined; // what a crashed run rejected with, for handle to rethrow
  yielded = false; // whether `next` yielded to the event loop

  /**
   * The results of the runs that have ended, in claim order, at most MAX_REPORTS, once at least one has (of the
   * `running` in flight): every run that has ended by the time this wakes is reported with the others, in one call
   * (the runs of quick handlers that started together end in the same turn, so a wave crosses once). Here rather than
   * in handleTask, whose frame (every local of it) young-generation collections copy while each step runs.
   */
  async next(running) {
    const { finished } = this;
    if (finished.length === 0) await new Promise((resolve) => { this.wake = resolve; });
    this.wake = undefined;
    if (finished.length < running) {
      // Some runs are still in flight: those that end within this turn's microtasks (a handler that threw takes a
      // few more than one that returned) go with this report: setImmediate runs after this turn's microtasks.
      await yieldToEventLoop();
      this.yielded = true;
    }
    if (finished.length > 1) finished.sort((a, b) => a.order - b.order);
    const batch = finished.splice(0, MAX_REPORTS);
    this.ended = batch.length;
    const dones = [];
    for (const entry of batch) {
      if (entry.crashed) this.bug ??= entry.bug;
      else dones.push(entry.done);
    }
    return dones;
  }

  track(run) {
    const entry = { order: this.order++, done: undefined, bug: undefined, crashed: false };
    run.then((done) => {
      entry.done = done;
      this.#ended(entry);
    }, (e) => {
      entry.crashed = true;
      entry.bug = e;
      this.#ended(entry);
    });
  }

  #ended(entry) {
    this.finished.push(entry);
    this.wake?.();
  }
}

/**
 * Runs a claimed step's handler. Never rejects: resolves with { ref, stepName, run, failed, output, error }, where
 * `run` is what the engine records as the handler span (its times and the attributes the handler set) and `error`
 * whatever the handler threw when `failed`.
 */
async function runStep(host, claim, traceparent) {
  const ref = { task_uuid: claim.task.task_uuid, step_uuid: claim.step.step_uuid, claim_token: claim.claim_token, traceparent };
  const ctx = new StepContext(claim, hostHeartbeat(host), host.timed, ref);
  host.started?.(ctx, ref); // a Worker heartbeats the step and may give it up at shutdown
  // Unix seconds (the engine takes a number): no Date and ISO text per step. The wall clock once, the duration from
  // the monotonic one, which has sub-millisecond resolution.
  const startedAt = Date.now() / 1000;
  const started = performance.now();
  const done = { ref, stepName: claim.step.name, run: undefined, failed: false, output: undefined, error: undefined };
  try {
    const handler = host.handlers.get(claim.step.handler)();
    const output = handler.processResults(await handler.process(ctx));
    // Only an object or a function can be a promise (or thenable); awaiting anything else costs a promise a step
    // (the default processResults returns its input) and changes nothing but which microtask the run ends in.
    done.output = output !== null && (typeof output === 'object' || typeof output === 'function') ? await output : output;
  } catch (e) {
    done.failed = true;
    done.error = e;
    stepFailed(host.logger, claim, failureOf(e)); // the host's log sees it too (failure-log.js)
  } finally {
    ctx[RELEASE]();
    done.run = { started_at: startedAt, finished_at: startedAt + (performance.now() - started) / 1000, attributes: ctx.attributes };
  }
  return done;
}

/**
 * The host's heartbeat function for step contexts, made once (not a closure over each step's ref: the context passes
 * the ref back). Not in runStep, which would then allocate a context for `host` a step.
 */
function hostHeartbeat(host) {
  return (host.heartbeat ??= (ref, leaseSeconds) => heartbeat(host, ref, leaseSeconds));
}

async function heartbeat(host, ref, leaseSeconds) {
  if (leaseSeconds !== undefined && !(Number.isFinite(leaseSeconds) && leaseSeconds > 0)) {
    throw new ValidationError(`leaseSeconds must be a number of seconds > 0, not ${leaseSeconds}`);
  }
  const { task_uuid, step_uuid, claim_token } = ref;
  return (await host.call('stepHeartbeat', JSON.stringify({ task_uuid, step_uuid, claim_token, lease_seconds: leaseSeconds })))
    .lease_expires_at;
}

// worker.js runs claims across tasks with the same runStep (and report.js's report), and confirms a claim that waited
// in hand with the same heartbeat as a step context's.
module.exports = { handleTask, runStep, withTaskNames, heartbeat };
