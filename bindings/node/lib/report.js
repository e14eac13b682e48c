'use strict';
// How finished steps reach the engine: one per call (tasker_step_complete / tasker_step_fail), or the steps of one
// task that finished together in one call (tasker_steps_report: one crossing and one outcome for the wave; on the
// async path every crossing is an event-loop round trip, so this is what keeps it near the sync one). Either way a
// result the engine refuses becomes the step's InvalidResult failure and a stale claim is dropped.
const { StaleClaimError, ValidationError, errorForCode } = require('./errors');
const { failureOf, requestJson } = require('./handler');
const { writeStepReport, written } = require('./request-bytes');

// The codes of a completion the engine refused (a result nested deeper than 64 levels, larger than 64 MiB, holding
// U+0000): INVALID_ARGUMENT, INVALID_UTF8, INVALID_JSON. Reported as the step's InvalidResult failure instead.
const REFUSED = new Set([1, 3, 4]);

// tasker_steps_report takes 1 to 1,000 reports; more finished at once (concurrency above 1,000) go in several calls.
const MAX_REPORTS = 1000;

/** A result JSON.stringify writes as it is, so it needs no checking replacer (the slower path). */
const isPlainJson = (v) => v === null || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))
  || (typeof v === 'string' && v.isWellFormed());

const refusal = (message) => ({ message: `the engine refused the step's result: ${message}`, error_type: 'InvalidResult' });

/**
 * The request that reports a finished step: its claim, its handler run and what to claim next (`claim_next`, left
 * out when undefined, as JSON.stringify leaves out every undefined field); `encode` sets its `result` or `error`.
 * Written out field by field, never with object spread: in Node 20 (V8 11.3), `{ ...fields, result }` on this path
 * costs about 1 KB a step and its copies outlive young-generation collections, so V8 grew its young generation to the
 * maximum under a steady loop (docs/performance.md, "Node's steady state"); literals like this one die young.
 */
function stepRequest(done, claimNext) {
  const { ref } = done;
  return { task_uuid: ref.task_uuid, step_uuid: ref.step_uuid, claim_token: ref.claim_token, traceparent: ref.traceparent,
    handler: done.run, claim_next: claimNext, result: undefined, error: undefined };
}

/** A report in a tasker_steps_report wave: the fields of stepRequest its task and claim_next are not repeated in. */
const waveReport = (done) => ({ step_uuid: done.ref.step_uuid, claim_token: done.ref.claim_token, handler: done.run,
  result: undefined, error: undefined });

/**
 * Fills in a finished step's report (`request`, a new object from stepRequest or waveReport): { complete, text }, a
 * complete with the result, or a fail with what the handler threw (or why the result is not JSON: a BigInt, a cycle,
 * NaN, ...).
 */
function encode(request, done) {
  if (!done.failed) {
    const result = done.output ?? null;
    request.result = result;
    try {
      const text = isPlainJson(result) ? JSON.stringify(request) : requestJson(request, done.stepName);
      return { complete: true, text };
    } catch (e) {
      request.result = undefined; // a fail carries no result
      request.error = failureOf(e);
      return { complete: false, text: JSON.stringify(request) };
    }
  }
  request.error = failureOf(done.error);
  return { complete: false, text: JSON.stringify(request) };
}

/** A fail of a step whose result the engine refused (`message`: why). */
function refusedRequest(done, claimNext, message) {
  const request = stepRequest(done, claimNext);
  request.error = refusal(message);
  return JSON.stringify(request);
}

/**
 * Reports a finished step (complete, or fail) and claims per `claimNext`; resolves with { claims, outcome }.
 * Rejects with StaleClaimError when the claim is no longer current, and with whatever else the engine threw.
 * A step reported as a failure after all (its result is not JSON, or the engine refused it) gets `done.failed` set:
 * a Worker counts it as failed.
 */
async function report(host, done, claimNext) {
  const { complete, text } = encode(stepRequest(done, claimNext), done);
  if (!complete) {
    done.failed = true;
    return host.call('stepFail', text);
  }
  try {
    return await host.call('stepComplete', text);
  } catch (e) {
    if (!(e instanceof ValidationError && REFUSED.has(e.code))) throw e;
    done.failed = true;
    return host.call('stepFail', refusedRequest(done, claimNext, e.message));
  }
}

/**
 * Reports the finished steps of task `taskUuid` (`dones`, in claim order, at most MAX_REPORTS) and claims per
 * `claimNext`, in one call when there are several. Never rejects: { answer, error } (or a promise of it): `answer` the
 * engine's last { claims, outcome } (undefined when no report was applied: every claim was stale, or the call
 * failed); `error` the first failure other than a stale claim (the other reports are applied all the same).
 */
function reportSteps(host, taskUuid, traceparent, dones, claimNext) {
  // Not async itself, and one step goes straight to reportOne: each async layer is a frame and a promise a step.
  return dones.length === 1 ? reportOne(host, dones[0], claimNext) : reportWave(host, taskUuid, traceparent, dones, claimNext);
}

