'use strict';
// engine.handle(taskUuid): the one step loop every binding runs (step protocol v2). Claims name the registered
// handlers (other steps stay ready for workers that have theirs); at most `concurrency` steps run at once; each
// finished step is reported with `claim_next` for the slots it frees, so the report also claims what became ready.
// What to claim, when to come back, how failure text is cut: the engine decides all of it, not this loop.
const { StaleClaimError, ValidationError } = require('./errors');
const { failureOf, requestJson } = require('./handler');
const { stepFailed } = require('./failure-log');
const { Outcome, StepContext, RELEASE } = require('./model');

// The codes of a completion the engine refused (a result nested deeper than 64 levels, larger than 64 MiB, holding
// U+0000): INVALID_ARGUMENT, INVALID_UTF8, INVALID_JSON. Reported as the step's InvalidResult failure instead.
const REFUSED = new Set([1, 3, 4]);

// With synchronous calls and handlers that do not really wait, a long workflow would run from one microtask to
// the next without the event loop ever turning; handle() yields to it (setImmediate) at least this often.
const YIELD_MS = 2;
const yieldToEventLoop = () => new Promise((resolve) => setImmediate(resolve));

/**
 * Runs a task's steps and resolves with the last outcome. `host`: { call(name, text) -> answer, handlers (a Map of
 * name -> factory, fixed for this call), concurrency, workerId, timed (false on a manual clock), logger (where step
 * failures are logged; null for nowhere), and optionally started(ctx, ref), told of each step as its handler starts
 * (worker.js) }.
 */
async function handleTask(host, taskUuid, traceparent) {
  const names = [...host.handlers.keys()];
  const claimNext = (maxSteps) => ({ max_steps: maxSteps, handlers: names, worker_id: host.workerId });
  const claim = () => host.call('stepsClaim', JSON.stringify({ task_uuid: taskUuid, traceparent, ...claimNext(host.concurrency) }));

  let { claims, outcome } = await claim();
  const running = new Map(); // claim token -> the promise of its run
  let failure; // the first error reporting a step: nothing more is claimed, it is rethrown once the others are reported
  let yielded = performance.now();
  for (;;) {
    while (claims.length > 0 && running.size < host.concurrency) {
      const next = claims.shift();
      running.set(next.claim_token, runStep(host, next, traceparent));
    }
    if (running.size === 0) {
      if (failure !== undefined) throw failure;
      return new Outcome(outcome);
    }
    const done = await Promise.race(running.values());
    running.delete(done.ref.claim_token);
    try {
      const answer = await report(host, done, failure === undefined ? claimNext(host.concurrency - running.size) : undefined);
      outcome = answer.outcome;
      claims.push(...answer.claims);
    } catch (e) {
      if (!(e instanceof StaleClaimError)) failure ??= e;
      // A stale claim (deadline passed, lease lost, task cancelled or timed out) changed nothing: with nothing else
      // in hand, claim once more, which records the Timeout or sees the task's new state.
      else if (failure === undefined && running.size === 0 && claims.length === 0) ({ claims, outcome } = await claim());
    }
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
  const startedAt = new Date().toISOString();
  const done = { ref, stepName: claim.step.name, run: undefined, failed: false, output: undefined, error: undefined };
  try {
    const handler = host.handlers.get(claim.step.handler)();
    done.output = await handler.processResults(await handler.process(ctx));
  } catch (e) {
    done.failed = true;
    done.error = e;
    stepFailed(host.logger, claim, failureOf(e)); // the host's log sees it too (failure-log.js)
  } finally {
    ctx[RELEASE]();
    done.run = { started_at: startedAt, finished_at: new Date().toISOString(), attributes: ctx.attributes };
  }
  return done;
}

/** A result JSON.stringify writes as it is, so it needs no checking replacer (the slower path). */
const isPlainJson = (v) => v === null || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))
  || (typeof v === 'string' && v.isWellFormed());

/** Reports a finished step (complete, or fail) and claims the next steps; resolves with { claims, outcome }. */
async function report(host, done, claimNext) {
  const base = { ...done.ref, handler: done.run, claim_next: claimNext };
  const fail = (error) => host.call('stepFail', JSON.stringify({ ...base, error }));
  if (done.failed) return fail(failureOf(done.error));
  const result = done.output ?? null;
  let text;
  try {
    text = isPlainJson(result) ? JSON.stringify({ ...base, result }) : requestJson({ ...base, result }, done.stepName);
  } catch (e) {
    return fail(failureOf(e)); // not JSON (a BigInt, a cycle, NaN, ...): the language's error, as the step's failure
  }
  try {
    return await host.call('stepComplete', text);
  } catch (e) {
    if (!(e instanceof ValidationError && REFUSED.has(e.code))) throw e;
    return fail({ message: `the engine refused the step's result: ${e.message}`, error_type: 'InvalidResult' });
  }
}

async function heartbeat(host, ref, leaseSeconds) {
  if (leaseSeconds !== undefined && !(Number.isFinite(leaseSeconds) && leaseSeconds > 0)) {
    throw new ValidationError(`leaseSeconds must be a number of seconds > 0, not ${leaseSeconds}`);
  }
  const { task_uuid, step_uuid, claim_token } = ref;
  return (await host.call('stepHeartbeat', JSON.stringify({ task_uuid, step_uuid, claim_token, lease_seconds: leaseSeconds })))
    .lease_expires_at;
}

// worker.js runs claims across tasks with the same pieces: runStep, report (complete or fail, with claim_next).
module.exports = { handleTask, runStep, report };
