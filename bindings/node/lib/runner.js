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
const { reportSteps, MAX_REPORTS } = require('./report');

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
  // One claim_next object per count of free slots, made once: a report is written from it, never changes it.
  const claimNexts = [];
  const claimNext = (maxSteps) => (claimNexts[maxSteps] ??= { max_steps: maxSteps, handlers: names, worker_id: host.workerId });
  // Requests are written out field by field, not with object spread (report.js's stepRequest says why).
  const claim = () => host.call('stepsClaim', JSON.stringify({ task_uuid: taskUuid, traceparent, max_steps: host.concurrency,
    handlers: names, worker_id: host.workerId }));

  let { claims, outcome } = await claim();
  let running = 0; // steps whose handler runs
  let order = 0; // claim order, so that steps finished together are reported in it
  const finished = []; // { order, done, bug, crashed } of runs that ended and are not reported yet
  let wake; // resolves the loop's wait for the next run to end
  let failure; // the first error reporting a step: nothing more is claimed, it is rethrown once the others are reported
  const ended = (entry) => {
    finished.push(entry);
    wake?.();
  };
  // A run in flight with others ends through `ended` (it may end while the loop waits on another); runStep does not
  // reject, should it (a bug), handle rejects with that once the others are reported.
  const track = (run) => {
    const entry = { order: order++, done: undefined, bug: undefined, crashed: false };
    run.then((done) => {
      entry.done = done;
      ended(entry);
    }, (e) => {
      entry.crashed = true;
      entry.bug = e;
      ended(entry);
    });
  };
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
        track(lone); // started first, so tracked first: claim order
        lone = undefined;
      }
      if (running === 1) lone = run;
      else track(run);
    }
    if (running === 0) {
      if (failure !== undefined) throw failure;
      return new Outcome(outcome);
    }
    let dones;
    if (lone !== undefined) {
      running = 0;
      try {
        dones = [await lone];
      } catch (e) {
        failure ??= e;
        continue;
      }
    } else {
      // Every run that has ended by the time this wakes is reported with the others, in one call: the runs of quick
      // handlers that started together end in the same turn, so a wave crosses once.
      if (finished.length === 0) await new Promise((resolve) => { wake = resolve; });
      wake = undefined;
      if (finished.length < running) {
        // Some runs are still in flight: those that end within this turn's microtasks (a handler that threw takes a
        // few more than one that returned) go with this report: setImmediate runs after this turn's microtasks.
        await yieldToEventLoop();
        yielded = performance.now();
      }
      if (finished.length > 1) finished.sort((a, b) => a.order - b.order);
      const batch = finished.splice(0, MAX_REPORTS);
      running -= batch.length;
      dones = [];
      for (const entry of batch) {
        if (entry.crashed) failure ??= entry.bug;
        else dones.push(entry.done);
      }
      if (dones.length === 0) continue;
    }
    const free = host.concurrency - running - claims.length;
    const reported = reportSteps(host, taskUuid, traceparent, dones, failure === undefined && free > 0 ? claimNext(free) : undefined);
    const { answer, error } = reported instanceof Promise ? await reported : reported;
    if (answer !== undefined) {
      outcome = answer.outcome;
      for (const next of answer.claims) claims.push(next);
    }
    if (error !== undefined) failure ??= error;
    // Only stale claims (deadline passed, lease lost, task cancelled or timed out) changed nothing: with nothing
    // else in hand, claim once more, which records the Timeout or sees the task's new state.
    else if (answer === undefined && failure === undefined && running === 0 && claims.length === 0) ({ claims, outcome } = await claim());
    if (performance.now() - yielded > YIELD_MS) {
      await yieldToEventLoop();
      yielded = performance.now();
    }
  }
}

/**
 * Runs a claimed step's handler. Never rejects: resolves with { ref, stepName, run, failed, output, error }, where
 * `run` is what the engine records as the handler span (its times and the attributes the handler set) and `error`
 * whatever the handler threw when `failed`.
 */
async function runStep(host, claim, traceparent) {
  const ref = { task_uuid: claim.task.task_uuid, step_uuid: claim.step.step_uuid, claim_token: claim.claim_token, traceparent };
  const ctx = new StepContext(claim, (c, leaseSeconds) => heartbeat(host, ref, leaseSeconds), host.timed);
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

async function heartbeat(host, ref, leaseSeconds) {
  if (leaseSeconds !== undefined && !(Number.isFinite(leaseSeconds) && leaseSeconds > 0)) {
    throw new ValidationError(`leaseSeconds must be a number of seconds > 0, not ${leaseSeconds}`);
  }
  const { task_uuid, step_uuid, claim_token } = ref;
  return (await host.call('stepHeartbeat', JSON.stringify({ task_uuid, step_uuid, claim_token, lease_seconds: leaseSeconds })))
    .lease_expires_at;
}

// worker.js runs claims across tasks with the same runStep (and report.js's report).
module.exports = { handleTask, runStep };