/**
 * reportSteps for one step: `report` and oneByOne's bookkeeping in one function (the engine's answer is passed on as
 * it is, not copied). When the host can make the call at once (`host.callNow`: the memory store), the answer is
 * returned as it is, not as a promise: the step loop reports each step of a task handled one step at a time, and an
 * async function, its promise and the await of the call are most of what a report allocates.
 */
function reportOne(host, done, claimNext) {
  if (host.callNow !== undefined) {
    // A completed step with a primitive result (the common case) is written as bytes, not as a text (request-bytes.js).
    const length = writeStepReport(done, claimNext);
    if (length >= 0) {
      let answer;
      try {
        answer = host.callNow('stepComplete', written(), length);
      } catch (e) {
        return isRefusal(true, e) ? failRefused(host, done, claimNext, e.message) : notApplied(e);
      }
      if (answer !== undefined) return { answer, error: undefined };
      // Not callable at once after all (the engine is closed, say): the text below, for #call to say why.
    }
  }
  let complete;
  let text;
  try {
    ({ complete, text } = encode(stepRequest(done, claimNext), done));
  } catch (e) {
    return notApplied(e); // not encodable (a BigInt set on the context, say): handle reports the other runs first
  }
  const name = complete ? 'stepComplete' : 'stepFail';
  let answer;
  try {
    answer = host.callNow?.(name, text);
  } catch (e) {
    return isRefusal(complete, e) ? failRefused(host, done, claimNext, e.message) : notApplied(e);
  }
  return answer !== undefined ? { answer, error: undefined } : reportOneLater(host, done, claimNext, complete, name, text);
}

/** reportOne through the host's asynchronous call. */
async function reportOneLater(host, done, claimNext, complete, name, text) {
  try {
    return { answer: await host.call(name, text), error: undefined };
  } catch (e) {
    return isRefusal(complete, e) ? failRefused(host, done, claimNext, e.message) : notApplied(e);
  }
}

/** True when the engine refused a completion's result (the step then fails with InvalidResult instead). */
const isRefusal = (complete, e) => complete && e instanceof ValidationError && REFUSED.has(e.code);

/** Fails a step whose result the engine refused (`message`: why); reportSteps' answer. */
async function failRefused(host, done, claimNext, message) {
  try {
    return { answer: await host.call('stepFail', refusedRequest(done, claimNext, message)), error: undefined };
  } catch (e) {
    return notApplied(e);
  }
}

/** reportSteps' answer when a report was not applied: a stale claim is no error. */
const notApplied = (e) => ({ answer: undefined, error: e instanceof StaleClaimError ? undefined : e });

async function reportWave(host, taskUuid, traceparent, dones, claimNext) {
  const encoded = dones.map((done) => encode(waveReport(done), done));
  // Each report is encoded on its own (a result that is not JSON fails only its step, and the texts are kept for
  // the one-by-one fallback), so the request is those texts joined, not one JSON.stringify of a whole object.
  let request = `{"task_uuid":${JSON.stringify(taskUuid)},"reports":[${encoded.map((e) => e.text).join(',')}]`;
  if (claimNext !== undefined) request += `,"claim_next":${JSON.stringify(claimNext)}`;
  if (traceparent !== undefined) request += `,"traceparent":${JSON.stringify(traceparent)}`;
  let answer;
  try {
    answer = await host.call('stepsReport', `${request}}`);
  } catch (e) {
    // The request as a whole did not parse (a result nested too deep for it): one at a time finds which.
    if (e instanceof ValidationError && REFUSED.has(e.code)) return oneByOne(host, dones, claimNext);
    return { answer: undefined, error: e instanceof StaleClaimError ? undefined : e };
  }
  let error;
  for (let i = 0; i < dones.length; i++) {
    const refused = answer.reports[i];
    if (refused === null || refused.code === StaleClaimError.code) continue; // applied, or stale: nothing to do
    if (!(encoded[i].complete && REFUSED.has(refused.code))) {
      error ??= errorForCode(refused.code, refused.message, '{}');
      continue;
    }
    // Its result was refused (a NUL, too large): the step fails instead, and that outcome is the newer one.
    try {
      const failed = await host.call('stepFail', refusedRequest(dones[i], undefined, refused.message));
      answer.outcome = failed.outcome;
    } catch (e) {
      if (!(e instanceof StaleClaimError)) error ??= e;
    }
  }
  return { answer: { claims: answer.claims, outcome: answer.outcome }, error };
}

/** Each report in its own call, `claimNext` with the last; the same answer as reportSteps. */
async function oneByOne(host, dones, claimNext) {
  let answer;
  let error;
  for (let i = 0; i < dones.length; i++) {
    try {
      const sent = await report(host, dones[i], i === dones.length - 1 ? claimNext : undefined);
      answer = { claims: answer === undefined ? sent.claims : answer.claims.concat(sent.claims), outcome: sent.outcome };
    } catch (e) {
      if (!(e instanceof StaleClaimError)) error ??= e;
    }
  }
  return { answer, error };
}

// encode and stepRequest: request-bytes.test.js checks request-bytes.js against them.
module.exports = { report, reportOne, reportSteps, MAX_REPORTS, encode, stepRequest };
